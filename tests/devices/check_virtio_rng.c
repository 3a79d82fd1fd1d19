// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-rng (devices/virtio-rng.c): device-writable buffers come back
 * filled from getrandom(2), bounded per request.
 */
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_ids.h>

#include "harness.h"
#include "vdrv.h"

static struct vdrv d;

static void setup(void)
{
	struct error err = { 0 };
	struct virtio_mmio *vm;

	vd_mem_setup(&d);
	vm = virtio_rng_create(NULL, "rng0", &d.irq.line, &d.as, &err);
	ck_assert_msg(vm != NULL, "%s", err.msg);
	vd_plug(&d, vm);
	vd_init(&d, ~0ull, VIRTIO_RNG_QUEUE_SIZE);
}

static void teardown(void)
{
	vd_unplug(&d);
	vd_mem_teardown(&d);
}

static uint32_t request(uint16_t head)
{
	uint32_t id, len;

	vd_submit(&d, head);
	ck_assert_msg(vd_wait_used(&d, 1), "request not completed");
	vd_get_used(&d, &id, &len);
	ck_assert_uint_eq(id, head);
	return len;
}

/* Bytes of @p that are zero: random data has few. */
static size_t zeros(const uint8_t *p, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		n += !p[i];
	return n;
}

START_TEST(returns_random_bytes)
{
	uint8_t *a, *b;

	setup();
	a = vd_host(&d, 0x40000);
	b = vd_host(&d, 0x41000);
	ck_assert_uint_eq(vd_rd(&d, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_RNG);
	memset(a, 0, 256);
	memset(b, 0, 256);
	vd_desc(&d, 0, 0x40000, 256, VRING_DESC_F_WRITE, 0);
	ck_assert_uint_eq(request(0), 256);
	vd_desc(&d, 1, 0x41000, 256, VRING_DESC_F_WRITE, 0);
	ck_assert_uint_eq(request(1), 256);
	ck_assert_int_ne(memcmp(a, b, 256), 0);
	ck_assert_uint_lt(zeros(a, 256), 16);
	ck_assert_uint_lt(zeros(b, 256), 16);
	teardown();
}
END_TEST

START_TEST(fills_every_buffer_of_a_chain)
{
	uint8_t *a, *b, *c;

	setup();
	a = vd_host(&d, 0x40000);
	b = vd_host(&d, VD_RAM1_BASE - 64);	/* end of ram0 */
	c = vd_host(&d, VD_RAM1_BASE);		/* start of ram1 */
	memset(a, 0, 64);
	memset(b, 0, 64);
	memset(c, 0, 64);
	/* A driver-readable buffer is ignored; two writable ones filled,
	 * the second across two RAM regions. */
	vd_desc(&d, 0, 0x42000, 32, VRING_DESC_F_NEXT, 1);
	vd_desc(&d, 1, 0x40000, 64, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
		2);
	vd_desc(&d, 2, VD_RAM1_BASE - 64, 128, VRING_DESC_F_WRITE, 0);
	ck_assert_uint_eq(request(0), 192);
	ck_assert_uint_lt(zeros(a, 64), 8);
	ck_assert_uint_lt(zeros(b, 64), 8);
	ck_assert_uint_lt(zeros(c, 64), 8);
	teardown();
}
END_TEST

START_TEST(request_is_bounded)
{
	setup();
	/* 128 KiB of buffers: only VIRTIO_RNG_REQUEST_MAX are filled. */
	vd_desc(&d, 0, 0x80000, 0x20000, VRING_DESC_F_WRITE, 0);
	ck_assert_uint_eq(request(0), VIRTIO_RNG_REQUEST_MAX);
	teardown();
}
END_TEST

START_TEST(no_writable_buffer)
{
	setup();
	vd_desc(&d, 0, 0x40000, 64, 0, 0);
	ck_assert_uint_eq(request(0), 0);
	teardown();
}
END_TEST

START_TEST(many_requests_in_one_batch)
{
	unsigned i;
	uint32_t id, len;

	setup();
	for (i = 0; i < VIRTIO_RNG_QUEUE_SIZE; i++) {
		vd_desc(&d, i, 0x40000 + 16 * i, 16, VRING_DESC_F_WRITE, 0);
		vd_add(&d, (uint16_t)i);
	}
	vd_notify(&d);
	ck_assert(vd_wait_used(&d, VIRTIO_RNG_QUEUE_SIZE));
	for (i = 0; i < VIRTIO_RNG_QUEUE_SIZE; i++) {
		vd_get_used(&d, &id, &len);
		ck_assert_uint_eq(id, i);
		ck_assert_uint_eq(len, 16);
	}
	teardown();
}
END_TEST

static Suite *virtio_rng_suite(void)
{
	Suite *s = suite_create("virtio-rng");
	TCase *tc = rcu_tcase("rng", 60);

	tcase_add_test(tc, returns_random_bytes);
	tcase_add_test(tc, fills_every_buffer_of_a_chain);
	tcase_add_test(tc, request_is_bounded);
	tcase_add_test(tc, no_writable_buffer);
	tcase_add_test(tc, many_requests_in_one_batch);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(virtio_rng_suite)
