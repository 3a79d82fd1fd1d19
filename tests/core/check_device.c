// SPDX-License-Identifier: GPL-2.0-only
/*
 * The device core (core/device.c): states, realize, two-phase unplug, and
 * the access counters query-devices reports.
 */
#include <pthread.h>
#include <string.h>

#include "harness.h"
#include "testdev.h"

static bool fail_realize;

static int flaky_realize(struct device *dev, struct error *err)
{
	if (fail_realize)
		return error_setf(err, EIO, "backend missing: give file=PATH");
	return 0;
}

static const struct device_class flaky_class = {
	.obj = {
		.name = "flaky",
		.size = sizeof(struct device),
		.parent = &device_class.obj,
	},
	.realize = flaky_realize,
	/* not hotpluggable */
};

START_TEST(realize_failure_leaves_created)
{
	struct error err = { 0 };
	struct device *d = (struct device *)object_new(&flaky_class.obj);

	device_init(d);
	fail_realize = true;
	ck_assert_int_eq(device_realize(d, &err), -EIO);
	ck_assert_str_eq(err.msg, "backend missing: give file=PATH");
	ck_assert_int_eq(device_get_state(d), DEVICE_CREATED);
	ck_assert(!device_accepting(d));
	fail_realize = false;
	ck_assert_int_eq(device_realize(d, &err), 0);
	ck_assert_int_eq(device_get_state(d), DEVICE_REALIZED);
	ck_assert(device_accepting(d));
	ck_assert_int_eq(device_realize(d, &err), -EBUSY);
	/* Not hotpluggable: refused, and it keeps working. */
	ck_assert_int_eq(device_unplug(d, &err), -EPERM);
	ck_assert_ptr_nonnull(strstr(err.msg, "not hotpluggable"));
	ck_assert(device_accepting(d));
	device_unrealize(d);
	ck_assert(!device_accepting(d));
	ck_assert_int_eq(device_get_state(d), DEVICE_UNPLUGGING);
	object_unref(&d->obj);
}
END_TEST

START_TEST(device_cast_and_states)
{
	struct tdev *t = tdev_create("t0", 0);
	static const struct object_class other = {
		.name = "other", .size = sizeof(struct object),
	};
	struct object *o = object_new(&other);
	struct error err = { 0 };

	ck_assert_ptr_eq(device_cast(&t->dev.obj), &t->dev);
	ck_assert_ptr_null(device_cast(o));
	ck_assert_ptr_null(device_cast(NULL));
	ck_assert_str_eq(device_state_name(DEVICE_FINALIZED), "finalized");
	ck_assert_str_eq(object_path(&t->mmio.obj), "/t0/mmio");
	object_unref(o);
	tdev_finalized = 0;
	ck_assert_int_eq(device_unplug(&t->dev, &err), 0);
	/* Never mapped: nothing else holds it, it finalizes at once. */
	ck_assert_int_eq(tdev_finalized, 1);
}
END_TEST

START_TEST(unplug_unrealizes_embedded_children)
{
	struct error err = { 0 };
	struct xparent *p = xparent_create("x");

	object_ref(&p->child.dev.obj);
	ck_assert_int_eq(device_unplug(&p->dev, &err), 0);
	ck_assert(!device_accepting(&p->child.dev));
	ck_assert_int_eq(device_get_state(&p->child.dev), DEVICE_UNPLUGGING);
	object_unref(&p->child.dev.obj);
}
END_TEST

/* ---- Access counters ----------------------------------------------------- */

#define CTR_ADDR	0x10000000ull

static struct memory_region ctr_sysmem;
static struct address_space ctr_as;

static void ctr_space_init(void)
{
	struct error err = { 0 };

	ck_assert_int_eq(memory_region_init(&ctr_sysmem, NULL, "system",
					   UINT64_MAX, &err), 0);
	ck_assert_int_eq(address_space_init(&ctr_as, &ctr_sysmem, "memory",
					    &err), 0);
}

static void ctr_space_destroy(void)
{
	address_space_destroy(&ctr_as);
	object_unref(&ctr_sysmem.obj);
	rcu_flush();
}

/* A tdev mapped at @addr; the caller holds a reference of its own. */
static struct tdev *ctr_tdev(const char *name, uint64_t addr)
{
	struct error err = { 0 };
	struct tdev *t = tdev_create(name, 0);

	ck_assert_msg(!memory_region_add_subregion(&ctr_sysmem, addr,
						   &t->mmio, &err),
		      "%s", err.msg);
	object_ref(&t->dev.obj);
	return t;
}

/* @reads 4-byte reads and @writes 4-byte writes at @addr. */
static void ctr_access(uint64_t addr, unsigned reads, unsigned writes)
{
	uint32_t v = 0;

	while (reads--)
		ck_assert_int_eq(address_space_read(&ctr_as, addr + 4, &v, 4),
				 0);
	while (writes--)
		ck_assert_int_eq(address_space_write(&ctr_as, addr + 4, &v, 4),
				 0);
}

struct ctr_job {
	uint64_t addr;
	unsigned reads, writes;
	/* Set by the main thread to let a parked thread go on. */
	unsigned reads2;
	bool go, parked, done;
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

/* A thread that dispatches, then exits: its counts must stay. */
static void *ctr_thread(void *arg)
{
	struct ctr_job *j = arg;
	uint32_t v = 0;
	unsigned i;

	rcu_thread_register();
	for (i = 0; i < j->reads; i++)
		address_space_read(&ctr_as, j->addr, &v, 4);
	for (i = 0; i < j->writes; i++)
		address_space_write(&ctr_as, j->addr, &v, 4);
	rcu_thread_unregister();
	return NULL;
}

static void ctr_run_thread(uint64_t addr, unsigned reads, unsigned writes)
{
	struct ctr_job j = { .addr = addr, .reads = reads, .writes = writes };
	pthread_t tid;

	ck_assert_int_eq(pthread_create(&tid, NULL, ctr_thread, &j), 0);
	pthread_join(tid, NULL);
}

static void ck_counts(struct device *dev, uint64_t reads, uint64_t writes)
{
	uint64_t r, w;

	device_get_counters(dev, &r, &w);
	ck_assert_uint_eq(r, reads);
	ck_assert_uint_eq(w, writes);
}

/* What device_get_counters() said in the finalized notifier. */
static uint64_t final_reads, final_writes;
static unsigned final_calls;

static void ctr_finalized(struct device *dev, void *opaque)
{
	device_get_counters(dev, &final_reads, &final_writes);
	final_calls++;
}

START_TEST(counts_survive_thread_exit)
{
	struct error err = { 0 };
	struct tdev *t, *u;

	ctr_space_init();
	t = ctr_tdev("c0", CTR_ADDR);
	u = ctr_tdev("c1", CTR_ADDR + 0x1000);
	ck_counts(&t->dev, 0, 0);
	ctr_access(CTR_ADDR, 3, 2);
	ctr_run_thread(CTR_ADDR, 100, 50);
	ck_counts(&t->dev, 103, 52);
	ctr_run_thread(CTR_ADDR, 7, 0);
	ctr_run_thread(CTR_ADDR + 0x1000, 0, 9);
	ck_counts(&t->dev, 110, 52);
	ck_counts(&u->dev, 0, 9);
	/* One access split in two by the dispatcher counts once. */
	ck_assert_int_eq(address_space_write(&ctr_as, CTR_ADDR + 2,
					     "\1\2\3\4", 4), 0);
	ck_counts(&t->dev, 110, 53);

	/* Unplugged: the totals survive until finalize and are read there. */
	final_calls = 0;
	device_set_finalized_notifier(&t->dev, ctr_finalized, NULL);
	ck_assert_int_eq(device_unplug(&t->dev, &err), 0);
	ctr_run_thread(CTR_ADDR, 5, 5);	/* rejected: not counted */
	ck_counts(&t->dev, 110, 53);
	object_unref(&t->dev.obj);
	rcu_flush();
	ck_assert_uint_eq(final_calls, 1);
	ck_assert_uint_eq(final_reads, 110);
	ck_assert_uint_eq(final_writes, 53);
	ck_counts(&u->dev, 0, 9);
	ck_assert_int_eq(device_unplug(&u->dev, &err), 0);
	object_unref(&u->dev.obj);
	ctr_space_destroy();
}
END_TEST

/* A thread that counts, then parks (alive) until told to count again. */
static void *ctr_parked_thread(void *arg)
{
	struct ctr_job *j = arg;
	uint32_t v = 0;
	unsigned i;

	rcu_thread_register();
	for (i = 0; i < j->reads; i++)
		address_space_read(&ctr_as, j->addr, &v, 4);
	rcu_thread_offline();
	pthread_mutex_lock(&j->lock);
	j->parked = true;
	pthread_cond_broadcast(&j->cond);
	while (!j->go)
		pthread_cond_wait(&j->cond, &j->lock);
	pthread_mutex_unlock(&j->lock);
	rcu_thread_online();
	for (i = 0; i < j->reads2; i++)
		address_space_read(&ctr_as, j->addr, &v, 4);
	rcu_thread_unregister();
	return NULL;
}

START_TEST(counts_correct_after_number_reuse)
{
	struct ctr_job j = {
		.addr = CTR_ADDR, .reads = 40, .reads2 = 6,
		.lock = PTHREAD_MUTEX_INITIALIZER,
		.cond = PTHREAD_COND_INITIALIZER,
	};
	struct error err = { 0 };
	struct tdev *a, *b, *c;
	pthread_t tid;
	unsigned id;

	ctr_space_init();
	a = ctr_tdev("a", CTR_ADDR);
	id = a->dev.counter_id;
	ck_assert_uint_ne(id, 0);
	/* Counts for a's number: a live thread, an exited one, this one. */
	ck_assert_int_eq(pthread_create(&tid, NULL, ctr_parked_thread, &j), 0);
	pthread_mutex_lock(&j.lock);
	while (!j.parked)
		pthread_cond_wait(&j.cond, &j.lock);
	pthread_mutex_unlock(&j.lock);
	ctr_run_thread(CTR_ADDR, 0, 11);
	ctr_access(CTR_ADDR, 2, 0);
	ck_counts(&a->dev, 42, 11);

	/* Unplugged but still held: its number is not given away. */
	ck_assert_int_eq(device_unplug(&a->dev, &err), 0);
	rcu_flush();
	b = ctr_tdev("b", CTR_ADDR);
	ck_assert_uint_ne(b->dev.counter_id, id);
	ck_counts(&b->dev, 0, 0);
	ck_counts(&a->dev, 42, 11);

	/* a finalizes: its counts go with it, its number is free. */
	final_calls = 0;
	device_set_finalized_notifier(&a->dev, ctr_finalized, NULL);
	object_unref(&a->dev.obj);
	ck_assert_uint_eq(final_calls, 1);
	ck_assert_uint_eq(final_reads, 42);
	ck_assert_uint_eq(final_writes, 11);

	/* The lowest free number: a's, with none of a's counts. */
	c = ctr_tdev("c", CTR_ADDR + 0x1000);
	ck_assert_uint_eq(c->dev.counter_id, id);
	ck_counts(&c->dev, 0, 0);
	ctr_access(CTR_ADDR + 0x1000, 1, 0);
	ck_counts(&c->dev, 1, 0);

	/* The parked thread counts again: to b now, its table reused. */
	pthread_mutex_lock(&j.lock);
	j.go = true;
	pthread_cond_broadcast(&j.cond);
	pthread_mutex_unlock(&j.lock);
	pthread_join(tid, NULL);
	ck_counts(&b->dev, 6, 0);
	ck_counts(&c->dev, 1, 0);

	ck_assert_int_eq(device_unplug(&b->dev, &err), 0);
	ck_assert_int_eq(device_unplug(&c->dev, &err), 0);
	object_unref(&b->dev.obj);
	object_unref(&c->dev.obj);
	ctr_space_destroy();
}
END_TEST

static Suite *device_suite(void)
{
	Suite *s = suite_create("device");
	TCase *tc = rcu_tcase("device", 10);

	tcase_add_test(tc, realize_failure_leaves_created);
	tcase_add_test(tc, device_cast_and_states);
	tcase_add_test(tc, unplug_unrealizes_embedded_children);
	tcase_add_test(tc, counts_survive_thread_exit);
	tcase_add_test(tc, counts_correct_after_number_reuse);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(device_suite)
