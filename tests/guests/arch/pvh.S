/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * PVH entry (32-bit, ELF32 guest image).
 *
 * The loader enters at pvh_start, named by the XEN_ELFNOTE_PHYS32_ENTRY
 * note, in 32-bit protected mode with paging off, flat CS/DS/ES/SS, and
 * EBX = the guest-physical address of struct hvm_start_info.  Interrupts
 * are turned off first thing: nothing could deliver them anyway.
 */
#include "entry.h"

	.section .note.Xen, "a", @note
	.p2align 2
	.long 2f - 1f			/* namesz */
	.long 4f - 3f			/* descsz */
	.long XEN_ELFNOTE_PHYS32_ENTRY	/* type */
1:	.asciz "Xen"
2:	.p2align 2
3:	.long pvh_start
4:	.p2align 2

	.section .text.entry, "ax", @progbits
	.code32
	.globl pvh_start
	.type pvh_start, @function
pvh_start:
	cli
	cld
	/* Zero .bss (the stack is in it); EBX survives rep stosb. */
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	xorl %eax, %eax
	rep stosb
	movl $stack_top, %esp
	xorl %ebp, %ebp
	pushl %ebx			/* guest_entry(ENTRY_PVH, start_info) */
	pushl $ENTRY_PVH
	call guest_entry
1:	cli
	hlt
	jmp 1b
	.size pvh_start, . - pvh_start

	.section .bss.stack, "aw", @nobits
	.p2align 4
	.space GUEST_STACK_SIZE
stack_top:
