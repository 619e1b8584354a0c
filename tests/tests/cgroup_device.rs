//! cgroup_device: opening /dev/null from a fresh cgroup's process.

#[path = "net_support/mod.rs"]
mod net_support;

use bpf_programs::programs::{AttachMethod, CgroupAttachMode, CgroupDevice};
use net_support::{TestCgroup, hits_during, open_cgroup_object};

/// The child's work: /dev/null opened five times.
fn open_dev_null(_: &str) {
    for _ in 0..5 {
        drop(std::fs::File::open("/dev/null").unwrap());
    }
}

#[test]
fn cgroup_device_fires_on_open_until_detached() {
    const TEST: &str = "cgroup_device_fires_on_open_until_detached";
    if net_support::child_mode(open_dev_null) {
        return;
    }
    for method in [AttachMethod::Link, AttachMethod::Legacy] {
        let cgroup = TestCgroup::new();
        let mut bpf = open_cgroup_object(0);
        let program: &mut CgroupDevice = bpf.program_mut("count_dev").unwrap().try_into().unwrap();
        program.load().unwrap();
        let id = program
            .attach_with_method(&cgroup.dir, CgroupAttachMode::AllowMultiple, method)
            .unwrap();
        assert!(
            hits_during(&bpf, 9, &cgroup, TEST, "dev") >= 5,
            "{method:?}"
        );
        let program: &mut CgroupDevice = bpf.program_mut("count_dev").unwrap().try_into().unwrap();
        program.detach(id).unwrap();
        assert_eq!(hits_during(&bpf, 9, &cgroup, TEST, "dev"), 0, "{method:?}");
    }
}
