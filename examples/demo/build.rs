use bpf_build::{Builder, Source};

fn main() -> Result<(), bpf_build::Error> {
    Builder::new()
        // The ring buffer's record type is not in any map's or global's type: name it.
        .source(Source::new("src/bpf/demo.bpf.c").types(["struct exec_event"]))
        .build()?;
    Ok(())
}
