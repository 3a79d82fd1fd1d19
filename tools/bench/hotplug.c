// SPDX-License-Identifier: GPL-2.0-only
/*
 * flatvm-bench hotplug: what plugging and unplugging costs on a running
 * microVM, seen from the control socket and from the guest.
 *
 * Every VM is `flatvm run` in a child process (child.c: posix_spawn, the
 * console on a pipe, stderr in a memfd) with --api-sock in a temporary
 * directory, --hotplug-slots 2 and 64 MiB of RAM, driven over QMP (the
 * greeting, qmp_capabilities, then commands with an id; jansson parses
 * every message).  Placement: flatvm's vCPU thread gets the last CPU we
 * may use to itself, everything else (flatvm's main, QMP, RCU reclaim and
 * I/O threads, and the bench) shares the others, so a guest's access is
 * not slowed merely because the control plane ran on its CPU; --no-pin
 * leaves every thread to the scheduler (on a 2-CPU host the plug loop
 * then competes with the vCPU for CPU time, which shows in the MMIO
 * tail).  Timestamps are CLOCK_MONOTONIC: a request's just before its
 * send(), a reply's or an event's the moment poll() returned with the
 * bytes that completed it.
 *
 * Part 1: device_add and device_del latency.  For each guest and driver,
 * after WARMUP cycles that are not counted, `cycles` (300; --quick 20) of
 *
 *   device_add {driver, id, (file)}      add: request to its reply
 *   ... at least SETTLE_MS (15 ms) after that reply, and for the hotplug
 *       guest once it says it is done with the device ...
 *   device_del {id}                      del: request to DEVICE_DELETED
 *                                        (and to its reply: "del reply")
 *   ... for the hotplug guest, until it says the slot is gone.
 *
 * The pause after device_add lets the work that device_add deferred (the
 * old flat view and, for virtio, the empty transport it replaced, both
 * reclaimed by flatvm's RCU reclaim thread) finish first, so each
 * device_del starts from a quiet VMM, as a delete long after the plug
 * does.  Drivers: the test device (`testdev`, a window of its own at
 * 0xd1001000) and virtio-blk (a 1 MiB file in the temporary directory,
 * in hotplug slot 0).  Guests:
 *
 *  idle:   the probe with "spin": halted with interrupts off, no exits;
 *  poll:   the probe with "poll=" (tests/guests/probe.h): endless 32-bit
 *          reads of the ID register of hotplugged test-device windows 0
 *          and 1 and of DeviceID in hotplug slots 0 and 1, so whichever
 *          device is plugged is read all the time (about one VM exit
 *          each 10-15 us here), and device_add / device_del race with
 *          reads in flight;
 *  io:     (virtio-blk only) the hotplug guest (tests/guests/hotplug.c)
 *          with "surprise=1": it polls the slots' DeviceID until the disk
 *          appears, initializes it, reads sector 0, writes and reads back
 *          sector 1, then keeps writing and reading until the disk is
 *          unplugged under it, so device_del lands in the middle of
 *          requests (the transport's I/O thread busy with the file).
 *
 * Part 2: guest-visible MMIO latency while other devices come and go.
 * The probe with "kind=mmio-read count=N spin" (N = 100000; --quick
 * 5000) times N reads of the boot test device's SCRATCH register (each
 * a VM exit to flatvm), after min(N, 1024) empty windows (the timer's own
 * cost), and leaves the ticks in its results block in guest RAM.  In the
 * "with plug loop" runs the bench meanwhile plugs and unplugs test
 * devices as fast as QMP answers: device_add, device_del, with up to
 * LOOP_IDS ids in flight (an id is reused once its DEVICE_DELETED came),
 * from before the probe's banner until its PROBE_READY_LINE.  The
 * "without" runs are the same VM with the socket idle.  The runs
 * alternate (without, with, then with, without, ...), MMIO_ROUNDS of
 * each (--quick: 1), and their samples are pooled.  The results block is
 * read out of the running flatvm: its guest RAM is a memfd named "ram"
 * (mm/memory.c), opened through /proc/PID/fd; RAM offset = guest
 * physical address below the MMIO hole.  Ticks are converted with
 * KVM_GET_TSC_KHZ of a vCPU of a throwaway VM (guests run at the host's
 * TSC rate; flatvm sets none).  Each figure is a pooled quantile of the
 * windows minus the pooled median empty window.
 *
 * Targets (a miss is a result, exit status 0 either way):
 *  - device_del to DEVICE_DELETED under 5 ms median, guest idle (per
 *    driver);
 *  - p99 of the boot test device's MMIO read latency during the plug
 *    loop within 1.2x of the p99 without it ("plugging does not stall
 *    other devices' accesses"; the maximum is printed too).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <linux/kvm.h>

#include "flatvm/compiler.h"
#include "flatvm/kvm.h"
#include "flatvm/layout.h"
#include "flatvm/testdev-regs.h"

#include "bench.h"
#include "probe.h"

#define HP_CYCLES		300u
#define HP_CYCLES_QUICK		20u
#define HP_WARMUP		3u
#define HP_WARMUP_QUICK		1u
#define SETTLE_NS		(15ull * 1000000ull)
#define MMIO_COUNT		100000u
#define MMIO_COUNT_QUICK	5000u
#define MMIO_ROUNDS		3u
#define MMIO_ROUNDS_QUICK	1u
#define LOOP_IDS		4u
#define VM_MEM			"64M"
#define VM_MEM_BYTES		(64ull << 20)
#define VM_SLOTS		"2"
#define DISK_BYTES		(1 << 20)
#define TARGET_DEL_MS		5.0
#define TARGET_P99_RATIO	1.2

#define SEC			1000000000ull
#define CONNECT_TIMEOUT_NS	(10 * SEC)
#define REPLY_TIMEOUT_NS	(10 * SEC)
#define EVENT_TIMEOUT_NS	(10 * SEC)
#define GUEST_TIMEOUT_NS	(30 * SEC)
#define STOP_TIMEOUT_NS		(5 * SEC)
#define QMP_MAX_INPUT		(1 << 20)
#define CONSOLE_LINE_MAX	512
#define CONSOLE_TAIL		2048
#define ARRIVAL_KEY		"bench-arrival-ns"
#define PATH_MAX_BENCH		64

_Static_assert(VM_MEM_BYTES >= PROBE_MIN_RAM, "the probe's results block");

/*
 * Where vmm/control.c puts hotplugged test devices (HOTPLUG_TESTDEV_BASE:
 * right after the boot test device, LAYOUT_TESTDEV_MMIO_SIZE apart) and
 * virtio hotplug slots (the windows after the boot virtio devices, none
 * here): what the poll guest reads.
 */
#define HP_TESTDEV_WINDOW(k)	\
	(LAYOUT_TESTDEV_MMIO + ((k) + 1) * LAYOUT_TESTDEV_MMIO_SIZE)
#define HP_SLOT_WINDOW(s)	\
	(LAYOUT_VIRTIO_MMIO_BASE + (s) * LAYOUT_VIRTIO_MMIO_SIZE)
#define VIRTIO_MMIO_DEVICE_ID	0x008

/* ---- A flatvm child and its control socket ------------------------------ */

/**
 * struct hp_vm - one `flatvm run` and our QMP connection to it.
 * @child: the process; its console is read here, line by line.
 * @qmp: the connected socket, -1 when closed.
 * @in: QMP bytes not yet parsed.
 * @inbox: replies and events not yet consumed, each with ARRIVAL_KEY.
 * @line: the console line being assembled.
 * @tail: the last console bytes, for error messages.
 * @ready_ns: when the guest said it is ready (the hotplug guest's
 *	"hotplug: ready", the probe's PROBE_READY_LINE or PROBE_POLL_LINE).
 * @banner_ns: when the probe's banner arrived.
 * @round_done, @round_gone: the hotplug guest's last "round R done" and
 *	"round R: slot I gone".
 * @fails: FAIL lines the guest printed; @first_fail the first one.
 */
struct hp_vm {
	struct bench_child child;
	bool spawned;
	int qmp;
	char *in;
	size_t in_len, in_cap;
	json_t *inbox;
	json_int_t next_id;
	char line[CONSOLE_LINE_MAX];
	size_t line_len;
	char tail[CONSOLE_TAIL];
	size_t tail_len;
	uint64_t ready_ns;
	uint64_t banner_ns;
	unsigned round_done;
	unsigned round_gone;
	unsigned fails;
	char first_fail[CONSOLE_LINE_MAX];
};

static void tail_add(struct hp_vm *vm, const char *buf, size_t n)
{
	size_t drop;

	if (n >= sizeof(vm->tail) - 1) {
		buf += n - (sizeof(vm->tail) - 1);
		n = sizeof(vm->tail) - 1;
	}
	if (vm->tail_len + n > sizeof(vm->tail) - 1) {
		drop = vm->tail_len + n - (sizeof(vm->tail) - 1);
		memmove(vm->tail, vm->tail + drop, vm->tail_len - drop);
		vm->tail_len -= drop;
	}
	memcpy(vm->tail + vm->tail_len, buf, n);
	vm->tail_len += n;
	vm->tail[vm->tail_len] = '\0';
}

static bool starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && !strcmp(s + ls - lx, suffix);
}

/* One complete console line (without its newline), arrived at @now. */
static void console_line(struct hp_vm *vm, const char *line, uint64_t now)
{
	unsigned r;
	int n = 0;

	if (starts_with(line, "FAIL ")) {
		if (!vm->fails++)
			snprintf(vm->first_fail, sizeof(vm->first_fail), "%s",
				 line);
	} else if (starts_with(line, "hotplug: ready") ||
		   starts_with(line, PROBE_READY_LINE) ||
		   starts_with(line, PROBE_POLL_LINE)) {
		vm->ready_ns = now;
	} else if (starts_with(line, "probe: kind=")) {
		vm->banner_ns = now;
	} else if (sscanf(line, "hotplug: round %u%n", &r, &n) == 1 && n > 0) {
		if (starts_with(line + n, " done"))
			vm->round_done = r;
		else if (ends_with(line + n, " gone"))
			vm->round_gone = r;
	}
}

static void console_read(struct hp_vm *vm, uint64_t now)
{
	char buf[4096];
	ssize_t n, i;

	for (;;) {
		n = read(vm->child.out_fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return;		/* EAGAIN: all taken */
		if (!n) {
			close(vm->child.out_fd);
			vm->child.out_fd = -1;
			return;
		}
		tail_add(vm, buf, (size_t)n);
		for (i = 0; i < n; i++) {
			if (buf[i] == '\r')
				continue;
			if (buf[i] != '\n') {
				if (vm->line_len < sizeof(vm->line) - 1)
					vm->line[vm->line_len++] = buf[i];
				continue;
			}
			vm->line[vm->line_len] = '\0';
			console_line(vm, vm->line, now);
			vm->line_len = 0;
		}
	}
}

static void qmp_close(struct hp_vm *vm)
{
	if (vm->qmp >= 0)
		close(vm->qmp);
	vm->qmp = -1;
}

/* Parse every complete line of @vm->in into the inbox. */
static int qmp_parse(struct hp_vm *vm, uint64_t now, struct error *err)
{
	json_error_t je;
	size_t used;
	json_t *msg;
	char *nl;

	while ((nl = memchr(vm->in, '\n', vm->in_len))) {
		used = (size_t)(nl - vm->in) + 1;
		msg = json_loadb(vm->in, used, 0, &je);
		memmove(vm->in, vm->in + used, vm->in_len - used);
		vm->in_len -= used;
		if (!msg || !json_is_object(msg)) {
			json_decref(msg);
			return error_setf(err, EPROTO,
					  "flatvm sent a QMP line that is not a JSON object: %s",
					  msg ? "another JSON value" : je.text);
		}
		json_object_set_new(msg, ARRIVAL_KEY,
				    json_integer((json_int_t)now));
		json_array_append_new(vm->inbox, msg);
	}
	return 0;
}

static int qmp_read(struct hp_vm *vm, uint64_t now, struct error *err)
{
	ssize_t n;
	char *p;

	for (;;) {
		if (vm->in_len == vm->in_cap) {
			if (vm->in_cap >= QMP_MAX_INPUT)
				return error_setf(err, E2BIG,
						  "flatvm sent a QMP line over %d bytes",
						  QMP_MAX_INPUT);
			p = realloc(vm->in, vm->in_cap ? vm->in_cap * 2 : 16384);
			if (!p)
				return error_setf(err, ENOMEM, "out of memory");
			vm->in = p;
			vm->in_cap = vm->in_cap ? vm->in_cap * 2 : 16384;
		}
		n = recv(vm->qmp, vm->in + vm->in_len, vm->in_cap - vm->in_len,
			 MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;		/* EAGAIN */
		if (!n) {
			qmp_close(vm);
			break;
		}
		vm->in_len += (size_t)n;
	}
	return qmp_parse(vm, now, err);
}

static void vm_reap(struct hp_vm *vm, uint64_t now)
{
	int status;

	if (!vm->child.exit_ns &&
	    waitpid(vm->child.pid, &status, WNOHANG) == vm->child.pid) {
		vm->child.status = status;
		vm->child.exit_ns = now;
	}
}

/*
 * Wait until something arrives (QMP, console, the child's exit) or
 * @deadline passes, and take it in.  Return: 0, -ETIMEDOUT at the
 * deadline, or another negative errno with @err set.
 */
static int vm_pump(struct hp_vm *vm, uint64_t deadline, struct error *err)
{
	struct pollfd p[3];
	uint64_t now = bench_now_ns(), t;
	int n = 0, i, ms, ready, ret;

	if (now >= deadline)
		return -ETIMEDOUT;
	ms = (int)((deadline - now + 999999) / 1000000);
	if (vm->qmp >= 0)
		p[n++] = (struct pollfd){ .fd = vm->qmp, .events = POLLIN };
	if (vm->child.out_fd >= 0)
		p[n++] = (struct pollfd){ .fd = vm->child.out_fd,
					  .events = POLLIN };
	if (!vm->child.exit_ns)
		p[n++] = (struct pollfd){ .fd = vm->child.pidfd,
					  .events = POLLIN };
	if (!n)
		return error_setf(err, ECHILD, "flatvm is gone");
	ready = poll(p, (nfds_t)n, ms);
	t = bench_now_ns();
	if (ready < 0 && errno != EINTR)
		return error_setf(err, errno, "poll: %s", strerror(errno));
	for (i = 0; ready > 0 && i < n; i++) {
		if (!p[i].revents)
			continue;
		if (p[i].fd == vm->qmp) {
			ret = qmp_read(vm, t, err);
			if (ret)
				return ret;
		} else if (p[i].fd == vm->child.out_fd) {
			console_read(vm, t);
		} else {
			vm_reap(vm, t);
		}
	}
	return 0;
}

/* Why @vm cannot go on: its exit, its stderr, the end of its console. */
static int vm_failed(struct hp_vm *vm, struct error *err, const char *what)
{
	char how[768];

	if (vm->child.exit_ns)
		bench_child_describe(&vm->child, how, sizeof(how));
	else
		snprintf(how, sizeof(how), "it is still running");
	return error_setf(err, EIO, "%s: %s; the end of its console:\n%s",
			  what, how, vm->tail_len ? vm->tail : "(nothing)");
}

/* Pump until @deadline (a pause that keeps reading). */
static int vm_idle_until(struct hp_vm *vm, uint64_t deadline,
			 struct error *err)
{
	int ret;

	while ((ret = vm_pump(vm, deadline, err)) == 0)
		;
	return ret == -ETIMEDOUT ? 0 : ret;
}

/*
 * Send @name with @args (stolen; may be NULL) and an id; *@id gets the
 * id, *@sent the time just before send().
 */
static int qmp_send(struct hp_vm *vm, const char *name, json_t *args,
		    json_int_t *id, uint64_t *sent, struct error *err)
{
	json_t *cmd = json_pack("{s:s, s:I}", "execute", name, "id",
				vm->next_id);
	size_t len, off = 0;
	char *text;
	ssize_t n;

	if (cmd && args)
		json_object_set_new(cmd, "arguments", args);
	else
		json_decref(args);
	text = cmd ? json_dumps(cmd, JSON_COMPACT) : NULL;
	json_decref(cmd);
	if (!text)
		return error_setf(err, ENOMEM, "out of memory");
	len = strlen(text);
	text[len++] = '\n';	/* over the NUL: json_dumps() made room */
	*id = vm->next_id++;
	*sent = bench_now_ns();
	while (off < len && vm->qmp >= 0) {
		n = send(vm->qmp, text + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(text);
			return vm_failed(vm, err, "the control socket broke");
		}
		off += (size_t)n;
	}
	free(text);
	if (off < len)
		return vm_failed(vm, err, "flatvm closed its control socket");
	return 0;
}

static uint64_t arrival(json_t *msg)
{
	return (uint64_t)json_integer_value(json_object_get(msg, ARRIVAL_KEY));
}

/* The reply to @id, removed from the inbox; NULL with @err on failure. */
static json_t *qmp_wait_reply(struct hp_vm *vm, json_int_t id,
			      const char *what, struct error *err)
{
	uint64_t deadline = bench_now_ns() + REPLY_TIMEOUT_NS;
	json_t *msg, *mid;
	size_t i;
	int ret;

	for (;;) {
		json_array_foreach(vm->inbox, i, msg) {
			mid = json_object_get(msg, "id");
			if (json_object_get(msg, "event") ||
			    (mid && json_integer_value(mid) != id))
				continue;
			if (!mid && !json_object_get(msg, "error"))
				continue;
			json_incref(msg);
			json_array_remove(vm->inbox, i);
			return msg;
		}
		if (vm->qmp < 0) {
			vm_failed(vm, err, "flatvm closed its control socket");
			error_prepend(err, "waiting for the reply to %s: ",
				      what);
			return NULL;
		}
		ret = vm_pump(vm, deadline, err);
		if (ret == -ETIMEDOUT) {
			vm_failed(vm, err, "no reply within 10 s");
			error_prepend(err, "%s: ", what);
		}
		if (ret)
			return NULL;
	}
}

/*
 * Run @name with @args (stolen); it must succeed.  *@lat (unless NULL)
 * gets request to reply, ns; *@sent the request's time.
 */
static int qmp_call(struct hp_vm *vm, const char *name, json_t *args,
		    uint64_t *sent, uint64_t *lat, struct error *err)
{
	json_t *reply, *e;
	json_int_t id = 0;
	uint64_t t0 = 0;
	int ret;

	ret = qmp_send(vm, name, args, &id, &t0, err);
	if (ret)
		return ret;
	reply = qmp_wait_reply(vm, id, name, err);
	if (!reply)
		return err->code ? err->code : -EIO;
	e = json_object_get(reply, "error");
	if (e || !json_object_get(reply, "return")) {
		const char *desc = json_string_value(json_object_get(e,
								     "desc"));

		ret = error_setf(err, EIO, "%s failed: %s", name,
				 !e ? "a reply with neither return nor error" :
				 desc ? desc : "(no description)");
		json_decref(reply);
		return ret;
	}
	if (sent)
		*sent = t0;
	if (lat)
		*lat = arrival(reply) - t0;
	json_decref(reply);
	return 0;
}

/* Take DEVICE_DELETED for @id from the inbox; *@when its arrival. */
static bool take_deleted(struct hp_vm *vm, const char *id, uint64_t *when)
{
	const char *name, *dev;
	json_t *msg;
	size_t i;

	json_array_foreach(vm->inbox, i, msg) {
		name = json_string_value(json_object_get(msg, "event"));
		dev = json_string_value(json_object_get(
			json_object_get(msg, "data"), "device"));
		if (!name || strcmp(name, "DEVICE_DELETED") || !dev ||
		    strcmp(dev, id))
			continue;
		if (when)
			*when = arrival(msg);
		json_array_remove(vm->inbox, i);
		return true;
	}
	return false;
}

static int qmp_wait_deleted(struct hp_vm *vm, const char *id, uint64_t *when,
			    struct error *err)
{
	uint64_t deadline = bench_now_ns() + EVENT_TIMEOUT_NS;
	int ret;

	while (!take_deleted(vm, id, when)) {
		if (vm->qmp < 0)
			return vm_failed(vm, err,
					 "flatvm closed its control socket while the bench waited for DEVICE_DELETED");
		ret = vm_pump(vm, deadline, err);
		if (ret == -ETIMEDOUT)
			ret = vm_failed(vm, err,
					"no DEVICE_DELETED within 10 s");
		if (ret) {
			error_prepend(err, "device %s: ", id);
			return ret;
		}
	}
	return 0;
}

/* Wait until *@value >= @want (a console counter), or fail. */
static int vm_wait_console(struct hp_vm *vm, const unsigned *value,
			   unsigned want, const uint64_t *stamp,
			   const char *what, struct error *err)
{
	uint64_t deadline = bench_now_ns() + GUEST_TIMEOUT_NS;
	int ret;

	while (value ? *value < want : !*stamp) {
		if (vm->child.exit_ns && vm->child.out_fd < 0)
			return vm_failed(vm, err, what);
		ret = vm_pump(vm, deadline, err);
		if (ret == -ETIMEDOUT)
			ret = vm_failed(vm, err, what);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Start flatvm with @kernel and @cmdline, its control socket at @sock;
 * connect, read the greeting and negotiate capabilities.  The guest may
 * be running already; vm_wait_ready() waits for it to say so.
 */
static int vm_open(struct hp_vm *vm, const char *kernel, const char *cmdline,
		   const char *sock, struct error *err)
{
	char *argv[] = {
		FLATVM_BIN, "run", "--kernel", (char *)kernel, "--mem", VM_MEM,
		"--cmdline", (char *)cmdline, "--api-sock", (char *)sock,
		"--hotplug-slots", VM_SLOTS, NULL,
	};
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint64_t deadline;
	int ret;

	memset(vm, 0, sizeof(*vm));
	vm->qmp = -1;
	vm->next_id = 1;
	vm->inbox = json_array();
	if (!vm->inbox)
		return error_setf(err, ENOMEM, "out of memory");
	if (strlen(sock) >= sizeof(sa.sun_path))
		return error_setf(err, ENAMETOOLONG,
				  "%s: too long for a Unix socket path (set TMPDIR to a shorter directory)",
				  sock);
	unlink(sock);
	ret = bench_child_spawn(&vm->child, argv, err);
	if (ret)
		return ret;
	vm->spawned = true;

	strcpy(sa.sun_path, sock);
	deadline = bench_now_ns() + CONNECT_TIMEOUT_NS;
	for (;;) {
		vm->qmp = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (vm->qmp < 0)
			return error_setf(err, errno, "socket: %s",
					  strerror(errno));
		if (!connect(vm->qmp, (struct sockaddr *)&sa, sizeof(sa)))
			break;
		qmp_close(vm);
		if (vm->child.exit_ns)
			return vm_failed(vm, err,
					 "flatvm stopped before its control socket was up");
		if (bench_now_ns() > deadline)
			return vm_failed(vm, err,
					 "no control socket within 10 s");
		/* Keep its console drained meanwhile; retry in 0.2 ms. */
		ret = vm_pump(vm, bench_now_ns() + 200000, err);
		if (ret && ret != -ETIMEDOUT)
			return ret;
	}
	/* The greeting: the one message before we send anything. */
	deadline = bench_now_ns() + REPLY_TIMEOUT_NS;
	while (!json_array_size(vm->inbox)) {
		if (vm->qmp < 0)
			return vm_failed(vm, err,
					 "flatvm closed its control socket before its greeting");
		ret = vm_pump(vm, deadline, err);
		if (ret == -ETIMEDOUT)
			return vm_failed(vm, err, "no QMP greeting within 10 s");
		if (ret)
			return ret;
	}
	if (!json_object_get(json_array_get(vm->inbox, 0), "QMP"))
		return error_setf(err, EPROTO,
				  "the control socket did not greet with {\"QMP\": ...}");
	json_array_remove(vm->inbox, 0);
	return qmp_call(vm, "qmp_capabilities", NULL, NULL, NULL, err);
}

static int vm_wait_ready(struct hp_vm *vm, struct error *err)
{
	return vm_wait_console(vm, NULL, 0, &vm->ready_ns,
			       "the guest never said it was ready", err);
}

/* Wait (bounded) for @vm to exit by itself. */
static int vm_wait_exit(struct hp_vm *vm, const char *what, struct error *err)
{
	uint64_t deadline = bench_now_ns() + GUEST_TIMEOUT_NS;
	int ret;

	while (!vm->child.exit_ns) {
		ret = vm_pump(vm, deadline, err);
		if (ret == -ETIMEDOUT)
			ret = vm_failed(vm, err, what);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Stop @vm (SIGTERM: flatvm exits 0 on it) unless it exited by itself,
 * and release everything.  Return: its wait status, -1 if it had to be
 * killed.
 */
static int vm_stop(struct hp_vm *vm)
{
	int ret = 0;

	qmp_close(vm);
	if (vm->spawned) {
		if (!vm->child.exit_ns &&
		    bench_child_stop(&vm->child, SIGTERM, STOP_TIMEOUT_NS))
			ret = -1;
		if (!ret)
			ret = vm->child.status;
		bench_child_release(&vm->child);
		vm->spawned = false;
	}
	json_decref(vm->inbox);
	vm->inbox = NULL;
	free(vm->in);
	vm->in = NULL;
	return ret;
}

/* ---- The bench ------------------------------------------------------------ */

enum driver { DRV_TESTDEV, DRV_BLK, NR_DRIVERS };

static const char *const driver_names[NR_DRIVERS] = {
	[DRV_TESTDEV] = "testdev",
	[DRV_BLK] = "virtio-blk",
};

enum guest { G_IDLE, G_POLL, G_IO, NR_GUESTS };

static const char *const guest_names[NR_GUESTS] = {
	[G_IDLE] = "idle: probe halted",
	[G_POLL] = "poll: probe reads it",
	[G_IO] = "io: hotplug guest",
};

static const char *const guest_keys[NR_GUESTS] = {
	[G_IDLE] = "idle",
	[G_POLL] = "poll",
	[G_IO] = "io",
};

/* Per cycle: request to reply, request to DEVICE_DELETED, del's reply. */
enum lat { L_ADD, L_DEL, L_DEL_REPLY, NR_LATS };

static const char *const lat_keys[NR_LATS] = {
	[L_ADD] = "device_add_reply",
	[L_DEL] = "device_del_deleted",
	[L_DEL_REPLY] = "device_del_reply",
};

/**
 * struct row - one guest and driver: its cycles (ns) and figures (ms).
 * @measured: the row applies (io is virtio-blk only).
 */
struct row {
	bool measured;
	uint64_t *ns[NR_LATS];
	size_t n;
	double p50[NR_LATS], p99[NR_LATS], max[NR_LATS];
};

/**
 * struct side - the probe's MMIO read windows over one side's runs.
 * @samples, @empty: ticks, pooled over the runs.
 * @cycles: plug/unplug cycles whose DEVICE_DELETED came between the
 *	probe's banner and its ready line (with the loop).
 * @window_ns: banner to ready line, summed over the runs: about the
 *	probe's timed loops.
 * @covered_ns: how much of @window_ns the loop was running.
 * Figures in us, net of @timer_us (the median empty window).
 */
struct side {
	uint32_t *samples;
	size_t nsamples;
	uint32_t *empty;
	size_t nempty;
	unsigned runs;
	uint64_t cycles;
	uint64_t window_ns;
	uint64_t covered_ns;
	double timer_us, p50, p90, p99, p999, max;
};

struct hp_bench {
	const struct bench_opts *opts;
	unsigned cycles;
	unsigned warmup;
	unsigned mmio_count;
	unsigned mmio_rounds;
	uint32_t tsc_khz;
	char dir[PATH_MAX_BENCH];
	char sock[PATH_MAX_BENCH + 16];
	char disk[PATH_MAX_BENCH + 16];
	struct row rows[NR_GUESTS][NR_DRIVERS];
	struct side side[2];		/* [0] without the loop, [1] with */
	int vcpu_cpu;			/* the vCPU's own CPU, or -1 */
	cpu_set_t rest;			/* everything else's CPUs */
	int io_status;			/* the hotplug guest's exit */
	unsigned guest_fails;
	char guest_fail[CONSOLE_LINE_MAX];
};

/*
 * Placement (unless --no-pin): flatvm's vCPU thread alone on the last CPU
 * we may use, every other thread (flatvm's main, QMP, RCU reclaim and I/O
 * threads, and this process) on the others.  The bench sets its own
 * affinity to the others before it spawns flatvm, whose threads inherit
 * it; vm_pin() then moves the vCPU.  With fewer than two CPUs nothing is
 * pinned.
 */
static void pin_setup(struct hp_bench *b)
{
	cpu_set_t all;
	int cpu;

	b->vcpu_cpu = -1;
	if (b->opts->no_pin || sched_getaffinity(0, sizeof(all), &all) ||
	    CPU_COUNT(&all) < 2)
		return;
	for (cpu = CPU_SETSIZE - 1; cpu >= 0 && !CPU_ISSET(cpu, &all); cpu--)
		;
	b->rest = all;
	CPU_CLR(cpu, &b->rest);
	if (!sched_setaffinity(0, sizeof(b->rest), &b->rest))
		b->vcpu_cpu = cpu;
}

/* Move @vm's vCPU thread ("vcpu0") to its own CPU, once it exists. */
static int vm_pin(const struct hp_bench *b, struct hp_vm *vm,
		  struct error *err)
{
	uint64_t deadline = bench_now_ns() + CONNECT_TIMEOUT_NS;
	char path[320], comm[32];
	struct dirent *de;
	cpu_set_t one;
	pid_t tid = 0;
	ssize_t n;
	DIR *d;
	int fd, ret;

	if (b->vcpu_cpu < 0)
		return 0;
	CPU_ZERO(&one);
	CPU_SET(b->vcpu_cpu, &one);
	while (!tid) {
		snprintf(path, sizeof(path), "/proc/%d/task",
			 (int)vm->child.pid);
		d = opendir(path);
		while (d && !tid && (de = readdir(d))) {
			snprintf(path, sizeof(path), "/proc/%d/task/%s/comm",
				 (int)vm->child.pid, de->d_name);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			n = fd >= 0 ? read(fd, comm, sizeof(comm) - 1) : -1;
			if (fd >= 0)
				close(fd);
			if (n > 0 && !strncmp(comm, "vcpu0\n", (size_t)n))
				tid = (pid_t)atoi(de->d_name);
		}
		if (d)
			closedir(d);
		if (tid)
			break;
		if (vm->child.exit_ns || bench_now_ns() > deadline)
			return vm_failed(vm, err,
					 "no vCPU thread \"vcpu0\" to pin");
		ret = vm_pump(vm, bench_now_ns() + 200000, err);
		if (ret && ret != -ETIMEDOUT)
			return ret;
	}
	if (sched_setaffinity(tid, sizeof(one), &one))
		return error_setf(err, errno,
				  "cannot pin flatvm's vCPU thread %d to CPU %d: %s",
				  (int)tid, b->vcpu_cpu, strerror(errno));
	return 0;
}

/* vm_open() and vm_pin(). */
static int vm_open_pinned(const struct hp_bench *b, struct hp_vm *vm,
			  const char *kernel, const char *cmdline,
			  struct error *err)
{
	int ret = vm_open(vm, kernel, cmdline, b->sock, err);

	return ret ? ret : vm_pin(b, vm, err);
}

static void note_fails(struct hp_bench *b, const struct hp_vm *vm)
{
	if (vm->fails && !b->guest_fails)
		snprintf(b->guest_fail, sizeof(b->guest_fail), "%s",
			 vm->first_fail);
	b->guest_fails += vm->fails;
}

static json_t *add_args(const struct hp_bench *b, enum driver d,
			const char *id)
{
	if (d == DRV_BLK)
		return json_pack("{s:s, s:s, s:s}", "driver", "virtio-blk",
				 "id", id, "file", b->disk);
	return json_pack("{s:s, s:s}", "driver", "testdev", "id", id);
}

/*
 * One cycle of @d on @vm; with @round (the hotplug guest's round, from
 * 1) wait for the guest between the steps.  @out gets the latencies.
 */
static int one_cycle(const struct hp_bench *b, struct hp_vm *vm,
		     enum driver d, unsigned round, uint64_t out[NR_LATS],
		     struct error *err)
{
	static const char id[] = "bench0";
	uint64_t sent, lat, gone;
	int ret;

	ret = qmp_call(vm, "device_add", add_args(b, d, id), &sent, &lat,
		       err);
	if (ret)
		return ret;
	out[L_ADD] = lat;
	if (round) {
		ret = vm_wait_console(vm, &vm->round_done, round, NULL,
				      "the hotplug guest did not get through its round with the disk",
				      err);
		if (ret)
			return ret;
	}
	ret = vm_idle_until(vm, sent + lat + SETTLE_NS, err);
	if (ret)
		return ret;
	ret = qmp_call(vm, "device_del", json_pack("{s:s}", "id", id), &sent,
		       &lat, err);
	if (ret)
		return ret;
	out[L_DEL_REPLY] = lat;
	ret = qmp_wait_deleted(vm, id, &gone, err);
	if (ret)
		return ret;
	out[L_DEL] = gone - sent;
	if (round)
		ret = vm_wait_console(vm, &vm->round_gone, round, NULL,
				      "the hotplug guest did not see the disk go",
				      err);
	return ret;
}

static int run_cycles(struct hp_bench *b, struct hp_vm *vm, enum guest g,
		      enum driver d, struct error *err)
{
	struct row *r = &b->rows[g][d];
	uint64_t lat[NR_LATS];
	unsigned i, l;
	int ret;

	r->measured = true;
	for (i = 0; i < b->warmup + b->cycles; i++) {
		ret = one_cycle(b, vm, d, g == G_IO ? i + 1 : 0, lat, err);
		if (ret) {
			error_prepend(err, "%s, %s, cycle %u: ", guest_keys[g],
				      driver_names[d], i + 1);
			return ret;
		}
		if (i < b->warmup)
			continue;
		for (l = 0; l < NR_LATS; l++)
			r->ns[l][r->n] = lat[l];
		r->n++;
	}
	return 0;
}

static int part_latency(struct hp_bench *b, struct error *err)
{
	char cmdline[160];
	struct hp_vm vm;
	enum driver d;
	int ret;

	/* idle: the probe halted. */
	ret = vm_open_pinned(b, &vm, FLATVM_PROBE_ELF, "kind=none spin", err);
	if (!ret)
		ret = vm_wait_ready(&vm, err);
	for (d = 0; !ret && d < NR_DRIVERS; d++)
		ret = run_cycles(b, &vm, G_IDLE, d, err);
	note_fails(b, &vm);
	vm_stop(&vm);
	if (ret)
		return ret;

	/* poll: the probe reading whatever is plugged, all the time. */
	snprintf(cmdline, sizeof(cmdline), "poll=0x%llx,0x%llx,0x%llx,0x%llx",
		 HP_TESTDEV_WINDOW(0) + TESTDEV_ID,
		 HP_TESTDEV_WINDOW(1) + TESTDEV_ID,
		 HP_SLOT_WINDOW(0) + VIRTIO_MMIO_DEVICE_ID,
		 HP_SLOT_WINDOW(1) + VIRTIO_MMIO_DEVICE_ID);
	ret = vm_open_pinned(b, &vm, FLATVM_PROBE_ELF, cmdline, err);
	if (!ret)
		ret = vm_wait_ready(&vm, err);
	for (d = 0; !ret && d < NR_DRIVERS; d++)
		ret = run_cycles(b, &vm, G_POLL, d, err);
	note_fails(b, &vm);
	vm_stop(&vm);
	if (ret)
		return ret;

	/* io: the hotplug guest, one round per cycle, in surprise mode. */
	snprintf(cmdline, sizeof(cmdline),
		 "rounds=%u surprise=1 slots=2 timeout=3600 testlog=0",
		 b->warmup + b->cycles);
	ret = vm_open_pinned(b, &vm, FLATVM_HOTPLUG_ELF, cmdline, err);
	if (!ret)
		ret = vm_wait_ready(&vm, err);
	if (!ret)
		ret = run_cycles(b, &vm, G_IO, DRV_BLK, err);
	/* After its last round it powers off: 0 when every check passed. */
	if (!ret)
		ret = vm_wait_exit(&vm,
				   "the hotplug guest did not stop after its last round",
				   err);
	note_fails(b, &vm);
	b->io_status = vm_stop(&vm);
	return ret;
}

/* ---- Part 2: MMIO latency with and without the plug loop ----------------- */

/* @pid's guest RAM: its memfd "ram" of @size bytes, opened read-only. */
static int open_guest_ram(pid_t pid, uint64_t size, struct error *err)
{
	char dir[64], path[320], link[256];
	struct dirent *de;
	struct stat st;
	ssize_t n;
	DIR *d;
	int fd = -1;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	if (!d)
		return error_setf(err, errno, "%s: %s", dir, strerror(errno));
	while (fd < 0 && (de = readdir(d))) {
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (!starts_with(link, "/memfd:ram "))
			continue;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 &&
		    (fstat(fd, &st) || (uint64_t)st.st_size != size)) {
			close(fd);
			fd = -1;
		}
	}
	closedir(d);
	if (fd < 0)
		return error_setf(err, ENOENT,
				  "flatvm (pid %d) has no memfd \"ram\" of %llu bytes open: cannot read the probe's results",
				  (int)pid, (unsigned long long)size);
	return fd;
}

/* Check the probe's results block in @pid's RAM and add it to @s. */
static int probe_collect(struct hp_bench *b, pid_t pid, struct side *s,
			 struct error *err)
{
	uint32_t nempty = b->mmio_count < PROBE_MAX_EMPTY ? b->mmio_count :
			  PROBE_MAX_EMPTY;
	size_t len_s = (size_t)b->mmio_count * sizeof(uint32_t);
	size_t len_e = (size_t)nempty * sizeof(uint32_t);
	struct probe_results r;
	int fd, ret = 0;

	fd = open_guest_ram(pid, VM_MEM_BYTES, err);
	if (fd < 0)
		return fd;
	if (pread(fd, &r, sizeof(r), PROBE_RESULTS_ADDR) != sizeof(r)) {
		ret = error_setf(err, EIO,
				 "cannot read the probe's results block");
		goto out;
	}
	if (r.magic != PROBE_MAGIC || r.version != PROBE_VERSION ||
	    r.status != PROBE_OK || r.kind != PROBE_MMIO_READ ||
	    r.count != b->mmio_count || r.nempty != nempty) {
		ret = error_setf(err, EPROTO,
				 "the probe's results block says magic %#x, version %u, status %u, kind %s, count %u, nempty %u; expected %#x, %u, 0, mmio-read, %u, %u",
				 r.magic, r.version, r.status,
				 probe_kind_name(r.kind), r.count, r.nempty,
				 PROBE_MAGIC, PROBE_VERSION, b->mmio_count,
				 nempty);
		goto out;
	}
	if (pread(fd, s->samples + s->nsamples, len_s,
		  PROBE_RESULTS_ADDR + PROBE_SAMPLES_OFFSET) != (ssize_t)len_s ||
	    pread(fd, s->empty + s->nempty, len_e,
		  PROBE_RESULTS_ADDR + PROBE_EMPTY_OFFSET) != (ssize_t)len_e) {
		ret = error_setf(err, EIO, "cannot read the probe's samples");
		goto out;
	}
	s->nsamples += b->mmio_count;
	s->nempty += nempty;
	s->runs++;
out:
	close(fd);
	return ret;
}

/*
 * Plug and unplug test devices until the probe is done: ids loop0 ..
 * loop<LOOP_IDS - 1> in turn, each deleted right after its add, an id
 * reused once its DEVICE_DELETED has come.
 */
static int plug_loop(struct hp_vm *vm, struct side *s, struct error *err)
{
	bool pending[LOOP_IDS] = { false };
	uint64_t first = 0, last = 0, t, gone;
	unsigned k = 0, i;
	char id[16];
	int ret = 0;

	while (!vm->ready_ns) {
		i = k++ % LOOP_IDS;
		snprintf(id, sizeof(id), "loop%u", i);
		if (pending[i]) {
			ret = qmp_wait_deleted(vm, id, &gone, err);
			if (ret)
				return ret;
			pending[i] = false;
			if (vm->banner_ns && gone > vm->banner_ns &&
			    (!vm->ready_ns || gone < vm->ready_ns))
				s->cycles++;
		}
		ret = qmp_call(vm, "device_add",
			       json_pack("{s:s, s:s}", "driver", "testdev",
					 "id", id), &t, NULL, err);
		if (!ret)
			ret = qmp_call(vm, "device_del",
				       json_pack("{s:s}", "id", id), NULL,
				       NULL, err);
		if (ret)
			return ret;
		pending[i] = true;
		if (!first)
			first = t;
		last = bench_now_ns();
	}
	for (i = 0; i < LOOP_IDS; i++) {
		snprintf(id, sizeof(id), "loop%u", i);
		if (!pending[i])
			continue;
		ret = qmp_wait_deleted(vm, id, &gone, err);
		if (ret)
			return ret;
		if (vm->banner_ns && gone > vm->banner_ns &&
		    gone < vm->ready_ns)
			s->cycles++;
	}
	/* How much of banner..ready the loop ran for. */
	if (first && vm->banner_ns) {
		t = first > vm->banner_ns ? first : vm->banner_ns;
		gone = last < vm->ready_ns ? last : vm->ready_ns;
		if (gone > t)
			s->covered_ns += gone - t;
	}
	return 0;
}

static int mmio_run(struct hp_bench *b, bool loop, struct error *err)
{
	struct side *s = &b->side[loop];
	char cmdline[80];
	struct hp_vm vm;
	int ret;

	snprintf(cmdline, sizeof(cmdline), "kind=mmio-read count=%u spin",
		 b->mmio_count);
	ret = vm_open_pinned(b, &vm, FLATVM_PROBE_ELF, cmdline, err);
	if (!ret && loop)
		ret = plug_loop(&vm, s, err);
	if (!ret)
		ret = vm_wait_ready(&vm, err);
	if (!ret && vm.banner_ns && vm.ready_ns > vm.banner_ns)
		s->window_ns += vm.ready_ns - vm.banner_ns;
	if (!ret)
		ret = probe_collect(b, vm.child.pid, s, err);
	note_fails(b, &vm);
	vm_stop(&vm);
	if (ret)
		error_prepend(err, "MMIO reads %s the plug loop, run %u: ",
			      loop ? "with" : "without", s->runs + 1);
	return ret;
}

static int part_mmio(struct hp_bench *b, struct error *err)
{
	unsigned r;
	int ret;

	/* Alternate which side goes first: without, with; with, without. */
	for (r = 0; r < b->mmio_rounds; r++) {
		ret = mmio_run(b, r % 2, err);
		if (!ret)
			ret = mmio_run(b, !(r % 2), err);
		if (ret)
			return ret;
	}
	return 0;
}

/* ---- Figures ------------------------------------------------------------ */

static double ms(uint64_t ns)
{
	return ns / 1e6;
}

static void row_figures(struct row *r)
{
	unsigned l;

	for (l = 0; l < NR_LATS && r->n; l++) {
		bench_sort_u64(r->ns[l], r->n);
		r->p50[l] = ms(bench_quantile_u64(r->ns[l], r->n, 0.5));
		r->p99[l] = ms(bench_quantile_u64(r->ns[l], r->n, 0.99));
		r->max[l] = ms(r->ns[l][r->n - 1]);
	}
}

static double ticks_us(const struct hp_bench *b, double ticks)
{
	return ticks * 1e3 / b->tsc_khz;
}

static void side_figures(const struct hp_bench *b, struct side *s)
{
	double timer;

	if (!s->nsamples)
		return;
	bench_sort_u32(s->samples, s->nsamples);
	bench_sort_u32(s->empty, s->nempty);
	timer = bench_quantile_u32(s->empty, s->nempty, 0.5);
	s->timer_us = ticks_us(b, timer);
	s->p50 = ticks_us(b, bench_quantile_u32(s->samples, s->nsamples,
						0.5) - timer);
	s->p90 = ticks_us(b, bench_quantile_u32(s->samples, s->nsamples,
						0.9) - timer);
	s->p99 = ticks_us(b, bench_quantile_u32(s->samples, s->nsamples,
						0.99) - timer);
	s->p999 = ticks_us(b, bench_quantile_u32(s->samples, s->nsamples,
						 0.999) - timer);
	s->max = ticks_us(b, s->samples[s->nsamples - 1] - timer);
}

static bool del_pass(const struct hp_bench *b, enum driver d)
{
	return b->rows[G_IDLE][d].p50[L_DEL] < TARGET_DEL_MS;
}

static double p99_ratio(const struct hp_bench *b)
{
	return b->side[0].p99 > 0 ? b->side[1].p99 / b->side[0].p99 : 0;
}

static bool mmio_pass(const struct hp_bench *b)
{
	return p99_ratio(b) <= TARGET_P99_RATIO;
}

static const char *pass(bool ok)
{
	return ok ? "PASS" : "MISS";
}

/* ---- Output ------------------------------------------------------------- */

static void print_table(const struct hp_bench *b)
{
	const struct side *s;
	const struct row *r;
	unsigned g, d, i;
	double per;

	printf("device_add: request to reply; device_del: request to DEVICE_DELETED (and to its reply); ms\n");
	printf("%-22s %-11s %8s %8s %8s %8s %8s %8s %9s\n", "guest", "driver",
	       "add p50", "add p99", "add max", "del p50", "del p99",
	       "del max", "del-reply");
	for (g = 0; g < NR_GUESTS; g++) {
		for (d = 0; d < NR_DRIVERS; d++) {
			r = &b->rows[g][d];
			if (!r->measured)
				continue;
			printf("%-22s %-11s %8.3f %8.3f %8.3f %8.3f %8.3f %8.3f %9.3f\n",
			       guest_names[g], driver_names[d], r->p50[L_ADD],
			       r->p99[L_ADD], r->max[L_ADD], r->p50[L_DEL],
			       r->p99[L_DEL], r->max[L_DEL],
			       r->p50[L_DEL_REPLY]);
		}
	}
	printf("(del-reply: median request to reply of device_del, which returns before the device is gone)\n");
	printf("the hotplug guest: exit status %d, %u failed checks%s%s\n",
	       WIFEXITED(b->io_status) ? WEXITSTATUS(b->io_status) : -1,
	       b->guest_fails, b->guest_fails ? "; first: " : "",
	       b->guest_fails ? b->guest_fail : "");

	printf("\nguest-timed MMIO reads of the boot test device (probe kind=mmio-read, %u per run, %u run(s) per side), us per read net of the timer\n",
	       b->mmio_count, b->mmio_rounds);
	printf("%-22s %8s %8s %8s %8s %8s %9s\n", "", "p50", "p90", "p99",
	       "p99.9", "max", "samples");
	for (i = 0; i < 2; i++) {
		s = &b->side[i];
		printf("%-22s %8.2f %8.2f %8.2f %8.2f %8.2f %9zu\n",
		       i ? "with plug loop" : "without plug loop", s->p50,
		       s->p90, s->p99, s->p999, s->max, s->nsamples);
	}
	s = &b->side[1];
	per = s->cycles ? ms(s->window_ns) / (double)s->cycles : 0;
	printf("timer (median empty window) %.2f us; TSC %.3f MHz; the loop: %" PRIu64 " testdev plug/unplug cycles completed during the probe's timed reads (one per %.2f ms), running for %.0f%% of them\n",
	       b->side[0].timer_us, b->tsc_khz / 1e3, s->cycles, per,
	       s->window_ns ? 100.0 * (double)s->covered_ns /
			      (double)s->window_ns : 0.0);

	printf("\ntargets:\n");
	for (d = 0; d < NR_DRIVERS; d++)
		printf("  device_del to DEVICE_DELETED under %.0f ms median, guest idle, %-10s: %s (median %.3f ms, p99 %.3f ms)\n",
		       TARGET_DEL_MS, driver_names[d], pass(del_pass(b, d)),
		       b->rows[G_IDLE][d].p50[L_DEL],
		       b->rows[G_IDLE][d].p99[L_DEL]);
	printf("  MMIO p99 of the boot test device during the plug loop within %.1fx of without: %s (%.2fx: %.2f vs %.2f us; max %.2f vs %.2f us)\n",
	       TARGET_P99_RATIO, pass(mmio_pass(b)), p99_ratio(b),
	       b->side[1].p99, b->side[0].p99, b->side[1].max,
	       b->side[0].max);
}

static json_t *json_row(const struct row *r)
{
	json_t *o = json_pack("{s:I}", "cycles", (json_int_t)r->n);
	unsigned l;

	for (l = 0; l < NR_LATS; l++)
		json_object_set_new(o, lat_keys[l],
				    json_pack("{s:f, s:f, s:f}", "p50_ms",
					      r->p50[l], "p99_ms", r->p99[l],
					      "max_ms", r->max[l]));
	return o;
}

static json_t *json_side(const struct side *s)
{
	return json_pack("{s:i, s:I, s:f, s:f, s:f, s:f, s:f, s:f}", "runs",
			 (int)s->runs, "samples", (json_int_t)s->nsamples,
			 "timer_us", s->timer_us, "p50_us", s->p50, "p90_us",
			 s->p90, "p99_us", s->p99, "p999_us", s->p999,
			 "max_us", s->max);
}

static void print_json(const struct hp_bench *b)
{
	json_t *root, *lat, *g_obj, *with, *targets;
	unsigned g, d;

	lat = json_object();
	for (g = 0; g < NR_GUESTS; g++) {
		g_obj = json_object();
		for (d = 0; d < NR_DRIVERS; d++)
			if (b->rows[g][d].measured)
				json_object_set_new(g_obj, driver_names[d],
						    json_row(&b->rows[g][d]));
		json_object_set_new(lat, guest_keys[g], g_obj);
	}
	with = json_side(&b->side[1]);
	json_object_set_new(with, "loop_cycles",
			    json_integer((json_int_t)b->side[1].cycles));
	json_object_set_new(with, "loop_coverage",
			    json_real(b->side[1].window_ns ?
				      (double)b->side[1].covered_ns /
				      (double)b->side[1].window_ns : 0));
	targets = json_pack(
		"{s:{s:f, s:f, s:b}, s:{s:f, s:f, s:b}, s:{s:f, s:f, s:b}}",
		"testdev_del_idle_median_ms", "limit", TARGET_DEL_MS, "value",
		b->rows[G_IDLE][DRV_TESTDEV].p50[L_DEL], "pass",
		del_pass(b, DRV_TESTDEV),
		"virtio_blk_del_idle_median_ms", "limit", TARGET_DEL_MS,
		"value", b->rows[G_IDLE][DRV_BLK].p50[L_DEL], "pass",
		del_pass(b, DRV_BLK),
		"mmio_p99_ratio_with_plug_loop", "limit", TARGET_P99_RATIO,
		"value", p99_ratio(b), "pass", mmio_pass(b));
	root = json_pack(
		"{s:s, s:b, s:i, s:i, s:i, s:f, s:i, s:i, s:i, s:i, s:o, s:{s:i, s:i, s:s}, s:{s:o, s:o}, s:o}",
		"mode", "hotplug", "quick", b->opts->quick, "cycles",
		(int)b->cycles, "warmup_cycles", (int)b->warmup,
		"vcpu_pinned_cpu", b->vcpu_cpu,
		"settle_ms", ms(SETTLE_NS), "hotplug_slots", atoi(VM_SLOTS),
		"tsc_khz", (int)b->tsc_khz, "mmio_reads_per_run",
		(int)b->mmio_count, "mmio_runs_per_side", (int)b->mmio_rounds,
		"latency", lat, "hotplug_guest", "exit_status",
		WIFEXITED(b->io_status) ? WEXITSTATUS(b->io_status) : -1,
		"failed_checks", (int)b->guest_fails, "first_failure",
		b->guest_fail, "mmio", "without_plug_loop",
		json_side(&b->side[0]), "with_plug_loop", with, "targets",
		targets);
	if (!root) {
		fprintf(stderr, "flatvm-bench: hotplug: cannot build the JSON output\n");
		return;
	}
	json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
				 JSON_REAL_PRECISION(6));
	putchar('\n');
	json_decref(root);
}

/* ---- The mode ------------------------------------------------------------- */

static int bench_alloc(struct hp_bench *b)
{
	uint32_t nempty = b->mmio_count < PROBE_MAX_EMPTY ? b->mmio_count :
			  PROBE_MAX_EMPTY;
	unsigned g, d, l, i;

	for (g = 0; g < NR_GUESTS; g++)
		for (d = 0; d < NR_DRIVERS; d++)
			for (l = 0; l < NR_LATS; l++)
				if (!(b->rows[g][d].ns[l] =
				      calloc(b->cycles, sizeof(uint64_t))))
					return -ENOMEM;
	for (i = 0; i < 2; i++) {
		b->side[i].samples = calloc((size_t)b->mmio_rounds *
					    b->mmio_count, sizeof(uint32_t));
		b->side[i].empty = calloc((size_t)b->mmio_rounds * nempty,
					  sizeof(uint32_t));
		if (!b->side[i].samples || !b->side[i].empty)
			return -ENOMEM;
	}
	return 0;
}

static void bench_free(struct hp_bench *b)
{
	unsigned g, d, l, i;

	for (g = 0; g < NR_GUESTS; g++)
		for (d = 0; d < NR_DRIVERS; d++)
			for (l = 0; l < NR_LATS; l++)
				free(b->rows[g][d].ns[l]);
	for (i = 0; i < 2; i++) {
		free(b->side[i].samples);
		free(b->side[i].empty);
	}
}

/* The temporary directory, its socket path and a 1 MiB disk file. */
static int workdir_make(struct hp_bench *b, struct error *err)
{
	const char *tmp = getenv("TMPDIR");
	int fd;

	if (!tmp || !*tmp || strlen(tmp) > 40)
		tmp = "/tmp";
	snprintf(b->dir, sizeof(b->dir), "%s/flatvm-bench-hp.XXXXXX", tmp);
	if (!mkdtemp(b->dir))
		return error_setf(err, errno, "mkdtemp %s: %s", b->dir,
				  strerror(errno));
	snprintf(b->sock, sizeof(b->sock), "%s/qmp.sock", b->dir);
	snprintf(b->disk, sizeof(b->disk), "%s/disk.img", b->dir);
	fd = open(b->disk, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, DISK_BYTES)) {
		if (fd >= 0)
			close(fd);
		return error_setf(err, errno, "%s: %s", b->disk,
				  strerror(errno));
	}
	close(fd);
	return 0;
}

static void workdir_remove(struct hp_bench *b)
{
	if (!b->dir[0])
		return;
	unlink(b->sock);
	unlink(b->disk);
	rmdir(b->dir);
}

int bench_hotplug(const struct bench_opts *opts)
{
	struct hp_bench *b;
	struct error err = { 0 };
	char why[256];
	unsigned g, d, i;
	int ret = BENCH_EXIT_FAILED;

	if (!kvm_available(why, sizeof(why))) {
		fprintf(stderr, "flatvm-bench: hotplug: skipped: %s\n", why);
		return BENCH_EXIT_SKIP;
	}
	if (access(FLATVM_BIN, X_OK) || access(FLATVM_PROBE_ELF, R_OK) ||
	    access(FLATVM_HOTPLUG_ELF, R_OK)) {
		fprintf(stderr,
			"flatvm-bench: hotplug: need %s, %s and %s: %s; build the 'flatvm' and 'guests' targets\n",
			FLATVM_BIN, FLATVM_PROBE_ELF, FLATVM_HOTPLUG_ELF,
			strerror(errno));
		return BENCH_EXIT_FAILED;
	}
	b = calloc(1, sizeof(*b));
	if (!b) {
		fprintf(stderr, "flatvm-bench: hotplug: out of memory\n");
		return BENCH_EXIT_FAILED;
	}
	b->opts = opts;
	b->cycles = opts->quick ? HP_CYCLES_QUICK : HP_CYCLES;
	b->warmup = opts->quick ? HP_WARMUP_QUICK : HP_WARMUP;
	b->mmio_count = opts->quick ? MMIO_COUNT_QUICK : MMIO_COUNT;
	b->mmio_rounds = opts->quick ? MMIO_ROUNDS_QUICK : MMIO_ROUNDS;
	b->io_status = -1;
	if (bench_alloc(b)) {
		fprintf(stderr, "flatvm-bench: hotplug: out of memory\n");
		goto out;
	}
	if (bench_tsc_khz(&b->tsc_khz, &err) || workdir_make(b, &err))
		goto fail;
	pin_setup(b);
	if (!opts->json) {
		printf("flatvm-bench hotplug: %u cycles per guest and driver after %u warm-up, device_del %.0f ms after device_add's reply; flatvm run --hotplug-slots %s --mem %s, QMP over %s\n",
		       b->cycles, b->warmup, ms(SETTLE_NS), VM_SLOTS, VM_MEM,
		       b->sock);
		if (b->vcpu_cpu >= 0)
			printf("flatvm's vCPU thread alone on CPU %d, every other thread (flatvm's and the bench) on the others (--no-pin to disable)\n\n",
			       b->vcpu_cpu);
		else
			printf("threads placed by the scheduler\n\n");
		fflush(stdout);
	}
	if (part_latency(b, &err) || part_mmio(b, &err))
		goto fail;
	for (g = 0; g < NR_GUESTS; g++)
		for (d = 0; d < NR_DRIVERS; d++)
			row_figures(&b->rows[g][d]);
	for (i = 0; i < 2; i++)
		side_figures(b, &b->side[i]);
	if (opts->json)
		print_json(b);
	else
		print_table(b);
	if (b->guest_fails || !WIFEXITED(b->io_status) ||
	    WEXITSTATUS(b->io_status))
		fprintf(stderr,
			"flatvm-bench: hotplug: warning: the guests reported %u failed checks%s%s (hotplug guest exit status %d)\n",
			b->guest_fails, b->guest_fails ? "; first: " : "",
			b->guest_fail,
			WIFEXITED(b->io_status) ? WEXITSTATUS(b->io_status) :
						  -1);
	ret = BENCH_EXIT_OK;
	goto out;

fail:
	fprintf(stderr, "flatvm-bench: hotplug: %s\n", err.msg);
out:
	workdir_remove(b);
	bench_free(b);
	free(b);
	return ret;
}
