//! `cargo xtask vmlinux-h [--btf FILE] [--base FILE] [--unsorted] [-o OUT]`: writes a BTF as a C
//! header (default: this kernel's `/sys/kernel/btf/vmlinux` to stdout), with bpf-core's writer.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use bpf_core::btf::{Btf, CHeaderOptions, write_c_header};

/// A raw BTF file, on top of `base` (a module's split BTF).
pub fn read_btf(path: &std::path::Path, base: Option<Arc<Btf>>) -> Result<Btf, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Btf::parse_owned(bytes, base).map_err(|e| format!("{}: {e}", path.display()))
}

/// The header of a BTF file; `base` for a module's split BTF.
pub fn header(
    btf: &std::path::Path,
    base: Option<&std::path::Path>,
    options: &CHeaderOptions,
) -> Result<String, String> {
    let base = match base {
        Some(base) => Some(Arc::new(read_btf(base, None)?)),
        None => None,
    };
    let btf = read_btf(btf, base)?;
    let mut text = String::new();
    write_c_header(&btf, &mut text, options).map_err(|e| error_chain(&e))?;
    Ok(text)
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

pub fn run(args: &[String]) -> Result<(), String> {
    let usage = "usage: cargo xtask vmlinux-h [--btf FILE] [--base FILE] [--unsorted] [-o OUT]";
    let mut btf = PathBuf::from("/sys/kernel/btf/vmlinux");
    let mut base = None;
    let mut output = None;
    let mut options = CHeaderOptions::default();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = || args.next().map(PathBuf::from).ok_or(usage);
        match arg.as_str() {
            "--btf" => btf = value()?,
            "--base" => base = Some(value()?),
            "-o" => output = Some(value()?),
            "--unsorted" => options.sorted = false,
            _ => return Err(usage.into()),
        }
    }
    let text = header(&btf, base.as_deref(), &options)?;
    match output {
        Some(path) => std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display())),
        None => std::io::stdout()
            .write_all(text.as_bytes())
            .map_err(|e| e.to_string()),
    }
}
