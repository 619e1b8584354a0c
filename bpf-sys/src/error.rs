//! Error types: which call failed and with which errno, plus the verifier log for loads.

use std::fmt;
use std::io;

macro_rules! bpf_commands {
    ($($variant:ident => $cmd:ident),* $(,)?) => {
        /// A bpf(2) command, named after its `BPF_*` constant.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum BpfCommand {
            $(
                #[doc = concat!("`", stringify!($cmd), "`")]
                $variant,
            )*
        }

        impl BpfCommand {
            /// The kernel's command number.
            pub fn raw(self) -> crate::generated::bpf_cmd::Type {
                match self {
                    $(Self::$variant => crate::generated::bpf_cmd::$cmd,)*
                }
            }

            /// The command's C name, e.g. `BPF_MAP_CREATE`.
            pub fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => stringify!($cmd),)*
                }
            }
        }
    };
}

bpf_commands! {
    MapCreate => BPF_MAP_CREATE,
    MapLookupElem => BPF_MAP_LOOKUP_ELEM,
    MapUpdateElem => BPF_MAP_UPDATE_ELEM,
    MapDeleteElem => BPF_MAP_DELETE_ELEM,
    MapGetNextKey => BPF_MAP_GET_NEXT_KEY,
    ProgLoad => BPF_PROG_LOAD,
    ObjPin => BPF_OBJ_PIN,
    ObjGet => BPF_OBJ_GET,
    ProgAttach => BPF_PROG_ATTACH,
    ProgDetach => BPF_PROG_DETACH,
    ProgTestRun => BPF_PROG_TEST_RUN,
    ProgGetNextId => BPF_PROG_GET_NEXT_ID,
    MapGetNextId => BPF_MAP_GET_NEXT_ID,
    ProgGetFdById => BPF_PROG_GET_FD_BY_ID,
    MapGetFdById => BPF_MAP_GET_FD_BY_ID,
    ObjGetInfoByFd => BPF_OBJ_GET_INFO_BY_FD,
    ProgQuery => BPF_PROG_QUERY,
    RawTracepointOpen => BPF_RAW_TRACEPOINT_OPEN,
    BtfLoad => BPF_BTF_LOAD,
    BtfGetFdById => BPF_BTF_GET_FD_BY_ID,
    TaskFdQuery => BPF_TASK_FD_QUERY,
    MapLookupAndDeleteElem => BPF_MAP_LOOKUP_AND_DELETE_ELEM,
    MapFreeze => BPF_MAP_FREEZE,
    BtfGetNextId => BPF_BTF_GET_NEXT_ID,
    MapLookupBatch => BPF_MAP_LOOKUP_BATCH,
    MapLookupAndDeleteBatch => BPF_MAP_LOOKUP_AND_DELETE_BATCH,
    MapUpdateBatch => BPF_MAP_UPDATE_BATCH,
    MapDeleteBatch => BPF_MAP_DELETE_BATCH,
    LinkCreate => BPF_LINK_CREATE,
    LinkUpdate => BPF_LINK_UPDATE,
    LinkGetFdById => BPF_LINK_GET_FD_BY_ID,
    LinkGetNextId => BPF_LINK_GET_NEXT_ID,
    EnableStats => BPF_ENABLE_STATS,
    IterCreate => BPF_ITER_CREATE,
    LinkDetach => BPF_LINK_DETACH,
    ProgBindMap => BPF_PROG_BIND_MAP,
    TokenCreate => BPF_TOKEN_CREATE,
}

/// A `PERF_EVENT_IOC_*` ioctl.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PerfEventIoctl {
    /// `PERF_EVENT_IOC_ENABLE`
    Enable,
    /// `PERF_EVENT_IOC_DISABLE`
    Disable,
    /// `PERF_EVENT_IOC_SET_BPF`
    SetBpf,
    /// `PERF_EVENT_IOC_QUERY_BPF`
    QueryBpf,
}

/// An rtnetlink request (or the socket setup before it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NetlinkRequest {
    /// Opening, binding or configuring the `NETLINK_ROUTE` socket.
    Socket,
    /// `RTM_GETLINK`
    GetLink,
    /// `RTM_SETLINK`
    SetLink,
    /// `RTM_NEWLINK`
    NewLink,
    /// `RTM_DELLINK`
    DelLink,
    /// `RTM_NEWQDISC`
    NewQdisc,
    /// `RTM_DELQDISC`
    DelQdisc,
    /// `RTM_NEWTFILTER`
    NewFilter,
    /// `RTM_DELTFILTER`
    DelFilter,
    /// `RTM_GETTFILTER`
    GetFilter,
}

/// A socket option set by the socket helpers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SocketOption {
    /// `SO_ATTACH_BPF`
    AttachBpf,
    /// `SO_DETACH_BPF`
    DetachBpf,
    /// `SO_ATTACH_REUSEPORT_EBPF`
    AttachReuseportEbpf,
}

/// The system call (or request) that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Command {
    /// A bpf(2) command.
    Bpf(BpfCommand),
    /// perf_event_open(2).
    PerfEventOpen,
    /// An ioctl on a perf event fd.
    PerfEventIoctl(PerfEventIoctl),
    /// An rtnetlink request.
    Netlink(NetlinkRequest),
    /// setsockopt(2) with a BPF socket option.
    Setsockopt(SocketOption),
    /// mmap(2) of a map fd.
    Mmap,
    /// if_nametoindex(3).
    IfNameToIndex,
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::Bpf(cmd) => write!(f, "bpf({})", cmd.name()),
            Command::PerfEventOpen => f.write_str("perf_event_open"),
            Command::PerfEventIoctl(ioctl) => {
                let name = match ioctl {
                    PerfEventIoctl::Enable => "PERF_EVENT_IOC_ENABLE",
                    PerfEventIoctl::Disable => "PERF_EVENT_IOC_DISABLE",
                    PerfEventIoctl::SetBpf => "PERF_EVENT_IOC_SET_BPF",
                    PerfEventIoctl::QueryBpf => "PERF_EVENT_IOC_QUERY_BPF",
                };
                write!(f, "ioctl({name})")
            }
            Command::Netlink(req) => {
                let name = match req {
                    NetlinkRequest::Socket => "socket",
                    NetlinkRequest::GetLink => "RTM_GETLINK",
                    NetlinkRequest::SetLink => "RTM_SETLINK",
                    NetlinkRequest::NewLink => "RTM_NEWLINK",
                    NetlinkRequest::DelLink => "RTM_DELLINK",
                    NetlinkRequest::NewQdisc => "RTM_NEWQDISC",
                    NetlinkRequest::DelQdisc => "RTM_DELQDISC",
                    NetlinkRequest::NewFilter => "RTM_NEWTFILTER",
                    NetlinkRequest::DelFilter => "RTM_DELTFILTER",
                    NetlinkRequest::GetFilter => "RTM_GETTFILTER",
                };
                write!(f, "netlink({name})")
            }
            Command::Setsockopt(opt) => {
                let name = match opt {
                    SocketOption::AttachBpf => "SO_ATTACH_BPF",
                    SocketOption::DetachBpf => "SO_DETACH_BPF",
                    SocketOption::AttachReuseportEbpf => "SO_ATTACH_REUSEPORT_EBPF",
                };
                write!(f, "setsockopt({name})")
            }
            Command::Mmap => f.write_str("mmap"),
            Command::IfNameToIndex => f.write_str("if_nametoindex"),
        }
    }
}

impl From<BpfCommand> for Command {
    fn from(cmd: BpfCommand) -> Self {
        Command::Bpf(cmd)
    }
}

/// A failed system call: which one, and the OS error it returned.
#[derive(Debug, thiserror::Error)]
#[error("{command} failed: {io_error}")]
pub struct SyscallError {
    /// The call that failed.
    pub command: Command,
    /// The error; `io_error.raw_os_error()` is the errno.
    pub io_error: io::Error,
}

impl SyscallError {
    /// Builds an error from `command` and the current `errno`.
    pub fn last_os_error(command: impl Into<Command>) -> Self {
        SyscallError {
            command: command.into(),
            io_error: io::Error::last_os_error(),
        }
    }

    /// Builds an error from `command` and an errno value.
    pub fn from_errno(command: impl Into<Command>, errno: i32) -> Self {
        SyscallError {
            command: command.into(),
            io_error: io::Error::from_raw_os_error(errno),
        }
    }

    /// The errno, if the error came from the kernel (including netlink error acks).
    pub fn errno(&self) -> Option<i32> {
        self.io_error.raw_os_error().or_else(|| {
            self.io_error
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<NetlinkAck>())
                .map(|ack| ack.errno)
        })
    }
}

/// A netlink error ack that came with an extended-ack message; lives inside
/// [`SyscallError::io_error`] (see [`SyscallError::errno`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetlinkAck {
    /// The errno the kernel returned.
    pub errno: i32,
    /// The kernel's human-readable explanation.
    pub message: String,
}

impl fmt::Display for NetlinkAck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}",
            io::Error::from_raw_os_error(self.errno),
            self.message
        )
    }
}

impl std::error::Error for NetlinkAck {}

impl NetlinkAck {
    /// Wraps the ack in an `io::Error` of the errno's kind.
    pub(crate) fn into_io_error(self) -> io::Error {
        let kind = io::Error::from_raw_os_error(self.errno).kind();
        io::Error::new(kind, self)
    }
}

/// A verifier (or BTF) log, decoded as lossy UTF-8.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifierLog {
    /// The log text, without trailing NULs.
    pub text: String,
    /// True if the kernel had more to say than the largest buffer we offered.
    pub truncated: bool,
}

impl VerifierLog {
    /// Decodes a log buffer up to its first NUL.
    pub(crate) fn from_buf(buf: &[u8], truncated: bool) -> Self {
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        let text = String::from_utf8_lossy(buf.get(..end).unwrap_or_default())
            .trim_end()
            .to_owned();
        VerifierLog { text, truncated }
    }

    /// True if the kernel wrote nothing.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
}

impl fmt::Display for VerifierLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)?;
        if self.truncated {
            f.write_str("\n[verifier log truncated]")?;
        }
        Ok(())
    }
}

/// A failed `BPF_PROG_LOAD` or `BPF_BTF_LOAD`, with the log the kernel wrote.
#[derive(Debug, thiserror::Error)]
#[error("{command} failed: {io_error}{}", log_suffix(verifier_log))]
pub struct LoadError {
    /// `Bpf(ProgLoad)` or `Bpf(BtfLoad)`.
    pub command: Command,
    /// The error; `io_error.raw_os_error()` is the errno.
    pub io_error: io::Error,
    /// What the verifier said (may be empty, e.g. for EPERM).
    pub verifier_log: VerifierLog,
}

/// A failed program load, with its verifier log.
pub type ProgLoadError = LoadError;
/// A failed BTF load, with its log.
pub type BtfLoadError = LoadError;

impl LoadError {
    /// The errno, if the error came from the kernel.
    pub fn errno(&self) -> Option<i32> {
        self.io_error.raw_os_error()
    }
}

/// Lines of a long verifier log shown in the error's message; the rejection is at its end.
const LOG_TAIL_LINES: usize = 40;

fn log_suffix(log: &VerifierLog) -> String {
    if log.is_empty() {
        return String::new();
    }
    let lines: Vec<&str> = log.text.lines().collect();
    if lines.len() <= LOG_TAIL_LINES {
        return format!("\nverifier log:\n{log}");
    }
    let tail = lines[lines.len() - LOG_TAIL_LINES..].join("\n");
    let truncated = if log.truncated {
        "\n[verifier log truncated]"
    } else {
        ""
    };
    format!(
        "\nverifier log (last {LOG_TAIL_LINES} of {} lines; the whole log is in the error's \
         verifier_log):\n{tail}{truncated}",
        lines.len()
    )
}

impl From<LoadError> for SyscallError {
    fn from(e: LoadError) -> Self {
        SyscallError {
            command: e.command,
            io_error: e.io_error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(lines: usize) -> VerifierLog {
        let text: Vec<String> = (0..lines).map(|i| format!("line {i}")).collect();
        VerifierLog::from_buf(text.join("\n").as_bytes(), false)
    }

    #[test]
    fn short_logs_are_shown_whole_long_ones_by_their_end() {
        assert_eq!(log_suffix(&log(0)), "");
        let short = log_suffix(&log(3));
        assert!(
            short.contains("line 0") && short.contains("line 2"),
            "{short}"
        );
        let long = log_suffix(&log(500));
        assert!(long.contains("last 40 of 500 lines"), "{long}");
        assert!(
            long.contains("line 499") && long.contains("line 460"),
            "{long}"
        );
        assert!(!long.contains("line 459\n"), "{long}");
    }
}
