// SPDX-License-Identifier: GPL-2.0-only
/*
 * flatvm-bench memory: what flatvm itself keeps resident, beyond the
 * guest RAM its guest has touched.
 *
 * Each run starts `flatvm run --kernel probe.elf --mem 256M --cmdline
 * "touch=M spin"`: the probe writes one word in every 4 KiB page of M MiB
 * of its RAM, prints PROBE_READY_LINE and halts with interrupts off (the
 * in-kernel irqchip keeps that HLT in KVM: no exits, no host CPU).  Once
 * the line is on the console the bench reads
 *
 *  /proc/PID/smaps_rollup  Rss and Pss of the whole process;
 *  /proc/PID/smaps         the Rss of the guest RAM, the memfd mapping
 *                          named "ram" ("/memfd:ram (deleted)"), and of
 *                          every other mapping, grouped for the
 *                          breakdown;
 *  /proc/PID/status        VmHWM (the peak) and RssAnon/RssFile/RssShmem;
 *
 * then stops flatvm with SIGTERM (it must exit with 0).
 *
 * Overhead = Rss - Rss of the RAM mapping: the flatvm binary and shared
 * libraries as far as they are resident (shared with other processes,
 * counted in full: Pss shares them out), heap, thread stacks, the vCPU's
 * kvm_run page.  Not included: what KVM allocates in the kernel for the
 * VM (page tables, shadow pages under PVM), which is not process memory.
 * The target is the largest overhead over the touch levels under 4 MiB.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "flatvm/compiler.h"
#include "flatvm/kvm.h"

#include "bench.h"
#include "probe.h"

#define MEMORY_GUEST_RAM	"256M"
#define MEMORY_RUNS		3u
#define MEMORY_RUNS_QUICK	1u
#define READY_TIMEOUT_NS	(10ull * 1000000000ull)
#define STOP_TIMEOUT_NS		(5ull * 1000000000ull)
#define TARGET_OVERHEAD_KIB	(4u * 1024)

static const unsigned touch_full[] = { 0, 16, 64, 128 };
static const unsigned touch_quick[] = { 0, 16 };
#define MAX_LEVELS	ARRAY_SIZE(touch_full)
#define MAX_RUNS	MEMORY_RUNS

/* Where the non-RAM resident memory is. */
enum part {
	P_BINARY,	/* the flatvm executable */
	P_LIBS,		/* shared libraries and the loader */
	P_HEAP,		/* [heap] */
	P_ANON,		/* anonymous: thread stacks, malloc arenas */
	P_STACK,	/* [stack]: the main thread's */
	P_KVM,		/* anon_inode:kvm-vcpu: the kvm_run page */
	P_OTHER,
	NR_PARTS,
};

static const char *const part_names[NR_PARTS] = {
	[P_BINARY] = "flatvm binary",
	[P_LIBS] = "shared libraries",
	[P_HEAP] = "heap",
	[P_ANON] = "anonymous (thread stacks, arenas)",
	[P_STACK] = "main stack",
	[P_KVM] = "kvm vCPU mappings",
	[P_OTHER] = "other ([vdso], ...)",
};

static const char *const part_keys[NR_PARTS] = {
	[P_BINARY] = "binary",
	[P_LIBS] = "libraries",
	[P_HEAP] = "heap",
	[P_ANON] = "anonymous",
	[P_STACK] = "stack",
	[P_KVM] = "kvm",
	[P_OTHER] = "other",
};

/* One sample of one process; KiB. */
struct sample {
	uint64_t rss, pss;		/* smaps_rollup */
	uint64_t ram;			/* the "ram" memfd mapping's Rss */
	uint64_t hwm;			/* VmHWM */
	uint64_t anon, file, shmem;	/* RssAnon, RssFile, RssShmem */
	uint64_t part[NR_PARTS];
	uint64_t touched;		/* MiB the probe reported */
};

struct level {
	unsigned touch;			/* MiB */
	struct sample runs[MAX_RUNS];
	unsigned nruns;
	const struct sample *median;	/* by overhead */
};

static uint64_t overhead(const struct sample *s)
{
	return s->rss > s->ram ? s->rss - s->ram : 0;
}

/* "Key:   1234 kB" -> 1234 if @line starts with @key. */
static bool kib_field(const char *line, const char *key, uint64_t *out)
{
	size_t n = strlen(key);

	if (strncmp(line, key, n) || line[n] != ':')
		return false;
	*out = strtoull(line + n + 1, NULL, 10);
	return true;
}

static enum part classify(const char *name)
{
	if (!*name)
		return P_ANON;
	if (!strcmp(name, FLATVM_BIN))
		return P_BINARY;
	if (strstr(name, ".so"))
		return P_LIBS;
	if (!strcmp(name, "[heap]"))
		return P_HEAP;
	if (!strcmp(name, "[stack]"))
		return P_STACK;
	if (!strncmp(name, "anon_inode:kvm", 14))
		return P_KVM;
	return P_OTHER;
}

static bool is_guest_ram(const char *name)
{
	return !strncmp(name, "/memfd:ram", 10) &&
	       (!name[10] || name[10] == ' ');
}

static int read_smaps(pid_t pid, struct sample *s, struct error *err)
{
	char path[64], line[512], name[512];
	enum part part = P_OTHER;
	bool ram = false;
	uint64_t v;
	FILE *f;
	int off;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return error_setf(err, errno, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		/* "start-end perms offset dev inode   name" */
		off = 0;
		if (sscanf(line, "%*x-%*x %*s %*x %*s %*u%n", &off) >= 0 &&
		    off > 0) {
			while (line[off] == ' ')
				off++;
			snprintf(name, sizeof(name), "%s", line + off);
			ram = is_guest_ram(name);
			part = classify(name);
			continue;
		}
		if (kib_field(line, "Rss", &v)) {
			if (ram)
				s->ram += v;
			else
				s->part[part] += v;
		}
	}
	fclose(f);
	return 0;
}

static int read_kib_fields(const char *path, const char *const *keys,
			   uint64_t **outs, unsigned n, struct error *err)
{
	char line[256];
	unsigned i;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return error_setf(err, errno, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f))
		for (i = 0; i < n; i++)
			kib_field(line, keys[i], outs[i]);
	fclose(f);
	return 0;
}

static int sample_process(pid_t pid, struct sample *s, struct error *err)
{
	static const char *const rollup_keys[] = { "Rss", "Pss" };
	static const char *const status_keys[] = {
		"VmHWM", "RssAnon", "RssFile", "RssShmem",
	};
	uint64_t *rollup[] = { &s->rss, &s->pss };
	uint64_t *status[] = { &s->hwm, &s->anon, &s->file, &s->shmem };
	char path[64];
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	ret = read_kib_fields(path, rollup_keys, rollup,
			      ARRAY_SIZE(rollup_keys), err);
	if (!ret)
		ret = read_smaps(pid, s, err);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (!ret)
		ret = read_kib_fields(path, status_keys, status,
				      ARRAY_SIZE(status_keys), err);
	if (!ret && !s->ram)
		ret = error_setf(err, ENOENT,
				 "flatvm (pid %d) has no resident /memfd:ram mapping: has the RAM region been renamed?",
				 (int)pid);
	return ret;
}

static int run_once(unsigned touch, struct sample *s, struct error *err)
{
	char cmdline[64], what[768];
	char *argv[] = {
		FLATVM_BIN, "run", "--kernel", FLATVM_PROBE_ELF,
		"--mem", MEMORY_GUEST_RAM, "--cmdline", cmdline, NULL,
	};
	struct bench_child c;
	const char *ready;
	int ret;

	snprintf(cmdline, sizeof(cmdline), "touch=%u spin", touch);
	ret = bench_child_spawn(&c, argv, err);
	if (ret)
		return ret;
	ret = bench_child_watch(&c, PROBE_READY_LINE, READY_TIMEOUT_NS);
	if (ret != 1) {
		bench_child_describe(&c, what, sizeof(what));
		bench_child_release(&c);
		return error_setf(err, EIO,
				  "flatvm with the probe (%s) %s before \"%s\": %s",
				  cmdline,
				  ret == -ETIMEDOUT ? "timed out" : "stopped",
				  PROBE_READY_LINE, what);
	}
	ready = strstr(c.out, PROBE_READY_LINE " touched=");
	if (ready)
		s->touched = strtoull(ready + strlen(PROBE_READY_LINE) + 9,
				      NULL, 10);
	ret = sample_process(c.pid, s, err);
	if (bench_child_stop(&c, SIGTERM, STOP_TIMEOUT_NS) && !ret)
		ret = error_setf(err, ETIMEDOUT,
				 "flatvm did not stop on SIGTERM within %llu s",
				 STOP_TIMEOUT_NS / 1000000000ull);
	if (!ret && (!WIFEXITED(c.status) || WEXITSTATUS(c.status))) {
		bench_child_describe(&c, what, sizeof(what));
		ret = error_setf(err, EIO, "flatvm on SIGTERM: %s; expected status 0",
				 what);
	}
	bench_child_release(&c);
	return ret;
}

/* The run with the median overhead. */
static const struct sample *median_run(const struct level *l)
{
	const struct sample *order[MAX_RUNS], *t;
	unsigned i, j;

	for (i = 0; i < l->nruns; i++)
		order[i] = &l->runs[i];
	for (i = 1; i < l->nruns; i++) {
		for (j = i; j && overhead(order[j - 1]) > overhead(order[j]);
		     j--) {
			t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	}
	return order[l->nruns / 2];
}

static double mib(uint64_t kib)
{
	return kib / 1024.0;
}

static const char *pass_str(bool ok)
{
	return ok ? "PASS" : "MISS";
}

static void print_table(const struct level *levels, unsigned n,
			const struct level *worst)
{
	const struct sample *s;
	unsigned i, p;

	printf("%-9s %10s %10s %10s %10s %10s %10s\n", "touched", "Rss MiB",
	       "RAM MiB", "overhead", "Pss ovh", "VmHWM MiB", "runs");
	for (i = 0; i < n; i++) {
		s = levels[i].median;
		printf("%5u MiB %10.2f %10.2f %10.2f %10.2f %10.2f %10u\n",
		       levels[i].touch, mib(s->rss), mib(s->ram),
		       mib(overhead(s)),
		       mib(s->pss > s->ram ? s->pss - s->ram : 0),
		       mib(s->hwm), levels[i].nruns);
	}
	s = worst->median;
	printf("\noverhead at %u MiB touched, by mapping (KiB):", worst->touch);
	for (p = 0; p < NR_PARTS; p++)
		if (s->part[p])
			printf(" %s %" PRIu64 ";", part_names[p], s->part[p]);
	printf("\nRssAnon %" PRIu64 ", RssFile %" PRIu64 ", RssShmem %" PRIu64 " KiB (the guest RAM is shmem)\n",
	       s->anon, s->file, s->shmem);
	printf("overhead = Rss (smaps_rollup) - Rss of /memfd:ram; Pss ovh shares out pages other processes map too; KVM's kernel allocations are not included\n");

	printf("\ntargets:\n");
	printf("  overhead under %u MiB at every level: %s (largest %.2f MiB, at %u MiB touched)\n",
	       TARGET_OVERHEAD_KIB / 1024,
	       pass_str(overhead(worst->median) < TARGET_OVERHEAD_KIB),
	       mib(overhead(worst->median)), worst->touch);
}

static void print_json(const struct level *levels, unsigned n,
		       const struct level *worst,
		       const struct bench_opts *opts)
{
	const struct sample *s;
	unsigned i, p;

	printf("{\n  \"mode\": \"memory\",\n");
	printf("  \"quick\": %s,\n", opts->quick ? "true" : "false");
	printf("  \"guest_ram\": \"%s\",\n", MEMORY_GUEST_RAM);
	printf("  \"levels\": [");
	for (i = 0; i < n; i++) {
		s = levels[i].median;
		printf("%s\n    {\"touch_mib\": %u, \"runs\": %u, \"rss_kib\": %" PRIu64 ", \"pss_kib\": %" PRIu64 ", \"ram_rss_kib\": %" PRIu64 ", \"overhead_kib\": %" PRIu64 ", \"vmhwm_kib\": %" PRIu64 ", \"rss_anon_kib\": %" PRIu64 ", \"rss_file_kib\": %" PRIu64 ", \"rss_shmem_kib\": %" PRIu64 ", \"parts_kib\": {",
		       i ? "," : "", levels[i].touch, levels[i].nruns, s->rss,
		       s->pss, s->ram, overhead(s), s->hwm, s->anon, s->file,
		       s->shmem);
		for (p = 0; p < NR_PARTS; p++)
			printf("%s\"%s\": %" PRIu64, p ? ", " : "",
			       part_keys[p], s->part[p]);
		printf("}}");
	}
	printf("\n  ],\n");
	printf("  \"target\": {\"overhead_limit_kib\": %u, \"worst_overhead_kib\": %" PRIu64 ", \"worst_touch_mib\": %u, \"pass\": %s}\n}\n",
	       TARGET_OVERHEAD_KIB, overhead(worst->median), worst->touch,
	       overhead(worst->median) < TARGET_OVERHEAD_KIB ? "true" : "false");
}

int bench_memory(const struct bench_opts *opts)
{
	const unsigned *touch = opts->quick ? touch_quick : touch_full;
	unsigned nlevels = opts->quick ? ARRAY_SIZE(touch_quick) :
			   ARRAY_SIZE(touch_full);
	unsigned runs = opts->quick ? MEMORY_RUNS_QUICK : MEMORY_RUNS;
	struct level levels[MAX_LEVELS] = { 0 };
	const struct level *worst = NULL;
	struct error err = { 0 };
	unsigned i, r;
	char why[256];

	if (!kvm_available(why, sizeof(why))) {
		fprintf(stderr, "flatvm-bench: memory: skipped: %s\n", why);
		return BENCH_EXIT_SKIP;
	}
	if (access(FLATVM_BIN, X_OK) || access(FLATVM_PROBE_ELF, R_OK)) {
		fprintf(stderr,
			"flatvm-bench: memory: need %s and %s: %s; build the 'flatvm' and 'guests' targets\n",
			FLATVM_BIN, FLATVM_PROBE_ELF, strerror(errno));
		return BENCH_EXIT_FAILED;
	}
	if (!opts->json) {
		printf("flatvm-bench memory: flatvm run --kernel probe.elf --mem %s --cmdline \"touch=M spin\", sampled once the probe is ready, %u run%s per level\n\n",
		       MEMORY_GUEST_RAM, runs, runs == 1 ? "" : "s");
		fflush(stdout);
	}
	for (r = 0; r < runs; r++) {
		for (i = 0; i < nlevels; i++) {
			levels[i].touch = touch[i];
			if (run_once(touch[i], &levels[i].runs[r], &err)) {
				fprintf(stderr, "flatvm-bench: memory: %s\n",
					err.msg);
				return BENCH_EXIT_FAILED;
			}
			if (levels[i].runs[r].touched != touch[i]) {
				fprintf(stderr,
					"flatvm-bench: memory: the probe says it touched %" PRIu64 " MiB; asked for %u\n",
					levels[i].runs[r].touched, touch[i]);
				return BENCH_EXIT_FAILED;
			}
			levels[i].nruns++;
		}
	}
	for (i = 0; i < nlevels; i++) {
		levels[i].median = median_run(&levels[i]);
		if (!worst ||
		    overhead(levels[i].median) > overhead(worst->median))
			worst = &levels[i];
	}
	if (opts->json)
		print_json(levels, nlevels, worst, opts);
	else
		print_table(levels, nlevels, worst);
	return BENCH_EXIT_OK;
}
