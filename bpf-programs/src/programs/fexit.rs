//! `fexit/<function>`: runs when a kernel function returns, with arguments and return value.

use super::btf_target::define_function_tracer;

define_function_tracer!(
    /// An `fexit` program.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use bpf_programs::Bpf;
    /// use bpf_programs::programs::FExit;
    ///
    /// // SEC("fexit/tcp_connect") int on_connect_done(...) in prog.bpf.o
    /// let mut bpf = Bpf::load_file("prog.bpf.o")?;
    /// let program: &mut FExit = bpf.program_mut("on_connect_done").unwrap().try_into()?;
    /// program.load()?; // or load_target("another_function")
    /// program.attach(0)?; // with a BPF cookie of 0
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    FExit,
    FExitLink,
    FExitLinkId,
    FExit,
    BPF_TRACE_FEXIT
);
