// Loader behaviour: CO-RE against the kernel, per-program failures (CO-RE, extern), pinning by
// name, map-in-map and prog-array slots filled from `.values`, globals. Run via BPF_PROG_TEST_RUN.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

const volatile __u64 rodata_constant = 1;
__u64 bss_result;

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 8);
    __type(key, __u32);
    __type(value, __u64);
    __uint(pinning, LIBBPF_PIN_BY_NAME);
} pinned_counts SEC(".maps");

struct inner {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} inner_a SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
    __uint(max_entries, 2);
    __type(key, __u32);
    __array(values, struct inner);
} outer SEC(".maps") = {
    .values = { [0] = &inner_a },
};

int tail_target(void *ctx);

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __array(values, int(void *));
} jump_table SEC(".maps") = {
    .values = { [1] = (void *)&tail_target },
};

// A view of task_struct with a field no kernel has.
struct task_struct___fictional {
    int nonexistent_field_xyz;
} __attribute__((preserve_access_index));

extern const void no_such_ksym_xyz __ksym;
extern int LINUX_KERNEL_VERSION __kconfig;
extern bool CONFIG_BPF_SYSCALL __kconfig;
extern int CONFIG_HZ __kconfig;

SEC("raw_tp")
int core_read_pid(void *ctx)
{
    struct task_struct *task = (void *)bpf_get_current_task();
    __u32 key = 0;
    __u64 pid = BPF_CORE_READ(task, pid);

    bpf_map_update_elem(&pinned_counts, &key, &pid, BPF_ANY);
    bss_result = pid * rodata_constant;
    return 0;
}

SEC("raw_tp")
int core_missing_field(void *ctx)
{
    struct task_struct___fictional *task = (void *)bpf_get_current_task();

    return BPF_CORE_READ(task, nonexistent_field_xyz);
}

SEC("raw_tp")
int core_guarded_field(void *ctx)
{
    struct task_struct___fictional *task = (void *)bpf_get_current_task();

    if (bpf_core_field_exists(task->nonexistent_field_xyz))
        return BPF_CORE_READ(task, nonexistent_field_xyz);
    return 7;
}

SEC("raw_tp")
int uses_missing_ksym(void *ctx)
{
    return (long)&no_such_ksym_xyz & 1;
}

SEC("raw_tp")
int tail_entry(void *ctx)
{
    bpf_tail_call(ctx, &jump_table, 1);
    return 1;
}

SEC("raw_tp")
int tail_target(void *ctx)
{
    return 42;
}

SEC("raw_tp")
int kernel_major(void *ctx)
{
    return LINUX_KERNEL_VERSION >> 16;
}

SEC("raw_tp")
int kernel_config_hz(void *ctx)
{
    return CONFIG_BPF_SYSCALL ? CONFIG_HZ : 0;
}

char LICENSE[] SEC("license") = "GPL";
