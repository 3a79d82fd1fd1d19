/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The application processors' way in (PVH guests, 32-bit).
 *
 * A SIPI with vector V starts an AP in real mode at V:0000, i.e. at
 * linear V << 12, with every other register at its INIT value.
 * ap16_start .. ap16_end is position-independent real-mode code that
 * lib/smp.c copies to such a page below 1 MiB (RAM in the memory map):
 * it loads a flat GDT (ap_gdt, in the image, through a 32-bit base),
 * turns on protection and jumps to ap32_entry in the image at 1 MiB.
 * Everything it refers to is either relative to ap16_start or an
 * absolute address in the image, so the copy needs no patching.
 *
 * ap32_entry reads its local APIC ID (the CPU index), takes stack
 * smp_ap_stacks[id], and calls smp_ap_entry(id).  Interrupts stay off,
 * as everywhere in the guests (nothing could deliver them).
 */
#include "ap.h"

	.section .rodata.ap16, "a", @progbits
	.code16
	.globl ap16_start, ap16_end
ap16_start:
	cli
	cld
	lgdtl %cs:(ap16_gdtr - ap16_start)
	movl %cr0, %eax
	orl $1, %eax			/* PE; paging stays off */
	movl %eax, %cr0
	ljmpl $SMP_CODE32_SEL, $ap32_entry
	.p2align 2
ap16_gdtr:
	.word ap_gdt_end - ap_gdt - 1
	.long ap_gdt
ap16_end:

	.section .rodata
	.p2align 3
ap_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* SMP_CODE32_SEL: 32-bit code, flat */
	.quad 0x00cf92000000ffff	/* SMP_DATA32_SEL: data, flat */
ap_gdt_end:

	.text
	.code32
	.type ap32_entry, @function
ap32_entry:
	movl $SMP_DATA32_SEL, %eax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	/* The APIC ID, from the local APIC where the SIPI found us. */
	movl $SMP_MSR_APIC_BASE, %ecx
	rdmsr
	andl $0xfffff000, %eax
	movl SMP_APIC_ID(%eax), %ebx
	shrl $24, %ebx
	cmpl $SMP_MAX_CPUS, %ebx
	jae 1f
	leal 1(%ebx), %eax		/* the top of smp_ap_stacks[id] */
	imull $SMP_AP_STACK_SIZE, %eax
	addl $smp_ap_stacks, %eax
	movl %eax, %esp
	xorl %ebp, %ebp
	pushl %ebx			/* smp_ap_entry(id) */
	call smp_ap_entry
1:	cli
	hlt
	jmp 1b
	.size ap32_entry, . - ap32_entry
