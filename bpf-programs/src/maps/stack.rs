//! LIFO stacks: `BPF_MAP_TYPE_STACK`.

use super::queue_stack::queue_like_map;

queue_like_map! {
    /// A last-in first-out stack of `V` (`BPF_MAP_TYPE_STACK`).
    Stack, BPF_MAP_TYPE_STACK
}
