//! Parses arbitrary bytes as an eBPF object, asks each program whether it has CO-RE records and
//! relocates it with dummy fds.
//!
//! Seed the corpus from the test objects, then run (cargo-fuzz, nightly features via
//! RUSTC_BOOTSTRAP; the other targets likewise):
//! `mkdir -p corpus/object && cp ../../tests/bpf/obj/*.o corpus/object/`
//! `RUSTC_BOOTSTRAP=1 cargo fuzz run object`
#![no_main]

use bpf_core::btf::core::CoreTarget;
use bpf_core::obj::Object;
use bpf_core::relocation::{Bindings, KfuncValue, KsymValue, MapReference};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut object) = Object::parse(data) else {
        return;
    };
    let mut bindings = Bindings {
        // CO-RE against the object's own BTF exercises the relocation engine on hostile input.
        core_target: object.btf.clone().map(CoreTarget::from_btf),
        arena_data_offset: Some(0),
        ..Bindings::default()
    };
    for (index, map) in object.maps.iter().enumerate() {
        bindings
            .maps
            .insert(map.name.clone(), MapReference::Fd(3 + index as i32));
    }
    for (index, ext) in object.externs.iter().enumerate() {
        if index % 2 == 0 {
            bindings
                .ksyms
                .insert(ext.name.clone(), KsymValue::Address(0xffff_ffff_8100_0000));
            bindings.kfuncs.insert(
                ext.name.clone(),
                KfuncValue {
                    btf_id: 7,
                    fd_array_index: 0,
                    btf_obj_fd: 0,
                },
            );
        }
    }
    let names: Vec<String> = object.programs.iter().map(|p| p.name.clone()).collect();
    for name in &names {
        let _ = object.has_core_relocations(name);
        let _ = object.relocate(name, &bindings);
    }
    let values = bpf_core::obj::parse_kconfig("CONFIG_HZ=100\nCONFIG_X=y\n# CONFIG_Y is not set\n");
    let _ = object.fill_kconfig(&values);
    let variables: Vec<(String, u32)> = object
        .maps
        .iter()
        .flat_map(|m| m.variables.iter().map(|v| (v.name.clone(), v.size)))
        .collect();
    for (name, size) in variables {
        let _ = object.set_global(&name, &vec![0xa5; size as usize]);
    }
});
