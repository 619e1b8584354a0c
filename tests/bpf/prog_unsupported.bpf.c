// A program type with no typed wrapper in the library (a tc action): it loads as an
// `UnsupportedProgram`.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("action")
int pass_action(struct __sk_buff *skb)
{
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
