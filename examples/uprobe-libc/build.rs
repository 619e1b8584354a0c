fn main() -> Result<(), bpf_build::Error> {
    // `struct lookup` is the value type of a map, so it is generated without being named.
    bpf_build::Builder::new()
        .source("src/bpf/uprobe_libc.bpf.c")
        .build()?;
    Ok(())
}
