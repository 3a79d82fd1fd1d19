// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control socket: a QMP server on a Unix stream socket.
 *
 * The protocol is QEMU's, so that existing QMP clients work unchanged
 * (QEMU's docs/interop/qmp-spec.rst): a greeting, capabilities
 * negotiation, then commands answered in order, with asynchronous events
 * in between.  jansson parses and prints; the only thing done by hand
 * here is framing, finding where one top-level JSON value ends in the
 * byte stream (the scanner below tracks brackets, strings and escapes,
 * nothing more) so that a complete value can be handed to json_loadb().
 *
 * One thread serves every client from an epoll loop.  It is a QSBR
 * reader, offline while it waits, because the control operations it
 * calls may walk RCU-protected state.  vCPU threads never serve the
 * socket.  Events come from any thread through qmp_server_emit(), which
 * queues them and wakes the server thread through an eventfd.
 *
 * Limits, each a defence against a client that does not play along
 * (documented for users in include/flatvm/control.h):
 *  - a message is at most QMP_MAX_MESSAGE bytes: a longer one is
 *    discarded up to its end (framing is kept: the scanner follows it
 *    without storing it) and answered with an error;
 *  - nesting is at most QMP_MAX_DEPTH levels, counted by the scanner
 *    without recursion; deeper input is discarded the same way;
 *  - a raw control character (other than tab, CR, LF) or a 0xff byte
 *    abandons the message in progress and resets the scanner, as QEMU's
 *    lexer does: it is how a client gets a confused parser back;
 *  - while a client has more than QMP_OUTPUT_THROTTLE bytes of replies
 *    unsent, the server stops reading its input (its commands wait in
 *    its socket); output beyond QMP_MAX_OUTPUT unsent bytes (events keep
 *    coming to a client that does not read) drops the client, with a
 *    log line;
 *  - at most QMP_MAX_CLIENTS clients at once; more are closed on accept.
 *
 * The server never blocks on a client: sockets are non-blocking and
 * output that does not fit waits for EPOLLOUT.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <urcu/list.h>

#include "flatvm/compiler.h"
#include "flatvm/control.h"
#include "flatvm/error.h"
#include "flatvm/rcu.h"

#define QMP_MAX_MESSAGE		(64 * 1024)
#define QMP_MAX_DEPTH		64
#define QMP_MAX_OUTPUT		(1024 * 1024)
#define QMP_OUTPUT_THROTTLE	(64 * 1024)
#define QMP_MAX_CLIENTS		64
#define QMP_MAX_QUEUED_EVENTS	65536
#define QMP_READ_CHUNK		(16 * 1024)
#define QMP_EVENT_BATCH		64
#define QMP_BACKLOG		16

/* What query-version and the greeting report: flatvm's version, from
 * project(VERSION) in the top-level CMakeLists.txt. */
#define QMP_VERSION_MAJOR	FLATVM_VERSION_MAJOR
#define QMP_VERSION_MINOR	FLATVM_VERSION_MINOR
#define QMP_VERSION_MICRO	FLATVM_VERSION_PATCH
#define QMP_PACKAGE		"flatvm " FLATVM_VERSION

/* ---- Framing ------------------------------------------------------------ */

enum scan_state {
	SCAN_IDLE,	/* between values: whitespace is skipped */
	SCAN_NESTED,	/* inside an object or array */
	SCAN_STRING,	/* a top-level string */
	SCAN_BARE,	/* a top-level number, literal or garbage */
};

enum scan_result {
	SCAN_MORE,	/* the value goes on */
	SCAN_DONE,	/* this byte ended it */
	SCAN_DONE_BEFORE, /* it ended before this byte: feed it again */
	SCAN_RESET,	/* a byte that cannot be JSON: abandon the value */
};

/*
 * struct qmp_scanner - where the current top-level value starts and ends.
 * @buf: its bytes so far, at most QMP_MAX_MESSAGE of them.
 * @len: its length, bytes kept or not.
 * @depth: brackets open (not bounded by QMP_MAX_DEPTH: it must match).
 * @too_big, @too_deep: a limit was crossed; the value is discarded.
 */
struct qmp_scanner {
	char *buf;
	size_t cap;
	size_t len;
	size_t depth;
	enum scan_state state;
	bool in_string;
	bool escape;
	bool too_big;
	bool too_deep;
};

static bool json_space(unsigned char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* Ends a bare top-level token such as 42 or true. */
static bool json_delimiter(unsigned char ch)
{
	return json_space(ch) || strchr("{}[],:\"", ch);
}

static void scan_append(struct qmp_scanner *sc, unsigned char ch)
{
	size_t cap;
	char *p;

	if (sc->len >= QMP_MAX_MESSAGE || sc->too_big) {
		sc->too_big = true;
		sc->len++;
		return;
	}
	if (sc->len == sc->cap) {
		cap = sc->cap ? sc->cap * 2 : 256;
		if (cap > QMP_MAX_MESSAGE)
			cap = QMP_MAX_MESSAGE;
		p = realloc(sc->buf, cap);
		if (!p) {
			/* Out of memory: treat it as a message too large. */
			sc->too_big = true;
			sc->len++;
			return;
		}
		sc->buf = p;
		sc->cap = cap;
	}
	sc->buf[sc->len++] = ch;
}

static void scan_start(struct qmp_scanner *sc, enum scan_state state)
{
	sc->state = state;
	sc->len = 0;
	sc->depth = state == SCAN_NESTED;
	sc->in_string = state == SCAN_STRING;
	sc->escape = false;
	sc->too_big = false;
	sc->too_deep = false;
}

/* Feed one byte of the stream. */
static enum scan_result scan_byte(struct qmp_scanner *sc, unsigned char ch)
{
	/*
	 * Never valid in JSON, not even inside a string: QEMU's lexer
	 * resets on them, and clients use that to recover.
	 */
	if ((ch < 0x20 && !json_space(ch)) || ch == 0xff)
		return SCAN_RESET;

	switch (sc->state) {
	case SCAN_IDLE:
		if (json_space(ch))
			return SCAN_MORE;
		if (ch == '{' || ch == '[')
			scan_start(sc, SCAN_NESTED);
		else if (ch == '"')
			scan_start(sc, SCAN_STRING);
		else
			scan_start(sc, SCAN_BARE);
		scan_append(sc, ch);
		/* A lone '}', ']', ',' or ':' is a value (an invalid one). */
		return sc->state == SCAN_BARE && json_delimiter(ch) ?
		       SCAN_DONE : SCAN_MORE;
	case SCAN_BARE:
		if (json_delimiter(ch))
			return SCAN_DONE_BEFORE;
		scan_append(sc, ch);
		return SCAN_MORE;
	case SCAN_STRING:
	case SCAN_NESTED:
		scan_append(sc, ch);
		break;
	}

	if (sc->in_string) {
		if (sc->escape)
			sc->escape = false;
		else if (ch == '\\')
			sc->escape = true;
		else if (ch == '"') {
			sc->in_string = false;
			if (sc->state == SCAN_STRING)
				return SCAN_DONE;
		}
		return SCAN_MORE;
	}
	switch (ch) {
	case '"':
		sc->in_string = true;
		break;
	case '{':
	case '[':
		if (++sc->depth > QMP_MAX_DEPTH)
			sc->too_deep = true;
		break;
	case '}':
	case ']':
		if (--sc->depth == 0)
			return SCAN_DONE;
		break;
	}
	return SCAN_MORE;
}

/* ---- Server state ------------------------------------------------------- */

struct qmp_server;

/*
 * struct qmp_client - one connection.  Touched by the server thread only.
 * @rbuf, @rpos, @rlen: bytes read and not yet scanned (kept while the
 *	client is throttled).
 * @out, @out_head, @out_tail: output not yet accepted by the socket.
 * @eof: the peer shut its sending side: finish what it sent, flush, close.
 * @dead: closed; freed at the end of the loop iteration, so that events
 *	already returned by epoll_wait() never reach freed memory.
 */
struct qmp_client {
	struct cds_list_head link;
	struct qmp_server *s;
	int fd;
	unsigned id;
	uint32_t events;
	bool negotiated;
	bool eof;
	bool dead;
	struct qmp_scanner sc;
	size_t rpos, rlen;
	char *out;
	size_t out_head, out_tail, out_cap;
	char rbuf[QMP_READ_CHUNK];
};

/* An event, already printed, on its way to the server thread. */
struct qmp_event {
	struct cds_list_head link;
	size_t len;
	char text[];
};

struct qmp_server {
	const struct control_ops *ops;
	void *opaque;
	char *path;
	dev_t sock_dev;
	ino_t sock_ino;
	int listen_fd;
	int epfd;
	int wake_fd;
	pthread_t thread;

	/* Server thread only. */
	struct cds_list_head clients;
	struct cds_list_head dead;
	unsigned nr_clients;
	unsigned next_id;

	/* lock protects events, nr_events and stopping (any thread). */
	pthread_mutex_t lock;
	struct cds_list_head events;
	unsigned nr_events;
	bool stopping;
};

/* ---- Output ------------------------------------------------------------- */

static size_t client_pending(const struct qmp_client *c)
{
	return c->out_tail - c->out_head;
}

static bool client_throttled(const struct qmp_client *c)
{
	return client_pending(c) > QMP_OUTPUT_THROTTLE;
}

static void client_close(struct qmp_client *c, const char *why)
{
	struct qmp_server *s = c->s;

	if (c->dead)
		return;
	if (why)
		pr_warn("qmp: client %u: %s; connection closed", c->id, why);
	else
		pr_debug("qmp: client %u disconnected", c->id);
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	c->dead = true;
	s->nr_clients--;
	cds_list_move(&c->link, &s->dead);
}

/*
 * Register interest in what @c can do next.  EPOLLOUT also stands for
 * "come back when output has room" while input waits unscanned (a
 * throttled client whose output drained through client_send(), not
 * through EPOLLOUT) and after EOF (the close once all is sent): it fires
 * at once on a writable socket.
 */
static void client_set_events(struct qmp_client *c)
{
	struct epoll_event ev = { .data.ptr = c };
	uint32_t want = 0;

	if (!c->eof && c->rpos == c->rlen && !client_throttled(c))
		want |= EPOLLIN;
	if (client_pending(c) || c->rpos < c->rlen || c->eof)
		want |= EPOLLOUT;
	if (want == c->events)
		return;
	ev.events = want;
	if (epoll_ctl(c->s->epfd, EPOLL_CTL_MOD, c->fd, &ev)) {
		client_close(c, "cannot watch its socket");
		return;
	}
	c->events = want;
}

/* Write what the socket takes without blocking. */
static void client_flush(struct qmp_client *c)
{
	ssize_t n;

	while (client_pending(c)) {
		n = send(c->fd, c->out + c->out_head, client_pending(c),
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			client_close(c, NULL);	/* the peer is gone */
			return;
		}
		c->out_head += n;
	}
	if (c->out_head == c->out_tail) {
		c->out_head = c->out_tail = 0;
		/* Give back what a burst took. */
		if (c->out_cap > QMP_OUTPUT_THROTTLE) {
			free(c->out);
			c->out = NULL;
			c->out_cap = 0;
		}
	}
}

/*
 * Queue @len bytes for @c, writing at once what the socket accepts.
 * A client that lets more than QMP_MAX_OUTPUT bytes pile up is dropped;
 * a single message larger than that is still sent to a client that has
 * nothing pending.
 */
static void client_send(struct qmp_client *c, const char *text, size_t len)
{
	size_t pending, cap;
	char *p;

	if (c->dead)
		return;
	/* Make room first: a client that reads keeps up even in a burst. */
	if (client_pending(c)) {
		client_flush(c);
		if (c->dead)
			return;
	}
	pending = client_pending(c);
	if (pending && pending + len > QMP_MAX_OUTPUT) {
		pr_warn("qmp: client %u does not read its replies and events (%zu bytes unsent, limit %d); dropping it",
			c->id, pending, QMP_MAX_OUTPUT);
		client_close(c, NULL);
		return;
	}
	if (c->out_tail + len > c->out_cap && c->out_head) {
		memmove(c->out, c->out + c->out_head, pending);
		c->out_head = 0;
		c->out_tail = pending;
	}
	if (c->out_tail + len > c->out_cap) {
		cap = c->out_cap ? c->out_cap : 4096;
		while (cap < c->out_tail + len)
			cap *= 2;
		p = realloc(c->out, cap);
		if (!p) {
			client_close(c, "out of memory for its output");
			return;
		}
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_tail, text, len);
	c->out_tail += len;
	if (!pending)
		client_flush(c);
	if (!c->dead)
		client_set_events(c);
}

/* Print @msg (a reference is stolen) as one line, QEMU-style (CRLF). */
static void client_send_json(struct qmp_client *c, json_t *msg)
{
	char *text = NULL, *line;
	size_t len;

	if (msg)
		text = json_dumps(msg, JSON_PRESERVE_ORDER);
	json_decref(msg);
	/* json_dumps() escapes newlines in strings: one line per message. */
	len = text ? strlen(text) : 0;
	line = text ? realloc(text, len + 2) : NULL;
	if (!line) {
		free(text);
		client_close(c, "out of memory for a reply");
		return;
	}
	memcpy(line + len, "\r\n", 2);
	client_send(c, line, len + 2);
	free(line);
}

/* ---- Replies ------------------------------------------------------------ */

#define QMP_GENERIC		"GenericError"
#define QMP_NOT_FOUND		"CommandNotFound"
#define QMP_NO_DEVICE		"DeviceNotFound"

/* What a command answers when it fails. */
struct qmp_error {
	const char *class;
	char desc[ERROR_MSG_MAX + 128];
};

static json_t *qmp_fail(struct qmp_error *qe, const char *class,
			const char *fmt, ...) __printf(3, 4);

static json_t *qmp_fail(struct qmp_error *qe, const char *class,
			const char *fmt, ...)
{
	va_list ap;

	qe->class = class;
	va_start(ap, fmt);
	vsnprintf(qe->desc, sizeof(qe->desc), fmt, ap);
	va_end(ap);
	return NULL;
}

/* {"return": @ret, "id": @id}; @ret is stolen, @id borrowed (or NULL). */
static void client_return(struct qmp_client *c, json_t *ret, json_t *id)
{
	json_t *msg = json_object();

	if (msg) {
		json_object_set_new(msg, "return", ret);
		if (id)
			json_object_set(msg, "id", id);
	} else {
		json_decref(ret);
	}
	client_send_json(c, msg);
}

static void client_error(struct qmp_client *c, const struct qmp_error *qe,
			 json_t *id)
{
	json_t *msg = json_pack("{s:{s:s, s:s}}", "error", "class", qe->class,
				"desc", qe->desc);

	if (msg && id)
		json_object_set(msg, "id", id);
	client_send_json(c, msg);
}

static void client_errorf(struct qmp_client *c, json_t *id,
			  const char *class, const char *fmt, ...)
	__printf(4, 5);

static void client_errorf(struct qmp_client *c, json_t *id,
			  const char *class, const char *fmt, ...)
{
	struct qmp_error qe = { .class = class };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(qe.desc, sizeof(qe.desc), fmt, ap);
	va_end(ap);
	client_error(c, &qe, id);
}

/* ---- Commands ----------------------------------------------------------- */

enum qmp_type {
	QMP_BOOL,
	QMP_STRING,
	QMP_STRING_LIST,
};

struct qmp_param {
	const char *name;
	enum qmp_type type;
	bool required;
};

/*
 * struct qmp_command - one entry of the closed set of commands.
 * @op: offset in struct control_ops of the operation it needs (the
 *	command does not exist when the machine leaves it NULL), or
 *	QMP_NO_OP.
 * @params: its arguments; @open: others are allowed too and left to the
 *	operation (device_add's driver properties).
 */
struct qmp_command {
	const char *name;
	json_t *(*run)(struct qmp_client *c, json_t *args,
		       struct qmp_error *qe);
	size_t op;
	const struct qmp_param *params;
	bool open;
};

#define QMP_NO_OP	((size_t)-1)
#define QMP_OP(field)	offsetof(struct control_ops, field)

static bool qmp_op_present(const struct control_ops *ops, size_t op)
{
	void (*fn)(void);

	if (op == QMP_NO_OP)
		return true;
	/* Every member of struct control_ops is a function pointer. */
	memcpy(&fn, (const char *)ops + op, sizeof(fn));
	return fn != NULL;
}

static const char *qmp_type_name(enum qmp_type type)
{
	switch (type) {
	case QMP_BOOL:
		return "boolean";
	case QMP_STRING:
		return "string";
	case QMP_STRING_LIST:
		return "array of strings";
	}
	return "?";
}

static bool qmp_type_ok(enum qmp_type type, json_t *v)
{
	size_t i;
	json_t *e;

	switch (type) {
	case QMP_BOOL:
		return json_is_boolean(v);
	case QMP_STRING:
		return json_is_string(v);
	case QMP_STRING_LIST:
		if (!json_is_array(v))
			return false;
		json_array_foreach(v, i, e)
			if (!json_is_string(e))
				return false;
		return true;
	}
	return false;
}

/* Check @args against @cmd's parameters, QEMU's wording on failure. */
static bool qmp_check_args(const struct qmp_command *cmd, json_t *args,
			   struct qmp_error *qe)
{
	const struct qmp_param *p;
	const char *key;
	json_t *v;

	json_object_foreach(args, key, v) {
		for (p = cmd->params; p && p->name; p++)
			if (!strcmp(p->name, key))
				break;
		if (!p || !p->name) {
			if (cmd->open)
				continue;
			qmp_fail(qe, QMP_GENERIC,
				 "Parameter '%s' is unexpected", key);
			return false;
		}
		if (!qmp_type_ok(p->type, v)) {
			qmp_fail(qe, QMP_GENERIC,
				 "Invalid parameter type for '%s', expected: %s",
				 key, qmp_type_name(p->type));
			return false;
		}
	}
	for (p = cmd->params; p && p->name; p++) {
		if (p->required && !json_object_get(args, p->name)) {
			qmp_fail(qe, QMP_GENERIC, "Parameter '%s' is missing",
				 p->name);
			return false;
		}
	}
	return true;
}

/* A failed operation: its message, or the errno's. */
static json_t *qmp_op_failed(struct qmp_error *qe, const char *what, int ret,
			     const struct error *err)
{
	if (err->msg[0])
		return qmp_fail(qe, QMP_GENERIC, "%s", err->msg);
	return qmp_fail(qe, QMP_GENERIC, "%s failed: %s", what,
			strerror(ret < 0 ? -ret : EIO));
}

static json_t *qmp_op_json(json_t *ret, const char *what,
			   struct qmp_error *qe)
{
	return ret ? ret : qmp_fail(qe, QMP_GENERIC, "%s failed", what);
}

static json_t *cmd_qmp_capabilities(struct qmp_client *c, json_t *args,
				    struct qmp_error *qe)
{
	json_t *enable = json_object_get(args, "enable");

	if (c->negotiated)
		return qmp_fail(qe, QMP_NOT_FOUND,
				"Capabilities negotiation is already complete, command ignored");
	/* We offer none (no "oob"): asking for one is an error. */
	if (json_array_size(enable))
		return qmp_fail(qe, QMP_GENERIC, "Capability '%s' not available",
				json_string_value(json_array_get(enable, 0)));
	c->negotiated = true;
	return json_object();
}

static json_t *cmd_query_version(struct qmp_client *c, json_t *args,
				 struct qmp_error *qe)
{
	return json_pack("{s:{s:i, s:i, s:i}, s:s}", "qemu",
			 "micro", QMP_VERSION_MICRO, "minor", QMP_VERSION_MINOR,
			 "major", QMP_VERSION_MAJOR, "package", QMP_PACKAGE);
}

/* After the table it lists. */
static json_t *cmd_query_commands(struct qmp_client *c, json_t *args,
				  struct qmp_error *qe);

static json_t *cmd_query_status(struct qmp_client *c, json_t *args,
				struct qmp_error *qe)
{
	struct qmp_server *s = c->s;

	return qmp_op_json(s->ops->query_status(s->opaque), "query-status", qe);
}

static json_t *cmd_query_devices(struct qmp_client *c, json_t *args,
				 struct qmp_error *qe)
{
	struct qmp_server *s = c->s;

	return qmp_op_json(s->ops->query_devices(s->opaque), "query-devices",
			   qe);
}

static json_t *cmd_query_mtree(struct qmp_client *c, json_t *args,
			       struct qmp_error *qe)
{
	struct qmp_server *s = c->s;
	bool flat = json_is_true(json_object_get(args, "flat"));

	return qmp_op_json(s->ops->query_mtree(s->opaque, flat), "query-mtree",
			   qe);
}

static json_t *cmd_query_stats(struct qmp_client *c, json_t *args,
			       struct qmp_error *qe)
{
	struct qmp_server *s = c->s;

	return qmp_op_json(s->ops->query_stats(s->opaque), "query-stats", qe);
}

/*
 * The run-state commands: the operation, then its event.  The event goes
 * through the queue like every other, so the client sees the reply first.
 */
static json_t *run_state_op(struct qmp_client *c, const char *what,
			    int (*op)(void *opaque, struct error *err),
			    const char *event, json_t *data,
			    struct qmp_error *qe)
{
	struct qmp_server *s = c->s;
	struct error err = { 0 };
	int ret;

	ret = op(s->opaque, &err);
	if (ret) {
		json_decref(data);
		return qmp_op_failed(qe, what, ret, &err);
	}
	qmp_server_emit(s, event, data);
	return json_object();
}

static json_t *cmd_stop(struct qmp_client *c, json_t *args,
			struct qmp_error *qe)
{
	return run_state_op(c, "stop", c->s->ops->stop, "STOP", NULL, qe);
}

static json_t *cmd_cont(struct qmp_client *c, json_t *args,
			struct qmp_error *qe)
{
	return run_state_op(c, "cont", c->s->ops->cont, "RESUME", NULL, qe);
}

static json_t *cmd_quit(struct qmp_client *c, json_t *args,
			struct qmp_error *qe)
{
	return run_state_op(c, "quit", c->s->ops->quit, "SHUTDOWN",
			    json_pack("{s:b, s:s}", "guest", false, "reason",
				      "host-qmp-quit"), qe);
}

static json_t *cmd_system_reset(struct qmp_client *c, json_t *args,
				struct qmp_error *qe)
{
	return run_state_op(c, "system_reset", c->s->ops->system_reset,
			    "RESET", json_pack("{s:b, s:s}", "guest", false,
					       "reason", "host-qmp-system-reset"),
			    qe);
}

static json_t *cmd_device_add(struct qmp_client *c, json_t *args,
			      struct qmp_error *qe)
{
	struct qmp_server *s = c->s;
	struct error err = { 0 };
	int ret;

	ret = s->ops->device_add(s->opaque, args, &err);
	if (ret)
		return qmp_op_failed(qe, "device_add", ret, &err);
	return json_object();
}

static json_t *cmd_device_del(struct qmp_client *c, json_t *args,
			      struct qmp_error *qe)
{
	const char *id = json_string_value(json_object_get(args, "id"));
	struct qmp_server *s = c->s;
	struct error err = { 0 };
	int ret;

	ret = s->ops->device_del(s->opaque, id, &err);
	if (ret == -ENODEV)
		return qmp_fail(qe, QMP_NO_DEVICE, "Device '%s' not found", id);
	if (ret == -EINPROGRESS && !err.msg[0])
		return qmp_fail(qe, QMP_GENERIC,
				"Device %s is already in the process of unplug",
				id);
	if (ret)
		return qmp_op_failed(qe, "device_del", ret, &err);
	return json_object();
}

static const struct qmp_param capabilities_params[] = {
	{ .name = "enable", .type = QMP_STRING_LIST },
	{ }
};

static const struct qmp_param mtree_params[] = {
	{ .name = "flat", .type = QMP_BOOL },
	{ }
};

static const struct qmp_param device_add_params[] = {
	{ .name = "driver", .type = QMP_STRING, .required = true },
	{ .name = "id", .type = QMP_STRING, .required = true },
	{ }
};

static const struct qmp_param device_del_params[] = {
	{ .name = "id", .type = QMP_STRING, .required = true },
	{ }
};

static const struct qmp_command qmp_commands[] = {
	{
		.name = "qmp_capabilities",
		.run = cmd_qmp_capabilities,
		.op = QMP_NO_OP,
		.params = capabilities_params,
	}, {
		.name = "query-version",
		.run = cmd_query_version,
		.op = QMP_NO_OP,
	}, {
		.name = "query-commands",
		.run = cmd_query_commands,
		.op = QMP_NO_OP,
	}, {
		.name = "query-status",
		.run = cmd_query_status,
		.op = QMP_OP(query_status),
	}, {
		.name = "stop",
		.run = cmd_stop,
		.op = QMP_OP(stop),
	}, {
		.name = "cont",
		.run = cmd_cont,
		.op = QMP_OP(cont),
	}, {
		.name = "system_reset",
		.run = cmd_system_reset,
		.op = QMP_OP(system_reset),
	}, {
		.name = "quit",
		.run = cmd_quit,
		.op = QMP_OP(quit),
	}, {
		.name = "query-devices",
		.run = cmd_query_devices,
		.op = QMP_OP(query_devices),
	}, {
		.name = "query-mtree",
		.run = cmd_query_mtree,
		.op = QMP_OP(query_mtree),
		.params = mtree_params,
	}, {
		.name = "query-stats",
		.run = cmd_query_stats,
		.op = QMP_OP(query_stats),
	}, {
		.name = "device_add",
		.run = cmd_device_add,
		.op = QMP_OP(device_add),
		.params = device_add_params,
		.open = true,
	}, {
		.name = "device_del",
		.run = cmd_device_del,
		.op = QMP_OP(device_del),
		.params = device_del_params,
	},
	{ }
};

static json_t *cmd_query_commands(struct qmp_client *c, json_t *args,
				  struct qmp_error *qe)
{
	const struct qmp_command *cmd;
	json_t *list = json_array();

	for (cmd = qmp_commands; list && cmd->name; cmd++)
		if (qmp_op_present(c->s->ops, cmd->op))
			json_array_append_new(list,
					      json_pack("{s:s}", "name", cmd->name));
	return list;
}

static const struct qmp_command *qmp_find(const struct control_ops *ops,
					  const char *name)
{
	const struct qmp_command *cmd;

	for (cmd = qmp_commands; cmd->name; cmd++)
		if (!strcmp(cmd->name, name))
			return qmp_op_present(ops, cmd->op) ? cmd : NULL;
	return NULL;
}

/* One request object: check its shape, run it, answer. */
static void qmp_dispatch(struct qmp_client *c, json_t *req)
{
	json_t *id = json_object_get(req, "id"), *exec, *args, *ret, *v;
	const struct qmp_command *cmd;
	struct qmp_error qe = { 0 };
	const char *key, *name;

	json_object_foreach(req, key, v) {
		if (strcmp(key, "execute") && strcmp(key, "arguments") &&
		    strcmp(key, "id")) {
			client_errorf(c, id, QMP_GENERIC,
				      "QMP input member '%s' is unexpected", key);
			return;
		}
	}
	exec = json_object_get(req, "execute");
	if (!exec) {
		client_errorf(c, id, QMP_GENERIC,
			      "QMP input lacks member 'execute'");
		return;
	}
	if (!json_is_string(exec)) {
		client_errorf(c, id, QMP_GENERIC,
			      "QMP input member 'execute' must be a string");
		return;
	}
	args = json_object_get(req, "arguments");
	if (args && !json_is_object(args)) {
		client_errorf(c, id, QMP_GENERIC,
			      "QMP input member 'arguments' must be an object");
		return;
	}
	name = json_string_value(exec);
	if (!c->negotiated && strcmp(name, "qmp_capabilities")) {
		client_errorf(c, id, QMP_NOT_FOUND,
			      "Expecting capabilities negotiation with 'qmp_capabilities'");
		return;
	}
	cmd = qmp_find(c->s->ops, name);
	if (!cmd) {
		client_errorf(c, id, QMP_NOT_FOUND,
			      "The command %s has not been found", name);
		return;
	}
	/* The commands see an object, empty when none was given. */
	args = args ? json_incref(args) : json_object();
	if (!args) {
		client_close(c, "out of memory");
		return;
	}
	ret = NULL;
	if (qmp_check_args(cmd, args, &qe)) {
		ret = cmd->run(c, args, &qe);
		if (!ret && !qe.class)
			qmp_fail(&qe, QMP_GENERIC, "%s: out of memory", name);
	}
	json_decref(args);
	if (ret)
		client_return(c, ret, id);
	else
		client_error(c, &qe, id);
}

/* The scanner completed a value: parse it and answer it. */
static void client_message(struct qmp_client *c)
{
	struct qmp_scanner *sc = &c->sc;
	json_error_t jerr;
	json_t *req;

	if (sc->too_big) {
		client_errorf(c, NULL, QMP_GENERIC,
			      "JSON parse error, message longer than %d bytes",
			      QMP_MAX_MESSAGE);
		return;
	}
	if (sc->too_deep) {
		client_errorf(c, NULL, QMP_GENERIC,
			      "JSON parse error, nesting deeper than %d levels",
			      QMP_MAX_DEPTH);
		return;
	}
	req = json_loadb(sc->buf, sc->len,
			 JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
	if (!req) {
		client_errorf(c, NULL, QMP_GENERIC, "JSON parse error, %s",
			      jerr.text);
		return;
	}
	if (json_is_object(req))
		qmp_dispatch(c, req);
	else
		client_errorf(c, NULL, QMP_GENERIC,
			      "QMP input must be a JSON object");
	json_decref(req);
}

static bool qmp_deliver_events(struct qmp_server *s, unsigned max);

/*
 * Scan what was read, answering each complete value, until throttled.
 * The events a command raised follow its reply (as far as a batch goes).
 */
static void client_process(struct qmp_client *c)
{
	enum scan_result r;
	unsigned char ch;

	while (c->rpos < c->rlen && !c->dead && !client_throttled(c)) {
		ch = c->rbuf[c->rpos];
		r = scan_byte(&c->sc, ch);
		if (r != SCAN_DONE_BEFORE)
			c->rpos++;
		switch (r) {
		case SCAN_MORE:
			break;
		case SCAN_RESET:
			c->sc.state = SCAN_IDLE;
			client_errorf(c, NULL, QMP_GENERIC,
				      "JSON parse error, invalid byte 0x%02x (input discarded up to it)",
				      ch);
			break;
		case SCAN_DONE:
		case SCAN_DONE_BEFORE:
			c->sc.state = SCAN_IDLE;
			client_message(c);
			if (qmp_deliver_events(c->s, QMP_EVENT_BATCH))
				eventfd_write(c->s->wake_fd, 1);
			break;
		}
	}
	if (c->rpos == c->rlen)
		c->rpos = c->rlen = 0;
}

static void client_read(struct qmp_client *c)
{
	ssize_t n;

	do {
		n = recv(c->fd, c->rbuf, sizeof(c->rbuf), MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n > 0) {
		c->rpos = 0;
		c->rlen = n;
	} else if (n == 0) {
		/* What it sent is answered; a partial value is dropped. */
		c->eof = true;
	} else if (errno != EAGAIN && errno != EWOULDBLOCK) {
		client_close(c, NULL);
	}
}

static void client_event(struct qmp_client *c, uint32_t events)
{
	if (c->dead)
		return;
	if (events & EPOLLERR) {
		client_close(c, NULL);
		return;
	}
	/* On a hang-up the write fails and closes the client. */
	if (events & (EPOLLOUT | EPOLLHUP))
		client_flush(c);
	if (!c->dead && (events & (EPOLLIN | EPOLLHUP)) && !c->eof &&
	    c->rpos == c->rlen)
		client_read(c);
	if (!c->dead)
		client_process(c);
	if (c->dead)
		return;
	if (c->eof && c->rpos == c->rlen && !client_pending(c)) {
		client_close(c, NULL);
		return;
	}
	client_set_events(c);
}

static void qmp_accept(struct qmp_server *s)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct qmp_client *c;
	int fd;

	fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
		    errno != ECONNABORTED)
			pr_warn_once("qmp: accept failed: %s", strerror(errno));
		return;
	}
	if (s->nr_clients >= QMP_MAX_CLIENTS) {
		pr_warn_once("qmp: more than %d clients; further connections are closed at once",
			     QMP_MAX_CLIENTS);
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->s = s;
	c->fd = fd;
	c->id = s->next_id++;
	c->events = ev.events;
	ev.data.ptr = c;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		pr_warn_once("qmp: cannot watch a client: %s", strerror(errno));
		close(fd);
		free(c);
		return;
	}
	cds_list_add_tail(&c->link, &s->clients);
	s->nr_clients++;
	pr_debug("qmp: client %u connected", c->id);
	/* The greeting's version is query-version's return, as in QEMU. */
	client_send_json(c, json_pack("{s:{s:o, s:[]}}", "QMP", "version",
				      cmd_query_version(c, NULL, NULL),
				      "capabilities"));
}

static void client_free(struct qmp_client *c)
{
	cds_list_del(&c->link);
	free(c->sc.buf);
	free(c->out);
	free(c);
}

static void qmp_reap(struct qmp_server *s)
{
	struct qmp_client *c, *tmp;

	cds_list_for_each_entry_safe(c, tmp, &s->dead, link)
		client_free(c);
}

/*
 * Send up to @max queued events to every negotiated client, oldest
 * first.  Returns whether more are queued.  Bounded so that the loop
 * gets back to epoll_wait(), and to the clients' EPOLLOUT, during a
 * burst.
 */
static bool qmp_deliver_events(struct qmp_server *s, unsigned max)
{
	struct qmp_client *c, *ctmp;
	struct qmp_event *e, *tmp;
	CDS_LIST_HEAD(list);
	unsigned n = 0;
	bool more;

	pthread_mutex_lock(&s->lock);
	while (n < max && !cds_list_empty(&s->events)) {
		e = cds_list_first_entry(&s->events, struct qmp_event, link);
		cds_list_del(&e->link);
		cds_list_add_tail(&e->link, &list);
		n++;
	}
	s->nr_events -= n;
	more = !cds_list_empty(&s->events);
	pthread_mutex_unlock(&s->lock);

	cds_list_for_each_entry_safe(e, tmp, &list, link) {
		cds_list_for_each_entry_safe(c, ctmp, &s->clients, link)
			if (c->negotiated)
				client_send(c, e->text, e->len);
		free(e);
	}
	return more;
}

static bool qmp_stopping(struct qmp_server *s)
{
	bool stopping;

	pthread_mutex_lock(&s->lock);
	stopping = s->stopping;
	pthread_mutex_unlock(&s->lock);
	return stopping;
}

static void *qmp_thread(void *opaque)
{
	struct qmp_server *s = opaque;
	struct qmp_client *c, *tmp;
	struct epoll_event ev[16];
	bool stopping = false;
	eventfd_t cnt;
	int i, n;

	pthread_setname_np(pthread_self(), "qmp");
	rcu_thread_register();
	while (!stopping) {
		rcu_thread_offline();
		n = epoll_wait(s->epfd, ev, ARRAY_SIZE(ev), -1);
		rcu_thread_online();
		if (n < 0) {
			if (errno == EINTR)
				continue;
			pr_err("qmp: epoll_wait failed: %s; the control socket is no longer served",
			       strerror(errno));
			break;
		}
		for (i = 0; i < n; i++) {
			if (ev[i].data.ptr == &s->wake_fd)
				eventfd_read(s->wake_fd, &cnt);
			else if (ev[i].data.ptr == &s->listen_fd)
				qmp_accept(s);
			else
				client_event(ev[i].data.ptr, ev[i].events);
		}
		/* Come back at once for the rest of a burst. */
		if (qmp_deliver_events(s, QMP_EVENT_BATCH))
			eventfd_write(s->wake_fd, 1);
		stopping = qmp_stopping(s);
		qmp_reap(s);
	}
	/*
	 * Last words: what is queued (a SHUTDOWN, the DEVICE_DELETED of the
	 * machine's teardown) goes out as far as the sockets take it
	 * without blocking.
	 */
	while (qmp_deliver_events(s, QMP_EVENT_BATCH))
		;
	cds_list_for_each_entry_safe(c, tmp, &s->clients, link) {
		client_flush(c);
		client_close(c, NULL);
	}
	qmp_reap(s);
	rcu_thread_unregister();
	return NULL;
}

/* ---- Events ------------------------------------------------------------- */

void qmp_server_emit(struct qmp_server *s, const char *name, json_t *data)
{
	struct qmp_event *e = NULL;
	struct timespec ts;
	char *text = NULL;
	size_t len;
	json_t *ev;

	if (!s) {
		json_decref(data);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	ev = json_pack("{s:s}", "event", name);
	if (ev) {
		if (data)
			json_object_set(ev, "data", data);
		json_object_set_new(ev, "timestamp",
				    json_pack("{s:I, s:I}", "seconds",
					      (json_int_t)ts.tv_sec,
					      "microseconds",
					      (json_int_t)(ts.tv_nsec / 1000)));
		text = json_dumps(ev, JSON_PRESERVE_ORDER);
		json_decref(ev);
	}
	json_decref(data);
	if (!text)
		goto err_lost;
	len = strlen(text);
	e = malloc(sizeof(*e) + len + 2);
	if (!e)
		goto err_lost;
	memcpy(e->text, text, len);
	memcpy(e->text + len, "\r\n", 2);
	e->len = len + 2;
	free(text);

	pthread_mutex_lock(&s->lock);
	if (s->nr_events >= QMP_MAX_QUEUED_EVENTS) {
		pthread_mutex_unlock(&s->lock);
		pr_warn_once("qmp: more than %d events queued; events are being lost",
			     QMP_MAX_QUEUED_EVENTS);
		free(e);
		return;
	}
	cds_list_add_tail(&e->link, &s->events);
	s->nr_events++;
	pthread_mutex_unlock(&s->lock);
	eventfd_write(s->wake_fd, 1);
	return;

err_lost:
	free(text);
	pr_warn_once("qmp: out of memory; event %s lost", name);
}

/* ---- Start and stop ----------------------------------------------------- */

/* Make way for our socket: nothing there, or a socket nobody serves. */
static int qmp_clear_stale(const struct sockaddr_un *addr, struct error *err)
{
	const char *path = addr->sun_path;
	struct stat st;
	int fd, ret, e;

	if (lstat(path, &st)) {
		e = errno;
		if (e == ENOENT)
			return 0;
		return error_setf(err, e, "%s: %s", path, strerror(e));
	}
	if (!S_ISSOCK(st.st_mode))
		return error_setf(err, EEXIST,
				  "%s exists and is not a socket; not replacing it",
				  path);
	/* Non-blocking: a full backlog says EAGAIN, which still means live. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		e = errno;
		return error_setf(err, e, "socket: %s", strerror(e));
	}
	ret = connect(fd, (const struct sockaddr *)addr, sizeof(*addr));
	e = errno;
	close(fd);
	if (!ret || e == EAGAIN || e == EINPROGRESS)
		return error_setf(err, EADDRINUSE,
				  "%s is in use: another process is serving it (is a flatvm already running with this --api-sock?)",
				  path);
	if (e == ENOENT)
		return 0;
	if (e != ECONNREFUSED)
		return error_setf(err, e, "%s: cannot tell whether it is in use: %s",
				  path, strerror(e));
	/* Left behind by a process that is gone: replace it. */
	if (unlink(path) && errno != ENOENT) {
		e = errno;
		return error_setf(err, e, "%s: cannot remove the stale socket: %s",
				  path, strerror(e));
	}
	pr_info("qmp: replaced the stale socket %s", path);
	return 0;
}

static int qmp_listen(struct qmp_server *s, struct error *err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, ret, e;

	if (strlen(s->path) >= sizeof(addr.sun_path))
		return error_setf(err, ENAMETOOLONG,
				  "%s: a Unix socket path is at most %zu bytes long",
				  s->path, sizeof(addr.sun_path) - 1);
	strcpy(addr.sun_path, s->path);
	ret = qmp_clear_stale(&addr, err);
	if (ret)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		e = errno;
		return error_setf(err, e, "socket: %s", strerror(e));
	}
	/*
	 * Linux creates the socket file with the socket inode's mode less
	 * the umask: with 0600 here it is never more open than that, even
	 * for a moment; the chmod() after bind() makes it exactly 0600
	 * whatever the umask took away.
	 */
	if (fchmod(fd, 0600)) {
		e = errno;
		ret = error_setf(err, e, "%s: fchmod: %s", s->path, strerror(e));
		goto err_close;
	}
	if (bind(fd, (const struct sockaddr *)&addr, sizeof(addr))) {
		e = errno;
		ret = error_setf(err, e, "%s: cannot create the socket: %s",
				 s->path, strerror(e));
		goto err_close;
	}
	if (chmod(s->path, 0600) || stat(s->path, &st)) {
		e = errno;
		ret = error_setf(err, e, "%s: chmod: %s", s->path, strerror(e));
		goto err_unlink;
	}
	if (listen(fd, QMP_BACKLOG)) {
		e = errno;
		ret = error_setf(err, e, "%s: listen: %s", s->path, strerror(e));
		goto err_unlink;
	}
	s->sock_dev = st.st_dev;
	s->sock_ino = st.st_ino;
	s->listen_fd = fd;
	return 0;

err_unlink:
	unlink(s->path);
err_close:
	close(fd);
	return ret;
}

/* Remove the socket file, if it is still the one we made. */
static void qmp_unlink(struct qmp_server *s)
{
	struct stat st;

	if (!lstat(s->path, &st) && st.st_dev == s->sock_dev &&
	    st.st_ino == s->sock_ino)
		unlink(s->path);
}

struct qmp_server *qmp_server_start(const char *path,
				    const struct control_ops *ops,
				    void *opaque, struct error *err)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct qmp_server *s;
	int ret, e;

	s = calloc(1, sizeof(*s));
	if (!s) {
		error_setf(err, ENOMEM, "qmp: out of memory");
		return NULL;
	}
	s->path = strdup(path);
	if (!s->path) {
		error_setf(err, ENOMEM, "qmp: out of memory");
		goto err_free;
	}
	s->ops = ops;
	s->opaque = opaque;
	s->listen_fd = s->epfd = s->wake_fd = -1;
	CDS_INIT_LIST_HEAD(&s->clients);
	CDS_INIT_LIST_HEAD(&s->dead);
	CDS_INIT_LIST_HEAD(&s->events);
	pthread_mutex_init(&s->lock, NULL);

	if (qmp_listen(s, err))
		goto err_free_path;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0)
		goto err_errno;
	s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->wake_fd < 0)
		goto err_errno;
	ev.data.ptr = &s->listen_fd;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->listen_fd, &ev))
		goto err_errno;
	ev.data.ptr = &s->wake_fd;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->wake_fd, &ev))
		goto err_errno;
	ret = pthread_create(&s->thread, NULL, qmp_thread, s);
	if (ret) {
		error_setf(err, ret, "qmp: cannot start its thread: %s",
			   strerror(ret));
		goto err_close;
	}
	return s;

err_errno:
	e = errno;
	error_setf(err, e, "qmp: %s", strerror(e));
err_close:
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	if (s->epfd >= 0)
		close(s->epfd);
	close(s->listen_fd);
	qmp_unlink(s);
err_free_path:
	pthread_mutex_destroy(&s->lock);
	free(s->path);
err_free:
	free(s);
	return NULL;
}

void qmp_server_stop(struct qmp_server *s)
{
	struct qmp_event *e, *tmp;

	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	pthread_mutex_unlock(&s->lock);
	eventfd_write(s->wake_fd, 1);
	pthread_join(s->thread, NULL);

	/* Events emitted after the thread's last delivery. */
	cds_list_for_each_entry_safe(e, tmp, &s->events, link)
		free(e);
	close(s->wake_fd);
	close(s->epfd);
	close(s->listen_fd);
	qmp_unlink(s);
	pthread_mutex_destroy(&s->lock);
	free(s->path);
	free(s);
}
