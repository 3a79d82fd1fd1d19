// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-mmio transport and split virtqueue, polled.  Every wait on the
 * device is bounded; a device that never answers fails the request, is
 * reset (so it stops owning our buffers) and marked broken.
 */
#include "console.h"
#include "io.h"
#include "libc.h"
#include "virtio.h"

#define RESET_SPIN	100000
#define CONFIG_TRIES	16

const char *virtio_id_name(uint32_t id)
{
	switch (id) {
	case VIRTIO_ID_NONE:
		return "none";
	case VIRTIO_ID_NET:
		return "net";
	case VIRTIO_ID_BLOCK:
		return "blk";
	case VIRTIO_ID_CONSOLE:
		return "console";
	case VIRTIO_ID_RNG:
		return "rng";
	}
	return "other";
}

static uint32_t rd(const struct virtio_dev *d, unsigned reg)
{
	return mmio_read32(d->base + reg);
}

static void wr(const struct virtio_dev *d, unsigned reg, uint32_t v)
{
	mmio_write32(d->base + reg, v);
}

static const char *fail(struct virtio_dev *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Record why, tell the device we gave up (FAILED), return the reason. */
static const char *fail(struct virtio_dev *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->err, sizeof(d->err), fmt, ap);
	va_end(ap);
	if (!d->broken)
		wr(d, VIRTIO_MMIO_STATUS,
		   rd(d, VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_FAILED);
	d->ready = false;
	return d->err;
}

bool virtio_probe(struct virtio_dev *d, uint64_t base)
{
	memset(d, 0, sizeof(*d));
	d->base = base;
	d->magic = rd(d, VIRTIO_MMIO_MAGIC_VALUE);
	d->version = rd(d, VIRTIO_MMIO_VERSION);
	d->device_id = rd(d, VIRTIO_MMIO_DEVICE_ID);
	d->vendor_id = rd(d, VIRTIO_MMIO_VENDOR_ID);
	return d->magic == VIRTIO_MMIO_MAGIC;
}

void virtio_reset(struct virtio_dev *d)
{
	unsigned spin;
	uint32_t st;

	wr(d, VIRTIO_MMIO_STATUS, 0);
	/*
	 * 4.2.3.1: wait until the reset is done (Status reads 0).  All
	 * ones is no device at all (an unplugged, unassigned window).
	 */
	for (spin = 0; spin < RESET_SPIN; spin++) {
		st = rd(d, VIRTIO_MMIO_STATUS);
		if (!st || st == 0xffffffffu)
			break;
	}
	d->ready = false;
}

static void set_status(struct virtio_dev *d, uint32_t bits)
{
	wr(d, VIRTIO_MMIO_STATUS, rd(d, VIRTIO_MMIO_STATUS) | bits);
}

static uint64_t read_features(struct virtio_dev *d)
{
	uint64_t f;

	wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	f = rd(d, VIRTIO_MMIO_DEVICE_FEATURES);
	wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	f |= (uint64_t)rd(d, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	return f;
}

static void write_features(struct virtio_dev *d, uint64_t f)
{
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
}

static void write_addr(struct virtio_dev *d, unsigned low_reg, const void *p)
{
	uint64_t a = ptr_phys(p);

	wr(d, low_reg, (uint32_t)a);
	wr(d, low_reg + 4, (uint32_t)(a >> 32));
}

static const char *setup_queue(struct virtio_dev *d)
{
	struct virtq *vq = &d->vq;
	uint32_t max;
	uint16_t num;

	wr(d, VIRTIO_MMIO_QUEUE_SEL, 0);
	if (rd(d, VIRTIO_MMIO_QUEUE_READY))
		return fail(d, "queue 0 is ready before setup");
	max = rd(d, VIRTIO_MMIO_QUEUE_NUM_MAX);
	if (!max)
		return fail(d, "queue 0 is not available (QueueNumMax 0)");
	for (num = VQ_SIZE; num > max; num >>= 1)
		;
	memset(vq, 0, sizeof(*vq));
	vq->num = num;
	vq->avail.flags = VIRTQ_AVAIL_F_NO_INTERRUPT;

	wr(d, VIRTIO_MMIO_QUEUE_NUM, num);
	write_addr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, vq->desc);
	write_addr(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, &vq->avail);
	write_addr(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, &vq->used);
	mb();
	wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
	if (rd(d, VIRTIO_MMIO_QUEUE_READY) != 1)
		return fail(d, "queue 0 did not become ready");
	return NULL;
}

const char *virtio_init(struct virtio_dev *d, uint64_t features)
{
	const char *err;

	d->ready = false;
	d->broken = false;
	if (d->magic != VIRTIO_MMIO_MAGIC)
		return fail(d, "no virtio-mmio device (magic 0x%08x)",
			    d->magic);
	if (d->version != 2)
		return fail(d, "transport version %u, expected 2 (modern)",
			    d->version);

	virtio_reset(d);
	if (rd(d, VIRTIO_MMIO_STATUS))
		return fail(d, "reset did not complete (status 0x%x)",
			    rd(d, VIRTIO_MMIO_STATUS));
	set_status(d, VIRTIO_STATUS_ACKNOWLEDGE);
	set_status(d, VIRTIO_STATUS_DRIVER);

	d->device_features = read_features(d);
	if (!(d->device_features & 1ull << VIRTIO_F_VERSION_1))
		return fail(d, "device does not offer VIRTIO_F_VERSION_1 (features 0x%llx)",
			    (unsigned long long)d->device_features);
	d->driver_features = (d->device_features & features) |
			     1ull << VIRTIO_F_VERSION_1;
	write_features(d, d->driver_features);
	set_status(d, VIRTIO_STATUS_FEATURES_OK);
	if (!(rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK))
		return fail(d, "device refused features 0x%llx",
			    (unsigned long long)d->driver_features);

	err = setup_queue(d);
	if (err)
		return err;
	set_status(d, VIRTIO_STATUS_DRIVER_OK);
	if (rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET)
		return fail(d, "device needs a reset right after DRIVER_OK");
	d->ready = true;
	return NULL;
}

const char *virtio_transfer(struct virtio_dev *d, const struct virtio_buf *b,
			    unsigned n, uint32_t *used_len)
{
	struct virtq *vq = &d->vq;
	volatile uint16_t *used_idx = &vq->used.idx;
	struct virtq_used_elem elem;
	struct deadline wait;
	uint32_t isr, id, ms = d->timeout_ms ? d->timeout_ms : VIRTIO_TIMEOUT_MS;
	unsigned i, polls = 0;

	if (!d->ready || d->broken)
		return d->err[0] ? d->err : "device not initialized";
	if (!n || n > vq->num)
		return fail(d, "a chain of %u buffers does not fit queue size %u",
			    n, vq->num);

	for (i = 0; i < n; i++) {
		vq->desc[i] = (struct virtq_desc){
			.addr = ptr_phys(b[i].addr),
			.len = b[i].len,
			.flags = (uint16_t)((b[i].device_writes ?
						     VIRTQ_DESC_F_WRITE : 0) |
					    (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
			.next = (uint16_t)(i + 1 < n ? i + 1 : 0),
		};
	}
	vq->avail.ring[vq->avail_idx % vq->num] = 0;	/* head: desc 0 */
	/* The ring entry and descriptors before the index (2.7.13). */
	barrier();
	*(volatile uint16_t *)&vq->avail.idx = ++vq->avail_idx;
	/* The index before the notification (2.7.13.4). */
	mb();
	wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, 0);

	deadline_start(&wait, ms);
	while (*used_idx == vq->last_used) {
		if (deadline_passed(&wait))
			break;
		if (d->watch_removal && !(++polls % VIRTIO_WATCH_EVERY) &&
		    (id = rd(d, VIRTIO_MMIO_DEVICE_ID)) != d->device_id) {
			/* Unplugged under us: nothing there to reset. */
			snprintf(d->err, sizeof(d->err),
				 "device removed during the request (DeviceID reads 0x%x, was %u)",
				 id, d->device_id);
			d->removed = true;
			d->broken = true;
			d->ready = false;
			return d->err;
		}
	}
	if (*used_idx == vq->last_used) {
		fail(d, "no used buffer after %u ms (used idx %u, avail idx %u)",
		     ms, *used_idx, vq->avail_idx);
		/* Take our buffers back before anyone reuses them. */
		virtio_reset(d);
		d->broken = true;
		return d->err;
	}
	/* The used element only after the index that covers it. */
	barrier();
	elem = *(volatile struct virtq_used_elem *)&vq->used
			.ring[vq->last_used % vq->num];
	vq->last_used++;
	/* We asked for no interrupts, but a device may still raise one. */
	isr = rd(d, VIRTIO_MMIO_INTERRUPT_STATUS);
	if (isr)
		wr(d, VIRTIO_MMIO_INTERRUPT_ACK, isr);
	if (elem.id != 0)
		return fail(d, "used ring returned descriptor %u, expected 0",
			    elem.id);
	if (*used_idx != vq->last_used)
		return fail(d, "used idx %u, expected %u: more used than posted",
			    *used_idx, vq->last_used);
	if (used_len)
		*used_len = elem.len;
	return NULL;
}

/* 4.2.2: read config fields until ConfigGeneration holds still. */
uint32_t virtio_config32(struct virtio_dev *d, unsigned off)
{
	return rd(d, VIRTIO_MMIO_CONFIG + off);
}

uint64_t virtio_config64(struct virtio_dev *d, unsigned off)
{
	uint32_t gen, lo, hi;
	unsigned tries = 0;

	do {
		gen = rd(d, VIRTIO_MMIO_CONFIG_GENERATION);
		lo = rd(d, VIRTIO_MMIO_CONFIG + off);
		hi = rd(d, VIRTIO_MMIO_CONFIG + off + 4);
	} while (gen != rd(d, VIRTIO_MMIO_CONFIG_GENERATION) &&
		 ++tries < CONFIG_TRIES);
	return (uint64_t)hi << 32 | lo;
}

/* ---- virtio-blk -------------------------------------------------------- */

struct virtio_blk_req {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

static struct virtio_blk_req blk_req;
static uint8_t blk_status;

uint64_t virtio_blk_capacity(struct virtio_dev *d)
{
	return virtio_config64(d, 0);
}

bool virtio_blk_read_only(const struct virtio_dev *d)
{
	return d->device_features & 1ull << VIRTIO_BLK_F_RO;
}

int virtio_blk_rw(struct virtio_dev *d, uint64_t sector, void *buf,
		  bool write)
{
	const struct virtio_buf chain[] = {
		{ &blk_req, sizeof(blk_req), false },
		{ buf, VIRTIO_BLK_SECTOR_SIZE, !write },
		{ &blk_status, 1, true },
	};
	uint32_t len;

	blk_req = (struct virtio_blk_req){
		.type = write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN,
		.sector = sector,
	};
	blk_status = 0xff;	/* the device must overwrite it */
	if (virtio_transfer(d, chain, 3, &len))
		return -1;
	return *(volatile uint8_t *)&blk_status;
}

/* ---- virtio-rng -------------------------------------------------------- */

int virtio_rng_read(struct virtio_dev *d, void *buf, uint32_t len)
{
	const struct virtio_buf chain[] = { { buf, len, true } };
	uint32_t got;

	if (len > 4096) {
		fail(d, "rng read of %u bytes, at most 4096", len);
		return -1;
	}
	if (virtio_transfer(d, chain, 1, &got))
		return -1;
	if (got > len) {
		fail(d, "device claims to have written %u bytes into %u",
		     got, len);
		return -1;
	}
	return (int)got;
}

const char *virtio_blk_status_name(int st)
{
	switch (st) {
	case VIRTIO_BLK_S_OK:
		return "OK";
	case VIRTIO_BLK_S_IOERR:
		return "IOERR";
	case VIRTIO_BLK_S_UNSUPP:
		return "UNSUPP";
	case -1:
		return "transport failure";
	}
	return "not written by the device";
}

int virtio_rng_fill(struct virtio_dev *d, uint8_t *buf, unsigned len)
{
	unsigned got = 0, tries;
	int n;

	for (tries = 0; got < len && tries < VIRTIO_RNG_FILL_TRIES; tries++) {
		n = virtio_rng_read(d, buf + got, len - got);
		if (n < 0)
			return -1;
		got += (unsigned)n;
	}
	return (int)got;
}
