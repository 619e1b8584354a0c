// Externs: .kconfig values, typed and typeless ksyms, kfunc calls, weak externs.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern bool CONFIG_BPF_SYSCALL __kconfig;
extern enum libbpf_tristate CONFIG_NET_SCH_INGRESS __kconfig;
extern int CONFIG_HZ __kconfig;
extern char CONFIG_LOCALVERSION[16] __kconfig __weak;
extern __u64 CONFIG_MISSING_OPTION __kconfig __weak;

extern const int bpf_prog_active __ksym;
extern const void init_task __ksym;
extern const void absent_symbol __ksym __weak;

__u64 out[8];
__s32 kfunc_target = 1;
__s64 kfunc_pid = -1;

SEC("syscall")
int use_externs(void *ctx)
{
	out[0] = LINUX_KERNEL_VERSION;
	out[1] = CONFIG_BPF_SYSCALL;
	out[2] = CONFIG_NET_SCH_INGRESS;
	out[3] = CONFIG_HZ + CONFIG_MISSING_OPTION;
	out[4] = CONFIG_LOCALVERSION[0];
	out[5] = (__u64)&init_task;
	out[6] = (__u64)&absent_symbol;
	out[7] = (__u64)*(const int *)bpf_this_cpu_ptr(&bpf_prog_active);
	return 0;
}

// Kfuncs apart, so the externs above load on kernels that predate these kfuncs (6.1).
SEC("syscall")
int use_kfuncs(void *ctx)
{
	struct task_struct *task;

	bpf_rcu_read_lock();
	task = bpf_task_from_pid(kfunc_target);
	if (task) {
		kfunc_pid = task->pid;
		bpf_task_release(task);
	}
	bpf_rcu_read_unlock();
	return 0;
}
