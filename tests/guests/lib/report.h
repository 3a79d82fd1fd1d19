/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reporting: one line per check, and the way a guest ends.
 *
 *	ok <name>
 *	FAIL <name>: <what was seen, what was expected>
 *	# <information that is not a check>
 *
 * and at the end
 *
 *	done: <checks> checks, <failed> failed
 *
 * How the VM then stops (tests/guests/README.md has the full story):
 *  - every check passed: ACPI soft-off (SLP_TYP 5 | SLP_EN written to the
 *    FADT's sleep control register, port LAYOUT_PORT_ACPI_SLEEP), so the
 *    VMM exits with status 0; with "exit=testdev" on the command line,
 *    TESTDEV_EXIT with 0 instead;
 *  - otherwise: TESTDEV_EXIT with REPORT_EXIT_FAIL_BASE + failures (capped),
 *    so the VMM exits with that status.
 * If that does not stop the VM the guest tries TESTDEV_EXIT (after a
 * failed poweroff), then QEMU's isa-debug-exit port, then halts for good.
 */
#ifndef GUEST_REPORT_H
#define GUEST_REPORT_H

#include <stdbool.h>

/* TESTDEV_EXIT status: 1 + failed checks, at most 64 (never 77: "skip"). */
#define REPORT_EXIT_FAIL_BASE	1
#define REPORT_EXIT_FAIL_MAX	64
/* QEMU's isa-debug-exit (microvm smoke tests); the exit code is 2v + 1. */
#define REPORT_QEMU_DEBUG_EXIT	0xf4

/*
 * Record a check.  On failure @fmt (may be NULL) explains it.  Returns
 * @ok, so callers can skip what depends on it.
 */
__attribute__((format(printf, 3, 4))) bool check(const char *name, bool ok,
						 const char *fmt, ...);
/* A "# ..." line. */
__attribute__((format(printf, 1, 2))) void note(const char *fmt, ...);

unsigned report_checks(void);
unsigned report_failures(void);

enum report_end {
	REPORT_END_BY_RESULT,	/* poweroff if all passed, else TESTDEV_EXIT */
	REPORT_END_POWEROFF,	/* poweroff whatever the result */
};

/* Print the summary line and stop the VM; never returns. */
__attribute__((noreturn)) void report_finish(enum report_end how);

#endif /* GUEST_REPORT_H */
