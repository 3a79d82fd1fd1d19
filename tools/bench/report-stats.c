// SPDX-License-Identifier: GPL-2.0-only
/*
 * flatvm-bench report: the figures computed from a probe's raw samples.
 * Samples are the probe's per-access windows in TSC ticks (probe.h); the
 * timer is the median of its empty windows, the cost of the stamps
 * themselves, and is subtracted from every figure, so a figure is the
 * access instruction's round trip alone.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "report.h"

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* Nearest rank: the ceil(p * n)-th smallest (the first for p = 0). */
static uint32_t quantile(const uint32_t *sorted, size_t n, double p)
{
	return sorted[bench_rank(n, p)];
}

static double to_ns(double ticks, uint32_t tsc_khz)
{
	return tsc_khz ? ticks * 1e6 / tsc_khz : 0;
}

void lat_stats_compute(uint32_t *samples, size_t n, uint32_t *empty,
		       size_t nempty, uint32_t tsc_khz, struct lat_stats *st)
{
	double timer;

	qsort(samples, n, sizeof(*samples), cmp_u32);
	qsort(empty, nempty, sizeof(*empty), cmp_u32);
	timer = nempty ? quantile(empty, nempty, 0.5) : 0;
	st->n = n;
	st->timer = to_ns(timer, tsc_khz);
	st->p50 = st->p90 = st->p99 = st->p999 = st->max = 0;
	if (!n)
		return;
	st->p50 = to_ns(quantile(samples, n, 0.5), tsc_khz) - st->timer;
	st->p90 = to_ns(quantile(samples, n, 0.9), tsc_khz) - st->timer;
	st->p99 = to_ns(quantile(samples, n, 0.99), tsc_khz) - st->timer;
	st->p999 = to_ns(quantile(samples, n, 0.999), tsc_khz) - st->timer;
	st->max = to_ns(samples[n - 1], tsc_khz) - st->timer;
}

int lat_stats_copy(const uint32_t *samples, size_t n, const uint32_t *empty,
		   size_t nempty, uint32_t tsc_khz, struct lat_stats *st,
		   uint32_t **sorted)
{
	uint32_t *s = malloc(n * sizeof(*s) + 1), *e;

	e = malloc(nempty * sizeof(*e) + 1);
	if (!s || !e) {
		free(s);
		free(e);
		return -ENOMEM;
	}
	if (n)
		memcpy(s, samples, n * sizeof(*s));
	if (nempty)
		memcpy(e, empty, nempty * sizeof(*e));
	lat_stats_compute(s, n, e, nempty, tsc_khz, st);
	free(e);
	if (sorted)
		*sorted = s;
	else
		free(s);
	return 0;
}

json_t *lat_stats_json(const struct lat_stats *st)
{
	return json_pack("{s:I, s:f, s:f, s:f, s:f, s:f, s:f}",
			 "n", (json_int_t)st->n, "timer_ns", st->timer,
			 "p50_ns", st->p50, "p90_ns", st->p90,
			 "p99_ns", st->p99, "p999_ns", st->p999,
			 "max_ns", st->max);
}

static const double cdf_grid[] = {
	0.001, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45,
	0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.925, 0.95, 0.97,
	0.98, 0.99, 0.995, 0.998, 0.999, 0.9995, 0.9999, 1.0,
};

json_t *lat_cdf_json(const uint32_t *sorted, size_t n,
		     const struct lat_stats *st, uint32_t tsc_khz)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; n && i < sizeof(cdf_grid) / sizeof(cdf_grid[0]); i++)
		json_array_append_new(a, json_pack("[f, f]", cdf_grid[i],
				      to_ns(quantile(sorted, n, cdf_grid[i]),
					    tsc_khz) - st->timer));
	return a;
}

json_t *lat_timeline_json(const uint32_t *samples, const uint32_t *stamps,
			  size_t n, unsigned chunks, double timer_ns,
			  uint32_t tsc_khz)
{
	json_t *a = json_array();
	uint64_t t = 0, base;
	size_t per, i, j, m;
	uint32_t *tmp;

	if (!n || !chunks)
		return a;
	per = (n + chunks - 1) / chunks;
	tmp = malloc(per * sizeof(*tmp));
	if (!tmp)
		return a;
	base = stamps[0];
	t = base;
	for (i = 0; i < n; i += per) {
		m = n - i < per ? n - i : per;
		/* Unwrap: stamps move forward by less than 2^32 between chunks. */
		for (j = i ? i - per + 1 : 1; j <= i; j++)
			t += (uint32_t)(stamps[j] - stamps[j - 1]);
		for (j = 0; j < m; j++)
			tmp[j] = samples[i + j];
		qsort(tmp, m, sizeof(*tmp), cmp_u32);
		json_array_append_new(a, json_pack("[f, f, f]",
				      to_ns((double)(t - base), tsc_khz) / 1e6,
				      (to_ns(tmp[m / 2], tsc_khz) - timer_ns) /
				      1e3,
				      (to_ns(tmp[m - 1], tsc_khz) - timer_ns) /
				      1e3));
	}
	free(tmp);
	return a;
}
