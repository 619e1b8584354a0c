//! Program arrays for tail calls: `BPF_MAP_TYPE_PROG_ARRAY`.

use super::fd_array::fd_array_map;

fd_array_map! {
    /// Tail-call targets by index (`BPF_MAP_TYPE_PROG_ARRAY`): `bpf_tail_call(ctx, map, index)`.
    ProgramArray, BPF_MAP_TYPE_PROG_ARRAY, "program"
}
