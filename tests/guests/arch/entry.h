/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared by the entry code (assembly) and lib/boot.h (C). */
#ifndef GUEST_ENTRY_H
#define GUEST_ENTRY_H

#define ENTRY_PVH		1
#define ENTRY_BZIMAGE64		2
#define ENTRY_BZIMAGE32		3
#define ENTRY_BZIMAGE16		4

#define GUEST_STACK_SIZE	0x4000

/* Xen ELF note (public/elfnote.h): the 32-bit PVH entry point. */
#define XEN_ELFNOTE_PHYS32_ENTRY 18

/* What the 16-bit setup leaves in EBX for the 32-bit entry. */
#define SETUP16_MARKER		0x36316273	/* "sb16" */

#endif /* GUEST_ENTRY_H */
