//! Inode local storage: `BPF_MAP_TYPE_INODE_STORAGE`.

use super::local_storage::fd_keyed_storage;

fd_keyed_storage! {
    /// A `V` per inode, keyed from user space by an fd of a file (`BPF_MAP_TYPE_INODE_STORAGE`).
    InodeStorage, BPF_MAP_TYPE_INODE_STORAGE, "the inode of"
}
