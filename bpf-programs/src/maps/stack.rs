//! LIFO stacks: `BPF_MAP_TYPE_STACK`.

use bpf_sys::generated::bpf_map_type;

use super::kind::sealed::Sealed;
use super::kind::{MapKind, QueueOrStackKind};
use super::queue_stack::QueueOrStack;

/// A last-in first-out stack of `V` (`BPF_MAP_TYPE_STACK`).
///
/// Every method is [`QueueOrStack`]'s.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::maps::Stack;
///
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let mut free: Stack<_, u32> = Stack::try_from(bpf.map_mut("free_slots").unwrap())?;
/// free.push(3, 0)?;
/// assert_eq!(free.pop()?, Some(3));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type Stack<T, V> = QueueOrStack<T, V, StackKind>;

/// The kind of [`Stack`]: which kernel map types it accepts and creates.
#[derive(Debug)]
pub enum StackKind {}

impl Sealed for StackKind {}
impl QueueOrStackKind for StackKind {}
impl MapKind for StackKind {
    const CREATES: bpf_map_type::Type = bpf_map_type::BPF_MAP_TYPE_STACK;
    const NAME: &'static str = "Stack";
}
