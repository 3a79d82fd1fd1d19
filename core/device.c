// SPDX-License-Identifier: GPL-2.0-only
/*
 * The device core: realize, two-phase unplug, finalize notification.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "flatvm/device.h"

static void (*region_detacher)(struct device *dev);

/* ---- Access counters (see device.h) ------------------------------------ */

/*
 * One thread's table, and its entry in the list of tables.  The table is
 * an anonymous mapping: only the pages of numbers the thread counts to
 * are ever backed (16 KiB cover 1024 devices).
 */
struct counter_table {
	struct cds_list_head link;
	struct device_counts *c;
};

#define COUNTER_TABLE_BYTES \
	(DEVICE_COUNTER_IDS * sizeof(struct device_counts))

/*
 * Protects the number bitmap, counter_id_top, the list of tables, the
 * exited threads' counts, and every device's counter_id and folded
 * counts once it is initialized.  A leaf lock: nothing else is taken
 * under it; callers may hold the object tree lock.
 */
static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
/* Bit set: the number is taken; 0 always is. */
static uint64_t counter_ids[DEVICE_COUNTER_IDS / 64] = { 1 };
static unsigned counter_id_hint;	/* no free number in a word below */
static unsigned counter_id_top = 1;	/* above every number given */
static CDS_LIST_HEAD(counter_tables);
static struct device_counts counts_exited[DEVICE_COUNTER_IDS];
static pthread_key_t counter_key;
static pthread_once_t counter_once = PTHREAD_ONCE_INIT;

__thread struct device_counts *device_counter_table;

/* The lowest free number, or 0 if none is.  Called with counter_lock held. */
static uint16_t counter_id_alloc(void)
{
	unsigned i, id;

	for (i = counter_id_hint; i < ARRAY_SIZE(counter_ids); i++) {
		if (!~counter_ids[i])
			continue;
		id = i * 64 + (unsigned)__builtin_ctzll(~counter_ids[i]);
		counter_ids[i] |= 1ULL << (id % 64);
		counter_id_hint = i;
		if (id >= counter_id_top)
			counter_id_top = id + 1;
		return (uint16_t)id;
	}
	counter_id_hint = i;
	return 0;
}

/* Called with counter_lock held. */
static void counter_id_free(unsigned id)
{
	counter_ids[id / 64] &= ~(1ULL << (id % 64));
	if (id / 64 < counter_id_hint)
		counter_id_hint = id / 64;
}

/*
 * Move what @from holds into @to, leaving zeroes.  Entries that are
 * already zero are not written: that would back an untouched page.
 */
static void counts_take(struct device_counts *from, uint64_t *to)
{
	uint64_t v;
	unsigned k;

	for (k = 0; k < 2; k++) {
		v = READ_ONCE(from->rw[k]);
		if (v) {
			to[k] += v;
			WRITE_ONCE(from->rw[k], 0);
		}
	}
}

/* Thread exit: its counts go to counts_exited, its table away. */
static void counter_table_exit(void *p)
{
	struct counter_table *t = p;
	uint64_t sum[2];
	unsigned id;

	pthread_mutex_lock(&counter_lock);
	for (id = 1; id < counter_id_top; id++) {
		sum[0] = sum[1] = 0;
		counts_take(&t->c[id], sum);
		counts_exited[id].rw[0] += sum[0];
		counts_exited[id].rw[1] += sum[1];
	}
	cds_list_del(&t->link);
	pthread_mutex_unlock(&counter_lock);
	device_counter_table = NULL;
	munmap(t->c, COUNTER_TABLE_BYTES);
	free(t);
}

static void counter_key_create(void)
{
	pthread_key_create(&counter_key, counter_table_exit);
}

struct device_counts *device_counter_table_init(void)
{
	struct counter_table *t;

	pthread_once(&counter_once, counter_key_create);
	t = malloc(sizeof(*t));
	if (!t)
		return NULL;
	t->c = mmap(NULL, COUNTER_TABLE_BYTES, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (t->c == MAP_FAILED) {
		free(t);
		return NULL;
	}
	pthread_mutex_lock(&counter_lock);
	cds_list_add(&t->link, &counter_tables);
	pthread_mutex_unlock(&counter_lock);
	pthread_setspecific(counter_key, t);
	device_counter_table = t->c;
	return t->c;
}

/*
 * Finalize: no view holds @dev any more, so every count to its number
 * has been made (rule 4: a view holds the device until a grace period
 * after it was replaced).  Fold the counts into the device, zero them
 * and free the number for the next device.
 */
static void device_counters_fold(struct device *dev)
{
	struct counter_table *t;
	uint64_t sum[2] = { 0, 0 };
	unsigned id;

	pthread_mutex_lock(&counter_lock);
	id = dev->counter_id;
	if (id) {
		cds_list_for_each_entry(t, &counter_tables, link)
			counts_take(&t->c[id], sum);
		counts_take(&counts_exited[id], sum);
		counter_id_free(id);
		dev->counter_id = 0;
		dev->folded_reads += sum[0];
		dev->folded_writes += sum[1];
	}
	pthread_mutex_unlock(&counter_lock);
}

void device_get_counters(struct device *dev, uint64_t *reads,
			 uint64_t *writes)
{
	struct counter_table *t;
	uint64_t r, w;
	unsigned id;

	pthread_mutex_lock(&counter_lock);
	id = dev->counter_id;
	r = dev->folded_reads;
	w = dev->folded_writes;
	if (id) {
		r += counts_exited[id].rw[0];
		w += counts_exited[id].rw[1];
		cds_list_for_each_entry(t, &counter_tables, link) {
			r += READ_ONCE(t->c[id].rw[0]);
			w += READ_ONCE(t->c[id].rw[1]);
		}
	}
	pthread_mutex_unlock(&counter_lock);
	*reads = r;
	*writes = w;
}

/* ---- The device core ----------------------------------------------------- */

void device_set_region_detacher(void (*detach)(struct device *dev))
{
	region_detacher = detach;
}

static void device_finalize(struct object *obj)
{
	struct device *dev = to_device(obj);
	void (*fn)(struct device *dev, void *opaque);
	void *opaque;

	device_counters_fold(dev);	/* the notifier sees the totals */
	pthread_mutex_lock(&dev->lock);
	dev->state = DEVICE_FINALIZED;
	fn = dev->notify_finalized;
	opaque = dev->notify_opaque;
	pthread_mutex_unlock(&dev->lock);
	if (fn)
		fn(dev, opaque);
	pthread_mutex_destroy(&dev->lock);
}

const struct device_class device_class = {
	.obj = {
		.name = "device",
		.size = sizeof(struct device),
		.finalize = device_finalize,
	},
};

struct device *device_cast(struct object *obj)
{
	if (!obj || !object_is_a(obj, &device_class.obj))
		return NULL;
	return to_device(obj);
}

void device_init(struct device *dev)
{
	uint16_t id;

	pthread_mutex_init(&dev->lock, NULL);
	pthread_mutex_lock(&counter_lock);
	id = counter_id_alloc();
	dev->counter_id = id;
	dev->folded_reads = dev->folded_writes = 0;
	pthread_mutex_unlock(&counter_lock);
	if (!id)
		pr_warn_once("%d devices: accesses to more are not counted",
			     DEVICE_COUNTER_IDS - 1);
	dev->state = DEVICE_CREATED;
	dev->accepting = false;
}

int device_realize(struct device *dev, struct error *err)
{
	const struct device_class *dc = device_get_class(dev);
	int ret = 0;

	pthread_mutex_lock(&dev->lock);
	if (dev->state != DEVICE_CREATED) {
		ret = error_setf(err, EBUSY,
				 "cannot realize %s: it is %s, expected created",
				 object_path(&dev->obj),
				 device_state_name(dev->state));
		pthread_mutex_unlock(&dev->lock);
		return ret;
	}
	pthread_mutex_unlock(&dev->lock);

	if (dc->realize)
		ret = dc->realize(dev, err);
	if (ret)
		return ret;

	pthread_mutex_lock(&dev->lock);
	dev->state = DEVICE_REALIZED;
	__atomic_store_n(&dev->accepting, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

static int unrealize_child(struct object *child, void *opaque)
{
	struct device **list = opaque;	/* lock order: tree, then dev->lock */
	struct device *dev = device_cast(child);

	/* Collected under the tree lock, unrealized after it. */
	if (dev && device_get_state(dev) == DEVICE_REALIZED) {
		object_ref(&dev->obj);
		*list = dev;
		return 1;
	}
	return 0;
}

/*
 * Phase 1 of unplug, after the REALIZED -> UNPLUGGING transition (made
 * by exactly one caller, under dev->lock).
 */
static void device_do_unrealize(struct device *dev, bool detach);
static bool device_stop_accepting(struct device *dev, enum device_state *was);

/* A child device unrealized with its parent: the parent's detach covers
 * the child's regions, in the same transaction. */
static void device_unrealize_child(struct device *dev)
{
	enum device_state was;

	if (device_stop_accepting(dev, &was))
		device_do_unrealize(dev, false);
}

static void device_do_unrealize(struct device *dev, bool detach)
{
	const struct device_class *dc = device_get_class(dev);
	struct device *child;

	/* Embedded or child devices go with their parent, children first. */
	for (;;) {
		child = NULL;
		object_child_foreach(&dev->obj, true, unrealize_child, &child);
		if (!child)
			break;
		device_unrealize_child(child);
		object_unref(&child->obj);
	}

	if (dc->unrealize)
		dc->unrealize(dev);
	/* Every region below @dev that others map, in one transaction. */
	if (detach && region_detacher)
		region_detacher(dev);
}

/* REALIZED -> UNPLUGGING; false if @dev was not realized. */
static bool device_stop_accepting(struct device *dev, enum device_state *was)
{
	bool ok;

	pthread_mutex_lock(&dev->lock);
	*was = dev->state;
	ok = dev->state == DEVICE_REALIZED;
	if (ok) {
		/* From here on no new access is accepted. */
		__atomic_store_n(&dev->accepting, false, __ATOMIC_RELEASE);
		dev->state = DEVICE_UNPLUGGING;
	}
	pthread_mutex_unlock(&dev->lock);
	return ok;
}

void device_unrealize(struct device *dev)
{
	enum device_state was;

	if (device_stop_accepting(dev, &was))
		device_do_unrealize(dev, true);
}

int device_unplug(struct device *dev, struct error *err)
{
	const struct device_class *dc = device_get_class(dev);
	enum device_state st;

	if (!dc->hotpluggable)
		return error_setf(err, EPERM,
				  "device %s (%s) is not hotpluggable",
				  object_path(&dev->obj), dc->obj.name);
	if (!device_stop_accepting(dev, &st))
		return error_setf(err, st == DEVICE_UNPLUGGING ? EINPROGRESS : EINVAL,
				  "cannot unplug %s: it is %s, expected realized",
				  object_path(&dev->obj), device_state_name(st));
	device_do_unrealize(dev, true);
	object_unparent(&dev->obj);
	return 0;
}

void device_set_finalized_notifier(struct device *dev,
				   void (*fn)(struct device *dev, void *opaque),
				   void *opaque)
{
	pthread_mutex_lock(&dev->lock);
	dev->notify_finalized = fn;
	dev->notify_opaque = opaque;
	pthread_mutex_unlock(&dev->lock);
}

enum device_state device_get_state(struct device *dev)
{
	enum device_state st;

	pthread_mutex_lock(&dev->lock);
	st = dev->state;
	pthread_mutex_unlock(&dev->lock);
	return st;
}

const char *device_state_name(enum device_state state)
{
	switch (state) {
	case DEVICE_CREATED:
		return "created";
	case DEVICE_REALIZED:
		return "realized";
	case DEVICE_UNPLUGGING:
		return "unplugging";
	case DEVICE_FINALIZED:
		return "finalized";
	}
	return "unknown";
}
