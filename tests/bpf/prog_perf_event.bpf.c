// Counts CPU-clock samples taken while the test thread runs.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "prog_counter.h"

SEC("perf_event")
int count_samples(struct bpf_perf_event_data *ctx)
{
    if (is_target_thread())
        bump(0);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
