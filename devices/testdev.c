// SPDX-License-Identifier: GPL-2.0-only
/*
 * The test device: the registers of include/flatvm/testdev-regs.h in an
 * MMIO window and (0x0-0xc) a port window, for guests that tests boot to
 * report back: an identity, scratch storage, a read counter, an exit
 * register, a log, an ioeventfd doorbell and a result word.
 *
 * It is hotpluggable, and its NOTIFY eventfd shows rule 5 at work: the
 * eventfd is created at realize and closed at finalize, never at
 * unrealize.  A flat view that still lists it (KVM may still be
 * signalling it, or the dispatcher writing it) holds the device (rule 4),
 * so the fd outlives every user.
 */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "flatvm/devices.h"
#include "flatvm/layout.h"
#include "flatvm/testdev-regs.h"

/* The last register of the port window. */
#define TESTDEV_PIO_LAST	TESTDEV_EXIT

static uint32_t size_mask(unsigned size)
{
	return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

/* ---- Registers --------------------------------------------------------- */

/* A whole 32-bit register; reads have side effects (COUNTER). */
static uint32_t testdev_reg_read(struct testdev *t, uint64_t reg)
{
	uint32_t v;

	switch (reg) {
	case TESTDEV_ID:
		return TESTDEV_MAGIC;
	case TESTDEV_SCRATCH:
		pthread_mutex_lock(&t->dev.lock);
		v = t->scratch;
		pthread_mutex_unlock(&t->dev.lock);
		return v;
	case TESTDEV_COUNTER:
		return __atomic_add_fetch(&t->counter, 1, __ATOMIC_RELAXED);
	case TESTDEV_RESULT:
		pthread_mutex_lock(&t->dev.lock);
		v = t->result;
		pthread_mutex_unlock(&t->dev.lock);
		return v;
	case TESTDEV_EXIT:
	case TESTDEV_LOG:
	case TESTDEV_NOTIFY:
		return 0;	/* write-only */
	}
	pr_warn_once("%s: read of unknown register %#llx returns 0",
		     object_path(&t->dev.obj), (unsigned long long)reg);
	return 0;
}

static void testdev_log_byte(struct testdev *t, char c)
{
	bool dropped = false;

	pthread_mutex_lock(&t->dev.lock);
	if (t->log_len < TESTDEV_LOG_MAX) {
		t->log[t->log_len++] = c;
	} else {
		t->log_dropped++;
		dropped = true;
	}
	pthread_mutex_unlock(&t->dev.lock);
	if (dropped)
		pr_warn_once("%s: log full (%d bytes), dropping the rest",
			     object_path(&t->dev.obj), TESTDEV_LOG_MAX);
}

static void testdev_notify(struct testdev *t)
{
	uint64_t one = 1;

	/* The same eventfd the ioeventfd path signals: one doorbell. */
	if (write(t->notify_fd, &one, sizeof(one)) < 0)
		pr_warn_once("%s: signalling the notify eventfd failed: %s",
			     object_path(&t->dev.obj), strerror(errno));
}

/*
 * @val holds @size bytes meant for byte lanes (addr & 3) upwards of the
 * register at @reg; @mask says which lanes.
 */
static void testdev_reg_write(struct testdev *t, uint64_t addr,
			      uint32_t val, uint32_t mask)
{
	uint64_t reg = addr & ~3ull;

	switch (reg) {
	case TESTDEV_SCRATCH:
		pthread_mutex_lock(&t->dev.lock);
		t->scratch = (t->scratch & ~mask) | (val & mask);
		pthread_mutex_unlock(&t->dev.lock);
		return;
	case TESTDEV_RESULT:
		pthread_mutex_lock(&t->dev.lock);
		t->result = (t->result & ~mask) | (val & mask);
		pthread_mutex_unlock(&t->dev.lock);
		return;
	case TESTDEV_EXIT:
		if (t->exit_fn)
			t->exit_fn(t->exit_opaque, val & mask);
		return;
	case TESTDEV_LOG:
		if (addr == TESTDEV_LOG)
			testdev_log_byte(t, (char)val);
		return;
	case TESTDEV_NOTIFY:
		testdev_notify(t);
		return;
	case TESTDEV_ID:
	case TESTDEV_COUNTER:
		pr_warn_once("%s: write to read-only register %#llx ignored",
			     object_path(&t->dev.obj),
			     (unsigned long long)reg);
		return;
	}
	pr_warn_once("%s: write to unknown register %#llx ignored",
		     object_path(&t->dev.obj), (unsigned long long)reg);
}

/* ---- Guest accesses ---------------------------------------------------- */

/*
 * The core never hands us an access wider than 4 bytes or one that
 * crosses a register (max_access_size 4, aligned), so (addr & 3) + size
 * is at most 4.
 */
static uint64_t testdev_access_read(struct testdev *t, uint64_t addr,
				    unsigned size)
{
	unsigned shift = 8 * (unsigned)(addr & 3);

	return (testdev_reg_read(t, addr & ~3ull) >> shift) & size_mask(size);
}

static void testdev_access_write(struct testdev *t, uint64_t addr,
				 uint64_t val, unsigned size)
{
	unsigned shift = 8 * (unsigned)(addr & 3);

	testdev_reg_write(t, addr, (uint32_t)(val << shift),
			  size_mask(size) << shift);
}

static uint64_t testdev_mmio_read(void *opaque, uint64_t addr, unsigned size)
{
	return testdev_access_read(opaque, addr, size);
}

static void testdev_mmio_write(void *opaque, uint64_t addr, uint64_t val,
			       unsigned size)
{
	testdev_access_write(opaque, addr, val, size);
}

/* The port window stops at EXIT; the MMIO-only registers are not in it. */
static uint64_t testdev_pio_read(void *opaque, uint64_t addr, unsigned size)
{
	if (addr > TESTDEV_PIO_LAST + 3)
		return 0;
	return testdev_access_read(opaque, addr, size);
}

static void testdev_pio_write(void *opaque, uint64_t addr, uint64_t val,
			      unsigned size)
{
	if (addr <= TESTDEV_PIO_LAST + 3)
		testdev_access_write(opaque, addr, val, size);
}

static const struct memory_region_ops testdev_mmio_ops = {
	.read = testdev_mmio_read,
	.write = testdev_mmio_write,
	.min_access_size = 1,
	.max_access_size = 4,
};

static const struct memory_region_ops testdev_pio_ops = {
	.read = testdev_pio_read,
	.write = testdev_pio_write,
	.min_access_size = 1,
	.max_access_size = 4,
};

/* ---- Host side --------------------------------------------------------- */

size_t testdev_log(struct testdev *t, char *buf, size_t len)
{
	size_t n;

	pthread_mutex_lock(&t->dev.lock);
	n = t->log_len;
	if (buf)
		memcpy(buf, t->log, n < len ? n : len);
	pthread_mutex_unlock(&t->dev.lock);
	return n;
}

uint32_t testdev_result(struct testdev *t)
{
	uint32_t v;

	pthread_mutex_lock(&t->dev.lock);
	v = t->result;
	pthread_mutex_unlock(&t->dev.lock);
	return v;
}

int testdev_notify_fd(struct testdev *t)
{
	return t->notify_fd;
}

uint64_t testdev_notify_drain(struct testdev *t)
{
	uint64_t cnt;

	if (t->notify_fd < 0)
		return 0;
	/* Non-blocking: EAGAIN means nothing arrived. */
	if (read(t->notify_fd, &cnt, sizeof(cnt)) != sizeof(cnt))
		return 0;
	return cnt;
}

/* ---- Device ------------------------------------------------------------ */

static int testdev_realize(struct device *dev, struct error *err)
{
	struct testdev *t = container_of(dev, struct testdev, dev);
	int ret;

	t->notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (t->notify_fd < 0)
		return error_setf(err, errno,
				  "%s: cannot create the notify eventfd: %s",
				  object_path(&dev->obj), strerror(errno));
	/* Any value, 4 bytes: the doorbell never exits to us under KVM. */
	ret = memory_region_add_eventfd(&t->mmio, TESTDEV_NOTIFY, 4, false, 0,
					t->notify_fd, err);
	if (ret)
		goto err_close;
	return 0;

err_close:
	close(t->notify_fd);
	t->notify_fd = -1;
	return ret;
}

static void testdev_finalize(struct object *obj)
{
	struct testdev *t = container_of(obj, struct testdev, dev.obj);

	/*
	 * Rule 5: only now.  Every view that listed the ioeventfd held us
	 * (rule 4) and has been freed; no handler can still signal it.
	 */
	if (t->notify_fd >= 0)
		close(t->notify_fd);
	t->notify_fd = -1;
}

static const struct device_class testdev_class = {
	.obj = {
		.name = "testdev",
		.size = sizeof(struct testdev),
		.parent = &device_class.obj,
		.finalize = testdev_finalize,
	},
	.realize = testdev_realize,
	.hotpluggable = true,
};

struct testdev *testdev_create(struct object *parent, const char *id,
			       void (*exit_fn)(void *opaque, uint32_t status),
			       void *opaque, struct error *err)
{
	struct testdev *t;
	int ret;

	t = (struct testdev *)object_new(&testdev_class.obj);
	if (!t) {
		error_setf(err, ENOMEM, "out of memory creating test device %s",
			   id);
		return NULL;
	}
	device_init(&t->dev);
	t->notify_fd = -1;
	t->exit_fn = exit_fn;
	t->exit_opaque = opaque;

	ret = memory_region_init_io(&t->mmio, &t->dev.obj, &testdev_mmio_ops,
				    t, "mmio", LAYOUT_TESTDEV_MMIO_SIZE, err);
	if (ret)
		goto err_unref;
	ret = memory_region_init_io(&t->pio, &t->dev.obj, &testdev_pio_ops, t,
				    "pio", LAYOUT_PORT_TESTDEV_SIZE, err);
	if (ret)
		goto err_unref;
	ret = object_add_child(parent ? parent : object_root(), id,
			       &t->dev.obj, err);
	if (ret)
		goto err_unref;
	object_unref(&t->dev.obj);	/* the parent holds it now */
	ret = device_realize(&t->dev, err);
	if (ret)
		goto err_unparent;
	return t;

err_unparent:
	object_unparent(&t->dev.obj);
	return NULL;
err_unref:
	object_unref(&t->dev.obj);
	return NULL;
}
