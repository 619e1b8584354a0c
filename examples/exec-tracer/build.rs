use bpf_build::{Builder, Source};

fn main() -> Result<(), bpf_build::Error> {
    Builder::new()
        // Ring buffer records have no BTF of their own: name the record type.
        .source(Source::new("src/bpf/exec_tracer.bpf.c").types(["struct event"]))
        .build()?;
    Ok(())
}
