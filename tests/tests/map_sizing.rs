//! Maps sized by user space before load (libbpf's `bpf_map__set_max_entries` and
//! `bpf_map__set_value_size`): a stack-trace map declared with neither, as profilers do; and
//! `map_extra` (`bpf_map__set_map_extra`).

use bpf_programs::programs::PerfEvent;
use bpf_programs::{Bpf, BpfError, BpfLoader};

const OBJECT: &[u8] = integration_tests::bpf_object!("map_sized_at_run_time.bpf.o");
const DEPTH: u32 = 127;

#[test]
fn stack_map_sized_by_user_space_opens_and_its_program_loads() {
    let mut bpf = BpfLoader::new()
        .set_max_entries("stacks", 1024)
        .set_value_size("stacks", DEPTH * 8)
        .load(OBJECT)
        .expect("object opens once the stack map is sized");
    let info = bpf.map("stacks").unwrap().data().info().unwrap();
    assert_eq!(info.value_size(), DEPTH * 8);
    assert_eq!(info.max_entries(), 1024);
    let program: &mut PerfEvent = bpf.program_mut("sample_stack").unwrap().try_into().unwrap();
    program.load().unwrap();
}

#[test]
fn unsized_stack_map_errors_name_the_missing_setting() {
    let err = Bpf::load(OBJECT).expect_err("no max_entries");
    assert!(err.to_string().contains("set_max_entries"), "{err}");
    let err = BpfLoader::new()
        .set_max_entries("stacks", 1024)
        .load(OBJECT)
        .expect_err("no value_size");
    assert!(err.to_string().contains("`stacks`"), "{err}");
    assert!(err.to_string().contains("set_value_size"), "{err}");
    let err = BpfLoader::new()
        .set_value_size("no_such_map", 8)
        .load(OBJECT)
        .expect_err("unknown map");
    assert!(
        matches!(&err, BpfError::NoSuchMap { name } if name == "no_such_map"),
        "{err:?}"
    );
}

#[test]
fn map_extra_set_by_user_space_reaches_the_kernel() {
    const MAP_BLOOM: &[u8] = integration_tests::bpf_object!("map_bloom.bpf.o");
    if !integration_tests::kernel_btf_has_name("BPF_MAP_TYPE_BLOOM_FILTER") {
        integration_tests::skip(
            "map_sizing::map_extra_set_by_user_space_reaches_the_kernel",
            "the kernel has no bloom filter maps (no BPF_MAP_TYPE_BLOOM_FILTER in its BTF)",
        );
        return;
    }
    let bpf = BpfLoader::new()
        .set_map_extra("seen", 5)
        .load(MAP_BLOOM)
        .expect("object opens");
    let info = bpf.map("seen").unwrap().data().info().unwrap();
    assert_eq!(info.map_extra(), 5, "bloom filter with 5 hash functions");
    let err = BpfLoader::new()
        .set_map_extra("no_such_map", 1)
        .load(MAP_BLOOM)
        .expect_err("unknown map");
    assert!(matches!(&err, BpfError::NoSuchMap { .. }), "{err:?}");
}
