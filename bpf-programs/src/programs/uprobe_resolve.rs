//! Where a uprobe goes: the binary (absolute path, library name via a process's mappings or
//! `/etc/ld.so.cache`, or an executable on `PATH`) and the file offset of a function in it.

use std::path::{Path, PathBuf};

use bpf_sys::file_map::FileBytes;
use object::{Object, ObjectSegment, ObjectSymbol, SymbolKind};

use super::UProbeError;
use super::kernel_functions::glob_matches;

/// Finds the file a uprobe target names.
pub(crate) fn resolve_binary(target: &Path, pid: Option<u32>) -> Result<PathBuf, UProbeError> {
    if target.is_absolute() || target.to_string_lossy().contains('/') {
        return Ok(target.to_owned());
    }
    let name = target.to_string_lossy().into_owned();
    let found = pid
        .and_then(|pid| from_process_maps(pid, &name))
        .or_else(|| from_ld_cache(&name))
        .or_else(|| from_path_env(&name));
    found.ok_or(UProbeError::BinaryNotFound { name })
}

/// Whether the file `path` is what a bare `name` such as `libc` or `libc.so.6` means.
fn library_matches(path: &str, name: &str) -> bool {
    let Some(file) = path.rsplit('/').next() else {
        return false;
    };
    if file == name {
        return true;
    }
    let stem = name.strip_suffix(".so").unwrap_or(name);
    file.strip_prefix(stem)
        .is_some_and(|rest| rest.starts_with(".so") || rest.starts_with('-'))
}

fn from_process_maps(pid: u32, name: &str) -> Option<PathBuf> {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).ok()?;
    maps.lines()
        .filter_map(|line| line.split_whitespace().nth(5))
        .find(|path| path.starts_with('/') && library_matches(path, name))
        // The process's view of the file, valid even inside another mount namespace.
        .map(|path| PathBuf::from(format!("/proc/{pid}/root{path}")))
}

/// Reads glibc's `/etc/ld.so.cache` (the `glibc-ld.so.cache1.1` format).
fn from_ld_cache(name: &str) -> Option<PathBuf> {
    const MAGIC: &[u8] = b"glibc-ld.so.cache1.1";
    const HEADER_LEN: usize = 48;
    const ENTRY_LEN: usize = 24;
    let data = std::fs::read("/etc/ld.so.cache").ok()?;
    // Old caches put the new-format table after a legacy one; find it.
    let start = data.windows(MAGIC.len()).position(|w| w == MAGIC)?;
    let table = data.get(start..)?;
    let count = u32::from_ne_bytes(table.get(20..24)?.try_into().ok()?) as usize;
    let string_at = |offset: u32| -> Option<&str> {
        let rest = table.get(offset as usize..)?;
        let end = rest.iter().position(|&b| b == 0)?;
        std::str::from_utf8(rest.get(..end)?).ok()
    };
    (0..count).find_map(|i| {
        let entry = table.get(HEADER_LEN + i * ENTRY_LEN..HEADER_LEN + (i + 1) * ENTRY_LEN)?;
        let key = u32::from_ne_bytes(entry.get(4..8)?.try_into().ok()?);
        let value = u32::from_ne_bytes(entry.get(8..12)?.try_into().ok()?);
        let soname = string_at(key)?;
        library_matches(soname, name)
            .then(|| string_at(value).map(PathBuf::from))
            .flatten()
    })
}

fn from_path_env(name: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// An ELF binary, memory-mapped once for any number of symbol lookups.
pub(crate) struct Binary {
    path: PathBuf,
    bytes: FileBytes,
}

impl Binary {
    pub(crate) fn open(path: &Path) -> Result<Binary, UProbeError> {
        let bytes = FileBytes::read(path).map_err(|e| UProbeError::Elf {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(Binary {
            path: path.to_owned(),
            bytes,
        })
    }

    fn bad(&self, reason: String) -> UProbeError {
        UProbeError::Elf {
            path: self.path.clone(),
            reason,
        }
    }

    fn parse(&self) -> Result<object::File<'_>, UProbeError> {
        object::File::parse(self.bytes.as_slice()).map_err(|e| self.bad(e.to_string()))
    }

    /// The file offset of the defined symbol `symbol`.
    pub(crate) fn symbol_offset(&self, symbol: &str) -> Result<u64, UProbeError> {
        let file = self.parse()?;
        let address = file
            .symbols()
            .chain(file.dynamic_symbols())
            .find(|s| s.is_definition() && s.name().is_ok_and(|n| n == symbol))
            .map(|s| s.address())
            .ok_or_else(|| UProbeError::SymbolNotFound {
                symbol: symbol.to_owned(),
                path: self.path.clone(),
            })?;
        self.address_to_offset(&file, symbol, address)
    }

    /// Defined functions whose names match the glob `pattern`, with their file offsets, sorted
    /// by name (a symbol in both `.symtab` and `.dynsym` counts once).
    pub(crate) fn functions_matching(
        &self,
        pattern: &str,
    ) -> Result<Vec<(String, u64)>, UProbeError> {
        let file = self.parse()?;
        let mut found = std::collections::BTreeMap::new();
        for symbol in file.symbols().chain(file.dynamic_symbols()) {
            if !symbol.is_definition() || symbol.kind() != SymbolKind::Text {
                continue;
            }
            let Ok(name) = symbol.name() else { continue };
            if found.contains_key(name) || !glob_matches(pattern, name) {
                continue;
            }
            let offset = self.address_to_offset(&file, name, symbol.address())?;
            found.insert(name.to_owned(), offset);
        }
        Ok(found.into_iter().collect())
    }

    /// Uprobes take file offsets: maps the virtual address through the segment holding it.
    fn address_to_offset(
        &self,
        file: &object::File<'_>,
        symbol: &str,
        address: u64,
    ) -> Result<u64, UProbeError> {
        file.segments()
            .find_map(|segment| {
                let start = segment.address();
                let (file_offset, file_size) = segment.file_range();
                (address >= start && address < start + file_size)
                    .then(|| address - start + file_offset)
            })
            .ok_or_else(|| {
                self.bad(format!(
                    "symbol `{symbol}` at {address:#x} is in no loadable segment"
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_names() {
        assert!(library_matches(
            "/usr/lib/x86_64-linux-gnu/libc.so.6",
            "libc"
        ));
        assert!(library_matches("/usr/lib/libc.so.6", "libc.so.6"));
        assert!(library_matches("libssl.so.3", "libssl.so"));
        assert!(!library_matches("/usr/lib/libcrypt.so.1", "libc"));
    }

    #[test]
    fn own_functions_resolve_by_name_and_pattern() {
        let exe = std::env::current_exe().unwrap();
        let binary = Binary::open(&exe).unwrap();
        let matched = binary.functions_matching("main").unwrap();
        assert_eq!(matched.len(), 1, "{matched:?}");
        assert_eq!(matched[0].1, binary.symbol_offset("main").unwrap());
        assert!(
            binary
                .functions_matching("no_such_fn_zz*")
                .unwrap()
                .is_empty()
        );
        assert!(matches!(
            binary.symbol_offset("no_such_fn_zz"),
            Err(UProbeError::SymbolNotFound { .. })
        ));
    }

    #[test]
    fn bare_names_resolve() {
        let exe = std::env::current_exe().unwrap();
        assert_eq!(resolve_binary(&exe, None).unwrap(), exe);
        assert!(resolve_binary(Path::new("sh"), None).unwrap().is_file());
        let libc = resolve_binary(Path::new("libc"), Some(std::process::id())).unwrap();
        assert!(
            libc.to_string_lossy().contains("libc.so"),
            "{}",
            libc.display()
        );
        assert!(from_ld_cache("libc").is_some());
        assert!(matches!(
            resolve_binary(Path::new("libdoesnotexist_xyz"), None),
            Err(UProbeError::BinaryNotFound { .. })
        ));
    }
}
