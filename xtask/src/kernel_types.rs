//! `cargo xtask kernel-types [--btf FILE] [--zerocopy PATH] [-o OUT] TYPE...`: writes the named
//! kernel types (and everything they contain) as Rust, from this kernel's BTF by default.

use std::io::Write as _;
use std::path::PathBuf;

use bpf_core::btf::{RustTypes, RustTypesOptions};

pub fn run(args: &[String]) -> Result<(), String> {
    let usage = "usage: cargo xtask kernel-types [--btf FILE] [--zerocopy PATH] [-o OUT] TYPE...";
    let mut btf_path = PathBuf::from("/sys/kernel/btf/vmlinux");
    let mut output = None;
    let mut options = RustTypesOptions::default();
    let mut names = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--btf" => btf_path = PathBuf::from(args.next().ok_or(usage)?),
            "--zerocopy" => options.zerocopy = args.next().ok_or(usage)?.clone(),
            "-o" => output = Some(PathBuf::from(args.next().ok_or(usage)?)),
            name if !name.starts_with('-') => names.push(name),
            _ => return Err(usage.into()),
        }
    }
    if names.is_empty() {
        return Err(usage.into());
    }
    let btf = crate::vmlinux_h::read_btf(&btf_path, None)?;
    let mut types = RustTypes::new(&btf, options);
    for name in names {
        types
            .add_by_name(name)
            .map_err(|e| format!("{name}: {e}"))?;
    }
    let mut code = format!(
        "// Generated from {} by `cargo xtask kernel-types`.\n\n",
        btf_path.display()
    );
    types.write(&mut code).map_err(|e| e.to_string())?;
    match output {
        Some(path) => std::fs::write(&path, code).map_err(|e| format!("{}: {e}", path.display())),
        None => std::io::stdout()
            .write_all(code.as_bytes())
            .map_err(|e| e.to_string()),
    }
}
