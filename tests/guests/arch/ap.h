/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared by the AP trampoline (arch/ap16.S) and lib/smp.c (C). */
#ifndef GUEST_ARCH_AP_H
#define GUEST_ARCH_AP_H

/* APIC IDs 0..SMP_MAX_CPUS-1; an AP with a higher ID halts at once. */
#define SMP_MAX_CPUS		4
#define SMP_AP_STACK_SIZE	0x1000

/* The APs' own GDT (arch/ap16.S): flat 4 GiB code and data. */
#define SMP_CODE32_SEL		0x08
#define SMP_DATA32_SEL		0x10

/* IA32_APIC_BASE and the local APIC's ID register. */
#define SMP_MSR_APIC_BASE	0x1b
#define SMP_APIC_ID		0x20

#endif /* GUEST_ARCH_AP_H */
