// The `__bpf_usdt_specs` value layout of newer libbpf headers (libbpf 1.7: SIB arguments, the
// argument type packed with the index register into bitfields), declared here for the layout
// tests of bpf-core's usdt module: Debian's libbpf-dev 1.1 header has the older layout.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

enum __bpf_usdt_arg_type {
    BPF_USDT_ARG_CONST,
    BPF_USDT_ARG_REG,
    BPF_USDT_ARG_REG_DEREF,
    BPF_USDT_ARG_SIB,
};

struct __bpf_usdt_arg_spec {
    __u64 val_off;
    enum __bpf_usdt_arg_type arg_type : 8;
    __u16 idx_reg_off : 12;
    __u16 scale_bitshift : 4;
    __u8 __reserved : 8;
    short reg_off;
    bool arg_signed;
    char arg_bitshift;
};

struct __bpf_usdt_spec {
    struct __bpf_usdt_arg_spec args[12];
    __u64 usdt_cookie;
    short arg_cnt;
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 256);
    __type(key, int);
    __type(value, struct __bpf_usdt_spec);
} __bpf_usdt_specs SEC(".maps");

char LICENSE[] SEC("license") = "GPL";
