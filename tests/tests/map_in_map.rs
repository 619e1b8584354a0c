//! Maps of maps from an object: the `.values` slot is filled at load, user space adds
//! compatible inner maps, and a program reads through the outer maps.

mod map_support;

use bpf_programs::maps::flags::BPF_ANY;
use bpf_programs::maps::{Array, ArrayOfMaps, GlobalData, HashOfMaps, MapError};

#[test]
fn programs_read_through_outer_maps() {
    let mut obj = map_support::load("map_in_map.bpf.o", |_| {});
    let mut first = Array::<_, u64>::try_from(obj.map_mut("first")).unwrap();
    first.set(0, 11u64, BPF_ANY).unwrap();
    let first_id = first.info().unwrap().id();

    // Inner maps created from user space with the template's shape.
    let mut second = Array::<_, u64>::create(4, 0).unwrap();
    second.set(0, 22u64, BPF_ANY).unwrap();
    let mut third = Array::<_, u64>::create(4, 0).unwrap();
    third.set(0, 33u64, BPF_ANY).unwrap();
    {
        let mut outer = ArrayOfMaps::try_from(obj.map_mut("outer")).unwrap();
        assert_eq!(
            outer.get(0).unwrap(),
            Some(first_id),
            ".values slot filled at load"
        );
        outer.set(1, second.fd(), BPF_ANY).unwrap();
        // A map of another shape is refused.
        let wrong = Array::<_, u32>::create(4, 0).unwrap();
        let err = outer.set(1, wrong.fd(), BPF_ANY).unwrap_err();
        assert_eq!(err.errno(), Some(libc::EINVAL), "{err}");
        assert!(matches!(
            outer.set(2, second.fd(), BPF_ANY),
            Err(MapError::OutOfBounds { .. })
        ));
    }
    {
        let mut by_key = HashOfMaps::<_, u32>::try_from(obj.map_mut("by_key")).unwrap();
        by_key.insert(&9, third.fd(), BPF_ANY).unwrap();
        assert_eq!(by_key.get(&9).unwrap(), Some(third.info().unwrap().id()));
    }
    obj.run_on_cpu("read_through", 0);
    let bss = GlobalData::try_from(obj.map(".bss")).unwrap();
    assert_eq!(bss.get::<u64>("seen_slot0").unwrap(), 11);
    assert_eq!(bss.get::<u64>("seen_slot1").unwrap(), 22);
    assert_eq!(bss.get::<u64>("seen_key9").unwrap(), 33);
}

#[test]
fn inner_values_with_a_spin_lock_fill_their_slot_and_run() {
    if !integration_tests::kernel_btf_has_name("BPF_PROG_TYPE_SYSCALL") {
        integration_tests::skip(
            "map_in_map::inner_values_with_a_spin_lock_fill_their_slot_and_run",
            "the kernel has no syscall programs (no BPF_PROG_TYPE_SYSCALL in its BTF)",
        );
        return;
    }
    use bpf_programs::Bpf;
    use bpf_programs::programs::Syscall;

    const OBJECT: &[u8] = integration_tests::bpf_object!("map_in_map_locked.bpf.o");
    let test = "map_in_map::inner_values_with_a_spin_lock_fill_their_slot_and_run";
    // Older kernels (6.1 here) refuse spin locks in inner-map templates (ENOTSUPP), so the
    // loader makes the template without BTF and the kernel then refuses the slot.
    if let Some(refusal) = spin_lock_inner_map_refusal() {
        integration_tests::skip(test, refusal);
        return;
    }
    let mut bpf = Bpf::load(OBJECT).expect("the slot takes a map whose value holds a spin lock");
    let counters_id = bpf.map("counters").unwrap().data().info().unwrap().id();
    let outer = ArrayOfMaps::try_from(bpf.map("locked_outer").unwrap()).unwrap();
    assert_eq!(outer.get(0).unwrap(), Some(counters_id));
    let program: &mut Syscall = bpf.program_mut("bump_locked").unwrap().try_into().unwrap();
    program.load().unwrap();
    for _ in 0..3 {
        assert_eq!(program.run(&[]).unwrap(), 0);
    }
    let counters = Array::<_, [u64; 2]>::try_from(bpf.map("counters").unwrap()).unwrap();
    assert_eq!(counters.get(0, 0).unwrap()[1], 3, "count behind the lock");
}

#[test]
fn map_of_maps_without_inner_shape_is_a_typed_error() {
    const OBJECT: &[u8] = integration_tests::bpf_object!("map_in_map_no_inner.bpf.o");
    let err = bpf_programs::Bpf::load(OBJECT).unwrap_err();
    assert!(
        matches!(&err, bpf_programs::BpfError::Map { name, source: MapError::InvalidDefinition { .. } } if name == "shapeless"),
        "{err:?}"
    );
    assert!(err.to_string().contains("__array(values"), "{err}");
}

/// Raw BTF for `struct locked { struct bpf_spin_lock lock; u64 count; }` (type 4), keyed by
/// `int` (type 1).
fn locked_value_btf() -> Vec<u8> {
    const INT: u32 = 1 << 24;
    const STRUCT: u32 = 4 << 24;
    let strings = b"\0int\0bpf_spin_lock\0val\0u64\0locked\0lock\0count\0";
    let at = |name: &str| {
        let needle = format!("\0{name}\0");
        strings
            .windows(needle.len())
            .position(|w| w == needle.as_bytes())
            .unwrap() as u32
            + 1
    };
    let types: Vec<u32> = vec![
        // 1: int
        at("int"),
        INT,
        4,
        (1 << 24) | 32,
        // 2: struct bpf_spin_lock { int val; }
        at("bpf_spin_lock"),
        STRUCT | 1,
        4,
        at("val"),
        1,
        0,
        // 3: u64
        at("u64"),
        INT,
        8,
        64,
        // 4: struct locked { struct bpf_spin_lock lock; u64 count; }
        at("locked"),
        STRUCT | 2,
        16,
        at("lock"),
        2,
        0,
        at("count"),
        3,
        64,
    ];
    let types: Vec<u8> = types.iter().flat_map(|w| w.to_ne_bytes()).collect();
    let header = [
        u32::from(0xeb9f_u16) | (1 << 16),
        24,
        0,
        types.len() as u32,
        types.len() as u32,
        strings.len() as u32,
    ];
    let mut btf: Vec<u8> = header.iter().flat_map(|w| w.to_ne_bytes()).collect();
    btf.extend_from_slice(&types);
    btf.extend_from_slice(strings);
    btf
}

/// Why this kernel refuses an array of maps whose inner template's value holds a spin lock,
/// from raw BPF_BTF_LOAD and BPF_MAP_CREATE calls (`None`: it takes one).
fn spin_lock_inner_map_refusal() -> Option<String> {
    use bpf_sys::generated::bpf_map_type::{BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_ARRAY_OF_MAPS};
    use bpf_sys::map::{MapCreateAttr, map_create};
    use std::os::fd::AsFd;
    let btf = bpf_sys::btf::btf_load(&locked_value_btf(), 0, None)
        .unwrap_or_else(|e| panic!("the hand-made spin-lock BTF loads: {e}"));
    let inner = map_create(&MapCreateAttr {
        map_type: BPF_MAP_TYPE_ARRAY,
        key_size: 4,
        value_size: 16,
        max_entries: 1,
        btf_fd: Some(btf.as_fd()),
        btf_key_type_id: 1,
        btf_value_type_id: 4,
        name: "probe_locked",
        ..Default::default()
    })
    .unwrap_or_else(|e| panic!("an array with spin-lock values is created: {e}"));
    let outer = map_create(&MapCreateAttr {
        map_type: BPF_MAP_TYPE_ARRAY_OF_MAPS,
        key_size: 4,
        value_size: 4,
        max_entries: 1,
        inner_map_fd: Some(inner.as_fd()),
        name: "probe_outer",
        ..Default::default()
    });
    outer.err().map(|e| {
        format!(
            "the kernel refuses an array of maps whose inner template holds a spin lock \
             (raw BPF_MAP_CREATE): {e}"
        )
    })
}
