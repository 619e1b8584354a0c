//! `cgroup/sock_create`, `cgroup/sock_release`, `cgroup/post_bind4|6`: socket creation, release and bind.

use super::cgroup_attach::cgroup_program;

cgroup_program!(
    /// A `cgroup_sock` program; attach it to a cgroup2 directory.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use bpf_programs::Bpf;
    /// use bpf_programs::programs::CgroupSock;
    /// use bpf_programs::programs::CgroupAttachMode;
    ///
    /// // SEC("cgroup/sock_create") int on_sock_create(...) in prog.bpf.o
    /// let mut bpf = Bpf::load_file("prog.bpf.o")?;
    /// let program: &mut CgroupSock = bpf.program_mut("on_sock_create").unwrap().try_into()?;
    /// program.load()?;
    /// let cgroup = std::fs::File::open("/sys/fs/cgroup/unified/my-service")?;
    /// program.attach(&cgroup, CgroupAttachMode::AllowMultiple)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    CgroupSock,
    CgroupSockLink,
    CgroupSockLinkId,
    "cgroup_sock"
);
