//! Matching `bpf_printk` output against the formats that could have printed it: the trace
//! pipe does not say which program printed a line, but its format string does.

/// One part of a printf format: literal text or a conversion (which matches any text).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Conversion,
}

/// A printf format compiled for matching printed lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintkFormat {
    format: String,
    parts: Vec<Part>,
}

impl PrintkFormat {
    /// Compiles `format`; conversions (`%d`, `%s`, `%pI4`, `%-08llx`, …) become wildcards.
    pub fn new(format: &str) -> PrintkFormat {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = format.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '%' {
                literal.push(c);
                continue;
            }
            if chars.peek() == Some(&'%') {
                chars.next();
                literal.push('%');
                continue;
            }
            // Flags, width, precision and length, then the conversion letter.
            while chars
                .peek()
                .is_some_and(|c| "-+ #0123456789.*hlLqjzt".contains(*c))
            {
                chars.next();
            }
            let conversion = chars.next();
            // The kernel's pointer extensions: %pI4, %pi6, %pK, %pB, %ps, %pS, %pM, %ph, ….
            if conversion == Some('p') {
                while chars.peek().is_some_and(|c| c.is_ascii_alphanumeric()) {
                    chars.next();
                }
            }
            if !literal.is_empty() {
                parts.push(Part::Literal(std::mem::take(&mut literal)));
            }
            if parts.last() != Some(&Part::Conversion) {
                parts.push(Part::Conversion);
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        PrintkFormat {
            format: format.to_owned(),
            parts,
        }
    }

    /// The format as written.
    pub fn format(&self) -> &str {
        &self.format
    }

    /// Whether `message` (a trace line's text, trailing newline removed) could come from
    /// this format.
    pub fn matches(&self, message: &str) -> bool {
        let format = self.format.trim_end_matches('\n');
        if format.is_empty() {
            return message.is_empty();
        }
        matches_from(&self.parts, message.trim_end_matches('\n'))
    }
}

fn matches_from(parts: &[Part], text: &str) -> bool {
    match parts.split_first() {
        None => text.is_empty(),
        Some((Part::Literal(lit), rest)) => {
            let lit = if rest.is_empty() {
                lit.trim_end_matches('\n')
            } else {
                lit.as_str()
            };
            text.strip_prefix(lit)
                .is_some_and(|after| matches_from(rest, after))
        }
        Some((Part::Conversion, rest)) => {
            if rest.is_empty() {
                return true;
            }
            // Try every split point; formats are short, so this stays cheap.
            text.char_indices()
                .map(|(i, _)| i)
                .chain(std::iter::once(text.len()))
                .any(|i| matches_from(rest, &text[i..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_text_and_conversions() {
        let f = PrintkFormat::new("packet %u of %d bytes\n");
        assert!(f.matches("packet 3 of 64 bytes"));
        assert!(f.matches("packet 3 of -1 bytes"));
        assert!(!f.matches("packet 3 of 64 byte"));
        assert!(!f.matches("xpacket 3 of 64 bytes"));
        let f = PrintkFormat::new("%s:%pI4 100%% %-08llx");
        assert!(f.matches("eth0:10.0.0.1 100% 00000abc"));
        assert!(!f.matches("eth0 10.0.0.1 100% 00000abc"));
        assert!(PrintkFormat::new("%d").matches("12"));
        assert!(PrintkFormat::new("").matches(""));
        assert!(!PrintkFormat::new("").matches("x"));
    }
}
