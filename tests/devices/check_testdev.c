// SPDX-License-Identifier: GPL-2.0-only
/*
 * The test device (devices/testdev.c): every register through the MMIO
 * and port windows, the ioeventfd doorbell (signalled by the dispatcher
 * itself when there is no KVM), the exit callback, the bounded log, and
 * unplug while mapped: the eventfd lives until finalize (rule 5).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "flatvm/devices.h"
#include "flatvm/layout.h"
#include "flatvm/testdev-regs.h"

#define MMIO	LAYOUT_TESTDEV_MMIO
#define PIO	LAYOUT_PORT_TESTDEV

static struct memory_region mem_root, io_root;
static struct address_space mem_as, io_as;
static struct testdev *td;
static long objs_at_start;

static uint32_t exit_status;
static unsigned exits;

static void record_exit(void *opaque, uint32_t status)
{
	ck_assert_ptr_eq(opaque, &exits);
	exit_status = status;
	exits++;
}

static struct testdev *plug(const char *id)
{
	struct error err = { 0 };
	struct testdev *t;

	t = testdev_create(object_root(), id, record_exit, &exits, &err);
	ck_assert_msg(t, "%s", err.msg);
	ck_assert_int_eq(memory_region_add_subregion(&mem_root, MMIO, &t->mmio,
						     &err), 0);
	ck_assert_int_eq(memory_region_add_subregion(&io_root, PIO, &t->pio,
						     &err), 0);
	return t;
}

static void setup(void)
{
	struct error err = { 0 };

	objs_at_start = live_objects();
	exits = 0;
	exit_status = 0;
	ck_assert_int_eq(memory_region_init(&mem_root, NULL, "memory",
					    UINT64_MAX, &err), 0);
	ck_assert_int_eq(memory_region_init(&io_root, NULL, "io", 0x10000,
					    &err), 0);
	ck_assert_int_eq(address_space_init(&mem_as, &mem_root, "memory",
					    &err), 0);
	ck_assert_int_eq(address_space_init(&io_as, &io_root, "io", &err), 0);
	td = plug("testdev");
}

static void teardown(void)
{
	if (td)
		ck_assert_int_eq(device_unplug(&td->dev, NULL), 0);
	td = NULL;
	address_space_destroy(&mem_as);
	address_space_destroy(&io_as);
	object_unref(&mem_root.obj);
	object_unref(&io_root.obj);
	rcu_flush();
	ck_assert_int_eq(live_objects(), objs_at_start);
}

static uint32_t readn(struct address_space *as, uint64_t addr, unsigned n)
{
	uint32_t v = 0;

	ck_assert_int_eq(address_space_read(as, addr, &v, n), 0);
	return v;
}

static void writen(struct address_space *as, uint64_t addr, uint32_t v,
		   unsigned n)
{
	ck_assert_int_eq(address_space_write(as, addr, &v, n), 0);
}

#define readl(off)	readn(&mem_as, MMIO + (off), 4)
#define writel(off, v)	writen(&mem_as, MMIO + (off), (v), 4)
#define writeb(off, v)	writen(&mem_as, MMIO + (off), (v), 1)
#define inl(off)	readn(&io_as, PIO + (off), 4)
#define outl(off, v)	writen(&io_as, PIO + (off), (v), 4)
#define outb(off, v)	writen(&io_as, PIO + (off), (v), 1)

/* ---- Registers ---------------------------------------------------------- */

START_TEST(id_and_scratch_in_both_windows)
{
	unsigned i;

	setup();
	ck_assert_uint_eq(readl(TESTDEV_ID), TESTDEV_MAGIC);
	ck_assert_uint_eq(inl(TESTDEV_ID), TESTDEV_MAGIC);
	for (i = 0; i < 4; i++)
		ck_assert_uint_eq(readn(&mem_as, MMIO + TESTDEV_ID + i, 1),
				  (TESTDEV_MAGIC >> (8 * i)) & 0xff);
	ck_assert_uint_eq(readn(&io_as, PIO + TESTDEV_ID + 2, 2),
			  TESTDEV_MAGIC >> 16);

	/* One register behind two windows; narrow writes merge. */
	writel(TESTDEV_SCRATCH, 0x11223344);
	ck_assert_uint_eq(inl(TESTDEV_SCRATCH), 0x11223344);
	outb(TESTDEV_SCRATCH + 1, 0xaa);
	ck_assert_uint_eq(readl(TESTDEV_SCRATCH), 0x1122aa44);
	writen(&mem_as, MMIO + TESTDEV_SCRATCH + 2, 0xbeef, 2);
	ck_assert_uint_eq(inl(TESTDEV_SCRATCH), 0xbeefaa44);
	/* An unaligned 4-byte write is split into the two registers. */
	writen(&mem_as, MMIO + TESTDEV_SCRATCH + 2, 0x01020304, 4);
	ck_assert_uint_eq(readl(TESTDEV_SCRATCH), 0x0304aa44);
	/* The ID ignores writes. */
	writel(TESTDEV_ID, 0);
	ck_assert_uint_eq(readl(TESTDEV_ID), TESTDEV_MAGIC);
	teardown();
}
END_TEST

START_TEST(result_round_trip)
{
	setup();
	ck_assert_uint_eq(testdev_result(td), 0);
	writel(TESTDEV_RESULT, 0xdeadbeef);
	ck_assert_uint_eq(testdev_result(td), 0xdeadbeef);
	ck_assert_uint_eq(readl(TESTDEV_RESULT), 0xdeadbeef);
	writeb(TESTDEV_RESULT + 3, 0x00);
	ck_assert_uint_eq(testdev_result(td), 0x00adbeef);
	teardown();
}
END_TEST

START_TEST(write_only_and_unknown_offsets)
{
	setup();
	ck_assert_uint_eq(readl(TESTDEV_EXIT), 0);
	ck_assert_uint_eq(readl(TESTDEV_LOG), 0);
	ck_assert_uint_eq(readl(TESTDEV_NOTIFY), 0);
	ck_assert_uint_eq(readl(0x100), 0);
	ck_assert_uint_eq(readl(LAYOUT_TESTDEV_MMIO_SIZE - 4), 0);
	writel(0x100, 0x12345678);
	ck_assert_uint_eq(readl(0x100), 0);
	/* Past the end of either window: unassigned. */
	ck_assert_int_eq(address_space_read(&mem_as,
					    MMIO + LAYOUT_TESTDEV_MMIO_SIZE,
					    &(uint32_t){ 0 }, 4), -EFAULT);
	ck_assert_int_eq(address_space_read(&io_as,
					    PIO + LAYOUT_PORT_TESTDEV_SIZE,
					    &(uint32_t){ 0 }, 4), -EFAULT);
	ck_assert_uint_eq(exits, 0);
	teardown();
}
END_TEST

START_TEST(counter_counts_its_reads)
{
	setup();
	ck_assert_uint_eq(readl(TESTDEV_COUNTER), 1);
	ck_assert_uint_eq(readl(TESTDEV_COUNTER), 2);
	ck_assert_uint_eq(inl(TESTDEV_COUNTER), 3);
	ck_assert_uint_eq(readn(&mem_as, MMIO + TESTDEV_COUNTER, 1), 4);
	/* Writes do not reset it. */
	writel(TESTDEV_COUNTER, 0);
	ck_assert_uint_eq(readl(TESTDEV_COUNTER), 5);
	teardown();
}
END_TEST

#define READERS		3
#define READS		20000

static void *counter_reader(void *arg)
{
	unsigned i;
	uint32_t v;

	rcu_thread_register();
	for (i = 0; i < READS; i++) {
		address_space_read(i & 1 ? &io_as : &mem_as,
				   (i & 1 ? PIO : MMIO) + TESTDEV_COUNTER,
				   &v, 4);
		if (!(i % 64))
			rcu_quiescent();
	}
	rcu_thread_unregister();
	return NULL;
}

/* vCPUs reading at once: no read is lost. */
START_TEST(counter_is_atomic)
{
	pthread_t t[READERS];
	unsigned i;

	setup();
	for (i = 0; i < READERS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, counter_reader,
						NULL), 0);
	rcu_thread_offline();
	for (i = 0; i < READERS; i++)
		pthread_join(t[i], NULL);
	rcu_thread_online();
	ck_assert_uint_eq(readl(TESTDEV_COUNTER), READERS * READS + 1);
	teardown();
}
END_TEST

START_TEST(exit_calls_back_with_the_value)
{
	setup();
	writel(TESTDEV_EXIT, 0x1234);
	ck_assert_uint_eq(exits, 1);
	ck_assert_uint_eq(exit_status, 0x1234);
	/* outb to the port: the byte is the status. */
	outb(TESTDEV_EXIT, 7);
	ck_assert_uint_eq(exits, 2);
	ck_assert_uint_eq(exit_status, 7);
	/* A byte in lane 1 lands in bits 15:8. */
	writeb(TESTDEV_EXIT + 1, 5);
	ck_assert_uint_eq(exit_status, 0x500);
	outl(TESTDEV_EXIT, 0xffffffff);
	ck_assert_uint_eq(exit_status, 0xffffffff);
	ck_assert_uint_eq(exits, 4);
	teardown();
}
END_TEST

/* ---- Log ---------------------------------------------------------------- */

START_TEST(log_appends_and_is_bounded)
{
	static char big[TESTDEV_LOG_MAX + 16];
	char buf[16];
	unsigned i;
	size_t n;

	setup();
	ck_assert_uint_eq(testdev_log(td, NULL, 0), 0);
	for (i = 0; i < 5; i++)
		writeb(TESTDEV_LOG, (uint8_t)"hello"[i]);
	/* A wider write logs its low byte; other lanes are not LOG. */
	writel(TESTDEV_LOG, 0x4342412c);
	writeb(TESTDEV_LOG + 1, 'X');
	n = testdev_log(td, buf, sizeof(buf));
	ck_assert_uint_eq(n, 6);
	ck_assert(!memcmp(buf, "hello,", 6));
	/* A short buffer still learns the whole length. */
	ck_assert_uint_eq(testdev_log(td, buf, 2), 6);

	for (i = 0; i < TESTDEV_LOG_MAX + 10; i++)
		writeb(TESTDEV_LOG, 'a' + i % 26);
	n = testdev_log(td, big, sizeof(big));
	ck_assert_uint_eq(n, TESTDEV_LOG_MAX);
	ck_assert(!memcmp(big, "hello,abc", 9));
	/* The log is MMIO only: the port window ends at EXIT. */
	ck_assert_uint_eq(LAYOUT_PORT_TESTDEV_SIZE, TESTDEV_LOG);
	teardown();
}
END_TEST

/* ---- NOTIFY ------------------------------------------------------------- */

START_TEST(notify_goes_through_the_eventfd)
{
	struct address_space_stats st0, st1;
	struct pollfd pfd;
	int fd;

	setup();
	fd = testdev_notify_fd(td);
	ck_assert_int_ge(fd, 0);
	ck_assert_uint_eq(testdev_notify_drain(td), 0);

	/* A 4-byte write matches the ioeventfd: the dispatcher signals
	 * it and the handler never runs. */
	address_space_get_stats(&mem_as, &st0);
	writel(TESTDEV_NOTIFY, 0xabcd);
	address_space_get_stats(&mem_as, &st1);
	ck_assert_uint_eq(st1.eventfd_writes, st0.eventfd_writes + 1);
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	ck_assert_int_eq(poll(&pfd, 1, 0), 1);
	ck_assert_uint_eq(testdev_notify_drain(td), 1);
	ck_assert_int_eq(poll(&pfd, 1, 0), 0);

	/* Narrower writes reach the handler, which rings the same bell. */
	writeb(TESTDEV_NOTIFY, 1);
	writen(&mem_as, MMIO + TESTDEV_NOTIFY + 2, 1, 2);
	address_space_get_stats(&mem_as, &st0);
	ck_assert_uint_eq(st0.eventfd_writes, st1.eventfd_writes);
	ck_assert_uint_eq(testdev_notify_drain(td), 2);

	/* Several rings add up until drained. */
	writel(TESTDEV_NOTIFY, 0);
	writel(TESTDEV_NOTIFY, 1);
	writel(TESTDEV_NOTIFY, 2);
	ck_assert_uint_eq(testdev_notify_drain(td), 3);
	ck_assert_uint_eq(testdev_notify_drain(td), 0);
	teardown();
}
END_TEST

/* ---- Unplug ------------------------------------------------------------- */

static int finalized;

static void note_finalized(struct device *dev, void *opaque)
{
	__atomic_store_n(&finalized, 1, __ATOMIC_RELEASE);
}

static bool fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

/* Rule 5: unplug while mapped; the eventfd closes at finalize. */
START_TEST(unplug_while_mapped)
{
	struct error err = { 0 };
	uint32_t v;
	int fd;

	setup();
	fd = testdev_notify_fd(td);
	finalized = 0;
	device_set_finalized_notifier(&td->dev, note_finalized, NULL);
	writel(TESTDEV_SCRATCH, 42);

	ck_assert_int_eq(device_unplug(&td->dev, &err), 0);
	/* The new views no longer map it: reads are unassigned, the
	 * doorbell goes nowhere. */
	ck_assert_int_eq(address_space_read(&mem_as, MMIO + TESTDEV_ID, &v, 4),
			 -EFAULT);
	ck_assert_uint_eq(v, 0xffffffff);
	ck_assert_int_eq(address_space_read(&io_as, PIO + TESTDEV_ID, &v, 4),
			 -EFAULT);
	ck_assert_int_eq(address_space_write(&mem_as, MMIO + TESTDEV_NOTIFY,
					     &v, 4), -EFAULT);
	/* Still alive: the old views (we are online, no grace period has
	 * passed) hold it, and so its eventfd is open. */
	ck_assert_int_eq(__atomic_load_n(&finalized, __ATOMIC_ACQUIRE), 0);
	ck_assert_int_eq(device_get_state(&td->dev), DEVICE_UNPLUGGING);
	ck_assert(fd_is_open(fd));
	ck_assert_uint_eq(testdev_notify_drain(td), 0);
	/* A second unplug is refused. */
	ck_assert_int_eq(device_unplug(&td->dev, NULL), -EINPROGRESS);

	rcu_flush();
	ck_assert_int_eq(__atomic_load_n(&finalized, __ATOMIC_ACQUIRE), 1);
	ck_assert(!fd_is_open(fd));
	td = NULL;

	/* Plug a new one under the same name: it works from scratch. */
	td = plug("testdev");
	ck_assert_uint_eq(readl(TESTDEV_ID), TESTDEV_MAGIC);
	ck_assert_uint_eq(readl(TESTDEV_SCRATCH), 0);
	writel(TESTDEV_NOTIFY, 0);
	ck_assert_uint_eq(testdev_notify_drain(td), 1);
	teardown();
}
END_TEST

static void unplug_self(void *opaque, uint32_t status)
{
	struct testdev *t = *(struct testdev **)opaque;

	ck_assert_int_eq(device_unplug(&t->dev, NULL), 0);
	/* Still inside our own handler: the device must be whole. */
	ck_assert_int_eq(__atomic_load_n(&finalized, __ATOMIC_ACQUIRE), 0);
	ck_assert(fd_is_open(testdev_notify_fd(t)));
}

/* The guest unplugs the device with a write to it (a handler in flight
 * during unplug): nothing is freed until the handler is long gone. */
START_TEST(unplug_from_its_own_handler)
{
	struct error err = { 0 };
	struct testdev *self;
	long start;

	objs_at_start = live_objects();
	ck_assert_int_eq(memory_region_init(&mem_root, NULL, "memory",
					    UINT64_MAX, &err), 0);
	ck_assert_int_eq(address_space_init(&mem_as, &mem_root, "memory",
					    &err), 0);
	ck_assert_int_eq(memory_region_init(&io_root, NULL, "io", 0x10000,
					    &err), 0);
	ck_assert_int_eq(address_space_init(&io_as, &io_root, "io", &err), 0);
	start = live_objects();
	self = testdev_create(object_root(), "self", unplug_self, &self, &err);
	ck_assert_msg(self, "%s", err.msg);
	ck_assert_int_eq(memory_region_add_subregion(&mem_root, MMIO,
						     &self->mmio, &err), 0);
	finalized = 0;
	device_set_finalized_notifier(&self->dev, note_finalized, NULL);
	writel(TESTDEV_EXIT, 1);
	ck_assert_int_eq(__atomic_load_n(&finalized, __ATOMIC_ACQUIRE), 0);
	rcu_flush();
	ck_assert_int_eq(__atomic_load_n(&finalized, __ATOMIC_ACQUIRE), 1);
	ck_assert_int_eq(live_objects(), start);
	td = NULL;
	teardown();
}
END_TEST

START_TEST(create_refuses_a_taken_id)
{
	struct error err = { 0 };

	setup();
	ck_assert_ptr_null(testdev_create(object_root(), "testdev", NULL, NULL,
					  &err));
	ck_assert_int_eq(err.code, -EEXIST);
	ck_assert_msg(strstr(err.msg, "testdev"), "%s", err.msg);
	teardown();
}
END_TEST

static Suite *testdev_suite(void)
{
	Suite *s = suite_create("devices/testdev");
	TCase *tc;

	tc = rcu_tcase("registers", 20);
	tcase_add_test(tc, id_and_scratch_in_both_windows);
	tcase_add_test(tc, result_round_trip);
	tcase_add_test(tc, write_only_and_unknown_offsets);
	tcase_add_test(tc, counter_counts_its_reads);
	tcase_add_test(tc, counter_is_atomic);
	tcase_add_test(tc, exit_calls_back_with_the_value);
	tcase_add_test(tc, log_appends_and_is_bounded);
	suite_add_tcase(s, tc);

	tc = rcu_tcase("notify", 10);
	tcase_add_test(tc, notify_goes_through_the_eventfd);
	suite_add_tcase(s, tc);

	tc = rcu_tcase("unplug", 10);
	tcase_add_test(tc, unplug_while_mapped);
	tcase_add_test(tc, unplug_from_its_own_handler);
	tcase_add_test(tc, create_refuses_a_taken_id);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(testdev_suite)
