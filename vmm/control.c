// SPDX-License-Identifier: GPL-2.0-only
/*
 * The machine's control plane: the operations the QMP server calls
 * (status, pause, resume, quit, reset, queries) and hotplug.
 *
 * Hotplug slots are virtio-mmio windows after the boot devices, declared
 * in the DSDT like them.  An empty slot holds an empty transport (it
 * reads as device ID 0).  device_add swaps the empty transport for one
 * with the device in a single transaction; device_del swaps back, so the
 * window reads empty at once, and returns: the deleted device finalizes
 * when its last user lets go (an old view, its I/O thread, a DMA
 * mapping), and only then is DEVICE_DELETED sent and the slot and the id
 * free again.  Test devices and RAM have windows of their own.
 *
 * Locking: the control thread calls the operations one at a time;
 * ctl_lock protects the slots and the device list against finalizers,
 * which run on whichever thread drops the last reference.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "flatvm/rcu.h"
#include "machine-internal.h"

/* Hotplugged RAM: 1 GiB windows from 2 TiB, far above any boot RAM. */
#define HOTPLUG_RAM_BASE	(2ull << 40)
#define HOTPLUG_RAM_WINDOW	(1ull << 30)
#define HOTPLUG_TESTDEV_BASE	(LAYOUT_TESTDEV_MMIO + LAYOUT_TESTDEV_MMIO_SIZE)

void machine_emit(struct machine *m, const char *event, json_t *data)
{
	pthread_mutex_lock(&m->ctl_lock);
	if (m->qmp)
		qmp_server_emit(m->qmp, event, data);
	else
		json_decref(data);
	pthread_mutex_unlock(&m->ctl_lock);
}

/* ---- Hotplug slots ----------------------------------------------------- */

static unsigned slot_window(struct machine *m, unsigned slot)
{
	return m->nr_boot_virtio + slot;
}

static struct virtio_mmio *empty_transport(struct machine *m, unsigned slot,
					   struct error *err)
{
	unsigned n = slot_window(m, slot);
	char id[32];

	/* A fresh name each time: an old empty one may still be finalizing. */
	snprintf(id, sizeof(id), "slot%u-empty-%u", slot,
		 (unsigned)__atomic_add_fetch(&m->slot_gen, 1, __ATOMIC_RELAXED));
	return virtio_mmio_create(&m->obj, id, NULL,
				  &m->irq[machine_virtio_gsi(n)], &m->mem, err);
}

int machine_hotplug_init(struct machine *m, struct error *err)
{
	struct virtio_mmio *vm;
	unsigned i;
	int ret;

	if (m->cfg.hotplug_slots > MACHINE_MAX_HOTPLUG_SLOTS)
		return error_setf(err, EINVAL,
				  "--hotplug-slots %u: at most %d",
				  m->cfg.hotplug_slots,
				  MACHINE_MAX_HOTPLUG_SLOTS);
	for (i = 0; i < m->cfg.hotplug_slots; i++) {
		vm = empty_transport(m, i, err);
		if (!vm)
			return err ? err->code : -ENOMEM;
		machine_virtio_track(m, vm);
		m->slot[i].vm = vm;
		m->nr_slots++;
		ret = machine_map(&m->sysmem,
				  machine_virtio_window(slot_window(m, i)),
				  virtio_mmio_region(vm), err);
		if (ret)
			return ret;
	}
	return 0;
}

/* ---- Finalization of hotplugged devices -------------------------------- */

static void hp_finalized(struct device *dev, void *opaque)
{
	struct hp_dev *hp = opaque;
	struct machine *m = hp->m;
	json_t *data;

	data = json_pack("{s:s, s:s}", "device", hp->id, "path", hp->path);
	pthread_mutex_lock(&m->ctl_lock);
	switch (hp->kind) {
	case HP_VIRTIO:
		m->slot[hp->index].busy = false;
		break;
	case HP_TESTDEV:
		m->testdev_used[hp->index] = false;
		break;
	case HP_RAM:
		m->ram_used[hp->index] = false;
		break;
	}
	cds_list_del(&hp->link);
	pthread_mutex_unlock(&m->ctl_lock);
	/* The id is free from here on: the event says so. */
	machine_emit(m, "DEVICE_DELETED", data);
	if (hp->kind == HP_VIRTIO)
		machine_virtio_finalized(m);
	free(hp);
	/* Last: teardown may be waiting to free the machine. */
	pthread_mutex_lock(&m->ctl_lock);
	pthread_cond_broadcast(&m->hp_gone);
	pthread_mutex_unlock(&m->ctl_lock);
}

/* ---- The RAM device ------------------------------------------------------ */

struct ramdev {
	struct device dev;
	struct memory_region ram;
};

static const struct device_class ramdev_class = {
	.obj = {
		.name = "ram",
		.size = sizeof(struct ramdev),
		.parent = &device_class.obj,
	},
	.hotpluggable = true,
};

/* ---- device_add -------------------------------------------------------- */

static struct hp_dev *hp_find(struct machine *m, const char *id)
{
	struct hp_dev *hp;

	cds_list_for_each_entry(hp, &m->hp_devices, link)
		if (!strcmp(hp->id, id))
			return hp;
	return NULL;
}

static int check_id(struct machine *m, const char *id, struct error *err)
{
	struct object *o;
	char path[128];
	const char *p;

	if (!*id || strlen(id) >= sizeof(((struct hp_dev *)0)->id))
		return error_setf(err, EINVAL,
				  "Parameter 'id' must be 1 to 63 characters");
	for (p = id; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-_.", *p))
			return error_setf(err, EINVAL,
					  "Parameter 'id' expects an identifier (letters, digits, '-', '_', '.'), got '%s'",
					  id);
	if (hp_find(m, id))
		return error_setf(err, EEXIST,
				  "Duplicate device ID '%s'%s", id,
				  hp_find(m, id)->deleting ?
				  " (its deletion is pending: wait for DEVICE_DELETED)" : "");
	snprintf(path, sizeof(path), "%s/%s", object_path(&m->obj), id);
	o = object_resolve_path(path);
	if (o) {
		object_unref(o);
		return error_setf(err, EEXIST,
				  "Duplicate device ID '%s': a machine device has that name",
				  id);
	}
	return 0;
}

/* Only the properties @allowed (NULL-terminated) besides driver and id. */
static int check_props(json_t *args, const char *driver,
		       const char *const *allowed, struct error *err)
{
	const char *key;
	json_t *v;
	unsigned i;

	json_object_foreach(args, key, v) {
		if (!strcmp(key, "driver") || !strcmp(key, "id"))
			continue;
		for (i = 0; allowed[i]; i++)
			if (!strcmp(key, allowed[i]))
				break;
		if (!allowed[i])
			return error_setf(err, EINVAL,
					  "Parameter '%s' is unexpected for driver '%s'",
					  key, driver);
	}
	return 0;
}

/* A boolean property: JSON true/false or "on"/"off"/"true"/"false". */
static int prop_bool(json_t *args, const char *key, bool *out,
		     struct error *err)
{
	json_t *v = json_object_get(args, key);
	const char *s;

	if (!v)
		return 0;
	if (json_is_boolean(v)) {
		*out = json_is_true(v);
		return 0;
	}
	s = json_string_value(v);
	if (s && (!strcmp(s, "on") || !strcmp(s, "true") || !strcmp(s, "yes"))) {
		*out = true;
		return 0;
	}
	if (s && (!strcmp(s, "off") || !strcmp(s, "false") || !strcmp(s, "no"))) {
		*out = false;
		return 0;
	}
	return error_setf(err, EINVAL, "Parameter '%s' expects a boolean", key);
}

static int add_virtio(struct machine *m, struct hp_dev *hp, json_t *args,
		      struct error *err)
{
	static const char *const blk_props[] = { "file", "readonly", NULL };
	static const char *const rng_props[] = { NULL };
	bool blk = !strcmp(hp->driver, "virtio-blk");
	struct virtio_mmio *vm, *old;
	bool readonly = false;
	const char *file = NULL;
	unsigned slot;
	int ret;

	ret = check_props(args, hp->driver, blk ? blk_props : rng_props, err);
	if (!ret && blk) {
		file = json_string_value(json_object_get(args, "file"));
		if (!file)
			return error_setf(err, EINVAL,
					  "Parameter 'file' is missing: virtio-blk needs file=PATH");
		ret = prop_bool(args, "readonly", &readonly, err);
	}
	if (ret)
		return ret;
	/* Finalizers free slots (busy) on other threads: look under the lock. */
	pthread_mutex_lock(&m->ctl_lock);
	for (slot = 0; slot < m->nr_slots; slot++)
		if (!m->slot[slot].owner && !m->slot[slot].busy)
			break;
	pthread_mutex_unlock(&m->ctl_lock);
	if (slot == m->nr_slots)
		return error_setf(err, ENOSPC,
				  "No free hotplug slot for '%s': %u slot(s), all in use or still being released (start flatvm with more --hotplug-slots)",
				  hp->id, m->nr_slots);
	if (blk)
		vm = virtio_blk_create(&m->obj, hp->id, file, readonly,
				       &m->irq[machine_virtio_gsi(slot_window(m, slot))],
				       &m->mem, err);
	else
		vm = virtio_rng_create(&m->obj, hp->id,
				       &m->irq[machine_virtio_gsi(slot_window(m, slot))],
				       &m->mem, err);
	if (!vm)
		return err && err->code ? err->code : -EINVAL;

	/* Swap the empty transport for the device, in one new view. */
	old = m->slot[slot].vm;
	memory_region_transaction_begin();
	if (old) {
		device_unplug(virtio_mmio_device(old), NULL);
		machine_virtio_untrack(m, old);
	}
	ret = machine_map(&m->sysmem,
			  machine_virtio_window(slot_window(m, slot)),
			  virtio_mmio_region(vm), err);
	memory_region_transaction_commit();
	machine_virtio_track(m, vm);
	/* Its finalization ends with DEVICE_DELETED. */
	device_set_finalized_notifier(virtio_mmio_device(vm), hp_finalized,
				      hp);
	hp->kind = HP_VIRTIO;
	hp->index = slot;
	hp->dev = virtio_mmio_device(vm);
	if (ret)	/* the caller unplugs it; the window stays unmapped */
		machine_virtio_untrack(m, vm);
	pthread_mutex_lock(&m->ctl_lock);
	m->slot[slot].vm = ret ? NULL : vm;
	m->slot[slot].owner = ret ? NULL : hp;
	m->slot[slot].busy = ret != 0;	/* until it has finalized */
	pthread_mutex_unlock(&m->ctl_lock);
	return ret;
}

static void hotplug_testdev_exit(void *opaque, uint32_t status)
{
	machine_request_stop(opaque, MACHINE_TESTDEV_EXIT, (int)status);
}

static int add_testdev(struct machine *m, struct hp_dev *hp, json_t *args,
		       struct error *err)
{
	static const char *const props[] = { NULL };
	struct testdev *t;
	unsigned k;
	int ret;

	ret = check_props(args, hp->driver, props, err);
	if (ret)
		return ret;
	pthread_mutex_lock(&m->ctl_lock);	/* finalizers free windows */
	for (k = 0; k < MACHINE_MAX_HOTPLUG_TESTDEV; k++)
		if (!m->testdev_used[k])
			break;
	pthread_mutex_unlock(&m->ctl_lock);
	if (k == MACHINE_MAX_HOTPLUG_TESTDEV)
		return error_setf(err, ENOSPC,
				  "No free test device window (at most %d)",
				  MACHINE_MAX_HOTPLUG_TESTDEV);
	t = testdev_create(&m->obj, hp->id, hotplug_testdev_exit, m, err);
	if (!t)
		return err && err->code ? err->code : -EINVAL;
	hp->kind = HP_TESTDEV;
	hp->index = k;
	hp->dev = &t->dev;
	device_set_finalized_notifier(&t->dev, hp_finalized, hp);
	pthread_mutex_lock(&m->ctl_lock);
	m->testdev_used[k] = true;
	pthread_mutex_unlock(&m->ctl_lock);
	return machine_map(&m->sysmem,
			   HOTPLUG_TESTDEV_BASE + k * LAYOUT_TESTDEV_MMIO_SIZE,
			   &t->mmio, err);
}

static int add_ram(struct machine *m, struct hp_dev *hp, json_t *args,
		   struct error *err)
{
	static const char *const props[] = { "size", NULL };
	json_t *v = json_object_get(args, "size");
	struct ramdev *rd;
	uint64_t size = 0;
	unsigned k;
	int ret;

	ret = check_props(args, hp->driver, props, err);
	if (ret)
		return ret;
	if (json_is_integer(v) && json_integer_value(v) > 0)
		size = (uint64_t)json_integer_value(v);
	else if (!json_is_string(v) ||
		 machine_parse_size(json_string_value(v), &size, NULL))
		return error_setf(err, EINVAL,
				  "Parameter 'size' expects a size such as 64M or a number of bytes");
	if (!size || size > HOTPLUG_RAM_WINDOW || (size & 0xfff))
		return error_setf(err, EINVAL,
				  "Parameter 'size' must be a multiple of 4 KiB from 4K to 1G");
	pthread_mutex_lock(&m->ctl_lock);	/* finalizers free windows */
	for (k = 0; k < MACHINE_MAX_HOTPLUG_RAM; k++)
		if (!m->ram_used[k])
			break;
	pthread_mutex_unlock(&m->ctl_lock);
	if (k == MACHINE_MAX_HOTPLUG_RAM)
		return error_setf(err, ENOSPC,
				  "No free RAM window (at most %d hotplugged RAM devices)",
				  MACHINE_MAX_HOTPLUG_RAM);
	rd = (struct ramdev *)object_new(&ramdev_class.obj);
	if (!rd)
		return error_setf(err, ENOMEM, "out of memory");
	device_init(&rd->dev);
	ret = object_add_child(&m->obj, hp->id, &rd->dev.obj, err);
	object_unref(&rd->dev.obj);	/* the tree holds it, if added */
	if (ret)
		return ret;
	ret = memory_region_init_ram(&rd->ram, &rd->dev.obj, "ram", size, err);
	if (!ret)
		ret = device_realize(&rd->dev, err);
	if (ret) {
		object_unparent(&rd->dev.obj);
		return ret;
	}
	hp->kind = HP_RAM;
	hp->index = k;
	hp->dev = &rd->dev;
	device_set_finalized_notifier(&rd->dev, hp_finalized, hp);
	pthread_mutex_lock(&m->ctl_lock);
	m->ram_used[k] = true;
	pthread_mutex_unlock(&m->ctl_lock);
	/* The KVM listener turns it into a memslot. */
	return machine_map(&m->sysmem, HOTPLUG_RAM_BASE + k * HOTPLUG_RAM_WINDOW,
			   &rd->ram, err);
}

static int ctl_device_add(void *opaque, json_t *args, struct error *err)
{
	struct machine *m = opaque;
	const char *driver, *id;
	struct hp_dev *hp;
	int ret;

	driver = json_string_value(json_object_get(args, "driver"));
	id = json_string_value(json_object_get(args, "id"));
	if (!driver || !id)
		return error_setf(err, EINVAL,
				  "device_add needs string arguments 'driver' and 'id'");
	if (strcmp(driver, "virtio-blk") && strcmp(driver, "virtio-rng") &&
	    strcmp(driver, "testdev") && strcmp(driver, "ram"))
		return error_setf(err, EINVAL,
				  "'%s' is not a valid device model name; expected virtio-blk, virtio-rng, testdev or ram",
				  driver);
	pthread_mutex_lock(&m->ctl_lock);
	ret = check_id(m, id, err);
	pthread_mutex_unlock(&m->ctl_lock);
	if (ret)
		return ret;
	hp = calloc(1, sizeof(*hp));
	if (!hp)
		return error_setf(err, ENOMEM, "out of memory");
	hp->m = m;
	snprintf(hp->id, sizeof(hp->id), "%s", id);
	snprintf(hp->driver, sizeof(hp->driver), "%s", driver);
	/* Listed before it can finalize, so its finalizer finds it. */
	pthread_mutex_lock(&m->ctl_lock);
	cds_list_add_tail(&hp->link, &m->hp_devices);
	pthread_mutex_unlock(&m->ctl_lock);

	if (!strcmp(driver, "testdev"))
		ret = add_testdev(m, hp, args, err);
	else if (!strcmp(driver, "ram"))
		ret = add_ram(m, hp, args, err);
	else
		ret = add_virtio(m, hp, args, err);
	if (hp->dev) {
		pthread_mutex_lock(&m->ctl_lock);
		snprintf(hp->path, sizeof(hp->path), "%s",
			 object_path(&hp->dev->obj));
		pthread_mutex_unlock(&m->ctl_lock);
	}
	if (ret && !hp->dev) {
		/* Nothing was created: forget it. */
		pthread_mutex_lock(&m->ctl_lock);
		cds_list_del(&hp->link);
		pthread_mutex_unlock(&m->ctl_lock);
		free(hp);
	} else if (ret) {
		/* Created but not mapped: unplug it; it finalizes as usual. */
		hp->deleting = true;
		device_unplug(hp->dev, NULL);
	}
	return ret;
}

/* ---- device_del ---------------------------------------------------------- */

static int ctl_device_del(void *opaque, const char *id, struct error *err)
{
	struct machine *m = opaque;
	struct virtio_mmio *empty = NULL, *vm;
	struct hp_dev *hp;
	struct device *dev;
	unsigned slot = 0;
	int ret;

	pthread_mutex_lock(&m->ctl_lock);
	hp = hp_find(m, id);
	if (hp && hp->deleting) {
		pthread_mutex_unlock(&m->ctl_lock);
		return error_setf(err, EINPROGRESS,
				  "Device '%s' is already being deleted: wait for DEVICE_DELETED",
				  id);
	}
	if (hp) {
		hp->deleting = true;
		slot = hp->index;
	}
	dev = hp ? hp->dev : NULL;
	pthread_mutex_unlock(&m->ctl_lock);
	if (!hp)
		return error_setf(err, ENODEV, "Device '%s' not found", id);

	if (hp->kind == HP_VIRTIO) {
		/* The window reads as an empty slot again at once. */
		empty = empty_transport(m, slot, err);
		if (!empty) {
			pthread_mutex_lock(&m->ctl_lock);
			hp->deleting = false;	/* it can be tried again */
			pthread_mutex_unlock(&m->ctl_lock);
			return err && err->code ? err->code : -ENOMEM;
		}
	}
	memory_region_transaction_begin();
	ret = device_unplug(dev, err);
	if (ret) {
		pthread_mutex_lock(&m->ctl_lock);
		hp->deleting = false;
		pthread_mutex_unlock(&m->ctl_lock);
		if (empty) {
			device_unrealize(virtio_mmio_device(empty));
			object_unparent(&virtio_mmio_device(empty)->obj);
		}
	} else if (empty) {
		vm = m->slot[slot].vm;
		machine_virtio_untrack(m, vm);
		machine_virtio_track(m, empty);
		ret = machine_map(&m->sysmem,
				  machine_virtio_window(slot_window(m, slot)),
				  virtio_mmio_region(empty), err);
		pthread_mutex_lock(&m->ctl_lock);
		m->slot[slot].vm = empty;
		m->slot[slot].owner = NULL;
		m->slot[slot].busy = true;	/* until DEVICE_DELETED */
		pthread_mutex_unlock(&m->ctl_lock);
	}
	memory_region_transaction_commit();
	return ret;
}

/* Every hotplugged device has finalized.  Called with ctl_lock held. */
static bool hotplug_all_gone(struct machine *m)
{
	return cds_list_empty(&m->hp_devices);
}

/* Teardown: unplug every hotplugged device (their events still go out). */
void machine_hotplug_fini(struct machine *m)
{
	struct hp_dev *hp;
	struct device *dev;

	for (;;) {
		dev = NULL;
		pthread_mutex_lock(&m->ctl_lock);
		cds_list_for_each_entry(hp, &m->hp_devices, link) {
			if (!hp->deleting) {
				hp->deleting = true;
				dev = hp->dev;
				break;
			}
		}
		if (dev && hp->kind == HP_VIRTIO)
			m->slot[hp->index].owner = NULL;
		pthread_mutex_unlock(&m->ctl_lock);
		if (!dev)
			break;
		if (hp->kind == HP_VIRTIO)
			machine_virtio_untrack(m, m->slot[hp->index].vm);
		device_unplug(dev, NULL);
	}
	/* Their finalizers use the machine, which is about to go away. */
	if (!machine_wait_finalized(m, &m->ctl_lock, &m->hp_gone,
				    hotplug_all_gone))
		pr_warn("hotplugged devices did not finalize within 10 s");
}

/* ---- Status, pause, resume, quit, reset ---------------------------------- */

static json_t *ctl_query_status(void *opaque)
{
	struct machine *m = opaque;

	bool down = machine_stopping(m);

	return json_pack("{s:b, s:s}", "running", !m->paused && !down,
			 "status", down ? "shutdown" :
				   m->paused ? "paused" : "running");
}

static void pause_all(struct machine *m)
{
	unsigned i;

	for (i = 0; i < m->nr_vcpus; i++)
		vcpu_pause(&m->vcpu[i]);
	rcu_thread_offline();
	for (i = 0; i < m->nr_vcpus; i++)
		vcpu_pause_wait(&m->vcpu[i]);
	rcu_thread_online();
}

static void resume_all(struct machine *m)
{
	unsigned i;

	for (i = 0; i < m->nr_vcpus; i++)
		vcpu_resume(&m->vcpu[i]);
}

static int ctl_stop(void *opaque, struct error *err)
{
	struct machine *m = opaque;

	pause_all(m);
	m->paused = true;
	return 0;
}

static int ctl_cont(void *opaque, struct error *err)
{
	struct machine *m = opaque;

	resume_all(m);
	m->paused = false;
	return 0;
}

static int ctl_quit(void *opaque, struct error *err)
{
	machine_request_stop(opaque, MACHINE_QUIT, 0);
	return 0;
}

static int ctl_system_reset(void *opaque, struct error *err)
{
	struct machine *m = opaque;
	int ret;

	pause_all(m);
	ret = machine_reload(m, err);
	if (ret) {
		/* Half reset: the guest cannot go on; end the VM. */
		machine_request_stop(m, MACHINE_ERROR, 1);
		return ret;
	}
	if (!m->paused)
		resume_all(m);
	return 0;
}

/* ---- Queries ------------------------------------------------------------- */

struct region_walk {
	json_t *list;
};

static json_t *region_json(struct memory_region *mr)
{
	struct memory_region *c = mr->container;
	json_t *r = json_pack("{s:s, s:s, s:I}", "name",
			      memory_region_name(mr), "type",
			      memory_region_type_name(mr->type), "size",
			      (json_int_t)mr->size);

	if (c)
		json_object_set_new(r, "address", json_integer((json_int_t)mr->addr));
	if (c)
		json_object_set_new(r, "container",
				    json_string(memory_region_name(c)));
	return r;
}

static int collect_regions(struct object *obj, void *opaque)
{
	struct region_walk *w = opaque;

	if (object_is_a(obj, &memory_region_class))
		json_array_append_new(w->list,
				      region_json(to_memory_region(obj)));
	return 0;
}

struct dev_walk {
	struct machine *m;
	json_t *list;
};

static int collect_device(struct object *obj, void *opaque)
{
	struct dev_walk *w = opaque;
	struct device *dev = device_cast(obj);
	uint64_t reads, writes;
	json_t *d;

	if (!dev || obj->parent != &w->m->obj)
		return 0;
	/*
	 * Regions and a hotplugged device's driver name are filled in
	 * after this walk: each walk takes the tree lock, which is held
	 * here, and ctl_lock must not be taken under it (device_add holds
	 * ctl_lock while it looks objects up).
	 */
	device_get_counters(dev, &reads, &writes);
	d = json_pack("{s:s, s:s, s:s, s:s, s:o, s:I, s:I}", "id",
		      object_name(obj), "driver", obj->cls->name, "path",
		      object_path(obj), "state",
		      device_state_name(device_get_state(dev)), "regions",
		      json_array(), "reads", (json_int_t)reads, "writes",
		      (json_int_t)writes);
	json_array_append_new(w->list, d);
	return 0;
}

static json_t *ctl_query_devices(void *opaque)
{
	struct machine *m = opaque;
	struct dev_walk w = { .m = m, .list = json_array() };
	struct region_walk rw;
	struct hp_dev *hp;
	size_t i;
	json_t *d;

	object_child_foreach(&m->obj, false, collect_device, &w);
	json_array_foreach(w.list, i, d) {
		struct object *o = object_resolve_path(
			json_string_value(json_object_get(d, "path")));

		if (!o)
			continue;
		/* A hotplugged device reports the driver it was added as. */
		pthread_mutex_lock(&m->ctl_lock);
		cds_list_for_each_entry(hp, &m->hp_devices, link)
			if (hp->dev && &hp->dev->obj == o)
				json_object_set_new(d, "driver",
						    json_string(hp->driver));
		pthread_mutex_unlock(&m->ctl_lock);
		rw.list = json_object_get(d, "regions");
		memory_region_transaction_begin();	/* placement is stable */
		object_child_foreach(o, true, collect_regions, &rw);
		memory_region_transaction_commit();
		object_unref(o);
	}
	return w.list;
}

static json_t *ctl_query_mtree(void *opaque, bool flat)
{
	char *text = memory_mtree_dump(flat);
	json_t *r = json_pack("{s:s, s:b}", "text", text ? text : "", "flat",
			      flat);

	free(text);
	return r;
}

/* ---- query-stats --------------------------------------------------------- */

/* @ticks in whole nanoseconds, rounded down (bucket bounds, sums). */
static json_int_t ticks_ns(const struct vcpu_stats *st, uint64_t ticks)
{
	if (!st->tsc_khz)
		return (json_int_t)ticks;
	return (json_int_t)((unsigned __int128)ticks * 1000000u / st->tsc_khz);
}

static json_t *lat_hist_json(const struct vcpu_stats *st,
			     const struct lat_hist *h)
{
	static const struct {
		const char *name;
		double q;
	} quantiles[] = {
		{ "p50-ns", 0.50 },
		{ "p90-ns", 0.90 },
		{ "p99-ns", 0.99 },
	};
	json_t *r, *buckets = json_array();
	unsigned b, i;
	double ns;

	for (b = 0; b < LAT_BUCKETS; b++)
		if (h->buckets[b])
			json_array_append_new(buckets, json_pack("[I, I]",
				ticks_ns(st, lat_bucket_lower(b)),
				(json_int_t)h->buckets[b]));
	r = json_pack("{s:I, s:I, s:I}", "count", (json_int_t)h->count,
		      "sum-ns", ticks_ns(st, h->sum),
		      "max-ns", ticks_ns(st, h->max));
	for (i = 0; i < ARRAY_SIZE(quantiles); i++) {
		/* Rounded up: a quantile of a non-empty histogram is > 0. */
		ns = vcpu_stats_ns(st, lat_hist_quantile(h, quantiles[i].q));
		json_object_set_new(r, quantiles[i].name,
				    json_integer((json_int_t)ns +
						 ((json_int_t)ns < ns)));
	}
	json_object_set_new(r, "buckets", buckets);
	return r;
}

json_t *vcpu_stats_json(const struct vcpu_stats *st)
{
	struct lat_hist h;
	json_t *r;
	unsigned k;

	r = json_pack("{s:s, s:s}", "unit", "ns", "clock",
		      st->tsc_khz ? "tsc" : "monotonic");
	if (st->tsc_khz)
		json_object_set_new(r, "tsc-khz", json_integer(st->tsc_khz));
	for (k = 0; k < EXIT_KINDS; k++) {
		lat_hist_read(&st->hist[k], &h);
		json_object_set_new(r, exit_kind_name(k), lat_hist_json(st, &h));
	}
	return r;
}

/* Every device under /machine and its access counts, as query-devices. */
static int collect_counts(struct object *obj, void *opaque)
{
	struct dev_walk *w = opaque;
	struct device *dev = device_cast(obj);
	uint64_t reads, writes;

	if (!dev || obj->parent != &w->m->obj)
		return 0;
	device_get_counters(dev, &reads, &writes);
	json_array_append_new(w->list, json_pack("{s:s, s:I, s:I}", "id",
						 object_name(obj), "reads",
						 (json_int_t)reads, "writes",
						 (json_int_t)writes));
	return 0;
}

static json_t *ctl_query_stats(void *opaque)
{
	struct machine *m = opaque;
	struct address_space_stats st[2];
	struct dev_walk w = { .m = m, .list = json_array() };
	json_t *vcpus = json_array(), *r;
	struct vcpu_stats *vs;
	struct vcpu *vcpu;
	unsigned i;
	json_t *v;

	for (i = 0; i < m->nr_vcpus; i++) {
		vcpu = &m->vcpu[i];
		v = json_pack("{s:i, s:I, s:I, s:I}", "id", (int)i,
			      "io", (json_int_t)READ_ONCE(vcpu->exits_io),
			      "mmio", (json_int_t)READ_ONCE(vcpu->exits_mmio),
			      "other", (json_int_t)READ_ONCE(vcpu->exits_other));
		/* Gone only while the machine is being torn down. */
		vs = vcpu_get_stats(vcpu);
		if (vs)
			json_object_set_new(v, "dispatch", vcpu_stats_json(vs));
		json_array_append_new(vcpus, v);
	}
	address_space_get_stats(&m->mem, &st[0]);
	address_space_get_stats(&m->io, &st[1]);
	r = json_pack("{s:o}", "vcpus", vcpus);
	for (i = 0; i < 2; i++)
		json_object_set_new(r, i ? "io" : "memory", json_pack(
			"{s:I, s:I, s:I, s:I, s:I}",
			"unassigned-reads", (json_int_t)st[i].unassigned_reads,
			"unassigned-writes", (json_int_t)st[i].unassigned_writes,
			"rejected", (json_int_t)st[i].rejected,
			"readonly-writes", (json_int_t)st[i].readonly_writes,
			"eventfd-writes", (json_int_t)st[i].eventfd_writes));
	object_child_foreach(&m->obj, false, collect_counts, &w);
	json_object_set_new(r, "devices", w.list);
	return r;
}

const struct control_ops machine_control_ops = {
	.query_status = ctl_query_status,
	.stop = ctl_stop,
	.cont = ctl_cont,
	.quit = ctl_quit,
	.system_reset = ctl_system_reset,
	.query_devices = ctl_query_devices,
	.query_mtree = ctl_query_mtree,
	.query_stats = ctl_query_stats,
	.device_add = ctl_device_add,
	.device_del = ctl_device_del,
};
