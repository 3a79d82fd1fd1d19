// SPDX-License-Identifier: GPL-2.0-only
/*
 * The MC146818 RTC (devices/rtc.c) through ports 0x70/0x71: the time in
 * BCD, binary and 12-hour formats against the host clock, the registers
 * Linux's rtc-cmos and read_persistent_clock() depend on, setting the
 * time, CMOS RAM, and hostile input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "iospace.h"
#include "flatvm/devices.h"
#include "flatvm/layout.h"

#define INDEX	LAYOUT_PORT_RTC
#define DATA	(LAYOUT_PORT_RTC + 1)

#define REG_SEC		0x00
#define REG_MIN		0x02
#define REG_HOUR	0x04
#define REG_WDAY	0x06
#define REG_MDAY	0x07
#define REG_MON		0x08
#define REG_YEAR	0x09
#define REG_A		0x0a
#define REG_B		0x0b
#define REG_C		0x0c
#define REG_D		0x0d

#define B_SET		0x80
#define B_BINARY	0x04
#define B_24H		0x02

static struct rtc *rtc;

static void setup(void)
{
	struct error err = { 0 };

	iospace_setup();
	rtc = rtc_create(object_root(), "rtc", &err);
	ck_assert_msg(rtc, "%s", err.msg);
	ck_assert_int_eq(memory_region_add_subregion(&io_root, INDEX, &rtc->io,
						     &err), 0);
}

static void teardown(void)
{
	iospace_teardown(&rtc->dev);
	rtc = NULL;
}

static uint8_t cmos_read(uint8_t idx)
{
	outb(INDEX, idx);
	return inb(DATA);
}

static void cmos_write(uint8_t idx, uint8_t v)
{
	outb(INDEX, idx);
	outb(DATA, v);
}

static unsigned field(uint8_t v, bool binary)
{
	return binary ? v : (v >> 4) * 10 + (v & 0x0f);
}

static uint8_t to_bcd(unsigned v)
{
	return (uint8_t)((v / 10) << 4 | v % 10);
}

/*
 * Read the clock as mc146818_get_time() does (seconds read before and
 * after; retry on a tick), in the format register B says.  @wday gets
 * the day-of-week register, decoded.
 */
static time_t rtc_time(unsigned *wday)
{
	uint8_t b = cmos_read(REG_B), sec, hour;
	bool bin = b & B_BINARY;
	struct tm tm;
	int tries;

	for (tries = 0; tries < 10; tries++) {
		memset(&tm, 0, sizeof(tm));
		sec = cmos_read(REG_SEC);
		ck_assert_uint_eq(cmos_read(REG_A) & 0x80, 0);
		tm.tm_sec = (int)field(sec, bin);
		tm.tm_min = (int)field(cmos_read(REG_MIN), bin);
		hour = cmos_read(REG_HOUR);
		if (b & B_24H)
			tm.tm_hour = (int)field(hour, bin);
		else
			tm.tm_hour = (int)(field(hour & 0x7f, bin) % 12 +
					   (hour & 0x80 ? 12 : 0));
		*wday = field(cmos_read(REG_WDAY), bin);
		tm.tm_mday = (int)field(cmos_read(REG_MDAY), bin);
		tm.tm_mon = (int)field(cmos_read(REG_MON), bin) - 1;
		tm.tm_year = (int)(field(cmos_read(RTC_REG_CENTURY), bin) *
				   100 + field(cmos_read(REG_YEAR), bin)) -
			     1900;
		if (sec == cmos_read(REG_SEC))
			return timegm(&tm);
	}
	ck_abort_msg("the seconds never stood still");
	return 0;
}

static void assert_host_time(void)
{
	time_t now = time(NULL), t;
	unsigned wday;
	struct tm tm;

	t = rtc_time(&wday);
	ck_assert_msg(llabs((long long)(t - now)) <= 2,
		      "RTC says %lld, host %lld", (long long)t,
		      (long long)now);
	gmtime_r(&t, &tm);
	ck_assert_uint_eq(wday, (unsigned)tm.tm_wday + 1);
}

/* ---- Time --------------------------------------------------------------- */

START_TEST(bcd_24h_time_is_host_utc)
{
	setup();
	ck_assert_uint_eq(cmos_read(REG_B) & (B_BINARY | B_24H), B_24H);
	assert_host_time();
	/* Every time register is valid BCD. */
	ck_assert_uint_le(cmos_read(REG_SEC) & 0x0f, 9);
	ck_assert_uint_le(cmos_read(REG_MIN) & 0x0f, 9);
	ck_assert_uint_le(cmos_read(REG_YEAR) & 0x0f, 9);
	ck_assert_uint_le(cmos_read(REG_HOUR), 0x23);
	teardown();
}
END_TEST

START_TEST(binary_and_12h_formats)
{
	time_t now;
	struct tm tm;
	uint8_t hour;

	setup();
	cmos_write(REG_B, B_BINARY | B_24H);
	assert_host_time();
	ck_assert_uint_lt(cmos_read(REG_MIN), 60);

	cmos_write(REG_B, 0);		/* BCD, 12-hour */
	assert_host_time();
	cmos_write(REG_B, B_BINARY);	/* binary, 12-hour */
	assert_host_time();
	now = time(NULL);
	gmtime_r(&now, &tm);
	hour = cmos_read(REG_HOUR);
	/* 1 to 12, PM in bit 7 (ignore a race with the hour changing). */
	ck_assert_uint_ge(hour & 0x7f, 1);
	ck_assert_uint_le(hour & 0x7f, 12);
	if (tm.tm_min != 59)
		ck_assert_uint_eq(!!(hour & 0x80), tm.tm_hour >= 12);
	teardown();
}
END_TEST

/* mc146818_set_time(): SET, divider reset, registers, restore. */
START_TEST(guest_sets_the_time)
{
	uint8_t b, a;
	unsigned wday;
	time_t want, t;
	struct tm tm = {
		.tm_year = 2001 - 1900, .tm_mon = 1, .tm_mday = 3,
		.tm_hour = 4, .tm_min = 5, .tm_sec = 6,
	};

	setup();
	want = timegm(&tm);
	b = cmos_read(REG_B);
	cmos_write(REG_B, b | B_SET);
	a = cmos_read(REG_A);
	cmos_write(REG_A, a | 0x70);
	cmos_write(REG_YEAR, to_bcd(1));
	cmos_write(REG_MON, to_bcd(2));
	cmos_write(REG_MDAY, to_bcd(3));
	cmos_write(REG_HOUR, to_bcd(4));
	cmos_write(REG_MIN, to_bcd(5));
	cmos_write(REG_SEC, to_bcd(6));
	cmos_write(RTC_REG_CENTURY, to_bcd(20));
	/* While SET, the registers hold what was written. */
	ck_assert_uint_eq(cmos_read(REG_SEC), 0x06);
	ck_assert_uint_eq(cmos_read(REG_YEAR), 0x01);
	cmos_write(REG_B, b);
	cmos_write(REG_A, a);
	ck_assert_uint_eq(cmos_read(REG_A), a);

	t = rtc_time(&wday);
	ck_assert_msg(t >= want && t <= want + 2, "got %lld, want %lld",
		      (long long)t, (long long)want);

	/* A time register written without SET takes effect at once. */
	cmos_write(REG_YEAR, to_bcd(10));
	t = rtc_time(&wday);
	gmtime_r(&t, &tm);
	ck_assert_int_eq(tm.tm_year, 2010 - 1900);
	ck_assert_int_eq(tm.tm_mon, 1);
	ck_assert_int_eq(tm.tm_mday, 3);

	/* In 12-hour binary mode: 11 PM. */
	cmos_write(REG_B, B_SET | B_BINARY);
	cmos_write(REG_HOUR, 0x80 | 11);
	cmos_write(REG_B, B_BINARY);
	t = rtc_time(&wday);
	gmtime_r(&t, &tm);
	ck_assert_int_eq(tm.tm_hour, 23);
	teardown();
}
END_TEST

/* ---- What Linux checks -------------------------------------------------- */

START_TEST(registers_linux_checks)
{
	unsigned i;

	setup();
	/* cmos_do_probe(): register D bit 6 clear, VRT set. */
	ck_assert_uint_eq(cmos_read(REG_D), 0x80);
	/* It forces the 1024 Hz default and disables interrupts. */
	cmos_write(REG_A, 0x26);
	ck_assert_uint_eq(cmos_read(REG_A), 0x26);
	cmos_write(REG_B, cmos_read(REG_B) & ~0x70);
	ck_assert_uint_eq(cmos_read(REG_C), 0);
	ck_assert_uint_ne(cmos_read(REG_B) & B_24H, 0);
	/* Update-in-progress never set: read_persistent_clock() and
	 * mc146818_avoid_UIP() never wait. */
	for (i = 0; i < 10000; i++)
		ck_assert_uint_eq(cmos_read(REG_A) & 0x80, 0);
	/* Read-only registers stay put. */
	cmos_write(REG_C, 0xff);
	cmos_write(REG_D, 0x00);
	ck_assert_uint_eq(cmos_read(REG_C), 0);
	ck_assert_uint_eq(cmos_read(REG_D), 0x80);
	/* Bit 7 of the index masks NMIs: ignored, same register. */
	ck_assert_uint_eq(cmos_read(0x80 | REG_D), 0x80);
	cmos_write(0x80 | 0x40, 0x42);
	ck_assert_uint_eq(cmos_read(0x40), 0x42);
	/* The index port is write-only. */
	ck_assert_uint_eq(inb(INDEX), 0xff);
	teardown();
}
END_TEST

START_TEST(cmos_ram_round_trip)
{
	unsigned i;

	setup();
	/* Alarm bytes and everything past register D, century aside. */
	cmos_write(0x01, 0x11);
	cmos_write(0x03, 0x33);
	cmos_write(0x05, 0x55);
	for (i = 0x0e; i < RTC_CMOS_SIZE; i++)
		if (i != RTC_REG_CENTURY)
			cmos_write((uint8_t)i, (uint8_t)(i * 3 + 1));
	for (i = 0x0e; i < RTC_CMOS_SIZE; i++)
		if (i != RTC_REG_CENTURY)
			ck_assert_uint_eq(cmos_read((uint8_t)i),
					  (uint8_t)(i * 3 + 1));
	ck_assert_uint_eq(cmos_read(0x01), 0x11);
	ck_assert_uint_eq(cmos_read(0x03), 0x33);
	ck_assert_uint_eq(cmos_read(0x05), 0x55);
	/* The clock did not move. */
	assert_host_time();
	teardown();
}
END_TEST

/* ---- Hostile guests ----------------------------------------------------- */

START_TEST(garbage_time_is_harmless)
{
	unsigned i, seed = 4242;
	uint8_t v;

	setup();
	/* Invalid BCD everywhere, then committed. */
	cmos_write(REG_B, B_SET | B_24H);
	for (i = 0; i < 10; i++)
		cmos_write((uint8_t)i, 0xff);
	cmos_write(RTC_REG_CENTURY, 0xff);
	cmos_write(REG_B, B_24H);
	(void)cmos_read(REG_SEC);
	(void)cmos_read(REG_YEAR);
	/* Random traffic on both ports. */
	for (i = 0; i < 20000; i++) {
		v = (uint8_t)rand_r(&seed);
		if (rand_r(&seed) & 1)
			address_space_write(&io_as, INDEX + (rand_r(&seed) & 1),
					    &v, 1);
		else
			address_space_read(&io_as, INDEX + (rand_r(&seed) & 1),
					   &v, 1);
	}
	/* 2-byte write: index then data, as two ports. */
	ck_assert_int_eq(address_space_write(&io_as, INDEX,
					     &(uint16_t){ 0x5540 }, 2), 0);
	ck_assert_uint_eq(cmos_read(0x40), 0x55);
	/* Still a clock. */
	cmos_write(REG_B, B_24H);
	ck_assert_uint_eq(cmos_read(REG_A) & 0x80, 0);
	teardown();
}
END_TEST

static Suite *rtc_suite(void)
{
	Suite *s = suite_create("devices/rtc");
	TCase *tc;

	tc = rcu_tcase("time", 20);
	tcase_add_test(tc, bcd_24h_time_is_host_utc);
	tcase_add_test(tc, binary_and_12h_formats);
	tcase_add_test(tc, guest_sets_the_time);
	suite_add_tcase(s, tc);

	tc = rcu_tcase("registers", 20);
	tcase_add_test(tc, registers_linux_checks);
	tcase_add_test(tc, cmos_ram_round_trip);
	tcase_add_test(tc, garbage_time_is_harmless);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(rtc_suite)
