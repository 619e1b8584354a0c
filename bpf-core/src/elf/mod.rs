//! ELF reading beyond eBPF objects, bytes in and data out: a binary's symbols, the file offsets
//! of its addresses (what uprobes take), its notes, a named section (the `.BTF` of a target
//! file), and glibc's `ld.so.cache`. The caller reads the files; nothing here touches the system.
//!
//! - [`ElfFile`]: symbols, sections, segments and notes of one ELF image;
//! - [`notes`]: the note walker every note reader uses (`.note.stapsdt`, the vDSO's `Linux`);
//! - [`ld_cache`]: the libraries `/etc/ld.so.cache` lists, by soname.

mod file;
pub mod ld_cache;
pub mod notes;

pub use file::{ElfError, ElfFile, ElfMachine, ElfSymbol};
pub use ld_cache::{LdCacheEntry, ld_cache_entries};
pub use notes::{Note, NoteError, Notes};
