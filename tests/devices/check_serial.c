// SPDX-License-Identifier: GPL-2.0-only
/*
 * The 16550A UART (devices/serial.c), driven through an I/O address space
 * the way a guest drives it: Linux's 8250 probe, transmit to a pipe,
 * receive through serial_input(), interrupts, DLAB, loopback, output
 * errors, hostile accesses and concurrent input.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "iospace.h"
#include "flatvm/devices.h"
#include "flatvm/layout.h"

#define COM1	LAYOUT_PORT_COM1
#define RBR	(COM1 + 0)
#define THR	(COM1 + 0)
#define DLL	(COM1 + 0)
#define IER	(COM1 + 1)
#define DLM	(COM1 + 1)
#define IIR	(COM1 + 2)
#define FCR	(COM1 + 2)
#define EFR	(COM1 + 2)	/* with LCR 0xbf, on chips that have one */
#define LCR	(COM1 + 3)
#define MCR	(COM1 + 4)
#define LSR	(COM1 + 5)
#define MSR	(COM1 + 6)
#define SCR	(COM1 + 7)

/* ---- Fixture: an I/O address space with the UART at COM1 ---------------- */

struct rec_irq {
	struct irq_line line;
	bool level;
	unsigned raises, lowers;
};

static void rec_irq_set(struct irq_line *line, bool level)
{
	struct rec_irq *r = container_of(line, struct rec_irq, line);

	if (level && !r->level)
		r->raises++;
	if (!level && r->level)
		r->lowers++;
	r->level = level;
}

static struct rec_irq irq;
static struct serial *uart;

static void setup(int out_fd)
{
	struct error err = { 0 };

	memset(&irq, 0, sizeof(irq));
	irq.line.set = rec_irq_set;
	irq.line.gsi = LAYOUT_GSI_COM1;
	iospace_setup();
	uart = serial_create(object_root(), "com1", &irq.line, out_fd, &err);
	ck_assert_msg(uart, "%s", err.msg);
	ck_assert_int_eq(memory_region_add_subregion(&io_root, COM1, &uart->io,
						     &err), 0);
}

static void teardown(void)
{
	iospace_teardown(&uart->dev);
	uart = NULL;
}

static size_t drain_pipe(int fd, char *buf, size_t len)
{
	ssize_t r = read(fd, buf, len);

	return r < 0 ? 0 : (size_t)r;
}

/* ---- Linux's probe ------------------------------------------------------ */

/* The order of drivers/tty/serial/8250/8250_port.c: autoconfig(). */
START_TEST(linux_8250_autoconfig_finds_16550a)
{
	uint8_t save_ier, save_mcr, save_lcr, s1, s2, s3;

	setup(-1);
	/* IER: the low nibble reads back, nothing else. */
	save_ier = inb(IER);
	outb(IER, 0);
	s1 = inb(IER) & 0x0f;
	outb(IER, 0x0f);
	s2 = inb(IER) & 0x0f;
	ck_assert_uint_eq(inb(IER), 0x0f);
	outb(IER, save_ier);
	ck_assert_uint_eq(s1, 0);
	ck_assert_uint_eq(s2, 0x0f);

	/* Loopback: MCR LOOP|OUT2|RTS reads back as DCD|CTS in MSR. */
	save_mcr = inb(MCR);
	save_lcr = inb(LCR);
	outb(MCR, 0x10 | 0x0a);
	s1 = inb(MSR) & 0xf0;
	outb(MCR, save_mcr);
	ck_assert_uint_eq(s1, 0x90);

	/* FIFO: IIR bits 7:6 = 11 once FCR enables it: a 16550A. */
	outb(LCR, 0xbf);
	outb(EFR, 0);
	outb(LCR, 0);
	outb(FCR, 0x01);
	ck_assert_uint_eq(inb(IIR) >> 6, 3);

	/* No EFR behind LCR 0x80 or 0xbf (not a 16650 / ST16C650). */
	outb(LCR, 0x80);
	ck_assert_uint_ne(inb(EFR), 0);
	outb(LCR, 0xbf);
	ck_assert_uint_ne(inb(EFR), 0);

	/* Not an NS SuperIO: "EXCR1" (IIR) does not follow MCR.LOOP. */
	outb(LCR, 0);
	s1 = inb(MCR);
	outb(LCR, 0xe0);
	s2 = inb(COM1 + 2);
	ck_assert(!((s1 ^ s2) & 0x10));
	outb(LCR, 0);
	outb(MCR, s1 ^ 0x10);
	outb(LCR, 0xe0);
	s3 = inb(COM1 + 2);
	outb(LCR, 0);
	outb(MCR, s1);
	ck_assert(!((s3 ^ s1) & 0x10));

	/* Not a 16750: no 64-byte FIFO bit (IIR bit 5), with or without
	 * DLAB. */
	outb(LCR, 0);
	outb(FCR, 0x01 | 0x20);
	s1 = inb(IIR) & 0xe0;
	outb(FCR, 0x01);
	outb(LCR, 0x80);
	outb(FCR, 0x01 | 0x20);
	s2 = inb(IIR) & 0xe0;
	outb(FCR, 0x01);
	outb(LCR, 0);
	ck_assert_uint_eq(s1, 0xc0);
	ck_assert_uint_eq(s2, 0xc0);

	/* Not an XScale: IER bit 6 does not stick. */
	outb(IER, 0x40);
	ck_assert_uint_eq(inb(IER) & 0x40, 0);
	outb(IER, 0);

	outb(LCR, save_lcr);
	/* serial8250_startup(): the LSR safety check. */
	outb(FCR, 0x07);
	outb(FCR, 0);
	(void)inb(LSR);
	(void)inb(RBR);
	(void)inb(IIR);
	(void)inb(MSR);
	ck_assert_uint_ne(inb(LSR), 0xff);
	ck_assert_uint_eq(inb(LSR), 0x60);	/* THRE | TEMT */
	teardown();
}
END_TEST

START_TEST(scratch_register_round_trip)
{
	setup(-1);
	outb(SCR, 0xa5);
	ck_assert_uint_eq(inb(SCR), 0xa5);
	outb(SCR, 0x5a);
	ck_assert_uint_eq(inb(SCR), 0x5a);
	teardown();
}
END_TEST

/* serial8250_startup(): a TX interrupt must show up when enabled, and
 * must come back when re-enabled after IIR acknowledged it (the
 * UART_BUG_THRE test). */
START_TEST(thre_interrupt_asserts_and_reasserts)
{
	uint8_t iir1, iir2;

	setup(-1);
	outb(LCR, 0x03);
	outb(IER, 0x02);
	ck_assert(irq.level);
	iir1 = inb(IIR);
	ck_assert_uint_eq(iir1 & 0x0f, 0x02);
	/* Reading IIR with THRI as the cause acknowledged it. */
	ck_assert(!irq.level);
	ck_assert_uint_eq(inb(IIR) & 0x0f, 0x01);
	outb(IER, 0);
	outb(IER, 0x02);
	iir2 = inb(IIR);
	outb(IER, 0);
	ck_assert_uint_eq(iir2 & 0x01, 0);
	ck_assert_uint_eq(irq.raises, 2);
	ck_assert_uint_eq(irq.lowers, 2);

	/* Sending a byte empties THR again: another THRE interrupt. */
	outb(IER, 0x02);
	(void)inb(IIR);
	ck_assert(!irq.level);
	outb(THR, 'x');
	ck_assert(irq.level);
	/* FIFOs off: IIR bits 7:6 clear. */
	ck_assert_uint_eq(inb(IIR), 0x02);
	ck_assert(!irq.level);
	/* Disabling the interrupt lowers the line too. */
	outb(THR, 'y');
	ck_assert(irq.level);
	outb(IER, 0);
	ck_assert(!irq.level);
	teardown();
}
END_TEST

/* ---- Transmit ----------------------------------------------------------- */

START_TEST(tx_bytes_reach_the_pipe)
{
	struct serial_stats st;
	char buf[16];
	int p[2];

	ck_assert_int_eq(pipe2(p, O_NONBLOCK), 0);
	setup(p[1]);
	outb(LCR, 0x03);
	outb(THR, 'h');
	outb(THR, 'i');
	outb(THR, '\n');
	ck_assert_uint_eq(drain_pipe(p[0], buf, sizeof(buf)), 3);
	ck_assert(!memcmp(buf, "hi\n", 3));
	/* The transmitter is idle again at once. */
	ck_assert_uint_eq(inb(LSR) & 0x60, 0x60);
	serial_get_stats(uart, &st);
	ck_assert_uint_eq(st.tx_bytes, 3);
	ck_assert_uint_eq(st.tx_errors, 0);
	teardown();
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(tx_to_closed_pipe_does_not_kill)
{
	struct serial_stats st;
	sigset_t pending;
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	close(p[0]);
	setup(p[1]);
	/* SIGPIPE is at its default action here: it would end the test. */
	outb(THR, 'a');
	outb(THR, 'b');
	outb(THR, 'c');
	serial_get_stats(uart, &st);
	ck_assert_uint_eq(st.tx_bytes, 0);
	ck_assert_uint_eq(st.tx_errors, 3);
	/* ... and none is left pending for someone else to trip on. */
	sigpending(&pending);
	ck_assert(!sigismember(&pending, SIGPIPE));
	ck_assert_uint_eq(inb(LSR) & 0x60, 0x60);
	teardown();
	close(p[1]);
}
END_TEST

START_TEST(tx_to_closed_socket_does_not_kill)
{
	struct serial_stats st;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[1]);
	setup(sv[0]);
	outb(THR, 'a');
	outb(THR, 'b');
	serial_get_stats(uart, &st);
	ck_assert_uint_eq(st.tx_errors, 2);
	teardown();
	close(sv[0]);
}
END_TEST

START_TEST(create_fails_cleanly)
{
	struct error err = { 0 };
	long start;
	struct serial *s;

	setup(-1);
	start = live_objects();
	/* The id is taken. */
	s = serial_create(object_root(), "com1", NULL, -1, &err);
	ck_assert_ptr_null(s);
	ck_assert_int_ne(err.code, 0);
	ck_assert_msg(strstr(err.msg, "com1"), "%s", err.msg);
	/* An output fd that is not open: realize fails, nothing leaks. */
	error_clear(&err);
	s = serial_create(object_root(), "com2", NULL, 1000, &err);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(err.code, -EBADF);
	ck_assert_msg(strstr(err.msg, "fd 1000"), "%s", err.msg);
	ck_assert_int_eq(live_objects(), start);
	teardown();
}
END_TEST

/* ---- Receive ------------------------------------------------------------ */

START_TEST(rx_input_sets_dr_and_raises_irq)
{
	setup(-1);
	outb(LCR, 0x03);
	outb(FCR, 0x07);		/* FIFOs on and cleared, trigger 1 */
	outb(IER, 0x01);
	ck_assert(!irq.level);
	ck_assert_uint_eq(serial_input(uart, "abc", 3), 3);
	ck_assert(irq.level);
	ck_assert_uint_eq(inb(LSR) & 0x01, 0x01);
	ck_assert_uint_eq(inb(IIR), 0xc4);
	ck_assert_uint_eq(inb(RBR), 'a');
	ck_assert_uint_eq(inb(RBR), 'b');
	ck_assert(irq.level);
	ck_assert_uint_eq(inb(RBR), 'c');
	ck_assert(!irq.level);
	ck_assert_uint_eq(inb(LSR) & 0x01, 0);
	ck_assert_uint_eq(inb(IIR), 0xc1);
	ck_assert_uint_eq(irq.raises, 1);
	ck_assert_uint_eq(irq.lowers, 1);

	/* Below the trigger level the FIFO reports a character time-out. */
	outb(FCR, 0x81);		/* trigger 8 */
	ck_assert_uint_eq(serial_input(uart, "xy", 2), 2);
	ck_assert_uint_eq(inb(IIR), 0xcc);
	ck_assert_uint_eq(serial_input(uart, "123456", 6), 6);
	ck_assert_uint_eq(inb(IIR), 0xc4);
	/* FCR bit 1 empties the receive FIFO. */
	outb(FCR, 0x83);
	ck_assert_uint_eq(inb(LSR) & 0x01, 0);
	ck_assert(!irq.level);
	teardown();
}
END_TEST

static unsigned rx_notified;

static void count_rx_notify(void *opaque)
{
	rx_notified++;
}

START_TEST(rx_fifo_holds_16_then_1_then_none_in_loopback)
{
	const char *msg = "0123456789abcdefghij";
	char got[SERIAL_FIFO_SIZE];
	unsigned i;

	setup(-1);
	serial_set_rx_notify(uart, count_rx_notify, NULL);
	outb(FCR, 0x01);
	ck_assert_uint_eq(serial_input(uart, msg, 20), 16);
	ck_assert_uint_eq(serial_input(uart, msg + 16, 4), 0);
	for (i = 0; i < SERIAL_FIFO_SIZE; i++)
		got[i] = (char)inb(RBR);
	ck_assert(!memcmp(got, msg, SERIAL_FIFO_SIZE));
	ck_assert_uint_eq(rx_notified, 1);
	/* Reading an empty FIFO notifies nobody again. */
	(void)inb(RBR);
	ck_assert_uint_eq(rx_notified, 1);

	/* FIFOs off: a single holding register. */
	outb(FCR, 0);
	ck_assert_uint_eq(serial_input(uart, "xy", 2), 1);
	ck_assert_uint_eq(inb(RBR), 'x');
	ck_assert_uint_eq(rx_notified, 2);

	/* Loopback: the receiver hears only the transmitter. */
	outb(MCR, 0x10);
	ck_assert_uint_eq(serial_input(uart, "z", 1), 0);
	teardown();
}
END_TEST

START_TEST(rx_has_priority_over_thre)
{
	setup(-1);
	outb(FCR, 0x01);
	outb(IER, 0x03);
	ck_assert_uint_eq(serial_input(uart, "k", 1), 1);
	ck_assert_uint_eq(inb(IIR), 0xc4);
	/* IIR read with RX as the cause leaves THRE pending. */
	ck_assert_uint_eq(inb(RBR), 'k');
	ck_assert(irq.level);
	ck_assert_uint_eq(inb(IIR), 0xc2);
	ck_assert(!irq.level);
	teardown();
}
END_TEST

/* ---- Loopback, DLAB ----------------------------------------------------- */

START_TEST(loopback_echoes_and_overruns)
{
	struct serial_stats st;
	char buf[8];
	int p[2];

	ck_assert_int_eq(pipe2(p, O_NONBLOCK), 0);
	setup(p[1]);
	outb(MCR, 0x10);
	(void)inb(MSR);			/* deltas of entering loopback */
	outb(THR, 'q');
	ck_assert_uint_eq(drain_pipe(p[0], buf, sizeof(buf)), 0);
	ck_assert_uint_eq(inb(LSR) & 0x03, 0x01);
	ck_assert_uint_eq(inb(RBR), 'q');

	/* No FIFO: the second byte overruns; LSR reports it once. */
	outb(IER, 0x04);
	outb(THR, '1');
	outb(THR, '2');
	ck_assert(irq.level);
	ck_assert_uint_eq(inb(IIR), 0x06);
	ck_assert_uint_eq(inb(LSR) & 0x03, 0x03);
	ck_assert(!irq.level);
	ck_assert_uint_eq(inb(LSR) & 0x03, 0x01);
	ck_assert_uint_eq(inb(RBR), '1');
	serial_get_stats(uart, &st);
	ck_assert_uint_eq(st.rx_overruns, 1);

	/* MSR follows MCR in loopback, with delta bits until read. */
	outb(MCR, 0x10 | 0x01 | 0x04);	/* DTR, OUT1 */
	ck_assert_uint_eq(inb(MSR), 0x20 | 0x40 | 0x02);
	outb(MCR, 0x10 | 0x01);		/* OUT1 falls: RI's trailing edge */
	ck_assert_uint_eq(inb(MSR), 0x20 | 0x04);
	ck_assert_uint_eq(inb(MSR), 0x20);
	/* Modem status interrupt. */
	outb(IER, 0x08);
	outb(MCR, 0x10 | 0x02);
	ck_assert(irq.level);
	ck_assert_uint_eq(inb(IIR), 0x00);
	(void)inb(MSR);
	ck_assert(!irq.level);

	/* Out of loopback: bytes go out again; MSR says DCD|DSR|CTS. */
	outb(IER, 0);
	outb(MCR, 0x0b);
	(void)inb(MSR);
	ck_assert_uint_eq(inb(MSR), 0xb0);
	outb(THR, 'w');
	ck_assert_uint_eq(drain_pipe(p[0], buf, sizeof(buf)), 1);
	ck_assert_uint_eq(buf[0], 'w');
	teardown();
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(dlab_selects_the_divisor_latch)
{
	char buf[8];
	int p[2];

	ck_assert_int_eq(pipe2(p, O_NONBLOCK), 0);
	setup(p[1]);
	outb(IER, 0x05);
	outb(LCR, 0x83);
	outb(DLL, 0x01);
	outb(DLM, 0x02);
	ck_assert_uint_eq(inb(DLL), 0x01);
	ck_assert_uint_eq(inb(DLM), 0x02);
	/* Nothing was sent and IER kept its value. */
	ck_assert_uint_eq(drain_pipe(p[0], buf, sizeof(buf)), 0);
	/* IIR and the registers above it ignore DLAB. */
	ck_assert_uint_eq(inb(IIR) & 0x01, 0x01);
	outb(SCR, 0x77);
	ck_assert_uint_eq(inb(SCR), 0x77);
	outb(LCR, 0x03);
	ck_assert_uint_eq(inb(IER), 0x05);
	outb(THR, '!');
	ck_assert_uint_eq(drain_pipe(p[0], buf, sizeof(buf)), 1);
	outb(LCR, 0x83);
	ck_assert_uint_eq(inb(DLL), 0x01);
	outb(LCR, 0x03);
	teardown();
	close(p[0]);
	close(p[1]);
}
END_TEST

/* ---- Hostile guests ----------------------------------------------------- */

START_TEST(wide_and_random_accesses_are_harmless)
{
	uint64_t v = 0;
	unsigned i, seed = 12345;
	uint8_t buf[8];

	setup(-1);
	/* A 4-byte write is split into THR, IER, FCR, LCR. */
	v = 0x0301020aull;
	ck_assert_int_eq(address_space_write(&io_as, COM1, &v, 4), 0);
	ck_assert_uint_eq(inb(IER), 0x02);
	ck_assert_uint_eq(inb(LCR), 0x03);
	ck_assert_uint_eq(inb(IIR) & 0xc0, 0xc0);
	/* An 8-byte read covers every register. */
	ck_assert_int_eq(address_space_read(&io_as, COM1, &v, 8), 0);
	for (i = 0; i < 20000; i++) {
		unsigned port = COM1 + rand_r(&seed) % 8;
		unsigned len = 1u << (rand_r(&seed) % 3);

		buf[0] = (uint8_t)rand_r(&seed);
		buf[1] = (uint8_t)rand_r(&seed);
		if (rand_r(&seed) & 1)
			address_space_write(&io_as, port, buf, len);
		else
			address_space_read(&io_as, port, buf, len);
		if (!(i % 97))
			serial_input(uart, "r", 1);
	}
	teardown();
}
END_TEST

/* ---- Concurrency -------------------------------------------------------- */

#define STREAM_LEN	20000

static void *feeder(void *arg)
{
	unsigned i = 0;
	uint8_t c;

	while (i < STREAM_LEN) {
		c = (uint8_t)(i * 7 + 3);
		if (serial_input(uart, &c, 1))
			i++;
		else
			sched_yield();
	}
	return NULL;
}

static void *guest_reader(void *arg)
{
	unsigned *bad = arg, i = 0, polls = 0;
	uint8_t lsr, c;

	rcu_thread_register();
	while (i < STREAM_LEN) {
		address_space_read(&io_as, LSR, &lsr, 1);
		if (lsr & 0x01) {
			address_space_read(&io_as, RBR, &c, 1);
			if (c != (uint8_t)(i * 7 + 3))
				(*bad)++;
			i++;
		}
		if (!(++polls % 64))
			rcu_quiescent();
	}
	rcu_thread_unregister();
	return NULL;
}

/* Host input on one thread, the guest's receive loop on another (a vCPU):
 * every byte arrives once and in order. */
START_TEST(input_and_guest_reads_race_cleanly)
{
	pthread_t a, b;
	unsigned bad = 0;

	setup(-1);
	outb(FCR, 0x01);
	outb(IER, 0x01);
	ck_assert_int_eq(pthread_create(&b, NULL, guest_reader, &bad), 0);
	ck_assert_int_eq(pthread_create(&a, NULL, feeder, NULL), 0);
	rcu_thread_offline();
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	rcu_thread_online();
	ck_assert_uint_eq(bad, 0);
	ck_assert(!irq.level);
	teardown();
}
END_TEST

static Suite *serial_suite(void)
{
	Suite *s = suite_create("devices/serial");
	TCase *tc;

	tc = rcu_tcase("probe", 10);
	tcase_add_test(tc, linux_8250_autoconfig_finds_16550a);
	tcase_add_test(tc, scratch_register_round_trip);
	tcase_add_test(tc, thre_interrupt_asserts_and_reasserts);
	suite_add_tcase(s, tc);

	tc = rcu_tcase("tx", 10);
	tcase_add_test(tc, tx_bytes_reach_the_pipe);
	tcase_add_test(tc, tx_to_closed_pipe_does_not_kill);
	tcase_add_test(tc, tx_to_closed_socket_does_not_kill);
	tcase_add_test(tc, create_fails_cleanly);
	suite_add_tcase(s, tc);

	tc = rcu_tcase("rx", 10);
	tcase_add_test(tc, rx_input_sets_dr_and_raises_irq);
	tcase_add_test(tc, rx_fifo_holds_16_then_1_then_none_in_loopback);
	tcase_add_test(tc, rx_has_priority_over_thre);
	suite_add_tcase(s, tc);

	tc = rcu_tcase("modes", 10);
	tcase_add_test(tc, loopback_echoes_and_overruns);
	tcase_add_test(tc, dlab_selects_the_divisor_latch);
	suite_add_tcase(s, tc);

	tc = rcu_tcase("hostile", 30);
	tcase_add_test(tc, wide_and_random_accesses_are_harmless);
	tcase_add_test(tc, input_and_guest_reads_race_cleanly);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(serial_suite)
