// Name lookups: a uprobe on libc's getaddrinfo() notes the host asked for, the uretprobe
// reports it with the result and the time the lookup took (as BCC's gethostlatency).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

/* BPF_KPROBE/BPF_KRETPROBE read arguments and return values of uprobes too (libbpf 1.1 has no
 * BPF_UPROBE). */

struct lookup {
    __u64 started_ns;
    __u64 latency_ns;
    __u32 pid;
    __s32 result; /* getaddrinfo's return value: 0 or an EAI_* code */
    char comm[16];
    char host[80];
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 4096);
    __type(key, __u32); /* thread id */
    __type(value, struct lookup);
} in_flight SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 64 * 1024);
} lookups SEC(".maps");

SEC("uprobe/libc.so.6:getaddrinfo")
int BPF_KPROBE(lookup_start, const char *node)
{
    __u64 id = bpf_get_current_pid_tgid();
    __u32 tid = id;
    struct lookup l = {};

    l.started_ns = bpf_ktime_get_ns();
    l.pid = id >> 32;
    bpf_get_current_comm(l.comm, sizeof(l.comm));
    bpf_probe_read_user_str(l.host, sizeof(l.host), node);
    bpf_map_update_elem(&in_flight, &tid, &l, BPF_ANY);
    return 0;
}

SEC("uretprobe/libc.so.6:getaddrinfo")
int BPF_KRETPROBE(lookup_end, int result)
{
    __u32 tid = bpf_get_current_pid_tgid();
    struct lookup *l = bpf_map_lookup_elem(&in_flight, &tid);
    struct lookup *out;

    if (!l)
        return 0;
    out = bpf_ringbuf_reserve(&lookups, sizeof(*out), 0);
    if (out) {
        *out = *l;
        out->latency_ns = bpf_ktime_get_ns() - l->started_ns;
        out->result = result;
        bpf_ringbuf_submit(out, 0);
    }
    bpf_map_delete_elem(&in_flight, &tid);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
