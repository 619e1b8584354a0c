fn main() -> Result<(), bpf_build::Error> {
    bpf_build::Builder::new()
        .source("src/bpf/xdp_counter.bpf.c")
        .build()?;
    Ok(())
}
