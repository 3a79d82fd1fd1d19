/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A polled virtio-mmio (version 2, "modern") driver with one split
 * virtqueue, and the two device types the guests drive: virtio-blk and
 * virtio-rng.  From the Virtual I/O Device (VIRTIO) 1.2 specification:
 * 4.2 (MMIO transport), 2.7 (split virtqueues), 3.1 (initialization),
 * 5.2 (block device), 5.4 (entropy device).
 *
 * No interrupts: the driver asks the device not to interrupt
 * (VIRTQ_AVAIL_F_NO_INTERRUPT), notifies, then polls the used ring for at
 * most VIRTIO_TIMEOUT_MS (a nominal time, see deadline_start()).  One
 * request is in flight at a time, always in descriptors 0..n-1.  Buffers
 * must be guest-physical = linear memory below 4 GiB (the guest image's
 * .bss is).
 */
#ifndef GUEST_VIRTIO_H
#define GUEST_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>

/* MMIO registers (4.2.2). */
#define VIRTIO_MMIO_MAGIC_VALUE		0x000
#define VIRTIO_MMIO_VERSION		0x004
#define VIRTIO_MMIO_DEVICE_ID		0x008
#define VIRTIO_MMIO_VENDOR_ID		0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES	0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL	0x014
#define VIRTIO_MMIO_DRIVER_FEATURES	0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL	0x024
#define VIRTIO_MMIO_QUEUE_SEL		0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX	0x034
#define VIRTIO_MMIO_QUEUE_NUM		0x038
#define VIRTIO_MMIO_QUEUE_READY		0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY	0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS	0x060
#define VIRTIO_MMIO_INTERRUPT_ACK	0x064
#define VIRTIO_MMIO_STATUS		0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW	0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH	0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW	0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH	0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW	0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH	0x0a4
#define VIRTIO_MMIO_CONFIG_GENERATION	0x0fc
#define VIRTIO_MMIO_CONFIG		0x100

#define VIRTIO_MMIO_MAGIC		0x74726976u	/* "virt" */

/* Device status bits (2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE	1
#define VIRTIO_STATUS_DRIVER		2
#define VIRTIO_STATUS_DRIVER_OK		4
#define VIRTIO_STATUS_FEATURES_OK	8
#define VIRTIO_STATUS_NEEDS_RESET	64
#define VIRTIO_STATUS_FAILED		128

#define VIRTIO_F_VERSION_1		32

/* Device IDs (5). */
#define VIRTIO_ID_NONE			0	/* an empty transport */
#define VIRTIO_ID_NET			1
#define VIRTIO_ID_BLOCK			2
#define VIRTIO_ID_CONSOLE		3
#define VIRTIO_ID_RNG			4

/* Split virtqueue (2.7). */
#define VIRTQ_DESC_F_NEXT		1
#define VIRTQ_DESC_F_WRITE		2
#define VIRTQ_AVAIL_F_NO_INTERRUPT	1

#define VQ_SIZE				16	/* at most; a power of 2 */
#define VIRTIO_TIMEOUT_MS		5000	/* nominal, see deadline_start() */
#define VIRTIO_WATCH_EVERY		4096	/* used-ring polls per DeviceID read */

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[VQ_SIZE];
	uint16_t used_event;
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[VQ_SIZE];
	uint16_t avail_event;
};

struct virtq {
	struct virtq_desc desc[VQ_SIZE] __attribute__((aligned(16)));
	struct virtq_avail avail __attribute__((aligned(2)));
	struct virtq_used used __attribute__((aligned(4)));
	uint16_t num;			/* the size in use */
	uint16_t avail_idx;		/* next avail->idx we publish */
	uint16_t last_used;		/* used->idx seen so far */
};

struct virtio_dev {
	uint64_t base;
	uint32_t magic, version, device_id, vendor_id;
	uint64_t device_features;	/* offered */
	uint64_t driver_features;	/* accepted */
	bool ready;			/* DRIVER_OK set, queue 0 live */
	bool broken;			/* a request timed out: do not reuse */
	/*
	 * For devices that may be unplugged (set after virtio_probe(),
	 * which clears them): @timeout_ms bounds each request instead of
	 * VIRTIO_TIMEOUT_MS (0: the default); with @watch_removal a request
	 * also ends as soon as DeviceID stops reading @device_id (an empty
	 * slot reads 0, an unassigned window all ones), which sets
	 * @removed and @broken and touches the window no more.
	 */
	uint32_t timeout_ms;
	bool watch_removal;
	bool removed;
	struct virtq vq;
	char err[96];			/* why the last call failed */
};

/* One element of a descriptor chain. */
struct virtio_buf {
	void *addr;
	uint32_t len;
	bool device_writes;
};

const char *virtio_id_name(uint32_t id);

/* Read the identification registers; true if the magic value is right. */
bool virtio_probe(struct virtio_dev *d, uint64_t base);

/*
 * Reset the device, negotiate VIRTIO_F_VERSION_1 plus whichever of
 * @features it offers, and set up queue 0.  NULL on success, else why.
 */
const char *virtio_init(struct virtio_dev *d, uint64_t features);

/*
 * Post one chain of @n buffers on queue 0, notify, and poll for it to be
 * used.  NULL on success (*@used_len = bytes the device wrote), else why.
 */
const char *virtio_transfer(struct virtio_dev *d, const struct virtio_buf *b,
			    unsigned n, uint32_t *used_len);

/*
 * Write 0 to Status: the device forgets the queue and our buffers.  Waits
 * (bounded) for Status to read 0; a window reading all ones holds no
 * device, so that ends the wait too.
 */
void virtio_reset(struct virtio_dev *d);

uint32_t virtio_config32(struct virtio_dev *d, unsigned off);
uint64_t virtio_config64(struct virtio_dev *d, unsigned off);

/* ---- virtio-blk (5.2) -------------------------------------------------- */

#define VIRTIO_BLK_F_RO			5
#define VIRTIO_BLK_SECTOR_SIZE		512

#define VIRTIO_BLK_T_IN			0
#define VIRTIO_BLK_T_OUT		1

#define VIRTIO_BLK_S_OK			0
#define VIRTIO_BLK_S_IOERR		1
#define VIRTIO_BLK_S_UNSUPP		2

uint64_t virtio_blk_capacity(struct virtio_dev *d);	/* in sectors */
bool virtio_blk_read_only(const struct virtio_dev *d);
/*
 * Read or write one 512-byte sector.  Returns the request's status byte
 * (VIRTIO_BLK_S_*), or -1 if the transport failed (d->err says why).
 */
int virtio_blk_rw(struct virtio_dev *d, uint64_t sector, void *buf,
		  bool write);

/* ---- virtio-rng (5.4) -------------------------------------------------- */

/* Fill @len bytes (at most 4096); returns how many arrived, -1 on error. */
int virtio_rng_read(struct virtio_dev *d, void *buf, uint32_t len);

/* A virtio-blk status byte (or -1 for a transport failure), for humans. */
const char *virtio_blk_status_name(int st);

/*
 * Collect @len bytes from a virtio-rng device in at most
 * VIRTIO_RNG_FILL_TRIES requests.  Return: bytes got, -1 on error.
 */
#define VIRTIO_RNG_FILL_TRIES	8
int virtio_rng_fill(struct virtio_dev *d, uint8_t *buf, unsigned len);

#endif /* GUEST_VIRTIO_H */
