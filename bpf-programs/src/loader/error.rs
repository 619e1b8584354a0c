//! [`BpfError`]: why an object could not be opened or its maps created.

use std::path::PathBuf;

use bpf_core::obj::{ParseError, SetGlobalError};

use crate::maps::MapError;

/// Why an object could not be opened.
///
/// `Map` and `SetGlobal` display as their source does (it names the map or variable), so a
/// printed chain says it once.
#[derive(Debug)]
#[non_exhaustive]
pub enum BpfError {
    Read {
        path: PathBuf,
        source: std::io::Error,
    },

    Parse(ParseError),

    SetGlobal {
        name: String,
        source: SetGlobalError,
    },

    NoSuchMap {
        name: String,
    },

    Map {
        name: String,
        source: MapError,
    },

    MapSlot {
        map: String,
        index: u32,
        target: String,
        reason: String,
    },

    DupFd {
        name: String,
        source: std::io::Error,
    },
}

impl std::fmt::Display for BpfError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BpfError::Read { path, .. } => write!(f, "reading {}", path.display()),
            BpfError::Parse(_) => f.write_str("parsing the object"),
            BpfError::SetGlobal { source, .. } => source.fmt(f),
            BpfError::NoSuchMap { name } => {
                write!(
                    f,
                    "no map `{name}` in the object (a loader setting names it)"
                )
            }
            BpfError::Map { source, .. } => source.fmt(f),
            BpfError::MapSlot {
                map,
                index,
                target,
                reason,
            } => write!(
                f,
                "initialising slot {index} of map `{map}` with map `{target}`: {reason}"
            ),
            BpfError::DupFd { name, .. } => write!(f, "duplicating the fd of map `{name}`"),
        }
    }
}

impl std::error::Error for BpfError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BpfError::Read { source, .. } | BpfError::DupFd { source, .. } => Some(source),
            BpfError::Parse(source) => Some(source),
            BpfError::SetGlobal { source, .. } => source.source(),
            BpfError::Map { source, .. } => source.source(),
            BpfError::NoSuchMap { .. } | BpfError::MapSlot { .. } => None,
        }
    }
}

impl From<ParseError> for BpfError {
    fn from(error: ParseError) -> BpfError {
        BpfError::Parse(error)
    }
}
