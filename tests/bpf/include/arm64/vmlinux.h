/* The arm64 objects' vmlinux.h: this machine's (x86) types, relocated by CO-RE against the arm64
 * guest's BTF, plus the arm64 register file that <bpf/bpf_tracing.h> reads for
 * __TARGET_ARCH_arm64 (x86 has no struct user_pt_regs). */
#include "../vmlinux.h"

#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)
#endif

struct user_pt_regs {
	__u64 regs[31];
	__u64 sp;
	__u64 pc;
	__u64 pstate;
};

#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
#pragma clang attribute pop
#endif
