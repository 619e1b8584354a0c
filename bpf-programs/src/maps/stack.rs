//! LIFO stacks: `BPF_MAP_TYPE_STACK`.

use super::queue_stack::queue_like_map;

queue_like_map! {
    /// A last-in first-out stack of `V` (`BPF_MAP_TYPE_STACK`).
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
    Stack, BPF_MAP_TYPE_STACK
}
