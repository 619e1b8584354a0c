//! [`ErrorChain`]: an error and its sources on one line, for logs and messages.

use std::error::Error;
use std::fmt;

/// Displays an error and each of its sources once, joined by ": " (every error of this crate
/// says only what its level adds, so the chain reads as one sentence).
///
/// ```
/// use bpf_programs::{Bpf, ErrorChain};
///
/// let error = Bpf::load(b"not an object").unwrap_err();
/// assert!(ErrorChain(&error).to_string().starts_with("parsing the object: "));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ErrorChain<'a>(pub &'a (dyn Error + 'static));

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut next = self.0.source();
        while let Some(source) = next {
            write!(f, ": {source}")?;
            next = source.source();
        }
        Ok(())
    }
}
