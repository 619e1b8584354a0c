//! `cgroup/connect4`, `bind6`, `sendmsg4`, `recvmsg6`, `getpeername4`, `getsockname_unix`, …: socket address hooks (may rewrite the address).

use super::cgroup_attach::cgroup_program;

cgroup_program!(
    /// A `cgroup_sock_addr` program; attach it to a cgroup2 directory.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use bpf_programs::Bpf;
    /// use bpf_programs::programs::CgroupSockAddr;
    /// use bpf_programs::programs::CgroupAttachMode;
    ///
    /// // SEC("cgroup/connect4") int on_connect(...) in prog.bpf.o
    /// let mut bpf = Bpf::load_file("prog.bpf.o")?;
    /// let program: &mut CgroupSockAddr = bpf.program_mut("on_connect").unwrap().try_into()?;
    /// program.load()?;
    /// let cgroup = std::fs::File::open("/sys/fs/cgroup/unified/my-service")?;
    /// program.attach(&cgroup, CgroupAttachMode::AllowMultiple)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    CgroupSockAddr,
    CgroupSockAddrLink,
    CgroupSockAddrLinkId,
    "cgroup_sock_addr"
);
