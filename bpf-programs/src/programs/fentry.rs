//! `fentry/<function>`: runs at the entry of a kernel function, with typed arguments.

use super::btf_target::define_function_tracer;

/// Why a function tracer (fentry, fexit, fmod_ret) could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum FEntryError {
    #[error(
        "program `{program}`: no function `{function}` in kernel, module or target program BTF"
    )]
    FunctionNotFound { program: String, function: String },
    #[error("program `{program}` names no kernel function in its section; use load_target")]
    NoTarget { program: String },
    #[error("program `{program}`: the target program has no BTF (it must be loaded with BTF)")]
    TargetWithoutBtf { program: String },
    #[error("program `{program}`: reading the target program's BTF: {reason}")]
    TargetBtf { program: String, reason: String },
}

define_function_tracer!(
    /// An `fentry` program.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use bpf_programs::Bpf;
    /// use bpf_programs::programs::FEntry;
    ///
    /// // SEC("fentry/tcp_connect") int on_connect(...) in prog.bpf.o
    /// let mut bpf = Bpf::load_file("prog.bpf.o")?;
    /// let program: &mut FEntry = bpf.program_mut("on_connect").unwrap().try_into()?;
    /// program.load()?; // or load_target("another_function")
    /// program.attach(0)?; // with a BPF cookie of 0
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    FEntry,
    FEntryLink,
    FEntryLinkId,
    FEntry,
    BPF_TRACE_FENTRY
);
