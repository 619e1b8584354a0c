//! USDT argument specs: `<size>@<operand>` per argument, separated by spaces, where the size is
//! negative for signed values. On x86-64 the operand is an AT&T-syntax constant (`$5`),
//! register (`%eax`), memory reference through a register (`-16(%rbp)`) or scaled index
//! (`8(%rax,%rdx,8)`); on aarch64 a constant (`5`), register (`x0`, `w1`, `sp`) or memory
//! reference (`[sp, 16]`, `[x1]`).

/// Most arguments a USDT probe can have (`BPF_USDT_MAX_ARG_CNT` in libbpf's `usdt.bpf.h`).
pub const MAX_ARGS: usize = 12;

/// The instruction set a probe's binary was built for: it decides the spec's syntax and the
/// `struct pt_regs` offsets of its registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsdtArch {
    X86_64,
    Aarch64,
}

/// Where an argument's value is, at the probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsdtArgLocation {
    /// The value itself (`$-9`).
    Const(i64),
    /// A register, by its byte offset in `struct pt_regs` (`%eax`).
    Register { reg_off: u16 },
    /// Memory at a register plus an offset (`-16(%rbp)`).
    Deref { reg_off: u16, offset: i64 },
    /// Memory at `base + (index << scale_shift) + offset` (`8(%rax,%rdx,8)`).
    Sib {
        base_off: u16,
        index_off: u16,
        scale_shift: u8,
        offset: i64,
    },
}

/// One argument of a probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsdtArg {
    /// Size in bytes: 1, 2, 4 or 8.
    pub size: u8,
    /// Whether the value is sign-extended to 64 bits.
    pub signed: bool,
    pub location: UsdtArgLocation,
}

impl UsdtArg {
    /// How many high bits of the 64-bit value to clear (or sign-extend): `64 - 8 * size`.
    pub fn bitshift(&self) -> u8 {
        64 - 8 * self.size
    }
}

/// Why an argument spec string could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgSpecError {
    #[error("argument {index} `{arg}`: {reason}")]
    BadArg {
        index: usize,
        arg: String,
        reason: ArgError,
    },
    #[error("{count} arguments, at most {MAX_ARGS} are supported")]
    TooManyArgs { count: usize },
}

/// What is wrong with one argument of a spec (the argument itself is named by
/// [`ArgSpecError::BadArg`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgError {
    #[error("expected `<size>@<operand>`")]
    NoSize,
    #[error("size `{0}` is not a number")]
    SizeNotANumber(String),
    #[error("size {0} is not 1, 2, 4 or 8")]
    UnsupportedSize(u8),
    #[error("constant `{0}` is not an integer")]
    ConstantNotAnInteger(String),
    #[error("`{0}` is not a register (no `%`)")]
    NotARegister(String),
    /// The register as the spec writes it (`%xmm0`, `x31`).
    #[error("unsupported register `{0}`")]
    UnsupportedRegister(String),
    #[error("unsupported operand `{0}`")]
    UnsupportedOperand(String),
    #[error("`{0}`: unbalanced parentheses")]
    UnbalancedParentheses(String),
    #[error("`{0}`: unbalanced brackets")]
    UnbalancedBrackets(String),
    #[error("displacement `{0}` is not an integer (symbolic addresses are unsupported)")]
    DisplacementNotAnInteger(String),
    #[error("offset `{0}` is not an integer")]
    OffsetNotAnInteger(String),
    #[error("scale `{0}` is not a number")]
    ScaleNotANumber(String),
    #[error("scale {0} is not 1, 2, 4 or 8")]
    UnsupportedScale(u8),
    #[error("`{0}`: a scaled index needs a base register")]
    NoBaseRegister(String),
    #[error("`{0}`: too many parts in the memory reference")]
    TooManyParts(String),
}

/// The byte offset in x86-64 `struct pt_regs` of the register `name` (without `%`); 64-, 32-,
/// 16- and 8-bit names of a register share its offset (the value is truncated by its size).
/// `%rip` is refused: at a uprobe it holds the probe address, not the next instruction's.
pub fn pt_regs_offset(name: &str) -> Option<u16> {
    let offset = match name {
        "r15" | "r15d" | "r15w" | "r15b" => 0,
        "r14" | "r14d" | "r14w" | "r14b" => 8,
        "r13" | "r13d" | "r13w" | "r13b" => 16,
        "r12" | "r12d" | "r12w" | "r12b" => 24,
        "rbp" | "ebp" | "bp" | "bpl" => 32,
        "rbx" | "ebx" | "bx" | "bl" => 40,
        "r11" | "r11d" | "r11w" | "r11b" => 48,
        "r10" | "r10d" | "r10w" | "r10b" => 56,
        "r9" | "r9d" | "r9w" | "r9b" => 64,
        "r8" | "r8d" | "r8w" | "r8b" => 72,
        "rax" | "eax" | "ax" | "al" => 80,
        "rcx" | "ecx" | "cx" | "cl" => 88,
        "rdx" | "edx" | "dx" | "dl" => 96,
        "rsi" | "esi" | "si" | "sil" => 104,
        "rdi" | "edi" | "di" | "dil" => 112,
        "rsp" | "esp" | "sp" | "spl" => 152,
        _ => return None,
    };
    Some(offset)
}

/// The byte offset in aarch64 `struct pt_regs` (`user_pt_regs`: `regs[31]`, `sp`) of register
/// `name`; `wN` is the low half of `xN`.
pub fn aarch64_pt_regs_offset(name: &str) -> Option<u16> {
    if matches!(name, "sp" | "wsp") {
        return Some(31 * 8);
    }
    let number: u16 = name
        .strip_prefix('x')
        .or_else(|| name.strip_prefix('w'))?
        .parse()
        .ok()?;
    (number < 31).then_some(number * 8)
}

/// Parses a whole x86-64 spec string (empty for a probe without arguments).
pub fn parse_args(spec: &str) -> Result<Vec<UsdtArg>, ArgSpecError> {
    parse_args_for(UsdtArch::X86_64, spec)
}

/// Parses a whole spec string of a binary built for `arch`.
pub fn parse_args_for(arch: UsdtArch, spec: &str) -> Result<Vec<UsdtArg>, ArgSpecError> {
    let args = split_args(spec);
    if args.len() > MAX_ARGS {
        return Err(ArgSpecError::TooManyArgs { count: args.len() });
    }
    args.iter()
        .enumerate()
        .map(|(index, arg)| {
            parse_arg(arch, arg).map_err(|reason| ArgSpecError::BadArg {
                index,
                arg: (*arg).to_owned(),
                reason,
            })
        })
        .collect()
}

/// Splits on whitespace outside brackets (aarch64 writes `8@[sp, 16]`).
fn split_args(spec: &str) -> Vec<&str> {
    let mut args = Vec::new();
    let mut depth = 0usize;
    let mut start = None;
    for (at, c) in spec.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            c if c.is_ascii_whitespace() && depth == 0 => {
                if let Some(from) = start.take() {
                    args.push(&spec[from..at]);
                }
                continue;
            }
            _ => {}
        }
        start.get_or_insert(at);
    }
    if let Some(from) = start {
        args.push(&spec[from..]);
    }
    args
}

fn parse_arg(arch: UsdtArch, arg: &str) -> Result<UsdtArg, ArgError> {
    let (size, operand) = arg.split_once('@').ok_or(ArgError::NoSize)?;
    let size: i8 = size
        .parse()
        .map_err(|_| ArgError::SizeNotANumber(size.to_owned()))?;
    let signed = size < 0;
    let size = size.unsigned_abs();
    if !matches!(size, 1 | 2 | 4 | 8) {
        return Err(ArgError::UnsupportedSize(size));
    }
    let location = match arch {
        UsdtArch::X86_64 => parse_operand(operand)?,
        UsdtArch::Aarch64 => parse_aarch64_operand(operand)?,
    };
    Ok(UsdtArg {
        size,
        signed,
        location,
    })
}

fn aarch64_register(name: &str) -> Result<u16, ArgError> {
    aarch64_pt_regs_offset(name).ok_or_else(|| ArgError::UnsupportedRegister(name.to_owned()))
}

fn parse_aarch64_operand(operand: &str) -> Result<UsdtArgLocation, ArgError> {
    if let Some(inner) = operand.strip_prefix('[') {
        let inner = inner
            .strip_suffix(']')
            .ok_or_else(|| ArgError::UnbalancedBrackets(operand.to_owned()))?;
        let (base, offset) = match inner.split_once(',') {
            Some((base, offset)) => {
                let offset = offset.trim();
                let offset = integer(offset)
                    .ok_or_else(|| ArgError::OffsetNotAnInteger(offset.to_owned()))?;
                (base.trim(), offset)
            }
            None => (inner.trim(), 0),
        };
        return Ok(UsdtArgLocation::Deref {
            reg_off: aarch64_register(base)?,
            offset,
        });
    }
    if let Some(constant) = integer(operand) {
        return Ok(UsdtArgLocation::Const(constant));
    }
    Ok(UsdtArgLocation::Register {
        reg_off: aarch64_register(operand)?,
    })
}

fn register(text: &str) -> Result<u16, ArgError> {
    let name = text
        .strip_prefix('%')
        .ok_or_else(|| ArgError::NotARegister(text.to_owned()))?;
    pt_regs_offset(name).ok_or_else(|| ArgError::UnsupportedRegister(text.to_owned()))
}

/// A decimal or `0x` hexadecimal integer with an optional sign.
fn integer(text: &str) -> Option<i64> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let magnitude = match digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        Some(hex) if !hex.is_empty() && !hex.starts_with(['+', '-']) => {
            u64::from_str_radix(hex, 16).ok()?
        }
        Some(_) => return None,
        None if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
            digits.parse::<u64>().ok()?
        }
        None => return None,
    };
    if negative {
        // Two's complement: `-0x8000000000000000` fits, larger magnitudes do not.
        0i64.checked_sub_unsigned(magnitude)
    } else {
        // Addresses above i64::MAX are kept as their 64-bit pattern.
        Some(magnitude as i64)
    }
}

fn parse_operand(operand: &str) -> Result<UsdtArgLocation, ArgError> {
    if let Some(constant) = operand.strip_prefix('$') {
        return integer(constant)
            .map(UsdtArgLocation::Const)
            .ok_or_else(|| ArgError::ConstantNotAnInteger(constant.to_owned()));
    }
    if operand.starts_with('%') {
        return Ok(UsdtArgLocation::Register {
            reg_off: register(operand)?,
        });
    }
    let Some((displacement, rest)) = operand.split_once('(') else {
        return Err(ArgError::UnsupportedOperand(operand.to_owned()));
    };
    let inner = rest
        .strip_suffix(')')
        .ok_or_else(|| ArgError::UnbalancedParentheses(operand.to_owned()))?;
    let offset = if displacement.is_empty() {
        0
    } else {
        integer(displacement)
            .ok_or_else(|| ArgError::DisplacementNotAnInteger(displacement.to_owned()))?
    };
    let parts: Vec<&str> = inner.split(',').map(str::trim).collect();
    match parts.as_slice() {
        [base] => Ok(UsdtArgLocation::Deref {
            reg_off: register(base)?,
            offset,
        }),
        [base, index] | [base, index, _] => {
            let scale = match parts.get(2) {
                Some(scale) => scale
                    .parse::<u8>()
                    .map_err(|_| ArgError::ScaleNotANumber((*scale).to_owned()))?,
                None => 1,
            };
            let scale_shift = match scale {
                1 => 0,
                2 => 1,
                4 => 2,
                8 => 3,
                _ => return Err(ArgError::UnsupportedScale(scale)),
            };
            if base.is_empty() {
                return Err(ArgError::NoBaseRegister(operand.to_owned()));
            }
            Ok(UsdtArgLocation::Sib {
                base_off: register(base)?,
                index_off: register(index)?,
                scale_shift,
                offset,
            })
        }
        _ => Err(ArgError::TooManyParts(operand.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::UsdtArgLocation as L;
    use super::*;

    fn arg(size: u8, signed: bool, location: L) -> UsdtArg {
        UsdtArg {
            size,
            signed,
            location,
        }
    }

    #[test]
    fn aarch64_operands_and_bracketed_spaces() {
        let parsed = parse_args_for(
            UsdtArch::Aarch64,
            "-4@x0 8@[sp, 16] -8@[x19] 4@5 -2@-3 8@w30 8@[x1, -8]",
        )
        .unwrap();
        assert_eq!(
            parsed,
            [
                arg(4, true, L::Register { reg_off: 0 }),
                arg(
                    8,
                    false,
                    L::Deref {
                        reg_off: 248,
                        offset: 16
                    }
                ),
                arg(
                    8,
                    true,
                    L::Deref {
                        reg_off: 152,
                        offset: 0
                    }
                ),
                arg(4, false, L::Const(5)),
                arg(2, true, L::Const(-3)),
                arg(8, false, L::Register { reg_off: 240 }),
                arg(
                    8,
                    false,
                    L::Deref {
                        reg_off: 8,
                        offset: -8
                    }
                ),
            ]
        );
        for bad in ["4@x31", "4@[x0", "4@[x0, y]", "4@%eax", "4@q1"] {
            assert!(parse_args_for(UsdtArch::Aarch64, bad).is_err(), "{bad}");
        }
        assert_eq!(split_args("  1@x0   2@[sp, 8] "), ["1@x0", "2@[sp, 8]"]);
    }

    #[test]
    fn every_operand_kind() {
        let parsed = parse_args(
            " -4@%eax 8@-16(%rbp) 4@$5 8@(%rax,%rdx,8) -1@$-9 2@0x10(%r12) 8@%r9 1@%sil \
             8@-96(%rbp,%rax) 8@(%rsp)",
        )
        .unwrap();
        assert_eq!(
            parsed,
            vec![
                arg(4, true, L::Register { reg_off: 80 }),
                arg(
                    8,
                    false,
                    L::Deref {
                        reg_off: 32,
                        offset: -16
                    }
                ),
                arg(4, false, L::Const(5)),
                arg(
                    8,
                    false,
                    L::Sib {
                        base_off: 80,
                        index_off: 96,
                        scale_shift: 3,
                        offset: 0
                    }
                ),
                arg(1, true, L::Const(-9)),
                arg(
                    2,
                    false,
                    L::Deref {
                        reg_off: 24,
                        offset: 16
                    }
                ),
                arg(8, false, L::Register { reg_off: 64 }),
                arg(1, false, L::Register { reg_off: 104 }),
                arg(
                    8,
                    false,
                    L::Sib {
                        base_off: 32,
                        index_off: 80,
                        scale_shift: 0,
                        offset: -96
                    }
                ),
                arg(
                    8,
                    false,
                    L::Deref {
                        reg_off: 152,
                        offset: 0
                    }
                ),
            ]
        );
        assert_eq!(parsed[0].bitshift(), 32);
        assert_eq!(parsed[1].bitshift(), 0);
        assert_eq!(parsed[4].bitshift(), 56);
        assert_eq!(parse_args("").unwrap(), vec![]);
    }

    #[test]
    fn register_aliases_share_offsets() {
        let table = [
            ("r15", 0),
            ("r14", 8),
            ("r13", 16),
            ("r12", 24),
            ("rbp", 32),
            ("rbx", 40),
            ("r11", 48),
            ("r10", 56),
            ("r9", 64),
            ("r8", 72),
            ("rax", 80),
            ("rcx", 88),
            ("rdx", 96),
            ("rsi", 104),
            ("rdi", 112),
            ("rsp", 152),
        ];
        for (name, offset) in table {
            assert_eq!(pt_regs_offset(name), Some(offset), "{name}");
        }
        for (alias, of) in [
            ("eax", "rax"),
            ("ax", "rax"),
            ("al", "rax"),
            ("r8d", "r8"),
            ("r8w", "r8"),
            ("r8b", "r8"),
            ("r15d", "r15"),
            ("edi", "rdi"),
            ("dil", "rdi"),
            ("spl", "rsp"),
            ("bpl", "rbp"),
            ("ebx", "rbx"),
        ] {
            assert_eq!(pt_regs_offset(alias), pt_regs_offset(of), "{alias}");
        }
        for unknown in ["rip", "ah", "xmm0", "", "RAX", "r16"] {
            assert_eq!(pt_regs_offset(unknown), None, "{unknown}");
        }
    }

    #[test]
    fn bad_specs_name_the_argument() {
        let cases = [
            ("4@%eax 3@%ebx", 1, "size 3"),
            ("%eax", 0, "<size>@<operand>"),
            ("x@%eax", 0, "not a number"),
            ("4@%xmm0", 0, "unsupported register `%xmm0`"),
            ("8@counter(%rip)", 0, "symbolic"),
            ("8@8(%rip)", 0, "%rip"),
            ("4@$abc", 0, "constant"),
            ("8@(%rax,%rdx,3)", 0, "scale 3"),
            ("8@(,%rdx,8)", 0, "base register"),
            ("8@(%rax", 0, "unbalanced"),
            ("8@(%rax,%rbx,1,2)", 0, "too many"),
            ("16@%rax", 0, "size 16"),
            ("-128@%rax", 0, "size 128"),
            ("8@rax", 0, "unsupported operand"),
        ];
        for (spec, index, needle) in cases {
            let err = parse_args(spec).unwrap_err();
            match &err {
                ArgSpecError::BadArg { index: i, .. } => assert_eq!(*i, index, "{spec}"),
                other => panic!("{spec}: {other}"),
            }
            assert!(err.to_string().contains(needle), "{spec}: {err}");
        }
        let many = vec!["8@%rax"; 13].join(" ");
        assert_eq!(
            parse_args(&many),
            Err(ArgSpecError::TooManyArgs { count: 13 })
        );
    }

    #[test]
    fn bad_args_say_what_is_wrong_as_a_type() {
        let reason = |arch, spec| match parse_args_for(arch, spec) {
            Err(ArgSpecError::BadArg { reason, .. }) => reason,
            other => panic!("{spec}: {other:?}"),
        };
        let x86 = UsdtArch::X86_64;
        assert_eq!(
            reason(x86, "4@%xmm0"),
            ArgError::UnsupportedRegister("%xmm0".into())
        );
        assert_eq!(reason(x86, "-3@%eax"), ArgError::UnsupportedSize(3));
        assert_eq!(
            reason(x86, "8@(%rax,%rdx,3)"),
            ArgError::UnsupportedScale(3)
        );
        assert_eq!(
            reason(x86, "8@sym(%rip)"),
            ArgError::DisplacementNotAnInteger("sym".into())
        );
        assert_eq!(
            reason(UsdtArch::Aarch64, "8@[x1, y]"),
            ArgError::OffsetNotAnInteger("y".into())
        );
        assert_eq!(
            reason(UsdtArch::Aarch64, "8@x31"),
            ArgError::UnsupportedRegister("x31".into())
        );
        assert_eq!(
            parse_args("1@%eax 8@(%rax,%rbx,1,2)")
                .unwrap_err()
                .to_string(),
            "argument 1 `8@(%rax,%rbx,1,2)`: `(%rax,%rbx,1,2)`: too many parts in the memory \
             reference"
        );
    }

    #[test]
    fn integers() {
        assert_eq!(integer("0x10"), Some(16));
        assert_eq!(integer("-0x10"), Some(-16));
        assert_eq!(integer("+7"), Some(7));
        assert_eq!(integer("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(integer("0xffffffffffffffff"), Some(-1));
        for bad in ["", "-", "0x", "0x-1", "--1", "1e3", "99999999999999999999"] {
            assert_eq!(integer(bad), None, "{bad}");
        }
    }

    #[test]
    fn garbage_never_panics() {
        // A small deterministic generator over the characters specs are made of.
        let alphabet = b"-+0123456789@%$(),x abcdeilprsw8\t";
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            let len = (state % 24) as usize;
            let mut text = String::new();
            for _ in 0..len {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                text.push(alphabet[(state % alphabet.len() as u64) as usize] as char);
            }
            let _ = parse_args(&text);
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        }
    }
}
