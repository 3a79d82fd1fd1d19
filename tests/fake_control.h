/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A fake machine behind the control plane (include/flatvm/control.h): it
 * records the calls the QMP server makes, fails them on demand, keeps a
 * device list, and finishes device_del asynchronously on a thread of its
 * own, emitting DEVICE_DELETED like the machine's finalizers do.
 *
 * Used by tests/vmm/check_qmp.c (in process) and tests/tools/fake_qmp.c
 * (a server for flatvmctl and socat to talk to).
 */
#ifndef FLATVM_TESTS_FAKE_CONTROL_H
#define FLATVM_TESTS_FAKE_CONTROL_H

#include <pthread.h>

#include "flatvm/control.h"

enum fake_op {
	FAKE_QUERY_STATUS,
	FAKE_STOP,
	FAKE_CONT,
	FAKE_QUIT,
	FAKE_SYSTEM_RESET,
	FAKE_QUERY_DEVICES,
	FAKE_QUERY_MTREE,
	FAKE_QUERY_STATS,
	FAKE_DEVICE_ADD,
	FAKE_DEVICE_DEL,
	FAKE_NR_OPS
};

#define FAKE_MAX_DELETIONS	64

/*
 * struct fake_control - the fake's state; lock protects every field but
 * the thread handles, which only the owner (init/drain) touches.
 * @fail: a negative errno an operation returns instead of working (or,
 *	for the queries, non-zero makes them return NULL).
 * @calls: how often each operation ran.
 * @last_add: a copy of device_add's last arguments.
 * @last_del: device_del's last id.
 * @last_flat: query-mtree's last @flat.
 * @devices: [{"id", "driver", "path", "state", "regions"}...]
 * @del_delay_ms: how long a deletion takes before DEVICE_DELETED.
 * @qmp: where DEVICE_DELETED goes (set once the server runs).
 * @on_quit: called by the quit operation, if set.
 */
struct fake_control {
	pthread_mutex_t lock;
	int fail[FAKE_NR_OPS];
	unsigned calls[FAKE_NR_OPS];
	bool running;
	json_t *last_add;
	char last_del[64];
	bool last_flat;
	json_t *devices;
	unsigned del_delay_ms;
	struct qmp_server *qmp;
	void (*on_quit)(void *opaque);
	void *quit_opaque;
	pthread_t del_thread[FAKE_MAX_DELETIONS];
	unsigned nr_del_threads;
};

extern const struct control_ops fake_control_ops;

/* A running machine with two devices, "serial0" and "rng0". */
void fake_control_init(struct fake_control *f);
/* Wait for the deletions in progress (call before qmp_server_stop). */
void fake_control_drain(struct fake_control *f);
void fake_control_fini(struct fake_control *f);

void fake_control_set_qmp(struct fake_control *f, struct qmp_server *qmp);
void fake_control_fail(struct fake_control *f, enum fake_op op, int ret);
unsigned fake_control_calls(struct fake_control *f, enum fake_op op);

#endif /* FLATVM_TESTS_FAKE_CONTROL_H */
