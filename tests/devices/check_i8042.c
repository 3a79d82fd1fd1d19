// SPDX-License-Identifier: GPL-2.0-only
/*
 * The i8042 keyboard controller (devices/i8042.c), driven through an I/O
 * address space: the commands Linux's i8042 driver sends while probing,
 * both interrupts, the empty PS/2 ports, the reset line, hostile input.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "iospace.h"
#include "flatvm/devices.h"
#include "flatvm/layout.h"

#define DATA	LAYOUT_PORT_I8042_DATA
#define CMD	LAYOUT_PORT_I8042_CMD

#define STR_OBF		0x01
#define STR_IBF		0x02
#define STR_SYS		0x04
#define STR_CMD		0x08
#define STR_UNLOCKED	0x10
#define STR_AUXDATA	0x20
#define STR_TIMEOUT	0x40

#define CTR_KBDINT	0x01
#define CTR_AUXINT	0x02
#define CTR_KBDDIS	0x10
#define CTR_AUXDIS	0x20

/* Linux's encoding: (bytes sent << 12) | (bytes received << 8) | command */
#define I8042_CMD_CTL_RCTR	0x0120
#define I8042_CMD_CTL_WCTR	0x1060
#define I8042_CMD_CTL_TEST	0x01aa
#define I8042_CMD_KBD_DISABLE	0x00ad
#define I8042_CMD_KBD_ENABLE	0x00ae
#define I8042_CMD_KBD_TEST	0x01ab
#define I8042_CMD_AUX_DISABLE	0x00a7
#define I8042_CMD_AUX_ENABLE	0x00a8
#define I8042_CMD_AUX_TEST	0x01a9
#define I8042_CMD_AUX_SEND	0x10d4
#define I8042_CMD_AUX_LOOP	0x11d3

/* ---- Fixture ------------------------------------------------------------ */

struct rec_irq {
	struct irq_line line;
	bool level;
	unsigned raises;
};

static void rec_irq_set(struct irq_line *line, bool level)
{
	struct rec_irq *r = container_of(line, struct rec_irq, line);

	if (level && !r->level)
		r->raises++;
	r->level = level;
}

static struct rec_irq kbd_irq, aux_irq;
static struct i8042 *kbc;
static unsigned resets;

static void count_reset(void *opaque)
{
	ck_assert_ptr_eq(opaque, &resets);
	resets++;
}

static void setup(void)
{
	struct error err = { 0 };

	resets = 0;
	memset(&kbd_irq, 0, sizeof(kbd_irq));
	memset(&aux_irq, 0, sizeof(aux_irq));
	kbd_irq.line.set = rec_irq_set;
	aux_irq.line.set = rec_irq_set;
	iospace_setup();
	kbc = i8042_create(object_root(), "i8042", &kbd_irq.line,
			   &aux_irq.line, count_reset, &resets, &err);
	ck_assert_msg(kbc, "%s", err.msg);
	ck_assert_int_eq(memory_region_add_subregion(&io_root, DATA,
						     &kbc->data, &err), 0);
	ck_assert_int_eq(memory_region_add_subregion(&io_root, CMD, &kbc->cmd,
						     &err), 0);
}

static void teardown(void)
{
	iospace_teardown(&kbc->dev);
	kbc = NULL;
}

/* ---- A little of Linux's drivers/input/serio/i8042.c --------------------- */

static int wait_write(void)
{
	int i;

	for (i = 0; i < 1000; i++)
		if (!(inb(CMD) & STR_IBF))
			return 0;
	return -1;
}

static int wait_read(void)
{
	int i;

	for (i = 0; i < 1000; i++)
		if (inb(CMD) & STR_OBF)
			return 0;
	return -1;
}

static void flush(void)
{
	int i;

	for (i = 0; i < 64 && (inb(CMD) & STR_OBF); i++)
		(void)inb(DATA);
	ck_assert_uint_eq(inb(CMD) & STR_OBF, 0);
}

static int i8042_command(uint8_t *param, unsigned command)
{
	unsigned i;

	if (wait_write())
		return -1;
	outb(CMD, command & 0xff);
	for (i = 0; i < ((command >> 12) & 0xf); i++) {
		if (wait_write())
			return -1;
		outb(DATA, param[i]);
	}
	for (i = 0; i < ((command >> 8) & 0xf); i++) {
		if (wait_read())
			return -1;
		if (command == I8042_CMD_AUX_LOOP &&
		    !(inb(CMD) & STR_AUXDATA))
			return -1;
		param[i] = inb(DATA);
	}
	return 0;
}

/* i8042_controller_check/selftest/init and i8042_check_aux, in order. */
START_TEST(linux_probe_passes)
{
	uint8_t param, ctr[2];

	setup();
	ck_assert_uint_eq(inb(CMD), STR_SYS | STR_UNLOCKED);
	flush();

	ck_assert_int_eq(i8042_command(&param, I8042_CMD_CTL_TEST), 0);
	ck_assert_uint_eq(param, 0x55);

	/* A stable CTR, keylock off. */
	ck_assert_int_eq(i8042_command(&ctr[0], I8042_CMD_CTL_RCTR), 0);
	ck_assert_int_eq(i8042_command(&ctr[1], I8042_CMD_CTL_RCTR), 0);
	ck_assert_uint_eq(ctr[0], ctr[1]);
	ck_assert_uint_ne(inb(CMD) & STR_UNLOCKED, 0);
	ctr[0] |= CTR_KBDDIS;
	ctr[0] &= ~CTR_KBDINT;
	ck_assert_int_eq(i8042_command(&ctr[0], I8042_CMD_CTL_WCTR), 0);
	ck_assert_int_eq(i8042_command(&ctr[1], I8042_CMD_CTL_RCTR), 0);
	ck_assert_uint_eq(ctr[1], ctr[0]);

	/* i8042_check_aux(): the loop answers as the mouse port. */
	flush();
	param = 0x5a;
	ck_assert_int_eq(i8042_command(&param, I8042_CMD_AUX_LOOP), 0);
	ck_assert_uint_eq(param, 0x5a);
	ck_assert_int_eq(i8042_command(&param, I8042_CMD_AUX_TEST), 0);
	ck_assert_uint_eq(param, 0x00);
	/* Bit assignment test. */
	ck_assert_int_eq(i8042_command(&param, I8042_CMD_AUX_DISABLE), 0);
	ck_assert_int_eq(i8042_command(&param, I8042_CMD_CTL_RCTR), 0);
	ck_assert_uint_ne(param & CTR_AUXDIS, 0);
	ck_assert_int_eq(i8042_command(&param, I8042_CMD_AUX_ENABLE), 0);
	ck_assert_int_eq(i8042_command(&param, I8042_CMD_CTL_RCTR), 0);
	ck_assert_uint_eq(param & CTR_AUXDIS, 0);

	/* The AUX IRQ test: interrupt on, loop a byte, IRQ 12 arrives. */
	ctr[0] |= CTR_AUXINT;
	ctr[0] &= ~CTR_AUXDIS;
	ck_assert_int_eq(i8042_command(&ctr[0], I8042_CMD_CTL_WCTR), 0);
	ck_assert(!aux_irq.level);
	param = 0xa5;
	ck_assert_int_eq(i8042_command(&param, 0x10d3), 0);
	ck_assert(aux_irq.level);
	ck_assert(!kbd_irq.level);
	ck_assert_uint_eq(inb(CMD) & (STR_OBF | STR_AUXDATA),
			  STR_OBF | STR_AUXDATA);
	ck_assert_uint_eq(inb(DATA), 0xa5);
	ck_assert(!aux_irq.level);

	/* Keyboard port test, then enable the keyboard. */
	ck_assert_int_eq(i8042_command(&param, I8042_CMD_KBD_TEST), 0);
	ck_assert_uint_eq(param, 0x00);
	ck_assert_int_eq(i8042_command(&param, I8042_CMD_KBD_ENABLE), 0);
	ck_assert_int_eq(i8042_command(&param, I8042_CMD_CTL_RCTR), 0);
	ck_assert_uint_eq(param & CTR_KBDDIS, 0);
	ck_assert_int_eq(i8042_command(&param, I8042_CMD_KBD_DISABLE), 0);
	ck_assert_int_eq(i8042_command(&param, I8042_CMD_CTL_RCTR), 0);
	ck_assert_uint_ne(param & CTR_KBDDIS, 0);
	ck_assert_uint_eq(resets, 0);
	teardown();
}
END_TEST

/* atkbd and psmouse probing an empty port get a NAK with the time-out
 * bit at once, which fails their probe without waiting. */
START_TEST(empty_ports_time_out_at_once)
{
	uint8_t ctr = CTR_KBDINT | CTR_AUXINT | 0x04, param;

	setup();
	ck_assert_int_eq(i8042_command(&ctr, I8042_CMD_CTL_WCTR), 0);
	/* ATKBD_CMD_GETID to the keyboard. */
	outb(DATA, 0xf2);
	ck_assert(kbd_irq.level);
	ck_assert_uint_eq(inb(CMD) & ~STR_CMD,
			  STR_OBF | STR_TIMEOUT | STR_SYS | STR_UNLOCKED);
	ck_assert_uint_eq(inb(DATA), 0xfe);
	ck_assert(!kbd_irq.level);
	/* PSMOUSE_CMD_GETID to the mouse. */
	param = 0xf2;
	ck_assert_int_eq(i8042_command(&param, I8042_CMD_AUX_SEND), 0);
	ck_assert(aux_irq.level);
	ck_assert(!kbd_irq.level);
	ck_assert_uint_eq(inb(CMD) & (STR_OBF | STR_AUXDATA | STR_TIMEOUT),
			  STR_OBF | STR_AUXDATA | STR_TIMEOUT);
	ck_assert_uint_eq(inb(DATA), 0xfe);
	ck_assert(!aux_irq.level);
	ck_assert_uint_eq(inb(CMD) & (STR_OBF | STR_AUXDATA | STR_TIMEOUT), 0);
	/* 0xd2: a byte as if from the keyboard. */
	outb(CMD, 0xd2);
	outb(DATA, 0x1c);
	ck_assert(kbd_irq.level);
	ck_assert_uint_eq(inb(CMD) & (STR_AUXDATA | STR_TIMEOUT), 0);
	ck_assert_uint_eq(inb(DATA), 0x1c);
	ck_assert(!kbd_irq.level);
	/* Interrupts off in the CTR: bytes wait without one. */
	ctr = 0;
	ck_assert_int_eq(i8042_command(&ctr, I8042_CMD_CTL_WCTR), 0);
	outb(DATA, 0xff);
	ck_assert(!kbd_irq.level);
	ck_assert_uint_eq(inb(DATA), 0xfe);
	ck_assert_uint_eq(kbd_irq.raises, 2);
	ck_assert_uint_eq(aux_irq.raises, 1);
	teardown();
}
END_TEST

START_TEST(status_tracks_command_and_data_writes)
{
	uint8_t ctr;

	setup();
	outb(CMD, 0xa8);
	ck_assert_uint_ne(inb(CMD) & STR_CMD, 0);
	outb(CMD, 0x60);
	outb(DATA, 0x00);		/* CTR without the SYS flag */
	ck_assert_uint_eq(inb(CMD), STR_UNLOCKED);
	ck_assert_int_eq(i8042_command(&ctr, I8042_CMD_CTL_RCTR), 0);
	ck_assert_uint_eq(ctr, 0);
	/* The self test sets it again. */
	ck_assert_int_eq(i8042_command(&ctr, I8042_CMD_CTL_TEST), 0);
	ck_assert_uint_ne(inb(CMD) & STR_SYS, 0);
	/* Controller RAM beyond the CTR round trips too. */
	outb(CMD, 0x60 + 5);
	outb(DATA, 0x99);
	outb(CMD, 0x20 + 5);
	ck_assert_uint_eq(inb(DATA), 0x99);
	teardown();
}
END_TEST

/* ---- Reset -------------------------------------------------------------- */

START_TEST(reset_line_calls_back)
{
	setup();
	outb(CMD, 0xff);		/* pulse nothing */
	ck_assert_uint_eq(resets, 0);
	/* Linux's reboot=k: kb_wait(), then 0xfe. */
	ck_assert_int_eq(wait_write(), 0);
	outb(CMD, 0xfe);
	ck_assert_uint_eq(resets, 1);
	/* The output port: A20 alone keeps running, bit 0 clear resets. */
	outb(CMD, 0xd0);
	ck_assert_uint_eq(inb(DATA), 0x03);
	outb(CMD, 0xd1);
	outb(DATA, 0x03);
	ck_assert_uint_eq(resets, 1);
	outb(CMD, 0xd1);
	outb(DATA, 0x02);
	ck_assert_uint_eq(resets, 2);
	teardown();
}
END_TEST

START_TEST(reset_without_callback_is_harmless)
{
	struct error err = { 0 };
	struct i8042 *k;
	uint8_t v = 0xfe;

	setup();
	k = i8042_create(object_root(), "kbc2", NULL, NULL, NULL, NULL, &err);
	ck_assert_msg(k, "%s", err.msg);
	ck_assert_int_eq(memory_region_add_subregion(&io_root, 0x1064, &k->cmd,
						     &err), 0);
	ck_assert_int_eq(address_space_write(&io_as, 0x1064, &v, 1), 0);
	ck_assert_uint_eq(resets, 0);
	device_unrealize(&k->dev);
	object_unparent(&k->dev.obj);
	/* Same id twice: refused with a reason. */
	ck_assert_ptr_null(i8042_create(object_root(), "i8042", NULL, NULL,
					NULL, NULL, &err));
	ck_assert_int_eq(err.code, -EEXIST);
	teardown();
}
END_TEST

/* ---- Hostile guests ----------------------------------------------------- */

START_TEST(hostile_input_is_harmless)
{
	unsigned i, n, seed = 777;
	uint8_t buf[4];

	setup();
	/* Unknown commands do nothing. */
	outb(CMD, 0x12);
	outb(CMD, 0xc7);
	ck_assert_uint_eq(inb(CMD) & STR_OBF, 0);
	/* An empty output buffer reads 0. */
	ck_assert_uint_eq(inb(DATA), 0);
	/* More responses than the queue holds: the rest is dropped. */
	for (i = 0; i < 40; i++)
		outb(CMD, 0xaa);
	for (n = 0; inb(CMD) & STR_OBF; n++)
		ck_assert_uint_eq(inb(DATA), 0x55);
	ck_assert_uint_eq(n, I8042_QUEUE_SIZE);
	for (i = 0; i < 20000; i++) {
		uint16_t port = (rand_r(&seed) & 1) ? DATA : CMD;
		uint8_t v = (uint8_t)rand_r(&seed);

		/* Keep the reset line out of it: counted separately. */
		if (port == CMD && (v >= 0xf0 || v == 0xd1))
			v = 0xaa;
		buf[0] = v;
		if (rand_r(&seed) & 1)
			address_space_write(&io_as, port, buf, 1);
		else
			address_space_read(&io_as, port, buf, 1);
	}
	/* Wide accesses: the byte after each port is not ours. */
	ck_assert_int_eq(address_space_read(&io_as, CMD, buf, 2), -EFAULT);
	teardown();
}
END_TEST

static Suite *i8042_suite(void)
{
	Suite *s = suite_create("devices/i8042");
	TCase *tc;

	tc = rcu_tcase("probe", 10);
	tcase_add_test(tc, linux_probe_passes);
	tcase_add_test(tc, empty_ports_time_out_at_once);
	tcase_add_test(tc, status_tracks_command_and_data_writes);
	suite_add_tcase(s, tc);

	tc = rcu_tcase("reset", 10);
	tcase_add_test(tc, reset_line_calls_back);
	tcase_add_test(tc, reset_without_callback_is_harmless);
	suite_add_tcase(s, tc);

	tc = rcu_tcase("hostile", 30);
	tcase_add_test(tc, hostile_input_is_harmless);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(i8042_suite)
