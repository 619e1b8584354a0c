// Shared by the prog_* test programs: a u32 → u64 hash map `hits` and a thread filter.
#ifndef PROG_COUNTER_H
#define PROG_COUNTER_H

// The getpid syscall's entry point (syscalls enter through an arch wrapper) and number.
#if defined(__TARGET_ARCH_arm64)
#define SYS_GETPID "__arm64_sys_getpid"
#define NR_GETPID 172
#else
#define SYS_GETPID "__x64_sys_getpid"
#define NR_GETPID 39
#endif

const volatile __u32 target_tid = 0;

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16);
    __type(key, __u32);
    __type(value, __u64);
} hits SEC(".maps");

static __always_inline void bump(__u32 key)
{
    __u64 one = 1, *value = bpf_map_lookup_elem(&hits, &key);

    if (value)
        __sync_fetch_and_add(value, 1);
    else
        bpf_map_update_elem(&hits, &key, &one, BPF_NOEXIST);
}

static __always_inline void record(__u32 key, __u64 value)
{
    bpf_map_update_elem(&hits, &key, &value, BPF_ANY);
}

static __always_inline int is_target_thread(void)
{
    return (__u32)bpf_get_current_pid_tgid() == target_tid;
}

#endif
