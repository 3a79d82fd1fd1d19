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
#include "flatvm/rcu.h"

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
	/*
	 * Guest accesses dispatched to it: its number in every thread's
	 * counter table (0: not counted), and what was folded in from the
	 * tables at finalize.  Written under the counter lock
	 * (core/device.c), @counter_id only at device_init() and finalize:
	 * whoever holds the device may read it without the lock.
	 */
	uint16_t counter_id;
	uint64_t folded_reads, folded_writes;
};

/*
 * Access counters (what query-devices reports).  Every device gets a small
 * number, counter_id, at device_init(); it is freed at finalize, and only
 * then can another device get it.  Every thread that dispatches has a
 * counter table of its own, indexed by that number: 16 bytes per device,
 * written only by that thread, with plain (relaxed) stores.  So counting
 * takes no lock, no reference, no atomic read-modify-write and writes no
 * shared cache line (rule 6); the tables of 64 devices fit in 16 lines.
 *
 * Why a number is not reused too early: a thread counts to number N only
 * through a flat range (fr->counter_id) of a view it is dispatching
 * through, and that view holds the device (rule 4) until a grace period
 * after it was replaced.  So when the device finalizes, every count to N
 * has been made; finalize folds N's entries of every table into the
 * device, zeroes them, and only then frees N.  A thread that exits first
 * adds its entries to a table of exited threads' counts, also folded and
 * zeroed at finalize.
 *
 * Number 0 is a sink nobody reads: devices created when every number was
 * taken (DEVICE_COUNTER_IDS - 1 live devices) work, uncounted.
 */
#define DEVICE_COUNTER_IDS	65536

/* One device's accesses as one thread counted them. */
struct device_counts {
	uint64_t rw[2];			/* [0] reads, [1] writes */
};

/* This thread's table, DEVICE_COUNTER_IDS entries; NULL until it counts. */
extern __thread struct device_counts *device_counter_table;
struct device_counts *device_counter_table_init(void);

/*
 * Count one access to the device whose counter_id is @id (below
 * DEVICE_COUNTER_IDS: it comes from a uint16_t), on the dispatch fast
 * path.  The caller is dispatching through a view that holds that device
 * (the id comes from the view's flat range).
 *
 * The word is written only by this thread and read by others with
 * READ_ONCE().  On x86-64 the increment is one non-locked add to memory,
 * as the kernel's this_cpu_inc() is: an aligned 8-byte store is
 * single-copy atomic, so a reader sees the old or the new value, as with
 * WRITE_ONCE(READ_ONCE() + 1); the compiler keeps that pair as a load
 * and a store, which measured ~0.5 ns more per access (64 regions).
 * Under ThreadSanitizer, which cannot see into asm, and elsewhere, the
 * pair.
 */
static inline void device_count_id(unsigned id, bool is_write)
{
	struct device_counts *t = device_counter_table;
	uint64_t *v;

	if (unlikely(!t)) {
		t = device_counter_table_init();
		if (!t)
			return;		/* out of memory: uncounted */
	}
	v = &t[id].rw[is_write];
#if defined(__x86_64__) && !defined(FLATVM_TSAN)
	__asm__ volatile("addq $1, %0" : "+m"(*v));
#else
	WRITE_ONCE(*v, READ_ONCE(*v) + 1);
#endif
}

/* The same for a device the caller holds (or reaches through a view). */
static inline void device_count_access(struct device *dev, bool is_write)
{
	device_count_id(dev->counter_id, is_write);
}

/*
 * device_get_counters() - accesses dispatched to @dev so far: the sum over
 * every thread's table, threads that exited included.  After finalize
 * (from the finalized notifier) the totals stay readable.
 */
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
