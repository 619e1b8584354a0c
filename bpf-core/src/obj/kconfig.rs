//! `__kconfig` externs: parsing kernel config text and writing values into the `.kconfig` map.

use std::collections::HashMap;

use super::{ExternKind, KconfigType, MapKind, Object};

/// Why a kconfig value could not be stored.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KconfigError {
    #[error("kconfig extern `{name}` is not weak and no value was given")]
    Missing { name: String },
    #[error("kconfig extern `{name}`: value `{value}` does not fit {expected}")]
    BadValue {
        name: String,
        value: String,
        expected: String,
    },
}

/// Parses kernel config text (`/boot/config-$(uname -r)`, decompressed `/proc/config.gz`):
/// `CONFIG_X=value` lines; `# CONFIG_X is not set` becomes `n`.
pub fn parse_kconfig(text: &str) -> HashMap<String, String> {
    let mut values = HashMap::new();
    for line in text.lines().map(str::trim) {
        if let Some(name) = line
            .strip_prefix("# ")
            .and_then(|l| l.strip_suffix(" is not set"))
        {
            if name.starts_with("CONFIG_") {
                values.insert(name.to_owned(), "n".to_owned());
            }
        } else if let Some((name, value)) = line.split_once('=')
            && name.starts_with("CONFIG_")
        {
            values.insert(name.to_owned(), value.to_owned());
        }
    }
    values
}

fn parse_int(text: &str) -> Option<i128> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let magnitude = match digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        Some(hex) => i128::from_str_radix(hex, 16).ok()?,
        None => digits.parse::<i128>().ok()?,
    };
    Some(if negative { -magnitude } else { magnitude })
}

impl KconfigType {
    /// The bytes stored for config text `value` (`y`, `m`, `n`, a number or a quoted string).
    pub fn encode(self, name: &str, value: &str) -> Result<Vec<u8>, KconfigError> {
        let bad = |expected: &str| KconfigError::BadValue {
            name: name.to_owned(),
            value: value.to_owned(),
            expected: expected.to_owned(),
        };
        let tristate = match value {
            "y" => Some(1u8),
            "m" => Some(2),
            "n" => Some(0),
            _ => None,
        };
        match self {
            KconfigType::Bool => match tristate {
                Some(t) => Ok(vec![u8::from(t != 0)]),
                None => Err(bad("bool (y/m/n)")),
            },
            KconfigType::Tristate => match tristate {
                Some(t) => Ok(u32::from(t).to_le_bytes().to_vec()),
                None => Err(bad("tristate (y/m/n)")),
            },
            KconfigType::Char => match value.as_bytes() {
                [c] => Ok(vec![*c]),
                _ => Err(bad("char")),
            },
            KconfigType::Int { size, signed } => {
                let number = match tristate {
                    Some(t) => i128::from(t.min(1)),
                    None => parse_int(value).ok_or_else(|| bad("an integer"))?,
                };
                let bits = size.saturating_mul(8).min(64);
                let fits = if signed {
                    let limit = 1i128 << (bits - 1);
                    (-limit..limit).contains(&number)
                } else {
                    (0..(1i128 << bits)).contains(&number)
                };
                if !fits || !matches!(size, 1 | 2 | 4 | 8) {
                    return Err(bad(&format!(
                        "a {}{} integer",
                        if signed { "s" } else { "u" },
                        bits
                    )));
                }
                Ok((number as u64).to_le_bytes()[..size as usize].to_vec())
            }
            KconfigType::CharArray { len } => {
                let text = value
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .ok_or_else(|| bad("a quoted string"))?;
                let mut bytes = text.as_bytes().to_vec();
                // Truncated like libbpf, always NUL-terminated.
                bytes.truncate((len as usize).saturating_sub(1));
                bytes.resize(len as usize, 0);
                Ok(bytes)
            }
        }
    }
}

impl Object {
    /// Writes kconfig extern values into the `.kconfig` map's initial data. `values` maps names
    /// (`CONFIG_*`, and `LINUX_KERNEL_VERSION` etc. computed by the loader) to config text.
    /// Absent weak externs stay zero; absent strong ones are marked
    /// ([`Extern::value_missing`](super::Extern::value_missing)), so only the programs reading
    /// them fail to relocate, and the first is returned as an error after every value is filled.
    pub fn fill_kconfig(&mut self, values: &HashMap<String, String>) -> Result<(), KconfigError> {
        let Some(map) = self.maps.iter_mut().find(|m| m.kind == MapKind::Kconfig) else {
            return Ok(());
        };
        let mut first_missing = None;
        for ext in &mut self.externs {
            let ExternKind::Kconfig { ty, offset } = ext.kind else {
                continue;
            };
            let bytes = match values.get(&ext.name) {
                Some(value) => ty.encode(&ext.name, value)?,
                None if ext.weak => vec![0; ty.size() as usize],
                None => {
                    ext.value_missing = true;
                    first_missing.get_or_insert_with(|| ext.name.clone());
                    continue;
                }
            };
            if let Some(slot) = map
                .data
                .get_mut(offset as usize..offset as usize + bytes.len())
            {
                slot.copy_from_slice(&bytes);
            }
        }
        match first_missing {
            Some(name) => Err(KconfigError::Missing { name }),
            None => Ok(()),
        }
    }
}
