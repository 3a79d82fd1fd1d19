/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The control plane: what the QMP server (vmm/qmp.c) asks of the machine.
 * The server knows nothing of the machine's insides; the machine
 * implements these operations (vmm/machine.c) and tests implement them
 * with fakes.  All operations are called from the control thread, one at
 * a time; events may be emitted from any thread.
 *
 * The control thread is the server's own: a registered QSBR reader,
 * online while it runs an operation (an operation may walk RCU-protected
 * state; one that must wait for a grace period goes offline around the
 * wait).  An operation must not call qmp_server_stop(): quit only asks
 * the machine to end, whose teardown then stops the server.  A NULL
 * operation makes its command unknown (absent from query-commands).
 *
 * JSON values are jansson's (json_t); ownership follows jansson's rules:
 * a returned json_t * is a new reference the caller releases.  A query
 * that returns NULL is answered with a GenericError.
 *
 * The protocol is QEMU's QMP (docs/interop/qmp-spec.rst there), so QMP
 * clients work unchanged; vmm/qmp.c says how each rule is kept.  Limits
 * a client meets:
 *  - a message is at most 64 KiB: a longer one is discarded up to its
 *    end and answered with a GenericError ("JSON parse error, message
 *    longer than 65536 bytes"); the session goes on;
 *  - nesting is at most 64 levels (the request object counts as one),
 *    refused the same way;
 *  - invalid JSON gets "JSON parse error, ..." and the session goes on
 *    at the next top-level value; a control character or a 0xff byte
 *    resets the parser (QEMU's recovery);
 *  - a client whose unsent replies exceed 64 KiB is not read from until
 *    they drain; one that lets more than 1 MiB of replies and events
 *    pile up is disconnected, with a log line;
 *  - at most 64 clients at once: more are closed on accept.
 * Replies come in request order; the events a command causes (STOP,
 * RESUME, RESET, SHUTDOWN) follow its reply.
 */
#ifndef FLATVM_CONTROL_H
#define FLATVM_CONTROL_H

#include <jansson.h>
#include <stdbool.h>

#include "flatvm/error.h"

struct control_ops {
	/* {"running": bool, "status": "running"|"paused"|"shutdown"} */
	json_t *(*query_status)(void *opaque);
	int (*stop)(void *opaque, struct error *err);	/* pause vCPUs */
	int (*cont)(void *opaque, struct error *err);	/* resume them */
	int (*quit)(void *opaque, struct error *err);	/* end the VM */
	int (*system_reset)(void *opaque, struct error *err);
	/* [{"id", "driver", "path", "state", "regions": [...],
	 *   "reads", "writes"}...] */
	json_t *(*query_devices)(void *opaque);
	/* {"text": the dump (memory_mtree_dump()), "flat": bool} */
	json_t *(*query_mtree)(void *opaque, bool flat);
	/* {"vcpus": [{"id", "io", "mmio", "other", "dispatch"}],
	 *  "memory": {...}, "io": {...}, "devices": [...]} (exits by
	 *  reason and the time spent on them, vcpu_stats_json() in
	 *  flatvm/stats.h; unassigned/rejected/readonly/eventfd counts per
	 *  address space; per-device access counts, as in query-devices) */
	json_t *(*query_stats)(void *opaque);
	/*
	 * Plug a device: @args is the command's "arguments" object
	 * ("driver", "id" and the driver's properties).  Returns 0 or a
	 * negative errno with @err saying what was wrong.
	 */
	int (*device_add)(void *opaque, json_t *args, struct error *err);
	/*
	 * Start unplugging @id; returns at once.  DEVICE_DELETED follows
	 * when the device has finalized.  -ENODEV: no such device (the
	 * server answers DeviceNotFound); -EINPROGRESS: already pending.
	 */
	int (*device_del)(void *opaque, const char *id, struct error *err);
};

struct qmp_server;

/**
 * qmp_server_start() - serve QMP on a Unix socket at @path.
 * Creates the socket with mode 0600, whatever the umask; a live socket at
 * @path (one that accepts a connection) is an error (-EADDRINUSE), a
 * stale one (connection refused) is replaced, anything else that is not
 * a socket is left alone (-EEXIST).  Runs its own thread.
 *
 * Return: the server, or NULL with @err saying why.
 */
struct qmp_server *qmp_server_start(const char *path,
				    const struct control_ops *ops,
				    void *opaque, struct error *err);

/**
 * qmp_server_emit() - send event @name with @data (stolen; may be NULL,
 * then the event has no "data" member, as in QEMU) to every client that
 * has negotiated capabilities, stamped with the time of this call.  Any
 * thread; never blocks on a client (the event is queued for the server
 * thread).  @s may be NULL (no control socket): @data is released.  Not
 * after or during qmp_server_stop().
 */
void qmp_server_emit(struct qmp_server *s, const char *name, json_t *data);

/*
 * Stop serving: what is queued (events included) goes out as far as each
 * socket takes it without blocking, then every client is closed, the
 * thread joined and the socket file removed (if it is still ours).  Not
 * from an operation.  Call it offline if the caller is an RCU reader.
 * @s may be NULL.
 */
void qmp_server_stop(struct qmp_server *s);

#endif /* FLATVM_CONTROL_H */
