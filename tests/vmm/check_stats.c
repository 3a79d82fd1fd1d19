// SPDX-License-Identifier: GPL-2.0-only
/*
 * The vCPU exit statistics (include/flatvm/stats.h, vmm/vcpu.c) and
 * query-stats (vmm/control.c):
 *
 *  - the bucket function and the quantile estimate, exactly;
 *  - a reader taking snapshots while a writer records: every snapshot is
 *    consistent (count, sum and buckets of one moment), which under TSan
 *    also shows the accesses are all atomic;
 *  - a machine running the probe guest (tests/guests/probe.h), which
 *    makes N accesses of one kind: query-stats, called all along while
 *    the vCPU runs (under TSan: no race with its thread), then counts
 *    at least N of that kind, as many port and MMIO exits as the exit
 *    counters, buckets that add up, and quantiles that are ordered.
 *
 * The machine tests skip (and say so) without /dev/kvm; the others run
 * anywhere.  LABELS concurrency: runs under TSan too.
 */
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "flatvm/kvm.h"
#include "flatvm/machine.h"
#include "flatvm/stats.h"

/* ---- Buckets --------------------------------------------------------------- */

START_TEST(bucket_function)
{
	uint64_t v, lo, hi;
	unsigned b, last = 0, e;

	/* Exact below LAT_SUB, then LAT_SUB per power of two. */
	for (v = 0; v < LAT_SUB; v++)
		ck_assert_uint_eq(lat_bucket(v), v);
	ck_assert_uint_eq(lat_bucket(4), 4);
	ck_assert_uint_eq(lat_bucket(7), 7);
	ck_assert_uint_eq(lat_bucket(8), 8);
	ck_assert_uint_eq(lat_bucket(9), 8);
	ck_assert_uint_eq(lat_bucket(10), 9);
	ck_assert_uint_eq(lat_bucket(16), 12);
	ck_assert_uint_eq(lat_bucket(1000), 4 * 8 + 3);	/* 896..1023 */
	ck_assert_uint_eq(lat_bucket_lower(4 * 8 + 3), 896);
	ck_assert_uint_eq(lat_bucket_lower(4 * 9), 1024);

	/* Every bucket's bounds: each holds [lower, next lower). */
	for (b = 0; b + 1 < LAT_BUCKETS; b++) {
		lo = lat_bucket_lower(b);
		hi = lat_bucket_lower(b + 1);
		ck_assert_uint_lt(lo, hi);
		ck_assert_uint_eq(lat_bucket(lo), b);
		ck_assert_uint_eq(lat_bucket(hi - 1), b);
		/* At most a quarter of its lower bound wide. */
		if (b >= LAT_SUB)
			ck_assert_uint_le((hi - lo) * LAT_SUB, lo);
	}

	/* Monotonic, on both sides of every power of two. */
	for (e = 1; e < 64; e++) {
		for (v = (1ull << e) - 1; v <= (1ull << e) + 1; v++) {
			b = lat_bucket(v);
			ck_assert_uint_ge(b, last);
			ck_assert_uint_lt(b, LAT_BUCKETS);
			last = b;
		}
	}

	/* From 2^LAT_MAX_BITS on, the last bucket. */
	ck_assert_uint_eq(lat_bucket((1ull << LAT_MAX_BITS) - 1),
			  LAT_BUCKETS - 1);
	ck_assert_uint_eq(lat_bucket(1ull << LAT_MAX_BITS), LAT_BUCKETS - 1);
	ck_assert_uint_eq(lat_bucket(UINT64_MAX), LAT_BUCKETS - 1);
}
END_TEST

START_TEST(quantile_estimate)
{
	static struct lat_hist h, snap;
	double p50, p90, p99, p100;
	uint64_t v;

	/* Empty: 0. */
	memset(&h, 0, sizeof(h));
	ck_assert(lat_hist_quantile(&h, 0.5) == 0);

	/* One value: every quantile is it (the maximum ends its bucket). */
	lat_hist_add(&h, 5000);
	ck_assert(lat_hist_quantile(&h, 0.5) == 5000);
	ck_assert(lat_hist_quantile(&h, 0.99) == 5000);
	ck_assert_uint_eq(h.count, 1);
	ck_assert_uint_eq(h.sum, 5000);
	ck_assert_uint_eq(h.max, 5000);

	/* 1..10000 once each: within a bucket's width of the truth. */
	memset(&h, 0, sizeof(h));
	for (v = 1; v <= 10000; v++)
		lat_hist_add(&h, v);
	lat_hist_read(&h, &snap);
	ck_assert_uint_eq(snap.count, 10000);
	ck_assert_uint_eq(snap.sum, 10000ull * 10001 / 2);
	ck_assert_uint_eq(snap.max, 10000);
	ck_assert_uint_eq(snap.seq, 20000);	/* even: no update open */
	p50 = lat_hist_quantile(&snap, 0.5);
	p90 = lat_hist_quantile(&snap, 0.9);
	p99 = lat_hist_quantile(&snap, 0.99);
	p100 = lat_hist_quantile(&snap, 1.0);
	ck_assert_msg(p50 > 5000 * 0.75 && p50 < 5000 * 1.25, "p50 %f", p50);
	ck_assert_msg(p90 > 9000 * 0.75 && p90 < 9000 * 1.25, "p90 %f", p90);
	ck_assert_msg(p99 > 9900 * 0.75 && p99 <= 10000, "p99 %f", p99);
	ck_assert(p100 == 10000);
	ck_assert(p50 > 0 && p50 <= p90 && p90 <= p99 && p99 <= p100);
	/* Inside a bucket, linear: 1..3 exact, ranks of a 4-value bucket. */
	ck_assert(lat_hist_quantile(&snap, 0.0001) == 1);
	ck_assert(lat_hist_quantile(&snap, 0.0003) == 3);

	/* A skewed one: 99 fast, 1 slow; p99 fast, the maximum slow. */
	memset(&h, 0, sizeof(h));
	for (v = 0; v < 99; v++)
		lat_hist_add(&h, 1000);
	lat_hist_add(&h, 1000000);
	p99 = lat_hist_quantile(&h, 0.99);
	ck_assert_msg(p99 >= 896 && p99 <= 1024, "p99 %f", p99);
	ck_assert(lat_hist_quantile(&h, 1.0) == 1000000);

	/* Values past the last bucket keep their exact maximum. */
	memset(&h, 0, sizeof(h));
	lat_hist_add(&h, 1ull << 50);
	ck_assert_uint_eq(h.buckets[LAT_BUCKETS - 1], 1);
	ck_assert(lat_hist_quantile(&h, 0.5) == (double)(1ull << 50));
}
END_TEST

/* ---- Snapshots while the owner records ----------------------------------- */

#define WRITES		2000000u

static struct lat_hist shared;

static void *writer(void *arg)
{
	uint64_t i;

	for (i = 0; i < WRITES; i++)
		lat_hist_add(&shared, 100 + (i * 7919) % 100000);
	return NULL;
}

START_TEST(snapshots_are_consistent)
{
	static struct lat_hist snap;
	uint64_t sum, last = 0;
	unsigned b, reads = 0;
	pthread_t t;

	memset(&shared, 0, sizeof(shared));
	ck_assert_int_eq(pthread_create(&t, NULL, writer, NULL), 0);
	do {
		lat_hist_read(&shared, &snap);
		for (sum = 0, b = 0; b < LAT_BUCKETS; b++)
			sum += snap.buckets[b];
		ck_assert_uint_eq(sum, snap.count);
		ck_assert_uint_ge(snap.count, last);
		ck_assert_uint_eq(snap.seq, 2 * snap.count);
		/* Every value is 100..100099. */
		ck_assert_uint_ge(snap.sum, 100 * snap.count);
		ck_assert_uint_le(snap.sum, 100099 * snap.count);
		ck_assert(!snap.count || (snap.max >= 100 && snap.max < 100100));
		last = snap.count;
		reads++;
	} while (snap.count < WRITES);
	pthread_join(t, NULL);
	printf("snapshots: %u consistent reads while %u values were recorded\n",
	       reads, WRITES);
}
END_TEST

/* ---- A machine: the probe guest -------------------------------------------- */

#define PROBE_COUNT	2000u

struct run {
	struct machine *m;
	int status;
	bool done;			/* machine_run() returned */
};

static void *run_thread(void *opaque)
{
	struct run *r = opaque;

	rcu_thread_register();
	r->status = machine_run(r->m);
	__atomic_store_n(&r->done, true, __ATOMIC_RELEASE);
	rcu_thread_unregister();
	return NULL;
}

static json_int_t int_at(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	ck_assert_msg(json_is_integer(v), "no integer \"%s\"", key);
	return json_integer_value(v);
}

/*
 * One kind's histogram in query-stats: buckets that add up to the count,
 * ordered quantiles, and at least @min accesses.  Returns the count.
 */
static json_int_t check_hist(json_t *d, const char *kind, json_int_t min)
{
	json_t *h = json_object_get(d, kind), *bk, *e;
	json_int_t count, sum = 0, prev = -1, p50, p90, p99, max;
	char *s;
	size_t i;

	ck_assert_msg(json_is_object(h), "no \"%s\"", kind);
	count = int_at(h, "count");
	s = json_dumps(h, JSON_COMPACT);
	ck_assert_msg(count >= min, "%s: count %lld < %lld: %s", kind,
		      (long long)count, (long long)min, s);
	bk = json_object_get(h, "buckets");
	ck_assert(json_is_array(bk));
	json_array_foreach(bk, i, e) {
		ck_assert_uint_eq(json_array_size(e), 2);
		/* Ascending, only the non-empty ones. */
		ck_assert_int_gt(json_integer_value(json_array_get(e, 0)), prev);
		prev = json_integer_value(json_array_get(e, 0));
		ck_assert_int_gt(json_integer_value(json_array_get(e, 1)), 0);
		sum += json_integer_value(json_array_get(e, 1));
	}
	ck_assert_msg(sum == count, "%s: buckets add up to %lld, count %lld",
		      kind, (long long)sum, (long long)count);
	p50 = int_at(h, "p50-ns");
	p90 = int_at(h, "p90-ns");
	p99 = int_at(h, "p99-ns");
	max = int_at(h, "max-ns");
	if (count) {
		ck_assert_msg(p50 > 0 && p50 <= p90 && p90 <= p99 && p99 <= max + 1,
			      "%s: quantiles out of order: %s", kind, s);
		ck_assert_int_ge(int_at(h, "sum-ns"), max);
		/* The last bucket holds the maximum. */
		ck_assert_int_le(prev, max);
	} else {
		ck_assert(!p50 && !p90 && !p99 && !max);
	}
	free(s);
	return count;
}

static void probe_kind(const char *kind)
{
	char cmdline[64];
	struct machine_config cfg = {
		.kernel = GUEST_PROBE_PVH,
		.cmdline = cmdline,
		.mem_size = 64ull << 20,
		.ncpus = 1,
		.console_in = -1,
	};
	struct error err = { 0 };
	struct run r = { 0 };
	json_t *st, *v, *d;
	unsigned polls = 0;
	pthread_t t;
	int null_fd;

	snprintf(cmdline, sizeof(cmdline), "kind=%s count=%u", kind,
		 PROBE_COUNT);
	null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	ck_assert_int_ge(null_fd, 0);
	cfg.console_out = null_fd;
	r.m = machine_create(&cfg, &err);
	ck_assert_msg(r.m, "machine_create: %s", err.msg);
	ck_assert_int_eq(pthread_create(&t, NULL, run_thread, &r), 0);
	/* Read while the vCPU records (TSan watches). */
	while (!__atomic_load_n(&r.done, __ATOMIC_ACQUIRE)) {
		st = machine_control_ops.query_stats(r.m);
		ck_assert_ptr_nonnull(st);
		d = json_object_get(json_array_get(json_object_get(st, "vcpus"),
						   0), "dispatch");
		check_hist(d, kind, 0);
		json_decref(st);
		polls++;
		rcu_thread_offline();
		usleep(200);
		rcu_thread_online();
	}
	rcu_thread_offline();
	pthread_join(t, NULL);
	rcu_thread_online();
	ck_assert_int_eq(r.status, 0);

	st = machine_control_ops.query_stats(r.m);
	v = json_array_get(json_object_get(st, "vcpus"), 0);
	d = json_object_get(v, "dispatch");
	ck_assert_str_eq(json_string_value(json_object_get(d, "unit")), "ns");
	if (!strcmp(json_string_value(json_object_get(d, "clock")), "tsc"))
		ck_assert_int_gt(int_at(d, "tsc-khz"), 0);
	check_hist(d, kind, PROBE_COUNT);
	/* Every port and MMIO exit was timed once, the last one too. */
	ck_assert_int_eq(check_hist(d, "pio-read", 0) +
			 check_hist(d, "pio-write", 0), int_at(v, "io"));
	ck_assert_int_eq(check_hist(d, "mmio-read", 0) +
			 check_hist(d, "mmio-write", 0), int_at(v, "mmio"));
	ck_assert_int_ge(check_hist(d, "other", 0), int_at(v, "other"));
	/* The test device saw them: query-stats lists its counts too. */
	{
		json_t *devs = json_object_get(st, "devices"), *e;
		json_int_t acc = -1;
		size_t i;

		json_array_foreach(devs, i, e)
			if (!strcmp(json_string_value(json_object_get(e, "id")),
				    "testdev"))
				acc = int_at(e, strstr(kind, "read") ? "reads" :
					     "writes");
		ck_assert_int_ge(acc, PROBE_COUNT);
	}
	printf("%s: %u accesses; %u query-stats while it ran; p50 %lld ns, p99 %lld ns\n",
	       kind, PROBE_COUNT, polls,
	       (long long)int_at(json_object_get(d, kind), "p50-ns"),
	       (long long)int_at(json_object_get(d, kind), "p99-ns"));
	json_decref(st);
	machine_destroy(r.m);
	close(null_fd);
}

START_TEST(probe_counts)
{
	static const char *const kinds[] = {
		"pio-read", "pio-write", "mmio-read", "mmio-write",
	};

	probe_kind(kinds[_i]);
}
END_TEST

static Suite *stats_suite(void)
{
	Suite *s = suite_create("stats");
	TCase *tc = rcu_tcase("histogram", 120);
	char why[256];

	tcase_add_test(tc, bucket_function);
	tcase_add_test(tc, quantile_estimate);
	tcase_add_test(tc, snapshots_are_consistent);
	suite_add_tcase(s, tc);
	if (kvm_available(why, sizeof(why))) {
		tc = rcu_tcase("machine", 120);
		tcase_add_loop_test(tc, probe_counts, 0, 4);
		suite_add_tcase(s, tc);
	} else {
		printf("SKIP (machine tests): %s\n", why);
	}
	return s;
}

CHECK_MAIN(stats_suite)
