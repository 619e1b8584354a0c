//! Netlink attachments (XDP, tc filters) belong to the network namespace they were made in,
//! while netlink requests act on the calling thread's; detaching goes back there first.

use std::fs::File;
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;

use bpf_sys::netns::enter_netns;

const THREAD_NETNS: &str = "/proc/thread-self/ns/net";

/// The network namespace a netlink attachment was made in.
#[derive(Debug)]
pub(crate) struct NetnsAnchor {
    netns: Option<File>,
}

fn same_namespace(a: &File, b: &File) -> bool {
    match (a.metadata(), b.metadata()) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => true,
    }
}

impl NetnsAnchor {
    /// Remembers the calling thread's namespace (nothing, if procfs is unavailable).
    pub(crate) fn current() -> NetnsAnchor {
        NetnsAnchor {
            netns: File::open(THREAD_NETNS).ok(),
        }
    }

    /// Runs `f` in the remembered namespace, returning the thread to its own afterwards.
    pub(crate) fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        let Some(netns) = &self.netns else {
            return f();
        };
        let Ok(own) = File::open(THREAD_NETNS) else {
            return f();
        };
        if same_namespace(netns, &own) || enter_netns(netns.as_fd()).is_err() {
            return f();
        }
        let result = f();
        if let Err(e) = enter_netns(own.as_fd()) {
            log::error!("returning to the thread's network namespace failed: {e}");
        }
        result
    }
}
