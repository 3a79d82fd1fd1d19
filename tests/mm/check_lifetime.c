// SPDX-License-Identifier: GPL-2.0-only
/*
 * The six lifetime rules of DESIGN.md, one scenario (or more) each.  Every
 * test would fail if the rule it names were broken.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "testdev.h"

static struct memory_region sysmem;
static struct address_space as;

static void machine_setup(void)
{
	struct error err = { 0 };

	ck_assert_int_eq(memory_region_init(&sysmem, NULL, "system",
					   UINT64_MAX, &err), 0);
	ck_assert_int_eq(address_space_init(&as, &sysmem, "memory", &err), 0);
}

static void machine_teardown(void)
{
	address_space_destroy(&as);
	object_unref(&sysmem.obj);
	rcu_flush();
}

/* ---- Rule 1: one object, one count ------------------------------------- */

static int static_finalizes;

struct plain {
	struct object obj;
	int finalizes;
	bool tryref_in_finalize;
};

static void plain_finalize(struct object *obj)
{
	struct plain *p = container_of(obj, struct plain, obj);

	p->finalizes++;
	p->tryref_in_finalize = object_tryref(obj);
	/* Record on a static: @p may be freed right after. */
	static_finalizes++;
}

START_TEST(rule1_count_and_finalize_once)
{
	static const struct object_class cls = {
		.name = "plain", .size = sizeof(struct plain),
		.finalize = plain_finalize,
	};
	long objs = live_objects(), allocs = live_allocations();
	struct plain *p = (struct plain *)object_new(&cls);

	static_finalizes = 0;
	ck_assert_int_eq(object_refcount(&p->obj), 1);
	object_ref(&p->obj);
	ck_assert(object_tryref(&p->obj));
	ck_assert_int_eq(object_refcount(&p->obj), 3);
	object_unref(&p->obj);
	object_unref(&p->obj);
	ck_assert_int_eq(static_finalizes, 0);
	ck_assert_int_eq(live_objects(), objs + 1);
	object_unref(&p->obj);
	ck_assert_int_eq(static_finalizes, 1);
	ck_assert_int_eq(live_objects(), objs);
	ck_assert_int_eq(live_allocations(), allocs);
}
END_TEST

/* get-unless-zero fails once finalization has started */
struct probe {
	struct object obj;
};

static bool probe_tryref_result = true;

static void probe_finalize(struct object *obj)
{
	probe_tryref_result = object_tryref(obj);
}

START_TEST(rule1_tryref_fails_during_finalize)
{
	static const struct object_class cls = {
		.name = "probe", .size = sizeof(struct probe),
		.finalize = probe_finalize,
	};
	struct object *o = object_new(&cls);

	object_unref(o);
	ck_assert(!probe_tryref_result);
}
END_TEST

static void resurrect_finalize(struct object *obj)
{
	object_ref(obj);	/* must abort, naming the object */
}

START_TEST(rule1_ref_during_finalize_aborts)
{
	static const struct object_class cls = {
		.name = "resurrector", .size = sizeof(struct object),
		.finalize = resurrect_finalize,
	};
	struct object *o = object_new(&cls);
	struct error err = { 0 };

	ck_assert_int_eq(object_add_child(object_root(), "zombie", o, &err), 0);
	object_unref(o);
	object_unparent(o);	/* last reference: finalize aborts */
}
END_TEST

/* ---- Rule 2: storage counted apart ------------------------------------- */

START_TEST(rule2_embedded_child_keeps_storage)
{
	long allocs = live_allocations();
	struct xparent *p = xparent_create("x0");
	struct object *child = &p->child.dev.obj;

	ck_assert_int_eq(live_allocations(), allocs + 1);
	object_ref(child);			/* someone else holds the child */
	object_unparent(&p->dev.obj);		/* parent finalizes now */
	ck_assert_int_eq(xparent_finalized, 1);
	ck_assert_int_eq(xchild_finalized, 0);
	/* The parent is finalized but its memory is still there. */
	ck_assert_int_eq(live_allocations(), allocs + 1);
	ck_assert_str_eq(object_name(&p->child.buf.obj), "buf");
	object_unref(child);
	ck_assert_int_eq(xchild_finalized, 1);
	ck_assert_int_eq(live_allocations(), allocs);
	xparent_finalized = xchild_finalized = 0;
}
END_TEST

/* ---- Rule 3: region references are owner references -------------------- */

struct owner {
	struct object obj;
	struct memory_region c;
	struct memory_region r;
};

static int owner_finalizes;

static void owner_finalize(struct object *obj)
{
	owner_finalizes++;
}

static const struct object_class owner_class = {
	.name = "owner", .size = sizeof(struct owner),
	.finalize = owner_finalize,
};

static struct owner *owner_new(void)
{
	struct owner *o = (struct owner *)object_new(&owner_class);
	struct error err = { 0 };

	ck_assert_int_eq(memory_region_init(&o->c, &o->obj, "c", 0x10000,
					    &err), 0);
	ck_assert_int_eq(memory_region_init_ram(&o->r, &o->obj, "r", 0x1000,
						&err), 0);
	return o;
}

START_TEST(rule3_same_owner_no_cycle)
{
	long objs = live_objects(), allocs = live_allocations();
	struct error err = { 0 };
	struct owner *o = owner_new();

	owner_finalizes = 0;
	ck_assert_int_eq(memory_region_add_subregion(&o->c, 0x1000, &o->r,
						     &err), 0);
	/* Container -> subregion of the same owner is not counted. */
	ck_assert_int_eq(object_refcount(&o->obj), 1);
	object_unref(&o->obj);
	ck_assert_int_eq(owner_finalizes, 1);
	/* Owner, container and RAM region all gone, memory freed once. */
	ck_assert_int_eq(live_objects(), objs);
	ck_assert_int_eq(live_allocations(), allocs);
}
END_TEST

START_TEST(rule3_different_owner_counted)
{
	long objs = live_objects(), allocs = live_allocations();
	struct error err = { 0 };
	struct owner *a = owner_new(), *b = owner_new();
	struct memory_region *alias;

	owner_finalizes = 0;
	ck_assert_int_eq(memory_region_add_subregion(&b->c, 0, &a->r, &err), 0);
	ck_assert_int_eq(object_refcount(&a->obj), 2);
	ck_assert_int_eq(object_refcount(&b->obj), 1);
	/* An alias counts its target's owner the same way. */
	alias = memory_region_new_alias(&b->obj, "alias", &a->r, 0, 0x800,
					&err);
	ck_assert_ptr_nonnull(alias);
	ck_assert_int_eq(object_refcount(&a->obj), 3);
	/* a dropped by its creator: still alive through b's container */
	object_unref(&a->obj);
	ck_assert_int_eq(owner_finalizes, 0);
	ck_assert_int_eq(memory_region_del_subregion(&b->c, &a->r, &err), 0);
	ck_assert_int_eq(owner_finalizes, 0);	/* the alias holds it */
	object_unref(&b->obj);			/* b, then a through the alias */
	ck_assert_int_eq(owner_finalizes, 2);
	ck_assert_int_eq(live_objects(), objs);
	ck_assert_int_eq(live_allocations(), allocs);
}
END_TEST

/* ---- Rule 4: views and mappings hold owners ---------------------------- */

START_TEST(rule4_view_holds_owner)
{
	struct error err = { 0 };
	struct owner *o = owner_new();
	long base;

	machine_setup();
	base = object_refcount(&o->obj);
	ck_assert_int_eq(memory_region_add_subregion(&sysmem, 0x100000, &o->r,
						     &err), 0);
	/* +1 container (rule 3), +1 the published view (rule 4) */
	ck_assert_int_eq(object_refcount(&o->obj), base + 2);
	ck_assert_int_eq(memory_region_del_subregion(&sysmem, &o->r, &err), 0);
	/* The old view is still readable by anyone inside a grace period. */
	ck_assert_int_eq(object_refcount(&o->obj), base + 1);
	rcu_flush();
	ck_assert_int_eq(object_refcount(&o->obj), base);
	object_unref(&o->obj);
	machine_teardown();
}
END_TEST

START_TEST(rule4_dma_mapping_holds_owner)
{
	struct error err = { 0 };
	struct owner *o = owner_new();
	struct dma_map m;

	owner_finalizes = 0;
	machine_setup();
	ck_assert_int_eq(memory_region_add_subregion(&sysmem, 0x100000, &o->r,
						     &err), 0);
	object_unref(&o->obj);		/* only the machine holds it now */
	ck_assert_int_eq(address_space_map(&as, 0x100800, 0x100, true, &m), 0);
	ck_assert_int_eq(memory_region_del_subregion(&sysmem, &o->r, &err), 0);
	rcu_flush();
	ck_assert_int_eq(owner_finalizes, 0);
	/* The mapping is usable: the RAM is still there. */
	memset(m.host, 0xab, m.len);
	ck_assert_int_eq(object_refcount(&o->obj), 1);
	address_space_unmap(&m, m.len);
	ck_assert_int_eq(owner_finalizes, 1);
	machine_teardown();
}
END_TEST

/* The upstream xhci case: rules 2, 4 and 5 together. */
START_TEST(rule24_embedded_child_mapped_for_dma_outlives_parent)
{
	long allocs = live_allocations(), objs = live_objects();
	struct error err = { 0 };
	struct xparent *p;
	struct dma_map m;

	machine_setup();
	p = xparent_create("xhci");
	ck_assert_int_eq(memory_region_add_subregion(&sysmem, 0xfe000000,
						     &p->regs, &err), 0);
	ck_assert_int_eq(memory_region_add_subregion(&sysmem, 0x200000,
						     &p->child.buf, &err), 0);
	ck_assert_int_eq(address_space_map(&as, 0x200010, 0x10000, true, &m),
			 0);
	ck_assert_int_eq(m.len, 0x1000 - 0x10);	/* shorter at region end */

	ck_assert_int_eq(device_unplug(&p->dev, &err), 0);
	ck_assert_int_eq(device_get_state(&p->child.dev), DEVICE_UNPLUGGING);
	rcu_flush();
	/* The parent finalized; the child lives on for the mapping. */
	ck_assert_int_eq(xparent_finalized, 1);
	ck_assert_int_eq(xchild_finalized, 0);
	ck_assert_int_eq(live_allocations(), allocs + 1);
	memset(m.host, 0x5a, m.len);		/* ASan: still valid memory */
	/* No new access reaches either device. */
	{
		struct dma_map m2;

		ck_assert_int_eq(address_space_map(&as, 0x200000, 16, false,
						   &m2), -EFAULT);
	}
	address_space_unmap(&m, m.len);
	/* Dropped exactly here, on this thread. */
	ck_assert_int_eq(xchild_finalized, 1);
	ck_assert_int_eq(live_allocations(), allocs);
	machine_teardown();
	ck_assert_int_eq(live_objects(), objs);
	xparent_finalized = xchild_finalized = 0;
}
END_TEST

/* ---- Rule 5: asynchronous two-phase unplug ----------------------------- */

static struct {
	uint32_t value;
	long reads_before;
	long reads_after;
} during_unrealize;

static void read_during_unrealize(struct tdev *t)
{
	/* The view still maps the device, but it no longer accepts. */
	during_unrealize.reads_before = t->reads;
	address_space_read(&as, 0x10000000, &during_unrealize.value, 4);
	during_unrealize.reads_after = t->reads;
}

static int notified;
static struct device *notified_dev;

static void on_finalized(struct device *dev, void *opaque)
{
	notified++;
	notified_dev = dev;
	ck_assert_ptr_eq(opaque, &notified);
}

START_TEST(rule5_unplug_stops_then_finalizes_after_grace_period)
{
	struct address_space_stats st;
	struct error err = { 0 };
	uint32_t v = 0;
	struct tdev *t;

	machine_setup();
	tdev_finalized = 0;
	notified = 0;
	t = tdev_create("dev0", 7);
	device_set_finalized_notifier(&t->dev, on_finalized, &notified);
	ck_assert_int_eq(memory_region_add_subregion(&sysmem, 0x10000000,
						     &t->mmio, &err), 0);
	ck_assert_int_eq(address_space_read(&as, 0x10000000, &v, 4), 0);
	ck_assert_uint_eq(v, TDEV_MAGIC | 7);

	tdev_unrealize_hook = read_during_unrealize;
	ck_assert_int_eq(device_unplug(&t->dev, &err), 0);
	tdev_unrealize_hook = NULL;
	ck_assert_uint_eq(during_unrealize.value, 0xffffffff);
	ck_assert_int_eq(during_unrealize.reads_after,
			 during_unrealize.reads_before);

	/* Second unplug while pending is answered, not crashed on. */
	ck_assert_int_eq(object_refcount(&t->dev.obj), 1);	/* old view */
	ck_assert_int_eq(device_unplug(&t->dev, &err), -EINPROGRESS);

	/* The new view is out: the address is unassigned. */
	ck_assert_int_eq(address_space_read(&as, 0x10000000, &v, 4), -EFAULT);
	ck_assert_int_eq(tdev_finalized, 0);
	ck_assert_int_eq(notified, 0);
	rcu_flush();
	ck_assert_int_eq(tdev_finalized, 1);
	ck_assert_int_eq(notified, 1);
	ck_assert_ptr_eq(notified_dev, &t->dev);
	address_space_get_stats(&as, &st);
	ck_assert_uint_eq(st.rejected, 1);
	ck_assert_uint_ge(st.unassigned_reads, 2);
	machine_teardown();
}
END_TEST

START_TEST(rule5_dma_in_flight_during_unplug)
{
	struct error err = { 0 };
	struct dma_map m;
	struct tdev *t;
	uint32_t v = 0xdeadbeef;

	machine_setup();
	tdev_finalized = 0;
	t = tdev_create("dev1", 1);
	ck_assert_int_eq(memory_region_add_subregion(&sysmem, 0x10000000,
						     &t->mmio, &err), 0);
	/* MMIO target: a bounce buffer, holding the device. */
	ck_assert_int_eq(address_space_map(&as, 0x10000004, 4, true, &m), 0);
	ck_assert_ptr_nonnull(m.bounce);
	ck_assert_int_eq(device_unplug(&t->dev, &err), 0);
	rcu_flush();
	ck_assert_int_eq(tdev_finalized, 0);
	memcpy(m.host, &v, 4);
	/* The write-back finds no device: dropped, and then it finalizes. */
	address_space_unmap(&m, 4);
	ck_assert_int_eq(tdev_finalized, 1);
	machine_teardown();
}
END_TEST

/* ---- Rule 6: the fast path takes no reference -------------------------- */

START_TEST(rule6_dispatch_takes_no_reference)
{
	struct error err = { 0 };
	struct tdev *t;
	long before;
	uint32_t v;
	int i;

	machine_setup();
	t = tdev_create("dev2", 2);
	ck_assert_int_eq(memory_region_add_subregion(&sysmem, 0x10000000,
						     &t->mmio, &err), 0);
	before = object_refcount(&t->dev.obj);
	for (i = 0; i < 1000; i++) {
		t->ref_in_handler = -1;
		address_space_read(&as, 0x10000000, &v, 4);
		/* The handler ran with the count the view alone gives. */
		ck_assert_int_eq(t->ref_in_handler, before);
		ck_assert_int_eq(object_refcount(&t->dev.obj), before);
	}
	ck_assert_int_eq(t->reads, 1000);
	ck_assert_int_eq(device_unplug(&t->dev, &err), 0);
	machine_teardown();
}
END_TEST

/*
 * Rule 1, defensive half: a lookup through the view that meets an owner
 * whose count is already zero must fail cleanly (get-unless-zero), not
 * abort.  White-box: while rule 4 holds this state cannot be reached
 * legitimately, so the count is forced to zero for the duration of the call.
 */
struct sowner {
	struct object obj;
	struct memory_region r;
};

START_TEST(rule1_map_uses_get_unless_zero)
{
	static const struct object_class cls = {
		.name = "sowner", .size = sizeof(struct sowner),
	};
	static struct sowner so;
	struct error err = { 0 };
	struct dma_map m;
	long saved;

	machine_setup();
	object_init_static(&so.obj, &cls, "sowner");
	ck_assert_int_eq(memory_region_init_ram(&so.r, &so.obj, "r", 0x1000,
						&err), 0);
	ck_assert_int_eq(memory_region_add_subregion(&sysmem, 0x300000, &so.r,
						     &err), 0);
	saved = object_refcount(&so.obj);
	__atomic_store_n(&so.obj.ref, 0, __ATOMIC_RELAXED);	/* "finalizing" */
	ck_assert_int_eq(address_space_map(&as, 0x300000, 16, false, &m),
			 -EFAULT);
	ck_assert_ptr_null(m.mr);
	ck_assert_int_eq(object_refcount(&so.obj), 0);	/* not resurrected */
	__atomic_store_n(&so.obj.ref, saved, __ATOMIC_RELAXED);
	ck_assert_int_eq(memory_region_del_subregion(&sysmem, &so.r, &err), 0);
	rcu_flush();
	object_unref(&so.obj);
	machine_teardown();
}
END_TEST

/* Rule 5: from unrealize on, no new DMA mapping reaches the device either. */
static struct {
	int ret;
	struct memory_region *mr;
	long refs_before, refs_after;
} map_during_unrealize;

static void map_during_unrealize_hook(struct tdev *t)
{
	struct dma_map m;

	/* The published view still maps the device here. */
	map_during_unrealize.refs_before = object_refcount(&t->dev.obj);
	map_during_unrealize.ret = address_space_map(&as, 0x10000000, 4, false,
						     &m);
	map_during_unrealize.mr = m.mr;
	map_during_unrealize.refs_after = object_refcount(&t->dev.obj);
	if (!map_during_unrealize.ret)
		address_space_unmap(&m, 0);
}

START_TEST(rule5_no_new_dma_map_after_unrealize)
{
	struct error err = { 0 };
	struct tdev *t;

	machine_setup();
	tdev_finalized = 0;
	t = tdev_create("dev3", 3);
	ck_assert_int_eq(memory_region_add_subregion(&sysmem, 0x10000000,
						     &t->mmio, &err), 0);
	tdev_unrealize_hook = map_during_unrealize_hook;
	ck_assert_int_eq(device_unplug(&t->dev, &err), 0);
	tdev_unrealize_hook = NULL;
	ck_assert_int_eq(map_during_unrealize.ret, -EFAULT);
	ck_assert_ptr_null(map_during_unrealize.mr);
	ck_assert_int_eq(map_during_unrealize.refs_after,
			 map_during_unrealize.refs_before);
	ck_assert_int_eq(t->reads, 0);		/* no bounce read either */
	rcu_flush();
	ck_assert_int_eq(tdev_finalized, 1);
	machine_teardown();
}
END_TEST

/* Rule 5: all of a device's regions leave in one transaction (one view). */
static struct {
	struct memory_listener l;
	int commits, dels;
} txl;

static void txl_commit(struct memory_listener *l)
{
	txl.commits++;
}

static void txl_del(struct memory_listener *l,
		    const struct memory_region_section *s)
{
	txl.dels++;
}

START_TEST(rule5_unplug_detaches_in_one_transaction)
{
	struct error err = { 0 };
	struct memory_region *ram;
	struct tdev *t;

	machine_setup();
	tdev_finalized = 0;
	t = tdev_create("dev4", 4);
	ram = memory_region_new_ram(&t->dev.obj, "ram", 0x1000, &err);
	ck_assert_ptr_nonnull(ram);
	ck_assert_int_eq(memory_region_add_subregion(&sysmem, 0x10000000,
						     &t->mmio, &err), 0);
	ck_assert_int_eq(memory_region_add_subregion(&sysmem, 0x20000000,
						     ram, &err), 0);
	memset(&txl, 0, sizeof(txl));
	txl.l.name = "txl";
	txl.l.commit = txl_commit;
	txl.l.region_del = txl_del;
	memory_listener_register(&txl.l, &as);
	txl.commits = txl.dels = 0;
	ck_assert_int_eq(device_unplug(&t->dev, &err), 0);
	ck_assert_int_eq(txl.dels, 2);
	ck_assert_int_eq(txl.commits, 1);	/* one new view, not one per region */
	/* A parent and its embedded child device: still one new view. */
	{
		struct xparent *p = xparent_create("x1");

		ck_assert_int_eq(memory_region_add_subregion(&sysmem,
							     0xfe000000,
							     &p->regs, &err), 0);
		ck_assert_int_eq(memory_region_add_subregion(&sysmem,
							     0x30000000,
							     &p->child.buf,
							     &err), 0);
		txl.commits = txl.dels = 0;
		ck_assert_int_eq(device_unplug(&p->dev, &err), 0);
		ck_assert_int_eq(txl.dels, 2);
		ck_assert_int_eq(txl.commits, 1);
		xparent_finalized = xchild_finalized = 0;
	}
	memory_listener_unregister(&txl.l);
	rcu_flush();
	ck_assert_int_eq(tdev_finalized, 1);
	ck_assert_int_eq(xparent_finalized, 1);
	ck_assert_int_eq(xchild_finalized, 1);
	xparent_finalized = xchild_finalized = 0;
	machine_teardown();
}
END_TEST


/* Rule 6: no global lock: dispatch completes while a writer holds the
 * memory lock (a transaction is open on another thread). */
static int lockfree_done;

static void *lockfree_reader(void *arg)
{
	uint32_t v = 0;

	rcu_thread_register();
	address_space_read(&as, 0x10000000, &v, 4);
	__atomic_store_n(&lockfree_done, 1, __ATOMIC_RELEASE);
	rcu_thread_unregister();
	return NULL;
}

START_TEST(rule6_dispatch_takes_no_global_lock)
{
	struct error err = { 0 };
	struct timespec ts = { 0, 1000000 };
	struct tdev *t;
	pthread_t tid;
	int i;

	machine_setup();
	t = tdev_create("dev5", 5);
	ck_assert_int_eq(memory_region_add_subregion(&sysmem, 0x10000000,
						     &t->mmio, &err), 0);
	lockfree_done = 0;
	memory_region_transaction_begin();	/* holds the memory lock */
	ck_assert_int_eq(pthread_create(&tid, NULL, lockfree_reader, NULL), 0);
	for (i = 0; i < 2000 && !__atomic_load_n(&lockfree_done,
						 __ATOMIC_ACQUIRE); i++)
		nanosleep(&ts, NULL);
	ck_assert_msg(__atomic_load_n(&lockfree_done, __ATOMIC_ACQUIRE),
		      "dispatch blocked on the memory lock");
	memory_region_transaction_commit();
	pthread_join(tid, NULL);
	ck_assert_int_eq(t->reads, 1);
	ck_assert_int_eq(device_unplug(&t->dev, &err), 0);
	machine_teardown();
}
END_TEST

/*
 * Rules 4/6 under ThreadSanitizer, deterministic: one reader touches the
 * view and the device once, goes offline, and stays quiet (no
 * synchronization TSan can see) while the device is unplugged and
 * reclaimed on the call_rcu thread.  Only the quiescent-state release /
 * reclaim acquire of include/flatvm/rcu.h orders the two; without it (or
 * with a reclamation that does not wait for readers) TSan reports.  The
 * reader's history is short, so the report is not lost.
 */
static int tsan_read_done, tsan_stop;
static uint32_t tsan_val;

static void *tsan_reader(void *arg)
{
	struct timespec ts = { 0, 1000000 };

	rcu_thread_register();
	address_space_read(&as, 0x10000000, &tsan_val, 4);
	rcu_thread_offline();
	__atomic_store_n(&tsan_read_done, 1, __ATOMIC_RELAXED);
	while (!__atomic_load_n(&tsan_stop, __ATOMIC_RELAXED))
		nanosleep(&ts, NULL);
	rcu_thread_online();
	rcu_thread_unregister();
	return NULL;
}

START_TEST(rule46_reader_then_reclaim_ordered_for_tsan)
{
	struct timespec ts = { 0, 1000000 };
	struct error err = { 0 };
	struct tdev *t;
	pthread_t tid;

	machine_setup();
	tdev_finalized = 0;
	tsan_read_done = tsan_stop = 0;
	t = tdev_create("dev6", 6);
	ck_assert_int_eq(memory_region_add_subregion(&sysmem, 0x10000000,
						     &t->mmio, &err), 0);
	ck_assert_int_eq(pthread_create(&tid, NULL, tsan_reader, NULL), 0);
	while (!__atomic_load_n(&tsan_read_done, __ATOMIC_RELAXED))
		nanosleep(&ts, NULL);
	ck_assert_int_eq(device_unplug(&t->dev, &err), 0);
	rcu_flush();		/* view and device freed on the call_rcu thread */
	ck_assert_int_eq(__atomic_load_n(&tdev_finalized, __ATOMIC_RELAXED), 1);
	__atomic_store_n(&tsan_stop, 1, __ATOMIC_RELAXED);
	pthread_join(tid, NULL);
	ck_assert_uint_eq(tsan_val, TDEV_MAGIC | 6);
	machine_teardown();
}
END_TEST

/* Rule 4 (struct dma_map doc): a bounce write-back goes to the mapped
 * region or is dropped; never to whatever is mapped there now. */
START_TEST(rule4_bounce_writeback_never_reaches_a_new_device)
{
	struct error err = { 0 };
	struct tdev *a, *b;
	struct dma_map m;
	uint32_t v = 0x1234;

	machine_setup();
	a = tdev_create("devA", 10);
	ck_assert_int_eq(memory_region_add_subregion(&sysmem, 0x10000000,
						     &a->mmio, &err), 0);
	ck_assert_int_eq(address_space_map(&as, 0x10000004, 4, true, &m), 0);
	ck_assert_int_eq(device_unplug(&a->dev, &err), 0);
	rcu_flush();
	b = tdev_create("devB", 11);
	ck_assert_int_eq(memory_region_add_subregion(&sysmem, 0x10000000,
						     &b->mmio, &err), 0);
	memcpy(m.host, &v, 4);
	address_space_unmap(&m, 4);
	ck_assert_int_eq(b->writes, 0);
	ck_assert_int_eq(device_unplug(&b->dev, &err), 0);
	machine_teardown();
}
END_TEST

static Suite *lifetime_suite(void)
{
	Suite *s = suite_create("lifetime");
	TCase *tc;

	tc = rcu_tcase("rule1", 10);
	tcase_add_test(tc, rule1_count_and_finalize_once);
	tcase_add_test(tc, rule1_tryref_fails_during_finalize);
	tcase_add_test_raise_signal(tc, rule1_ref_during_finalize_aborts,
				    SIGABRT);
	suite_add_tcase(s, tc);

	tc = rcu_tcase("rule2", 10);
	tcase_add_test(tc, rule2_embedded_child_keeps_storage);
	suite_add_tcase(s, tc);

	tc = rcu_tcase("rule3", 10);
	tcase_add_test(tc, rule3_same_owner_no_cycle);
	tcase_add_test(tc, rule3_different_owner_counted);
	suite_add_tcase(s, tc);

	tc = rcu_tcase("rule4", 10);
	tcase_add_test(tc, rule4_view_holds_owner);
	tcase_add_test(tc, rule4_dma_mapping_holds_owner);
	tcase_add_test(tc, rule24_embedded_child_mapped_for_dma_outlives_parent);
	suite_add_tcase(s, tc);

	tc = rcu_tcase("rule5", 10);
	tcase_add_test(tc, rule5_unplug_stops_then_finalizes_after_grace_period);
	tcase_add_test(tc, rule5_dma_in_flight_during_unplug);
	suite_add_tcase(s, tc);

	tc = rcu_tcase("rule6", 10);
	tcase_add_test(tc, rule6_dispatch_takes_no_reference);
	tcase_add_test(tc, rule6_dispatch_takes_no_global_lock);
	tcase_add_test(tc, rule46_reader_then_reclaim_ordered_for_tsan);
	suite_add_tcase(s, tc);

	tc = rcu_tcase("rules-more", 10);
	tcase_add_test(tc, rule1_map_uses_get_unless_zero);
	tcase_add_test(tc, rule5_no_new_dma_map_after_unrealize);
	tcase_add_test(tc, rule5_unplug_detaches_in_one_transaction);
	tcase_add_test(tc, rule4_bounce_writeback_never_reaches_a_new_device);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(lifetime_suite)
