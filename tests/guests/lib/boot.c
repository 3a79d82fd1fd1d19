// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reading the loader's hand-over (PVH start_info or the bzImage zero page)
 * into a struct boot_info, and the C entry point every guest starts from.
 */
#include "boot.h"
#include "cmdline.h"
#include "console.h"
#include "io.h"
#include "libc.h"
#include "report.h"
#include "testdev.h"

_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info v1");
_Static_assert(__builtin_offsetof(struct hvm_start_info, rsdp_paddr) == 32,
	       "hvm_start_info.rsdp_paddr");
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "hvm_modlist_entry");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24,
	       "hvm_memmap_table_entry");

const char *boot_kind_name(unsigned kind)
{
	switch (kind) {
	case ENTRY_PVH:
		return "pvh";
	case ENTRY_BZIMAGE64:
		return "bzImage 64-bit";
	case ENTRY_BZIMAGE32:
		return "bzImage 32-bit";
	case ENTRY_BZIMAGE16:
		return "bzImage 16-bit";
	}
	return "unknown";
}

const char *e820_type_name(uint32_t type)
{
	switch (type) {
	case E820_RAM:
		return "RAM";
	case E820_RESERVED:
		return "reserved";
	case E820_ACPI:
		return "ACPI";
	case E820_NVS:
		return "NVS";
	case E820_UNUSABLE:
		return "unusable";
	}
	return "other";
}

/* A NUL-terminated string of at most @max bytes at @paddr, or NULL. */
static const char *string_at(uint64_t paddr, uint64_t max)
{
	const char *s;

	if (!phys_ok(paddr, 1))
		return NULL;
	if (max > PHYS_LIMIT - paddr)
		max = PHYS_LIMIT - paddr;
	s = phys_ptr(paddr);
	return strnlen(s, (size_t)max) < max ? s : NULL;
}

static void parse_pvh(struct boot_info *bi)
{
	const struct hvm_start_info *si = phys_ptr(bi->boot_struct);
	const struct hvm_memmap_table_entry *mm;
	const struct hvm_modlist_entry *mod;
	unsigned i, n;

	if (!phys_ok(bi->boot_struct, sizeof(*si)) ||
	    si->magic != HVM_START_MAGIC)
		return;
	bi->boot_struct_ok = true;
	bi->cmdline_paddr = si->cmdline_paddr;
	bi->cmdline = string_at(si->cmdline_paddr, BOOT_CMDLINE_MAX);
	bi->rsdp = si->rsdp_paddr;

	bi->nmodules = si->nr_modules;
	mod = phys_ptr(si->modlist_paddr);
	if (si->nr_modules && phys_ok(si->modlist_paddr, sizeof(*mod))) {
		bi->initrd = mod->paddr;
		bi->initrd_size = mod->size;
	}

	if (si->version < 1)
		return;
	bi->nmap_given = si->memmap_entries;
	n = MIN(si->memmap_entries, BOOT_MAP_MAX);
	mm = phys_ptr(si->memmap_paddr);
	if (!n || !phys_ok(si->memmap_paddr, sizeof(*mm) * (uint64_t)n))
		return;
	for (i = 0; i < n; i++)
		bi->map[i] = (struct mem_range){
			.addr = mm[i].addr,
			.size = mm[i].size,
			.type = mm[i].type,
		};
	bi->nmap = i;
}

static void parse_zero_page(struct boot_info *bi)
{
	const uint8_t *bp = phys_ptr(bi->boot_struct);
	const uint8_t *e;
	uint32_t cmdline_size = BOOT_CMDLINE_MAX;
	unsigned i;

	if (!phys_ok(bi->boot_struct, BP_SIZE))
		return;
	bi->boot_struct_ok = true;

	bi->cmdline_paddr = get_le32(bp + BP_HDR_CMD_LINE_PTR) |
			    (uint64_t)get_le32(bp + BP_EXT_CMD_LINE_PTR) << 32;
	/* cmdline_size (2.06+) excludes the NUL. */
	if (get_le16(bp + BP_HDR_VERSION) >= 0x206 &&
	    get_le32(bp + BP_HDR_CMDLINE_SIZE) &&
	    get_le32(bp + BP_HDR_CMDLINE_SIZE) < BOOT_CMDLINE_MAX)
		cmdline_size = get_le32(bp + BP_HDR_CMDLINE_SIZE) + 1;
	bi->cmdline = string_at(bi->cmdline_paddr, cmdline_size);
	bi->rsdp = get_le64(bp + BP_ACPI_RSDP_ADDR);

	bi->initrd = get_le32(bp + BP_HDR_RAMDISK_IMAGE) |
		     (uint64_t)get_le32(bp + BP_EXT_RAMDISK_IMAGE) << 32;
	bi->initrd_size = get_le32(bp + BP_HDR_RAMDISK_SIZE) |
			  (uint64_t)get_le32(bp + BP_EXT_RAMDISK_SIZE) << 32;
	bi->nmodules = bi->initrd || bi->initrd_size;

	bi->nmap_given = bp[BP_E820_ENTRIES];
	for (i = 0; i < bi->nmap_given && i < BP_E820_MAX; i++) {
		e = bp + BP_E820_TABLE + i * BP_E820_ENTRY_SIZE;
		bi->map[i] = (struct mem_range){
			.addr = get_le64(e),
			.size = get_le64(e + 8),
			.type = get_le32(e + 16),
		};
	}
	bi->nmap = i;
}

void boot_parse(struct boot_info *bi, unsigned kind, uintptr_t boot_struct)
{
	memset(bi, 0, sizeof(*bi));
	bi->kind = kind;
	bi->boot_struct = boot_struct;
	if (kind == ENTRY_PVH)
		parse_pvh(bi);
	else
		parse_zero_page(bi);
}

const struct mem_range *boot_map_find(const struct boot_info *bi,
				      uint64_t addr, uint64_t len,
				      uint32_t type)
{
	const struct mem_range *r;
	unsigned i;

	for (i = 0; i < bi->nmap; i++) {
		r = &bi->map[i];
		if (r->type == type && addr >= r->addr &&
		    addr - r->addr <= r->size &&
		    len <= r->size - (addr - r->addr))
			return r;
	}
	return NULL;
}

bool boot_map_overlaps_ram(const struct boot_info *bi, uint64_t addr,
			   uint64_t len)
{
	const struct mem_range *r;
	unsigned i;

	for (i = 0; i < bi->nmap; i++) {
		r = &bi->map[i];
		if (r->type == E820_RAM && r->size && len &&
		    addr <= r->addr + (r->size - 1) &&
		    r->addr <= addr + (len - 1))
			return true;
	}
	return false;
}

/* Called by the entry code in arch/ with the stack set and .bss zeroed. */
void guest_entry(uint32_t kind, uintptr_t boot_struct);

void guest_entry(uint32_t kind, uintptr_t boot_struct)
{
	static struct boot_info bi;

	console_init();
	boot_parse(&bi, kind, boot_struct);
	cmdline_set(bi.cmdline);
	if (testdev_present() && !opt_is("testlog", "0"))
		console_mirror_testdev(true);
	guest_main(&bi);
	report_finish(REPORT_END_BY_RESULT);
}
