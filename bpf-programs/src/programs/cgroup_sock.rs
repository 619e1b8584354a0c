//! `cgroup/sock_create`, `cgroup/sock_release`, `cgroup/post_bind4|6`: socket creation, release and bind.

use super::cgroup_attach::cgroup_program;

cgroup_program!(
    /// A `cgroup_sock` program; attach it to a cgroup2 directory.
    CgroupSock,
    CgroupSockLink,
    CgroupSockLinkId,
    "cgroup_sock"
);
