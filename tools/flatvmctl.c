// SPDX-License-Identifier: GPL-2.0-only
/*
 * flatvmctl: drive a running flatvm through its control socket
 * (`flatvm run --api-sock PATH`).  It speaks QMP, so it works against
 * anything that does (QEMU included, for the commands they share): it
 * reads the greeting, negotiates capabilities, sends one command with an
 * id and waits for the reply carrying that id, keeping the events that
 * arrive meanwhile.
 *
 * Output is for people by default (a devices table, the region tree as
 * text, stats as indented lines and a table of exit times); --json prints the command's return
 * value as one line of JSON, for scripts.
 *
 * Exit status: 0 done; 1 the command failed (the server's error text on
 * stderr), timed out or lost the connection; 2 a usage error; 3 the
 * socket cannot be reached.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#define EXIT_FAILED	1
#define EXIT_USAGE	2
#define EXIT_UNREACHABLE 3

#define DEFAULT_TIMEOUT	30.0
/* Far above anything flatvm sends (its query-mtree is the largest). */
#define MAX_LINE	(64 * 1024 * 1024)

static const char usage_text[] =
	"usage: flatvmctl --sock PATH [--json] [--timeout SECONDS] COMMAND [ARGS]\n"
	"\n"
	"Drive a running flatvm (flatvm run --api-sock PATH) over its QMP socket.\n"
	"\n"
	"commands:\n"
	"  status                         run state: running, paused, ...\n"
	"  pause                          stop the vCPUs (QMP stop)\n"
	"  resume                         let them run again (QMP cont)\n"
	"  reset                          reset the machine (QMP system_reset)\n"
	"  quit                           end the VM\n"
	"  devices                        table of devices and their regions\n"
	"  device-add DRIVER [PROPS]      plug a device; PROPS is id=ID,KEY=VALUE,...\n"
	"                                 (several arguments are joined; on/off/\n"
	"                                 true/false/yes/no are sent as booleans,\n"
	"                                 everything else as a string; ',,' is a\n"
	"                                 literal comma)\n"
	"  device-del ID [--wait] [--timeout SECONDS]\n"
	"                                 unplug; --wait returns only when\n"
	"                                 DEVICE_DELETED for ID has arrived\n"
	"  mtree [-f]                     memory region tree; -f: the flat views\n"
	"  stats                          exits by reason, access counts, time\n"
	"                                 per exit (p50/p90/p99) by kind\n"
	"  version                        the server's version\n"
	"  events                         print events as they come, until the\n"
	"                                 server closes or Ctrl-C\n"
	"  raw JSON                       send a command object as it is, e.g.\n"
	"                                 '{\"execute\": \"query-status\"}'\n"
	"\n"
	"options:\n"
	"  --sock PATH                    the control socket (required)\n"
	"  --json                         print the return value as JSON (events:\n"
	"                                 each event as one line of JSON)\n"
	"  --timeout SECONDS              how long to wait for a reply or for\n"
	"                                 DEVICE_DELETED (default 30)\n"
	"  --help                         this text\n"
	"\n"
	"examples:\n"
	"  flatvmctl --sock /tmp/vm.sock device-add virtio-blk id=d1,file=disk.img,readonly=on\n"
	"  flatvmctl --sock /tmp/vm.sock device-del d1 --wait\n"
	"\n"
	"exit status: 0 done, 1 the command failed (the server's message on\n"
	"stderr), 2 usage error, 3 the socket cannot be reached.\n";

struct ctl {
	const char *sock;
	bool json;
	double timeout;
	int fd;
	json_int_t next_id;
	json_t *events;		/* events read while awaiting a reply */
	char *buf;
	size_t len, cap;
};

static volatile sig_atomic_t interrupted;

static void __attribute__((noreturn, format(printf, 2, 3)))
die(int status, const char *fmt, ...)
{
	va_list ap;

	fputs("flatvmctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

static void __attribute__((noreturn)) usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("flatvmctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'flatvmctl --help'.\n", stderr);
	exit(EXIT_USAGE);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- The connection ---------------------------------------------------- */

static void ctl_connect(struct ctl *c)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	if (strlen(c->sock) >= sizeof(addr.sun_path))
		die(EXIT_UNREACHABLE, "%s: a Unix socket path is at most %zu bytes",
		    c->sock, sizeof(addr.sun_path) - 1);
	strcpy(addr.sun_path, c->sock);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		die(EXIT_FAILED, "socket: %s", strerror(errno));
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr))) {
		int e = errno;

		die(EXIT_UNREACHABLE, "cannot connect to %s: %s%s", c->sock,
		    strerror(e),
		    e == ENOENT || e == ECONNREFUSED ?
		    " (is flatvm running with --api-sock pointing there?)" : "");
	}
}

/*
 * The next message, or NULL at EOF.  @deadline is a CLOCK_MONOTONIC time
 * (or 0: none); passing it is an error.  QMP servers send one message a
 * line (QEMU and flatvm both end them with CRLF).
 */
static json_t *ctl_recv(struct ctl *c, double deadline)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	json_error_t jerr;
	json_t *msg;
	char *nl;
	ssize_t n;
	size_t l;
	int ms;

	for (;;) {
		nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
		if (nl) {
			l = nl - c->buf + 1;
			msg = json_loadb(c->buf, l, JSON_DISABLE_EOF_CHECK,
					 &jerr);
			if (!msg)
				die(EXIT_FAILED, "%s sent something that is not JSON: %s",
				    c->sock, jerr.text);
			memmove(c->buf, c->buf + l, c->len - l);
			c->len -= l;
			if (!json_is_object(msg))
				die(EXIT_FAILED, "%s sent a JSON value that is not an object",
				    c->sock);
			return msg;
		}
		if (c->len == c->cap) {
			if (c->cap >= MAX_LINE)
				die(EXIT_FAILED, "%s sent a line longer than %d bytes",
				    c->sock, MAX_LINE);
			c->cap = c->cap ? c->cap * 2 : 65536;
			c->buf = realloc(c->buf, c->cap);
			if (!c->buf)
				die(EXIT_FAILED, "out of memory");
		}
		ms = -1;
		if (deadline) {
			double left = deadline - now();

			if (left <= 0)
				return NULL;
			ms = (int)(left * 1000) + 1;
		}
		n = poll(&pfd, 1, ms);
		if (n < 0 && errno == EINTR) {
			if (interrupted)
				return NULL;
			continue;
		}
		if (n < 0)
			die(EXIT_FAILED, "poll: %s", strerror(errno));
		if (n == 0)
			continue;	/* the deadline check says */
		n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die(EXIT_FAILED, "%s: %s", c->sock, strerror(errno));
		if (n == 0)
			return NULL;
		c->len += n;
	}
}

static bool timed_out(double deadline)
{
	return deadline && now() >= deadline;
}

static json_t *ctl_recv_or_die(struct ctl *c, double deadline,
			       const char *waiting_for)
{
	json_t *msg = ctl_recv(c, deadline);

	if (msg)
		return msg;
	if (interrupted)
		exit(EXIT_FAILED);
	if (timed_out(deadline))
		die(EXIT_FAILED, "no %s from %s within %g s", waiting_for,
		    c->sock, c->timeout);
	die(EXIT_FAILED, "%s closed the connection while flatvmctl waited for %s",
	    c->sock, waiting_for);
}

static void ctl_send(struct ctl *c, json_t *msg)
{
	char *text = json_dumps(msg, JSON_COMPACT);
	size_t len, off = 0;
	ssize_t n;

	if (!text)
		die(EXIT_FAILED, "out of memory");
	len = strlen(text);
	while (off < len) {
		n = send(c->fd, text + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die(EXIT_FAILED, "%s: %s", c->sock, strerror(errno));
		off += n;
	}
	free(text);
}

/*
 * Send @cmd (an object with "execute"; stolen), give it an id unless it
 * has one, and return the reply with that id.  Events on the way are
 * kept in c->events.
 */
static json_t *ctl_request(struct ctl *c, json_t *cmd)
{
	double deadline = now() + c->timeout;
	json_t *id, *msg;

	id = json_object_get(cmd, "id");
	if (!id) {
		id = json_integer(c->next_id++);
		json_object_set_new(cmd, "id", id);
	}
	json_incref(id);
	ctl_send(c, cmd);
	json_decref(cmd);
	for (;;) {
		msg = ctl_recv_or_die(c, deadline, "reply");
		if (json_object_get(msg, "event")) {
			json_array_append_new(c->events, msg);
			continue;
		}
		if (json_equal(json_object_get(msg, "id"), id))
			break;
		/* An error without id: the server could not read ours. */
		if (!json_object_get(msg, "id") && json_object_get(msg, "error"))
			break;
		json_decref(msg);
	}
	json_decref(id);
	return msg;
}

/* The return value of @msg (borrowed), or exit with its error. */
static json_t *ctl_return(json_t *msg)
{
	json_t *err = json_object_get(msg, "error");
	const char *desc;

	if (err) {
		desc = json_string_value(json_object_get(err, "desc"));
		die(EXIT_FAILED, "%s", desc ? desc : "the server reported an error");
	}
	if (!json_object_get(msg, "return"))
		die(EXIT_FAILED, "a reply with neither return nor error");
	return json_object_get(msg, "return");
}

/* Run @name with @args (stolen; may be NULL); its reply. */
static json_t *ctl_execute(struct ctl *c, const char *name, json_t *args)
{
	json_t *cmd = json_pack("{s:s}", "execute", name);

	if (!cmd)
		die(EXIT_FAILED, "out of memory");
	if (args)
		json_object_set_new(cmd, "arguments", args);
	return ctl_request(c, cmd);
}

static void ctl_open(struct ctl *c)
{
	double deadline = now() + c->timeout;
	json_t *msg;

	ctl_connect(c);
	msg = ctl_recv_or_die(c, deadline, "greeting");
	if (!json_object_get(msg, "QMP"))
		die(EXIT_FAILED, "%s does not speak QMP (no greeting)", c->sock);
	json_decref(msg);
	msg = ctl_execute(c, "qmp_capabilities", NULL);
	ctl_return(msg);
	json_decref(msg);
}

/* ---- Output ------------------------------------------------------------ */

static void print_json_line(json_t *v)
{
	char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	if (!text)
		die(EXIT_FAILED, "out of memory");
	puts(text);
	free(text);
}

static bool is_scalar(json_t *v)
{
	return !json_is_object(v) && !json_is_array(v);
}

static void print_scalar_inline(json_t *v)
{
	char *text;

	if (json_is_string(v)) {
		fputs(json_string_value(v), stdout);
		return;
	}
	text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	fputs(text ? text : "?", stdout);
	free(text);
}

static bool all_scalars(json_t *a)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v)
		if (!is_scalar(v))
			return false;
	return true;
}

static void print_tree(json_t *v, int indent);

/* One object's members; the first line starts with @first (e.g. "- "). */
static void print_members(json_t *obj, int indent, const char *first)
{
	const char *key;
	bool start = true;
	size_t i;
	json_t *v, *e;

	json_object_foreach(obj, key, v) {
		if (start && first)
			printf("%*s%s", indent - (int)strlen(first), "", first);
		else
			printf("%*s", indent, "");
		start = false;
		printf("%s:", key);
		if (is_scalar(v)) {
			putchar(' ');
			print_scalar_inline(v);
			putchar('\n');
		} else if (json_is_array(v) && all_scalars(v)) {
			json_array_foreach(v, i, e) {
				fputs(i ? ", " : " ", stdout);
				print_scalar_inline(e);
			}
			putchar('\n');
		} else if (json_is_object(v) && !json_object_size(v)) {
			puts(" {}");
		} else {
			putchar('\n');
			print_tree(v, indent + 2);
		}
	}
}

/* Any JSON as indented "key: value" lines, arrays as "- " items. */
static void print_tree(json_t *v, int indent)
{
	size_t i;
	json_t *e;

	if (json_is_object(v)) {
		print_members(v, indent, NULL);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			if (json_is_object(e) && json_object_size(e)) {
				print_members(e, indent + 2, "- ");
			} else {
				printf("%*s- ", indent, "");
				if (is_scalar(e))
					print_scalar_inline(e);
				else
					fputs(json_is_array(e) ? "[...]" : "{}",
					      stdout);
				putchar('\n');
			}
		}
	} else {
		printf("%*s", indent, "");
		print_scalar_inline(v);
		putchar('\n');
	}
}

static const char *str_or(json_t *obj, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : dflt;
}

static int width(json_t *list, const char *key, int min)
{
	size_t i;
	json_t *d;
	int w = min, l;

	json_array_foreach(list, i, d) {
		l = (int)strlen(str_or(d, key, "-"));
		if (l > w)
			w = l;
	}
	return w;
}

static void print_count(json_t *d, const char *key, int w)
{
	json_t *v = json_object_get(d, key);

	if (json_is_integer(v))
		printf("  %*" JSON_INTEGER_FORMAT, w, json_integer_value(v));
	else
		printf("  %*s", w, "-");
}

static void print_devices(json_t *list)
{
	int wid = width(list, "id", 2), wdrv = width(list, "driver", 6);
	int wst = width(list, "state", 5);
	json_t *d, *r, *addr;
	size_t i, j;

	if (!json_is_array(list)) {
		print_tree(list, 0);
		return;
	}
	printf("%-*s  %-*s  %-*s  %10s  %10s  %s\n", wid, "ID", wdrv, "DRIVER",
	       wst, "STATE", "READS", "WRITES", "PATH");
	json_array_foreach(list, i, d) {
		printf("%-*s  %-*s  %-*s", wid, str_or(d, "id", "-"), wdrv,
		       str_or(d, "driver", "-"), wst, str_or(d, "state", "-"));
		print_count(d, "reads", 10);
		print_count(d, "writes", 10);
		printf("  %s\n", str_or(d, "path", "-"));
		json_array_foreach(json_object_get(d, "regions"), j, r) {
			if (!json_is_object(r))
				continue;
			addr = json_object_get(r, "address");
			printf("%*s  region %s (%s)", wid, "",
			       str_or(r, "name", "?"), str_or(r, "type", "?"));
			if (json_is_integer(addr))
				printf(" at 0x%" PRIx64,
				       (uint64_t)json_integer_value(addr));
			if (json_is_integer(json_object_get(r, "size")))
				printf(", 0x%" PRIx64 " bytes",
				       (uint64_t)json_integer_value(
					       json_object_get(r, "size")));
			if (json_is_string(json_object_get(r, "container")))
				printf(" in %s", str_or(r, "container", ""));
			putchar('\n');
		}
	}
}

static void print_text(const char *text)
{
	size_t l = strlen(text);

	fputs(text, stdout);
	if (l && text[l - 1] != '\n')
		putchar('\n');
}

static void print_event(struct ctl *c, json_t *ev)
{
	json_t *ts = json_object_get(ev, "timestamp"), *data;
	time_t sec;
	struct tm tm;
	char when[64] = "";

	if (c->json) {
		print_json_line(ev);
		return;
	}
	if (json_is_object(ts)) {
		sec = (time_t)json_integer_value(json_object_get(ts, "seconds"));
		localtime_r(&sec, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		printf("%s.%06" JSON_INTEGER_FORMAT " ", when,
		       json_integer_value(json_object_get(ts, "microseconds")));
	}
	fputs(str_or(ev, "event", "?"), stdout);
	data = json_object_get(ev, "data");
	if (data) {
		putchar(' ');
		print_json_line(data);
	} else {
		putchar('\n');
	}
}

/* ---- Commands ----------------------------------------------------------- */

/* Run a command without arguments; print its return as --json asks. */
static int run_simple(struct ctl *c, const char *name,
		      void (*human)(json_t *ret))
{
	json_t *msg, *ret;

	ctl_open(c);
	msg = ctl_execute(c, name, NULL);
	ret = ctl_return(msg);
	if (c->json)
		print_json_line(ret);
	else if (human)
		human(ret);
	json_decref(msg);
	return 0;
}

static void human_status(json_t *ret)
{
	const char *s = str_or(ret, "status", NULL);

	if (s)
		puts(s);
	else
		print_tree(ret, 0);
}

static void human_version(json_t *ret)
{
	json_t *q = json_object_get(ret, "qemu");

	printf("%s (QMP version %" JSON_INTEGER_FORMAT ".%" JSON_INTEGER_FORMAT
	       ".%" JSON_INTEGER_FORMAT ")\n", str_or(ret, "package", "?"),
	       json_integer_value(json_object_get(q, "major")),
	       json_integer_value(json_object_get(q, "minor")),
	       json_integer_value(json_object_get(q, "micro")));
}

/* @ns as a short human figure: "840 ns", "7.09 us", "1.20 ms", "3.00 s". */
static const char *fmt_ns(char *buf, size_t len, json_int_t ns)
{
	if (ns < 1000)
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT " ns", ns);
	else if (ns < 1000000)
		snprintf(buf, len, "%.2f us", ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, len, "%.2f ms", ns / 1e6);
	else
		snprintf(buf, len, "%.2f s", ns / 1e9);
	return buf;
}

static json_int_t int_of(json_t *obj, const char *key)
{
	return json_integer_value(json_object_get(obj, key));
}

/*
 * query-stats: the counters as indented lines, then the time each vCPU
 * spent on its exits as a table, a line per vCPU and kind of exit that
 * happened (the buckets are for --json).
 */
static void human_stats(json_t *ret)
{
	json_t *copy = json_deep_copy(ret), *vcpus, *vcpu, *d, *h;
	char p50[32], p90[32], p99[32], max[32];
	bool header = false;
	const char *kind;
	size_t i;

	json_array_foreach(json_object_get(copy, "vcpus"), i, vcpu)
		json_object_del(vcpu, "dispatch");
	print_tree(copy, 0);
	json_decref(copy);
	vcpus = json_object_get(ret, "vcpus");
	json_array_foreach(vcpus, i, vcpu) {
		d = json_object_get(vcpu, "dispatch");
		json_object_foreach(d, kind, h) {
			if (!json_is_object(h) || int_of(h, "count") <= 0)
				continue;
			if (!header) {
				puts("dispatch: time in flatvm per exit, from KVM_RUN's return to the next KVM_RUN");
				printf("  %-5s %-11s %10s %10s %10s %10s %10s\n",
				       "VCPU", "KIND", "COUNT", "P50", "P90",
				       "P99", "MAX");
				header = true;
			}
			printf("  %-5" JSON_INTEGER_FORMAT " %-11s %10"
			       JSON_INTEGER_FORMAT " %10s %10s %10s %10s\n",
			       int_of(vcpu, "id"), kind, int_of(h, "count"),
			       fmt_ns(p50, sizeof(p50), int_of(h, "p50-ns")),
			       fmt_ns(p90, sizeof(p90), int_of(h, "p90-ns")),
			       fmt_ns(p99, sizeof(p99), int_of(h, "p99-ns")),
			       fmt_ns(max, sizeof(max), int_of(h, "max-ns")));
		}
	}
}

static void no_args(int argc, char **argv, const char *cmd)
{
	if (argc > 1)
		usage_error("%s takes no arguments (got '%s')", cmd, argv[1]);
}

static int cmd_status(struct ctl *c, int argc, char **argv)
{
	no_args(argc, argv, "status");
	return run_simple(c, "query-status", human_status);
}

static int cmd_pause(struct ctl *c, int argc, char **argv)
{
	no_args(argc, argv, "pause");
	return run_simple(c, "stop", NULL);
}

static int cmd_resume(struct ctl *c, int argc, char **argv)
{
	no_args(argc, argv, "resume");
	return run_simple(c, "cont", NULL);
}

static int cmd_reset(struct ctl *c, int argc, char **argv)
{
	no_args(argc, argv, "reset");
	return run_simple(c, "system_reset", NULL);
}

static int cmd_quit(struct ctl *c, int argc, char **argv)
{
	no_args(argc, argv, "quit");
	return run_simple(c, "quit", NULL);
}

static int cmd_devices(struct ctl *c, int argc, char **argv)
{
	no_args(argc, argv, "devices");
	return run_simple(c, "query-devices", print_devices);
}

static int cmd_stats(struct ctl *c, int argc, char **argv)
{
	no_args(argc, argv, "stats");
	return run_simple(c, "query-stats", human_stats);
}

static int cmd_version(struct ctl *c, int argc, char **argv)
{
	no_args(argc, argv, "version");
	return run_simple(c, "query-version", human_version);
}

static int cmd_mtree(struct ctl *c, int argc, char **argv)
{
	bool flat = false;
	json_t *msg, *ret, *text;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-f") || !strcmp(argv[i], "--flat"))
			flat = true;
		else
			usage_error("mtree: unknown argument '%s'", argv[i]);
	}
	ctl_open(c);
	msg = ctl_execute(c, "query-mtree", json_pack("{s:b}", "flat", flat));
	ret = ctl_return(msg);
	if (c->json) {
		print_json_line(ret);
	} else {
		/* The text, whichever member carries it. */
		text = json_object_get(ret, "text");
		if (!json_is_string(text))
			text = json_object_get(ret, flat ? "flat" : "tree");
		if (json_is_string(text))
			print_text(json_string_value(text));
		else
			print_tree(ret, 0);
	}
	json_decref(msg);
	return 0;
}

static bool parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "on", "true", "yes" };
	static const char *const no[] = { "off", "false", "no" };
	size_t i;

	for (i = 0; i < 3; i++) {
		if (!strcmp(v, yes[i])) {
			*out = true;
			return true;
		}
		if (!strcmp(v, no[i])) {
			*out = false;
			return true;
		}
	}
	return false;
}

/*
 * KEY=VALUE[,KEY=VALUE...] into @args.  ",," is a literal comma (QEMU's
 * convention).  on/off/true/false/yes/no become booleans, the rest
 * strings: the machine converts numbers and sizes itself.
 */
static void parse_props(json_t *args, const char *spec)
{
	char *item = malloc(strlen(spec) + 1), *eq;
	const char *p = spec;
	size_t n;
	bool b;

	if (!item)
		die(EXIT_FAILED, "out of memory");
	while (*p) {
		n = 0;
		for (; *p; p++) {
			if (*p == ',') {
				if (p[1] != ',')
					break;
				p++;
			}
			item[n++] = *p;
		}
		item[n] = '\0';
		if (*p == ',')
			p++;
		if (!n)
			continue;
		eq = strchr(item, '=');
		if (!eq || eq == item)
			usage_error("device-add: '%s' is not KEY=VALUE", item);
		*eq++ = '\0';
		if (!strcmp(item, "driver"))
			usage_error("device-add: the driver is the first argument, not a property");
		if (json_object_get(args, item))
			usage_error("device-add: property '%s' given twice", item);
		if (parse_bool(eq, &b))
			json_object_set_new(args, item, json_boolean(b));
		else
			json_object_set_new(args, item, json_string(eq));
	}
	free(item);
}

static int cmd_device_add(struct ctl *c, int argc, char **argv)
{
	json_t *args, *msg, *ret;
	int i;

	if (argc < 2)
		usage_error("device-add needs a DRIVER (e.g. device-add virtio-blk id=d1,file=disk.img)");
	args = json_pack("{s:s}", "driver", argv[1]);
	for (i = 2; i < argc; i++)
		parse_props(args, argv[i]);
	ctl_open(c);
	msg = ctl_execute(c, "device_add", args);
	ret = ctl_return(msg);
	if (c->json)
		print_json_line(ret);
	json_decref(msg);
	return 0;
}

static bool is_deleted(json_t *ev, const char *id)
{
	const char *dev;

	if (strcmp(str_or(ev, "event", ""), "DEVICE_DELETED"))
		return false;
	dev = str_or(json_object_get(ev, "data"), "device", NULL);
	return dev && !strcmp(dev, id);
}

static double parse_seconds(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v > 86400 * 365)
		usage_error("--timeout: '%s' is not a number of seconds", s);
	return v;
}

static int cmd_device_del(struct ctl *c, int argc, char **argv)
{
	const char *id = NULL;
	bool wait = false, seen = false;
	json_t *msg, *ret, *ev;
	double deadline;
	size_t i;
	int a;

	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--wait")) {
			wait = true;
		} else if (!strcmp(argv[a], "--timeout")) {
			if (++a == argc)
				usage_error("device-del: --timeout needs SECONDS");
			c->timeout = parse_seconds(argv[a]);
		} else if (argv[a][0] == '-') {
			usage_error("device-del: unknown option '%s'", argv[a]);
		} else if (!id) {
			id = argv[a];
		} else {
			usage_error("device-del takes one ID");
		}
	}
	if (!id)
		usage_error("device-del needs an ID");
	ctl_open(c);
	msg = ctl_execute(c, "device_del", json_pack("{s:s}", "id", id));
	ret = ctl_return(msg);
	if (c->json && !wait)
		print_json_line(ret);
	json_decref(msg);
	if (!wait)
		return 0;

	/* It may have come before the reply. */
	json_array_foreach(c->events, i, ev)
		seen |= is_deleted(ev, id);
	deadline = now() + c->timeout;
	while (!seen) {
		ev = ctl_recv_or_die(c, deadline, "DEVICE_DELETED");
		seen = is_deleted(ev, id);
		json_decref(ev);
	}
	if (c->json) {
		ev = json_pack("{s:s}", "deleted", id);
		print_json_line(ev);
		json_decref(ev);
	}
	return 0;
}

static void on_sigint(int sig)
{
	interrupted = 1;
}

static int cmd_events(struct ctl *c, int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_sigint };
	json_t *ev;
	size_t i;

	no_args(argc, argv, "events");
	/* No SA_RESTART: poll() returns and the loop ends cleanly. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	ctl_open(c);
	json_array_foreach(c->events, i, ev)
		print_event(c, ev);
	json_array_clear(c->events);
	while (!interrupted && (ev = ctl_recv(c, 0))) {
		if (json_object_get(ev, "event"))
			print_event(c, ev);
		json_decref(ev);
	}
	return 0;
}

static int cmd_raw(struct ctl *c, int argc, char **argv)
{
	json_error_t jerr;
	json_t *cmd, *msg, *ret;

	if (argc != 2)
		usage_error("raw takes one JSON object (quote it)");
	cmd = json_loads(argv[1], 0, &jerr);
	if (!cmd)
		usage_error("raw: not JSON: %s (column %d)", jerr.text,
			    jerr.column);
	if (!json_is_object(cmd) || !json_is_string(json_object_get(cmd, "execute")))
		usage_error("raw: expected an object with \"execute\", e.g. '{\"execute\": \"query-status\"}'");
	ctl_open(c);
	msg = ctl_request(c, cmd);
	ret = ctl_return(msg);
	if (c->json) {
		print_json_line(ret);
	} else {
		char *text = json_dumps(ret, JSON_INDENT(2) | JSON_ENCODE_ANY);

		puts(text ? text : "?");
		free(text);
	}
	json_decref(msg);
	return 0;
}

struct ctl_command {
	const char *name;
	int (*run)(struct ctl *c, int argc, char **argv);
};

static const struct ctl_command commands[] = {
	{ "status", cmd_status },
	{ "pause", cmd_pause },
	{ "resume", cmd_resume },
	{ "reset", cmd_reset },
	{ "quit", cmd_quit },
	{ "devices", cmd_devices },
	{ "device-add", cmd_device_add },
	{ "device-del", cmd_device_del },
	{ "mtree", cmd_mtree },
	{ "stats", cmd_stats },
	{ "version", cmd_version },
	{ "events", cmd_events },
	{ "raw", cmd_raw },
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sock", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl c = { .timeout = DEFAULT_TIMEOUT, .fd = -1, .next_id = 1 };
	size_t i;
	int opt, ret;

	/* '+': options after the command are the command's. */
	while ((opt = getopt_long(argc, argv, "+s:jt:h", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			c.sock = optarg;
			break;
		case 'j':
			c.json = true;
			break;
		case 't':
			c.timeout = parse_seconds(optarg);
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs("Try 'flatvmctl --help'.\n", stderr);
			return EXIT_USAGE;
		}
	}
	if (optind == argc)
		usage_error("no command given");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, argv[optind]))
			break;
	if (i == sizeof(commands) / sizeof(commands[0]))
		usage_error("unknown command '%s'", argv[optind]);
	if (!c.sock)
		usage_error("--sock PATH is required (the socket given to flatvm run --api-sock)");
	c.events = json_array();
	signal(SIGPIPE, SIG_IGN);
	ret = commands[i].run(&c, argc - optind, argv + optind);
	if (c.fd >= 0)
		close(c.fd);
	json_decref(c.events);
	free(c.buf);
	return ret;
}
