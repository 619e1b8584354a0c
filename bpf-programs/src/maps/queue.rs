//! FIFO queues: `BPF_MAP_TYPE_QUEUE`.

use bpf_sys::generated::bpf_map_type;

use super::kind::sealed::Sealed;
use super::kind::{MapKind, QueueOrStackKind};
use super::queue_stack::QueueOrStack;

/// A first-in first-out queue of `V` (`BPF_MAP_TYPE_QUEUE`).
///
/// Every method is [`QueueOrStack`]'s.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::maps::Queue;
///
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let mut jobs: Queue<_, u32> = Queue::try_from(bpf.map_mut("jobs").unwrap())?;
/// jobs.push(7, 0)?;
/// assert_eq!(jobs.pop()?, Some(7));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type Queue<T, V> = QueueOrStack<T, V, QueueKind>;

/// The kind of [`Queue`]: which kernel map types it accepts and creates.
#[derive(Debug)]
pub enum QueueKind {}

impl Sealed for QueueKind {}
impl QueueOrStackKind for QueueKind {}
impl MapKind for QueueKind {
    const CREATES: bpf_map_type::Type = bpf_map_type::BPF_MAP_TYPE_QUEUE;
    const NAME: &'static str = "Queue";
}
