//! cgroup_sysctl: reads of /proc/sys by a fresh cgroup's process.

#[path = "net_support/mod.rs"]
mod net_support;

use bpf_programs::programs::{AttachMethod, CgroupAttachMode, CgroupSysctl};
use net_support::{TestCgroup, hits_during, open_cgroup_object};

#[test]
fn cgroup_sysctl_fires_on_reads_until_detached() {
    let code = "for _ in range(5):
    open('/proc/sys/net/ipv4/ip_forward').read()
";
    for method in [AttachMethod::Link, AttachMethod::Legacy] {
        let cgroup = TestCgroup::new();
        let mut bpf = open_cgroup_object(0);
        let program: &mut CgroupSysctl =
            bpf.program_mut("count_sysctl").unwrap().try_into().unwrap();
        program.load().unwrap();
        let id = program
            .attach_with_method(&cgroup.dir, CgroupAttachMode::Single, method)
            .unwrap();
        // Python reads until EOF: at least one read(2), each one a sysctl hook run.
        assert!(hits_during(&bpf, 8, &cgroup, code) >= 5, "{method:?}");
        let program: &mut CgroupSysctl =
            bpf.program_mut("count_sysctl").unwrap().try_into().unwrap();
        program.detach(id).unwrap();
        assert_eq!(hits_during(&bpf, 8, &cgroup, code), 0, "{method:?}");
    }
}
