//! XDP attach/detach/query through `RTM_SETLINK` / `RTM_GETLINK`.

use std::os::fd::{AsRawFd, BorrowedFd};

use super::{
    IFLA_XDP, IFLA_XDP_ATTACHED, IFLA_XDP_DRV_PROG_ID, IFLA_XDP_EXPECTED_FD, IFLA_XDP_FD,
    IFLA_XDP_FLAGS, IFLA_XDP_HW_PROG_ID, IFLA_XDP_PROG_ID, IFLA_XDP_SKB_PROG_ID, Message,
    NetlinkSocket, RTM_GETLINK, RTM_SETLINK, attrs, read_u32,
};
use crate::error::{NetlinkRequest, SyscallError};
use crate::generated::{NLM_F_ACK, XDP_FLAGS_REPLACE};

const IFINFOMSG_LEN: usize = 16;

fn ifinfomsg(ifindex: u32) -> [u8; IFINFOMSG_LEN] {
    let mut header = [0u8; IFINFOMSG_LEN];
    header[4..8].copy_from_slice(&(ifindex as i32).to_ne_bytes());
    header
}

/// Attaches `prog_fd` as the XDP program of `ifindex` (`None` detaches).
///
/// `flags` are `XDP_FLAGS_*` (mode, `UPDATE_IF_NOEXIST`); with `expected_fd` the change only
/// happens if that program is the one attached (`XDP_FLAGS_REPLACE` is added).
pub fn xdp_attach(
    ifindex: u32,
    prog_fd: Option<BorrowedFd<'_>>,
    mut flags: u32,
    expected_fd: Option<BorrowedFd<'_>>,
) -> Result<(), SyscallError> {
    let req = NetlinkRequest::SetLink;
    let mut sock = NetlinkSocket::open()?;
    let mut msg = Message::new(RTM_SETLINK, NLM_F_ACK, &ifinfomsg(ifindex));
    let nest = msg.begin_nest(IFLA_XDP);
    let fd = prog_fd.map_or(-1, |fd| fd.as_raw_fd());
    msg.attr(IFLA_XDP_FD, &fd.to_ne_bytes());
    if let Some(expected) = expected_fd {
        flags |= XDP_FLAGS_REPLACE;
        msg.attr(IFLA_XDP_EXPECTED_FD, &expected.as_raw_fd().to_ne_bytes());
    }
    if flags != 0 {
        msg.attr(IFLA_XDP_FLAGS, &flags.to_ne_bytes());
    }
    msg.end_nest(nest);
    sock.request(req, &mut msg).map(drop)
}

/// What XDP programs an interface runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct XdpQuery {
    /// `XDP_ATTACHED_*`: none, driver, generic (skb), hardware or multi.
    pub attach_mode: u8,
    /// The program id when one mode is attached.
    pub prog_id: u32,
    /// Driver-mode program id.
    pub drv_prog_id: u32,
    /// Generic (skb) mode program id.
    pub skb_prog_id: u32,
    /// Offloaded program id.
    pub hw_prog_id: u32,
}

/// Reports the XDP programs attached to `ifindex`.
pub fn xdp_query(ifindex: u32) -> Result<XdpQuery, SyscallError> {
    let req = NetlinkRequest::GetLink;
    let mut sock = NetlinkSocket::open()?;
    let mut msg = Message::new(RTM_GETLINK, NLM_F_ACK, &ifinfomsg(ifindex));
    let replies = sock.request(req, &mut msg)?;
    let mut query = XdpQuery::default();
    for reply in replies {
        let link_attrs = reply.payload.get(IFINFOMSG_LEN..).unwrap_or_default();
        for (ty, data) in attrs(link_attrs) {
            if ty != IFLA_XDP {
                continue;
            }
            for (xty, xdata) in attrs(data) {
                let value = read_u32(xdata, 0).unwrap_or(0);
                match xty {
                    IFLA_XDP_ATTACHED => query.attach_mode = xdata.first().copied().unwrap_or(0),
                    IFLA_XDP_PROG_ID => query.prog_id = value,
                    IFLA_XDP_DRV_PROG_ID => query.drv_prog_id = value,
                    IFLA_XDP_SKB_PROG_ID => query.skb_prog_id = value,
                    IFLA_XDP_HW_PROG_ID => query.hw_prog_id = value,
                    _ => {}
                }
            }
        }
    }
    Ok(query)
}
