//! Sharing a map between objects (libbpf's `bpf_map__reuse_fd`): the second object's program
//! writes into the first object's map; a map that does not match is refused, by name.

use bpf_programs::maps::MapError;
use bpf_programs::programs::TracePoint;
use bpf_programs::{Bpf, BpfError, BpfLoader};
use integration_tests::{counter, getpid_n, gettid};

const OBJECT: &[u8] = integration_tests::bpf_object!("prog_tracepoint.bpf.o");
const OTHER_HITS: &[u8] = integration_tests::bpf_object!("prog_fentry.bpf.o");

fn hits_fd(bpf: &Bpf) -> std::os::fd::OwnedFd {
    bpf.map("hits")
        .unwrap()
        .data()
        .fd()
        .try_clone_to_owned()
        .unwrap()
}

#[test]
fn reused_map_is_shared_between_objects() {
    let first = BpfLoader::new()
        .set_global("target_tid", &gettid())
        .load(OBJECT)
        .unwrap();
    let mut second = BpfLoader::new()
        .set_global("target_tid", &gettid())
        .reuse_map("hits", hits_fd(&first))
        .load(OBJECT)
        .unwrap();
    let id = |bpf: &Bpf| bpf.map("hits").unwrap().data().info().unwrap().id();
    assert_eq!(id(&first), id(&second), "one map, two objects");
    let program: &mut TracePoint = second
        .program_mut("count_getpid")
        .unwrap()
        .try_into()
        .unwrap();
    program.load().unwrap();
    program.attach_default().unwrap();
    getpid_n(10);
    assert!(
        counter(&first, "hits") >= 10,
        "the second object wrote the first's map"
    );
}

#[test]
fn reusing_a_map_of_another_shape_or_name_is_refused() {
    let other = Bpf::load(OTHER_HITS).unwrap();
    let err = BpfLoader::new()
        .reuse_map("hits", hits_fd(&other))
        .load(OBJECT)
        .unwrap_err();
    assert!(
        matches!(&err, BpfError::Map { name, source: MapError::ReuseMismatch { reason, .. } }
            if name == "hits" && reason.contains("max_entries")),
        "{err:?}"
    );
    let err = BpfLoader::new()
        .reuse_map("no_such_map", hits_fd(&other))
        .load(OBJECT)
        .unwrap_err();
    assert!(
        matches!(&err, BpfError::NoSuchMap { name } if name == "no_such_map"),
        "{err:?}"
    );
}
