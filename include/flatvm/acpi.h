/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ACPI tables for the microVM: RSDP, XSDT, FADT, MADT and DSDT.
 *
 * Debian's kernel finds virtio-mmio devices only through the DSDT
 * (_HID "LNRO0005"), and powers off through the FADT's sleep registers, so
 * every guest gets a small set of hardware-reduced ACPI tables built here
 * from a struct acpi_config.
 *
 * Where the tables go.  acpi_build() lays the tables out in one blob that
 * the caller copies to guest-physical cfg->base_gpa; every pointer inside
 * (RSDP -> XSDT -> FADT, MADT; FADT -> DSDT) is computed from it.  The
 * RSDP is the blob's first 36 bytes.  A guest finds it in one of two ways:
 *
 *  - It is told: the PVH entry passes hvm_start_info.rsdp_paddr, the
 *    64-bit boot protocol (2.14+) passes boot_params.acpi_rsdp_addr.  Then
 *    any base below 4 GiB works.
 *  - It scans: a kernel entered without either (a bzImage whose boot code
 *    leaves acpi_rsdp_addr at 0) searches the legacy BIOS area
 *    0xe0000-0xfffff on 16-byte boundaries for "RSD PTR ".  For that, put
 *    base_gpa in ACPI_BIOS_AREA_START..ACPI_BIOS_AREA_END (the blob is a
 *    few KiB).
 *
 * Either way, mark the blob's range reserved (or ACPI) in the e820 map so
 * the guest does not hand it out as free RAM before parsing it.
 *
 * Powering off.  The FADT names one I/O port, cfg->sleep_port, as both its
 * SLEEP_CONTROL_REG and SLEEP_STATUS_REG, and the DSDT's \_S5 gives
 * SLP_TYP ACPI_S5_SLP_TYP.  A guest's `poweroff` first writes
 * ACPI_SLEEP_STS_WAK to the port (clearing the wake status), then
 * (ACPI_S5_SLP_TYP << ACPI_SLEEP_CTL_TYP_SHIFT) | ACPI_SLEEP_CTL_EN;
 * acpi_sleep_ctl_is_poweroff() recognizes the second write.
 */
#ifndef FLATVM_ACPI_H
#define FLATVM_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flatvm/error.h"

/* One xAPIC ID per vCPU, 0 to 254: 255 is the broadcast ID. */
#define ACPI_MAX_CPUS			255
/* Bounds the DSDT; there are far fewer IOAPIC pins than this anyway. */
#define ACPI_MAX_VIRTIO_WINDOWS		32
/* KVM's in-kernel IOAPIC (KVM_CREATE_IRQCHIP) has 24 pins: GSIs 0-23. */
#define ACPI_IOAPIC_PINS		24
#define ACPI_LAPIC_ADDR			0xfee00000u
#define ACPI_IOAPIC_DEFAULT_ADDR	0xfec00000u
/* Where a guest without an RSDP pointer looks for one. */
#define ACPI_BIOS_AREA_START		0xe0000u
#define ACPI_BIOS_AREA_END		0x100000u
/* The RSDP must sit on a 16-byte boundary. */
#define ACPI_RSDP_ALIGN			16

/* The COM1 device described when cfg->serial is set. */
#define ACPI_COM1_PORT			0x3f8
#define ACPI_COM1_GSI			4

/*
 * The sleep control and status registers of hardware-reduced ACPI (ACPI 6.5
 * chapter 4, "Sleep Control and Status Registers"), here one I/O port.
 */
#define ACPI_SLEEP_CTL_TYP_SHIFT	2
#define ACPI_SLEEP_CTL_TYP_MASK		0x1c
#define ACPI_SLEEP_CTL_EN		0x20
#define ACPI_SLEEP_STS_WAK		0x80
/* The SLP_TYP value the DSDT's \_S5 package gives for soft-off. */
#define ACPI_S5_SLP_TYP			5

/**
 * struct acpi_virtio_window - one virtio-mmio transport.
 * @base: guest-physical base of its register window.
 * @size: the window's length in bytes (0x200 is the usual stride).
 * @gsi: the IOAPIC input its interrupt is wired to, below ACPI_IOAPIC_PINS.
 * @level: level-triggered; false (the usual choice for virtio-mmio on x86
 *	   microVMs) is edge-triggered.  Both are active-high, which is what
 *	   KVM_IRQ_LINE and an irqfd deliver.
 *
 * Windows that end at or below 4 GiB are described with Memory32Fixed,
 * others with QWordMemory.  Windows may share a GSI if they agree on the
 * trigger mode; the descriptors then say Shared.
 */
struct acpi_virtio_window {
	uint64_t base;
	uint64_t size;
	uint32_t gsi;
	bool level;
};

/**
 * struct acpi_config - what the tables describe.
 * @ncpus: vCPUs, 1 to ACPI_MAX_CPUS; vCPU n gets APIC ID n, as KVM gives
 *	   vCPU id n the initial APIC ID n.
 * @base_gpa: where the caller will place the blob; 16-byte aligned, and the
 *	      whole blob must lie below 4 GiB.  See the top of this file.
 * @ioapic_addr: the IOAPIC's MMIO base (ACPI_IOAPIC_DEFAULT_ADDR usually).
 * @sleep_port: the I/O port of the sleep control/status register, not 0.
 * @virtio: @nr_virtio windows; may be NULL when @nr_virtio is 0.
 * @nr_virtio: at most ACPI_MAX_VIRTIO_WINDOWS.
 * @serial: describe COM1 (PNP0501 at ACPI_COM1_PORT, GSI ACPI_COM1_GSI).
 * @i8042: the machine has an i8042 at 0x60/0x64 (FADT IAPC_BOOT_ARCH bit
 *	   "8042"); without it Linux does not probe one.
 * @rtc: the machine has a CMOS RTC at 0x70/0x71; without it the FADT says
 *	 "CMOS RTC Not Present" and Linux leaves the ports alone.
 */
struct acpi_config {
	unsigned ncpus;
	uint64_t base_gpa;
	uint32_t ioapic_addr;
	uint16_t sleep_port;
	const struct acpi_virtio_window *virtio;
	unsigned nr_virtio;
	bool serial;
	bool i8042;
	bool rtc;
};

/**
 * struct acpi_tables - the built tables.
 * @blob: the tables laid out contiguously (malloc'd), to be copied to
 *	  guest-physical cfg->base_gpa; each table starts 16-byte aligned.
 * @len: the blob's length in bytes.
 * @rsdp_gpa: the RSDP's guest-physical address (== cfg->base_gpa), for
 *	      hvm_start_info.rsdp_paddr or boot_params.acpi_rsdp_addr.
 * @xsdt_off: offset of the XSDT in @blob (likewise the others below).
 * @fadt_off: offset of the FADT ("FACP").
 * @madt_off: offset of the MADT ("APIC").
 * @dsdt_off: offset of the DSDT.
 */
struct acpi_tables {
	void *blob;
	size_t len;
	uint64_t rsdp_gpa;
	size_t xsdt_off, fadt_off, madt_off, dsdt_off;
};

/**
 * acpi_build() - build the microVM's ACPI tables.
 * @cfg: what to describe; checked in full before anything is built.
 * @out: filled in on success, untouched on failure.
 * @err: the reason on failure, or NULL.
 *
 * Return: 0, -EINVAL for a configuration the tables cannot describe (the
 * message says which field and what is expected), or -ENOMEM.
 */
int acpi_build(const struct acpi_config *cfg, struct acpi_tables *out,
	       struct error *err);

/**
 * acpi_tables_free() - free what acpi_build() allocated.
 * @t: the tables; may be NULL or already freed (the fields are cleared).
 */
void acpi_tables_free(struct acpi_tables *t);

/**
 * acpi_sleep_ctl_is_poweroff() - does a byte written to the sleep control
 * port ask for soft-off (S5)?
 * @v: the byte the guest wrote to cfg->sleep_port.
 */
static inline bool acpi_sleep_ctl_is_poweroff(uint8_t v)
{
	return (v & ACPI_SLEEP_CTL_EN) &&
	       ((v & ACPI_SLEEP_CTL_TYP_MASK) >> ACPI_SLEEP_CTL_TYP_SHIFT) ==
		       ACPI_S5_SLP_TYP;
}

#endif /* FLATVM_ACPI_H */
