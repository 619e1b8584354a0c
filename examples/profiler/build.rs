fn main() -> Result<(), bpf_build::Error> {
    bpf_build::Builder::new()
        .source("src/bpf/profiler.bpf.c")
        .build()?;
    Ok(())
}
