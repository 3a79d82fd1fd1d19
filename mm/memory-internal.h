/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared between mm/memory.c and mm/dispatch.c; not a public API. */
#ifndef FLATVM_MM_INTERNAL_H
#define FLATVM_MM_INTERNAL_H

#include "flatvm/memory.h"

/* Address spaces with per-thread statistics slots. */
#define AS_MAX	64

/* The object a reference to @mr counts (rule 3). */
static inline struct object *mr_owner_obj(struct memory_region *mr)
{
	return mr->owner ? mr->owner : &mr->obj;
}

void dispatch_stats_reset(unsigned as_id);

#endif /* FLATVM_MM_INTERNAL_H */
