//! The key → value wrappers shared by the hash map family (plain and per-CPU).

/// Defines a typed key → value map over `$types`, created from user space as `$create`.
macro_rules! key_value_map {
    ($(#[$doc:meta])* $name:ident, [$($ty:ident),+], create $create:ident) => {
        $(#[$doc])*
        ///
        /// `T` is `&MapData`, `&mut MapData` or `MapData`; writing needs the latter two.
        #[derive(Debug)]
        pub struct $name<T, K, V> {
            inner: T,
            _kv: std::marker::PhantomData<(K, V)>,
        }

        impl<T: std::borrow::Borrow<$crate::maps::MapData>, K: bpf_sys::pod::Pod, V: bpf_sys::pod::Pod>
            $name<T, K, V>
        {
            /// Wraps a map after checking its type and key/value sizes.
            pub fn new(inner: T) -> Result<Self, $crate::maps::MapError> {
                let data = inner.borrow();
                $crate::maps::checks::check_type(
                    data,
                    &[$(bpf_sys::generated::bpf_map_type::$ty),+],
                    stringify!($($ty)|+),
                )?;
                $crate::maps::checks::check_key_size::<K>(data)?;
                $crate::maps::checks::check_value_size::<V>(data)?;
                Ok($name { inner, _kv: std::marker::PhantomData })
            }

            /// The value at `key`, `None` if absent. `flags` may be `BPF_F_LOCK`.
            #[inline]
            pub fn get(&self, key: &K, flags: u64) -> Result<Option<V>, $crate::maps::MapError> {
                $crate::maps::checks::lookup(self.inner.borrow(), key, flags)
            }

            /// Whether `key` is present.
            pub fn contains_key(&self, key: &K) -> Result<bool, $crate::maps::MapError> {
                Ok(self.get(key, 0)?.is_some())
            }

            /// The keys, walked with `BPF_MAP_GET_NEXT_KEY`.
            pub fn keys(&self) -> $crate::maps::MapKeys<'_, K> {
                $crate::maps::MapKeys::new(self.inner.borrow())
            }

            /// The entries, each value looked up when its key is reached.
            pub fn iter(&self) -> $crate::maps::MapIter<'_, K, V, Self> {
                $crate::maps::MapIter::new(self)
            }

            /// Every entry, fetched in batches of up to 4096 (falls back to a key walk).
            pub fn batch_lookup(&self) -> Result<Vec<(K, V)>, $crate::maps::MapError> {
                self.batch_lookup_chunked($crate::maps::batch::default_chunk(self.inner.borrow()))
            }

            /// Every entry into `keys` and `values` (their contents replaced), fetched in batches of up to
            /// 4096; returns how many. Their capacity is kept, so passing the same vectors again
            /// reads the map without allocating.
            pub fn batch_lookup_into(
                &self,
                keys: &mut Vec<K>,
                values: &mut Vec<V>,
            ) -> Result<usize, $crate::maps::MapError> {
                let data = self.inner.borrow();
                let chunk = $crate::maps::batch::default_chunk(data);
                // Written over in place: a second walk with the same vectors zeroes nothing.
                match $crate::maps::batch::lookup_all(data, 1, keys, values, chunk, false)? {
                    $crate::maps::batch::BatchResult::Done => Ok(keys.len()),
                    $crate::maps::batch::BatchResult::Unsupported => {
                        for entry in self.iter() {
                            let (key, value) = entry?;
                            keys.push(key);
                            values.push(value);
                        }
                        Ok(keys.len())
                    }
                }
            }

            /// Every entry, fetched `chunk` entries per `BPF_MAP_LOOKUP_BATCH` call.
            pub fn batch_lookup_chunked(
                &self,
                chunk: u32,
            ) -> Result<Vec<(K, V)>, $crate::maps::MapError> {
                let data = self.inner.borrow();
                let mut keys = Vec::new();
                let mut values = Vec::new();
                match $crate::maps::batch::lookup_all(data, 1, &mut keys, &mut values, chunk, false)? {
                    $crate::maps::batch::BatchResult::Done => {
                        Ok(keys.into_iter().zip(values).collect())
                    }
                    $crate::maps::batch::BatchResult::Unsupported => self.iter().collect(),
                }
            }
        }

        impl<T: std::borrow::BorrowMut<$crate::maps::MapData>, K: bpf_sys::pod::Pod, V: bpf_sys::pod::Pod>
            $name<T, K, V>
        {
            /// Inserts or updates `key`; `flags` is `BPF_ANY`, `BPF_NOEXIST`, `BPF_EXIST` (| `BPF_F_LOCK`).
            #[inline]
            pub fn insert(
                &mut self,
                key: impl std::borrow::Borrow<K>,
                value: impl std::borrow::Borrow<V>,
                flags: u64,
            ) -> Result<(), $crate::maps::MapError> {
                $crate::maps::checks::update(
                    self.inner.borrow(),
                    key.borrow(),
                    value.borrow(),
                    flags,
                )
            }

            /// Removes `key`; [`MapError::KeyNotFound`]($crate::maps::MapError::KeyNotFound) if absent.
            pub fn remove(&mut self, key: &K) -> Result<(), $crate::maps::MapError> {
                $crate::maps::checks::delete(self.inner.borrow(), key)
            }

            /// Removes `key` and returns its value (`BPF_MAP_LOOKUP_AND_DELETE_ELEM`).
            pub fn take(&mut self, key: &K) -> Result<Option<V>, $crate::maps::MapError> {
                $crate::maps::checks::lookup_and_delete(self.inner.borrow(), key, 0)
            }

            /// Writes all pairs in one call; returns how many were written.
            pub fn batch_update(
                &mut self,
                keys: &[K],
                values: &[V],
                flags: u64,
            ) -> Result<u32, $crate::maps::MapError> {
                let data = self.inner.borrow();
                if keys.len() != values.len() {
                    return Err($crate::maps::MapError::ValueSize {
                        name: data.name().to_owned(),
                        expected: keys.len() as u32,
                        actual: values.len(),
                    });
                }
                data.map_fd()
                    .update_batch(
                        bpf_sys::pod::slice_bytes(keys),
                        bpf_sys::pod::slice_bytes(values),
                        flags,
                    )
                    .map_err(|e| $crate::maps::map_data::syscall(data.name(), e))
            }

            /// Deletes all `keys` in one call; returns how many were deleted.
            pub fn batch_remove(&mut self, keys: &[K]) -> Result<u32, $crate::maps::MapError> {
                let data = self.inner.borrow();
                data.map_fd()
                    .delete_batch(bpf_sys::pod::slice_bytes(keys), 0)
                    .map_err(|e| $crate::maps::map_data::syscall(data.name(), e))
            }

            /// Removes and returns every entry, in batches.
            pub fn batch_take_all(&mut self) -> Result<Vec<(K, V)>, $crate::maps::MapError> {
                let data = self.inner.borrow();
                let chunk = $crate::maps::batch::default_chunk(data);
                let mut keys = Vec::new();
                let mut values = Vec::new();
                match $crate::maps::batch::lookup_all(data, 1, &mut keys, &mut values, chunk, true)? {
                    $crate::maps::batch::BatchResult::Done => {
                        Ok(keys.into_iter().zip(values).collect())
                    }
                    $crate::maps::batch::BatchResult::Unsupported => {
                        Err($crate::maps::MapError::Syscall {
                            name: data.name().to_owned(),
                            source: bpf_sys::SyscallError::from_errno(
                                bpf_sys::BpfCommand::MapLookupAndDeleteBatch,
                                libc::EOPNOTSUPP,
                            ),
                        })
                    }
                }
            }
        }

        impl<K: bpf_sys::pod::Pod, V: bpf_sys::pod::Pod> $name<$crate::maps::MapData, K, V> {
            /// Creates the map from user space, named after the type.
            pub fn create(max_entries: u32, flags: u32) -> Result<Self, $crate::maps::MapError> {
                Self::create_named(stringify!($name), max_entries, flags)
            }

            /// Creates the map from user space with a kernel name.
            pub fn create_named(
                name: &str,
                max_entries: u32,
                flags: u32,
            ) -> Result<Self, $crate::maps::MapError> {
                let def = bpf_core::obj::MapDef {
                    map_type: bpf_sys::generated::bpf_map_type::$create,
                    key_size: size_of::<K>() as u32,
                    value_size: size_of::<V>() as u32,
                    max_entries,
                    map_flags: flags,
                    ..Default::default()
                };
                Self::new($crate::maps::MapData::create_raw(&def, name)?)
            }
        }

        impl<T: std::borrow::Borrow<$crate::maps::MapData>, K: bpf_sys::pod::Pod, V: bpf_sys::pod::Pod>
            $crate::maps::IterableMap<K, V> for $name<T, K, V>
        {
            fn map_data(&self) -> &$crate::maps::MapData {
                self.inner.borrow()
            }
            fn lookup_for_iter(&self, key: &K) -> Result<Option<V>, $crate::maps::MapError> {
                self.get(key, 0)
            }
        }

        $crate::maps::wrapper::map_wrapper!($name<K, V>);
    };
}

/// Defines a typed key → per-CPU value map over `$types`, created from user space as `$create`.
macro_rules! per_cpu_key_value_map {
    ($(#[$doc:meta])* $name:ident, [$($ty:ident),+], create $create:ident) => {
        $(#[$doc])*
        ///
        /// Values are [`PerCpuValues`]($crate::maps::PerCpuValues), one slot per possible CPU.
        #[derive(Debug)]
        pub struct $name<T, K, V> {
            inner: T,
            _kv: std::marker::PhantomData<(K, V)>,
        }

        impl<T: std::borrow::Borrow<$crate::maps::MapData>, K: bpf_sys::pod::Pod, V: bpf_sys::pod::Pod>
            $name<T, K, V>
        {
            /// Wraps a map after checking its type and key/value sizes.
            pub fn new(inner: T) -> Result<Self, $crate::maps::MapError> {
                let data = inner.borrow();
                $crate::maps::checks::check_type(
                    data,
                    &[$(bpf_sys::generated::bpf_map_type::$ty),+],
                    stringify!($($ty)|+),
                )?;
                $crate::maps::checks::check_key_size::<K>(data)?;
                $crate::maps::checks::check_value_size::<V>(data)?;
                Ok($name { inner, _kv: std::marker::PhantomData })
            }

            /// Every CPU's value at `key`, `None` if absent.
            pub fn get(
                &self,
                key: &K,
                flags: u64,
            ) -> Result<Option<$crate::maps::PerCpuValues<V>>, $crate::maps::MapError> {
                let data = self.inner.borrow();
                let mut buf = $crate::maps::per_cpu::kernel_buf::<V>()?;
                match data.map_fd().lookup(bpf_sys::pod::bytes_of(key), &mut buf, flags) {
                    Ok(true) => Ok(Some($crate::maps::PerCpuValues::from_kernel_bytes(&buf))),
                    Ok(false) => Ok(None),
                    Err(e) => Err($crate::maps::map_data::syscall(data.name(), e)),
                }
            }

            /// The keys, walked with `BPF_MAP_GET_NEXT_KEY`.
            pub fn keys(&self) -> $crate::maps::MapKeys<'_, K> {
                $crate::maps::MapKeys::new(self.inner.borrow())
            }

            /// The entries, each value looked up when its key is reached.
            pub fn iter(&self) -> $crate::maps::MapIter<'_, K, $crate::maps::PerCpuValues<V>, Self> {
                $crate::maps::MapIter::new(self)
            }

            /// Every entry, fetched in batches (falls back to a key walk).
            pub fn batch_lookup(
                &self,
            ) -> Result<Vec<(K, $crate::maps::PerCpuValues<V>)>, $crate::maps::MapError> {
                let data = self.inner.borrow();
                let per_entry = data.map_fd().value_buf_size();
                let chunk = $crate::maps::batch::default_chunk(data);
                let mut keys = Vec::new();
                let mut values: Vec<u8> = Vec::new();
                match $crate::maps::batch::lookup_all(data, per_entry, &mut keys, &mut values, chunk, false)? {
                    $crate::maps::batch::BatchResult::Done => Ok(keys
                        .into_iter()
                        .zip(values.chunks_exact(per_entry.max(1)))
                        .map(|(k, v)| (k, $crate::maps::PerCpuValues::from_kernel_bytes(v)))
                        .collect()),
                    $crate::maps::batch::BatchResult::Unsupported => self.iter().collect(),
                }
            }
        }

        impl<T: std::borrow::BorrowMut<$crate::maps::MapData>, K: bpf_sys::pod::Pod, V: bpf_sys::pod::Pod>
            $name<T, K, V>
        {
            /// Inserts or updates `key` with one value per CPU.
            pub fn insert(
                &mut self,
                key: impl std::borrow::Borrow<K>,
                values: &$crate::maps::PerCpuValues<V>,
                flags: u64,
            ) -> Result<(), $crate::maps::MapError> {
                let data = self.inner.borrow();
                let mut buf = $crate::maps::per_cpu::kernel_buf::<V>()?;
                values.to_kernel_bytes(&mut buf);
                data.map_fd()
                    .update(bpf_sys::pod::bytes_of(key.borrow()), &buf, flags)
                    .map_err(|e| $crate::maps::checks::update_error(data.name(), flags, e))
            }

            /// Removes `key`; [`MapError::KeyNotFound`]($crate::maps::MapError::KeyNotFound) if absent.
            pub fn remove(&mut self, key: &K) -> Result<(), $crate::maps::MapError> {
                $crate::maps::checks::delete(self.inner.borrow(), key)
            }
        }

        impl<K: bpf_sys::pod::Pod, V: bpf_sys::pod::Pod> $name<$crate::maps::MapData, K, V> {
            /// Creates the map from user space, named after the type.
            pub fn create(max_entries: u32, flags: u32) -> Result<Self, $crate::maps::MapError> {
                let def = bpf_core::obj::MapDef {
                    map_type: bpf_sys::generated::bpf_map_type::$create,
                    key_size: size_of::<K>() as u32,
                    value_size: size_of::<V>() as u32,
                    max_entries,
                    map_flags: flags,
                    ..Default::default()
                };
                Self::new($crate::maps::MapData::create_raw(&def, stringify!($name))?)
            }
        }

        impl<T: std::borrow::Borrow<$crate::maps::MapData>, K: bpf_sys::pod::Pod, V: bpf_sys::pod::Pod>
            $crate::maps::IterableMap<K, $crate::maps::PerCpuValues<V>> for $name<T, K, V>
        {
            fn map_data(&self) -> &$crate::maps::MapData {
                self.inner.borrow()
            }
            fn lookup_for_iter(
                &self,
                key: &K,
            ) -> Result<Option<$crate::maps::PerCpuValues<V>>, $crate::maps::MapError> {
                self.get(key, 0)
            }
        }

        $crate::maps::wrapper::map_wrapper!($name<K, V>);
    };
}

pub(crate) use {key_value_map, per_cpu_key_value_map};
