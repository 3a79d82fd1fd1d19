// SPDX-License-Identifier: GPL-2.0-only
/*
 * Lock-based MMIO buses for flatvm-bench's dispatch mode (see baseline.h).
 * Kept out of dispatch.c so the bench loop calls them across a translation
 * unit boundary, exactly as it calls address_space_read().
 */
#include <errno.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>

#include "baseline.h"

/* Unassigned reads return all ones, as flatvm's do. */
static void bus_store(void *buf, unsigned size, uint64_t v)
{
	/* x86 is little endian: the low @size bytes are the value. */
	memcpy(buf, &v, size);
}

/* ---- (a) global mutex, sorted array ------------------------------------ */

int mutex_bus_init(struct mutex_bus *bus, unsigned cap)
{
	memset(bus, 0, sizeof(*bus));
	bus->entries = calloc(cap ? cap : 1, sizeof(*bus->entries));
	if (!bus->entries)
		return -ENOMEM;
	bus->cap = cap;
	pthread_mutex_init(&bus->lock, NULL);
	return 0;
}

void mutex_bus_destroy(struct mutex_bus *bus)
{
	pthread_mutex_destroy(&bus->lock);
	free(bus->entries);
	bus->entries = NULL;
	bus->nr = bus->cap = 0;
}

/* Index of the last entry with base <= @addr, or -1.  Lock held. */
static int mutex_bus_search(const struct mutex_bus *bus, uint64_t addr)
{
	int lo = 0, hi = (int)bus->nr - 1, mid;

	while (lo <= hi) {
		mid = (lo + hi) / 2;
		if (bus->entries[mid].base <= addr)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return hi;
}

int mutex_bus_add(struct mutex_bus *bus, const struct bench_entry *e)
{
	unsigned at;
	int i, ret = 0;

	pthread_mutex_lock(&bus->lock);
	i = mutex_bus_search(bus, e->base);
	at = (unsigned)(i + 1);
	if ((i >= 0 && bus->entries[i].last >= e->base) ||
	    (at < bus->nr && bus->entries[at].base <= e->last)) {
		ret = -EEXIST;
	} else if (bus->nr == bus->cap) {
		ret = -ENOSPC;
	} else {
		memmove(&bus->entries[at + 1], &bus->entries[at],
			(bus->nr - at) * sizeof(*e));
		bus->entries[at] = *e;
		bus->nr++;
	}
	pthread_mutex_unlock(&bus->lock);
	return ret;
}

int mutex_bus_del(struct mutex_bus *bus, uint64_t base)
{
	int i, ret = -ENOENT;

	pthread_mutex_lock(&bus->lock);
	i = mutex_bus_search(bus, base);
	if (i >= 0 && bus->entries[i].base == base) {
		memmove(&bus->entries[i], &bus->entries[i + 1],
			(bus->nr - (unsigned)i - 1) * sizeof(bus->entries[0]));
		bus->nr--;
		ret = 0;
	}
	pthread_mutex_unlock(&bus->lock);
	return ret;
}

int mutex_bus_read(struct mutex_bus *bus, uint64_t addr, void *buf,
		   unsigned size)
{
	const struct bench_entry *e;
	uint64_t v = UINT64_MAX;
	int i, ret = -EFAULT;

	if (!size || size > 8)
		return -EINVAL;
	pthread_mutex_lock(&bus->lock);
	i = mutex_bus_search(bus, addr);
	if (i >= 0) {
		e = &bus->entries[i];
		if (addr <= e->last && size - 1 <= e->last - addr) {
			v = e->ops->read(e->opaque, addr - e->base, size);
			ret = 0;
		}
	}
	pthread_mutex_unlock(&bus->lock);
	bus_store(buf, size, v);
	return ret;
}

/* ---- (b) rwlock, red-black tree ---------------------------------------- */

/* Ranges order by address; overlapping ranges compare equal. */
static int range_cmp(const void *pa, const void *pb)
{
	const struct bench_entry *a = pa, *b = pb;

	if (a->last < b->base)
		return -1;
	if (a->base > b->last)
		return 1;
	return 0;
}

int rw_bus_init(struct rw_bus *bus)
{
	pthread_rwlockattr_t attr;
	int ret;

	memset(bus, 0, sizeof(*bus));
	ret = pthread_rwlockattr_init(&attr);
	if (ret)
		return -ret;
	/* Writers first: readers always holding it would starve churn. */
	pthread_rwlockattr_setkind_np(&attr,
			PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	ret = pthread_rwlock_init(&bus->lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	return -ret;
}

/* The tree only points at entries; they belong to the caller. */
static void entry_keep(void *node)
{
}

void rw_bus_destroy(struct rw_bus *bus)
{
	tdestroy(bus->root, entry_keep);
	bus->root = NULL;
	pthread_rwlock_destroy(&bus->lock);
}

int rw_bus_add(struct rw_bus *bus, struct bench_entry *e)
{
	void **node;
	int ret = 0;

	pthread_rwlock_wrlock(&bus->lock);
	node = tsearch(e, &bus->root, range_cmp);
	if (!node)
		ret = -ENOMEM;
	else if (*node != e)
		ret = -EEXIST;		/* found an overlapping entry */
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

int rw_bus_del(struct rw_bus *bus, struct bench_entry *e)
{
	void **node;
	int ret = -ENOENT;

	pthread_rwlock_wrlock(&bus->lock);
	node = tfind(e, &bus->root, range_cmp);
	if (node && *node == e) {
		tdelete(e, &bus->root, range_cmp);
		ret = 0;
	}
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

int rw_bus_read(struct rw_bus *bus, uint64_t addr, void *buf, unsigned size)
{
	const struct bench_entry key = {
		.base = addr,
		.last = addr + size - 1,
	};
	const struct bench_entry *e;
	uint64_t v = UINT64_MAX;
	void **node;
	int ret = -EFAULT;

	if (!size || size > 8)
		return -EINVAL;
	pthread_rwlock_rdlock(&bus->lock);
	node = tfind(&key, &bus->root, range_cmp);
	if (node) {
		e = *node;
		if (key.base >= e->base && key.last <= e->last) {
			v = e->ops->read(e->opaque, addr - e->base, size);
			ret = 0;
		}
	}
	pthread_rwlock_unlock(&bus->lock);
	bus_store(buf, size, v);
	return ret;
}
