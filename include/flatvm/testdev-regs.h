/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The test device's register map, shared by the device model
 * (devices/testdev.c) and the guests that drive it (tests/guests/).
 * Freestanding: no includes, usable from guest code.
 *
 * The same 32-bit registers appear in the MMIO window
 * (LAYOUT_TESTDEV_MMIO) and the port window (LAYOUT_PORT_TESTDEV); the
 * registers from 0x10 up are MMIO only.
 */
#ifndef FLATVM_TESTDEV_REGS_H
#define FLATVM_TESTDEV_REGS_H

#define TESTDEV_ID		0x00	/* RO: TESTDEV_MAGIC */
#define TESTDEV_SCRATCH		0x04	/* RW: plain storage */
#define TESTDEV_COUNTER		0x08	/* RO: counts its own reads */
#define TESTDEV_EXIT		0x0c	/* WO: end the VM, status = value */
#define TESTDEV_LOG		0x10	/* WO (MMIO): one byte to the test log */
#define TESTDEV_NOTIFY		0x14	/* WO (MMIO): ioeventfd-backed doorbell */
#define TESTDEV_RESULT		0x18	/* RW (MMIO): a value for the host */

#define TESTDEV_MAGIC		0x44545646u	/* "FVTD" little endian */

#endif /* FLATVM_TESTDEV_REGS_H */
