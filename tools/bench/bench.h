/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * flatvm-bench: what the modes share.  main.c parses the command line into
 * a struct bench_opts and hands it to the mode; each mode prints its own
 * table (or one JSON object with --json) on stdout.
 */
#ifndef FLATVM_BENCH_H
#define FLATVM_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "flatvm/boot.h"
#include "flatvm/error.h"
#include "flatvm/kvm.h"
#include "flatvm/memory.h"

/* Exit codes.  A missed target is not a failure: it is a result. */
enum {
	BENCH_EXIT_OK = 0,
	BENCH_EXIT_FAILED = 1,		/* something could not be set up */
	BENCH_EXIT_USAGE = 2,		/* unknown mode or option */
	BENCH_EXIT_SKIP = 77,		/* no /dev/kvm to measure with */
};

/**
 * struct bench_opts - the options every mode understands.
 * @seconds: how long each measured configuration runs.
 * @quick: tiny durations, for a smoke test; @seconds is already reduced.
 * @json: print one JSON object instead of the human table.
 * @no_pin: leave thread placement to the scheduler.  By default reader i
 *	runs on CPU i and the churn thread on the last CPU, so a measurement
 *	does not depend on where the scheduler happens to put them.
 * @out: report: the directory to write to (NULL: ./flatvm-report).
 * @from: report: render this report.json again instead of measuring.
 */
struct bench_opts {
	double seconds;
	bool quick;
	bool json;
	bool no_pin;
	const char *out;
	const char *from;
};

/**
 * bench_dispatch() - the `dispatch` mode: in-process MMIO dispatch through
 * flatvm's RCU-published flat view against two lock-based baselines.
 * @opts: parsed options.
 *
 * Return: BENCH_EXIT_OK, or BENCH_EXIT_FAILED if the measurement could not
 * be set up or torn down cleanly (the reason is on stderr).
 */
int bench_dispatch(const struct bench_opts *opts);

/**
 * bench_exit() - the `exit` mode: guest-timed round trips of port I/O,
 * MMIO and ioeventfd writes through flatvm (machine_create() and
 * machine_run()) against a bare KVM_RUN loop in this process.
 * @opts: parsed options (@quick, @json, @no_pin).
 *
 * Return: BENCH_EXIT_OK, BENCH_EXIT_SKIP without /dev/kvm, or
 * BENCH_EXIT_FAILED (the reason is on stderr).
 */
int bench_exit(const struct bench_opts *opts);

/**
 * bench_startup() - the `startup` mode: wall time from exec of `flatvm
 * run` to its first console byte and to its exit, for the built-in guest
 * and the probe, and QEMU's microvm with the probe when it is installed.
 * @opts: parsed options (@quick, @json).
 *
 * Return: as bench_exit().
 */
int bench_startup(const struct bench_opts *opts);

/**
 * bench_memory() - the `memory` mode: flatvm's resident memory beyond the
 * guest RAM its guest touched, with the probe holding still after
 * touching a known amount.
 * @opts: parsed options (@quick, @json).
 *
 * Return: as bench_exit().
 */
int bench_memory(const struct bench_opts *opts);

/**
 * bench_hotplug() - the `hotplug` mode: device_add and device_del
 * latency through the QMP control socket of a `flatvm run` child, with
 * the guest idle and with it accessing the device, and a guest's MMIO
 * latency on another device while test devices are plugged and
 * unplugged in a loop.
 * @opts: parsed options (@quick, @json).
 *
 * Return: as bench_exit().
 */
int bench_hotplug(const struct bench_opts *opts);

/**
 * bench_report() - the `report` mode (report.c): everything above that
 * concerns a guest's device accesses, in one run, written as report.md,
 * report.json and gnuplot plots in @opts->out; or, with @opts->from, an
 * earlier report.json rendered again.
 * @opts: parsed options (@quick, @out, @from).
 *
 * Return: as bench_exit().
 */
int bench_report(const struct bench_opts *opts);

/* ---- The floor: a bare KVM_RUN loop (floor.c) ---------------------------- */

/**
 * struct bench_floor - a VM run with no VMM around it: KVM, one memslot,
 * the probe's ioeventfd, and a loop that answers exits with a constant.
 * @as: guest memory as an address space (the loader writes through it,
 *	the bench reads the probe's results through it).
 * @vcpu: the one vCPU, set up by x86_setup_vcpu().
 * @tsc_khz: the vCPU's TSC rate (KVM_GET_TSC_KHZ).
 */
struct bench_floor {
	struct kvm kvm;
	bool kvm_open;
	struct memory_region *sysmem;
	struct memory_region *ram;
	struct address_space as;
	bool as_ready;
	struct vcpu vcpu;
	bool vcpu_ready;
	int notify_fd;
	struct boot_info boot;
	uint32_t tsc_khz;
};

/**
 * bench_floor_create() - a VM with @mem_size bytes of RAM at 0 running
 * @kernel (an image boot_load_kernel() takes) with @cmdline; with
 * @irqchip, flatvm's in-kernel irqchip and PIT too.  The caller is a
 * registered RCU thread, online.
 * Return: the VM, or NULL with @err saying why.
 */
struct bench_floor *bench_floor_create(const char *kernel, const char *cmdline,
				       uint64_t mem_size, bool irqchip,
				       struct error *err);

/**
 * bench_floor_run() - KVM_RUN until the probe's last port write or a HLT
 * exit.  Touches nothing RCU-protected: call it offline.
 * Return: 0, or a negative errno with @err naming the exit or the error.
 */
int bench_floor_run(struct bench_floor *f, struct error *err);

/*
 * bench_floor_run() from a registered RCU thread that is online: offline
 * around it, and its host time in *@ns.
 */
int bench_floor_run_timed(struct bench_floor *f, uint64_t *ns,
			  struct error *err);

/* NULL is fine. */
void bench_floor_destroy(struct bench_floor *f);

/*
 * The host's TSC rate, which guests run at (no VMM here scales it): a
 * throwaway vCPU's KVM_GET_TSC_KHZ.  Return: 0, or a negative errno with
 * @err saying why.
 */
int bench_tsc_khz(uint32_t *khz, struct error *err);

/* ---- Child processes (child.c) ----------------------------------------- */

#define BENCH_CHILD_OUT_MAX	16384

/**
 * struct bench_child - a VMM process the bench started: its console
 * (stdout) on a pipe we read, its stderr kept in a memfd for error
 * messages, stdin /dev/null.
 * @pid: its process id.
 * @pidfd: readable once it has exited.
 * @out_fd: the read end of its stdout, non-blocking; -1 after EOF.
 * @err_fd: a memfd holding its stderr.
 * @start_ns: CLOCK_MONOTONIC just before posix_spawn().
 * @first_ns: when its first stdout byte arrived; 0 if none yet.
 * @exit_ns: when its exit was seen (the pidfd became readable); 0 while
 *	it runs.
 * @status: its wait status, once @exit_ns is set.
 * @out: the first BENCH_CHILD_OUT_MAX - 1 bytes it printed, NUL-terminated.
 * @out_len: bytes in @out.
 */
struct bench_child {
	pid_t pid;
	int pidfd;
	int out_fd;
	int err_fd;
	uint64_t start_ns;
	uint64_t first_ns;
	uint64_t exit_ns;
	int status;
	char out[BENCH_CHILD_OUT_MAX];
	size_t out_len;
};

/**
 * bench_child_spawn() - start @argv[0] (a path) with @argv.
 * Return: 0, or a negative errno with @err saying what failed.
 */
int bench_child_spawn(struct bench_child *c, char *const argv[],
		      struct error *err);

/**
 * bench_child_watch() - read the child's console until @needle (if not
 * NULL) has appeared in it with the rest of its line, or the child has
 * exited and its console reached EOF, or @timeout_ns passed.
 * Return: 1 when @needle appeared, 0 when the child exited, -ETIMEDOUT.
 */
int bench_child_watch(struct bench_child *c, const char *needle,
		      uint64_t timeout_ns);

/**
 * bench_child_stop() - send @sig (unless 0) and wait up to @timeout_ns for
 * the exit, then SIGKILL it.  Return: 0 if it exited in time, -ETIMEDOUT.
 */
int bench_child_stop(struct bench_child *c, int sig, uint64_t timeout_ns);

/**
 * bench_child_run() - run @argv[0] (a path) to its end: spawn, watch,
 * killed after @timeout_ns.  Its output is in @c->out; release @c after.
 * Return: 0 if it exited with status 0 and its whole output was kept,
 * or a negative errno with @err saying what happened (its stderr's first
 * line included).
 */
int bench_child_run(struct bench_child *c, char *const argv[],
		    uint64_t timeout_ns, struct error *err);

/* Kill it if it still runs, reap it, close everything. */
void bench_child_release(struct bench_child *c);

/* "exited with status 3" or "killed by signal 9"; then its stderr. */
void bench_child_describe(const struct bench_child *c, char *buf,
			  size_t len);

/* @s as a JSON string on stdout, quotes and escapes included. */
void bench_json_string(const char *s);

/* ---- Statistics -------------------------------------------------------- */

void bench_sort_u32(uint32_t *v, size_t n);
void bench_sort_u64(uint64_t *v, size_t n);
void bench_sort_double(double *v, size_t n);

/* Per-round figures: at most this many values are looked at. */
#define BENCH_MEDIAN_MAX	64

/* The median of @n values (a copy is sorted); 0 if none. */
double bench_median(const double *v, size_t n);

/* The median of @a[i] - @b[i] over i < @n: rounds paired. */
double bench_paired_median(const double *a, const double *b, size_t n);

/*
 * Nearest rank: the index of the @p quantile (0..1) of @n > 0 sorted
 * values, the ceil(p * n)-th smallest (the smallest for p = 0).
 */
static inline size_t bench_rank(size_t n, double p)
{
	double x = p * (double)n;
	size_t r;

	if (x < 1)
		return 0;
	if (x >= (double)n)
		return n - 1;
	r = (size_t)x;			/* ceil without libm */
	if ((double)r < x)
		r++;
	return r - 1;
}

/* The @p quantile of @n sorted values, nearest rank; 0 if empty. */
static inline uint32_t bench_quantile_u32(const uint32_t *sorted, size_t n,
					  double p)
{
	return n ? sorted[bench_rank(n, p)] : 0;
}

static inline uint64_t bench_quantile_u64(const uint64_t *sorted, size_t n,
					  double p)
{
	return n ? sorted[bench_rank(n, p)] : 0;
}

/* CLOCK_MONOTONIC in nanoseconds. */
static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* CPU time of the calling thread in nanoseconds. */
static inline uint64_t bench_thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif /* FLATVM_BENCH_H */
