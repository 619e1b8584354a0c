//! Local storage keyed by an fd of the owning object (socket, task, inode, cgroup).
//! The kernel needs BTF for these maps, so they come from objects, not from user space.

/// Defines an fd-keyed storage wrapper over `$ty`.
macro_rules! fd_keyed_storage {
    ($(#[$doc:meta])* $name:ident, $ty:ident, $owner:literal) => {
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
                $crate::maps::checks::check_key_size::<u32>(data)?;
                $crate::maps::checks::check_value_size::<V>(data)?;
                Ok($name { inner, _v: std::marker::PhantomData })
            }

            #[doc = concat!("The value stored for ", $owner, " `fd`, `None` if none.")]
            pub fn get(
                &self,
                fd: std::os::fd::BorrowedFd<'_>,
                flags: u64,
            ) -> Result<Option<V>, $crate::maps::MapError> {
                use std::os::fd::AsRawFd;
                $crate::maps::checks::lookup(self.inner.borrow(), &fd.as_raw_fd(), flags)
            }
        }

        impl<T: std::borrow::BorrowMut<$crate::maps::MapData>, V: bpf_sys::pod::Pod> $name<T, V> {
            #[doc = concat!("Stores `value` for ", $owner, " `fd`.")]
            pub fn insert(
                &mut self,
                fd: std::os::fd::BorrowedFd<'_>,
                value: impl std::borrow::Borrow<V>,
                flags: u64,
            ) -> Result<(), $crate::maps::MapError> {
                use std::os::fd::AsRawFd;
                $crate::maps::checks::update(
                    self.inner.borrow(),
                    &fd.as_raw_fd(),
                    value.borrow(),
                    flags,
                )
            }

            #[doc = concat!("Removes the value stored for ", $owner, " `fd`.")]
            pub fn remove(
                &mut self,
                fd: std::os::fd::BorrowedFd<'_>,
            ) -> Result<(), $crate::maps::MapError> {
                use std::os::fd::AsRawFd;
                $crate::maps::checks::delete(self.inner.borrow(), &fd.as_raw_fd())
            }
        }

        $crate::maps::wrapper::map_wrapper!($name<V>);
    };
}

pub(crate) use fd_keyed_storage;
