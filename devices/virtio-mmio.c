// SPDX-License-Identifier: GPL-2.0-only
/*
 * The virtio-mmio transport, version 2 (virtio 1.x, section 4.2).
 *
 * A transport is a device object that owns its register window, one
 * ioeventfd per queue, an I/O thread and the device model plugged into
 * it (struct virtio_dev).  A transport without a model is an empty
 * hotplug slot: it reads as DeviceID 0, which Linux's driver declines
 * quietly, and ignores every write.
 *
 * Notifications.  QueueNotify is an ioeventfd per queue (datamatch = the
 * queue index, 4 bytes): under KVM the write never leaves the kernel, and
 * without KVM the dispatcher signals the same eventfd (mm/dispatch.c), so
 * both take one path.  The I/O thread waits on the eventfds with epoll
 * and runs the model's queue handler, so requests are processed off the
 * vCPU threads.
 *
 * Interrupts.  The machine's ACPI tables declare the virtio-mmio GSIs
 * edge-triggered (as QEMU's microvm and Firecracker do), so the
 * transport pulses its irq line (irq_pulse()) each time it sets a bit in
 * InterruptStatus: VIRTIO_MMIO_INT_VRING when the driver wants to hear
 * about used buffers (virtqueue_should_notify()), VIRTIO_MMIO_INT_CONFIG
 * when the device enters DEVICE_NEEDS_RESET.  The driver reads
 * InterruptStatus and writes InterruptACK; nothing stays asserted, so a
 * lost ACK cannot wedge a level-triggered line.
 *
 * Locks.
 *   @queue_lock serializes queue processing (the I/O thread, for a whole
 *     batch) with every change the driver makes to the device or queue
 *     configuration (Status, QueueNum, QueueReady, the ring addresses,
 *     DriverFeatures).  It is held across guest memory mappings and
 *     backend I/O.
 *   @lock protects the register file (every field below it) for short
 *     sections; it is never held across a mapping, an irq or backend I/O.
 *   Order: queue_lock, then lock.  A configuration field is written with
 *   both held and read with either.  MMIO reads and InterruptACK take
 *   @lock only, so a vCPU reading InterruptStatus never waits for disk
 *   I/O, and a descriptor pointing at this very window (mapped on the I/O
 *   thread with queue_lock held) cannot deadlock: device memory is
 *   refused as a buffer and reading it takes only @lock.
 *
 * Lifetime (DESIGN.md rule 5).
 *   - The I/O thread is started at realize and holds a counted reference
 *     on the transport for as long as it runs; dropping it is the
 *     thread's last act, after which it touches nothing of the device.
 *     So finalize never races with the thread and never joins it: if the
 *     thread's reference is the last one, finalize runs on the I/O thread
 *     itself (nothing left to join); otherwise it runs wherever the last
 *     other reference drops (the call_rcu thread freeing the old view, a
 *     DMA unmap, ...) and the thread is already gone.  The thread is
 *     detached.
 *   - unrealize (device_unplug) does not wait: under @lock it sets @gone,
 *     and the model's @stopping flag, then signals the stop eventfd.
 *     virtqueue_pop() checks @stopping before taking an element, so a
 *     request either completed before the unplug or never starts; the
 *     element in flight when unplug happens completes normally (its guest
 *     memory mappings hold the RAM).  No interrupt is raised once @gone.
 *   - MMIO accesses still in flight through the old flat view (rule 4
 *     keeps the transport alive for them) see @gone and do nothing.
 *   - The eventfds, the epoll fd and the model (its backing file) are
 *     released at finalize: an old view or KVM may still signal an
 *     eventfd until then, and an fd number must not be reused while they
 *     can.
 *   - The I/O thread registers with RCU (it maps guest memory), is
 *     offline across epoll_wait, and unregisters after its last
 *     reference drop, which may finalize the device on that thread; a
 *     finalizer never waits for a grace period, so that is safe.
 *   - Hence a realized transport finalizes only after it has been
 *     unrealized (device_unplug() or device_unrealize()): until then its
 *     I/O thread holds it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>

#include "flatvm/layout.h"
#include "flatvm/rcu.h"
#include "flatvm/virtio.h"

#define VIRTIO_MMIO_MAGIC	0x74726976u	/* "virt" */
#define VIRTIO_MMIO_VERSION_2	2
#define STOP_TOKEN		UINT32_MAX

struct virtio_mmio {
	struct device dev;
	struct memory_region mmio;
	struct virtio_dev *vdev;	/* NULL: empty slot.  Ours, see finalize */
	struct irq_line *irq;		/* borrowed: outlives us */
	struct address_space *dma_as;	/* borrowed: outlives us */

	pthread_mutex_t queue_lock;	/* see the comment at the top */
	pthread_mutex_t lock;		/* the register file below */
	uint32_t status;
	uint32_t dev_features_sel;
	uint32_t drv_features_sel;
	uint64_t drv_features;
	uint32_t queue_sel;
	uint32_t interrupt_status;
	uint32_t config_generation;
	uint32_t shm_sel;
	bool gone;			/* unrealized: also read atomically */

	/* Set up at realize, closed at finalize; constant in between. */
	int epfd;
	int stop_fd;
	int kick_fd[VIRTIO_QUEUES_MAX];
	char thread_name[16];
	bool thread_started;
};

static inline struct virtio_mmio *to_virtio_mmio(struct object *obj)
{
	return container_of(obj, struct virtio_mmio, dev.obj);
}

struct memory_region *virtio_mmio_region(struct virtio_mmio *vm)
{
	return &vm->mmio;
}

struct device *virtio_mmio_device(struct virtio_mmio *vm)
{
	return &vm->dev;
}

static uint64_t vm_host_features(const struct virtio_mmio *vm)
{
	return vm->vdev ? vm->vdev->features | VIRTIO_TRANSPORT_FEATURES : 0;
}

/* The device processes its queues.  Called with either lock held. */
static bool vm_running(const struct virtio_mmio *vm)
{
	uint32_t need = VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK;

	return (vm->status & need) == need &&
	       !(vm->status & (VIRTIO_CONFIG_S_NEEDS_RESET |
			       VIRTIO_CONFIG_S_FAILED));
}

static bool vm_gone(struct virtio_mmio *vm)
{
	return __atomic_load_n(&vm->gone, __ATOMIC_ACQUIRE);
}

static void vm_kick(struct virtio_mmio *vm, unsigned q)
{
	if (q < VIRTIO_QUEUES_MAX && vm->kick_fd[q] >= 0 &&
	    eventfd_write(vm->kick_fd[q], 1))
		pr_warn_once("virtio-mmio: cannot signal a queue eventfd: %s",
			     strerror(errno));
}

/* Set @bit in InterruptStatus and pulse the (edge-triggered) line. */
static void vm_raise(struct virtio_mmio *vm, uint32_t bit)
{
	bool gone;

	pthread_mutex_lock(&vm->lock);
	vm->interrupt_status |= bit;
	gone = vm->gone;
	pthread_mutex_unlock(&vm->lock);
	if (!gone)
		irq_pulse(vm->irq);
}

/* ---- What the model and the virtqueue core ask of us ------------------ */

/* Called on the I/O thread with queue_lock held. */
static void vm_notify(struct virtio_dev *vdev, struct virtqueue *vq)
{
	vm_raise(vdev->transport, VIRTIO_MMIO_INT_VRING);
}

/* Called with queue_lock held. */
static void vm_needs_reset(struct virtio_dev *vdev)
{
	struct virtio_mmio *vm = vdev->transport;
	bool raise;

	/* The driver sees the status bit and the interrupt bit together. */
	pthread_mutex_lock(&vm->lock);
	vm->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	/* Spec 2.1.2: with DRIVER_OK, a configuration change notification. */
	raise = (vm->status & VIRTIO_CONFIG_S_DRIVER_OK) && !vm->gone;
	if (raise)
		vm->interrupt_status |= VIRTIO_MMIO_INT_CONFIG;
	pthread_mutex_unlock(&vm->lock);
	if (raise)
		irq_pulse(vm->irq);
}

static const struct virtio_transport_ops vm_transport_ops = {
	.notify = vm_notify,
	.needs_reset = vm_needs_reset,
};

/* ---- Registers --------------------------------------------------------- */

static struct virtqueue *vm_selected_queue(struct virtio_mmio *vm)
{
	if (!vm->vdev || vm->queue_sel >= vm->vdev->nvqs)
		return NULL;
	return &vm->vdev->vqs[vm->queue_sel];
}

/* Called with queue_lock and lock held. */
static void vm_reset_locked(struct virtio_mmio *vm)
{
	virtio_dev_reset(vm->vdev);
	vm->status = 0;
	vm->dev_features_sel = 0;
	vm->drv_features_sel = 0;
	vm->drv_features = 0;
	vm->queue_sel = 0;
	vm->interrupt_status = 0;
	vm->shm_sel = 0;
}

/* FEATURES_OK: a subset of what we offer, and virtio 1.x.  Both locks. */
static bool vm_features_ok(struct virtio_mmio *vm)
{
	uint64_t offered = vm_host_features(vm);

	if (vm->drv_features & ~offered) {
		pr_warn_once("%s: the driver accepted features %#llx that were not offered (%#llx); FEATURES_OK refused",
			     vm->vdev->name,
			     (unsigned long long)vm->drv_features,
			     (unsigned long long)offered);
		return false;
	}
	if (!(vm->drv_features & (1ull << VIRTIO_F_VERSION_1))) {
		pr_warn_once("%s: the driver did not accept VIRTIO_F_VERSION_1: flatvm implements virtio 1.x devices only; FEATURES_OK refused",
			     vm->vdev->name);
		return false;
	}
	vm->vdev->guest_features = vm->drv_features;
	return true;
}

static void vm_write_status(struct virtio_mmio *vm, uint32_t val)
{
	bool kick = false;
	uint32_t old;
	unsigned q;

	pthread_mutex_lock(&vm->queue_lock);
	pthread_mutex_lock(&vm->lock);
	if (vm->gone)
		goto out;
	if (!val) {
		vm_reset_locked(vm);
		goto out;
	}
	old = vm->status;
	/* NEEDS_RESET is the device's; only a reset clears it. */
	val = (val & 0xff & ~VIRTIO_CONFIG_S_NEEDS_RESET) |
	      (old & VIRTIO_CONFIG_S_NEEDS_RESET);
	if ((val & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    !(old & VIRTIO_CONFIG_S_FEATURES_OK) && !vm_features_ok(vm))
		val &= ~VIRTIO_CONFIG_S_FEATURES_OK;
	vm->status = val;
	/* Buffers made available before DRIVER_OK: look at them now. */
	kick = vm_running(vm) && !(old & VIRTIO_CONFIG_S_DRIVER_OK);
out:
	pthread_mutex_unlock(&vm->lock);
	pthread_mutex_unlock(&vm->queue_lock);
	if (kick)
		for (q = 0; q < vm->vdev->nvqs; q++)
			vm_kick(vm, q);
}

static void set_half(uint64_t *v, bool high, uint32_t val)
{
	if (high)
		*v = (*v & 0xffffffffull) | ((uint64_t)val << 32);
	else
		*v = (*v & ~0xffffffffull) | val;
}

/* Queue configuration.  Called with queue_lock and lock held. */
static void vm_write_queue(struct virtio_mmio *vm, uint64_t addr, uint32_t val)
{
	struct virtqueue *vq = vm_selected_queue(vm);

	if (!vq) {
		pr_warn_once("%s: queue register %#llx written for queue %u, which does not exist",
			     vm->vdev->name, (unsigned long long)addr,
			     vm->queue_sel);
		return;
	}
	if (addr == VIRTIO_MMIO_QUEUE_READY) {
		if ((val & 1) && !vq->ready) {
			/* A queue starts from index 0 (spec 2.7). */
			vq->last_avail_idx = 0;
			vq->used_idx = 0;
			vq->signalled_used_valid = false;
			vq->pushed = 0;
		}
		vq->ready = val & 1;
		return;
	}
	if (vq->ready) {
		pr_warn_once("%s: queue %u reconfigured while ready; ignored",
			     vm->vdev->name, vq->index);
		return;
	}
	switch (addr) {
	case VIRTIO_MMIO_QUEUE_NUM:
		vq->num = val;
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		set_half(&vq->desc_gpa, addr == VIRTIO_MMIO_QUEUE_DESC_HIGH,
			 val);
		break;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
		set_half(&vq->avail_gpa, addr == VIRTIO_MMIO_QUEUE_AVAIL_HIGH,
			 val);
		break;
	case VIRTIO_MMIO_QUEUE_USED_LOW:
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		set_half(&vq->used_gpa, addr == VIRTIO_MMIO_QUEUE_USED_HIGH,
			 val);
		break;
	}
}

static uint64_t vm_read_config(struct virtio_mmio *vm, uint64_t off,
			       unsigned size)
{
	const struct virtio_dev_ops *ops = vm->vdev ? vm->vdev->ops : NULL;
	uint64_t v = 0;
	uint8_t buf[8];

	if (!ops || !ops->config_read || off >= ops->config_size ||
	    size > ops->config_size - off)
		return 0;
	pthread_mutex_lock(&vm->lock);
	ops->config_read(vm->vdev, (uint32_t)off, buf, size);
	pthread_mutex_unlock(&vm->lock);
	while (size--)
		v = (v << 8) | buf[size];
	return v;
}

static void vm_write_config(struct virtio_mmio *vm, uint64_t off,
			    uint64_t val, unsigned size)
{
	const struct virtio_dev_ops *ops = vm->vdev ? vm->vdev->ops : NULL;
	uint8_t buf[8];
	unsigned i;

	if (!ops || !ops->config_write || off >= ops->config_size ||
	    size > ops->config_size - off)
		return;
	for (i = 0; i < size; i++)
		buf[i] = (uint8_t)(val >> (8 * i));
	pthread_mutex_lock(&vm->lock);
	if (!vm->gone) {
		ops->config_write(vm->vdev, (uint32_t)off, buf, size);
		vm->config_generation++;
	}
	pthread_mutex_unlock(&vm->lock);
}

static uint64_t vm_read(void *opaque, uint64_t addr, unsigned size)
{
	struct virtio_mmio *vm = opaque;
	struct virtqueue *vq;
	uint64_t features;
	uint32_t v = 0;

	if (addr >= VIRTIO_MMIO_CONFIG)
		return vm_read_config(vm, addr - VIRTIO_MMIO_CONFIG, size);
	if (size != 4) {
		pr_warn_once("virtio-mmio: %u-byte read of register %#llx; registers are 32 bits wide",
			     size, (unsigned long long)addr);
		return 0;
	}
	switch (addr) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:
		return VIRTIO_MMIO_VERSION_2;
	case VIRTIO_MMIO_DEVICE_ID:
		return vm->vdev ? vm->vdev->ops->device_id : 0;
	case VIRTIO_MMIO_VENDOR_ID:
		return VIRTIO_MMIO_VENDOR_FLATVM;
	}
	if (!vm->vdev)
		return 0;

	pthread_mutex_lock(&vm->lock);
	switch (addr) {
	case VIRTIO_MMIO_DEVICE_FEATURES:
		features = vm_host_features(vm);
		if (vm->dev_features_sel < 2)
			v = (uint32_t)(features >> (32 * vm->dev_features_sel));
		break;
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		vq = vm_selected_queue(vm);
		v = vq ? vq->num_max : 0;
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		vq = vm_selected_queue(vm);
		v = vq ? vq->ready : 0;
		break;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		v = vm->interrupt_status;
		break;
	case VIRTIO_MMIO_STATUS:
		v = vm->status;
		break;
	case VIRTIO_MMIO_CONFIG_GENERATION:
		v = vm->config_generation;
		break;
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH:
		/* No shared memory regions: length -1 (spec 4.2.2). */
		v = UINT32_MAX;
		break;
	default:
		/* Write-only or reserved registers read as 0. */
		break;
	}
	pthread_mutex_unlock(&vm->lock);
	return v;
}

static void vm_write(void *opaque, uint64_t addr, uint64_t val64,
		     unsigned size)
{
	struct virtio_mmio *vm = opaque;
	uint32_t val = (uint32_t)val64;

	if (!vm->vdev)
		return;
	if (addr >= VIRTIO_MMIO_CONFIG) {
		vm_write_config(vm, addr - VIRTIO_MMIO_CONFIG, val64, size);
		return;
	}
	if (size != 4) {
		pr_warn_once("virtio-mmio: %u-byte write of register %#llx; registers are 32 bits wide",
			     size, (unsigned long long)addr);
		return;
	}
	if (vm_gone(vm))
		return;

	switch (addr) {
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		/* Normally the ioeventfd catches it before we get here. */
		if (val < vm->vdev->nvqs)
			vm_kick(vm, val);
		return;
	case VIRTIO_MMIO_STATUS:
		vm_write_status(vm, val);
		return;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		pthread_mutex_lock(&vm->lock);
		vm->interrupt_status &= ~val;
		pthread_mutex_unlock(&vm->lock);
		return;
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
	case VIRTIO_MMIO_QUEUE_SEL:
	case VIRTIO_MMIO_SHM_SEL:
		pthread_mutex_lock(&vm->lock);
		if (addr == VIRTIO_MMIO_DEVICE_FEATURES_SEL)
			vm->dev_features_sel = val;
		else if (addr == VIRTIO_MMIO_DRIVER_FEATURES_SEL)
			vm->drv_features_sel = val;
		else if (addr == VIRTIO_MMIO_QUEUE_SEL)
			vm->queue_sel = val;
		else
			vm->shm_sel = val;
		pthread_mutex_unlock(&vm->lock);
		return;
	case VIRTIO_MMIO_DRIVER_FEATURES:
	case VIRTIO_MMIO_QUEUE_NUM:
	case VIRTIO_MMIO_QUEUE_READY:
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
	case VIRTIO_MMIO_QUEUE_USED_LOW:
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		break;
	default:
		pr_warn_once("%s: write of %#x to read-only or unknown register %#llx ignored",
			     vm->vdev->name, val, (unsigned long long)addr);
		return;
	}

	/* Configuration: never while the I/O thread processes a batch. */
	pthread_mutex_lock(&vm->queue_lock);
	pthread_mutex_lock(&vm->lock);
	if (vm->gone)
		goto out;
	if (addr == VIRTIO_MMIO_DRIVER_FEATURES) {
		/* Fixed once FEATURES_OK is set (spec 3.1.1). */
		if (!(vm->status & VIRTIO_CONFIG_S_FEATURES_OK) &&
		    vm->drv_features_sel < 2)
			set_half(&vm->drv_features, vm->drv_features_sel == 1,
				 val);
	} else {
		vm_write_queue(vm, addr, val);
	}
out:
	pthread_mutex_unlock(&vm->lock);
	pthread_mutex_unlock(&vm->queue_lock);
}

static const struct memory_region_ops vm_mmio_ops = {
	.read = vm_read,
	.write = vm_write,
	.min_access_size = 1,
	.max_access_size = 4,
};

/* ---- The I/O thread ---------------------------------------------------- */

/* One batch of queue @q.  Runs on the I/O thread. */
static void vm_process(struct virtio_mmio *vm, unsigned q)
{
	struct virtio_dev *vdev = vm->vdev;
	struct virtqueue *vq = &vdev->vqs[q];
	bool more;

	pthread_mutex_lock(&vm->queue_lock);
	if (!vm_running(vm) || !vq->ready || vdev->broken) {
		pthread_mutex_unlock(&vm->queue_lock);
		return;
	}
	vdev->ops->handle_queue(vdev, vq);
	virtqueue_notify(vq);
	more = vq->more;
	virtqueue_release_rings(vq);
	pthread_mutex_unlock(&vm->queue_lock);
	/* The batch was cut to let others in: come back to it. */
	if (more)
		vm_kick(vm, q);
}

static void *vm_io_thread(void *opaque)
{
	struct virtio_mmio *vm = opaque;
	struct epoll_event ev[VIRTIO_QUEUES_MAX + 1];
	uint32_t pending;
	eventfd_t cnt;
	bool stop = false;
	unsigned q;
	int i, n;

	pthread_setname_np(pthread_self(), vm->thread_name);
	rcu_thread_register();
	while (!stop) {
		rcu_thread_offline();
		n = epoll_wait(vm->epfd, ev, ARRAY_SIZE(ev), -1);
		rcu_thread_online();
		if (n < 0) {
			if (errno == EINTR)
				continue;
			pr_err("%s: epoll_wait failed: %s; its queues are no longer processed",
			       vm->vdev->name, strerror(errno));
			break;
		}
		pending = 0;
		for (i = 0; i < n; i++) {
			q = ev[i].data.u32;
			if (q == STOP_TOKEN) {
				stop = true;
				continue;
			}
			/* Clear it first: a kick after this is not lost. */
			eventfd_read(vm->kick_fd[q], &cnt);
			pending |= 1u << q;
		}
		for (q = 0; q < vm->vdev->nvqs && !stop; q++)
			if (pending & (1u << q))
				vm_process(vm, q);
	}
	/*
	 * Last act: drop the reference taken at realize.  It may be the last
	 * one, finalizing the transport here; nothing of @vm is touched
	 * after it.
	 */
	object_unref(&vm->dev.obj);
	rcu_thread_unregister();
	return NULL;
}

/*
 * A platform reset: as a driver writing 0 to Status.  Taking queue_lock
 * waits for a batch the I/O thread is processing, so no request of the
 * guest that ran before completes into the RAM of the one that follows.
 */
void virtio_mmio_reset(struct virtio_mmio *vm)
{
	pthread_mutex_lock(&vm->queue_lock);
	pthread_mutex_lock(&vm->lock);
	if (vm->vdev && !vm->gone)
		vm_reset_locked(vm);
	pthread_mutex_unlock(&vm->lock);
	pthread_mutex_unlock(&vm->queue_lock);
}

/* ---- Device class ------------------------------------------------------ */

/* A new eventfd watched by the I/O thread's epoll, or a negative errno. */
static int vm_new_eventfd(struct virtio_mmio *vm, uint32_t token,
			  struct error *err)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = token };
	int fd, e;

	fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0) {
		e = errno;
		return error_setf(err, e, "%s: cannot create an eventfd: %s",
				  object_path(&vm->dev.obj), strerror(e));
	}
	if (epoll_ctl(vm->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		e = errno;
		close(fd);
		return error_setf(err, e, "%s: cannot watch an eventfd: %s",
				  object_path(&vm->dev.obj), strerror(e));
	}
	return fd;
}

static void vm_close_fds(struct virtio_mmio *vm)
{
	unsigned q;

	for (q = 0; q < VIRTIO_QUEUES_MAX; q++) {
		if (vm->kick_fd[q] >= 0)
			close(vm->kick_fd[q]);
		vm->kick_fd[q] = -1;	/* or a failed creation's -errno */
	}
	if (vm->stop_fd >= 0)
		close(vm->stop_fd);
	if (vm->epfd >= 0)
		close(vm->epfd);
	vm->stop_fd = vm->epfd = -1;
}

static int vm_realize(struct device *dev, struct error *err)
{
	struct virtio_mmio *vm = to_virtio_mmio(&dev->obj);
	pthread_attr_t attr;
	unsigned q, added = 0;
	pthread_t thread;
	int ret;

	if (!vm->vdev)
		return 0;	/* an empty slot: nothing to run */

	vm->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (vm->epfd < 0) {
		ret = -errno;
		error_setf(err, -ret, "%s: cannot create an epoll instance: %s",
			   object_path(&dev->obj), strerror(-ret));
		goto err_fds;
	}
	vm->stop_fd = vm_new_eventfd(vm, STOP_TOKEN, err);
	if (vm->stop_fd < 0) {
		ret = vm->stop_fd;
		goto err_fds;
	}
	for (q = 0; q < vm->vdev->nvqs; q++) {
		vm->kick_fd[q] = vm_new_eventfd(vm, q, err);
		if (vm->kick_fd[q] < 0) {
			ret = vm->kick_fd[q];
			goto err_eventfds;
		}
		/* QueueNotify with the queue's index, 32 bits (spec 4.2.2). */
		ret = memory_region_add_eventfd(&vm->mmio,
						VIRTIO_MMIO_QUEUE_NOTIFY, 4,
						true, q, vm->kick_fd[q], err);
		if (ret)
			goto err_eventfds;
		added++;
	}

	snprintf(vm->thread_name, sizeof(vm->thread_name), "vio-%s",
		 object_name(&dev->obj));
	/* The thread's reference: dropped as its last act. */
	object_ref(&vm->dev.obj);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	ret = -pthread_create(&thread, &attr, vm_io_thread, vm);
	pthread_attr_destroy(&attr);
	if (ret) {
		error_setf(err, -ret, "%s: cannot start its I/O thread: %s",
			   object_path(&dev->obj), strerror(-ret));
		goto err_ref;
	}
	vm->thread_started = true;
	return 0;

err_ref:
	object_unref(&vm->dev.obj);	/* not the last: the caller holds one */
err_eventfds:
	for (q = 0; q < added; q++)
		memory_region_del_eventfd(&vm->mmio, VIRTIO_MMIO_QUEUE_NOTIFY,
					  4, true, q, vm->kick_fd[q], NULL);
err_fds:
	vm_close_fds(vm);
	return ret;
}

static void vm_unrealize(struct device *dev)
{
	struct virtio_mmio *vm = to_virtio_mmio(&dev->obj);

	pthread_mutex_lock(&vm->lock);
	__atomic_store_n(&vm->gone, true, __ATOMIC_RELEASE);
	if (vm->vdev)
		__atomic_store_n(&vm->vdev->stopping, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vm->lock);
	/* Ask the I/O thread to stop; it drops its reference when it does. */
	if (vm->thread_started && eventfd_write(vm->stop_fd, 1))
		pr_err("%s: cannot stop its I/O thread: %s",
		       object_path(&dev->obj), strerror(errno));
}

static void vm_finalize(struct object *obj)
{
	struct virtio_mmio *vm = to_virtio_mmio(obj);

	/*
	 * The I/O thread is gone (it held a reference), no flat view maps
	 * the window (each held one), so nobody can signal the eventfds.
	 */
	vm_close_fds(vm);
	if (vm->vdev)
		vm->vdev->ops->release(vm->vdev);
	vm->vdev = NULL;
	pthread_mutex_destroy(&vm->lock);
	pthread_mutex_destroy(&vm->queue_lock);
}

const struct device_class virtio_mmio_class = {
	.obj = {
		.name = "virtio-mmio",
		.size = sizeof(struct virtio_mmio),
		.parent = &device_class.obj,
		.finalize = vm_finalize,
	},
	.realize = vm_realize,
	.unrealize = vm_unrealize,
	.hotpluggable = true,
};

struct virtio_mmio *virtio_mmio_create(struct object *parent, const char *id,
				       struct virtio_dev *vdev,
				       struct irq_line *irq,
				       struct address_space *dma_as,
				       struct error *err)
{
	struct virtio_mmio *vm;
	unsigned q;

	if (vdev && !dma_as) {
		error_setf(err, EINVAL,
			   "virtio-mmio %s: a device model needs an address space for its queues",
			   id);
		goto err_vdev;
	}
	vm = (struct virtio_mmio *)object_new(&virtio_mmio_class.obj);
	if (!vm) {
		error_setf(err, ENOMEM, "out of memory creating virtio-mmio %s",
			   id);
		goto err_vdev;
	}
	device_init(&vm->dev);
	pthread_mutex_init(&vm->queue_lock, NULL);
	pthread_mutex_init(&vm->lock, NULL);
	vm->epfd = vm->stop_fd = -1;
	for (q = 0; q < VIRTIO_QUEUES_MAX; q++)
		vm->kick_fd[q] = -1;
	vm->irq = irq;
	vm->dma_as = dma_as;
	/* From here the transport owns the model: finalize releases it. */
	vm->vdev = vdev;
	if (vdev) {
		vdev->transport_ops = &vm_transport_ops;
		vdev->transport = vm;
		vdev->dma_as = dma_as;
		snprintf(vdev->name, sizeof(vdev->name), "%s", id);
	}

	if (memory_region_init_io(&vm->mmio, &vm->dev.obj, &vm_mmio_ops, vm,
				  "mmio", LAYOUT_VIRTIO_MMIO_SIZE, err))
		goto err_unref;
	if (object_add_child(parent ? parent : object_root(), id,
			     &vm->dev.obj, err))
		goto err_unref;
	object_unref(&vm->dev.obj);	/* the tree holds it now */
	if (device_realize(&vm->dev, err))
		goto err_unparent;
	return vm;

err_unparent:
	object_unparent(&vm->dev.obj);
	return NULL;
err_unref:
	object_unref(&vm->dev.obj);
	return NULL;
err_vdev:
	if (vdev)
		vdev->ops->release(vdev);
	return NULL;
}
