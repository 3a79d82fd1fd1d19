// SPDX-License-Identifier: GPL-2.0-only
/*
 * flatvm end to end: the flatvm executable boots the project's guests
 * (tests/guests/) through both loaders, with 1 and 2 vCPUs, and exits
 * with the status the guest or the situation calls for.  Skips (77) when
 * /dev/kvm is not usable.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "flatvm/kvm.h"
#include "guests.h"

struct result {
	int status;		/* exit status, or 128 + signal */
	char out[65536];
	char err[8192];
};

static void slurp(int fd, char *buf, size_t len)
{
	ssize_t n;
	size_t off = 0;

	lseek(fd, 0, SEEK_SET);
	while (off + 1 < len && (n = read(fd, buf + off, len - 1 - off)) > 0)
		off += (size_t)n;
	buf[off] = '\0';
}

/*
 * Run flatvm with @argv (NULL-terminated, after "run"); stdin is
 * /dev/null.  With @term_after_ms, send SIGTERM after that long.  The
 * run is bounded: after 60 s it is killed and the test fails.
 */
static void run_flatvm(const char *const *argv, int term_after_ms,
		       struct result *r)
{
	char out_path[] = "/tmp/flatvm-outXXXXXX";
	char err_path[] = "/tmp/flatvm-errXXXXXX";
	const char *args[32] = { FLATVM_BIN, "run" };
	int out = mkstemp(out_path), errfd = mkstemp(err_path);
	int i, status, waited = 0;
	pid_t pid;

	ck_assert_int_ge(out, 0);
	ck_assert_int_ge(errfd, 0);
	unlink(out_path);
	unlink(err_path);
	for (i = 0; argv[i] && i < 29; i++)
		args[i + 2] = argv[i];
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (!pid) {
		int devnull = open("/dev/null", O_RDONLY);

		dup2(devnull, 0);
		dup2(out, 1);
		dup2(errfd, 2);
		execv(FLATVM_BIN, (char *const *)args);
		_exit(127);
	}
	for (;;) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		nanosleep(&ts, NULL);
		waited += 10;
		if (term_after_ms && waited == term_after_ms)
			kill(pid, SIGTERM);
		if (waited >= 60000) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			ck_abort_msg("flatvm did not finish within 60 s");
		}
	}
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) :
		    128 + WTERMSIG(status);
	slurp(out, r->out, sizeof(r->out));
	slurp(errfd, r->err, sizeof(r->err));
	close(out);
	close(errfd);
}

#define RUN(r, ...) do {						\
		const char *const __a[] = { __VA_ARGS__, NULL };	\
		run_flatvm(__a, 0, (r));				\
	} while (0)

static struct result res;

static void assert_passed(const struct result *r)
{
	ck_assert_msg(r->status == 0, "exit %d\nstdout:\n%s\nstderr:\n%s",
		      r->status, r->out, r->err);
	ck_assert_msg(strstr(r->out, " 0 failed"), "stdout:\n%s", r->out);
	ck_assert_msg(!strstr(r->out, "FAIL"), "stdout:\n%s", r->out);
}

START_TEST(builtin_guest_runs_and_powers_off)
{
	RUN(&res, "--mem", "64M");
	assert_passed(&res);
	ck_assert_ptr_nonnull(strstr(res.out, "flatvm built-in guest"));
}
END_TEST

static const char *const images[] = { GUEST_BASIC_PVH, GUEST_BASIC_BZIMAGE };

START_TEST(basic_guest_both_loaders_1_and_2_cpus)
{
	const char *image = images[_i / 2];
	const char *cpus = (_i % 2) ? "2" : "1";
	char cmdline[64];

	snprintf(cmdline, sizeof(cmdline), "cpus=%s virtio=0 initrd=none",
		 cpus);
	RUN(&res, "--kernel", image, "--cpus", cpus, "--cmdline", cmdline);
	assert_passed(&res);
}
END_TEST

/*
 * The probe starts its APs with INIT-SIPI-SIPI and every vCPU times its
 * own accesses; with apic-off it does so without software-enabling its
 * local APIC first, which hardware allows and which worked here only
 * once flatvm set every vCPU's LAPIC (KVM's APIC-ID map).
 */
START_TEST(aps_start_on_init_sipi)
{
	static const char *const words[] = { "", " apic-off" };
	const char *cpus = _i < 2 ? "2" : "4";
	char cmdline[128], up[32];

	snprintf(cmdline, sizeof(cmdline),
		 "kind=mmio-read count=50 cpus=%s hist%s", cpus, words[_i % 2]);
	RUN(&res, "--kernel", GUEST_PROBE_PVH, "--cpus", cpus, "--mem", "96M",
	    "--cmdline", cmdline);
	ck_assert_msg(res.status == 0, "exit %d\nstdout:\n%s\nstderr:\n%s",
		      res.status, res.out, res.err);
	snprintf(up, sizeof(up), "probe: %d APs up", atoi(cpus) - 1);
	ck_assert_msg(strstr(res.out, up), "no '%s' in:\n%s", up, res.out);
	/* Every vCPU ran its loop: one histogram end line each. */
	ck_assert_ptr_nonnull(strstr(res.out, "probe: cpu=1 end"));
	if (_i >= 2)
		ck_assert_ptr_nonnull(strstr(res.out, "probe: cpu=3 end"));
}
END_TEST

START_TEST(initrd_reaches_the_guest)
{
	char path[] = "/tmp/flatvm-initrdXXXXXX";
	char cmdline[96];
	uint32_t fnv = 0x811c9dc5u;
	unsigned char buf[3000];
	unsigned i;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	for (i = 0; i < sizeof(buf); i++) {
		buf[i] = (unsigned char)(i * 7 + 3);
		fnv = (fnv ^ buf[i]) * 16777619u;
	}
	ck_assert_int_eq(write(fd, buf, sizeof(buf)), (int)sizeof(buf));
	close(fd);
	snprintf(cmdline, sizeof(cmdline),
		 "virtio=0 initrd=expect initrd_fnv=0x%08x", fnv);
	RUN(&res, "--kernel", images[_i], "--initrd", path, "--cmdline",
	    cmdline);
	unlink(path);
	assert_passed(&res);
	ck_assert_ptr_nonnull(strstr(res.out, "ok initrd-checksum"));
}
END_TEST

/* A disk file of @sectors with a known sector 0; returns its FNV-1a. */
static uint32_t make_disk(char *path, unsigned sectors)
{
	unsigned char buf[512];
	uint32_t fnv = 0x811c9dc5u;
	unsigned i, s;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	for (s = 0; s < sectors; s++) {
		for (i = 0; i < sizeof(buf); i++) {
			buf[i] = (unsigned char)(s * 31 + i * 13 + 1);
			if (!s)
				fnv = (fnv ^ buf[i]) * 16777619u;
		}
		ck_assert_int_eq(write(fd, buf, sizeof(buf)), (int)sizeof(buf));
	}
	close(fd);
	return fnv;
}

/* What the virtio guest writes to sector 1 (tests/guests/README.md). */
static void expect_sector1(const char *path)
{
	static const char head[] = "flatvm virtio guest sector 1\n";
	unsigned char buf[512];
	unsigned i;
	int fd = open(path, O_RDONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, buf, sizeof(buf), 512), 512);
	close(fd);
	ck_assert_int_eq(memcmp(buf, head, sizeof(head) - 1), 0);
	for (i = 32; i < 512; i++)
		ck_assert_uint_eq(buf[i], (i * 7 + 0x5a) & 0xff);
}

/* virtio-blk and virtio-rng through both loaders: found through the
 * DSDT, driven through the virtqueues; the write is in the file after. */
static const char *const virtio_images[] = { GUEST_VIRTIO_PVH,
					     GUEST_VIRTIO_BZIMAGE };

START_TEST(virtio_guest_disk_and_rng)
{
	char disk[] = "/tmp/flatvm-diskXXXXXX";
	char cmdline[128];
	uint32_t fnv = make_disk(disk, 64);

	snprintf(cmdline, sizeof(cmdline),
		 "virtio=2 blk=1 rng=1 sector0=0x%08x", fnv);
	RUN(&res, "--kernel", virtio_images[_i], "--disk", disk, "--rng",
	    "--cmdline", cmdline);
	assert_passed(&res);
	ck_assert_ptr_nonnull(strstr(res.out, "ok blk0-sector0-checksum"));
	ck_assert_ptr_nonnull(strstr(res.out, "ok rng0-read"));
	expect_sector1(disk);
	unlink(disk);
}
END_TEST

START_TEST(readonly_disk_refuses_the_guest_write)
{
	char disk[] = "/tmp/flatvm-diskXXXXXX";
	unsigned char before[512], after[512];
	char disk_ro[64];
	int fd;

	make_disk(disk, 8);
	fd = open(disk, O_RDONLY);
	ck_assert_int_eq(pread(fd, before, 512, 512), 512);
	close(fd);
	snprintf(disk_ro, sizeof(disk_ro), "%s,ro", disk);
	RUN(&res, "--kernel", GUEST_VIRTIO_PVH, "--disk", disk_ro,
	    "--cmdline", "virtio=1 blk=1 rng=0");
	/* The device offers VIRTIO_BLK_F_RO and fails the guest's write. */
	assert_passed(&res);
	ck_assert_ptr_nonnull(strstr(res.out, "ok blk0-write-refused"));
	fd = open(disk, O_RDONLY);
	ck_assert_int_eq(pread(fd, after, 512, 512), 512);
	close(fd);
	ck_assert_int_eq(memcmp(before, after, 512), 0);
	unlink(disk);
}
END_TEST

START_TEST(virtio_devices_on_the_kernel_command_line)
{
	char disk[] = "/tmp/flatvm-diskXXXXXX";

	make_disk(disk, 8);
	RUN(&res, "--kernel", GUEST_BASIC_PVH, "--disk", disk, "--rng",
	    "--virtio-cmdline", "--cmdline", "virtio=2");
	unlink(disk);
	assert_passed(&res);
	ck_assert_msg(strstr(res.out, "virtio=2 virtio_mmio.device=512@0xd0000000:5 virtio_mmio.device=512@0xd0000200:6"),
		      "stdout:\n%s", res.out);
}
END_TEST

/* Nine transports: their GSIs skip the RTC's (8) and i8042 AUX (12). */
START_TEST(many_virtio_devices_get_lines_of_their_own)
{
	char disks[8][32];
	const char *args[32];
	unsigned i, n = 0;

	for (i = 0; i < 8; i++) {
		snprintf(disks[i], sizeof(disks[i]), "/tmp/flatvm-diskXXXXXX");
		make_disk(disks[i], 2);
		args[n++] = "--disk";
		args[n++] = disks[i];
	}
	args[n++] = "--rng";
	args[n++] = "--kernel";
	args[n++] = GUEST_BASIC_PVH;
	args[n++] = "--cmdline";
	args[n++] = "virtio=9";
	args[n] = NULL;
	run_flatvm(args, 0, &res);
	for (i = 0; i < 8; i++)
		unlink(disks[i]);
	assert_passed(&res);
	ck_assert_ptr_nonnull(strstr(res.out, "0xd0000400 size 0x200 gsi 7"));
	ck_assert_ptr_nonnull(strstr(res.out, "0xd0000600 size 0x200 gsi 9"));
	ck_assert_ptr_nonnull(strstr(res.out, "0xd0000c00 size 0x200 gsi 13"));
	ck_assert_ptr_null(strstr(res.out, "size 0x200 gsi 8"));
	ck_assert_ptr_null(strstr(res.out, "size 0x200 gsi 12"));
}
END_TEST

START_TEST(guest_failures_become_the_exit_status)
{
	/* The guest sees 1 CPU, is told 3: one failed check, status 2. */
	RUN(&res, "--kernel", GUEST_BASIC_PVH, "--cmdline", "cpus=3 virtio=0");
	ck_assert_int_eq(res.status, 2);
	ck_assert_ptr_nonnull(strstr(res.out, "FAIL"));
}
END_TEST

START_TEST(emulation_failure_is_reported_not_hung)
{
	RUN(&res, "--kernel", GUEST_BASIC_PVH, "--cmdline",
	    "virtio=0 crash=unassigned");
	ck_assert_int_eq(res.status, 1);
	ck_assert_msg(strstr(res.err, "RIP 0xd2000000") &&
		      strstr(res.err, "instruction bytes"),
		      "stderr:\n%s", res.err);
}
END_TEST

START_TEST(sigterm_stops_cleanly)
{
	const char *const args[] = { "--kernel", GUEST_BASIC_PVH, "--cpus",
				     "2", "--cmdline",
				     "cpus=2 virtio=0 spin", NULL };

	run_flatvm(args, 500, &res);
	ck_assert_msg(res.status == 0, "exit %d\nstderr:\n%s", res.status,
		      res.err);
	ck_assert_ptr_nonnull(strstr(res.out, "spinning until stopped"));
}
END_TEST

START_TEST(bad_command_lines_are_refused_clearly)
{
	RUN(&res, "--kernel", "/nonexistent/vmlinux");
	ck_assert_int_eq(res.status, 2);
	ck_assert_ptr_nonnull(strstr(res.err, "--kernel /nonexistent/vmlinux"));
	RUN(&res, "--kernel", "/etc/hostname");
	ck_assert_int_eq(res.status, 1);
	ck_assert_msg(strstr(res.err, "/etc/hostname"), "%s", res.err);
	RUN(&res, "--mem", "4M");
	ck_assert_int_ne(res.status, 0);
	ck_assert_ptr_nonnull(strstr(res.err, "too small"));
	RUN(&res, "--mem", "lots");
	ck_assert_int_eq(res.status, 2);
	ck_assert_ptr_nonnull(strstr(res.err, "--mem"));
	RUN(&res, "--cpus", "0");
	ck_assert_int_eq(res.status, 2);
	RUN(&res, "--disk", "/nonexistent/disk.img");
	ck_assert_int_eq(res.status, 2);
	ck_assert_ptr_nonnull(strstr(res.err, "/nonexistent/disk.img"));
	RUN(&res, "--frobnicate");
	ck_assert_int_eq(res.status, 2);
	ck_assert_ptr_nonnull(strstr(res.err, "--frobnicate"));
}
END_TEST

static Suite *machine_suite(void)
{
	Suite *s = suite_create("machine");
	TCase *tc = tcase_create("machine");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, builtin_guest_runs_and_powers_off);
	tcase_add_loop_test(tc, basic_guest_both_loaders_1_and_2_cpus, 0, 4);
	tcase_add_loop_test(tc, aps_start_on_init_sipi, 0, 4);
	tcase_add_loop_test(tc, initrd_reaches_the_guest, 0, 2);
	tcase_add_loop_test(tc, virtio_guest_disk_and_rng, 0, 2);
	tcase_add_test(tc, readonly_disk_refuses_the_guest_write);
	tcase_add_test(tc, virtio_devices_on_the_kernel_command_line);
	tcase_add_test(tc, many_virtio_devices_get_lines_of_their_own);
	tcase_add_test(tc, guest_failures_become_the_exit_status);
	tcase_add_test(tc, emulation_failure_is_reported_not_hung);
	tcase_add_test(tc, sigterm_stops_cleanly);
	tcase_add_test(tc, bad_command_lines_are_refused_clearly);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN_REQUIRES(kvm_available, machine_suite)
