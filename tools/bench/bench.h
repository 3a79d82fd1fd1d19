/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * flatvm-bench: what the modes share.  main.c parses the command line into
 * a struct bench_opts and hands it to the mode; each mode prints its own
 * table (or one JSON object with --json) on stdout.
 */
#ifndef FLATVM_BENCH_H
#define FLATVM_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* Exit codes.  A missed target is not a failure: it is a result. */
enum {
	BENCH_EXIT_OK = 0,
	BENCH_EXIT_FAILED = 1,		/* something could not be set up */
	BENCH_EXIT_USAGE = 2,		/* unknown mode or option */
};

/**
 * struct bench_opts - the options every mode understands.
 * @seconds: how long each measured configuration runs.
 * @quick: tiny durations, for a smoke test; @seconds is already reduced.
 * @json: print one JSON object instead of the human table.
 * @no_pin: leave thread placement to the scheduler.  By default reader i
 *	runs on CPU i and the churn thread on the last CPU, so a measurement
 *	does not depend on where the scheduler happens to put them.
 */
struct bench_opts {
	double seconds;
	bool quick;
	bool json;
	bool no_pin;
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
