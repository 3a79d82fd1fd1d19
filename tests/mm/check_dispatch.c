// SPDX-License-Identifier: GPL-2.0-only
/*
 * Dispatch (mm/dispatch.c): splitting to the sizes a device accepts,
 * little endian, crossing regions, unassigned and read-only accesses,
 * ioeventfds, and DMA mappings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "harness.h"
#include "testdev.h"

static struct memory_region sysmem, ram, rom;
static struct address_space as;

/* A device that logs every access it receives. */
struct logdev {
	struct {
		uint64_t addr;
		uint64_t val;
		unsigned size;
		bool write;
	} log[64];
	unsigned n;
	uint8_t mem[64];
};

static struct logdev ld;

static uint64_t log_read(void *opaque, uint64_t addr, unsigned size)
{
	struct logdev *d = opaque;
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < size; i++)
		v |= (uint64_t)d->mem[addr + i] << (8 * i);
	d->log[d->n].addr = addr;
	d->log[d->n].val = v;
	d->log[d->n].size = size;
	d->log[d->n].write = false;
	d->n++;
	return v;
}

static void log_write(void *opaque, uint64_t addr, uint64_t val,
		      unsigned size)
{
	struct logdev *d = opaque;
	unsigned i;

	for (i = 0; i < size; i++)
		d->mem[addr + i] = (uint8_t)(val >> (8 * i));
	d->log[d->n].addr = addr;
	d->log[d->n].val = val;
	d->log[d->n].size = size;
	d->log[d->n].write = true;
	d->n++;
}

static const struct memory_region_ops ops_1_4_aligned = {
	.read = log_read, .write = log_write,
	.min_access_size = 1, .max_access_size = 4,
};

static const struct memory_region_ops ops_4_4 = {
	.read = log_read, .write = log_write,
	.min_access_size = 4, .max_access_size = 4,
};

static const struct memory_region_ops ops_1_8_unaligned = {
	.read = log_read, .write = log_write,
	.min_access_size = 1, .max_access_size = 8, .unaligned = true,
};

static struct memory_region io;

static void setup(const struct memory_region_ops *ops)
{
	struct error err = { 0 };
	unsigned i;

	memset(&ld, 0, sizeof(ld));
	for (i = 0; i < sizeof(ld.mem); i++)
		ld.mem[i] = (uint8_t)(0x10 + i);
	ck_assert_int_eq(memory_region_init(&sysmem, NULL, "system",
					   UINT64_MAX, &err), 0);
	ck_assert_int_eq(memory_region_init_ram(&ram, NULL, "ram", 0x10000,
						&err), 0);
	ck_assert_int_eq(memory_region_init_rom(&rom, NULL, "rom", 0x1000,
						&err), 0);
	ck_assert_int_eq(memory_region_init_io(&io, NULL, ops, &ld, "log",
					       0x40, &err), 0);
	memory_region_transaction_begin();
	ck_assert_int_eq(memory_region_add_subregion(&sysmem, 0, &ram, &err), 0);
	ck_assert_int_eq(memory_region_add_subregion(&sysmem, 0xf0000, &rom,
						     &err), 0);
	/* MMIO right after RAM, so accesses can straddle the two. */
	ck_assert_int_eq(memory_region_add_subregion(&sysmem, 0x10000, &io,
						     &err), 0);
	memory_region_transaction_commit();
	ck_assert_int_eq(address_space_init(&as, &sysmem, "memory", &err), 0);
}

static void teardown(void)
{
	address_space_destroy(&as);
	memory_region_del_subregion(&sysmem, &io, NULL);
	memory_region_del_subregion(&sysmem, &rom, NULL);
	memory_region_del_subregion(&sysmem, &ram, NULL);
	object_unref(&io.obj);
	object_unref(&rom.obj);
	object_unref(&ram.obj);
	object_unref(&sysmem.obj);
	rcu_flush();
}

START_TEST(split_wide_access_little_endian)
{
	uint64_t v = 0;

	setup(&ops_1_4_aligned);
	ck_assert_int_eq(address_space_read(&as, 0x10008, &v, 8), 0);
	ck_assert_uint_eq(ld.n, 2);
	ck_assert_uint_eq(ld.log[0].addr, 8);
	ck_assert_uint_eq(ld.log[0].size, 4);
	ck_assert_uint_eq(ld.log[1].addr, 12);
	ck_assert_uint_eq(v, 0x1f1e1d1c1b1a1918ull);
	teardown();
}
END_TEST

START_TEST(split_unaligned_access)
{
	uint32_t v = 0;

	setup(&ops_1_4_aligned);
	/* 4 bytes at offset 1 of an aligned-only device: 1 + 2 + 1 */
	ck_assert_int_eq(address_space_read(&as, 0x10001, &v, 4), 0);
	ck_assert_uint_eq(ld.n, 3);
	ck_assert_uint_eq(ld.log[0].size, 1);
	ck_assert_uint_eq(ld.log[1].size, 2);
	ck_assert_uint_eq(ld.log[1].addr, 2);
	ck_assert_uint_eq(ld.log[2].size, 1);
	ck_assert_uint_eq(v, 0x14131211);
	teardown();
}
END_TEST

START_TEST(unaligned_device_gets_one_access)
{
	uint64_t v = 0;

	setup(&ops_1_8_unaligned);
	ck_assert_int_eq(address_space_read(&as, 0x10003, &v, 8), 0);
	ck_assert_uint_eq(ld.n, 1);
	ck_assert_uint_eq(ld.log[0].addr, 3);
	ck_assert_uint_eq(ld.log[0].size, 8);
	teardown();
}
END_TEST

START_TEST(narrow_write_widened_read_modify_write)
{
	uint8_t b = 0xaa;
	uint16_t r = 0;

	setup(&ops_4_4);
	ck_assert_int_eq(address_space_write(&as, 0x10005, &b, 1), 0);
	/* read of the 4-byte register at 4, then write back with 0xaa in */
	ck_assert_uint_eq(ld.n, 2);
	ck_assert(!ld.log[0].write);
	ck_assert_uint_eq(ld.log[1].addr, 4);
	ck_assert_uint_eq(ld.log[1].size, 4);
	ck_assert_uint_eq(ld.log[1].val, 0x1716aa14);
	ld.n = 0;
	ck_assert_int_eq(address_space_read(&as, 0x10006, &r, 2), 0);
	ck_assert_uint_eq(r, 0x1716);
	ck_assert_uint_eq(ld.log[0].size, 4);
	teardown();
}
END_TEST

START_TEST(access_spans_ram_and_mmio)
{
	uint8_t buf[8];
	uint8_t *host;

	setup(&ops_1_4_aligned);
	host = memory_region_get_ram_ptr(&ram);
	memset(host + 0xfffc, 0x77, 4);
	ck_assert_int_eq(address_space_read(&as, 0xfffc, buf, 8), 0);
	ck_assert_uint_eq(buf[0], 0x77);
	ck_assert_uint_eq(buf[3], 0x77);
	ck_assert_uint_eq(buf[4], 0x10);
	ck_assert_uint_eq(buf[7], 0x13);
	ck_assert_uint_eq(ld.n, 1);
	teardown();
}
END_TEST

START_TEST(unassigned_and_readonly_counted)
{
	struct address_space_stats st;
	uint8_t buf[16], *host;
	uint32_t v = 0x12345678;

	setup(&ops_1_4_aligned);
	memset(buf, 0, sizeof(buf));
	/* 8 bytes of MMIO then 8 unassigned: the tail reads all ones */
	ck_assert_int_eq(address_space_read(&as, 0x10038, buf, 16), -EFAULT);
	ck_assert_uint_eq(buf[0], 0x48);
	ck_assert_uint_eq(buf[8], 0xff);
	ck_assert_uint_eq(buf[15], 0xff);
	ck_assert_int_eq(address_space_write(&as, 0x20000000, &v, 4), -EFAULT);
	/* ROM: readable, writes dropped */
	host = memory_region_get_ram_ptr(&rom);
	host[0] = 0xc3;
	ck_assert_int_eq(address_space_write(&as, 0xf0000, &v, 4), 0);
	ck_assert_uint_eq(host[0], 0xc3);
	address_space_get_stats(&as, &st);
	ck_assert_uint_eq(st.unassigned_reads, 1);
	ck_assert_uint_eq(st.unassigned_writes, 1);
	ck_assert_uint_eq(st.readonly_writes, 1);
	teardown();
}
END_TEST

START_TEST(ioeventfd_write_signals_instead_of_handler)
{
	struct address_space_stats st;
	struct error err = { 0 };
	uint32_t v = 5;
	uint64_t cnt = 0;
	int fd = eventfd(0, EFD_NONBLOCK);

	setup(&ops_1_4_aligned);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(memory_region_add_eventfd(&io, 0x10, 4, true, 5, fd,
						   &err), 0);
	ck_assert_int_eq(address_space_write(&as, 0x10010, &v, 4), 0);
	ck_assert_uint_eq(ld.n, 0);
	ck_assert_int_eq(read(fd, &cnt, 8), 8);
	ck_assert_uint_eq(cnt, 1);
	v = 6;		/* data does not match: goes to the device */
	ck_assert_int_eq(address_space_write(&as, 0x10010, &v, 4), 0);
	ck_assert_uint_eq(ld.n, 1);
	address_space_get_stats(&as, &st);
	ck_assert_uint_eq(st.eventfd_writes, 1);
	ck_assert_int_eq(memory_region_del_eventfd(&io, 0x10, 4, true, 5, fd,
						   &err), 0);
	ck_assert_int_eq(memory_region_del_eventfd(&io, 0x10, 4, true, 5, fd,
						   &err), -ENOENT);
	close(fd);
	teardown();
}
END_TEST

START_TEST(dma_map_ram_and_short_at_end)
{
	struct dma_map m;
	long before = object_refcount(&ram.obj);

	setup(&ops_1_4_aligned);
	before = object_refcount(&ram.obj);
	ck_assert_int_eq(address_space_map(&as, 0xff00, 0x1000, true, &m), 0);
	ck_assert_uint_eq(m.len, 0x100);
	ck_assert_ptr_eq(m.host, (uint8_t *)memory_region_get_ram_ptr(&ram) +
			 0xff00);
	ck_assert_ptr_null(m.bounce);
	ck_assert_int_eq(object_refcount(&ram.obj), before + 1);
	address_space_unmap(&m, m.len);
	ck_assert_int_eq(object_refcount(&ram.obj), before);
	ck_assert_int_eq(address_space_map(&as, 0x500000, 4, false, &m),
			 -EFAULT);
	ck_assert_int_eq(address_space_map(&as, 0xf0000, 4, true, &m),
			 -EACCES);
	ck_assert_int_eq(address_space_map(&as, 0, 0, false, &m), -EINVAL);
	address_space_unmap(&m, 0);	/* a failed map unmaps harmlessly */
	teardown();
}
END_TEST

START_TEST(dma_map_mmio_bounces)
{
	struct dma_map m;

	setup(&ops_1_4_aligned);
	ck_assert_int_eq(address_space_map(&as, 0x10000, 0x100, false, &m), 0);
	ck_assert_ptr_nonnull(m.bounce);
	ck_assert_uint_eq(m.len, 0x40);
	ck_assert_uint_eq(((uint8_t *)m.host)[5], 0x15);
	address_space_unmap(&m, m.len);
	ck_assert_int_eq(address_space_map(&as, 0x10020, 4, true, &m), 0);
	memcpy(m.host, "\x01\x02\x03\x04", 4);
	ld.n = 0;
	address_space_unmap(&m, 2);	/* only what was accessed goes back */
	ck_assert_uint_eq(ld.mem[0x20], 1);
	ck_assert_uint_eq(ld.mem[0x21], 2);
	ck_assert_uint_eq(ld.mem[0x22], 0x32);
	teardown();
}
END_TEST

START_TEST(file_backed_ram)
{
	char path[] = "/tmp/flatvm-ramXXXXXX";
	struct memory_region f, small;
	struct error err = { 0 };
	char buf[8] = { 0 };
	int fd = mkstemp(path);

	setup(&ops_1_4_aligned);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "flatvm!\n", 8), 8);
	ck_assert_int_eq(ftruncate(fd, 8192), 0);
	ck_assert_int_eq(pwrite(fd, "tail", 4, 5000), 4);
	ck_assert_int_eq(memory_region_init_ram_from_file(&small, NULL, "big",
							  0x10000, path, true,
							  &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, path));
	ck_assert_int_eq(memory_region_init_ram_from_file(&f, NULL, "disk",
							  8192, path, true,
							  &err), 0);
	ck_assert_int_eq(memory_region_add_subregion(&sysmem, 0x800000, &f,
						     &err), 0);
	ck_assert_int_eq(address_space_read(&as, 0x800000, buf, 8), 0);
	ck_assert_int_eq(memcmp(buf, "flatvm!\n", 8), 0);
	/* Shrinking a file-backed region never touches the file. */
	ck_assert_int_eq(memory_region_ram_resize(&f, 4096, &err), 0);
	ck_assert_int_eq(pread(fd, buf, 4, 5000), 4);
	ck_assert_int_eq(memcmp(buf, "tail", 4), 0);
	close(fd);
	/* Clearing the flag cannot make a read-only mapping writable. */
	memory_region_set_readonly(&f, false);
	ck_assert_int_eq(address_space_write(&as, 0x800000, "XXXX", 4), 0);
	ck_assert_int_eq(address_space_read(&as, 0x800000, buf, 8), 0);
	ck_assert_int_eq(memcmp(buf, "flatvm!\n", 8), 0);
	memory_region_del_subregion(&sysmem, &f, NULL);
	object_unref(&f.obj);
	ck_assert_int_eq(memory_region_init_ram_from_file(&small, NULL, "nofile",
							  8192, "/nonexistent/x",
							  false, &err), -ENOENT);
	unlink(path);
	teardown();
}
END_TEST

START_TEST(bounce_writes_back_to_the_region_mapped)
{
	struct memory_region other;
	struct error err = { 0 };
	struct dma_map m;
	static struct logdev ld2;

	setup(&ops_1_4_aligned);
	memset(&ld2, 0, sizeof(ld2));
	ck_assert_int_eq(address_space_map(&as, 0x10020, 4, true, &m), 0);
	/* Another device takes the address before the DMA completes. */
	ck_assert_int_eq(memory_region_init_io(&other, NULL, &ops_1_4_aligned,
					       &ld2, "other", 0x40, &err), 0);
	ck_assert_int_eq(memory_region_add_subregion_prio(&sysmem, 0x10000,
							  &other, 1, &err), 0);
	memcpy(m.host, "\x0a\x0b\x0c\x0d", 4);
	address_space_unmap(&m, 4);
	ck_assert_uint_eq(ld.mem[0x20], 0x0a);
	ck_assert_uint_eq(ld.mem[0x23], 0x0d);
	ck_assert_uint_eq(ld2.n, 0);
	memory_region_del_subregion(&sysmem, &other, NULL);
	rcu_flush();
	object_unref(&other.obj);
	teardown();
}
END_TEST

START_TEST(readonly_mmio_writes_dropped)
{
	struct address_space_stats st;
	uint32_t v = 1;

	setup(&ops_1_4_aligned);
	memory_region_set_readonly(&io, true);
	ck_assert_int_eq(address_space_write(&as, 0x10000, &v, 4), 0);
	ck_assert_uint_eq(ld.n, 0);
	ck_assert_int_eq(address_space_read(&as, 0x10000, &v, 4), 0);
	ck_assert_uint_eq(ld.n, 1);
	address_space_get_stats(&as, &st);
	ck_assert_uint_eq(st.readonly_writes, 1);
	teardown();
}
END_TEST

static Suite *dispatch_suite(void)
{
	Suite *s = suite_create("dispatch");
	TCase *tc = rcu_tcase("dispatch", 10);

	tcase_add_test(tc, split_wide_access_little_endian);
	tcase_add_test(tc, split_unaligned_access);
	tcase_add_test(tc, unaligned_device_gets_one_access);
	tcase_add_test(tc, narrow_write_widened_read_modify_write);
	tcase_add_test(tc, access_spans_ram_and_mmio);
	tcase_add_test(tc, unassigned_and_readonly_counted);
	tcase_add_test(tc, ioeventfd_write_signals_instead_of_handler);
	tcase_add_test(tc, dma_map_ram_and_short_at_end);
	tcase_add_test(tc, dma_map_mmio_bounces);
	tcase_add_test(tc, file_backed_ram);
	tcase_add_test(tc, bounce_writes_back_to_the_region_mapped);
	tcase_add_test(tc, readonly_mmio_writes_dropped);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(dispatch_suite)
