//! Records of `bpf_log.h` (logging from BPF programs written in C), decoded without a kernel.
//!
//! Each `bpf_log_*()` call site has a descriptor in the object's `.bpf_log` section: level,
//! argument kinds and the printf format. A record in the ring buffer is the site's offset in
//! that section (8 bytes) followed by one slot per argument. [`LogSites::parse`] reads and
//! checks every site once; [`LogSites::format_record`] turns a record into text.

mod format;
mod printk;

use std::collections::HashMap;

pub use format::{ArgValue, Conversion, FormatError, Piece, Spec, parse_format, render};
pub use printk::PrintkFormat;

/// The ELF section holding the site descriptors.
pub const LOG_SECTION: &str = ".bpf_log";
/// The ring buffer map the header declares.
pub const LOG_RINGBUF: &str = "bpf_log_events";
/// The `const volatile` run-time level the header declares.
pub const LOG_LEVEL_GLOBAL: &str = "bpf_log_level";
/// The `.bss` counter of records lost to a full ring buffer.
pub const LOG_DROPPED_GLOBAL: &str = "bpf_log_dropped";

const MAGIC: &[u8; 6] = b"BPFLOG";
const VERSION: u8 = 1;
const HEADER_LEN: usize = 16;
const MAX_ARGS: usize = 12;
/// level, nargs, kinds[12].
const SITE_FIXED_LEN: usize = 2 + MAX_ARGS;
const RECORD_HEADER_LEN: usize = 8;

/// The `.bpf_log` section as the object holds it: its bytes and the site symbols in it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogSection {
    pub data: Vec<u8>,
    /// `(offset, symbol name)` of each descriptor: `<function>.__bpf_log_site[.N]`.
    pub symbols: Vec<(u64, String)>,
}

/// How an argument was written into a record (the header's `__BPF_LOG_*` kinds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    Pointer,
    KernelStr,
    UserStr,
    Ipv4,
    Ipv6,
    Mac,
    Hex,
}

impl ArgKind {
    fn from_raw(raw: u8) -> Option<ArgKind> {
        use ArgKind::*;
        Some(match raw {
            1 => I8,
            2 => I16,
            3 => I32,
            4 => I64,
            5 => U8,
            6 => U16,
            7 => U32,
            8 => U64,
            9 => Pointer,
            10 => KernelStr,
            11 => UserStr,
            12 => Ipv4,
            13 => Ipv6,
            14 => Mac,
            15 => Hex,
            _ => return None,
        })
    }

    /// Bytes the argument takes in a record.
    fn slot_len(self, str_max: usize, hex_max: usize) -> usize {
        match self {
            ArgKind::KernelStr | ArgKind::UserStr => 8 + str_max,
            ArgKind::Ipv6 => 24,
            ArgKind::Mac => 16,
            ArgKind::Hex => 8 + hex_max,
            _ => 8,
        }
    }

    fn is_integer(self) -> bool {
        use ArgKind::*;
        matches!(self, I8 | I16 | I32 | I64 | U8 | U16 | U32 | U64)
    }

    /// Whether a conversion can print an argument of this kind.
    fn fits(self, conversion: Conversion) -> bool {
        use Conversion as C;
        match conversion {
            C::Signed | C::Unsigned | C::LowerHex | C::UpperHex | C::Char => self.is_integer(),
            C::Pointer => matches!(self, ArgKind::Pointer | ArgKind::U64 | ArgKind::I64),
            C::Str => matches!(self, ArgKind::KernelStr | ArgKind::UserStr),
            C::Ipv4 => matches!(self, ArgKind::Ipv4 | ArgKind::U32),
            C::Ipv6 => self == ArgKind::Ipv6,
            C::Mac => self == ArgKind::Mac,
            C::Hex => self == ArgKind::Hex,
        }
    }

    fn c_name(self) -> &'static str {
        use ArgKind::*;
        match self {
            I8 => "a char",
            I16 => "a short",
            I32 => "an int",
            I64 => "a long",
            U8 => "an unsigned char",
            U16 => "an unsigned short",
            U32 => "an unsigned int",
            U64 => "an unsigned long",
            Pointer => "a pointer",
            KernelStr => "a char pointer",
            UserStr => "bpf_log_ustr()",
            Ipv4 => "bpf_log_ipv4()",
            Ipv6 => "bpf_log_ipv6()",
            Mac => "bpf_log_mac()",
            Hex => "bpf_log_hex()",
        }
    }
}

/// A log level as the header numbers them (1 = error … 5 = trace).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Error = 1,
    Warn = 2,
    Info = 3,
    Debug = 4,
    Trace = 5,
}

impl LogLevel {
    fn from_raw(raw: u8) -> Option<LogLevel> {
        Some(match raw {
            1 => LogLevel::Error,
            2 => LogLevel::Warn,
            3 => LogLevel::Info,
            4 => LogLevel::Debug,
            5 => LogLevel::Trace,
            _ => return None,
        })
    }

    /// The `log` crate's level.
    pub fn to_log(self) -> log::Level {
        match self {
            LogLevel::Error => log::Level::Error,
            LogLevel::Warn => log::Level::Warn,
            LogLevel::Info => log::Level::Info,
            LogLevel::Debug => log::Level::Debug,
            LogLevel::Trace => log::Level::Trace,
        }
    }
}

/// One `bpf_log_*()` call site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSite {
    /// Offset of the descriptor in the section (what records carry).
    pub offset: u32,
    pub level: LogLevel,
    /// The C function holding the call (the program's name when called from its body).
    pub function: String,
    /// The format as written.
    pub format: String,
    pieces: Vec<Piece>,
    kinds: Vec<ArgKind>,
    record_len: usize,
}

impl LogSite {
    /// The argument kinds, in order.
    pub fn kinds(&self) -> &[ArgKind] {
        &self.kinds
    }

    /// The exact length of this site's records.
    pub fn record_len(&self) -> usize {
        self.record_len
    }
}

/// Why a `.bpf_log` section or one of its sites cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogSectionError {
    #[error(
        "`.bpf_log` does not start with the bpf_log.h header (magic `BPFLOG`, version {VERSION})"
    )]
    Header,
    #[error("`.bpf_log` site at offset {offset}: {reason}")]
    Malformed { offset: usize, reason: String },
    #[error("bpf_log call in `{function}` with format {format:?}: {reason}")]
    Site {
        function: String,
        format: String,
        reason: String,
    },
}

/// Why a record could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("record of {len} bytes is shorter than its 8-byte header")]
    Short { len: usize },
    #[error("record names site offset {offset}, which is no bpf_log call site of this object")]
    UnknownSite { offset: u64 },
    #[error(
        "record of {len} bytes for the call in `{function}` ({format:?}), whose records are {expected} bytes"
    )]
    Length {
        function: String,
        format: String,
        len: usize,
        expected: usize,
    },
}

/// Every call site of an object, checked against its format.
#[derive(Debug, Clone)]
pub struct LogSites {
    sites: HashMap<u32, LogSite>,
    str_max: usize,
    hex_max: usize,
}

impl LogSites {
    /// Reads the section header and every site, checking each format against its arguments.
    pub fn parse(section: &LogSection) -> Result<LogSites, LogSectionError> {
        let data = &section.data;
        let header = data.get(..HEADER_LEN).ok_or(LogSectionError::Header)?;
        if &header[..6] != MAGIC || header[6] != VERSION {
            return Err(LogSectionError::Header);
        }
        let str_max = u32::from_ne_bytes([header[8], header[9], header[10], header[11]]) as usize;
        let hex_max = u32::from_ne_bytes([header[12], header[13], header[14], header[15]]) as usize;
        if str_max > 1 << 16 || hex_max > 1 << 16 {
            return Err(LogSectionError::Header);
        }
        let functions: HashMap<u64, &str> = section
            .symbols
            .iter()
            .map(|(offset, name)| (*offset, name.split('.').next().unwrap_or(name)))
            .collect();
        let mut sites = HashMap::new();
        let mut offset = HEADER_LEN;
        loop {
            // Descriptors are byte-aligned; zeros between them are padding (levels are ≥ 1).
            while data.get(offset) == Some(&0) {
                offset += 1;
            }
            if offset >= data.len() {
                break;
            }
            let site = parse_site(data, offset, &functions, str_max, hex_max)?;
            let next = offset + SITE_FIXED_LEN + site.format.len() + 1;
            sites.insert(site.offset, site);
            offset = next;
        }
        Ok(LogSites {
            sites,
            str_max,
            hex_max,
        })
    }

    /// The site at `offset`.
    pub fn site(&self, offset: u32) -> Option<&LogSite> {
        self.sites.get(&offset)
    }

    /// Every site, in no particular order.
    pub fn sites(&self) -> impl Iterator<Item = &LogSite> {
        self.sites.values()
    }

    /// Bytes kept of a `%s` argument (`BPF_LOG_STR_MAX`).
    pub fn str_max(&self) -> usize {
        self.str_max
    }

    /// Bytes kept of a `%ph` argument (`BPF_LOG_HEX_MAX`).
    pub fn hex_max(&self) -> usize {
        self.hex_max
    }

    /// The site a record comes from, after checking the record's length against it.
    pub fn site_of(&self, record: &[u8]) -> Result<&LogSite, RecordError> {
        let header = record
            .get(..RECORD_HEADER_LEN)
            .ok_or(RecordError::Short { len: record.len() })?;
        let offset = u64::from_ne_bytes(header.try_into().unwrap_or_default());
        let site = u32::try_from(offset)
            .ok()
            .and_then(|o| self.sites.get(&o))
            .ok_or(RecordError::UnknownSite { offset })?;
        if record.len() != site.record_len {
            return Err(RecordError::Length {
                function: site.function.clone(),
                format: site.format.clone(),
                len: record.len(),
                expected: site.record_len,
            });
        }
        Ok(site)
    }

    /// Writes the record's text to `out` (cleared first) and returns its site.
    pub fn format_record(&self, record: &[u8], out: &mut String) -> Result<&LogSite, RecordError> {
        out.clear();
        let site = self.site_of(record)?;
        let mut pos = RECORD_HEADER_LEN;
        let mut kinds = site.kinds.iter();
        for piece in &site.pieces {
            match piece {
                Piece::Literal(text) => out.push_str(text),
                Piece::Spec(spec) => {
                    // Sites were checked at parse: one kind per spec, records are full length.
                    let Some(&kind) = kinds.next() else { break };
                    let len = kind.slot_len(self.str_max, self.hex_max);
                    let slot = &record[pos..pos + len];
                    pos += len;
                    render(out, spec, decode_arg(kind, spec.conversion, slot));
                }
            }
        }
        Ok(site)
    }
}

fn parse_site(
    data: &[u8],
    offset: usize,
    functions: &HashMap<u64, &str>,
    str_max: usize,
    hex_max: usize,
) -> Result<LogSite, LogSectionError> {
    let malformed = |reason: String| LogSectionError::Malformed { offset, reason };
    let fixed = data
        .get(offset..offset + SITE_FIXED_LEN)
        .ok_or_else(|| malformed("truncated descriptor".into()))?;
    let level = LogLevel::from_raw(fixed[0])
        .ok_or_else(|| malformed(format!("level {} is not 1..=5", fixed[0])))?;
    let nargs = usize::from(fixed[1]);
    if nargs > MAX_ARGS {
        return Err(malformed(format!("{nargs} arguments, at most {MAX_ARGS}")));
    }
    let rest = &data[offset + SITE_FIXED_LEN..];
    let end = rest
        .iter()
        .position(|&b| b == 0)
        .ok_or_else(|| malformed("format is not NUL-terminated".into()))?;
    let format = std::str::from_utf8(&rest[..end])
        .map_err(|_| malformed("format is not UTF-8".into()))?
        .to_owned();
    let function = functions
        .get(&(offset as u64))
        .map_or_else(|| "<unknown function>".to_owned(), |f| (*f).to_owned());
    let site_error = |reason: String| LogSectionError::Site {
        function: function.clone(),
        format: format.clone(),
        reason,
    };
    let mut kinds = Vec::with_capacity(nargs);
    for (n, &raw) in fixed[2..2 + nargs].iter().enumerate() {
        kinds.push(
            ArgKind::from_raw(raw)
                .ok_or_else(|| site_error(format!("argument {} has unknown kind {raw}", n + 1)))?,
        );
    }
    let pieces = parse_format(&format).map_err(|e| site_error(e.to_string()))?;
    let specs: Vec<&Spec> = pieces
        .iter()
        .filter_map(|p| match p {
            Piece::Spec(s) => Some(s),
            Piece::Literal(_) => None,
        })
        .collect();
    if specs.len() != kinds.len() {
        return Err(site_error(format!(
            "{} conversions but {} arguments",
            specs.len(),
            kinds.len()
        )));
    }
    for (n, (spec, kind)) in specs.iter().zip(&kinds).enumerate() {
        if !kind.fits(spec.conversion) {
            return Err(site_error(format!(
                "argument {} is {}, which {} cannot print",
                n + 1,
                kind.c_name(),
                conversion_name(spec.conversion)
            )));
        }
    }
    let record_len = RECORD_HEADER_LEN
        + kinds
            .iter()
            .map(|k| k.slot_len(str_max, hex_max))
            .sum::<usize>();
    Ok(LogSite {
        offset: offset as u32,
        level,
        function,
        format,
        pieces,
        kinds,
        record_len,
    })
}

fn conversion_name(conversion: Conversion) -> &'static str {
    use Conversion as C;
    match conversion {
        C::Signed => "%d",
        C::Unsigned => "%u",
        C::LowerHex => "%x",
        C::UpperHex => "%X",
        C::Char => "%c",
        C::Pointer => "%p",
        C::Str => "%s",
        C::Ipv4 => "%pI4",
        C::Ipv6 => "%pI6",
        C::Mac => "%pM",
        C::Hex => "%ph",
    }
}

fn le_u64(slot: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&slot[..8]);
    u64::from_ne_bytes(word)
}

/// Reads one argument's slot; integers keep their C width and signedness.
fn decode_arg(kind: ArgKind, conversion: Conversion, slot: &[u8]) -> ArgValue<'_> {
    let raw = le_u64(slot);
    let signed = match kind {
        ArgKind::I8 => Some(i64::from(raw as u8 as i8)),
        ArgKind::I16 => Some(i64::from(raw as u16 as i16)),
        ArgKind::I32 => Some(i64::from(raw as u32 as i32)),
        ArgKind::I64 => Some(raw as i64),
        _ => None,
    };
    let unsigned = match kind {
        ArgKind::U8 | ArgKind::I8 => raw & 0xff,
        ArgKind::U16 | ArgKind::I16 => raw & 0xffff,
        ArgKind::U32 | ArgKind::I32 => raw & 0xffff_ffff,
        _ => raw,
    };
    let status = raw as i64;
    let data = &slot[8..];
    match kind {
        ArgKind::KernelStr | ArgKind::UserStr => {
            if status < 0 {
                return ArgValue::Fault(status);
            }
            let bytes = &data[..(status as usize).min(data.len())];
            let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
            ArgValue::Str(&bytes[..end])
        }
        ArgKind::Ipv6 if status < 0 => ArgValue::Fault(status),
        ArgKind::Ipv6 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(&data[..16]);
            ArgValue::Ipv6(a)
        }
        ArgKind::Mac if status < 0 => ArgValue::Fault(status),
        ArgKind::Mac => {
            let mut m = [0u8; 6];
            m.copy_from_slice(&data[..6]);
            ArgValue::Mac(m)
        }
        ArgKind::Hex if status < 0 => ArgValue::Fault(status),
        ArgKind::Hex => ArgValue::Bytes(&data[..(status as usize).min(data.len())]),
        ArgKind::Ipv4 => {
            let b = (raw as u32).to_ne_bytes();
            ArgValue::Ipv4(b)
        }
        ArgKind::Pointer => ArgValue::Pointer(raw),
        _ if conversion == Conversion::Ipv4 => ArgValue::Ipv4((raw as u32).to_ne_bytes()),
        _ if conversion == Conversion::Pointer => ArgValue::Pointer(raw),
        _ => match (conversion, signed) {
            (Conversion::Signed, Some(v)) => ArgValue::Signed(v),
            (Conversion::Signed, None) => ArgValue::Signed(unsigned as i64),
            _ => ArgValue::Unsigned(unsigned),
        },
    }
}

#[cfg(test)]
mod tests;
