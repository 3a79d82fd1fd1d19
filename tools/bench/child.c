// SPDX-License-Identifier: GPL-2.0-only
/*
 * flatvm-bench: what the startup and memory modes share.  A VMM process
 * started with posix_spawn() (vfork + exec: the bench's own size does not
 * enter the measurement), its console read through a pipe with the
 * arrival of the first byte timestamped, its exit seen through a pidfd,
 * so every timestamp is taken the moment poll() returns.  Also, for every
 * mode, a JSON string printer and the sorts behind bench.h's quantiles.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

extern char **environ;

int bench_child_spawn(struct bench_child *c, char *const argv[],
		      struct error *err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none;
	int pipefd[2], ret;

	memset(c, 0, sizeof(*c));
	c->pid = -1;
	c->pidfd = c->out_fd = c->err_fd = -1;
	if (pipe2(pipefd, O_CLOEXEC))
		return error_setf(err, errno, "pipe: %s", strerror(errno));
	c->err_fd = memfd_create("bench-child-stderr", MFD_CLOEXEC);
	if (c->err_fd < 0) {
		ret = error_setf(err, errno, "memfd_create: %s",
				 strerror(errno));
		goto err_pipe;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
					 O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, c->err_fd, STDERR_FILENO);
	/* Whatever the bench blocks, the VMM starts with a clean mask. */
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);

	c->start_ns = bench_now_ns();
	ret = posix_spawn(&c->pid, argv[0], &fa, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (ret) {
		c->pid = -1;
		close(pipefd[0]);
		close(c->err_fd);
		c->err_fd = -1;
		return error_setf(err, ret, "cannot run %s: %s", argv[0],
				  strerror(ret));
	}
	c->out_fd = pipefd[0];
	fcntl(c->out_fd, F_SETFL, O_NONBLOCK);
	c->pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0);
	if (c->pidfd < 0) {
		ret = error_setf(err, errno, "pidfd_open: %s", strerror(errno));
		bench_child_release(c);
		return ret;
	}
	return 0;

err_pipe:
	close(pipefd[0]);
	close(pipefd[1]);
	return ret;
}

/* Take what the console has; @now is when poll() said it had something. */
static void child_read(struct bench_child *c, uint64_t now)
{
	char buf[4096];
	size_t room;
	ssize_t n;

	for (;;) {
		n = read(c->out_fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return;		/* EAGAIN: all taken */
		if (!n) {
			close(c->out_fd);
			c->out_fd = -1;
			return;
		}
		if (!c->first_ns)
			c->first_ns = now;
		room = sizeof(c->out) - 1 - c->out_len;
		if ((size_t)n > room)
			n = (ssize_t)room;
		memcpy(c->out + c->out_len, buf, (size_t)n);
		c->out_len += (size_t)n;
		c->out[c->out_len] = '\0';
	}
}

static void child_reap(struct bench_child *c, uint64_t now)
{
	int status;

	if (waitpid(c->pid, &status, 0) == c->pid) {
		c->status = status;
		c->exit_ns = now;
	}
}

int bench_child_watch(struct bench_child *c, const char *needle,
		      uint64_t timeout_ns)
{
	uint64_t deadline = bench_now_ns() + timeout_ns, now;
	struct pollfd pfd[2];
	const char *found;
	int n, ms;

	for (;;) {
		found = needle ? strstr(c->out, needle) : NULL;
		if (found && strchr(found, '\n'))
			return 1;
		if (c->exit_ns && c->out_fd < 0)
			return 0;
		now = bench_now_ns();
		if (now >= deadline)
			return -ETIMEDOUT;
		ms = (int)((deadline - now + 999999) / 1000000);
		n = 0;
		if (c->out_fd >= 0)
			pfd[n++] = (struct pollfd){ .fd = c->out_fd,
						    .events = POLLIN };
		if (!c->exit_ns)
			pfd[n++] = (struct pollfd){ .fd = c->pidfd,
						    .events = POLLIN };
		if (poll(pfd, (nfds_t)n, ms) < 0 && errno != EINTR)
			return -errno;
		now = bench_now_ns();
		if (c->out_fd >= 0)
			child_read(c, now);
		if (!c->exit_ns) {
			struct pollfd p = { .fd = c->pidfd, .events = POLLIN };

			if (poll(&p, 1, 0) == 1)
				child_reap(c, now);
		}
	}
}

int bench_child_stop(struct bench_child *c, int sig, uint64_t timeout_ns)
{
	int ret;

	if (c->exit_ns)
		return 0;
	if (sig)
		kill(c->pid, sig);
	ret = bench_child_watch(c, NULL, timeout_ns);
	if (ret == -ETIMEDOUT) {
		kill(c->pid, SIGKILL);
		child_reap(c, bench_now_ns());
	}
	return ret < 0 ? ret : 0;
}

void bench_child_release(struct bench_child *c)
{
	if (c->pid > 0 && !c->exit_ns) {
		kill(c->pid, SIGKILL);
		child_reap(c, bench_now_ns());
	}
	if (c->out_fd >= 0)
		close(c->out_fd);
	if (c->pidfd >= 0)
		close(c->pidfd);
	if (c->err_fd >= 0)
		close(c->err_fd);
	c->out_fd = c->pidfd = c->err_fd = -1;
}

int bench_child_run(struct bench_child *c, char *const argv[],
		    uint64_t timeout_ns, struct error *err)
{
	char desc[600];
	int ret = bench_child_spawn(c, argv, err);

	if (ret)
		return ret;
	if (bench_child_watch(c, NULL, timeout_ns) == -ETIMEDOUT) {
		bench_child_stop(c, SIGKILL, 1000000000ull);
		return error_setf(err, ETIMEDOUT,
				  "%s did not finish within %llu s (killed)",
				  argv[0],
				  (unsigned long long)(timeout_ns / 1000000000ull));
	}
	if (!WIFEXITED(c->status) || WEXITSTATUS(c->status)) {
		bench_child_describe(c, desc, sizeof(desc));
		return error_setf(err, EIO, "%s %s", argv[0], desc);
	}
	if (c->out_len == sizeof(c->out) - 1)
		return error_setf(err, EFBIG,
				  "%s printed more than the %d bytes kept of its output",
				  argv[0], BENCH_CHILD_OUT_MAX - 1);
	return 0;
}

void bench_child_describe(const struct bench_child *c, char *buf, size_t len)
{
	char err[512];
	ssize_t n = -1;
	int used;

	if (!c->exit_ns)
		used = snprintf(buf, len, "still running");
	else if (WIFEXITED(c->status))
		used = snprintf(buf, len, "exited with status %d",
				WEXITSTATUS(c->status));
	else if (WIFSIGNALED(c->status))
		used = snprintf(buf, len, "killed by signal %d",
				WTERMSIG(c->status));
	else
		used = snprintf(buf, len, "stopped (wait status %#x)",
				c->status);
	if (c->err_fd >= 0)
		n = pread(c->err_fd, err, sizeof(err) - 1, 0);
	if (n > 0 && used > 0 && (size_t)used < len) {
		err[n] = '\0';
		err[strcspn(err, "\n")] = '\0';
		snprintf(buf + used, len - (size_t)used, "; its stderr: %s",
			 err);
	}
}

void bench_json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", (unsigned char)*s);
		else
			putchar(*s);
	}
	putchar('"');
}

/* ---- Statistics -------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void bench_sort_u32(uint32_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_u32);
}

void bench_sort_u64(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
}

void bench_sort_double(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
}

double bench_median(const double *v, size_t n)
{
	double tmp[BENCH_MEDIAN_MAX];
	size_t i;

	if (!n)
		return 0;
	for (i = 0; i < n && i < BENCH_MEDIAN_MAX; i++)
		tmp[i] = v[i];
	bench_sort_double(tmp, i);
	return i % 2 ? tmp[i / 2] : (tmp[i / 2 - 1] + tmp[i / 2]) / 2;
}

double bench_paired_median(const double *a, const double *b, size_t n)
{
	double d[BENCH_MEDIAN_MAX];
	size_t i;

	for (i = 0; i < n && i < BENCH_MEDIAN_MAX; i++)
		d[i] = a[i] - b[i];
	return bench_median(d, i);
}
