#[test]
fn dump() {
    for (name, bytes) in [
        (
            "programs",
            &include_bytes!("../../tests/bpf/obj/parse_programs.bpf.o")[..],
        ),
        (
            "maps",
            &include_bytes!("../../tests/bpf/obj/parse_maps.bpf.o")[..],
        ),
        (
            "globals",
            &include_bytes!("../../tests/bpf/obj/parse_globals.bpf.o")[..],
        ),
        (
            "calls",
            &include_bytes!("../../tests/bpf/obj/reloc_calls.bpf.o")[..],
        ),
        (
            "externs",
            &include_bytes!("../../tests/bpf/obj/reloc_externs.bpf.o")[..],
        ),
    ] {
        let o = bpf_core::obj::Object::parse(bytes).unwrap();
        println!(
            "== {name}: license {:?} version {:?}",
            o.license, o.kernel_version
        );
        for p in &o.programs {
            println!("prog {} {:?} {:?}", p.name, p.section, p.function);
        }
        for f in o.functions.values() {
            println!(
                "fn {} {} {:?} n={} relocs={:?}",
                f.name,
                f.section_name,
                f.id,
                f.insns.len(),
                f.relocations
                    .iter()
                    .map(|r| (r.insn_index, &r.symbol.name, r.symbol.kind))
                    .collect::<Vec<_>>()
            );
        }
        for m in &o.maps {
            println!(
                "map {} {:?} {:?} vars={:?} data={}",
                m.name,
                m.kind,
                m.def,
                m.variables,
                m.data.len()
            );
        }
        for e in &o.externs {
            println!("extern {:?}", e);
        }
    }
}
