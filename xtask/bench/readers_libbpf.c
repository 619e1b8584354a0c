// libbpf's side of `cargo xtask bench-readers`: the same producer (map_readers.bpf.o's `emit`,
// run with BPF_PROG_TEST_RUN on CPU 0) fills a buffer, then libbpf drains it; only the drain
// is timed. Also batch and single lookups of a hash map, and a raw bpf(2) lookup loop.
// Prints key=value lines.
//
// Run it pinned to a CPU other than 0 (`taskset`), as xtask does.
//
// usage: readers_libbpf <object> ring|perf <record bytes> <cycles> <buffer bytes> <fill CPU>
//        readers_libbpf <object> lookup <entries> <single lookups>
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define BATCH 4096
/* Timed whole-map batch walks, after an untimed one. */
#define WALKS 5
/* Single lookups per timed block. */
#define LOOKUP_BLOCK 1000
/* Untimed cycles first (a tenth, and one more): the first read of each page faults it in,
 * and the CPU's caches and branch predictors settle. */
#define WARM_UP (cycles / 10 + 1)

/* The buffer's bytes (the ring buffer's, or each CPU's perf buffer's) and the CPU that fills
 * it: the consumer's own (records in its cache) or another. */
static uint32_t buffer_bytes;
static uint32_t fill_cpu;

static uint64_t sum, seen;

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of the cycles' rates: a cycle that lost the CPU to another process is an
 * outlier. */
static double median(double *rates, int n)
{
	qsort(rates, n, sizeof(*rates), by_value);
	return rates[n / 2];
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int silent(enum libbpf_print_level level, const char *format, va_list args)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, format, args) : 0;
}

/* Runs `emit` on `fill_cpu`: `count` records of `size` bytes to `target`, payload not
 * rewritten. */
static int emit(int prog_fd, uint64_t count, uint64_t target, uint64_t size)
{
	uint64_t args[6] = { fill_cpu, count, target, size, 0, 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = sizeof(args),
		    .flags = BPF_F_TEST_RUN_ON_CPU, .cpu = fill_cpu);
	int err = bpf_prog_test_run_opts(prog_fd, &opts);

	if (err) {
		fprintf(stderr, "test run: %d\n", err);
		exit(1);
	}
	return opts.retval;
}

/* Reads the first 8 bytes, as our side does; the count comes from the calls' results. */
static int on_record(void *ctx, void *data, size_t len)
{
	sum += *(uint64_t *)data;
	return 0;
}

/* Reads the first 8 bytes, as our side does; perf_buffer__consume returns no count. */
static void on_sample(void *ctx, int cpu, void *data, uint32_t len)
{
	sum += *(uint64_t *)data;
	seen++;
}

static void on_lost(void *ctx, int cpu, __u64 count)
{
	fprintf(stderr, "lost %llu samples on CPU %d\n", (unsigned long long)count, cpu);
	exit(1);
}

static struct bpf_object *open_object(const char *path, int *prog_fd)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);

	if (!obj) {
		fprintf(stderr, "open %s failed\n", path);
		exit(1);
	}
	bpf_map__set_max_entries(bpf_object__find_map_by_name(obj, "ring"), buffer_bytes);
	if (bpf_object__load(obj)) {
		fprintf(stderr, "load %s failed\n", path);
		exit(1);
	}
	*prog_fd = bpf_program__fd(bpf_object__find_program_by_name(obj, "emit"));
	return obj;
}

/* The memory's own limit, no reader library: every record's header and first 8 bytes read
 * at a stride known in advance (no record's position waits for the header before it), then
 * the space given back. Each record is `stride` bytes; all are committed when this runs. */
static uint64_t touch_in_place(int map_fd, uint64_t stride)
{
	static uint64_t *consumer_pos;
	static const uint8_t *producer;
	size_t page = getpagesize();
	uint64_t mask = buffer_bytes - 1, n = 0, pos, end;
	const uint8_t *data;

	if (!consumer_pos) {
		consumer_pos = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
		producer = mmap(NULL, page + 2 * (size_t)buffer_bytes, PROT_READ, MAP_SHARED, map_fd, page);
		if (consumer_pos == MAP_FAILED || producer == MAP_FAILED) {
			fprintf(stderr, "mmap ring: %d\n", -errno);
			exit(1);
		}
	}
	data = producer + page;
	pos = __atomic_load_n(consumer_pos, __ATOMIC_ACQUIRE);
	end = __atomic_load_n((const uint64_t *)producer, __ATOMIC_ACQUIRE);
	for (; pos < end; pos += stride, n++)
		sum += *(const uint32_t *)(data + (pos & mask)) +
		       *(const uint64_t *)(data + (pos & mask) + 8);
	__atomic_store_n(consumer_pos, end, __ATOMIC_RELEASE);
	return n;
}

static void bench_ring(const char *path, uint64_t size, int cycles)
{
	static const char *const labels[] = { "poll", "consume", "touch" };
	int prog_fd, mode;
	struct bpf_object *obj = open_object(path, &prog_fd);
	int map_fd = bpf_map__fd(bpf_object__find_map_by_name(obj, "ring"));
	struct ring_buffer *rb = ring_buffer__new(map_fd, on_record, NULL, NULL);
	uint64_t stride = (size + 8 + 7) / 8 * 8, count = buffer_bytes / stride;

	if (!rb) {
		fprintf(stderr, "ring_buffer__new: %d\n", -errno);
		exit(1);
	}
	for (mode = 0; mode < 3; mode++) {
		double *rates = calloc(cycles, sizeof(double));

		for (int c = 0; c < cycles + WARM_UP; c++) {
			uint64_t took = emit(prog_fd, count, 0, size);
			double start;

			seen = 0;
			start = now_ns();
			while (seen < took) {
				int n = mode == 0   ? ring_buffer__poll(rb, 1000) :
					mode == 1   ? ring_buffer__consume(rb) :
						      (int)touch_in_place(map_fd, stride);

				if (n < 0) {
					fprintf(stderr, "ring buffer read: %d\n", n);
					exit(1);
				}
				seen += n;
			}
			if (c >= WARM_UP)
				rates[c - WARM_UP] = seen / (now_ns() - start) * 1e9;
		}
		printf("%s.%s_per_s=%.0f\n", mode == 2 ? "bound" : "libbpf", labels[mode],
		       median(rates, cycles));
		free(rates);
	}
	printf("libbpf.checksum=%llu\n", (unsigned long long)sum);
	ring_buffer__free(rb);
	bpf_object__close(obj);
}

static void bench_perf(const char *path, uint64_t size, int cycles)
{
	int prog_fd, consume;
	struct bpf_object *obj = open_object(path, &prog_fd);
	int map_fd = bpf_map__fd(bpf_object__find_map_by_name(obj, "perf"));
	size_t pages = buffer_bytes / getpagesize();
	struct perf_buffer *pb = perf_buffer__new(map_fd, pages, on_sample, on_lost, NULL, NULL);
	/* perf_event_header, u32 size, the sample padded; a little room left over. */
	uint64_t record = 8 + 4 + ((size + 4 + 7) / 8 * 8 - 4);
	uint64_t count = buffer_bytes / record - 16;

	if (!pb) {
		fprintf(stderr, "perf_buffer__new: %d\n", -errno);
		exit(1);
	}
	for (consume = 0; consume < 2; consume++) {
		double *rates = calloc(cycles, sizeof(double));

		for (int c = 0; c < cycles + WARM_UP; c++) {
			uint64_t took = emit(prog_fd, count, 1, size);
			double start;

			seen = 0;
			start = now_ns();
			while (seen < took) {
				int n = consume ? perf_buffer__consume(pb) : perf_buffer__poll(pb, 1000);

				if (n < 0) {
					fprintf(stderr, "perf buffer read: %d\n", n);
					exit(1);
				}
			}
			if (c >= WARM_UP)
				rates[c - WARM_UP] = seen / (now_ns() - start) * 1e9;
		}
		printf("libbpf.%s_per_s=%.0f\n", consume ? "consume" : "poll", median(rates, cycles));
		free(rates);
	}
	printf("libbpf.checksum=%llu\n", (unsigned long long)sum);
	perf_buffer__free(pb);
	bpf_object__close(obj);
}

/* BPF_MAP_LOOKUP_ELEM with only the bytes the command reads, as libbpf passes them. */
static int raw_lookup(int fd, const void *key, void *value)
{
	union bpf_attr attr;
	size_t size = offsetof(union bpf_attr, flags) + sizeof(attr.flags);

	memset(&attr, 0, size);
	attr.map_fd = fd;
	attr.key = (uint64_t)(uintptr_t)key;
	attr.value = (uint64_t)(uintptr_t)value;
	return syscall(__NR_bpf, BPF_MAP_LOOKUP_ELEM, &attr, size);
}

static void bench_lookup(uint32_t entries, uint32_t singles)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "bench_hash", 4, 8, entries, NULL);
	uint32_t *keys = calloc(BATCH, 4), in = 0, out = 0, total = 0;
	uint64_t *values = calloc(BATCH, 8), value, *all_values;
	uint32_t *all_keys;
	double start, ns, rates[WALKS], *block_rates;

	if (fd < 0) {
		fprintf(stderr, "bpf_map_create: %d\n", fd);
		exit(1);
	}
	for (uint32_t base = 0; base < entries; base += BATCH) {
		uint32_t n = entries - base < BATCH ? entries - base : BATCH;

		for (uint32_t i = 0; i < n; i++) {
			keys[i] = base + i;
			values[i] = (uint64_t)(base + i) * 3;
		}
		if (bpf_map_update_batch(fd, keys, values, &n, NULL)) {
			fprintf(stderr, "bpf_map_update_batch: %d\n", -errno);
			exit(1);
		}
	}
	/* Whole map into arrays of every entry (as our batch_lookup_into keeps them all), BATCH
	 * entries per call, the arrays reused: one untimed walk, then the median of WALKS. */
	all_keys = calloc(entries, 4);
	all_values = calloc(entries, 8);
	for (int walk = 0; walk <= WALKS; walk++) {
		total = 0;
		start = now_ns();
		for (int first = 1;; first = 0) {
			uint32_t n = entries - total < BATCH ? entries - total : BATCH;
			int err = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, all_keys + total,
						       all_values + total, &n, NULL);

			total += n;
			if (err) {
				if (errno == ENOENT)
					break;
				fprintf(stderr, "bpf_map_lookup_batch: %d\n", -errno);
				exit(1);
			}
			in = out;
		}
		ns = now_ns() - start;
		if (total != entries) {
			fprintf(stderr, "batch lookup saw %u of %u entries\n", total, entries);
			exit(1);
		}
		sum += all_keys[entries - 1];
		if (walk > 0)
			rates[walk - 1] = total / ns * 1e9;
	}
	printf("libbpf.batch_per_s=%.0f\n", median(rates, WALKS));
	free(all_keys);
	free(all_values);
	/* Blocks of LOOKUP_BLOCK lookups, each timed: the median block's rate leaves out the
	 * blocks that lost the CPU to another process. */
	block_rates = calloc(singles / LOOKUP_BLOCK, sizeof(double));
	for (int raw = 0; raw < 2; raw++) {
		for (uint32_t block = 0; block < singles / LOOKUP_BLOCK; block++) {
			start = now_ns();
			for (uint32_t i = 0; i < LOOKUP_BLOCK; i++) {
				uint32_t key = (block * LOOKUP_BLOCK + i) % 1024;

				if ((raw ? raw_lookup(fd, &key, &value) :
					   bpf_map_lookup_elem(fd, &key, &value))) {
					fprintf(stderr, "lookup: %d\n", -errno);
					exit(1);
				}
				sum += value;
			}
			block_rates[block] = LOOKUP_BLOCK / (now_ns() - start) * 1e9;
		}
		printf("libbpf.%s_per_s=%.0f\n", raw ? "raw_lookup" : "lookup",
		       median(block_rates, singles / LOOKUP_BLOCK));
	}
	free(block_rates);
	printf("libbpf.checksum=%llu\n", (unsigned long long)sum);
	close(fd);
}

int main(int argc, char **argv)
{
	if (argc != 5 && argc != 7) {
		fprintf(stderr, "usage: %s <object> ring|perf|lookup <n> <m> [<bytes> <cpu>]\n", argv[0]);
		return 2;
	}
	if (argc == 7) {
		buffer_bytes = strtoul(argv[5], NULL, 0);
		fill_cpu = strtoul(argv[6], NULL, 0);
	}
	libbpf_set_print(silent);
	if (!strcmp(argv[2], "ring"))
		bench_ring(argv[1], strtoull(argv[3], NULL, 0), atoi(argv[4]));
	else if (!strcmp(argv[2], "perf"))
		bench_perf(argv[1], strtoull(argv[3], NULL, 0), atoi(argv[4]));
	else if (!strcmp(argv[2], "lookup"))
		bench_lookup(strtoul(argv[3], NULL, 0), strtoul(argv[4], NULL, 0));
	else
		return 2;
	return 0;
}
