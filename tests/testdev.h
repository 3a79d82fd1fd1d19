/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Small devices shared by the lifetime, dispatch and race tests: an MMIO
 * register device, and the "xhci" shape (a parent device with an embedded
 * child device whose RAM region can be mapped for DMA).
 */
#ifndef FLATVM_TESTS_TESTDEV_H
#define FLATVM_TESTS_TESTDEV_H

#include <stdint.h>

#include "flatvm/device.h"
#include "flatvm/memory.h"

#define TDEV_MAGIC	0x5a5a0000u

struct tdev {
	struct device dev;
	struct memory_region mmio;
	unsigned serial;
	uint32_t reg;
	long reads, writes;		/* handler calls, relaxed atomics */
	long ref_in_handler;		/* the count the last handler saw */
};

/* Counters the finalizers bump. */
extern long tdev_finalized;
extern long tdev_handler_after_finalize;
/* Called from a tdev's class unrealize hook, if set. */
extern void (*tdev_unrealize_hook)(struct tdev *t);

extern const struct device_class tdev_class;

/* New realized tdev named @name under the root, region of 4 KiB. */
struct tdev *tdev_create(const char *name, unsigned serial);

/* The xhci shape. */
struct xchild {
	struct device dev;
	struct memory_region buf;	/* RAM, 4 KiB */
};

struct xparent {
	struct device dev;
	struct memory_region regs;	/* MMIO */
	struct xchild child;		/* embedded device */
};

extern long xparent_finalized, xchild_finalized;
extern const struct device_class xparent_class, xchild_class;

struct xparent *xparent_create(const char *name);

#endif /* FLATVM_TESTS_TESTDEV_H */
