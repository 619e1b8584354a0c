//! `sockops`: TCP events (connect, established, RTO, …) of sockets in a cgroup.

use super::cgroup_attach::cgroup_program;

cgroup_program!(
    /// A `sock_ops` program; attach it to a cgroup2 directory.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use bpf_programs::Bpf;
    /// use bpf_programs::programs::SockOps;
    /// use bpf_programs::programs::CgroupAttachMode;
    ///
    /// // SEC("sockops") int on_tcp_event(...) in prog.bpf.o
    /// let mut bpf = Bpf::load_file("prog.bpf.o")?;
    /// let program: &mut SockOps = bpf.program_mut("on_tcp_event").unwrap().try_into()?;
    /// program.load()?;
    /// let cgroup = std::fs::File::open("/sys/fs/cgroup/unified/my-service")?;
    /// program.attach(&cgroup, CgroupAttachMode::AllowMultiple)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    SockOps,
    SockOpsLink,
    SockOpsLinkId,
    "sock_ops"
);
