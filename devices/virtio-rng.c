// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-rng (virtio 1.x, section 5.4): one queue whose device-writable
 * buffers are filled from getrandom(2), on the transport's I/O thread.
 * A request gets at most VIRTIO_RNG_REQUEST_MAX bytes however large its
 * buffers, so a guest cannot keep the thread busy with one request.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <linux/virtio_ids.h>

#include "flatvm/virtio.h"

struct virtio_rng {
	struct virtio_dev vdev;
};

/* Fill up to VIRTIO_RNG_REQUEST_MAX bytes of @elem.  Return: bytes filled. */
static uint32_t rng_fill(struct virtio_dev *vdev, struct virtq_elem *elem)
{
	uint64_t done = 0;
	size_t want;
	ssize_t n;
	unsigned i;

	for (i = 0; i < elem->in_num && done < VIRTIO_RNG_REQUEST_MAX; i++) {
		uint8_t *p = elem->in_sg[i].iov_base;
		size_t len = elem->in_sg[i].iov_len, off = 0;

		while (off < len && done < VIRTIO_RNG_REQUEST_MAX) {
			want = len - off;
			if (want > VIRTIO_RNG_REQUEST_MAX - done)
				want = VIRTIO_RNG_REQUEST_MAX - done;
			n = getrandom(p + off, want, 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				pr_warn_once("%s: getrandom failed: %s",
					     vdev->name, strerror(errno));
				return (uint32_t)done;
			}
			off += (size_t)n;
			done += (uint64_t)n;
		}
	}
	return (uint32_t)done;
}

static void rng_handle_queue(struct virtio_dev *vdev, struct virtqueue *vq)
{
	struct virtq_elem *elem;

	while ((elem = virtqueue_pop(vq)))
		virtqueue_push(vq, elem, rng_fill(vdev, elem));
}

static void rng_release(struct virtio_dev *vdev)
{
	virtio_dev_cleanup(vdev);
	free(container_of(vdev, struct virtio_rng, vdev));
}

static const struct virtio_dev_ops virtio_rng_ops = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.num_queues = 1,
	.queue_size_max = VIRTIO_RNG_QUEUE_SIZE,
	.handle_queue = rng_handle_queue,
	.release = rng_release,
};

struct virtio_dev *virtio_rng_new(struct error *err)
{
	struct virtio_rng *rng;

	rng = calloc(1, sizeof(*rng));
	if (!rng) {
		error_setf(err, ENOMEM, "out of memory for virtio-rng");
		return NULL;
	}
	if (virtio_dev_init(&rng->vdev, &virtio_rng_ops, 0, err)) {
		free(rng);
		return NULL;
	}
	return &rng->vdev;
}

struct virtio_mmio *virtio_rng_create(struct object *parent, const char *id,
				      struct irq_line *irq,
				      struct address_space *dma_as,
				      struct error *err)
{
	struct virtio_dev *vdev;

	vdev = virtio_rng_new(err);
	if (!vdev)
		return NULL;
	return virtio_mmio_create(parent, id, vdev, irq, dma_as, err);
}
