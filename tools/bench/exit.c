// SPDX-License-Identifier: GPL-2.0-only
/*
 * flatvm-bench exit: what a guest's access to a device costs, round trip,
 * through flatvm and through the least any VMM could do.
 *
 * The guest is the probe (tests/guests/probe.c, interface in probe.h).
 * Told "kind=K count=N", it times N accesses of kind K to the test
 * device's SCRATCH register (NOTIFY for ioeventfd), each alone between two
 * "lfence; rdtsc; lfence" stamps, after min(N, 1024) empty windows (the
 * same stamps around nothing), and leaves the ticks in a results block at
 * guest-physical PROBE_RESULTS_ADDR; then it stops the VM.
 *
 *  flatvm: machine_create() with the probe as its kernel and
 *          machine_run(): the vCPU thread goes offline across KVM_RUN and
 *          dispatches each exit through the machine's RCU-published flat
 *          views to devices/testdev.c; ioeventfd writes stay in KVM.  The
 *          results block is read after machine_run() returned, through
 *          address_space_read() on an address space over the machine's
 *          system memory region (/machine/system), before
 *          machine_destroy().
 *  floor:  a VM made here with /dev/kvm (floor.c: kvm_open(), one
 *          memslot over a RAM region, the same probe loaded by
 *          boot_load_kernel() and x86_setup_vcpu(), the same KVM_IOEVENTFD
 *          on NOTIFY, no irqchip) run by a loop of KVM_RUN and a switch on
 *          exit_reason that fills read data with a constant (all ones, so
 *          the probe finds neither a test device nor a busy UART), until
 *          the probe's last port write or its HLT.
 *  floor+irq: the same with flatvm's kernel-side configuration
 *          (KVM_SET_TSS_ADDR, in-kernel irqchip and PIT, the LAPIC set up
 *          by x86_setup_vcpu()).  flatvm against it is flatvm's user-space
 *          cost alone; it against the floor is what the irqchip costs
 *          inside KVM.
 *
 * Every run is a new VM.  A round runs every kind on every side, the
 * side order rotating, plus kind=none (N empty windows: the same loop
 * with no access), after one warm-up run per side.  Figures per kind and
 * side, ticks converted with KVM_GET_TSC_KHZ of a floor's vCPU (all the
 * VMs run at the host's TSC rate; none sets one):
 *
 *  p50:         the median over the rounds of each run's median window
 *               minus that run's median empty window (the timer's own
 *               cost): the access instruction's round trip alone;
 *  p90/p99:     quantiles of the windows of all rounds pooled, minus the
 *               pooled median empty window;
 *  mean:        (the guest's whole timed loop for K - the same for none,
 *               same side and round) / N, the median over the rounds:
 *               every access, outliers included, by the guest's TSC;
 *  wall:        (host CLOCK_MONOTONIC around machine_run() or the KVM_RUN
 *               loop for K - the same for none) / N, the median over the
 *               rounds: the cross-check, independent of the TSC.  VM
 *               creation and teardown are outside; boot, console output
 *               and stopping cancel out.
 *
 * The target is flatvm within 2% of the (bare) floor at p50, per kind:
 * the median is what an exit costs, the mean adds whatever interrupted
 * the host (both are printed).  The p50 overhead is paired: the median
 * over the rounds of flatvm's run against the floor's run of the same
 * round, so a stretch of time when the host ran everything slower counts
 * once, not against one side.  A miss is a result, not an error.
 * The guest's TSC, as KVM emulates RDTSC here, moves in steps of about
 * 10 ns: below that nothing is resolved.
 *
 * By default every thread is pinned to one CPU (the last one we may use),
 * flatvm's vCPU and event-loop threads included: they inherit the mask.
 * --no-pin leaves placement to the scheduler.
 *
 * On this host (PVM) the probe's instructions run in KVM's emulator, so
 * the few instructions of the timer cost about a microsecond each; that
 * is why the empty window is measured and subtracted rather than ignored.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flatvm/compiler.h"
#include "flatvm/kvm.h"
#include "flatvm/machine.h"
#include "flatvm/rcu.h"

#include "bench.h"
#include "probe.h"

#define EXIT_MEM		(64ull << 20)
#define EXIT_COUNT		10000u
#define EXIT_COUNT_QUICK	300u
#define EXIT_ROUNDS		5u
#define EXIT_ROUNDS_QUICK	3u
#define MAX_ROUNDS		EXIT_ROUNDS
#define WARMUP_COUNT		100u
#define TARGET_OVERHEAD		0.02

_Static_assert(EXIT_MEM >= PROBE_MIN_RAM, "the probe's results block");

/* The measured kinds; PROBE_NONE is the baseline run. */
static const unsigned kinds[] = {
	PROBE_PIO_READ, PROBE_PIO_WRITE, PROBE_MMIO_READ, PROBE_MMIO_WRITE,
	PROBE_IOEVENTFD,
};

enum side { SIDE_FLATVM, SIDE_FLOOR, SIDE_FLOOR_IRQ, NR_SIDES };

static const char *const side_names[NR_SIDES] = {
	[SIDE_FLATVM] = "flatvm",
	[SIDE_FLOOR] = "floor",
	[SIDE_FLOOR_IRQ] = "floor+irq",
};

static const char *const side_keys[NR_SIDES] = {
	[SIDE_FLATVM] = "flatvm",
	[SIDE_FLOOR] = "floor",
	[SIDE_FLOOR_IRQ] = "floor_irqchip",
};

/**
 * struct series - every run of one kind on one side, pooled.
 * @samples: the per-access windows (ticks), @nsamples of them.
 * @empty: the empty windows (ticks), @nempty of them.
 * @run_p50: per run (= per round), its median window minus its median
 *	empty window, ticks; @nruns of them.
 * @run_loop: per run, the guest's whole timed loop, ticks.
 * @run_wall: per run, host time around the VM's run, ns.
 */
struct series {
	uint32_t *samples;
	size_t nsamples;
	uint32_t *empty;
	size_t nempty;
	double run_p50[MAX_ROUNDS];
	double run_loop[MAX_ROUNDS];
	double run_wall[MAX_ROUNDS];
	unsigned nruns;
};

/* What is printed for one kind on one side; ns, net of the timer. */
struct figures {
	double timer;		/* median empty window */
	double raw_p50;		/* median window, timer included */
	double p50, p90, p99;
	double mean;
	double wall;
};

struct exit_bench {
	const struct bench_opts *opts;
	uint32_t count;
	unsigned rounds;
	uint32_t tsc_khz;
	int null_fd;
	int cpu;			/* pinned to, or -1 */
	struct series s[NR_SIDES][PROBE_NR_KINDS];
	struct figures f[NR_SIDES][PROBE_NR_KINDS];
};

static double ticks_ns(const struct exit_bench *b, double ticks)
{
	return ticks * 1e6 / b->tsc_khz;
}

/* ---- The results block --------------------------------------------------- */

/*
 * Read the probe's results through @as and append them to @s (NULL: a
 * warm-up, only checked).  The block is guest memory: everything in it
 * is checked before it is used.
 */
static int results_collect(struct address_space *as, unsigned kind,
			   uint32_t count, struct series *s, struct error *err)
{
	uint32_t nempty = count < PROBE_MAX_EMPTY ? count : PROBE_MAX_EMPTY;
	struct probe_results r;

	if (s && s->nruns >= MAX_ROUNDS)
		return error_setf(err, E2BIG, "more runs than rounds");
	if (address_space_read(as, PROBE_RESULTS_ADDR, &r, sizeof(r)))
		return error_setf(err, EFAULT,
				  "the probe's results block at %#x is not in guest RAM",
				  PROBE_RESULTS_ADDR);
	if (r.magic != PROBE_MAGIC || r.version != PROBE_VERSION)
		return error_setf(err, EPROTO,
				  "the probe left no results (magic %#x, version %u; expected %#x, %u): did it run to the end?",
				  r.magic, r.version, PROBE_MAGIC, PROBE_VERSION);
	if (r.status != PROBE_OK || r.kind != kind || r.count != count ||
	    r.nempty != nempty)
		return error_setf(err, EPROTO,
				  "the probe reports status %u, kind %s, %u accesses and %u empty windows; expected status 0, kind %s, %u and %u",
				  r.status, probe_kind_name(r.kind), r.count,
				  r.nempty, probe_kind_name(kind), count, nempty);
	if (!s)
		return 0;
	if (address_space_read(as, PROBE_RESULTS_ADDR + PROBE_SAMPLES_OFFSET,
			       s->samples + s->nsamples,
			       (uint64_t)count * sizeof(uint32_t)) ||
	    address_space_read(as, PROBE_RESULTS_ADDR + PROBE_EMPTY_OFFSET,
			       s->empty + s->nempty,
			       (uint64_t)nempty * sizeof(uint32_t)))
		return error_setf(err, EFAULT,
				  "the probe's samples are not in guest RAM");
	/* This run's own median, net of its own timer (sorting its slice). */
	bench_sort_u32(s->samples + s->nsamples, count);
	bench_sort_u32(s->empty + s->nempty, nempty);
	s->run_p50[s->nruns] =
		(double)bench_quantile_u32(s->samples + s->nsamples, count,
					   0.5) -
		(double)bench_quantile_u32(s->empty + s->nempty, nempty, 0.5);
	s->run_loop[s->nruns] = (double)r.loop_ticks;
	s->nruns++;
	s->nsamples += count;
	s->nempty += nempty;
	return 0;
}

static void probe_cmdline(char *buf, size_t len, unsigned kind,
			  uint32_t count)
{
	snprintf(buf, len, "kind=%s count=%u", probe_kind_name(kind), count);
}

/* ---- flatvm ------------------------------------------------------------ */

/* Read the results through the machine's own system memory region. */
static int flatvm_collect(unsigned kind, uint32_t count, struct series *s,
			  struct error *err)
{
	struct address_space peek;
	struct object *obj;
	int ret;

	obj = object_resolve_path("/machine/system");
	if (!obj || !object_is_a(obj, &memory_region_class)) {
		object_unref(obj);
		return error_setf(err, ENOENT,
				  "the machine has no /machine/system memory region to read the probe's results from");
	}
	ret = address_space_init(&peek, to_memory_region(obj), "bench-peek",
				 err);
	if (!ret) {
		ret = results_collect(&peek, kind, count, s, err);
		address_space_destroy(&peek);
	}
	object_unref(obj);
	return ret;
}

static int run_flatvm(struct exit_bench *b, unsigned kind, uint32_t count,
		      struct series *s, struct error *err)
{
	char cmdline[64];
	struct machine_config cfg = {
		.kernel = FLATVM_PROBE_ELF,
		.cmdline = cmdline,
		.mem_size = EXIT_MEM,
		.ncpus = 1,
		.console_in = -1,
		.console_out = b->null_fd,
	};
	struct machine *m;
	uint64_t t0, t1;
	int status, ret;

	probe_cmdline(cmdline, sizeof(cmdline), kind, count);
	m = machine_create(&cfg, err);
	if (!m) {
		error_prepend(err, "flatvm, %s: machine_create: ", cmdline);
		return err->code ? err->code : -EINVAL;
	}
	t0 = bench_now_ns();
	status = machine_run(m);
	t1 = bench_now_ns();
	ret = flatvm_collect(kind, count, s, err);
	if (!ret && status)
		ret = error_setf(err, EIO,
				 "flatvm stopped with status %d after the probe finished",
				 status);
	machine_destroy(m);
	if (ret) {
		error_prepend(err, "flatvm, %s: ", cmdline);
		return ret;
	}
	if (s)
		s->run_wall[s->nruns - 1] = (double)(t1 - t0);
	return 0;
}

static int run_floor(struct exit_bench *b, bool irqchip, unsigned kind,
		     uint32_t count, struct series *s, struct error *err)
{
	char cmdline[64];
	struct bench_floor *f;
	uint64_t ns;
	int ret;

	probe_cmdline(cmdline, sizeof(cmdline), kind, count);
	f = bench_floor_create(FLATVM_PROBE_ELF, cmdline, EXIT_MEM, irqchip,
			       err);
	if (!f) {
		error_prepend(err, "%s, %s: ", irqchip ? "floor+irq" : "floor",
			      cmdline);
		return err->code ? err->code : -EINVAL;
	}
	b->tsc_khz = f->tsc_khz;
	ret = bench_floor_run_timed(f, &ns, err);
	if (!ret)
		ret = results_collect(&f->as, kind, count, s, err);
	bench_floor_destroy(f);
	if (ret) {
		error_prepend(err, "%s, %s: ", irqchip ? "floor+irq" : "floor",
			      cmdline);
		return ret;
	}
	if (s)
		s->run_wall[s->nruns - 1] = (double)ns;
	return 0;
}

/* ---- The bench --------------------------------------------------------- */

static int run_one(struct exit_bench *b, enum side side, unsigned kind,
		   uint32_t count, struct series *s, struct error *err)
{
	if (side == SIDE_FLATVM)
		return run_flatvm(b, kind, count, s, err);
	return run_floor(b, side == SIDE_FLOOR_IRQ, kind, count, s, err);
}

static int series_alloc(struct exit_bench *b)
{
	uint32_t nempty = b->count < PROBE_MAX_EMPTY ? b->count :
			  PROBE_MAX_EMPTY;
	struct series *s;
	unsigned side, k;

	for (side = 0; side < NR_SIDES; side++) {
		for (k = 0; k < PROBE_NR_KINDS; k++) {
			s = &b->s[side][k];
			s->samples = calloc((size_t)b->rounds * b->count,
					    sizeof(*s->samples));
			s->empty = calloc((size_t)b->rounds * nempty,
					  sizeof(*s->empty));
			if (!s->samples || !s->empty)
				return -ENOMEM;
		}
	}
	return 0;
}

static void series_free(struct exit_bench *b)
{
	unsigned side, k;

	for (side = 0; side < NR_SIDES; side++) {
		for (k = 0; k < PROBE_NR_KINDS; k++) {
			free(b->s[side][k].samples);
			free(b->s[side][k].empty);
		}
	}
}

static int measure(struct exit_bench *b, struct error *err)
{
	unsigned round, i, k, order, side;
	int ret;

	/* Warm-up: the first VM of each kind pays for cold caches. */
	for (side = 0; side < NR_SIDES; side++) {
		ret = run_one(b, side, PROBE_PIO_READ, WARMUP_COUNT, NULL,
			      err);
		if (ret)
			return ret;
	}
	for (round = 0; round < b->rounds; round++) {
		for (i = 0; i <= ARRAY_SIZE(kinds); i++) {
			k = i ? kinds[i - 1] : PROBE_NONE;
			for (order = 0; order < NR_SIDES; order++) {
				side = (order + round + i) % NR_SIDES;
				ret = run_one(b, side, k, b->count,
					      &b->s[side][k], err);
				if (ret)
					return ret;
			}
		}
	}
	return 0;
}

static void figures_compute(struct exit_bench *b)
{
	const struct series *s, *none;
	struct figures *f;
	unsigned side, k, n;
	double timer;

	for (side = 0; side < NR_SIDES; side++) {
		none = &b->s[side][PROBE_NONE];
		for (k = 0; k < PROBE_NR_KINDS; k++) {
			s = &b->s[side][k];
			f = &b->f[side][k];
			bench_sort_u32(s->samples, s->nsamples);
			bench_sort_u32(s->empty, s->nempty);
			timer = bench_quantile_u32(s->empty, s->nempty, 0.5);
			f->timer = ticks_ns(b, timer);
			f->raw_p50 = ticks_ns(b, bench_quantile_u32(s->samples,
						s->nsamples, 0.5));
			f->p50 = ticks_ns(b, bench_median(s->run_p50, s->nruns));
			f->p90 = ticks_ns(b, bench_quantile_u32(s->samples,
					  s->nsamples, 0.9)) - f->timer;
			f->p99 = ticks_ns(b, bench_quantile_u32(s->samples,
					  s->nsamples, 0.99)) - f->timer;
			if (k == PROBE_NONE)
				continue;
			n = s->nruns < none->nruns ? s->nruns : none->nruns;
			f->mean = ticks_ns(b, bench_paired_median(s->run_loop,
					   none->run_loop, n) / b->count);
			f->wall = bench_paired_median(s->run_wall,
						      none->run_wall, n) /
				  b->count;
		}
	}
}

/* ---- Output ------------------------------------------------------------ */

static double overhead(double flatvm, double floor)
{
	return floor > 0 ? flatvm / floor - 1 : 0;
}

/*
 * flatvm's p50 overhead against @base for kind @k: the median over the
 * rounds of each round's ratio, so a round the host slowed down as a
 * whole (both sides ran in it, back to back) weighs no more than another.
 */
static double kind_overhead(const struct exit_bench *b, enum side base,
			    unsigned k)
{
	const struct series *fv = &b->s[SIDE_FLATVM][k], *fl = &b->s[base][k];
	double ratio[MAX_ROUNDS];
	unsigned r, n = 0;

	for (r = 0; r < fv->nruns && r < fl->nruns; r++)
		if (fl->run_p50[r] > 0)
			ratio[n++] = fv->run_p50[r] / fl->run_p50[r] - 1;
	return bench_median(ratio, n);
}

/*
 * How far the floor's own per-round medians for kind @k spread (largest
 * over smallest, minus one): what the host's noise does to a figure that
 * should not move.  An overhead below it is not resolved.
 */
static double floor_spread(const struct exit_bench *b, unsigned k)
{
	const struct series *fl = &b->s[SIDE_FLOOR][k];
	double lo = 0, hi = 0;
	unsigned r;

	for (r = 0; r < fl->nruns; r++) {
		if (!r || fl->run_p50[r] < lo)
			lo = fl->run_p50[r];
		if (!r || fl->run_p50[r] > hi)
			hi = fl->run_p50[r];
	}
	return lo > 0 ? hi / lo - 1 : 0;
}

static bool kind_pass(const struct exit_bench *b, unsigned k)
{
	return kind_overhead(b, SIDE_FLOOR, k) <= TARGET_OVERHEAD;
}

static void print_row(const char *kind, const char *side,
		      const struct figures *f)
{
	printf("%-11s %-14s %9.0f %9.0f %9.0f %9.0f %9.0f %9.0f\n", kind,
	       side, f->p50, f->p90, f->p99, f->mean, f->wall, f->raw_p50);
}

static void print_overhead_row(const struct figures *fv,
			       const struct figures *fl, double p50,
			       const char *what)
{
	printf("%-11s %-14s %+8.1f%% %+8.1f%% %+8.1f%% %+8.1f%% %+8.1f%%\n",
	       "", what, p50 * 100,
	       overhead(fv->p90, fl->p90) * 100,
	       overhead(fv->p99, fl->p99) * 100,
	       overhead(fv->mean, fl->mean) * 100,
	       overhead(fv->wall, fl->wall) * 100);
}

static void print_table(const struct exit_bench *b)
{
	const struct figures *fv, *fl, *fi;
	unsigned i, k, side, passed = 0;

	printf("timer (median empty window, subtracted below):");
	for (side = 0; side < NR_SIDES; side++)
		printf(" %s %.0f ns%s", side_names[side],
		       b->f[side][PROBE_NONE].timer,
		       side + 1 < NR_SIDES ? "," : "\n\n");
	printf("%-11s %-14s %9s %9s %9s %9s %9s %9s\n", "kind", "", "p50 ns",
	       "p90 ns", "p99 ns", "mean ns", "wall ns", "raw p50");
	for (i = 0; i < ARRAY_SIZE(kinds); i++) {
		k = kinds[i];
		fv = &b->f[SIDE_FLATVM][k];
		fl = &b->f[SIDE_FLOOR][k];
		fi = &b->f[SIDE_FLOOR_IRQ][k];
		for (side = 0; side < NR_SIDES; side++)
			print_row(side ? "" : probe_kind_name(k),
				  side_names[side], &b->f[side][k]);
		print_overhead_row(fv, fl, kind_overhead(b, SIDE_FLOOR, k),
				   "flatvm/floor");
		print_overhead_row(fv, fi, kind_overhead(b, SIDE_FLOOR_IRQ, k),
				   "flatvm/f+irq");
	}
	printf("\np50: median over rounds of each run's median window minus its median empty window\n"
	       "(guest TSC); p90/p99: all rounds pooled, minus the pooled median empty window;\n"
	       "p50 overhead: median over rounds of the paired per-round ratio;\n"
	       "mean: guest TSC over the whole loop minus the kind=none loop, per access, median over rounds;\n"
	       "wall: host CLOCK_MONOTONIC around the run minus the kind=none run, per access, median over rounds;\n"
	       "floor+irq: the floor with flatvm's in-kernel irqchip and PIT, so flatvm/f+irq is\n"
	       "flatvm's user-space cost alone and floor+irq/floor what the irqchip costs in KVM.\n");

	if (b->opts->quick)
		printf("--quick: %u accesses per run are too few for mean and wall to mean much\n",
		       b->count);

	printf("\ntargets:\n");
	for (i = 0; i < ARRAY_SIZE(kinds); i++) {
		k = kinds[i];
		fv = &b->f[SIDE_FLATVM][k];
		fl = &b->f[SIDE_FLOOR][k];
		passed += kind_pass(b, k);
		printf("  flatvm within %.0f%% of the floor, %-10s (p50): %s (%+.2f%%: %.0f vs %.0f ns; against floor+irq %+.2f%%; the floor's rounds spread %.1f%%)\n",
		       TARGET_OVERHEAD * 100, probe_kind_name(k),
		       kind_pass(b, k) ? "PASS" : "MISS",
		       kind_overhead(b, SIDE_FLOOR, k) * 100, fv->p50, fl->p50,
		       kind_overhead(b, SIDE_FLOOR_IRQ, k) * 100,
		       floor_spread(b, k) * 100);
	}
	printf("  %u of %zu kinds within the target\n", passed,
	       ARRAY_SIZE(kinds));
}

static void print_json_figures(const struct figures *f)
{
	printf("{\"p50_ns\": %.1f, \"p90_ns\": %.1f, \"p99_ns\": %.1f, \"mean_ns\": %.1f, \"wall_ns\": %.1f, \"raw_p50_ns\": %.1f, \"timer_ns\": %.1f}",
	       f->p50, f->p90, f->p99, f->mean, f->wall, f->raw_p50, f->timer);
}

static void print_json_overhead(const char *key, const struct figures *fv,
				const struct figures *fl, double p50)
{
	printf(", \"%s\": {\"p50\": %.5f, \"p90\": %.5f, \"p99\": %.5f, \"mean\": %.5f, \"wall\": %.5f}",
	       key, p50, overhead(fv->p90, fl->p90),
	       overhead(fv->p99, fl->p99), overhead(fv->mean, fl->mean),
	       overhead(fv->wall, fl->wall));
}

static void print_json(const struct exit_bench *b)
{
	const struct figures *fv;
	unsigned i, k, side, passed = 0;

	printf("{\n  \"mode\": \"exit\",\n");
	printf("  \"quick\": %s,\n", b->opts->quick ? "true" : "false");
	printf("  \"accesses_per_run\": %u,\n", b->count);
	printf("  \"rounds\": %u,\n", b->rounds);
	printf("  \"guest_ram_mib\": %llu,\n", EXIT_MEM >> 20);
	printf("  \"tsc_khz\": %u,\n", b->tsc_khz);
	printf("  \"pinned_cpu\": %d,\n", b->cpu);
	printf("  \"probe\": ");
	bench_json_string(FLATVM_PROBE_ELF);
	printf(",\n  \"kinds\": {");
	for (i = 0; i < ARRAY_SIZE(kinds); i++) {
		k = kinds[i];
		fv = &b->f[SIDE_FLATVM][k];
		passed += kind_pass(b, k);
		printf("%s\n    \"%s\": {", i ? "," : "", probe_kind_name(k));
		for (side = 0; side < NR_SIDES; side++) {
			printf("%s\"%s\": ", side ? ", " : "",
			       side_keys[side]);
			print_json_figures(&b->f[side][k]);
		}
		print_json_overhead("overhead_vs_floor", fv,
				    &b->f[SIDE_FLOOR][k],
				    kind_overhead(b, SIDE_FLOOR, k));
		print_json_overhead("overhead_vs_floor_irqchip", fv,
				    &b->f[SIDE_FLOOR_IRQ][k],
				    kind_overhead(b, SIDE_FLOOR_IRQ, k));
		printf(", \"floor_round_spread\": %.5f, \"pass\": %s}",
		       floor_spread(b, k), kind_pass(b, k) ? "true" : "false");
	}
	printf("\n  },\n");
	printf("  \"target\": {\"overhead_limit\": %.3f, \"basis\": \"p50 against the floor\", \"kinds_passed\": %u, \"kinds\": %zu, \"pass\": %s}\n}\n",
	       TARGET_OVERHEAD, passed, ARRAY_SIZE(kinds),
	       passed == ARRAY_SIZE(kinds) ? "true" : "false");
}

/* ---- The mode ---------------------------------------------------------- */

/* Pin this thread, and so every thread it starts, to the last CPU we have. */
static int pin_last_cpu(cpu_set_t *old)
{
	cpu_set_t one;
	int cpu;

	if (sched_getaffinity(0, sizeof(*old), old))
		return -1;
	for (cpu = CPU_SETSIZE - 1; cpu >= 0; cpu--)
		if (CPU_ISSET(cpu, old))
			break;
	if (cpu < 0)
		return -1;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one))
		return -1;
	return cpu;
}

int bench_exit(const struct bench_opts *opts)
{
	struct exit_bench *b;
	struct error err = { 0 };
	cpu_set_t old;
	char why[256];
	int ret;

	if (!kvm_available(why, sizeof(why))) {
		fprintf(stderr, "flatvm-bench: exit: skipped: %s\n", why);
		return BENCH_EXIT_SKIP;
	}
	if (access(FLATVM_PROBE_ELF, R_OK)) {
		fprintf(stderr,
			"flatvm-bench: exit: the probe guest %s: %s; build the 'guests' target\n",
			FLATVM_PROBE_ELF, strerror(errno));
		return BENCH_EXIT_FAILED;
	}
	b = calloc(1, sizeof(*b));
	if (!b) {
		fprintf(stderr, "flatvm-bench: exit: out of memory\n");
		return BENCH_EXIT_FAILED;
	}
	b->opts = opts;
	b->count = opts->quick ? EXIT_COUNT_QUICK : EXIT_COUNT;
	b->rounds = opts->quick ? EXIT_ROUNDS_QUICK : EXIT_ROUNDS;
	b->cpu = -1;
	b->null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (b->null_fd < 0 || series_alloc(b)) {
		fprintf(stderr, "flatvm-bench: exit: %s\n",
			b->null_fd < 0 ? "cannot open /dev/null" :
					 "out of memory");
		ret = BENCH_EXIT_FAILED;
		goto out;
	}
	if (!opts->no_pin)
		b->cpu = pin_last_cpu(&old);

	if (!opts->json) {
		printf("flatvm-bench exit: %u timed accesses per run, %u round%s, %llu MiB guests, ",
		       b->count, b->rounds, b->rounds == 1 ? "" : "s",
		       EXIT_MEM >> 20);
		if (b->cpu >= 0)
			printf("every thread pinned to CPU %d (--no-pin to disable)\n",
			       b->cpu);
		else
			printf("threads placed by the scheduler\n");
		printf("flatvm: machine_create() + machine_run() with the probe; floor: bare KVM_RUN loop, no dispatch; floor+irq: the same with flatvm's in-kernel irqchip\n");
		fflush(stdout);
	}
	rcu_thread_register();
	ret = measure(b, &err);
	rcu_thread_offline();
	rcu_barrier();			/* every machine has finalized */
	rcu_thread_unregister();
	if (b->cpu >= 0)
		sched_setaffinity(0, sizeof(old), &old);
	if (ret) {
		fprintf(stderr, "flatvm-bench: exit: %s\n", err.msg);
		ret = BENCH_EXIT_FAILED;
		goto out;
	}

	figures_compute(b);
	if (opts->json) {
		print_json(b);
	} else {
		printf("guest TSC %.3f MHz (KVM_GET_TSC_KHZ of a floor vCPU)\n",
		       b->tsc_khz / 1e3);
		print_table(b);
	}
	ret = BENCH_EXIT_OK;
out:
	if (b->null_fd >= 0)
		close(b->null_fd);
	series_free(b);
	free(b);
	return ret;
}
