// SPDX-License-Identifier: GPL-2.0-only
/*
 * The fake machine behind the QMP server's tests (fake_control.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fake_control.h"
#include "flatvm/stats.h"

static void fake_sleep_ms(unsigned ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (long)(ms % 1000) * 1000000,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static json_t *fake_device(const char *id, const char *driver,
			   json_int_t addr, json_int_t size)
{
	char path[96];

	snprintf(path, sizeof(path), "/machine/%s", id);
	return json_pack("{s:s, s:s, s:s, s:s, s:[{s:s, s:s, s:I, s:I}], s:I, s:I}",
			 "id", id, "driver", driver, "path", path,
			 "state", "realized", "regions", "name", id,
			 "type", "io", "address", addr, "size", size,
			 "reads", (json_int_t)3, "writes", (json_int_t)4);
}

/* The index of device @id in the list, or -1.  Called with f->lock held. */
static int fake_find(struct fake_control *f, const char *id)
{
	size_t i;
	json_t *d;

	json_array_foreach(f->devices, i, d)
		if (!strcmp(json_string_value(json_object_get(d, "id")), id))
			return (int)i;
	return -1;
}

/* Count a call; its injected failure, or 0.  Takes f->lock. */
static int fake_enter(struct fake_control *f, enum fake_op op)
{
	pthread_mutex_lock(&f->lock);
	f->calls[op]++;
	return f->fail[op];
}

static json_t *fake_query_status(void *opaque)
{
	struct fake_control *f = opaque;
	json_t *r = NULL;

	if (!fake_enter(f, FAKE_QUERY_STATUS))
		r = json_pack("{s:b, s:s}", "running", f->running, "status",
			      f->running ? "running" : "paused");
	pthread_mutex_unlock(&f->lock);
	return r;
}

static int fake_run_state(void *opaque, enum fake_op op, bool running,
			  struct error *err)
{
	struct fake_control *f = opaque;
	int ret = fake_enter(f, op);

	if (ret)
		error_setf(err, -ret, "fake: operation %d fails on demand", op);
	else
		f->running = running;
	pthread_mutex_unlock(&f->lock);
	return ret;
}

static int fake_stop(void *opaque, struct error *err)
{
	return fake_run_state(opaque, FAKE_STOP, false, err);
}

static int fake_cont(void *opaque, struct error *err)
{
	return fake_run_state(opaque, FAKE_CONT, true, err);
}

static int fake_system_reset(void *opaque, struct error *err)
{
	struct fake_control *f = opaque;
	int ret = fake_enter(f, FAKE_SYSTEM_RESET);

	pthread_mutex_unlock(&f->lock);
	/* No message: the server says which errno it was. */
	return ret;
}

static int fake_quit(void *opaque, struct error *err)
{
	struct fake_control *f = opaque;
	void (*on_quit)(void *);
	void *arg;
	int ret;

	ret = fake_enter(f, FAKE_QUIT);
	on_quit = f->on_quit;
	arg = f->quit_opaque;
	pthread_mutex_unlock(&f->lock);
	if (ret)
		return error_setf(err, -ret, "fake: quit fails on demand");
	if (on_quit)
		on_quit(arg);
	return 0;
}

static json_t *fake_query_devices(void *opaque)
{
	struct fake_control *f = opaque;
	json_t *r = NULL;

	if (!fake_enter(f, FAKE_QUERY_DEVICES))
		r = json_deep_copy(f->devices);
	pthread_mutex_unlock(&f->lock);
	return r;
}

static json_t *fake_query_mtree(void *opaque, bool flat)
{
	struct fake_control *f = opaque;
	json_t *r = NULL;

	if (!fake_enter(f, FAKE_QUERY_MTREE)) {
		f->last_flat = flat;
		r = json_pack("{s:s, s:b}", "text", flat ?
			      "FlatView #0\n  0000000000000000-000000000009ffff (prio 0, ram): ram\n" :
			      "memory\n  0000000000000000-ffffffffffffffff (prio 0, container): system\n",
			      "flat", flat);
	}
	pthread_mutex_unlock(&f->lock);
	return r;
}

/*
 * A vCPU's exit times, through the machine's own formatting: a clock of
 * 1 GHz (ticks are ns); 9 MMIO reads of 2 us and one of 100 us, 3 port
 * writes of 500 ns.
 */
static json_t *fake_dispatch(void)
{
	struct vcpu_stats st = { .tsc_khz = 1000000 };
	unsigned i;

	for (i = 0; i < 9; i++)
		lat_hist_add(&st.hist[EXIT_KIND_MMIO_READ], 2000);
	lat_hist_add(&st.hist[EXIT_KIND_MMIO_READ], 100000);
	for (i = 0; i < 3; i++)
		lat_hist_add(&st.hist[EXIT_KIND_PIO_WRITE], 500);
	return vcpu_stats_json(&st);
}

static json_t *fake_query_stats(void *opaque)
{
	struct fake_control *f = opaque;
	json_t *r = NULL;

	if (!fake_enter(f, FAKE_QUERY_STATS))
		r = json_pack("{s:[{s:i, s:i, s:i, s:i, s:o}], s:{s:i, s:i}}",
			      "vcpus", "id", 0, "io", 10, "mmio", 20,
			      "other", 1, "dispatch", fake_dispatch(),
			      "memory", "unassigned-reads", 5,
			      "unassigned-writes", 6);
	pthread_mutex_unlock(&f->lock);
	return r;
}

static int fake_device_add(void *opaque, json_t *args, struct error *err)
{
	struct fake_control *f = opaque;
	const char *id, *driver;
	json_t *dev;
	int ret;

	ret = fake_enter(f, FAKE_DEVICE_ADD);
	json_decref(f->last_add);
	f->last_add = json_deep_copy(args);
	id = json_string_value(json_object_get(args, "id"));
	driver = json_string_value(json_object_get(args, "driver"));
	if (ret) {
		error_setf(err, -ret, "fake: device_add fails on demand");
	} else if (!id || !driver) {
		/* The server checks these before calling us. */
		ret = error_setf(err, EPROTO, "fake: no id or driver");
	} else if (fake_find(f, id) >= 0) {
		ret = error_setf(err, EEXIST, "Duplicate device ID '%s'", id);
	} else {
		dev = fake_device(id, driver, 0x10000000, 0x200);
		/* What it was given, for clients to check. */
		json_object_set(dev, "props", args);
		json_array_append_new(f->devices, dev);
	}
	pthread_mutex_unlock(&f->lock);
	return ret;
}

struct fake_deletion {
	struct fake_control *f;
	char id[64];
};

/* The "finalizer": the device goes after a while, then the event. */
static void *fake_delete_thread(void *opaque)
{
	struct fake_deletion *d = opaque;
	struct fake_control *f = d->f;
	json_t *data;
	int i;

	fake_sleep_ms(f->del_delay_ms);
	pthread_mutex_lock(&f->lock);
	i = fake_find(f, d->id);
	if (i >= 0)
		json_array_remove(f->devices, i);
	data = json_pack("{s:s, s:s+}", "device", d->id, "path", "/machine/",
			 d->id);
	qmp_server_emit(f->qmp, "DEVICE_DELETED", data);
	pthread_mutex_unlock(&f->lock);
	free(d);
	return NULL;
}

static int fake_device_del(void *opaque, const char *id, struct error *err)
{
	struct fake_control *f = opaque;
	struct fake_deletion *d;
	json_t *dev;
	int ret, i;

	ret = fake_enter(f, FAKE_DEVICE_DEL);
	snprintf(f->last_del, sizeof(f->last_del), "%s", id);
	if (ret) {
		error_setf(err, -ret, "fake: device_del fails on demand");
		goto out;
	}
	i = fake_find(f, id);
	if (i < 0) {
		ret = error_setf(err, ENODEV, "fake: no device '%s'", id);
		goto out;
	}
	dev = json_array_get(f->devices, i);
	if (!strcmp(json_string_value(json_object_get(dev, "state")),
		    "unplugging")) {
		ret = error_setf(err, EINPROGRESS,
				 "Device '%s' is being deleted already", id);
		goto out;
	}
	if (f->nr_del_threads == FAKE_MAX_DELETIONS) {
		ret = error_setf(err, EBUSY, "fake: too many deletions");
		goto out;
	}
	d = calloc(1, sizeof(*d));
	d->f = f;
	snprintf(d->id, sizeof(d->id), "%s", id);
	json_object_set_new(dev, "state", json_string("unplugging"));
	if (pthread_create(&f->del_thread[f->nr_del_threads], NULL,
			   fake_delete_thread, d)) {
		free(d);
		ret = error_setf(err, EAGAIN, "fake: no thread");
		goto out;
	}
	f->nr_del_threads++;
out:
	pthread_mutex_unlock(&f->lock);
	return ret;
}

const struct control_ops fake_control_ops = {
	.query_status = fake_query_status,
	.stop = fake_stop,
	.cont = fake_cont,
	.quit = fake_quit,
	.system_reset = fake_system_reset,
	.query_devices = fake_query_devices,
	.query_mtree = fake_query_mtree,
	.query_stats = fake_query_stats,
	.device_add = fake_device_add,
	.device_del = fake_device_del,
};

void fake_control_init(struct fake_control *f)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->lock, NULL);
	f->running = true;
	f->del_delay_ms = 5;
	f->devices = json_array();
	json_array_append_new(f->devices,
			      fake_device("serial0", "serial", 0x3f8, 8));
	json_array_append_new(f->devices,
			      fake_device("rng0", "virtio-rng", 0xd0000000, 0x200));
}

void fake_control_drain(struct fake_control *f)
{
	unsigned i, n;

	pthread_mutex_lock(&f->lock);
	n = f->nr_del_threads;
	pthread_mutex_unlock(&f->lock);
	/* Only the server thread adds threads; it is quiet or stopped. */
	for (i = 0; i < n; i++)
		pthread_join(f->del_thread[i], NULL);
	pthread_mutex_lock(&f->lock);
	f->nr_del_threads = 0;
	pthread_mutex_unlock(&f->lock);
}

void fake_control_fini(struct fake_control *f)
{
	fake_control_drain(f);
	json_decref(f->last_add);
	json_decref(f->devices);
	pthread_mutex_destroy(&f->lock);
}

void fake_control_set_qmp(struct fake_control *f, struct qmp_server *qmp)
{
	pthread_mutex_lock(&f->lock);
	f->qmp = qmp;
	pthread_mutex_unlock(&f->lock);
}

void fake_control_fail(struct fake_control *f, enum fake_op op, int ret)
{
	pthread_mutex_lock(&f->lock);
	f->fail[op] = ret;
	pthread_mutex_unlock(&f->lock);
}

unsigned fake_control_calls(struct fake_control *f, enum fake_op op)
{
	unsigned n;

	pthread_mutex_lock(&f->lock);
	n = f->calls[op];
	pthread_mutex_unlock(&f->lock);
	return n;
}
