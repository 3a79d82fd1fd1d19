// SPDX-License-Identifier: GPL-2.0-only
/*
 * COM1 console and printf.
 *
 * The UART is programmed for 115200 8N1 with FIFOs on and every interrupt
 * source off (MCR.OUT2 clear as well), and written by polling LSR.THRE.
 * Every wait is bounded: a missing UART reads all ones, which has THRE
 * set, and a stuck one is given up on after UART_SPIN polls (each a VM
 * exit, so about a second) and from then on written without waiting, so
 * a guest never hangs on its console.
 */
#include "flatvm/layout.h"
#include "flatvm/testdev-regs.h"

#include "console.h"
#include "io.h"
#include "libc.h"

/* 16550A registers, offsets from the base port. */
#define UART_THR	0	/* transmit holding (DLAB=0) */
#define UART_DLL	0	/* divisor latch low (DLAB=1) */
#define UART_IER	1	/* interrupt enable (DLAB=0) */
#define UART_DLM	1	/* divisor latch high (DLAB=1) */
#define UART_FCR	2	/* FIFO control (write) */
#define UART_LCR	3	/* line control */
#define UART_MCR	4	/* modem control */
#define UART_LSR	5	/* line status */

#define UART_LCR_DLAB	0x80
#define UART_LCR_8N1	0x03
#define UART_FCR_ENABLE	0x01
#define UART_FCR_CLEAR	0x06	/* clear both FIFOs */
#define UART_MCR_DTR	0x01
#define UART_MCR_RTS	0x02
#define UART_LSR_THRE	0x20

#define UART_SPIN	100000

static bool mirror_testdev;

void console_init(void)
{
	const uint16_t base = LAYOUT_PORT_COM1;

	outb(base + UART_IER, 0);
	outb(base + UART_LCR, UART_LCR_DLAB);
	outb(base + UART_DLL, 1);	/* 115200 baud */
	outb(base + UART_DLM, 0);
	outb(base + UART_LCR, UART_LCR_8N1);
	outb(base + UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR);
	outb(base + UART_MCR, UART_MCR_DTR | UART_MCR_RTS);
}

void console_mirror_testdev(bool on)
{
	mirror_testdev = on;
}

static void uart_putc(char c)
{
	/* After one wait in vain, stop waiting: just write. */
	static bool stuck;
	unsigned spin;

	for (spin = 0; !stuck && spin < UART_SPIN; spin++)
		if (inb(LAYOUT_PORT_COM1 + UART_LSR) & UART_LSR_THRE)
			break;
	if (spin == UART_SPIN)
		stuck = true;
	outb(LAYOUT_PORT_COM1 + UART_THR, (uint8_t)c);
}

/*
 * The test device keeps only TESTDEV_LOG_MAX (4 KiB) of log, so it gets
 * the lines that matter to a host (banner, ok/FAIL, summary) and not the
 * "# ..." information lines.
 */
static void mirror_putc(char c)
{
	static bool line_start = true, skip;

	if (line_start)
		skip = c == '#';
	line_start = c == '\n';
	if (!skip)
		mmio_write32(LAYOUT_TESTDEV_MMIO + TESTDEV_LOG, (uint8_t)c);
}

void console_putc(char c)
{
	if (c == '\n')
		uart_putc('\r');
	uart_putc(c);
	if (mirror_testdev)
		mirror_putc(c);
}

void console_puts(const char *s)
{
	while (*s)
		console_putc(*s++);
}

/* ---- Formatting -------------------------------------------------------- */

/* Where formatted output goes: the console, or a bounded buffer. */
struct sink {
	char *buf;		/* NULL: the console */
	unsigned size, len;
};

static void sink_put(struct sink *s, char c)
{
	if (!s->buf)
		console_putc(c);
	else if (s->len + 1 < s->size)
		s->buf[s->len] = c;
	s->len++;
}

/* n / 10 and n % 10 by shift-and-subtract: no __udivdi3 in 32-bit code. */
static uint64_t divmod10(uint64_t n, unsigned *rem)
{
	uint64_t q = 0;
	uint32_t r = 0;
	int i;

	for (i = 63; i >= 0; i--) {
		r = r << 1 | (uint32_t)(n >> i & 1);
		if (r >= 10) {
			r -= 10;
			q |= 1ull << i;
		}
	}
	*rem = r;
	return q;
}

static void put_number(struct sink *s, uint64_t v, unsigned base, bool upper,
		       bool neg, unsigned width, char pad, bool left)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	unsigned n = 0, len, rem;

	do {
		if (base == 16) {
			tmp[n++] = digits[v & 0xf];
			v >>= 4;
		} else {
			v = divmod10(v, &rem);
			tmp[n++] = digits[rem];
		}
	} while (v);
	len = n + neg;
	if (neg && pad == '0')
		sink_put(s, '-');
	for (; !left && len < width; width--)
		sink_put(s, pad);
	if (neg && pad != '0')
		sink_put(s, '-');
	while (n)
		sink_put(s, tmp[--n]);
	for (; left && len < width; width--)
		sink_put(s, ' ');
}

static void format(struct sink *s, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		unsigned width = 0, lng = 0, prec = ~0u;
		bool left = false;
		char pad = ' ';
		uint64_t u;
		int64_t i;
		const char *str;

		if (*fmt != '%') {
			sink_put(s, *fmt);
			continue;
		}
		fmt++;
		for (;; fmt++) {
			if (*fmt == '0')
				pad = '0';
			else if (*fmt == '-')
				left = true;
			else
				break;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (unsigned)(*fmt++ - '0');
		/* A precision limits %s; numbers ignore it. */
		if (*fmt == '.') {
			prec = 0;
			for (fmt++; *fmt >= '0' && *fmt <= '9'; fmt++)
				prec = prec * 10 + (unsigned)(*fmt - '0');
		}
		for (;; fmt++) {
			if (*fmt == 'l')
				lng++;
			else if (*fmt == 'z')
				lng = sizeof(size_t) == 8 ? 2 : 0;
			else
				break;
		}
		if (left)
			pad = ' ';
		switch (*fmt) {
		case 'c':
			sink_put(s, (char)va_arg(ap, int));
			break;
		case 's':
			str = va_arg(ap, const char *);
			if (!str)
				str = "(null)";
			u = strnlen(str, prec);
			for (; !left && u < width; width--)
				sink_put(s, ' ');
			while (*str && prec--)
				sink_put(s, *str++);
			for (; left && u < width; width--)
				sink_put(s, ' ');
			break;
		case 'd':
		case 'i':
			if (lng >= 2)
				i = va_arg(ap, long long);
			else if (lng == 1)
				i = va_arg(ap, long);
			else
				i = va_arg(ap, int);
			put_number(s, i < 0 ? -(uint64_t)i : (uint64_t)i, 10,
				   false, i < 0, width, pad, left);
			break;
		case 'u':
		case 'x':
		case 'X':
			if (lng >= 2)
				u = va_arg(ap, unsigned long long);
			else if (lng == 1)
				u = va_arg(ap, unsigned long);
			else
				u = va_arg(ap, unsigned int);
			put_number(s, u, *fmt == 'u' ? 10 : 16, *fmt == 'X',
				   false, width, pad, left);
			break;
		case 'p':
			sink_put(s, '0');
			sink_put(s, 'x');
			put_number(s, (uintptr_t)va_arg(ap, void *), 16, false,
				   false, width, pad, left);
			break;
		case '%':
			sink_put(s, '%');
			break;
		case '\0':
			return;
		default:
			sink_put(s, '%');
			sink_put(s, *fmt);
			break;
		}
	}
}

void vprintf(const char *fmt, va_list ap)
{
	struct sink s = { 0 };

	format(&s, fmt, ap);
}

void printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

int vsnprintf(char *buf, unsigned size, const char *fmt, va_list ap)
{
	struct sink s = { .buf = buf, .size = size };

	format(&s, fmt, ap);
	if (size)
		buf[s.len < size ? s.len : size - 1] = '\0';
	return (int)s.len;
}

int snprintf(char *buf, unsigned size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

void print_hex_bytes(const void *p, unsigned n)
{
	const uint8_t *b = p;
	unsigned i;

	for (i = 0; i < n; i++)
		printf(i ? " %02x" : "%02x", b[i]);
}
