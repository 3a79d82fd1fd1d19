// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hotplug on a running microVM, through the QMP control socket.  The
 * hotplug guest (tests/guests/hotplug.c) behaves like a driver: it polls
 * its slots, initializes a device that appears, reads sector 0, writes
 * sector 1 and says so on the console; the test unplugs it, waits for
 * DEVICE_DELETED, and checks the file.  Also surprise removal in the
 * middle of requests, id reuse, errors, queries, RAM and test devices.
 * Skips (77) when /dev/kvm is not usable.
 */
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "flatvm/kvm.h"
#include "flatvm/stats.h"
#include "guests.h"

struct vm {
	pid_t pid;
	int out;		/* flatvm's stdout (the guest console) */
	char console[1 << 16];
	size_t clen;
	int qmp;
	char rbuf[1 << 16];
	size_t rlen;
	json_t *events;		/* events not yet waited for */
	char sock[64];
	char err_path[64];
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void console_pump(struct vm *vm, int ms)
{
	struct pollfd p = { .fd = vm->out, .events = POLLIN };
	ssize_t n;

	if (poll(&p, 1, ms) <= 0)
		return;
	n = read(vm->out, vm->console + vm->clen,
		 sizeof(vm->console) - 1 - vm->clen);
	if (n > 0) {
		vm->clen += (size_t)n;
		vm->console[vm->clen] = '\0';
	}
}

/* Wait until the console shows @what (bounded). */
static void wait_console(struct vm *vm, const char *what, double secs)
{
	double end = now() + secs;

	while (!strstr(vm->console, what)) {
		ck_assert_msg(now() < end, "no \"%s\" on the console within %.0f s; console:\n%s",
			      what, secs, vm->console);
		console_pump(vm, 50);
	}
}

static unsigned count(const char *hay, const char *needle)
{
	unsigned n = 0;

	while ((hay = strstr(hay, needle))) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

/* One JSON object from the socket (bounded). */
static json_t *qmp_recv(struct vm *vm, double secs)
{
	double end = now() + secs;
	json_error_t je;
	char *nl;
	json_t *j;
	ssize_t n;

	for (;;) {
		nl = memchr(vm->rbuf, '\n', vm->rlen);
		if (nl) {
			j = json_loadb(vm->rbuf, (size_t)(nl - vm->rbuf), 0, &je);
			vm->rlen -= (size_t)(nl + 1 - vm->rbuf);
			memmove(vm->rbuf, nl + 1, vm->rlen);
			ck_assert_msg(j, "bad JSON from flatvm: %s", je.text);
			return j;
		}
		ck_assert_msg(now() < end, "no QMP message within %.0f s", secs);
		console_pump(vm, 0);
		{
			struct pollfd p = { .fd = vm->qmp, .events = POLLIN };

			if (poll(&p, 1, 50) <= 0)
				continue;
		}
		n = read(vm->qmp, vm->rbuf + vm->rlen,
			 sizeof(vm->rbuf) - vm->rlen);
		ck_assert_msg(n > 0, "flatvm closed the control socket");
		vm->rlen += (size_t)n;
	}
}

/* Send @cmd (stolen); return the reply (events are set aside). */
static json_t *qmp(struct vm *vm, json_t *cmd)
{
	char *s = json_dumps(cmd, JSON_COMPACT);
	size_t len = strlen(s);
	json_t *r;

	/*
	 * One write with the line end: flatvm acts on a command as soon as
	 * its JSON is complete, so after "quit" it may be gone before a
	 * separate "\n" is written.  A flatvm that went away fails here,
	 * with what it said, not with SIGPIPE.
	 */
	signal(SIGPIPE, SIG_IGN);
	s = realloc(s, len + 2);
	ck_assert_ptr_nonnull(s);
	s[len++] = '\n';
	s[len] = '\0';
	if (write(vm->qmp, s, len) != (ssize_t)len) {
		char err[4096] = "";
		int fd = open(vm->err_path, O_RDONLY), st = -1;

		if (fd >= 0) {
			ssize_t n = read(fd, err, sizeof(err) - 1);

			err[n > 0 ? n : 0] = '\0';
			close(fd);
		}
		console_pump(vm, 100);
		usleep(200000);
		waitpid(vm->pid, &st, WNOHANG);
		ck_abort_msg("cannot send %s to flatvm (%s); wait status %#x; its stderr:\n%s\nits console:\n%s",
			     s, strerror(errno), st, err,
			     vm->clen > 3000 ? vm->console + vm->clen - 3000 :
					       vm->console);
	}
	free(s);
	json_decref(cmd);
	for (;;) {
		r = qmp_recv(vm, 30);
		if (!json_object_get(r, "event"))
			return r;
		json_array_append_new(vm->events, r);
	}
}

static json_t *qmp_ok(struct vm *vm, json_t *cmd)
{
	json_t *r = qmp(vm, cmd);
	char *s = json_dumps(r, JSON_COMPACT);

	ck_assert_msg(json_object_get(r, "return"), "QMP error: %s", s);
	free(s);
	return r;
}

static const char *qmp_error_class(json_t *r)
{
	return json_string_value(json_object_get(json_object_get(r, "error"),
						 "class"));
}

static void wait_event(struct vm *vm, const char *name, const char *device,
		       double secs)
{
	double end = now() + secs;
	size_t i;
	json_t *e;

	for (;;) {
		json_array_foreach(vm->events, i, e) {
			json_t *d = json_object_get(e, "data");

			if (strcmp(json_string_value(json_object_get(e, "event")), name))
				continue;
			if (device && strcmp(json_string_value(
					json_object_get(d, "device")) ?: "", device))
				continue;
			ck_assert_ptr_nonnull(json_object_get(e, "timestamp"));
			json_array_remove(vm->events, i);
			return;
		}
		ck_assert_msg(now() < end, "no %s event within %.0f s", name,
			      secs);
		e = qmp_recv(vm, end - now());
		ck_assert_ptr_nonnull(json_object_get(e, "event"));
		json_array_append_new(vm->events, e);
	}
}

static void vm_start(struct vm *vm, const char *cmdline,
		     const char *const *extra)
{
	const char *args[40] = { FLATVM_BIN, "run", "--kernel",
				 GUEST_HOTPLUG_PVH, "--api-sock", vm->sock,
				 "--hotplug-slots", "2", "--cmdline", cmdline };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int pipefd[2], i, n = 10, errfd;
	double end;
	json_t *g;

	memset(vm, 0, sizeof(*vm));
	snprintf(vm->sock, sizeof(vm->sock), "/tmp/flatvm-qmp-%d.sock",
		 (int)getpid());
	snprintf(vm->err_path, sizeof(vm->err_path), "/tmp/flatvm-hp-%d.err",
		 (int)getpid());
	args[5] = vm->sock;
	for (i = 0; extra && extra[i]; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	vm->events = json_array();
	ck_assert_int_eq(pipe(pipefd), 0);
	errfd = open(vm->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	vm->pid = fork();
	ck_assert_int_ge(vm->pid, 0);
	if (!vm->pid) {
		int devnull = open("/dev/null", O_RDONLY);

		dup2(devnull, 0);
		dup2(pipefd[1], 1);
		dup2(errfd, 2);
		close(pipefd[0]);
		execv(FLATVM_BIN, (char *const *)args);
		_exit(127);
	}
	close(pipefd[1]);
	close(errfd);
	vm->out = pipefd[0];

	/* Connect once the socket is there. */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", vm->sock);
	end = now() + 20;
	for (;;) {
		vm->qmp = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (!connect(vm->qmp, (struct sockaddr *)&sa, sizeof(sa)))
			break;
		close(vm->qmp);
		ck_assert_msg(now() < end, "no control socket at %s", vm->sock);
		console_pump(vm, 20);
	}
	g = qmp_recv(vm, 10);
	ck_assert_ptr_nonnull(json_object_get(g, "QMP"));
	json_decref(g);
	json_decref(qmp_ok(vm, json_pack("{s:s}", "execute", "qmp_capabilities")));
}

/* Wait for flatvm to exit (bounded); returns its status. */
static int vm_wait(struct vm *vm, double secs)
{
	double end = now() + secs;
	int status;

	for (;;) {
		if (waitpid(vm->pid, &status, WNOHANG) == vm->pid)
			break;
		console_pump(vm, 20);
		if (now() > end) {
			kill(vm->pid, SIGKILL);
			waitpid(vm->pid, &status, 0);
			ck_abort_msg("flatvm did not exit within %.0f s; console:\n%s",
				     secs, vm->console);
		}
	}
	while (vm->clen < sizeof(vm->console) - 1) {
		ssize_t n = read(vm->out, vm->console + vm->clen,
				 sizeof(vm->console) - 1 - vm->clen);

		if (n <= 0)
			break;
		vm->clen += (size_t)n;
		vm->console[vm->clen] = '\0';
	}
	close(vm->out);
	close(vm->qmp);
	json_decref(vm->events);
	unlink(vm->err_path);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void make_disk(char *path)
{
	unsigned char sector[512];
	int fd = mkstemp(path), s, i;

	ck_assert_int_ge(fd, 0);
	for (s = 0; s < 16; s++) {
		for (i = 0; i < 512; i++)
			sector[i] = (unsigned char)(s + i);
		ck_assert_int_eq(write(fd, sector, 512), 512);
	}
	close(fd);
}

/* Sector @s of @path starts with @header and carries the guest's pattern. */
static void expect_sector(const char *path, unsigned s, const char *header,
			  unsigned seed)
{
	unsigned char buf[512];
	unsigned i;
	int fd = open(path, O_RDONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, buf, 512, (off_t)s * 512), 512);
	close(fd);
	ck_assert_msg(!memcmp(buf, header, strlen(header)),
		      "sector %u of %s does not start with \"%s\"", s, path,
		      header);
	for (i = 64; i < 512; i++)
		ck_assert_uint_eq(buf[i], (i * 7 + 0x5a + seed) & 0xff);
}

static json_t *blk_add(const char *id, const char *file)
{
	return json_pack("{s:s, s:{s:s, s:s, s:s}}", "execute", "device_add",
			 "arguments", "driver", "virtio-blk", "id", id, "file",
			 file);
}

static json_t *dev_del(const char *id)
{
	return json_pack("{s:s, s:{s:s}}", "execute", "device_del",
			 "arguments", "id", id);
}

static struct vm vm;

START_TEST(plug_use_unplug_replug)
{
	char d1[] = "/tmp/flatvm-hp1XXXXXX", d2[] = "/tmp/flatvm-hp2XXXXXX";
	json_t *r;

	make_disk(d1);
	make_disk(d2);
	vm_start(&vm, "rounds=2 slots=2 timeout=120", NULL);
	wait_console(&vm, "hotplug: ready", 30);

	json_decref(qmp_ok(&vm, blk_add("d1", d1)));
	wait_console(&vm, "hotplug: round 1 done", 60);
	/*
	 * device_del, a second device_del and a device_add of the same id,
	 * in one write: the server runs them back to back as one online
	 * stretch of its thread, so no grace period (and no finalization)
	 * can come between them, however fast reclamation is.
	 */
	{
		json_t *cmds[3] = { dev_del("d1"), dev_del("d1"),
				    blk_add("d1", d2) };
		char batch[2048] = "";
		unsigned k;

		for (k = 0; k < 3; k++) {
			char *one = json_dumps(cmds[k], JSON_COMPACT);

			strcat(batch, one);
			strcat(batch, "\n");
			free(one);
			json_decref(cmds[k]);
		}
		ck_assert_int_eq(write(vm.qmp, batch, strlen(batch)),
				 (ssize_t)strlen(batch));
		for (k = 0; k < 3; k++) {
			do {
				r = qmp_recv(&vm, 30);
				if (json_object_get(r, "event")) {
					json_array_append_new(vm.events, r);
					r = NULL;
				}
			} while (!r);
			if (k == 0)	/* returns at once */
				ck_assert_ptr_nonnull(json_object_get(r, "return"));
			else	/* pending: answered; id still taken */
				ck_assert_ptr_nonnull(json_object_get(r, "error"));
			json_decref(r);
		}
	}
	wait_event(&vm, "DEVICE_DELETED", "d1", 30);
	/* What the guest saw completed is in the file. */
	expect_sector(d1, 1, "flatvm hotplug round 1\n", 1);
	wait_console(&vm, "hotplug: round 1: slot 0 gone", 30);

	/* The id is free again; the slot too. */
	json_decref(qmp_ok(&vm, blk_add("d1", d2)));
	wait_console(&vm, "hotplug: round 2 done", 60);
	json_decref(qmp_ok(&vm, dev_del("d1")));
	wait_event(&vm, "DEVICE_DELETED", "d1", 30);
	expect_sector(d2, 1, "flatvm hotplug round 2\n", 2);
	wait_console(&vm, "hotplug: finished 2 of 2 rounds", 60);
	ck_assert_msg(vm_wait(&vm, 30) == 0, "console:\n%s", vm.console);
	ck_assert_ptr_nonnull(strstr(vm.console, " 0 failed"));
	unlink(d1);
	unlink(d2);
}
END_TEST

START_TEST(surprise_removal_mid_requests)
{
	char d1[] = "/tmp/flatvm-hp1XXXXXX";
	char header[64], *p;
	unsigned last, sector;

	make_disk(d1);
	vm_start(&vm, "rounds=1 surprise=1 timeout=120", NULL);
	wait_console(&vm, "hotplug: ready", 30);
	json_decref(qmp_ok(&vm, blk_add("d1", d1)));
	wait_console(&vm, "hotplug: round 1 done", 60);
	usleep(300 * 1000);		/* requests are flowing */
	json_decref(qmp_ok(&vm, dev_del("d1")));
	wait_event(&vm, "DEVICE_DELETED", "d1", 30);
	wait_console(&vm, "removed under us", 60);
	wait_console(&vm, "hotplug: finished", 60);
	ck_assert_msg(vm_wait(&vm, 30) == 0, "console:\n%s", vm.console);
	/* The last write the guest saw complete is whole in the file. */
	p = strstr(vm.console, "last write ");
	if (p && sscanf(p, "last write %u at sector %u", &last, &sector) == 2) {
		snprintf(header, sizeof(header),
			 "flatvm hotplug round 1 write %u\n", last);
		expect_sector(d1, sector, header, last);
	}
	unlink(d1);
}
END_TEST

/* ---- query-stats -------------------------------------------------------- */

static json_int_t int_at(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	ck_assert_msg(json_is_integer(v), "no integer \"%s\"", key);
	return json_integer_value(v);
}

/* Device @id's "reads" or "writes" in a query-devices or query-stats list. */
static json_int_t dev_count(json_t *list, const char *id, const char *what)
{
	json_t *d;
	size_t i;

	json_array_foreach(list, i, d)
		if (!strcmp(json_string_value(json_object_get(d, "id")), id))
			return int_at(d, what);
	ck_abort_msg("no device %s", id);
	return 0;
}

/*
 * One vCPU's histogram of @kind: buckets add up to the count, quantiles
 * ordered and above 0.  Returns the count.
 */
static json_int_t hist_check(json_t *dispatch, const char *kind)
{
	json_t *h = json_object_get(dispatch, kind), *b;
	json_int_t count, sum = 0;
	size_t i;

	ck_assert_msg(json_is_object(h), "no dispatch.%s", kind);
	count = int_at(h, "count");
	json_array_foreach(json_object_get(h, "buckets"), i, b)
		sum += json_integer_value(json_array_get(b, 1));
	ck_assert_int_eq(sum, count);
	if (count)
		ck_assert(int_at(h, "p50-ns") > 0 &&
			  int_at(h, "p50-ns") <= int_at(h, "p90-ns") &&
			  int_at(h, "p90-ns") <= int_at(h, "p99-ns") &&
			  int_at(h, "p99-ns") <= int_at(h, "max-ns") + 1);
	return count;
}

/*
 * On a paused machine the statistics hold still: every port and MMIO
 * exit is in a histogram once, and the accesses the devices counted
 * came through those exits (virtio transports: MMIO only; the UART:
 * ports only).
 */
static void check_stats_paused(struct vm *m, const char *const *virtio)
{
	json_t *r = qmp_ok(m, json_pack("{s:s}", "execute", "query-stats"));
	json_t *q = qmp_ok(m, json_pack("{s:s}", "execute", "query-devices"));
	json_t *st = json_object_get(r, "return");
	json_t *devs = json_object_get(q, "return"), *v, *d;
	json_int_t n[EXIT_KINDS] = { 0 }, io = 0, mmio = 0, reads = 0,
		   writes = 0;
	unsigned k;
	size_t i;

	json_array_foreach(json_object_get(st, "vcpus"), i, v) {
		d = json_object_get(v, "dispatch");
		ck_assert_str_eq(json_string_value(json_object_get(d, "unit")),
				 "ns");
		for (k = 0; k < EXIT_KINDS; k++)
			n[k] += hist_check(d, exit_kind_name(k));
		io += int_at(v, "io");
		mmio += int_at(v, "mmio");
	}
	ck_assert_int_eq(n[EXIT_KIND_PIO_READ] + n[EXIT_KIND_PIO_WRITE], io);
	ck_assert_int_eq(n[EXIT_KIND_MMIO_READ] + n[EXIT_KIND_MMIO_WRITE],
			 mmio);
	for (i = 0; virtio[i]; i++) {
		reads += dev_count(devs, virtio[i], "reads");
		writes += dev_count(devs, virtio[i], "writes");
		/* query-stats lists the same counts. */
		ck_assert_int_eq(dev_count(json_object_get(st, "devices"),
					   virtio[i], "reads"),
				 dev_count(devs, virtio[i], "reads"));
	}
	ck_assert_int_ge(n[EXIT_KIND_MMIO_READ], reads);
	ck_assert_int_ge(n[EXIT_KIND_MMIO_WRITE], writes);
	ck_assert_int_gt(dev_count(devs, "serial0", "writes"), 0);
	ck_assert_int_ge(n[EXIT_KIND_PIO_WRITE],
			 dev_count(devs, "serial0", "writes"));
	json_decref(q);
	json_decref(r);
}

START_TEST(errors_queries_ram_and_testdev)
{
	char d1[] = "/tmp/flatvm-hp1XXXXXX";
	json_t *r, *ret;
	char *s;

	make_disk(d1);
	/* The guest waits for a device and holds it until it is unplugged. */
	vm_start(&vm, "rounds=1 hold=1 timeout=120", NULL);
	wait_console(&vm, "hotplug: ready", 30);

	r = qmp(&vm, json_pack("{s:s, s:{s:s, s:s}}", "execute", "device_add",
			       "arguments", "driver", "floppy", "id", "f"));
	ck_assert_str_eq(qmp_error_class(r), "GenericError");
	json_decref(r);
	r = qmp(&vm, json_pack("{s:s, s:{s:s, s:s}}", "execute", "device_add",
			       "arguments", "driver", "virtio-blk", "id", "x"));
	ck_assert_str_eq(qmp_error_class(r), "GenericError");	/* no file */
	json_decref(r);
	r = qmp(&vm, blk_add("x", "/nonexistent/disk.img"));
	ck_assert_str_eq(qmp_error_class(r), "GenericError");
	json_decref(r);
	r = qmp(&vm, dev_del("nosuch"));
	ck_assert_str_eq(qmp_error_class(r), "DeviceNotFound");
	json_decref(r);

	/* Two slots: the third virtio device finds the machine full. */
	json_decref(qmp_ok(&vm, blk_add("a", d1)));
	json_decref(qmp_ok(&vm, json_pack("{s:s, s:{s:s, s:s}}", "execute",
					  "device_add", "arguments", "driver",
					  "virtio-rng", "id", "b")));
	r = qmp(&vm, blk_add("c", d1));
	ck_assert_str_eq(qmp_error_class(r), "GenericError");
	json_decref(r);
	r = qmp(&vm, blk_add("a", d1));
	ck_assert_str_eq(qmp_error_class(r), "GenericError");	/* duplicate */
	json_decref(r);

	/* RAM: a new memslot far above boot RAM; and a test device. */
	json_decref(qmp_ok(&vm, json_pack("{s:s, s:{s:s, s:s, s:s}}", "execute",
					  "device_add", "arguments", "driver",
					  "ram", "id", "mem1", "size", "64M")));
	json_decref(qmp_ok(&vm, json_pack("{s:s, s:{s:s, s:s}}", "execute",
					  "device_add", "arguments", "driver",
					  "testdev", "id", "t1")));
	r = qmp_ok(&vm, json_pack("{s:s, s:{s:b}}", "execute", "query-mtree",
				  "arguments", "flat", 1));
	s = json_dumps(r, 0);
	ck_assert_msg(strstr(s, "0000020000000000-0000020003ffffff (ram): ram"),
		      "%s", s);
	free(s);
	json_decref(r);
	r = qmp_ok(&vm, json_pack("{s:s}", "execute", "query-devices"));
	ret = json_object_get(r, "return");
	s = json_dumps(ret, 0);
	ck_assert_msg(strstr(s, "\"id\": \"a\"") && strstr(s, "\"mem1\"") &&
		      strstr(s, "\"t1\"") && strstr(s, "/machine/a"), "%s", s);
	free(s);
	json_decref(r);
	r = qmp_ok(&vm, json_pack("{s:s}", "execute", "query-stats"));
	ck_assert_ptr_nonnull(json_object_get(json_object_get(r, "return"),
					      "vcpus"));
	json_decref(r);

	json_decref(qmp_ok(&vm, dev_del("mem1")));
	json_decref(qmp_ok(&vm, dev_del("t1")));
	wait_event(&vm, "DEVICE_DELETED", "mem1", 30);
	wait_event(&vm, "DEVICE_DELETED", "t1", 30);
	r = qmp_ok(&vm, json_pack("{s:s, s:{s:b}}", "execute", "query-mtree",
				  "arguments", "flat", 1));
	s = json_dumps(r, 0);
	ck_assert_msg(!strstr(s, "0000020000000000"), "%s", s);
	free(s);
	json_decref(r);

	/* stop/cont, then quit with virtio devices still plugged. */
	json_decref(qmp_ok(&vm, json_pack("{s:s}", "execute", "stop")));
	wait_event(&vm, "STOP", NULL, 10);
	{
		static const char *const virtio[] = { "a", "b", NULL };

		check_stats_paused(&vm, virtio);
	}
	r = qmp_ok(&vm, json_pack("{s:s}", "execute", "query-status"));
	ck_assert_str_eq(json_string_value(json_object_get(
		json_object_get(r, "return"), "status")), "paused");
	json_decref(r);
	json_decref(qmp_ok(&vm, json_pack("{s:s}", "execute", "cont")));
	wait_event(&vm, "RESUME", NULL, 10);
	/* system_reset: the guest starts again from its entry. */
	{
		double end = now() + 30;

		json_decref(qmp_ok(&vm, json_pack("{s:s}", "execute",
						  "system_reset")));
		wait_event(&vm, "RESET", NULL, 10);
		while (count(vm.console, "hotplug: ready:") < 2) {
			ck_assert_msg(now() < end, "no restart after system_reset:\n%s",
				      vm.console);
			console_pump(&vm, 50);
		}
		/* Devices "a" (set up before the reset) and "b": reset. */
		ck_assert_int_eq(count(vm.console,
				       "ok hotplug-boot-device-reset"), 2);
		ck_assert_msg(!strstr(vm.console, "FAIL"), "%s", vm.console);
	}
	json_decref(qmp_ok(&vm, json_pack("{s:s}", "execute", "quit")));
	wait_event(&vm, "SHUTDOWN", NULL, 10);
	ck_assert_int_eq(vm_wait(&vm, 30), 0);
	unlink(d1);
}
END_TEST

static Suite *hotplug_suite(void)
{
	Suite *s = suite_create("hotplug");
	TCase *tc = tcase_create("hotplug");

	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, plug_use_unplug_replug);
	tcase_add_test(tc, surprise_removal_mid_requests);
	tcase_add_test(tc, errors_queries_ram_and_testdev);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN_REQUIRES(kvm_available, hotplug_suite)
