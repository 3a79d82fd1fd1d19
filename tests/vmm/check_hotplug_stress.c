// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hotplug under stress, in process (issue 4): a machine runs the hotplug
 * guest in poll mode (tests/guests/README.md, poll=1), which keeps
 * touching every virtio window and every hotplugged test device window
 * (and initializes and drives whatever virtio device it finds there),
 * while this thread plugs and unplugs through machine_control_ops as fast
 * as it can:
 *
 *  - 1,000 device_add/device_del cycles of the test device, and 1,000 of
 *    virtio-blk.  Cycle i uses id i mod N (N windows: 8 test device
 *    windows, 4 hotplug slots), so devices in every stage of their life
 *    overlap (plugged, unplugged and waiting for their grace period,
 *    finalizing on the call_rcu or an I/O thread), and since device_add
 *    fails with EEXIST until the id's previous holder has finalized,
 *    every cycle also shows that the device N cycles earlier did.
 *  - Every device is unplugged once the guest has touched it (virtio:
 *    found it and started initializing it; every tenth one, cycle
 *    i % 10 == 0, once the guest has it running, 0-2 ms into its
 *    requests).
 *  - Every tenth cycle (i % 10 == 5) holds a DMA mapping of the device's
 *    window across the unplug: the device must not finalize while the
 *    mapping holds it (still unplugging and its id taken once the
 *    mapping is its only reference), and must finalize inside
 *    address_space_unmap().
 *  - A RAM device unplugged while a mapping into it is held: the mapping
 *    stays usable, and the memory goes exactly when the mapping drops.
 *
 * Time: an unplug costs about 7.5 ms here, nearly all of it in the
 * KVM_IOEVENTFD deassign of the device's doorbell (the kernel waits for
 * an SRCU grace period), so 1,000 cycles take about 10 s.
 *
 * Every test ends with the guest told to stop (it powers off), the
 * machine destroyed and the object, allocation, fd and I/O thread
 * counts back where they were before the machine was created.  Run under
 * ASan and TSan too (LABELS concurrency).  Skips (77) without /dev/kvm.
 */
#include <dirent.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "flatvm/device.h"
#include "flatvm/kvm.h"
#include "flatvm/layout.h"
#include "flatvm/machine.h"
#include "flatvm/memory.h"
#include "flatvm/testdev-regs.h"
#include "guests.h"

#define CYCLES			1000
#define DRIVE_EVERY		10	/* i % 10 == 0: the guest drives it */
#define MAP_EVERY		10	/* i % 10 == 5: a mapping held */
#define CYCLES_MAX_S		120.0	/* for 1,000 cycles, any build */
#define HOTPLUG_SLOTS		4	/* virtio-mmio windows for hotplug */
#define TESTDEV_WINDOWS		8	/* MACHINE_MAX_HOTPLUG_TESTDEV */

/* vmm/control.c: where hotplugged test devices and RAM are mapped. */
#define HOTPLUG_TESTDEV_BASE	(LAYOUT_TESTDEV_MMIO + LAYOUT_TESTDEV_MMIO_SIZE)
#define HOTPLUG_RAM_BASE	(2ull << 40)

/* The hotplug guest's registers protocol (tests/guests/hotplug.c). */
#define GUEST_RESULT_STOP	0x504f5453u	/* "STOP": end poll=1 */
#define GUEST_STATE_POLLING	0x05		/* SCRATCH = passes << 8 | 5 */

/* virtio-mmio registers and status bits (virtio 1.2, 4.2.2). */
#define VIRTIO_MMIO_MAGIC_VALUE	0x000
#define VIRTIO_MMIO_DEVICE_ID	0x008
#define VIRTIO_MMIO_STATUS	0x070
#define VIRTIO_MAGIC		0x74726976u
#define VIRTIO_STATUS_DRIVER_OK	4

#define GUEST_CMDLINE		"poll=1 timeout=3600 testlog=0"

struct vm {
	struct machine *m;
	struct address_space *as;
	pthread_t thread;
	int status;
	int console;			/* memfd: the guest's COM1 */
	long objects, allocations;	/* before machine_create() */
	int fds;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Open file descriptors. */
static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;			/* the directory's own fd */
}

/* Threads whose name starts with "vio-": virtio I/O threads. */
static int count_io_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	char path[300], comm[32];
	FILE *f;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm",
			 e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;	/* it just exited */
		if (fgets(comm, sizeof(comm), f) && !strncmp(comm, "vio-", 4))
			n++;
		fclose(f);
	}
	closedir(d);
	return n;
}

/* Sleep without holding up grace periods. */
static void offline_sleep(unsigned us)
{
	rcu_thread_offline();
	usleep(us);
	rcu_thread_online();
}

static uint32_t reg_read(struct vm *vm, uint64_t addr)
{
	uint32_t v = 0;

	address_space_read(vm->as, addr, &v, sizeof(v));
	return v;
}

/* The console so far, for failure messages (static, NUL-terminated). */
static const char *console_text(struct vm *vm)
{
	static char buf[1 << 16];
	ssize_t n = pread(vm->console, buf, sizeof(buf) - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* ---- The machine --------------------------------------------------------- */

static void *run_thread(void *opaque)
{
	struct vm *vm = opaque;

	rcu_thread_register();
	vm->status = machine_run(vm->m);
	rcu_thread_unregister();
	return NULL;
}

static void vm_start(struct vm *vm)
{
	struct machine_config cfg = {
		.kernel = GUEST_HOTPLUG_PVH,
		.cmdline = GUEST_CMDLINE,
		.mem_size = 64ull << 20,
		.ncpus = 1,
		.hotplug_slots = HOTPLUG_SLOTS,
		.console_in = -1,
	};
	struct error err = { 0 };
	double end;
	uint32_t v;

	memset(vm, 0, sizeof(*vm));
	rcu_flush();
	vm->objects = live_objects();
	vm->allocations = live_allocations();
	vm->fds = count_fds();
	vm->console = memfd_create("guest-console", MFD_CLOEXEC);
	ck_assert_int_ge(vm->console, 0);
	cfg.console_out = vm->console;
	vm->m = machine_create(&cfg, &err);
	ck_assert_msg(vm->m, "machine_create: %s", err.msg);
	vm->as = machine_memory(vm->m);
	ck_assert_int_eq(pthread_create(&vm->thread, NULL, run_thread, vm), 0);

	/* Until the guest polls (its first pass is done). */
	end = now() + 30;
	for (;;) {
		v = reg_read(vm, LAYOUT_TESTDEV_MMIO + TESTDEV_SCRATCH);
		if ((v & 0xff) == GUEST_STATE_POLLING && v >> 8)
			break;
		ck_assert_msg(now() < end,
			      "the guest is not polling after 30 s (SCRATCH 0x%x); console:\n%s",
			      v, console_text(vm));
		offline_sleep(1000);
	}
}

static unsigned guest_passes(struct vm *vm)
{
	return reg_read(vm, LAYOUT_TESTDEV_MMIO + TESTDEV_SCRATCH) >> 8;
}

/*
 * Tell the guest to stop (it powers off), or with @quit stop the machine
 * from here (machine_request_stop(), as the control socket's quit does);
 * either way machine_run() returns 0.  Then tear down and check that
 * everything the machine had is gone.  Returns the guest's last line
 * ("hotplug: poll: ...", static; "" after @quit).
 */
static const char *vm_stop(struct vm *vm, bool quit)
{
	static char summary[256];
	const char *con, *p;
	struct timespec ts;
	uint32_t stop = GUEST_RESULT_STOP;
	size_t len;
	int ret, i;

	if (quit)
		machine_request_stop(vm->m, MACHINE_QUIT, 0);
	else
		address_space_write(vm->as,
				    LAYOUT_TESTDEV_MMIO + TESTDEV_RESULT,
				    &stop, sizeof(stop));
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 30;
	rcu_thread_offline();
	ret = pthread_timedjoin_np(vm->thread, NULL, &ts);
	if (ret) {
		/* Record it, but do not leave the machine running. */
		machine_request_stop(vm->m, MACHINE_QUIT, 0);
		pthread_join(vm->thread, NULL);
	}
	rcu_thread_online();
	con = console_text(vm);
	ck_assert_msg(!ret, "the guest did not stop within 30 s; console:\n%s",
		      con);
	ck_assert_msg(vm->status == 0, "machine_run: %d; console:\n%s",
		      vm->status, con);
	summary[0] = '\0';
	if (!quit) {
		ck_assert_msg(strstr(con, "stopped by the host") &&
			      strstr(con, " 0 failed"), "console:\n%s", con);
		p = strstr(con, "hotplug: poll: ");
		len = strcspn(p, "\n");
		snprintf(summary, sizeof(summary), "%.*s", (int)len, p);
	}

	machine_destroy(vm->m);
	vm->m = NULL;
	close(vm->console);
	/* Old views go after a grace period; the I/O threads on their own. */
	for (i = 0; i < 500; i++) {
		rcu_flush();
		if (live_objects() == vm->objects &&
		    live_allocations() == vm->allocations &&
		    count_fds() == vm->fds && !count_io_threads())
			break;
		offline_sleep(10 * 1000);
	}
	ck_assert_int_eq(live_objects(), vm->objects);
	ck_assert_int_eq(live_allocations(), vm->allocations);
	ck_assert_int_eq(count_fds(), vm->fds);
	ck_assert_int_eq(count_io_threads(), 0);
	return summary;
}

/* ---- Control operations -------------------------------------------------- */

/* device_add with @args (stolen); 0 or the negative errno, @err filled. */
static int dev_add(struct vm *vm, json_t *args, struct error *err)
{
	int ret;

	error_clear(err);
	ret = machine_control_ops.device_add(vm->m, args, err);
	json_decref(args);
	return ret;
}

static int dev_del(struct vm *vm, const char *id, struct error *err)
{
	error_clear(err);
	return machine_control_ops.device_del(vm->m, id, err);
}

static json_t *testdev_args(const char *id, const char *unused)
{
	return json_pack("{s:s, s:s}", "driver", "testdev", "id", id);
}

static json_t *ram_args(const char *id)
{
	return json_pack("{s:s, s:s, s:s}", "driver", "ram", "id", id, "size",
			 "16M");
}

static json_t *blk_args(const char *id, const char *file)
{
	return json_pack("{s:s, s:s, s:s}", "driver", "virtio-blk", "id", id,
			 "file", file);
}

/*
 * Plug with an id whose previous holder was unplugged not long ago:
 * device_add fails with EEXIST until that one has finalized (its old
 * views go after a grace period, a virtio transport's I/O thread on its
 * own), so retry, letting grace periods pass, for at most 10 s.
 * Returns how many times it had to wait.
 */
static unsigned plug_retry(struct vm *vm, json_t *(*args)(const char *id,
							  const char *file),
			   const char *id, const char *file)
{
	struct error err;
	double end = now() + 10;
	unsigned waits = 0;
	int ret;

	for (;;) {
		ret = dev_add(vm, args(id, file), &err);
		if (ret != -EEXIST)
			break;
		ck_assert_msg(now() < end,
			      "device_add still fails after 10 s: %s", err.msg);
		waits++;
		if (waits < 100)
			rcu_flush();
		else
			offline_sleep(1000);
	}
	ck_assert_msg(!ret, "device_add: %d %s", ret, err.msg);
	return waits;
}

/*
 * The window device @id was plugged into: the one whose region belongs
 * to it (the flat view says which region is where).
 */
static uint64_t window_of(struct vm *vm, const char *id, uint64_t base,
			  uint64_t size, unsigned n)
{
	struct dma_map map;
	unsigned k;
	bool ours;

	for (k = 0; k < n; k++) {
		if (address_space_map(vm->as, base + k * size, 1, true, &map))
			continue;
		ours = map.mr->owner &&
		       !strcmp(object_name(map.mr->owner), id);
		address_space_unmap(&map, 0);
		if (ours)
			return base + k * size;
	}
	ck_abort_msg("device %s is in none of the %u windows at 0x%llx", id,
		     n, (unsigned long long)base);
	return 0;
}

static uint64_t testdev_window(struct vm *vm, const char *id)
{
	uint64_t addr = window_of(vm, id, HOTPLUG_TESTDEV_BASE,
				  LAYOUT_TESTDEV_MMIO_SIZE, TESTDEV_WINDOWS);

	ck_assert_uint_eq(reg_read(vm, addr + TESTDEV_ID), TESTDEV_MAGIC);
	return addr;
}

static uint64_t virtio_window(struct vm *vm, const char *id)
{
	uint64_t addr = window_of(vm, id, LAYOUT_VIRTIO_MMIO_BASE,
				  LAYOUT_VIRTIO_MMIO_SIZE, HOTPLUG_SLOTS);

	ck_assert_uint_eq(reg_read(vm, addr + VIRTIO_MMIO_DEVICE_ID), 2);
	return addr;
}

/* Accesses to the device @id so far (reads + writes). */
static uint64_t device_accesses(const char *id)
{
	char path[64];
	struct object *o;
	uint64_t r = 0, w = 0;

	snprintf(path, sizeof(path), "/machine/%s", id);
	o = object_resolve_path(path);
	ck_assert_msg(o, "no %s", path);
	ck_assert_ptr_nonnull(device_cast(o));
	device_get_counters(device_cast(o), &r, &w);
	object_unref(o);
	return r + w;
}

/* Wait (at most 10 s) until the guest has touched device @id. */
static void wait_guest_touch(struct vm *vm, const char *id, unsigned cycle)
{
	uint64_t ours = device_accesses(id);
	double end = now() + 10;

	while (device_accesses(id) == ours) {
		ck_assert_msg(now() < end,
			      "cycle %u: the guest did not touch %s in 10 s; console:\n%s",
			      cycle, id, console_text(vm));
		offline_sleep(20);
	}
}

/*
 * @map holds device @id, just unplugged.  Wait until the mapping is all
 * that holds it (the views that mapped the device have gone after their
 * grace period, an I/O thread has let go: bounded by 10 s); then it must
 * not have finalized (still unplugging, its id still taken), and
 * dropping the mapping must finalize it right there: device_del no
 * longer finds it, with no grace period in between.
 * Returns how many accesses the unmap counted as rejected (a write-back
 * to a device that no longer accepts is dropped and counted).
 */
static uint64_t unmap_finalizes(struct vm *vm, struct dma_map *map,
				json_t *readd, const char *id)
{
	struct object *owner = map->mr->owner;
	struct address_space_stats st0, st1;
	struct error err;
	double end = now() + 10;
	int ret;

	while (object_refcount(owner) > 1) {
		ck_assert_msg(now() < end,
			      "%s still has %ld references 10 s after device_del",
			      id, object_refcount(owner));
		rcu_flush();
		if (object_refcount(owner) > 1)
			offline_sleep(200);
	}
	ck_assert_int_eq(device_get_state(map->mr->dev), DEVICE_UNPLUGGING);
	ret = dev_add(vm, readd, &err);
	ck_assert_msg(ret == -EEXIST,
		      "device_add of %s while a mapping holds the old one: %d (%s); expected EEXIST",
		      id, ret, err.msg);
	/* No view maps an unplugged device now: only the unmap counts. */
	address_space_get_stats(vm->as, &st0);
	address_space_unmap(map, map->len);
	address_space_get_stats(vm->as, &st1);
	ret = dev_del(vm, id, &err);
	ck_assert_msg(ret == -ENODEV,
		      "device_del of %s right after the unmap: %d (%s); expected ENODEV (finalized)",
		      id, ret, err.msg);
	return st1.rejected - st0.rejected;
}

/* ---- Test device --------------------------------------------------------- */

/* Cycle i plugs id "t<i mod 8>", into whichever window is free. */
START_TEST(testdev_cycles)
{
	struct vm vm;
	struct dma_map map;
	struct error err;
	unsigned i, waits = 0, mapped = 0, passes;
	uint32_t v = 0x600d600d;
	double t0, t1;
	const char *summary;
	uint64_t addr;
	char id[8];

	vm_start(&vm);
	passes = guest_passes(&vm);
	t0 = now();
	for (i = 0; i < CYCLES; i++) {
		snprintf(id, sizeof(id), "t%u", i % TESTDEV_WINDOWS);
		waits += plug_retry(&vm, testdev_args, id, NULL);
		addr = testdev_window(&vm, id);
		/* Unplug it under the guest, who is at it. */
		wait_guest_touch(&vm, id, i);
		if (i % MAP_EVERY == MAP_EVERY / 2) {
			/*
			 * A device write buffer (MMIO: a bounce buffer) to
			 * SCRATCH, held across the unplug: written back at
			 * unmap only if the device still accepts, which it
			 * no longer does.
			 */
			ck_assert_int_eq(address_space_map(vm.as,
					 addr + TESTDEV_SCRATCH, 4, true,
					 &map), 0);
			ck_assert_ptr_nonnull(map.bounce);
			memcpy(map.host, &v, sizeof(v));
			ck_assert_int_eq(dev_del(&vm, id, &err), 0);
			/* The window is empty at once. */
			ck_assert_uint_eq(reg_read(&vm, addr + TESTDEV_ID),
					  0xffffffffu);
			ck_assert_uint_eq(unmap_finalizes(&vm, &map,
					  testdev_args(id, NULL), id), 1);
			mapped++;
		} else {
			ck_assert_int_eq(dev_del(&vm, id, &err), 0);
		}
		rcu_quiescent();
	}
	t1 = now();
	passes = guest_passes(&vm) - passes;
	summary = vm_stop(&vm, false);
	printf("testdev: %u cycles in %.2f s (%.0f us each), each unplugged after the guest touched it; waited for a finalization %u times; %u with a mapping held; guest: %u passes meanwhile\n  %s\n",
	       CYCLES, t1 - t0, (t1 - t0) * 1e6 / CYCLES, waits, mapped,
	       passes, summary);
	ck_assert_msg(t1 - t0 < CYCLES_MAX_S, "%u cycles took %.1f s",
		      CYCLES, t1 - t0);
}
END_TEST

/* ---- virtio-blk ---------------------------------------------------------- */

static void make_disk(char *path)
{
	unsigned char sector[512];
	int fd = mkstemp(path), s;

	ck_assert_int_ge(fd, 0);
	for (s = 0; s < 16; s++) {
		memset(sector, s, sizeof(sector));
		ck_assert_int_eq(write(fd, sector, 512), 512);
	}
	close(fd);
}

/*
 * Cycle i plugs id "d<i mod 4>" into whichever slot is free (no boot
 * devices: slot k is virtio-mmio window k).
 */
START_TEST(virtio_blk_cycles)
{
	char disk[] = "/tmp/flatvm-hpstress-XXXXXX";
	struct vm vm;
	struct dma_map map;
	struct error err;
	unsigned i, waits = 0, driven = 0, mapped = 0, passes, requests = 0;
	unsigned seed = 1;
	double t0, t1, end;
	const char *summary, *p;
	uint64_t win;
	char id[8];

	make_disk(disk);
	vm_start(&vm);
	passes = guest_passes(&vm);
	t0 = now();
	for (i = 0; i < CYCLES; i++) {
		snprintf(id, sizeof(id), "d%u", i % HOTPLUG_SLOTS);
		waits += plug_retry(&vm, blk_args, id, disk);
		win = virtio_window(&vm, id);
		/* The guest found it (and is initializing it). */
		wait_guest_touch(&vm, id, i);
		if (i % DRIVE_EVERY == 0) {
			/*
			 * Until the guest has initialized it; then unplug a
			 * little later (0-2 ms), with its requests going.
			 */
			end = now() + 10;
			while (!(reg_read(&vm, win + VIRTIO_MMIO_STATUS) &
				 VIRTIO_STATUS_DRIVER_OK)) {
				ck_assert_msg(now() < end,
					      "cycle %u: the guest did not initialize the disk in 10 s; console:\n%s",
					      i, console_text(&vm));
				offline_sleep(50);
			}
			seed = seed * 1103515245 + 12345;
			offline_sleep((seed >> 16) % 2000);
			driven++;
		}
		if (i % MAP_EVERY == MAP_EVERY / 2) {
			/* A read of the transport's registers (bounced). */
			ck_assert_int_eq(address_space_map(vm.as,
					 win + VIRTIO_MMIO_MAGIC_VALUE, 4,
					 false, &map), 0);
			ck_assert_uint_eq(*(uint32_t *)map.host,
					  VIRTIO_MAGIC);
			ck_assert_int_eq(dev_del(&vm, id, &err), 0);
			/* The slot reads as an empty transport at once. */
			ck_assert_uint_eq(reg_read(&vm,
					win + VIRTIO_MMIO_DEVICE_ID), 0);
			ck_assert_uint_eq(unmap_finalizes(&vm, &map,
					  blk_args(id, disk), id), 0);
			mapped++;
		} else {
			ck_assert_int_eq(dev_del(&vm, id, &err), 0);
		}
		rcu_quiescent();
	}
	t1 = now();
	passes = guest_passes(&vm) - passes;
	summary = vm_stop(&vm, false);
	printf("virtio-blk: %u cycles in %.2f s (%.0f us each), each unplugged after the guest found it; waited for a finalization %u times; %u with the guest driving the disk, %u with a mapping held; guest: %u passes meanwhile\n  %s\n",
	       CYCLES, t1 - t0, (t1 - t0) * 1e6 / CYCLES, waits, driven,
	       mapped, passes, summary);
	p = strstr(summary, "initialized");
	ck_assert_msg(p && sscanf(p, "initialized (%*u failed), %u requests",
				  &requests) == 1 && requests > 0,
		      "the guest completed no request: %s", summary);
	ck_assert_msg(t1 - t0 < CYCLES_MAX_S, "%u cycles took %.1f s",
		      CYCLES, t1 - t0);
	unlink(disk);
}
END_TEST

/* ---- RAM ----------------------------------------------------------------- */

START_TEST(ram_unplug_with_mapping)
{
	const uint64_t gpa = HOTPLUG_RAM_BASE + (1 << 20), len = 64 << 10;
	struct vm vm;
	struct dma_map map;
	struct error err;
	long objects, allocations;
	unsigned char vec[1], *p, buf[16];
	struct object *owner;
	uintptr_t page;
	double end;
	uint64_t i;
	int ret;

	vm_start(&vm);
	rcu_flush();
	objects = live_objects();
	allocations = live_allocations();
	ck_assert_int_eq(dev_add(&vm, ram_args("r1"), &err), 0);
	ck_assert_int_eq(address_space_map(vm.as, gpa, len, true, &map), 0);
	ck_assert_uint_eq(map.len, len);
	ck_assert_ptr_null(map.bounce);
	p = map.host;
	memset(p, 0x5a, len);
	/* It is the region's memory: dispatch reads what we wrote. */
	ck_assert_int_eq(address_space_read(vm.as, gpa + len - 16, buf, 16), 0);
	ck_assert_uint_eq(buf[15], 0x5a);
	page = (uintptr_t)p & ~(uintptr_t)(sysconf(_SC_PAGESIZE) - 1);
	ck_assert_int_eq(mincore((void *)page, 1, vec), 0);
	owner = map.mr->owner;

	ck_assert_int_eq(dev_del(&vm, "r1", &err), 0);
	/* Gone from the address space at once... */
	ck_assert_int_eq(address_space_read(vm.as, gpa, buf, 16), -EFAULT);
	/* ... but the mapping still works, and is all that holds it. */
	end = now() + 10;
	while (object_refcount(owner) > 1) {
		ck_assert_msg(now() < end, "r1 still has %ld references",
			      object_refcount(owner));
		rcu_flush();
	}
	for (i = 0; i < len; i++)
		ck_assert_uint_eq(p[i], 0x5a);
	memset(p, 0xa5, len);
	for (i = 0; i < len; i += 4096)
		ck_assert_uint_eq(p[i], 0xa5);
	/* Its memory is still there: the objects, the id, the pages. */
	ck_assert_int_eq(live_objects(), objects + 2);	/* device, region */
	ck_assert_int_eq(live_allocations(), allocations + 1);
	ck_assert_int_eq(mincore((void *)page, 1, vec), 0);
	ck_assert_int_eq(dev_add(&vm, ram_args("r1"), &err), -EEXIST);
	rcu_flush();
	ck_assert_int_eq(live_allocations(), allocations + 1);

	/* Dropping the mapping releases it, there and then. */
	address_space_unmap(&map, len);
	ck_assert_int_eq(live_objects(), objects);
	ck_assert_int_eq(live_allocations(), allocations);
	ret = mincore((void *)page, 1, vec);
	ck_assert_msg(ret == -1 && errno == ENOMEM,
		      "the RAM is still mapped after the unmap (mincore %d)",
		      ret);
	ck_assert_int_eq(dev_del(&vm, "r1", &err), -ENODEV);
	/* The id is free: plug and unplug once more, without a mapping. */
	ck_assert_int_eq(dev_add(&vm, ram_args("r1"), &err), 0);
	ck_assert_int_eq(dev_del(&vm, "r1", &err), 0);
	printf("ram: %s\n", vm_stop(&vm, false));
}
END_TEST

/*
 * Quit (machine_request_stop()) with devices plugged (RAM, test device,
 * virtio-blk, virtio-rng) and others just unplugged, still finalizing:
 * machine_destroy() unplugs what is still plugged, and everything
 * finalizes.
 */
START_TEST(quit_with_devices_plugged)
{
	char disk[] = "/tmp/flatvm-hpstress-XXXXXX";
	struct vm vm;
	struct dma_map map;
	struct error err;

	make_disk(disk);
	vm_start(&vm);
	ck_assert_int_eq(dev_add(&vm, ram_args("r1"), &err), 0);
	ck_assert_int_eq(dev_add(&vm, testdev_args("t0", NULL), &err), 0);
	ck_assert_int_eq(dev_add(&vm, testdev_args("t1", NULL), &err), 0);
	ck_assert_int_eq(dev_add(&vm, blk_args("d0", disk), &err), 0);
	ck_assert_int_eq(dev_add(&vm, blk_args("d1", disk), &err), 0);
	ck_assert_int_eq(dev_add(&vm, json_pack("{s:s, s:s}", "driver",
						"virtio-rng", "id", "rng"),
			 &err), 0);
	wait_guest_touch(&vm, "t0", 0);
	wait_guest_touch(&vm, "d0", 0);
	wait_guest_touch(&vm, "d1", 0);
	ck_assert_int_eq(dev_del(&vm, "t1", &err), 0);
	ck_assert_int_eq(dev_del(&vm, "d1", &err), 0);
	/* r1 unplugged under a mapping that is dropped before the end. */
	ck_assert_int_eq(address_space_map(vm.as, HOTPLUG_RAM_BASE, 4096,
					   true, &map), 0);
	ck_assert_int_eq(dev_del(&vm, "r1", &err), 0);
	memset(map.host, 0x11, 4096);
	address_space_unmap(&map, 4096);
	vm_stop(&vm, true);
	unlink(disk);
}
END_TEST

static Suite *hotplug_stress_suite(void)
{
	Suite *s = suite_create("hotplug_stress");
	TCase *tc = rcu_tcase("hotplug_stress", 300);

	tcase_add_test(tc, testdev_cycles);
	tcase_add_test(tc, virtio_blk_cycles);
	tcase_add_test(tc, ram_unplug_with_mapping);
	tcase_add_test(tc, quit_with_devices_plugged);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN_REQUIRES(kvm_available, hotplug_stress_suite)
