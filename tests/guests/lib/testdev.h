/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The test device (include/flatvm/testdev-regs.h): the same 32-bit
 * registers through its MMIO window and its port window.
 */
#ifndef GUEST_TESTDEV_H
#define GUEST_TESTDEV_H

#include <stdbool.h>
#include <stdint.h>

uint32_t testdev_mmio_read(unsigned reg);
void testdev_mmio_write(unsigned reg, uint32_t v);
uint32_t testdev_pio_read(unsigned reg);
void testdev_pio_write(unsigned reg, uint32_t v);

/* Does the MMIO window's ID register read TESTDEV_MAGIC?  (Cached.) */
bool testdev_present(void);
/* Write @status to TESTDEV_EXIT through the port window. */
void testdev_exit(uint32_t status);

#endif /* GUEST_TESTDEV_H */
