/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Memory regions, transactions, flat views, address spaces, dispatch and
 * DMA mappings.  See Documentation/memory-model.md.
 *
 * Regions form a tree.  Each address space has a root region; every
 * outermost transaction commit renders each address space into a flat
 * view (sorted, non-overlapping ranges), publishes it with RCU, tells the
 * listeners what changed and frees the old view after a grace period.
 *
 * Lifetime (DESIGN.md):
 *  rule 3: a reference to a region is a reference to its owner; a
 *          container counts its subregion's owner only when the owners
 *          differ (an alias likewise counts its target's owner).
 *  rule 4: a flat view holds the owner of every region it maps, and a DMA
 *          mapping holds its region's owner until address_space_unmap().
 *  rule 6: dispatch takes no lock and no reference; callers are registered
 *          QSBR readers, online for the duration of the call.
 *
 * Locking: the region tree and every address space's writer side are
 * protected by one recursive mutex taken by memory_region_transaction_
 * begin() and released by the matching commit.  Every mutator below takes
 * it itself; listeners are called with it held.
 */
#ifndef FLATVM_MEMORY_H
#define FLATVM_MEMORY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <urcu/list.h>

#include "flatvm/object.h"
#include "flatvm/rcu.h"

struct device;
struct flat_view;

enum memory_region_type {
	MR_CONTAINER,
	MR_RAM,
	MR_ROM,
	MR_MMIO,
	MR_ALIAS,
};

/**
 * struct memory_region_ops - an MMIO region's handlers.
 * @read/@write: @addr is the offset in the region, @size one of 1/2/4/8
 *	within [@min_access_size, @max_access_size]; values little endian.
 * @min_access_size: smallest access the device accepts (default 1).
 *	Narrower guest accesses are widened (reads extract, writes
 *	read-modify-write).
 * @max_access_size: largest (default 4); wider ones are split.
 * @unaligned: the device accepts accesses not aligned to their size;
 *	otherwise the core splits them into aligned pieces.
 */
struct memory_region_ops {
	uint64_t (*read)(void *opaque, uint64_t addr, unsigned size);
	void (*write)(void *opaque, uint64_t addr, uint64_t val,
		      unsigned size);
	unsigned min_access_size;
	unsigned max_access_size;
	bool unaligned;
};

struct mr_ioeventfd {
	uint64_t offset;	/* in the region; absolute in a flat view */
	unsigned size;		/* 0 = any size */
	bool match_data;
	uint64_t data;
	int fd;
};

struct memory_region {
	struct object obj;
	struct object *owner;		/* NULL: the region owns itself */
	struct device *dev;		/* owner as a device, checked by dispatch */
	enum memory_region_type type;
	uint64_t size;			/* UINT64_MAX: the whole 64-bit space */
	/* Placement, protected by the memory lock. */
	struct memory_region *container;
	uint64_t addr;			/* offset in @container */
	int priority;
	bool may_overlap;
	bool enabled;
	bool readonly;
	struct cds_list_head subregions;	/* highest priority first */
	struct cds_list_head subregions_link;
	/* MMIO */
	const struct memory_region_ops *ops;
	void *opaque;
	/* RAM and ROM */
	uint8_t *ram;
	bool ram_prot_ro;		/* mapped without PROT_WRITE */
	bool ram_file;			/* backed by a user's file, not memfd */
	uint64_t ram_max;		/* reserved mapping length */
	int ram_fd;
	uint64_t ram_fd_offset;
	/* Alias */
	struct memory_region *alias;
	uint64_t alias_offset;
	/* ioeventfds, sorted; protected by the memory lock. */
	struct mr_ioeventfd *ioeventfds;
	unsigned nr_ioeventfds;
};

extern const struct object_class memory_region_class;

static inline struct memory_region *to_memory_region(struct object *obj)
{
	return container_of(obj, struct memory_region, obj);
}

/*
 * Constructors.  The init_* forms initialize a region embedded in its
 * owner's struct (it becomes the owner's child @name; with @owner NULL it
 * is a standalone region whose memory the caller manages, finalized when
 * its own count drops).  The new_* forms allocate the region; with an
 * owner the returned pointer is the owner's (a heap child), without one
 * the caller holds the only reference (memory_region_unref()).
 */
int memory_region_init(struct memory_region *mr, struct object *owner,
		       const char *name, uint64_t size, struct error *err);
int memory_region_init_ram(struct memory_region *mr, struct object *owner,
			   const char *name, uint64_t size, struct error *err);
int memory_region_init_ram_resizeable(struct memory_region *mr,
				      struct object *owner, const char *name,
				      uint64_t size, uint64_t max_size,
				      struct error *err);
int memory_region_init_ram_from_file(struct memory_region *mr,
				     struct object *owner, const char *name,
				     uint64_t size, const char *path,
				     bool readonly, struct error *err);
int memory_region_init_rom(struct memory_region *mr, struct object *owner,
			   const char *name, uint64_t size, struct error *err);
int memory_region_init_io(struct memory_region *mr, struct object *owner,
			  const struct memory_region_ops *ops, void *opaque,
			  const char *name, uint64_t size, struct error *err);
int memory_region_init_alias(struct memory_region *mr, struct object *owner,
			     const char *name, struct memory_region *target,
			     uint64_t offset, uint64_t size,
			     struct error *err);

struct memory_region *memory_region_new(struct object *owner,
					const char *name, uint64_t size,
					struct error *err);
struct memory_region *memory_region_new_ram(struct object *owner,
					    const char *name, uint64_t size,
					    struct error *err);
struct memory_region *memory_region_new_rom(struct object *owner,
					    const char *name, uint64_t size,
					    struct error *err);
struct memory_region *memory_region_new_io(struct object *owner,
					   const struct memory_region_ops *ops,
					   void *opaque, const char *name,
					   uint64_t size, struct error *err);
struct memory_region *memory_region_new_alias(struct object *owner,
					      const char *name,
					      struct memory_region *target,
					      uint64_t offset, uint64_t size,
					      struct error *err);

/* Rule 3: these count the owner (or the region itself if ownerless). */
void memory_region_ref(struct memory_region *mr);
void memory_region_unref(struct memory_region *mr);

/**
 * memory_region_add_subregion() - map @mr at @offset in @container.
 *
 * Refused with an error: @mr already in a container, @mr not fitting in
 * @container, a cycle (through containment or aliases), or an overlap
 * with a sibling of the same priority unless one of the two was added
 * with the _overlap form.
 */
int memory_region_add_subregion(struct memory_region *container,
				uint64_t offset, struct memory_region *mr,
				struct error *err);
int memory_region_add_subregion_prio(struct memory_region *container,
				     uint64_t offset,
				     struct memory_region *mr, int priority,
				     struct error *err);
int memory_region_add_subregion_overlap(struct memory_region *container,
					uint64_t offset,
					struct memory_region *mr,
					int priority, struct error *err);
int memory_region_del_subregion(struct memory_region *container,
				struct memory_region *mr, struct error *err);

void memory_region_set_enabled(struct memory_region *mr, bool enabled);
void memory_region_set_readonly(struct memory_region *mr, bool readonly);
int memory_region_set_address(struct memory_region *mr, uint64_t addr,
			      struct error *err);
int memory_region_set_alias_offset(struct memory_region *mr,
				   uint64_t offset, struct error *err);
/** memory_region_ram_resize() - grow or shrink within the reserved max. */
int memory_region_ram_resize(struct memory_region *mr, uint64_t size,
			     struct error *err);

/* Host pointer to a RAM/ROM region's first byte (stable for its life). */
void *memory_region_get_ram_ptr(struct memory_region *mr);
int memory_region_get_fd(struct memory_region *mr);
const char *memory_region_name(const struct memory_region *mr);
const char *memory_region_type_name(enum memory_region_type type);

/**
 * memory_region_add_eventfd() - writes of @size bytes (0: any) at
 * @offset, with @data if @match_data, signal @fd instead of dispatching.
 * Listeners (KVM) turn these into ioeventfds; the dispatcher itself also
 * honours them, so the behaviour is the same without KVM.
 */
int memory_region_add_eventfd(struct memory_region *mr, uint64_t offset,
			      unsigned size, bool match_data, uint64_t data,
			      int fd, struct error *err);
int memory_region_del_eventfd(struct memory_region *mr, uint64_t offset,
			      unsigned size, bool match_data, uint64_t data,
			      int fd, struct error *err);

void memory_region_transaction_begin(void);
void memory_region_transaction_commit(void);

/* Address spaces */

struct address_space {
	char *name;
	struct memory_region *root;
	struct flat_view *current;	/* __rcu */
	unsigned id;			/* index of per-thread statistics */
	struct cds_list_head link;	/* all address spaces */
	struct cds_list_head listeners;
};

/*
 * Published flat view: read under RCU (rule 6), immutable once built.
 * A range is one cache line: besides its region it carries copies of
 * what dispatch needs, so an access touches the range, the ops table
 * (shared by all devices of a type) and the device's accepting flag.
 */
struct flat_range {
	uint64_t start;
	uint64_t last;			/* inclusive */
	uint64_t offset;		/* in @mr of @start */
	struct memory_region *mr;	/* a leaf: RAM, ROM or MMIO */
	union {
		uint8_t *ram;		/* RAM/ROM: mr->ram */
		void *opaque;		/* MMIO: mr->opaque */
	};
	const struct memory_region_ops *ops;	/* MMIO: mr->ops */
	struct device *dev;		/* mr->dev */
	uint8_t type;			/* enum memory_region_type */
	uint8_t min_size, max_size;	/* MMIO access sizes, defaults applied */
	bool unaligned;
	bool readonly;
	bool eventfds;			/* some ioeventfd lies in this range */
	uint16_t counter_id;		/* dev->counter_id, if @dev */
} __attribute__((aligned(64)));

_Static_assert(sizeof(struct flat_range) == 64, "one range, one cache line");

struct flat_view {
	uint64_t generation;		/* unique over all views */
	unsigned nr;
	struct flat_range *ranges;	/* sorted by start */
	uint64_t *starts;		/* lookup index: ranges[i].start */
	unsigned nr_ioeventfds;
	struct mr_ioeventfd *ioeventfds;	/* absolute addresses */
	struct rcu_head rcu;
};

int address_space_init(struct address_space *as, struct memory_region *root,
		       const char *name, struct error *err);
void address_space_destroy(struct address_space *as);

/*
 * Dispatch.  Any length and alignment; split across ranges and to each
 * region's access sizes, little endian.  Unassigned reads return all ones
 * and unassigned writes are dropped; both are counted, as are accesses to
 * a device that stopped accepting (counted as unassigned) and writes to
 * read-only memory (dropped).
 * Return: 0, or -EFAULT if any byte was unassigned.
 */
int address_space_read(struct address_space *as, uint64_t addr, void *buf,
		       uint64_t len);
int address_space_write(struct address_space *as, uint64_t addr,
			const void *buf, uint64_t len);

struct address_space_stats {
	uint64_t unassigned_reads;
	uint64_t unassigned_writes;
	uint64_t rejected;		/* device had stopped accepting */
	uint64_t readonly_writes;
	uint64_t eventfd_writes;
};

/* Sum of every thread's counters for @as (threads that exited included). */
void address_space_get_stats(struct address_space *as,
			     struct address_space_stats *st);

/**
 * struct dma_map - one DMA mapping (address_space_map()).
 * @host: where the device reads or writes.
 * @len: how much was mapped: at most what was asked, shorter at the end
 *	of a region.
 * @mr: the region, its owner held until unmap (rule 4).
 * @bounce: non-NULL when the target is MMIO: @host points at this buffer
 *	and the bytes go to the mapped region's handlers at map (reads) or
 *	unmap (writes), even if the view has changed since; a write-back
 *	to a device that stopped accepting is dropped.
 */
struct dma_map {
	void *host;
	uint64_t len;
	uint64_t addr;
	bool is_write;
	struct address_space *as;
	struct memory_region *mr;
	void *bounce;
	uint64_t offset;		/* in @mr, for bounce buffers */
};

#define DMA_BOUNCE_MAX	4096

/**
 * address_space_map() - map guest memory for DMA.
 * @is_write: the device will write (guest memory is the destination).
 * Return: 0 with @map filled, -EINVAL for a zero length, -EFAULT if
 * @addr is unassigned or its device stopped accepting, -EACCES for a
 * write to read-only memory, -ENOMEM if no bounce buffer could be had.
 */
int address_space_map(struct address_space *as, uint64_t addr, uint64_t len,
		      bool is_write, struct dma_map *map);
/** address_space_unmap() - @access_len bytes were actually accessed. */
void address_space_unmap(struct dma_map *map, uint64_t access_len);

/* Listeners */

struct memory_region_section {
	struct address_space *as;
	struct memory_region *mr;
	uint64_t offset_within_region;
	uint64_t offset_within_as;
	uint64_t size;			/* 0 means 2^64 */
	bool readonly;
};

/**
 * struct memory_listener - told about flat view changes of one address
 * space, with the memory lock held: begin, then deletions (region_del,
 * then eventfd_del) in address order, then additions, then commit.
 * For eventfd_add/eventfd_del the section gives only the absolute
 * address (offset_within_as) and the access size (size, 0 = any);
 * its mr is NULL.
 */
struct memory_listener {
	const char *name;
	void (*begin)(struct memory_listener *l);
	void (*commit)(struct memory_listener *l);
	void (*region_add)(struct memory_listener *l,
			   const struct memory_region_section *s);
	void (*region_del)(struct memory_listener *l,
			   const struct memory_region_section *s);
	void (*eventfd_add)(struct memory_listener *l,
			    const struct memory_region_section *s,
			    bool match_data, uint64_t data, int fd);
	void (*eventfd_del)(struct memory_listener *l,
			    const struct memory_region_section *s,
			    bool match_data, uint64_t data, int fd);
	struct address_space *as;
	struct cds_list_head link;
};

/* Register and replay the current view as additions. */
void memory_listener_register(struct memory_listener *l,
			      struct address_space *as);
/* Unregister, reporting the current view as deletions. */
void memory_listener_unregister(struct memory_listener *l);

/*
 * Dumps, like QEMU's "info mtree" (-f for flat views).  The format is
 * described in Documentation/memory-model.md.
 */
void address_space_dump_tree(struct address_space *as, FILE *out);
void address_space_dump_flat(struct address_space *as, FILE *out);
/* Every address space; malloc'd string, caller frees. */
char *memory_mtree_dump(bool flat);

#endif /* FLATVM_MEMORY_H */
