/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * virtio 1.x: split virtqueues (devices/virtio.c), the virtio-mmio
 * transport version 2 (devices/virtio-mmio.c) and two device models,
 * virtio-blk (devices/virtio-blk.c) and virtio-rng (devices/virtio-rng.c).
 *
 * Transports are kept apart from device models, as Firecracker does:
 *
 *   struct virtio_mmio   a device object (struct device) that owns its
 *                        MMIO window, its ioeventfds, its I/O thread and
 *                        the model plugged into it;
 *   struct virtio_dev    a device model: plain memory, no object, owned
 *                        by its transport and released when the
 *                        transport finalizes.  It talks to the transport
 *                        only through struct virtio_transport_ops, and
 *                        the transport to it only through struct
 *                        virtio_dev_ops.
 *
 * Layouts and constants come from the Linux UAPI headers
 * (<linux/virtio_ring.h>, <linux/virtio_mmio.h>, <linux/virtio_config.h>,
 * ...); nothing here re-declares them.  Multi-byte fields in guest memory
 * are little endian (virtio 1.x only: VIRTIO_F_VERSION_1 is required).
 *
 * Guest memory is reached only through address_space_map() and
 * address_space_unmap(): a mapping holds the owner of the RAM it maps
 * (DESIGN.md rule 4) until it is unmapped, and virtqueue buffers must be
 * guest RAM (a descriptor that maps to MMIO or to nothing is malformed).
 *
 * A malformed queue never crashes flatvm: the device logs once, enters
 * DEVICE_NEEDS_RESET (and sends a configuration change notification if
 * DRIVER_OK is set) and ignores its queues until the driver resets it.
 *
 * Typical machine use:
 *
 *	vm = virtio_blk_create(machine, "disk0", path, false,
 *			       &irq[LAYOUT_GSI_VIRTIO_BASE + n], &mem, err);
 *	memory_region_add_subregion(&sysmem,
 *			LAYOUT_VIRTIO_MMIO_BASE + n * LAYOUT_VIRTIO_MMIO_SIZE,
 *			virtio_mmio_region(vm), err);
 *	...
 *	device_unplug(virtio_mmio_device(vm), err);	(hot unplug)
 *
 * The irq line and the DMA address space are borrowed: they must outlive
 * the transport's finalization (the machine's do).
 */
#ifndef FLATVM_VIRTIO_H
#define FLATVM_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "flatvm/device.h"
#include "flatvm/error.h"
#include "flatvm/irq.h"
#include "flatvm/memory.h"

struct virtio_dev;
struct virtqueue;
struct virtio_mmio;

/* Queues a model may have. */
#define VIRTIO_QUEUES_MAX	8
/* Largest queue size (split rings, virtio 1.x). */
#define VIRTQ_SIZE_MAX		32768
/*
 * Most iovecs one element maps (driver-readable plus device-writable).
 * A descriptor may need several when it crosses RAM regions.  Equal to
 * Linux's IOV_MAX, so an element's buffers go to preadv() in one call.
 */
#define VIRTQ_SG_MAX		1024
/* Most RAM regions one ring part (or indirect table) may span. */
#define VIRTQ_RING_MAPS		4

/* ---- Elements ------------------------------------------------------ */

/**
 * struct virtq_elem - one descriptor chain taken from the available ring.
 * @head: the chain's first descriptor, reported back in the used ring.
 * @out_sg: @out_num driver-readable buffers, in chain order.
 * @in_sg: @in_num device-writable buffers, in chain order; they always
 *	follow every driver-readable one (a chain that mixes the order is
 *	malformed).
 * @out_len: bytes in @out_sg.
 * @in_len: bytes in @in_sg.
 *
 * The iovecs point into guest RAM mapped with address_space_map(); the
 * mappings are released by virtqueue_push().  A model may edit the iovec
 * arrays (trim, advance): the mappings are kept apart in @maps.
 */
struct virtq_elem {
	uint16_t head;
	unsigned out_num, in_num;
	struct iovec *out_sg, *in_sg;
	uint64_t out_len, in_len;
	/* private to devices/virtio.c */
	unsigned nr, cap;		/* iovecs and mappings: used, room */
	struct iovec *iov;		/* out then in */
	struct dma_map *maps;		/* one per iovec */
};

/* ---- Virtqueues ---------------------------------------------------- */

/* A ring part (descriptor table, available or used ring), mapped. */
struct virtq_ring {
	uint64_t len;
	unsigned nr;
	struct dma_map map[VIRTQ_RING_MAPS];
};

/**
 * struct virtqueue - a split virtqueue.
 *
 * Locking: every field is protected by the transport's queue lock
 * (struct virtio_mmio's queue_lock), which the transport holds while it
 * calls into the model's queue handler and while the driver changes the
 * queue's configuration or resets the device.  All virtqueue_*()
 * functions are called with it held.
 */
struct virtqueue {
	struct virtio_dev *vdev;	/* weak: the model holds its queues */
	unsigned index;
	uint32_t num_max;
	/* Set by the driver through the transport. */
	uint32_t num;			/* checked when the rings are mapped */
	bool ready;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	/* Device side; the two features are latched when the rings are mapped. */
	uint16_t last_avail_idx;	/* next available entry to take */
	uint16_t used_idx;		/* our copy of used->idx */
	uint16_t signalled_used;	/* used_idx at the last interrupt */
	bool signalled_used_valid;
	bool event_idx;			/* VIRTIO_RING_F_EVENT_IDX */
	bool indirect;			/* VIRTIO_RING_F_INDIRECT_DESC */
	unsigned pushed;		/* used entries since the last notify */
	unsigned batch;			/* popped in this batch */
	bool more;			/* batch cut short: more may wait */
	bool mapped;			/* the three ring parts are */
	struct virtq_ring desc, avail, used;
};

/**
 * virtqueue_pop() - take the next available descriptor chain.
 * @vq: a ready queue.
 *
 * Walks the chain with every check the spec asks of a device: indices in
 * range, no loop (a chain is never longer than the queue size), indirect
 * tables only when negotiated, a multiple of 16 bytes, not nested and
 * never combined with NEXT, and every driver-readable buffer before the
 * first device-writable one.  Each buffer is mapped with
 * address_space_map(), in as many pieces as the RAM regions it crosses.
 * Any violation, or a buffer outside guest RAM, marks the device as
 * needing a reset (virtio_dev_set_broken()) and returns NULL.
 *
 * Returns NULL too when the queue is empty, when the device is stopping
 * (unplugged: a request never starts after that) or when this batch has
 * taken its share (@vq->more is then set; the transport comes back).
 *
 * Return: an element to complete with virtqueue_push(), or NULL.
 */
struct virtq_elem *virtqueue_pop(struct virtqueue *vq);

/**
 * virtqueue_push() - complete an element and publish it in the used ring.
 * @vq: the queue @elem was popped from.
 * @elem: the element; freed here.
 * @len: bytes written to the device-writable buffers (clamped to
 *	@elem->in_len).
 *
 * The buffers are unmapped first (the device-writable ones with the
 * length written), then the used element is written and used->idx is
 * updated with a release store, so the driver that sees the new index
 * sees the element and the data.
 */
void virtqueue_push(struct virtqueue *vq, struct virtq_elem *elem,
		    uint32_t len);

/**
 * virtqueue_should_notify() - does the driver want an interrupt for the
 * used entries pushed since the last call?
 *
 * Honours VRING_AVAIL_F_NO_INTERRUPT, or with VIRTIO_RING_F_EVENT_IDX the
 * driver's used_event.  Consumes the pending entries either way.
 */
bool virtqueue_should_notify(struct virtqueue *vq);

/** virtqueue_notify() - interrupt the driver if virtqueue_should_notify(). */
void virtqueue_notify(struct virtqueue *vq);

/**
 * virtqueue_release_rings() - end of a batch: unmap the ring parts.
 * Mappings hold the RAM's owner (rule 4); the transport drops them after
 * every batch so that nothing is held while the queue is idle.
 */
void virtqueue_release_rings(struct virtqueue *vq);

/** virtqueue_reset() - back to the state after a device reset. */
void virtqueue_reset(struct virtqueue *vq);

/* Free an element without completing it (its buffers are unmapped). */
void virtq_elem_free(struct virtq_elem *elem);

/* iovec helpers: copy between a buffer and @iov starting at byte @off. */
size_t iov_to_buf(const struct iovec *iov, unsigned cnt, size_t off,
		  void *buf, size_t len);
size_t iov_from_buf(const struct iovec *iov, unsigned cnt, size_t off,
		    const void *buf, size_t len);
/* Drop @n bytes from the front of (*@iov, *@cnt), editing the array. */
void iov_advance(struct iovec **iov, unsigned *cnt, size_t n);

/* ---- Device models ------------------------------------------------- */

/**
 * struct virtio_dev_ops - what a device model tells its transport.
 * @name: model name, for messages.
 * @device_id: VIRTIO_ID_*.
 * @num_queues: queues (at most VIRTIO_QUEUES_MAX).
 * @queue_size_max: QueueNumMax of every queue (power of 2).
 * @config_size: bytes of device configuration space.
 * @config_read: copy @len bytes at @offset of the configuration space
 *	(always inside @config_size).  Called with the transport's register
 *	lock held.
 * @config_write: the driver wrote configuration space; may be NULL.
 * @handle_queue: the driver made buffers available on @vq.  Runs on the
 *	transport's I/O thread with the queue lock held; pops elements until
 *	virtqueue_pop() returns NULL and pushes each one.  The transport
 *	notifies the driver and releases the rings afterwards.
 * @reset: the driver reset the device (queue lock held); may be NULL.
 * @release: free the model (the transport finalized, or never took it
 *	in use).  Must call virtio_dev_cleanup().
 */
struct virtio_dev_ops {
	const char *name;
	uint32_t device_id;
	unsigned num_queues;
	uint32_t queue_size_max;
	uint32_t config_size;
	void (*config_read)(struct virtio_dev *vdev, uint32_t offset,
			    void *buf, uint32_t len);
	void (*config_write)(struct virtio_dev *vdev, uint32_t offset,
			     const void *buf, uint32_t len);
	void (*handle_queue)(struct virtio_dev *vdev, struct virtqueue *vq);
	void (*reset)(struct virtio_dev *vdev);
	void (*release)(struct virtio_dev *vdev);
};

/**
 * struct virtio_transport_ops - what a model (and the virtqueue core)
 * asks of its transport.
 * @notify: raise the used-buffer interrupt for @vq.
 * @needs_reset: the device entered DEVICE_NEEDS_RESET: set the status bit
 *	and send a configuration change notification.
 */
struct virtio_transport_ops {
	void (*notify)(struct virtio_dev *vdev, struct virtqueue *vq);
	void (*needs_reset)(struct virtio_dev *vdev);
};

/**
 * struct virtio_dev - a device model, embedded first in the model's own
 * struct.
 * @features: device-specific feature bits the model offers; the
 *	transport adds VERSION_1 and the ring features.
 * @guest_features: what the driver accepted, set at FEATURES_OK.
 * @stopping: the transport is going away; no element is popped any more.
 *	Read and written atomically.
 * @broken: DEVICE_NEEDS_RESET; queue lock.
 */
struct virtio_dev {
	const struct virtio_dev_ops *ops;
	uint64_t features;
	uint64_t guest_features;
	unsigned nvqs;
	struct virtqueue vqs[VIRTIO_QUEUES_MAX];
	/* Set by the transport when the model is plugged in. */
	const struct virtio_transport_ops *transport_ops;
	void *transport;
	struct address_space *dma_as;
	char name[64];
	bool stopping;
	bool broken;
	bool broken_logged;		/* log the first breakage only */
};

/* Feature bits every flatvm transport offers on top of the model's. */
#define VIRTIO_TRANSPORT_FEATURES					\
	((1ull << VIRTIO_F_VERSION_1) |					\
	 (1ull << VIRTIO_RING_F_INDIRECT_DESC) |			\
	 (1ull << VIRTIO_RING_F_EVENT_IDX))

/**
 * virtio_dev_init() - set up the model part of a device model.
 * @vdev: zeroed memory.
 * @ops: the model's ops (static const).
 * @features: device-specific feature bits offered.
 *
 * Return: 0, or -EINVAL if @ops asks for more than VIRTIO_QUEUES_MAX
 * queues or a queue size that is not a power of 2 up to VIRTQ_SIZE_MAX.
 */
int virtio_dev_init(struct virtio_dev *vdev, const struct virtio_dev_ops *ops,
		    uint64_t features, struct error *err);

/* Undo virtio_dev_init(): releases any ring mapping still held. */
void virtio_dev_cleanup(struct virtio_dev *vdev);

/* Reset every queue and the model (queue lock held). */
void virtio_dev_reset(struct virtio_dev *vdev);

/**
 * virtio_dev_set_broken() - the driver broke the rules: enter
 * DEVICE_NEEDS_RESET.  Logs the first time in the device's life (a
 * guest cannot flood the log), then tells the transport.  Called with
 * the queue lock held.
 */
void virtio_dev_set_broken(struct virtio_dev *vdev, const char *fmt, ...)
	__printf(2, 3);

static inline bool virtio_dev_has_feature(const struct virtio_dev *vdev,
					  unsigned bit)
{
	return vdev->guest_features & (1ull << bit);
}

/* ---- The virtio-mmio transport ------------------------------------- */

/* The transport's VendorID: "FLVM" in little endian. */
#define VIRTIO_MMIO_VENDOR_FLATVM	0x4d564c46u

/**
 * virtio_mmio_create() - create and realize a virtio-mmio transport.
 * @parent: where it goes in the object tree (NULL: the root).
 * @id: its name there, also the model's name in messages.
 * @vdev: the device model, or NULL for an empty slot (DeviceID 0, which
 *	Linux's driver declines quietly).  The transport takes it over,
 *	also when this fails.
 * @irq: the line to pulse (edge-triggered, see devices/virtio-mmio.c).
 * @dma_as: where the model's queues and buffers live.
 *
 * The window is LAYOUT_VIRTIO_MMIO_SIZE bytes; the caller maps
 * virtio_mmio_region() where it wants.  The tree holds the transport:
 * unplug it with device_unplug(virtio_mmio_device()); it finalizes (and
 * its finalized notifier runs) once the old flat view is gone and its I/O
 * thread has stopped, on whichever of the two lets go last.  Until it is
 * unrealized (device_unplug() or device_unrealize()) its I/O thread
 * holds it: a machine tearing down unrealizes its devices first.
 *
 * Return: the transport (borrowed from the tree), or NULL with @err set.
 */
struct virtio_mmio *virtio_mmio_create(struct object *parent, const char *id,
				       struct virtio_dev *vdev,
				       struct irq_line *irq,
				       struct address_space *dma_as,
				       struct error *err);

/**
 * virtio_mmio_region() - the transport's register window, for the machine
 * to map (memory_region_add_subregion()).  Unplug detaches it.
 */
struct memory_region *virtio_mmio_region(struct virtio_mmio *vm);

/** virtio_mmio_device() - the transport as a device, for device_unplug(). */
struct device *virtio_mmio_device(struct virtio_mmio *vm);

/**
 * virtio_mmio_reset() - reset the device as on a platform reset (the
 * guest sees Status 0 and no queues), after any batch of requests in
 * progress has completed.  Any thread; the vCPUs should be paused.
 */
void virtio_mmio_reset(struct virtio_mmio *vm);

extern const struct device_class virtio_mmio_class;

/* ---- virtio-blk ---------------------------------------------------- */

/* Queue size of the virtio-blk request queue (SEG_MAX is 2 less). */
#define VIRTIO_BLK_QUEUE_SIZE	256

/**
 * virtio_blk_new() - a virtio-blk model backed by the file at @path.
 * @readonly: open it O_RDONLY and offer VIRTIO_BLK_F_RO; writes then
 *	fail with VIRTIO_BLK_S_IOERR.
 * @serial: what VIRTIO_BLK_T_GET_ID returns (first 20 bytes).
 *
 * The capacity is the file size in 512-byte sectors, rounded down: the
 * bytes of a final partial sector are never read or written (a warning
 * says how many).
 *
 * Return: the model, for virtio_mmio_create(), or NULL with @err set.
 */
struct virtio_dev *virtio_blk_new(const char *path, bool readonly,
				  const char *serial, struct error *err);

/**
 * virtio_blk_create() - virtio_blk_new() plugged into a new transport;
 * @id names the transport and is the disk's serial.
 */
struct virtio_mmio *virtio_blk_create(struct object *parent, const char *id,
				      const char *path, bool readonly,
				      struct irq_line *irq,
				      struct address_space *dma_as,
				      struct error *err);

/* ---- virtio-rng ---------------------------------------------------- */

#define VIRTIO_RNG_QUEUE_SIZE	64
/* Most bytes one request gets, however large its buffers. */
#define VIRTIO_RNG_REQUEST_MAX	65536

/**
 * virtio_rng_new() - a virtio-rng model: one queue whose device-writable
 * buffers are filled from getrandom(2), at most VIRTIO_RNG_REQUEST_MAX
 * bytes per request.
 * Return: the model, for virtio_mmio_create(), or NULL with @err set.
 */
struct virtio_dev *virtio_rng_new(struct error *err);

/** virtio_rng_create() - virtio_rng_new() plugged into a new transport. */
struct virtio_mmio *virtio_rng_create(struct object *parent, const char *id,
				      struct irq_line *irq,
				      struct address_space *dma_as,
				      struct error *err);

#endif /* FLATVM_VIRTIO_H */
