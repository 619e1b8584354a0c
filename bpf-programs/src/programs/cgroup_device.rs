//! `cgroup/dev`: device node access control for a cgroup.

use super::cgroup_attach::cgroup_program;

cgroup_program!(
    /// A `cgroup_device` program; attach it to a cgroup2 directory.
    CgroupDevice,
    CgroupDeviceLink,
    CgroupDeviceLinkId,
    "cgroup_device"
);
