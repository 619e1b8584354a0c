// bpf_log.h from BPF programs: every argument kind on getpid(), a subprogram, an XDP program
// for the throughput benchmark and its bpf_printk twin.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "bpf_log.h"

const volatile __u32 target_tid = 0;
const char user_text[] = "from user memory";

enum color { RED, GREEN = 7 };

static __noinline int log_from_subprogram(int x)
{
	bpf_log_debug("subprogram sees %d", x);
	return x + 1;
}

SEC("tracepoint/syscalls/sys_enter_getpid")
int log_getpid(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	char comm[16];
	__u8 mac[6] = { 0x02, 0x00, 0x5e, 0x10, 0x20, 0xff };
	__u8 ip6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	enum color c = GREEN;

	if ((__u32)id != target_tid)
		return 0;
	bpf_get_current_comm(comm, sizeof(comm));
	bpf_log_info("getpid from %s tid %u", comm, (__u32)id);
	bpf_log_warn("ints %d %i %ld %u %x %X %llx %c %5d|%-4u|%05d", -5, -6, -7L, 4000000000u,
		     0xbeefu, 0xbeefu, 0x1122334455667788ULL, 'z', 42, 7u, -42);
	bpf_log_error("net %pI4 %pI6 %pM", bpf_log_ipv4(bpf_htonl(0x7f000001)), bpf_log_ipv6(ip6),
		      bpf_log_mac(mac));
	bpf_log_trace("hex %ph enum %u ptr-null %p", bpf_log_hex(mac, 6), c, (void *)0);
	bpf_log_debug("no arguments");
	bpf_log_info("bad %s", (const char *)8);
	log_from_subprogram(41);
	return 0;
}

/* A user-space address handed over in a map, read with bpf_log_ustr. */
__u64 user_pointer = 0;

SEC("tracepoint/syscalls/sys_enter_getppid")
int log_user_string(void *ctx)
{
	if ((__u32)bpf_get_current_pid_tgid() != target_tid)
		return 0;
	bpf_log_info("user says %s", bpf_log_ustr((const void *)user_pointer));
	return 0;
}

__u32 packets = 0;

SEC("xdp")
int log_bench(struct xdp_md *ctx)
{
	__u32 n = packets++;

	bpf_log_info("packet %u of %d bytes", n, (int)(ctx->data_end - ctx->data));
	return XDP_PASS;
}

SEC("xdp")
int printk_bench(struct xdp_md *ctx)
{
	__u32 n = packets++;

	bpf_printk("packet %u of %d bytes", n, (int)(ctx->data_end - ctx->data));
	return XDP_PASS;
}

/* The floor: the same two numbers as a raw ring buffer record, no formatting anywhere. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} raw_events SEC(".maps");

SEC("xdp")
int raw_bench(struct xdp_md *ctx)
{
	__u32 n = packets++;
	__u64 *r = bpf_ringbuf_reserve(&raw_events, 24, 0);

	if (r) {
		r[0] = 0;
		r[1] = n;
		r[2] = ctx->data_end - ctx->data;
		bpf_ringbuf_submit(r, 0);
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
