//! cgroup_sysctl: reads of /proc/sys by a fresh cgroup's process.

#[path = "net_support/mod.rs"]
mod net_support;

use bpf_programs::programs::{AttachMethod, CgroupAttachMode, CgroupSysctl};
use net_support::{TestCgroup, hits_during, open_cgroup_object};

/// The child's work: five reads of a sysctl.
fn read_sysctl(_: &str) {
    for _ in 0..5 {
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap();
    }
}

#[test]
fn cgroup_sysctl_fires_on_reads_until_detached() {
    const TEST: &str = "cgroup_sysctl_fires_on_reads_until_detached";
    if net_support::child_mode(read_sysctl) {
        return;
    }
    for method in [AttachMethod::Link, AttachMethod::Legacy] {
        let cgroup = TestCgroup::new();
        let mut bpf = open_cgroup_object(0);
        let program: &mut CgroupSysctl =
            bpf.program_mut("count_sysctl").unwrap().try_into().unwrap();
        program.load().unwrap();
        let id = program
            .attach_with_method(&cgroup.dir, CgroupAttachMode::AllowMultiple, method)
            .unwrap();
        // Reading to EOF takes more than one read(2); each one runs the hook.
        assert!(
            hits_during(&bpf, 8, &cgroup, TEST, "sysctl") >= 5,
            "{method:?}"
        );
        let program: &mut CgroupSysctl =
            bpf.program_mut("count_sysctl").unwrap().try_into().unwrap();
        program.detach(id).unwrap();
        assert_eq!(
            hits_during(&bpf, 8, &cgroup, TEST, "sysctl"),
            0,
            "{method:?}"
        );
    }
}
