//! `cgroup/connect4`, `bind6`, `sendmsg4`, `recvmsg6`, `getpeername4`, `getsockname_unix`, …: socket address hooks (may rewrite the address).

use super::cgroup_attach::cgroup_program;

cgroup_program!(
    /// A `cgroup_sock_addr` program; attach it to a cgroup2 directory.
    CgroupSockAddr,
    CgroupSockAddrLink,
    CgroupSockAddrLinkId,
    "cgroup_sock_addr"
);
