// One whole first load of an object with libbpf in this process, timed: bpf_object__open_file
// and bpf_object__load. Prints key=value lines read by `cargo xtask bench-load`.
#include <bpf/libbpf.h>
#include <stdio.h>
#include <time.h>

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int silent(enum libbpf_print_level level, const char *format, va_list args)
{
	if (level != LIBBPF_WARN)
		return 0;
	return vfprintf(stderr, format, args);
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	double start, opened, loaded;
	int programs = 0, err;

	if (argc != 2) {
		fprintf(stderr, "usage: %s <object>\n", argv[0]);
		return 2;
	}
	libbpf_set_print(silent);
	start = now_us();
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "bpf_object__open_file(%s) failed\n", argv[1]);
		return 1;
	}
	opened = now_us();
	err = bpf_object__load(obj);
	loaded = now_us();
	if (err) {
		fprintf(stderr, "bpf_object__load(%s) failed: %d\n", argv[1], err);
		return 1;
	}
	bpf_object__for_each_program(prog, obj)
		programs += bpf_program__fd(prog) >= 0;
	printf("libbpf.programs=%d\n", programs);
	printf("libbpf.open_us=%.0f\n", opened - start);
	printf("libbpf.load_us=%.0f\n", loaded - start);
	bpf_object__close(obj);
	return 0;
}
