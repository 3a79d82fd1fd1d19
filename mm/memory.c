// SPDX-License-Identifier: GPL-2.0-only
/*
 * Memory regions: construction, the region tree, transactions, and the
 * device core's detach hook.  Rendering and publication of flat views
 * live in mm/flatview.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flatvm/device.h"
#include "flatvm/memory.h"
#include "memory-internal.h"
#include "flatview.h"

/*
 * The memory lock: protects the region tree (container, subregions,
 * placement, enabled, readonly, sizes, ioeventfds), the address space list
 * and every address space's writer side.  Recursive because finalizers
 * that run under a commit (an unref dropping the last reference) edit the
 * tree too.
 */
static pthread_mutex_t mm_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static unsigned txn_depth;
static bool txn_pending;

void memory_region_transaction_begin(void)
{
	pthread_mutex_lock(&mm_lock);
	txn_depth++;
}

void memory_region_transaction_commit(void)
{
	if (--txn_depth == 0 && txn_pending) {
		txn_pending = false;
		flatview_update_all();
	}
	pthread_mutex_unlock(&mm_lock);
}

/* Called with the memory lock held. */
static void mr_changed(void)
{
	txn_pending = true;
}

static uint64_t host_page_size(void)
{
	static long page;

	if (!page)
		page = sysconf(_SC_PAGESIZE);
	return (uint64_t)page;
}

/* Last byte covered by @size bytes at @start, saturating. */
static uint64_t range_last(uint64_t start, uint64_t size)
{
	if (size == UINT64_MAX || size - 1 > UINT64_MAX - start)
		return UINT64_MAX;
	return start + size - 1;
}

const char *memory_region_type_name(enum memory_region_type type)
{
	switch (type) {
	case MR_CONTAINER:
		return "container";
	case MR_RAM:
		return "ram";
	case MR_ROM:
		return "rom";
	case MR_MMIO:
		return "mmio";
	case MR_ALIAS:
		return "alias";
	}
	return "?";
}

const char *memory_region_name(const struct memory_region *mr)
{
	return object_name(&mr->obj);
}

/* ---- Finalize ---------------------------------------------------------- */

static void memory_region_finalize(struct object *obj)
{
	struct memory_region *mr = to_memory_region(obj);
	struct memory_region *sub;

	memory_region_transaction_begin();
	/*
	 * Still in a container only if the container has the same owner
	 * (another owner would hold a reference): the owner is going away
	 * with both, and neither is reachable from an address space.
	 */
	if (mr->container) {
		cds_list_del_init(&mr->subregions_link);
		mr->container = NULL;
	}
	while (!cds_list_empty(&mr->subregions)) {
		sub = cds_list_first_entry(&mr->subregions,
					   struct memory_region,
					   subregions_link);
		cds_list_del_init(&sub->subregions_link);
		sub->container = NULL;
		if (mr_owner_obj(sub) != mr_owner_obj(mr))
			memory_region_unref(sub);	/* rule 3 */
	}
	if (mr->alias && mr_owner_obj(mr->alias) != mr_owner_obj(mr))
		memory_region_unref(mr->alias);
	mr->alias = NULL;
	memory_region_transaction_commit();

	if (mr->ram)
		munmap(mr->ram, mr->ram_max);
	if (mr->ram_fd >= 0)
		close(mr->ram_fd);
	free(mr->ioeventfds);
}

const struct object_class memory_region_class = {
	.name = "memory-region",
	.size = sizeof(struct memory_region),
	.finalize = memory_region_finalize,
};

/* ---- Construction ------------------------------------------------------ */

static int mr_validate(const char *name, uint64_t size,
		       enum memory_region_type type, struct error *err)
{
	if (!name || !*name)
		return error_setf(err, EINVAL,
				  "a memory region needs a name");
	if (!size && type != MR_CONTAINER)
		return error_setf(err, EINVAL,
				  "%s region '%s' has size 0: expected at least 1 byte",
				  memory_region_type_name(type), name);
	return 0;
}

/* Fill in what object_base_init() zeroed. */
static void mr_setup(struct memory_region *mr, struct object *owner,
		     uint64_t size, enum memory_region_type type)
{
	mr->owner = owner;
	mr->dev = device_cast(owner);
	mr->type = type;
	mr->size = size;
	mr->enabled = true;
	mr->ram_fd = -1;
	CDS_INIT_LIST_HEAD(&mr->subregions);
	CDS_INIT_LIST_HEAD(&mr->subregions_link);
}

static int mr_init_embedded(struct memory_region *mr, struct object *owner,
			    const char *name, uint64_t size,
			    enum memory_region_type type, struct error *err)
{
	int ret;

	ret = mr_validate(name, size, type, err);
	if (ret)
		return ret;
	if (owner) {
		ret = object_init_child(owner, name, &mr->obj,
					&memory_region_class, err);
		if (ret)
			return ret;
	} else {
		object_init_static(&mr->obj, &memory_region_class, name);
	}
	mr_setup(mr, owner, size, type);
	return 0;
}

/* Undo mr_init_embedded() after a later step failed. */
static void mr_init_undo(struct memory_region *mr)
{
	if (mr->owner)
		object_unparent(&mr->obj);
	else
		object_unref(&mr->obj);
}

static struct memory_region *mr_alloc(struct object *owner, const char *name,
				      uint64_t size,
				      enum memory_region_type type,
				      struct error *err)
{
	struct memory_region *mr;
	struct object *obj;

	if (mr_validate(name, size, type, err))
		return NULL;
	obj = object_new(&memory_region_class);
	if (!obj) {
		error_setf(err, ENOMEM, "out of memory for region '%s'", name);
		return NULL;
	}
	mr = to_memory_region(obj);
	mr_setup(mr, owner, size, type);
	mr->obj.name = strdup(name);
	return mr;
}

/*
 * Hand a fully set up heap region to its owner, whose child it becomes;
 * the creation reference is then dropped, so the returned pointer is the
 * owner's.  Without an owner the caller keeps the creation reference.
 */
static struct memory_region *mr_attach(struct memory_region *mr,
				       const char *name, struct error *err)
{
	if (!mr)
		return NULL;
	if (!mr->owner)
		return mr;
	if (object_add_child(mr->owner, name, &mr->obj, err)) {
		object_unref(&mr->obj);
		return NULL;
	}
	object_unref(&mr->obj);
	return mr;
}

static struct memory_region *mr_fail(struct memory_region *mr)
{
	object_unref(&mr->obj);
	return NULL;
}

static int ram_setup(struct memory_region *mr, uint64_t max_size,
		     const char *path, bool readonly, struct error *err)
{
	uint64_t page = host_page_size();
	uint64_t size = (mr->size + page - 1) & ~(page - 1);
	int prot = PROT_READ | PROT_WRITE;
	struct stat st;
	void *p;
	int fd;

	if (mr->size > UINT64_MAX - page || max_size > UINT64_MAX - page)
		return error_setf(err, EINVAL,
				  "RAM region '%s' is too large",
				  memory_region_name(mr));
	max_size = (max_size + page - 1) & ~(page - 1);
	if (max_size < size)
		return error_setf(err, EINVAL,
				  "RAM region '%s': maximum size %#llx is below its size %#llx",
				  memory_region_name(mr),
				  (unsigned long long)max_size,
				  (unsigned long long)size);
	if (path) {
		fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
		if (fd < 0)
			return error_setf(err, errno,
					  "cannot open '%s' for region '%s': %s",
					  path, memory_region_name(mr),
					  strerror(errno));
		if (fstat(fd, &st)) {
			int e = errno;

			close(fd);
			return error_setf(err, e, "cannot stat '%s': %s", path,
					  strerror(e));
		}
		if ((uint64_t)st.st_size < mr->size) {
			close(fd);
			return error_setf(err, EINVAL,
					  "file '%s' is %lld bytes; region '%s' needs at least %llu",
					  path, (long long)st.st_size,
					  memory_region_name(mr),
					  (unsigned long long)mr->size);
		}
		if (readonly)
			prot = PROT_READ;
		size = max_size = mr->size;
	} else {
		fd = memfd_create(memory_region_name(mr), MFD_CLOEXEC);
		if (fd < 0)
			return error_setf(err, errno,
					  "memfd_create for region '%s' failed: %s",
					  memory_region_name(mr),
					  strerror(errno));
		/* Sparse: only pages the guest touches use memory. */
		if (ftruncate(fd, (off_t)max_size)) {
			close(fd);
			return error_setf(err, errno,
					  "cannot size RAM region '%s' to %#llx: %s",
					  memory_region_name(mr),
					  (unsigned long long)max_size,
					  strerror(errno));
		}
	}
	p = mmap(NULL, max_size, prot, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		close(fd);
		return error_setf(err, errno,
				  "cannot map %#llx bytes for region '%s': %s",
				  (unsigned long long)max_size,
				  memory_region_name(mr), strerror(errno));
	}
	mr->ram = p;
	mr->ram_fd = fd;
	mr->ram_max = max_size;
	mr->size = size;
	mr->readonly = readonly;
	mr->ram_prot_ro = prot == PROT_READ;
	mr->ram_file = path != NULL;
	return 0;
}

static int io_setup(struct memory_region *mr,
		    const struct memory_region_ops *ops, void *opaque,
		    struct error *err)
{
	unsigned min, max;

	if (!ops || !ops->read || !ops->write)
		return error_setf(err, EINVAL,
				  "MMIO region '%s' needs ops with read and write",
				  memory_region_name(mr));
	min = ops->min_access_size ? ops->min_access_size : 1;
	max = ops->max_access_size ? ops->max_access_size : 4;
	if (min > 8 || max > 8 || (min & (min - 1)) || (max & (max - 1)) ||
	    min > max)
		return error_setf(err, EINVAL,
				  "MMIO region '%s': access sizes %u..%u invalid; expected powers of two 1..8, min <= max",
				  memory_region_name(mr), min, max);
	mr->ops = ops;
	mr->opaque = opaque;
	return 0;
}

static int alias_setup(struct memory_region *mr, struct memory_region *target,
		       uint64_t offset, struct error *err)
{
	if (!target)
		return error_setf(err, EINVAL, "alias '%s' needs a target",
				  memory_region_name(mr));
	if (offset > target->size || mr->size > target->size - offset)
		return error_setf(err, ERANGE,
				  "alias '%s' window %#llx+%#llx lies outside '%s' (size %#llx)",
				  memory_region_name(mr),
				  (unsigned long long)offset,
				  (unsigned long long)mr->size,
				  memory_region_name(target),
				  (unsigned long long)target->size);
	memory_region_transaction_begin();
	mr->alias = target;
	mr->alias_offset = offset;
	if (mr_owner_obj(target) != mr_owner_obj(mr))
		memory_region_ref(target);	/* rule 3 */
	memory_region_transaction_commit();
	return 0;
}

int memory_region_init(struct memory_region *mr, struct object *owner,
		       const char *name, uint64_t size, struct error *err)
{
	return mr_init_embedded(mr, owner, name, size, MR_CONTAINER, err);
}

int memory_region_init_ram_resizeable(struct memory_region *mr,
				      struct object *owner, const char *name,
				      uint64_t size, uint64_t max_size,
				      struct error *err)
{
	int ret = mr_init_embedded(mr, owner, name, size, MR_RAM, err);

	if (!ret && (ret = ram_setup(mr, max_size, NULL, false, err)))
		mr_init_undo(mr);
	return ret;
}

int memory_region_init_ram(struct memory_region *mr, struct object *owner,
			   const char *name, uint64_t size, struct error *err)
{
	return memory_region_init_ram_resizeable(mr, owner, name, size, size,
						 err);
}

int memory_region_init_ram_from_file(struct memory_region *mr,
				     struct object *owner, const char *name,
				     uint64_t size, const char *path,
				     bool readonly, struct error *err)
{
	int ret = mr_init_embedded(mr, owner, name, size, MR_RAM, err);

	if (!ret && (ret = ram_setup(mr, size, path, readonly, err)))
		mr_init_undo(mr);
	return ret;
}

int memory_region_init_rom(struct memory_region *mr, struct object *owner,
			   const char *name, uint64_t size, struct error *err)
{
	int ret = mr_init_embedded(mr, owner, name, size, MR_ROM, err);

	if (!ret && (ret = ram_setup(mr, size, NULL, false, err)))
		mr_init_undo(mr);
	return ret;
}

int memory_region_init_io(struct memory_region *mr, struct object *owner,
			  const struct memory_region_ops *ops, void *opaque,
			  const char *name, uint64_t size, struct error *err)
{
	int ret = mr_init_embedded(mr, owner, name, size, MR_MMIO, err);

	if (!ret && (ret = io_setup(mr, ops, opaque, err)))
		mr_init_undo(mr);
	return ret;
}

int memory_region_init_alias(struct memory_region *mr, struct object *owner,
			     const char *name, struct memory_region *target,
			     uint64_t offset, uint64_t size,
			     struct error *err)
{
	int ret = mr_init_embedded(mr, owner, name, size, MR_ALIAS, err);

	if (!ret && (ret = alias_setup(mr, target, offset, err)))
		mr_init_undo(mr);
	return ret;
}

struct memory_region *memory_region_new(struct object *owner,
					const char *name, uint64_t size,
					struct error *err)
{
	return mr_attach(mr_alloc(owner, name, size, MR_CONTAINER, err),
			 name, err);
}

struct memory_region *memory_region_new_ram(struct object *owner,
					    const char *name, uint64_t size,
					    struct error *err)
{
	struct memory_region *mr = mr_alloc(owner, name, size, MR_RAM, err);

	if (mr && ram_setup(mr, size, NULL, false, err))
		return mr_fail(mr);
	return mr_attach(mr, name, err);
}

struct memory_region *memory_region_new_rom(struct object *owner,
					    const char *name, uint64_t size,
					    struct error *err)
{
	struct memory_region *mr = mr_alloc(owner, name, size, MR_ROM, err);

	if (mr && ram_setup(mr, size, NULL, false, err))
		return mr_fail(mr);
	return mr_attach(mr, name, err);
}

struct memory_region *memory_region_new_io(struct object *owner,
					   const struct memory_region_ops *ops,
					   void *opaque, const char *name,
					   uint64_t size, struct error *err)
{
	struct memory_region *mr = mr_alloc(owner, name, size, MR_MMIO, err);

	if (mr && io_setup(mr, ops, opaque, err))
		return mr_fail(mr);
	return mr_attach(mr, name, err);
}

struct memory_region *memory_region_new_alias(struct object *owner,
					      const char *name,
					      struct memory_region *target,
					      uint64_t offset, uint64_t size,
					      struct error *err)
{
	struct memory_region *mr = mr_alloc(owner, name, size, MR_ALIAS, err);

	if (mr && alias_setup(mr, target, offset, err))
		return mr_fail(mr);
	return mr_attach(mr, name, err);
}

void memory_region_ref(struct memory_region *mr)
{
	object_ref(mr_owner_obj(mr));
}

void memory_region_unref(struct memory_region *mr)
{
	if (mr)
		object_unref(mr_owner_obj(mr));
}

/* ---- The tree ---------------------------------------------------------- */

/* Is @needle reachable from @mr through containment or aliases? */
static bool mr_reaches(struct memory_region *mr, struct memory_region *needle,
		       unsigned depth)
{
	struct memory_region *sub;

	if (mr == needle)
		return true;
	if (depth > 64)
		return true;	/* deeper than any sane tree: treat as a cycle */
	if (mr->alias && mr_reaches(mr->alias, needle, depth + 1))
		return true;
	cds_list_for_each_entry(sub, &mr->subregions, subregions_link)
		if (mr_reaches(sub, needle, depth + 1))
			return true;
	return false;
}

/* Called with the memory lock held.  @mr may already be in @c (move). */
static int check_placement(struct memory_region *c, uint64_t offset,
			   struct memory_region *mr, int priority,
			   bool may_overlap, struct error *err)
{
	uint64_t last, c_last = range_last(0, c->size);
	struct memory_region *s;

	if (c->type != MR_CONTAINER)
		return error_setf(err, EINVAL,
				  "'%s' is a %s region, not a container: subregions go into containers",
				  memory_region_name(c),
				  memory_region_type_name(c->type));
	if (!mr->size)
		return error_setf(err, EINVAL,
				  "cannot map '%s': it has size 0",
				  memory_region_name(mr));
	/* UINT64_MAX is the whole space: it only fits at offset 0. */
	if (mr->size == UINT64_MAX ? offset != 0 :
				     mr->size - 1 > UINT64_MAX - offset)
		return error_setf(err, ERANGE,
				  "'%s' at %#llx (size %#llx) runs past the end of the 64-bit space",
				  memory_region_name(mr),
				  (unsigned long long)offset,
				  (unsigned long long)mr->size);
	last = range_last(offset, mr->size);
	if (!c->size || last > c_last)
		return error_setf(err, ERANGE,
				  "'%s' at %#llx-%#llx does not fit in container '%s' (size %#llx)",
				  memory_region_name(mr),
				  (unsigned long long)offset,
				  (unsigned long long)last,
				  memory_region_name(c),
				  (unsigned long long)c->size);
	cds_list_for_each_entry(s, &c->subregions, subregions_link) {
		if (s == mr || s->priority != priority)
			continue;
		if (may_overlap || s->may_overlap)
			continue;
		if (offset > range_last(s->addr, s->size) || last < s->addr)
			continue;
		return error_setf(err, EEXIST,
				  "'%s' at %#llx-%#llx overlaps '%s' at %#llx-%#llx in '%s' with the same priority %d; give one a different priority or add it with add_subregion_overlap",
				  memory_region_name(mr),
				  (unsigned long long)offset,
				  (unsigned long long)last,
				  memory_region_name(s),
				  (unsigned long long)s->addr,
				  (unsigned long long)range_last(s->addr, s->size),
				  memory_region_name(c), priority);
	}
	return 0;
}

/* Insert @mr before the first sibling of lower priority (newest wins ties). */
static void link_subregion(struct memory_region *c, struct memory_region *mr)
{
	struct memory_region *s;

	cds_list_for_each_entry(s, &c->subregions, subregions_link) {
		if (mr->priority >= s->priority) {
			cds_list_add_tail(&mr->subregions_link,
					  &s->subregions_link);
			return;
		}
	}
	cds_list_add_tail(&mr->subregions_link, &c->subregions);
}

static int add_subregion(struct memory_region *c, uint64_t offset,
			 struct memory_region *mr, int priority,
			 bool may_overlap, struct error *err)
{
	int ret;

	if (!c || !mr)
		return error_setf(err, EINVAL, "add_subregion: NULL region");
	memory_region_transaction_begin();
	if (mr->container) {
		ret = error_setf(err, EBUSY,
				 "'%s' is already mapped in '%s'; remove it there first",
				 memory_region_name(mr),
				 memory_region_name(mr->container));
		goto out;
	}
	if (mr_reaches(mr, c, 0)) {
		ret = error_setf(err, ELOOP,
				 "mapping '%s' into '%s' would make a cycle",
				 memory_region_name(mr), memory_region_name(c));
		goto out;
	}
	ret = check_placement(c, offset, mr, priority, may_overlap, err);
	if (ret)
		goto out;
	if (mr_owner_obj(mr) != mr_owner_obj(c))
		memory_region_ref(mr);		/* rule 3 */
	mr->container = c;
	mr->addr = offset;
	mr->priority = priority;
	mr->may_overlap = may_overlap;
	link_subregion(c, mr);
	mr_changed();
out:
	memory_region_transaction_commit();
	return ret;
}

int memory_region_add_subregion(struct memory_region *container,
				uint64_t offset, struct memory_region *mr,
				struct error *err)
{
	return add_subregion(container, offset, mr, 0, false, err);
}

int memory_region_add_subregion_prio(struct memory_region *container,
				     uint64_t offset,
				     struct memory_region *mr, int priority,
				     struct error *err)
{
	return add_subregion(container, offset, mr, priority, false, err);
}

int memory_region_add_subregion_overlap(struct memory_region *container,
					uint64_t offset,
					struct memory_region *mr,
					int priority, struct error *err)
{
	return add_subregion(container, offset, mr, priority, true, err);
}

int memory_region_del_subregion(struct memory_region *c,
				struct memory_region *mr, struct error *err)
{
	bool counted;

	memory_region_transaction_begin();
	if (!c || !mr || mr->container != c) {
		memory_region_transaction_commit();
		return error_setf(err, ENOENT,
				  "'%s' is not a subregion of '%s'",
				  mr ? memory_region_name(mr) : "(null)",
				  c ? memory_region_name(c) : "(null)");
	}
	cds_list_del_init(&mr->subregions_link);
	mr->container = NULL;
	counted = mr_owner_obj(mr) != mr_owner_obj(c);
	mr_changed();
	memory_region_transaction_commit();
	/*
	 * Safe even inside an outer transaction: the published view holds
	 * its own reference on the owner (rule 4).
	 */
	if (counted)
		memory_region_unref(mr);
	return 0;
}

void memory_region_set_enabled(struct memory_region *mr, bool enabled)
{
	memory_region_transaction_begin();
	if (mr->enabled != enabled) {
		mr->enabled = enabled;
		mr_changed();
	}
	memory_region_transaction_commit();
}

void memory_region_set_readonly(struct memory_region *mr, bool readonly)
{
	memory_region_transaction_begin();
	if (mr->readonly != readonly) {
		mr->readonly = readonly;
		mr_changed();
	}
	memory_region_transaction_commit();
}

int memory_region_set_address(struct memory_region *mr, uint64_t addr,
			      struct error *err)
{
	int ret = 0;

	memory_region_transaction_begin();
	if (mr->container) {
		ret = check_placement(mr->container, addr, mr, mr->priority,
				      mr->may_overlap, err);
		if (!ret && mr->addr != addr)
			mr_changed();
	}
	if (!ret)
		mr->addr = addr;
	memory_region_transaction_commit();
	return ret;
}

int memory_region_set_alias_offset(struct memory_region *mr,
				   uint64_t offset, struct error *err)
{
	int ret = 0;

	memory_region_transaction_begin();
	if (mr->type != MR_ALIAS)
		ret = error_setf(err, EINVAL, "'%s' is not an alias",
				 memory_region_name(mr));
	else if (offset > mr->alias->size ||
		 mr->size > mr->alias->size - offset)
		ret = error_setf(err, ERANGE,
				 "alias '%s' window at %#llx would leave '%s'",
				 memory_region_name(mr),
				 (unsigned long long)offset,
				 memory_region_name(mr->alias));
	if (!ret && mr->alias_offset != offset) {
		mr->alias_offset = offset;
		mr_changed();
	}
	memory_region_transaction_commit();
	return ret;
}

int memory_region_ram_resize(struct memory_region *mr, uint64_t size,
			     struct error *err)
{
	uint64_t page = host_page_size(), old;
	int ret = 0;

	memory_region_transaction_begin();
	if (mr->type != MR_RAM && mr->type != MR_ROM) {
		ret = error_setf(err, EINVAL,
				 "'%s' is a %s region: only RAM and ROM resize",
				 memory_region_name(mr),
				 memory_region_type_name(mr->type));
		goto out;
	}
	/* Round first: the rounded size is what must fit. */
	if (size && size <= UINT64_MAX - page)
		size = (size + page - 1) & ~(page - 1);
	if (!size || size > mr->ram_max) {
		ret = error_setf(err, ERANGE,
				 "cannot resize '%s' to %#llx: expected 1 to %#llx bytes (its reserved maximum)",
				 memory_region_name(mr),
				 (unsigned long long)size,
				 (unsigned long long)mr->ram_max);
		goto out;
	}
	if (mr->container && range_last(mr->addr, size) >
			     range_last(0, mr->container->size)) {
		ret = error_setf(err, ERANGE,
				 "cannot resize '%s' to %#llx: it would run past the end of '%s'",
				 memory_region_name(mr),
				 (unsigned long long)size,
				 memory_region_name(mr->container));
		goto out;
	}
	old = mr->size;
	if (mr->container && size > old) {
		/* Growing must not run into a sibling of the same priority. */
		mr->size = size;
		ret = check_placement(mr->container, mr->addr, mr,
				      mr->priority, mr->may_overlap, err);
		mr->size = old;
		if (ret)
			goto out;
	}
	/*
	 * Shrinking keeps the mapping (a DMA mapping may still point past
	 * the new end); memfd pages past the end are given back and read
	 * as zero.  A user's file is never touched.
	 */
	if (size < old && mr->ram_fd >= 0 && !mr->ram_file &&
	    fallocate(mr->ram_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)size, (off_t)(old - size)))
		pr_warn("cannot release the tail of '%s' after shrinking: %s",
			memory_region_name(mr), strerror(errno));
	if (size != old) {
		mr->size = size;
		mr_changed();
	}
out:
	memory_region_transaction_commit();
	return ret;
}

void *memory_region_get_ram_ptr(struct memory_region *mr)
{
	while (mr->type == MR_ALIAS)
		mr = mr->alias;
	return mr->ram;
}

int memory_region_get_fd(struct memory_region *mr)
{
	return mr->ram_fd;
}

/* ---- ioeventfds -------------------------------------------------------- */

static int ioeventfd_cmp(const struct mr_ioeventfd *a,
			 const struct mr_ioeventfd *b)
{
	if (a->offset != b->offset)
		return a->offset < b->offset ? -1 : 1;
	if (a->size != b->size)
		return a->size < b->size ? -1 : 1;
	if (a->match_data != b->match_data)
		return a->match_data < b->match_data ? -1 : 1;
	if (a->match_data && a->data != b->data)
		return a->data < b->data ? -1 : 1;
	if (a->fd != b->fd)
		return a->fd < b->fd ? -1 : 1;
	return 0;
}

int memory_region_add_eventfd(struct memory_region *mr, uint64_t offset,
			      unsigned size, bool match_data, uint64_t data,
			      int fd, struct error *err)
{
	struct mr_ioeventfd e = {
		.offset = offset, .size = size, .match_data = match_data,
		.data = match_data ? data : 0, .fd = fd,
	};
	struct mr_ioeventfd *n;
	unsigned i;
	int ret = 0;

	if (mr->type != MR_MMIO)
		return error_setf(err, EINVAL,
				  "ioeventfds attach to MMIO regions; '%s' is %s",
				  memory_region_name(mr),
				  memory_region_type_name(mr->type));
	if ((size & (size - 1)) || size > 8 || fd < 0 ||
	    offset >= mr->size || (size && size - 1 > mr->size - 1 - offset))
		return error_setf(err, EINVAL,
				  "ioeventfd at %#llx size %u on '%s': expected size 0/1/2/4/8 inside the region and a valid fd",
				  (unsigned long long)offset, size,
				  memory_region_name(mr));
	memory_region_transaction_begin();
	for (i = 0; i < mr->nr_ioeventfds; i++) {
		int c = ioeventfd_cmp(&e, &mr->ioeventfds[i]);

		if (!c) {
			ret = error_setf(err, EEXIST,
					 "ioeventfd at %#llx on '%s' already exists",
					 (unsigned long long)offset,
					 memory_region_name(mr));
			goto out;
		}
		if (c < 0)
			break;
	}
	n = realloc(mr->ioeventfds, (mr->nr_ioeventfds + 1) * sizeof(*n));
	if (!n) {
		ret = error_setf(err, ENOMEM, "out of memory");
		goto out;
	}
	memmove(&n[i + 1], &n[i], (mr->nr_ioeventfds - i) * sizeof(*n));
	n[i] = e;
	mr->ioeventfds = n;
	mr->nr_ioeventfds++;
	mr_changed();
out:
	memory_region_transaction_commit();
	return ret;
}

int memory_region_del_eventfd(struct memory_region *mr, uint64_t offset,
			      unsigned size, bool match_data, uint64_t data,
			      int fd, struct error *err)
{
	struct mr_ioeventfd e = {
		.offset = offset, .size = size, .match_data = match_data,
		.data = match_data ? data : 0, .fd = fd,
	};
	unsigned i;
	int ret;

	memory_region_transaction_begin();
	for (i = 0; i < mr->nr_ioeventfds; i++)
		if (!ioeventfd_cmp(&e, &mr->ioeventfds[i]))
			break;
	if (i == mr->nr_ioeventfds) {
		ret = error_setf(err, ENOENT,
				 "no such ioeventfd at %#llx on '%s'",
				 (unsigned long long)offset,
				 memory_region_name(mr));
	} else {
		memmove(&mr->ioeventfds[i], &mr->ioeventfds[i + 1],
			(mr->nr_ioeventfds - i - 1) * sizeof(e));
		mr->nr_ioeventfds--;
		mr_changed();
		ret = 0;
	}
	memory_region_transaction_commit();
	return ret;
}

/* ---- Unplug: detach a device's regions (rule 5) ------------------------ */

struct detach_ctx {
	struct memory_region **mrs;
	size_t nr, cap;
	bool oom;
};

static int collect_mapped(struct object *obj, void *opaque)
{
	struct detach_ctx *ctx = opaque;
	struct memory_region *mr, **n;

	if (!object_is_a(obj, &memory_region_class))
		return 0;
	mr = to_memory_region(obj);
	if (!mr->container)
		return 0;
	if (ctx->nr == ctx->cap) {
		ctx->cap = ctx->cap ? ctx->cap * 2 : 8;
		n = realloc(ctx->mrs, ctx->cap * sizeof(*n));
		if (!n) {
			ctx->oom = true;
			return 1;
		}
		ctx->mrs = n;
	}
	ctx->mrs[ctx->nr++] = mr;
	return 0;
}

/*
 * Detach every region owned by @dev or an object below it from containers
 * that belong to someone else, in one transaction.  Regions mapped inside
 * the device's own containers stay: they leave with the device.
 */
static void memory_detach_device(struct device *dev)
{
	struct detach_ctx ctx = { 0 };
	struct memory_region *mr;
	size_t i;

	memory_region_transaction_begin();
	/* Lock order: memory lock, then tree lock (inside the foreach). */
	object_child_foreach(&dev->obj, true, collect_mapped, &ctx);
	if (ctx.oom)
		pr_err("out of memory detaching the regions of %s",
		       object_path(&dev->obj));
	for (i = 0; i < ctx.nr; i++) {
		mr = ctx.mrs[i];
		if (object_is_descendant(mr_owner_obj(mr->container), &dev->obj))
			continue;
		memory_region_del_subregion(mr->container, mr, NULL);
	}
	memory_region_transaction_commit();
	free(ctx.mrs);
}

__attribute__((constructor)) static void memory_register_detacher(void)
{
	device_set_region_detacher(memory_detach_device);
}

/* ---- Locking helpers for mm/flatview.c --------------------------------- */

void memory_lock(void)
{
	pthread_mutex_lock(&mm_lock);
}

void memory_unlock(void)
{
	pthread_mutex_unlock(&mm_lock);
}
