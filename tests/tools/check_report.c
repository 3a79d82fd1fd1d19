// SPDX-License-Identifier: GPL-2.0-only
/*
 * flatvm-bench report's pure parts on recorded and crafted samples: the
 * parser of the probe's console histogram (a console QEMU's microvm
 * printed with 2 vCPUs, then that console damaged in every way the
 * parser must catch), the statistics (quantiles net of the timer, the
 * timeline across a TSC wrap), and the renderer: the verdicts it derives
 * from a crafted report.json on each side of every target, and its
 * sections and plot files from a recorded one.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "report.h"

#ifndef REPORT_DATA_DIR
#error "REPORT_DATA_DIR: tests/tools/data"
#endif

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	ck_assert_msg(f, "%s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static char *recorded_console(size_t *len)
{
	return slurp(REPORT_DATA_DIR "/probe-console-qemu-2cpu.txt", len);
}

/* ---- The console parser ------------------------------------------------ */

START_TEST(test_parse_recorded)
{
	struct probe_hist h[PROBE_MAX_CPUS];
	struct error err = { 0 };
	uint64_t total = 0;
	uint32_t lo, hi;
	size_t len;
	char *text = recorded_console(&len);
	unsigned i;

	ck_assert_int_eq(probe_hist_parse(text, len, h, &err), 2);
	ck_assert(h[0].ended && h[1].ended && !h[2].seen);
	ck_assert_uint_eq(h[0].kind, PROBE_MMIO_READ);
	ck_assert_uint_eq(h[0].width, 4);
	ck_assert_uint_eq(h[0].target, 0xfeb00000u);
	ck_assert_uint_eq(h[1].target, 0xfeb00200u);
	ck_assert_uint_eq(h[0].count, 500);
	ck_assert_uint_eq(h[0].loop, 185693250ull);
	/* Three sample lines joined: 18 buckets, ascending, summing up. */
	ck_assert_uint_eq(h[0].nsamples, 18);
	for (i = 0; i < h[0].nsamples; i++) {
		total += h[0].samples[i].count;
		if (i)
			ck_assert_uint_lt(h[0].samples[i - 1].lower,
					  h[0].samples[i].lower);
	}
	ck_assert_uint_eq(total, 500);
	ck_assert_uint_eq(h[0].nempty, 6);
	/* 2 + 165 = 167 below 32768: the 250th sample is in [32768, 40960). */
	lo = probe_hist_quantile(h[0].samples, h[0].nsamples, 0.5, &hi);
	ck_assert_uint_eq(lo, 32768);
	ck_assert_uint_eq(hi, 40960);
	lo = probe_hist_quantile(h[0].samples, h[0].nsamples, 0.0, &hi);
	ck_assert_uint_eq(lo, 24576);
	ck_assert_uint_eq(hi, 28672);
	lo = probe_hist_quantile(h[0].samples, h[0].nsamples, 1.0, &hi);
	ck_assert_uint_eq(lo, 2097152);
	free(text);
}
END_TEST

/* The recorded console with @from replaced by @to: must be refused. */
static void expect_refused(const char *from, const char *to,
			   const char *why)
{
	struct probe_hist h[PROBE_MAX_CPUS];
	struct error err = { 0 };
	size_t len, n;
	char *text = recorded_console(&len), *p, *bad;

	p = strstr(text, from);
	ck_assert_msg(p, "'%s' is not in the recorded console", from);
	n = len - strlen(from) + strlen(to);
	bad = malloc(n + 1);
	ck_assert_ptr_nonnull(bad);
	memcpy(bad, text, (size_t)(p - text));
	strcpy(bad + (p - text), to);
	strcat(bad, p + strlen(from));
	ck_assert_int_lt(probe_hist_parse(bad, strlen(bad), h, &err), 0);
	ck_assert_msg(strstr(err.msg, why), "'%s' does not say '%s'", err.msg,
		      why);
	free(bad);
	free(text);
}

START_TEST(test_parse_refuses)
{
	/* A count the buckets do not add up to. */
	expect_refused("count=500 loop=185693250", "count=501 loop=185693250",
		       "do not add up");
	/* 9 is not a bucket's lower bound (8, 10, 12, 14, 16, 20, ...). */
	expect_refused("hist=empty 4096:158", "hist=empty 9:1 4096:157",
		       "not one of the probe's buckets");
	expect_refused("24576:2 28672:165", "24577:2 28672:165",
		       "not one of the probe's buckets");
	/* Descending, repeated, zero and negative counts, junk. */
	expect_refused("24576:2 28672:165", "28672:2 24576:165", "ascending");
	expect_refused("24576:2 28672:165", "28672:2 28672:165", "ascending");
	expect_refused("24576:2 28672:165", "24576:0 28672:167", "count of 0");
	expect_refused("24576:2 28672:165", "24576:-2 28672:169",
		       "pairs of decimal numbers");
	expect_refused("24576:2 28672:165", "24576:2 28672:165x",
		       "pairs of decimal numbers");
	expect_refused("24576:2 28672:165", "24576:2 28672:0x10",
		       "pairs of decimal numbers");
	expect_refused("24576:2 28672:165", "24576:2 28672:",
		       "pairs of decimal numbers");
	expect_refused("24576:2 28672:165", "4294967296:2 28672:165",
		       "out of range");
	/* Counts that wrap 64 bits to add up to the header's count. */
	expect_refused("hist=empty 4096:158",
		       "hist=empty 8:18446744073709551615 10:159", "overflow");
	/* Header numbers: decimal counts, a 0x target, nothing else. */
	expect_refused("target=0xfeb00200", "target=feb00200", "hex, 32 bits");
	expect_refused("count=500 loop=53526200", "count=500 loop=\t53526200",
		       "count=N loop=TICKS");
	expect_refused("count=500 loop=53526200", "count=+500 loop=53526200",
		       "count=N loop=TICKS");
	expect_refused("loop=53526200", "loop=53526200 extra", "after loop=");
	/* Cut short: no end line for CPU 1. */
	expect_refused("probe: cpu=1 end", "probe: reboot", "no end line");
	/* A CPU number past the limit, a kind or width the probe has not. */
	expect_refused("probe: cpu=1 kind", "probe: cpu=9 kind", "CPU limit");
	expect_refused("kind=mmio-read width=4 target=0xfeb00200",
		       "kind=mmio-rd width=4 target=0xfeb00200", "kind=");
	expect_refused("width=4 target=0xfeb00200", "width=3 target=0xfeb00200",
		       "width=1, 2 or 4");
	expect_refused("target=0xfeb00200", "target=0x1feb00200", "32 bits");
	/* Lines out of order: buckets before the header, after the end. */
	expect_refused("probe: cpu=1 kind=mmio-read",
		       "probe: cpu=1 hist=empty 8:1\nprobe: cpu=1 kind=mmio-read",
		       "before this CPU's header");
	expect_refused("probe: cpu=1 end",
		       "probe: cpu=1 end\nprobe: cpu=1 hist=empty 8:1",
		       "after this CPU's end");
	expect_refused("probe: cpu=1 kind=mmio-read",
		       "probe: cpu=0 kind=mmio-read width=4 target=0 count=0 loop=0\nprobe: cpu=1 kind=mmio-read",
		       "a second header");
	expect_refused("probe: cpu=1 end", "probe: cpu=1 ended", "or end");
}
END_TEST

START_TEST(test_parse_crlf_and_noise)
{
	static const char text[] =
		"SeaBIOS (not really)\r\n"
		"probe: cpu=0 kind=pio-read width=1 target=0x3fd count=3 loop=99\r\n"
		"random guest line\r\n"
		"probe: cpu=0 hist=samples 0:1 7:1 8:1\r\n"
		"probe: cpu=0 end\r\n"
		"probe: cpus=1 (not a histogram line)\r\n";
	struct probe_hist h[PROBE_MAX_CPUS];
	struct error err = { 0 };

	ck_assert_int_eq(probe_hist_parse(text, sizeof(text) - 1, h, &err), 1);
	ck_assert_uint_eq(h[0].kind, PROBE_PIO_READ);
	ck_assert_uint_eq(h[0].width, 1);
	ck_assert_uint_eq(h[0].nsamples, 3);
	ck_assert_uint_eq(h[0].nempty, 0);
	ck_assert_int_eq(probe_hist_parse("", 0, h, &err), 0);
}
END_TEST

/* ---- Statistics ------------------------------------------------------------ */

START_TEST(test_stats)
{
	uint32_t s[1000], e[10];
	struct lat_stats st;
	unsigned i;

	/* 1000 .. 1 ticks, shuffled by the reversal; timer 100 ticks. */
	for (i = 0; i < 1000; i++)
		s[i] = 1000 - i;
	for (i = 0; i < 10; i++)
		e[i] = 95 + i;
	/* 1,000,000 kHz: one tick is one nanosecond. */
	lat_stats_compute(s, 1000, e, 10, 1000000, &st);
	ck_assert_uint_eq(st.n, 1000);
	/* Nearest rank: the ceil(p * n)-th smallest. */
	ck_assert(st.timer == 99);	/* 5th of 95..104 */
	ck_assert(st.p50 == 500 - 99);
	ck_assert(st.p90 == 900 - 99);
	ck_assert(st.p99 == 990 - 99);
	ck_assert(st.p999 == 999 - 99);
	ck_assert(st.max == 1000 - 99);
	/* Sorted in place. */
	ck_assert_uint_eq(s[0], 1);
	/* 2 GHz: ticks are half nanoseconds. */
	lat_stats_compute(s, 1000, e, 10, 2000000, &st);
	ck_assert(st.p50 == (500 - 99) / 2.0);
	/* Two samples: the median is the smaller; one: everything is it. */
	s[0] = 10;
	s[1] = 20;
	lat_stats_compute(s, 2, e, 0, 1000000, &st);
	ck_assert(st.timer == 0 && st.p50 == 10 && st.p90 == 20);
	lat_stats_compute(s, 1, e, 0, 1000000, &st);
	ck_assert(st.p50 == 10 && st.p999 == 10 && st.max == 10);
	lat_stats_compute(s, 0, e, 0, 1000000, &st);
	ck_assert(st.n == 0 && st.p50 == 0 && st.max == 0);
}
END_TEST

START_TEST(test_timeline_wraps)
{
	uint32_t samples[400], stamps[400];
	json_t *tl, *pt;
	unsigned i;

	/* One access every 1000 ticks, starting 100,000 ticks before 2^32. */
	for (i = 0; i < 400; i++) {
		stamps[i] = (uint32_t)(0xffffffffu - 100000u + i * 1000u);
		samples[i] = i < 200 ? 50 : 150;
	}
	tl = lat_timeline_json(samples, stamps, 400, 4, 0, 1000000);
	ck_assert_uint_eq(json_array_size(tl), 4);
	for (i = 0; i < 4; i++) {
		pt = json_array_get(tl, i);
		/* ms since the first access: chunk i starts at i * 100 us. */
		ck_assert(json_real_value(json_array_get(pt, 0)) ==
			  i * 100 * 1000 / 1e6);
		ck_assert(json_real_value(json_array_get(pt, 1)) ==
			  (i < 2 ? 0.05 : 0.15));
	}
	json_decref(tl);
}
END_TEST

/* ---- Rendering ------------------------------------------------------------- */

/* A series with a given p50 (and p99) in ns, one round. */
static json_t *series(const char *config, const char *side, const char *kind,
		      int cpu, double p50, double p99)
{
	return json_pack("{s:s, s:s, s:s, s:i, s:s, s:{s:f, s:f, s:f, s:f, s:f, s:f}, s:[f], s:[[f,f]]}",
			 "config", config, "side", side, "kind", kind,
			 "cpu", cpu, "registers", "test registers",
			 "stats", "p50_ns", p50, "p90_ns", p50, "p99_ns", p99,
			 "p999_ns", p99, "max_ns", p99, "timer_ns", 1.0,
			 "run_p50_ns", p50, "cdf", 0.5, p50);
}

static json_t *crafted(double flatvm_mmio, double churn_p99, double cpu1)
{
	json_t *s = json_array();
	const char *kinds[] = { "pio-read", "pio-write", "mmio-read",
				"mmio-write" };
	unsigned k;

	for (k = 0; k < 4; k++) {
		json_array_append_new(s, series("compare", "floor", kinds[k], 0,
						10000, 20000));
		json_array_append_new(s, series("compare", "qemu", kinds[k], 0,
						10600, 20000));
		json_array_append_new(s, series("compare", "flatvm", kinds[k], 0,
						k == 2 ? flatvm_mmio : 10100,
						20000));
	}
	json_array_append_new(s, series("churn-off", "flatvm", "mmio-read", 0,
					10000, 20000));
	json_array_append_new(s, series("churn-on", "flatvm", "mmio-read", 0,
					10000, churn_p99));
	json_array_append_new(s, series("scale-1cpu", "flatvm", "mmio-read", 0,
					10000, 20000));
	json_array_append_new(s, series("scale-2cpu-diff", "flatvm",
					"mmio-read", 0, 10500, 20000));
	json_array_append_new(s, series("scale-2cpu-diff", "flatvm",
					"mmio-read", 1, cpu1, 20000));
	return json_pack("{s:{s:s, s:i, s:s, s:s, s:b, s:b, s:i}, s:o, s:[], s:b, s:i, s:i, s:f, s:n}",
			 "machine", "cpu", "Test CPU", "cpus", 2, "kernel",
			 "Linux 6.1", "kvm", "kvm_intel (VMX)", "nested", 0,
			 "hypervisor_flag", 0, "tsc_khz", 2000000,
			 "series", s, "skipped", "quick", 1, "count", 100,
			 "rounds", 1, "duration_s", 1.0, "dispatch");
}

static char *render_md(json_t *root, const char *dir, const char *gnuplot)
{
	char path[256];
	struct error err = { 0 };
	size_t len;

	ck_assert_msg(!report_render(root, dir, gnuplot, &err), "%s", err.msg);
	snprintf(path, sizeof(path), "%s/report.md", dir);
	return slurp(path, &len);
}

static void rm_rf(const char *dir)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* The line of @md holding @what, which must also hold @verdict. */
static void expect_line(const char *md, const char *what, const char *verdict)
{
	const char *p = strstr(md, what), *nl;

	ck_assert_msg(p, "no line with '%s' in the report", what);
	nl = strchr(p, '\n');
	ck_assert_msg(strstr(p, verdict) && strstr(p, verdict) < nl,
		      "'%.*s' does not say %s", (int)(nl - p), p, verdict);
}

START_TEST(test_render_verdicts)
{
	char dir[] = "/tmp/flatvm-report-test-XXXXXX", *md;
	json_t *root;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	/* Just inside every target. */
	root = crafted(10490, 23990, 10990);
	md = render_md(root, dir, NULL);
	expect_line(md, "| mmio-read p50 within 5 % of the floor", "PASS");
	expect_line(md, "| mmio-read p50 within 5 % of the floor", "+4.9 %");
	expect_line(md, "| pio-read p50 below QEMU", "PASS");
	expect_line(md, "| mmio-read p50 below QEMU", "PASS");
	expect_line(md, "| p99 during hotplug churn", "PASS");
	expect_line(md, "| p99 during hotplug churn", "1.20x");
	expect_line(md, "vCPU 0 p50 within 10 %", "PASS");
	expect_line(md, "vCPU 1 p50 within 10 %", "PASS");
	expect_line(md, "| CPU |", "Test CPU");
	expect_line(md, "| Nested", "no");
	ck_assert(strstr(md, "gnuplot is not on PATH"));
	free(md);
	json_decref(root);
	/* Just outside. */
	root = crafted(10700, 24100, 11010);
	md = render_md(root, dir, NULL);
	expect_line(md, "| mmio-read p50 within 5 % of the floor", "MISS");
	expect_line(md, "| mmio-read p50 below QEMU", "MISS");
	expect_line(md, "| pio-read p50 within 5 % of the floor", "PASS");
	expect_line(md, "| p99 during hotplug churn", "MISS");
	expect_line(md, "vCPU 0 p50 within 10 %", "PASS");
	expect_line(md, "vCPU 1 p50 within 10 %", "MISS");
	free(md);
	json_decref(root);
	rm_rf(dir);
}
END_TEST

START_TEST(test_render_refuses)
{
	char dir[] = "/tmp/flatvm-report-test-XXXXXX";
	struct error err = { 0 };
	json_t *root = json_pack("{s:[]}", "series");

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_lt(report_render(root, dir, NULL, &err), 0);
	ck_assert(strstr(err.msg, "not a flatvm-bench report"));
	json_decref(root);
	rm_rf(dir);
}
END_TEST

static bool exists(const char *dir, const char *name)
{
	char path[300];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return !stat(path, &st) && st.st_size > 0;
}

/* A report.json recorded from `flatvm-bench report --quick`. */
START_TEST(test_render_recorded)
{
	static const char *const sections[] = {
		"## The machine", "## Targets",
		"## Round trips, 1 vCPU, the same registers on every side",
		"### pio-read", "### pio-write", "### mmio-read",
		"### mmio-write", "### ioeventfd", "## Where the time goes",
		"## Scale", "## Hotplug churn", "## In-process dispatch",
		"## flatvm's own counters", "## Cross-checks",
	};
	static const char *const plots[] = {
		"latency-pio-read", "latency-pio-write", "latency-mmio-read",
		"latency-mmio-write", "latency-ioeventfd", "churn-timeline",
		"scale",
	};
	char dir[] = "/tmp/flatvm-report-test-XXXXXX", pdir[64], name[64];
	char gnuplot[256], *md;
	bool have_gnuplot = report_find_on_path("gnuplot", gnuplot,
						sizeof(gnuplot));
	json_error_t jerr;
	json_t *root;
	unsigned i;

	root = json_load_file(REPORT_DATA_DIR "/report-quick.json", 0, &jerr);
	ck_assert_msg(root, "%s", jerr.text);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	md = render_md(root, dir, have_gnuplot ? gnuplot : NULL);
	for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		ck_assert_msg(strstr(md, sections[i]), "no '%s'", sections[i]);
	/* The recording has QEMU: every kind is compared with it. */
	expect_line(md, "| mmio-read p50 below QEMU", "x QEMU");
	expect_line(md, "compare, qemu, mmio-read: the probe's console",
		    "agree");
	snprintf(pdir, sizeof(pdir), "%s/plots", dir);
	for (i = 0; i < sizeof(plots) / sizeof(plots[0]); i++) {
		snprintf(name, sizeof(name), "%s.gp", plots[i]);
		ck_assert_msg(exists(pdir, name), "no %s", name);
		if (!have_gnuplot)
			continue;
		snprintf(name, sizeof(name), "%s.svg", plots[i]);
		ck_assert_msg(exists(pdir, name), "no %s", name);
		snprintf(name, sizeof(name), "%s.png", plots[i]);
		ck_assert_msg(exists(pdir, name), "no %s", name);
	}
	free(md);
	json_decref(root);
	rm_rf(dir);
}
END_TEST

static Suite *report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_parse_recorded);
	tcase_add_test(tc, test_parse_refuses);
	tcase_add_test(tc, test_parse_crlf_and_noise);
	suite_add_tcase(s, tc);
	tc = tcase_create("stats");
	tcase_add_test(tc, test_stats);
	tcase_add_test(tc, test_timeline_wraps);
	suite_add_tcase(s, tc);
	tc = tcase_create("render");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_render_verdicts);
	tcase_add_test(tc, test_render_refuses);
	tcase_add_test(tc, test_render_recorded);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(report_suite)
