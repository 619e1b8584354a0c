//! `cgroup/sysctl`: reads and writes of `/proc/sys` by processes of a cgroup.

use super::cgroup_attach::cgroup_program;

cgroup_program!(
    /// A `cgroup_sysctl` program; attach it to a cgroup2 directory.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use bpf_programs::Bpf;
    /// use bpf_programs::programs::CgroupSysctl;
    /// use bpf_programs::programs::CgroupAttachMode;
    ///
    /// // SEC("cgroup/sysctl") int on_sysctl(...) in prog.bpf.o
    /// let mut bpf = Bpf::load_file("prog.bpf.o")?;
    /// let program: &mut CgroupSysctl = bpf.program_mut("on_sysctl").unwrap().try_into()?;
    /// program.load()?;
    /// let cgroup = std::fs::File::open("/sys/fs/cgroup/unified/my-service")?;
    /// program.attach(&cgroup, CgroupAttachMode::AllowMultiple)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    CgroupSysctl,
    CgroupSysctlLink,
    CgroupSysctlLinkId,
    "cgroup_sysctl"
);
