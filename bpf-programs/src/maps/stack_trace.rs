//! Stack trace maps: `BPF_MAP_TYPE_STACK_TRACE`.

use std::borrow::{Borrow, BorrowMut};

use bpf_core::obj::MapDef;
use bpf_sys::generated::bpf_map_type;
use bpf_sys::pod::bytes_of;

use super::element::delete;
use super::kind::{check_key_size, check_map_type};
use super::map_data::syscall;
use super::wrapper::map_wrapper;
use super::{MapData, MapError, MapKeys};

/// Stacks recorded by `bpf_get_stackid`, by stack id (`BPF_MAP_TYPE_STACK_TRACE`).
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::maps::StackTraceMap;
///
/// let bpf = Bpf::load_file("prog.bpf.o")?;
/// let stacks = StackTraceMap::try_from(bpf.map("stacks").unwrap())?;
/// for stack in stacks.iter() {
///     let stack = stack?;
///     println!("stack {}: {:x?}", stack.id, stack.frames);
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct StackTraceMap<T> {
    inner: T,
}

/// One recorded stack: instruction pointers, innermost frame first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackTrace {
    /// Stack id (the map key).
    pub id: u32,
    /// Frame addresses; the kernel's zero padding is cut off.
    pub frames: Vec<u64>,
}

impl<T: Borrow<MapData>> StackTraceMap<T> {
    /// Wraps a map after checking its type and key size.
    pub fn new(inner: T) -> Result<Self, MapError> {
        let data = inner.borrow();
        check_map_type(data, bpf_map_type::BPF_MAP_TYPE_STACK_TRACE)?;
        check_key_size::<u32>(data)?;
        Ok(StackTraceMap { inner })
    }

    /// The stack with `stack_id`, `None` if absent.
    pub fn get(&self, stack_id: u32) -> Result<Option<StackTrace>, MapError> {
        let data = self.inner.borrow();
        let mut buf = vec![0u8; data.value_size() as usize];
        match data.map_fd().lookup(bytes_of(&stack_id), &mut buf, 0) {
            Ok(true) => {
                let frames = buf
                    .chunks_exact(8)
                    .filter_map(|c| c.try_into().ok().map(u64::from_ne_bytes))
                    .take_while(|&ip| ip != 0)
                    .collect();
                Ok(Some(StackTrace {
                    id: stack_id,
                    frames,
                }))
            }
            Ok(false) => Ok(None),
            Err(e) => Err(syscall(data.name(), e)),
        }
    }

    /// The ids of the recorded stacks.
    pub fn stack_ids(&self) -> MapKeys<'_, u32> {
        MapKeys::new(self.inner.borrow())
    }

    /// Every recorded stack.
    pub fn iter(&self) -> impl Iterator<Item = Result<StackTrace, MapError>> + '_ {
        self.stack_ids().filter_map(move |id| match id {
            Ok(id) => self.get(id).transpose(),
            Err(e) => Some(Err(e)),
        })
    }
}

impl<T: BorrowMut<MapData>> StackTraceMap<T> {
    /// Forgets the stack with `stack_id`.
    pub fn remove(&mut self, stack_id: u32) -> Result<(), MapError> {
        delete(self.inner.borrow(), &stack_id)
    }
}

impl StackTraceMap<MapData> {
    /// Creates a stack trace map holding `max_entries` stacks of up to `max_depth` frames.
    pub fn create(max_entries: u32, max_depth: u32, flags: u32) -> Result<Self, MapError> {
        let def = MapDef {
            map_type: bpf_map_type::BPF_MAP_TYPE_STACK_TRACE,
            key_size: 4,
            value_size: max_depth.saturating_mul(8),
            max_entries,
            map_flags: flags,
            ..MapDef::default()
        };
        Self::new(MapData::create_raw(&def, "StackTraceMap")?)
    }
}

map_wrapper!(StackTraceMap);
