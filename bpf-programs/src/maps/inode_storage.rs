//! Inode local storage: `BPF_MAP_TYPE_INODE_STORAGE`.

use super::local_storage::fd_keyed_storage;

fd_keyed_storage! {
    /// A `V` per inode, keyed from user space by an fd of a file (`BPF_MAP_TYPE_INODE_STORAGE`).
    ///
    /// # Example
    ///
    /// ```no_run
    /// use std::os::fd::AsFd;
    ///
    /// use bpf_programs::Bpf;
    /// use bpf_programs::maps::InodeStorage;
    ///
    /// let bpf = Bpf::load_file("prog.bpf.o")?;
    /// let storage: InodeStorage<_, u64> = InodeStorage::try_from(bpf.map("opens").unwrap())?;
    /// let file = std::fs::File::open("/etc/passwd")?;
    /// println!("{:?}", storage.get(file.as_fd(), 0)?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    InodeStorage, BPF_MAP_TYPE_INODE_STORAGE, "the inode of"
}
