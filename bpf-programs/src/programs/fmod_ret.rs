//! `fmod_ret/<function>`: runs before an error-injectable kernel function and may replace its
//! return value.

use super::btf_target::define_function_tracer;

define_function_tracer!(
    /// An `fmod_ret` program.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use bpf_programs::Bpf;
    /// use bpf_programs::programs::FModRet;
    ///
    /// // SEC("fmod_ret/security_file_open") int override(...) in prog.bpf.o
    /// let mut bpf = Bpf::load_file("prog.bpf.o")?;
    /// let program: &mut FModRet = bpf.program_mut("override").unwrap().try_into()?;
    /// program.load()?; // or load_target("another_function")
    /// program.attach(0)?; // with a BPF cookie of 0
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    FModRet,
    FModRetLink,
    FModRetLinkId,
    FModRet,
    BPF_MODIFY_RETURN
);
