//! How generated Rust code is written: derive paths and what to assert.

/// How [`RustTypes`](super::RustTypes) writes code.
#[derive(Debug, Clone)]
pub struct RustTypesOptions {
    /// Path of the zerocopy crate as the generated code's crate sees it: `::zerocopy` when it
    /// depends on zerocopy, or a re-export such as `::bpf_programs::zerocopy`.
    pub zerocopy: String,
    /// Derive `Debug` for structs and unions (enums always get a `Debug` naming the value).
    pub derive_debug: bool,
    /// Write the `const` size and offset assertions.
    pub layout_assertions: bool,
}

impl Default for RustTypesOptions {
    fn default() -> Self {
        RustTypesOptions {
            zerocopy: "::zerocopy".into(),
            derive_debug: true,
            layout_assertions: true,
        }
    }
}
