//! `cgroup/getsockopt`, `cgroup/setsockopt`: socket options seen (and changed) per cgroup.

use super::cgroup_attach::cgroup_program;

cgroup_program!(
    /// A `cgroup_sockopt` program; attach it to a cgroup2 directory.
    CgroupSockopt,
    CgroupSockoptLink,
    CgroupSockoptLinkId,
    "cgroup_sockopt"
);
