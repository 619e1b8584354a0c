//! Typed access to eBPF maps: one module per map type.
//!
//! A loader creates every map of an object as a [`MapData`] and hands it out as a [`Map`],
//! whose variant follows the kernel map type. Typed wrappers ([`HashMap`], [`Array`], …) are
//! obtained from a `Map` by `TryFrom` (borrowed or owned), created from user space, or opened
//! from a pin. Keys and values are [`Pod`] types whose sizes are checked against the map.

mod error;
pub mod flags;
mod map_data;
mod map_enum;

pub use error::{MapError, map_type_name};
pub use map_data::MapData;
pub use map_enum::Map;
