// SPDX-License-Identifier: GPL-2.0-only
/*
 * flatvm-bench report: report.json -> report.md and plots.  Everything
 * the reader sees is derived here from the JSON (the targets and ratios
 * too), so a recorded report.json renders the same report again
 * (`flatvm-bench report --from`) and tests can feed recorded samples.
 *
 * Plots are gnuplot scripts with their data beside them in DIR/plots/,
 * each rendered to PNG (pngcairo, or png) and SVG:
 *
 *   latency-KIND     the distribution (CDF) of one access kind's round
 *                    trips, one line per side (floor, flatvm, QEMU);
 *   churn-timeline   the chunk medians and maxima of the MMIO reads over
 *                    time, with and without the plug loop;
 *   scale            p50 and p99 per scale configuration and vCPU.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "report.h"

#define TARGET_FLOOR	1.05	/* flatvm p50 within 5 % of the floor */
#define TARGET_CHURN	1.20	/* p99 with churn within 1.2x */
#define TARGET_2CPU	1.10	/* 2 vCPUs, different devices, p50 */
#define GNUPLOT_TIMEOUT_MS	60000u

static const char *const sides[] = { "floor", "flatvm", "qemu" };
static const char *const side_titles[] = { "KVM floor", "flatvm",
					   "QEMU microvm" };
static const char *const kinds[] = { "pio-read", "pio-write", "mmio-read",
				     "mmio-write", "ioeventfd" };

bool report_find_on_path(const char *name, char *buf, size_t len)
{
	const char *path = getenv("PATH"), *p, *end;
	size_t n;

	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; *p; p = *end ? end + 1 : end) {
		end = strchr(p, ':');
		if (!end)
			end = p + strlen(p);
		n = (size_t)(end - p);
		if (!n || n + strlen(name) + 2 > len)
			continue;
		snprintf(buf, len, "%.*s/%s", (int)n, p, name);
		if (!access(buf, X_OK))
			return true;
	}
	return false;
}

/* ---- Looking things up in the JSON --------------------------------------- */

/* @o's string @key, or "?" (a hand-edited report may lack it). */
static const char *sv(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : "?";
}

static json_t *series_find(json_t *root, const char *config, const char *side,
			   const char *kind, int cpu)
{
	json_t *s;
	size_t i;

	json_array_foreach(json_object_get(root, "series"), i, s) {
		if (!strcmp(json_string_value(json_object_get(s, "config")) ?: "",
			    config) &&
		    !strcmp(json_string_value(json_object_get(s, "side")) ?: "",
			    side) &&
		    !strcmp(json_string_value(json_object_get(s, "kind")) ?: "",
			    kind) &&
		    json_integer_value(json_object_get(s, "cpu")) == cpu)
			return s;
	}
	return NULL;
}

static double stat_of(json_t *s, const char *key)
{
	return json_number_value(json_object_get(json_object_get(s, "stats"),
						 key));
}

/*
 * @a's p50 over @b's: the median over the rounds of each round's ratio
 * when both ran the same rounds (a round the host slowed down as a whole
 * weighs once), the ratio of the pooled p50s otherwise.
 */
static double p50_ratio(json_t *a, json_t *b)
{
	json_t *ra = json_object_get(a, "run_p50_ns");
	json_t *rb = json_object_get(b, "run_p50_ns");
	double r[16], t;
	size_t n = json_array_size(ra), i, k, m = 0;

	if (n && n == json_array_size(rb) && n <= 16) {
		for (i = 0; i < n; i++) {
			t = json_number_value(json_array_get(rb, i));
			if (t > 0)
				r[m++] = json_number_value(
					json_array_get(ra, i)) / t;
		}
		for (i = 1; i < m; i++)
			for (k = i; k && r[k - 1] > r[k]; k--) {
				t = r[k];
				r[k] = r[k - 1];
				r[k - 1] = t;
			}
		if (m)
			return m % 2 ? r[m / 2] : (r[m / 2 - 1] + r[m / 2]) / 2;
	}
	t = stat_of(b, "p50_ns");
	return t > 0 ? stat_of(a, "p50_ns") / t : 0;
}

/*
 * "rounds: r1, r2, r3; " - each round's p50 ratio of @a to @b (as a
 * percentage difference with @pct), when there is more than one round:
 * the spread behind the median that decides the verdict.
 */
static void round_ratios(FILE *f, json_t *a, json_t *b, bool pct)
{
	json_t *ra = json_object_get(a, "run_p50_ns");
	json_t *rb = json_object_get(b, "run_p50_ns");
	size_t i, n = json_array_size(ra);
	double d, t;

	if (n < 2 || n != json_array_size(rb))
		return;
	fprintf(f, "rounds: ");
	for (i = 0; i < n; i++) {
		t = json_number_value(json_array_get(rb, i));
		d = t > 0 ? json_number_value(json_array_get(ra, i)) / t : 0;
		if (pct)
			fprintf(f, "%s%+.1f %%", i ? ", " : "", (d - 1) * 100);
		else
			fprintf(f, "%s%.3fx", i ? ", " : "", d);
	}
	fprintf(f, "; ");
}

static const char *verdict(bool ok)
{
	return ok ? "**PASS**" : "**MISS**";
}

static void us(FILE *f, double ns)
{
	fprintf(f, " %.2f |", ns / 1e3);
}

/* ---- Sections ------------------------------------------------------------ */

static void section_machine(FILE *f, json_t *root)
{
	json_t *m = json_object_get(root, "machine"), *sk;
	size_t i;

	fprintf(f, "## The machine\n\n| | |\n|---|---|\n");
	fprintf(f, "| CPU | %s (%lld online) |\n",
		json_string_value(json_object_get(m, "cpu")) ?: "?",
		json_integer_value(json_object_get(m, "cpus")));
	fprintf(f, "| Kernel | %s %s |\n",
		json_string_value(json_object_get(m, "kernel")) ?: "?",
		json_string_value(json_object_get(m, "machine")) ?: "");
	fprintf(f, "| KVM | %s |\n",
		json_string_value(json_object_get(m, "kvm")) ?: "?");
	fprintf(f, "| Nested (host itself a guest) | %s (hypervisor CPU flag: %s) |\n",
		json_is_true(json_object_get(m, "nested")) ? "yes" : "no",
		json_is_true(json_object_get(m, "hypervisor_flag")) ? "set" :
								      "not set");
	fprintf(f, "| TSC | %.3f MHz (KVM_GET_TSC_KHZ; guests run at this rate, the figures use it)",
		json_integer_value(json_object_get(m, "tsc_khz")) / 1e3);
	if (json_number_value(json_object_get(m, "tsc_mhz_calibrated")) > 0)
		fprintf(f, "; %.3f MHz calibrated against the host's CLOCK_MONOTONIC over %.0f ms (%+.2f %%)",
			json_number_value(json_object_get(m, "tsc_mhz_calibrated")),
			json_number_value(json_object_get(m, "tsc_calibration_ms")),
			(json_number_value(json_object_get(m, "tsc_mhz_calibrated")) * 1e3 /
			 (double)json_integer_value(json_object_get(m, "tsc_khz")) - 1) * 100);
	fprintf(f, " |\n");
	fprintf(f, "| QEMU | %s |\n",
		json_string_value(json_object_get(m, "qemu")) ?:
		"not installed");
	fprintf(f, "| Run | %s: %lld accesses per run (churn runs 3x), %lld round(s), %.0f s |\n\n",
		json_is_true(json_object_get(root, "quick")) ?
		"--quick (a smoke run: too few samples for conclusions)" :
		"full",
		json_integer_value(json_object_get(root, "count")),
		json_integer_value(json_object_get(root, "rounds")),
		json_number_value(json_object_get(root, "duration_s")));
	if (!json_array_size(json_object_get(root, "skipped")))
		return;
	fprintf(f, "Skipped:\n\n");
	json_array_foreach(json_object_get(root, "skipped"), i, sk)
		fprintf(f, "- %s: %s\n",
			json_string_value(json_object_get(sk, "part")) ?: "?",
			json_string_value(json_object_get(sk, "reason")) ?: "?");
	fprintf(f, "\n");
}

static void section_targets(FILE *f, json_t *root)
{
	json_t *fv, *fl, *q, *on, *off, *one, *two;
	double r;
	size_t k;
	int c;

	fprintf(f, "## Targets\n\n| Target | Measured | Verdict |\n|---|---|---|\n");
	for (k = 0; k < 4; k++) {
		fv = series_find(root, "compare", "flatvm", kinds[k], 0);
		fl = series_find(root, "compare", "floor", kinds[k], 0);
		q = series_find(root, "compare", "qemu", kinds[k], 0);
		if (fv && fl) {
			r = p50_ratio(fv, fl);
			fprintf(f, "| %s p50 within 5 %% of the floor | %+.1f %% (",
				kinds[k], (r - 1) * 100);
			round_ratios(f, fv, fl, true);
			fprintf(f, "pooled p50 %.2f vs %.2f us) | %s |\n",
				stat_of(fv, "p50_ns") / 1e3,
				stat_of(fl, "p50_ns") / 1e3,
				verdict(r <= TARGET_FLOOR));
		}
		if (fv && q) {
			r = p50_ratio(fv, q);
			fprintf(f, "| %s p50 below QEMU microvm's | %.3fx QEMU (",
				kinds[k], r);
			round_ratios(f, fv, q, false);
			fprintf(f, "pooled p50 %.2f vs %.2f us) | %s |\n",
				stat_of(fv, "p50_ns") / 1e3,
				stat_of(q, "p50_ns") / 1e3, verdict(r < 1));
		} else if (fv) {
			fprintf(f, "| %s p50 below QEMU microvm's | QEMU not run | - |\n",
				kinds[k]);
		}
	}
	on = series_find(root, "churn-on", "flatvm", "mmio-read", 0);
	off = series_find(root, "churn-off", "flatvm", "mmio-read", 0);
	if (on && off && stat_of(off, "p99_ns") > 0) {
		r = stat_of(on, "p99_ns") / stat_of(off, "p99_ns");
		fprintf(f, "| p99 during hotplug churn within 1.2x of p99 without | %.2fx (%.2f vs %.2f us) | %s |\n",
			r, stat_of(on, "p99_ns") / 1e3,
			stat_of(off, "p99_ns") / 1e3,
			verdict(r <= TARGET_CHURN));
	}
	one = series_find(root, "scale-1cpu", "flatvm", "mmio-read", 0);
	for (c = 0; c < 2 && one; c++) {
		two = series_find(root, "scale-2cpu-diff", "flatvm",
				  "mmio-read", c);
		if (!two || stat_of(one, "p50_ns") <= 0)
			continue;
		r = stat_of(two, "p50_ns") / stat_of(one, "p50_ns");
		fprintf(f, "| 2 vCPUs on different devices: vCPU %d p50 within 10 %% of 1 vCPU alone | %+.1f %% (%.2f vs %.2f us) | %s |\n",
			c, (r - 1) * 100, stat_of(two, "p50_ns") / 1e3,
			stat_of(one, "p50_ns") / 1e3,
			verdict(r <= TARGET_2CPU));
	}
	fprintf(f, "\nA miss is a result, not an error: it is printed, and the run still succeeds.\n\n");
}

static void stats_row(FILE *f, const char *name, json_t *s)
{
	fprintf(f, "| %s |", name);
	us(f, stat_of(s, "p50_ns"));
	us(f, stat_of(s, "p90_ns"));
	us(f, stat_of(s, "p99_ns"));
	us(f, stat_of(s, "p999_ns"));
	us(f, stat_of(s, "max_ns"));
}

/* A mean or wall cell: "-" when not computed, "noise" when not above 0. */
static void cross(FILE *f, json_t *s, const char *key)
{
	json_t *v = json_object_get(s, key);

	if (!v)
		fprintf(f, " - |");
	else if (json_number_value(v) <= 0)
		fprintf(f, " noise |");
	else
		us(f, json_number_value(v));
}

static void section_compare(FILE *f, json_t *root)
{
	json_t *s, *fl, *q, *any;
	size_t k, i;

	fprintf(f, "## Round trips, 1 vCPU, the same registers on every side\n\n"
		"Microseconds per access, the guest's TSC, net of the timer (the median empty window). "
		"*mean* = (the guest's whole timed loop - the same loop with no access) / N; "
		"*wall* = (host time around the run - the same for no access) / N: a cross-check that does not trust the TSC "
		"(not for ioeventfd on flatvm and QEMU, whose runs also bring the virtio device up, nor for mmio-read there, whose runs also build the console histogram). "
		"Both need 3 rounds (`-` otherwise) and show `noise` when the difference came out at or below 0. "
		"Ratios are of p50, the median over the rounds of each round's ratio.\n\n");
	for (k = 0; k < 5; k++) {
		any = NULL;
		for (i = 0; i < 3 && !any; i++)
			any = series_find(root, "compare", sides[i], kinds[k], 0);
		if (!any)
			continue;
		fprintf(f, "### %s: %s\n\n", kinds[k],
			json_string_value(json_object_get(any, "registers")) ?: "");
		fprintf(f, "| side | p50 | p90 | p99 | p99.9 | max | mean | wall | vs floor | vs QEMU |\n"
			"|---|---|---|---|---|---|---|---|---|---|\n");
		fl = series_find(root, "compare", "floor", kinds[k], 0);
		q = series_find(root, "compare", "qemu", kinds[k], 0);
		for (i = 0; i < 3; i++) {
			s = series_find(root, "compare", sides[i], kinds[k], 0);
			if (!s)
				continue;
			stats_row(f, side_titles[i], s);
			cross(f, s, "mean_ns");
			cross(f, s, "wall_ns");
			if (fl && s != fl)
				fprintf(f, " %+.1f %% |", (p50_ratio(s, fl) - 1) * 100);
			else
				fprintf(f, " - |");
			if (q && s != q)
				fprintf(f, " %+.1f %% |", (p50_ratio(s, q) - 1) * 100);
			else
				fprintf(f, " - |");
			fprintf(f, "\n");
		}
		fprintf(f, "\n![%s](plots/latency-%s.svg)\n\n", kinds[k], kinds[k]);
	}
}

/* The in-process dispatch bench's ns per access: 1 thread, @regions. */
static double dispatch_ns(json_t *root, int threads, int regions, bool churn)
{
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(root, "dispatch"),
					   "configs"), i, c) {
		if (json_integer_value(json_object_get(c, "threads")) == threads &&
		    json_integer_value(json_object_get(c, "regions")) == regions &&
		    json_is_true(json_object_get(c, "churn")) == churn)
			return json_number_value(json_object_get(
				json_object_get(c, "flatvm"), "ns_per_access"));
	}
	return 0;
}

/*
 * flatvm's own dispatch-time histogram for @kind, from query-stats
 * (vcpus[0].dispatch[kind]); 0 if the reply has none.
 */
static double qs_dispatch(json_t *s, const char *kind, const char *q)
{
	json_t *vcpus = json_object_get(json_object_get(s, "query_stats"),
					"vcpus");
	json_t *d = json_object_get(json_object_get(json_array_get(vcpus, 0),
						    "dispatch"), kind);

	return json_number_value(json_object_get(d, q));
}

static void section_breakdown(FILE *f, json_t *root)
{
	json_t *fv, *fl;
	double lookup = dispatch_ns(root, 1, 64, false), inside;
	size_t k;

	fprintf(f, "## Where the time goes (p50, 1 vCPU)\n\n"
		"*exit* is the floor: KVM's exit to user space and back with a VMM that does nothing. "
		"*flatvm* is what flatvm adds: leaving and re-entering its RCU read side, looking the address up in the published flat view, the device's handler, the counters. "
		"*in flatvm* is flatvm's own measurement of its user-space handling of that kind of exit (query-stats dispatch histogram, p50). "
		"*lookup* is the in-process dispatch bench (1 thread, 64 regions, no handler work): the flat-view lookup alone.\n\n"
		"| kind | exit (floor) | flatvm adds | in flatvm (query-stats) | lookup (in-process) |\n|---|---|---|---|---|\n");
	for (k = 0; k < 5; k++) {
		fv = series_find(root, "compare", "flatvm", kinds[k], 0);
		fl = series_find(root, "compare", "floor", kinds[k], 0);
		if (!fv || !fl)
			continue;
		inside = qs_dispatch(fv, kinds[k], "p50-ns");
		fprintf(f, "| %s | %.2f us | %+.0f ns |", kinds[k],
			stat_of(fl, "p50_ns") / 1e3,
			stat_of(fv, "p50_ns") - stat_of(fl, "p50_ns"));
		if (!strcmp(kinds[k], "ioeventfd"))
			fprintf(f, " no exit to user space (see below) |");
		else if (inside > 0)
			fprintf(f, " %.0f ns |", inside);
		else
			fprintf(f, " - |");
		if (lookup > 0)
			fprintf(f, " %.1f ns |\n", lookup);
		else
			fprintf(f, " - |\n");
	}
	fprintf(f, "\nThe guest's TSC, as KVM emulates RDTSC on some hosts, moves in steps of about 10 ns; differences below that are noise.\n\n"
		"An ioeventfd write never leaves the kernel, so no flatvm code runs for it: on the floor nobody reads the eventfd, while flatvm's (and QEMU's) virtio I/O thread wakes up on every notify. "
		"What flatvm adds there is that wake-up: when the woken thread lands on the vCPU's CPU it preempts the vCPU, which a host with few CPUs (or a busy one) makes likely.\n\n");
}

static void section_scale(FILE *f, json_t *root)
{
	static const char *const configs[] = {
		"scale-1cpu", "scale-2cpu-same", "scale-2cpu-diff",
		"scale-512dev",
	};
	json_t *s, *base;
	size_t i, k;
	int c;

	fprintf(f, "## Scale: MMIO reads with more vCPUs and more devices\n\n"
		"| configuration | side | vCPU | registers | p50 | p90 | p99 | p99.9 | max | p50 vs 1 vCPU |\n"
		"|---|---|---|---|---|---|---|---|---|---|\n");
	for (i = 0; i < 4; i++) {
		for (k = 1; k < 3; k++) {
			base = series_find(root, "scale-1cpu", sides[k],
					   "mmio-read", 0);
			for (c = 0; c < (int)PROBE_MAX_CPUS; c++) {
				s = series_find(root, configs[i], sides[k],
						"mmio-read", c);
				if (!s)
					continue;
				fprintf(f, "| %s | %s | %d | %s |", configs[i],
					side_titles[k], c,
					json_string_value(json_object_get(s,
						"registers")) ?: "");
				us(f, stat_of(s, "p50_ns"));
				us(f, stat_of(s, "p90_ns"));
				us(f, stat_of(s, "p99_ns"));
				us(f, stat_of(s, "p999_ns"));
				us(f, stat_of(s, "max_ns"));
				if (base && stat_of(base, "p50_ns") > 0)
					fprintf(f, " %+.1f %% |\n",
						(stat_of(s, "p50_ns") /
						 stat_of(base, "p50_ns") - 1) * 100);
				else
					fprintf(f, " - |\n");
			}
		}
	}
	fprintf(f, "\nOn a host with as many CPUs as vCPUs plus the VMM's own threads, 2 vCPUs on different devices should cost each no more than 1 vCPU alone; on a 2-CPU host the second vCPU competes with flatvm's other threads and the host.\n\n![scale](plots/scale.svg)\n\n");
}

static void section_churn(FILE *f, json_t *root)
{
	json_t *on = series_find(root, "churn-on", "flatvm", "mmio-read", 0);
	json_t *off = series_find(root, "churn-off", "flatvm", "mmio-read", 0);
	json_t *ch;

	if (!on || !off)
		return;
	ch = json_object_get(on, "churn");
	fprintf(f, "## Hotplug churn\n\n"
		"The guest reads test device 0's SCRATCH while the bench plugs and unplugs another test device through the control socket (device_add, device_del, DEVICE_DELETED) as fast as it answers: %lld cycles during the measured runs, %.0f per second.\n\n"
		"| | p50 | p90 | p99 | p99.9 | max |\n|---|---|---|---|---|---|\n",
		json_integer_value(json_object_get(ch, "cycles")),
		json_number_value(json_object_get(ch, "per_s")));
	stats_row(f, "socket idle", off);
	fprintf(f, "\n");
	stats_row(f, "plug loop running", on);
	fprintf(f, "\n\n![churn](plots/churn-timeline.svg)\n\n");
}

static void section_dispatch(FILE *f, json_t *root)
{
	json_t *d = json_object_get(root, "dispatch"), *c;
	size_t i;

	fprintf(f, "## In-process dispatch (flatvm-bench dispatch)\n\n");
	if (!json_is_object(d)) {
		fprintf(f, "Not run (see Skipped above).\n\n");
		return;
	}
	fprintf(f, "Nanoseconds per lookup-and-dispatch through the published flat view, no VM: flatvm against a global mutex and a rwlock over a sorted array (%s).\n\n"
		"| threads | regions | churn | flatvm | mutex | rwlock |\n|---|---|---|---|---|---|\n",
		json_is_true(json_object_get(d, "quick")) ? "--quick: tiny durations" :
							    "0.25 s per configuration");
	json_array_foreach(json_object_get(d, "configs"), i, c)
		fprintf(f, "| %lld | %lld | %s | %.1f | %.1f | %.1f |\n",
			json_integer_value(json_object_get(c, "threads")),
			json_integer_value(json_object_get(c, "regions")),
			json_is_true(json_object_get(c, "churn")) ? "yes" : "no",
			json_number_value(json_object_get(json_object_get(c, "flatvm"), "ns_per_access")),
			json_number_value(json_object_get(json_object_get(c, "mutex"), "ns_per_access")),
			json_number_value(json_object_get(json_object_get(c, "rwlock"), "ns_per_access")));
	fprintf(f, "\n");
}

static void section_counters(FILE *f, json_t *root)
{
	json_t *s = series_find(root, "compare", "flatvm", "mmio-read", 0);
	json_t *vcpus, *v, *d, *h;
	const char *kind;
	size_t i;

	fprintf(f, "## flatvm's own counters (query-stats)\n\n");
	vcpus = json_object_get(json_object_get(s, "query_stats"), "vcpus");
	if (!json_array_size(vcpus)) {
		fprintf(f, "No query-stats reply was recorded.\n\n");
		return;
	}
	fprintf(f, "Taken over the control socket at the end of the last `compare, flatvm, mmio-read` run: flatvm's dispatch time per exit kind, measured inside flatvm on every exit.\n\n"
		"| vCPU | kind | count | p50 | p90 | p99 |\n|---|---|---|---|---|---|\n");
	json_array_foreach(vcpus, i, v) {
		d = json_object_get(v, "dispatch");
		json_object_foreach(d, kind, h) {
			if (!json_is_object(h) ||
			    !json_integer_value(json_object_get(h, "count")))
				continue;
			fprintf(f, "| %zu | %s | %lld | %.0f ns | %.0f ns | %.0f ns |\n",
				i, kind,
				json_integer_value(json_object_get(h, "count")),
				json_number_value(json_object_get(h, "p50-ns")),
				json_number_value(json_object_get(h, "p90-ns")),
				json_number_value(json_object_get(h, "p99-ns")));
		}
	}
	fprintf(f, "\n");
}

static void section_checks(FILE *f, json_t *root)
{
	json_t *s, *h;
	size_t i;

	fprintf(f, "## Cross-checks\n\n");
	json_array_foreach(json_object_get(root, "series"), i, s) {
		h = json_object_get(s, "console_histogram");
		if (!h)
			continue;
		if (json_object_get(h, "error"))
			fprintf(f, "- %s, %s, %s: the probe's console histogram could not be used: %s\n",
				sv(s, "config"), sv(s, "side"), sv(s, "kind"),
				sv(h, "error"));
		else
			fprintf(f, "- %s, %s, %s: the probe's console histogram puts the median in [%lld, %lld) ticks, the samples in guest memory at %lld ticks: %s\n",
				sv(s, "config"), sv(s, "side"), sv(s, "kind"),
				json_integer_value(json_object_get(h, "console_p50_bucket_lo_ticks")),
				json_integer_value(json_object_get(h, "console_p50_bucket_hi_ticks")),
				json_integer_value(json_object_get(h, "memory_p50_ticks")),
				json_is_true(json_object_get(h, "agrees")) ?
				"they agree" : "**they disagree**");
	}
	fprintf(f, "- *mean* and *wall* (the round-trip tables) do not use the per-access stamps: each is a median over the rounds of one run minus another, so it carries the noise of both runs (a shared host's preemptions of several milliseconds included), and it is printed only with 3 rounds or more.  Both sit above p50 by the tail; if, over several full runs, they kept disagreeing with each other in one direction, the TSC rate would be the suspect (compare the calibration in the machine table).\n\n");
}

/* ---- Plots ----------------------------------------------------------------- */

static int write_dat(const char *dir, const char *name, json_t *rows,
		     struct error *err)
{
	char path[600];
	json_t *row, *v;
	size_t i, k;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		return error_setf(err, errno, "%s: %s", path, strerror(errno));
	json_array_foreach(rows, i, row) {
		json_array_foreach(row, k, v)
			fprintf(f, "%s%.6g", k ? " " : "", json_number_value(v));
		fprintf(f, "\n");
	}
	fclose(f);
	return 0;
}

/*
 * gnuplot @script in @dir (the scripts name their data relative to it, so
 * they run again by hand there): "cd" first, @dir quoted as gnuplot
 * quotes ('' for a quote).
 */
static int run_gnuplot(const char *gnuplot, const char *dir,
		       const char *script, struct error *err)
{
	char cd[1300], *q = cd + snprintf(cd, sizeof(cd), "cd '");
	char *argv[] = { (char *)gnuplot, "-e", cd, (char *)script, NULL };
	struct bench_child c;
	const char *p;
	int ret;

	for (p = dir; *p && q < cd + sizeof(cd) - 4; p++) {
		if (*p == '\'')
			*q++ = '\'';
		*q++ = *p;
	}
	if (*p)
		return error_setf(err, ENAMETOOLONG, "%s: path too long", dir);
	strcpy(q, "'");
	ret = bench_child_run(&c, argv,
			      GNUPLOT_TIMEOUT_MS * 1000000ull, err);
	bench_child_release(&c);
	if (ret)
		error_prepend(err, "plotting %s/%s: ", dir, script);
	return ret;
}

/* Both terminals: PNG for viewers, SVG for the Markdown. */
static void plot_header(FILE *g, const char *name, const char *title)
{
	fprintf(g, "set title \"%s\" noenhanced\n"
		"set grid\nset key bottom right\n", title);
	fprintf(g, "# rendered twice: svg, then png\n"
		"do for [t in \"svg png\"] {\n"
		"  if (t eq \"svg\") { set terminal svg size 900,540 dynamic; set output \"%s.svg\" }\n"
		"  else { set terminal pngcairo size 900,540 noenhanced; set output \"%s.png\" }\n",
		name, name);
}

static int plot_latency(const char *dir, json_t *root, const char *kind,
			const char *gnuplot, struct error *err)
{
	char name[64], dat[96], path[700];
	json_t *s;
	bool first = true;
	size_t i;
	FILE *g;
	int ret;

	snprintf(name, sizeof(name), "latency-%s", kind);
	snprintf(path, sizeof(path), "%s/%s.gp", dir, name);
	g = fopen(path, "w");
	if (!g)
		return error_setf(err, errno, "%s: %s", path, strerror(errno));
	plot_header(g, name, kind);
	fprintf(g, "  set xlabel \"round trip (us), net of the timer\"\n"
		"  set ylabel \"fraction of accesses at or below\"\n"
		"  set logscale x\n  set yrange [0:1]\n  plot ");
	for (i = 0; i < 3; i++) {
		s = series_find(root, "compare", sides[i], kind, 0);
		if (!s)
			continue;
		snprintf(dat, sizeof(dat), "%s-%s.dat", name, sides[i]);
		ret = write_dat(dir, dat, json_object_get(s, "cdf"), err);
		if (ret) {
			fclose(g);
			return ret;
		}
		fprintf(g, "%s\"%s\" using ($2/1000):1 with lines lw 2 title \"%s\"",
			first ? "" : ", ", dat, side_titles[i]);
		first = false;
	}
	fprintf(g, "\n}\n");
	fclose(g);
	if (first)
		return 0;
	snprintf(path, sizeof(path), "%s.gp", name);
	return gnuplot ? run_gnuplot(gnuplot, dir, path, err) : 0;
}

static int plot_churn(const char *dir, json_t *root, const char *gnuplot,
		      struct error *err)
{
	json_t *on = series_find(root, "churn-on", "flatvm", "mmio-read", 0);
	json_t *off = series_find(root, "churn-off", "flatvm", "mmio-read", 0);
	char path[600];
	FILE *g;
	int ret;

	if (!on || !off)
		return 0;
	ret = write_dat(dir, "churn-on.dat", json_object_get(on, "timeline"),
			err);
	if (!ret)
		ret = write_dat(dir, "churn-off.dat",
				json_object_get(off, "timeline"), err);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/churn-timeline.gp", dir);
	g = fopen(path, "w");
	if (!g)
		return error_setf(err, errno, "%s: %s", path, strerror(errno));
	plot_header(g, "churn-timeline",
		    "MMIO read latency over time, with and without hotplug churn");
	fprintf(g, "  set xlabel \"time since the first access (ms)\"\n"
		"  set ylabel \"round trip (us), log scale\"\n  set logscale y\n  set key top right\n"
		"  plot \"churn-off.dat\" using 1:2 with lines title \"median, socket idle\", "
		"\"churn-on.dat\" using 1:2 with lines title \"median, plug loop\", "
		"\"churn-off.dat\" using 1:3 with points pt 1 title \"max, socket idle\", "
		"\"churn-on.dat\" using 1:3 with points pt 2 title \"max, plug loop\"\n}\n");
	fclose(g);
	return gnuplot ? run_gnuplot(gnuplot, dir, "churn-timeline.gp", err) : 0;
}

static int plot_scale(const char *dir, json_t *root, const char *gnuplot,
		      struct error *err)
{
	json_t *s, *rows = json_array();
	char path[600];
	size_t i;
	FILE *g, *names;
	int ret, n = 0;

	snprintf(path, sizeof(path), "%s/scale-names.dat", dir);
	names = fopen(path, "w");
	if (!names) {
		json_decref(rows);
		return error_setf(err, errno, "%s: %s", path, strerror(errno));
	}
	json_array_foreach(json_object_get(root, "series"), i, s) {
		if (strncmp(sv(s, "config"), "scale-", 6))
			continue;
		fprintf(names, "%d \"%s %s cpu%lld\" %.6g %.6g\n", n,
			sv(s, "config") + 6, sv(s, "side"),
			json_integer_value(json_object_get(s, "cpu")),
			stat_of(s, "p50_ns") / 1e3, stat_of(s, "p99_ns") / 1e3);
		n++;
	}
	fclose(names);
	json_decref(rows);
	if (!n)
		return 0;
	snprintf(path, sizeof(path), "%s/scale.gp", dir);
	g = fopen(path, "w");
	if (!g)
		return error_setf(err, errno, "%s: %s", path, strerror(errno));
	plot_header(g, "scale", "MMIO reads: p50 and p99 per configuration and vCPU");
	fprintf(g, "  set style data histograms\n  set style histogram clustered\n"
		"  set style fill solid 0.6\n  set ylabel \"round trip (us), log scale\"\n"
		"  set logscale y\n  set yrange [1:*]\n"
		"  set xtics rotate by -30\n  set key top left\n"
		"  plot \"scale-names.dat\" using 3:xtic(2) title \"p50\", \"\" using 4 title \"p99\"\n}\n");
	fclose(g);
	ret = gnuplot ? run_gnuplot(gnuplot, dir, "scale.gp", err) : 0;
	return ret;
}

/* ---- The report ---------------------------------------------------------- */

int report_render(json_t *root, const char *dir, const char *gnuplot,
		  struct error *err)
{
	char path[600], plots[560];
	size_t k;
	FILE *f;
	int ret = 0;

	if (!json_is_array(json_object_get(root, "series")) ||
	    !json_is_object(json_object_get(root, "machine")))
		return error_setf(err, EINVAL,
				  "not a flatvm-bench report: expected an object with \"machine\" and \"series\"");
	snprintf(plots, sizeof(plots), "%s/plots", dir);
	if (mkdir(plots, 0755) && errno != EEXIST)
		return error_setf(err, errno, "%s: %s", plots, strerror(errno));
	for (k = 0; k < 5 && !ret; k++)
		ret = plot_latency(plots, root, kinds[k], gnuplot, err);
	if (!ret)
		ret = plot_churn(plots, root, gnuplot, err);
	if (!ret)
		ret = plot_scale(plots, root, gnuplot, err);
	if (ret)
		return ret;

	snprintf(path, sizeof(path), "%s/report.md", dir);
	f = fopen(path, "w");
	if (!f)
		return error_setf(err, errno, "%s: %s", path, strerror(errno));
	fprintf(f, "# flatvm MMIO/PIO dispatch latency report\n\n"
		"Written by `flatvm-bench report`; every figure is in report.json beside this file, "
		"and Documentation/benchmarking.md says what each includes and excludes.\n\n");
	section_machine(f, root);
	if (!gnuplot)
		fprintf(f, "Plots were not rendered: gnuplot is not on PATH (Debian package gnuplot-nox); their data and scripts are in plots/.\n\n");
	section_targets(f, root);
	section_compare(f, root);
	section_breakdown(f, root);
	section_scale(f, root);
	section_churn(f, root);
	section_dispatch(f, root);
	section_counters(f, root);
	section_checks(f, root);
	if (fclose(f))
		return error_setf(err, errno, "%s: %s", path, strerror(errno));
	return 0;
}
