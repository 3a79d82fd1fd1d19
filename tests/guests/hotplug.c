// SPDX-License-Identifier: GPL-2.0-only
/*
 * The hotplug guest: a polled "driver" for flatvm's hotplug tests, so they
 * run without Linux.  It finds every virtio-mmio window in the DSDT (boot
 * devices and hotplug slots alike), then for each of `rounds=` rounds
 * waits for a device to appear in a window that was empty, drives it
 * (virtio-blk: read sector 0, write and read back sector 1; virtio-rng:
 * 16 bytes), lets it go in the way the command line says, and waits for
 * the host to unplug it.  Every wait is bounded by `timeout=`.  With
 * `poll=1` there are no rounds: it keeps touching whatever is plugged
 * (virtio windows, hotplugged test devices) until the host says stop,
 * for stress tests.  The protocol (options, the serial lines a host
 * waits for, what is written to the disks) is in README.md, "The
 * hotplug guest".
 */
#include "flatvm/layout.h"
#include "flatvm/testdev-regs.h"

#include "lib/acpi.h"
#include "lib/boot.h"
#include "lib/checks.h"
#include "lib/cmdline.h"
#include "lib/console.h"
#include "lib/io.h"
#include "lib/libc.h"
#include "lib/report.h"
#include "lib/testdev.h"
#include "lib/virtio.h"

/* TESTDEV_RESULT once the guest watches the slots: "REDY". */
#define HP_RESULT_READY		0x52454459u
/* poll=1: the host writes this to TESTDEV_RESULT to end the polling: "STOP". */
#define HP_RESULT_STOP		0x504f5453u

/* TESTDEV_SCRATCH = round << 8 | state. */
#define HP_STATE_WAITING	0x01	/* waiting for a device to appear */
#define HP_STATE_WORKING	0x02	/* driving it */
#define HP_STATE_DONE		0x03	/* done with it: waiting for removal */
#define HP_STATE_GONE		0x04	/* it is gone */
#define HP_STATE_POLLING	0x05	/* poll=1: round = passes so far */
#define HP_STATE_FINISHED	0x0f	/* all rounds over */

#define HP_TIMEOUT_S		60	/* default timeout= (nominal seconds) */
#define HP_TIMEOUT_MAX_S	3600
#define HP_EMPTY_SETTLE_MS	1000	/* for a gone slot to read as empty */
#define HP_RING_SECTORS		8	/* surprise writes: sectors 2..9 */
#define HP_HEADER_LEN		64	/* text header of the written sectors */
#define RNG_BYTES		16

#define ID_UNASSIGNED		0xffffffffu

/*
 * poll=1: hotplugged test devices get the 4 KiB windows right after the
 * boot test device's (HOTPLUG_TESTDEV_BASE in vmm/control.c), at most
 * MACHINE_MAX_HOTPLUG_TESTDEV of them; a request to a virtio device that
 * may vanish waits at most POLL_REQUEST_MS (nominal).
 */
#define POLL_TESTDEV_WINDOWS	8
#define POLL_REQUEST_MS		20

enum mode { MODE_RELEASE, MODE_HOLD, MODE_SURPRISE, MODE_POLL };

static const char *const mode_names[] = {
	[MODE_RELEASE] = "release",
	[MODE_HOLD] = "hold",
	[MODE_SURPRISE] = "surprise",
	[MODE_POLL] = "poll",
};

struct slot {
	uint64_t base;
	uint32_t gsi;
	bool usable;		/* a window we can read */
	uint32_t last_id;	/* device ID as last seen: 0 = empty */
	struct virtio_dev dev;	/* its own queue memory, per slot */
};

static struct slot slots[ACPI_MAX_VIRTIO];
static unsigned nslots;
static struct deadline overall;
static uint32_t timeout_s;
static enum mode mode;

static uint8_t sector[VIRTIO_BLK_SECTOR_SIZE] __attribute__((aligned(16)));
static uint8_t pattern[VIRTIO_BLK_SECTOR_SIZE] __attribute__((aligned(16)));
static uint8_t rng_buf[RNG_BYTES];

static void state(unsigned round, unsigned st)
{
	if (testdev_present())
		testdev_mmio_write(TESTDEV_SCRATCH, round << 8 | st);
}

static void result(uint32_t v)
{
	if (testdev_present())
		testdev_mmio_write(TESTDEV_RESULT, v);
}

/*
 * Has timeout= run out?  deadline_passed() reads the TSC only every
 * DEADLINE_TSC_EVERY calls, too seldom for loops whose every pass is a
 * VM exit or a whole disk request (a write-through write takes
 * milliseconds), so read it each time.
 */
static bool overall_passed(void)
{
	return deadline_passed(&overall) ||
	       rdtsc() - overall.start >= overall.ticks;
}

/* "hotplug-r<round>-<what>" */
static const char *cname(unsigned round, const char *what)
{
	static char buf[48];

	snprintf(buf, sizeof(buf), "hotplug-r%u-%s", round, what);
	return buf;
}

/*
 * A sector the guest writes: a text header zero-padded to HP_HEADER_LEN
 * bytes, then byte i = (i * 7 + 0x5a + seed) mod 256 (README.md).
 */
static void fill_pattern(uint32_t seed, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void fill_pattern(uint32_t seed, const char *fmt, ...)
{
	va_list ap;
	unsigned i;

	for (i = HP_HEADER_LEN; i < VIRTIO_BLK_SECTOR_SIZE; i++)
		pattern[i] = (uint8_t)(i * 7 + 0x5a + seed);
	memset(pattern, 0, HP_HEADER_LEN);
	va_start(ap, fmt);
	/* At most HP_HEADER_LEN - 1 characters and a NUL. */
	vsnprintf((char *)pattern, HP_HEADER_LEN, fmt, ap);
	va_end(ap);
}

/* ---- Slots ------------------------------------------------------------- */

/*
 * What a window holds now, in one read: its DeviceID, confirmed as a
 * virtio-mmio v2 transport when non-zero.  An empty slot reads 0, an
 * unassigned window (or one whose device is being removed) all ones;
 * both count as no device (0).
 */
static uint32_t slot_id(const struct slot *s)
{
	uint32_t id = mmio_read32(s->base + VIRTIO_MMIO_DEVICE_ID);

	if (!id || id == ID_UNASSIGNED)
		return 0;
	if (mmio_read32(s->base + VIRTIO_MMIO_MAGIC_VALUE) !=
		    VIRTIO_MMIO_MAGIC ||
	    mmio_read32(s->base + VIRTIO_MMIO_VERSION) != 2)
		return 0;
	return id;
}

/* Does the window read as an empty virtio-mmio v2 transport? */
static bool slot_reads_empty(const struct slot *s, uint32_t *magic,
			     uint32_t *version, uint32_t *id)
{
	*magic = mmio_read32(s->base + VIRTIO_MMIO_MAGIC_VALUE);
	*version = mmio_read32(s->base + VIRTIO_MMIO_VERSION);
	*id = mmio_read32(s->base + VIRTIO_MMIO_DEVICE_ID);
	return *magic == VIRTIO_MMIO_MAGIC && *version == 2 && !*id;
}

static void find_slots(void)
{
	const struct acpi_virtio_dev *w;
	struct slot *s;
	uint32_t magic, version, id;
	unsigned i;

	for (i = 0; i < acpi.nvirtio; i++) {
		w = &acpi.virtio[i];
		s = &slots[nslots++];
		s->base = w->base;
		s->gsi = w->gsi;
		s->usable = w->has_mem && w->size >= 0x100 &&
			    phys_ok(w->base, 0x100);
		if (!s->usable) {
			printf("hotplug: window %u: unusable (0x%llx size 0x%llx)\n",
			       i, (unsigned long long)w->base,
			       (unsigned long long)w->size);
			continue;
		}
		magic = mmio_read32(s->base + VIRTIO_MMIO_MAGIC_VALUE);
		version = mmio_read32(s->base + VIRTIO_MMIO_VERSION);
		id = mmio_read32(s->base + VIRTIO_MMIO_DEVICE_ID);
		if (magic != VIRTIO_MMIO_MAGIC || version != 2)
			printf("hotplug: window %u at 0x%llx gsi %u: no virtio-mmio v2 transport (magic 0x%08x version %u)\n",
			       i, (unsigned long long)s->base, s->gsi, magic,
			       version);
		else if (!id)
			printf("hotplug: window %u at 0x%llx gsi %u: empty\n", i,
			       (unsigned long long)s->base, s->gsi);
		else {
			printf("hotplug: window %u at 0x%llx gsi %u: device %u (%s)\n",
			       i, (unsigned long long)s->base, s->gsi, id,
			       virtio_id_name(id));
			/*
			 * Firmware hands devices over reset, after a
			 * system_reset too: not still set up by the guest
			 * that ran before, its queues in RAM we now use.
			 */
			check("hotplug-boot-device-reset",
			      !mmio_read32(s->base + VIRTIO_MMIO_STATUS),
			      "window %u: device %u has status 0x%x at boot, expected 0 (reset)",
			      i, id, mmio_read32(s->base + VIRTIO_MMIO_STATUS));
		}
	}
}

/*
 * Wait for a window to turn from no device to a device; the lowest such
 * window wins (others are found in later rounds).  -1 on timeout.
 */
static int wait_appear(void)
{
	unsigned i;
	uint32_t id;

	for (;;) {
		for (i = 0; i < nslots; i++) {
			if (!slots[i].usable)
				continue;
			id = slot_id(&slots[i]);
			if (!id)
				slots[i].last_id = 0;
			else if (!slots[i].last_id)
				return (int)i;
		}
		if (overall_passed())
			return -1;
	}
}

/* Wait for slot @i to stop holding device @id; false on timeout. */
static bool wait_gone(unsigned i, uint32_t id)
{
	while (slot_id(&slots[i]) == id)
		if (overall_passed())
			return false;
	return true;
}

/*
 * The slot is gone: record it, and check that it settles to what the
 * machine promises, an empty transport (magic, version 2, DeviceID 0).
 */
static void gone(unsigned round, unsigned i)
{
	struct deadline settle;
	uint32_t magic, version, id;
	bool empty;

	slots[i].last_id = 0;
	state(round, HP_STATE_GONE);
	deadline_start(&settle, HP_EMPTY_SETTLE_MS);
	while (!(empty = slot_reads_empty(&slots[i], &magic, &version, &id)))
		if (deadline_passed(&settle))
			break;
	check(cname(round, "empty"), empty,
	      "slot %u reads magic 0x%08x version %u DeviceID 0x%x; expected an empty transport (0x%08x, 2, 0)",
	      i, magic, version, id, VIRTIO_MMIO_MAGIC);
	printf("hotplug: round %u: slot %u gone\n", round, i);
}

/* ---- Driving a device -------------------------------------------------- */

/* Returns false if the device cannot be used further this round. */
static bool work_blk(unsigned round, unsigned i, struct virtio_dev *d)
{
	const char *err;
	uint64_t cap;
	uint32_t h0;
	int st;

	err = virtio_init(d, 1ull << VIRTIO_BLK_F_RO);
	if (!check(cname(round, "blk-init"), !err, "%s", err))
		return false;
	cap = virtio_blk_capacity(d);
	note("round %u: slot %u blk: %llu sectors%s, features 0x%llx", round,
	     i, (unsigned long long)cap,
	     virtio_blk_read_only(d) ? ", read-only" : "",
	     (unsigned long long)d->device_features);
	if (!check(cname(round, "blk-capacity"), cap > 0,
		   "capacity is 0 sectors"))
		return false;

	memset(sector, 0xcc, sizeof(sector));
	st = virtio_blk_rw(d, 0, sector, false);
	if (!check(cname(round, "blk-read0"), st == VIRTIO_BLK_S_OK,
		   "status %d (%s) %s", st, virtio_blk_status_name(st),
		   st < 0 ? d->err : ""))
		return false;
	h0 = fnv1a32(FNV1A32_INIT, sector, sizeof(sector));
	result(h0);
	printf("# round %u: slot %u sector 0: ", round, i);
	print_hex_bytes(sector, 16);
	console_putc('\n');

	if (virtio_blk_read_only(d)) {
		fill_pattern(round, "flatvm hotplug round %u\n", round);
		st = virtio_blk_rw(d, 1, pattern, true);
		check(cname(round, "blk-write-refused"),
		      st == VIRTIO_BLK_S_IOERR,
		      "write to a read-only disk: status %d (%s), expected IOERR",
		      st, virtio_blk_status_name(st));
		printf("hotplug: round %u: slot %u blk sector0 fnv 0x%08x, read-only: sector 1 not written\n",
		       round, i, h0);
		return st >= 0;
	}
	if (!check(cname(round, "blk-capacity-for-write"), cap >= 2,
		   "%llu sectors: no sector 1 to write",
		   (unsigned long long)cap)) {
		printf("hotplug: round %u: slot %u blk sector0 fnv 0x%08x, sector 1 not written\n",
		       round, i, h0);
		return true;
	}
	fill_pattern(round, "flatvm hotplug round %u\n", round);
	st = virtio_blk_rw(d, 1, pattern, true);
	if (!check(cname(round, "blk-write1"), st == VIRTIO_BLK_S_OK,
		   "status %d (%s) %s", st, virtio_blk_status_name(st),
		   st < 0 ? d->err : ""))
		return false;
	memset(sector, 0, sizeof(sector));
	st = virtio_blk_rw(d, 1, sector, false);
	if (!check(cname(round, "blk-read1"), st == VIRTIO_BLK_S_OK,
		   "status %d (%s) %s", st, virtio_blk_status_name(st),
		   st < 0 ? d->err : ""))
		return false;
	check(cname(round, "blk-readback1"),
	      !memcmp(sector, pattern, sizeof(sector)),
	      "sector 1 reads back differently (fnv1a 0x%08x, wrote 0x%08x)",
	      fnv1a32(FNV1A32_INIT, sector, sizeof(sector)),
	      fnv1a32(FNV1A32_INIT, pattern, sizeof(pattern)));
	printf("hotplug: round %u: slot %u blk sector0 fnv 0x%08x, wrote sector 1\n",
	       round, i, h0);
	return true;
}

static bool work_rng(unsigned round, unsigned i, struct virtio_dev *d)
{
	static const uint8_t zero[RNG_BYTES];
	const char *err;
	int n;

	err = virtio_init(d, 0);
	if (!check(cname(round, "rng-init"), !err, "%s", err))
		return false;
	n = virtio_rng_fill(d, rng_buf, RNG_BYTES);
	if (!check(cname(round, "rng-read"), n == RNG_BYTES,
		   "got %d of %u bytes%s%s", n, RNG_BYTES, n < 0 ? ": " : "",
		   n < 0 ? d->err : ""))
		return false;
	check(cname(round, "rng-nonzero"), memcmp(rng_buf, zero, RNG_BYTES),
	      "%u bytes, all zero", RNG_BYTES);
	printf("hotplug: round %u: slot %u rng read %u bytes\n", round, i,
	       RNG_BYTES);
	return true;
}

/*
 * surprise=1: keep the device busy until it disappears.  virtio-blk:
 * write k (k = 0, 1, ...) goes to sector 2 + k mod ring, each followed by
 * a read of that sector compared with what was written; virtio-rng:
 * 16-byte reads.  The driver watches DeviceID while it waits for each
 * request (virtio_dev.watch_removal, set in do_round()), so an unplug
 * ends the request at once instead of after the per-request timeout.
 */
static void surprise(unsigned round, unsigned i, struct virtio_dev *d)
{
	uint64_t cap;
	unsigned ring = 0, nreq = 0, nbad = 0, k = 0, sec = 0;
	bool writing = false, in_write = false, gone_now = false;
	bool timed_out = false;
	int st;

	if (d->device_id == VIRTIO_ID_BLOCK) {
		cap = virtio_blk_capacity(d);
		if (!virtio_blk_read_only(d) && cap >= 3) {
			ring = (unsigned)MIN(cap - 2, (uint64_t)HP_RING_SECTORS);
			writing = true;
		}
	}
	state(round, HP_STATE_DONE);
	printf("hotplug: round %u done, slot %u busy\n", round, i);

	for (;;) {
		if (overall_passed()) {
			timed_out = true;
			st = VIRTIO_BLK_S_OK;
			break;
		}
		if (d->device_id == VIRTIO_ID_RNG) {
			st = virtio_rng_read(d, rng_buf, RNG_BYTES) >= 0 ?
				     VIRTIO_BLK_S_OK : -1;
		} else if (writing) {
			/* Write k to its sector... */
			sec = 2 + k % ring;
			fill_pattern(k, "flatvm hotplug round %u write %u\n",
				     round, k);
			in_write = true;
			st = virtio_blk_rw(d, sec, pattern, true);
			if (st != VIRTIO_BLK_S_OK)
				break;
			in_write = false;
			nreq++;
			k++;
			/* ... and read it back. */
			memset(sector, 0, sizeof(sector));
			st = virtio_blk_rw(d, sec, sector, false);
			if (st == VIRTIO_BLK_S_OK &&
			    memcmp(sector, pattern, sizeof(sector)))
				nbad++;
		} else {
			st = virtio_blk_rw(d, 0, sector, false);
		}
		if (st != VIRTIO_BLK_S_OK)
			break;
		nreq++;
	}
	/*
	 * A request failed or never completed.  Unless the driver saw the
	 * device leave, wait (bounded by timeout=) for the slot to go.
	 */
	if (!timed_out)
		gone_now = d->removed || wait_gone(i, d->device_id);
	check(cname(round, "surprise-removed"), gone_now,
	      "slot %u still holds device %u after %u requests (%s)", i,
	      d->device_id, nreq,
	      timed_out ? "timeout" : st < 0 ? d->err : virtio_blk_status_name(st));
	check(cname(round, "surprise-readback"), !nbad,
	      "%u of %u sectors read back differently from what was written",
	      nbad, k);
	if (!gone_now) {
		/* Take our buffers back. */
		virtio_reset(d);
		return;
	}
	printf("hotplug: round %u: slot %u removed under us after %u requests, %u writes completed",
	       round, i, nreq, k);
	if (k)
		printf(", last write %u at sector %u", k - 1,
		       2 + (k - 1) % ring);
	if (in_write)
		printf("; write %u at sector %u in flight: %s%s%s\n", k, sec,
		       virtio_blk_status_name(st), st < 0 ? ": " : "",
		       st < 0 ? d->err : "");
	else
		printf("; no write in flight\n");
	gone(round, i);
}

/* One round: wait for a device, drive it, let it go, see it leave. */
static bool do_round(unsigned round)
{
	struct slot *s;
	struct virtio_dev *d;
	bool usable = false;
	uint32_t id;
	int i;

	state(round, HP_STATE_WAITING);
	printf("hotplug: round %u: waiting for a device\n", round);
	i = wait_appear();
	if (!check(cname(round, "appear"), i >= 0,
		   "no device appeared within %u s (nominal)", timeout_s))
		return false;
	s = &slots[i];
	d = &s->dev;
	state(round, HP_STATE_WORKING);
	virtio_probe(d, s->base);
	/* It may leave at any time: end a request as soon as it does. */
	d->watch_removal = true;
	id = d->device_id;
	s->last_id = id;
	printf("hotplug: round %u: slot %d at 0x%llx gsi %u: device %u (%s) appeared\n",
	       round, i, (unsigned long long)s->base, s->gsi, id,
	       virtio_id_name(id));

	switch (id) {
	case VIRTIO_ID_BLOCK:
		usable = work_blk(round, (unsigned)i, d);
		break;
	case VIRTIO_ID_RNG:
		usable = work_rng(round, (unsigned)i, d);
		break;
	default:
		note("round %u: slot %d: device type %u not driven", round, i,
		     id);
		break;
	}

	if (mode == MODE_SURPRISE && usable) {
		surprise(round, (unsigned)i, d);
		return true;
	}
	if (mode == MODE_HOLD && usable) {
		printf("hotplug: round %u done, slot %d held\n", round, i);
	} else {
		virtio_reset(d);
		printf("hotplug: round %u done, slot %d released\n", round, i);
	}
	state(round, HP_STATE_DONE);
	if (opt_is("nowaitgone", "1")) {
		if (mode == MODE_HOLD && usable)
			virtio_reset(d);
		return true;
	}
	if (!check(cname(round, "gone"), wait_gone((unsigned)i, id),
		   "slot %d still holds device %u after %u s (nominal)", i, id,
		   timeout_s)) {
		virtio_reset(d);
		return false;
	}
	gone(round, (unsigned)i);
	return true;
}

/* ---- poll=1: keep touching whatever is plugged ----------------------- */

struct poll_stats {
	unsigned passes;
	unsigned virtio_seen;	/* passes x windows holding a device */
	unsigned inits;		/* devices initialized */
	unsigned init_failed;
	unsigned requests;	/* completed */
	unsigned failed;	/* failed, removed under us or timed out */
	unsigned testdev_seen;	/* passes x test device windows answering */
};

/*
 * One pass over a virtio window: read DeviceID (and, for a device, magic
 * and version); a blk or rng device is initialized if it is not yet (or
 * is another one than last time) and gets one request: blk a read of
 * sector 0, rng 16 bytes.  The device may be swapped or unplugged at any
 * moment: the driver watches DeviceID during requests and gives up after
 * POLL_REQUEST_MS, and a failure just means "initialize again".
 */
static void poll_slot(struct slot *s, struct poll_stats *st)
{
	struct virtio_dev *d = &s->dev;
	uint32_t id = slot_id(s);
	bool ok;

	if (!id) {
		d->ready = false;
		return;
	}
	st->virtio_seen++;
	if (id != VIRTIO_ID_BLOCK && id != VIRTIO_ID_RNG)
		return;
	if (!d->ready || d->broken || d->device_id != id) {
		virtio_probe(d, s->base);
		d->watch_removal = true;
		d->timeout_ms = POLL_REQUEST_MS;
		if (d->device_id != id ||
		    virtio_init(d, id == VIRTIO_ID_BLOCK ?
				1ull << VIRTIO_BLK_F_RO : 0)) {
			st->init_failed++;
			return;
		}
		st->inits++;
	}
	if (id == VIRTIO_ID_BLOCK)
		ok = virtio_blk_rw(d, 0, sector, false) == VIRTIO_BLK_S_OK;
	else
		ok = virtio_rng_read(d, rng_buf, RNG_BYTES) >= 0;
	if (ok)
		st->requests++;
	else
		st->failed++;
}

/* The hotplugged test devices' windows: ID, COUNTER, SCRATCH. */
static void poll_testdevs(struct poll_stats *st)
{
	uint64_t base;
	unsigned k;

	for (k = 0; k < POLL_TESTDEV_WINDOWS; k++) {
		base = LAYOUT_TESTDEV_MMIO + (k + 1) * LAYOUT_TESTDEV_MMIO_SIZE;
		if (mmio_read32(base + TESTDEV_ID) != TESTDEV_MAGIC)
			continue;
		st->testdev_seen++;
		(void)mmio_read32(base + TESTDEV_COUNTER);
		mmio_write32(base + TESTDEV_SCRATCH, st->passes);
		(void)mmio_read32(base + TESTDEV_SCRATCH);
	}
}

/*
 * poll=1: no rounds.  Pass after pass over every virtio window and every
 * hotplugged test device window, for hosts that plug and unplug as fast
 * as they can while the guest keeps accessing whatever is there, until
 * the host writes HP_RESULT_STOP to the boot test device's RESULT or
 * timeout= runs out.  Nothing is checked (a device may leave at any
 * access); SCRATCH counts the passes.
 */
static void poll_all(void)
{
	struct poll_stats st = { 0 };
	bool stopped = false;
	unsigned i;

	printf("hotplug: polling\n");
	while (!overall_passed()) {
		for (i = 0; i < nslots; i++)
			if (slots[i].usable)
				poll_slot(&slots[i], &st);
		poll_testdevs(&st);
		st.passes++;
		state(st.passes, HP_STATE_POLLING);
		if (testdev_present() &&
		    testdev_mmio_read(TESTDEV_RESULT) == HP_RESULT_STOP) {
			stopped = true;
			break;
		}
	}
	for (i = 0; i < nslots; i++)
		if (slots[i].usable && slots[i].dev.ready &&
		    slot_id(&slots[i]) == slots[i].dev.device_id)
			virtio_reset(&slots[i].dev);
	printf("hotplug: poll: %u passes; virtio: %u seen, %u initialized (%u failed), %u requests, %u failed; testdev: %u seen; %s\n",
	       st.passes, st.virtio_seen, st.inits, st.init_failed,
	       st.requests, st.failed, st.testdev_seen,
	       stopped ? "stopped by the host" : "timeout");
}

void guest_main(const struct boot_info *bi)
{
	unsigned i, nempty = 0, rounds, round, done = 0;
	uint64_t want;

	printf("flatvm test guest: %s entry, hotplug guest\n",
	       boot_kind_name(bi->kind));
	describe_boot(bi);
	check_acpi(bi);
	if (!acpi.loaded)
		return;

	rounds = (unsigned)opt_uint("rounds", 1);
	timeout_s = (uint32_t)MIN(opt_uint("timeout", HP_TIMEOUT_S),
				  (uint64_t)HP_TIMEOUT_MAX_S);
	mode = opt_is("poll", "1")     ? MODE_POLL :
	       opt_is("surprise", "1") ? MODE_SURPRISE :
	       opt_is("hold", "1")     ? MODE_HOLD :
					 MODE_RELEASE;

	find_slots();
	for (i = 0; i < nslots; i++) {
		slots[i].last_id = slots[i].usable ? slot_id(&slots[i]) : 0;
		nempty += slots[i].usable && !slots[i].last_id;
		/* boot=1: what is there already counts as just plugged. */
		if (opt_is("boot", "1"))
			slots[i].last_id = 0;
	}
	if (rounds && mode != MODE_POLL)
		check("hotplug-windows", nslots,
		      "the DSDT describes no virtio-mmio (LNRO0005) window");
	if (opt_uint_get("slots", &want))
		check("hotplug-slots", nempty == want,
		      "%u empty windows at start, expected %llu (slots=)",
		      nempty, (unsigned long long)want);

	deadline_start(&overall, timeout_s * 1000);
	result(HP_RESULT_READY);
	state(0, HP_STATE_WAITING);
	printf("hotplug: ready: %u windows, %u empty, rounds %u, mode %s, timeout %u s\n",
	       nslots, nempty, rounds, mode_names[mode], timeout_s);

	if (mode == MODE_POLL) {
		poll_all();
		state(0, HP_STATE_FINISHED);
		return;
	}
	for (round = 1; round <= rounds; round++) {
		if (!do_round(round))
			break;
		done++;
	}
	state(done, HP_STATE_FINISHED);
	printf("hotplug: finished %u of %u rounds\n", done, rounds);
}
