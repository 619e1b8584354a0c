use bpf_build::{Builder, Source};

fn main() -> Result<(), bpf_build::Error> {
    Builder::new()
        // The verdict enum appears in no map or global: name it to get it in Rust.
        .source(Source::new("src/bpf/tc_classifier.bpf.c").types(["enum verdict"]))
        .build()?;
    Ok(())
}
