// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-blk (devices/virtio-blk.c) against temporary files: reads,
 * writes, flush and GET_ID round trips (the bytes are in the file when
 * the used element appears), read-only disks, requests past the end,
 * free framing and indirect tables, and unplug while the driver keeps
 * submitting (labelled "concurrency": every request submitted before the
 * unplug either completed, with its data in the file, or never started,
 * leaving the file untouched; nothing leaks).
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>

#include "harness.h"
#include "vdrv.h"

static struct vdrv d;
static char path[64];
static int fd = -1;		/* the test's own view of the file */

/* Buffers for the serial requests of most tests. */
#define HDR	0x40000ull
#define DATA	0x41000ull	/* up to 64 KiB */
#define STATUS	0x51000ull

static void make_file(off_t size)
{
	snprintf(path, sizeof(path), "/tmp/flatvm-vblk-XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, size), 0);
}

static void setup_disk(off_t size, bool readonly, uint64_t mask)
{
	struct error err = { 0 };
	struct virtio_mmio *vm;

	vd_mem_setup(&d);
	make_file(size);
	vm = virtio_blk_create(NULL, "vblk0", path, readonly, &d.irq.line,
			       &d.as, &err);
	ck_assert_msg(vm != NULL, "%s", err.msg);
	vd_plug(&d, vm);
	vd_init(&d, mask, 128);
}

static void teardown(void)
{
	vd_unplug(&d);
	vd_mem_teardown(&d);
	close(fd);
	unlink(path);
}

static void put_hdr(uint64_t gpa, uint32_t type, uint64_t sector)
{
	struct virtio_blk_outhdr h = {
		.type = htole32(type), .sector = htole64(sector),
	};

	memcpy(vd_host(&d, gpa), &h, sizeof(h));
}

/*
 * One request: header, data (driver-readable for writes, device-writable
 * otherwise), status.  Waits for it.  Return: the status byte.
 */
static uint8_t blk_req(uint32_t type, uint64_t sector, uint64_t data,
		       uint32_t len)
{
	bool dev_writes = type != VIRTIO_BLK_T_OUT;
	uint32_t id, used;
	uint8_t *st = vd_host(&d, STATUS);

	put_hdr(HDR, type, sector);
	*st = 0xee;
	vd_desc(&d, 0, HDR, 16, VRING_DESC_F_NEXT, 1);
	if (len) {
		vd_desc(&d, 1, data, len, VRING_DESC_F_NEXT |
			(dev_writes ? VRING_DESC_F_WRITE : 0), 2);
		vd_desc(&d, 2, STATUS, 1, VRING_DESC_F_WRITE, 0);
	} else {
		vd_desc(&d, 1, STATUS, 1, VRING_DESC_F_WRITE, 0);
	}
	vd_submit(&d, 0);
	ck_assert_msg(vd_wait_used(&d, 1), "request not completed");
	vd_get_used(&d, &id, &used);
	ck_assert_uint_eq(id, 0);
	ck_assert_uint_eq(used, (dev_writes ? len : 0) + 1);
	return *st;
}

static void fill(uint64_t gpa, size_t len, unsigned seed)
{
	uint8_t *p = vd_host(&d, gpa);
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 8));
}

static uint32_t cfg32(unsigned off)
{
	return vd_rd(&d, VIRTIO_MMIO_CONFIG + off);
}

START_TEST(config_and_features)
{
	uint64_t cap;

	setup_disk(1 << 20, false, ~0ull);
	ck_assert_uint_eq(vd_rd(&d, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BLOCK);
	ck_assert(vd_has(&d, VIRTIO_BLK_F_FLUSH));
	ck_assert(vd_has(&d, VIRTIO_BLK_F_SEG_MAX));
	ck_assert(vd_has(&d, VIRTIO_BLK_F_BLK_SIZE));
	ck_assert(!vd_has(&d, VIRTIO_BLK_F_RO));
	cap = cfg32(0) | (uint64_t)cfg32(4) << 32;
	ck_assert_uint_eq(cap, (1 << 20) / 512);
	ck_assert_uint_eq(cfg32(offsetof(struct virtio_blk_config, seg_max)),
			  VIRTIO_BLK_QUEUE_SIZE - 2);
	ck_assert_uint_eq(cfg32(offsetof(struct virtio_blk_config, blk_size)),
			  512);
	/* Byte reads of the configuration space work too. */
	{
		uint8_t b = 0;

		address_space_read(&d.as, VD_MMIO_BASE + VIRTIO_MMIO_CONFIG + 1,
				   &b, 1);
		ck_assert_uint_eq(b, ((1 << 20) / 512) >> 8);
	}
	/* Past the end of the configuration space: 0. */
	ck_assert_uint_eq(vd_rd(&d, VIRTIO_MMIO_CONFIG + 0x80), 0);
	teardown();
}
END_TEST

START_TEST(write_is_in_the_file_when_used)
{
	uint8_t buf[1024];

	setup_disk(1 << 20, false, ~0ull);
	fill(DATA, 1024, 1);
	ck_assert_uint_eq(blk_req(VIRTIO_BLK_T_OUT, 3, DATA, 1024),
			  VIRTIO_BLK_S_OK);
	/* No flush: the used element alone says the write is in the file. */
	ck_assert_int_eq(pread(fd, buf, sizeof(buf), 3 * 512), sizeof(buf));
	ck_assert_mem_eq(buf, vd_host(&d, DATA), sizeof(buf));
	ck_assert_uint_eq(blk_req(VIRTIO_BLK_T_FLUSH, 0, 0, 0),
			  VIRTIO_BLK_S_OK);
	teardown();
}
END_TEST

START_TEST(read_returns_the_file)
{
	uint8_t buf[4096];
	unsigned i;

	setup_disk(1 << 20, false, ~0ull);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 13 + 5);
	ck_assert_int_eq(pwrite(fd, buf, sizeof(buf), 100 * 512),
			 sizeof(buf));
	memset(vd_host(&d, DATA), 0, sizeof(buf));
	ck_assert_uint_eq(blk_req(VIRTIO_BLK_T_IN, 100, DATA, sizeof(buf)),
			  VIRTIO_BLK_S_OK);
	ck_assert_mem_eq(vd_host(&d, DATA), buf, sizeof(buf));
	/* And a write read back through the device. */
	fill(DATA, 512, 9);
	memcpy(buf, vd_host(&d, DATA), 512);
	ck_assert_uint_eq(blk_req(VIRTIO_BLK_T_OUT, 7, DATA, 512),
			  VIRTIO_BLK_S_OK);
	memset(vd_host(&d, DATA), 0, 512);
	ck_assert_uint_eq(blk_req(VIRTIO_BLK_T_IN, 7, DATA, 512),
			  VIRTIO_BLK_S_OK);
	ck_assert_mem_eq(vd_host(&d, DATA), buf, 512);
	teardown();
}
END_TEST

START_TEST(get_id_is_the_device_id)
{
	uint8_t *id;

	setup_disk(1 << 20, false, ~0ull);
	memset(vd_host(&d, DATA), 0xff, VIRTIO_BLK_ID_BYTES);
	ck_assert_uint_eq(blk_req(VIRTIO_BLK_T_GET_ID, 0, DATA,
				  VIRTIO_BLK_ID_BYTES), VIRTIO_BLK_S_OK);
	id = vd_host(&d, DATA);
	ck_assert_mem_eq(id, "vblk0", 5);
	ck_assert_uint_eq(id[5], 0);
	ck_assert_uint_eq(id[VIRTIO_BLK_ID_BYTES - 1], 0);
	teardown();
}
END_TEST

START_TEST(unsupported_request)
{
	setup_disk(1 << 20, false, ~0ull);
	ck_assert_uint_eq(blk_req(VIRTIO_BLK_T_DISCARD, 0, DATA, 16),
			  VIRTIO_BLK_S_UNSUPP);
	teardown();
}
END_TEST

START_TEST(read_only_disk_refuses_writes)
{
	uint8_t buf[512], zero[512] = { 0 };

	setup_disk(1 << 20, true, ~0ull);
	ck_assert(vd_has(&d, VIRTIO_BLK_F_RO));
	fill(DATA, 512, 3);
	ck_assert_uint_eq(blk_req(VIRTIO_BLK_T_OUT, 0, DATA, 512),
			  VIRTIO_BLK_S_IOERR);
	ck_assert_int_eq(pread(fd, buf, 512, 0), 512);
	ck_assert_mem_eq(buf, zero, 512);
	ck_assert_uint_eq(blk_req(VIRTIO_BLK_T_IN, 0, DATA, 512),
			  VIRTIO_BLK_S_OK);
	ck_assert_mem_eq(vd_host(&d, DATA), zero, 512);
	ck_assert_uint_eq(blk_req(VIRTIO_BLK_T_FLUSH, 0, 0, 0),
			  VIRTIO_BLK_S_OK);
	teardown();
}
END_TEST

START_TEST(request_past_the_end)
{
	struct stat st;
	uint64_t cap = (1 << 20) / 512;
	uint8_t buf[512];

	setup_disk(1 << 20, false, ~0ull);
	fill(DATA, 4096, 4);
	/* Entirely past, straddling the end, and overflowing sector * 512. */
	ck_assert_uint_eq(blk_req(VIRTIO_BLK_T_IN, cap, DATA, 512),
			  VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(blk_req(VIRTIO_BLK_T_OUT, cap - 1, DATA, 1024),
			  VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(blk_req(VIRTIO_BLK_T_OUT, UINT64_MAX / 256, DATA,
				  512), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(blk_req(VIRTIO_BLK_T_OUT, UINT64_MAX, DATA, 512),
			  VIRTIO_BLK_S_IOERR);
	/* Nothing was written, the file did not grow. */
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(st.st_size, 1 << 20);
	ck_assert_int_eq(pread(fd, buf, 512, (cap - 1) * 512), 512);
	ck_assert_uint_eq(buf[0], 0);
	/* The last sector itself is fine. */
	ck_assert_uint_eq(blk_req(VIRTIO_BLK_T_OUT, cap - 1, DATA, 512),
			  VIRTIO_BLK_S_OK);
	/* Data that is not whole sectors. */
	ck_assert_uint_eq(blk_req(VIRTIO_BLK_T_OUT, 0, DATA, 100),
			  VIRTIO_BLK_S_IOERR);
	teardown();
}
END_TEST

START_TEST(partial_last_sector_is_invisible)
{
	struct stat st;
	uint64_t cap;

	setup_disk(4 * 512 + 100, false, ~0ull);
	cap = cfg32(0) | (uint64_t)cfg32(4) << 32;
	ck_assert_uint_eq(cap, 4);
	fill(DATA, 512, 5);
	ck_assert_uint_eq(blk_req(VIRTIO_BLK_T_OUT, 3, DATA, 512),
			  VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(blk_req(VIRTIO_BLK_T_OUT, 4, DATA, 512),
			  VIRTIO_BLK_S_IOERR);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(st.st_size, 4 * 512 + 100);
	teardown();
}
END_TEST

START_TEST(free_framing_and_indirect)
{
	uint64_t table = 0x60000, data = VD_RAM1_BASE - 1024;
	uint8_t buf[3 * 512];
	uint32_t id, len;
	uint8_t *st;

	setup_disk(1 << 20, false, ~0ull);
	st = vd_host(&d, STATUS);
	ck_assert(vd_has(&d, VIRTIO_RING_F_INDIRECT_DESC));
	/*
	 * Header in two pieces, data in two descriptors (the second
	 * straddling ram0 and ram1), status in one, all in an indirect
	 * table.
	 */
	put_hdr(HDR, VIRTIO_BLK_T_OUT, 10);
	fill(DATA, 512, 6);
	fill(data, 1024, 7);
	memcpy(buf, vd_host(&d, DATA), 512);
	memcpy(buf + 512, vd_host(&d, data), 1024);
	vd_desc_at(&d, table, 0, HDR, 8, VRING_DESC_F_NEXT, 1);
	vd_desc_at(&d, table, 1, HDR + 8, 8, VRING_DESC_F_NEXT, 2);
	vd_desc_at(&d, table, 2, DATA, 512, VRING_DESC_F_NEXT, 3);
	vd_desc_at(&d, table, 3, data, 1024, VRING_DESC_F_NEXT, 4);
	vd_desc_at(&d, table, 4, STATUS, 1, VRING_DESC_F_WRITE, 0);
	vd_desc(&d, 9, table, 5 * 16, VRING_DESC_F_INDIRECT, 0);
	*st = 0xee;
	vd_submit(&d, 9);
	ck_assert(vd_wait_used(&d, 1));
	vd_get_used(&d, &id, &len);
	ck_assert_uint_eq(id, 9);
	ck_assert_uint_eq(*st, VIRTIO_BLK_S_OK);
	{
		uint8_t file[sizeof(buf)];

		ck_assert_int_eq(pread(fd, file, sizeof(file), 10 * 512),
				 sizeof(file));
		ck_assert_mem_eq(file, buf, sizeof(file));
	}
	/* Read it back into one buffer whose last byte is the status. */
	put_hdr(HDR, VIRTIO_BLK_T_IN, 10);
	vd_desc(&d, 4, HDR, 16, VRING_DESC_F_NEXT, 5);
	vd_desc(&d, 5, DATA + 0x2000, sizeof(buf) + 1, VRING_DESC_F_WRITE, 0);
	vd_submit(&d, 4);
	ck_assert(vd_wait_used(&d, 1));
	vd_get_used(&d, &id, &len);
	ck_assert_uint_eq(id, 4);
	ck_assert_uint_eq(len, sizeof(buf) + 1);
	ck_assert_mem_eq(vd_host(&d, DATA + 0x2000), buf, sizeof(buf));
	ck_assert_uint_eq(*(uint8_t *)vd_host(&d, DATA + 0x2000 + sizeof(buf)),
			  VIRTIO_BLK_S_OK);
	teardown();
}
END_TEST

START_TEST(malformed_requests)
{
	uint32_t id, len;

	setup_disk(1 << 20, false, ~0ull);
	/* Header too short: IOERR in the status byte. */
	vd_desc(&d, 0, HDR, 8, VRING_DESC_F_NEXT, 1);
	vd_desc(&d, 1, STATUS, 1, VRING_DESC_F_WRITE, 0);
	*(uint8_t *)vd_host(&d, STATUS) = 0xee;
	vd_submit(&d, 0);
	ck_assert(vd_wait_used(&d, 1));
	vd_get_used(&d, &id, &len);
	ck_assert_uint_eq(*(uint8_t *)vd_host(&d, STATUS),
			  VIRTIO_BLK_S_IOERR);
	/* No room for a status byte: completed with nothing written. */
	put_hdr(HDR, VIRTIO_BLK_T_FLUSH, 0);
	vd_desc(&d, 0, HDR, 16, 0, 0);
	vd_submit(&d, 0);
	ck_assert(vd_wait_used(&d, 1));
	vd_get_used(&d, &id, &len);
	ck_assert_uint_eq(len, 0);
	/* The device still works. */
	ck_assert_uint_eq(blk_req(VIRTIO_BLK_T_FLUSH, 0, 0, 0),
			  VIRTIO_BLK_S_OK);
	teardown();
}
END_TEST

START_TEST(without_flush_feature)
{
	uint8_t buf[512];

	/* A driver that does not take FLUSH gets a write-through disk. */
	setup_disk(1 << 20, false, ~(1ull << VIRTIO_BLK_F_FLUSH));
	ck_assert(!vd_has(&d, VIRTIO_BLK_F_FLUSH));
	fill(DATA, 512, 8);
	ck_assert_uint_eq(blk_req(VIRTIO_BLK_T_OUT, 1, DATA, 512),
			  VIRTIO_BLK_S_OK);
	ck_assert_int_eq(pread(fd, buf, 512, 512), 512);
	ck_assert_mem_eq(buf, vd_host(&d, DATA), 512);
	teardown();
}
END_TEST

START_TEST(create_errors)
{
	struct error err = { 0 };

	vd_mem_setup(&d);
	ck_assert_ptr_null(virtio_blk_create(NULL, "vblk0",
					     "/nonexistent/disk.img", false,
					     &d.irq.line, &d.as, &err));
	ck_assert_int_eq(err.code, -ENOENT);
	ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/disk.img"));
	error_clear(&err);
	ck_assert_ptr_null(virtio_blk_create(NULL, "vblk0", "/tmp", false,
					     &d.irq.line, &d.as, &err));
	ck_assert_int_eq(err.code, -EISDIR);
	vd_mem_teardown(&d);
}
END_TEST

/* ---- Unplug under load --------------------------------------------- */

#define UC_REQS		1024		/* 4 KiB each, own offset */
#define UC_SIZE		4096
#define UC_SLOTS	32		/* 3 descriptors each, 96 <= 128 */
#define UC_SLOT_HDR(s)	(0x40000ull + 16 * (s))
#define UC_SLOT_ST(s)	(0x41000ull + (s))
#define UC_SLOT_DATA(s)	(0x60000ull + UC_SIZE * (uint64_t)(s))

static struct {
	int stop;			/* main -> driver */
	int submitted;			/* driver -> main */
	int slot_req[UC_SLOTS];
	uint8_t status[UC_REQS];	/* 0xee: not completed */
	long completed;
	long early_mismatch;		/* not in the file when used */
} uc;

static void uc_fill(int req, uint8_t *p)
{
	unsigned i;

	for (i = 0; i < UC_SIZE; i++)
		p[i] = (uint8_t)(req * 131 + i * 7 + 1);
}

/* Consume completions; check each write is in the file right away. */
static void uc_reap(bool check_file)
{
	uint8_t want[UC_SIZE], got[UC_SIZE];
	uint32_t id, len;
	int s, req;

	while (vd_used_idx(&d) != d.used_seen) {
		vd_get_used(&d, &id, &len);
		ck_assert_uint_eq(id % 3, 0);
		s = (int)(id / 3);
		ck_assert_int_lt(s, UC_SLOTS);
		req = uc.slot_req[s];
		ck_assert_int_ge(req, 0);
		uc.status[req] = *(uint8_t *)vd_host(&d, UC_SLOT_ST(s));
		uc.completed++;
		if (check_file) {
			uc_fill(req, want);
			if (pread(fd, got, UC_SIZE, (off_t)req * UC_SIZE) !=
			    UC_SIZE || memcmp(got, want, UC_SIZE))
				uc.early_mismatch++;
		}
		uc.slot_req[s] = -1;
	}
}

static void *uc_driver(void *opaque)
{
	int next = 0, s;

	rcu_thread_register();
	while (!__atomic_load_n(&uc.stop, __ATOMIC_ACQUIRE) &&
	       next < UC_REQS) {
		uc_reap(true);
		/* What a guest's interrupt handler would do. */
		vd_wr(&d, VIRTIO_MMIO_INTERRUPT_ACK,
		      vd_rd(&d, VIRTIO_MMIO_INTERRUPT_STATUS));
		for (s = 0; s < UC_SLOTS && uc.slot_req[s] >= 0; s++)
			;
		if (s == UC_SLOTS) {
			rcu_quiescent();
			usleep(20);
			continue;
		}
		uc.slot_req[s] = next;
		put_hdr(UC_SLOT_HDR(s), VIRTIO_BLK_T_OUT,
			(uint64_t)next * (UC_SIZE / 512));
		uc_fill(next, vd_host(&d, UC_SLOT_DATA(s)));
		*(uint8_t *)vd_host(&d, UC_SLOT_ST(s)) = 0xee;
		vd_desc(&d, 3 * s, UC_SLOT_HDR(s), 16, VRING_DESC_F_NEXT,
			3 * s + 1);
		vd_desc(&d, 3 * s + 1, UC_SLOT_DATA(s), UC_SIZE,
			VRING_DESC_F_NEXT, 3 * s + 2);
		vd_desc(&d, 3 * s + 2, UC_SLOT_ST(s), 1, VRING_DESC_F_WRITE,
			0);
		vd_submit(&d, (uint16_t)(3 * s));
		next++;
		__atomic_store_n(&uc.submitted, next, __ATOMIC_RELEASE);
		rcu_quiescent();
	}
	rcu_thread_unregister();
	return NULL;
}

START_TEST(unplug_while_submitting)
{
	uint8_t want[UC_SIZE], got[UC_SIZE], zero[UC_SIZE] = { 0 };
	struct error err = { 0 };
	double end;
	pthread_t t;
	int r, submitted, never = 0;

	setup_disk((off_t)UC_REQS * UC_SIZE, false, ~0ull);
	memset(&uc, 0, sizeof(uc));
	memset(uc.status, 0xee, sizeof(uc.status));
	for (r = 0; r < UC_SLOTS; r++)
		uc.slot_req[r] = -1;
	ck_assert_int_eq(pthread_create(&t, NULL, uc_driver, NULL), 0);

	/* Unplug in the middle of the stream. */
	end = vd_now() + VD_TIMEOUT_S;
	while (__atomic_load_n(&uc.submitted, __ATOMIC_ACQUIRE) < UC_REQS / 4) {
		ck_assert_msg(vd_now() < end, "the driver is stuck");
		rcu_quiescent();
		usleep(100);
	}
	ck_assert_msg(!device_unplug(d.dev, &err), "%s", err.msg);
	rcu_flush();
	/* The driver keeps submitting into the void for a while. */
	vd_settle();
	__atomic_store_n(&uc.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	vd_wait_finalized(&d);

	/* Nothing completes any more; take what did. */
	uc_reap(false);
	submitted = uc.submitted;
	ck_assert_int_gt(uc.completed, 0);
	ck_assert_int_eq(uc.early_mismatch, 0);
	for (r = 0; r < UC_REQS; r++) {
		ck_assert_int_eq(pread(fd, got, UC_SIZE, (off_t)r * UC_SIZE),
				 UC_SIZE);
		if (uc.status[r] != 0xee) {
			/* Completed: OK, and its data is in the file. */
			ck_assert_uint_eq(uc.status[r], VIRTIO_BLK_S_OK);
			uc_fill(r, want);
			ck_assert_mem_eq(got, want, UC_SIZE);
		} else {
			/* Never started: the file is untouched. */
			ck_assert_msg(!memcmp(got, zero, UC_SIZE),
				      "request %d (of %d submitted) was not completed but reached the file",
				      r, submitted);
			never++;
		}
	}
	ck_assert_int_eq(uc.completed + never, UC_REQS);
	vd_mem_teardown(&d);
	close(fd);
	unlink(path);
}
END_TEST

static Suite *virtio_blk_suite(void)
{
	Suite *s = suite_create("virtio-blk");
	TCase *tc;

	tc = rcu_tcase("requests", 60);
	tcase_add_test(tc, config_and_features);
	tcase_add_test(tc, write_is_in_the_file_when_used);
	tcase_add_test(tc, read_returns_the_file);
	tcase_add_test(tc, get_id_is_the_device_id);
	tcase_add_test(tc, unsupported_request);
	tcase_add_test(tc, read_only_disk_refuses_writes);
	tcase_add_test(tc, request_past_the_end);
	tcase_add_test(tc, partial_last_sector_is_invisible);
	tcase_add_test(tc, free_framing_and_indirect);
	tcase_add_test(tc, malformed_requests);
	tcase_add_test(tc, without_flush_feature);
	tcase_add_test(tc, create_errors);
	suite_add_tcase(s, tc);

	tc = rcu_tcase("unplug", 120);
	tcase_add_loop_test(tc, unplug_while_submitting, 0, 4);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(virtio_blk_suite)
