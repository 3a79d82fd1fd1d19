// SPDX-License-Identifier: GPL-2.0-only
/*
 * flatvm-bench startup: how long `flatvm run` takes from exec to the
 * guest's first console byte and to its own exit.
 *
 * Each run starts the VMM with posix_spawn() (vfork + exec), stdout on a
 * pipe, stdin /dev/null, and timestamps (CLOCK_MONOTONIC, child.c):
 *
 *  start: just before posix_spawn();
 *  first: poll() returning with the first byte on the console pipe.  The
 *         byte leaves the guest at its 10th exit: its console_init()'s
 *         seven UART port writes, the test-device probe (one MMIO read),
 *         one LSR poll, then the byte itself.  At 10-15 us per exit on
 *         this host the guest's first instruction ran about 0.1-0.2 ms
 *         before: exec-to-first-byte is an upper bound on
 *         exec-to-first-instruction by that much;
 *  exit:  the pidfd becoming readable (the process is gone).
 *
 * Subjects, interleaved run by run after one warm-up run each (page cache,
 * dynamic linking):
 *
 *  - flatvm with its built-in guest (`flatvm run`, 256 MiB): the default
 *    experience; the guest tours ACPI and the test device and prints a
 *    dozen lines, every byte of which costs exits;
 *  - flatvm with the probe doing nothing (`--kernel probe.elf --cmdline
 *    kind=none`, 256 MiB): a minimal guest, one line of output, then the
 *    test device's EXIT register;
 *  - QEMU's microvm with the same probe and 256 MiB, if
 *    qemu-system-x86_64 is on PATH (the probe stops it through
 *    isa-debug-exit; QEMU exits with 1);
 *  - the KVM floor, in this process (floor.c): the same probe in a VM
 *    with flatvm's KVM configuration (256 MiB memslot, irqchip and PIT)
 *    and a bare KVM_RUN loop, timed from before KVM_CREATE_VM to after
 *    the VM is closed, split into create, run and destroy.  No exec, no
 *    dynamic linking, no console: what any VMM on this kernel pays.
 *
 * kvmtool is not run: its figure is the one quoted in the issue.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "flatvm/compiler.h"
#include "flatvm/kvm.h"
#include "flatvm/rcu.h"

#include "bench.h"
#include "report.h"

#define STARTUP_RUNS		20u
#define STARTUP_RUNS_QUICK	5u
#define RUN_TIMEOUT_NS		(10ull * 1000000000ull)
#define TARGET_EXIT_MS		10.0
#define ISSUE_QEMU_MS		50.0	/* QEMU microvm, quoted in the issue */
#define ISSUE_KVMTOOL_MS	20.0	/* kvmtool, from the issue */
#define MAX_ARGS		32
#define FLOOR_MEM		(256ull << 20)	/* as `flatvm run` */

enum subject_id { S_BUILTIN, S_PROBE, S_QEMU, S_FLOOR, NR_SUBJECTS };
enum floor_phase { PH_CREATE, PH_RUN, PH_DESTROY, NR_PHASES };

/**
 * struct subject - one way of starting a VM, and its runs.
 * @name: for the table.
 * @key: for JSON.
 * @argv: the command.
 * @expect_status: its exit status when the guest stopped normally.
 * @expect_out: a string its console must show.
 * @available: it can be run here; @why says why not.
 * @in_process: the KVM floor, run in this process (no @argv).
 * @first_ns/@exit_ns: per measured run, from exec.
 * @phase_ns: the floor's create, run and destroy times, per run.
 * @out_bytes: console bytes of the last run.
 */
struct subject {
	const char *name;
	const char *key;
	char *argv[MAX_ARGS];
	int expect_status;
	const char *expect_out;
	bool available;
	char why[ERROR_MSG_MAX];
	bool in_process;
	uint64_t *first_ns;
	uint64_t *exit_ns;
	uint64_t *phase_ns[NR_PHASES];
	double phase_med[NR_PHASES];
	unsigned runs;
	size_t out_bytes;
	/* medians and minima, ms */
	double first_med, first_min, exit_med, exit_min;
};

static void set_argv(struct subject *s, const char *const *args)
{
	unsigned i;

	for (i = 0; args[i] && i < MAX_ARGS - 1; i++)
		s->argv[i] = (char *)args[i];
	s->argv[i] = NULL;
}

static void subjects_init(struct subject *s, char *qemu, size_t qemu_len)
{
	static const char *const builtin[] = {
		FLATVM_BIN, "run", NULL,
	};
	static const char *const probe[] = {
		FLATVM_BIN, "run", "--kernel", FLATVM_PROBE_ELF,
		"--cmdline", "kind=none", NULL,
	};
	const char *qemu_args[] = {
		qemu, "-M", "microvm", "-accel", "kvm",
		"-cpu", "host,-arch-capabilities", "-m", "256M",
		"-kernel", FLATVM_PROBE_ELF, "-append", "kind=none",
		"-nodefaults", "-no-user-config", "-nographic",
		"-serial", "stdio", "-device", "isa-debug-exit,iobase=0xf4",
		NULL,
	};

	s[S_BUILTIN] = (struct subject){
		.name = "flatvm, built-in guest",
		.key = "flatvm_builtin",
		.expect_status = 0,
		.expect_out = "flatvm built-in guest",
		.available = true,
	};
	set_argv(&s[S_BUILTIN], builtin);
	s[S_PROBE] = (struct subject){
		.name = "flatvm, probe kind=none",
		.key = "flatvm_probe",
		.expect_status = 0,
		.expect_out = "probe: kind=none",
		.available = true,
	};
	set_argv(&s[S_PROBE], probe);
	s[S_QEMU] = (struct subject){
		.name = "QEMU microvm, probe kind=none",
		.key = "qemu_microvm_probe",
		.expect_status = 1,	/* isa-debug-exit: 2 * 0 + 1 */
		.expect_out = "probe: kind=none",
	};
	s[S_QEMU].available = report_find_on_path("qemu-system-x86_64", qemu,
					   qemu_len);
	if (s[S_QEMU].available)
		set_argv(&s[S_QEMU], qemu_args);
	else
		snprintf(s[S_QEMU].why, sizeof(s[S_QEMU].why),
			 "qemu-system-x86_64 is not on PATH");
	s[S_FLOOR] = (struct subject){
		.name = "KVM floor, in-process, probe",
		.key = "kvm_floor_in_process",
		.available = true,
		.in_process = true,
	};
}

/* One run of the in-process floor; @phases gets create, run, destroy. */
static int run_floor_once(uint64_t *total, uint64_t phases[NR_PHASES],
			  struct error *err)
{
	struct bench_floor *f;
	uint64_t t0, t1, t2, t3;
	int ret;

	t0 = bench_now_ns();
	f = bench_floor_create(FLATVM_PROBE_ELF, "kind=none", FLOOR_MEM, true,
			       err);
	if (!f) {
		error_prepend(err, "the KVM floor: ");
		return err->code ? err->code : -EINVAL;
	}
	t1 = bench_now_ns();
	rcu_thread_offline();
	ret = bench_floor_run(f, err);
	rcu_thread_online();
	t2 = bench_now_ns();
	bench_floor_destroy(f);
	t3 = bench_now_ns();
	if (ret) {
		error_prepend(err, "the KVM floor: ");
		return ret;
	}
	if (total)
		*total = t3 - t0;
	if (phases) {
		phases[PH_CREATE] = t1 - t0;
		phases[PH_RUN] = t2 - t1;
		phases[PH_DESTROY] = t3 - t2;
	}
	return 0;
}

/* One run of @s; @first and @exit get ns from exec, unless NULL. */
static int run_once(struct subject *s, uint64_t *first, uint64_t *exit,
		    struct error *err)
{
	struct bench_child c;
	char what[768];
	int ret;

	ret = bench_child_spawn(&c, s->argv, err);
	if (ret)
		return ret;
	ret = bench_child_watch(&c, NULL, RUN_TIMEOUT_NS);
	if (ret == -ETIMEDOUT) {
		bench_child_release(&c);
		return error_setf(err, ETIMEDOUT,
				  "%s did not stop within %llu s", s->name,
				  RUN_TIMEOUT_NS / 1000000000ull);
	}
	if (ret < 0 || !WIFEXITED(c.status) ||
	    WEXITSTATUS(c.status) != s->expect_status ||
	    !strstr(c.out, s->expect_out)) {
		bench_child_describe(&c, what, sizeof(what));
		bench_child_release(&c);
		return error_setf(err, EIO,
				  "%s: %s; expected status %d and \"%s\" on its console",
				  s->name, what, s->expect_status,
				  s->expect_out);
	}
	if (first)
		*first = c.first_ns - c.start_ns;
	if (exit)
		*exit = c.exit_ns - c.start_ns;
	s->out_bytes = c.out_len;
	bench_child_release(&c);
	return 0;
}

static double ms(uint64_t ns)
{
	return ns / 1e6;
}

static void subject_summarize(struct subject *s)
{
	unsigned p;

	for (p = 0; p < NR_PHASES && s->in_process; p++) {
		bench_sort_u64(s->phase_ns[p], s->runs);
		s->phase_med[p] = ms(bench_quantile_u64(s->phase_ns[p],
							 s->runs, 0.5));
	}
	bench_sort_u64(s->first_ns, s->runs);
	bench_sort_u64(s->exit_ns, s->runs);
	s->first_med = ms(bench_quantile_u64(s->first_ns, s->runs, 0.5));
	s->first_min = ms(s->runs ? s->first_ns[0] : 0);
	s->exit_med = ms(bench_quantile_u64(s->exit_ns, s->runs, 0.5));
	s->exit_min = ms(s->runs ? s->exit_ns[0] : 0);
}

static const char *pass(bool ok)
{
	return ok ? "PASS" : "MISS";
}

static void print_table(struct subject *subj, unsigned runs)
{
	const struct subject *s, *qemu = &subj[S_QEMU];
	unsigned i;

	printf("%-30s %13s %13s %13s %13s %8s\n", "", "first byte", "",
	       "exit", "", "console");
	printf("%-30s %13s %13s %13s %13s %8s\n", "subject", "median ms",
	       "min ms", "median ms", "min ms", "bytes");
	for (i = 0; i < NR_SUBJECTS; i++) {
		s = &subj[i];
		if (!s->available) {
			printf("%-30s not measured: %s\n", s->name, s->why);
			continue;
		}
		if (s->in_process)
			printf("%-30s %13s %13s %13.2f %13.2f %8s\n", s->name,
			       "-", "-", s->exit_med, s->exit_min, "-");
		else
			printf("%-30s %13.2f %13.2f %13.2f %13.2f %8zu\n",
			       s->name, s->first_med, s->first_min,
			       s->exit_med, s->exit_min, s->out_bytes);
	}
	printf("%-30s not measured (the issue quotes ~%.0f ms)\n", "kvmtool",
	       ISSUE_KVMTOOL_MS);
	printf("\nfirst byte: the guest's 10th exit; its first instruction ran ~0.1-0.2 ms before (10-15 us per exit here)\n");
	s = &subj[S_FLOOR];
	printf("KVM floor (no exec; 256 MiB memslot, irqchip, PIT; medians): create %.2f ms, run %.2f ms, destroy %.2f ms\n",
	       s->phase_med[PH_CREATE], s->phase_med[PH_RUN],
	       s->phase_med[PH_DESTROY]);

	printf("\ntargets:\n");
	for (i = S_BUILTIN; i <= S_PROBE; i++) {
		s = &subj[i];
		printf("  exec to exit under %.0f ms, %s: %s (median %.2f ms, min %.2f ms)\n",
		       TARGET_EXIT_MS, s->name,
		       pass(s->exit_med < TARGET_EXIT_MS), s->exit_med,
		       s->exit_min);
	}
	if (qemu->available)
		printf("  QEMU microvm: %.2f ms measured here (the issue quotes ~%.0f ms); flatvm with the same guest: %.2f ms, %.1fx faster\n",
		       qemu->exit_med, ISSUE_QEMU_MS, subj[S_PROBE].exit_med,
		       subj[S_PROBE].exit_med > 0 ?
		       qemu->exit_med / subj[S_PROBE].exit_med : 0);
	else
		printf("  QEMU microvm: not measured (%s); the issue quotes ~%.0f ms\n",
		       qemu->why, ISSUE_QEMU_MS);
	printf("  kvmtool: not measured; the issue quotes ~%.0f ms\n",
	       ISSUE_KVMTOOL_MS);
	printf("  the KVM floor alone (same VM, no VMM process): %.2f ms median, %.2f ms min\n",
	       subj[S_FLOOR].exit_med, subj[S_FLOOR].exit_min);
	(void)runs;
}

static void print_json(struct subject *subj, const struct bench_opts *opts,
		       unsigned runs)
{
	const struct subject *s;
	unsigned i;

	printf("{\n  \"mode\": \"startup\",\n");
	printf("  \"quick\": %s,\n", opts->quick ? "true" : "false");
	printf("  \"runs\": %u,\n", runs);
	printf("  \"first_byte_is\": \"the guest's 10th exit\",\n");
	printf("  \"subjects\": {");
	for (i = 0; i < NR_SUBJECTS; i++) {
		s = &subj[i];
		printf("%s\n    \"%s\": ", i ? "," : "", s->key);
		if (!s->available) {
			printf("{\"measured\": false, \"why\": ");
			bench_json_string(s->why);
			printf("}");
			continue;
		}
		if (s->in_process) {
			printf("{\"measured\": true, \"exit_median_ms\": %.3f, \"exit_min_ms\": %.3f, \"create_median_ms\": %.3f, \"run_median_ms\": %.3f, \"destroy_median_ms\": %.3f}",
			       s->exit_med, s->exit_min,
			       s->phase_med[PH_CREATE], s->phase_med[PH_RUN],
			       s->phase_med[PH_DESTROY]);
			continue;
		}
		printf("{\"measured\": true, \"first_byte_median_ms\": %.3f, \"first_byte_min_ms\": %.3f, \"exit_median_ms\": %.3f, \"exit_min_ms\": %.3f, \"console_bytes\": %zu}",
		       s->first_med, s->first_min, s->exit_med, s->exit_min,
		       s->out_bytes);
	}
	printf(",\n    \"kvmtool\": {\"measured\": false, \"issue_ms\": %.1f}\n  },\n",
	       ISSUE_KVMTOOL_MS);
	printf("  \"targets\": {\n");
	printf("    \"builtin_exit_under_ms\": {\"limit\": %.1f, \"value\": %.3f, \"pass\": %s},\n",
	       TARGET_EXIT_MS, subj[S_BUILTIN].exit_med,
	       subj[S_BUILTIN].exit_med < TARGET_EXIT_MS ? "true" : "false");
	printf("    \"probe_exit_under_ms\": {\"limit\": %.1f, \"value\": %.3f, \"pass\": %s},\n",
	       TARGET_EXIT_MS, subj[S_PROBE].exit_med,
	       subj[S_PROBE].exit_med < TARGET_EXIT_MS ? "true" : "false");
	printf("    \"qemu_microvm_issue_ms\": %.1f,\n", ISSUE_QEMU_MS);
	printf("    \"kvmtool_issue_ms\": %.1f\n  }\n}\n", ISSUE_KVMTOOL_MS);
}

int bench_startup(const struct bench_opts *opts)
{
	unsigned runs = opts->quick ? STARTUP_RUNS_QUICK : STARTUP_RUNS;
	struct subject subj[NR_SUBJECTS];
	struct error err = { 0 };
	char qemu[512], why[256];
	struct subject *s;
	bool urcu_registered = false;
	unsigned i, r, p;
	int ret = BENCH_EXIT_FAILED;

	if (!kvm_available(why, sizeof(why))) {
		fprintf(stderr, "flatvm-bench: startup: skipped: %s\n", why);
		return BENCH_EXIT_SKIP;
	}
	if (access(FLATVM_BIN, X_OK) || access(FLATVM_PROBE_ELF, R_OK)) {
		fprintf(stderr,
			"flatvm-bench: startup: need %s and %s: %s; build the 'flatvm' and 'guests' targets\n",
			FLATVM_BIN, FLATVM_PROBE_ELF, strerror(errno));
		return BENCH_EXIT_FAILED;
	}
	subjects_init(subj, qemu, sizeof(qemu));
	for (i = 0; i < NR_SUBJECTS; i++) {
		subj[i].first_ns = calloc(runs, sizeof(uint64_t));
		subj[i].exit_ns = calloc(runs, sizeof(uint64_t));
		for (p = 0; p < NR_PHASES; p++)
			subj[i].phase_ns[p] = calloc(runs, sizeof(uint64_t));
		if (!subj[i].first_ns || !subj[i].exit_ns ||
		    !subj[i].phase_ns[0] || !subj[i].phase_ns[1] ||
		    !subj[i].phase_ns[2]) {
			fprintf(stderr, "flatvm-bench: startup: out of memory\n");
			goto out;
		}
	}
	rcu_thread_register();
	urcu_registered = true;
	if (!opts->json) {
		printf("flatvm-bench startup: %u runs per subject after one warm-up, interleaved; from posix_spawn() to the first console byte and to the exit\n",
		       runs);
		fflush(stdout);
	}

	/* Warm-up; QEMU failing here is reported, not fatal. */
	for (i = 0; i < NR_SUBJECTS; i++) {
		s = &subj[i];
		if (!s->available)
			continue;
		if (s->in_process ? run_floor_once(NULL, NULL, &err) :
				    run_once(s, NULL, NULL, &err)) {
			if (i != S_QEMU)
				goto fail;
			s->available = false;
			snprintf(s->why, sizeof(s->why), "%s", err.msg);
			error_clear(&err);
		}
	}
	for (r = 0; r < runs; r++) {
		for (i = 0; i < NR_SUBJECTS; i++) {
			s = &subj[i];
			if (!s->available)
				continue;
			if (s->in_process) {
				uint64_t ph[NR_PHASES];

				if (run_floor_once(&s->exit_ns[r], ph, &err))
					goto fail;
				for (p = 0; p < NR_PHASES; p++)
					s->phase_ns[p][r] = ph[p];
			} else if (run_once(s, &s->first_ns[r],
					    &s->exit_ns[r], &err)) {
				goto fail;
			}
			s->runs++;
		}
	}
	for (i = 0; i < NR_SUBJECTS; i++)
		if (subj[i].available)
			subject_summarize(&subj[i]);
	if (opts->json)
		print_json(subj, opts, runs);
	else
		print_table(subj, runs);
	ret = BENCH_EXIT_OK;
	goto out;

fail:
	fprintf(stderr, "flatvm-bench: startup: %s\n", err.msg);
out:
	if (urcu_registered) {
		rcu_thread_offline();
		rcu_barrier();	/* every floor's regions finalized */
		rcu_thread_unregister();
	}
	for (i = 0; i < NR_SUBJECTS; i++) {
		free(subj[i].first_ns);
		free(subj[i].exit_ns);
		for (p = 0; p < NR_PHASES; p++)
			free(subj[i].phase_ns[p]);
	}
	return ret;
}
