//! Socket local storage: `BPF_MAP_TYPE_SK_STORAGE`.

use super::local_storage::fd_keyed_storage;

fd_keyed_storage! {
    /// A `V` per socket, keyed from user space by a socket fd (`BPF_MAP_TYPE_SK_STORAGE`).
    SkStorage, BPF_MAP_TYPE_SK_STORAGE, "the socket"
}
