//! Queues and stacks share their element calls: push is an update without a key, pop a
//! lookup-and-delete, peek a lookup.

/// Defines a FIFO/LIFO wrapper over `$ty`.
macro_rules! queue_like_map {
    ($(#[$doc:meta])* $name:ident, $ty:ident) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name<T, V> {
            inner: T,
            _v: std::marker::PhantomData<V>,
        }

        impl<T: std::borrow::Borrow<$crate::maps::MapData>, V: bpf_sys::pod::Pod> $name<T, V> {
            /// Wraps a map after checking its type and value size.
            pub fn new(inner: T) -> Result<Self, $crate::maps::MapError> {
                let data = inner.borrow();
                $crate::maps::checks::check_type(
                    data,
                    &[bpf_sys::generated::bpf_map_type::$ty],
                    stringify!($ty),
                )?;
                $crate::maps::checks::check_key_len(data, 0)?;
                $crate::maps::checks::check_value_size::<V>(data)?;
                Ok($name { inner, _v: std::marker::PhantomData })
            }

            /// Capacity (`max_entries`).
            pub fn capacity(&self) -> u32 {
                self.inner.borrow().max_entries()
            }

            /// The next element without removing it, `None` when empty.
            pub fn peek(&self) -> Result<Option<V>, $crate::maps::MapError> {
                $crate::maps::checks::lookup(self.inner.borrow(), &[0u8; 0], 0)
            }
        }

        impl<T: std::borrow::BorrowMut<$crate::maps::MapData>, V: bpf_sys::pod::Pod> $name<T, V> {
            /// Adds `value`; when full, `BPF_EXIST` makes room by dropping the oldest element.
            pub fn push(
                &mut self,
                value: impl std::borrow::Borrow<V>,
                flags: u64,
            ) -> Result<(), $crate::maps::MapError> {
                $crate::maps::checks::update(self.inner.borrow(), &[0u8; 0], value.borrow(), flags)
            }

            /// Removes and returns the next element, `None` when empty.
            pub fn pop(&mut self) -> Result<Option<V>, $crate::maps::MapError> {
                $crate::maps::checks::lookup_and_delete(self.inner.borrow(), &[0u8; 0], 0)
            }
        }

        impl<V: bpf_sys::pod::Pod> $name<$crate::maps::MapData, V> {
            /// Creates the map from user space.
            pub fn create(max_entries: u32, flags: u32) -> Result<Self, $crate::maps::MapError> {
                let def = bpf_core::obj::MapDef {
                    map_type: bpf_sys::generated::bpf_map_type::$ty,
                    key_size: 0,
                    value_size: size_of::<V>() as u32,
                    max_entries,
                    map_flags: flags,
                    ..Default::default()
                };
                Self::new($crate::maps::MapData::create_raw(&def, stringify!($name))?)
            }
        }

        $crate::maps::wrapper::map_wrapper!($name<V>);
    };
}

pub(crate) use queue_like_map;
