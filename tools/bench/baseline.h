/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The two lock-based MMIO buses flatvm's dispatch is measured against.
 * Both call the same struct memory_region_ops handlers with the same
 * offsets as flatvm does, and both hold their lock across the handler:
 * that is what keeps an entry (and its device) alive without references,
 * and it is the cost flatvm's RCU dispatch removes (DESIGN.md rule 6).
 *
 *  - struct mutex_bus: one global mutex over a sorted array searched by
 *    bisection, taken on every access (kvmtool's scheme).
 *  - struct rw_bus: a rwlock, read-held per access, over glibc's balanced
 *    tree (tsearch/tfind, a red-black tree) keyed by address range.
 */
#ifndef FLATVM_BENCH_BASELINE_H
#define FLATVM_BENCH_BASELINE_H

#include <pthread.h>
#include <stdint.h>

#include "flatvm/memory.h"

/* One device's window: [@base, @last], handled by @ops with @opaque. */
struct bench_entry {
	uint64_t base;
	uint64_t last;			/* inclusive */
	const struct memory_region_ops *ops;
	void *opaque;
};

struct mutex_bus {
	/* Protects @entries and @nr; held across the handler. */
	pthread_mutex_t lock;
	struct bench_entry *entries;	/* sorted by base, non-overlapping */
	unsigned nr;
	unsigned cap;
};

struct rw_bus {
	/* Protects @root; read-held across the handler, write-held to edit. */
	pthread_rwlock_t lock;
	void *root;			/* tsearch tree of entry pointers */
};

/** mutex_bus_init() - an empty bus with room for @cap entries. */
int mutex_bus_init(struct mutex_bus *bus, unsigned cap);
void mutex_bus_destroy(struct mutex_bus *bus);
/** mutex_bus_add() - copy @e in; -EEXIST on overlap, -ENOSPC when full. */
int mutex_bus_add(struct mutex_bus *bus, const struct bench_entry *e);
/** mutex_bus_del() - remove the entry starting at @base; -ENOENT if none. */
int mutex_bus_del(struct mutex_bus *bus, uint64_t base);
/**
 * mutex_bus_read() - read @size (1..8) bytes at @addr, little endian.
 * Return: 0, -EFAULT (and all ones in @buf) if no entry holds them, or
 * -EINVAL for a size outside 1..8.
 */
int mutex_bus_read(struct mutex_bus *bus, uint64_t addr, void *buf,
		   unsigned size);

/*
 * The rwlock bus favours writers, so an insertion is not starved by
 * readers that always hold the lock (glibc's default prefers readers).
 */
int rw_bus_init(struct rw_bus *bus);
/** rw_bus_destroy() - drop the tree; the entries are the caller's. */
void rw_bus_destroy(struct rw_bus *bus);
/**
 * rw_bus_add() - insert @e, which must stay valid until rw_bus_del().
 * Return: 0, -EEXIST on overlap, -ENOMEM.
 */
int rw_bus_add(struct rw_bus *bus, struct bench_entry *e);
int rw_bus_del(struct rw_bus *bus, struct bench_entry *e);
/** rw_bus_read() - as mutex_bus_read(), under the read lock. */
int rw_bus_read(struct rw_bus *bus, uint64_t addr, void *buf, unsigned size);

#endif /* FLATVM_BENCH_BASELINE_H */
