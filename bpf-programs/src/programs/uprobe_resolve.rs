//! Where a uprobe goes: the binary (absolute path, library name via a process's mappings or
//! `/etc/ld.so.cache`, or an executable on `PATH`) and the file offset of a function in it.

use std::path::{Path, PathBuf};

use bpf_core::elf::{ElfFile, ld_cache_entries};
use bpf_sys::file_map::FileBytes;

use super::UProbeError;
use crate::kernel::functions::glob_matches;

/// Finds the file a uprobe target of `program` names.
pub(crate) fn resolve_binary(
    program: &str,
    target: &Path,
    pid: Option<u32>,
) -> Result<PathBuf, UProbeError> {
    if target.is_absolute() || target.to_string_lossy().contains('/') {
        return Ok(target.to_owned());
    }
    let name = target.to_string_lossy().into_owned();
    let found = pid
        .and_then(|pid| from_process_maps(pid, &name))
        .or_else(|| from_ld_cache(&name))
        .or_else(|| from_path_env(&name));
    found.ok_or_else(|| UProbeError::BinaryNotFound {
        program: program.to_owned(),
        name,
    })
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

/// The library glibc's `/etc/ld.so.cache` lists for `name`.
fn from_ld_cache(name: &str) -> Option<PathBuf> {
    let data = std::fs::read("/etc/ld.so.cache").ok()?;
    ld_cache_entries(&data)
        .find(|entry| library_matches(entry.soname, name))
        .map(|entry| PathBuf::from(entry.path))
}

fn from_path_env(name: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// An ELF binary, memory-mapped once for any number of symbol lookups by one program.
pub(crate) struct Binary {
    program: String,
    path: PathBuf,
    bytes: FileBytes,
}

impl Binary {
    pub(crate) fn open(program: &str, path: &Path) -> Result<Binary, UProbeError> {
        let bytes = FileBytes::read(path).map_err(|e| UProbeError::Elf {
            program: program.to_owned(),
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(Binary {
            program: program.to_owned(),
            path: path.to_owned(),
            bytes,
        })
    }

    fn bad(&self, reason: String) -> UProbeError {
        UProbeError::Elf {
            program: self.program.clone(),
            path: self.path.clone(),
            reason,
        }
    }

    fn parse(&self) -> Result<ElfFile<'_>, UProbeError> {
        ElfFile::parse(self.bytes.as_slice()).map_err(|e| self.bad(e.reason))
    }

    /// The file offset of the defined symbol `symbol`.
    pub(crate) fn symbol_offset(&self, symbol: &str) -> Result<u64, UProbeError> {
        let file = self.parse()?;
        let address = file
            .symbol_address(symbol)
            .ok_or_else(|| UProbeError::SymbolNotFound {
                program: self.program.clone(),
                symbol: symbol.to_owned(),
                path: self.path.clone(),
            })?;
        self.file_offset(&file, symbol, address)
    }

    /// Defined functions whose names match the glob `pattern`, with their file offsets, sorted
    /// by name (a symbol in both `.symtab` and `.dynsym` counts once).
    pub(crate) fn functions_matching(
        &self,
        pattern: &str,
    ) -> Result<Vec<(String, u64)>, UProbeError> {
        let file = self.parse()?;
        let mut found = std::collections::BTreeMap::new();
        for symbol in file.defined_symbols().filter(|s| s.is_function) {
            if found.contains_key(symbol.name) || !glob_matches(pattern, symbol.name) {
                continue;
            }
            let offset = self.file_offset(&file, symbol.name, symbol.address)?;
            found.insert(symbol.name.to_owned(), offset);
        }
        Ok(found.into_iter().collect())
    }

    /// Uprobes take file offsets: the virtual address through the segment holding it.
    fn file_offset(
        &self,
        file: &ElfFile<'_>,
        symbol: &str,
        address: u64,
    ) -> Result<u64, UProbeError> {
        file.address_to_file_offset(address).ok_or_else(|| {
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
        let binary = Binary::open("test", &exe).unwrap();
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
        assert_eq!(resolve_binary("test", &exe, None).unwrap(), exe);
        assert!(
            resolve_binary("test", Path::new("sh"), None)
                .unwrap()
                .is_file()
        );
        let libc = resolve_binary("test", Path::new("libc"), Some(std::process::id())).unwrap();
        assert!(
            libc.to_string_lossy().contains("libc.so"),
            "{}",
            libc.display()
        );
        assert!(from_ld_cache("libc").is_some());
        assert!(matches!(
            resolve_binary("test", Path::new("libdoesnotexist_xyz"), None),
            Err(UProbeError::BinaryNotFound { program, .. }) if program == "test"
        ));
    }
}
