/* SPDX-License-Identifier: GPL-2.0-only */
/* Private to mm/: rendering and publication of flat views. */
#ifndef FLATVM_MM_FLATVIEW_H
#define FLATVM_MM_FLATVIEW_H

#include "flatvm/memory.h"

/* The memory lock (mm/memory.c); recursive. */
void memory_lock(void);
void memory_unlock(void);

/* Render, publish and announce every address space.  Memory lock held. */
void flatview_update_all(void);

#endif /* FLATVM_MM_FLATVIEW_H */
