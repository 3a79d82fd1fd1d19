/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Check suites shared by the guests.  Each reports its checks through
 * check() and note(); tests/guests/README.md lists the check names.
 */
#ifndef GUEST_CHECKS_H
#define GUEST_CHECKS_H

#include "boot.h"

/* The banner, the command line and the memory map as "#" lines. */
void describe_boot(const struct boot_info *bi);

/* The loader's hand-over: start_info or boot_params, memory map, initrd. */
void check_boot(const struct boot_info *bi);

/*
 * Read the ACPI tables from the RSDP the loader gave (or, for the entries
 * that need not give one, found by scanning), then check them.  Leaves
 * them in the global acpi (acpi.h) for later users.
 */
void check_acpi(const struct boot_info *bi);

/* The test device's registers through both windows. */
void check_testdev(void);

/* The UART's scratch register. */
void check_uart(void);

/* Where the RSDP comes from for @bi: the boot structure, or 0 (scan). */
uint64_t boot_rsdp_hint(const struct boot_info *bi);

#endif /* GUEST_CHECKS_H */
