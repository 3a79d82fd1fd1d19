// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ACPI sleep control/status register (devices/pm.c): Linux's S5
 * sequence powers off exactly once, at the SLP_EN write; the wake-status
 * clear before it, other sleep types and stray bytes do nothing.
 */
#include <errno.h>
#include <stdint.h>

#include "harness.h"
#include "flatvm/acpi.h"
#include "flatvm/devices.h"
#include "flatvm/layout.h"

#define PORT	LAYOUT_PORT_ACPI_SLEEP

static struct memory_region io_root;
static struct address_space io_as;
static struct pm *pm;
static unsigned poweroffs;
static long objs_at_start;

static void count_poweroff(void *opaque)
{
	ck_assert_ptr_eq(opaque, &poweroffs);
	poweroffs++;
}

static void setup(void)
{
	struct error err = { 0 };

	objs_at_start = live_objects();
	poweroffs = 0;
	ck_assert_int_eq(memory_region_init(&io_root, NULL, "io", 0x10000,
					    &err), 0);
	ck_assert_int_eq(address_space_init(&io_as, &io_root, "io", &err), 0);
	pm = pm_create(object_root(), "pm", count_poweroff, &poweroffs, &err);
	ck_assert_msg(pm, "%s", err.msg);
	ck_assert_int_eq(memory_region_add_subregion(&io_root, PORT, &pm->io,
						     &err), 0);
}

static void teardown(void)
{
	device_unrealize(&pm->dev);
	object_unparent(&pm->dev.obj);
	pm = NULL;
	address_space_destroy(&io_as);
	object_unref(&io_root.obj);
	rcu_flush();
	ck_assert_int_eq(live_objects(), objs_at_start);
}

static void outb(uint8_t v)
{
	ck_assert_int_eq(address_space_write(&io_as, PORT, &v, 1), 0);
}

static uint8_t inb(void)
{
	uint8_t v;

	ck_assert_int_eq(address_space_read(&io_as, PORT, &v, 1), 0);
	return v;
}

/* acpi_hw_extended_sleep(ACPI_STATE_S5), as Linux's poweroff runs it. */
START_TEST(linux_s5_sequence_powers_off_once)
{
	setup();
	/* Clear WAK_STS: not a poweroff. */
	outb(ACPI_SLEEP_STS_WAK);
	ck_assert_uint_eq(poweroffs, 0);
	/* SLP_TYP = S5 with SLP_EN. */
	outb((ACPI_S5_SLP_TYP << ACPI_SLEEP_CTL_TYP_SHIFT) | ACPI_SLEEP_CTL_EN);
	ck_assert_uint_eq(poweroffs, 1);
	/* Then it polls WAK_STS, which never comes back. */
	ck_assert_uint_eq(inb() & ACPI_SLEEP_STS_WAK, 0);
	teardown();
}
END_TEST

START_TEST(other_writes_are_ignored)
{
	unsigned v, typ;

	setup();
	ck_assert_uint_eq(inb(), 0);
	/* S5 without SLP_EN, other sleep types with it. */
	outb(ACPI_S5_SLP_TYP << ACPI_SLEEP_CTL_TYP_SHIFT);
	for (typ = 0; typ < 8; typ++)
		if (typ != ACPI_S5_SLP_TYP)
			outb((uint8_t)(typ << ACPI_SLEEP_CTL_TYP_SHIFT) |
			     ACPI_SLEEP_CTL_EN);
	ck_assert_uint_eq(poweroffs, 0);
	/* Every byte: exactly those acpi_sleep_ctl_is_poweroff() accepts
	 * power off (WAK_STS and the low bits do not matter). */
	for (v = 0; v < 256; v++) {
		unsigned before = poweroffs;

		outb((uint8_t)v);
		ck_assert_uint_eq(poweroffs - before,
				  acpi_sleep_ctl_is_poweroff((uint8_t)v));
	}
	ck_assert_uint_eq(poweroffs, 16);
	ck_assert_uint_eq(inb(), 0);
	/* A 2-byte access: one byte is ours, the next port is not. */
	ck_assert_int_eq(address_space_write(&io_as, PORT,
					     &(uint16_t){ 0x0080 }, 2),
			 -EFAULT);
	ck_assert_uint_eq(poweroffs, 16);
	teardown();
}
END_TEST

START_TEST(not_hotpluggable_and_null_callback)
{
	struct error err = { 0 };
	struct pm *p2;
	uint8_t v = (ACPI_S5_SLP_TYP << ACPI_SLEEP_CTL_TYP_SHIFT) |
		    ACPI_SLEEP_CTL_EN;

	setup();
	ck_assert_int_eq(device_unplug(&pm->dev, &err), -EPERM);
	ck_assert_int_eq(device_get_state(&pm->dev), DEVICE_REALIZED);
	p2 = pm_create(object_root(), "pm2", NULL, NULL, &err);
	ck_assert_msg(p2, "%s", err.msg);
	ck_assert_int_eq(memory_region_add_subregion(&io_root, PORT + 8,
						     &p2->io, &err), 0);
	ck_assert_int_eq(address_space_write(&io_as, PORT + 8, &v, 1), 0);
	ck_assert_uint_eq(poweroffs, 0);
	device_unrealize(&p2->dev);
	object_unparent(&p2->dev.obj);
	teardown();
}
END_TEST

static Suite *pm_suite(void)
{
	Suite *s = suite_create("devices/pm");
	TCase *tc = rcu_tcase("sleep", 10);

	tcase_add_test(tc, linux_s5_sequence_powers_off_once);
	tcase_add_test(tc, other_writes_are_ignored);
	tcase_add_test(tc, not_hotpluggable_and_null_callback);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(pm_suite)
