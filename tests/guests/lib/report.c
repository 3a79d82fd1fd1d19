// SPDX-License-Identifier: GPL-2.0-only
#include "flatvm/layout.h"
#include "flatvm/testdev-regs.h"

#include "acpi.h"
#include "cmdline.h"
#include "console.h"
#include "io.h"
#include "libc.h"
#include "report.h"
#include "testdev.h"

/*
 * How long (nominal ms, see deadline_start()) to give an exit request to
 * take effect before trying the next: the VMMs we know stop the VM on the
 * very access.
 */
#define EXIT_WAIT_MS	200

static unsigned nchecks, nfailed;

bool check(const char *name, bool ok, const char *fmt, ...)
{
	va_list ap;

	nchecks++;
	if (ok) {
		printf("ok %s\n", name);
		return true;
	}
	nfailed++;
	printf("FAIL %s", name);
	if (fmt) {
		console_puts(": ");
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
	}
	console_putc('\n');
	return false;
}

void note(const char *fmt, ...)
{
	va_list ap;

	console_puts("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	console_putc('\n');
}

unsigned report_checks(void)
{
	return nchecks;
}

unsigned report_failures(void)
{
	return nfailed;
}

static void spin(void)
{
	struct deadline d;

	deadline_start(&d, EXIT_WAIT_MS);
	while (!deadline_passed(&d))
		barrier();
}

void report_finish(enum report_end how)
{
	uint32_t status = 0;

	printf("done: %u checks, %u failed\n", nchecks, nfailed);
	/* A value the host can read back, whichever way the VM stops. */
	if (testdev_present())
		testdev_mmio_write(TESTDEV_RESULT, nfailed);
	if (nfailed)
		status = REPORT_EXIT_FAIL_BASE +
			 MIN(nfailed, REPORT_EXIT_FAIL_MAX - REPORT_EXIT_FAIL_BASE);

	if ((!nfailed || how == REPORT_END_POWEROFF) &&
	    !opt_is("exit", "testdev")) {
		acpi_poweroff();
		spin();
		note("ACPI poweroff did not stop the VM");
	}
	testdev_exit(status);
	spin();
	note("test device exit (status %u) did not stop the VM; halting",
	     status);
	/* QEMU's isa-debug-exit, for smoke runs under QEMU's microvm. */
	outl(REPORT_QEMU_DEBUG_EXIT, status);
	cpu_halt_forever();
}
