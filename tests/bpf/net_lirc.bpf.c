// lirc_mode2: counts the samples a lirc device receives; refused by kernels built without
// CONFIG_BPF_LIRC_MODE2.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "prog_counter.h"

SEC("lirc_mode2")
int decode_ir(unsigned int *sample)
{
    bump(0);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
