//! `cgroup/dev`: device node access control for a cgroup.

use super::cgroup_attach::cgroup_program;

cgroup_program!(
    /// A `cgroup_device` program; attach it to a cgroup2 directory.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use bpf_programs::Bpf;
    /// use bpf_programs::programs::CgroupDevice;
    /// use bpf_programs::programs::CgroupAttachMode;
    ///
    /// // SEC("cgroup/dev") int on_device(...) in prog.bpf.o
    /// let mut bpf = Bpf::load_file("prog.bpf.o")?;
    /// let program: &mut CgroupDevice = bpf.program_mut("on_device").unwrap().try_into()?;
    /// program.load()?;
    /// let cgroup = std::fs::File::open("/sys/fs/cgroup/unified/my-service")?;
    /// program.attach(&cgroup, CgroupAttachMode::AllowMultiple)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    CgroupDevice,
    CgroupDeviceLink,
    CgroupDeviceLinkId,
    "cgroup_device"
);
