//! Creating and deleting network devices with `RTM_NEWLINK` / `RTM_DELLINK`: netkit pairs,
//! which iproute2 before 6.7 cannot create.

use super::{Message, NLMSG_HDR_LEN, NetlinkSocket};
use crate::error::{NetlinkRequest, SyscallError};
use crate::generated::{
    self, _bindgen_ty_50, _bindgen_ty_57, _bindgen_ty_66, NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL,
};

const RTM_NEWLINK: u16 = generated::_bindgen_ty_109::RTM_NEWLINK as u16;
const RTM_DELLINK: u16 = generated::_bindgen_ty_109::RTM_DELLINK as u16;
const IFLA_IFNAME: u16 = _bindgen_ty_50::IFLA_IFNAME as u16;
const IFLA_LINKINFO: u16 = _bindgen_ty_50::IFLA_LINKINFO as u16;
const IFLA_INFO_KIND: u16 = _bindgen_ty_57::IFLA_INFO_KIND as u16;
const IFLA_INFO_DATA: u16 = _bindgen_ty_57::IFLA_INFO_DATA as u16;
const IFLA_NETKIT_PEER_INFO: u16 = _bindgen_ty_66::IFLA_NETKIT_PEER_INFO as u16;
const IFLA_NETKIT_MODE: u16 = _bindgen_ty_66::IFLA_NETKIT_MODE as u16;
/// `enum netkit_mode` of `<linux/if_link.h>` (bindgen's allowlist leaves it out).
const NETKIT_L2: u32 = 0;
const NETKIT_L3: u32 = 1;

const IFINFOMSG_LEN: usize = 16;

fn ifinfomsg(ifindex: u32) -> [u8; IFINFOMSG_LEN] {
    let mut header = [0u8; IFINFOMSG_LEN];
    header[4..8].copy_from_slice(&(ifindex as i32).to_ne_bytes());
    header
}

/// Which layer a netkit pair forwards at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NetkitMode {
    /// Ethernet devices (`NETKIT_L2`): frames carry an Ethernet header, neighbours resolve.
    L2,
    /// Headerless IP devices (`NETKIT_L3`, the kernel's default).
    #[default]
    L3,
}

/// Creates netkit pair `primary` ↔ `peer` in the calling thread's network namespace (both
/// down). Fails with `EOPNOTSUPP` ("Unknown device type") on kernels without netkit.
pub fn netkit_add(primary: &str, peer: &str, mode: NetkitMode) -> Result<(), SyscallError> {
    let req = NetlinkRequest::NewLink;
    let mut sock = NetlinkSocket::open()?;
    let mut msg = Message::new(
        RTM_NEWLINK,
        NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
        &ifinfomsg(0),
    );
    msg.attr_str(IFLA_IFNAME, primary);
    let info = msg.begin_nest(IFLA_LINKINFO);
    msg.attr_str(IFLA_INFO_KIND, "netkit");
    let data = msg.begin_nest(IFLA_INFO_DATA);
    let mode = match mode {
        NetkitMode::L2 => NETKIT_L2,
        NetkitMode::L3 => NETKIT_L3,
    };
    msg.attr(IFLA_NETKIT_MODE, &mode.to_ne_bytes());
    msg.attr(IFLA_NETKIT_PEER_INFO, &peer_info(peer));
    msg.end_nest(data);
    msg.end_nest(info);
    sock.request(req, &mut msg).map(drop)
}

/// The payload of `IFLA_NETKIT_PEER_INFO`: an ifinfomsg followed by the peer's attributes.
fn peer_info(peer: &str) -> Vec<u8> {
    let mut inner = Message::new(0, 0, &ifinfomsg(0));
    inner.attr_str(IFLA_IFNAME, peer);
    inner.buf.get(NLMSG_HDR_LEN..).unwrap_or_default().to_vec()
}

/// Deletes interface `ifindex` (for a pair such as netkit or veth, both ends).
pub fn link_del(ifindex: u32) -> Result<(), SyscallError> {
    let req = NetlinkRequest::DelLink;
    let mut sock = NetlinkSocket::open()?;
    let mut msg = Message::new(RTM_DELLINK, NLM_F_ACK, &ifinfomsg(ifindex));
    sock.request(req, &mut msg).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netlink::{attr_string, attrs};

    #[test]
    fn peer_info_is_an_ifinfomsg_then_the_name() {
        let payload = peer_info("nkb");
        assert_eq!(&payload[..IFINFOMSG_LEN], &[0u8; IFINFOMSG_LEN]);
        let parsed: Vec<(u16, String)> = attrs(&payload[IFINFOMSG_LEN..])
            .map(|(ty, data)| (ty, attr_string(data)))
            .collect();
        assert_eq!(parsed, vec![(IFLA_IFNAME, "nkb".to_string())]);
    }
}
