// SPDX-License-Identifier: GPL-2.0-only
/*
 * Linux as far as it goes here: the flatvm executable boots Debian's
 * kernel (made by tools/mkguest into LINUX_GUEST_DIR) through both
 * loaders and checks what Linux prints about the machine flatvm built,
 * and that flatvm ends the way the host allows.
 *
 * The guest: if LINUX_GUEST_DIR has no vmlinux, main() runs tools/mkguest
 * to make one (a bounded fixture).  When it cannot get the packages (its
 * exit status 3: no network, no apt, no package lists) or does not finish
 * within MKGUEST_BOUND_S, the test skips (77) and says why: it must never
 * fail for lack of a network.  Any other mkguest failure fails the tests,
 * with its output.  /dev/kvm missing also skips.
 *
 * What is checked, for the PVH vmlinux (2 vCPUs, 512 MiB, the initramfs):
 * "Linux version 6.1", "Command line:" with exactly our command line,
 * the "BIOS-e820:" map against the one boot_e820_build() gives for 512
 * MiB (see check_e820(); spelled out, [mem 0x100000-0x1fffffff] usable
 * must be there), the ACPI table
 * lines RSDP, XSDT, FACP, DSDT and APIC each with the OEM id FLATVM, and
 * "smpboot: Allowing 2 CPUs".  Then the ending, which depends on the host:
 *
 *  - Where /dev/kvm is PVM (no VMX/SVM: this project's machines), Linux
 *    runs under KVM's instruction emulator and, about 50 s in, reaches an
 *    instruction it cannot emulate (lock cmpxchg16b, after "Memory:").
 *    flatvm must report it and exit: status 1, stderr naming "KVM
 *    emulation failure", the RIP and the instruction bytes.
 *  - On a VMX/SVM host Linux goes further.  We accept that it went
 *    further only if it went all the way: no emulation failure, and
 *    /init printed its marker line within the bound.  The test then stops
 *    flatvm with SIGTERM, which must give status 0.  Stopping anywhere
 *    short of /init without an error is a hang and fails.
 *
 * The bzImage (same command line, PVM: the 64-bit entry, then Linux's own
 * xz decompressor, which takes minutes under emulation) is given
 * BZIMAGE_BOUND_S: it must print the decompressor's KASLR line
 * ("KASLR disabled: 'nokaslr' on cmdline.", the first thing it prints);
 * whatever of the lines above it prints after that must be right; and it
 * must end in one of: still running at the bound or /init reached (then
 * SIGTERM, status 0), or an emulation failure reported as above.
 *
 * PVH_BOUND_S is about three times what the PVH run takes here.  The whole
 * test takes about 72 s here with the guest made (about 8 s more to make
 * it); ctest's limit is 400 s.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <asm/e820.h>

#include "harness.h"
#include "flatvm/boot.h"
#include "flatvm/kvm.h"

/* Linux's own helpful line, with early printk and without quiet. */
#define CMDLINE	"console=ttyS0 earlyprintk=serial,ttyS0 reboot=k panic=-1 mitigations=off nokaslr cryptomgr.notests tsc=reliable no_timer_check random.trust_cpu=on 8250.nr_uarts=1"
#define MEM		"512M"
#define MEM_BYTES	(512ull << 20)
#define CPUS		"2"
#define INIT_MARKER	"flatvm-guest: init reached"
#define KASLR_LINE	"KASLR disabled: 'nokaslr' on cmdline."

#define MKGUEST_BOUND_S		180
#define PVH_BOUND_S		150
#define BZIMAGE_BOUND_S		20
#define TERM_GRACE_S		10	/* SIGTERM to exit, at most */

#define VMLINUX		LINUX_GUEST_DIR "/vmlinux"
#define BZIMAGE		LINUX_GUEST_DIR "/bzImage"
#define INITRD		LINUX_GUEST_DIR "/initramfs.cpio.gz"

/* Set in main() when mkguest failed for a reason other than the network. */
static char guest_error[16384];

/* ---- Running a process with a time bound ------------------------------- */

enum ending {
	ENDED_BY_ITSELF,	/* exited before the bound */
	ENDED_AT_MARKER,	/* stop_at appeared: SIGTERM */
	ENDED_AT_BOUND,		/* the bound passed: SIGTERM */
};

struct result {
	enum ending ending;
	int status;		/* exit status, or 128 + signal */
	double seconds;		/* from start to exit */
	char out[262144];
	char err[16384];
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void slurp(int fd, char *buf, size_t len)
{
	ssize_t n;
	size_t off = 0;

	lseek(fd, 0, SEEK_SET);
	while (off + 1 < len &&
	       (n = read(fd, buf + off, len - 1 - off)) > 0)
		off += (size_t)n;
	buf[off] = '\0';
}

/*
 * Run @argv (NULL-terminated) with stdin /dev/null, stdout and stderr to
 * @r (for mkguest, stderr goes to stdout).  Once @stop_at appears on
 * stdout, or @bound_s passes, send SIGTERM; if it is still running
 * TERM_GRACE_S later, SIGKILL it.  Return false if it had to be killed.
 */
static bool run(const char *const *argv, const char *stop_at, int bound_s,
		bool merge_err, struct result *r)
{
	char out_path[] = "/tmp/flatvm-linux-outXXXXXX";
	char err_path[] = "/tmp/flatvm-linux-errXXXXXX";
	int out = mkstemp(out_path), errfd = mkstemp(err_path);
	double start = now(), termed = 0;
	int status = 0;
	pid_t pid;

	if (out < 0 || errfd < 0) {
		fprintf(stderr, "mkstemp: %s\n", strerror(errno));
		exit(EXIT_FAILURE);
	}
	unlink(out_path);
	unlink(err_path);
	r->ending = ENDED_BY_ITSELF;
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "fork: %s\n", strerror(errno));
		exit(EXIT_FAILURE);
	}
	if (!pid) {
		int devnull = open("/dev/null", O_RDONLY);

		/* Never outlive the test (a timed-out libcheck child). */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		setpgid(0, 0);
		dup2(devnull, 0);
		dup2(out, 1);
		dup2(merge_err ? out : errfd, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	for (;;) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		double t;

		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		nanosleep(&ts, NULL);
		t = now() - start;
		if (!termed && stop_at) {
			slurp(out, r->out, sizeof(r->out));
			if (strstr(r->out, stop_at))
				r->ending = ENDED_AT_MARKER;
		}
		if (!termed && t >= bound_s)
			r->ending = ENDED_AT_BOUND;
		if (!termed && r->ending != ENDED_BY_ITSELF) {
			kill(pid, SIGTERM);
			termed = t;
		}
		if (termed && t >= termed + TERM_GRACE_S) {
			/* mkguest's children too: its own process group. */
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
	}
	r->seconds = now() - start;
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) :
		    128 + WTERMSIG(status);
	slurp(out, r->out, sizeof(r->out));
	slurp(errfd, r->err, sizeof(r->err));
	close(out);
	close(errfd);
	return !(termed && r->seconds >= termed + TERM_GRACE_S);
}

/* The last non-empty line of @s, for messages. */
static const char *last_line(const char *s, char *buf, size_t len)
{
	const char *end = s + strlen(s), *p;

	while (end > s && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	for (p = end; p > s && p[-1] != '\n'; p--)
		;
	snprintf(buf, len, "%.*s", (int)(end - p), p);
	return buf;
}

/*
 * The end of @s, for assertion messages: libcheck refuses messages over
 * about 4 KiB, and the end is where a boot stops.
 */
static const char *tail(const char *s)
{
	size_t n = strlen(s);

	return s + (n > 2048 ? n - 2048 : 0);
}

/* ---- What Linux prints ------------------------------------------------- */

/* @s contains @text ending a line (followed by CR or LF). */
static bool has_line_ending(const char *s, const char *text)
{
	size_t n = strlen(text);
	const char *p;

	for (p = strstr(s, text); p; p = strstr(p + 1, text))
		if (p[n] == '\r' || p[n] == '\n')
			return true;
	return false;
}

/* The line of @s that contains @text, into @buf (empty if none). */
static const char *line_with(const char *s, const char *text, char *buf,
			     size_t len)
{
	const char *p = strstr(s, text), *b, *e;

	buf[0] = '\0';
	if (!p)
		return buf;
	for (b = p; b > s && b[-1] != '\n'; b--)
		;
	for (e = p; *e && *e != '\r' && *e != '\n'; e++)
		;
	snprintf(buf, len, "%.*s", (int)(e - b), b);
	return buf;
}

static const char *e820_name(uint32_t type)
{
	switch (type) {
	case E820_RAM:		return "usable";
	case E820_RESERVED:	return "reserved";
	case E820_ACPI:		return "ACPI data";
	default:		return "?";
	}
}

/* Linux's "BIOS-e820: [mem 0x...-0x...] type" lines. */
struct printed_e820 {
	uint64_t first, last;
	char type[32];
};

static unsigned parse_e820(const char *out, struct printed_e820 *e,
			   unsigned max)
{
	static const char key[] = "BIOS-e820: [mem ";
	const char *p;
	unsigned n = 0;

	for (p = strstr(out, key); p && n < max; p = strstr(p + 1, key)) {
		unsigned long long first, last;

		if (sscanf(p + sizeof(key) - 1, "%llx-%llx] %31[^\r\n]",
			   &first, &last, e[n].type) == 3) {
			e[n].first = first;
			e[n].last = last;
			n++;
		}
	}
	return n;
}

/*
 * The memory map Linux printed against flatvm's (boot_e820_build()):
 * every flatvm entry lies inside a printed range of its type, and the
 * usable ranges are exactly flatvm's RAM.  Not line for line: Linux's PVH
 * entry adds the legacy hole [0xa0000, 1 MiB) as reserved to the map it
 * is given, and sanitizing merges it with flatvm's EBDA entry (ACPI data
 * wins where they overlap), so PVH prints [0x9fc00-0xdffff] reserved
 * where flatvm said [0x9fc00-0x9ffff].
 */
static void check_e820(const char *out)
{
	struct boot_e820_entry map[BOOT_E820_MAX];
	struct printed_e820 got[32];
	unsigned i, j, n, ngot, nram = 0, ngot_ram = 0;

	/* Spelled out once, so the rest is not only the map against itself. */
	ck_assert_msg(has_line_ending(out, "BIOS-e820: [mem 0x0000000000100000-0x000000001fffffff] usable"),
		      "no usable RAM line for --mem " MEM " from 1 MiB; stdout:\n%s",
		      tail(out));

	ngot = parse_e820(out, got, 32);
	n = boot_e820_build(MEM_BYTES, true, map);
	for (i = 0; i < n; i++) {
		uint64_t first = map[i].addr, last = first + map[i].size - 1;
		const char *type = e820_name(map[i].type);
		bool covered = false, exact = false;

		for (j = 0; j < ngot; j++) {
			if (strcmp(got[j].type, type))
				continue;
			covered |= got[j].first <= first && last <= got[j].last;
			exact |= got[j].first == first && got[j].last == last;
		}
		ck_assert_msg(covered,
			      "flatvm's e820 [mem 0x%016" PRIx64 "-0x%016" PRIx64 "] %s is not in Linux's map; stdout:\n%s",
			      first, last, type, tail(out));
		if (map[i].type == E820_RAM) {
			nram++;
			ck_assert_msg(exact,
				      "Linux's usable RAM differs from flatvm's [mem 0x%016" PRIx64 "-0x%016" PRIx64 "]; stdout:\n%s",
				      first, last, tail(out));
		}
	}
	for (j = 0; j < ngot; j++)
		ngot_ram += !strcmp(got[j].type, "usable");
	ck_assert_msg(ngot_ram == nram,
		      "Linux printed %u usable ranges, flatvm gave %u; stdout:\n%s",
		      ngot_ram, nram, tail(out));
}

/*
 * The lines Linux prints about the machine, in the order it prints them.
 * With @all, every group must be there; otherwise a group is checked only
 * when its first line appears (the bzImage run may stop before).
 */
static void check_early_boot(const char *out, bool all)
{
	static const char *const acpi[] = { "RSDP", "XSDT", "FACP", "DSDT",
					    "APIC" };
	char want[160], line[512];
	unsigned i;

	if (all || strstr(out, "Linux version")) {
		ck_assert_msg(strstr(out, "Linux version 6.1"),
			      "no \"Linux version 6.1\"; stdout:\n%s", tail(out));
		ck_assert_msg(has_line_ending(out, "Command line: " CMDLINE),
			      "no \"Command line: %s\"; the line Linux printed: \"%s\"; stdout:\n%s",
			      CMDLINE,
			      line_with(out, "Command line:", line,
					sizeof(line)),
			      tail(out));
	}

	if (all || strstr(out, "BIOS-e820:"))
		check_e820(out);

	if (all || strstr(out, "ACPI: RSDP")) {
		for (i = 0; i < sizeof(acpi) / sizeof(acpi[0]); i++) {
			snprintf(want, sizeof(want), "ACPI: %s 0x", acpi[i]);
			line_with(out, want, line, sizeof(line));
			ck_assert_msg(line[0], "no \"%s\" line; stdout:\n%s",
				      want, tail(out));
			ck_assert_msg(strstr(line, "FLATVM"),
				      "ACPI %s without OEM id FLATVM: %s",
				      acpi[i], line);
		}
	}

	if (all || strstr(out, "smpboot:"))
		ck_assert_msg(strstr(out, "smpboot: Allowing " CPUS " CPUs"),
			      "no \"smpboot: Allowing " CPUS " CPUs\"; stdout:\n%s",
			      tail(out));
}

static bool emulation_failed(const struct result *r)
{
	return strstr(r->err, "KVM emulation failure");
}

/* flatvm reported an emulation failure as it should, and stopped. */
static void check_emulation_failure(const struct result *r)
{
	ck_assert_msg(r->ending == ENDED_BY_ITSELF && r->status == 1,
		      "emulation failure, but exit %d after %.1f s; stderr:\n%s",
		      r->status, r->seconds, tail(r->err));
	ck_assert_msg(strstr(r->err, "RIP") &&
		      strstr(r->err, "instruction bytes"),
		      "the emulation failure does not name RIP and the instruction bytes; stderr:\n%s",
		      tail(r->err));
}

static void check_guest(void)
{
	if (guest_error[0])
		ck_abort_msg("%s", tail(guest_error));
}

static struct result res;

#define FLATVM_ARGS(kernel)						\
	FLATVM_BIN, "run", "--kernel", (kernel), "--initrd", INITRD,	\
	"--cpus", CPUS, "--mem", MEM, "--cmdline", CMDLINE, NULL

START_TEST(pvh_vmlinux_as_far_as_it_goes)
{
	const char *const argv[] = { FLATVM_ARGS(VMLINUX) };
	char last[512];
	bool ok;

	check_guest();
	ok = run(argv, INIT_MARKER, PVH_BOUND_S, false, &res);
	ck_assert_msg(ok, "flatvm did not stop within %d s of SIGTERM; stdout:\n%s\nstderr:\n%s",
		      TERM_GRACE_S, tail(res.out), tail(res.err));
	check_early_boot(res.out, true);

	if (emulation_failed(&res)) {
		check_emulation_failure(&res);
		printf("vmlinux (PVH): emulation failure after %.1f s, last line \"%s\"\n  %s",
		       res.seconds, last_line(res.out, last, sizeof(last)),
		       res.err);
		return;
	}
	ck_assert_msg(res.ending == ENDED_AT_MARKER,
		      "no emulation failure, yet /init's \"" INIT_MARKER "\" was not reached: %s after %.1f s, exit %d, last line \"%s\"; stderr:\n%s",
		      res.ending == ENDED_AT_BOUND ? "stopped at the bound" :
						      "flatvm exited",
		      res.seconds, res.status,
		      last_line(res.out, last, sizeof(last)), tail(res.err));
	ck_assert_msg(res.status == 0, "SIGTERM at /init: exit %d; stderr:\n%s",
		      res.status, tail(res.err));
	printf("vmlinux (PVH): /init reached in %.1f s\n", res.seconds);
}
END_TEST

START_TEST(bzimage_as_far_as_it_goes)
{
	const char *const argv[] = { FLATVM_ARGS(BZIMAGE) };
	char last[512];
	bool ok;

	check_guest();
	ok = run(argv, INIT_MARKER, BZIMAGE_BOUND_S, false, &res);
	ck_assert_msg(ok, "flatvm did not stop within %d s of SIGTERM; stdout:\n%s\nstderr:\n%s",
		      TERM_GRACE_S, tail(res.out), tail(res.err));
	ck_assert_msg(strstr(res.out, KASLR_LINE),
		      "the decompressor did not print \"" KASLR_LINE "\" in %d s; exit %d; stdout:\n%s\nstderr:\n%s",
		      BZIMAGE_BOUND_S, res.status, tail(res.out), tail(res.err));
	check_early_boot(res.out, res.ending == ENDED_AT_MARKER);
	last_line(res.out, last, sizeof(last));

	if (emulation_failed(&res)) {
		check_emulation_failure(&res);
		printf("bzImage: emulation failure after %.1f s, last line \"%s\"\n  %s",
		       res.seconds, last, res.err);
		return;
	}
	ck_assert_msg(res.ending != ENDED_BY_ITSELF,
		      "flatvm exited by itself with %d after %.1f s and no emulation failure; last line \"%s\"; stderr:\n%s",
		      res.status, res.seconds, last, tail(res.err));
	ck_assert_msg(res.status == 0,
		      "SIGTERM after %.1f s: exit %d; stderr:\n%s",
		      res.seconds, res.status, tail(res.err));
	printf("bzImage: %s after %.1f s, last line \"%s\"; stopped with SIGTERM\n",
	       res.ending == ENDED_AT_MARKER ? "/init reached" :
					       "still running",
	       res.seconds, last);
}
END_TEST

/* ---- The guest, made once ---------------------------------------------- */

/*
 * main()'s fixture: is there KVM and a guest?  Makes the guest when
 * missing.  False (skip) for no /dev/kvm and for mkguest's "packages
 * unavailable"; any other mkguest failure leaves guest_error set, so the
 * tests fail with it.
 */
static bool linux_guest_ready(char *why, size_t len)
{
	static const char *const argv[] = { MKGUEST, LINUX_GUEST_DIR, NULL };
	static struct result r;
	char last[512];

	if (!kvm_available(why, len))
		return false;
	if (!access(VMLINUX, R_OK) && !access(BZIMAGE, R_OK) &&
	    !access(INITRD, R_OK))
		return true;

	printf("making the Linux guest: %s %s\n", MKGUEST, LINUX_GUEST_DIR);
	fflush(stdout);
	if (!run(argv, NULL, MKGUEST_BOUND_S, true, &r) ||
	    r.ending == ENDED_AT_BOUND) {
		printf("%s", r.out);
		snprintf(why, len, "tools/mkguest did not finish in %d s (no network, or a slow one?)",
			 MKGUEST_BOUND_S);
		return false;
	}
	if (r.status == 3) {
		printf("%s", r.out);
		snprintf(why, len, "tools/mkguest could not get Debian's packages: %s",
			 last_line(r.out, last, sizeof(last)));
		return false;
	}
	if (r.status || access(VMLINUX, R_OK)) {
		size_t n = strlen(r.out);
		const char *tail = r.out + (n > 8192 ? n - 8192 : 0);

		snprintf(guest_error, sizeof(guest_error),
			 "tools/mkguest %s failed (exit %d) after %.1f s:\n%.8192s",
			 LINUX_GUEST_DIR, r.status, r.seconds, tail);
		return true;
	}
	printf("made the Linux guest in %.1f s\n", r.seconds);
	return true;
}

static Suite *linux_suite(void)
{
	Suite *s = suite_create("linux");
	TCase *tc = tcase_create("linux");

	tcase_set_timeout(tc, PVH_BOUND_S + 2 * TERM_GRACE_S);
	tcase_add_test(tc, pvh_vmlinux_as_far_as_it_goes);
	tcase_add_test(tc, bzimage_as_far_as_it_goes);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN_REQUIRES(linux_guest_ready, linux_suite)
