//! `sockops`: TCP events (connect, established, RTO, …) of sockets in a cgroup.

use super::cgroup_attach::cgroup_program;

cgroup_program!(
    /// A `sock_ops` program; attach it to a cgroup2 directory.
    SockOps,
    SockOpsLink,
    SockOpsLinkId,
    "sock_ops"
);
