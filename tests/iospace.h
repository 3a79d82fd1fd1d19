/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * An I/O-port address space for device tests, and port accessors that
 * go through dispatch as a guest's IN/OUT would.  Include once per test
 * file (it defines the file's statics).
 */
#ifndef FLATVM_TESTS_IOSPACE_H
#define FLATVM_TESTS_IOSPACE_H

#include <stdint.h>

#include "harness.h"
#include "flatvm/device.h"
#include "flatvm/memory.h"

static struct memory_region io_root;
static struct address_space io_as;
static long objs_at_start;

/* Call first in a test's setup: remembers the object count. */
static inline void iospace_setup(void)
{
	struct error err = { 0 };

	objs_at_start = live_objects();
	ck_assert_int_eq(memory_region_init(&io_root, NULL, "io", 0x10000,
					    &err), 0);
	ck_assert_int_eq(address_space_init(&io_as, &io_root, "io", &err), 0);
}

/*
 * What the machine does at teardown: unrealize @dev (the core detaches
 * its regions), drop its parent's reference, let the views go; then
 * nothing may be left.
 */
static inline void iospace_teardown(struct device *dev)
{
	device_unrealize(dev);
	object_unparent(&dev->obj);
	address_space_destroy(&io_as);
	object_unref(&io_root.obj);
	rcu_flush();
	ck_assert_int_eq(live_objects(), objs_at_start);
}

static inline void outb(uint16_t port, uint8_t v)
{
	ck_assert_int_eq(address_space_write(&io_as, port, &v, 1), 0);
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	ck_assert_int_eq(address_space_read(&io_as, port, &v, 1), 0);
	return v;
}

#endif /* FLATVM_TESTS_IOSPACE_H */
