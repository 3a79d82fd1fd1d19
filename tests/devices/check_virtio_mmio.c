// SPDX-License-Identifier: GPL-2.0-only
/*
 * The virtio-mmio transport (devices/virtio-mmio.c), driven by the test
 * driver of vdrv.h through the transport's registers: the register file,
 * the empty slot, feature negotiation, notifications through the
 * ioeventfd and the I/O thread, interrupts and their suppression,
 * DEVICE_NEEDS_RESET, and the lifetime of the transport and its I/O
 * thread across unplug (rule 5).  virtio-rng is the model: it is the
 * simplest one with a queue.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <linux/virtio_ids.h>

#include "harness.h"
#include "vdrv.h"

static struct vdrv d;

static void setup_rng(void)
{
	struct error err = { 0 };
	struct virtio_mmio *vm;

	vd_mem_setup(&d);
	vm = virtio_rng_create(NULL, "rng0", &d.irq.line, &d.as, &err);
	ck_assert_msg(vm != NULL, "%s", err.msg);
	vd_plug(&d, vm);
}

static void teardown(void)
{
	vd_unplug(&d);
	vd_mem_teardown(&d);
}

/* One rng request of @len bytes at @gpa, head 0.  Return: used len. */
static uint32_t rng_request(uint64_t gpa, uint32_t len)
{
	uint32_t id, used;

	vd_desc(&d, 0, gpa, len, VRING_DESC_F_WRITE, 0);
	vd_submit(&d, 0);
	ck_assert_msg(vd_wait_used(&d, 1), "request not completed");
	vd_get_used(&d, &id, &used);
	ck_assert_uint_eq(id, 0);
	return used;
}

START_TEST(register_file)
{
	uint64_t f;

	setup_rng();
	ck_assert_uint_eq(vd_rd(&d, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	ck_assert_uint_eq(vd_rd(&d, VIRTIO_MMIO_VERSION), 2);
	ck_assert_uint_eq(vd_rd(&d, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_RNG);
	ck_assert_uint_eq(vd_rd(&d, VIRTIO_MMIO_VENDOR_ID),
			  VIRTIO_MMIO_VENDOR_FLATVM);
	f = vd_device_features(&d);
	ck_assert(f & (1ull << VIRTIO_F_VERSION_1));
	ck_assert(f & (1ull << VIRTIO_RING_F_INDIRECT_DESC));
	ck_assert(f & (1ull << VIRTIO_RING_F_EVENT_IDX));
	vd_wr(&d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	ck_assert_uint_eq(vd_rd(&d, VIRTIO_MMIO_DEVICE_FEATURES), 0);
	vd_wr(&d, VIRTIO_MMIO_QUEUE_SEL, 0);
	ck_assert_uint_eq(vd_rd(&d, VIRTIO_MMIO_QUEUE_NUM_MAX),
			  VIRTIO_RNG_QUEUE_SIZE);
	vd_wr(&d, VIRTIO_MMIO_QUEUE_SEL, 1);
	ck_assert_uint_eq(vd_rd(&d, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	ck_assert_uint_eq(vd_rd(&d, VIRTIO_MMIO_QUEUE_READY), 0);
	/* No shared memory regions: length -1. */
	vd_wr(&d, VIRTIO_MMIO_SHM_SEL, 0);
	ck_assert_uint_eq(vd_rd(&d, VIRTIO_MMIO_SHM_LEN_LOW), UINT32_MAX);
	ck_assert_uint_eq(vd_rd(&d, VIRTIO_MMIO_SHM_LEN_HIGH), UINT32_MAX);
	ck_assert_uint_eq(vd_rd(&d, VIRTIO_MMIO_CONFIG_GENERATION), 0);
	ck_assert_uint_eq(vd_rd(&d, VIRTIO_MMIO_STATUS), 0);
	ck_assert_uint_eq(vd_rd(&d, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	/* rng has no configuration space. */
	ck_assert_uint_eq(vd_rd(&d, VIRTIO_MMIO_CONFIG), 0);
	teardown();
}
END_TEST

START_TEST(narrow_register_access_ignored)
{
	uint8_t b = 0x55;
	uint16_t w = 0x5555;

	setup_rng();
	address_space_read(&d.as, VD_MMIO_BASE + VIRTIO_MMIO_MAGIC_VALUE, &b,
			   1);
	ck_assert_uint_eq(b, 0);
	address_space_read(&d.as, VD_MMIO_BASE + VIRTIO_MMIO_VERSION, &w, 2);
	ck_assert_uint_eq(w, 0);
	b = VIRTIO_CONFIG_S_ACKNOWLEDGE;
	address_space_write(&d.as, VD_MMIO_BASE + VIRTIO_MMIO_STATUS, &b, 1);
	ck_assert_uint_eq(vd_rd(&d, VIRTIO_MMIO_STATUS), 0);
	teardown();
}
END_TEST

START_TEST(empty_slot_reads_device_id_0)
{
	struct error err = { 0 };
	struct virtio_mmio *vm;

	vd_mem_setup(&d);
	vm = virtio_mmio_create(NULL, "slot3", NULL, &d.irq.line, &d.as,
				&err);
	ck_assert_msg(vm != NULL, "%s", err.msg);
	vd_plug(&d, vm);
	ck_assert_uint_eq(vd_rd(&d, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	ck_assert_uint_eq(vd_rd(&d, VIRTIO_MMIO_VERSION), 2);
	ck_assert_uint_eq(vd_rd(&d, VIRTIO_MMIO_DEVICE_ID), 0);
	ck_assert_uint_eq(vd_device_features(&d), 0);
	ck_assert_uint_eq(vd_rd(&d, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	vd_wr(&d, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	ck_assert_uint_eq(vd_rd(&d, VIRTIO_MMIO_STATUS), 0);
	vd_notify(&d);
	ck_assert_int_eq(rec_irq_count(&d.irq), 0);
	teardown();
}
END_TEST

START_TEST(features_ok_needs_version_1)
{
	uint32_t st;

	setup_rng();
	/* A legacy driver: everything but VERSION_1. */
	ck_assert(!vd_negotiate(&d, ~(1ull << VIRTIO_F_VERSION_1)));
	st = vd_rd(&d, VIRTIO_MMIO_STATUS);
	ck_assert_uint_eq(st, VIRTIO_CONFIG_S_ACKNOWLEDGE |
			  VIRTIO_CONFIG_S_DRIVER);
	/* Features that were not offered are refused too. */
	vd_wr(&d, VIRTIO_MMIO_STATUS, 0);
	vd_wr(&d, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
	      VIRTIO_CONFIG_S_DRIVER);
	vd_wr(&d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	vd_wr(&d, VIRTIO_MMIO_DRIVER_FEATURES, 1u | 1u << 31);
	vd_wr(&d, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
	      VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
	ck_assert(!(vd_rd(&d, VIRTIO_MMIO_STATUS) &
		    VIRTIO_CONFIG_S_FEATURES_OK));
	/* A virtio 1.x driver is accepted after a reset. */
	ck_assert(vd_negotiate(&d, ~0ull));
	/* Features are fixed once FEATURES_OK is set. */
	vd_wr(&d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	vd_wr(&d, VIRTIO_MMIO_DRIVER_FEATURES, 0);
	vd_setup_queue(&d, 8);
	vd_driver_ok(&d);
	ck_assert_uint_eq(rng_request(0x40000, 16), 16);
	teardown();
}
END_TEST

START_TEST(driver_ok_without_features_ok_processes_nothing)
{
	setup_rng();
	vd_wr(&d, VIRTIO_MMIO_STATUS, 0);
	vd_wr(&d, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
	      VIRTIO_CONFIG_S_DRIVER);
	vd_setup_queue(&d, 8);
	vd_wr(&d, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
	      VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_DRIVER_OK);
	vd_desc(&d, 0, 0x40000, 16, VRING_DESC_F_WRITE, 0);
	vd_submit(&d, 0);
	vd_settle();
	ck_assert_uint_eq(vd_used_idx(&d), 0);
	teardown();
}
END_TEST

START_TEST(notify_through_ioeventfd_and_interrupt)
{
	struct address_space_stats st0, st1;

	setup_rng();
	vd_init(&d, ~0ull & ~(1ull << VIRTIO_RING_F_EVENT_IDX), 8);
	address_space_get_stats(&d.as, &st0);
	ck_assert_uint_eq(rng_request(0x40000, 32), 32);
	address_space_get_stats(&d.as, &st1);
	/* The notify write was an ioeventfd hit, not a handler call. */
	ck_assert_uint_eq(st1.eventfd_writes, st0.eventfd_writes + 1);
	/* The interrupt follows the used index. */
	ck_assert(vd_wait_irq(&d, 1));
	vd_settle();
	ck_assert_int_eq(rec_irq_count(&d.irq), 1);
	ck_assert_uint_eq(vd_rd(&d, VIRTIO_MMIO_INTERRUPT_STATUS),
			  VIRTIO_MMIO_INT_VRING);
	vd_wr(&d, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	ck_assert_uint_eq(vd_rd(&d, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	/*
	 * A notify the ioeventfd does not match (8 bytes, split in two
	 * 32-bit writes) reaches the handler: same effect.
	 */
	vd_desc(&d, 1, 0x41000, 8, VRING_DESC_F_WRITE, 0);
	vd_add(&d, 1);
	{
		uint64_t q = 0;

		address_space_write(&d.as, VD_MMIO_BASE +
				    VIRTIO_MMIO_QUEUE_NOTIFY, &q, 8);
	}
	ck_assert(vd_wait_used(&d, 1));
	address_space_get_stats(&d.as, &st0);
	ck_assert_uint_eq(st0.eventfd_writes, st1.eventfd_writes);
	/* Notifies for queues that do not exist are ignored. */
	vd_wr(&d, VIRTIO_MMIO_QUEUE_NOTIFY, 5);
	vd_wr(&d, VIRTIO_MMIO_QUEUE_NOTIFY, 0xffffffff);
	teardown();
}
END_TEST

START_TEST(buffers_made_available_before_driver_ok)
{
	setup_rng();
	ck_assert(vd_negotiate(&d, ~0ull));
	vd_setup_queue(&d, 8);
	vd_desc(&d, 0, 0x40000, 16, VRING_DESC_F_WRITE, 0);
	vd_submit(&d, 0);
	vd_settle();
	ck_assert_uint_eq(vd_used_idx(&d), 0);
	/* DRIVER_OK looks at the queues without another notify. */
	vd_driver_ok(&d);
	ck_assert(vd_wait_used(&d, 1));
	teardown();
}
END_TEST

START_TEST(reset_and_reinit)
{
	setup_rng();
	vd_init(&d, ~0ull, 8);
	ck_assert_uint_eq(rng_request(0x40000, 16), 16);
	vd_wr(&d, VIRTIO_MMIO_STATUS, 0);
	ck_assert_uint_eq(vd_rd(&d, VIRTIO_MMIO_STATUS), 0);
	ck_assert_uint_eq(vd_rd(&d, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	vd_wr(&d, VIRTIO_MMIO_QUEUE_SEL, 0);
	ck_assert_uint_eq(vd_rd(&d, VIRTIO_MMIO_QUEUE_READY), 0);
	/* Indices start from 0 again. */
	vd_init(&d, ~0ull, 16);
	ck_assert_uint_eq(rng_request(0x40000, 16), 16);
	ck_assert_uint_eq(vd_used_idx(&d), 1);
	/* QueueReady = 0 stops a queue; its configuration may change then. */
	vd_wr(&d, VIRTIO_MMIO_QUEUE_READY, 0);
	ck_assert_uint_eq(vd_rd(&d, VIRTIO_MMIO_QUEUE_READY), 0);
	vd_desc(&d, 0, 0x40000, 16, VRING_DESC_F_WRITE, 0);
	vd_submit(&d, 0);
	vd_settle();
	ck_assert_uint_eq(vd_used_idx(&d), 1);
	teardown();
}
END_TEST

START_TEST(malformed_queue_needs_reset)
{
	setup_rng();
	vd_init(&d, ~0ull, 8);
	/* A loop: 0 -> 1 -> 0. */
	vd_desc(&d, 0, 0x40000, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	vd_desc(&d, 1, 0x41000, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 0);
	vd_submit(&d, 0);
	ck_assert(vd_wait_status(&d, VIRTIO_CONFIG_S_NEEDS_RESET));
	/* A configuration change notification. */
	ck_assert(vd_rd(&d, VIRTIO_MMIO_INTERRUPT_STATUS) &
		  VIRTIO_MMIO_INT_CONFIG);
	ck_assert(vd_wait_irq(&d, 1));
	vd_settle();
	ck_assert_int_eq(rec_irq_count(&d.irq), 1);
	/* The driver cannot clear NEEDS_RESET by writing Status. */
	vd_wr(&d, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
	      VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK |
	      VIRTIO_CONFIG_S_DRIVER_OK);
	ck_assert(vd_rd(&d, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
	/* Valid requests are ignored until a reset. */
	vd_desc(&d, 2, 0x42000, 8, VRING_DESC_F_WRITE, 0);
	vd_submit(&d, 2);
	vd_settle();
	ck_assert_uint_eq(vd_used_idx(&d), 0);
	/* After a reset the device works again. */
	vd_init(&d, ~0ull, 8);
	ck_assert(!(vd_rd(&d, VIRTIO_MMIO_STATUS) &
		    VIRTIO_CONFIG_S_NEEDS_RESET));
	ck_assert_uint_eq(rng_request(0x40000, 8), 8);
	teardown();
}
END_TEST

START_TEST(malformed_ring_address)
{
	setup_rng();
	ck_assert(vd_negotiate(&d, ~0ull));
	vd_wr(&d, VIRTIO_MMIO_QUEUE_SEL, 0);
	vd_wr(&d, VIRTIO_MMIO_QUEUE_NUM, 8);
	vd_wr64(&d, VIRTIO_MMIO_QUEUE_DESC_LOW, VD_HOLE);	/* no RAM */
	vd_wr64(&d, VIRTIO_MMIO_QUEUE_AVAIL_LOW, VD_AVAIL);
	vd_wr64(&d, VIRTIO_MMIO_QUEUE_USED_LOW, VD_USED);
	vd_wr(&d, VIRTIO_MMIO_QUEUE_READY, 1);
	vd_driver_ok(&d);
	vd_notify(&d);
	ck_assert(vd_wait_status(&d, VIRTIO_CONFIG_S_NEEDS_RESET));
	teardown();
}
END_TEST

/*
 * Buffers and rings in the transport's own registers: refused, and no
 * deadlock (mapping device memory for reading calls our read handler on
 * the I/O thread, which holds the queue lock; reads take only the
 * register lock).
 */
START_TEST(ring_pointing_at_the_window_itself)
{
	setup_rng();
	vd_init(&d, ~0ull, 8);
	switch (_i) {
	case 0:		/* device-writable buffer on Status */
		vd_desc(&d, 0, VD_MMIO_BASE + VIRTIO_MMIO_STATUS, 4,
			VRING_DESC_F_WRITE, 0);
		break;
	case 1:		/* driver-readable buffer: read when mapped */
		vd_desc(&d, 0, VD_MMIO_BASE, 0x100, VRING_DESC_F_NEXT, 1);
		vd_desc(&d, 1, 0x40000, 8, VRING_DESC_F_WRITE, 0);
		break;
	case 2:		/* the descriptor table itself */
		vd_wr(&d, VIRTIO_MMIO_STATUS, 0);
		ck_assert(vd_negotiate(&d, ~0ull));
		vd_wr(&d, VIRTIO_MMIO_QUEUE_SEL, 0);
		vd_wr(&d, VIRTIO_MMIO_QUEUE_NUM, 8);
		vd_wr64(&d, VIRTIO_MMIO_QUEUE_DESC_LOW, VD_MMIO_BASE);
		vd_wr64(&d, VIRTIO_MMIO_QUEUE_AVAIL_LOW, VD_AVAIL);
		vd_wr64(&d, VIRTIO_MMIO_QUEUE_USED_LOW, VD_USED);
		vd_wr(&d, VIRTIO_MMIO_QUEUE_READY, 1);
		vd_driver_ok(&d);
		break;
	}
	vd_submit(&d, 0);
	ck_assert(vd_wait_status(&d, VIRTIO_CONFIG_S_NEEDS_RESET));
	/* The registers still answer. */
	ck_assert_uint_eq(vd_rd(&d, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	teardown();
}
END_TEST

START_TEST(event_idx_suppresses_interrupts)
{
	unsigned i;

	setup_rng();
	vd_init(&d, ~0ull, 16);
	ck_assert(vd_has(&d, VIRTIO_RING_F_EVENT_IDX));
	/* The driver wants an interrupt when entry 4 is used. */
	vd_set_used_event(&d, 4);
	for (i = 0; i < 4; i++)
		ck_assert_uint_eq(rng_request(0x40000, 8), 8);
	/* The first is always signalled; then none until the event. */
	ck_assert(vd_wait_irq(&d, 1));
	vd_settle();
	ck_assert_int_eq(rec_irq_count(&d.irq), 1);
	ck_assert_uint_eq(rng_request(0x40000, 8), 8);
	ck_assert(vd_wait_irq(&d, 2));
	vd_settle();
	ck_assert_int_eq(rec_irq_count(&d.irq), 2);
	/* The device asks to be notified for the next entry. */
	ck_assert_uint_eq(vd_avail_event(&d), 5);
	teardown();
}
END_TEST

START_TEST(no_interrupt_flag_suppresses_interrupts)
{
	setup_rng();
	vd_init(&d, ~(1ull << VIRTIO_RING_F_EVENT_IDX), 8);
	vd_set_avail_flags(&d, VRING_AVAIL_F_NO_INTERRUPT);
	ck_assert_uint_eq(rng_request(0x40000, 8), 8);
	ck_assert_uint_eq(rng_request(0x40000, 8), 8);
	vd_settle();
	ck_assert_int_eq(rec_irq_count(&d.irq), 0);
	vd_set_avail_flags(&d, 0);
	ck_assert_uint_eq(rng_request(0x40000, 8), 8);
	ck_assert(vd_wait_irq(&d, 1));
	vd_settle();
	ck_assert_int_eq(rec_irq_count(&d.irq), 1);
	teardown();
}
END_TEST

START_TEST(create_errors)
{
	struct error err = { 0 };
	struct virtio_dev *vdev;

	vd_mem_setup(&d);
	/* A model without an address space for its queues. */
	vdev = virtio_rng_new(&err);
	ck_assert_ptr_nonnull(vdev);
	ck_assert_ptr_null(virtio_mmio_create(NULL, "rngx", vdev, NULL, NULL,
					      &err));
	ck_assert_int_eq(err.code, -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "address space"));
	/* A name already taken under the parent. */
	{
		struct virtio_mmio *a, *b;

		error_clear(&err);
		a = virtio_rng_create(NULL, "rngdup", NULL, &d.as, &err);
		ck_assert_ptr_nonnull(a);
		b = virtio_rng_create(NULL, "rngdup", NULL, &d.as, &err);
		ck_assert_ptr_null(b);
		ck_assert_int_eq(err.code, -EEXIST);
		vd_plug(&d, a);
	}
	teardown();
}
END_TEST

/*
 * Realize fails when only @_i descriptors are free (at the epoll fd,
 * then the stop eventfd, then queue 0's eventfd): the transport unwinds and
 * finalizes, releasing the model, every fd and every object.
 */
START_TEST(realize_failure_unwinds)
{
	struct rlimit rl, saved;
	struct error err = { 0 };
	int fds[128], n = 0, i, probe;

	vd_mem_setup(&d);
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &saved), 0);
	rl = saved;
	rl.rlim_cur = 128;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	while (n < 128 && (fds[n] = open("/dev/null", O_RDONLY)) >= 0)
		n++;
	ck_assert_int_lt(n, 128);
	for (i = 0; i < _i; i++)
		close(fds[--n]);
	ck_assert_ptr_null(virtio_rng_create(NULL, "rngfail", &d.irq.line,
					     &d.as, &err));
	ck_assert_int_eq(err.code, -EMFILE);
	ck_assert_ptr_nonnull(strstr(err.msg, "rngfail"));
	/* Every descriptor realize took is free again. */
	for (i = 0; i < _i; i++) {
		probe = open("/dev/null", O_RDONLY);
		ck_assert_int_ge(probe, 0);
		fds[n++] = probe;
	}
	ck_assert_int_lt(open("/dev/null", O_RDONLY), 0);
	while (n)
		close(fds[--n]);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &saved), 0);
	rcu_flush();
	vd_mem_teardown(&d);
}
END_TEST

/* ---- Lifetime ------------------------------------------------------ */

/*
 * An irq hook that, once armed, parks the I/O thread in the middle of a
 * batch (queue lock held, rings mapped), offline as a blocking call
 * should be, until the test releases it.
 */
static int park_armed, parked, park_release;
static pthread_t io_thread;

static void park_hook(struct rec_irq *r)
{
	double end = vd_now() + VD_TIMEOUT_S;

	io_thread = pthread_self();
	if (!__atomic_exchange_n(&park_armed, 0, __ATOMIC_SEQ_CST))
		return;
	rcu_thread_offline();
	__atomic_store_n(&parked, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&park_release, __ATOMIC_SEQ_CST) &&
	       vd_now() < end)
		usleep(100);
	rcu_thread_online();
}

static void wait_parked(void)
{
	double end = vd_now() + VD_TIMEOUT_S;

	while (!__atomic_load_n(&parked, __ATOMIC_SEQ_CST)) {
		ck_assert_msg(vd_now() < end, "the I/O thread never parked");
		rcu_quiescent();
		usleep(100);
	}
}

START_TEST(finalize_on_the_io_thread)
{
	struct error err = { 0 };

	setup_rng();
	vd_init(&d, ~0ull, 8);
	d.irq.hook = park_hook;
	__atomic_store_n(&park_armed, 1, __ATOMIC_SEQ_CST);
	vd_desc(&d, 0, 0x40000, 8, VRING_DESC_F_WRITE, 0);
	vd_submit(&d, 0);
	wait_parked();
	/* Unplug does not wait for the busy I/O thread. */
	ck_assert_msg(!device_unplug(d.dev, &err), "%s", err.msg);
	/* The old view is gone: only the I/O thread holds the transport. */
	rcu_flush();
	ck_assert(!vd_is_finalized(&d));
	ck_assert_int_eq(object_refcount(&d.dev->obj), 1);
	__atomic_store_n(&park_release, 1, __ATOMIC_SEQ_CST);
	vd_wait_finalized(&d);
	ck_assert(pthread_equal(d.final_thread, io_thread));
	/* The request in flight at unplug completed. */
	ck_assert_uint_eq(vd_used_idx(&d), 1);
	vd_mem_teardown(&d);
}
END_TEST

START_TEST(finalize_after_the_io_thread_stopped)
{
	struct error err = { 0 };
	double end;

	setup_rng();
	vd_init(&d, ~0ull, 8);
	d.irq.hook = park_hook;		/* records the I/O thread */
	ck_assert_uint_eq(rng_request(0x40000, 8), 8);
	ck_assert_msg(!device_unplug(d.dev, &err), "%s", err.msg);
	/* The I/O thread lets go on its own; the old view still holds it. */
	end = vd_now() + VD_TIMEOUT_S;
	while (object_refcount(&d.dev->obj) > 1) {
		ck_assert_msg(vd_now() < end, "the I/O thread did not stop");
		usleep(100);
	}
	ck_assert(!vd_is_finalized(&d));
	/* The grace period ends it, on the call_rcu thread. */
	vd_wait_finalized(&d);
	ck_assert(!pthread_equal(d.final_thread, io_thread));
	ck_assert(!pthread_equal(d.final_thread, pthread_self()));
	vd_mem_teardown(&d);
}
END_TEST

START_TEST(unplug_never_realized_or_idle)
{
	struct error err = { 0 };
	struct virtio_mmio *vm;

	vd_mem_setup(&d);
	/* Never mapped, never initialized by a driver. */
	vm = virtio_rng_create(NULL, "rng1", &d.irq.line, &d.as, &err);
	ck_assert_ptr_nonnull(vm);
	d.vm = vm;
	d.dev = virtio_mmio_device(vm);
	device_set_finalized_notifier(d.dev, vd_finalized, &d);
	ck_assert(!device_unplug(d.dev, &err));
	vd_wait_finalized(&d);
	vd_mem_teardown(&d);
}
END_TEST

/* vCPU-like threads hammering the registers while the device goes away. */
static int readers_stop;
static long bad_reads;

static void *register_reader(void *opaque)
{
	unsigned n = 0;
	uint32_t v;

	rcu_thread_register();
	while (!__atomic_load_n(&readers_stop, __ATOMIC_ACQUIRE)) {
		v = vd_rd(&d, VIRTIO_MMIO_MAGIC_VALUE);
		if (v != 0x74726976 && v != UINT32_MAX)
			__atomic_add_fetch(&bad_reads, 1, __ATOMIC_RELAXED);
		vd_rd(&d, VIRTIO_MMIO_INTERRUPT_STATUS);
		vd_wr(&d, VIRTIO_MMIO_INTERRUPT_ACK, 3);
		vd_rd(&d, VIRTIO_MMIO_STATUS);
		vd_notify(&d);
		if (!(++n % 64))
			rcu_quiescent();
	}
	rcu_thread_unregister();
	return NULL;
}

START_TEST(unplug_under_register_traffic)
{
	pthread_t t[3];
	unsigned i;

	setup_rng();
	vd_init(&d, ~0ull, 8);
	readers_stop = 0;
	for (i = 0; i < ARRAY_SIZE(t); i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, register_reader,
						NULL), 0);
	vd_settle();
	vd_unplug(&d);
	vd_settle();
	__atomic_store_n(&readers_stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < ARRAY_SIZE(t); i++)
		pthread_join(t[i], NULL);
	ck_assert_int_eq(bad_reads, 0);
	/* Unplugged: the window is unassigned now. */
	ck_assert_uint_eq(vd_rd(&d, VIRTIO_MMIO_MAGIC_VALUE), UINT32_MAX);
	vd_mem_teardown(&d);
}
END_TEST

static Suite *virtio_mmio_suite(void)
{
	Suite *s = suite_create("virtio-mmio");
	TCase *tc;

	tc = rcu_tcase("registers", 60);
	tcase_add_test(tc, register_file);
	tcase_add_test(tc, narrow_register_access_ignored);
	tcase_add_test(tc, empty_slot_reads_device_id_0);
	tcase_add_test(tc, features_ok_needs_version_1);
	tcase_add_test(tc, driver_ok_without_features_ok_processes_nothing);
	tcase_add_test(tc, create_errors);
	tcase_add_loop_test(tc, realize_failure_unwinds, 0, 3);
	suite_add_tcase(s, tc);

	tc = rcu_tcase("queues", 60);
	tcase_add_test(tc, notify_through_ioeventfd_and_interrupt);
	tcase_add_test(tc, buffers_made_available_before_driver_ok);
	tcase_add_test(tc, reset_and_reinit);
	tcase_add_test(tc, malformed_queue_needs_reset);
	tcase_add_test(tc, malformed_ring_address);
	tcase_add_loop_test(tc, ring_pointing_at_the_window_itself, 0, 3);
	tcase_add_test(tc, event_idx_suppresses_interrupts);
	tcase_add_test(tc, no_interrupt_flag_suppresses_interrupts);
	suite_add_tcase(s, tc);

	tc = rcu_tcase("lifetime", 60);
	tcase_add_test(tc, finalize_on_the_io_thread);
	tcase_add_test(tc, finalize_after_the_io_thread_stopped);
	tcase_add_test(tc, unplug_never_realized_or_idle);
	tcase_add_test(tc, unplug_under_register_traffic);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(virtio_mmio_suite)
