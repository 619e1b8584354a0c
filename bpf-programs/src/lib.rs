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

#![forbid(unsafe_code)]

mod bpf;
pub mod btf;
mod error_chain;
mod fdinfo;
pub mod kernel;
mod loader;
pub mod logger;
pub mod maps;
mod open;
pub mod programs;
pub mod skeleton;
pub mod struct_ops;
pub mod trace_pipe;

pub use bpf::{Bpf, BpfError, BpfLoader};
pub use error_chain::ErrorChain;
pub use kernel::features;
pub use loader::TargetBtf;
pub use open::{OpenBpf, OpenMapMut, OpenProgramMut};

/// zerocopy, re-exported so map key, value and event types derive their layout checks without a
/// dependency line of their own: a type deriving `FromBytes`, `IntoBytes` and `Immutable` is a
/// [`maps::Pod`].
///
/// ```
/// use bpf_programs::zerocopy::{FromBytes, Immutable, IntoBytes};
///
/// #[derive(Clone, Copy, FromBytes, IntoBytes, Immutable)]
/// #[zerocopy(crate = "bpf_programs::zerocopy")]
/// #[repr(C)]
/// struct FlowKey {
///     saddr: u32,
///     daddr: u32,
///     sport: u16,
///     dport: u16,
///     proto: u8,
///     _pad: [u8; 3], // without it the derive fails: padding is refused at compile time
/// }
///
/// fn is_pod<T: bpf_programs::maps::Pod>() {}
/// is_pod::<FlowKey>();
/// ```
///
/// A type with padding does not compile:
///
/// ```compile_fail
/// use bpf_programs::zerocopy::{FromBytes, Immutable, IntoBytes};
///
/// #[derive(Clone, Copy, FromBytes, IntoBytes, Immutable)]
/// #[zerocopy(crate = "bpf_programs::zerocopy")]
/// #[repr(C)]
/// struct Padded {
///     pid: u32,
///     bytes: u64, // 4 bytes of padding before it
/// }
/// ```
pub use zerocopy;
