// Types for bpf-core's BTF → Rust generator: bitfields, packed and nested layouts, unions,
// enums, names Rust reserves, and kernel structs, each a global initialised with known values
// the generated Rust must read back from .data (bpf-core/tests/btf_rust_types.rs).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

enum mood { MOOD_SAD = -3, MOOD_OK = 0, MOOD_HAPPY = 5 };
enum small_flag : unsigned char { FLAG_NONE = 0, FLAG_ALL = 255 };
enum wide_value : unsigned long long { WIDE_LOW = 1, WIDE_HIGH = 0x100000000ULL };

struct bits {
	unsigned int low: 3;
	int negative: 5;
	_Bool flag: 1;
	enum mood mood: 4;
	unsigned long long big: 40;
	unsigned short tail;
};

struct packed_header {
	__u8 kind;
	__u32 length;
	__u16 port;
} __attribute__((packed));

union number {
	__u32 word;
	__u64 quad;
	char text[12];
};

/* Field and type names Rust reserves. */
struct match {
	int type;
	int self;
	__u32 u32;
};

typedef struct {
	int x;
	int y;
} point_t;

struct event {
	__u32 pid;
	char comm[16];
	struct bits bits;
	struct packed_header header;
	union number number;
	point_t where;
	struct match match;
	enum mood mood;
	enum small_flag small;
	enum wide_value wide;
	union {
		int as_int;
		float as_float;
	};
	struct {
		__u8 a;
		__u64 b;
	} nested;
	unsigned __int128 huge;
	void *pointer;
	int (*callback)(int);
	__u64 data[];
};

struct event the_event = {
	.pid = 4242,
	.comm = "btf-types",
	.bits = { .low = 5, .negative = -7, .flag = 1, .mood = MOOD_HAPPY, .big = 0x123456789aULL, .tail = 0xbeef },
	.header = { .kind = 9, .length = 0x01020304, .port = 8080 },
	.number = { .quad = 0x1122334455667788ULL },
	.where = { .x = -1, .y = 2 },
	.match = { .type = 3, .self = 4, .u32 = 5 },
	.mood = MOOD_SAD,
	.small = FLAG_ALL,
	.wide = WIDE_HIGH,
	.as_int = 77,
	.nested = { .a = 1, .b = 0xfeedULL },
	.huge = 3,
	.pointer = 0,
};

struct packed_header a_header = { .kind = 1, .length = 2, .port = 3 };

/* Kernel structs by value, so the object's BTF holds them and what they contain. */
struct task_struct a_task;
struct sk_buff a_skb;
struct file a_file;
struct inode an_inode;
struct sock a_sock;
struct bpf_prog a_prog;
struct pt_regs some_regs;
struct trace_event_raw_sched_switch a_switch;
