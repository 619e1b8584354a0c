// lirc_mode2: refused by kernels built without CONFIG_BPF_LIRC_MODE2.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("lirc_mode2")
int decode_ir(unsigned int *sample)
{
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
