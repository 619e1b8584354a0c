// lirc_mode2: refused by kernels built without CONFIG_BPF_LIRC_MODE2; counts the samples
// (pulses, spaces, timeouts) the lirc device decodes, both in `hits` and in `samples`.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "prog_counter.h"

__u64 samples;

SEC("lirc_mode2")
int decode_ir(unsigned int *sample)
{
    bump(0);
    __sync_fetch_and_add(&samples, 1);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
