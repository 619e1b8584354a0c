use bpf_build::{Builder, Source};

fn main() -> Result<(), bpf_build::Error> {
    Builder::new()
        // `struct open_event` travels through the ring buffer only: name it to get it in Rust.
        .source(Source::new("src/bpf/opensnoop.bpf.c").types(["struct open_event"]))
        .build()?;
    Ok(())
}
