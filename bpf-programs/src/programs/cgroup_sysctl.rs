//! `cgroup/sysctl`: reads and writes of `/proc/sys` by processes of a cgroup.

use super::cgroup_attach::cgroup_program;

cgroup_program!(
    /// A `cgroup_sysctl` program; attach it to a cgroup2 directory.
    CgroupSysctl,
    CgroupSysctlLink,
    CgroupSysctlLinkId,
    "cgroup_sysctl"
);
