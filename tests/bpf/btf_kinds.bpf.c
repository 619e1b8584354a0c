// Every BTF kind the loader sanitises for older kernels, in one object: DATASEC/VAR, a global
// FUNC, ENUM64, DECL_TAG (on a variable, a function and a parameter), TYPE_TAG, FLOAT.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

enum wide_values { WIDE_SMALL = 1, WIDE_BIG = 0x1122334455667788ULL };

struct tagged {
	int __attribute__((btf_type_tag("user"))) *user_pointer;
	double ratio;
	float scale;
	enum wide_values wide;
};

struct tagged tagged_value __attribute__((btf_decl_tag("tagged_var")));
__u64 result;

__attribute__((noinline, btf_decl_tag("tagged_func")))
int scaled(int value __attribute__((btf_decl_tag("tagged_param"))))
{
	return value + (int)tagged_value.wide;
}

SEC("syscall")
int use_kinds(void *ctx)
{
	result = scaled(2);
	return 0;
}
