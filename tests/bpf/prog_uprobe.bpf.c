// Uprobes on a function of the test binary: entry, return, multi; records cookies.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

const volatile __u32 target_tid = 0;

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 8);
    __type(key, __u32);
    __type(value, __u64);
} hits SEC(".maps");

// Key 0: entries, 1: returns, 2: multi hits, 3: last cookie, 4: last return value,
// 5: section-targeted probe hits, 6: pattern-targeted uprobe.multi hits.
static void bump(__u32 key, __u64 by)
{
    __u64 *value = bpf_map_lookup_elem(&hits, &key);

    if (value)
        __sync_fetch_and_add(value, by);
    else
        bpf_map_update_elem(&hits, &key, &by, BPF_NOEXIST);
}

static void set(__u32 key, __u64 v)
{
    bpf_map_update_elem(&hits, &key, &v, BPF_ANY);
}

static int mine(void)
{
    return (__u32)bpf_get_current_pid_tgid() == target_tid;
}

SEC("uprobe")
int count_entry(struct pt_regs *ctx)
{
    if (!mine())
        return 0;
    bump(0, 1);
    // bpf cookies came with Linux 5.15; elsewhere the call is dead code the verifier drops.
    if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_attach_cookie))
        set(3, bpf_get_attach_cookie(ctx));
    return 0;
}

SEC("uretprobe")
int count_return(struct pt_regs *ctx)
{
    if (!mine())
        return 0;
    bump(1, 1);
    set(4, PT_REGS_RC(ctx));
    return 0;
}

SEC("uprobe.multi")
int count_multi(struct pt_regs *ctx)
{
    if (!mine())
        return 0;
    bump(2, 1);
    // bpf cookies came with Linux 5.15; elsewhere the call is dead code the verifier drops.
    if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_attach_cookie))
        set(3, bpf_get_attach_cookie(ctx));
    return 0;
}

// Every function of the test binary named uprobe_test_*.
SEC("uprobe.multi//proc/self/exe:uprobe_test_*")
int count_multi_pattern(struct pt_regs *ctx)
{
    if (!mine())
        return 0;
    bump(6, 1);
    return 0;
}

// The target is the test binary itself, as the process sees it.
SEC("uprobe//proc/self/exe:uprobe_test_other")
int count_other(struct pt_regs *ctx)
{
    if (mine())
        bump(5, 1);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
