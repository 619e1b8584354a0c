//! A command's failure: what was asked for, and the library's error chain saying why.

use std::error::Error;
use std::fmt;

/// What the user asked for (`map 12`, `object prog.o`) and why it failed.
#[derive(Debug)]
pub struct CliError {
    what: String,
    source: Option<Box<dyn Error + Send + Sync>>,
}

impl CliError {
    /// A failure with no underlying error.
    pub fn msg(what: impl Into<String>) -> CliError {
        CliError {
            what: what.into(),
            source: None,
        }
    }

    /// The reasons below the top line, outermost first.
    pub fn causes(&self) -> Vec<String> {
        let mut causes = Vec::new();
        let mut next: Option<&(dyn Error + 'static)> = self.source.as_deref().map(|e| e as _);
        while let Some(e) = next {
            causes.push(e.to_string());
            next = e.source();
        }
        causes
    }

    /// `what: cause: cause…`, each level printed once.
    pub fn chain(&self) -> String {
        let mut text = self.what.clone();
        for cause in self.causes() {
            // Errors that still repeat their source in Display would print it twice.
            if !text.ends_with(&cause) {
                text.push_str(": ");
                text.push_str(&cause);
            }
        }
        text
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what)
    }
}

/// Attaches "what was asked for" to a library error.
pub trait Context<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, CliError>;
}

impl<T, E: Error + Send + Sync + 'static> Context<T> for Result<T, E> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, CliError> {
        self.map_err(|e| CliError {
            what: what(),
            source: Some(Box::new(e)),
        })
    }
}
