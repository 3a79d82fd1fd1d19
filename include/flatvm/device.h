/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Devices: objects that are realized, accept guest accesses, and can be
 * unplugged while accesses to them are still in flight (DESIGN.md rule 5).
 *
 * Life of a device:
 *
 *   CREATED --realize--> REALIZED --unrealize--> UNPLUGGING --last ref--> FINALIZED
 *
 * device_unrealize() is the first phase of unplug: the device stops
 * accepting accesses (a flag the dispatcher checks), the class unrealize
 * hook runs, and the device core detaches every region the device (or an
 * object below it) owns from containers that belong to others, in one
 * transaction, so a new flat view without the device is published.
 * Accesses already dispatched through the old view may still arrive until
 * a grace period has passed; the old view holds the device.  Finalization
 * happens when the last reference drops, on whichever thread drops it, and
 * only then is the finalized notifier called.
 */
#ifndef FLATVM_DEVICE_H
#define FLATVM_DEVICE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "flatvm/object.h"

struct device;

enum device_state {
	DEVICE_CREATED,
	DEVICE_REALIZED,
	DEVICE_UNPLUGGING,
	DEVICE_FINALIZED,
};

/**
 * struct device_class - a device type.
 * @obj: the object class; its @parent must be &device_class.obj (or a
 *	class derived from it).
 * @realize: acquire resources and set up regions; may fail.
 * @unrealize: stop backend activity that must stop before unplug returns;
 *	must not free anything a handler can still touch (that is finalize's
 *	job, rule 5).  Never calls del_subregion: the core does that.
 * @hotpluggable: instances may be unplugged at run time.
 */
struct device_class {
	struct object_class obj;
	int (*realize)(struct device *dev, struct error *err);
	void (*unrealize)(struct device *dev);
	bool hotpluggable;
};

extern const struct device_class device_class;

struct device {
	struct object obj;
	/* Protects @state and @notify; device models may reuse it for
	 * their own state.  Never taken by the dispatcher. */
	pthread_mutex_t lock;
	enum device_state state;
	bool accepting;			/* read locklessly by dispatch */
	void (*notify_finalized)(struct device *dev, void *opaque);
	void *notify_opaque;
	/* Guest accesses dispatched to it, one cache line per thread slot. */
	struct device_counter *counters;
};

/*
 * Per-thread access counters: each thread that dispatches gets a slot
 * of its own (the first DEVICE_COUNTER_SLOTS - 1 threads); later threads
 * share the last slot with atomic adds.  No shared line is written on
 * the fast path by the vCPU threads of a normal machine.
 */
#define DEVICE_COUNTER_SLOTS	32

/* A cache-line pair each: x86 prefetches lines in adjacent pairs. */
struct device_counter {
	uint64_t reads;
	uint64_t writes;
} __attribute__((aligned(128)));

extern __thread int device_counter_slot;
int device_counter_slot_init(void);

static inline void device_count_access(struct device *dev, bool is_write)
{
	int slot = device_counter_slot;
	struct device_counter *c;
	uint64_t *v;

	if (unlikely(slot < 0))
		slot = device_counter_slot_init();
	if (unlikely(!dev->counters))
		return;
	c = &dev->counters[slot];
	v = is_write ? &c->writes : &c->reads;
	if (likely(slot < DEVICE_COUNTER_SLOTS - 1))
		WRITE_ONCE(*v, READ_ONCE(*v) + 1);
	else
		__atomic_add_fetch(v, 1, __ATOMIC_RELAXED);
}

/* Sum of every thread slot. */
void device_get_counters(struct device *dev, uint64_t *reads,
			 uint64_t *writes);

static inline struct device *to_device(struct object *obj)
{
	return container_of(obj, struct device, obj);
}

static inline const struct device_class *device_get_class(const struct device *dev)
{
	return container_of(dev->obj.cls, struct device_class, obj);
}

/* Cast @obj to a device, or NULL if it is not one. */
struct device *device_cast(struct object *obj);

/*
 * Set up the device part of an instance.  Called by device models right
 * after object_new() or object_init_child().
 */
void device_init(struct device *dev);

int device_realize(struct device *dev, struct error *err);

/** device_unrealize() - first phase of unplug; see the comment above. */
void device_unrealize(struct device *dev);

/**
 * device_unplug() - unrealize @dev and drop its parent's reference.
 * Returns at once; the device finalizes when its last user lets go.
 * Fails if the class is not hotpluggable or the device is not realized.
 */
int device_unplug(struct device *dev, struct error *err);

/**
 * device_set_finalized_notifier() - call @fn when @dev has finalized.
 * @fn runs on whichever thread dropped the last reference, possibly an
 * RCU callback thread; it must not block on a grace period.
 */
void device_set_finalized_notifier(struct device *dev,
				   void (*fn)(struct device *dev, void *opaque),
				   void *opaque);

/* The dispatch fast path's check: one acquire load (a plain mov on x86), no lock. */
static inline bool device_accepting(const struct device *dev)
{
	return __atomic_load_n(&dev->accepting, __ATOMIC_ACQUIRE);
}

enum device_state device_get_state(struct device *dev);
const char *device_state_name(enum device_state state);

/*
 * The memory core registers how to detach a device's regions.  core/
 * cannot call mm/ (the dependency arrow points the other way), so mm/
 * hands the device core this hook when it is linked in.
 */
void device_set_region_detacher(void (*detach)(struct device *dev));

#endif /* FLATVM_DEVICE_H */
