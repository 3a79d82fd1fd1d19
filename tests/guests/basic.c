// SPDX-License-Identifier: GPL-2.0-only
/*
 * The basic guest: what a kernel checks of its hand-over and its machine.
 * The boot structure and memory map, the command line, the initrd, the
 * ACPI tables, the UART and the test device.  See README.md.
 */
#include "lib/boot.h"
#include "lib/checks.h"
#include "lib/cmdline.h"
#include "lib/console.h"

void guest_main(const struct boot_info *bi)
{
	printf("flatvm test guest: %s entry, basic guest\n",
	       boot_kind_name(bi->kind));
	describe_boot(bi);
	check_boot(bi);
	check_acpi(bi);
	check_uart();
	check_testdev();
	/*
	 * crash=unassigned: jump into unassigned guest-physical memory, so
	 * the VMM has to report an instruction it cannot fetch or emulate
	 * (an emulation failure on VMX, SVM and PVM alike) and exit
	 * non-zero instead of hanging.
	 */
	/* spin: never finish, so the VMM must be stopped from outside. */
	if (opt_present("spin")) {
		printf("# spinning until stopped\n");
		for (;;)
			__asm__ volatile("" ::: "memory");
	}
	if (opt_is("crash", "unassigned")) {
		printf("# jumping to unassigned memory at 0xd2000000\n");
		((void (*)(void))0xd2000000ul)();
	}
}
