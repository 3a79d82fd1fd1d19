// SPDX-License-Identifier: GPL-2.0-only
/*
 * The dispatch fast path and DMA mappings (rule 6: no lock, no reference,
 * no shared cache line written).  Callers are registered QSBR readers,
 * online for the duration of each call.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flatvm/device.h"
#include "flatvm/memory.h"
#include "memory-internal.h"

/* ---- Per-thread statistics --------------------------------------------- */

enum { ST_UNASSIGNED_READ, ST_UNASSIGNED_WRITE, ST_REJECTED,
       ST_READONLY_WRITE, ST_EVENTFD_WRITE, ST_NR };

/* Written only by their thread; summed by readers of the statistics. */
struct thread_stats {
	struct cds_list_head link;
	uint64_t c[AS_MAX][ST_NR];
};

static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static CDS_LIST_HEAD(stats_threads);		/* protected by stats_lock */
static uint64_t stats_exited[AS_MAX][ST_NR];	/* protected by stats_lock */
static pthread_key_t stats_key;
static pthread_once_t stats_once = PTHREAD_ONCE_INIT;
static __thread struct thread_stats *my_stats;

static void stats_thread_exit(void *p)
{
	struct thread_stats *t = p;
	unsigned i, j;

	pthread_mutex_lock(&stats_lock);
	for (i = 0; i < AS_MAX; i++)
		for (j = 0; j < ST_NR; j++)
			stats_exited[i][j] += READ_ONCE(t->c[i][j]);
	cds_list_del(&t->link);
	pthread_mutex_unlock(&stats_lock);
	free(t);
}

static void stats_key_create(void)
{
	pthread_key_create(&stats_key, stats_thread_exit);
}

static struct thread_stats *stats_thread_init(void)
{
	struct thread_stats *t;

	pthread_once(&stats_once, stats_key_create);
	/* Its own cache lines: no other thread writes next to it. */
	t = aligned_alloc(64, (sizeof(*t) + 63) & ~(size_t)63);
	if (!t)
		return NULL;
	memset(t, 0, sizeof(*t));
	pthread_mutex_lock(&stats_lock);
	cds_list_add(&t->link, &stats_threads);
	pthread_mutex_unlock(&stats_lock);
	pthread_setspecific(stats_key, t);
	my_stats = t;
	return t;
}

static void stat_inc(unsigned as_id, unsigned which)
{
	struct thread_stats *t = my_stats;

	if (unlikely(!t)) {
		t = stats_thread_init();
		if (!t)
			return;
	}
	WRITE_ONCE(t->c[as_id][which], READ_ONCE(t->c[as_id][which]) + 1);
}

void dispatch_stats_reset(unsigned as_id)
{
	struct thread_stats *t;
	unsigned j;

	pthread_mutex_lock(&stats_lock);
	for (j = 0; j < ST_NR; j++)
		stats_exited[as_id][j] = 0;
	cds_list_for_each_entry(t, &stats_threads, link)
		for (j = 0; j < ST_NR; j++)
			WRITE_ONCE(t->c[as_id][j], 0);
	pthread_mutex_unlock(&stats_lock);
}

void address_space_get_stats(struct address_space *as,
			     struct address_space_stats *st)
{
	uint64_t sum[ST_NR];
	struct thread_stats *t;
	unsigned j;

	pthread_mutex_lock(&stats_lock);
	for (j = 0; j < ST_NR; j++)
		sum[j] = stats_exited[as->id][j];
	cds_list_for_each_entry(t, &stats_threads, link)
		for (j = 0; j < ST_NR; j++)
			sum[j] += READ_ONCE(t->c[as->id][j]);
	pthread_mutex_unlock(&stats_lock);
	st->unassigned_reads = sum[ST_UNASSIGNED_READ];
	st->unassigned_writes = sum[ST_UNASSIGNED_WRITE];
	st->rejected = sum[ST_REJECTED];
	st->readonly_writes = sum[ST_READONLY_WRITE];
	st->eventfd_writes = sum[ST_EVENTFD_WRITE];
}

/* ---- Lookup ------------------------------------------------------------ */

/* Most recent hit of this thread, valid for one view generation. */
static __thread struct {
	uint64_t generation;
	unsigned idx;
} lookup_cache;

/*
 * Index of the last range starting at or before @addr, or -1.  Branchless
 * (the compiler emits cmov): guest addresses are not predictable.
 */
static inline int view_search(const struct flat_view *fv, uint64_t addr)
{
	const uint64_t *base = fv->starts;
	unsigned n = fv->nr, half;

	if (unlikely(!n))
		return -1;
	while (n > 1) {
		half = n / 2;
		base = base[half] <= addr ? base + half : base;
		n -= half;
	}
	return *base <= addr ? (int)(base - fv->starts) : -1;
}

static inline const struct flat_range *view_lookup(const struct flat_view *fv,
						   uint64_t addr)
{
	const struct flat_range *fr;
	int i;

	if (likely(lookup_cache.generation == fv->generation)) {
		fr = &fv->ranges[lookup_cache.idx];
		if (likely(addr >= fr->start && addr <= fr->last))
			return fr;
	}
	i = view_search(fv, addr);
	if (i < 0 || addr > fv->ranges[i].last)
		return NULL;
	lookup_cache.generation = fv->generation;
	lookup_cache.idx = (unsigned)i;
	return &fv->ranges[i];
}

/* Bytes from @addr up to the next mapped range (or @len). */
static uint64_t unassigned_span(const struct flat_view *fv, uint64_t addr,
				uint64_t len)
{
	unsigned next;

	if (!fv)
		return len;
	next = (unsigned)(view_search(fv, addr) + 1);
	if (next < fv->nr && fv->ranges[next].start - addr < len)
		return fv->ranges[next].start - addr;
	return len;
}

/* ---- Little-endian helpers --------------------------------------------- */

static inline uint64_t ldn_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	switch (n) {
	case 1: return *p;
	case 2: { uint16_t x; memcpy(&x, p, 2); return x; }
	case 4: { uint32_t x; memcpy(&x, p, 4); return x; }
	case 8: memcpy(&v, p, 8); return v;
	}
#endif
	while (n--)
		v = (v << 8) | p[n];
	return v;
}

static inline void stn_le(uint8_t *p, unsigned n, uint64_t v)
{
	unsigned i;

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	switch (n) {
	case 1: *p = (uint8_t)v; return;
	case 2: { uint16_t x = (uint16_t)v; memcpy(p, &x, 2); return; }
	case 4: { uint32_t x = (uint32_t)v; memcpy(p, &x, 4); return; }
	case 8: memcpy(p, &v, 8); return;
	}
#endif
	for (i = 0; i < n; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

/* ---- MMIO -------------------------------------------------------------- */

static bool eventfd_hit(struct address_space *as, const struct flat_view *fv,
			uint64_t addr, const uint8_t *buf, uint64_t len)
{
	const struct mr_ioeventfd *e;
	uint64_t one = 1, val;
	unsigned i;

	if (len > 8 || (len & (len - 1)))
		return false;
	val = ldn_le(buf, (unsigned)len);
	for (i = 0; i < fv->nr_ioeventfds; i++) {
		e = &fv->ioeventfds[i];
		if (e->offset != addr || (e->size && e->size != len) ||
		    (e->match_data && e->data != val))
			continue;
		if (write(e->fd, &one, sizeof(one)) < 0)
			pr_warn_once("ioeventfd write failed: %d", errno);
		stat_inc(as->id, ST_EVENTFD_WRITE);
		return true;
	}
	return false;
}

/*
 * One piece narrower than the device's minimum, or misaligned for it:
 * widen to an aligned access of @min bytes.  Writes read the register
 * first so the bytes outside the guest's access keep their value.
 */
static void mmio_widened(const struct memory_region_ops *ops, void *opaque,
			 uint64_t off, uint8_t *buf, unsigned n, unsigned min,
			 bool is_write)
{
	uint64_t base = off & ~(uint64_t)(min - 1);
	unsigned shift = (unsigned)(off - base);
	uint8_t tmp[8];

	stn_le(tmp, min, ops->read(opaque, base, min));
	if (is_write) {
		memcpy(tmp + shift, buf, n);
		ops->write(opaque, base, ldn_le(tmp, min), min);
	} else {
		memcpy(buf, tmp + shift, n);
	}
}

static void mmio_access(const struct memory_region_ops *ops, void *opaque,
			uint64_t off, uint8_t *buf, uint64_t len, bool is_write)
{
	unsigned min = ops->min_access_size ? ops->min_access_size : 1;
	unsigned max = ops->max_access_size ? ops->max_access_size : 4;
	unsigned size;

	while (len) {
		size = max;
		while (size > len)
			size >>= 1;
		if (!ops->unaligned)
			while (off & (size - 1))
				size >>= 1;
		if (size < min) {
			size = min - (unsigned)(off & (min - 1));
			if (size > len)
				size = (unsigned)len;
			mmio_widened(ops, opaque, off, buf, size, min,
				     is_write);
		} else if (is_write) {
			ops->write(opaque, off, ldn_le(buf, size), size);
		} else {
			stn_le(buf, size, ops->read(opaque, off, size));
		}
		off += size;
		buf += size;
		len -= size;
	}
}

/* ---- Read and write ---------------------------------------------------- */

/* One naturally sized access the device accepts without splitting. */
static inline bool mmio_direct(const struct flat_range *fr, uint64_t off,
			       uint64_t len)
{
	return len <= 8 && !(len & (len - 1)) && len >= fr->min_size &&
	       len <= fr->max_size && (fr->unaligned || !(off & (len - 1)));
}

static int as_access(struct address_space *as, uint64_t addr, uint8_t *buf,
		     uint64_t len, bool is_write)
{
	const struct flat_view *fv = rcu_load(as->current);
	const struct flat_range *fr;
	uint64_t chunk, off;
	int ret = 0;

	while (len) {
		fr = fv ? view_lookup(fv, addr) : NULL;
		if (unlikely(!fr)) {
			chunk = unassigned_span(fv, addr, len);
			goto unassigned;
		}
		chunk = len - 1 <= fr->last - addr ? len : fr->last - addr + 1;
		off = fr->offset + (addr - fr->start);
		/* An ioeventfd wins, as it does in KVM, before anything else. */
		if (unlikely(is_write && fr->eventfds &&
			     eventfd_hit(as, fv, addr, buf, chunk)))
			goto next;
		if (unlikely(is_write && fr->readonly)) {
			stat_inc(as->id, ST_READONLY_WRITE);
		} else if (fr->type == MR_MMIO) {
			if (fr->dev) {
				if (unlikely(!device_accepting(fr->dev))) {
					stat_inc(as->id, ST_REJECTED);
					goto unassigned;
				}
				/* The view holds the device: its number is
				 * not reused while we count to it. */
				device_count_id(fr->counter_id, is_write);
			}
			/* The common case: one access the device takes as is. */
			if (likely(mmio_direct(fr, off, chunk))) {
				if (is_write)
					fr->ops->write(fr->opaque, off,
						       ldn_le(buf, (unsigned)chunk),
						       (unsigned)chunk);
				else
					stn_le(buf, (unsigned)chunk,
					       fr->ops->read(fr->opaque, off,
							     (unsigned)chunk));
			} else {
				mmio_access(fr->ops, fr->opaque, off, buf,
					    chunk, is_write);
			}
		} else if (!is_write) {
			memcpy(buf, fr->ram + off, chunk);
		} else {
			memcpy(fr->ram + off, buf, chunk);
		}
		goto next;
unassigned:
		ret = -EFAULT;
		if (is_write) {
			stat_inc(as->id, ST_UNASSIGNED_WRITE);
		} else {
			stat_inc(as->id, ST_UNASSIGNED_READ);
			memset(buf, 0xff, chunk);
		}
next:
		addr += chunk;
		buf += chunk;
		len -= chunk;
	}
	return ret;
}

int address_space_read(struct address_space *as, uint64_t addr, void *buf,
		       uint64_t len)
{
	return as_access(as, addr, buf, len, false);
}

int address_space_write(struct address_space *as, uint64_t addr,
			const void *buf, uint64_t len)
{
	/* Writes never modify @buf: mmio_access only reads it. */
	return as_access(as, addr, (uint8_t *)buf, len, true);
}

/* ---- DMA --------------------------------------------------------------- */

int address_space_map(struct address_space *as, uint64_t addr, uint64_t len,
		      bool is_write, struct dma_map *map)
{
	const struct flat_view *fv = rcu_load(as->current);
	const struct flat_range *fr;
	struct memory_region *mr;
	uint64_t mlen;

	memset(map, 0, sizeof(*map));
	if (!len)
		return -EINVAL;
	fr = fv ? view_lookup(fv, addr) : NULL;
	if (!fr)
		return -EFAULT;
	mr = fr->mr;
	if (mr->dev && !device_accepting(mr->dev))
		return -EFAULT;
	if (is_write && fr->readonly)
		return -EACCES;
	mlen = len - 1 <= fr->last - addr ? len : fr->last - addr + 1;
	/* Rule 1: found through RCU, so get-unless-zero. */
	if (!object_tryref(mr_owner_obj(mr)))
		return -EFAULT;
	map->mr = mr;		/* rule 4: held until unmap */
	map->as = as;
	map->addr = addr;
	map->is_write = is_write;
	if (mr->type != MR_MMIO) {
		map->host = fr->ram + fr->offset + (addr - fr->start);
		map->len = mlen;
		return 0;
	}
	if (mlen > DMA_BOUNCE_MAX)
		mlen = DMA_BOUNCE_MAX;
	map->bounce = malloc(mlen);
	if (!map->bounce) {
		memory_region_unref(mr);
		memset(map, 0, sizeof(*map));
		return -ENOMEM;
	}
	/* The bytes go to and from the region mapped, whatever the view
	 * shows at that address by the time of unmap. */
	map->offset = fr->offset + (addr - fr->start);
	if (is_write)
		memset(map->bounce, 0, mlen);
	else
		mmio_access(mr->ops, mr->opaque, map->offset, map->bounce,
			    mlen, false);
	map->host = map->bounce;
	map->len = mlen;
	return 0;
}

void address_space_unmap(struct dma_map *map, uint64_t access_len)
{
	struct memory_region *mr = map->mr;

	if (!mr)
		return;
	if (map->bounce) {
		if (map->is_write && access_len) {
			if (!mr->dev || device_accepting(mr->dev))
				mmio_access(mr->ops, mr->opaque, map->offset,
					    map->bounce,
					    access_len < map->len ?
					    access_len : map->len, true);
			else
				stat_inc(map->as->id, ST_REJECTED);
		}
		free(map->bounce);
	}
	memset(map, 0, sizeof(*map));
	memory_region_unref(mr);	/* may finalize the owner, here */
}
