// SPDX-License-Identifier: GPL-2.0-only
#include "flatvm/layout.h"
#include "flatvm/testdev-regs.h"

#include "io.h"
#include "testdev.h"

uint32_t testdev_mmio_read(unsigned reg)
{
	return mmio_read32(LAYOUT_TESTDEV_MMIO + reg);
}

void testdev_mmio_write(unsigned reg, uint32_t v)
{
	mmio_write32(LAYOUT_TESTDEV_MMIO + reg, v);
}

uint32_t testdev_pio_read(unsigned reg)
{
	return inl((uint16_t)(LAYOUT_PORT_TESTDEV + reg));
}

void testdev_pio_write(unsigned reg, uint32_t v)
{
	outl((uint16_t)(LAYOUT_PORT_TESTDEV + reg), v);
}

bool testdev_present(void)
{
	static int present = -1;

	if (present < 0)
		present = testdev_mmio_read(TESTDEV_ID) == TESTDEV_MAGIC;
	return present;
}

void testdev_exit(uint32_t status)
{
	testdev_pio_write(TESTDEV_EXIT, status);
}
