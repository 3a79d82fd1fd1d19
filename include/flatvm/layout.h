/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The x86 microVM machine's address map: the one place that allocates
 * guest-physical addresses, ports and interrupt lines (as Firecracker
 * does in its arch layout).  Loaders, devices, ACPI and test guests all
 * take their numbers from here.
 */
#ifndef FLATVM_LAYOUT_H
#define FLATVM_LAYOUT_H

/* ---- Guest RAM --------------------------------------------------------- */
#define LAYOUT_RAM_BASE		0x0ull
/* RAM above this continues at 4 GiB: the 32-bit MMIO hole. */
#define LAYOUT_MMIO_HOLE_START	0xc0000000ull
#define LAYOUT_MMIO_HOLE_END	0x100000000ull
#define LAYOUT_HIGH_RAM_BASE	0x100000000ull

/* Boot structures in low RAM (below 640 KiB), as Linux expects them. */
#define LAYOUT_GDT		0x500ull	/* boot GDT */
#define LAYOUT_PVH_START_INFO	0x6000ull	/* struct hvm_start_info */
#define LAYOUT_PVH_MEMMAP	0x6100ull	/* hvm_memmap_table_entry[] */
#define LAYOUT_PVH_MODLIST	0x6f00ull	/* hvm_modlist_entry[] */
#define LAYOUT_ZERO_PAGE	0x7000ull	/* struct boot_params */
#define LAYOUT_BOOT_STACK	0x8ff0ull	/* initial RSP */
#define LAYOUT_PML4		0x9000ull	/* identity page tables: */
#define LAYOUT_PDPT		0xa000ull	/*   PML4, PDPT and 4 PDs */
#define LAYOUT_PD		0xb000ull	/*   (2 MiB pages, first 4 GiB) */
#define LAYOUT_CMDLINE		0x20000ull
#define LAYOUT_CMDLINE_MAX	0x10000ull
/* Low RAM ends here (EBDA and the legacy hole above it). */
#define LAYOUT_LOW_RAM_END	0x9fc00ull
/* ACPI tables: in the BIOS area, so a scan for the RSDP finds them too. */
#define LAYOUT_ACPI_BASE	0xe0000ull
#define LAYOUT_ACPI_MAX		0x20000ull
/* Where a bzImage's protected-mode kernel goes (its code32_start). */
#define LAYOUT_KERNEL_LOAD	0x100000ull

/* ---- MMIO -------------------------------------------------------------- */
/* virtio-mmio transports: boot devices first, then hotplug slots. */
#define LAYOUT_VIRTIO_MMIO_BASE	0xd0000000ull
#define LAYOUT_VIRTIO_MMIO_SIZE	0x200ull
#define LAYOUT_VIRTIO_MMIO_MAX	32
/* The test device's MMIO registers. */
#define LAYOUT_TESTDEV_MMIO	0xd1000000ull
#define LAYOUT_TESTDEV_MMIO_SIZE 0x1000ull
#define LAYOUT_IOAPIC		0xfec00000ull
#define LAYOUT_LAPIC		0xfee00000ull

/* ---- I/O ports --------------------------------------------------------- */
#define LAYOUT_PORT_I8042_DATA	0x60
#define LAYOUT_PORT_I8042_CMD	0x64
#define LAYOUT_PORT_RTC		0x70		/* 0x70 index, 0x71 data */
#define LAYOUT_PORT_COM1	0x3f8		/* 8 ports */
#define LAYOUT_PORT_TESTDEV	0xe0		/* 16 ports */
#define LAYOUT_PORT_TESTDEV_SIZE 0x10
#define LAYOUT_PORT_ACPI_SLEEP	0x600		/* sleep control/status */

/* ---- Interrupt lines (IOAPIC GSIs) ------------------------------------- */
#define LAYOUT_GSI_I8042	1
#define LAYOUT_GSI_COM1		4
#define LAYOUT_GSI_RTC		8
#define LAYOUT_GSI_I8042_AUX	12
#define LAYOUT_GSI_VIRTIO_BASE	5
#define LAYOUT_GSI_MAX		23		/* 24-pin IOAPIC */
/* How many virtio-mmio transports have an interrupt line of their own. */
#define LAYOUT_VIRTIO_GSI_COUNT	(LAYOUT_GSI_MAX - LAYOUT_GSI_VIRTIO_BASE + 1 - 2)

/*
 * The GSI of virtio-mmio transport @n: 5, 6, 7, 9, 10, 11, 13, ... 23,
 * skipping the RTC's line (8) and the i8042 AUX line (12), which Linux
 * requests unshared.  Valid for n < LAYOUT_VIRTIO_GSI_COUNT.
 */
static inline unsigned layout_virtio_gsi(unsigned n)
{
	unsigned gsi = LAYOUT_GSI_VIRTIO_BASE + n;

	if (gsi >= LAYOUT_GSI_RTC)
		gsi++;
	if (gsi >= LAYOUT_GSI_I8042_AUX)
		gsi++;
	return gsi;
}

#endif /* FLATVM_LAYOUT_H */
