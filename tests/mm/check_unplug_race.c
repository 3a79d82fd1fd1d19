// SPDX-License-Identifier: GPL-2.0-only
/*
 * The unplug race: reader threads dispatch to a device's address without
 * pause while another thread plugs and unplugs a new instance of the
 * device 10,000 times.  Every access must land on a live device or count
 * as unassigned, no handler may run on a finalized device, every instance
 * must finalize, and nothing may leak.  Run under ASan and TSan too.
 */
#include <pthread.h>
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

static Suite *race_suite(void)
{
	Suite *s = suite_create("unplug_race");
	TCase *tc = rcu_tcase("race", 240);

	tcase_add_test(tc, unplug_replug_under_readers);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(race_suite)
