//! Finding attach targets in the kernel's BTF by name and kind (type ids only; full BTF
//! handling lives in `bpf_core::btf`), and kernel symbol addresses from `/proc/kallsyms`.

use std::collections::HashMap;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::OnceLock;

use bpf_sys::ids::{ObjectKind, fd_by_id, ids};
use bpf_sys::info::btf_info;

pub(crate) const KIND_TYPEDEF: u32 = 8;
pub(crate) const KIND_FUNC: u32 = 12;
pub(crate) const KIND_VAR: u32 = 14;

const BTF_MAGIC: u16 = 0xeb9f;

/// Names and kinds of one BTF blob's types, indexed for lookups.
#[derive(Debug)]
pub(crate) struct KernelBtf {
    /// `(name, kind)` → type id.
    by_name: HashMap<(String, u32), u32>,
    type_count: u32,
    string_len: u32,
}

fn read_u32(data: &[u8], at: usize) -> Option<u32> {
    let bytes = data.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(bytes.try_into().ok()?))
}

impl KernelBtf {
    /// Indexes `data`; split (module) BTF continues the ids and strings of `base`.
    pub(crate) fn parse(data: &[u8], base: Option<&KernelBtf>) -> Result<KernelBtf, String> {
        let magic = data
            .get(..2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .ok_or("truncated header")?;
        if magic != BTF_MAGIC {
            return Err(format!("bad magic {magic:#x}"));
        }
        let field = |at| read_u32(data, at).ok_or("truncated header");
        let hdr_len = field(4)? as usize;
        let type_off = field(8)? as usize;
        let type_len = field(12)? as usize;
        let str_off = field(16)? as usize;
        let str_len = field(20)? as usize;
        let types = data
            .get(hdr_len + type_off..hdr_len + type_off + type_len)
            .ok_or("type section out of bounds")?;
        let strings = data
            .get(hdr_len + str_off..hdr_len + str_off + str_len)
            .ok_or("string section out of bounds")?;
        let (mut id, base_strings) = base.map_or((1, 0), |b| (b.type_count + 1, b.string_len));
        let mut by_name = HashMap::new();
        let mut at = 0usize;
        while at < types.len() {
            let name_off = read_u32(types, at).ok_or("truncated type")?;
            let info = read_u32(types, at + 4).ok_or("truncated type")?;
            let kind = (info >> 24) & 0x1f;
            let vlen = (info & 0xffff) as usize;
            let extra = match kind {
                1 | 14 | 17 => 4,
                3 => 12,
                4 | 5 | 15 | 19 => vlen * 12,
                6 | 13 => vlen * 8,
                _ => 0,
            };
            if matches!(kind, KIND_FUNC | KIND_VAR | KIND_TYPEDEF) && name_off >= base_strings {
                let start = (name_off - base_strings) as usize;
                if let Some(rest) = strings.get(start..) {
                    let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
                    if let Ok(name) = std::str::from_utf8(&rest[..end]) {
                        by_name.entry((name.to_owned(), kind)).or_insert(id);
                    }
                }
            }
            at += 12 + extra;
            id += 1;
        }
        Ok(KernelBtf {
            by_name,
            type_count: id - 1,
            string_len: base_strings + str_len as u32,
        })
    }

    /// The type id of `name` with BTF kind `kind`.
    pub(crate) fn find(&self, name: &str, kind: u32) -> Option<u32> {
        self.by_name.get(&(name.to_owned(), kind)).copied()
    }
}

/// The running kernel's BTF, read once per process.
pub(crate) fn vmlinux() -> Result<&'static KernelBtf, String> {
    static CACHE: OnceLock<Result<KernelBtf, String>> = OnceLock::new();
    CACHE
        .get_or_init(|| {
            let data = std::fs::read("/sys/kernel/btf/vmlinux")
                .map_err(|e| format!("reading /sys/kernel/btf/vmlinux: {e}"))?;
            KernelBtf::parse(&data, None)
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// A kernel function's BTF id, looked up in vmlinux and then in module BTF; the module name is
/// returned with a module match.
pub(crate) fn find_function(name: &str) -> Result<Option<(u32, Option<String>)>, String> {
    find_in_kernel(name, KIND_FUNC)
}

/// The BTF id of `name` with kind `kind` in vmlinux, else in the first loaded module's BTF
/// (`/sys/kernel/btf/<module>`) that has it, with that module's name.
pub(crate) fn find_in_kernel(
    name: &str,
    kind: u32,
) -> Result<Option<(u32, Option<String>)>, String> {
    let base = vmlinux()?;
    if let Some(id) = base.find(name, kind) {
        return Ok(Some((id, None)));
    }
    let Ok(entries) = std::fs::read_dir("/sys/kernel/btf") else {
        return Ok(None);
    };
    for entry in entries.flatten() {
        let module = entry.file_name().to_string_lossy().into_owned();
        if module == "vmlinux" {
            continue;
        }
        let Ok(data) = std::fs::read(entry.path()) else {
            continue;
        };
        if let Ok(btf) = KernelBtf::parse(&data, Some(base))
            && let Some(id) = btf.find(name, kind)
        {
            return Ok(Some((id, Some(module))));
        }
    }
    Ok(None)
}

/// The fd of the kernel BTF object of module `module`, found among the kernel's BTF objects.
pub(crate) fn module_btf_fd(module: &str) -> Option<OwnedFd> {
    ids(ObjectKind::Btf).filter_map(Result::ok).find_map(|id| {
        let fd = fd_by_id(ObjectKind::Btf, id, 0).ok()?;
        let info = btf_info(fd.as_fd()).ok()?;
        (info.is_kernel() && info.name == module).then_some(fd)
    })
}

/// Addresses of the symbols in `wanted`, from `/proc/kallsyms` (zero when kptr_restrict hides
/// them).
pub(crate) fn kallsyms(wanted: &[&str]) -> std::io::Result<HashMap<String, u64>> {
    let mut symbols = HashMap::new();
    if wanted.is_empty() {
        return Ok(symbols);
    }
    let text = std::fs::read_to_string("/proc/kallsyms")?;
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
    Ok(symbols)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_garbage() {
        assert!(KernelBtf::parse(&[1, 2, 3], None).is_err());
        assert!(KernelBtf::parse(&[0x9f, 0xeb, 1, 0, 24, 0, 0, 0], None).is_err());
    }
}
