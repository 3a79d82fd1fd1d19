// SPDX-License-Identifier: GPL-2.0-only
#include <check.h>

#include "testdev.h"

long tdev_finalized;
long tdev_handler_after_finalize;
void (*tdev_unrealize_hook)(struct tdev *t);
long xparent_finalized, xchild_finalized;

static uint64_t tdev_read(void *opaque, uint64_t addr, unsigned size)
{
	struct tdev *t = opaque;

	if (t->dev.obj.finalizing)
		__atomic_add_fetch(&tdev_handler_after_finalize, 1,
				   __ATOMIC_RELAXED);
	__atomic_add_fetch(&t->reads, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&t->ref_in_handler, object_refcount(&t->dev.obj),
			 __ATOMIC_RELAXED);
	if (addr == 0)
		return TDEV_MAGIC | (t->serial & 0xffff);
	return __atomic_load_n(&t->reg, __ATOMIC_RELAXED);
}

static void tdev_write(void *opaque, uint64_t addr, uint64_t val,
		       unsigned size)
{
	struct tdev *t = opaque;

	if (t->dev.obj.finalizing)
		__atomic_add_fetch(&tdev_handler_after_finalize, 1,
				   __ATOMIC_RELAXED);
	__atomic_add_fetch(&t->writes, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&t->reg, (uint32_t)val, __ATOMIC_RELAXED);
}

static const struct memory_region_ops tdev_ops = {
	.read = tdev_read,
	.write = tdev_write,
	.min_access_size = 1,
	.max_access_size = 4,
};

static void tdev_unrealize(struct device *dev)
{
	if (tdev_unrealize_hook)
		tdev_unrealize_hook(container_of(dev, struct tdev, dev));
}

static void tdev_finalize(struct object *obj)
{
	__atomic_add_fetch(&tdev_finalized, 1, __ATOMIC_RELAXED);
}

const struct device_class tdev_class = {
	.obj = {
		.name = "test-device",
		.size = sizeof(struct tdev),
		.parent = &device_class.obj,
		.finalize = tdev_finalize,
	},
	.unrealize = tdev_unrealize,
	.hotpluggable = true,
};

struct tdev *tdev_create(const char *name, unsigned serial)
{
	struct error err = { 0 };
	struct tdev *t;

	t = (struct tdev *)object_new(&tdev_class.obj);
	ck_assert_ptr_nonnull(t);
	device_init(&t->dev);
	t->serial = serial;
	ck_assert_int_eq(memory_region_init_io(&t->mmio, &t->dev.obj,
					       &tdev_ops, t, "mmio", 0x1000,
					       &err), 0);
	ck_assert_msg(!object_add_child(object_root(), name, &t->dev.obj,
					&err), "%s", err.msg);
	object_unref(&t->dev.obj);	/* the tree holds it now */
	ck_assert_int_eq(device_realize(&t->dev, &err), 0);
	return t;
}

static uint64_t xregs_read(void *opaque, uint64_t addr, unsigned size)
{
	return 0x1234;
}

static void xregs_write(void *opaque, uint64_t addr, uint64_t val,
			unsigned size)
{
}

static const struct memory_region_ops xregs_ops = {
	.read = xregs_read,
	.write = xregs_write,
};

static void xparent_finalize(struct object *obj)
{
	__atomic_add_fetch(&xparent_finalized, 1, __ATOMIC_RELAXED);
}

static void xchild_finalize(struct object *obj)
{
	__atomic_add_fetch(&xchild_finalized, 1, __ATOMIC_RELAXED);
}

const struct device_class xparent_class = {
	.obj = {
		.name = "xhci-like",
		.size = sizeof(struct xparent),
		.parent = &device_class.obj,
		.finalize = xparent_finalize,
	},
	.hotpluggable = true,
};

const struct device_class xchild_class = {
	.obj = {
		.name = "xhci-port",
		.size = sizeof(struct xchild),
		.parent = &device_class.obj,
		.finalize = xchild_finalize,
	},
};

struct xparent *xparent_create(const char *name)
{
	struct error err = { 0 };
	struct xparent *p;

	p = (struct xparent *)object_new(&xparent_class.obj);
	ck_assert_ptr_nonnull(p);
	device_init(&p->dev);
	ck_assert_int_eq(memory_region_init_io(&p->regs, &p->dev.obj,
					       &xregs_ops, NULL, "regs", 0x100,
					       &err), 0);
	ck_assert_int_eq(object_init_child(&p->dev.obj, "port",
					   &p->child.dev.obj,
					   &xchild_class.obj, &err), 0);
	device_init(&p->child.dev);
	ck_assert_int_eq(memory_region_init_ram(&p->child.buf,
						&p->child.dev.obj, "buf",
						0x1000, &err), 0);
	ck_assert_int_eq(object_add_child(object_root(), name, &p->dev.obj,
					  &err), 0);
	object_unref(&p->dev.obj);
	ck_assert_int_eq(device_realize(&p->dev, &err), 0);
	ck_assert_int_eq(device_realize(&p->child.dev, &err), 0);
	return p;
}
