// Times libbpf's btf__parse of vmlinux BTF; prints key=value lines read by `cargo xtask bench-btf`.
#include <bpf/btf.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#define ITERATIONS 50

static long peak_rss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/sys/kernel/btf/vmlinux";
	double samples[ITERATIONS];
	long base = peak_rss_kb();
	struct btf *btf = btf__parse(path, NULL);

	if (!btf) {
		fprintf(stderr, "btf__parse(%s) failed\n", path);
		return 1;
	}
	printf("libbpf.types=%u\n", btf__type_cnt(btf));
	printf("libbpf.rss_kb=%ld\n", peak_rss_kb() - base);
	btf__free(btf);
	for (int i = 0; i < ITERATIONS; i++) {
		double start = now_us();

		btf = btf__parse(path, NULL);
		samples[i] = now_us() - start;
		btf__free(btf);
	}
	qsort(samples, ITERATIONS, sizeof(samples[0]), cmp);
	printf("libbpf.parse_us_min=%.0f\n", samples[0]);
	printf("libbpf.parse_us_median=%.0f\n", samples[ITERATIONS / 2]);
	return 0;
}
