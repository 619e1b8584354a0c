//! Scaffolding shared by every typed wrapper: conversions from [`Map`](super::Map), access to
//! the [`MapData`](super::MapData), pinning and opening pinned maps.

/// Implements `TryFrom<&Map>`, `TryFrom<&mut Map>`, `TryFrom<Map>`, and the accessors every
/// wrapper has, for `$name<T, generics…>` whose `new(T)` checks type and sizes. The generics
/// named are [`Pod`](bpf_sys::pod::Pod) types; a generic wrapper adds its kind last:
/// `map_wrapper!(KeyValueMap<K, V> where Kind: KeyValueKind)`.
///
/// `map_wrapper!(exclusive $name)` leaves out `TryFrom<&Map>`: for wrappers that must be the
/// map's only user in the process (ring buffer readers and writers share its memory).
macro_rules! map_wrapper {
    (exclusive $name:ident) => {
        $crate::maps::wrapper::map_wrapper!(@owned_or_mut $name []);
    };
    ($name:ident $(< $($g:ident),* >)? $(where Kind: $kind:path)?) => {
        $crate::maps::wrapper::map_wrapper!(
            @shared $name [$($($g: bpf_sys::pod::Pod,)*)? $(Kind: $kind,)?]
        );
        $crate::maps::wrapper::map_wrapper!(
            @owned_or_mut $name [$($($g: bpf_sys::pod::Pod,)*)? $(Kind: $kind,)?]
        );
    };
    (@shared $name:ident [$($g:ident: $b:path,)*]) => {
        impl<'a, $($g: $b,)*> TryFrom<&'a $crate::maps::Map>
            for $name<&'a $crate::maps::MapData, $($g,)*>
        {
            type Error = $crate::maps::MapError;
            fn try_from(map: &'a $crate::maps::Map) -> Result<Self, Self::Error> {
                Self::new(map.data())
            }
        }
    };
    (@owned_or_mut $name:ident [$($g:ident: $b:path,)*]) => {
        impl<'a, $($g: $b,)*> TryFrom<&'a mut $crate::maps::Map>
            for $name<&'a mut $crate::maps::MapData, $($g,)*>
        {
            type Error = $crate::maps::MapError;
            fn try_from(map: &'a mut $crate::maps::Map) -> Result<Self, Self::Error> {
                Self::new(map.data_mut())
            }
        }

        impl<$($g: $b,)*> TryFrom<$crate::maps::Map> for $name<$crate::maps::MapData, $($g,)*> {
            type Error = $crate::maps::MapError;
            fn try_from(map: $crate::maps::Map) -> Result<Self, Self::Error> {
                Self::new(map.into_data())
            }
        }

        impl<T: std::borrow::Borrow<$crate::maps::MapData>, $($g: $b,)*> $name<T, $($g,)*> {
            /// The underlying map.
            pub fn map_data(&self) -> &$crate::maps::MapData {
                self.inner.borrow()
            }

            /// The map's fd.
            pub fn fd(&self) -> std::os::fd::BorrowedFd<'_> {
                self.map_data().fd()
            }

            /// The kernel's view of the map.
            pub fn info(&self) -> Result<$crate::maps::MapInfo, $crate::maps::MapError> {
                $crate::maps::MapInfo::from_data(self.map_data())
            }

            /// Gives back what the wrapper was made from.
            pub fn into_inner(self) -> T {
                self.inner
            }
        }

        impl<T: std::borrow::BorrowMut<$crate::maps::MapData>, $($g: $b,)*> $name<T, $($g,)*> {
            /// Pins the map at `path` (inside a bpffs mount).
            pub fn pin(
                &mut self,
                path: impl AsRef<std::path::Path>,
            ) -> Result<(), $crate::maps::MapError> {
                self.inner.borrow_mut().pin(path)
            }
        }

        impl<$($g: $b,)*> $name<$crate::maps::MapData, $($g,)*> {
            /// Opens the map pinned at `path`, checking its type and sizes.
            pub fn from_pin(
                path: impl AsRef<std::path::Path>,
            ) -> Result<Self, $crate::maps::MapError> {
                Self::new($crate::maps::MapData::from_pin(path)?)
            }
        }
    };
}

pub(crate) use map_wrapper;
