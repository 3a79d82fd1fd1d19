// SPDX-License-Identifier: GPL-2.0-only
/*
 * The virtio core: split virtqueues (virtio 1.x, section 2.7).
 *
 * Everything the driver writes is hostile input.  Each descriptor is read
 * once into a local and validated there; indices are checked against the
 * queue size before use; a chain is never followed further than the
 * number of descriptors in its table (which catches loops); buffers and
 * rings are reached only through address_space_map(), which refuses
 * anything that is not mapped and never hands out more than one region.
 * A broken rule ends in virtio_dev_set_broken(), never in an abort.
 *
 * Memory ordering with the driver (section 2.7.13, Linux's
 * virtio_ring.c): the available index is read with an acquire load
 * before the entries it covers; used elements are written before the used
 * index is stored with release; and the two event-index handshakes
 * ("publish my index, then read the other side's event") use sequentially
 * consistent accesses, which is the full barrier the spec asks for.
 * Ring fields are accessed with atomics on the mapped guest memory, so
 * ThreadSanitizer sees the same protocol a guest would follow.
 *
 * Ring parts are mapped at the start of a batch and unmapped at its end
 * (virtqueue_release_rings()), so an idle queue holds nothing.
 */
#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flatvm/virtio.h"

/* ---- iovec helpers ------------------------------------------------- */

/* Copy between an iovec (from byte @off) and @buf, either way. */
static size_t iov_copy(const struct iovec *iov, unsigned cnt, size_t off,
		       uint8_t *buf, size_t len, bool to_buf)
{
	size_t done = 0, n;
	unsigned i;

	for (i = 0; i < cnt && done < len; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		n = iov[i].iov_len - off;
		if (n > len - done)
			n = len - done;
		if (to_buf)
			memcpy(buf + done, (uint8_t *)iov[i].iov_base + off, n);
		else
			memcpy((uint8_t *)iov[i].iov_base + off, buf + done, n);
		done += n;
		off = 0;
	}
	return done;
}

size_t iov_to_buf(const struct iovec *iov, unsigned cnt, size_t off,
		  void *buf, size_t len)
{
	return iov_copy(iov, cnt, off, buf, len, true);
}

size_t iov_from_buf(const struct iovec *iov, unsigned cnt, size_t off,
		    const void *buf, size_t len)
{
	/* Only read from @buf when copying into the iovec. */
	return iov_copy(iov, cnt, off, (uint8_t *)buf, len, false);
}

void iov_advance(struct iovec **iov, unsigned *cnt, size_t n)
{
	while (*cnt && n) {
		if (n < (*iov)->iov_len) {
			(*iov)->iov_base = (uint8_t *)(*iov)->iov_base + n;
			(*iov)->iov_len -= n;
			return;
		}
		n -= (*iov)->iov_len;
		(*iov)++;
		(*cnt)--;
	}
	/* Skip empty entries left at the front. */
	while (*cnt && !(*iov)->iov_len) {
		(*iov)++;
		(*cnt)--;
	}
}

/* ---- Device models ------------------------------------------------- */

int virtio_dev_init(struct virtio_dev *vdev, const struct virtio_dev_ops *ops,
		    uint64_t features, struct error *err)
{
	uint32_t max = ops->queue_size_max;
	unsigned i;

	if (ops->num_queues > VIRTIO_QUEUES_MAX)
		return error_setf(err, EINVAL,
				  "virtio model %s has %u queues: at most %u are supported",
				  ops->name, ops->num_queues,
				  VIRTIO_QUEUES_MAX);
	if (!max || max > VIRTQ_SIZE_MAX || (max & (max - 1)))
		return error_setf(err, EINVAL,
				  "virtio model %s has queue size %u: expected a power of 2 up to %u",
				  ops->name, max, VIRTQ_SIZE_MAX);
	vdev->ops = ops;
	vdev->features = features;
	vdev->nvqs = ops->num_queues;
	snprintf(vdev->name, sizeof(vdev->name), "%s", ops->name);
	for (i = 0; i < vdev->nvqs; i++) {
		vdev->vqs[i].vdev = vdev;
		vdev->vqs[i].index = i;
		vdev->vqs[i].num_max = max;
	}
	return 0;
}

void virtio_dev_cleanup(struct virtio_dev *vdev)
{
	unsigned i;

	for (i = 0; i < vdev->nvqs; i++)
		virtqueue_release_rings(&vdev->vqs[i]);
}

void virtio_dev_reset(struct virtio_dev *vdev)
{
	unsigned i;

	for (i = 0; i < vdev->nvqs; i++)
		virtqueue_reset(&vdev->vqs[i]);
	vdev->guest_features = 0;
	vdev->broken = false;
	if (vdev->ops->reset)
		vdev->ops->reset(vdev);
}

void virtio_dev_set_broken(struct virtio_dev *vdev, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (vdev->broken)
		return;
	vdev->broken = true;
	if (!vdev->broken_logged) {
		vdev->broken_logged = true;
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		pr_warn("%s: %s; the device needs a reset (further errors of this device are not logged)",
			vdev->name, msg);
	}
	if (vdev->transport_ops && vdev->transport_ops->needs_reset)
		vdev->transport_ops->needs_reset(vdev);
}

/* ---- Ring parts ---------------------------------------------------- */

static void ring_unmap(struct virtq_ring *r, bool written)
{
	unsigned i;

	for (i = 0; i < r->nr; i++)
		address_space_unmap(&r->map[i], written ? r->map[i].len : 0);
	r->nr = 0;
	r->len = 0;
}

/*
 * Map @len bytes at @gpa, in at most VIRTQ_RING_MAPS pieces of RAM.
 * @fields16: the part has 16-bit fields (not an indirect table).
 * Return: 0, or a negative errno with the device marked broken.
 */
static int ring_map(struct virtqueue *vq, struct virtq_ring *r,
		    const char *what, uint64_t gpa, uint64_t len,
		    bool is_write, bool fields16)
{
	struct virtio_dev *vdev = vq->vdev;
	uint64_t done = 0;
	struct dma_map *m;
	int ret;

	r->nr = 0;
	r->len = len;
	if (gpa > UINT64_MAX - len) {
		virtio_dev_set_broken(vdev, "queue %u: %s at %#llx, %llu bytes, wraps around the address space",
				      vq->index, what, (unsigned long long)gpa,
				      (unsigned long long)len);
		return -EFAULT;
	}
	while (done < len) {
		if (r->nr == VIRTQ_RING_MAPS) {
			virtio_dev_set_broken(vdev, "queue %u: %s at %#llx spans more than %u memory regions",
					      vq->index, what,
					      (unsigned long long)gpa,
					      VIRTQ_RING_MAPS);
			ret = -EFAULT;
			goto err_unmap;
		}
		m = &r->map[r->nr];
		ret = address_space_map(vdev->dma_as, gpa + done, len - done,
					is_write, m);
		if (ret) {
			virtio_dev_set_broken(vdev, "queue %u: %s at %#llx is not %sguest RAM (%s)",
					      vq->index, what,
					      (unsigned long long)(gpa + done),
					      is_write ? "writable " : "",
					      strerror(-ret));
			goto err_unmap;
		}
		if (m->bounce) {
			address_space_unmap(m, 0);
			virtio_dev_set_broken(vdev, "queue %u: %s at %#llx is device memory, expected guest RAM",
					      vq->index, what,
					      (unsigned long long)(gpa + done));
			ret = -EFAULT;
			goto err_unmap;
		}
		r->nr++;
		/*
		 * Ring parts have an even length and 2-aligned fields, so a
		 * piece that starts or ends at an odd host address would
		 * split a 16-bit field or make it unaligned.
		 */
		if (fields16 && (((uintptr_t)m->host | m->len) & 1)) {
			virtio_dev_set_broken(vdev, "queue %u: %s at %#llx is split or misaligned by a memory region placed at an odd address",
					      vq->index, what,
					      (unsigned long long)gpa);
			ret = -EFAULT;
			goto err_unmap;
		}
		done += m->len;
	}
	return 0;

err_unmap:
	ring_unmap(r, false);
	return ret;
}

/* Host address of [@off, @off + @len) if one piece holds all of it. */
static uint8_t *ring_at(const struct virtq_ring *r, uint64_t off, uint64_t len)
{
	unsigned i;

	for (i = 0; i < r->nr; i++) {
		if (off < r->map[i].len)
			return len <= r->map[i].len - off ?
			       (uint8_t *)r->map[i].host + off : NULL;
		off -= r->map[i].len;
	}
	return NULL;
}

/* Copy to or from a ring part, across pieces.  Caller checked bounds. */
static void ring_copy(const struct virtq_ring *r, uint64_t off, void *buf,
		      uint64_t len, bool to_ring)
{
	uint8_t *b = buf;
	uint64_t n;
	unsigned i;

	for (i = 0; i < r->nr && len; i++) {
		if (off >= r->map[i].len) {
			off -= r->map[i].len;
			continue;
		}
		n = r->map[i].len - off;
		if (n > len)
			n = len;
		if (to_ring)
			memcpy((uint8_t *)r->map[i].host + off, b, n);
		else
			memcpy(b, (uint8_t *)r->map[i].host + off, n);
		b += n;
		len -= n;
		off = 0;
	}
}

/*
 * 16-bit ring fields, always 2-aligned inside one piece (ring_map()
 * refuses pieces that would split one), accessed atomically.
 * @off is always inside the part: the offsets are computed from the
 * queue size the part was mapped for.
 */
static uint16_t ring_load16(const struct virtq_ring *r, uint64_t off,
			    int order)
{
	uint16_t *p = (uint16_t *)ring_at(r, off, 2);

	return p ? le16toh(__atomic_load_n(p, order)) : 0;
}

static void ring_store16(const struct virtq_ring *r, uint64_t off, uint16_t v,
			 int order)
{
	uint16_t *p = (uint16_t *)ring_at(r, off, 2);

	if (p)
		__atomic_store_n(p, htole16(v), order);
}

/* Offsets in the ring parts (virtio 1.x, 2.7). */
#define AVAIL_FLAGS		0
#define AVAIL_IDX		2
#define AVAIL_RING(i)		(4 + 2 * (uint64_t)(i))
#define USED_FLAGS		0
#define USED_IDX		2
#define USED_RING(i)		(4 + 8 * (uint64_t)(i))

/*
 * Map the three ring parts for this batch, after checking what the
 * driver configured: a queue size that is a power of 2 up to QueueNumMax
 * and the alignment of each part.
 */
static int vq_map_rings(struct virtqueue *vq)
{
	struct virtio_dev *vdev = vq->vdev;
	uint64_t num = vq->num, extra;

	if (!num || num > vq->num_max || (num & (num - 1))) {
		virtio_dev_set_broken(vdev, "queue %u: size %llu is not a power of 2 between 1 and %u",
				      vq->index, (unsigned long long)num,
				      vq->num_max);
		return -EINVAL;
	}
	if ((vq->desc_gpa & (VRING_DESC_ALIGN_SIZE - 1)) ||
	    (vq->avail_gpa & (VRING_AVAIL_ALIGN_SIZE - 1)) ||
	    (vq->used_gpa & (VRING_USED_ALIGN_SIZE - 1))) {
		virtio_dev_set_broken(vdev, "queue %u: rings at %#llx/%#llx/%#llx are not aligned to 16/2/4 bytes",
				      vq->index,
				      (unsigned long long)vq->desc_gpa,
				      (unsigned long long)vq->avail_gpa,
				      (unsigned long long)vq->used_gpa);
		return -EINVAL;
	}
	vq->event_idx = virtio_dev_has_feature(vdev, VIRTIO_RING_F_EVENT_IDX);
	vq->indirect = virtio_dev_has_feature(vdev,
					      VIRTIO_RING_F_INDIRECT_DESC);
	extra = vq->event_idx ? 2 : 0;
	if (ring_map(vq, &vq->desc, "descriptor table", vq->desc_gpa,
		     num * sizeof(struct vring_desc), false, true))
		return -EFAULT;
	if (ring_map(vq, &vq->avail, "available ring", vq->avail_gpa,
		     AVAIL_RING(num) + extra, false, true))
		goto err_desc;
	if (ring_map(vq, &vq->used, "used ring", vq->used_gpa,
		     USED_RING(num) + extra, true, true))
		goto err_avail;
	vq->mapped = true;
	vq->batch = 0;
	vq->more = false;
	return 0;

err_avail:
	ring_unmap(&vq->avail, false);
err_desc:
	ring_unmap(&vq->desc, false);
	return -EFAULT;
}

void virtqueue_release_rings(struct virtqueue *vq)
{
	if (!vq->mapped)
		return;
	ring_unmap(&vq->desc, false);
	ring_unmap(&vq->avail, false);
	ring_unmap(&vq->used, true);
	vq->mapped = false;
}

void virtqueue_reset(struct virtqueue *vq)
{
	virtqueue_release_rings(vq);
	vq->num = 0;
	vq->ready = false;
	vq->desc_gpa = vq->avail_gpa = vq->used_gpa = 0;
	vq->last_avail_idx = 0;
	vq->used_idx = 0;
	vq->signalled_used = 0;
	vq->signalled_used_valid = false;
	vq->event_idx = false;
	vq->indirect = false;
	vq->pushed = 0;
	vq->batch = 0;
	vq->more = false;
}

/* ---- Elements ------------------------------------------------------ */

void virtq_elem_free(struct virtq_elem *elem)
{
	unsigned i;

	if (!elem)
		return;
	for (i = 0; i < elem->nr; i++)
		address_space_unmap(&elem->maps[i], 0);
	free(elem->iov);
	free(elem->maps);
	free(elem);
}

static int elem_grow(struct virtq_elem *elem)
{
	unsigned cap = elem->cap ? elem->cap * 2 : 8;
	struct dma_map *maps;
	struct iovec *iov;

	if (cap > VIRTQ_SG_MAX)
		cap = VIRTQ_SG_MAX;
	iov = realloc(elem->iov, cap * sizeof(*iov));
	if (!iov)
		return -ENOMEM;
	elem->iov = iov;
	maps = realloc(elem->maps, cap * sizeof(*maps));
	if (!maps)
		return -ENOMEM;
	elem->maps = maps;
	elem->cap = cap;
	return 0;
}

/*
 * Map one buffer of a chain into @elem, in as many pieces as the regions
 * it crosses (a mapping stops at the end of its region).  Bounded by
 * VIRTQ_SG_MAX pieces per element.
 */
static int elem_map(struct virtqueue *vq, struct virtq_elem *elem,
		    uint64_t gpa, uint32_t len, bool is_write)
{
	struct virtio_dev *vdev = vq->vdev;
	uint64_t done = 0;
	struct dma_map *m;
	int ret;

	if (gpa > UINT64_MAX - len) {
		virtio_dev_set_broken(vdev, "queue %u: buffer at %#llx, %u bytes, wraps around the address space",
				      vq->index, (unsigned long long)gpa, len);
		return -EFAULT;
	}
	while (done < len) {
		if (elem->nr == VIRTQ_SG_MAX) {
			virtio_dev_set_broken(vdev, "queue %u: a request needs more than %u buffer pieces",
					      vq->index, VIRTQ_SG_MAX);
			return -E2BIG;
		}
		if (elem->nr == elem->cap && elem_grow(elem)) {
			virtio_dev_set_broken(vdev, "queue %u: out of memory mapping a request",
					      vq->index);
			return -ENOMEM;
		}
		m = &elem->maps[elem->nr];
		ret = address_space_map(vdev->dma_as, gpa + done, len - done,
					is_write, m);
		if (ret) {
			virtio_dev_set_broken(vdev, "queue %u: buffer at %#llx is not %sguest RAM (%s)",
					      vq->index,
					      (unsigned long long)(gpa + done),
					      is_write ? "writable " : "",
					      strerror(-ret));
			return ret;
		}
		if (m->bounce) {
			address_space_unmap(m, 0);
			virtio_dev_set_broken(vdev, "queue %u: buffer at %#llx is device memory, expected guest RAM",
					      vq->index,
					      (unsigned long long)(gpa + done));
			return -EFAULT;
		}
		elem->iov[elem->nr].iov_base = m->host;
		elem->iov[elem->nr].iov_len = m->len;
		elem->nr++;
		if (is_write) {
			elem->in_num++;
			elem->in_len += m->len;
		} else {
			elem->out_num++;
			elem->out_len += m->len;
		}
		done += m->len;
	}
	return 0;
}

/*
 * Follow the chain starting at @head.  Return: the element, or NULL with
 * the device marked broken.
 */
static struct virtq_elem *vq_walk(struct virtqueue *vq, uint16_t head)
{
	struct virtio_dev *vdev = vq->vdev;
	struct virtq_ring indirect = { 0 };
	const struct virtq_ring *table = &vq->desc;
	unsigned size = vq->num, count = 0, i = head;
	bool in_indirect = false, writable = false;
	struct virtq_elem *elem;
	struct vring_desc d;
	uint64_t addr;
	uint32_t len;
	uint16_t flags;

	elem = calloc(1, sizeof(*elem));
	if (!elem) {
		virtio_dev_set_broken(vdev, "queue %u: out of memory for a request",
				      vq->index);
		return NULL;
	}
	elem->head = head;
	for (;;) {
		if (i >= size) {
			virtio_dev_set_broken(vdev, "queue %u: descriptor index %u out of range: the %s has %u entries",
					      vq->index, i,
					      in_indirect ? "indirect table" :
					      "descriptor table", size);
			goto err;
		}
		if (++count > size) {
			virtio_dev_set_broken(vdev, "queue %u: descriptor chain from %u is longer than its table (%u entries): a loop",
					      vq->index, head, size);
			goto err;
		}
		/* Read once: the driver may change it under us. */
		ring_copy(table, (uint64_t)i * sizeof(d), &d, sizeof(d), false);
		addr = le64toh(d.addr);
		len = le32toh(d.len);
		flags = le16toh(d.flags);

		if (flags & VRING_DESC_F_INDIRECT) {
			if (!vq->indirect) {
				virtio_dev_set_broken(vdev, "queue %u: indirect descriptor, but VIRTIO_RING_F_INDIRECT_DESC was not negotiated",
						      vq->index);
				goto err;
			}
			if (in_indirect) {
				virtio_dev_set_broken(vdev, "queue %u: indirect descriptor inside an indirect table",
						      vq->index);
				goto err;
			}
			if (flags & VRING_DESC_F_NEXT) {
				virtio_dev_set_broken(vdev, "queue %u: descriptor %u has both INDIRECT and NEXT",
						      vq->index, i);
				goto err;
			}
			if (!len || len % sizeof(d) ||
			    len / sizeof(d) > vq->num) {
				virtio_dev_set_broken(vdev, "queue %u: indirect table of %u bytes: expected a non-zero multiple of %zu, at most %u descriptors",
						      vq->index, len, sizeof(d),
						      vq->num);
				goto err;
			}
			if (ring_map(vq, &indirect, "indirect table", addr, len,
				     false, false))
				goto err;
			table = &indirect;
			size = len / sizeof(d);
			in_indirect = true;
			count = 0;
			i = 0;
			continue;
		}

		if (flags & VRING_DESC_F_WRITE) {
			writable = true;
		} else if (writable) {
			virtio_dev_set_broken(vdev, "queue %u: driver-readable descriptor after a device-writable one in the chain from %u",
					      vq->index, head);
			goto err;
		}
		/* Zero-length buffers carry nothing: skip them. */
		if (len && elem_map(vq, elem, addr, len,
				    flags & VRING_DESC_F_WRITE))
			goto err;
		if (!(flags & VRING_DESC_F_NEXT))
			break;
		i = le16toh(d.next);
	}
	ring_unmap(&indirect, false);
	elem->out_sg = elem->iov;
	elem->in_sg = elem->iov + elem->out_num;
	return elem;

err:
	ring_unmap(&indirect, false);
	virtq_elem_free(elem);
	return NULL;
}

/* ---- Pop, push, notify --------------------------------------------- */

static uint16_t vq_avail_idx(struct virtqueue *vq)
{
	/* Acquire: the entries it covers are read after it. */
	return ring_load16(&vq->avail, AVAIL_IDX, __ATOMIC_ACQUIRE);
}

/*
 * With EVENT_IDX, tell the driver the next index we want a notification
 * for.  Sequentially consistent: paired with the re-read of avail->idx
 * (ours) and with the driver's store of avail->idx then load of
 * avail_event (its side), so a buffer is never left without a kick.
 */
static void vq_set_avail_event(struct virtqueue *vq, uint16_t idx)
{
	ring_store16(&vq->used, USED_RING(vq->num), idx, __ATOMIC_SEQ_CST);
}

struct virtq_elem *virtqueue_pop(struct virtqueue *vq)
{
	struct virtio_dev *vdev = vq->vdev;
	struct virtq_elem *elem;
	uint16_t avail, head;

	if (vdev->broken || !vq->ready ||
	    __atomic_load_n(&vdev->stopping, __ATOMIC_ACQUIRE))
		return NULL;
	if (!vq->mapped && vq_map_rings(vq))
		return NULL;
	/* A batch takes at most a queue's worth, then lets others in. */
	if (vq->batch >= vq->num) {
		vq->more = true;
		return NULL;
	}
	avail = vq_avail_idx(vq);
	if (avail == vq->last_avail_idx) {
		if (!vq->event_idx)
			return NULL;
		vq_set_avail_event(vq, vq->last_avail_idx);
		avail = ring_load16(&vq->avail, AVAIL_IDX, __ATOMIC_SEQ_CST);
		if (avail == vq->last_avail_idx)
			return NULL;
	}
	if ((uint16_t)(avail - vq->last_avail_idx) > vq->num) {
		virtio_dev_set_broken(vdev, "queue %u: available index %u is %u entries ahead of %u, more than the queue size %u",
				      vq->index, avail,
				      (uint16_t)(avail - vq->last_avail_idx),
				      vq->last_avail_idx, vq->num);
		return NULL;
	}
	head = ring_load16(&vq->avail,
			   AVAIL_RING(vq->last_avail_idx & (vq->num - 1)),
			   __ATOMIC_RELAXED);
	vq->last_avail_idx++;
	vq->batch++;
	if (vq->event_idx)
		vq_set_avail_event(vq, vq->last_avail_idx);
	elem = vq_walk(vq, head);
	return elem;
}

void virtqueue_push(struct virtqueue *vq, struct virtq_elem *elem,
		    uint32_t len)
{
	struct virtio_dev *vdev = vq->vdev;
	struct vring_used_elem ue;
	uint64_t left = len < elem->in_len ? len : elem->in_len;
	uint64_t n;
	unsigned i;

	/* Device-writable mappings say how much was written. */
	for (i = 0; i < elem->nr; i++) {
		n = 0;
		if (i >= elem->out_num) {
			n = left < elem->maps[i].len ? left : elem->maps[i].len;
			left -= n;
		}
		address_space_unmap(&elem->maps[i], n);
	}
	elem->nr = 0;

	if (vdev->broken || (!vq->mapped && vq_map_rings(vq)))
		goto out;
	ue.id = htole32(elem->head);
	ue.len = htole32(len < elem->in_len ? len : (uint32_t)elem->in_len);
	ring_copy(&vq->used, USED_RING(vq->used_idx & (vq->num - 1)), &ue,
		  sizeof(ue), true);
	vq->used_idx++;
	/*
	 * Release: the element and the data are visible before the index.
	 * Sequentially consistent, because virtqueue_should_notify() reads
	 * the driver's used_event / flags next: that is the full barrier
	 * of the spec's "publish, then check whether to notify".
	 */
	ring_store16(&vq->used, USED_IDX, vq->used_idx, __ATOMIC_SEQ_CST);
	vq->pushed++;
out:
	virtq_elem_free(elem);
}

bool virtqueue_should_notify(struct virtqueue *vq)
{
	uint16_t old, new, event;
	bool valid;

	if (!vq->pushed || !vq->mapped)
		return false;
	vq->pushed = 0;
	if (!vq->event_idx)
		return !(ring_load16(&vq->avail, AVAIL_FLAGS,
				     __ATOMIC_SEQ_CST) &
			 VRING_AVAIL_F_NO_INTERRUPT);
	old = vq->signalled_used;
	new = vq->used_idx;
	valid = vq->signalled_used_valid;
	vq->signalled_used = new;
	vq->signalled_used_valid = true;
	event = ring_load16(&vq->avail, AVAIL_RING(vq->num), __ATOMIC_SEQ_CST);
	return !valid || vring_need_event(event, new, old);
}

void virtqueue_notify(struct virtqueue *vq)
{
	struct virtio_dev *vdev = vq->vdev;

	if (virtqueue_should_notify(vq) && vdev->transport_ops &&
	    vdev->transport_ops->notify)
		vdev->transport_ops->notify(vdev, vq);
}
