// SPDX-License-Identifier: GPL-2.0-only
/*
 * Flat views: the region tree of an address space rendered into sorted,
 * non-overlapping ranges, published with RCU and diffed for listeners.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "flatvm/device.h"
#include "flatvm/memory.h"
#include "memory-internal.h"
#include "flatview.h"

#define VIEW_ALIGN	OBJECT_ALIGN
#define VIEW_ROUND(n)	(((n) + VIEW_ALIGN - 1) & ~(size_t)(VIEW_ALIGN - 1))

/* All address spaces, protected by the memory lock. */
static CDS_LIST_HEAD(address_spaces);
static uint64_t as_ids_used;		/* bitmap of AS_MAX ids */
static uint64_t next_generation = 1;	/* 0 never names a view */

/* ---- Rendering --------------------------------------------------------- */

/*
 * Rendering has two steps.  render() walks the tree in precedence order
 * (higher priority first, newest first among equals, aliases resolved,
 * clipped to every container on the way) and collects the visible part
 * of each leaf as a piece, numbered in that order: a lower number wins.
 * view_sweep() then sorts the pieces by address and sweeps them with a
 * min-heap on that number, emitting at each point the winning piece.
 * O(n log n), so a machine with a thousand devices re-renders quickly.
 */
struct piece {
	uint64_t start, last;
	uint64_t offset;		/* in @mr of @start */
	struct memory_region *mr;
	unsigned seq;			/* precedence: lower wins */
	bool readonly;
};

struct view_builder {
	struct piece *p;
	unsigned nr, cap;
	struct flat_range *r;		/* the sweep's output */
	unsigned nr_r, cap_r;
	bool oom;
};

static void vb_piece(struct view_builder *vb, struct memory_region *mr,
		     __int128 base, uint64_t s, uint64_t l, bool ro)
{
	struct piece *n;

	if (vb->nr == vb->cap) {
		vb->cap = vb->cap ? vb->cap * 2 : 16;
		n = realloc(vb->p, vb->cap * sizeof(*n));
		if (!n) {
			vb->oom = true;
			return;
		}
		vb->p = n;
	}
	vb->p[vb->nr] = (struct piece){
		.start = s, .last = l, .offset = (uint64_t)(s - base),
		.mr = mr, .seq = vb->nr, .readonly = ro,
	};
	vb->nr++;
}

static void vb_emit(struct view_builder *vb, const struct piece *p,
		    uint64_t s, uint64_t l)
{
	struct flat_range *n;

	if (vb->nr_r == vb->cap_r) {
		/* flat_range is cache-line aligned: no realloc() */
		vb->cap_r = vb->cap_r ? vb->cap_r * 2 : 16;
		n = aligned_alloc(VIEW_ALIGN,
				  VIEW_ROUND(vb->cap_r * sizeof(*n)));
		if (!n) {
			vb->oom = true;
			return;
		}
		if (vb->nr_r)
			memcpy(n, vb->r, vb->nr_r * sizeof(*n));
		free(vb->r);
		vb->r = n;
	}
	memset(&vb->r[vb->nr_r], 0, sizeof(*n));
	vb->r[vb->nr_r].start = s;
	vb->r[vb->nr_r].last = l;
	vb->r[vb->nr_r].offset = p->offset + (s - p->start);
	vb->r[vb->nr_r].mr = p->mr;
	vb->r[vb->nr_r].readonly = p->readonly;
	vb->nr_r++;
}

static int piece_cmp(const void *a, const void *b)
{
	const struct piece *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* A binary min-heap of piece indices, keyed by precedence. */
static void heap_push(unsigned *h, unsigned *n, const struct piece *p,
		      unsigned v)
{
	unsigned i = (*n)++, up;

	while (i && p[h[up = (i - 1) / 2]].seq > p[v].seq) {
		h[i] = h[up];
		i = up;
	}
	h[i] = v;
}

static void heap_pop(unsigned *h, unsigned *n, const struct piece *p)
{
	unsigned v = h[--(*n)], i = 0, c;

	while ((c = 2 * i + 1) < *n) {
		if (c + 1 < *n && p[h[c + 1]].seq < p[h[c]].seq)
			c++;
		if (p[h[c]].seq >= p[v].seq)
			break;
		h[i] = h[c];
		i = c;
	}
	if (*n)
		h[i] = v;
}

static void view_sweep(struct view_builder *vb)
{
	struct piece *p = vb->p;
	unsigned n = vb->nr, i = 0, nh = 0, *heap;
	uint64_t pos = 0, end;
	const struct piece *top;

	if (!n || vb->oom)
		return;
	heap = malloc(n * sizeof(*heap));
	if (!heap) {
		vb->oom = true;
		return;
	}
	qsort(p, n, sizeof(*p), piece_cmp);
	while (!vb->oom) {
		if (!nh) {
			if (i == n)
				break;
			pos = p[i].start;
		}
		while (i < n && p[i].start <= pos)
			heap_push(heap, &nh, p, i++);
		while (nh && p[heap[0]].last < pos)
			heap_pop(heap, &nh, p);	/* ended before pos */
		if (!nh)
			continue;
		top = &p[heap[0]];
		end = top->last;
		/* A piece that starts inside may win from its start on. */
		if (i < n && p[i].start - 1 < end)
			end = p[i].start - 1;
		vb_emit(vb, top, pos, end);
		if (end == UINT64_MAX)
			break;
		pos = end + 1;
	}
	free(heap);
}

static void render(struct view_builder *vb, struct memory_region *mr,
		   __int128 base, __int128 cs, __int128 cl, bool ro)
{
	__int128 rs = base, rl, s, l;
	struct memory_region *sub;

	if (!mr->enabled || !mr->size)
		return;
	rl = base + (__int128)mr->size - 1;
	if (mr->size == UINT64_MAX)
		rl = base + (__int128)UINT64_MAX;	/* the whole space */
	s = rs > cs ? rs : cs;
	l = rl < cl ? rl : cl;
	if (s > l)
		return;
	ro = ro || mr->readonly;

	switch (mr->type) {
	case MR_ALIAS:
		render(vb, mr->alias, base - (__int128)mr->alias_offset, s, l,
		       ro);
		break;
	case MR_CONTAINER:
		cds_list_for_each_entry(sub, &mr->subregions, subregions_link)
			render(vb, sub, base + sub->addr, s, l, ro);
		break;
	case MR_ROM:
		ro = true;
		/* fall through */
	case MR_RAM:
		/* A read-only mapping stays read-only whatever the flags say. */
		ro = ro || mr->ram_prot_ro;
		/* fall through */
	case MR_MMIO:
		vb_piece(vb, mr, base, (uint64_t)s, (uint64_t)l, ro);
		break;
	}
}

static bool fr_can_merge(const struct flat_range *a,
			 const struct flat_range *b)
{
	return a->mr == b->mr && a->readonly == b->readonly &&
	       a->last != UINT64_MAX && a->last + 1 == b->start &&
	       a->offset + (a->last - a->start) + 1 == b->offset;
}

static int ioeventfd_sort_cmp(const void *pa, const void *pb)
{
	const struct mr_ioeventfd *a = pa, *b = pb;

	if (a->offset != b->offset)
		return a->offset < b->offset ? -1 : 1;
	if (a->size != b->size)
		return a->size < b->size ? -1 : 1;
	if (a->match_data != b->match_data)
		return a->match_data < b->match_data ? -1 : 1;
	if (a->data != b->data)
		return a->data < b->data ? -1 : 1;
	return a->fd < b->fd ? -1 : a->fd > b->fd;
}

/* Absolute ioeventfds of every range whose region has some. */
static int view_collect_ioeventfds(struct flat_view *fv)
{
	struct mr_ioeventfd *out = NULL, *n, e;
	unsigned i, j, nr = 0, cap = 0;
	struct flat_range *fr;

	for (i = 0; i < fv->nr; i++) {
		fr = &fv->ranges[i];
		for (j = 0; j < fr->mr->nr_ioeventfds; j++) {
			e = fr->mr->ioeventfds[j];
			if (e.offset < fr->offset ||
			    e.offset - fr->offset > fr->last - fr->start)
				continue;
			e.offset = fr->start + (e.offset - fr->offset);
			if (nr == cap) {
				cap = cap ? cap * 2 : 8;
				n = realloc(out, cap * sizeof(*n));
				if (!n) {
					free(out);
					return -ENOMEM;
				}
				out = n;
			}
			out[nr++] = e;
			fr->eventfds = true;
		}
	}
	if (nr)
		qsort(out, nr, sizeof(*out), ioeventfd_sort_cmp);
	fv->ioeventfds = out;
	fv->nr_ioeventfds = nr;
	return 0;
}

static void view_free(struct flat_view *fv)
{
	unsigned i;

	if (!fv)
		return;
	for (i = 0; i < fv->nr; i++)
		memory_region_unref(fv->ranges[i].mr);	/* rule 4 */
	free(fv->ranges);
	free(fv->starts);
	free(fv->ioeventfds);
	free(fv);
}

static void view_free_rcu(struct rcu_head *head)
{
	rcu_reclaim_begin();
	view_free(container_of(head, struct flat_view, rcu));
	rcu_reclaim_end();
}

/* Copy what the dispatcher needs from the region into the range. */
static void fr_cache_dispatch(struct flat_range *fr)
{
	struct memory_region *mr = fr->mr;
	const struct memory_region_ops *ops = mr->ops;

	fr->type = (uint8_t)mr->type;
	fr->dev = mr->dev;
	/* Fixed until the device finalizes, which this view delays. */
	fr->counter_id = mr->dev ? mr->dev->counter_id : 0;
	if (mr->type == MR_MMIO) {
		fr->ops = ops;
		fr->opaque = mr->opaque;
		fr->min_size = (uint8_t)(ops->min_access_size ?
					 ops->min_access_size : 1);
		fr->max_size = (uint8_t)(ops->max_access_size ?
					 ops->max_access_size : 4);
		fr->unaligned = ops->unaligned;
	} else {
		fr->ram = mr->ram;
	}
}

/* Build the view of @root; NULL if memory ran out.  Memory lock held. */
static struct flat_view *view_build(struct memory_region *root)
{
	struct view_builder vb = { 0 };
	struct flat_view *fv;
	unsigned i, n = 0;

	render(&vb, root, 0, 0, (__int128)UINT64_MAX, false);
	view_sweep(&vb);
	free(vb.p);
	/*
	 * Everything a reader touches sits on cache-line pairs of its own, so
	 * that no writer's allocation shares them (see object_new()).
	 */
	fv = aligned_alloc(VIEW_ALIGN, VIEW_ROUND(sizeof(*fv)));
	if (vb.oom || !fv)
		goto err;
	memset(fv, 0, sizeof(*fv));
	/* Merge neighbours that continue the same region. */
	for (i = 0; i < vb.nr_r; i++) {
		if (n && fr_can_merge(&vb.r[n - 1], &vb.r[i]))
			vb.r[n - 1].last = vb.r[i].last;
		else
			vb.r[n++] = vb.r[i];
	}
	fv->nr = n;
	fv->ranges = vb.r;		/* cache-line aligned by vb_emit */
	vb.r = NULL;
	fv->starts = aligned_alloc(VIEW_ALIGN,
				   VIEW_ROUND((n ? n : 1) * sizeof(*fv->starts)));
	if (!fv->starts || view_collect_ioeventfds(fv))
		goto err_view;
	for (i = 0; i < n; i++) {
		fr_cache_dispatch(&fv->ranges[i]);
		fv->starts[i] = fv->ranges[i].start;
		memory_region_ref(fv->ranges[i].mr);	/* rule 4 */
	}
	fv->generation = next_generation++;
	return fv;

err_view:
	free(fv->ranges);
	free(fv->starts);
	free(fv);
	fv = NULL;
err:
	free(fv);
	free(vb.r);
	return NULL;
}

/* ---- Listeners --------------------------------------------------------- */

static struct memory_region_section fr_section(struct address_space *as,
					       const struct flat_range *fr)
{
	return (struct memory_region_section){
		.as = as,
		.mr = fr->mr,
		.offset_within_region = fr->offset,
		.offset_within_as = fr->start,
		.size = fr->last - fr->start + 1,
		.readonly = fr->readonly,
	};
}

static bool fr_equal(const struct flat_range *a, const struct flat_range *b)
{
	return a->start == b->start && a->last == b->last && a->mr == b->mr &&
	       a->offset == b->offset && a->readonly == b->readonly;
}

static const struct flat_range *view_range(const struct flat_view *fv,
					   unsigned i)
{
	return fv && i < fv->nr ? &fv->ranges[i] : NULL;
}

/* One pass over old and new in address order: deletions or additions. */
/* Listeners of @as to tell: all of them, or @only. */
#define for_each_listener(l, as, only)					\
	cds_list_for_each_entry(l, &(as)->listeners, link)		\
		if (!(only) || (l) == (only))

static void topology_pass(struct address_space *as,
			  const struct flat_view *old,
			  const struct flat_view *new, bool adding,
			  struct memory_listener *only)
{
	const struct flat_range *o, *n;
	struct memory_region_section sec;
	struct memory_listener *l;
	unsigned io = 0, in = 0;

	for (;;) {
		o = view_range(old, io);
		n = view_range(new, in);
		if (!o && !n)
			break;
		if (o && (!n || o->start < n->start ||
			  (o->start == n->start && !fr_equal(o, n)))) {
			if (!adding) {
				sec = fr_section(as, o);
				for_each_listener(l, as, only)
					if (l->region_del)
						l->region_del(l, &sec);
			}
			io++;
		} else if (o && fr_equal(o, n)) {
			io++;
			in++;
		} else {
			if (adding) {
				sec = fr_section(as, n);
				for_each_listener(l, as, only)
					if (l->region_add)
						l->region_add(l, &sec);
			}
			in++;
		}
	}
}

static struct memory_region_section ioeventfd_section(struct address_space *as,
						      const struct mr_ioeventfd *e)
{
	return (struct memory_region_section){
		.as = as,
		.offset_within_as = e->offset,
		.size = e->size,
	};
}

static void eventfd_call(struct address_space *as,
			 const struct mr_ioeventfd *e, bool add,
			 struct memory_listener *only)
{
	struct memory_region_section sec = ioeventfd_section(as, e);
	struct memory_listener *l;

	for_each_listener(l, as, only) {
		if (add && l->eventfd_add)
			l->eventfd_add(l, &sec, e->match_data, e->data, e->fd);
		if (!add && l->eventfd_del)
			l->eventfd_del(l, &sec, e->match_data, e->data, e->fd);
	}
}

static void eventfd_pass(struct address_space *as,
			 const struct flat_view *old,
			 const struct flat_view *new, bool adding,
			 struct memory_listener *only)
{
	unsigned no = old ? old->nr_ioeventfds : 0;
	unsigned nn = new ? new->nr_ioeventfds : 0;
	unsigned io = 0, in = 0;
	int c;

	while (io < no || in < nn) {
		if (io == no)
			c = 1;
		else if (in == nn)
			c = -1;
		else
			c = ioeventfd_sort_cmp(&old->ioeventfds[io],
					       &new->ioeventfds[in]);
		if (c < 0) {
			if (!adding)
				eventfd_call(as, &old->ioeventfds[io], false,
					     only);
			io++;
		} else if (c > 0) {
			if (adding)
				eventfd_call(as, &new->ioeventfds[in], true,
					     only);
			in++;
		} else {
			io++;
			in++;
		}
	}
}

static void listeners_call(struct address_space *as, bool begin,
			   struct memory_listener *only)
{
	struct memory_listener *l;

	for_each_listener(l, as, only) {
		if (begin && l->begin)
			l->begin(l);
		if (!begin && l->commit)
			l->commit(l);
	}
}

static void announce(struct address_space *as, const struct flat_view *old,
		     const struct flat_view *new, struct memory_listener *only)
{
	if (cds_list_empty(&as->listeners))
		return;
	listeners_call(as, true, only);
	topology_pass(as, old, new, false, only);
	eventfd_pass(as, old, new, false, only);
	topology_pass(as, old, new, true, only);
	eventfd_pass(as, old, new, true, only);
	listeners_call(as, false, only);
}

/* ---- Publication ------------------------------------------------------- */

static void as_update(struct address_space *as)
{
	struct flat_view *old = as->current, *new;

	new = view_build(as->root);
	if (!new) {
		pr_err("out of memory rendering address space %s; keeping its previous view",
		       as->name);
		return;
	}
	rcu_store(as->current, new);
	announce(as, old, new, NULL);
	if (old)
		rcu_call(&old->rcu, view_free_rcu);
}

void flatview_update_all(void)
{
	struct address_space *as;

	cds_list_for_each_entry(as, &address_spaces, link)
		as_update(as);
}

int address_space_init(struct address_space *as, struct memory_region *root,
		       const char *name, struct error *err)
{
	unsigned id;

	memset(as, 0, sizeof(*as));
	if (!root || !name)
		return error_setf(err, EINVAL,
				  "an address space needs a root region and a name");
	memory_region_transaction_begin();
	for (id = 0; id < AS_MAX; id++)
		if (!(as_ids_used & (1ull << id)))
			break;
	if (id == AS_MAX) {
		memory_region_transaction_commit();
		return error_setf(err, ENOSPC,
				  "too many address spaces (at most %d)",
				  AS_MAX);
	}
	as->name = strdup(name);
	if (!as->name) {
		memory_region_transaction_commit();
		return error_setf(err, ENOMEM, "out of memory");
	}
	as_ids_used |= 1ull << id;
	as->id = id;
	dispatch_stats_reset(id);
	as->root = root;
	memory_region_ref(root);
	CDS_INIT_LIST_HEAD(&as->listeners);
	cds_list_add_tail(&as->link, &address_spaces);
	as_update(as);
	memory_region_transaction_commit();
	return 0;
}

void address_space_destroy(struct address_space *as)
{
	struct memory_listener *l, *tmp;
	struct flat_view *old;

	memory_region_transaction_begin();
	old = as->current;
	/* Listeners still registered see everything go away. */
	announce(as, old, NULL, NULL);
	cds_list_for_each_entry_safe(l, tmp, &as->listeners, link) {
		cds_list_del_init(&l->link);
		l->as = NULL;	/* a later unregister is a no-op */
	}
	rcu_store(as->current, NULL);
	cds_list_del(&as->link);
	as_ids_used &= ~(1ull << as->id);
	if (old)
		rcu_call(&old->rcu, view_free_rcu);
	memory_region_transaction_commit();
	memory_region_unref(as->root);
	free(as->name);
	as->name = NULL;
	as->root = NULL;
}

void memory_listener_register(struct memory_listener *l,
			      struct address_space *as)
{
	memory_region_transaction_begin();
	l->as = as;
	cds_list_add_tail(&l->link, &as->listeners);
	announce(as, NULL, as->current, l);	/* replay to @l alone */
	memory_region_transaction_commit();
}

void memory_listener_unregister(struct memory_listener *l)
{
	struct address_space *as = l->as;

	if (!as)
		return;
	memory_region_transaction_begin();
	announce(as, as->current, NULL, l);
	cds_list_del_init(&l->link);
	l->as = NULL;
	memory_region_transaction_commit();
}

/* ---- Dumps ------------------------------------------------------------- */

/* @start: where @mr sits in the address space being dumped. */
static void dump_region(FILE *out, struct memory_region *mr, uint64_t start,
			unsigned depth)
{
	uint64_t last = mr->size == UINT64_MAX ? UINT64_MAX :
			start + mr->size - 1;
	struct memory_region *sub;

	if (!mr->size)
		last = start;
	fprintf(out, "%*s%016" PRIx64 "-%016" PRIx64 " (prio %d, %s%s%s): %s",
		(int)(depth * 2), "", start, last, mr->priority,
		memory_region_type_name(mr->type),
		mr->readonly ? ", readonly" : "",
		mr->enabled ? "" : ", disabled",
		memory_region_name(mr));
	if (mr->type == MR_ALIAS)
		fprintf(out, " @%s %016" PRIx64 "-%016" PRIx64,
			memory_region_name(mr->alias), mr->alias_offset,
			mr->size == UINT64_MAX ? UINT64_MAX :
			mr->alias_offset + mr->size - 1);
	if (!mr->size)
		fprintf(out, " [empty]");
	fputc('\n', out);
	cds_list_for_each_entry(sub, &mr->subregions, subregions_link)
		dump_region(out, sub, start + sub->addr, depth + 1);
}

void address_space_dump_tree(struct address_space *as, FILE *out)
{
	memory_lock();
	fprintf(out, "address-space: %s\n", as->name);
	dump_region(out, as->root, 0, 1);
	memory_unlock();
}

void address_space_dump_flat(struct address_space *as, FILE *out)
{
	const struct flat_view *fv;
	const struct flat_range *fr;
	unsigned i;

	memory_lock();
	fv = as->current;
	fprintf(out, "address-space (flat view): %s\n", as->name);
	if (!fv || !fv->nr)
		fprintf(out, "  (no ranges)\n");
	for (i = 0; fv && i < fv->nr; i++) {
		fr = &fv->ranges[i];
		fprintf(out, "  %016" PRIx64 "-%016" PRIx64 " (%s%s): %s",
			fr->start, fr->last,
			memory_region_type_name(fr->mr->type),
			fr->readonly && fr->mr->type != MR_ROM ?
				", readonly" : "",
			memory_region_name(fr->mr));
		if (fr->offset)
			fprintf(out, " @%016" PRIx64, fr->offset);
		fputc('\n', out);
	}
	for (i = 0; fv && i < fv->nr_ioeventfds; i++) {
		const struct mr_ioeventfd *e = &fv->ioeventfds[i];

		fprintf(out, "  ioeventfd %016" PRIx64 " size %u", e->offset,
			e->size);
		if (e->match_data)
			fprintf(out, " data %#" PRIx64, e->data);
		fputc('\n', out);
	}
	memory_unlock();
}

char *memory_mtree_dump(bool flat)
{
	struct address_space *as;
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	out = open_memstream(&buf, &len);
	if (!out)
		return NULL;
	memory_lock();
	cds_list_for_each_entry(as, &address_spaces, link) {
		if (flat)
			address_space_dump_flat(as, out);
		else
			address_space_dump_tree(as, out);
	}
	memory_unlock();
	fclose(out);
	return buf;
}
