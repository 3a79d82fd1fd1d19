/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The object model: classes, a parent/child tree with paths, and the two
 * counting rules of DESIGN.md.
 *
 * Rule 1, one object, one count.  @ref counts references to the object;
 * finalization starts when it drops to zero.  object_ref() on an object
 * whose count is zero aborts and names the object: it is always a bug in
 * flatvm, never something a guest or client can cause.  Lookups through
 * RCU-protected structures use object_tryref() (get-unless-zero).
 *
 * Rule 2, storage is counted apart from the object.  A heap object
 * (object_new) heads its own allocation.  An embedded object
 * (object_init_child) lives inside its parent's allocation and holds a
 * storage reference on it, so the memory is freed only when the head *and*
 * every object embedded in it have finalized.
 *
 * The tree: a parent holds one counted reference on each child.  Paths
 * look like "/machine/serial0/mmio".
 */
#ifndef FLATVM_OBJECT_H
#define FLATVM_OBJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <urcu/list.h>

#include "flatvm/error.h"

struct object;

/* Heap objects start on, and fill, whole cache-line pairs. */
#define OBJECT_ALIGN	128

/**
 * struct object_class - what every instance of a type shares.
 * @name: type name, shown in diagnostics and dumps.
 * @size: instance size: object_new() allocates it, object_init_child()
 *	zeroes that much of the embedded struct.
 * @parent: the base class, or NULL.
 * @finalize: undo what the instance set up; runs when the count reaches
 *	zero, most derived class first.  Children are still attached while it
 *	runs and are released right after.
 */
struct object_class {
	const char *name;
	size_t size;
	const struct object_class *parent;
	void (*finalize)(struct object *obj);
};

struct object {
	const struct object_class *cls;
	long ref;			/* rule 1 */
	long storage_ref;		/* rule 2: used on allocation heads */
	struct object *storage;		/* allocation head, NULL if static */
	/* The tree, protected by the object tree lock (core/object.c). */
	struct object *parent;		/* weak: the parent holds us */
	char *name;
	char *path;
	struct cds_list_head children;
	struct cds_list_head sibling;
	bool finalizing;
};

/**
 * object_new() - allocate a zeroed instance of @cls with one reference,
 * owned by the caller.
 *
 * Return: the object, or NULL if memory ran out.
 */
struct object *object_new(const struct object_class *cls);

/**
 * object_init_child() - initialize an object embedded in @parent's memory
 * and attach it as @parent's child @name.
 *
 * The child's single reference belongs to @parent and is dropped when the
 * parent finalizes (or by object_unparent()).  The child holds a storage
 * reference on the allocation that contains @parent (rule 2).
 */
int object_init_child(struct object *parent, const char *name,
		      struct object *child, const struct object_class *cls,
		      struct error *err);

/**
 * object_init_static() - initialize an object whose memory belongs to no
 * allocation we count (a static, or a caller-managed struct).  Finalize
 * runs when its count drops to zero; nothing is freed.
 */
void object_init_static(struct object *obj, const struct object_class *cls,
			const char *name);

/**
 * object_add_child() - make @child a child of @parent named @name.
 * The parent takes a reference of its own.  Fails if @child already has a
 * parent or @parent already has a child of that name.
 */
int object_add_child(struct object *parent, const char *name,
		     struct object *child, struct error *err);

/** object_unparent() - detach @obj from its parent, dropping its reference. */
void object_unparent(struct object *obj);

/** object_ref() - take a reference; aborts if the count was zero. */
struct object *object_ref(struct object *obj);

/** object_tryref() - take a reference unless the count is zero. */
bool __must_check object_tryref(struct object *obj);

/** object_unref() - drop a reference; finalizes on the last one. NULL ok. */
void object_unref(struct object *obj);

static inline long object_refcount(const struct object *obj)
{
	return __atomic_load_n(&obj->ref, __ATOMIC_RELAXED);
}

/* The path while attached, "/a/b"; otherwise the object's name or class. */
const char *object_path(const struct object *obj);
const char *object_name(const struct object *obj);

bool object_is_a(const struct object *obj, const struct object_class *cls);

/* The root of the tree ("/"); it is static and never finalizes. */
struct object *object_root(void);

/**
 * object_resolve_path() - find the object at @path and take a reference.
 * Return: the object (caller unrefs) or NULL.
 */
struct object *object_resolve_path(const char *path);

/**
 * object_child_foreach() - call @fn on each child (and, with @recursive,
 * every descendant, parents first) until it returns non-zero.
 * Runs under the tree lock: @fn must not change the tree or drop
 * references.
 */
int object_child_foreach(struct object *obj, bool recursive,
			 int (*fn)(struct object *child, void *opaque),
			 void *opaque);

/** object_is_descendant() - @obj is @ancestor or below it in the tree. */
bool object_is_descendant(const struct object *obj,
			  const struct object *ancestor);

/* Live counters, for leak checks in tests and the control socket. */
struct object_stats {
	long live_objects;	/* initialized, not yet finalized */
	long live_allocations;	/* object_new() allocations not yet freed */
};

void object_get_stats(struct object_stats *st);

#endif /* FLATVM_OBJECT_H */
