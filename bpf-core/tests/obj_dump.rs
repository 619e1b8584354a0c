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
        println!("== {name}");
        let mut b = bpf_core::relocation::Bindings::default();
        for (i, m) in o.maps.iter().enumerate() {
            b.maps.insert(
                m.name.clone(),
                bpf_core::relocation::MapReference::Fd(100 + i as i32),
            );
        }
        for p in &o.programs {
            match o.relocate(&p.name, &b) {
                Ok(r) => {
                    println!("reloc {} fns={:?} maps={:?}", p.name, r.functions, r.maps);
                    for (i, x) in r.insns.iter().enumerate() {
                        if x.code == 0x18 || x.code == 0x85 {
                            println!(
                                "   {i}: {:02x} src={} imm={} off={}",
                                x.code,
                                x.src_reg(),
                                x.imm,
                                x.off
                            );
                        }
                    }
                }
                Err(e) => println!("reloc error {e}"),
            }
        }
    }
}
