/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reading the machine's ACPI tables the way an OS does: RSDP (given by the
 * loader, or found by scanning the BIOS area), XSDT (or RSDT), the FADT's
 * DSDT and sleep register, the MADT, and in the DSDT the \_S5 sleep type
 * and the virtio-mmio devices (_HID "LNRO0005") with the Memory32Fixed
 * window and Interrupt of their _CRS.  Layouts from the ACPI 6.5
 * specification.  Nothing here reports checks: checks.c judges the result.
 */
#ifndef GUEST_ACPI_H
#define GUEST_ACPI_H

#include <stdbool.h>
#include <stdint.h>

#define ACPI_MAX_TABLES		32
#define ACPI_MAX_VIRTIO		32
#define ACPI_TABLE_MAX_LEN	0x100000u	/* sanity bound */
#define ACPI_HEADER_LEN		36

/* Sleep control register values (ACPI 6.5, 4.8.3.7). */
#define ACPI_SLP_TYP_SHIFT	2
#define ACPI_SLP_TYP_MASK	0x1c
#define ACPI_SLP_EN		0x20
#define ACPI_WAK_STS		0x80
#define ACPI_S5_DEFAULT		5	/* what our DSDT's \_S5 says */

#define ACPI_GAS_MEMORY		0
#define ACPI_GAS_IO		1

struct acpi_table {
	char sig[5];
	uint64_t addr;
	uint32_t len;
	bool reachable;		/* header and body below 4 GiB, sane length */
	bool sum_ok;		/* all bytes add up to 0 */
};

struct acpi_virtio_dev {
	uint64_t base, size;	/* first memory resource of its _CRS */
	uint32_t gsi;		/* first interrupt of its _CRS */
	bool has_mem, has_irq;
};

struct acpi_info {
	bool loaded;		/* acpi_load() ran and found an RSDP */

	uint64_t rsdp;
	bool rsdp_scanned;	/* found by the BIOS-area scan */
	uint8_t rsdp_revision;
	bool rsdp_sum_ok;	/* the first 20 bytes */
	bool rsdp_ext_sum_ok;	/* all of it (revision >= 2) */

	struct acpi_table root;	/* the XSDT, or the RSDT without one */
	bool root_is_xsdt;
	struct acpi_table tables[ACPI_MAX_TABLES];	/* as listed by root */
	unsigned ntables;
	unsigned ntables_listed;

	int fadt, madt;		/* index into tables[], -1 if absent */
	struct acpi_table dsdt;
	bool have_dsdt;

	/* From the FADT. */
	uint32_t fadt_flags;
	bool have_sleep_reg;
	uint8_t sleep_space;	/* ACPI_GAS_* */
	uint64_t sleep_addr;

	/* From the MADT. */
	uint32_t lapic_addr;
	unsigned nlapic;	/* enabled local (x2)APICs */
	unsigned nioapic;
	uint32_t ioapic_addr;	/* the first IOAPIC's */

	/* From the DSDT. */
	int s5_typ;		/* SLP_TYPa of \_S5, -1 if not found */
	struct acpi_virtio_dev virtio[ACPI_MAX_VIRTIO];
	unsigned nvirtio;	/* devices recorded in virtio[] */
	unsigned nvirtio_found;	/* "LNRO0005" _HIDs seen */
};

extern struct acpi_info acpi;

/* The first RSDP with a valid checksum in 0xe0000-0xfffff, or 0. */
uint64_t acpi_scan_rsdp(void);

/*
 * Read the tables starting at the RSDP at @rsdp (0: scan for it) into the
 * global @acpi.  Returns false if no RSDP was found.
 */
bool acpi_load(uint64_t rsdp);

/* The listed table with signature @sig, or NULL. */
const struct acpi_table *acpi_find(const char *sig);

/*
 * Ask for soft-off: WAK_STS, then SLP_TYP(\_S5) | SLP_EN, to the FADT's
 * sleep control register (the machine's LAYOUT_PORT_ACPI_SLEEP if no
 * tables were read).  Returns if the VM did not stop.
 */
void acpi_poweroff(void);

#endif /* GUEST_ACPI_H */
