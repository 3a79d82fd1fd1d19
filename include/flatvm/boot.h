/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Loading a Linux kernel into guest memory (vmm/boot.c) and the vCPU state
 * its entry point expects (vmm/x86.c).
 *
 * Two kinds of image boot:
 *
 *  - A bzImage, through the x86 boot protocol (Linux
 *    Documentation/arch/x86/boot.rst), version 2.06 or later.  The
 *    protected-mode kernel is loaded as the protocol recommends (see
 *    boot_load_kernel()), a zero page (struct boot_params) is built at
 *    LAYOUT_ZERO_PAGE, and the vCPU enters at the 64-bit entry (load
 *    address + 0x200, long mode, RSI = zero page) when the header sets
 *    XLF_KERNEL_64, else at the 32-bit entry (load address, flat protected
 *    mode, ESI = zero page).  No real-mode setup code runs.
 *
 *  - An ELF vmlinux with a PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY), as
 *    Linux builds it with CONFIG_PVH=y: PT_LOAD segments go to their
 *    p_paddr, a struct hvm_start_info is built at LAYOUT_PVH_START_INFO,
 *    and the vCPU enters at the note's address in flat 32-bit protected
 *    mode with paging off and EBX = start info.  This is the fast path: no
 *    decompressor, no setup code.
 *
 * The memory map both paths hand the guest (e820 in the zero page, the
 * PVH memmap table; the types are the same numbers in both):
 *
 *   [0, LAYOUT_LOW_RAM_END)            RAM       boot structures live here;
 *                                                Linux reserves the first
 *                                                1 MiB and copies what it
 *                                                needs before allocating
 *   [LAYOUT_LOW_RAM_END, 0xa0000)      reserved  the EBDA (empty)
 *   [0xa0000, LAYOUT_ACPI_BASE)        -         not listed: the legacy VGA
 *                                                and option ROM hole
 *   [LAYOUT_ACPI_BASE, 1 MiB)          ACPI      the ACPI tables, in the BIOS
 *                                                area where a scan finds the
 *                                                RSDP (reserved when there
 *                                                are no tables)
 *   [1 MiB, min(ram, MMIO hole))       RAM       kernel, initrd, the rest
 *   [4 GiB, 4 GiB + ram - hole start)  RAM       only when RAM exceeds
 *                                                LAYOUT_MMIO_HOLE_START
 *
 * Everything below 1 MiB the loader and x86_setup_vcpu() write (GDT,
 * PVH start info and tables, zero page, stack, page tables, command line)
 * lies in the first entry; the ACPI tables are the caller's.
 *
 * Threads: both functions write guest memory with address_space_write(),
 * so the caller must be a registered RCU thread, online (rule 6).
 */
#ifndef FLATVM_BOOT_H
#define FLATVM_BOOT_H

#include <asm/bootparam.h>
#include <stdbool.h>
#include <stdint.h>

#include "flatvm/error.h"
#include "flatvm/memory.h"

struct vcpu;

/* ---- PVH start of day ---------------------------------------------------- */

/*
 * The PVH boot ABI's structures are not in Linux's UAPI headers; they are
 * declared here byte for byte as Xen's public header documents them
 * (xen/include/public/arch-x86/hvm/start_info.h, structure version 1):
 *
 *   hvm_start_info:          0 magic, 4 version, 8 flags, 12 nr_modules,
 *                            16 modlist_paddr, 24 cmdline_paddr,
 *                            32 rsdp_paddr, 40 memmap_paddr,
 *                            48 memmap_entries, 52 reserved; 56 bytes
 *   hvm_modlist_entry:       0 paddr, 8 size, 16 cmdline_paddr,
 *                            24 reserved; 32 bytes
 *   hvm_memmap_table_entry:  0 addr, 8 size, 16 type, 20 reserved;
 *                            24 bytes
 *
 * All little endian; an address of 0 means "not present".  The note that
 * names the 32-bit entry point is Xen's public/elfnote.h
 * XEN_ELFNOTE_PHYS32_ENTRY, owner "Xen".
 */
#define XEN_HVM_START_MAGIC_VALUE	0x336ec578u
#define XEN_ELFNOTE_PHYS32_ENTRY	18

/* Memory map types: the ACPI address range types, as e820 uses them. */
#define XEN_HVM_MEMMAP_TYPE_RAM		1
#define XEN_HVM_MEMMAP_TYPE_RESERVED	2
#define XEN_HVM_MEMMAP_TYPE_ACPI	3

struct hvm_start_info {
	uint32_t magic;			/* XEN_HVM_START_MAGIC_VALUE */
	uint32_t version;		/* 1: has the memmap fields */
	uint32_t flags;			/* SIF_xxx; 0 */
	uint32_t nr_modules;
	uint64_t modlist_paddr;		/* hvm_modlist_entry[] */
	uint64_t cmdline_paddr;		/* NUL-terminated */
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;		/* hvm_memmap_table_entry[] */
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
	uint32_t type;
	uint32_t reserved;
};

_Static_assert(sizeof(struct hvm_start_info) == 56, "start_info.h layout");
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "start_info.h layout");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24,
	       "start_info.h layout");

/* ---- Loading ------------------------------------------------------------ */

/* Entries in the memory map above; room to spare. */
#define BOOT_E820_MAX		8

/* The boot GDT's selectors: the boot protocol's __BOOT_CS and __BOOT_DS. */
#define BOOT_GDT_CS		0x10
#define BOOT_GDT_DS		0x18
#define BOOT_GDT_TSS		0x20	/* 16-byte system descriptor */

/**
 * struct boot_config - what to load and into what.
 * @kernel: path of a bzImage or an ELF vmlinux with a PVH note.
 * @initrd: path of the initial ramdisk, or NULL.
 * @cmdline: the kernel command line, or NULL for an empty one.
 * @mem: guest-physical memory, written with address_space_write().
 * @ram_size: bytes of guest RAM.  RAM is [0, min(@ram_size,
 *	      LAYOUT_MMIO_HOLE_START)) plus, when @ram_size is larger, the
 *	      rest at LAYOUT_HIGH_RAM_BASE; @mem must map all of it.
 * @rsdp_addr: guest-physical address of the ACPI RSDP, which the caller
 *	       has placed (with the other tables) in [LAYOUT_ACPI_BASE,
 *	       LAYOUT_ACPI_BASE + LAYOUT_ACPI_MAX); 0 when there are none.
 * @ncpus: vCPUs, 1 to KVM_MAX_VCPUS; passed on in struct boot_info for
 *	   x86_setup_vcpu()'s CPUID.
 */
struct boot_config {
	const char *kernel;
	const char *initrd;
	const char *cmdline;
	struct address_space *mem;
	uint64_t ram_size;
	uint64_t rsdp_addr;
	unsigned ncpus;
};

/* How the boot vCPU enters the kernel. */
enum boot_entry {
	BOOT_ENTRY_LINUX64,	/* bzImage 64-bit entry: long mode, RSI */
	BOOT_ENTRY_LINUX32,	/* bzImage 32-bit entry: flat 32-bit, ESI */
	BOOT_ENTRY_PVH,		/* PVH: flat 32-bit, paging off, EBX */
};

/**
 * struct boot_info - what boot_load_kernel() did, for x86_setup_vcpu()
 * and for whoever reports it.
 * @entry: how to enter the kernel.
 * @entry_addr: the entry point (RIP), guest-physical.
 * @params_addr: LAYOUT_ZERO_PAGE (RSI/ESI) or LAYOUT_PVH_START_INFO (EBX).
 * @kernel_addr: where the kernel image was loaded (bzImage: the
 *		 protected-mode kernel; ELF: the lowest PT_LOAD p_paddr).
 * @kernel_end: end of the memory the kernel needs at boot (bzImage: the
 *		image, or its runtime start + init_size if that is further;
 *		ELF: the highest p_paddr + p_memsz).  The initrd goes above.
 * @initrd_addr: where the initrd was placed (page aligned), 0 if none.
 * @initrd_size: its size in bytes, 0 if none.
 * @cmdline_addr: LAYOUT_CMDLINE.
 * @cmdline_len: the command line's length without its NUL.
 * @protocol: a bzImage's boot protocol version (0x020f is 2.15); 0 for PVH.
 * @ncpus: from the config.
 * @nr_e820: entries in @e820.
 * @e820: the memory map given to the guest (both paths).
 */
struct boot_info {
	enum boot_entry entry;
	uint64_t entry_addr;
	uint64_t params_addr;
	uint64_t kernel_addr;
	uint64_t kernel_end;
	uint64_t initrd_addr;
	uint64_t initrd_size;
	uint64_t cmdline_addr;
	uint64_t cmdline_len;
	uint16_t protocol;
	unsigned ncpus;
	unsigned nr_e820;
	struct boot_e820_entry e820[BOOT_E820_MAX];
};

/**
 * boot_load_kernel() - load a kernel, its initrd and command line, and the
 * boot structures its entry point reads.
 * @cfg: what to load; checked in full first.
 * @out: filled in on success.
 * @err: the reason on failure, or NULL.
 *
 * Every header is checked before guest memory is touched: on failure,
 * nothing was written.  Sizes and offsets in the files are checked
 * against the file's real size and guest RAM, never trusted.
 *
 * Where a bzImage goes: at its pref_address when the kernel is
 * relocatable (protocol 2.10+) and its whole boot footprint fits there in
 * RAM below the MMIO hole, as boot.rst asks of a relocating loader;
 * otherwise at LAYOUT_KERNEL_LOAD (1 MiB, code32_start's default).  The
 * footprint is computed with boot.rst's runtime start rule (the kernel
 * decompresses itself at align_up(max(load, pref_address),
 * kernel_alignment), or at pref_address if not relocatable) and must fit.
 * The initrd goes as high as possible, page aligned, below RAM's end under
 * the MMIO hole and, for a bzImage, below initrd_addr_max; above the
 * kernel.
 *
 * Return: 0, or a negative errno with @err saying what the file looks like
 * and what is expected:
 *  -ENOEXEC: not a kernel flatvm can boot: empty, compressed data, an
 *	      archive, an ELF for another machine or of another type, an
 *	      ELF without a PVH note, neither ELF nor bzImage;
 *  -ENOTSUP: a bzImage whose boot protocol is older than 2.06 or that
 *	      does not load high;
 *  -EINVAL: a malformed image (truncated, headers or notes out of bounds
 *	     or inconsistent) or an invalid @cfg;
 *  -ENOSPC: the kernel or initrd does not fit in guest RAM where it must
 *	     go (including a segment below 1 MiB, over the boot structures);
 *  -E2BIG: the command line is longer than the kernel accepts;
 *  -EIO, or open()'s errno (-ENOENT, -EACCES, ...): reading failed.
 */
int boot_load_kernel(const struct boot_config *cfg, struct boot_info *out,
		     struct error *err);

/**
 * boot_e820_build() - the memory map above for @ram_size bytes of RAM.
 * @acpi: the ACPI area holds tables (type ACPI) rather than nothing
 *	  (reserved).
 * @map: room for BOOT_E820_MAX entries.
 * Return: the number of entries written.
 */
unsigned boot_e820_build(uint64_t ram_size, bool acpi,
			 struct boot_e820_entry map[BOOT_E820_MAX]);

const char *boot_entry_name(enum boot_entry entry);

/* ---- vCPU state (vmm/x86.c) --------------------------------------------- */

/**
 * x86_setup_vcpu() - put a vCPU in the state the kernel's entry expects.
 * @vcpu: a created vCPU that has not run.
 * @bi: what boot_load_kernel() returned.
 * @mem: guest memory, for the GDT and page tables (written for vCPU 0).
 * @err: the reason on failure, or NULL.
 *
 * Every vCPU gets CPUID (vcpu_init_cpuid() with @bi->ncpus), its MSRs
 * (IA32_MISC_ENABLE with fast strings, the SYSENTER and SYSCALL MSRs and
 * KERNEL_GS_BASE zeroed, TSC 0, MTRRs enabled with write-back default,
 * EFER as the entry needs) and a clean FPU (FCW 0x37f, MXCSR 0x1f80).
 *
 * vCPU 0, the boot processor, also gets a GDT at LAYOUT_GDT (null, code
 * BOOT_GDT_CS, data BOOT_GDT_DS, a TSS), the entry's registers and
 * segments, and with an in-kernel irqchip its LAPIC in virtual wire mode
 * (LINT0 ExtINT, LINT1 NMI):
 *  - BOOT_ENTRY_LINUX64: identity page tables at LAYOUT_PML4 covering the
 *    first 4 GiB with 2 MiB pages; CR0 PE|PG|ET|NE, CR4 PAE, EFER
 *    LME|LMA, 64-bit CS, RSI = zero page, RSP = LAYOUT_BOOT_STACK.
 *  - BOOT_ENTRY_LINUX32 and BOOT_ENTRY_PVH: flat 32-bit segments, CR0
 *    PE|ET, paging off; ESI = zero page (Linux) or EBX = start info (PVH).
 * RFLAGS is 2 (interrupts off) in every case.
 *
 * Application processors (id > 0) keep their reset register state: Linux
 * starts them with INIT and SIPI through the in-kernel LAPIC, which also
 * resets their LVTs, so they need the irqchip; without one they would run
 * from the reset vector at once, and are refused.
 *
 * Return: 0, -EINVAL for an AP without an irqchip or a @bi this cannot
 * enter, -EFAULT if the GDT or page tables could not be written, or the
 * errno of the failing ioctl (the message names it).
 */
int x86_setup_vcpu(struct vcpu *vcpu, const struct boot_info *bi,
		   struct address_space *mem, struct error *err);

#endif /* FLATVM_BOOT_H */
