//! USDT (user statically-defined tracing) probes, as `sys/sdt.h` emits them, without a kernel:
//!
//! - [`notes`]: the `.note.stapsdt` notes of an ELF binary (probe address, semaphore, argument
//!   spec), with the `.stapsdt.base` prelink adjustment and the file offsets uprobes take;
//! - [`args`]: the x86-64 argument spec strings (`-4@%eax 8@-16(%rbp) 4@$5`) and the
//!   `struct pt_regs` offsets of the registers they name;
//! - [`address`]: where a probe site runs in a process (position-independent binaries, the
//!   process's mappings), for kernels that key specs by instruction pointer;
//! - [`layout`]: the value layout of libbpf's `__bpf_usdt_specs` map, read from an object's BTF
//!   (it differs between `usdt.bpf.h` versions), and the encoding of one probe's spec into it.

pub mod address;
pub mod args;
pub mod layout;
pub mod notes;

pub use address::{Mapping, is_position_independent, parse_maps, runtime_address};
pub use args::{
    ArgError, ArgSpecError, UsdtArch, UsdtArg, UsdtArgLocation, aarch64_pt_regs_offset, parse_args,
    parse_args_for, pt_regs_offset,
};
pub use layout::{SpecLayout, SpecLayoutError};
pub use notes::{UsdtError, UsdtNote, parse_notes};
