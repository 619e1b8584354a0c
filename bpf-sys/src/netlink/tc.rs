//! tc: the clsact qdisc and direct-action `cls_bpf` filters.

use std::os::fd::{AsRawFd, BorrowedFd};

use super::{
    Message, NetlinkSocket, RTM_DELQDISC, RTM_DELTFILTER, RTM_GETTFILTER, RTM_NEWQDISC,
    RTM_NEWTFILTER, TCA_BPF_FD, TCA_BPF_FLAGS, TCA_BPF_ID, TCA_BPF_NAME, TCA_KIND, TCA_OPTIONS,
    attr_string, attrs, read_u32,
};
use crate::error::{NetlinkRequest, SyscallError};
use crate::generated::{
    NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_ECHO, NLM_F_EXCL, NLM_F_REPLACE, TC_H_CLSACT,
    TC_H_MAJ_MASK, TC_H_MIN_EGRESS, TC_H_MIN_INGRESS, TC_H_MIN_MASK, TCA_BPF_FLAG_ACT_DIRECT,
};

const TCMSG_LEN: usize = 20;
/// `ETH_P_ALL` in network byte order, as tc expects the protocol.
const ETH_P_ALL_BE: u32 = (libc::ETH_P_ALL as u16).to_be() as u32;

/// Where on an interface a filter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcAttachPoint {
    /// clsact ingress.
    Ingress,
    /// clsact egress.
    Egress,
    /// Any other parent handle.
    Custom(u32),
}

impl TcAttachPoint {
    /// The parent handle for the tcmsg.
    pub fn parent(self) -> u32 {
        let make = |major: u32, minor: u32| (major & TC_H_MAJ_MASK) | (minor & TC_H_MIN_MASK);
        match self {
            TcAttachPoint::Ingress => make(TC_H_CLSACT, TC_H_MIN_INGRESS),
            TcAttachPoint::Egress => make(TC_H_CLSACT, TC_H_MIN_EGRESS),
            TcAttachPoint::Custom(parent) => parent,
        }
    }
}

fn tcmsg(ifindex: u32, handle: u32, parent: u32, info: u32) -> [u8; TCMSG_LEN] {
    let mut header = [0u8; TCMSG_LEN];
    header[4..8].copy_from_slice(&(ifindex as i32).to_ne_bytes());
    header[8..12].copy_from_slice(&handle.to_ne_bytes());
    header[12..16].copy_from_slice(&parent.to_ne_bytes());
    header[16..20].copy_from_slice(&info.to_ne_bytes());
    header
}

fn clsact(ifindex: u32, msg_type: u16, flags: u32) -> Message {
    let mut msg = Message::new(
        msg_type,
        flags,
        &tcmsg(ifindex, TC_H_CLSACT & TC_H_MAJ_MASK, TC_H_CLSACT, 0),
    );
    msg.attr_str(TCA_KIND, "clsact");
    msg
}

/// Adds the clsact qdisc to `ifindex`; `EEXIST` if it is already there.
pub fn qdisc_add_clsact(ifindex: u32) -> Result<(), SyscallError> {
    let mut msg = clsact(ifindex, RTM_NEWQDISC, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
    NetlinkSocket::open()?
        .request(NetlinkRequest::NewQdisc, &mut msg)
        .map(drop)
}

/// Removes the clsact qdisc (and every filter on it) from `ifindex`.
pub fn qdisc_del_clsact(ifindex: u32) -> Result<(), SyscallError> {
    let mut msg = clsact(ifindex, RTM_DELQDISC, NLM_F_ACK);
    NetlinkSocket::open()?
        .request(NetlinkRequest::DelQdisc, &mut msg)
        .map(drop)
}

/// A `cls_bpf` filter to add.
#[derive(Debug, Clone, Copy)]
pub struct TcFilterAttr<'a> {
    /// Interface index.
    pub ifindex: u32,
    /// Ingress, egress or another parent.
    pub attach_point: TcAttachPoint,
    /// The SCHED_CLS program.
    pub prog_fd: BorrowedFd<'a>,
    /// Name shown by `tc filter show`.
    pub name: &'a str,
    /// Priority (0: the kernel picks one).
    pub priority: u16,
    /// Handle (0: the kernel picks one).
    pub handle: u32,
    /// Replace an existing filter with the same priority and handle instead of failing.
    pub replace: bool,
}

/// Identifies an installed filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcFilterId {
    /// Priority the filter ended up with.
    pub priority: u16,
    /// Handle the filter ended up with.
    pub handle: u32,
}

/// Adds a direct-action `cls_bpf` filter and returns its priority and handle.
pub fn tc_filter_add(attr: &TcFilterAttr<'_>) -> Result<TcFilterId, SyscallError> {
    let req = NetlinkRequest::NewFilter;
    let exclusivity = if attr.replace {
        NLM_F_REPLACE
    } else {
        NLM_F_EXCL
    };
    let info = (u32::from(attr.priority) << 16) | ETH_P_ALL_BE;
    let mut msg = Message::new(
        RTM_NEWTFILTER,
        NLM_F_ACK | NLM_F_CREATE | NLM_F_ECHO | exclusivity,
        &tcmsg(attr.ifindex, attr.handle, attr.attach_point.parent(), info),
    );
    msg.attr_str(TCA_KIND, "bpf");
    let nest = msg.begin_nest(TCA_OPTIONS);
    msg.attr(TCA_BPF_FD, &attr.prog_fd.as_raw_fd().to_ne_bytes());
    msg.attr_str(TCA_BPF_NAME, attr.name);
    msg.attr(TCA_BPF_FLAGS, &TCA_BPF_FLAG_ACT_DIRECT.to_ne_bytes());
    msg.end_nest(nest);
    let replies = NetlinkSocket::open()?.request(req, &mut msg)?;
    let echoed = replies
        .iter()
        .filter(|r| r.msg_type == RTM_NEWTFILTER)
        .find_map(|r| Some((read_u32(&r.payload, 8)?, read_u32(&r.payload, 16)?)));
    Ok(match echoed {
        Some((handle, info)) => TcFilterId {
            priority: (info >> 16) as u16,
            handle,
        },
        None => TcFilterId {
            priority: attr.priority,
            handle: attr.handle,
        },
    })
}

/// Removes the filter with `priority` and `handle`.
pub fn tc_filter_del(
    ifindex: u32,
    attach_point: TcAttachPoint,
    priority: u16,
    handle: u32,
) -> Result<(), SyscallError> {
    let info = (u32::from(priority) << 16) | ETH_P_ALL_BE;
    let mut msg = Message::new(
        RTM_DELTFILTER,
        NLM_F_ACK,
        &tcmsg(ifindex, handle, attach_point.parent(), info),
    );
    msg.attr_str(TCA_KIND, "bpf");
    NetlinkSocket::open()?
        .request(NetlinkRequest::DelFilter, &mut msg)
        .map(drop)
}

/// One installed `cls_bpf` filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcFilter {
    /// Priority.
    pub priority: u16,
    /// Handle.
    pub handle: u32,
    /// Name given at attach time.
    pub name: String,
    /// Id of the program it runs.
    pub prog_id: u32,
    /// True if it runs in direct-action mode.
    pub direct_action: bool,
}

/// Lists the `cls_bpf` filters at `attach_point` of `ifindex`.
pub fn tc_filter_dump(
    ifindex: u32,
    attach_point: TcAttachPoint,
) -> Result<Vec<TcFilter>, SyscallError> {
    let mut msg = Message::new(
        RTM_GETTFILTER,
        NLM_F_DUMP,
        &tcmsg(ifindex, 0, attach_point.parent(), 0),
    );
    let replies = NetlinkSocket::open()?.request(NetlinkRequest::GetFilter, &mut msg)?;
    let mut filters = Vec::new();
    for reply in replies.iter().filter(|r| r.msg_type == RTM_NEWTFILTER) {
        let (Some(handle), Some(info)) =
            (read_u32(&reply.payload, 8), read_u32(&reply.payload, 16))
        else {
            continue;
        };
        let mut kind = String::new();
        let mut filter = TcFilter {
            priority: (info >> 16) as u16,
            handle,
            name: String::new(),
            prog_id: 0,
            direct_action: false,
        };
        let mut has_options = false;
        for (ty, data) in attrs(reply.payload.get(TCMSG_LEN..).unwrap_or_default()) {
            match ty {
                TCA_KIND => kind = attr_string(data),
                TCA_OPTIONS => {
                    has_options = true;
                    for (oty, odata) in attrs(data) {
                        match oty {
                            TCA_BPF_NAME => filter.name = attr_string(odata),
                            TCA_BPF_ID => filter.prog_id = read_u32(odata, 0).unwrap_or(0),
                            TCA_BPF_FLAGS => {
                                filter.direct_action =
                                    read_u32(odata, 0).unwrap_or(0) & TCA_BPF_FLAG_ACT_DIRECT != 0
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        if kind == "bpf" && has_options {
            filters.push(filter);
        }
    }
    Ok(filters)
}
