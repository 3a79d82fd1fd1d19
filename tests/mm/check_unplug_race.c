// SPDX-License-Identifier: GPL-2.0-only
/*
 * The unplug race: reader threads dispatch to a device's address without
 * pause while another thread plugs and unplugs a new instance of the
 * device 10,000 times.  Every access must land on a live device or count
 * as unassigned, no handler may run on a finalized device, every instance
 * must finalize, and nothing may leak.  Run under ASan and TSan too.
 *
 * The same race for the access counters: no count lost or misattributed
 * while instances come and go, numbers are reused and readers exit.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <time.h>

#include "harness.h"
#include "testdev.h"

#define CYCLES		10000
#define READERS		3
#define DEV_ADDR	0x10000000ull

static struct memory_region sysmem;
static struct address_space as;
static bool stop;

struct reader {
	pthread_t tid;
	long on_device;
	long unassigned;
	long bad;		/* neither the device nor all ones */
	long rcu_missing;	/* handler saw a finalized device */
};

static void *reader_fn(void *arg)
{
	struct reader *r = arg;
	uint32_t v;
	unsigned i = 0;

	rcu_thread_register();
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		v = 0;
		address_space_read(&as, DEV_ADDR, &v, 4);
		if (v == 0xffffffff)
			r->unassigned++;
		else if ((v & 0xffff0000) == TDEV_MAGIC)
			r->on_device++;
		else
			r->bad++;
		/* Like a vCPU between exits: announce a quiescent state. */
		if (!(++i & 63))
			rcu_quiescent();
	}
	rcu_thread_unregister();
	return NULL;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

START_TEST(unplug_replug_under_readers)
{
	long objs = live_objects(), allocs = live_allocations();
	struct reader readers[READERS] = { 0 };
	long on_device = 0, unassigned = 0, bad = 0;
	struct error err = { 0 };
	struct tdev *t;
	double t0;
	int i;

	tdev_finalized = 0;
	tdev_handler_after_finalize = 0;
	ck_assert_int_eq(memory_region_init(&sysmem, NULL, "system",
					   UINT64_MAX, &err), 0);
	ck_assert_int_eq(address_space_init(&as, &sysmem, "memory", &err), 0);
	for (i = 0; i < READERS; i++)
		ck_assert_int_eq(pthread_create(&readers[i].tid, NULL,
						reader_fn, &readers[i]), 0);

	t0 = now();
	for (i = 0; i < CYCLES; i++) {
		t = tdev_create("racer", (unsigned)i);
		ck_assert_msg(!memory_region_add_subregion(&sysmem, DEV_ADDR,
							   &t->mmio, &err),
			      "%s", err.msg);
		ck_assert_msg(!device_unplug(&t->dev, &err), "%s", err.msg);
		/* this thread is a reader too: let grace periods end */
		rcu_quiescent();
	}
	fprintf(stderr, "unplug_race: %d plug/unplug cycles in %.2f s\n",
		CYCLES, now() - t0);

	__atomic_store_n(&stop, true, __ATOMIC_RELAXED);
	for (i = 0; i < READERS; i++) {
		pthread_join(readers[i].tid, NULL);
		on_device += readers[i].on_device;
		unassigned += readers[i].unassigned;
		bad += readers[i].bad;
	}
	address_space_destroy(&as);
	object_unref(&sysmem.obj);
	rcu_flush();

	fprintf(stderr, "unplug_race: %ld reads on a device, %ld unassigned\n",
		on_device, unassigned);
	ck_assert_int_eq(bad, 0);
	ck_assert_int_eq(tdev_handler_after_finalize, 0);
	ck_assert_int_eq(tdev_finalized, CYCLES);
	/* Both outcomes happened: the test really raced. */
	ck_assert_int_gt(on_device, 0);
	ck_assert_int_gt(unassigned, 0);
	ck_assert_int_eq(live_objects(), objs);
	ck_assert_int_eq(live_allocations(), allocs);
}
END_TEST

/* ---- Access counters under the race ------------------------------------ */

#define CTR_CYCLES	2000
#define CTR_BATCH	400	/* accesses per short-lived reader */

/* Accesses that landed on a device (returned 0), over all readers. */
static long ctr_landed_reads, ctr_landed_writes;
/* What the finalized instances counted, and how many disagreed. */
static long ctr_counted_reads, ctr_counted_writes, ctr_mismatch, ctr_done;

/*
 * When an instance has finalized, every access to it has been made: its
 * totals must equal the handler calls it received (one per 4-byte
 * access).  Runs on whichever thread let go last.
 */
static void ctr_finalized(struct device *dev, void *opaque)
{
	struct tdev *t = container_of(dev, struct tdev, dev);
	uint64_t r, w;

	device_get_counters(dev, &r, &w);
	if (r != (uint64_t)__atomic_load_n(&t->reads, __ATOMIC_RELAXED) ||
	    w != (uint64_t)__atomic_load_n(&t->writes, __ATOMIC_RELAXED))
		__atomic_add_fetch(&ctr_mismatch, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&ctr_counted_reads, (long)r, __ATOMIC_RELAXED);
	__atomic_add_fetch(&ctr_counted_writes, (long)w, __ATOMIC_RELAXED);
	__atomic_add_fetch(&ctr_done, 1, __ATOMIC_RELAXED);
}

/* One batch of reads and writes, then the thread exits. */
static void *ctr_batch_fn(void *arg)
{
	long reads = 0, writes = 0;
	uint32_t v = 0;
	unsigned i;

	rcu_thread_register();
	for (i = 1; i <= CTR_BATCH; i++) {
		if (i & 3)
			reads += !address_space_read(&as, DEV_ADDR, &v, 4);
		else
			writes += !address_space_write(&as, DEV_ADDR + 4, &v,
						       4);
		if (!(i & 63))
			rcu_quiescent();
	}
	rcu_thread_unregister();
	__atomic_add_fetch(&ctr_landed_reads, reads, __ATOMIC_RELAXED);
	__atomic_add_fetch(&ctr_landed_writes, writes, __ATOMIC_RELAXED);
	return NULL;
}

/* A reader slot: short-lived reader threads, one after another. */
static void *ctr_slot_fn(void *arg)
{
	pthread_t tid;

	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		if (pthread_create(&tid, NULL, ctr_batch_fn, NULL))
			break;
		pthread_join(tid, NULL);
	}
	return NULL;
}

START_TEST(counts_exact_under_unplug_and_thread_exit)
{
	long objs = live_objects(), allocs = live_allocations();
	pthread_t slots[READERS];
	static bool seen[DEVICE_COUNTER_IDS];
	struct error err = { 0 };
	unsigned max_id = 0, reused = 0, spin;
	struct tdev *t;
	int i;

	tdev_finalized = 0;
	ck_assert_int_eq(memory_region_init(&sysmem, NULL, "system",
					   UINT64_MAX, &err), 0);
	ck_assert_int_eq(address_space_init(&as, &sysmem, "memory", &err), 0);
	for (i = 0; i < READERS; i++)
		ck_assert_int_eq(pthread_create(&slots[i], NULL, ctr_slot_fn,
						NULL), 0);
	for (i = 0; i < CTR_CYCLES; i++) {
		t = tdev_create("counted", (unsigned)i);
		device_set_finalized_notifier(&t->dev, ctr_finalized, NULL);
		ck_assert_uint_ne(t->dev.counter_id, 0);
		reused += seen[t->dev.counter_id];
		seen[t->dev.counter_id] = true;
		if (t->dev.counter_id > max_id)
			max_id = t->dev.counter_id;
		ck_assert_msg(!memory_region_add_subregion(&sysmem, DEV_ADDR,
							   &t->mmio, &err),
			      "%s", err.msg);
		/* Let a few accesses land (bounded: readers come and go). */
		for (spin = 0; spin < 1000 &&
		     __atomic_load_n(&t->reads, __ATOMIC_RELAXED) < 3; spin++) {
			rcu_quiescent();
			sched_yield();
		}
		ck_assert_msg(!device_unplug(&t->dev, &err), "%s", err.msg);
		rcu_quiescent();
	}
	__atomic_store_n(&stop, true, __ATOMIC_RELAXED);
	for (i = 0; i < READERS; i++)
		pthread_join(slots[i], NULL);
	address_space_destroy(&as);
	object_unref(&sysmem.obj);
	rcu_flush();

	fprintf(stderr,
		"counters: %ld reads and %ld writes landed on %d instances, numbers up to %u, %u reused\n",
		ctr_landed_reads, ctr_landed_writes, CTR_CYCLES, max_id,
		reused);
	ck_assert_int_eq(ctr_done, CTR_CYCLES);
	ck_assert_int_eq(ctr_mismatch, 0);
	ck_assert_int_eq(ctr_counted_reads, ctr_landed_reads);
	ck_assert_int_eq(ctr_counted_writes, ctr_landed_writes);
	ck_assert_int_gt(ctr_landed_reads + ctr_landed_writes, 0);
	/* Numbers were reused as instances finalized. */
	ck_assert_uint_gt(reused, 0);
	ck_assert_int_eq(tdev_handler_after_finalize, 0);
	ck_assert_int_eq(live_objects(), objs);
	ck_assert_int_eq(live_allocations(), allocs);
}
END_TEST

static Suite *race_suite(void)
{
	Suite *s = suite_create("unplug_race");
	TCase *tc = rcu_tcase("race", 240);

	tcase_add_test(tc, unplug_replug_under_readers);
	tcase_add_test(tc, counts_exact_under_unplug_and_thread_exit);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(race_suite)
