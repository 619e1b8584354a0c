/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * bpf_log.h: logging from BPF programs written in C, read in user space by
 * bpf_programs::logger::BpfLogger, which forwards every record to Rust's `log` crate
 * (target = the C function holding the call, level mapped).
 *
 *     #include "vmlinux.h"            (or <linux/bpf.h> and <linux/types.h>)
 *     #include <bpf/bpf_helpers.h>
 *     #include "bpf_log.h"
 *
 *     bpf_log_info("opened %s by %d", filename, pid);
 *     bpf_log_warn("from %pI4 to %pI6, mac %pM", bpf_log_ipv4(saddr), bpf_log_ipv6(&ip6->daddr),
 *                  bpf_log_mac(eth->h_source));
 *     bpf_log_debug("payload %ph, user arg %s", bpf_log_hex(data, 16), bpf_log_ustr(uptr));
 *
 * A record is an 8-byte header (the offset of the call's site descriptor in section
 * `.bpf_log`) and one slot per argument: no text is formatted and no format string is copied
 * in the kernel. The site descriptor (level, argument kinds, format) stays in the object file;
 * the loader reads it from there. Formats are printf's: %d %i %u %x %X with l/ll/h/hh, %p, %s,
 * %c, %%, flags "-0+ #", a width and (for %s) a precision; and for the wrappers below %pI4,
 * %pI6, %pM, %ph. Arguments are at most 12. The format must be a string literal.
 *
 * Compile-time filtering: define BPF_LOG_MAX_LEVEL (BPF_LOG_LEVEL_OFF .. _TRACE, default TRACE)
 * before including; calls above it compile to nothing. Run-time filtering: the constant
 * `bpf_log_level` (same scale), set from user space before the object is opened
 * (`bpf_programs::logger::set_bpf_log_level`).
 *
 * Tunables (define before including): BPF_LOG_STR_MAX (bytes kept of a %s, default 64),
 * BPF_LOG_HEX_MAX (bytes kept of a %ph buffer, default 32), BPF_LOG_RINGBUF_SIZE (default
 * 256 KiB). Records that find the ring buffer full are counted in `bpf_log_dropped`.
 *
 * One translation unit per object includes this header (it defines the ring buffer
 * `bpf_log_events`, the globals above and the section's header symbol `__bpf_log_base`).
 */
#ifndef __BPF_LOG_H__
#define __BPF_LOG_H__

#define BPF_LOG_LEVEL_OFF 0
#define BPF_LOG_LEVEL_ERROR 1
#define BPF_LOG_LEVEL_WARN 2
#define BPF_LOG_LEVEL_INFO 3
#define BPF_LOG_LEVEL_DEBUG 4
#define BPF_LOG_LEVEL_TRACE 5

#ifndef BPF_LOG_MAX_LEVEL
#define BPF_LOG_MAX_LEVEL BPF_LOG_LEVEL_TRACE
#endif
#ifndef BPF_LOG_STR_MAX
#define BPF_LOG_STR_MAX 64
#endif
#ifndef BPF_LOG_HEX_MAX
#define BPF_LOG_HEX_MAX 32
#endif
#ifndef BPF_LOG_RINGBUF_SIZE
#define BPF_LOG_RINGBUF_SIZE (256 * 1024)
#endif

#if BPF_LOG_STR_MAX % 8 != 0 || BPF_LOG_HEX_MAX % 8 != 0
#error "BPF_LOG_STR_MAX and BPF_LOG_HEX_MAX must be multiples of 8"
#endif

#define __BPF_LOG_STR2(x) #x
#define __BPF_LOG_STR(x) __BPF_LOG_STR2(x)

/* The section starts with a 16-byte header: magic, version, string and hex slot sizes. */
asm(".pushsection .bpf_log,\"a\",@progbits\n"
    ".globl __bpf_log_base\n"
    ".hidden __bpf_log_base\n"
    "__bpf_log_base:\n"
    ".ascii \"BPFLOG\"\n"
    ".byte 1, 0\n"
    ".long " __BPF_LOG_STR(BPF_LOG_STR_MAX) ", " __BPF_LOG_STR(BPF_LOG_HEX_MAX) "\n"
    ".popsection\n");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, BPF_LOG_RINGBUF_SIZE);
} bpf_log_events SEC(".maps");

/* Records above this level are not written; set from user space before the object opens. */
const volatile __u32 bpf_log_level = BPF_LOG_MAX_LEVEL;
/* Records lost to a full ring buffer. */
__u64 bpf_log_dropped = 0;

/* Argument wrappers: where the bytes to show live and how to show them. */
struct bpf_log_ustr { const void *ptr; };
struct bpf_log_ipv4 { __u32 addr; };
struct bpf_log_ipv6 { const void *ptr; };
struct bpf_log_mac { const void *ptr; };
struct bpf_log_hex { const void *ptr; __u32 len; };

/* A NUL-terminated string in user memory (%s). */
static __always_inline struct bpf_log_ustr bpf_log_ustr(const void *ptr)
{
	return (struct bpf_log_ustr){ ptr };
}
/* An IPv4 address in network byte order, as in iphdr and sockets (%pI4). */
static __always_inline struct bpf_log_ipv4 bpf_log_ipv4(__u32 addr)
{
	return (struct bpf_log_ipv4){ addr };
}
/* The 16 bytes of an IPv6 address at ptr (%pI6). */
static __always_inline struct bpf_log_ipv6 bpf_log_ipv6(const void *ptr)
{
	return (struct bpf_log_ipv6){ ptr };
}
/* The 6 bytes of a MAC address at ptr (%pM). */
static __always_inline struct bpf_log_mac bpf_log_mac(const void *ptr)
{
	return (struct bpf_log_mac){ ptr };
}
/* len bytes at ptr (at most BPF_LOG_HEX_MAX are kept) as hex (%ph). */
static __always_inline struct bpf_log_hex bpf_log_hex(const void *ptr, __u32 len)
{
	return (struct bpf_log_hex){ ptr, len };
}

/* Argument kinds, as user space decodes them (bpf_core::log::ArgKind). */
#define __BPF_LOG_UNSUPPORTED 0
#define __BPF_LOG_I8 1
#define __BPF_LOG_I16 2
#define __BPF_LOG_I32 3
#define __BPF_LOG_I64 4
#define __BPF_LOG_U8 5
#define __BPF_LOG_U16 6
#define __BPF_LOG_U32 7
#define __BPF_LOG_U64 8
#define __BPF_LOG_PTR 9
#define __BPF_LOG_KSTR 10
#define __BPF_LOG_USTR 11
#define __BPF_LOG_IPV4 12
#define __BPF_LOG_IPV6 13
#define __BPF_LOG_MAC 14
#define __BPF_LOG_HEX 15

/* Pointers and enums reach `default`; a struct passed by value is refused at compile time. */
#define __bpf_log_other_kind(x)                                                            \
	(__builtin_classify_type(x) == 5 ? __BPF_LOG_PTR                                   \
	 : __builtin_classify_type(x) == 12 || __builtin_classify_type(x) == 13             \
		 ? __BPF_LOG_UNSUPPORTED                                                   \
	 : sizeof(x) == 1 ? __BPF_LOG_U8                                                   \
	 : sizeof(x) == 2 ? __BPF_LOG_U16                                                  \
	 : sizeof(x) == 4 ? __BPF_LOG_U32                                                  \
	 : sizeof(x) == 8 ? __BPF_LOG_U64                                                  \
			  : __BPF_LOG_UNSUPPORTED)

#define __bpf_log_kind(x)                                                                  \
	_Generic((x),                                                                      \
		_Bool: __BPF_LOG_U8,                                                       \
		char: __BPF_LOG_I8,                                                        \
		signed char: __BPF_LOG_I8,                                                 \
		unsigned char: __BPF_LOG_U8,                                               \
		short: __BPF_LOG_I16,                                                      \
		unsigned short: __BPF_LOG_U16,                                             \
		int: __BPF_LOG_I32,                                                        \
		unsigned int: __BPF_LOG_U32,                                               \
		long: __BPF_LOG_I64,                                                       \
		unsigned long: __BPF_LOG_U64,                                              \
		long long: __BPF_LOG_I64,                                                  \
		unsigned long long: __BPF_LOG_U64,                                         \
		char *: __BPF_LOG_KSTR,                                                    \
		const char *: __BPF_LOG_KSTR,                                              \
		volatile char *: __BPF_LOG_KSTR,                                           \
		const volatile char *: __BPF_LOG_KSTR,                                     \
		struct bpf_log_ustr: __BPF_LOG_USTR,                                       \
		struct bpf_log_ipv4: __BPF_LOG_IPV4,                                       \
		struct bpf_log_ipv6: __BPF_LOG_IPV6,                                       \
		struct bpf_log_mac: __BPF_LOG_MAC,                                         \
		struct bpf_log_hex: __BPF_LOG_HEX,                                         \
		default: __bpf_log_other_kind(x))

/* Bytes an argument takes in a record: 8, or 8 (status) + the bytes copied. */
#define __bpf_log_slot(x)                                                                  \
	(__bpf_log_kind(x) == __BPF_LOG_KSTR || __bpf_log_kind(x) == __BPF_LOG_USTR         \
		 ? 8 + BPF_LOG_STR_MAX                                                     \
	 : __bpf_log_kind(x) == __BPF_LOG_IPV6 ? 24                                        \
	 : __bpf_log_kind(x) == __BPF_LOG_MAC	? 16                                        \
	 : __bpf_log_kind(x) == __BPF_LOG_HEX	? 8 + BPF_LOG_HEX_MAX                       \
						: 8)

/* Writes one argument at `pos` of the record and advances `pos` (a compile-time constant). */
#define __bpf_log_put(rec, pos, x)                                                         \
	do {                                                                               \
		__auto_type __bpf_log_a = (x);                                             \
		void *__bpf_log_s = (void *)(rec) + (pos);                                 \
		const void *__bpf_log_p = 0;                                               \
		_Static_assert(__bpf_log_kind(x) != __BPF_LOG_UNSUPPORTED,                 \
			       "bpf_log: argument type not supported (wrap it: bpf_log_hex, ...)"); \
		if (sizeof(__bpf_log_a) >= sizeof(__bpf_log_p))                            \
			__builtin_memcpy(&__bpf_log_p, &__bpf_log_a, sizeof(__bpf_log_p)); \
		if (__bpf_log_kind(x) == __BPF_LOG_KSTR) {                                 \
			*(__s64 *)__bpf_log_s = bpf_probe_read_kernel_str(                 \
				__bpf_log_s + 8, BPF_LOG_STR_MAX, __bpf_log_p);            \
		} else if (__bpf_log_kind(x) == __BPF_LOG_USTR) {                          \
			*(__s64 *)__bpf_log_s = bpf_probe_read_user_str(                   \
				__bpf_log_s + 8, BPF_LOG_STR_MAX, __bpf_log_p);            \
		} else if (__bpf_log_kind(x) == __BPF_LOG_IPV6) {                          \
			*(__s64 *)__bpf_log_s =                                            \
				bpf_probe_read_kernel(__bpf_log_s + 8, 16, __bpf_log_p);   \
		} else if (__bpf_log_kind(x) == __BPF_LOG_MAC) {                           \
			*(__s64 *)__bpf_log_s =                                            \
				bpf_probe_read_kernel(__bpf_log_s + 8, 6, __bpf_log_p);    \
		} else if (__bpf_log_kind(x) == __BPF_LOG_HEX) {                           \
			__u32 __bpf_log_n = 0;                                             \
			long __bpf_log_r;                                                  \
			if (sizeof(__bpf_log_a) > 8)                                       \
				__builtin_memcpy(&__bpf_log_n, (char *)&__bpf_log_a + 8, 4); \
			if (__bpf_log_n > BPF_LOG_HEX_MAX)                                 \
				__bpf_log_n = BPF_LOG_HEX_MAX;                             \
			__bpf_log_r = bpf_probe_read_kernel(__bpf_log_s + 8, __bpf_log_n,  \
							    __bpf_log_p);                  \
			*(__s64 *)__bpf_log_s = __bpf_log_r < 0 ? __bpf_log_r : __bpf_log_n; \
		} else {                                                                   \
			__u64 __bpf_log_v = 0;                                             \
			__builtin_memcpy(&__bpf_log_v, &__bpf_log_a,                       \
					 sizeof(__bpf_log_a) < 8 ? sizeof(__bpf_log_a) : 8); \
			*(__u64 *)__bpf_log_s = __bpf_log_v;                               \
		}                                                                          \
		(pos) += __bpf_log_slot(x);                                                \
	} while (0)

/* Preprocessor plumbing: count the arguments and apply a macro to each (at most 12). */
#define __BPF_LOG_NTH(_0, _1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, N, ...) N
#define __BPF_LOG_NARGS(...)                                                               \
	__BPF_LOG_NTH(_, ##__VA_ARGS__, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define __BPF_LOG_CAT2(a, b) a##b
#define __BPF_LOG_CAT(a, b) __BPF_LOG_CAT2(a, b)
#define __BPF_LOG_MAP(m, s, ...) __BPF_LOG_CAT(__BPF_LOG_MAP_, __BPF_LOG_NARGS(__VA_ARGS__))(m, s, ##__VA_ARGS__)
#define __BPF_LOG_MAP_0(m, s)
#define __BPF_LOG_MAP_1(m, s, a) m(a)
#define __BPF_LOG_MAP_2(m, s, a, ...) m(a) s() __BPF_LOG_MAP_1(m, s, __VA_ARGS__)
#define __BPF_LOG_MAP_3(m, s, a, ...) m(a) s() __BPF_LOG_MAP_2(m, s, __VA_ARGS__)
#define __BPF_LOG_MAP_4(m, s, a, ...) m(a) s() __BPF_LOG_MAP_3(m, s, __VA_ARGS__)
#define __BPF_LOG_MAP_5(m, s, a, ...) m(a) s() __BPF_LOG_MAP_4(m, s, __VA_ARGS__)
#define __BPF_LOG_MAP_6(m, s, a, ...) m(a) s() __BPF_LOG_MAP_5(m, s, __VA_ARGS__)
#define __BPF_LOG_MAP_7(m, s, a, ...) m(a) s() __BPF_LOG_MAP_6(m, s, __VA_ARGS__)
#define __BPF_LOG_MAP_8(m, s, a, ...) m(a) s() __BPF_LOG_MAP_7(m, s, __VA_ARGS__)
#define __BPF_LOG_MAP_9(m, s, a, ...) m(a) s() __BPF_LOG_MAP_8(m, s, __VA_ARGS__)
#define __BPF_LOG_MAP_10(m, s, a, ...) m(a) s() __BPF_LOG_MAP_9(m, s, __VA_ARGS__)
#define __BPF_LOG_MAP_11(m, s, a, ...) m(a) s() __BPF_LOG_MAP_10(m, s, __VA_ARGS__)
#define __BPF_LOG_MAP_12(m, s, a, ...) m(a) s() __BPF_LOG_MAP_11(m, s, __VA_ARGS__)
/* Separators are passed by name and called, so that they survive argument expansion. */
#define __BPF_LOG_COMMA() ,
#define __BPF_LOG_NOTHING()
#define __bpf_log_put_here(x) __bpf_log_put(__bpf_log_rec, __bpf_log_pos, x);
#define __bpf_log_plus_slot(x) +__bpf_log_slot(x)

/* The site descriptor: level, argument count and kinds, then the format (NUL-terminated). */
#define __bpf_log(lvl, fmt, ...)                                                           \
	({                                                                                 \
		static const struct {                                                      \
			__u8 level;                                                        \
			__u8 nargs;                                                        \
			__u8 kinds[12];                                                    \
			char format[sizeof(fmt)];                                          \
		} __bpf_log_site __attribute__((section(".bpf_log"), used)) = {            \
			(lvl),                                                             \
			__BPF_LOG_NARGS(__VA_ARGS__),                                      \
			{ __BPF_LOG_MAP(__bpf_log_kind, __BPF_LOG_COMMA, ##__VA_ARGS__) }, \
			fmt,                                                               \
		};                                                                         \
		if ((lvl) <= bpf_log_level) {                                              \
			__u64 __bpf_log_off;                                               \
			char *__bpf_log_rec;                                               \
			__u32 __bpf_log_pos = 8;                                           \
			(void)__bpf_log_pos;                                               \
			asm volatile("%0 = %1 - __bpf_log_base ll"                         \
				     : "=r"(__bpf_log_off)                                 \
				     : "i"(&__bpf_log_site));                              \
			__bpf_log_rec = bpf_ringbuf_reserve(                               \
				&bpf_log_events,                                           \
				8 __BPF_LOG_MAP(__bpf_log_plus_slot, __BPF_LOG_NOTHING,     \
						##__VA_ARGS__),                            \
				0);                                                        \
			if (__bpf_log_rec) {                                               \
				*(__u64 *)__bpf_log_rec = __bpf_log_off;                   \
				__BPF_LOG_MAP(__bpf_log_put_here, __BPF_LOG_NOTHING, ##__VA_ARGS__) \
				bpf_ringbuf_submit(__bpf_log_rec, 0);                      \
			} else {                                                           \
				__sync_fetch_and_add(&bpf_log_dropped, 1);                 \
			}                                                                  \
		}                                                                          \
	})

#if BPF_LOG_MAX_LEVEL >= BPF_LOG_LEVEL_ERROR
#define bpf_log_error(fmt, ...) __bpf_log(BPF_LOG_LEVEL_ERROR, fmt, ##__VA_ARGS__)
#else
#define bpf_log_error(fmt, ...) ((void)0)
#endif
#if BPF_LOG_MAX_LEVEL >= BPF_LOG_LEVEL_WARN
#define bpf_log_warn(fmt, ...) __bpf_log(BPF_LOG_LEVEL_WARN, fmt, ##__VA_ARGS__)
#else
#define bpf_log_warn(fmt, ...) ((void)0)
#endif
#if BPF_LOG_MAX_LEVEL >= BPF_LOG_LEVEL_INFO
#define bpf_log_info(fmt, ...) __bpf_log(BPF_LOG_LEVEL_INFO, fmt, ##__VA_ARGS__)
#else
#define bpf_log_info(fmt, ...) ((void)0)
#endif
#if BPF_LOG_MAX_LEVEL >= BPF_LOG_LEVEL_DEBUG
#define bpf_log_debug(fmt, ...) __bpf_log(BPF_LOG_LEVEL_DEBUG, fmt, ##__VA_ARGS__)
#else
#define bpf_log_debug(fmt, ...) ((void)0)
#endif
#if BPF_LOG_MAX_LEVEL >= BPF_LOG_LEVEL_TRACE
#define bpf_log_trace(fmt, ...) __bpf_log(BPF_LOG_LEVEL_TRACE, fmt, ##__VA_ARGS__)
#else
#define bpf_log_trace(fmt, ...) ((void)0)
#endif

#endif /* __BPF_LOG_H__ */
