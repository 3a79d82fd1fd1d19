// SPDX-License-Identifier: GPL-2.0-only
/*
 * flatvm-bench: measurements of flatvm's fast paths.
 *
 *   flatvm-bench <mode> [--seconds S] [--quick] [--json] [--no-pin]
 *                       [--out DIR] [--from FILE] [--help]
 *
 * Each mode is one entry of the table below: a name, a line of help and a
 * function taking the parsed options (dispatch.c, exit.c, startup.c,
 * memory.c, hotplug.c).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flatvm/compiler.h"
#include "bench.h"

#define DEFAULT_SECONDS	0.5
#define QUICK_SECONDS	0.02
#define MAX_SECONDS	600.0

struct bench_mode {
	const char *name;
	const char *summary;
	int (*run)(const struct bench_opts *opts);
};

static const struct bench_mode modes[] = {
	{
		.name = "dispatch",
		.summary = "in-process MMIO dispatch: flatvm's RCU flat view against a global mutex and a rwlock",
		.run = bench_dispatch,
	},
	{
		.name = "exit",
		.summary = "guest-timed PIO, MMIO and ioeventfd round trips: flatvm against a bare KVM_RUN loop",
		.run = bench_exit,
	},
	{
		.name = "startup",
		.summary = "exec of `flatvm run` to its first console byte and to its exit (and QEMU microvm's, if installed)",
		.run = bench_startup,
	},
	{
		.name = "memory",
		.summary = "flatvm's resident memory beyond the guest RAM its guest touched",
		.run = bench_memory,
	},
	{
		.name = "hotplug",
		.summary = "device_add / device_del latency over QMP, idle and busy guests; MMIO latency during a plug loop",
		.run = bench_hotplug,
	},
	{
		.name = "report",
		.summary = "the MMIO/PIO latency report: floor, flatvm and QEMU side by side, scale, hotplug churn, plots",
		.run = bench_report,
	},
};

static void usage(FILE *out)
{
	size_t i;

	fprintf(out,
		"usage: flatvm-bench <mode> [options]\n"
		"\n"
		"modes:\n");
	for (i = 0; i < ARRAY_SIZE(modes); i++)
		fprintf(out, "  %-10s %s\n", modes[i].name, modes[i].summary);
	fprintf(out,
		"\n"
		"options:\n"
		"  --seconds S  dispatch: run each configuration for S seconds (default %.1f)\n"
		"  --quick      a smoke test of a few seconds (dispatch: %.2f s per configuration;\n"
		"               hotplug: 20 cycles instead of 300)\n"
		"  --json       print one JSON object instead of the table\n"
		"  --out DIR    report: write report.md, report.json and plots/ to DIR\n"
		"               (default ./flatvm-report)\n"
		"  --from FILE  report: render FILE (a report.json) again into --out DIR\n"
		"  --no-pin     dispatch: do not pin reader i to CPU i and the churn thread to\n"
		"               the last CPU; exit: do not pin every thread to the last CPU;\n"
		"               hotplug: do not give flatvm's vCPU thread the last CPU to itself\n"
		"  --help       print this text\n"
		"\n"
		"Exit status: 0 when the measurement ran (a missed target is a result, not\n"
		"a failure), 1 when it could not be set up, 2 for a usage error, 77 when a\n"
		"mode that needs /dev/kvm (exit, startup, memory, hotplug, report) finds\n"
		"none\n"
		"usable.\n",
		DEFAULT_SECONDS, QUICK_SECONDS);
}

/* "dispatch, exit, startup, memory or hotplug": the names a user may type. */
static void list_modes(FILE *out)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(modes); i++)
		fprintf(out, "%s%s", i ? (i + 1 == ARRAY_SIZE(modes) ?
					  " or " : ", ") : "",
			modes[i].name);
}

static const struct bench_mode *find_mode(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(modes); i++)
		if (!strcmp(modes[i].name, name))
			return &modes[i];
	return NULL;
}

static int parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	v = strtod(s, &end);
	if (end == s || *end || !isfinite(v) || v <= 0 || v > MAX_SECONDS) {
		fprintf(stderr,
			"flatvm-bench: invalid --seconds '%s': expected a number of seconds above 0 and at most %.0f\n",
			s, MAX_SECONDS);
		return -1;
	}
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	struct bench_opts opts = { .seconds = DEFAULT_SECONDS };
	const struct bench_mode *mode = NULL;
	bool seconds_given = false;
	const char *arg, *val;
	int i;

	for (i = 1; i < argc; i++) {
		arg = argv[i];
		if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
			usage(stdout);
			return BENCH_EXIT_OK;
		} else if (!strcmp(arg, "--quick")) {
			opts.quick = true;
		} else if (!strcmp(arg, "--json")) {
			opts.json = true;
		} else if (!strcmp(arg, "--no-pin")) {
			opts.no_pin = true;
		} else if (!strcmp(arg, "--out") || !strcmp(arg, "--from")) {
			if (i + 1 == argc || !argv[i + 1][0]) {
				fprintf(stderr,
					"flatvm-bench: %s needs a value: %s\n", arg,
					arg[2] == 'o' ? "a directory, e.g. --out flatvm-report" :
					"a report.json, e.g. --from flatvm-report/report.json");
				return BENCH_EXIT_USAGE;
			}
			if (arg[2] == 'o')
				opts.out = argv[++i];
			else
				opts.from = argv[++i];
		} else if (!strcmp(arg, "--seconds") ||
			   !strncmp(arg, "--seconds=", 10)) {
			if (arg[9] == '=') {
				val = arg + 10;
			} else if (i + 1 < argc) {
				val = argv[++i];
			} else {
				fprintf(stderr,
					"flatvm-bench: --seconds needs a value, e.g. --seconds 0.5\n");
				return BENCH_EXIT_USAGE;
			}
			if (parse_seconds(val, &opts.seconds))
				return BENCH_EXIT_USAGE;
			seconds_given = true;
		} else if (arg[0] == '-') {
			fprintf(stderr,
				"flatvm-bench: unknown option '%s'; expected --seconds S, --quick, --json, --no-pin, --out DIR, --from FILE or --help\n",
				arg);
			return BENCH_EXIT_USAGE;
		} else if (mode) {
			fprintf(stderr,
				"flatvm-bench: unexpected argument '%s' after mode '%s'; expected one mode and options\n",
				arg, mode->name);
			return BENCH_EXIT_USAGE;
		} else if (!(mode = find_mode(arg))) {
			fprintf(stderr, "flatvm-bench: unknown mode '%s'; expected ",
				arg);
			list_modes(stderr);
			fprintf(stderr, "\n");
			return BENCH_EXIT_USAGE;
		}
	}
	if (!mode) {
		fprintf(stderr, "flatvm-bench: no mode given; expected ");
		list_modes(stderr);
		fprintf(stderr, "\n\n");
		usage(stderr);
		return BENCH_EXIT_USAGE;
	}
	if (opts.quick && !seconds_given)
		opts.seconds = QUICK_SECONDS;
	return mode->run(&opts);
}
