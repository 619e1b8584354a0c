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
    let mut bpf = match Bpf::load(OBJECT) {
        Ok(bpf) => bpf,
        // Older kernels (6.1 here) refuse spin locks in inner-map templates (ENOTSUPP), so the
        // template is made without BTF and the kernel then refuses the slot.
        Err(e @ bpf_programs::BpfError::MapSlot { .. })
            if e.to_string().contains("Invalid argument") =>
        {
            integration_tests::skip(
                test,
                format!("the kernel refuses spin-lock values in map-in-map slots: {e}"),
            );
            return;
        }
        Err(e) => panic!("the slot takes a map whose value holds a spin lock: {e}"),
    };
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
