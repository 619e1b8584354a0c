//! rtnetlink: a `NETLINK_ROUTE` socket, message building/parsing, and the XDP and tc requests.

pub mod link;
pub mod tc;
pub mod xdp;

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use crate::error::{Command, NetlinkAck, NetlinkRequest, SyscallError};
use crate::generated::{
    self, NETLINK_CAP_ACK, NETLINK_EXT_ACK, NETLINK_ROUTE, NLA_F_NESTED, NLM_F_ACK, NLM_F_ACK_TLVS,
    NLM_F_DUMP, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR,
};

// Anonymous UAPI enums get numbered module names from bindgen; name them once here so a
// regeneration that renumbers them fails to compile instead of silently changing meaning.
pub(crate) const RTM_GETLINK: u16 = generated::_bindgen_ty_109::RTM_GETLINK as u16;
pub(crate) const RTM_SETLINK: u16 = generated::_bindgen_ty_109::RTM_SETLINK as u16;
pub(crate) const RTM_NEWQDISC: u16 = generated::_bindgen_ty_109::RTM_NEWQDISC as u16;
pub(crate) const RTM_DELQDISC: u16 = generated::_bindgen_ty_109::RTM_DELQDISC as u16;
pub(crate) const RTM_NEWTFILTER: u16 = generated::_bindgen_ty_109::RTM_NEWTFILTER as u16;
pub(crate) const RTM_DELTFILTER: u16 = generated::_bindgen_ty_109::RTM_DELTFILTER as u16;
pub(crate) const RTM_GETTFILTER: u16 = generated::_bindgen_ty_109::RTM_GETTFILTER as u16;
pub(crate) const IFLA_XDP: u16 = generated::_bindgen_ty_50::IFLA_XDP as u16;
pub(crate) const IFLA_XDP_FD: u16 = generated::_bindgen_ty_97::IFLA_XDP_FD as u16;
pub(crate) const IFLA_XDP_ATTACHED: u16 = generated::_bindgen_ty_97::IFLA_XDP_ATTACHED as u16;
pub(crate) const IFLA_XDP_FLAGS: u16 = generated::_bindgen_ty_97::IFLA_XDP_FLAGS as u16;
pub(crate) const IFLA_XDP_PROG_ID: u16 = generated::_bindgen_ty_97::IFLA_XDP_PROG_ID as u16;
pub(crate) const IFLA_XDP_DRV_PROG_ID: u16 = generated::_bindgen_ty_97::IFLA_XDP_DRV_PROG_ID as u16;
pub(crate) const IFLA_XDP_SKB_PROG_ID: u16 = generated::_bindgen_ty_97::IFLA_XDP_SKB_PROG_ID as u16;
pub(crate) const IFLA_XDP_HW_PROG_ID: u16 = generated::_bindgen_ty_97::IFLA_XDP_HW_PROG_ID as u16;
pub(crate) const IFLA_XDP_EXPECTED_FD: u16 = generated::_bindgen_ty_97::IFLA_XDP_EXPECTED_FD as u16;
pub(crate) const TCA_KIND: u16 = generated::_bindgen_ty_113::TCA_KIND as u16;
pub(crate) const TCA_OPTIONS: u16 = generated::_bindgen_ty_113::TCA_OPTIONS as u16;
pub(crate) const TCA_BPF_FD: u16 = generated::_bindgen_ty_169::TCA_BPF_FD as u16;
pub(crate) const TCA_BPF_NAME: u16 = generated::_bindgen_ty_169::TCA_BPF_NAME as u16;
pub(crate) const TCA_BPF_FLAGS: u16 = generated::_bindgen_ty_169::TCA_BPF_FLAGS as u16;
pub(crate) const TCA_BPF_ID: u16 = generated::_bindgen_ty_169::TCA_BPF_ID as u16;

const NLMSG_HDR_LEN: usize = 16;
const NLA_HDR_LEN: usize = 4;
const NLMSGERR_ATTR_MSG: u16 = 1;
const RECV_BUF_LEN: usize = 64 * 1024;

fn align4(n: usize) -> usize {
    n.next_multiple_of(4)
}

fn sock_err(req: NetlinkRequest) -> SyscallError {
    SyscallError::last_os_error(Command::Netlink(req))
}

/// The index of network interface `name`.
pub fn if_nametoindex(name: &str) -> Result<u32, SyscallError> {
    let cname = CString::new(name)
        .map_err(|_| SyscallError::from_errno(Command::IfNameToIndex, libc::EINVAL))?;
    // SAFETY: `cname` is a valid NUL-terminated string for the duration of the call.
    let index = unsafe { libc::if_nametoindex(cname.as_ptr()) };
    if index == 0 {
        return Err(SyscallError::last_os_error(Command::IfNameToIndex));
    }
    Ok(index)
}

/// A request under construction: header, fixed family header, attributes.
#[derive(Debug)]
pub(crate) struct Message {
    buf: Vec<u8>,
}

impl Message {
    /// Starts a message of `msg_type` with `flags` (plus `NLM_F_REQUEST`) and a family header.
    pub(crate) fn new(msg_type: u16, flags: u32, family_header: &[u8]) -> Self {
        let mut buf = vec![0u8; NLMSG_HDR_LEN];
        buf[4..6].copy_from_slice(&msg_type.to_ne_bytes());
        buf[6..8].copy_from_slice(&((flags | NLM_F_REQUEST) as u16).to_ne_bytes());
        buf.extend_from_slice(family_header);
        buf.resize(align4(buf.len()), 0);
        Message { buf }
    }

    /// Appends attribute `ty` with payload `data`.
    pub(crate) fn attr(&mut self, ty: u16, data: &[u8]) -> &mut Self {
        let len = (NLA_HDR_LEN + data.len()) as u16;
        self.buf.extend_from_slice(&len.to_ne_bytes());
        self.buf.extend_from_slice(&ty.to_ne_bytes());
        self.buf.extend_from_slice(data);
        self.buf.resize(align4(self.buf.len()), 0);
        self
    }

    /// Appends a NUL-terminated string attribute.
    pub(crate) fn attr_str(&mut self, ty: u16, s: &str) -> &mut Self {
        let mut data = s.as_bytes().to_vec();
        data.push(0);
        self.attr(ty, &data)
    }

    /// Opens a nested attribute; close it with [`Message::end_nest`].
    pub(crate) fn begin_nest(&mut self, ty: u16) -> usize {
        let start = self.buf.len();
        self.attr(ty | NLA_F_NESTED as u16, &[]);
        start
    }

    /// Closes the nested attribute opened at `start`.
    pub(crate) fn end_nest(&mut self, start: usize) {
        let len = (self.buf.len() - start) as u16;
        if let Some(field) = self.buf.get_mut(start..start + 2) {
            field.copy_from_slice(&len.to_ne_bytes());
        }
    }

    fn finish(&mut self, seq: u32) -> &[u8] {
        let len = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&len.to_ne_bytes());
        self.buf[8..12].copy_from_slice(&seq.to_ne_bytes());
        &self.buf
    }
}

/// One received message: its type and payload (after the netlink header).
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) msg_type: u16,
    pub(crate) payload: Vec<u8>,
}

fn read_u16(buf: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(buf.get(at..at + 2)?.try_into().ok()?))
}

pub(crate) fn read_u32(buf: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(buf.get(at..at + 4)?.try_into().ok()?))
}

/// Iterates over `(type, payload)` of the attributes in `buf` (nested flag masked off).
pub(crate) fn attrs(buf: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    let mut at = 0usize;
    std::iter::from_fn(move || {
        let len = read_u16(buf, at)? as usize;
        let ty = read_u16(buf, at + 2)? & !(NLA_F_NESTED as u16 | 0x4000);
        if len < NLA_HDR_LEN {
            return None;
        }
        let payload = buf.get(at + NLA_HDR_LEN..at + len)?;
        at += align4(len);
        Some((ty, payload))
    })
}

/// Decodes a NUL-terminated string attribute.
pub(crate) fn attr_string(data: &[u8]) -> String {
    let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    String::from_utf8_lossy(data.get(..end).unwrap_or_default()).into_owned()
}

/// An open `NETLINK_ROUTE` socket with extended acks enabled.
#[derive(Debug)]
pub(crate) struct NetlinkSocket {
    fd: OwnedFd,
    seq: u32,
}

impl NetlinkSocket {
    /// Opens and binds a route netlink socket.
    pub(crate) fn open() -> Result<Self, SyscallError> {
        let req = NetlinkRequest::Socket;
        // SAFETY: plain socket(2) call; the result is checked before use.
        let raw = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                NETLINK_ROUTE as libc::c_int,
            )
        };
        if raw < 0 {
            return Err(sock_err(req));
        }
        // SAFETY: socket(2) just returned this fd and nobody else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        for opt in [NETLINK_EXT_ACK, NETLINK_CAP_ACK] {
            let on: libc::c_int = 1;
            // SAFETY: the option value is a live c_int and its exact size is passed.
            let ret = unsafe {
                libc::setsockopt(
                    fd.as_raw_fd(),
                    libc::SOL_NETLINK,
                    opt as libc::c_int,
                    (&raw const on).cast(),
                    size_of::<libc::c_int>() as libc::socklen_t,
                )
            };
            // Old kernels lack these options; errors then just lose the message text.
            let _ = ret;
        }
        // SAFETY: sockaddr_nl is plain data for which all-zero is valid.
        let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        // SAFETY: `addr` is a valid sockaddr_nl and its exact size is passed.
        let ret = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&raw const addr).cast(),
                size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        if ret < 0 {
            return Err(sock_err(req));
        }
        Ok(NetlinkSocket { fd, seq: 1 })
    }

    /// Sends `msg` and collects replies until the ack (or, for dumps, `NLMSG_DONE`).
    pub(crate) fn request(
        &mut self,
        req: NetlinkRequest,
        msg: &mut Message,
    ) -> Result<Vec<Reply>, SyscallError> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let flags = read_u16(&msg.buf, 6).unwrap_or(0) as u32;
        let is_dump = flags & NLM_F_DUMP == NLM_F_DUMP;
        let wants_ack = flags & NLM_F_ACK != 0;
        let bytes = msg.finish(seq);
        // SAFETY: `bytes` is a live buffer of the given length.
        let sent =
            unsafe { libc::send(self.fd.as_raw_fd(), bytes.as_ptr().cast(), bytes.len(), 0) };
        if sent < 0 {
            return Err(sock_err(req));
        }
        let mut replies = Vec::new();
        let mut buf = vec![0u8; RECV_BUF_LEN];
        loop {
            // SAFETY: `buf` is a live, writable buffer of the given length.
            let n =
                unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n < 0 {
                let e = sock_err(req);
                if e.errno() == Some(libc::EINTR) {
                    continue;
                }
                return Err(e);
            }
            if n == 0 {
                // A netlink socket never reaches end of file; don't spin if it somehow does.
                return Err(SyscallError::from_errno(Command::Netlink(req), libc::EIO));
            }
            let data = buf.get(..n as usize).unwrap_or_default();
            let mut at = 0usize;
            while let Some(len) = read_u32(data, at) {
                let len = len as usize;
                if len < NLMSG_HDR_LEN || at + len > data.len() {
                    break;
                }
                let msg_type = read_u16(data, at + 4).unwrap_or(0);
                let msg_flags = read_u16(data, at + 6).unwrap_or(0) as u32;
                let msg_seq = read_u32(data, at + 8).unwrap_or(0);
                let payload = data.get(at + NLMSG_HDR_LEN..at + len).unwrap_or_default();
                at += align4(len);
                if msg_seq != seq {
                    continue;
                }
                match msg_type as u32 {
                    NLMSG_ERROR => {
                        let errno = read_u32(payload, 0).unwrap_or(0) as i32;
                        if errno == 0 {
                            if !is_dump {
                                return Ok(replies);
                            }
                            continue;
                        }
                        return Err(ack_error(req, -errno, msg_flags, payload));
                    }
                    NLMSG_DONE => {
                        let errno = read_u32(payload, 0).map_or(0, |e| e as i32);
                        if errno < 0 {
                            return Err(ack_error(req, -errno, msg_flags, payload));
                        }
                        return Ok(replies);
                    }
                    _ => {
                        replies.push(Reply {
                            msg_type,
                            payload: payload.to_vec(),
                        });
                        if !is_dump && !wants_ack {
                            return Ok(replies);
                        }
                    }
                }
            }
        }
    }
}

/// Builds the error for a negative ack, with the extended-ack text when the kernel sent one.
fn ack_error(req: NetlinkRequest, errno: i32, flags: u32, payload: &[u8]) -> SyscallError {
    let command = Command::Netlink(req);
    let message = if flags & NLM_F_ACK_TLVS != 0 {
        // With NETLINK_CAP_ACK the TLVs follow the error code and the original header only.
        let tlvs = payload.get(4 + NLMSG_HDR_LEN..).unwrap_or_default();
        attrs(tlvs)
            .find(|&(ty, _)| ty == NLMSGERR_ATTR_MSG)
            .map(|(_, data)| attr_string(data))
    } else {
        None
    };
    match message {
        Some(message) if !message.is_empty() => SyscallError {
            command,
            io_error: NetlinkAck { errno, message }.into_io_error(),
        },
        _ => SyscallError {
            command,
            io_error: io::Error::from_raw_os_error(errno),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_round_trip_and_truncation_is_harmless() {
        let mut msg = Message::new(RTM_GETLINK, 0, &[0u8; 16]);
        msg.attr(7, &5u32.to_ne_bytes());
        let nest = msg.begin_nest(9);
        msg.attr_str(1, "abc");
        msg.end_nest(nest);
        let body = msg.buf[NLMSG_HDR_LEN + 16..].to_vec();
        let parsed: Vec<(u16, Vec<u8>)> = attrs(&body).map(|(t, d)| (t, d.to_vec())).collect();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0], (7, 5u32.to_ne_bytes().to_vec()));
        assert_eq!(parsed[1].0, 9);
        let inner: Vec<(u16, String)> = attrs(&parsed[1].1)
            .map(|(t, d)| (t, attr_string(d)))
            .collect();
        assert_eq!(inner, vec![(1, "abc".to_string())]);
        for cut in 0..body.len() {
            assert!(attrs(&body[..cut]).count() <= 2);
        }
        assert_eq!(attrs(&[0xff, 0xff, 1, 0]).count(), 0);
    }

    #[test]
    fn error_ack_carries_the_extended_message() {
        let mut payload = (-libc::EEXIST).to_ne_bytes().to_vec();
        payload.extend_from_slice(&[0u8; NLMSG_HDR_LEN]);
        let mut tlv = Message::new(0, 0, &[]);
        tlv.attr_str(NLMSGERR_ATTR_MSG, "already there");
        payload.extend_from_slice(&tlv.buf[NLMSG_HDR_LEN..]);
        let err = ack_error(
            NetlinkRequest::SetLink,
            libc::EEXIST,
            NLM_F_ACK_TLVS,
            &payload,
        );
        assert_eq!(err.errno(), Some(libc::EEXIST));
        assert_eq!(err.io_error.kind(), io::ErrorKind::AlreadyExists);
        assert!(err.to_string().ends_with(": already there"), "{err}");
        let plain = ack_error(NetlinkRequest::SetLink, libc::EEXIST, 0, &payload);
        assert_eq!(plain.io_error.raw_os_error(), Some(libc::EEXIST));
    }
}
