// SPDX-License-Identifier: GPL-2.0-only
/*
 * flatvm-bench report: one command, one report on what a guest's device
 * access costs through flatvm, next to the least KVM can do and next to
 * QEMU's microvm, with the guest's own clock as the instrument.
 *
 *   flatvm-bench report [--out DIR] [--quick] [--no-pin]
 *   flatvm-bench report --from DIR/report.json --out DIR   (render again)
 *
 * The instrument is the probe guest (tests/guests/probe.c, probe.h): told
 * "kind=K count=N reg=R ...", each of its vCPUs times N accesses of kind
 * K to register R, each alone between two "lfence; rdtsc; lfence" stamps,
 * after up to 1024 empty windows (the stamps' own cost), and leaves the
 * ticks and each window's opening stamp in a results block per vCPU in
 * guest RAM.  The sides it runs on:
 *
 *  floor:  a bare KVM_RUN loop in this process (floor.c), one vCPU, no
 *          irqchip, answering every exit with a constant;
 *  flatvm: machine_create()/machine_run() in this process with the
 *          control socket on (--api-sock) and a QMP client thread
 *          (below) that watches the results blocks, takes query-stats
 *          once every vCPU is done, then quits the machine; with
 *          "devices=N", N - 1 more test devices mapped at
 *          REPORT_DEV_BASE; with "churn", the client plugs and unplugs
 *          test devices through the socket until the probe is done;
 *  qemu:   qemu-system-x86_64 -M microvm -accel kvm in a child, its RAM a
 *          file in the work directory (memory-backend-file, shared), read
 *          after it exits.
 *
 * Configurations (a series is one configuration, side, kind and vCPU):
 *
 *  compare   1 vCPU, the registers QEMU has too: PIO read of the UART's
 *            line status (0x3fd, 1 byte), PIO write of its scratch
 *            register (0x3ff), MMIO read of the first virtio-mmio
 *            transport's MagicValue, MMIO write of the virtio-rng
 *            transport's QueueSel, and an ioeventfd-backed write (the
 *            virtio-rng transport's QueueNotify after the probe brought
 *            it to DRIVER_OK; on the floor, its one ioeventfd); plus
 *            kind=none, for the mean and wall cross-checks;
 *  scale-*   MMIO reads of test devices by flatvm with 8 and 512 devices
 *            mapped, 1 and 2 vCPUs on the same and on different devices;
 *            QEMU with 1 and 2 vCPUs on its first transports;
 *  churn-*   flatvm, 1 vCPU reading a test device for longer, without
 *            and with another test device plugged and unplugged in a
 *            loop over the control socket.
 *
 * Every configuration runs `rounds` times, the sides of a (configuration,
 * kind) taking turns at going first, and the samples of all rounds are
 * pooled.  Figures (report-stats.c): quantiles net of the median empty
 * window; mean = (guest's timed loop for K - for none) / N and wall =
 * (host time around the run for K - for none) / N, medians over the
 * rounds (compare only).  The in-process dispatch bench (`flatvm-bench
 * dispatch --json`) runs in a child and its figures go in too.
 * report-render.c turns the JSON into report.md and the plots.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "flatvm/compiler.h"
#include "flatvm/devices.h"
#include "flatvm/kvm.h"
#include "flatvm/layout.h"
#include "flatvm/machine.h"
#include "flatvm/object.h"
#include "flatvm/rcu.h"
#include "flatvm/testdev-regs.h"

#include "bench.h"
#include "report.h"


#define REPORT_MEM		(64ull << 20)
#define REPORT_MEM_ARG		"64M"
#define COUNT			10000u
#define COUNT_QUICK		200u
#define CHURN_FACTOR		3u	/* churn runs: 3x the accesses */
#define ROUNDS			5u
#define ROUNDS_QUICK		1u
#define MAX_ROUNDS		ROUNDS
#define MIN_ROUNDS_MEAN		3u
#define WARMUP_COUNT		100u
#define RUN_TIMEOUT_NS		(120ull * 1000000000ull)
#define POLL_NS			(500ull * 1000ull)
#define CONSOLE_MAX		(64u << 10)
#define TIMELINE_CHUNKS		200u
#define TSC_CALIBRATION_MS	200
#define STOP_GRACE_NS		(10ull * 1000000000ull)
#define CHILD_TIMEOUT_NS	(120ull * 1000000000ull)	/* flatvm-bench dispatch */

/* Test devices the bench adds to a flatvm machine ("devices=N"). */
#define REPORT_DEV_BASE		0xd8000000ull
#define REPORT_DEV_MAX		512u

/* QEMU microvm's layout (hw/i386/microvm.h): 24 transports from here. */
#define QEMU_VIRTIO_BASE	0xfeb00000u
#define QEMU_VIRTIO_LAST	(QEMU_VIRTIO_BASE + 23u * 0x200u)

#define VIRTIO_QUEUE_SEL	0x030u
#define VIRTIO_QUEUE_NOTIFY	0x050u
#define FLATVM_RNG		((uint32_t)LAYOUT_VIRTIO_MMIO_BASE)
#define FLATVM_SCRATCH		((uint32_t)LAYOUT_TESTDEV_MMIO + TESTDEV_SCRATCH)

_Static_assert(REPORT_MEM >= PROBE_RAM_FOR(2), "two results blocks");

enum side { SIDE_FLOOR, SIDE_FLATVM, SIDE_QEMU, NR_SIDES };

static const char *const side_keys[NR_SIDES] = {
	[SIDE_FLOOR] = "floor",
	[SIDE_FLATVM] = "flatvm",
	[SIDE_QEMU] = "qemu",
};

/* Per vCPU of a job: every round's samples, pooled. */
struct acc {
	uint32_t *samples, *empty, *stamps;
	size_t nsamples, nempty;	/* stamps: as many as samples */
	double run_p50[MAX_ROUNDS];	/* ticks, net of the run's timer */
	double run_loop[MAX_ROUNDS];	/* ticks */
	unsigned nruns;
};

/**
 * struct job - one configuration, side and kind: how to run it and what
 * its runs gave.
 * @group: jobs with the same group take turns going first.
 * @args: the probe's words besides kind= and count=.
 * @regs: what the registers are, for the report.
 * @devices: test devices mapped (flatvm; the boot one included).
 * @hist: ask the probe for its console histogram (a cross-check).
 */
struct job {
	const char *config;
	enum side side;
	unsigned kind;
	unsigned ncpus;
	unsigned group;
	char args[200];
	char regs[160];
	unsigned devices;
	bool churn;
	bool hist;
	bool failed;			/* skipped from then on, reason told */
	uint32_t count;
	struct acc acc[PROBE_MAX_CPUS];
	double run_wall[MAX_ROUNDS];	/* ns */
	unsigned nwall;
	json_t *qmp_stats;		/* the last run's query-stats */
	unsigned churn_cycles;
	uint64_t churn_ns;
	char *console;			/* the last run's console */
	size_t console_len;
};

struct report {
	const struct bench_opts *opts;
	uint32_t count;
	unsigned rounds;
	uint32_t tsc_khz;
	char workdir[64];
	const char *outdir;
	char qemu[256];
	bool have_qemu;
	char qemu_why[128];
	struct job *jobs;
	unsigned njobs, maxjobs;
	unsigned ngroups;
	unsigned done, total;
	bool tty;
	json_t *skipped;
	uint64_t started_ns;
};

/* ---- Progress ----------------------------------------------------------- */

static void progress(struct report *r, unsigned round, const struct job *j)
{
	char line[160];

	snprintf(line, sizeof(line), "[%3u/%3u] round %u/%u: %s, %s, %s%s",
		 r->done, r->total, round + 1, r->rounds, j->config,
		 side_keys[j->side], probe_kind_name(j->kind),
		 j->churn ? " (plug loop)" : "");
	if (r->tty)
		fprintf(stderr, "\r\033[K%s", line);
	else
		fprintf(stderr, "%s\n", line);
}

static void progress_note(struct report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void progress_note(struct report *r, const char *fmt, ...)
{
	va_list ap;

	if (r->tty)
		fprintf(stderr, "\r\033[K");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
}

static void skip(struct report *r, const char *part, const char *why)
{
	json_array_append_new(r->skipped,
			      json_pack("{s:s, s:s}", "part", part,
					"reason", why));
	progress_note(r, "flatvm-bench report: skipping %s: %s", part, why);
}

/* ---- Results blocks ----------------------------------------------------- */

typedef int (*ram_read_fn)(void *ctx, uint64_t gpa, void *buf, size_t len);

static int as_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	return address_space_read(ctx, gpa, buf, len) ? -EFAULT : 0;
}

static int fd_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	ssize_t n = pread(*(int *)ctx, buf, len, (off_t)gpa);

	return n == (ssize_t)len ? 0 : -EIO;
}

static uint64_t block_addr(unsigned cpu)
{
	return PROBE_RESULTS_ADDR + (uint64_t)cpu * PROBE_CPU_STRIDE;
}

/*
 * Check every vCPU's results block of a run of @j and append its samples
 * (NULL @a: a warm-up, only checked).  Guest memory: checked first.
 */
static int collect(const struct job *j, uint32_t count, struct acc *a,
		   ram_read_fn rd, void *ctx, struct error *err)
{
	uint32_t nempty = count < PROBE_MAX_EMPTY ? count : PROBE_MAX_EMPTY;
	struct probe_results res;
	struct lat_stats st;
	uint64_t base;
	unsigned c;

	for (c = 0; c < j->ncpus; c++) {
		base = block_addr(c);
		if (rd(ctx, base, &res, sizeof(res)))
			return error_setf(err, EFAULT,
					  "vCPU %u's results block at %#" PRIx64 " is not in guest RAM",
					  c, base);
		if (res.magic != PROBE_MAGIC || res.version != PROBE_VERSION)
			return error_setf(err, EPROTO,
					  "vCPU %u left no results (magic %#x, version %u; expected %#x, %u)",
					  c, res.magic, res.version,
					  PROBE_MAGIC, PROBE_VERSION);
		if (res.status != PROBE_OK || res.kind != j->kind ||
		    res.count != count || res.nempty != nempty ||
		    res.cpu != c || res.ncpus != j->ncpus)
			return error_setf(err, EPROTO,
					  "vCPU %u's block says status %u, kind %s, count %u, %u empty windows, cpu %u of %u; expected 0, %s, %u, %u, %u of %u",
					  c, res.status,
					  probe_kind_name(res.kind), res.count,
					  res.nempty, res.cpu, res.ncpus,
					  probe_kind_name(j->kind), count,
					  nempty, c, j->ncpus);
		if (!a)
			continue;
		if (a[c].nruns >= MAX_ROUNDS)
			return error_setf(err, E2BIG, "more runs than rounds");
		if (rd(ctx, base + PROBE_SAMPLES_OFFSET,
		       a[c].samples + a[c].nsamples,
		       (size_t)count * sizeof(uint32_t)) ||
		    rd(ctx, base + PROBE_EMPTY_OFFSET,
		       a[c].empty + a[c].nempty,
		       (size_t)nempty * sizeof(uint32_t)) ||
		    rd(ctx, base + PROBE_STAMPS_OFFSET,
		       a[c].stamps + a[c].nsamples,
		       (size_t)count * sizeof(uint32_t)))
			return error_setf(err, EFAULT,
					  "vCPU %u's samples are not in guest RAM",
					  c);
		/* This run's median net of its own timer, in ticks. */
		if (lat_stats_copy(a[c].samples + a[c].nsamples, count,
				   a[c].empty + a[c].nempty, nempty, 1000000,
				   &st, NULL))
			return error_setf(err, ENOMEM, "out of memory");
		a[c].run_p50[a[c].nruns] = st.p50;
		a[c].run_loop[a[c].nruns] = (double)res.loop_ticks;
		a[c].nruns++;
		a[c].nsamples += count;
		a[c].nempty += nempty;
	}
	return 0;
}

static void probe_cmdline(const struct job *j, uint32_t count, char *buf,
			  size_t len)
{
	snprintf(buf, len, "kind=%s count=%u cpus=%u %s%s%s",
		 probe_kind_name(j->kind), count, j->ncpus, j->args,
		 j->hist ? " hist" : "", j->side == SIDE_FLATVM ? " spin" : "");
}

static void keep_console(struct job *j, const char *buf, size_t len)
{
	free(j->console);
	j->console = malloc(len + 1);
	if (!j->console) {
		j->console_len = 0;
		return;
	}
	memcpy(j->console, buf, len);
	j->console[len] = '\0';
	j->console_len = len;
}

/* ---- floor ------------------------------------------------------------- */

static int run_floor(struct report *r, struct job *j, uint32_t count,
		     bool record, struct error *err)
{
	char cmdline[320];
	struct bench_floor *f;
	uint64_t ns;
	int ret;

	(void)r;
	probe_cmdline(j, count, cmdline, sizeof(cmdline));
	f = bench_floor_create(FLATVM_PROBE_ELF, cmdline, REPORT_MEM, false,
			       err);
	if (!f)
		return err->code ? err->code : -EINVAL;
	ret = bench_floor_run_timed(f, &ns, err);
	if (!ret)
		ret = collect(j, count, record ? j->acc : NULL, as_read,
			      &f->as, err);
	bench_floor_destroy(f);
	if (!ret && record)
		j->run_wall[j->nwall++] = (double)ns;
	return ret;
}

/* ---- flatvm, in this process, with its control socket -------------------- */

struct flatvm_run;
static bool console_pump(struct flatvm_run *fr, int ms);

/*
 * A QMP client, one message per line, jansson for the JSON.  Every wait
 * is bounded by a deadline; while it waits it keeps reading the guest's
 * console (@fr), so the moment the probe's loops end is seen at once.
 */
struct qmp_client {
	int fd;
	struct flatvm_run *fr;
	char buf[1 << 16];
	size_t len;
	unsigned next_id;
	char deleted[64];	/* the id of the last DEVICE_DELETED */
	unsigned ndeleted;
};

static int qc_connect(struct qmp_client *q, const char *path,
		      uint64_t deadline, struct error *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	for (;;) {
		q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (q->fd < 0)
			return error_setf(err, errno, "socket: %s",
					  strerror(errno));
		if (!connect(q->fd, (struct sockaddr *)&sa, sizeof(sa)))
			return 0;
		close(q->fd);
		q->fd = -1;
		if (bench_now_ns() > deadline)
			return error_setf(err, ETIMEDOUT,
					  "flatvm's control socket %s never accepted a connection",
					  path);
		console_pump(q->fr, 1);
	}
}

/* The next message, or NULL at the deadline / on EOF (@err says). */
static json_t *qc_next(struct qmp_client *q, uint64_t deadline,
		       struct error *err)
{
	json_error_t jerr;
	char *nl;
	json_t *msg;
	uint64_t now;
	ssize_t n;
	size_t l;
	int ret, ms;

	for (;;) {
		nl = memchr(q->buf, '\n', q->len);
		if (nl) {
			l = (size_t)(nl - q->buf);
			msg = json_loadb(q->buf, l, 0, &jerr);
			memmove(q->buf, nl + 1, q->len - l - 1);
			q->len -= l + 1;
			if (!msg) {
				error_setf(err, EPROTO,
					   "flatvm sent a line that is not JSON: %s",
					   jerr.text);
				return NULL;
			}
			return msg;
		}
		if (q->len == sizeof(q->buf)) {
			error_setf(err, EPROTO,
				   "flatvm sent a message over 64 KiB");
			return NULL;
		}
		now = bench_now_ns();
		if (now >= deadline) {
			error_setf(err, ETIMEDOUT,
				   "no answer from flatvm's control socket in time");
			return NULL;
		}
		{
			struct pollfd pfd = { .fd = q->fd, .events = POLLIN };

			/* Short waits: the console is read in between. */
			ms = (int)((deadline - now) / 1000000 + 1);
			ret = poll(&pfd, 1, ms < 5 ? ms : 5);
			if (ret < 0 && errno != EINTR) {
				error_setf(err, errno, "poll: %s",
					   strerror(errno));
				return NULL;
			}
			console_pump(q->fr, 0);
			/* Only read what is there: never block past the deadline. */
			if (ret <= 0)
				continue;
		}
		n = read(q->fd, q->buf + q->len, sizeof(q->buf) - q->len);
		if (n == 0) {
			error_setf(err, EPIPE,
				   "flatvm closed its control socket");
			return NULL;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			error_setf(err, errno, "read: %s", strerror(errno));
			return NULL;
		}
		if (n > 0)
			q->len += (size_t)n;
	}
}

/* Note a DEVICE_DELETED; anything else that is not @id's reply is dropped. */
static void qc_event(struct qmp_client *q, json_t *msg)
{
	const char *ev = json_string_value(json_object_get(msg, "event"));
	const char *dev;

	if (!ev || strcmp(ev, "DEVICE_DELETED"))
		return;
	dev = json_string_value(json_object_get(json_object_get(msg, "data"),
						"device"));
	if (dev) {
		snprintf(q->deleted, sizeof(q->deleted), "%s", dev);
		q->ndeleted++;
	}
}

/* Send @cmd (taking @args) and return its "return" value (new ref). */
static json_t *qc_call(struct qmp_client *q, const char *cmd, json_t *args,
		       uint64_t deadline, struct error *err)
{
	json_t *req, *msg, *ret;
	unsigned id = ++q->next_id;
	char *text;
	size_t len, off = 0;
	ssize_t n;

	req = json_pack("{s:s, s:I}", "execute", cmd, "id", (json_int_t)id);
	if (args)
		json_object_set_new(req, "arguments", args);
	text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (!text) {
		error_setf(err, ENOMEM, "out of memory");
		return NULL;
	}
	len = strlen(text);
	text[len] = '\n';
	while (off < len + 1) {
		n = send(q->fd, text + off, len + 1 - off, MSG_NOSIGNAL);
		if (n <= 0 && errno != EINTR) {
			free(text);
			error_setf(err, errno, "%s: write to flatvm: %s", cmd,
				   strerror(errno));
			return NULL;
		}
		off += n > 0 ? (size_t)n : 0;
	}
	free(text);
	for (;;) {
		msg = qc_next(q, deadline, err);
		if (!msg) {
			error_prepend(err, "%s: ", cmd);
			return NULL;
		}
		if (json_integer_value(json_object_get(msg, "id")) !=
		    (json_int_t)id) {
			qc_event(q, msg);
			json_decref(msg);
			continue;
		}
		ret = json_object_get(msg, "return");
		if (!ret) {
			error_setf(err, EPROTO, "%s: flatvm answered %s", cmd,
				   json_string_value(json_object_get(
					   json_object_get(msg, "error"),
					   "desc")) ?: "an error");
			json_decref(msg);
			return NULL;
		}
		json_incref(ret);
		json_decref(msg);
		return ret;
	}
}

static int qc_wait_deleted(struct qmp_client *q, const char *id,
			   uint64_t deadline, struct error *err)
{
	json_t *msg;

	while (strcmp(q->deleted, id)) {
		msg = qc_next(q, deadline, err);
		if (!msg) {
			error_prepend(err, "waiting for DEVICE_DELETED of %s: ",
				      id);
			return err->code ? err->code : -EIO;
		}
		qc_event(q, msg);
		json_decref(msg);
	}
	q->deleted[0] = '\0';
	return 0;
}

/*
 * What the client thread of one flatvm run shares with the main thread.
 * The client reads the guest's console from a pipe (flatvm's console
 * output): the probe's "N accesses in T ticks" line marks the end of the
 * timed loops (every vCPU's), PROBE_READY_LINE the end of everything it
 * prints; then query-stats, then quit.  No polling of guest memory, so
 * nothing of the bench wakes up while the probe measures.
 */
struct flatvm_run {
	struct machine *m;
	const struct job *j;
	const char *sock;
	int console_fd;			/* read end */
	atomic_bool stopped;		/* machine_run() returned */
	char *console;			/* CONSOLE_MAX + 1 */
	size_t console_len;
	uint64_t t0, done_ns;
	json_t *stats;
	unsigned cycles;
	uint64_t churn_ns;
	struct error err;
	int ret;
};

#define DONE_LINE	" accesses in "

/*
 * Read what the console has (waiting up to @ms); note when the loops
 * ended.  Return: true once PROBE_READY_LINE is in.
 */
static bool console_pump(struct flatvm_run *fr, int ms)
{
	struct pollfd pfd;
	char scratch[4096];
	ssize_t n;

	if (!fr) {
		if (ms)
			poll(NULL, 0, ms);
		return false;
	}
	pfd = (struct pollfd){ .fd = fr->console_fd, .events = POLLIN };
	if (poll(&pfd, 1, ms) > 0) {
		n = fr->console_len < CONSOLE_MAX ?
		    read(fr->console_fd, fr->console + fr->console_len,
			 CONSOLE_MAX - fr->console_len) :
		    read(fr->console_fd, scratch, sizeof(scratch));
		if (n > 0 && fr->console_len < CONSOLE_MAX) {
			fr->console_len += (size_t)n;
			fr->console[fr->console_len] = '\0';
		}
	}
	if (!fr->done_ns && strstr(fr->console, DONE_LINE))
		fr->done_ns = bench_now_ns();
	return strstr(fr->console, PROBE_READY_LINE) != NULL;
}

static int churn_cycle(struct flatvm_run *fr, struct qmp_client *q,
		       uint64_t deadline)
{
	char id[16];
	json_t *ret;

	snprintf(id, sizeof(id), "churn%u", fr->cycles % 4);
	ret = qc_call(q, "device_add",
		      json_pack("{s:s, s:s}", "driver", "testdev", "id", id),
		      deadline, &fr->err);
	if (!ret)
		return -EIO;
	json_decref(ret);
	ret = qc_call(q, "device_del", json_pack("{s:s}", "id", id),
		      deadline, &fr->err);
	if (!ret)
		return -EIO;
	json_decref(ret);
	if (qc_wait_deleted(q, id, deadline, &fr->err))
		return -EIO;
	fr->cycles++;
	return 0;
}

static void *flatvm_client(void *arg)
{
	struct flatvm_run *fr = arg;
	uint64_t deadline = fr->t0 + RUN_TIMEOUT_NS, start = 0;
	struct qmp_client *q;
	json_t *msg, *ret;
	bool forced = false;

	q = calloc(1, sizeof(*q));
	if (!q) {
		fr->ret = error_setf(&fr->err, ENOMEM, "out of memory");
		goto stop;
	}
	q->fd = -1;
	q->fr = fr;
	if (qc_connect(q, fr->sock, deadline, &fr->err))
		goto fail;
	msg = qc_next(q, deadline, &fr->err);	/* the greeting */
	if (!msg)
		goto fail;
	json_decref(msg);
	ret = qc_call(q, "qmp_capabilities", NULL, deadline, &fr->err);
	if (!ret)
		goto fail;
	json_decref(ret);
	start = bench_now_ns();
	while (!console_pump(fr, fr->j->churn && !fr->done_ns ? 0 : 100)) {
		if (atomic_load(&fr->stopped)) {
			error_setf(&fr->err, EIO,
				   "flatvm stopped before the probe said '%s'",
				   PROBE_READY_LINE);
			goto fail;
		}
		if (bench_now_ns() > deadline) {
			error_setf(&fr->err, ETIMEDOUT,
				   "the probe did not finish within %llu s",
				   RUN_TIMEOUT_NS / 1000000000ull);
			goto fail;
		}
		/* Plug and unplug until the timed loops are over. */
		if (fr->j->churn && !fr->done_ns) {
			if (churn_cycle(fr, q, deadline))
				goto fail;
			fr->churn_ns = bench_now_ns() - start;
		}
	}
	fr->stats = qc_call(q, "query-stats", NULL, deadline, &fr->err);
	if (!fr->stats)
		goto fail;
	ret = qc_call(q, "quit", NULL, deadline, &fr->err);
	if (!ret)
		goto fail;
	json_decref(ret);
	goto out;
fail:
	fr->ret = fr->err.code ? fr->err.code : -EIO;
stop:
	machine_request_stop(fr->m, MACHINE_ERROR, 1);
out:
	/*
	 * Keep the console flowing (its writes block) until the machine is
	 * gone; one that does not go after quit is stopped, bounded.
	 */
	while (!atomic_load(&fr->stopped)) {
		console_pump(fr, 10);
		if (!forced && bench_now_ns() > deadline + STOP_GRACE_NS) {
			if (!fr->ret)
				fr->ret = error_setf(&fr->err, ETIMEDOUT,
						     "flatvm did not stop after quit");
			machine_request_stop(fr->m, MACHINE_ERROR, 1);
			forced = true;
		}
	}
	if (q && q->fd >= 0)
		close(q->fd);
	free(q);
	return NULL;
}

/* Map @n - 1 more test devices, the machine's own being the first. */
static int add_devices(unsigned n, struct error *err)
{
	struct object *machine = object_resolve_path("/machine");
	struct object *sys = object_resolve_path("/machine/system");
	struct testdev *t;
	char id[32];
	unsigned i;
	int ret = 0;

	if (!machine || !sys || !object_is_a(sys, &memory_region_class)) {
		ret = error_setf(err, ENOENT,
				 "the machine has no /machine/system region to map test devices in");
		goto out;
	}
	memory_region_transaction_begin();
	for (i = 1; i < n && !ret; i++) {
		snprintf(id, sizeof(id), "benchdev%u", i);
		t = testdev_create(machine, id, NULL, NULL, err);
		if (!t) {
			ret = err->code ? err->code : -EINVAL;
			break;
		}
		ret = memory_region_add_subregion(to_memory_region(sys),
						  REPORT_DEV_BASE +
						  (uint64_t)(i - 1) *
						  LAYOUT_TESTDEV_MMIO_SIZE,
						  &t->mmio, err);
	}
	memory_region_transaction_commit();
out:
	object_unref(sys);
	object_unref(machine);
	return ret;
}

static int run_flatvm(struct report *r, struct job *j, uint32_t count,
		      bool record, struct error *err)
{
	char cmdline[320], sock[128];
	struct flatvm_run fr = { .j = j, .sock = sock };
	struct machine_config cfg = {
		.kernel = FLATVM_PROBE_ELF,
		.cmdline = cmdline,
		.mem_size = REPORT_MEM,
		.ncpus = j->ncpus,
		.rng = true,
		.api_sock = sock,
		.console_in = -1,
	};
	pthread_t thr;
	int pfd[2], ret;

	probe_cmdline(j, count, cmdline, sizeof(cmdline));
	snprintf(sock, sizeof(sock), "%s/qmp.sock", r->workdir);
	fr.console = calloc(1, CONSOLE_MAX + 1);
	if (!fr.console)
		return error_setf(err, ENOMEM, "out of memory");
	if (pipe2(pfd, O_CLOEXEC | O_NONBLOCK)) {
		free(fr.console);
		return error_setf(err, errno, "pipe2: %s", strerror(errno));
	}
	/* flatvm writes the console blocking; the client reads it whole. */
	fcntl(pfd[1], F_SETFL, 0);
	cfg.console_out = pfd[1];
	fr.console_fd = pfd[0];
	fr.m = machine_create(&cfg, err);
	if (!fr.m) {
		ret = err->code ? err->code : -EINVAL;
		goto out_pipe;
	}
	ret = add_devices(j->devices, err);
	if (ret)
		goto out;
	fr.t0 = bench_now_ns();
	if (pthread_create(&thr, NULL, flatvm_client, &fr)) {
		ret = error_setf(err, EAGAIN, "cannot start the QMP client");
		goto out;
	}
	machine_run(fr.m);	/* quit gives 0; the blocks say if it worked */
	atomic_store(&fr.stopped, true);
	pthread_join(thr, NULL);
	keep_console(j, fr.console, fr.console_len);
	if (fr.ret) {
		*err = fr.err;
		ret = fr.ret;
		/* The blocks may say more precisely what went wrong. */
		if (!collect(j, count, NULL, as_read, machine_memory(fr.m),
			     err)) {
			*err = fr.err;
		}
		error_prepend(err, "(console: %.300s) ",
			      fr.console_len > 300 ?
			      fr.console + fr.console_len - 300 : fr.console);
		goto out;
	}
	/* Checked before collect(), which counts the run. */
	if (!fr.done_ns)
		ret = error_setf(err, EPROTO,
				 "the probe never printed its '%s' line",
				 DONE_LINE);
	else
		ret = collect(j, count, record ? j->acc : NULL, as_read,
			      machine_memory(fr.m), err);
	if (!ret && record) {
		j->run_wall[j->nwall++] = (double)(fr.done_ns - fr.t0);
		json_decref(j->qmp_stats);
		j->qmp_stats = fr.stats;
		fr.stats = NULL;
		j->churn_cycles += fr.cycles;
		j->churn_ns += fr.churn_ns;
	}
out:
	json_decref(fr.stats);
	machine_destroy(fr.m);
	unlink(sock);
out_pipe:
	close(pfd[0]);
	close(pfd[1]);
	free(fr.console);
	return ret;
}

/* ---- QEMU microvm, a child process ----------------------------------------- */

static int run_qemu(struct report *r, struct job *j, uint32_t count,
		    bool record, struct error *err)
{
	char cmdline[320], mem[160], backend[320], smp[16], desc[512];
	struct bench_child c;
	int fd, ret;
	char *argv[] = {
		r->qemu, "-M", "microvm,memory-backend=ram", "-accel", "kvm",
		"-cpu", "host,-arch-capabilities", "-m", REPORT_MEM_ARG,
		"-smp", smp, "-object", backend, "-nodefaults",
		"-no-user-config", "-nographic", "-serial", "stdio",
		"-device", "isa-debug-exit,iobase=0xf4",
		"-global", "virtio-mmio.force-legacy=false",
		"-device", "virtio-rng-device",
		"-kernel", FLATVM_PROBE_ELF, "-append", cmdline, NULL,
	};

	probe_cmdline(j, count, cmdline, sizeof(cmdline));
	snprintf(smp, sizeof(smp), "%u", j->ncpus);
	snprintf(mem, sizeof(mem), "%s/qemu-ram", r->workdir);
	snprintf(backend, sizeof(backend),
		 "memory-backend-file,id=ram,size=%s,mem-path=%s,share=on",
		 REPORT_MEM_ARG, mem);
	unlink(mem);
	ret = bench_child_spawn(&c, argv, err);
	if (ret)
		return ret;
	ret = bench_child_watch(&c, NULL, RUN_TIMEOUT_NS);
	if (ret == -ETIMEDOUT) {
		bench_child_stop(&c, SIGKILL, 1000000000ull);
		bench_child_release(&c);
		unlink(mem);
		return error_setf(err, ETIMEDOUT,
				  "QEMU did not finish within %llu s",
				  RUN_TIMEOUT_NS / 1000000000ull);
	}
	keep_console(j, c.out, c.out_len);
	/* isa-debug-exit: QEMU exits with 2 * status + 1. */
	if (!WIFEXITED(c.status) || WEXITSTATUS(c.status) != 1) {
		bench_child_describe(&c, desc, sizeof(desc));
		bench_child_release(&c);
		unlink(mem);
		return error_setf(err, EIO,
				  "QEMU %s (expected exit status 1, the probe's isa-debug-exit 0); console: %.300s",
				  desc, j->console ? j->console : "");
	}
	fd = open(mem, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = error_setf(err, errno, "%s: %s", mem, strerror(errno));
		bench_child_release(&c);
		unlink(mem);
		return ret;
	}
	ret = collect(j, count, record ? j->acc : NULL, fd_read, &fd, err);
	close(fd);
	unlink(mem);
	if (!ret && record)
		j->run_wall[j->nwall++] = (double)(c.exit_ns - c.start_ns);
	bench_child_release(&c);
	return ret;
}

static int run_job(struct report *r, struct job *j, uint32_t count,
		   bool record, struct error *err)
{
	int ret;

	switch (j->side) {
	case SIDE_FLOOR:
		ret = run_floor(r, j, count, record, err);
		break;
	case SIDE_FLATVM:
		ret = run_flatvm(r, j, count, record, err);
		break;
	default:
		ret = run_qemu(r, j, count, record, err);
		break;
	}
	if (ret)
		error_prepend(err, "%s, %s, %s: ", j->config,
			      side_keys[j->side], probe_kind_name(j->kind));
	return ret;
}

/* ---- The plan ---------------------------------------------------------- */

static struct job *add_job(struct report *r, const char *config,
			   enum side side, unsigned kind, unsigned ncpus,
			   const char *regs, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

static struct job *add_job(struct report *r, const char *config,
			   enum side side, unsigned kind, unsigned ncpus,
			   const char *regs, const char *fmt, ...)
{
	struct job *j;
	va_list ap;

	if (side == SIDE_QEMU && !r->have_qemu)
		return NULL;
	if (r->njobs == r->maxjobs)
		return NULL;
	j = &r->jobs[r->njobs++];
	memset(j, 0, sizeof(*j));
	j->config = config;
	j->side = side;
	j->kind = kind;
	j->ncpus = ncpus;
	j->group = r->ngroups;
	j->devices = 1;
	j->count = r->count;
	snprintf(j->regs, sizeof(j->regs), "%s", regs);
	va_start(ap, fmt);
	vsnprintf(j->args, sizeof(j->args), fmt, ap);
	va_end(ap);
	return j;
}

static void plan(struct report *r)
{
	struct job *j;
	unsigned i, k;
	static const struct {
		unsigned kind;
		const char *regs;
		const char *local, *qemu, *floor;
	} compare[] = {
		{ PROBE_NONE, "no access (the loop alone)", "", "", "" },
		{ PROBE_PIO_READ, "UART line status, port 0x3fd, 1 byte",
		  "reg=0x3fd width=1", "reg=0x3fd width=1",
		  "reg=0x3fd width=1" },
		{ PROBE_PIO_WRITE, "UART scratch, port 0x3ff, 1 byte",
		  "reg=0x3ff width=1 value=0", "reg=0x3ff width=1 value=0",
		  "reg=0x3ff width=1 value=0" },
		{ PROBE_MMIO_READ,
		  "first virtio-mmio transport's MagicValue (flatvm 0xd0000000, QEMU 0xfeb00000)",
		  "reg=0xd0000000", "reg=0xfeb00000", "reg=0xd0000000" },
		{ PROBE_MMIO_WRITE,
		  "virtio-rng transport's QueueSel (flatvm 0xd0000030, QEMU 0xfeb02e30)",
		  "reg=0xd0000030 value=0", "reg=0xfeb02e30 value=0",
		  "reg=0xd0000030 value=0" },
		{ PROBE_IOEVENTFD,
		  "virtio-rng QueueNotify at DRIVER_OK, ioeventfd (flatvm 0xd0000050, QEMU 0xfeb02e50; floor: its ioeventfd at 0xd1000014)",
		  "virtio=0xd0000000 reg=0xd0000050 value=0",
		  "virtio=0xfeb02e00 reg=0xfeb02e50 value=0",
		  "reg=0xd1000014 value=0" },
	};
	static const enum side sides[] = { SIDE_FLOOR, SIDE_FLATVM, SIDE_QEMU };

	for (k = 0; k < ARRAY_SIZE(compare); k++) {
		for (i = 0; i < ARRAY_SIZE(sides); i++) {
			j = add_job(r, "compare", sides[i], compare[k].kind, 1,
				    compare[k].regs, "%s",
				    sides[i] == SIDE_FLOOR ? compare[k].floor :
				    sides[i] == SIDE_QEMU ? compare[k].qemu :
				    compare[k].local);
			if (j && compare[k].kind == PROBE_MMIO_READ &&
			    sides[i] != SIDE_FLOOR)
				j->hist = true;
		}
		r->ngroups++;
	}

	/* Scale: flatvm's test devices, QEMU's first transports. */
	j = add_job(r, "scale-1cpu", SIDE_FLATVM, PROBE_MMIO_READ, 1,
		    "test device 0's SCRATCH (0xd1000004); 8 test devices mapped",
		    "reg=0x%x", FLATVM_SCRATCH);
	j->devices = 8;
	add_job(r, "scale-1cpu", SIDE_QEMU, PROBE_MMIO_READ, 1,
		"transport 0's MagicValue (0xfeb00000)", "reg=0x%x",
		QEMU_VIRTIO_BASE);
	r->ngroups++;
	j = add_job(r, "scale-2cpu-same", SIDE_FLATVM, PROBE_MMIO_READ, 2,
		    "both vCPUs: test device 0's SCRATCH; 8 test devices mapped",
		    "reg=0x%x", FLATVM_SCRATCH);
	j->devices = 8;
	add_job(r, "scale-2cpu-same", SIDE_QEMU, PROBE_MMIO_READ, 2,
		"both vCPUs: transport 0's MagicValue", "reg=0x%x",
		QEMU_VIRTIO_BASE);
	r->ngroups++;
	j = add_job(r, "scale-2cpu-diff", SIDE_FLATVM, PROBE_MMIO_READ, 2,
		    "vCPU 0: test device 0's SCRATCH, vCPU 1: test device 1's (0xd8000004); 8 test devices mapped",
		    "reg=0x%x,0x%x", FLATVM_SCRATCH,
		    (uint32_t)REPORT_DEV_BASE + TESTDEV_SCRATCH);
	j->devices = 8;
	add_job(r, "scale-2cpu-diff", SIDE_QEMU, PROBE_MMIO_READ, 2,
		"vCPU 0: transport 0's MagicValue, vCPU 1: transport 1's (0xfeb00200)",
		"reg=0x%x,0x%x", QEMU_VIRTIO_BASE, QEMU_VIRTIO_BASE + 0x200);
	r->ngroups++;
	j = add_job(r, "scale-512dev", SIDE_FLATVM, PROBE_MMIO_READ, 1,
		    "test device 0's SCRATCH; 512 test devices mapped",
		    "reg=0x%x", FLATVM_SCRATCH);
	j->devices = REPORT_DEV_MAX;
	r->ngroups++;

	/* Hotplug churn: longer runs, for the tail and the timeline. */
	for (i = 0; i < 2; i++) {
		j = add_job(r, i ? "churn-on" : "churn-off", SIDE_FLATVM,
			    PROBE_MMIO_READ, 1,
			    i ? "test device 0's SCRATCH while another test device is plugged and unplugged in a loop over QMP" :
				"test device 0's SCRATCH, control socket idle",
			    "reg=0x%x", FLATVM_SCRATCH);
		j->devices = 8;
		j->churn = i;
		j->count = r->count * CHURN_FACTOR;
		/* One group: with and without take turns going first. */
		j->group = r->ngroups;
	}
	r->ngroups++;
}

static int acc_alloc(struct report *r)
{
	struct job *j;
	size_t n, e;
	unsigned i, c;

	for (i = 0; i < r->njobs; i++) {
		j = &r->jobs[i];
		n = (size_t)r->rounds * j->count;
		e = (size_t)r->rounds * (j->count < PROBE_MAX_EMPTY ?
					 j->count : PROBE_MAX_EMPTY);
		for (c = 0; c < j->ncpus; c++) {
			j->acc[c].samples = calloc(n, 4);
			j->acc[c].stamps = calloc(n, 4);
			j->acc[c].empty = calloc(e, 4);
			if (!j->acc[c].samples || !j->acc[c].stamps ||
			    !j->acc[c].empty)
				return -ENOMEM;
		}
	}
	return 0;
}

static void jobs_free(struct report *r)
{
	struct job *j;
	unsigned i, c;

	for (i = 0; i < r->njobs; i++) {
		j = &r->jobs[i];
		for (c = 0; c < PROBE_MAX_CPUS; c++) {
			free(j->acc[c].samples);
			free(j->acc[c].stamps);
			free(j->acc[c].empty);
		}
		json_decref(j->qmp_stats);
		free(j->console);
	}
	free(r->jobs);
}

static int measure(struct report *r, struct error *err)
{
	unsigned round, g, i, n, first, idx, done_side = 0;
	struct job *j;
	int ret;

	/*
	 * Warm-up: one short run per side.  A side that cannot run at all
	 * (QEMU without KVM access, say) is skipped; flatvm is not optional.
	 */
	for (i = 0; i < r->njobs; i++) {
		j = &r->jobs[i];
		if (j->kind != PROBE_PIO_READ || (done_side & (1u << j->side)))
			continue;
		done_side |= 1u << j->side;
		ret = run_job(r, j, WARMUP_COUNT, false, err);
		if (ret && j->side == SIDE_FLATVM)
			return ret;
		if (ret) {
			skip(r, side_keys[j->side], err->msg);
			*err = (struct error){ 0 };
			for (n = 0; n < r->njobs; n++)
				if (r->jobs[n].side == j->side)
					r->jobs[n].failed = true;
		}
	}
	for (round = 0; round < r->rounds; round++) {
		for (g = 0; g < r->ngroups; g++) {
			for (first = 0; first < r->njobs &&
			     r->jobs[first].group != g; first++)
				;
			for (n = 0; first + n < r->njobs &&
			     r->jobs[first + n].group == g; n++)
				;
			for (i = 0; i < n; i++) {
				idx = first + (i + round) % n;
				j = &r->jobs[idx];
				r->done++;
				if (j->failed)
					continue;
				progress(r, round, j);
				ret = run_job(r, j, j->count, true, err);
				if (ret) {
					/* What cannot run here is skipped, and said so. */
					j->failed = true;
					skip(r, "measurement", err->msg);
					*err = (struct error){ 0 };
				}
			}
		}
	}
	if (r->tty)
		fprintf(stderr, "\r\033[K");
	return 0;
}

/* ---- Figures ------------------------------------------------------------ */

static const struct job *find_job(const struct report *r, const char *config,
				  enum side side, unsigned kind)
{
	unsigned i;

	for (i = 0; i < r->njobs; i++)
		if (!strcmp(r->jobs[i].config, config) &&
		    r->jobs[i].side == side && r->jobs[i].kind == kind)
			return &r->jobs[i];
	return NULL;
}

/* The console histogram against the samples in memory. */
static json_t *hist_check(const struct report *r, const struct job *j,
			  unsigned cpu, const struct lat_stats *st)
{
	struct probe_hist h[PROBE_MAX_CPUS];
	struct error err = { 0 };
	uint32_t lo, hi, raw;
	const struct acc *a = &j->acc[cpu];
	struct lat_stats last;
	int n;

	if (!j->hist || !j->console)
		return NULL;
	n = probe_hist_parse(j->console, j->console_len, h, &err);
	if (n < 0)
		return json_pack("{s:b, s:s}", "agrees", 0, "error", err.msg);
	if (!h[cpu].ended)
		return json_pack("{s:b, s:s}", "agrees", 0, "error",
				 "the probe printed no histogram for this vCPU");
	/* The last run's samples (the console is the last run's), raw. */
	if (lat_stats_copy(a->samples + a->nsamples - j->count, j->count,
			   NULL, 0, 1000000, &last, NULL))
		return NULL;
	raw = (uint32_t)last.p50;
	lo = probe_hist_quantile(h[cpu].samples, h[cpu].nsamples, 0.5, &hi);
	(void)st;
	return json_pack("{s:b, s:I, s:I, s:I, s:f, s:I}",
			 "agrees", raw >= lo && raw < hi && h[cpu].count ==
			 j->count && h[cpu].kind == j->kind,
			 "console_p50_bucket_lo_ticks", (json_int_t)lo,
			 "console_p50_bucket_hi_ticks", (json_int_t)hi,
			 "memory_p50_ticks", (json_int_t)raw,
			 "memory_p50_ns", raw * 1e6 / r->tsc_khz,
			 "console_count", (json_int_t)h[cpu].count);
}

static json_t *series_json(const struct report *r, const struct job *j,
			   unsigned cpu)
{
	const struct acc *a = &j->acc[cpu];
	const struct job *none;
	struct lat_stats st;
	json_t *o, *runs, *chk;
	uint32_t *s;
	unsigned i;

	if (lat_stats_copy(a->samples, a->nsamples, a->empty, a->nempty,
			   r->tsc_khz, &st, &s))
		return NULL;
	runs = json_array();
	for (i = 0; i < a->nruns; i++)
		json_array_append_new(runs, json_real((a->run_p50[i]) * 1e6 /
						      r->tsc_khz));
	o = json_pack("{s:s, s:s, s:s, s:i, s:i, s:s, s:s, s:I, s:i, s:o, s:o, s:o}",
		      "config", j->config, "side", side_keys[j->side],
		      "kind", probe_kind_name(j->kind), "cpu", (int)cpu,
		      "ncpus", (int)j->ncpus, "registers", j->regs,
		      "probe_args", j->args, "count", (json_int_t)j->count,
		      "runs", (int)a->nruns, "stats", lat_stats_json(&st),
		      "run_p50_ns", runs,
		      "cdf", lat_cdf_json(s, a->nsamples, &st, r->tsc_khz));
	/*
	 * mean and wall: K's run minus the none run of the same round, the
	 * median over at least MIN_ROUNDS_MEAN rounds (one difference of two
	 * runs is mostly noise here); only against a baseline that ran
	 * every round K did.  No wall for ioeventfd on flatvm and QEMU (its
	 * runs also bring the virtio device up) nor for a run with the
	 * console histogram (the probe builds it before its "accesses in"
	 * line): the baseline does neither.
	 */
	none = find_job(r, j->config, j->side, PROBE_NONE);
	if (none && none != j && cpu == 0 && !none->failed &&
	    r->rounds >= MIN_ROUNDS_MEAN && none->acc[0].nruns == a->nruns &&
	    none->nwall == j->nwall && j->nwall == a->nruns) {
		json_object_set_new(o, "mean_ns", json_real(
			bench_paired_median(a->run_loop, none->acc[0].run_loop,
				      a->nruns) / j->count * 1e6 / r->tsc_khz));
		if ((j->kind != PROBE_IOEVENTFD || j->side == SIDE_FLOOR) &&
		    !j->hist)
			json_object_set_new(o, "wall_ns", json_real(
				bench_paired_median(j->run_wall, none->run_wall,
					      j->nwall) / j->count));
	}
	if (!strncmp(j->config, "churn", 5))
		json_object_set_new(o, "timeline",
				    lat_timeline_json(a->samples + a->nsamples -
						      j->count,
						      a->stamps + a->nsamples -
						      j->count, j->count,
						      TIMELINE_CHUNKS, st.timer,
						      r->tsc_khz));
	if (j->churn)
		json_object_set_new(o, "churn", json_pack("{s:i, s:f}",
				    "cycles", (int)j->churn_cycles,
				    "per_s", j->churn_ns ? j->churn_cycles *
				    1e9 / j->churn_ns : 0.0));
	chk = hist_check(r, j, cpu, &st);
	if (chk)
		json_object_set_new(o, "console_histogram", chk);
	if (j->qmp_stats && cpu == 0)
		json_object_set(o, "query_stats", j->qmp_stats);
	free(s);
	return o;
}

/* ---- The machine -------------------------------------------------------- */

static void read_line_of(const char *path, const char *key, char *buf,
			 size_t len)
{
	char line[512], *v;
	FILE *f = fopen(path, "r");

	buf[0] = '\0';
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, strlen(key)))
			continue;
		v = strchr(line, ':');
		if (!v)
			continue;
		v++;
		while (*v == ' ' || *v == '\t')
			v++;
		v[strcspn(v, "\n")] = '\0';
		snprintf(buf, len, "%s", v);
		break;
	}
	fclose(f);
}

static bool cpu_flag(const char *flag)
{
	char flags[4096], *p;
	size_t n = strlen(flag);

	read_line_of("/proc/cpuinfo", "flags", flags, sizeof(flags));
	for (p = flags; (p = strstr(p, flag)); p += n)
		if ((p == flags || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
			return true;
	return false;
}

static const char *kvm_flavour(void)
{
	if (!access("/sys/module/kvm_pvm", F_OK))
		return "kvm_pvm (PVM: software virtualization; guests that are not PVM-enabled run under KVM's instruction emulator)";
	if (!access("/sys/module/kvm_intel", F_OK))
		return "kvm_intel (VMX)";
	if (!access("/sys/module/kvm_amd", F_OK))
		return "kvm_amd (SVM)";
	return "unknown";
}

/* The first line @argv prints, into @buf (empty if it fails). */
static void first_line_of(char *const argv[], char *buf, size_t len)
{
	struct bench_child c;
	struct error err = { 0 };

	buf[0] = '\0';
	if (bench_child_spawn(&c, argv, &err))
		return;
	bench_child_watch(&c, NULL, 10ull * 1000000000ull);
	snprintf(buf, len, "%.*s", (int)strcspn(c.out, "\n"), c.out);
	bench_child_release(&c);
}

/*
 * The TSC against CLOCK_MONOTONIC over @ms milliseconds, in MHz: the
 * guests' TSC is the host's (no VMM here scales it), so this checks the
 * rate KVM_GET_TSC_KHZ gives, which converts every figure.
 */
static double tsc_calibrate(unsigned ms)
{
	struct timespec ts = { 0, (long)ms * 1000000L };
	uint64_t t0, t1, c0, c1;

	t0 = bench_now_ns();
	c0 = __builtin_ia32_rdtsc();
	nanosleep(&ts, NULL);
	c1 = __builtin_ia32_rdtsc();
	t1 = bench_now_ns();
	return t1 > t0 ? (double)(c1 - c0) * 1e3 / (double)(t1 - t0) : 0;
}

static json_t *machine_json(struct report *r)
{
	char model[256], qemu[256] = "", kernel[200];
	struct utsname u;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	bool hyper = cpu_flag("hypervisor");
	char *qargv[] = { r->qemu, "--version", NULL };

	read_line_of("/proc/cpuinfo", "model name", model, sizeof(model));
	uname(&u);
	snprintf(kernel, sizeof(kernel), "%s %s", u.sysname, u.release);
	if (r->have_qemu)
		first_line_of(qargv, qemu, sizeof(qemu));
	return json_pack("{s:s, s:i, s:s, s:s, s:s, s:b, s:b, s:I, s:s?, s:s, s:f, s:i}",
			 "cpu", model[0] ? model : "unknown", "cpus", (int)ncpu,
			 "kernel", kernel,
			 "machine", u.machine,
			 "kvm", kvm_flavour(),
			 "hypervisor_flag", hyper,
			 "nested", hyper || !access("/sys/module/kvm_pvm",
						    F_OK),
			 "tsc_khz", (json_int_t)r->tsc_khz,
			 "qemu", r->have_qemu ? qemu : NULL,
			 "qemu_path", r->have_qemu ? r->qemu : "not installed",
			 "tsc_mhz_calibrated", tsc_calibrate(TSC_CALIBRATION_MS),
			 "tsc_calibration_ms", TSC_CALIBRATION_MS);
}

/* `flatvm-bench dispatch --json` in a child: its object, or NULL. */
static json_t *run_dispatch(struct report *r)
{
	char self[256], *argv[] = {
		self, "dispatch", "--json",
		r->opts->quick ? "--quick" : "--seconds",
		r->opts->quick ? NULL : "0.25", NULL,
	};
	struct error err = { 0 };
	struct bench_child c;
	json_error_t jerr;
	json_t *o = NULL;
	ssize_t n;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		skip(r, "in-process dispatch", "cannot find our own executable");
		return NULL;
	}
	self[n] = '\0';
	progress_note(r, "flatvm-bench report: in-process dispatch (flatvm-bench dispatch --json)");
	if (bench_child_run(&c, argv, CHILD_TIMEOUT_NS, &err))
		skip(r, "in-process dispatch", err.msg);
	else if (!(o = json_loads(c.out, 0, &jerr)))
		skip(r, "in-process dispatch", jerr.text);
	bench_child_release(&c);
	return o;
}

/* ---- The mode ---------------------------------------------------------- */

/* Whatever a failed run may have left in the work directory, then it. */
static void workdir_remove(struct report *r)
{
	static const char *const files[] = {
		"qemu-ram", "qmp.sock",
	};
	char path[128];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(files); i++) {
		snprintf(path, sizeof(path), "%s/%s", r->workdir, files[i]);
		unlink(path);
	}
	if (rmdir(r->workdir))
		fprintf(stderr, "flatvm-bench report: cannot remove %s: %s\n",
			r->workdir, strerror(errno));
}

static int usage_error(const char *msg)
{
	fprintf(stderr, "flatvm-bench report: %s\n", msg);
	return BENCH_EXIT_USAGE;
}

static int mkdir_p(const char *dir, struct error *err)
{
	char tmp[512], *p;

	snprintf(tmp, sizeof(tmp), "%s", dir);
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return error_setf(err, errno, "%s: %s", tmp,
					  strerror(errno));
		*p = '/';
	}
	if (mkdir(tmp, 0755) && errno != EEXIST)
		return error_setf(err, errno, "%s: %s", tmp, strerror(errno));
	return 0;
}

static int render(json_t *root, const char *out, struct error *err)
{
	char gnuplot[256];
	bool have = report_find_on_path("gnuplot", gnuplot, sizeof(gnuplot));

	return report_render(root, out, have ? gnuplot : NULL, err);
}

int bench_report(const struct bench_opts *opts)
{
	struct report r = { .opts = opts };
	struct error err = { 0 };
	json_t *root, *series;
	char path[600], why[256];
	unsigned i, c;
	int ret = BENCH_EXIT_FAILED;

	if (opts->from) {
		json_error_t jerr;

		if (!opts->out)
			return usage_error("--from needs --out DIR");
		root = json_load_file(opts->from, 0, &jerr);
		if (!root) {
			fprintf(stderr,
				"flatvm-bench report: %s: line %d: %s (expected a report.json written by flatvm-bench report)\n",
				opts->from, jerr.line, jerr.text);
			return BENCH_EXIT_FAILED;
		}
		if (mkdir_p(opts->out, &err) || render(root, opts->out, &err)) {
			fprintf(stderr, "flatvm-bench report: %s\n", err.msg);
			json_decref(root);
			return BENCH_EXIT_FAILED;
		}
		json_decref(root);
		printf("%s/report.md\n", opts->out);
		return BENCH_EXIT_OK;
	}
	r.outdir = opts->out ? opts->out : "flatvm-report";
	r.tty = isatty(STDERR_FILENO);
	r.count = opts->quick ? COUNT_QUICK : COUNT;
	r.rounds = opts->quick ? ROUNDS_QUICK : ROUNDS;
	r.skipped = json_array();
	r.started_ns = bench_now_ns();
	if (!kvm_available(why, sizeof(why))) {
		fprintf(stderr,
			"flatvm-bench report: skipped: %s\n", why);
		json_decref(r.skipped);
		return BENCH_EXIT_SKIP;
	}
	if (mkdir_p(r.outdir, &err) || bench_tsc_khz(&r.tsc_khz, &err)) {
		fprintf(stderr, "flatvm-bench report: %s\n", err.msg);
		json_decref(r.skipped);
		return BENCH_EXIT_FAILED;
	}
	snprintf(r.workdir, sizeof(r.workdir), "/tmp/flatvm-report-XXXXXX");
	if (!mkdtemp(r.workdir)) {
		fprintf(stderr, "flatvm-bench report: mkdtemp: %s\n",
			strerror(errno));
		json_decref(r.skipped);
		return BENCH_EXIT_FAILED;
	}
	r.have_qemu = report_find_on_path("qemu-system-x86_64", r.qemu,
					  sizeof(r.qemu));
	if (!r.have_qemu)
		skip(&r, "QEMU microvm",
		     "qemu-system-x86_64 is not on PATH (Debian package qemu-system-x86)");
	r.maxjobs = 64;
	r.jobs = calloc(r.maxjobs, sizeof(*r.jobs));
	if (!r.jobs)
		goto out;
	plan(&r);
	r.total = r.njobs * r.rounds;
	if (acc_alloc(&r)) {
		fprintf(stderr, "flatvm-bench report: out of memory\n");
		goto out;
	}
	rcu_thread_register();
	ret = measure(&r, &err);
	rcu_thread_unregister();
	if (ret) {
		fprintf(stderr, "\nflatvm-bench report: %s\n", err.msg);
		ret = BENCH_EXIT_FAILED;
		goto out;
	}

	root = json_pack("{s:s, s:i, s:b, s:I, s:i, s:I, s:o, s:o}",
			 "report", "flatvm-bench report", "version", 1,
			 "quick", opts->quick, "count", (json_int_t)r.count,
			 "rounds", (int)r.rounds,
			 "tsc_khz", (json_int_t)r.tsc_khz,
			 "machine", machine_json(&r),
			 "skipped", json_incref(r.skipped));
	series = json_array();
	for (i = 0; i < r.njobs; i++)
		for (c = 0; c < r.jobs[i].ncpus && !r.jobs[i].failed; c++)
			json_array_append_new(series,
					      series_json(&r, &r.jobs[i], c));
	json_object_set_new(root, "series", series);
	json_object_set_new(root, "dispatch", run_dispatch(&r) ?: json_null());
	json_object_set_new(root, "pinned", json_boolean(false));
	json_object_set_new(root, "duration_s",
			    json_real((bench_now_ns() - r.started_ns) / 1e9));
	snprintf(path, sizeof(path), "%s/report.json", r.outdir);
	if (json_dump_file(root, path, JSON_INDENT(1) | JSON_REAL_PRECISION(8))) {
		fprintf(stderr, "flatvm-bench report: cannot write %s\n", path);
		json_decref(root);
		ret = BENCH_EXIT_FAILED;
		goto out;
	}
	if (render(root, r.outdir, &err)) {
		fprintf(stderr, "flatvm-bench report: %s\n", err.msg);
		ret = BENCH_EXIT_FAILED;
	} else {
		printf("%s/report.md\n%s\n", r.outdir, path);
		ret = BENCH_EXIT_OK;
	}
	json_decref(root);
out:
	jobs_free(&r);
	json_decref(r.skipped);
	workdir_remove(&r);
	return ret;
}
