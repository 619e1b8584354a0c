// CO-RE test: compiled plain (local BTF + relocations) and with -DTARGET (target BTF only).
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#ifndef TARGET
#define PAI __attribute__((preserve_access_index))
#else
#define PAI
#endif

struct inner {
#ifdef TARGET
	long pad;
#endif
	int a;
	int b;
} PAI;

struct sample {
#ifdef TARGET
	long newfield;
#endif
	int x;
	long y;
	struct inner in;
#ifdef TARGET
	int arr[8];
#else
	int arr[4];
#endif
	union {
		int u1;
		long u2;
	};
#ifdef TARGET
	unsigned int pad2 : 7;
#endif
	unsigned int bf1 : 3;
#ifdef TARGET
	unsigned int bf2 : 6;
#else
	unsigned int bf2 : 5;
#endif
	int sbf : 4;
#ifdef TARGET
	unsigned long widened;
	long signed_widened;
#else
	unsigned int widened;
	int signed_widened;
	int missing;
#endif
	char *ptr;
} PAI;

/* Flavored local name: matches target `struct flavored`. */
struct flavored___v2 {
	int only;
} PAI;

#ifdef TARGET
struct flavored {
	long before;
	int only;
};
#endif

/* Flexible array member, like bpf_raw_tracepoint_args. */
struct fam {
#ifdef TARGET
	long pad;
#endif
	int n;
	__u64 args[0];
} PAI;

enum color {
#ifdef TARGET
	BLUE = 5,
	RED = 7,
	GREEN = 9,
#else
	RED,
	GREEN,
	BLUE,
	PURPLE,
#endif
};

enum big64 {
#ifdef TARGET
	BIG = 0x300000000ULL,
#else
	BIG = 0x100000000ULL,
#endif
};

struct tm_same {
	int a;
#ifdef TARGET
	int extra;
#endif
};

struct tm_diff {
#ifdef TARGET
	long a;
#else
	int a;
#endif
};

struct only_local {
	int z;
};

#ifdef TARGET
/* Two flavors with different layouts: relocating `struct amb` must fail as ambiguous. */
struct amb___one {
	int x;
};
struct amb___two {
	long pad;
	int x;
};
#else
struct amb {
	int x;
} PAI;
#endif

__u64 out[32];

#ifdef TARGET
struct sample s_target;
struct flavored f_target;
struct fam fam_target;
enum color c_target;
enum big64 b_target;
struct tm_same tms_target;
struct tm_diff tmd_target;
struct amb___one a1_target;
struct amb___two a2_target;
#else
SEC("tp/fields")
int fields(struct sample *s)
{
	out[0] = s->x;
	out[1] = s->y;
	out[2] = s->in.b;
	out[3] = s->arr[3];
	out[4] = s->u2;
	out[5] = BPF_CORE_READ_BITFIELD(s, bf1);
	out[6] = BPF_CORE_READ_BITFIELD(s, bf2);
	out[7] = BPF_CORE_READ_BITFIELD(s, sbf);
	out[8] = s->widened;
	out[9] = (long)s->ptr;
	out[10] = bpf_core_field_size(s->in);
	out[11] = bpf_core_field_offset(s->arr[2]);
	out[12] = bpf_core_field_exists(s->y);
	return 0;
}

SEC("tp/missing")
int missing(struct sample *s)
{
	out[13] = bpf_core_field_exists(s->missing);
	if (bpf_core_field_exists(s->missing))
		out[14] = s->missing;
	out[15] = s->signed_widened;
	return 0;
}

SEC("tp/types")
int types(void *ctx)
{
	out[16] = bpf_core_type_exists(struct sample);
	out[17] = bpf_core_type_exists(struct only_local);
	out[18] = bpf_core_type_size(struct sample);
	out[19] = bpf_core_type_id_kernel(struct sample);
	out[20] = bpf_core_type_id_local(struct sample);
	out[21] = bpf_core_type_matches(struct tm_same);
	out[22] = bpf_core_type_matches(struct tm_diff);
	return 0;
}

SEC("tp/enums")
int enums(void *ctx)
{
	out[23] = bpf_core_enum_value_exists(enum color, GREEN);
	out[24] = bpf_core_enum_value(enum color, GREEN);
	out[25] = bpf_core_enum_value_exists(enum color, PURPLE);
	out[26] = bpf_core_enum_value(enum color, PURPLE);
	out[27] = bpf_core_enum_value(enum big64, BIG);
	return 0;
}

SEC("tp/flavors")
int flavors(struct flavored___v2 *f)
{
	out[28] = f->only;
	return 0;
}

SEC("tp/fam")
int fam(struct fam *f)
{
	out[29] = f->args[5];
	out[30] = f->n;
	return 0;
}

SEC("tp/ambiguous")
int ambiguous(struct amb *a)
{
	out[31] = a->x;
	return 0;
}
#endif

char LICENSE[] SEC("license") = "GPL";
