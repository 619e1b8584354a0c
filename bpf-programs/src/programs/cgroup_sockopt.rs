//! `cgroup/getsockopt`, `cgroup/setsockopt`: socket options seen (and changed) per cgroup.

use super::cgroup_attach::cgroup_program;

cgroup_program!(
    /// A `cgroup_sockopt` program; attach it to a cgroup2 directory.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use bpf_programs::Bpf;
    /// use bpf_programs::programs::CgroupSockopt;
    /// use bpf_programs::programs::CgroupAttachMode;
    ///
    /// // SEC("cgroup/getsockopt") int on_getsockopt(...) in prog.bpf.o
    /// let mut bpf = Bpf::load_file("prog.bpf.o")?;
    /// let program: &mut CgroupSockopt = bpf.program_mut("on_getsockopt").unwrap().try_into()?;
    /// program.load()?;
    /// let cgroup = std::fs::File::open("/sys/fs/cgroup/unified/my-service")?;
    /// program.attach(&cgroup, CgroupAttachMode::AllowMultiple)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    CgroupSockopt,
    CgroupSockoptLink,
    CgroupSockoptLinkId,
    "cgroup_sockopt"
);
