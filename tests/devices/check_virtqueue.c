// SPDX-License-Identifier: GPL-2.0-only
/*
 * The split virtqueue core (devices/virtio.c), driven directly: a model
 * with a recording transport, rings laid out in a test address space,
 * virtqueue_pop()/push()/should_notify() called on the test thread.
 * Every malformed-queue case must end in DEVICE_NEEDS_RESET, with no
 * crash, nothing read outside guest RAM and every mapping released.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "vdrv.h"

static struct vdrv d;
static struct virtio_dev vdev;
static struct virtqueue *vq;
static long notified, needs_reset;

static void rec_notify(struct virtio_dev *v, struct virtqueue *q)
{
	notified++;
}

static void rec_needs_reset(struct virtio_dev *v)
{
	needs_reset++;
}

static const struct virtio_transport_ops rec_transport = {
	.notify = rec_notify,
	.needs_reset = rec_needs_reset,
};

static const struct virtio_dev_ops dummy_ops = {
	.name = "dummy",
	.device_id = 0x7f,
	.num_queues = 1,
	.queue_size_max = 16,
};

/* An MMIO region at 0x400000: device memory, never a valid buffer. */
static struct memory_region mmio;
static long mmio_reads;

static uint64_t mmio_read(void *opaque, uint64_t addr, unsigned size)
{
	mmio_reads++;
	return 0;
}

static void mmio_write(void *opaque, uint64_t addr, uint64_t val,
		       unsigned size)
{
}

static const struct memory_region_ops mmio_ops = {
	.read = mmio_read,
	.write = mmio_write,
};

#define MMIO_BASE	0x400000ull
#define NUM		16

static long ram_refs;

static void setup_features(uint64_t features)
{
	struct error err = { 0 };

	vd_mem_setup(&d);
	ck_assert_int_eq(memory_region_init_io(&mmio, NULL, &mmio_ops, NULL,
					       "mmio", 0x1000, &err), 0);
	ck_assert_int_eq(memory_region_add_subregion(&d.sysmem, MMIO_BASE,
						     &mmio, &err), 0);
	memset(&vdev, 0, sizeof(vdev));
	ck_assert_int_eq(virtio_dev_init(&vdev, &dummy_ops, 0, &err), 0);
	vdev.transport_ops = &rec_transport;
	vdev.dma_as = &d.as;
	vdev.guest_features = features;
	notified = needs_reset = 0;
	vq = &vdev.vqs[0];
	vq->num = NUM;
	vq->desc_gpa = VD_DESC;
	vq->avail_gpa = VD_AVAIL;
	vq->used_gpa = VD_USED;
	vq->ready = true;
	d.num = NUM;
	memset(vd_host(&d, VD_DESC), 0, 16 * NUM);
	memset(vd_host(&d, VD_AVAIL), 0, 6 + 2 * NUM);
	memset(vd_host(&d, VD_USED), 0, 6 + 8 * NUM);
	rcu_flush();		/* only the current view holds the RAM */
	ram_refs = object_refcount(&d.ram0.obj);
}

static void setup(void)
{
	setup_features(1ull << VIRTIO_F_VERSION_1 |
		       1ull << VIRTIO_RING_F_INDIRECT_DESC);
}

static void teardown(void)
{
	virtqueue_release_rings(vq);
	/* Every mapping released: the RAM's count is back where it was. */
	ck_assert_int_eq(object_refcount(&d.ram0.obj), ram_refs);
	virtio_dev_cleanup(&vdev);
	memory_region_del_subregion(&d.sysmem, &mmio, NULL);
	object_unref(&mmio.obj);
	vd_mem_teardown(&d);
}

static void expect_broken(void)
{
	ck_assert_ptr_null(virtqueue_pop(vq));
	ck_assert(vdev.broken);
	ck_assert_int_eq(needs_reset, 1);
	/* Broken stays broken, and says so once. */
	ck_assert_ptr_null(virtqueue_pop(vq));
	ck_assert_int_eq(needs_reset, 1);
}

START_TEST(empty_queue_pops_nothing)
{
	setup();
	ck_assert_ptr_null(virtqueue_pop(vq));
	ck_assert(!vdev.broken);
	ck_assert(!virtqueue_should_notify(vq));
	teardown();
}
END_TEST

START_TEST(chain_out_then_in_round_trip)
{
	struct virtq_elem *e;
	uint32_t id, len;
	uint8_t *in;

	setup();
	memcpy(vd_host(&d, 0x40000), "header", 6);
	memcpy(vd_host(&d, 0x41000), "payload!", 8);
	vd_desc(&d, 3, 0x40000, 6, VRING_DESC_F_NEXT, 7);
	vd_desc(&d, 7, 0x41000, 8, VRING_DESC_F_NEXT, 2);
	vd_desc(&d, 2, 0x42000, 100, VRING_DESC_F_WRITE, 0);
	vd_add(&d, 3);

	e = virtqueue_pop(vq);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->head, 3);
	ck_assert_uint_eq(e->out_num, 2);
	ck_assert_uint_eq(e->in_num, 1);
	ck_assert_uint_eq(e->out_len, 14);
	ck_assert_uint_eq(e->in_len, 100);
	ck_assert_mem_eq(e->out_sg[0].iov_base, "header", 6);
	ck_assert_mem_eq(e->out_sg[1].iov_base, "payload!", 8);
	in = e->in_sg[0].iov_base;
	ck_assert_ptr_eq(in, vd_host(&d, 0x42000));
	memcpy(in, "done", 4);
	/* Each buffer holds the RAM while mapped (rule 4). */
	ck_assert_int_gt(object_refcount(&d.ram0.obj), ram_refs);
	ck_assert_ptr_null(virtqueue_pop(vq));

	virtqueue_push(vq, e, 4);
	ck_assert_uint_eq(vd_used_idx(&d), 1);
	vd_get_used(&d, &id, &len);
	ck_assert_uint_eq(id, 3);
	ck_assert_uint_eq(len, 4);
	ck_assert_mem_eq(vd_host(&d, 0x42000), "done", 4);
	ck_assert(virtqueue_should_notify(vq));
	ck_assert(!virtqueue_should_notify(vq));	/* nothing new */
	teardown();
}
END_TEST

START_TEST(push_clamps_len_to_writable_space)
{
	struct virtq_elem *e;
	uint32_t id, len;

	setup();
	vd_desc(&d, 0, 0x40000, 16, VRING_DESC_F_WRITE, 0);
	vd_add(&d, 0);
	e = virtqueue_pop(vq);
	ck_assert_ptr_nonnull(e);
	virtqueue_push(vq, e, 1000);
	vd_get_used(&d, &id, &len);
	ck_assert_uint_eq(len, 16);
	teardown();
}
END_TEST

START_TEST(buffer_across_regions_maps_in_pieces)
{
	struct virtq_elem *e;
	uint8_t buf[0x2000];
	long refs1;

	setup();
	refs1 = object_refcount(&d.ram1.obj);
	/* 0x1000 bytes in ram0, 0x1000 in ram1. */
	memset(vd_host(&d, VD_RAM1_BASE - 0x1000), 0xaa, 0x1000);
	memset(vd_host(&d, VD_RAM1_BASE), 0xbb, 0x1000);
	vd_desc(&d, 0, VD_RAM1_BASE - 0x1000, 0x2000, 0, 0);
	vd_add(&d, 0);
	e = virtqueue_pop(vq);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->out_num, 2);
	ck_assert_uint_eq(e->out_len, 0x2000);
	ck_assert_uint_eq(e->out_sg[0].iov_len, 0x1000);
	ck_assert_uint_eq(e->out_sg[1].iov_len, 0x1000);
	ck_assert_uint_eq(iov_to_buf(e->out_sg, e->out_num, 0, buf,
				     sizeof(buf)), 0x2000);
	ck_assert_uint_eq(buf[0xfff], 0xaa);
	ck_assert_uint_eq(buf[0x1000], 0xbb);
	ck_assert_int_eq(object_refcount(&d.ram1.obj), refs1 + 1);
	virtqueue_push(vq, e, 0);
	ck_assert_int_eq(object_refcount(&d.ram1.obj), refs1);
	teardown();
}
END_TEST

START_TEST(indirect_table)
{
	struct virtq_elem *e;
	uint64_t table = 0x50000;

	setup();
	vd_desc_at(&d, table, 0, 0x40000, 16, VRING_DESC_F_NEXT, 1);
	vd_desc_at(&d, table, 1, 0x41000, 512, VRING_DESC_F_NEXT, 2);
	vd_desc_at(&d, table, 2, 0x42000, 1, VRING_DESC_F_WRITE, 0);
	vd_desc(&d, 5, table, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	vd_add(&d, 5);
	e = virtqueue_pop(vq);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->head, 5);
	ck_assert_uint_eq(e->out_num, 2);
	ck_assert_uint_eq(e->in_num, 1);
	ck_assert_uint_eq(e->out_len, 528);
	ck_assert_uint_eq(e->in_len, 1);
	virtqueue_push(vq, e, 1);
	ck_assert(!vdev.broken);
	teardown();
}
END_TEST

START_TEST(zero_length_descriptor_is_skipped)
{
	struct virtq_elem *e;

	setup();
	vd_desc(&d, 0, 0x40000, 0, VRING_DESC_F_NEXT, 1);
	vd_desc(&d, 1, 0x41000, 8, VRING_DESC_F_WRITE, 0);
	vd_add(&d, 0);
	e = virtqueue_pop(vq);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->out_num, 0);
	ck_assert_uint_eq(e->in_num, 1);
	virtqueue_push(vq, e, 0);
	teardown();
}
END_TEST

/* ---- Malformed queues ------------------------------------------------ */

START_TEST(loop_in_chain)
{
	setup();
	vd_desc(&d, 0, 0x40000, 8, VRING_DESC_F_NEXT, 1);
	vd_desc(&d, 1, 0x41000, 8, VRING_DESC_F_NEXT, 0);
	vd_add(&d, 0);
	expect_broken();
	teardown();
}
END_TEST

START_TEST(self_loop)
{
	setup();
	vd_desc(&d, 4, 0x40000, 8, VRING_DESC_F_NEXT, 4);
	vd_add(&d, 4);
	expect_broken();
	teardown();
}
END_TEST

START_TEST(head_index_out_of_range)
{
	setup();
	vd_add(&d, NUM);
	expect_broken();
	teardown();
}
END_TEST

START_TEST(next_index_out_of_range)
{
	setup();
	vd_desc(&d, 0, 0x40000, 8, VRING_DESC_F_NEXT, 0xffff);
	vd_add(&d, 0);
	expect_broken();
	teardown();
}
END_TEST

START_TEST(avail_index_runs_ahead)
{
	setup();
	/* The driver claims more new entries than the queue holds. */
	__atomic_store_n(vd_avail_idx_p(&d), htole16(NUM + 1),
			 __ATOMIC_RELEASE);
	expect_broken();
	teardown();
}
END_TEST

START_TEST(buffer_in_unassigned_memory)
{
	setup();
	vd_desc(&d, 0, VD_HOLE + 0x1000, 8, 0, 0);
	vd_add(&d, 0);
	expect_broken();
	teardown();
}
END_TEST

START_TEST(buffer_running_off_the_end_of_ram)
{
	setup();
	/* Starts in RAM, runs into the hole after ram1. */
	vd_desc(&d, 0, VD_HOLE - 0x800, 0x1000, VRING_DESC_F_WRITE, 0);
	vd_add(&d, 0);
	expect_broken();
	teardown();
}
END_TEST

START_TEST(buffer_in_device_memory)
{
	setup();
	vd_desc(&d, 0, MMIO_BASE, 0x10, VRING_DESC_F_WRITE, 0);
	vd_add(&d, 0);
	expect_broken();
	teardown();
}
END_TEST

START_TEST(buffer_wraps_address_space)
{
	setup();
	vd_desc(&d, 0, UINT64_MAX - 4, 0x100, 0, 0);
	vd_add(&d, 0);
	expect_broken();
	teardown();
}
END_TEST

START_TEST(readable_after_writable)
{
	setup();
	vd_desc(&d, 0, 0x40000, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	vd_desc(&d, 1, 0x41000, 8, 0, 0);
	vd_add(&d, 0);
	expect_broken();
	teardown();
}
END_TEST

START_TEST(nested_indirect)
{
	uint64_t t1 = 0x50000, t2 = 0x51000;

	setup();
	vd_desc_at(&d, t2, 0, 0x40000, 8, 0, 0);
	vd_desc_at(&d, t1, 0, t2, 16, VRING_DESC_F_INDIRECT, 0);
	vd_desc(&d, 0, t1, 16, VRING_DESC_F_INDIRECT, 0);
	vd_add(&d, 0);
	expect_broken();
	teardown();
}
END_TEST

START_TEST(indirect_with_next)
{
	setup();
	vd_desc_at(&d, 0x50000, 0, 0x40000, 8, 0, 0);
	vd_desc(&d, 0, 0x50000, 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT,
		1);
	vd_desc(&d, 1, 0x41000, 8, VRING_DESC_F_WRITE, 0);
	vd_add(&d, 0);
	expect_broken();
	teardown();
}
END_TEST

START_TEST(indirect_length_not_multiple_of_16)
{
	setup();
	vd_desc(&d, 0, 0x50000, 24, VRING_DESC_F_INDIRECT, 0);
	vd_add(&d, 0);
	expect_broken();
	teardown();
}
END_TEST

START_TEST(indirect_chain_too_long)
{
	unsigned i;

	setup();
	/* A table of NUM + 1 descriptors, properly linked: still too long. */
	for (i = 0; i <= NUM; i++)
		vd_desc_at(&d, 0x50000, i, 0x40000, 8,
			   i < NUM ? VRING_DESC_F_NEXT : 0, (uint16_t)(i + 1));
	vd_desc(&d, 0, 0x50000, (NUM + 1) * 16, VRING_DESC_F_INDIRECT, 0);
	vd_add(&d, 0);
	expect_broken();
	teardown();
}
END_TEST

START_TEST(loop_in_indirect_table)
{
	setup();
	vd_desc_at(&d, 0x50000, 0, 0x40000, 8, VRING_DESC_F_NEXT, 1);
	vd_desc_at(&d, 0x50000, 1, 0x41000, 8, VRING_DESC_F_NEXT, 0);
	vd_desc(&d, 0, 0x50000, 2 * 16, VRING_DESC_F_INDIRECT, 0);
	vd_add(&d, 0);
	expect_broken();
	teardown();
}
END_TEST

START_TEST(indirect_table_in_unassigned_memory)
{
	setup();
	vd_desc(&d, 0, VD_HOLE + 0x10000, 32, VRING_DESC_F_INDIRECT, 0);
	vd_add(&d, 0);
	expect_broken();
	teardown();
}
END_TEST

START_TEST(indirect_without_feature)
{
	setup_features(1ull << VIRTIO_F_VERSION_1);
	vd_desc_at(&d, 0x50000, 0, 0x40000, 8, 0, 0);
	vd_desc(&d, 0, 0x50000, 16, VRING_DESC_F_INDIRECT, 0);
	vd_add(&d, 0);
	expect_broken();
	teardown();
}
END_TEST

START_TEST(too_many_buffer_pieces)
{
	uint64_t table = 0x60000;
	unsigned i;

	setup();
	/*
	 * A 1024-entry queue whose one request is an indirect table of 1024
	 * buffers, each straddling ram0 and ram1: 2048 pieces, more than
	 * VIRTQ_SG_MAX.
	 */
	vq->num_max = 1024;
	vq->num = 1024;
	d.num = 1024;
	memset(vd_host(&d, VD_AVAIL), 0, 6 + 2 * 1024);
	for (i = 0; i < 1024; i++)
		vd_desc_at(&d, table, i, VD_RAM1_BASE - 8, 16,
			   i < 1023 ? VRING_DESC_F_NEXT : 0, (uint16_t)(i + 1));
	vd_desc(&d, 0, table, 1024 * 16, VRING_DESC_F_INDIRECT, 0);
	vd_add(&d, 0);
	expect_broken();
	teardown();
}
END_TEST

START_TEST(ring_in_unassigned_memory)
{
	setup();
	vq->used_gpa = VD_HOLE + 0x1000;
	vd_add(&d, 0);
	expect_broken();
	teardown();
}
END_TEST

START_TEST(ring_in_oddly_placed_region)
{
	struct error err = { 0 };
	struct memory_region odd;

	setup();
	/* RAM at an odd guest address: an aligned ring is misaligned in it. */
	ck_assert_int_eq(memory_region_init_ram(&odd, NULL, "odd", 0x1000,
						&err), 0);
	ck_assert_int_eq(memory_region_add_subregion(&d.sysmem, 0x300001,
						     &odd, &err), 0);
	vq->used_gpa = 0x300004;
	vd_add(&d, 0);
	expect_broken();
	virtqueue_release_rings(vq);
	memory_region_del_subregion(&d.sysmem, &odd, NULL);
	object_unref(&odd.obj);
	rcu_flush();
	teardown();
}
END_TEST

START_TEST(indirect_table_at_odd_address)
{
	struct virtq_elem *e;

	setup();
	vd_desc_at(&d, 0x50001, 0, 0x40000, 8, VRING_DESC_F_WRITE, 0);
	vd_desc(&d, 0, 0x50001, 16, VRING_DESC_F_INDIRECT, 0);
	vd_add(&d, 0);
	e = virtqueue_pop(vq);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->in_len, 8);
	virtqueue_push(vq, e, 8);
	teardown();
}
END_TEST

START_TEST(ring_misaligned)
{
	setup();
	vq->desc_gpa = VD_DESC + 8;
	vd_add(&d, 0);
	expect_broken();
	teardown();
}
END_TEST

START_TEST(queue_size_not_power_of_2)
{
	setup();
	vq->num = 12;
	expect_broken();
	teardown();
}
END_TEST

START_TEST(reset_recovers)
{
	struct virtq_elem *e;

	setup();
	vd_add(&d, NUM);
	expect_broken();
	virtio_dev_reset(&vdev);
	ck_assert(!vdev.broken);
	ck_assert(!vq->ready);
	/* The driver sets the queue up again. */
	vdev.guest_features = 1ull << VIRTIO_F_VERSION_1;
	vq->num = NUM;
	vq->desc_gpa = VD_DESC;
	vq->avail_gpa = VD_AVAIL;
	vq->used_gpa = VD_USED;
	vq->ready = true;
	memset(vd_host(&d, VD_AVAIL), 0, 6 + 2 * NUM);
	memset(vd_host(&d, VD_USED), 0, 6 + 8 * NUM);
	d.avail_idx = 0;
	d.used_seen = 0;
	vd_desc(&d, 0, 0x40000, 8, VRING_DESC_F_WRITE, 0);
	vd_add(&d, 0);
	e = virtqueue_pop(vq);
	ck_assert_ptr_nonnull(e);
	virtqueue_push(vq, e, 8);
	ck_assert_uint_eq(vd_used_idx(&d), 1);
	teardown();
}
END_TEST

/* ---- Notification suppression -------------------------------------- */

static void one_request(uint16_t head)
{
	struct virtq_elem *e;

	vd_desc(&d, head, 0x40000 + 0x100 * head, 8, VRING_DESC_F_WRITE, 0);
	vd_add(&d, head);
	e = virtqueue_pop(vq);
	ck_assert_ptr_nonnull(e);
	virtqueue_push(vq, e, 8);
}

START_TEST(no_interrupt_flag)
{
	setup();
	vd_set_avail_flags(&d, VRING_AVAIL_F_NO_INTERRUPT);
	one_request(0);
	ck_assert(!virtqueue_should_notify(vq));
	vd_set_avail_flags(&d, 0);
	one_request(1);
	ck_assert(virtqueue_should_notify(vq));
	teardown();
}
END_TEST

START_TEST(event_idx_used_event)
{
	setup_features(1ull << VIRTIO_F_VERSION_1 |
		       1ull << VIRTIO_RING_F_EVENT_IDX);
	/* The first interrupt is always sent. */
	one_request(0);
	ck_assert(virtqueue_should_notify(vq));
	/* The driver wants to hear when entry 3 is used (idx goes to 4). */
	vd_set_used_event(&d, 3);
	one_request(1);
	ck_assert(!virtqueue_should_notify(vq));
	one_request(2);
	ck_assert(!virtqueue_should_notify(vq));
	one_request(3);
	ck_assert(virtqueue_should_notify(vq));
	/* Several entries at once that cross the event: one interrupt. */
	vd_set_used_event(&d, 5);
	one_request(4);
	one_request(5);
	ck_assert(virtqueue_should_notify(vq));
	/* VRING_AVAIL_F_NO_INTERRUPT is ignored with EVENT_IDX. */
	vd_set_avail_flags(&d, VRING_AVAIL_F_NO_INTERRUPT);
	vd_set_used_event(&d, 6);
	one_request(6);
	ck_assert(virtqueue_should_notify(vq));
	teardown();
}
END_TEST

START_TEST(event_idx_avail_event)
{
	setup_features(1ull << VIRTIO_F_VERSION_1 |
		       1ull << VIRTIO_RING_F_EVENT_IDX);
	one_request(0);
	one_request(1);
	/* Drained: the device asks to be kicked for the next entry. */
	ck_assert_ptr_null(virtqueue_pop(vq));
	ck_assert_uint_eq(vd_avail_event(&d), 2);
	teardown();
}
END_TEST

START_TEST(batch_is_bounded)
{
	struct virtq_elem *e;
	unsigned i, popped = 0;

	setup();
	/* The driver keeps the queue full: a batch still ends. */
	for (i = 0; i < NUM; i++) {
		vd_desc(&d, i, 0x40000 + 0x100 * i, 8, VRING_DESC_F_WRITE, 0);
		vd_add(&d, i);
	}
	while ((e = virtqueue_pop(vq))) {
		uint16_t head = e->head;

		virtqueue_push(vq, e, 0);
		vd_add(&d, head);	/* straight back in */
		popped++;
		ck_assert_uint_le(popped, NUM);
	}
	ck_assert(vq->more);
	ck_assert_uint_eq(popped, NUM);
	teardown();
}
END_TEST

START_TEST(stopping_pops_nothing)
{
	setup();
	vd_desc(&d, 0, 0x40000, 8, VRING_DESC_F_WRITE, 0);
	vd_add(&d, 0);
	__atomic_store_n(&vdev.stopping, true, __ATOMIC_RELEASE);
	ck_assert_ptr_null(virtqueue_pop(vq));
	ck_assert(!vdev.broken);
	teardown();
}
END_TEST

START_TEST(iov_helpers)
{
	char a[4] = "abcd", b[3] = "efg", out[8] = { 0 };
	struct iovec iov[2] = {
		{ .iov_base = a, .iov_len = 4 },
		{ .iov_base = b, .iov_len = 3 },
	};
	struct iovec *p = iov;
	unsigned cnt = 2;

	ck_assert_uint_eq(iov_to_buf(iov, 2, 2, out, 8), 5);
	ck_assert_mem_eq(out, "cdefg", 5);
	ck_assert_uint_eq(iov_from_buf(iov, 2, 3, "XYZ", 3), 3);
	ck_assert_mem_eq(a, "abcX", 4);
	ck_assert_mem_eq(b, "YZg", 3);
	iov_advance(&p, &cnt, 4);
	ck_assert_uint_eq(cnt, 1);
	ck_assert_ptr_eq(p->iov_base, b);
	iov_advance(&p, &cnt, 3);
	ck_assert_uint_eq(cnt, 0);
}
END_TEST

static Suite *virtqueue_suite(void)
{
	Suite *s = suite_create("virtqueue");
	TCase *tc;

	tc = rcu_tcase("basics", 30);
	tcase_add_test(tc, empty_queue_pops_nothing);
	tcase_add_test(tc, chain_out_then_in_round_trip);
	tcase_add_test(tc, push_clamps_len_to_writable_space);
	tcase_add_test(tc, buffer_across_regions_maps_in_pieces);
	tcase_add_test(tc, indirect_table);
	tcase_add_test(tc, indirect_table_at_odd_address);
	tcase_add_test(tc, zero_length_descriptor_is_skipped);
	tcase_add_test(tc, batch_is_bounded);
	tcase_add_test(tc, stopping_pops_nothing);
	tcase_add_test(tc, iov_helpers);
	suite_add_tcase(s, tc);

	tc = rcu_tcase("malformed", 30);
	tcase_add_test(tc, loop_in_chain);
	tcase_add_test(tc, self_loop);
	tcase_add_test(tc, head_index_out_of_range);
	tcase_add_test(tc, next_index_out_of_range);
	tcase_add_test(tc, avail_index_runs_ahead);
	tcase_add_test(tc, buffer_in_unassigned_memory);
	tcase_add_test(tc, buffer_running_off_the_end_of_ram);
	tcase_add_test(tc, buffer_in_device_memory);
	tcase_add_test(tc, buffer_wraps_address_space);
	tcase_add_test(tc, readable_after_writable);
	tcase_add_test(tc, nested_indirect);
	tcase_add_test(tc, indirect_with_next);
	tcase_add_test(tc, indirect_length_not_multiple_of_16);
	tcase_add_test(tc, indirect_chain_too_long);
	tcase_add_test(tc, loop_in_indirect_table);
	tcase_add_test(tc, indirect_table_in_unassigned_memory);
	tcase_add_test(tc, indirect_without_feature);
	tcase_add_test(tc, too_many_buffer_pieces);
	tcase_add_test(tc, ring_in_unassigned_memory);
	tcase_add_test(tc, ring_misaligned);
	tcase_add_test(tc, ring_in_oddly_placed_region);
	tcase_add_test(tc, queue_size_not_power_of_2);
	tcase_add_test(tc, reset_recovers);
	suite_add_tcase(s, tc);

	tc = rcu_tcase("notify", 30);
	tcase_add_test(tc, no_interrupt_flag);
	tcase_add_test(tc, event_idx_used_event);
	tcase_add_test(tc, event_idx_avail_event);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(virtqueue_suite)
