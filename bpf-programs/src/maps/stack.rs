//! LIFO stacks: `BPF_MAP_TYPE_STACK`.

use super::kind;
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
pub type Stack<T, V> = QueueOrStack<T, V, kind::Stack>;
