//! FIFO queues: `BPF_MAP_TYPE_QUEUE`.

use super::kind;
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
pub type Queue<T, V> = QueueOrStack<T, V, kind::Queue>;
