// bpf_log.h with BPF_LOG_MAX_LEVEL at INFO: debug and trace calls compile to nothing.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#define BPF_LOG_MAX_LEVEL BPF_LOG_LEVEL_INFO
#include "bpf_log.h"

const volatile __u32 target_tid = 0;

SEC("tracepoint/syscalls/sys_enter_getpid")
int log_filtered(void *ctx)
{
	if ((__u32)bpf_get_current_pid_tgid() != target_tid)
		return 0;
	bpf_log_error("error %d", 1);
	bpf_log_warn("warn %d", 2);
	bpf_log_info("info %d", 3);
	bpf_log_debug("debug %d", 4);
	bpf_log_trace("trace %d", 5);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
