use bpf_build::{Builder, Source};

fn main() -> Result<(), bpf_build::Error> {
    Builder::new()
        // The ring buffer's record type is in no map's or global's type: asked for by name.
        .source(Source::new("src/bpf/exits.bpf.c").types(["struct exit_event"]))
        .build()?;
    Ok(())
}
