// SPDX-License-Identifier: GPL-2.0-only
/*
 * The QMP server (vmm/qmp.c) over a real Unix socket, against a fake
 * machine (tests/fake_control.c): the greeting, negotiation, every
 * command's reply, ids, events, several clients, every kind of bad input,
 * slow and vanishing clients, and how the socket file is made.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "fake_control.h"

#define TIMEOUT_MS	5000

/* ---- A minimal test client --------------------------------------------- */

struct client {
	int fd;
	bool eof;
	size_t head, len;	/* unread bytes: buf[head, len) */
	json_t *events;		/* events seen while awaiting replies */
	char buf[256 * 1024];
};

static struct client *cl_connect(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct client *c = calloc(1, sizeof(*c));

	ck_assert_ptr_nonnull(c);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(c->fd, 0);
	ck_assert_msg(!connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)),
		      "connect %s: %s", path, strerror(errno));
	c->events = json_array();
	return c;
}

static void cl_close(struct client *c)
{
	close(c->fd);
	json_decref(c->events);
	free(c);
}

static void cl_write(struct client *c, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len) {
		n = send(c->fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		ck_assert_msg(n > 0, "send: %s", strerror(errno));
		p += n;
		len -= n;
	}
}

static void cl_send(struct client *c, const char *text)
{
	cl_write(c, text, strlen(text));
}

static void cl_sendf(struct client *c, const char *fmt, ...) __printf(2, 3);

static void cl_sendf(struct client *c, const char *fmt, ...)
{
	char *text;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&text, fmt, ap);
	va_end(ap);
	ck_assert_int_ge(n, 0);
	cl_send(c, text);
	free(text);
}

/* The next line (CRLF stripped), or NULL on EOF or after @timeout_ms. */
static char *cl_line(struct client *c, int timeout_ms)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	char *start, *nl, *line;
	ssize_t n;
	size_t l;

	for (;;) {
		start = c->buf + c->head;
		nl = memchr(start, '\n', c->len - c->head);
		if (nl) {
			l = nl - start;
			line = strndup(start, l && nl[-1] == '\r' ? l - 1 : l);
			c->head += l + 1;
			return line;
		}
		if (c->head) {
			memmove(c->buf, start, c->len - c->head);
			c->len -= c->head;
			c->head = 0;
		}
		ck_assert_msg(c->len < sizeof(c->buf), "line too long");
		if (c->eof || poll(&pfd, 1, timeout_ms) <= 0)
			return NULL;
		n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
		if (n <= 0) {
			c->eof = true;
			return NULL;
		}
		c->len += n;
	}
}

static json_t *cl_recv(struct client *c, int timeout_ms)
{
	json_error_t jerr;
	char *line = cl_line(c, timeout_ms);
	json_t *msg;

	if (!line)
		return NULL;
	msg = json_loads(line, 0, &jerr);
	ck_assert_msg(msg != NULL, "server sent invalid JSON: %s: %s", line,
		      jerr.text);
	free(line);
	return msg;
}

/* The next reply (not event); events on the way are kept. */
static json_t *cl_reply(struct client *c)
{
	json_t *msg;

	for (;;) {
		msg = cl_recv(c, TIMEOUT_MS);
		ck_assert_msg(msg != NULL, "no reply");
		if (!json_object_get(msg, "event"))
			return msg;
		json_array_append_new(c->events, msg);
	}
}

/* The next event, kept or new, or NULL after @timeout_ms. */
static json_t *cl_event(struct client *c, int timeout_ms)
{
	json_t *msg;

	if (json_array_size(c->events)) {
		msg = json_incref(json_array_get(c->events, 0));
		json_array_remove(c->events, 0);
		return msg;
	}
	msg = cl_recv(c, timeout_ms);
	ck_assert_msg(!msg || json_object_get(msg, "event"),
		      "a reply where an event was expected");
	return msg;
}

static json_t *cl_cmd(struct client *c, const char *text)
{
	cl_send(c, text);
	return cl_reply(c);
}

/* Read the greeting; negotiate capabilities. */
static void cl_negotiate(struct client *c)
{
	json_t *msg = cl_recv(c, TIMEOUT_MS);

	ck_assert_msg(msg && json_object_get(msg, "QMP"), "no greeting");
	json_decref(msg);
	msg = cl_cmd(c, "{\"execute\": \"qmp_capabilities\"}");
	ck_assert_msg(json_is_object(json_object_get(msg, "return")),
		      "qmp_capabilities failed");
	json_decref(msg);
}

static struct client *cl_open(const char *path)
{
	struct client *c = cl_connect(path);

	cl_negotiate(c);
	return c;
}

/* ---- Checks on replies ------------------------------------------------- */

/* The return value of reply @msg, borrowed; fails the test on an error. */
static json_t *ret_of(json_t *msg)
{
	json_t *ret = json_object_get(msg, "return");
	char *s;

	if (!ret) {
		s = json_dumps(msg, 0);
		ck_abort_msg("expected a return, got %s", s);
	}
	return ret;
}

static void assert_error(json_t *msg, const char *class, const char *desc)
{
	json_t *e = json_object_get(msg, "error");
	char *s = json_dumps(msg, 0);

	ck_assert_msg(json_is_object(e), "expected an error, got %s", s);
	ck_assert_msg(json_object_size(e) == 2, "error members: %s", s);
	ck_assert_str_eq(json_string_value(json_object_get(e, "class")), class);
	if (desc)
		ck_assert_str_eq(json_string_value(json_object_get(e, "desc")),
				 desc);
	free(s);
}

/* Send @text, expect an error of @class with @desc (NULL: any). */
static void expect_error(struct client *c, const char *text,
			 const char *class, const char *desc)
{
	json_t *msg = cl_cmd(c, text);

	assert_error(msg, class, desc);
	json_decref(msg);
}

/* Send @text, expect {"return": @expected} exactly. */
static void expect_return(struct client *c, const char *text,
			  const char *expected)
{
	json_t *msg = cl_cmd(c, text), *want = json_loads(expected, 0, NULL);
	char *got = json_dumps(msg, 0);

	ck_assert_ptr_nonnull(want);
	ck_assert_msg(json_equal(ret_of(msg), want), "%s: got %s, want %s",
		      text, got, expected);
	ck_assert_int_eq(json_object_size(msg), 1);
	free(got);
	json_decref(want);
	json_decref(msg);
}

static void assert_alive(struct client *c)
{
	expect_return(c, "{\"execute\": \"query-status\"}",
		      "{\"running\": true, \"status\": \"running\"}");
}

static void assert_timestamp(json_t *ev)
{
	json_t *ts = json_object_get(ev, "timestamp");
	json_int_t sec, usec;

	ck_assert(json_is_object(ts));
	ck_assert_int_eq(json_object_size(ts), 2);
	ck_assert(json_is_integer(json_object_get(ts, "seconds")));
	ck_assert(json_is_integer(json_object_get(ts, "microseconds")));
	sec = json_integer_value(json_object_get(ts, "seconds"));
	usec = json_integer_value(json_object_get(ts, "microseconds"));
	ck_assert_int_le(llabs(sec - (json_int_t)time(NULL)), 10);
	ck_assert_int_ge(usec, 0);
	ck_assert_int_lt(usec, 1000000);
}

/* The next event is @name with @data (a JSON text, or NULL: none). */
static void expect_event(struct client *c, const char *name, const char *data)
{
	json_t *ev = cl_event(c, TIMEOUT_MS), *want;
	char *s;

	ck_assert_msg(ev != NULL, "no %s event", name);
	s = json_dumps(ev, 0);
	ck_assert_msg(!strcmp(json_string_value(json_object_get(ev, "event")),
			      name), "expected %s, got %s", name, s);
	assert_timestamp(ev);
	if (data) {
		want = json_loads(data, 0, NULL);
		ck_assert_msg(json_equal(json_object_get(ev, "data"), want),
			      "event data: %s", s);
		json_decref(want);
		ck_assert_int_eq(json_object_size(ev), 3);
	} else {
		ck_assert_int_eq(json_object_size(ev), 2);
	}
	free(s);
	json_decref(ev);
}

static void assert_no_event(struct client *c, int ms)
{
	json_t *ev = cl_event(c, ms);
	char *s = ev ? json_dumps(ev, 0) : NULL;

	ck_assert_msg(!ev, "unexpected %s", s);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;	/* the directory's own */
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Wait until the process has @n descriptors open (the server let go). */
static bool wait_fds(int n)
{
	int i;

	for (i = 0; i < 400; i++) {
		if (count_fds() == n)
			return true;
		sleep_ms(5);
	}
	return false;
}

/* ---- The server under test --------------------------------------------- */

static char dir[64];
static char sock_path[128];
static struct fake_control fake;
static struct qmp_server *srv;

static void server_setup(void)
{
	struct error err = { 0 };

	snprintf(dir, sizeof(dir), "/tmp/flatvm-qmp-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sock_path, sizeof(sock_path), "%s/qmp.sock", dir);
	fake_control_init(&fake);
	srv = qmp_server_start(sock_path, &fake_control_ops, &fake, &err);
	ck_assert_msg(srv != NULL, "%s", err.msg);
	fake_control_set_qmp(&fake, srv);
}

static void server_teardown(void)
{
	fake_control_drain(&fake);
	fake_control_set_qmp(&fake, NULL);
	qmp_server_stop(srv);
	ck_assert_msg(access(sock_path, F_OK) && errno == ENOENT,
		      "the socket file is left behind");
	fake_control_fini(&fake);
	rmdir(dir);
}

/* ---- Greeting and negotiation ------------------------------------------ */

START_TEST(greeting_shape)
{
	struct client *c = cl_connect(sock_path);
	json_t *want = json_loads(
		"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 1, \"major\": 0},"
		" \"package\": \"flatvm 0.1.0\"}, \"capabilities\": []}}", 0, NULL);
	char *line = cl_line(c, TIMEOUT_MS);
	json_t *got;

	ck_assert_ptr_nonnull(line);
	/* Exactly QEMU's text, key order included. */
	ck_assert_str_eq(line,
			 "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 1, \"major\": 0}, \"package\": \"flatvm 0.1.0\"}, \"capabilities\": []}}");
	got = json_loads(line, 0, NULL);
	ck_assert(json_equal(got, want));
	json_decref(got);
	json_decref(want);
	free(line);
	/* The version in the greeting is query-version's. */
	cl_send(c, "{\"execute\": \"qmp_capabilities\"}");
	json_decref(cl_reply(c));
	expect_return(c, "{\"execute\": \"query-version\"}",
		      "{\"qemu\": {\"micro\": 0, \"minor\": 1, \"major\": 0}, \"package\": \"flatvm 0.1.0\"}");
	cl_close(c);
}
END_TEST

START_TEST(commands_before_negotiation)
{
	struct client *c = cl_connect(sock_path);
	json_t *msg;

	json_decref(cl_recv(c, TIMEOUT_MS));
	expect_error(c, "{\"execute\": \"query-status\"}", "CommandNotFound",
		     "Expecting capabilities negotiation with 'qmp_capabilities'");
	expect_error(c, "{\"execute\": \"no-such-command\"}", "CommandNotFound",
		     "Expecting capabilities negotiation with 'qmp_capabilities'");
	expect_error(c, "{\"execute\": \"stop\"}", "CommandNotFound",
		     "Expecting capabilities negotiation with 'qmp_capabilities'");
	ck_assert_uint_eq(fake_control_calls(&fake, FAKE_QUERY_STATUS), 0);
	ck_assert_uint_eq(fake_control_calls(&fake, FAKE_STOP), 0);
	/* Capabilities we do not offer. */
	expect_error(c, "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [\"oob\"]}}",
		     "GenericError", "Capability 'oob' not available");
	expect_error(c, "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": \"oob\"}}",
		     "GenericError",
		     "Invalid parameter type for 'enable', expected: array of strings");
	expect_return(c, "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": []}}",
		      "{}");
	expect_error(c, "{\"execute\": \"qmp_capabilities\"}", "CommandNotFound",
		     "Capabilities negotiation is already complete, command ignored");
	msg = cl_cmd(c, "{\"execute\": \"query-status\"}");
	ck_assert(json_is_object(ret_of(msg)));
	json_decref(msg);
	cl_close(c);
}
END_TEST

/* ---- Every command ------------------------------------------------------ */

START_TEST(every_command)
{
	struct client *c = cl_open(sock_path);
	json_t *msg, *ret, *v, *want;
	size_t i;

	expect_return(c, "{\"execute\": \"query-status\"}",
		      "{\"running\": true, \"status\": \"running\"}");

	expect_return(c, "{\"execute\": \"stop\"}", "{}");
	expect_event(c, "STOP", NULL);
	expect_return(c, "{\"execute\": \"query-status\"}",
		      "{\"running\": false, \"status\": \"paused\"}");
	expect_return(c, "{\"execute\": \"cont\"}", "{}");
	expect_event(c, "RESUME", NULL);
	expect_return(c, "{\"execute\": \"system_reset\"}", "{}");
	expect_event(c, "RESET",
		     "{\"guest\": false, \"reason\": \"host-qmp-system-reset\"}");
	ck_assert_uint_eq(fake_control_calls(&fake, FAKE_STOP), 1);
	ck_assert_uint_eq(fake_control_calls(&fake, FAKE_CONT), 1);
	ck_assert_uint_eq(fake_control_calls(&fake, FAKE_SYSTEM_RESET), 1);

	/* query-commands lists each command once. */
	msg = cl_cmd(c, "{\"execute\": \"query-commands\"}");
	ret = ret_of(msg);
	ck_assert(json_is_array(ret));
	ck_assert_uint_eq(json_array_size(ret), 13);
	want = json_loads("[\"qmp_capabilities\", \"query-version\", \"query-commands\", \"query-status\", \"stop\", \"cont\", \"system_reset\", \"quit\", \"query-devices\", \"query-mtree\", \"query-stats\", \"device_add\", \"device_del\"]",
			  0, NULL);
	json_array_foreach(ret, i, v) {
		ck_assert_int_eq(json_object_size(v), 1);
		ck_assert(json_equal(json_object_get(v, "name"),
				     json_array_get(want, i)));
	}
	json_decref(want);
	json_decref(msg);

	/* The queries return what the machine says. */
	msg = cl_cmd(c, "{\"execute\": \"query-devices\"}");
	ret = ret_of(msg);
	ck_assert_uint_eq(json_array_size(ret), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ret, 0), "id")),
			 "serial0");
	json_decref(msg);

	msg = cl_cmd(c, "{\"execute\": \"query-mtree\"}");
	ck_assert(json_is_false(json_object_get(ret_of(msg), "flat")));
	ck_assert_uint_eq(fake.last_flat, false);
	json_decref(msg);
	msg = cl_cmd(c, "{\"execute\": \"query-mtree\", \"arguments\": {\"flat\": true}}");
	ck_assert(json_is_true(json_object_get(ret_of(msg), "flat")));
	ck_assert(json_is_string(json_object_get(ret_of(msg), "text")));
	json_decref(msg);
	pthread_mutex_lock(&fake.lock);
	ck_assert(fake.last_flat);
	pthread_mutex_unlock(&fake.lock);

	msg = cl_cmd(c, "{\"execute\": \"query-stats\"}");
	ck_assert(json_is_array(json_object_get(ret_of(msg), "vcpus")));
	/* The exit times, as vcpu_stats_json() puts them (fake_control.c). */
	want = json_loads("{\"count\": 10, \"sum-ns\": 118000, \"max-ns\": 100000, \"p50-ns\": 1935, \"p90-ns\": 2048, \"p99-ns\": 100000, \"buckets\": [[1792, 9], [98304, 1]]}",
			  0, NULL);
	v = json_object_get(json_array_get(json_object_get(ret_of(msg),
							   "vcpus"), 0),
			    "dispatch");
	ck_assert(json_equal(json_object_get(v, "mmio-read"), want));
	ck_assert_str_eq(json_string_value(json_object_get(v, "unit")), "ns");
	json_decref(want);
	json_decref(msg);

	/* device_add hands the whole arguments object over. */
	expect_return(c, "{\"execute\": \"device_add\", \"arguments\": {\"driver\": \"virtio-blk\", \"id\": \"d1\", \"file\": \"disk.img\", \"readonly\": true, \"n\": 3}}",
		      "{}");
	want = json_loads("{\"driver\": \"virtio-blk\", \"id\": \"d1\", \"file\": \"disk.img\", \"readonly\": true, \"n\": 3}",
			  0, NULL);
	pthread_mutex_lock(&fake.lock);
	ck_assert(json_equal(fake.last_add, want));
	pthread_mutex_unlock(&fake.lock);
	json_decref(want);
	/* The machine's own refusal, in its words. */
	expect_error(c, "{\"execute\": \"device_add\", \"arguments\": {\"driver\": \"virtio-blk\", \"id\": \"d1\"}}",
		     "GenericError", "Duplicate device ID 'd1'");

	/* device_del answers at once; DEVICE_DELETED comes from elsewhere. */
	expect_return(c, "{\"execute\": \"device_del\", \"arguments\": {\"id\": \"d1\"}}",
		      "{}");
	expect_error(c, "{\"execute\": \"device_del\", \"arguments\": {\"id\": \"d1\"}}",
		     "GenericError", "Device 'd1' is being deleted already");
	expect_event(c, "DEVICE_DELETED",
		     "{\"device\": \"d1\", \"path\": \"/machine/d1\"}");
	expect_error(c, "{\"execute\": \"device_del\", \"arguments\": {\"id\": \"d1\"}}",
		     "DeviceNotFound", "Device 'd1' not found");
	ck_assert_str_eq(fake.last_del, "d1");

	/* quit: the reply, then SHUTDOWN. */
	expect_return(c, "{\"execute\": \"quit\"}", "{}");
	expect_event(c, "SHUTDOWN",
		     "{\"guest\": false, \"reason\": \"host-qmp-quit\"}");
	ck_assert_uint_eq(fake_control_calls(&fake, FAKE_QUIT), 1);
	cl_close(c);
}
END_TEST

START_TEST(operation_failures)
{
	struct client *c = cl_open(sock_path);

	fake_control_fail(&fake, FAKE_STOP, -EBUSY);
	expect_error(c, "{\"execute\": \"stop\"}", "GenericError",
		     "fake: operation 1 fails on demand");
	/* No message from the machine: the errno speaks. */
	fake_control_fail(&fake, FAKE_SYSTEM_RESET, -EIO);
	expect_error(c, "{\"execute\": \"system_reset\"}", "GenericError",
		     "system_reset failed: Input/output error");
	fake_control_fail(&fake, FAKE_QUIT, -EPERM);
	expect_error(c, "{\"execute\": \"quit\"}", "GenericError",
		     "fake: quit fails on demand");
	fake_control_fail(&fake, FAKE_DEVICE_ADD, -ENOSPC);
	expect_error(c, "{\"execute\": \"device_add\", \"arguments\": {\"driver\": \"x\", \"id\": \"y\"}}",
		     "GenericError", "fake: device_add fails on demand");
	fake_control_fail(&fake, FAKE_DEVICE_DEL, -ENODEV);
	expect_error(c, "{\"execute\": \"device_del\", \"arguments\": {\"id\": \"rng0\"}}",
		     "DeviceNotFound", "Device 'rng0' not found");
	fake_control_fail(&fake, FAKE_QUERY_DEVICES, 1);
	expect_error(c, "{\"execute\": \"query-devices\"}", "GenericError",
		     "query-devices failed");
	fake_control_fail(&fake, FAKE_QUERY_MTREE, 1);
	expect_error(c, "{\"execute\": \"query-mtree\"}", "GenericError",
		     "query-mtree failed");
	/* A failed run-state command sends no event. */
	assert_no_event(c, 100);
	assert_alive(c);
	cl_close(c);
}
END_TEST

/* A machine without some operations: those commands do not exist. */
START_TEST(missing_operations)
{
	struct control_ops ops = fake_control_ops;
	struct error err = { 0 };
	struct qmp_server *s2;
	struct client *c;
	char path[160];
	json_t *msg, *v;
	size_t i;

	ops.device_add = NULL;
	ops.query_stats = NULL;
	snprintf(path, sizeof(path), "%s/partial.sock", dir);
	s2 = qmp_server_start(path, &ops, &fake, &err);
	ck_assert_msg(s2 != NULL, "%s", err.msg);
	c = cl_open(path);
	expect_error(c, "{\"execute\": \"device_add\", \"arguments\": {\"driver\": \"x\", \"id\": \"y\"}}",
		     "CommandNotFound", "The command device_add has not been found");
	expect_error(c, "{\"execute\": \"query-stats\"}", "CommandNotFound",
		     "The command query-stats has not been found");
	msg = cl_cmd(c, "{\"execute\": \"query-commands\"}");
	ck_assert_uint_eq(json_array_size(ret_of(msg)), 11);
	json_array_foreach(ret_of(msg), i, v) {
		ck_assert_str_ne(json_string_value(json_object_get(v, "name")),
				 "device_add");
		ck_assert_str_ne(json_string_value(json_object_get(v, "name")),
				 "query-stats");
	}
	json_decref(msg);
	assert_alive(c);
	cl_close(c);
	qmp_server_stop(s2);
}
END_TEST

START_TEST(ids_echoed)
{
	struct client *c = cl_connect(sock_path);
	json_t *msg, *want;
	size_t i;
	static const char *const ids[] = {
		"7", "\"abc\"", "{\"a\": [1, {\"b\": null}], \"c\": \"d\"}",
		"[1, 2]", "-1.5", "null", "true",
	};

	json_decref(cl_recv(c, TIMEOUT_MS));
	/* On errors before negotiation too. */
	cl_send(c, "{\"execute\": \"query-status\", \"id\": \"early\"}");
	msg = cl_reply(c);
	assert_error(msg, "CommandNotFound", NULL);
	ck_assert_str_eq(json_string_value(json_object_get(msg, "id")), "early");
	json_decref(msg);
	cl_send(c, "{\"id\": 0, \"execute\": \"qmp_capabilities\"}");
	msg = cl_reply(c);
	ck_assert_int_eq(json_integer_value(json_object_get(msg, "id")), 0);
	json_decref(msg);

	for (i = 0; i < ARRAY_SIZE(ids); i++) {
		want = json_loads(ids[i], JSON_DECODE_ANY, NULL);
		ck_assert_ptr_nonnull(want);
		cl_sendf(c, "{\"execute\": \"query-status\", \"id\": %s}",
			 ids[i]);
		msg = cl_reply(c);
		ck_assert(json_is_object(ret_of(msg)));
		ck_assert_msg(json_equal(json_object_get(msg, "id"), want),
			      "id %s", ids[i]);
		ck_assert_int_eq(json_object_size(msg), 2);
		json_decref(msg);
		/* And on an error reply. */
		cl_sendf(c, "{\"execute\": \"nope\", \"id\": %s}", ids[i]);
		msg = cl_reply(c);
		assert_error(msg, "CommandNotFound",
			     "The command nope has not been found");
		ck_assert(json_equal(json_object_get(msg, "id"), want));
		json_decref(msg);
		json_decref(want);
	}
	/* No id, no id member. */
	msg = cl_cmd(c, "{\"execute\": \"query-status\"}");
	ck_assert_ptr_null(json_object_get(msg, "id"));
	json_decref(msg);
	cl_close(c);
}
END_TEST

/* ---- Events and several clients ---------------------------------------- */

START_TEST(events_to_negotiated_clients)
{
	struct client *a = cl_open(sock_path), *b = cl_open(sock_path);
	struct client *quiet = cl_connect(sock_path);
	json_t *msg;

	msg = cl_recv(quiet, TIMEOUT_MS);	/* the greeting */
	ck_assert_ptr_nonnull(json_object_get(msg, "QMP"));
	json_decref(msg);

	qmp_server_emit(srv, "TEST_EVENT", json_pack("{s:i}", "n", 1));
	qmp_server_emit(srv, "NO_DATA", NULL);
	expect_event(a, "TEST_EVENT", "{\"n\": 1}");
	expect_event(a, "NO_DATA", NULL);
	expect_event(b, "TEST_EVENT", "{\"n\": 1}");
	expect_event(b, "NO_DATA", NULL);
	/* Not negotiated, not told. */
	assert_no_event(quiet, 200);

	/* An event one client caused reaches the others too. */
	expect_return(a, "{\"execute\": \"stop\"}", "{}");
	expect_event(a, "STOP", NULL);
	expect_event(b, "STOP", NULL);
	assert_no_event(quiet, 100);

	msg = cl_cmd(quiet, "{\"execute\": \"qmp_capabilities\"}");
	ck_assert(json_is_object(ret_of(msg)));
	json_decref(msg);
	qmp_server_emit(srv, "LATE", json_pack("{s:b}", "x", true));
	expect_event(quiet, "LATE", "{\"x\": true}");
	expect_event(a, "LATE", "{\"x\": true}");
	expect_event(b, "LATE", "{\"x\": true}");

	/* NULL server: the data is released, nothing happens. */
	qmp_server_emit(NULL, "NOWHERE", json_pack("{s:i}", "n", 1));
	cl_close(a);
	cl_close(b);
	cl_close(quiet);
}
END_TEST

struct worker {
	const char *path;
	int n;
	int ok;
};

/* Request after request, each answered with its own id. */
static void *worker_thread(void *opaque)
{
	struct worker *w = opaque;
	struct client *c = cl_open(w->path);
	json_t *msg;
	int i;

	for (i = 0; i < w->n; i++) {
		cl_sendf(c, "{\"execute\": \"%s\", \"id\": %d}",
			 i % 2 ? "query-status" : "query-devices", i);
		msg = cl_reply(c);
		if (json_integer_value(json_object_get(msg, "id")) == i &&
		    json_object_get(msg, "return"))
			w->ok++;
		json_decref(msg);
	}
	cl_close(c);
	return NULL;
}

START_TEST(clients_at_once)
{
	struct worker w[3] = {
		{ sock_path, 300, 0 }, { sock_path, 300, 0 },
		{ sock_path, 300, 0 },
	};
	pthread_t t[3];
	struct client *ev = cl_open(sock_path);
	int i, seen = 0;
	json_t *msg;

	for (i = 0; i < 3; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, worker_thread,
						&w[i]), 0);
	/* Events from this thread meanwhile. */
	for (i = 0; i < 200; i++)
		qmp_server_emit(srv, "TICK", json_pack("{s:i}", "i", i));
	for (i = 0; i < 3; i++) {
		pthread_join(t[i], NULL);
		ck_assert_int_eq(w[i].ok, w[i].n);
	}
	while (seen < 200 && (msg = cl_event(ev, TIMEOUT_MS))) {
		ck_assert_int_eq(json_integer_value(json_object_get(
			json_object_get(msg, "data"), "i")), seen);
		seen++;
		json_decref(msg);
	}
	ck_assert_int_eq(seen, 200);
	cl_close(ev);
}
END_TEST

/* ---- Bad input ---------------------------------------------------------- */

START_TEST(invalid_json_then_valid)
{
	struct client *c = cl_open(sock_path);
	json_t *msg;
	const char *desc;

	msg = cl_cmd(c, "{\"execute\": }");
	assert_error(msg, "GenericError", NULL);
	desc = json_string_value(json_object_get(json_object_get(msg, "error"), "desc"));
	ck_assert_msg(!strncmp(desc, "JSON parse error, ", 18), "%s", desc);
	json_decref(msg);
	assert_alive(c);

	/* Mismatched brackets still end a value. */
	msg = cl_cmd(c, "{\"execute\": \"query-status\"]");
	assert_error(msg, "GenericError", NULL);
	json_decref(msg);
	/* Duplicate keys, bad escapes, bad UTF-8, trailing commas. */
	msg = cl_cmd(c, "{\"execute\": \"stop\", \"execute\": \"cont\"}");
	assert_error(msg, "GenericError", NULL);
	json_decref(msg);
	msg = cl_cmd(c, "{\"execute\": \"query-st\\q\"}");
	assert_error(msg, "GenericError", NULL);
	json_decref(msg);
	msg = cl_cmd(c, "{\"execute\": \"\xc3\x28\"}");
	assert_error(msg, "GenericError", NULL);
	json_decref(msg);
	msg = cl_cmd(c, "{\"execute\": \"query-status\",}");
	assert_error(msg, "GenericError", NULL);
	json_decref(msg);
	/* Strings with brackets and escaped quotes do not confuse framing. */
	expect_error(c, "{\"execute\": \"a{[\\\"}]\\\\\"}", "CommandNotFound",
		     "The command a{[\"}]\\ has not been found");
	assert_alive(c);

	/* A byte that is never JSON resets the parser (QEMU's recovery). */
	cl_send(c, "{\"execute\": \"query-sta");
	cl_write(c, "\xff", 1);
	msg = cl_reply(c);
	assert_error(msg, "GenericError",
		     "JSON parse error, invalid byte 0xff (input discarded up to it)");
	json_decref(msg);
	assert_alive(c);
	cl_send(c, "{\"execute\": \"query-status\"\x01");
	msg = cl_reply(c);
	assert_error(msg, "GenericError", NULL);
	json_decref(msg);
	assert_alive(c);
	ck_assert_uint_eq(fake_control_calls(&fake, FAKE_STOP), 0);
	cl_close(c);
}
END_TEST

START_TEST(wrong_types)
{
	struct client *c = cl_open(sock_path);

	expect_error(c, "{\"execute\": \"query-mtree\", \"arguments\": {\"flat\": \"yes\"}}",
		     "GenericError",
		     "Invalid parameter type for 'flat', expected: boolean");
	expect_error(c, "{\"execute\": \"query-mtree\", \"arguments\": {\"flat\": 1}}",
		     "GenericError",
		     "Invalid parameter type for 'flat', expected: boolean");
	expect_error(c, "{\"execute\": \"device_add\", \"arguments\": {\"driver\": 5, \"id\": \"x\"}}",
		     "GenericError",
		     "Invalid parameter type for 'driver', expected: string");
	expect_error(c, "{\"execute\": \"device_add\", \"arguments\": {\"driver\": \"testdev\", \"id\": null}}",
		     "GenericError",
		     "Invalid parameter type for 'id', expected: string");
	expect_error(c, "{\"execute\": \"device_del\", \"arguments\": {\"id\": [\"a\"]}}",
		     "GenericError",
		     "Invalid parameter type for 'id', expected: string");
	expect_error(c, "{\"execute\": 42}", "GenericError",
		     "QMP input member 'execute' must be a string");
	expect_error(c, "{\"execute\": \"query-status\", \"arguments\": [1]}",
		     "GenericError",
		     "QMP input member 'arguments' must be an object");
	expect_error(c, "{\"execute\": \"query-status\", \"arguments\": null}",
		     "GenericError",
		     "QMP input member 'arguments' must be an object");
	ck_assert_uint_eq(fake_control_calls(&fake, FAKE_QUERY_MTREE), 0);
	ck_assert_uint_eq(fake_control_calls(&fake, FAKE_DEVICE_ADD), 0);
	ck_assert_uint_eq(fake_control_calls(&fake, FAKE_DEVICE_DEL), 0);
	assert_alive(c);
	cl_close(c);
}
END_TEST

START_TEST(unknown_and_missing_arguments)
{
	struct client *c = cl_open(sock_path);

	expect_error(c, "{\"execute\": \"query-status\", \"arguments\": {\"bogus\": 1}}",
		     "GenericError", "Parameter 'bogus' is unexpected");
	expect_error(c, "{\"execute\": \"query-mtree\", \"arguments\": {\"flat\": true, \"depth\": 2}}",
		     "GenericError", "Parameter 'depth' is unexpected");
	expect_error(c, "{\"execute\": \"device_add\", \"arguments\": {\"id\": \"x\"}}",
		     "GenericError", "Parameter 'driver' is missing");
	expect_error(c, "{\"execute\": \"device_add\", \"arguments\": {\"driver\": \"testdev\"}}",
		     "GenericError", "Parameter 'id' is missing");
	expect_error(c, "{\"execute\": \"device_add\"}",
		     "GenericError", "Parameter 'driver' is missing");
	expect_error(c, "{\"execute\": \"device_del\", \"arguments\": {}}",
		     "GenericError", "Parameter 'id' is missing");
	expect_error(c, "{\"execute\": \"frobnicate\"}", "CommandNotFound",
		     "The command frobnicate has not been found");
	expect_error(c, "{\"arguments\": {}}", "GenericError",
		     "QMP input lacks member 'execute'");
	expect_error(c, "{}", "GenericError", "QMP input lacks member 'execute'");
	expect_error(c, "{\"execute\": \"query-status\", \"extra\": 1}",
		     "GenericError", "QMP input member 'extra' is unexpected");
	ck_assert_uint_eq(fake_control_calls(&fake, FAKE_QUERY_STATUS), 0);
	ck_assert_uint_eq(fake_control_calls(&fake, FAKE_DEVICE_ADD), 0);
	ck_assert_uint_eq(fake_control_calls(&fake, FAKE_DEVICE_DEL), 0);
	assert_alive(c);
	cl_close(c);
}
END_TEST

/*
 * A device_add whose property "p" is @fill bytes of @ch, or @levels of
 * nested arrays; @len tells the request's length.
 */
#define BIG_HEAD "{\"execute\": \"device_add\", \"arguments\": {\"driver\": \"x\", \"id\": \"big\", \"p\": "

static char *big_request(size_t fill, char ch, size_t *len)
{
	size_t hl = strlen(BIG_HEAD);
	char *m = malloc(hl + fill + 8);

	ck_assert_ptr_nonnull(m);
	memcpy(m, BIG_HEAD, hl);
	m[hl] = '"';
	memset(m + hl + 1, ch, fill);
	strcpy(m + hl + 1 + fill, "\"}}");
	*len = strlen(m);
	return m;
}

static char *nested_request(size_t levels)
{
	size_t hl = strlen(BIG_HEAD);
	char *m = malloc(hl + 2 * levels + 8);

	ck_assert_ptr_nonnull(m);
	memcpy(m, BIG_HEAD, hl);
	memset(m + hl, '[', levels);
	memset(m + hl + levels, ']', levels);
	strcpy(m + hl + 2 * levels, "}}");
	return m;
}

START_TEST(oversized_messages)
{
	struct client *c = cl_open(sock_path);
	size_t len, head = strlen(BIG_HEAD) + 4;
	char *msg;
	json_t *r;

	/* 1 MiB in one string argument. */
	msg = big_request(1024 * 1024, 'a', &len);
	cl_send(c, msg);
	free(msg);
	r = cl_reply(c);
	assert_error(r, "GenericError",
		     "JSON parse error, message longer than 65536 bytes");
	json_decref(r);
	ck_assert_uint_eq(fake_control_calls(&fake, FAKE_DEVICE_ADD), 0);
	assert_alive(c);

	/* One byte over the limit is refused; the limit itself is fine. */
	msg = big_request(65536 - head + 1, 'b', &len);
	ck_assert_uint_eq(len, 65537);
	expect_error(c, msg, "GenericError",
		     "JSON parse error, message longer than 65536 bytes");
	free(msg);
	ck_assert_uint_eq(fake_control_calls(&fake, FAKE_DEVICE_ADD), 0);
	msg = big_request(65536 - head, 'b', &len);
	ck_assert_uint_eq(len, 65536);
	expect_return(c, msg, "{}");
	free(msg);
	ck_assert_uint_eq(fake_control_calls(&fake, FAKE_DEVICE_ADD), 1);

	/* A 1 MiB bare token, then a command in the same write. */
	msg = malloc(1024 * 1024 + 64);
	memset(msg, '1', 1024 * 1024);
	strcpy(msg + 1024 * 1024, " {\"execute\": \"query-status\", \"id\": 9}");
	cl_send(c, msg);
	free(msg);
	r = cl_reply(c);
	assert_error(r, "GenericError",
		     "JSON parse error, message longer than 65536 bytes");
	json_decref(r);
	r = cl_reply(c);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 9);
	json_decref(r);
	cl_close(c);
}
END_TEST

START_TEST(deep_nesting)
{
	struct client *c = cl_open(sock_path);
	char *msg;

	msg = nested_request(10000);
	expect_error(c, msg, "GenericError",
		     "JSON parse error, nesting deeper than 64 levels");
	free(msg);
	ck_assert_uint_eq(fake_control_calls(&fake, FAKE_DEVICE_ADD), 0);
	assert_alive(c);
	/* 64 levels in all (2 for the request and its arguments) is fine... */
	msg = nested_request(62);
	expect_return(c, msg, "{}");
	free(msg);
	ck_assert_uint_eq(fake_control_calls(&fake, FAKE_DEVICE_ADD), 1);
	/* ... 65 is not. */
	msg = nested_request(63);
	expect_error(c, msg, "GenericError",
		     "JSON parse error, nesting deeper than 64 levels");
	free(msg);
	assert_alive(c);
	cl_close(c);
}
END_TEST

START_TEST(several_commands_in_one_write)
{
	struct client *c = cl_open(sock_path);
	json_t *r;
	int i;

	cl_send(c, "{\"execute\": \"query-status\", \"id\": 1}{\"execute\": \"stop\", \"id\": 2}\n"
		   "  {\"execute\": \"nope\", \"id\": 3} [] {\"execute\": \"cont\", \"id\": 4}");
	for (i = 1; i <= 5; i++) {
		r = cl_reply(c);
		if (i == 4) {
			assert_error(r, "GenericError",
				     "QMP input must be a JSON object");
		} else {
			ck_assert_int_eq(json_integer_value(json_object_get(r, "id")),
					 i < 4 ? i : 4);
			if (i == 3)
				assert_error(r, "CommandNotFound", NULL);
		}
		json_decref(r);
	}
	expect_event(c, "STOP", NULL);
	expect_event(c, "RESUME", NULL);
	cl_close(c);
}
END_TEST

START_TEST(command_split_bytewise)
{
	static const char cmd[] =
		"{\"execute\": \"query-mtree\", \"arguments\": {\"flat\": true}, \"id\": \"split\\\"}\"}\r\n";
	struct client *c = cl_open(sock_path);
	json_t *r;
	size_t i;

	for (i = 0; i < sizeof(cmd) - 1; i++) {
		cl_write(c, cmd + i, 1);
		sleep_ms(1);
	}
	r = cl_reply(c);
	ck_assert(json_is_true(json_object_get(ret_of(r), "flat")));
	ck_assert_str_eq(json_string_value(json_object_get(r, "id")), "split\"}");
	json_decref(r);
	/* A bare number is complete only at its delimiter. */
	cl_send(c, "12");
	sleep_ms(20);
	cl_send(c, "34\n");
	r = cl_reply(c);
	assert_error(r, "GenericError", "QMP input must be a JSON object");
	json_decref(r);
	cl_close(c);
}
END_TEST

START_TEST(non_object_values)
{
	static const char *const values[] = {
		"42\n", "\"a string\"", "[1, 2]", "true ", "null\n", "-1e5 ",
		"[]", "\"{\\\"execute\\\": \\\"stop\\\"}\"",
	};
	static const char *const junk[] = { "}", "]", ":", ",", "nul ", "x\n" };
	struct client *c = cl_open(sock_path);
	json_t *r;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(values); i++)
		expect_error(c, values[i], "GenericError",
			     "QMP input must be a JSON object");
	/* Things that are not JSON at all. */
	for (i = 0; i < ARRAY_SIZE(junk); i++) {
		r = cl_cmd(c, junk[i]);
		assert_error(r, "GenericError", NULL);
		ck_assert(!strncmp(json_string_value(json_object_get(
			json_object_get(r, "error"), "desc")),
			"JSON parse error, ", 18));
		json_decref(r);
	}
	ck_assert_uint_eq(fake_control_calls(&fake, FAKE_STOP), 0);
	assert_alive(c);
	cl_close(c);
}
END_TEST

START_TEST(disconnect_mid_message)
{
	struct client *c, *other;
	json_t *r;
	int base;

	other = cl_open(sock_path);
	base = count_fds();
	c = cl_open(sock_path);
	cl_send(c, "{\"execute\": \"device_add\", \"arguments\": {\"driver\": \"te");
	cl_close(c);
	ck_assert_msg(wait_fds(base), "the server kept the connection: %d fds, %d before",
		      count_fds(), base);
	/* The same with a huge message cut short and unread replies. */
	c = cl_open(sock_path);
	cl_send(c, "{\"execute\": \"query-status\"}{\"execute\": \"query-status\"}[[[[[[[[");
	sleep_ms(20);
	cl_close(c);
	ck_assert(wait_fds(base));
	/* A peer that only shuts down its sending side still gets answers. */
	c = cl_open(sock_path);
	cl_send(c, "{\"execute\": \"query-status\", \"id\": 5}");
	shutdown(c->fd, SHUT_WR);
	r = cl_reply(c);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 5);
	json_decref(r);
	ck_assert_ptr_null(cl_recv(c, TIMEOUT_MS));
	ck_assert(c->eof);
	cl_close(c);
	ck_assert(wait_fds(base));
	ck_assert_uint_eq(fake_control_calls(&fake, FAKE_DEVICE_ADD), 0);
	assert_alive(other);
	cl_close(other);
}
END_TEST

struct flood_reader {
	struct client *c;
	int want;
	_Atomic int got;
};

static void *flood_reader_thread(void *opaque)
{
	struct flood_reader *r = opaque;
	json_t *ev;

	while (r->got < r->want && (ev = cl_event(r->c, TIMEOUT_MS))) {
		if (!strcmp(json_string_value(json_object_get(ev, "event")),
			    "FLOOD"))
			atomic_fetch_add(&r->got, 1);
		json_decref(ev);
	}
	return NULL;
}

START_TEST(slow_reader_dropped)
{
	enum { EVENTS = 3000 };
	struct client *slow = cl_open(sock_path), *fast = cl_open(sock_path);
	struct flood_reader fr = { .c = fast, .want = EVENTS };
	char pad[1001];
	pthread_t t;
	json_t *ev;
	int i, got = 0;

	memset(pad, 'x', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	ck_assert_int_eq(pthread_create(&t, NULL, flood_reader_thread, &fr), 0);
	/*
	 * 3 MB of events: the slow client never reads them.  "fast" is
	 * kept within 200 events (200 kB, well under the 1 MiB a client
	 * may have unsent) of the emitter, so it is fast whatever this
	 * machine's load or a sanitizer does to its reader (bounded: a
	 * reader stuck for 10 s fails the test below).
	 */
	for (i = 0; i < EVENTS; i++) {
		int waited = 0;

		while (i - atomic_load(&fr.got) > 200 && waited++ < 10000)
			sleep_ms(1);
		qmp_server_emit(srv, "FLOOD",
				json_pack("{s:i, s:s}", "i", i, "pad", pad));
	}
	pthread_join(t, NULL);
	ck_assert_int_eq(fr.got, EVENTS);
	/* The slow one got what its socket held, then was dropped. */
	while ((ev = cl_recv(slow, TIMEOUT_MS))) {
		got++;
		json_decref(ev);
	}
	ck_assert(slow->eof);
	ck_assert_int_lt(got, EVENTS);
	assert_alive(fast);
	cl_close(slow);
	cl_close(fast);
}
END_TEST

struct pipeline {
	struct client *c;
	char *buf;
	size_t len;
};

static void *pipeline_writer(void *opaque)
{
	struct pipeline *p = opaque;

	cl_write(p->c, p->buf, p->len);
	return NULL;
}

/*
 * A client that sends much and reads late is throttled, not dropped:
 * the server stops reading its commands while its replies wait.
 */
START_TEST(pipelining_without_reading)
{
	enum { N = 20000 };
	static const char cmd[] = "{\"execute\": \"query-devices\"}";
	struct client *c = cl_open(sock_path);
	struct pipeline p = { .c = c, .len = N * (sizeof(cmd) - 1) };
	pthread_t t;
	json_t *r;
	int i;

	p.buf = malloc(p.len);
	for (i = 0; i < N; i++)
		memcpy(p.buf + i * (sizeof(cmd) - 1), cmd, sizeof(cmd) - 1);
	ck_assert_int_eq(pthread_create(&t, NULL, pipeline_writer, &p), 0);
	/* Replies are ~20 times the requests: 14 MB if nobody held back. */
	sleep_ms(300);
	for (i = 0; i < N; i++) {
		r = cl_reply(c);
		ck_assert_msg(json_is_array(json_object_get(r, "return")),
			      "reply %d", i);
		json_decref(r);
	}
	pthread_join(t, NULL);
	free(p.buf);
	assert_alive(c);
	cl_close(c);
}
END_TEST

struct emitter {
	int n;
};

static void *emitter_thread(void *opaque)
{
	struct emitter *e = opaque;
	int i;

	for (i = 0; i < e->n; i++) {
		qmp_server_emit(srv, "TICK", json_pack("{s:i}", "i", i));
		if (i % 100 == 99)
			sleep_ms(1);
	}
	return NULL;
}

/*
 * The same while events flow: output drained by an event's write, not by
 * EPOLLOUT, must still let the throttled input go on (it once stalled).
 */
START_TEST(pipelining_with_events)
{
	enum { N = 20000, EVENTS = 10000 };
	static const char cmd[] = "{\"execute\": \"query-devices\"}";
	struct client *c = cl_open(sock_path);
	struct pipeline p = { .c = c, .len = N * (sizeof(cmd) - 1) };
	struct emitter e = { .n = EVENTS };
	pthread_t tw, te;
	json_t *r;
	int i, ticks;

	p.buf = malloc(p.len);
	for (i = 0; i < N; i++)
		memcpy(p.buf + i * (sizeof(cmd) - 1), cmd, sizeof(cmd) - 1);
	ck_assert_int_eq(pthread_create(&tw, NULL, pipeline_writer, &p), 0);
	ck_assert_int_eq(pthread_create(&te, NULL, emitter_thread, &e), 0);
	for (i = 0; i < N; i++) {
		r = cl_reply(c);
		ck_assert_msg(json_is_array(json_object_get(r, "return")),
			      "reply %d", i);
		json_decref(r);
	}
	pthread_join(tw, NULL);
	pthread_join(te, NULL);
	free(p.buf);
	assert_alive(c);
	for (ticks = json_array_size(c->events); ticks < EVENTS; ticks++) {
		r = cl_event(c, TIMEOUT_MS);
		ck_assert_msg(r != NULL, "%d events of %d", ticks, EVENTS);
		json_decref(r);
	}
	cl_close(c);
}
END_TEST

START_TEST(client_limit)
{
	struct client *c[65];
	json_t *msg;
	int i;

	for (i = 0; i < 64; i++) {
		c[i] = cl_connect(sock_path);
		msg = cl_recv(c[i], TIMEOUT_MS);
		ck_assert_msg(msg != NULL, "client %d: no greeting", i);
		json_decref(msg);
	}
	/* The 65th is closed at once. */
	c[64] = cl_connect(sock_path);
	ck_assert_ptr_null(cl_recv(c[64], TIMEOUT_MS));
	ck_assert(c[64]->eof);
	cl_close(c[64]);
	cl_close(c[0]);
	/* Room again once one has gone. */
	for (i = 0; i < 200; i++) {
		c[0] = cl_connect(sock_path);
		msg = cl_recv(c[0], TIMEOUT_MS);
		if (msg)
			break;
		cl_close(c[0]);
		sleep_ms(10);
	}
	ck_assert_ptr_nonnull(msg);
	json_decref(msg);
	for (i = 0; i < 64; i++)
		cl_close(c[i]);
}
END_TEST

/* ---- The socket file ---------------------------------------------------- */

START_TEST(socket_mode_0600)
{
	static const mode_t masks[] = { 0, 022, 077, 0277 };
	struct error err = { 0 };
	struct qmp_server *s2;
	struct client *c;
	char path[160];
	struct stat st;
	mode_t old;
	size_t i;

	ck_assert_int_eq(stat(sock_path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	for (i = 0; i < ARRAY_SIZE(masks); i++) {
		snprintf(path, sizeof(path), "%s/mode%zu.sock", dir, i);
		old = umask(masks[i]);
		s2 = qmp_server_start(path, &fake_control_ops, &fake, &err);
		umask(old);
		ck_assert_msg(s2 != NULL, "%s", err.msg);
		ck_assert_int_eq(stat(path, &st), 0);
		ck_assert_msg((st.st_mode & 07777) == 0600,
			      "umask %03o: mode %03o", masks[i],
			      st.st_mode & 07777);
		c = cl_open(path);
		cl_close(c);
		qmp_server_stop(s2);
		ck_assert(access(path, F_OK));
	}
}
END_TEST

START_TEST(live_socket_refused)
{
	struct error err = { 0 };
	struct client *c;

	c = cl_open(sock_path);
	ck_assert_ptr_null(qmp_server_start(sock_path, &fake_control_ops,
					    &fake, &err));
	ck_assert_int_eq(err.code, -EADDRINUSE);
	ck_assert_msg(strstr(err.msg, "in use"), "%s", err.msg);
	ck_assert_msg(strstr(err.msg, sock_path), "%s", err.msg);
	/* Neither the file nor the first server were disturbed. */
	assert_alive(c);
	cl_close(c);
	c = cl_open(sock_path);
	assert_alive(c);
	cl_close(c);
}
END_TEST

START_TEST(stale_socket_replaced)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct error err = { 0 };
	struct qmp_server *s2;
	struct client *c;
	char longp[200];
	struct stat st;
	int fd;

	/* A socket file nobody listens on any more. */
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/stale.sock", dir);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	ck_assert_int_eq(listen(fd, 1), 0);
	close(fd);
	ck_assert_int_eq(stat(addr.sun_path, &st), 0);
	s2 = qmp_server_start(addr.sun_path, &fake_control_ops, &fake, &err);
	ck_assert_msg(s2 != NULL, "%s", err.msg);
	c = cl_open(addr.sun_path);
	assert_alive(c);
	cl_close(c);
	qmp_server_stop(s2);
	ck_assert(access(addr.sun_path, F_OK));

	/* Something else than a socket is never replaced. */
	fd = open(addr.sun_path, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_ptr_null(qmp_server_start(addr.sun_path, &fake_control_ops,
					    &fake, &err));
	ck_assert_int_eq(err.code, -EEXIST);
	ck_assert_msg(strstr(err.msg, "not a socket"), "%s", err.msg);
	ck_assert_int_eq(stat(addr.sun_path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));

	/* A file put in the socket's place is not removed at stop. */
	unlink(addr.sun_path);
	s2 = qmp_server_start(addr.sun_path, &fake_control_ops, &fake, &err);
	ck_assert_msg(s2 != NULL, "%s", err.msg);
	unlink(addr.sun_path);
	fd = open(addr.sun_path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	qmp_server_stop(s2);
	ck_assert_int_eq(stat(addr.sun_path, &st), 0);
	unlink(addr.sun_path);

	/* Paths too long for a socket, and directories that are not there. */
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	ck_assert_ptr_null(qmp_server_start(longp, &fake_control_ops, &fake,
					    &err));
	ck_assert_int_eq(err.code, -ENAMETOOLONG);
	ck_assert_ptr_null(qmp_server_start("/nonexistent-dir/x.sock",
					    &fake_control_ops, &fake, &err));
	ck_assert_int_eq(err.code, -ENOENT);
}
END_TEST

/* Stopping flushes what is queued: a client sees SHUTDOWN, then EOF. */
START_TEST(stop_flushes_and_closes)
{
	struct fake_control f2;
	struct error err = { 0 };
	struct qmp_server *s2;
	struct client *c;
	char path[160];

	fake_control_init(&f2);
	snprintf(path, sizeof(path), "%s/stop.sock", dir);
	s2 = qmp_server_start(path, &fake_control_ops, &f2, &err);
	ck_assert_msg(s2 != NULL, "%s", err.msg);
	c = cl_open(path);
	qmp_server_emit(s2, "SHUTDOWN", json_pack("{s:b, s:s}", "guest", true,
						  "reason", "guest-shutdown"));
	qmp_server_stop(s2);
	expect_event(c, "SHUTDOWN", "{\"guest\": true, \"reason\": \"guest-shutdown\"}");
	ck_assert_ptr_null(cl_recv(c, TIMEOUT_MS));
	ck_assert(c->eof);
	ck_assert(access(path, F_OK));
	cl_close(c);
	fake_control_fini(&f2);
}
END_TEST

static Suite *qmp_suite(void)
{
	Suite *s = suite_create("qmp");
	TCase *tc;

	tc = tcase_create("protocol");
	tcase_add_checked_fixture(tc, server_setup, server_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, greeting_shape);
	tcase_add_test(tc, commands_before_negotiation);
	tcase_add_test(tc, every_command);
	tcase_add_test(tc, operation_failures);
	tcase_add_test(tc, missing_operations);
	tcase_add_test(tc, ids_echoed);
	tcase_add_test(tc, events_to_negotiated_clients);
	tcase_add_test(tc, clients_at_once);
	suite_add_tcase(s, tc);

	tc = tcase_create("bad_input");
	tcase_add_checked_fixture(tc, server_setup, server_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, invalid_json_then_valid);
	tcase_add_test(tc, wrong_types);
	tcase_add_test(tc, unknown_and_missing_arguments);
	tcase_add_test(tc, oversized_messages);
	tcase_add_test(tc, deep_nesting);
	tcase_add_test(tc, several_commands_in_one_write);
	tcase_add_test(tc, command_split_bytewise);
	tcase_add_test(tc, non_object_values);
	tcase_add_test(tc, disconnect_mid_message);
	tcase_add_test(tc, slow_reader_dropped);
	tcase_add_test(tc, pipelining_without_reading);
	tcase_add_test(tc, pipelining_with_events);
	tcase_add_test(tc, client_limit);
	suite_add_tcase(s, tc);

	tc = tcase_create("socket");
	tcase_add_checked_fixture(tc, server_setup, server_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, socket_mode_0600);
	tcase_add_test(tc, live_socket_refused);
	tcase_add_test(tc, stale_socket_replaced);
	tcase_add_test(tc, stop_flushes_and_closes);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(qmp_suite)
