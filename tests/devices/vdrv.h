/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A test-side virtio driver for the virtio suites.
 *
 * Guest memory is a test address space: 1 MiB of RAM at 0 and another
 * 1 MiB region right after it (so a buffer can straddle two regions and
 * its mapping comes back in two pieces), nothing from 2 MiB on, and the
 * transport's window at VD_MMIO_BASE.  The driver writes the transport's
 * registers with address_space_read/write, as a vCPU would, and lays out
 * queue 0 (a split ring) in RAM through host pointers, with atomics on the
 * index fields the device reads concurrently (as a guest's barriers
 * would order them).  Completions are polled, with a time bound.
 */
#ifndef FLATVM_TESTS_VDRV_H
#define FLATVM_TESTS_VDRV_H

#include <endian.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "harness.h"
#include "flatvm/layout.h"
#include "flatvm/virtio.h"

#define VD_RAM_SIZE	0x100000ull
#define VD_RAM1_BASE	0x100000ull
#define VD_HOLE		0x200000ull	/* unassigned from here */
#define VD_MMIO_BASE	LAYOUT_VIRTIO_MMIO_BASE
#define VD_DESC		0x10000ull
#define VD_AVAIL	0x18000ull
#define VD_USED		0x1c000ull
#define VD_HEAP		0x30000ull	/* buffers, bump allocated */
#define VD_TIMEOUT_S	10.0

/* An irq line that counts what it is told. */
struct rec_irq {
	struct irq_line line;
	long raised;			/* set(true) calls */
	/* Called on each set(true), on the raising thread. */
	void (*hook)(struct rec_irq *r);
	void *opaque;
};

static inline void rec_irq_set(struct irq_line *line, bool level)
{
	struct rec_irq *r = container_of(line, struct rec_irq, line);

	if (!level)
		return;
	__atomic_add_fetch(&r->raised, 1, __ATOMIC_SEQ_CST);
	if (r->hook)
		r->hook(r);
}

static inline long rec_irq_count(struct rec_irq *r)
{
	return __atomic_load_n(&r->raised, __ATOMIC_SEQ_CST);
}

struct vdrv {
	struct memory_region sysmem, ram0, ram1;
	struct address_space as;
	uint8_t *host0, *host1;
	struct rec_irq irq;
	struct virtio_mmio *vm;
	struct device *dev;
	long baseline_objects;
	/* Queue 0. */
	uint16_t num;
	uint16_t avail_idx;		/* driver's shadow of avail->idx */
	uint16_t used_seen;		/* used entries consumed */
	uint64_t heap;
	uint64_t features;		/* negotiated */
	/* Finalization, from the transport's notifier. */
	long finalized;
	pthread_t final_thread;
};

static inline double vd_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Host address of guest RAM at @gpa (the test's own view of it). */
static inline void *vd_host(struct vdrv *d, uint64_t gpa)
{
	if (gpa < VD_RAM_SIZE)
		return d->host0 + gpa;
	ck_assert_uint_lt(gpa, VD_HOLE);
	return d->host1 + (gpa - VD_RAM1_BASE);
}

/* Guest memory as seen through the address space. */
static inline void vd_mem_setup(struct vdrv *d)
{
	struct error err = { 0 };

	memset(d, 0, sizeof(*d));
	d->baseline_objects = live_objects();
	ck_assert_int_eq(memory_region_init(&d->sysmem, NULL, "system",
					   UINT64_MAX, &err), 0);
	ck_assert_int_eq(memory_region_init_ram(&d->ram0, NULL, "ram0",
						VD_RAM_SIZE, &err), 0);
	ck_assert_int_eq(memory_region_init_ram(&d->ram1, NULL, "ram1",
						VD_RAM_SIZE, &err), 0);
	memory_region_transaction_begin();
	ck_assert_int_eq(memory_region_add_subregion(&d->sysmem, 0, &d->ram0,
						     &err), 0);
	ck_assert_int_eq(memory_region_add_subregion(&d->sysmem, VD_RAM1_BASE,
						     &d->ram1, &err), 0);
	memory_region_transaction_commit();
	ck_assert_int_eq(address_space_init(&d->as, &d->sysmem, "vdrv", &err),
			 0);
	d->host0 = memory_region_get_ram_ptr(&d->ram0);
	d->host1 = memory_region_get_ram_ptr(&d->ram1);
	d->irq.line.set = rec_irq_set;
	d->irq.line.gsi = LAYOUT_GSI_VIRTIO_BASE;
	d->heap = VD_HEAP;
}

static inline void vd_mem_teardown(struct vdrv *d)
{
	address_space_destroy(&d->as);
	memory_region_del_subregion(&d->sysmem, &d->ram1, NULL);
	memory_region_del_subregion(&d->sysmem, &d->ram0, NULL);
	object_unref(&d->ram1.obj);
	object_unref(&d->ram0.obj);
	object_unref(&d->sysmem.obj);
	rcu_flush();
	ck_assert_int_eq(live_objects(), d->baseline_objects);
}

static inline void vd_finalized(struct device *dev, void *opaque)
{
	struct vdrv *d = opaque;

	d->final_thread = pthread_self();
	__atomic_store_n(&d->finalized, 1, __ATOMIC_RELEASE);
}

/* Map a transport created by the test and watch for its finalization. */
static inline void vd_plug(struct vdrv *d, struct virtio_mmio *vm)
{
	struct error err = { 0 };

	ck_assert_msg(vm != NULL, "cannot create the device");
	d->vm = vm;
	d->dev = virtio_mmio_device(vm);
	device_set_finalized_notifier(d->dev, vd_finalized, d);
	ck_assert_msg(!memory_region_add_subregion(&d->sysmem, VD_MMIO_BASE,
						   virtio_mmio_region(vm),
						   &err), "%s", err.msg);
}

static inline bool vd_is_finalized(struct vdrv *d)
{
	return __atomic_load_n(&d->finalized, __ATOMIC_ACQUIRE);
}

/* Wait (bounded) for the transport to finalize, letting grace periods pass. */
static inline void vd_wait_finalized(struct vdrv *d)
{
	double end = vd_now() + VD_TIMEOUT_S;

	while (!vd_is_finalized(d)) {
		ck_assert_msg(vd_now() < end,
			      "the virtio device did not finalize after unplug");
		rcu_flush();
		usleep(1000);
	}
	rcu_flush();
}

/* Unplug and wait until the transport has finalized. */
static inline void vd_unplug(struct vdrv *d)
{
	struct error err = { 0 };

	ck_assert_msg(!device_unplug(d->dev, &err), "%s", err.msg);
	vd_wait_finalized(d);
}

/* ---- Registers ----------------------------------------------------- */

static inline uint32_t vd_rd(struct vdrv *d, uint64_t off)
{
	uint32_t v = 0;

	address_space_read(&d->as, VD_MMIO_BASE + off, &v, 4);
	return le32toh(v);
}

static inline void vd_wr(struct vdrv *d, uint64_t off, uint32_t v)
{
	v = htole32(v);
	address_space_write(&d->as, VD_MMIO_BASE + off, &v, 4);
}

static inline void vd_wr64(struct vdrv *d, uint64_t lo, uint64_t v)
{
	vd_wr(d, lo, (uint32_t)v);
	vd_wr(d, lo + 4, (uint32_t)(v >> 32));
}

static inline uint64_t vd_device_features(struct vdrv *d)
{
	uint64_t f;

	vd_wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	f = vd_rd(d, VIRTIO_MMIO_DEVICE_FEATURES);
	vd_wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	f |= (uint64_t)vd_rd(d, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	return f;
}

/*
 * Reset and negotiate: accept the device's features masked by @mask.
 * Return: whether the device accepted them (FEATURES_OK read back).
 */
static inline bool vd_negotiate(struct vdrv *d, uint64_t mask)
{
	uint64_t f;
	uint32_t st;

	vd_wr(d, VIRTIO_MMIO_STATUS, 0);
	ck_assert_uint_eq(vd_rd(d, VIRTIO_MMIO_STATUS), 0);
	st = VIRTIO_CONFIG_S_ACKNOWLEDGE;
	vd_wr(d, VIRTIO_MMIO_STATUS, st);
	st |= VIRTIO_CONFIG_S_DRIVER;
	vd_wr(d, VIRTIO_MMIO_STATUS, st);
	f = vd_device_features(d) & mask;
	vd_wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	vd_wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
	vd_wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	vd_wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
	st |= VIRTIO_CONFIG_S_FEATURES_OK;
	vd_wr(d, VIRTIO_MMIO_STATUS, st);
	d->features = f;
	return vd_rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK;
}

static inline bool vd_has(struct vdrv *d, unsigned bit)
{
	return d->features & (1ull << bit);
}

/* Lay out queue 0 with @num entries and make it ready. */
static inline void vd_setup_queue(struct vdrv *d, uint16_t num)
{
	vd_wr(d, VIRTIO_MMIO_QUEUE_SEL, 0);
	ck_assert_uint_ge(vd_rd(d, VIRTIO_MMIO_QUEUE_NUM_MAX), num);
	ck_assert_uint_eq(vd_rd(d, VIRTIO_MMIO_QUEUE_READY), 0);
	memset(vd_host(d, VD_DESC), 0, 16 * (size_t)num);
	memset(vd_host(d, VD_AVAIL), 0, 6 + 2 * (size_t)num);
	memset(vd_host(d, VD_USED), 0, 6 + 8 * (size_t)num);
	d->num = num;
	d->avail_idx = 0;
	d->used_seen = 0;
	vd_wr(d, VIRTIO_MMIO_QUEUE_NUM, num);
	vd_wr64(d, VIRTIO_MMIO_QUEUE_DESC_LOW, VD_DESC);
	vd_wr64(d, VIRTIO_MMIO_QUEUE_AVAIL_LOW, VD_AVAIL);
	vd_wr64(d, VIRTIO_MMIO_QUEUE_USED_LOW, VD_USED);
	vd_wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
	ck_assert_uint_eq(vd_rd(d, VIRTIO_MMIO_QUEUE_READY), 1);
}

static inline void vd_driver_ok(struct vdrv *d)
{
	vd_wr(d, VIRTIO_MMIO_STATUS, vd_rd(d, VIRTIO_MMIO_STATUS) |
	      VIRTIO_CONFIG_S_DRIVER_OK);
}

/* The whole init sequence of spec 3.1.1, queue 0 only. */
static inline void vd_init(struct vdrv *d, uint64_t mask, uint16_t num)
{
	ck_assert_uint_eq(vd_rd(d, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	ck_assert_uint_eq(vd_rd(d, VIRTIO_MMIO_VERSION), 2);
	ck_assert_msg(vd_negotiate(d, mask), "FEATURES_OK refused");
	ck_assert(vd_has(d, VIRTIO_F_VERSION_1));
	vd_setup_queue(d, num);
	vd_driver_ok(d);
}

/* ---- Queue 0 ------------------------------------------------------- */

static inline uint64_t vd_alloc(struct vdrv *d, uint64_t len, uint64_t align)
{
	uint64_t a = (d->heap + align - 1) & ~(align - 1);

	d->heap = a + len;
	ck_assert_uint_le(d->heap, VD_HOLE);
	return a;
}

/* Write descriptor @i of the table at @table (the ring's or indirect). */
static inline void vd_desc_at(struct vdrv *d, uint64_t table, unsigned i,
			      uint64_t addr, uint32_t len, uint16_t flags,
			      uint16_t next)
{
	struct vring_desc desc = {
		.addr = htole64(addr), .len = htole32(len),
		.flags = htole16(flags), .next = htole16(next),
	};

	memcpy(vd_host(d, table + 16ull * i), &desc, sizeof(desc));
}

static inline void vd_desc(struct vdrv *d, unsigned i, uint64_t addr,
			   uint32_t len, uint16_t flags, uint16_t next)
{
	vd_desc_at(d, VD_DESC, i, addr, len, flags, next);
}

static inline uint16_t *vd_avail_idx_p(struct vdrv *d)
{
	return vd_host(d, VD_AVAIL + 2);
}

static inline uint16_t *vd_used_idx_p(struct vdrv *d)
{
	return vd_host(d, VD_USED + 2);
}

/* used_event lives after the available ring, avail_event after the used. */
static inline void vd_set_used_event(struct vdrv *d, uint16_t v)
{
	__atomic_store_n((uint16_t *)vd_host(d, VD_AVAIL + 4 + 2ull * d->num),
			 htole16(v), __ATOMIC_SEQ_CST);
}

static inline uint16_t vd_avail_event(struct vdrv *d)
{
	return le16toh(__atomic_load_n((uint16_t *)vd_host(d, VD_USED + 4 +
							   8ull * d->num),
				       __ATOMIC_SEQ_CST));
}

static inline void vd_set_avail_flags(struct vdrv *d, uint16_t flags)
{
	__atomic_store_n((uint16_t *)vd_host(d, VD_AVAIL), htole16(flags),
			 __ATOMIC_SEQ_CST);
}

/* Make chain @head available (without notifying). */
static inline void vd_add(struct vdrv *d, uint16_t head)
{
	uint16_t *ring = vd_host(d, VD_AVAIL + 4);

	ring[d->avail_idx % d->num] = htole16(head);
	d->avail_idx++;
	/* Release: the descriptors and the entry before the index. */
	__atomic_store_n(vd_avail_idx_p(d), htole16(d->avail_idx),
			 __ATOMIC_SEQ_CST);
}

static inline void vd_notify(struct vdrv *d)
{
	vd_wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
}

static inline void vd_submit(struct vdrv *d, uint16_t head)
{
	vd_add(d, head);
	vd_notify(d);
}

static inline uint16_t vd_used_idx(struct vdrv *d)
{
	return le16toh(__atomic_load_n(vd_used_idx_p(d), __ATOMIC_ACQUIRE));
}

/*
 * Wait (bounded) until the device has used @n more entries than the
 * driver consumed.  The thread stays a good QSBR citizen while it waits.
 */
static inline bool vd_wait_used(struct vdrv *d, uint16_t n)
{
	double end = vd_now() + VD_TIMEOUT_S;

	while ((uint16_t)(vd_used_idx(d) - d->used_seen) < n) {
		if (vd_now() > end)
			return false;
		rcu_quiescent();
		usleep(50);
	}
	return true;
}

/* Consume the next used entry. */
static inline void vd_get_used(struct vdrv *d, uint32_t *id, uint32_t *len)
{
	struct vring_used_elem e;

	memcpy(&e, vd_host(d, VD_USED + 4 + 8ull * (d->used_seen % d->num)),
	       sizeof(e));
	d->used_seen++;
	*id = le32toh(e.id);
	*len = le32toh(e.len);
}

/* Wait (bounded) until Status has @bit. */
static inline bool vd_wait_status(struct vdrv *d, uint32_t bit)
{
	double end = vd_now() + VD_TIMEOUT_S;

	while (!(vd_rd(d, VIRTIO_MMIO_STATUS) & bit)) {
		if (vd_now() > end)
			return false;
		rcu_quiescent();
		usleep(50);
	}
	return true;
}

/* Wait (bounded) until the line was raised @n times in all. */
static inline bool vd_wait_irq(struct vdrv *d, long n)
{
	double end = vd_now() + VD_TIMEOUT_S;

	while (rec_irq_count(&d->irq) < n) {
		if (vd_now() > end)
			return false;
		rcu_quiescent();
		usleep(50);
	}
	return true;
}

/* Give the I/O thread time to (not) do something. */
static inline void vd_settle(void)
{
	unsigned i;

	for (i = 0; i < 20; i++) {
		rcu_quiescent();
		usleep(1000);
	}
}

#endif /* FLATVM_TESTS_VDRV_H */
