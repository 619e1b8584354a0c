//! docs/GUIDE.md quotes this crate's files: every quoted block (fenced with `file=<path>`) must
//! be the file as it is here, which CI builds and runs.

use std::path::Path;

#[test]
fn the_guide_quotes_this_crate_verbatim() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let guide = std::fs::read_to_string(root.join("../../docs/GUIDE.md")).unwrap();
    let mut quoted = Vec::new();
    let mut lines = guide.lines();
    while let Some(line) = lines.next() {
        let Some(file) = line.strip_prefix("```").and_then(|info| {
            info.split_whitespace()
                .find_map(|w| w.strip_prefix("file="))
        }) else {
            continue;
        };
        let mut block = String::new();
        for line in lines.by_ref() {
            if line == "```" {
                break;
            }
            block.push_str(line);
            block.push('\n');
        }
        let actual = std::fs::read_to_string(root.join(file))
            .unwrap_or_else(|e| panic!("the guide quotes {file}, which is not here: {e}"));
        assert_eq!(
            block, actual,
            "docs/GUIDE.md's {file} differs from examples/first-tool/{file}"
        );
        quoted.push(file.to_owned());
    }
    for file in ["build.rs", "src/main.rs", "src/bpf/opensnoop.bpf.c"] {
        assert!(
            quoted.iter().any(|q| q == file),
            "the guide does not quote {file}"
        );
    }
}
