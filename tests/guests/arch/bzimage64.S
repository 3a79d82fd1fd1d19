/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The protected-mode part of the bzImage guest (ELF64, linked at 1 MiB,
 * not relocatable; mkbzimage turns it into the bzImage payload).
 *
 *  offset 0x000  startup_32: the 32-bit boot protocol entry (code32_start).
 *                Flat protected mode, paging off, ESI = boot_params.  Builds
 *                identity page tables for the first 4 GiB, enables long
 *                mode and continues at common64.  The 16-bit setup code
 *                arrives here too, with EBX = SETUP16_MARKER.
 *  offset 0x200  startup_64: the 64-bit boot protocol entry.  Long mode,
 *                the loader's identity map, RSI = boot_params.
 */
#include "entry.h"

#define X86_CR0_PE		0x00000001
#define X86_CR0_PG		0x80000000
#define X86_CR4_PAE		0x00000020
#define MSR_EFER		0xc0000080
#define EFER_LME		0x00000100
#define PTE_P			0x001
#define PTE_W			0x002
#define PTE_PS			0x080	/* a 2 MiB page, in a PD entry */

#define GDT_CODE64		0x08
#define GDT_DATA		0x10

	.section .head32, "ax", @progbits
	.code32
	.globl startup_32
	.type startup_32, @function
startup_32:
	cli
	cld
	/* Which path brought us here: the 16-bit setup or a 32-bit loader. */
	movl $ENTRY_BZIMAGE32, %ebp
	cmpl $SETUP16_MARKER, %ebx
	jne 1f
	movl $ENTRY_BZIMAGE16, %ebp
1:
	lgdt gdt64_desc

	/* Zero the six page-table pages (ESI, EBP survive). */
	movl $pgtables_start, %edi
	movl $(6 * 4096 / 4), %ecx
	xorl %eax, %eax
	rep stosl

	/* PML4[0] -> PDPT; PDPT[0..3] -> PD0..3; PDn: 2 MiB pages. */
	movl $(pdpt + PTE_P + PTE_W), pml4
	movl $(pd + PTE_P + PTE_W), %eax
	movl $pdpt, %edi
	movl $4, %ecx
2:	movl %eax, (%edi)
	addl $4096, %eax
	addl $8, %edi
	loop 2b

	movl $pd, %edi
	movl $(PTE_P + PTE_W + PTE_PS), %eax	/* low dword: address | flags */
	xorl %edx, %edx				/* high dword: bits 32+ */
	movl $(4 * 512), %ecx
3:	movl %eax, (%edi)
	movl %edx, 4(%edi)
	addl $0x200000, %eax
	adcl $0, %edx
	addl $8, %edi
	loop 3b

	/* PAE, page tables, EFER.LME, then paging: long mode. */
	movl %cr4, %eax
	orl $X86_CR4_PAE, %eax
	movl %eax, %cr4
	movl $pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $(X86_CR0_PG | X86_CR0_PE), %eax
	movl %eax, %cr0
	ljmp $GDT_CODE64, $from32

	.code64
from32:
	movl $GDT_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %esi, %esi			/* boot_params: zero-extended */
	movl %ebp, %edx
	jmp common64
	.size startup_32, . - startup_32

	.p2align 3
gdt64:
	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: flat data */
gdt64_end:
gdt64_desc:
	.word gdt64_end - gdt64 - 1
	.long gdt64

	.section .head64, "ax", @progbits
	.code64
	.globl startup_64
	.type startup_64, @function
startup_64:
	cli
	cld
	movl $ENTRY_BZIMAGE64, %edx
common64:
	/* RSI = boot_params, EDX = entry kind; both survive rep stosb. */
	movq %rsi, %r12
	movl %edx, %r13d
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	xorl %eax, %eax
	rep stosb
	movq $stack_top, %rsp
	xorl %ebp, %ebp
	movl %r13d, %edi		/* guest_entry(kind, boot_params) */
	movq %r12, %rsi
	call guest_entry
1:	cli
	hlt
	jmp 1b
	.size startup_64, . - startup_64

	.section .bss.stack, "aw", @nobits
	.p2align 4
	.space GUEST_STACK_SIZE
stack_top:

	/* Not in .bss: startup_64 zeroes .bss while these may be live. */
	.section .pgtables, "aw", @nobits
	.p2align 12
pgtables_start:
pml4:	.space 4096
pdpt:	.space 4096
pd:	.space 4 * 4096

	/*
	 * kernel_info (boot protocol 2.15): mkbzimage finds it by its magic
	 * and points the header's kernel_info_offset at it.  No setup_data
	 * types are understood (setup_type_max 0).
	 */
	.section .rodata.kernel_info, "a", @progbits
	.p2align 2
kernel_info:
	.ascii "LToP"
	.long kernel_info_var - kernel_info	/* size */
	.long kernel_info_end - kernel_info	/* size_total */
	.long 0					/* setup_type_max */
kernel_info_var:
kernel_info_end:
