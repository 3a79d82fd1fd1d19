/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The bzImage's real-mode part ("setup"), for boot loaders that use the
 * 16-bit boot protocol (QEMU's linuxboot option ROM, GRUB's linux16, a
 * BIOS): they load it anywhere below 1 MiB with DS = its segment and jump
 * to segment + 0x20 : 0, which lands on the jump at offset 0x200.
 *
 * mkbzimage fills in the setup header (0x1f1 onwards); this file only
 * leaves room for it and brings the code that runs:
 *  1. normalize CS to DS, set a stack inside this block;
 *  2. build boot_params: the loaded block holds only the setup header
 *     (0x1f1-0x26b) of it, the rest of the block is this code; so a
 *     zeroed page at ZERO_PAGE (past the block, inside the 32 KiB the
 *     protocol gives the real-mode part) gets a copy of the header;
 *  3. ask the BIOS for the E820 map (INT 15h, AX=E820h), at most 128
 *     entries, if there is a BIOS (the INT 15h vector is not 0);
 *  4. load a flat GDT, enter protected mode and jump to code32_start with
 *     ESI = boot_params and EBX = SETUP16_MARKER.
 *
 * Linked at 0: labels are offsets from the start of the block, which is
 * where DS points.
 */
#include "entry.h"

#define ZERO_PAGE		0x1000		/* offset from the block */
#define HDR_START		0x1f1
#define HDR_END			0x26c		/* protocol 2.15 */
#define BP_E820_ENTRIES		0x1e8
#define BP_CODE32_START		0x214
#define BP_E820_TABLE		0x2d0
#define E820_ENTRY_SIZE		20
#define E820_MAX		128
#define SMAP			0x534d4150	/* "SMAP" */

#define BOOT_CS			0x10		/* the boot protocol's */
#define BOOT_DS			0x18

	.code16
	.section .setup, "ax", @progbits
	.globl setup_start
setup_start:
	/* Offsets 0x000-0x1ff: the legacy boot sector and the setup header. */
	.org 0x200
	/* The header's "jump" field: a short jump to setup_main. */
	.byte 0xeb, setup_main - setup_start - 0x202
	/* 0x202-0x27f: the rest of the header (mkbzimage writes it). */
	.org 0x280

setup_main:
	cli
	cld
	movw %ds, %ax
	movw %ax, %es
	movw %ax, %ss
	movw $setup_stack_top, %sp
	pushw %ax			/* CS := DS, IP := our offset */
	pushw $1f
	lretw
1:
	/* EBX: the linear address of this block. */
	movzwl %ax, %ebx
	shll $4, %ebx

	/* boot_params: a zeroed page with the loader's setup header. */
	movw $ZERO_PAGE, %di
	movw $(4096 / 2), %cx
	xorw %ax, %ax
	rep stosw
	movw $HDR_START, %si
	movw $(ZERO_PAGE + HDR_START), %di
	movw $(HDR_END - HDR_START), %cx
	rep movsb

	/* No BIOS (an empty INT 15h vector): nothing to ask. */
	xorw %ax, %ax
	movw %ax, %fs
	cmpl $0, %fs:(0x15 * 4)
	je 4f

	movw $(ZERO_PAGE + BP_E820_TABLE), %di
	xorl %esi, %esi			/* continuation value */
2:	movl $0xe820, %eax
	movl $SMAP, %edx
	movl $E820_ENTRY_SIZE, %ecx
	pushl %ebx
	movl %esi, %ebx
	int $0x15
	movl %ebx, %esi
	popl %ebx
	jc 4f
	cmpl $SMAP, %eax
	jne 4f
	cmpl $E820_ENTRY_SIZE, %ecx
	jb 3f				/* odd size: skip the entry */
	incb (ZERO_PAGE + BP_E820_ENTRIES)
	addw $E820_ENTRY_SIZE, %di
3:	testl %esi, %esi
	jz 4f
	cmpb $E820_MAX, (ZERO_PAGE + BP_E820_ENTRIES)
	jb 2b
4:
	/*
	 * Flat GDT: patch its linear base, and the target of the far jump
	 * below (a direct one with a patched offset, as Linux's setup does:
	 * KVM's emulator, which runs all of this under PVM, fails on the
	 * indirect form).  Moving to CR0 serializes, so the patched bytes
	 * are the ones executed.
	 */
	movl %ebx, %eax
	addl $gdt, %eax
	movl %eax, gdt_desc + 2
	movl %ebx, %eax
	addl $pm32, %eax
	movl %eax, pm32_jump + 2

	lgdtl gdt_desc
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
pm32_jump:
	.byte 0x66, 0xea		/* ljmpl $BOOT_CS, $pm32 (linear) */
	.long 0				/* patched */
	.word BOOT_CS

	.code32
pm32:
	movl $BOOT_DS, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %fs
	movl %eax, %gs
	movl %eax, %ss
	leal ZERO_PAGE(%ebx), %esi		/* boot_params */
	movl BP_CODE32_START(%esi), %eax
	movl $SETUP16_MARKER, %ebx
	xorl %ebp, %ebp
	xorl %edi, %edi
	jmp *%eax

	.p2align 3
gdt:
	.quad 0
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x10: flat 32-bit code */
	.quad 0x00cf92000000ffff	/* 0x18: flat data */
gdt_end:
gdt_desc:
	.word gdt_end - gdt - 1
	.long 0				/* patched: linear address of gdt */

	/* A small stack; mkbzimage pads the block to whole sectors. */
	.p2align 4
	.space 512
setup_stack_top:
