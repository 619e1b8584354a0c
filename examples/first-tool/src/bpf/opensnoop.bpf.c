#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct open_event {
    __u32 pid;
    __s32 flags;
    char comm[16];
    char path[256];
};

/* Only this process is watched when set (0: every process). */
const volatile __u32 target_pid = 0;

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 10240);
    __type(key, __u32);   /* pid */
    __type(value, __u64); /* opens */
} opens_by_pid SEC(".maps");

SEC("tp/syscalls/sys_enter_openat")
int trace_openat(struct trace_event_raw_sys_enter *ctx)
{
    __u32 pid = bpf_get_current_pid_tgid() >> 32;
    __u64 one = 1, *opens;
    struct open_event *e;

    if (target_pid && pid != target_pid)
        return 0;
    opens = bpf_map_lookup_elem(&opens_by_pid, &pid);
    if (opens)
        __sync_fetch_and_add(opens, 1);
    else
        bpf_map_update_elem(&opens_by_pid, &pid, &one, BPF_NOEXIST);

    e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
    if (!e)
        return 0;
    e->pid = pid;
    e->flags = (__s32)ctx->args[2];
    bpf_get_current_comm(e->comm, sizeof(e->comm));
    bpf_probe_read_user_str(e->path, sizeof(e->path), (const char *)ctx->args[1]);
    bpf_ringbuf_submit(e, 0);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
