//! The C and Rust writers on corrupted BTF: an error or some output, never a panic or a hang.
//! Each round flips a few words of a real object's type records (tests/bpf/obj/btf_types.bpf.o)
//! and keeps the variants the parser accepts.

use bpf_core::btf::{Btf, CHeaderOptions, RustTypes, RustTypesOptions, TypeKind, write_c_header};
use bpf_core::obj::Object;

const OBJECT: &[u8] = include_bytes!("../../tests/bpf/obj/btf_types.bpf.o");

/// xorshift64*: a fixed sequence, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

fn exercise(btf: &Btf) {
    let _ = write_c_header(btf, &mut String::new(), &CHeaderOptions::default());
    let mut types = RustTypes::new(btf, RustTypesOptions::default());
    for id in 1..btf.end_id() {
        let _ = match btf.type_by_id(id).map(|t| t.kind) {
            Ok(TypeKind::Datasec(_)) => types.add_datasec(id, "section"),
            Ok(TypeKind::Struct(_) | TypeKind::Union(_)) => types.add(id),
            _ => continue,
        };
    }
    let _ = types.write(&mut String::new());
}

#[test]
fn corrupted_type_records_never_panic() {
    let object = Object::parse(OBJECT).unwrap();
    let original = object.btf.unwrap().to_bytes();
    let hdr_len = 24;
    let types_len = u32::from_le_bytes(original[12..16].try_into().unwrap()) as usize;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut parsed = 0;
    for _ in 0..300 {
        let mut bytes = original.clone();
        for _ in 0..1 + rng.next() % 4 {
            let word = (rng.next() as usize % (types_len / 4)) * 4 + hdr_len;
            let value = match rng.next() % 4 {
                // A small id (another type), a huge one, a flipped bit, or random.
                0 => rng.next() % 64,
                1 => u32::MAX as u64 - rng.next() % 4,
                2 => {
                    u64::from(u32::from_le_bytes(
                        bytes[word..word + 4].try_into().unwrap(),
                    )) ^ (1 << (rng.next() % 32))
                }
                _ => rng.next(),
            } as u32;
            bytes[word..word + 4].copy_from_slice(&value.to_le_bytes());
        }
        if let Ok(btf) = Btf::parse(&bytes) {
            parsed += 1;
            exercise(&btf);
        }
    }
    // Most corruptions keep the records' shape: the writers really ran on broken graphs.
    assert!(parsed > 100, "only {parsed} variants parsed");
}
