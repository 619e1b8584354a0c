//! Rust identifiers for C names: keywords escaped, primitive type names kept free.

/// Keywords `r#` cannot escape: they get a trailing `_` instead.
const UNRAWABLE: [&str; 5] = ["self", "Self", "super", "crate", "_"];

const KEYWORDS: [&str; 52] = [
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// Names a generated type must not take: they would shadow a primitive in the module.
const PRIMITIVES: [&str; 17] = [
    "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize", "f32",
    "f64", "bool", "char", "str",
];

/// A C identifier as a Rust identifier (field, method or constant name).
pub(super) fn escape(name: &str) -> String {
    if UNRAWABLE.contains(&name) {
        format!("{name}_")
    } else if KEYWORDS.contains(&name) {
        format!("r#{name}")
    } else {
        name.to_owned()
    }
}

/// A C type name as a Rust type name.
pub(super) fn type_name(name: &str) -> String {
    if PRIMITIVES.contains(&name) {
        format!("{name}_")
    } else {
        escape(name)
    }
}

/// The identifier without a raw prefix, to build derived names from (`set_type`).
pub(super) fn bare(ident: &str) -> &str {
    ident.strip_prefix("r#").unwrap_or(ident)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_and_primitives_are_escaped() {
        assert_eq!(escape("type"), "r#type");
        assert_eq!(escape("self"), "self_");
        assert_eq!(escape("pid"), "pid");
        assert_eq!(type_name("u32"), "u32_");
        assert_eq!(type_name("match"), "r#match");
        assert_eq!(bare("r#type"), "type");
    }
}
