//! Arrays whose values are fds given by user space (programs, sockets, cgroups, AF_XDP sockets).

/// Defines an index → fd array over `$ty`, created from user space with `$value_size`-byte values.
macro_rules! fd_array_map {
    ($(#[$doc:meta])* $name:ident, $ty:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name<T> {
            inner: T,
        }

        impl<T: std::borrow::Borrow<$crate::maps::MapData>> $name<T> {
            /// Wraps a map after checking its type and key size.
            pub fn new(inner: T) -> Result<Self, $crate::maps::MapError> {
                let data = inner.borrow();
                $crate::maps::checks::check_type(
                    data,
                    &[bpf_sys::generated::bpf_map_type::$ty],
                    stringify!($ty),
                )?;
                $crate::maps::checks::check_key_size::<u32>(data)?;
                Ok($name { inner })
            }

            /// Number of slots (`max_entries`).
            pub fn len(&self) -> u32 {
                self.inner.borrow().max_entries()
            }

            /// True for a zero-sized array.
            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }
        }

        impl<T: std::borrow::BorrowMut<$crate::maps::MapData>> $name<T> {
            #[doc = concat!("Stores ", $what, " `fd` at `index`.")]
            pub fn set(
                &mut self,
                index: u32,
                fd: std::os::fd::BorrowedFd<'_>,
                flags: u64,
            ) -> Result<(), $crate::maps::MapError> {
                let data = self.inner.borrow();
                $crate::maps::checks::check_index(data, index)?;
                $crate::maps::checks::update_fd(data, &index, fd, flags)
            }

            /// Empties slot `index`.
            pub fn clear_index(&mut self, index: u32) -> Result<(), $crate::maps::MapError> {
                let data = self.inner.borrow();
                $crate::maps::checks::check_index(data, index)?;
                $crate::maps::checks::delete(data, &index)
            }
        }

        impl $name<$crate::maps::MapData> {
            /// Creates the map from user space.
            pub fn create(max_entries: u32, flags: u32) -> Result<Self, $crate::maps::MapError> {
                let def = bpf_core::obj::MapDef {
                    map_type: bpf_sys::generated::bpf_map_type::$ty,
                    key_size: 4,
                    value_size: 4,
                    max_entries,
                    map_flags: flags,
                    ..Default::default()
                };
                Self::new($crate::maps::MapData::create_raw(&def, stringify!($name))?)
            }
        }

        $crate::maps::wrapper::map_wrapper!($name);
    };
}

pub(crate) use fd_array_map;
