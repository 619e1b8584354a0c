//! The Rust generated from tests/bpf/obj/btf_types.bpf.o (snapshots/btf_types.rs, kept current
//! by btf_snapshots.rs) compiles here, so its size and offset assertions hold and zerocopy
//! accepts every type as padding-free, and it reads the object's initialised globals back as
//! clang laid them out.

use bpf_core::obj::Object;
use zerocopy::{FromBytes, IntoBytes};

#[allow(clippy::all)]
mod generated {
    include!("snapshots/btf_types.rs");
}
use generated::*;

const OBJECT: &[u8] = include_bytes!("../../tests/bpf/obj/btf_types.bpf.o");

fn object() -> Object {
    Object::parse(OBJECT).expect("btf_types.bpf.o parses")
}

/// The initial bytes of a `.data` global.
fn global(name: &str) -> Vec<u8> {
    let object = object();
    let data = object
        .maps
        .iter()
        .find(|m| m.name == ".data")
        .expect(".data map");
    let var = data
        .variables
        .iter()
        .find(|v| v.name == name)
        .unwrap_or_else(|| panic!("no global {name}"));
    data.data[var.offset as usize..(var.offset + var.size) as usize].to_vec()
}

#[test]
fn generated_types_read_clangs_layout_back() {
    let bytes = global("the_event");
    assert_eq!(bytes.len(), size_of::<event>());
    let e = event::read_from_bytes(&bytes).expect("event is FromBytes of its exact size");
    assert_eq!({ e.pid }, 4242);
    assert_eq!(&e.comm[..10], b"btf-types\0");
    assert_eq!(e.bits.low(), 5);
    assert_eq!(e.bits.negative(), -7);
    assert!(e.bits.flag());
    assert_eq!(e.bits.mood(), mood::MOOD_HAPPY);
    assert_eq!(e.bits.big(), 0x12_3456_789a);
    assert_eq!({ e.bits.tail }, 0xbeef);
    assert_eq!({ e.header.kind }, 9);
    assert_eq!({ e.header.length }, 0x0102_0304);
    assert_eq!({ e.header.port }, 8080);
    assert_eq!(e.number.quad(), 0x1122_3344_5566_7788);
    assert_eq!(e.number.word(), 0x5566_7788);
    assert_eq!(e.number.text()[..8], 0x1122_3344_5566_7788u64.to_le_bytes());
    assert_eq!((e.r#where.x, e.r#where.y), (-1, 2));
    assert_eq!(
        (e.r#match.r#type, e.r#match.self_, e.r#match.u32),
        (3, 4, 5)
    );
    assert_eq!(e.mood, mood::MOOD_SAD);
    assert_eq!(e.small, small_flag::FLAG_ALL);
    assert_eq!(e.wide, wide_value::WIDE_HIGH);
    assert_eq!(e.anon1.as_int(), 77);
    assert_eq!((e.nested.a, e.nested.b), (1, 0xfeed));
    assert_eq!(e.huge, [3, 0]);
    assert_eq!(format!("{:?}", e.mood), "MOOD_SAD");
    assert_eq!(format!("{:?}", mood(1)), "mood(1)");
    // Written back unchanged: every byte is a field's (no padding to lose).
    assert_eq!(e.as_bytes(), &bytes[..]);

    let header = packed_header::read_from_bytes(&global("a_header")).unwrap();
    assert_eq!(
        ({ header.kind }, { header.length }, { header.port }),
        (1, 2, 3)
    );
}

#[test]
fn data_sections_become_structs_of_their_globals() {
    let object = object();
    let data_map = object.maps.iter().find(|m| m.name == ".data").unwrap();
    let section = data::read_from_bytes(&data_map.data).expect(".data is exactly `data`");
    assert_eq!({ section.the_event.pid }, 4242);
    assert_eq!({ section.a_header.port }, 3);
    let bss_map = object.maps.iter().find(|m| m.name == ".bss").unwrap();
    assert_eq!(size_of::<bss>(), bss_map.def.value_size as usize);
    assert_eq!(
        std::mem::offset_of!(bss, a_skb),
        bss_map
            .variables
            .iter()
            .find(|v| v.name == "a_skb")
            .unwrap()
            .offset as usize
    );
}

#[test]
fn bitfield_setters_touch_only_their_bits() {
    let mut b = bits::default();
    b.set_big(u64::MAX);
    b.set_negative(-16);
    b.set_mood(mood::MOOD_SAD);
    b.set_flag(true);
    b.set_low(7);
    assert_eq!(b.big(), (1 << 40) - 1);
    assert_eq!(b.negative(), -16);
    assert_eq!(b.mood(), mood::MOOD_SAD);
    assert!(b.flag());
    assert_eq!(b.low(), 7);
    b.set_low(0);
    b.set_flag(false);
    assert_eq!((b.low(), b.flag(), b.negative()), (0, false, -16));
    // An out-of-range value keeps only its low bits, as in C.
    b.set_low(9);
    assert_eq!(b.low(), 1);
    assert_eq!({ b.tail }, 0);

    let mut n = number::default();
    n.set_word(0xdead_beef);
    assert_eq!(n.quad(), 0xdead_beef);
    n.set_text(*b"hello world\0");
    assert_eq!(&n.bytes[..12], b"hello world\0");
}

#[test]
fn kernel_structs_have_their_btf_sizes() {
    let object = object();
    let btf = object.btf.as_ref().unwrap();
    let size = |name: &str| {
        let id = btf
            .find_by_name_kind(name, bpf_core::btf::BtfKind::Struct)
            .unwrap();
        btf.type_size(id).unwrap() as usize
    };
    // The const assertions already hold at compile time; this ties them to this object.
    assert_eq!(size_of::<task_struct>(), size("task_struct"));
    assert_eq!(size_of::<sk_buff>(), size("sk_buff"));
    assert_eq!(size_of::<sock>(), size("sock"));
    assert_eq!(
        size_of::<trace_event_raw_sched_switch>(),
        size("trace_event_raw_sched_switch")
    );
    let task = task_struct {
        pid: 7,
        ..Default::default()
    };
    let bytes = task.as_bytes();
    let back = task_struct::read_from_bytes(bytes).unwrap();
    assert_eq!(back.pid, 7);
}
