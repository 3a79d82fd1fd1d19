// SPDX-License-Identifier: GPL-2.0-only
/*
 * An MC146818 real-time clock and its 128 bytes of CMOS RAM, behind the
 * index (0x70) and data (0x71) ports.
 *
 * The clock is the host's CLOCK_REALTIME (UTC) plus @offset, read afresh
 * each time the guest reads a time register, in BCD or binary (register B
 * bit 2) and 24 or 12-hour format (bit 1).  The guest sets the time the
 * usual way: set register B's SET bit (the clock freezes into the
 * registers), write them, clear SET (the registers become the new
 * offset).  A time register written with SET clear takes effect at once.
 *
 * What Linux needs: register D bit 7 (valid time and RAM) set and bit 6
 * clear, 24-hour mode by default (rtc-cmos refuses 12-hour mode), and an
 * update-in-progress bit that never stays set (register A bit 7 always
 * reads 0), else read_persistent_clock() and rtc-cmos spin until they
 * give up.  No interrupts are emulated: register C reads 0.
 *
 * The NMI mask bit in the index (bit 7) is ignored.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "flatvm/devices.h"

#define RTC_SECONDS		0x00
#define RTC_SECONDS_ALARM	0x01
#define RTC_MINUTES		0x02
#define RTC_MINUTES_ALARM	0x03
#define RTC_HOURS		0x04
#define RTC_HOURS_ALARM		0x05
#define RTC_DAY_OF_WEEK		0x06	/* 1 = Sunday */
#define RTC_DAY_OF_MONTH	0x07
#define RTC_MONTH		0x08
#define RTC_YEAR		0x09	/* within the century */
#define RTC_REG_A		0x0a
#define RTC_REG_B		0x0b
#define RTC_REG_C		0x0c
#define RTC_REG_D		0x0d

#define REG_A_UIP		0x80	/* update in progress: never */
#define REG_A_DEFAULT		0x26	/* 32.768 kHz base, 1024 Hz */
#define REG_B_SET		0x80	/* updates stopped: being set */
#define REG_B_DM_BINARY		0x04
#define REG_B_24H		0x02
#define REG_D_VRT		0x80	/* valid RAM and time */

#define HOUR_PM			0x80	/* 12-hour mode */

#define RTC_INDEX_MASK		0x7f	/* bit 7, NMI mask: ignored */

static bool rtc_is_time_reg(uint8_t idx)
{
	switch (idx) {
	case RTC_SECONDS:
	case RTC_MINUTES:
	case RTC_HOURS:
	case RTC_DAY_OF_WEEK:
	case RTC_DAY_OF_MONTH:
	case RTC_MONTH:
	case RTC_YEAR:
	case RTC_REG_CENTURY:
		return true;
	}
	return false;
}

static int64_t host_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec;
}

/* ---- Encoding, called with dev.lock held ------------------------------- */

static uint8_t rtc_to_reg(const struct rtc *r, unsigned v)
{
	v %= 100;
	if (r->cmos[RTC_REG_B] & REG_B_DM_BINARY)
		return (uint8_t)v;
	return (uint8_t)((v / 10) << 4 | v % 10);
}

/* Hostile values (bad BCD) decode to something; timegm() normalizes. */
static unsigned rtc_from_reg(const struct rtc *r, uint8_t v)
{
	if (r->cmos[RTC_REG_B] & REG_B_DM_BINARY)
		return v;
	return (v >> 4) * 10 + (v & 0x0f);
}

static uint8_t rtc_hour_to_reg(const struct rtc *r, unsigned hour)
{
	unsigned h12;

	if (r->cmos[RTC_REG_B] & REG_B_24H)
		return rtc_to_reg(r, hour);
	h12 = hour % 12;
	return rtc_to_reg(r, h12 ? h12 : 12) | (hour >= 12 ? HOUR_PM : 0);
}

static unsigned rtc_hour_from_reg(const struct rtc *r, uint8_t v)
{
	if (r->cmos[RTC_REG_B] & REG_B_24H)
		return rtc_from_reg(r, v);
	return rtc_from_reg(r, v & ~HOUR_PM) % 12 + (v & HOUR_PM ? 12 : 0);
}

/* The guest's current time into the time registers. */
static void rtc_latch(struct rtc *r)
{
	time_t t = (time_t)(host_seconds() + r->offset);
	unsigned year;
	struct tm tm;

	if (!gmtime_r(&t, &tm))
		return;	/* beyond struct tm: keep the registers */
	year = (unsigned)(tm.tm_year + 1900);
	r->cmos[RTC_SECONDS] = rtc_to_reg(r, tm.tm_sec > 59 ? 59 : tm.tm_sec);
	r->cmos[RTC_MINUTES] = rtc_to_reg(r, tm.tm_min);
	r->cmos[RTC_HOURS] = rtc_hour_to_reg(r, tm.tm_hour);
	r->cmos[RTC_DAY_OF_WEEK] = rtc_to_reg(r, tm.tm_wday + 1);
	r->cmos[RTC_DAY_OF_MONTH] = rtc_to_reg(r, tm.tm_mday);
	r->cmos[RTC_MONTH] = rtc_to_reg(r, tm.tm_mon + 1);
	r->cmos[RTC_YEAR] = rtc_to_reg(r, year % 100);
	r->cmos[RTC_REG_CENTURY] = rtc_to_reg(r, year / 100);
}

/* The time registers, as the guest wrote them, become the clock. */
static void rtc_commit(struct rtc *r)
{
	struct tm tm = { 0 };
	unsigned year;

	year = rtc_from_reg(r, r->cmos[RTC_REG_CENTURY]) * 100 +
	       rtc_from_reg(r, r->cmos[RTC_YEAR]);
	tm.tm_sec = (int)rtc_from_reg(r, r->cmos[RTC_SECONDS]);
	tm.tm_min = (int)rtc_from_reg(r, r->cmos[RTC_MINUTES]);
	tm.tm_hour = (int)rtc_hour_from_reg(r, r->cmos[RTC_HOURS]);
	tm.tm_mday = (int)rtc_from_reg(r, r->cmos[RTC_DAY_OF_MONTH]);
	tm.tm_mon = (int)rtc_from_reg(r, r->cmos[RTC_MONTH]) - 1;
	tm.tm_year = (int)year - 1900;
	/* The day of the week follows from the date, as Linux assumes. */
	r->offset = (int64_t)timegm(&tm) - host_seconds();
}

/* ---- Guest accesses ---------------------------------------------------- */

static uint8_t rtc_read_reg(struct rtc *r, uint8_t idx)
{
	switch (idx) {
	case RTC_REG_A:
		return r->cmos[RTC_REG_A] & ~REG_A_UIP;
	case RTC_REG_C:
		return 0;	/* no interrupt flags, ever */
	case RTC_REG_D:
		return REG_D_VRT;
	}
	if (rtc_is_time_reg(idx) && !(r->cmos[RTC_REG_B] & REG_B_SET))
		rtc_latch(r);
	return r->cmos[idx];
}

static void rtc_write_reg_b(struct rtc *r, uint8_t val)
{
	uint8_t old = r->cmos[RTC_REG_B];

	if ((old & REG_B_SET) && !(val & REG_B_SET)) {
		/* Decode in the format the guest wrote them in. */
		rtc_commit(r);
		r->cmos[RTC_REG_B] = val;
	} else if (!(old & REG_B_SET) && (val & REG_B_SET)) {
		/* Freeze, in the format the guest asked for. */
		r->cmos[RTC_REG_B] = val;
		rtc_latch(r);
	} else {
		r->cmos[RTC_REG_B] = val;
	}
}

static void rtc_write_reg(struct rtc *r, uint8_t idx, uint8_t val)
{
	switch (idx) {
	case RTC_REG_A:
		r->cmos[RTC_REG_A] = val & ~REG_A_UIP;
		return;
	case RTC_REG_B:
		rtc_write_reg_b(r, val);
		return;
	case RTC_REG_C:
	case RTC_REG_D:
		pr_warn_once("%s: write %#x to read-only register %#x ignored",
			     object_path(&r->dev.obj), val, idx);
		return;
	}
	if (rtc_is_time_reg(idx) && !(r->cmos[RTC_REG_B] & REG_B_SET)) {
		rtc_latch(r);
		r->cmos[idx] = val;
		rtc_commit(r);
		return;
	}
	r->cmos[idx] = val;
}

static uint64_t rtc_read(void *opaque, uint64_t addr, unsigned size)
{
	struct rtc *r = opaque;
	uint8_t v;

	if (addr == 0)
		return 0xff;	/* the index port is write-only */
	pthread_mutex_lock(&r->dev.lock);
	v = rtc_read_reg(r, r->index);
	pthread_mutex_unlock(&r->dev.lock);
	return v;
}

static void rtc_write(void *opaque, uint64_t addr, uint64_t val,
		      unsigned size)
{
	struct rtc *r = opaque;

	pthread_mutex_lock(&r->dev.lock);
	if (addr == 0)
		r->index = (uint8_t)val & RTC_INDEX_MASK;
	else
		rtc_write_reg(r, r->index, (uint8_t)val);
	pthread_mutex_unlock(&r->dev.lock);
}

static const struct memory_region_ops rtc_ops = {
	.read = rtc_read,
	.write = rtc_write,
	.min_access_size = 1,
	.max_access_size = 1,
};

/* ---- Device ------------------------------------------------------------ */

static const struct device_class rtc_class = {
	.obj = {
		.name = "mc146818-rtc",
		.size = sizeof(struct rtc),
		.parent = &device_class.obj,
	},
};

struct rtc *rtc_create(struct object *parent, const char *id,
		       struct error *err)
{
	struct rtc *r;
	int ret;

	r = (struct rtc *)object_new(&rtc_class.obj);
	if (!r) {
		error_setf(err, ENOMEM, "out of memory creating RTC %s", id);
		return NULL;
	}
	device_init(&r->dev);
	r->cmos[RTC_REG_A] = REG_A_DEFAULT;
	r->cmos[RTC_REG_B] = REG_B_24H;	/* BCD, 24-hour, no interrupts */

	ret = memory_region_init_io(&r->io, &r->dev.obj, &rtc_ops, r, "io", 2,
				    err);
	if (ret)
		goto err_unref;
	ret = object_add_child(parent ? parent : object_root(), id,
			       &r->dev.obj, err);
	if (ret)
		goto err_unref;
	object_unref(&r->dev.obj);	/* the parent holds it now */
	ret = device_realize(&r->dev, err);
	if (ret)
		goto err_unparent;
	return r;

err_unparent:
	object_unparent(&r->dev.obj);
	return NULL;
err_unref:
	object_unref(&r->dev.obj);
	return NULL;
}
