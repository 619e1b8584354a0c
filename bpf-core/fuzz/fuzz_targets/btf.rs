//! Arbitrary bytes as BTF: parse, decode every type, resolve, size, align, look up, sanitise,
//! marshal and reparse. Errors are fine; panics and hangs are bugs.
#![no_main]

use bpf_core::btf::{Btf, BtfFeatures, BtfKind, TypeKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut btf) = Btf::parse(data) else { return };
    let end = btf.end_id().min(4096);
    for id in 0..end {
        if let Ok(t) = btf.type_by_id(id) {
            match t.kind {
                TypeKind::Struct(c) | TypeKind::Union(c) => c.members().take(256).for_each(drop),
                TypeKind::Enum(e) | TypeKind::Enum64(e) => e.values().take(256).for_each(drop),
                TypeKind::FuncProto(p) => p.params().take(256).for_each(drop),
                TypeKind::Datasec(d) => d.vars().take(256).for_each(drop),
                _ => {}
            }
            if !t.name.is_empty() {
                let _ = btf.find_by_name_kind(t.name, t.kind.kind());
            }
        }
        let _ = btf.resolve(id);
        let _ = btf.type_size(id);
        let _ = btf.type_align(id);
    }
    let _ = btf.find_by_name_kind("x", BtfKind::Struct);
    let _ = btf.fixup_datasecs(|_| Some(64), |_| None);
    if btf.sanitize(&BtfFeatures::none()).is_ok() {
        let bytes = btf.to_bytes();
        let again = Btf::parse(&bytes).expect("marshalled BTF reparses");
        assert_eq!(again.to_bytes(), bytes);
    }
});
