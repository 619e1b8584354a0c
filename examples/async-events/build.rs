use bpf_build::{Builder, Source};

fn main() -> Result<(), bpf_build::Error> {
    Builder::new()
        // The demo's BPF side: its ring buffer record type is in no map's or global's type.
        .source(Source::new("../demo/src/bpf/demo.bpf.c").types(["struct exec_event"]))
        .build()?;
    Ok(())
}
