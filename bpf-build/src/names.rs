//! Rust identifiers for C names.

/// Words a raw identifier (`r#...`) cannot spell.
const NOT_RAW: &[&str] = &["self", "Self", "super", "crate", "_"];

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "dyn", "else", "enum", "extern", "false",
    "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "static", "struct", "trait", "true", "type", "unsafe", "use", "where",
    "while", "abstract", "become", "box", "do", "final", "macro", "override", "priv", "try",
    "typeof", "unsized", "virtual", "yield",
];

/// `name` as a Rust identifier: characters outside `[A-Za-z0-9_]` become `_`, a leading digit
/// gets a `_`, keywords become raw identifiers.
pub fn ident(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    if NOT_RAW.contains(&out.as_str()) {
        out.push('_');
    } else if KEYWORDS.contains(&out.as_str()) {
        out.insert_str(0, "r#");
    }
    out
}

/// A data section's name as a field name: `.bss` → `bss`, `.data.counters` → `data_counters`.
pub fn section_field(section: &str) -> String {
    ident(section.trim_start_matches('.'))
}

/// A data section's name as a type name: `.bss` → `Bss`, `.data.counters` → `DataCounters`.
pub fn section_type(section: &str) -> String {
    section
        .trim_start_matches('.')
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        assert_eq!(ident("pid"), "pid");
        assert_eq!(ident("type"), "r#type");
        assert_eq!(ident("self"), "self_");
        assert_eq!(ident("1st"), "_1st");
        assert_eq!(ident("a.b"), "a_b");
        assert_eq!(section_field(".data.counters"), "data_counters");
        assert_eq!(section_type(".rodata"), "Rodata");
        assert_eq!(section_type(".data.counters"), "DataCounters");
    }
}
