//! Load eBPF objects, relocate them for the running kernel and attach their programs.
//!
//! ```no_run
//! use bpf_programs::Bpf;
//! use bpf_programs::programs::RawTracePoint;
//!
//! let mut bpf = Bpf::load_file("demo.bpf.o")?;
//! let program: &mut RawTracePoint = bpf.program_mut("count_syscalls").unwrap().try_into()?;
//! program.load()?;
//! program.attach("sys_enter")?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod bpf;
pub mod btf;
mod error_chain;
pub mod features;
pub mod kernel;
mod kernel_config;
pub mod maps;
mod object_btf;
mod open;
pub mod programs;

pub use bpf::{Bpf, BpfError, BpfLoader};
pub use error_chain::ErrorChain;
pub use object_btf::TargetBtf;
pub use open::{OpenBpf, OpenMapMut, OpenProgramMut};
