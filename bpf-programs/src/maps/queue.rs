//! FIFO queues: `BPF_MAP_TYPE_QUEUE`.

use super::queue_stack::queue_like_map;

queue_like_map! {
    /// A first-in first-out queue of `V` (`BPF_MAP_TYPE_QUEUE`).
    Queue, BPF_MAP_TYPE_QUEUE
}
