// SPDX-License-Identifier: GPL-2.0-only
/*
 * The device core: realize, two-phase unplug, finalize notification.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "flatvm/device.h"

static void (*region_detacher)(struct device *dev);

__thread int device_counter_slot = -1;
static int counter_slots_used;

int device_counter_slot_init(void)
{
	int slot = __atomic_fetch_add(&counter_slots_used, 1,
				      __ATOMIC_RELAXED);

	if (slot >= DEVICE_COUNTER_SLOTS - 1)
		slot = DEVICE_COUNTER_SLOTS - 1;	/* shared, atomic */
	device_counter_slot = slot;
	return slot;
}

void device_get_counters(struct device *dev, uint64_t *reads,
			 uint64_t *writes)
{
	unsigned i;

	*reads = *writes = 0;
	for (i = 0; dev->counters && i < DEVICE_COUNTER_SLOTS; i++) {
		*reads += __atomic_load_n(&dev->counters[i].reads,
					  __ATOMIC_RELAXED);
		*writes += __atomic_load_n(&dev->counters[i].writes,
					   __ATOMIC_RELAXED);
	}
}

void device_set_region_detacher(void (*detach)(struct device *dev))
{
	region_detacher = detach;
}

static void device_finalize(struct object *obj)
{
	struct device *dev = to_device(obj);
	void (*fn)(struct device *dev, void *opaque);
	void *opaque;

	pthread_mutex_lock(&dev->lock);
	dev->state = DEVICE_FINALIZED;
	fn = dev->notify_finalized;
	opaque = dev->notify_opaque;
	pthread_mutex_unlock(&dev->lock);
	if (fn)
		fn(dev, opaque);
	pthread_mutex_destroy(&dev->lock);
	free(dev->counters);
	dev->counters = NULL;
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
	pthread_mutex_init(&dev->lock, NULL);
	/* Without counters (out of memory) the device works, uncounted. */
	dev->counters = aligned_alloc(sizeof(*dev->counters),
				      DEVICE_COUNTER_SLOTS *
				      sizeof(*dev->counters));
	if (dev->counters)
		memset(dev->counters, 0,
		       DEVICE_COUNTER_SLOTS * sizeof(*dev->counters));
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
