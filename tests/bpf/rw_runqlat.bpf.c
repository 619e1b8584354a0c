// In the style of libbpf-tools' runqlat: tp_btf and raw_tp variants of the same handlers sharing
// static subprograms, CO-RE field existence checks, bpf_core_type_exists, a histogram in .bss,
// a cgroup-array filter and a stack-trace map whose size the loader sets at run time.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "rw_compat.h"

#define MAX_ENTRIES 10240
#define MAX_SLOTS 26
#define TASK_RUNNING 0

const volatile bool filter_cg = false;
const volatile bool targ_per_process = false;
const volatile pid_t targ_tgid = 0;

struct hist {
    __u32 slots[MAX_SLOTS];
    char comm[16];
};

struct {
    __uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
    __type(key, u32);
    __type(value, u32);
    __uint(max_entries, 1);
} cgroup_map SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, MAX_ENTRIES);
    __type(key, u32);
    __type(value, u64);
} start SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_STACK_TRACE);
    __uint(key_size, sizeof(u32));
    __uint(value_size, 127 * sizeof(u64));
} stacks SEC(".maps");

struct hist hists[1];
__u64 switches;
__u64 wakeups;

static __always_inline u64 log2(u32 v)
{
    u32 shift, r;

    r = (v > 0xFFFF) << 4; v >>= r;
    shift = (v > 0xFF) << 3; v >>= shift; r |= shift;
    shift = (v > 0xF) << 2; v >>= shift; r |= shift;
    shift = (v > 0x3) << 1; v >>= shift; r |= shift;
    r |= (v >> 1);
    return r;
}

static __noinline int trace_enqueue(u32 tgid, u32 pid)
{
    u64 ts;

    if (!pid)
        return 0;
    if (targ_tgid && targ_tgid != tgid)
        return 0;
    ts = bpf_ktime_get_ns();
    bpf_map_update_elem(&start, &pid, &ts, BPF_ANY);
    __sync_fetch_and_add(&wakeups, 1);
    return 0;
}

static __always_inline unsigned int get_task_state(void *task)
{
    struct task_struct___x *t = task;

    if (bpf_core_field_exists(t->__state))
        return BPF_CORE_READ(t, __state);
    return BPF_CORE_READ((struct task_struct___o *)task, state);
}

static __noinline int handle_switch(bool preempt, struct task_struct *prev, struct task_struct *next)
{
    u64 *tsp, slot, delta;
    u32 pid;
    struct hist *histp;

    if (filter_cg && !bpf_current_task_under_cgroup(&cgroup_map, 0))
        return 0;
    if (get_task_state(prev) == TASK_RUNNING)
        trace_enqueue(BPF_CORE_READ(prev, tgid), BPF_CORE_READ(prev, pid));

    pid = BPF_CORE_READ(next, pid);
    tsp = bpf_map_lookup_elem(&start, &pid);
    __sync_fetch_and_add(&switches, 1);
    if (!tsp)
        return 0;
    delta = bpf_ktime_get_ns() - *tsp;
    histp = &hists[0];
    slot = log2(delta / 1000U);
    if (slot >= MAX_SLOTS)
        slot = MAX_SLOTS - 1;
    __sync_fetch_and_add(&histp->slots[slot], 1);
    bpf_map_delete_elem(&start, &pid);
    return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(sched_wakeup, struct task_struct *p)
{
    return trace_enqueue(p->tgid, p->pid);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
    return handle_switch(preempt, prev, next);
}

SEC("raw_tp/sched_wakeup")
int BPF_PROG(handle_sched_wakeup, struct task_struct *p)
{
    return trace_enqueue(BPF_CORE_READ(p, tgid), BPF_CORE_READ(p, pid));
}

SEC("raw_tp/sched_switch")
int BPF_PROG(handle_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
    return handle_switch(preempt, prev, next);
}

SEC("perf_event")
int sample_stack(struct bpf_perf_event_data *ctx)
{
    bpf_get_stackid(ctx, &stacks, 0);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
