/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the loader handed over, whichever way the guest was entered:
 *
 *  - PVH (Xen's HVM direct boot ABI, as Linux and QEMU implement it):
 *    32-bit protected mode, paging off, EBX = struct hvm_start_info.
 *  - bzImage, 64-bit boot protocol: long mode, first 4 GiB identity
 *    mapped, RSI = struct boot_params (the "zero page"), entry at the
 *    protected-mode image + 0x200.
 *  - bzImage, 32-bit boot protocol: flat protected mode, ESI = boot_params,
 *    entry at the image's start (code32_start); the image turns on long
 *    mode itself.
 *  - bzImage via the 16-bit setup (a BIOS boot loader such as QEMU's
 *    linuxboot): the setup code collects the E820 map from the BIOS, goes
 *    to protected mode and takes the 32-bit path.
 *
 * The structures are declared here from the public specifications (Xen's
 * public/arch-x86/hvm/start_info.h ABI, Linux's
 * Documentation/arch/x86/boot.rst and zero-page.rst).
 */
#ifndef GUEST_BOOT_H
#define GUEST_BOOT_H

#include <stdbool.h>
#include <stdint.h>

/* ENTRY_*: the entry kinds, as the entry code in arch/ passes them. */
#include "arch/entry.h"

/* ---- PVH --------------------------------------------------------------- */

#define HVM_START_MAGIC		0x336ec578u

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;		/* 1: has the memory map */
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;		/* struct hvm_modlist_entry[] */
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;		/* version >= 1 */
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;			/* E820 types */
	uint32_t reserved;
};

/* ---- boot_params (offsets into the zero page) ---------------------------- */

#define BP_SIZE			0x1000
#define BP_ACPI_RSDP_ADDR	0x070	/* u64 */
#define BP_EXT_RAMDISK_IMAGE	0x0c0	/* u32 */
#define BP_EXT_RAMDISK_SIZE	0x0c4	/* u32 */
#define BP_EXT_CMD_LINE_PTR	0x0c8	/* u32 */
#define BP_E820_ENTRIES		0x1e8	/* u8 */
#define BP_HDR_SETUP_SECTS	0x1f1	/* u8 */
#define BP_HDR_BOOT_FLAG	0x1fe	/* u16: 0xaa55 */
#define BP_HDR_HEADER		0x202	/* u32: "HdrS" */
#define BP_HDR_VERSION		0x206	/* u16 */
#define BP_HDR_TYPE_OF_LOADER	0x210	/* u8 */
#define BP_HDR_LOADFLAGS	0x211	/* u8 */
#define BP_HDR_CODE32_START	0x214	/* u32 */
#define BP_HDR_RAMDISK_IMAGE	0x218	/* u32 */
#define BP_HDR_RAMDISK_SIZE	0x21c	/* u32 */
#define BP_HDR_CMD_LINE_PTR	0x228	/* u32 */
#define BP_HDR_XLOADFLAGS	0x236	/* u16 */
#define BP_HDR_CMDLINE_SIZE	0x238	/* u32 */
#define BP_E820_TABLE		0x2d0	/* struct boot_e820_entry[128] */
#define BP_E820_ENTRY_SIZE	20	/* u64 addr, u64 size, u32 type */
#define BP_E820_MAX		128

#define BP_BOOT_FLAG		0xaa55
#define BP_HEADER_MAGIC		0x53726448u	/* "HdrS" */

/* ---- The normalized view ---------------------------------------------- */

#define E820_RAM		1
#define E820_RESERVED		2
#define E820_ACPI		3
#define E820_NVS		4
#define E820_UNUSABLE		5

#define BOOT_MAP_MAX		128
#define BOOT_CMDLINE_MAX	0x10000	/* LAYOUT_CMDLINE_MAX */

struct mem_range {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

/*
 * struct boot_info - the loader's hand-over, checked for reachability
 * (every pointer here is safe to dereference) but not for sense: the
 * checks in checks.c judge that.
 */
struct boot_info {
	unsigned kind;			/* ENTRY_* */
	uint64_t boot_struct;		/* start_info or boot_params address */
	bool boot_struct_ok;		/* reachable (PVH: and the magic fits) */

	uint64_t cmdline_paddr;		/* as given, 0 if none */
	const char *cmdline;		/* NULL unless NUL-terminated in reach */

	uint64_t rsdp;			/* as given, 0 if none */

	struct mem_range map[BOOT_MAP_MAX];
	unsigned nmap;			/* entries copied to @map */
	unsigned nmap_given;		/* entries the loader said it passed */

	unsigned nmodules;		/* PVH modules / 1 if a ramdisk is set */
	uint64_t initrd, initrd_size;	/* module 0 or the ramdisk, as given */
};

/* Fill @bi from what the entry code passed. */
void boot_parse(struct boot_info *bi, unsigned kind, uintptr_t boot_struct);

const char *boot_kind_name(unsigned kind);
const char *e820_type_name(uint32_t type);

/* The memory map entry of type @type that contains [addr, addr + len). */
const struct mem_range *boot_map_find(const struct boot_info *bi,
				      uint64_t addr, uint64_t len,
				      uint32_t type);
/* Does [addr, addr + len) overlap any RAM entry of the map? */
bool boot_map_overlaps_ram(const struct boot_info *bi, uint64_t addr,
			   uint64_t len);

/*
 * For large zero-initialized variables: place them in .data, which the
 * loader copies from the image file, rather than in .bss, which the
 * entry code zeroes with rep stosb, one byte at a time in KVM's
 * instruction emulator (about 0.6 us a byte here: 40 KiB would add
 * some 25 ms to every boot).
 */
#define __image_zeroed	__attribute__((section(".data")))

/* The guest image's own extent (from the linker script). */
extern char __image_start[], __image_end[];

/* The guest's main function, called by the entry glue in boot.c. */
void guest_main(const struct boot_info *bi);

#endif /* GUEST_BOOT_H */
