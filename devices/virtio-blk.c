// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-blk (virtio 1.x, section 5.2) backed by a file or block device.
 *
 * One request queue.  Requests run on the transport's I/O thread,
 * synchronously: preadv()/pwritev() straight between the file and the
 * guest's buffers, then the status byte, then the used element.  So a
 * write the driver sees completed has reached the file (and, for FLUSH,
 * fdatasync() has returned); without VIRTIO_BLK_F_FLUSH negotiated the
 * device is write-through and syncs after every write (spec 5.2.6.2).
 *
 * Capacity: the file's size in 512-byte sectors, rounded down.  A final
 * partial sector is never read or written, and creation warns about it:
 * refusing such files would reject images that work elsewhere, and
 * rounding up would let the guest write past the end of the file.
 *
 * Every request is checked against the capacity before any I/O: one that
 * reaches past the end fails with VIRTIO_BLK_S_IOERR and never touches
 * the file.  A read-only disk is opened O_RDONLY, offers VIRTIO_BLK_F_RO
 * and fails writes with VIRTIO_BLK_S_IOERR.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>

#include "flatvm/virtio.h"

#define SECTOR_SHIFT	9
#define SECTOR_SIZE	(1u << SECTOR_SHIFT)

struct virtio_blk {
	struct virtio_dev vdev;		/* the transport frees through it */
	int fd;
	bool readonly;
	uint64_t capacity;		/* sectors */
	char serial[VIRTIO_BLK_ID_BYTES];	/* zero padded, unterminated */
	struct virtio_blk_config config;	/* little endian, fixed */
};

static inline struct virtio_blk *to_virtio_blk(struct virtio_dev *vdev)
{
	return container_of(vdev, struct virtio_blk, vdev);
}

/* Read or write @len bytes at sector @sector.  I/O thread. */
static uint8_t blk_rw(struct virtio_blk *blk, struct iovec *iov, unsigned cnt,
		      uint64_t sector, uint64_t len, bool is_write)
{
	uint64_t off;
	ssize_t n;

	if (len % SECTOR_SIZE) {
		pr_warn_once("%s: request of %llu bytes, not a multiple of %u",
			     blk->vdev.name, (unsigned long long)len,
			     SECTOR_SIZE);
		return VIRTIO_BLK_S_IOERR;
	}
	if (sector > blk->capacity ||
	    len >> SECTOR_SHIFT > blk->capacity - sector)
		return VIRTIO_BLK_S_IOERR;	/* past the end: no I/O */
	off = sector << SECTOR_SHIFT;
	while (len) {
		if (is_write)
			n = pwritev(blk->fd, iov, (int)cnt, (off_t)off);
		else
			n = preadv(blk->fd, iov, (int)cnt, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* 0: the file shrank under us. */
			pr_warn_once("%s: %s at byte %llu failed: %s",
				     blk->vdev.name, is_write ? "write" : "read",
				     (unsigned long long)off,
				     n ? strerror(errno) : "end of file");
			return VIRTIO_BLK_S_IOERR;
		}
		iov_advance(&iov, &cnt, (size_t)n);
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	/* Without FLUSH negotiated the disk is write-through. */
	if (is_write &&
	    !virtio_dev_has_feature(&blk->vdev, VIRTIO_BLK_F_FLUSH) &&
	    fdatasync(blk->fd))
		return VIRTIO_BLK_S_IOERR;
	return VIRTIO_BLK_S_OK;
}

/*
 * One request: a 16-byte header in the driver-readable part, data, and a
 * status byte as the last device-writable byte (spec 5.2.6; the framing
 * of the buffers is free).  Return: bytes reported as written.
 */
static uint32_t blk_request(struct virtio_blk *blk, struct virtq_elem *elem)
{
	struct virtio_blk_outhdr hdr;
	struct iovec *out = elem->out_sg, *in = elem->in_sg;
	unsigned out_num = elem->out_num, in_num = elem->in_num;
	uint64_t data_in, data_out;
	uint8_t *status, st;
	size_t idlen;

	if (!elem->in_len) {
		pr_warn_once("%s: request without room for a status byte dropped",
			     blk->vdev.name);
		return 0;
	}
	/* Take the status byte off the end of the device-writable part. */
	status = (uint8_t *)in[in_num - 1].iov_base +
		 in[in_num - 1].iov_len - 1;
	if (!--in[in_num - 1].iov_len)
		in_num--;
	data_in = elem->in_len - 1;

	if (iov_to_buf(out, out_num, 0, &hdr, sizeof(hdr)) < sizeof(hdr)) {
		pr_warn_once("%s: request header shorter than %zu bytes",
			     blk->vdev.name, sizeof(hdr));
		st = VIRTIO_BLK_S_IOERR;
		goto out;
	}
	iov_advance(&out, &out_num, sizeof(hdr));
	data_out = elem->out_len - sizeof(hdr);

	switch (le32toh(hdr.type)) {
	case VIRTIO_BLK_T_IN:
		st = blk_rw(blk, in, in_num, le64toh(hdr.sector), data_in,
			    false);
		break;
	case VIRTIO_BLK_T_OUT:
		if (blk->readonly) {
			st = VIRTIO_BLK_S_IOERR;
			break;
		}
		st = blk_rw(blk, out, out_num, le64toh(hdr.sector), data_out,
			    true);
		break;
	case VIRTIO_BLK_T_FLUSH:
		st = VIRTIO_BLK_S_OK;
		if (!blk->readonly && fdatasync(blk->fd))
			st = VIRTIO_BLK_S_IOERR;
		break;
	case VIRTIO_BLK_T_GET_ID:
		idlen = data_in < sizeof(blk->serial) ? data_in :
			sizeof(blk->serial);
		iov_from_buf(in, in_num, 0, blk->serial, idlen);
		st = VIRTIO_BLK_S_OK;
		break;
	default:
		st = VIRTIO_BLK_S_UNSUPP;
		break;
	}
out:
	*status = st;
	return (uint32_t)elem->in_len;
}

static void blk_handle_queue(struct virtio_dev *vdev, struct virtqueue *vq)
{
	struct virtio_blk *blk = to_virtio_blk(vdev);
	struct virtq_elem *elem;

	while ((elem = virtqueue_pop(vq)))
		virtqueue_push(vq, elem, blk_request(blk, elem));
}

static void blk_config_read(struct virtio_dev *vdev, uint32_t offset,
			    void *buf, uint32_t len)
{
	memcpy(buf, (uint8_t *)&to_virtio_blk(vdev)->config + offset, len);
}

static void blk_release(struct virtio_dev *vdev)
{
	struct virtio_blk *blk = to_virtio_blk(vdev);

	virtio_dev_cleanup(vdev);
	if (blk->fd >= 0)
		close(blk->fd);
	free(blk);
}

static const struct virtio_dev_ops virtio_blk_ops = {
	.name = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK,
	.num_queues = 1,
	.queue_size_max = VIRTIO_BLK_QUEUE_SIZE,
	.config_size = sizeof(struct virtio_blk_config),
	.config_read = blk_config_read,
	.handle_queue = blk_handle_queue,
	.release = blk_release,
};

struct virtio_dev *virtio_blk_new(const char *path, bool readonly,
				  const char *serial, struct error *err)
{
	uint64_t features = (1ull << VIRTIO_BLK_F_FLUSH) |
			    (1ull << VIRTIO_BLK_F_SEG_MAX) |
			    (1ull << VIRTIO_BLK_F_BLK_SIZE);
	struct virtio_blk *blk;
	off_t size;
	size_t n;
	int e;

	if (!path || !*path) {
		error_setf(err, EINVAL, "virtio-blk needs the path of a disk image");
		return NULL;
	}
	blk = calloc(1, sizeof(*blk));
	if (!blk) {
		error_setf(err, ENOMEM, "out of memory for virtio-blk %s",
			   path);
		return NULL;
	}
	blk->fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (blk->fd < 0) {
		e = errno;
		error_setf(err, e, "cannot open disk image '%s'%s: %s",
			   path, readonly ? " read-only" : " for reading and writing",
			   strerror(e));
		goto err_free;
	}
	/* lseek, not fstat: it also sizes block devices. */
	size = lseek(blk->fd, 0, SEEK_END);
	if (size < 0) {
		e = errno;
		error_setf(err, e, "cannot size disk image '%s': %s; expected a regular file or a block device",
			   path, strerror(e));
		goto err_close;
	}
	if (size % SECTOR_SIZE)
		pr_warn("disk image '%s' is %lld bytes, not a multiple of %u: its last %lld bytes are not visible to the guest",
			path, (long long)size, SECTOR_SIZE,
			(long long)(size % SECTOR_SIZE));
	blk->readonly = readonly;
	blk->capacity = (uint64_t)size >> SECTOR_SHIFT;
	if (readonly)
		features |= 1ull << VIRTIO_BLK_F_RO;
	if (virtio_dev_init(&blk->vdev, &virtio_blk_ops, features, err))
		goto err_close;

	if (serial) {
		n = strlen(serial);
		memcpy(blk->serial, serial,
		       n < sizeof(blk->serial) ? n : sizeof(blk->serial));
	}
	blk->config.capacity = htole64(blk->capacity);
	/* Header and status take two descriptors of a chain. */
	blk->config.seg_max = htole32(VIRTIO_BLK_QUEUE_SIZE - 2);
	blk->config.blk_size = htole32(SECTOR_SIZE);
	return &blk->vdev;

err_close:
	close(blk->fd);
err_free:
	free(blk);
	return NULL;
}

struct virtio_mmio *virtio_blk_create(struct object *parent, const char *id,
				      const char *path, bool readonly,
				      struct irq_line *irq,
				      struct address_space *dma_as,
				      struct error *err)
{
	struct virtio_dev *vdev;

	vdev = virtio_blk_new(path, readonly, id, err);
	if (!vdev)
		return NULL;
	/* Takes the model over, also on failure. */
	return virtio_mmio_create(parent, id, vdev, irq, dma_as, err);
}
