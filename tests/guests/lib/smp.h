/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Application processors and TSC-timed waits, for the 32-bit (PVH)
 * guests: lib/smp.c and arch/ap16.S are linked only into guests that ask
 * for them (tests/guests/CMakeLists.txt, guest(... SMP)).
 *
 * The BSP starts AP n (APIC ID n, n < SMP_MAX_CPUS) with INIT, SIPI,
 * SIPI through its xAPIC (MMIO, at the base IA32_APIC_BASE names),
 * polling the ICR's delivery status, and the SIPI vector naming a page
 * below 1 MiB that holds a copy of the real-mode trampoline.  The AP
 * goes to flat 32-bit protected mode (arch/ap16.S), takes its own stack
 * and calls the function given to smp_init() with its APIC ID; when that
 * returns the AP halts (cli; hlt) for good.  No interrupts anywhere:
 * every wait polls and is bounded by the TSC.
 */
#ifndef GUEST_SMP_H
#define GUEST_SMP_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/ap.h"
#include "boot.h"

/* ---- TSC ---------------------------------------------------------------- */

/* The rate assumed when CPUID does not tell: high, so waits are long. */
#define TSC_KHZ_GUESS		5000000u	/* 5 GHz */

/*
 * The TSC rate in kHz, from CPUID 0x40000010 (hypervisor), 0x15 (crystal
 * ratio) or 0x16 (base MHz), in that order; TSC_KHZ_GUESS with *@known
 * false (if @known) when none says.
 */
uint32_t tsc_khz(bool *known);

/*
 * A wait of @ms milliseconds at tsc_khz()'s rate, or of as many polls
 * as could run in @ms at one per nanosecond should the TSC not move:
 *
 *	struct tsc_wait w;
 *
 *	tsc_wait_start(&w, 1000);
 *	while (!done())
 *		if (tsc_wait_over(&w))
 *			break;
 */
struct tsc_wait {
	uint64_t start, ticks;
	uint64_t polls, max_polls;
};

void tsc_wait_start(struct tsc_wait *w, uint32_t ms);
void tsc_wait_start_ticks(struct tsc_wait *w, uint64_t ticks);
bool tsc_wait_over(struct tsc_wait *w);
void tsc_delay_us(uint32_t us);

/* ---- Application processors -------------------------------------------- */

/*
 * Copy the trampoline to the first free RAM page in [64 KiB, 640 KiB)
 * (clear of the command line and the boot structure) and find the local
 * APIC; with @enable_apic, software-enable it (SVR) as an OS would before
 * starting APs.  @ap_main runs on each AP started later.  NULL, or why
 * not.
 */
const char *smp_init(const struct boot_info *bi, void (*ap_main)(unsigned cpu),
		     bool enable_apic);
/* The trampoline's page (after smp_init()). */
uint32_t smp_trampoline(void);

/*
 * INIT, SIPI, SIPI to APIC ID @cpu, then wait up to @ms for it to reach
 * C code.  NULL once it has, or why not.
 */
const char *smp_start_ap(unsigned cpu, uint32_t ms);

/* Has AP @cpu reached C code? */
bool smp_ap_alive(unsigned cpu);

/* arch/ap16.S's way into C, and the APs' stacks (index = APIC ID). */
void smp_ap_entry(unsigned cpu);
extern uint8_t smp_ap_stacks[SMP_MAX_CPUS][SMP_AP_STACK_SIZE];

#endif /* GUEST_SMP_H */
