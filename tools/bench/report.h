/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * flatvm-bench report: the MMIO/PIO latency report.  Three parts:
 *
 *  report.c         runs everything (the probe guest on the KVM floor, on
 *                   flatvm in this process with its control socket, on
 *                   QEMU's microvm in a child; the in-process dispatch
 *                   bench in a child) and writes report.json;
 *  report-stats.c   what is computed from a probe's raw samples: quantiles
 *                   net of the timer, CDF points, a timeline;
 *  report-parse.c   the parser of the probe's console histogram ("hist");
 *  report-render.c  report.json -> report.md and the gnuplot plots.
 *
 * The last three are pure (no KVM, no processes but gnuplot) and are
 * linked into tests/tools/check_report too, which feeds them recorded
 * samples.
 */
#ifndef FLATVM_BENCH_REPORT_H
#define FLATVM_BENCH_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "flatvm/error.h"
#include "probe.h"

/* ---- Statistics of one series (report-stats.c) --------------------------- */

/**
 * struct lat_stats - one series' figures, nanoseconds, net of the timer.
 * @n: samples.
 * @timer: the median empty window (the stamps' own cost), subtracted from
 *	every quantile below.
 * @p50..@max: quantiles of the samples (nearest rank) minus @timer.
 */
struct lat_stats {
	size_t n;
	double timer;
	double p50, p90, p99, p999, max;
};

/*
 * Sort @samples and @empty (TSC ticks) in place and fill @st, converting
 * with @tsc_khz.
 */
void lat_stats_compute(uint32_t *samples, size_t n, uint32_t *empty,
		       size_t nempty, uint32_t tsc_khz, struct lat_stats *st);

/*
 * The same on copies, @samples and @empty left in their order (the
 * timeline's); with @sorted, the sorted copy of @samples is handed over
 * (free() it).  A tsc_khz of 1000000 keeps the figures in ticks.
 * Return: 0, or -ENOMEM.
 */
int lat_stats_copy(const uint32_t *samples, size_t n, const uint32_t *empty,
		   size_t nempty, uint32_t tsc_khz, struct lat_stats *st,
		   uint32_t **sorted);

/* @st as {"n", "timer_ns", "p50_ns", ...}. */
json_t *lat_stats_json(const struct lat_stats *st);

/*
 * The distribution of sorted @samples as [[fraction, ns], ...] at a fixed
 * grid of fractions (0.001 ... 0.9999, 1), net of @st->timer.
 */
json_t *lat_cdf_json(const uint32_t *sorted, size_t n,
		     const struct lat_stats *st, uint32_t tsc_khz);

/*
 * Latency over time from unsorted @samples and their opening stamps
 * (low 32 TSC bits, unwrapped here): about @chunks points of
 * [ms since the first access, chunk median us, chunk max us], net of
 * @timer_ns.
 */
json_t *lat_timeline_json(const uint32_t *samples, const uint32_t *stamps,
			  size_t n, unsigned chunks, double timer_ns,
			  uint32_t tsc_khz);

/* ---- The probe's console histogram (report-parse.c) ----------------------- */

#define PROBE_HIST_MAX_BUCKETS	160

struct probe_hist_bucket {
	uint32_t lower;		/* ticks */
	uint64_t count;
};

/**
 * struct probe_hist - what one CPU of the probe printed with "hist".
 * @seen: its header line was read.
 * @ended: its "end" line was read.
 */
struct probe_hist {
	bool seen, ended;
	unsigned cpu;
	unsigned kind;
	unsigned width;
	uint32_t target;
	uint64_t count;
	uint64_t loop;
	struct probe_hist_bucket samples[PROBE_HIST_MAX_BUCKETS];
	unsigned nsamples;
	struct probe_hist_bucket empty[PROBE_HIST_MAX_BUCKETS];
	unsigned nempty;
};

/**
 * probe_hist_parse() - find the probe's histogram lines in @text (its
 * whole console output; other lines are skipped) and fill @h[cpu].
 * @h: PROBE_MAX_CPUS entries, zeroed here.
 * Return: how many CPUs reported completely (header, buckets, end), or a
 * negative errno with @err naming the offending line and what was
 * expected.
 */
int probe_hist_parse(const char *text, size_t len, struct probe_hist *h,
		     struct error *err);

/*
 * The bucket holding quantile @p (0..1) of @b: its lower bound, and in
 * @upper the next bucket's lower bound (exclusive).  0 if empty.
 */
uint32_t probe_hist_quantile(const struct probe_hist_bucket *b, unsigned n,
			     double p, uint32_t *upper);

/* ---- Rendering (report-render.c) ---------------------------------------- */

/**
 * report_render() - write @dir/report.md from @root (report.json's
 * contents) and, when gnuplot is found on PATH, @dir/plots/ *.png and
 * *.svg with the data and scripts beside them.
 * @gnuplot: the gnuplot executable, or NULL to skip plots (the report
 *	then says why).
 * Return: 0, or a negative errno with @err saying what failed.
 */
int report_render(json_t *root, const char *dir, const char *gnuplot,
		  struct error *err);

/* The first executable @name on PATH, into @buf; false if none. */
bool report_find_on_path(const char *name, char *buf, size_t len);

#endif /* FLATVM_BENCH_REPORT_H */
