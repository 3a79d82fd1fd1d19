// SPDX-License-Identifier: GPL-2.0-only
/*
 * The x86 entry state a kernel expects from its loader, set through
 * KVM_SET_SREGS/REGS/MSRS/FPU/LAPIC instead of running firmware:
 *
 *  - the 64-bit boot protocol (boot.rst, "64-bit Boot Protocol"): long
 *    mode with paging, an identity map covering the kernel, zero page and
 *    command line, a GDT with flat __BOOT_CS (0x10) and __BOOT_DS (0x18),
 *    interrupts off, RSI = zero page;
 *  - the 32-bit boot protocol: the same GDT in flat protected mode with
 *    paging off, ESI = zero page, EBP = EDI = EBX = 0;
 *  - PVH (Xen's docs/misc/pvh.pandoc): flat 32-bit CS/DS/ES/SS with base
 *    0 and limit 4 GiB, CR0 PE with every other writable bit clear, CR4
 *    clear, TR a 32-bit TSS at base 0 with limit 0x67, EFLAGS VM/IF/TF
 *    clear, EBX = start info.
 *
 * The segment registers are loaded from the same struct kvm_segment
 * values that are encoded into the GDT, so the descriptor cache and the
 * table in guest memory cannot disagree when the kernel reloads a
 * selector.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "flatvm/boot.h"
#include "flatvm/kvm.h"
#include "flatvm/layout.h"

#define X86_CR0_PE		(1ull << 0)
#define X86_CR0_ET		(1ull << 4)
#define X86_CR0_NE		(1ull << 5)
#define X86_CR0_PG		(1ull << 31)
#define X86_CR4_PAE		(1ull << 5)
#define EFER_LME		(1ull << 8)
#define EFER_LMA		(1ull << 10)
#define X86_RFLAGS_FIXED	(1ull << 1)	/* bit 1 always reads 1 */

#define MSR_IA32_TSC		0x10
#define MSR_IA32_SYSENTER_CS	0x174
#define MSR_IA32_SYSENTER_ESP	0x175
#define MSR_IA32_SYSENTER_EIP	0x176
#define MSR_IA32_MISC_ENABLE	0x1a0
#define MISC_ENABLE_FAST_STRING	(1ull << 0)
#define MSR_MTRR_DEF_TYPE	0x2ff
#define MTRR_DEF_TYPE_E		(1ull << 11)	/* MTRRs enabled */
#define MTRR_TYPE_WB		6
#define MSR_EFER		0xc0000080
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_CSTAR		0xc0000083
#define MSR_SYSCALL_MASK	0xc0000084
#define MSR_KERNEL_GS_BASE	0xc0000102

#define FPU_FCW_RESET		0x37f	/* x87 exceptions masked */
#define MXCSR_RESET		0x1f80	/* all SSE exceptions masked */

/* Local APIC registers (offsets in the 4 KiB page / kvm_lapic_state). */
#define APIC_LVT0		0x350
#define APIC_LVT1		0x360
#define APIC_LVT_MASKED		(1u << 16)
#define APIC_LVT_MODE_MASK	(7u << 8)
#define APIC_MODE_NMI		4u
#define APIC_MODE_EXTINT	7u

/* 4-level paging: present, writable, and "page size" for 2 MiB leaves. */
#define PTE_P			(1ull << 0)
#define PTE_RW			(1ull << 1)
#define PTE_PS			(1ull << 7)
#define PT_PAGE			0x1000ull
#define PT_ENTRIES		512
#define IDENT_MAP_GIB		4	/* one PD per GiB */

/* null, unused, code, data, TSS (16 bytes in long mode) */
#define GDT_ENTRIES		6

_Static_assert(LAYOUT_PDPT == LAYOUT_PML4 + PT_PAGE &&
	       LAYOUT_PD == LAYOUT_PDPT + PT_PAGE,
	       "the page tables are written as one block");
_Static_assert(LAYOUT_PD + IDENT_MAP_GIB * PT_PAGE <= LAYOUT_CMDLINE,
	       "the page directories run into the command line");
_Static_assert(LAYOUT_GDT + GDT_ENTRIES * 8 <= LAYOUT_PVH_START_INFO,
	       "the GDT runs into the PVH start info");
_Static_assert(LAYOUT_BOOT_STACK > LAYOUT_ZERO_PAGE + 4096 &&
	       LAYOUT_BOOT_STACK <= LAYOUT_PML4,
	       "the boot stack sits between the zero page and the page tables");
_Static_assert(BOOT_GDT_CS == 2 * 8 && BOOT_GDT_DS == 3 * 8 &&
	       BOOT_GDT_TSS == 4 * 8, "selectors index the GDT below");

/* ---- Segments and the GDT ------------------------------------------------ */

static struct kvm_segment seg_code(bool long_mode)
{
	return (struct kvm_segment){
		.base = 0,
		.limit = 0xffffffff,
		.selector = BOOT_GDT_CS,
		.type = 0xb,		/* execute/read, accessed */
		.present = 1,
		.s = 1,
		.l = long_mode,
		.db = !long_mode,
		.g = 1,
	};
}

static struct kvm_segment seg_data(void)
{
	return (struct kvm_segment){
		.base = 0,
		.limit = 0xffffffff,
		.selector = BOOT_GDT_DS,
		.type = 0x3,		/* read/write, accessed */
		.present = 1,
		.s = 1,
		.db = 1,
		.g = 1,
	};
}

/* Never used for a task switch; VM entry only needs a usable, busy TSS. */
static struct kvm_segment seg_tss(void)
{
	return (struct kvm_segment){
		.base = 0,
		.limit = 0x67,
		.selector = BOOT_GDT_TSS,
		.type = 0xb,		/* busy 32-bit (or 64-bit) TSS */
		.present = 1,
	};
}

/* The 8-byte descriptor for @s (Intel SDM vol. 3, 3.4.5). */
static uint64_t gdt_entry(const struct kvm_segment *s)
{
	uint64_t limit = s->g ? s->limit >> 12 : s->limit;

	return (limit & 0xffff) |
	       ((s->base & 0xffffffull) << 16) |
	       ((uint64_t)(s->type & 0xf) << 40) |
	       ((uint64_t)(s->s & 1) << 44) |
	       ((uint64_t)(s->dpl & 3) << 45) |
	       ((uint64_t)(s->present & 1) << 47) |
	       (((limit >> 16) & 0xf) << 48) |
	       ((uint64_t)(s->avl & 1) << 52) |
	       ((uint64_t)(s->l & 1) << 53) |
	       ((uint64_t)(s->db & 1) << 54) |
	       ((uint64_t)(s->g & 1) << 55) |
	       (((s->base >> 24) & 0xff) << 56);
}

static int write_gdt(struct address_space *mem, bool long_mode,
		     struct error *err)
{
	struct kvm_segment code = seg_code(long_mode), data = seg_data(),
			   tss = seg_tss();
	uint64_t gdt[GDT_ENTRIES] = {
		[BOOT_GDT_CS / 8] = gdt_entry(&code),
		[BOOT_GDT_DS / 8] = gdt_entry(&data),
		[BOOT_GDT_TSS / 8] = gdt_entry(&tss),
		/* [BOOT_GDT_TSS / 8 + 1]: base bits 63:32, zero */
	};

	if (address_space_write(mem, LAYOUT_GDT, gdt, sizeof(gdt)))
		return error_setf(err, EFAULT,
				  "cannot write the boot GDT at %#llx: guest memory there is not RAM",
				  LAYOUT_GDT);
	return 0;
}

/*
 * Identity map of the first IDENT_MAP_GIB GiB with 2 MiB pages: one PML4
 * entry, IDENT_MAP_GIB PDPT entries, 512 PDEs per GiB.
 */
static int write_page_tables(struct address_space *mem, struct error *err)
{
	const size_t len = (2 + IDENT_MAP_GIB) * PT_PAGE;
	uint64_t *pt, *pml4, *pdpt, *pd;
	unsigned i;
	int ret = 0;

	pt = calloc(1, len);
	if (!pt)
		return error_setf(err, ENOMEM, "out of memory");
	pml4 = pt;
	pdpt = pt + PT_ENTRIES;
	pd = pt + 2 * PT_ENTRIES;
	pml4[0] = LAYOUT_PDPT | PTE_P | PTE_RW;
	for (i = 0; i < IDENT_MAP_GIB; i++)
		pdpt[i] = (LAYOUT_PD + i * PT_PAGE) | PTE_P | PTE_RW;
	for (i = 0; i < IDENT_MAP_GIB * PT_ENTRIES; i++)
		pd[i] = ((uint64_t)i << 21) | PTE_P | PTE_RW | PTE_PS;
	if (address_space_write(mem, LAYOUT_PML4, pt, len))
		ret = error_setf(err, EFAULT,
				 "cannot write the boot page tables at %#llx: guest memory there is not RAM",
				 LAYOUT_PML4);
	free(pt);
	return ret;
}

/* ---- Registers ----------------------------------------------------------- */

static int set_sregs(struct vcpu *vcpu, const struct boot_info *bi,
		     struct error *err)
{
	bool long_mode = bi->entry == BOOT_ENTRY_LINUX64;
	struct kvm_sregs sregs;
	int e;

	/* Start from KVM's reset state: APIC base, LDT, interrupt bitmap. */
	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs)) {
		e = errno;
		return error_setf(err, e, "vCPU %u: KVM_GET_SREGS: %s",
				  vcpu->id, strerror(e));
	}
	sregs.cs = seg_code(long_mode);
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = seg_data();
	sregs.tr = seg_tss();
	sregs.gdt.base = LAYOUT_GDT;
	sregs.gdt.limit = GDT_ENTRIES * 8 - 1;
	/* No IDT: the kernel installs its own before it enables interrupts. */
	sregs.idt.base = 0;
	sregs.idt.limit = 0;
	if (long_mode) {
		sregs.cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE | X86_CR0_PG;
		sregs.cr3 = LAYOUT_PML4;
		sregs.cr4 = X86_CR4_PAE;
		sregs.efer = EFER_LME | EFER_LMA;
	} else {
		/* PVH: PE, and every other writable bit clear (ET is fixed). */
		sregs.cr0 = X86_CR0_PE | X86_CR0_ET;
		sregs.cr3 = 0;
		sregs.cr4 = 0;
		sregs.efer = 0;
	}
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs)) {
		e = errno;
		return error_setf(err, e,
				  "vCPU %u: KVM_SET_SREGS for the %s entry: %s",
				  vcpu->id, boot_entry_name(bi->entry),
				  strerror(e));
	}
	return 0;
}

static int set_regs(struct vcpu *vcpu, const struct boot_info *bi,
		    struct error *err)
{
	struct kvm_regs regs = {
		.rflags = X86_RFLAGS_FIXED,
		.rip = bi->entry_addr,
	};
	int e;

	switch (bi->entry) {
	case BOOT_ENTRY_LINUX64:
		regs.rsi = bi->params_addr;
		regs.rsp = regs.rbp = LAYOUT_BOOT_STACK;
		break;
	case BOOT_ENTRY_LINUX32:
		/* EBP, EDI and EBX must be zero; a stack does no harm. */
		regs.rsi = bi->params_addr;
		regs.rsp = LAYOUT_BOOT_STACK;
		break;
	case BOOT_ENTRY_PVH:
		regs.rbx = bi->params_addr;
		break;
	}
	if (ioctl(vcpu->fd, KVM_SET_REGS, &regs)) {
		e = errno;
		return error_setf(err, e, "vCPU %u: KVM_SET_REGS: %s",
				  vcpu->id, strerror(e));
	}
	return 0;
}

static const struct {
	uint32_t index;
	const char *name;
} boot_msrs[] = {
	{ MSR_IA32_SYSENTER_CS, "IA32_SYSENTER_CS" },
	{ MSR_IA32_SYSENTER_ESP, "IA32_SYSENTER_ESP" },
	{ MSR_IA32_SYSENTER_EIP, "IA32_SYSENTER_EIP" },
	{ MSR_STAR, "STAR" },
	{ MSR_LSTAR, "LSTAR" },
	{ MSR_CSTAR, "CSTAR" },
	{ MSR_SYSCALL_MASK, "SYSCALL_MASK" },
	{ MSR_KERNEL_GS_BASE, "KERNEL_GS_BASE" },
	{ MSR_IA32_TSC, "IA32_TSC" },
	/* Linux drops its fast "rep movs" paths when this is clear. */
	{ MSR_IA32_MISC_ENABLE, "IA32_MISC_ENABLE" },
	/*
	 * Firmware enables the MTRRs with write-back as the default type;
	 * with them disabled Linux 6.1 also turns PAT off.
	 */
	{ MSR_MTRR_DEF_TYPE, "MTRRdefType" },
	{ MSR_EFER, "EFER" },
};

static uint64_t boot_msr_value(uint32_t index, uint64_t efer)
{
	switch (index) {
	case MSR_IA32_MISC_ENABLE:
		return MISC_ENABLE_FAST_STRING;
	case MSR_MTRR_DEF_TYPE:
		return MTRR_DEF_TYPE_E | MTRR_TYPE_WB;
	case MSR_EFER:
		return efer;
	default:
		return 0;
	}
}

static int set_msrs(struct vcpu *vcpu, uint64_t efer, struct error *err)
{
	const unsigned n = ARRAY_SIZE(boot_msrs);
	struct kvm_msrs *msrs;
	unsigned i;
	int ret, e;

	msrs = calloc(1, sizeof(*msrs) + n * sizeof(msrs->entries[0]));
	if (!msrs)
		return error_setf(err, ENOMEM, "out of memory");
	msrs->nmsrs = n;
	for (i = 0; i < n; i++) {
		msrs->entries[i].index = boot_msrs[i].index;
		msrs->entries[i].data = boot_msr_value(boot_msrs[i].index,
						       efer);
	}
	/* KVM_SET_MSRS returns how many it set, stopping at a refusal. */
	ret = ioctl(vcpu->fd, KVM_SET_MSRS, msrs);
	e = errno;
	free(msrs);
	if (ret < 0)
		return error_setf(err, e, "vCPU %u: KVM_SET_MSRS: %s",
				  vcpu->id, strerror(e));
	if ((unsigned)ret < n)
		return error_setf(err, EINVAL,
				  "vCPU %u: KVM_SET_MSRS refused MSR %#x (%s) with value %#" PRIx64 "; set %d of %u",
				  vcpu->id, boot_msrs[ret].index,
				  boot_msrs[ret].name,
				  boot_msr_value(boot_msrs[ret].index, efer),
				  ret, n);
	return 0;
}

/*
 * KVM_SET_FPU sets the x87 control word, but KVM copies neither way the
 * mxcsr field of struct kvm_fpu: MXCSR lives in the XSAVE area, at byte
 * 24 of its legacy (FXSAVE) region, and is set there.  Without XSAVE
 * support KVM's reset value (0x1f80 too) stays.
 */
#define XSAVE_MXCSR_WORD	(24 / 4)

static int set_mxcsr(struct vcpu *vcpu, struct error *err)
{
	struct kvm_xsave *xs;
	unsigned long get = KVM_GET_XSAVE;
	uint32_t mxcsr = MXCSR_RESET;
	int size, ret = 0, e;

	if (ioctl(vcpu->kvm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) <= 0)
		return 0;
	/* Larger than struct kvm_xsave when AMX state is enabled. */
	size = ioctl(vcpu->kvm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
	if (size > (int)sizeof(*xs))
		get = KVM_GET_XSAVE2;
	else
		size = sizeof(*xs);
	xs = calloc(1, (size_t)size);
	if (!xs)
		return error_setf(err, ENOMEM, "out of memory");
	if (ioctl(vcpu->fd, get, xs)) {
		e = errno;
		ret = error_setf(err, e, "vCPU %u: KVM_GET_XSAVE: %s",
				 vcpu->id, strerror(e));
		goto out;
	}
	memcpy(&xs->region[XSAVE_MXCSR_WORD], &mxcsr, sizeof(mxcsr));
	if (ioctl(vcpu->fd, KVM_SET_XSAVE, xs)) {
		e = errno;
		ret = error_setf(err, e, "vCPU %u: KVM_SET_XSAVE: %s",
				 vcpu->id, strerror(e));
	}
out:
	free(xs);
	return ret;
}

static int set_fpu(struct vcpu *vcpu, struct error *err)
{
	struct kvm_fpu fpu = {
		.fcw = FPU_FCW_RESET,
		.mxcsr = MXCSR_RESET,	/* KVM ignores it: set_mxcsr() */
	};
	int e;

	if (ioctl(vcpu->fd, KVM_SET_FPU, &fpu)) {
		e = errno;
		return error_setf(err, e, "vCPU %u: KVM_SET_FPU: %s",
				  vcpu->id, strerror(e));
	}
	return set_mxcsr(vcpu, err);
}

static uint32_t lvt_virtual_wire(uint32_t v, unsigned mode)
{
	return (v & ~(APIC_LVT_MODE_MASK | APIC_LVT_MASKED)) | (mode << 8);
}

/*
 * Virtual wire mode, as an MP-spec BIOS leaves the boot processor: LINT0
 * takes the 8259's ExtINT, LINT1 delivers NMIs, both unmasked.  Only the
 * BSP: INIT resets an AP's LVTs before it ever runs.  An AP's state is
 * written back unchanged, which is not for nothing: KVM (re)builds its
 * map of APIC IDs, through which INIT and SIPI reach an AP, on
 * KVM_SET_LAPIC.  Without it, on the PVM host here, a guest that sent
 * INIT/SIPI before software-enabling its own APIC never woke its APs
 * (QEMU too sets every vCPU's LAPIC).
 */
static int set_lapic(struct vcpu *vcpu, bool bsp, struct error *err)
{
	struct kvm_lapic_state lapic;
	uint32_t v;
	int e;

	if (ioctl(vcpu->fd, KVM_GET_LAPIC, &lapic)) {
		e = errno;
		return error_setf(err, e, "vCPU %u: KVM_GET_LAPIC: %s",
				  vcpu->id, strerror(e));
	}
	if (bsp) {
		memcpy(&v, lapic.regs + APIC_LVT0, sizeof(v));
		v = lvt_virtual_wire(v, APIC_MODE_EXTINT);
		memcpy(lapic.regs + APIC_LVT0, &v, sizeof(v));
		memcpy(&v, lapic.regs + APIC_LVT1, sizeof(v));
		v = lvt_virtual_wire(v, APIC_MODE_NMI);
		memcpy(lapic.regs + APIC_LVT1, &v, sizeof(v));
	}
	if (ioctl(vcpu->fd, KVM_SET_LAPIC, &lapic)) {
		e = errno;
		return error_setf(err, e, "vCPU %u: KVM_SET_LAPIC: %s",
				  vcpu->id, strerror(e));
	}
	return 0;
}

/* ---- Entry point --------------------------------------------------------- */

static int check_boot_info(const struct vcpu *vcpu, const struct boot_info *bi,
			   struct error *err)
{
	const uint64_t mapped = (uint64_t)IDENT_MAP_GIB << 30;

	switch (bi->entry) {
	case BOOT_ENTRY_LINUX64:
	case BOOT_ENTRY_LINUX32:
	case BOOT_ENTRY_PVH:
		break;
	default:
		return error_setf(err, EINVAL,
				  "vCPU %u: unknown boot entry kind %d",
				  vcpu->id, (int)bi->entry);
	}
	/* Both 32-bit entries run without paging; the 64-bit one maps 4 GiB. */
	if (bi->entry_addr >= mapped || bi->params_addr >= mapped)
		return error_setf(err, EINVAL,
				  "vCPU %u: the %s entry at %#" PRIx64 " with parameters at %#" PRIx64 " must lie below 4 GiB",
				  vcpu->id, boot_entry_name(bi->entry),
				  bi->entry_addr, bi->params_addr);
	if (vcpu->id && !vcpu->kvm->irqchip)
		return error_setf(err, EINVAL,
				  "vCPU %u is an application processor: it waits for INIT/SIPI from vCPU 0, which needs the in-kernel irqchip (kvm_create_irqchip() before the vCPUs are created)",
				  vcpu->id);
	return 0;
}

int x86_setup_vcpu(struct vcpu *vcpu, const struct boot_info *bi,
		   struct address_space *mem, struct error *err)
{
	bool bsp = vcpu->id == 0;
	bool long_mode = bi->entry == BOOT_ENTRY_LINUX64;
	uint64_t efer = bsp && long_mode ? EFER_LME | EFER_LMA : 0;
	int ret;

	ret = check_boot_info(vcpu, bi, err);
	if (ret)
		return ret;
	ret = vcpu_init_cpuid(vcpu, bi->ncpus, err);
	if (ret)
		return ret;
	if (bsp) {
		ret = write_gdt(mem, long_mode, err);
		if (!ret && long_mode)
			ret = write_page_tables(mem, err);
		if (!ret)
			ret = set_sregs(vcpu, bi, err);
		if (!ret)
			ret = set_regs(vcpu, bi, err);
		if (ret)
			return ret;
	}
	/* After the sregs: EFER here agrees with what they set. */
	ret = set_msrs(vcpu, efer, err);
	if (!ret)
		ret = set_fpu(vcpu, err);
	if (!ret && vcpu->kvm->irqchip)
		ret = set_lapic(vcpu, bsp, err);
	return ret;
}
