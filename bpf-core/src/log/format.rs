//! printf-style formats of `bpf_log.h` call sites: parsed once per site, rendered per record.

use std::fmt::Write;

/// What a conversion prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conversion {
    /// `%d`, `%i`.
    Signed,
    /// `%u`.
    Unsigned,
    /// `%x`.
    LowerHex,
    /// `%X`.
    UpperHex,
    /// `%c`.
    Char,
    /// `%p`.
    Pointer,
    /// `%s`.
    Str,
    /// `%pI4`.
    Ipv4,
    /// `%pI6`.
    Ipv6,
    /// `%pM`.
    Mac,
    /// `%ph`.
    Hex,
}

/// One `%…` of a format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    pub conversion: Conversion,
    /// `-`: pad on the right.
    pub left: bool,
    /// `0`: pad numbers with zeros.
    pub zero: bool,
    /// `+`: a sign on non-negative numbers too.
    pub plus: bool,
    /// ` `: a space before non-negative numbers.
    pub space: bool,
    /// `#`: `0x` before hex numbers.
    pub alternate: bool,
    pub width: usize,
    /// For `%s`: at most this many characters.
    pub precision: Option<usize>,
}

/// A literal run of the format (byte range) or a conversion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Literal(String),
    Spec(Spec),
}

/// A format the parser refuses, with the byte where it went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at byte {position}: {reason}")]
pub struct FormatError {
    pub position: usize,
    pub reason: String,
}

/// Splits `format` into literal runs and conversions (`%%` becomes a literal `%`).
pub fn parse_format(format: &str) -> Result<Vec<Piece>, FormatError> {
    let bytes = format.as_bytes();
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut i = 0;
    let mut run_start = 0;
    while i < bytes.len() {
        if bytes[i] != b'%' {
            i += 1;
            continue;
        }
        literal.push_str(&format[run_start..i]);
        if bytes.get(i + 1) == Some(&b'%') {
            literal.push('%');
            i += 2;
            run_start = i;
            continue;
        }
        let (spec, end) = parse_spec(format, i)?;
        i = end;
        run_start = i;
        if !literal.is_empty() {
            pieces.push(Piece::Literal(std::mem::take(&mut literal)));
        }
        pieces.push(Piece::Spec(spec));
    }
    literal.push_str(&format[run_start..]);
    if !literal.is_empty() {
        pieces.push(Piece::Literal(literal));
    }
    Ok(pieces)
}

/// The conversion spec at `format[start]` (a `%`): flags, width, precision, length modifiers
/// and the conversion. Returns the spec and the byte after it.
fn parse_spec(format: &str, start: usize) -> Result<(Spec, usize), FormatError> {
    let bytes = format.as_bytes();
    let error = |position: usize, reason: &str| FormatError {
        position,
        reason: reason.to_owned(),
    };
    let mut i = start + 1;
    let mut spec = Spec {
        conversion: Conversion::Signed,
        left: false,
        zero: false,
        plus: false,
        space: false,
        alternate: false,
        width: 0,
        precision: None,
    };
    while let Some(&flag) = bytes.get(i) {
        match flag {
            b'-' => spec.left = true,
            b'0' => spec.zero = true,
            b'+' => spec.plus = true,
            b' ' => spec.space = true,
            b'#' => spec.alternate = true,
            _ => break,
        }
        i += 1;
    }
    spec.width = read_number(bytes, &mut i).ok_or_else(|| error(i, "width is too large"))?;
    if bytes.get(i) == Some(&b'.') {
        i += 1;
        spec.precision =
            Some(read_number(bytes, &mut i).ok_or_else(|| error(i, "precision is too large"))?);
    }
    // Length modifiers describe C varargs; records carry each argument's real width.
    while matches!(bytes.get(i), Some(b'h' | b'l' | b'z' | b'j' | b't')) {
        i += 1;
    }
    let Some((conversion, len)) = read_conversion(&bytes[i..]) else {
        return Err(match format[i..].chars().next() {
            Some(c) => error(
                start,
                &format!(
                    "unsupported conversion `{}`",
                    &format[start..i + c.len_utf8()]
                ),
            ),
            None => error(start, "the format ends inside a conversion"),
        });
    };
    spec.conversion = conversion;
    Ok((spec, i + len))
}

/// The conversion `rest` starts with (`d`, `s`, `pI4`, ...) and how many bytes it takes; `None`
/// for one not supported or none at all.
fn read_conversion(rest: &[u8]) -> Option<(Conversion, usize)> {
    Some(match rest {
        [b'd' | b'i', ..] => (Conversion::Signed, 1),
        [b'u', ..] => (Conversion::Unsigned, 1),
        [b'x', ..] => (Conversion::LowerHex, 1),
        [b'X', ..] => (Conversion::UpperHex, 1),
        [b'c', ..] => (Conversion::Char, 1),
        [b's', ..] => (Conversion::Str, 1),
        [b'p', b'I', b'4', ..] => (Conversion::Ipv4, 3),
        [b'p', b'I', b'6', ..] => (Conversion::Ipv6, 3),
        [b'p', b'M', ..] => (Conversion::Mac, 2),
        [b'p', b'h', ..] => (Conversion::Hex, 2),
        [b'p', ..] => (Conversion::Pointer, 1),
        _ => return None,
    })
}

fn read_number(bytes: &[u8], i: &mut usize) -> Option<usize> {
    let mut n: usize = 0;
    while let Some(d) = bytes.get(*i).filter(|b| b.is_ascii_digit()) {
        n = n.checked_mul(10)?.checked_add(usize::from(d - b'0'))?;
        if n > 4096 {
            return None;
        }
        *i += 1;
    }
    Some(n)
}

/// A decoded argument, ready to be printed by a [`Spec`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgValue<'a> {
    Signed(i64),
    Unsigned(u64),
    Pointer(u64),
    /// Bytes up to the first NUL.
    Str(&'a [u8]),
    /// The reading helper's error (a negative errno).
    Fault(i64),
    Ipv4([u8; 4]),
    Ipv6([u8; 16]),
    Mac([u8; 6]),
    Bytes(&'a [u8]),
}

/// Appends `value` printed as `spec` says to `out`.
pub fn render(out: &mut String, spec: &Spec, value: ArgValue<'_>) {
    let start = out.len();
    match value {
        ArgValue::Signed(v) => render_int(out, spec, v < 0, v.unsigned_abs(), v as u64),
        ArgValue::Unsigned(v) => render_int(out, spec, false, v, v),
        ArgValue::Pointer(v) => {
            let _ = write!(out, "{v:#x}");
        }
        ArgValue::Str(bytes) => {
            let text = String::from_utf8_lossy(bytes);
            match spec.precision {
                Some(p) => out.extend(text.chars().take(p)),
                None => out.push_str(&text),
            }
        }
        ArgValue::Fault(errno) => {
            let _ = write!(out, "<fault {errno}>");
        }
        ArgValue::Ipv4(a) => {
            let _ = write!(out, "{}", std::net::Ipv4Addr::from(a));
        }
        ArgValue::Ipv6(a) => {
            let _ = write!(out, "{}", std::net::Ipv6Addr::from(a));
        }
        ArgValue::Mac(m) => {
            let _ = write!(
                out,
                "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
                m[0], m[1], m[2], m[3], m[4], m[5]
            );
        }
        ArgValue::Bytes(bytes) => {
            for (n, b) in bytes.iter().enumerate() {
                if n > 0 {
                    out.push(' ');
                }
                let _ = write!(out, "{b:02x}");
            }
        }
    }
    pad(out, start, spec);
}

/// `negative`/`magnitude` for decimal, `bits` (two's complement) for hex and `%c`.
fn render_int(out: &mut String, spec: &Spec, negative: bool, magnitude: u64, bits: u64) {
    let start = out.len();
    let digits_start;
    match spec.conversion {
        Conversion::Char => {
            out.push(char::from(bits as u8));
            return;
        }
        Conversion::LowerHex | Conversion::UpperHex | Conversion::Pointer => {
            if spec.alternate || spec.conversion == Conversion::Pointer {
                out.push_str("0x");
            }
            digits_start = out.len();
            if spec.conversion == Conversion::UpperHex {
                let _ = write!(out, "{bits:X}");
            } else {
                let _ = write!(out, "{bits:x}");
            }
        }
        _ => {
            if negative {
                out.push('-');
            } else if spec.plus {
                out.push('+');
            } else if spec.space {
                out.push(' ');
            }
            digits_start = out.len();
            let _ = write!(out, "{magnitude}");
        }
    }
    // Zero padding goes between the sign (or 0x) and the digits.
    let written = out.len() - start;
    if spec.zero && !spec.left && written < spec.width {
        out.insert_str(digits_start, &"0".repeat(spec.width - written));
    }
}

/// Pads what was written since `start` to the spec's width.
fn pad(out: &mut String, start: usize, spec: &Spec) {
    let written = out[start..].chars().count();
    if written >= spec.width {
        return;
    }
    let fill = spec.width - written;
    if spec.left {
        out.extend(std::iter::repeat_n(' ', fill));
    } else {
        out.insert_str(start, &" ".repeat(fill));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(format: &str, value: ArgValue<'_>) -> String {
        let pieces = parse_format(format).unwrap();
        let mut out = String::new();
        for piece in &pieces {
            match piece {
                Piece::Literal(text) => out.push_str(text),
                Piece::Spec(spec) => render(&mut out, spec, value),
            }
        }
        out
    }

    #[test]
    fn parses_literals_conversions_and_percent() {
        let pieces = parse_format("a %d%% b %-5s %pI4 %llx").unwrap();
        assert_eq!(pieces.len(), 8, "{pieces:?}");
        assert_eq!(pieces[0], Piece::Literal("a ".into()));
        assert_eq!(pieces[2], Piece::Literal("% b ".into()));
        let Piece::Spec(s) = pieces[3] else { panic!() };
        assert!(s.left && s.width == 5 && s.conversion == Conversion::Str);
        let Piece::Spec(s) = pieces[5] else { panic!() };
        assert_eq!(s.conversion, Conversion::Ipv4);
        let Piece::Spec(s) = pieces[7] else { panic!() };
        assert_eq!(s.conversion, Conversion::LowerHex);
    }

    #[test]
    fn refuses_unknown_and_truncated_conversions() {
        let e = parse_format("x %q").unwrap_err();
        assert_eq!(e.position, 2);
        assert!(e.reason.contains("%q"), "{e}");
        assert!(parse_format("x %l").is_err());
        assert!(parse_format("%99999d").is_err());
    }

    #[test]
    fn renders_numbers_like_printf() {
        assert_eq!(one("%d", ArgValue::Signed(-42)), "-42");
        assert_eq!(one("%5d|", ArgValue::Signed(-42)), "  -42|");
        assert_eq!(one("%-5d|", ArgValue::Signed(42)), "42   |");
        assert_eq!(one("%05d", ArgValue::Signed(-42)), "-0042");
        assert_eq!(one("%+d", ArgValue::Signed(7)), "+7");
        assert_eq!(one("%x", ArgValue::Unsigned(0xbeef)), "beef");
        assert_eq!(one("%#X", ArgValue::Unsigned(0xbeef)), "0xBEEF");
        assert_eq!(one("%08x", ArgValue::Unsigned(0xbeef)), "0000beef");
        assert_eq!(one("%#08x", ArgValue::Unsigned(0xbeef)), "0x00beef");
        assert_eq!(one("%c", ArgValue::Signed(i64::from(b'z'))), "z");
        assert_eq!(one("%p", ArgValue::Pointer(0xffff_8880)), "0xffff8880");
    }

    #[test]
    fn renders_strings_addresses_and_bytes() {
        assert_eq!(one("[%.3s]", ArgValue::Str(b"abcdef")), "[abc]");
        assert_eq!(one("[%6s]", ArgValue::Str(b"ab")), "[    ab]");
        assert_eq!(one("%s", ArgValue::Fault(-14)), "<fault -14>");
        assert_eq!(one("%pI4", ArgValue::Ipv4([127, 0, 0, 1])), "127.0.0.1");
        let mut v6 = [0u8; 16];
        v6[0] = 0x20;
        v6[1] = 0x01;
        v6[2] = 0x0d;
        v6[3] = 0xb8;
        v6[15] = 1;
        assert_eq!(one("%pI6", ArgValue::Ipv6(v6)), "2001:db8::1");
        assert_eq!(
            one("%pM", ArgValue::Mac([2, 0, 0x5e, 0x10, 0x20, 0xff])),
            "02:00:5e:10:20:ff"
        );
        assert_eq!(one("%ph", ArgValue::Bytes(&[1, 0xab, 0])), "01 ab 00");
    }
}
