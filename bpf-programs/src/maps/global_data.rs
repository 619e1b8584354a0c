//! Global variables (`.data`, `.bss`, `.rodata`) read and written by name through the data
//! map's memory mapping (the maps are created `BPF_F_MMAPABLE`).

use std::borrow::{Borrow, BorrowMut};

use bpf_core::obj::Variable;
use bpf_sys::generated::bpf_map_type;
use bpf_sys::mmap::MmapRegion;
use bpf_sys::pod::{Pod, bytes_of, bytes_of_mut, zeroed};
use bpf_sys::util::page_size;

use super::flags::BPF_F_MMAPABLE;
use super::kind::check_map_type;
use super::map_data::syscall;
use super::wrapper::map_wrapper;
use super::{MapData, MapError};

/// A live view of a global data map. Programs see writes at once and vice versa.
/// Frozen maps (`.rodata`) are mapped read-only.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::maps::GlobalData;
///
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let mut data = GlobalData::try_from(bpf.map_mut(".data").unwrap())?;
/// data.set("verbose", &1u32)?; // mmapped: the program sees it at once
/// let seen: u64 = GlobalData::try_from(bpf.map(".bss").unwrap())?.get("events_seen")?;
/// println!("{seen}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct GlobalData<T> {
    inner: T,
    region: MmapRegion,
    /// The errno with which the kernel refused a writable mapping (frozen maps).
    write_refused: Option<i32>,
}

impl<T: Borrow<MapData>> GlobalData<T> {
    /// Maps the data map (a one-element `BPF_F_MMAPABLE` array).
    pub fn new(inner: T) -> Result<Self, MapError> {
        let data = inner.borrow();
        check_map_type(data, bpf_map_type::BPF_MAP_TYPE_ARRAY)?;
        if data.map_flags() & BPF_F_MMAPABLE == 0 || data.value_size() == 0 {
            return Err(MapError::NotMmapable {
                name: data.name().to_owned(),
            });
        }
        let len = (data.value_size() as usize).next_multiple_of(page_size());
        // A frozen map refuses writable mappings; fall back to reading.
        let (region, write_refused) = match MmapRegion::new(data.fd(), len, 0, true) {
            Ok(region) => (region, None),
            Err(e) if e.errno() == Some(libc::EPERM) || e.errno() == Some(libc::EACCES) => {
                let region = MmapRegion::new(data.fd(), len, 0, false)
                    .map_err(|e| syscall(data.name(), e))?;
                (region, e.errno())
            }
            Err(e) => return Err(syscall(data.name(), e)),
        };
        Ok(GlobalData {
            inner,
            region,
            write_refused,
        })
    }

    fn variable<V>(&self, name: &str) -> Result<Variable, MapError> {
        self.inner.borrow().sized_variable(name, size_of::<V>())
    }

    /// The current value of variable `name`; `V` must have the variable's size.
    pub fn get<V: Pod>(&self, name: &str) -> Result<V, MapError> {
        let var = self.variable::<V>(name)?;
        self.read_at(var.offset as usize)
    }

    /// The `V` at byte `offset` of the section.
    pub fn read_at<V: Pod>(&self, offset: usize) -> Result<V, MapError> {
        let mut value = zeroed::<V>();
        self.region
            .read(offset, bytes_of_mut(&mut value))
            .ok_or_else(|| self.out_of_bounds(offset))?;
        Ok(value)
    }

    /// A copy of the whole section.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = self.region.to_vec();
        out.truncate(self.inner.borrow().value_size() as usize);
        out
    }

    /// The section's variables (name, offset, size).
    pub fn variables(&self) -> &[Variable] {
        self.inner.borrow().variables()
    }

    /// False for frozen sections (`.rodata`, `.kconfig`).
    pub fn is_writable(&self) -> bool {
        self.region.is_writable()
    }

    fn out_of_bounds(&self, offset: usize) -> MapError {
        let data = self.inner.borrow();
        MapError::OutOfBounds {
            name: data.name().to_owned(),
            index: u32::try_from(offset).unwrap_or(u32::MAX),
            max_entries: data.value_size(),
        }
    }
}

impl<T: BorrowMut<MapData>> GlobalData<T> {
    /// Sets variable `name`; `V` must have the variable's size.
    pub fn set<V: Pod>(&mut self, name: &str, value: &V) -> Result<(), MapError> {
        let var = self.variable::<V>(name)?;
        self.write_at(var.offset as usize, value)
    }

    /// Writes `value` at byte `offset` of the section.
    pub fn write_at<V: Pod>(&mut self, offset: usize, value: &V) -> Result<(), MapError> {
        if !self.region.is_writable() {
            return Err(MapError::ReadOnly {
                name: self.inner.borrow().name().to_owned(),
                source: self
                    .write_refused
                    .map(|errno| bpf_sys::SyscallError::from_errno(bpf_sys::Command::Mmap, errno)),
            });
        }
        let end_ok = offset + size_of::<V>() <= self.inner.borrow().value_size() as usize;
        if !end_ok {
            return Err(self.out_of_bounds(offset));
        }
        self.region
            .write(offset, bytes_of(value))
            .ok_or_else(|| self.out_of_bounds(offset))
    }
}

map_wrapper!(GlobalData);

/// A global data section (`.bss`, `.data`, `.rodata`, `.data.<name>`) seen as one `#[repr(C)]`
/// struct `S` laid out like the section, through its memory mapping: what generated skeletons
/// expose as `skel.bss`. Reads and writes copy (programs may change the memory at any time).
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::maps::TypedGlobals;
/// use bpf_programs::zerocopy::{FromBytes, Immutable, IntoBytes};
///
/// #[derive(Clone, Copy, FromBytes, IntoBytes, Immutable)]
/// #[zerocopy(crate = "bpf_programs::zerocopy")]
/// #[repr(C)]
/// struct Bss {
///     events_seen: u64,
///     drops: u64,
/// }
///
/// let mut bpf = Bpf::load_file("counter.bpf.o")?;
/// let mut bss = TypedGlobals::<Bss>::new(bpf.take_map(".bss").unwrap())?;
/// let now = bss.read();
/// bss.write_field(std::mem::offset_of!(Bss, drops), &0u64)?;
/// println!("{} events", now.events_seen);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct TypedGlobals<S> {
    data: GlobalData<MapData>,
    layout: std::marker::PhantomData<S>,
}

impl<S: Pod> TypedGlobals<S> {
    /// Maps the section, checking that `S` has its size.
    pub fn new(map: super::Map) -> Result<Self, MapError> {
        let data = GlobalData::new(map.into_data())?;
        let section = data.inner.value_size();
        if section as usize != size_of::<S>() {
            return Err(MapError::ValueSize {
                name: data.inner.name().to_owned(),
                expected: section,
                actual: size_of::<S>(),
            });
        }
        Ok(TypedGlobals {
            data,
            layout: std::marker::PhantomData,
        })
    }

    /// A copy of the whole section.
    pub fn read(&self) -> S {
        // In bounds: the mapping covers the section, whose size is `S`'s (checked at `new`).
        self.data.read_at(0).unwrap_or_else(|_| zeroed())
    }

    /// The field of type `V` at byte `offset` of `S` (`std::mem::offset_of!(S, field)`).
    ///
    /// # Panics
    ///
    /// When `offset + size_of::<V>()` exceeds `size_of::<S>()`: not a field of `S`.
    pub fn read_field<V: Pod>(&self, offset: usize) -> V {
        assert_field::<S, V>(offset);
        self.data.read_at(offset).unwrap_or_else(|_| zeroed())
    }

    /// False for frozen sections (`.rodata`): writes are then refused.
    pub fn is_writable(&self) -> bool {
        self.data.is_writable()
    }

    /// The underlying untyped view (variables by name, raw bytes).
    pub fn global_data(&self) -> &GlobalData<MapData> {
        &self.data
    }
}

impl<S: Pod> TypedGlobals<S> {
    /// Overwrites the whole section; an error for a frozen (`.rodata`) section.
    pub fn write(&mut self, value: &S) -> Result<(), MapError> {
        self.data.write_at(0, value)
    }

    /// Writes the field of type `V` at byte `offset` of `S`; an error for a frozen section.
    ///
    /// # Panics
    ///
    /// When `offset + size_of::<V>()` exceeds `size_of::<S>()`: not a field of `S`.
    pub fn write_field<V: Pod>(&mut self, offset: usize, value: &V) -> Result<(), MapError> {
        assert_field::<S, V>(offset);
        self.data.write_at(offset, value)
    }
}

fn assert_field<S, V>(offset: usize) {
    assert!(
        offset
            .checked_add(size_of::<V>())
            .is_some_and(|end| end <= size_of::<S>()),
        "a {}-byte field at offset {offset} is not inside the {}-byte {}",
        size_of::<V>(),
        size_of::<S>(),
        std::any::type_name::<S>()
    );
}
