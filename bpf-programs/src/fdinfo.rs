//! `/proc/self/fdinfo/<fd>`: what the kernel tells about an fd beyond `BPF_OBJ_GET_INFO_BY_FD`
//! (memory charged to a program or map, whether a map is frozen).

use std::os::fd::{AsRawFd, BorrowedFd};

/// The numeric value of `key` (`memlock`, `frozen`) in the fd's fdinfo.
pub(crate) fn fdinfo_u64(fd: BorrowedFd<'_>, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", fd.as_raw_fd())).ok()?;
    text.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        (name.trim() == key).then(|| value.trim().parse().ok())?
    })
}
