//! The kernel's symbols (`/proc/kallsyms`, read by [`read_file`] alone): addresses of named
//! symbols, and the whole table sorted by address; text symbols matching a pattern are in
//! [`functions`](super::functions).

use std::collections::HashMap;
use std::io;

use super::error::KernelFactError;

const KALLSYMS: &str = "/proc/kallsyms";

/// The text of `/proc/kallsyms`.
pub(crate) fn read_text() -> Result<String, KernelFactError> {
    read_file().map_err(|source| KernelFactError::read(KALLSYMS, source))
}

/// The one read of the file, for the readers that report an `io::Error`.
pub(crate) fn read_file() -> io::Result<String> {
    std::fs::read_to_string(KALLSYMS)
}

/// Addresses of the symbols in `wanted` (zero when kptr_restrict hides them).
pub(crate) fn addresses(wanted: &[&str]) -> Result<HashMap<String, u64>, KernelFactError> {
    if wanted.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(addresses_in(&read_text()?, wanted))
}

/// Addresses of the symbols in `wanted` in kallsyms text; the first of a repeated name wins.
fn addresses_in(text: &str, wanted: &[&str]) -> HashMap<String, u64> {
    let mut symbols = HashMap::new();
    for line in text.lines() {
        let mut fields = line.split_ascii_whitespace();
        let (Some(address), Some(_kind), Some(name)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        if !wanted.contains(&name) || symbols.contains_key(name) {
            continue;
        }
        if let Ok(address) = u64::from_str_radix(address, 16) {
            symbols.insert(name.to_owned(), address);
        }
    }
    symbols
}

/// Whether kallsyms lists `symbol` (true when kallsyms cannot be read: no false negatives).
pub(crate) fn lists_symbol(symbol: &str) -> bool {
    addresses(&[symbol]).map_or(true, |symbols| symbols.contains_key(symbol))
}

/// The kernel's symbol table (`/proc/kallsyms`), sorted by address, for naming addresses
/// such as helper calls in a translated program dump.
#[derive(Debug, Clone, Default)]
pub struct KernelSymbols {
    by_address: Vec<(u64, String)>,
}

impl KernelSymbols {
    /// Reads `/proc/kallsyms` (addresses read as 0 without `CAP_SYSLOG`: then nothing resolves).
    pub fn read() -> io::Result<KernelSymbols> {
        Ok(KernelSymbols::parse(&read_file()?))
    }

    /// Parses kallsyms text: `address type name [module]` per line.
    pub fn parse(text: &str) -> KernelSymbols {
        let mut by_address: Vec<(u64, String)> = text
            .lines()
            .filter_map(|line| {
                let mut fields = line.split_whitespace();
                let address = u64::from_str_radix(fields.next()?, 16).ok()?;
                let _kind = fields.next()?;
                let name = fields.next()?;
                (address != 0).then(|| (address, name.to_owned()))
            })
            .collect();
        // Stable, so symbols sharing an address keep kallsyms order (as bpftool's sort does).
        by_address.sort_by_key(|(address, _)| *address);
        KernelSymbols { by_address }
    }

    /// The address of `name`.
    pub fn address_of(&self, name: &str) -> Option<u64> {
        self.by_address
            .iter()
            .find(|(_, n)| n == name)
            .map(|(a, _)| *a)
    }

    /// The symbol starting exactly at `address`; where several do, the one bpftool's
    /// bisection (the C library's `bsearch`) lands on, so dumps name calls as it does.
    pub fn name_at(&self, address: u64) -> Option<&str> {
        let (mut low, mut high) = (0, self.by_address.len());
        while low < high {
            let middle = (low + high) / 2;
            let (at, name) = &self.by_address[middle];
            match address.cmp(at) {
                std::cmp::Ordering::Less => high = middle,
                std::cmp::Ordering::Greater => low = middle + 1,
                std::cmp::Ordering::Equal => return Some(name),
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_of_wanted_names_first_wins() {
        let text = "ffffffff81000000 T tcp_close\n\
                    ffffffff81000010 T tcp_close\n\
                    ffffffff81000020 D tcp_hashinfo\n";
        let found = addresses_in(text, &["tcp_close", "absent"]);
        assert_eq!(found.len(), 1);
        assert_eq!(found["tcp_close"], 0xffffffff81000000);
    }
}
