//! The `__bpf_usdt_specs` value layout read from real objects' BTF: libbpf 1.1's header
//! (tests/bpf/prog_usdt.bpf.c) and the newer bitfield layout with scaled-index arguments
//! (tests/bpf/usdt_spec_v2.bpf.c), and specs encoded into each.

use bpf_core::btf::Btf;
use bpf_core::obj::Object;
use bpf_core::usdt::layout::Field;
use bpf_core::usdt::{SpecLayout, SpecLayoutError, parse_args};

const V1: &[u8] = include_bytes!("../../tests/bpf/obj/prog_usdt.bpf.o");
const V2: &[u8] = include_bytes!("../../tests/bpf/obj/usdt_spec_v2.bpf.o");
const NO_USDT: &[u8] = include_bytes!("../../tests/bpf/obj/prog_uprobe.bpf.o");

fn btf(object: &[u8]) -> Btf {
    Object::parse(object).unwrap().btf.expect("object has BTF")
}

/// Reads a field back (little-endian bit numbering), sign-extended when `signed`.
fn get(bytes: &[u8], base_bytes: u32, field: Field, signed: bool) -> i64 {
    let mut v = 0u64;
    for bit in 0..field.bits {
        let at = (base_bytes * 8 + field.bit_offset + bit) as usize;
        v |= u64::from((bytes[at / 8] >> (at % 8)) & 1) << bit;
    }
    if signed && field.bits < 64 {
        let shift = 64 - field.bits;
        ((v << shift) as i64) >> shift
    } else {
        v as i64
    }
}

#[test]
fn libbpf_1_1_layout() {
    let layout = SpecLayout::from_btf(&btf(V1)).unwrap();
    assert_eq!(
        (
            layout.size,
            layout.args_offset,
            layout.arg_size,
            layout.max_args
        ),
        (208, 0, 16, 12)
    );
    assert_eq!(
        layout.usdt_cookie,
        Field {
            bit_offset: 1536,
            bits: 64
        }
    );
    assert_eq!(
        layout.arg_cnt,
        Field {
            bit_offset: 1600,
            bits: 16
        }
    );
    assert_eq!(
        layout.arg.arg_type,
        Field {
            bit_offset: 64,
            bits: 32
        }
    );
    assert_eq!(
        layout.arg.reg_off,
        Field {
            bit_offset: 96,
            bits: 16
        }
    );
    assert_eq!(
        layout.arg.arg_signed,
        Field {
            bit_offset: 112,
            bits: 8
        }
    );
    assert_eq!(
        layout.arg.arg_bitshift,
        Field {
            bit_offset: 120,
            bits: 8
        }
    );
    assert!(!layout.supports_sib());

    let args = parse_args("-4@%eax 8@-16(%rbp) 4@$5 -1@$-9").unwrap();
    let value = layout.encode(&args, 0xc00c1e).unwrap();
    assert_eq!(value.len(), 208);
    // arg 0: register ax, signed, 4 bytes.
    assert_eq!(&value[0..8], &[0; 8]);
    assert_eq!(u32::from_le_bytes(value[8..12].try_into().unwrap()), 1);
    assert_eq!(i16::from_le_bytes(value[12..14].try_into().unwrap()), 80);
    assert_eq!((value[14], value[15]), (1, 32));
    // arg 1: -16(%rbp), unsigned 8 bytes.
    assert_eq!(i64::from_le_bytes(value[16..24].try_into().unwrap()), -16);
    assert_eq!(u32::from_le_bytes(value[24..28].try_into().unwrap()), 2);
    assert_eq!(i16::from_le_bytes(value[28..30].try_into().unwrap()), 32);
    assert_eq!((value[30], value[31]), (0, 0));
    // arg 2: constant 5; arg 3: constant -9, signed byte.
    assert_eq!(i64::from_le_bytes(value[32..40].try_into().unwrap()), 5);
    assert_eq!(u32::from_le_bytes(value[40..44].try_into().unwrap()), 0);
    assert_eq!(i64::from_le_bytes(value[48..56].try_into().unwrap()), -9);
    assert_eq!((value[62], value[63]), (1, 56));
    assert_eq!(
        &value[64..192],
        &[0; 128][..],
        "unused argument slots stay zero"
    );
    assert_eq!(
        u64::from_le_bytes(value[192..200].try_into().unwrap()),
        0xc00c1e
    );
    assert_eq!(i16::from_le_bytes(value[200..202].try_into().unwrap()), 4);

    let sib = parse_args("8@%rdi 8@(%rax,%rdx,8)").unwrap();
    assert_eq!(
        layout.encode(&sib, 0),
        Err(SpecLayoutError::NoSib { index: 1 })
    );
    let too_many = parse_args(&["8@%rax"; 12].join(" ")).unwrap();
    layout.encode(&too_many, 0).unwrap();
}

#[test]
fn bitfield_layout_with_scaled_index() {
    let layout = SpecLayout::from_btf(&btf(V2)).unwrap();
    assert_eq!((layout.arg_size, layout.max_args), (24, 12));
    assert_eq!(
        layout.arg.arg_type,
        Field {
            bit_offset: 64,
            bits: 8
        }
    );
    let idx = layout.arg.idx_reg_off.unwrap();
    let scale = layout.arg.scale_bitshift.unwrap();
    assert_eq!(idx.bits, 12);
    assert_eq!(scale.bits, 4);
    assert!(layout.supports_sib());
    assert_eq!(layout.arg_types.sib, Some(3));

    let args = parse_args("-4@%eax -8@-96(%rbp,%rcx,4) 2@$7").unwrap();
    let value = layout.encode(&args, u64::MAX).unwrap();
    assert_eq!(value.len(), layout.size as usize);
    let a = &layout.arg;
    let at = |i: u32| layout.args_offset + i * layout.arg_size;
    assert_eq!(get(&value, at(0), a.arg_type, false), 1);
    assert_eq!(get(&value, at(0), a.reg_off, true), 80);
    assert_eq!(get(&value, at(0), a.arg_signed, false), 1);
    assert_eq!(get(&value, at(0), a.arg_bitshift, false), 32);
    assert_eq!(get(&value, at(0), idx, false), 0);
    // -96(%rbp,%rcx,4): base bp (32), index cx (88), scale 4 = shift 2.
    assert_eq!(get(&value, at(1), a.arg_type, false), 3);
    assert_eq!(get(&value, at(1), a.val_off, true), -96);
    assert_eq!(get(&value, at(1), a.reg_off, true), 32);
    assert_eq!(get(&value, at(1), idx, false), 88);
    assert_eq!(get(&value, at(1), scale, false), 2);
    assert_eq!(get(&value, at(1), a.arg_signed, false), 1);
    assert_eq!(get(&value, at(1), a.arg_bitshift, false), 0);
    // The bitfields share bytes: writing one must not clobber its neighbours.
    assert_eq!(get(&value, at(2), a.arg_type, false), 0);
    assert_eq!(get(&value, at(2), a.val_off, false), 7);
    assert_eq!(get(&value, at(2), a.arg_bitshift, false), 48);
    assert_eq!(get(&value, 0, layout.usdt_cookie, false), -1);
    assert_eq!(get(&value, 0, layout.arg_cnt, true), 3);
}

#[test]
fn objects_without_usdt_header() {
    assert_eq!(
        SpecLayout::from_btf(&btf(NO_USDT)),
        Err(SpecLayoutError::MissingType("__bpf_usdt_spec"))
    );
}
