//! struct_ops maps (`.struct_ops`, `.struct_ops.link`): a kernel struct such as
//! `tcp_congestion_ops` or `sched_ext_ops` whose function pointers are programs of the object.
//!
//! Opening the object creates each map (a [`MapData`](crate::maps::MapData), like every map)
//! with the running kernel's layout of the struct (members matched by name, as libbpf does); a
//! map the kernel cannot take keeps its error ([`StructOps::creation_error`]) without failing
//! the object. Registering the map loads the programs it points at and hands the struct to the
//! kernel; unlike program attachments, the registration is returned as an owned
//! [`StructOpsLink`], which unregisters on drop.
//!
//! This module sits above [`maps`](crate::maps) and [`programs`](crate::programs): it uses
//! both, neither uses it. The programs themselves ([`StructOpsProgram`](crate::programs::StructOpsProgram))
//! learn the member they implement from the object (`bpf_core::obj::Object::struct_ops_attach`).
//!
//! ```no_run
//! use bpf_programs::Bpf;
//!
//! let mut bpf = Bpf::load_file("tcp_cc.bpf.o")?;
//! // Data members may be changed first, like a libbpf skeleton's struct_ops variable.
//! bpf.struct_ops_mut("my_cc").unwrap().set_member_str("name", "my_cc_v2")?;
//! // Loads the programs the struct points at (if not loaded yet), then registers it.
//! let link = bpf.register_struct_ops("my_cc")?;
//! // … sockets may now use the congestion control …
//! drop(link); // unregistered
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
mod link;
mod map;
mod register;

pub use error::StructOpsError;
pub use link::StructOpsLink;
pub use map::StructOps;
