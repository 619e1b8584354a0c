//! Writes each ```rust block of docs/GUIDE.md (those not quoting a file, which
//! examples/first-tool's tests compare) into a function of its own, for src/lib.rs to compile.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let guide = Path::new(env!("CARGO_MANIFEST_DIR")).join("../GUIDE.md");
    println!("cargo::rerun-if-changed={}", guide.display());
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("snippets.rs");
    let Ok(text) = std::fs::read_to_string(&guide) else {
        // Packaged alone (cargo package) the guide is not there; the workspace build checks it.
        println!("cargo::warning=docs/GUIDE.md not found: its snippets are not compiled");
        std::fs::write(&out, "").expect("writing OUT_DIR/snippets.rs");
        return;
    };
    let mut code =
        String::from("use std::os::fd::OwnedFd;\n\nuse bpf_programs::{Bpf, BpfLoader};\n\n");
    let mut block: Option<(usize, String)> = None;
    for (index, line) in text.lines().enumerate() {
        match &mut block {
            None if line.trim_end() == "```rust" => block = Some((index + 1, String::new())),
            None => {}
            Some((start, body)) if line.starts_with("```") => {
                writeln!(
                    code,
                    "/// docs/GUIDE.md line {start}\n#[allow(unused, unused_mut, unreachable_code, \
                     unnameable_test_items, clippy::all)]\nfn guide_line_{start}(mut bpf: Bpf, \
                     shared_fd: OwnedFd) -> anyhow::Result<()> {{\n{body}\nOk(())\n}}\n"
                )
                .expect("writing to a String");
                block = None;
            }
            Some((_, body)) => {
                body.push_str(line);
                body.push('\n');
            }
        }
    }
    std::fs::write(&out, code).expect("writing OUT_DIR/snippets.rs");
}
