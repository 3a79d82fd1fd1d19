// SPDX-License-Identifier: GPL-2.0-only
/*
 * A 16550A UART: eight byte-wide registers, a 16-byte receive FIFO, and a
 * transmitter that hands each byte straight to the output fd, so the
 * transmit holding register is always empty again by the time the guest
 * looks (LSR.THRE and LSR.TEMT always set).
 *
 * What Linux's 8250 driver checks, and how it passes:
 *  - IER: the low four bits read back, the rest read 0.
 *  - Loopback (MCR bit 4): MSR's upper nibble mirrors OUT2/OUT1/DTR/RTS,
 *    so MCR 0x1a reads MSR 0x90; transmitted bytes are received.
 *  - Autoconfig: with FIFOs enabled IIR bits 7:6 read 11 (16550A).  There
 *    is no EFR, no 64-byte FIFO and no IER bit 6, so the tests for the
 *    16650, 16750 and XScale variants fail as they must.
 *  - THRE interrupt: any IER write that enables it while the transmitter
 *    is empty makes it pending again, so the "does THRE reassert" test
 *    passes; reading it from IIR or writing THR clears it, and sending a
 *    byte sets it again.
 *
 * The interrupt line is level: asserted while IIR would report an
 * interrupt.  Real PC boards gate it with MCR.OUT2; we do not (neither
 * does QEMU), Linux sets OUT2 anyway.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "flatvm/devices.h"

/* Register offsets */
#define UART_RBR	0	/* read, DLAB=0 */
#define UART_THR	0	/* write, DLAB=0 */
#define UART_DLL	0	/* DLAB=1 */
#define UART_IER	1	/* DLAB=0 */
#define UART_DLM	1	/* DLAB=1 */
#define UART_IIR	2	/* read */
#define UART_FCR	2	/* write */
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_MSR	6
#define UART_SCR	7

#define UART_IER_RDI	0x01	/* received data available */
#define UART_IER_THRI	0x02	/* transmit holding register empty */
#define UART_IER_RLSI	0x04	/* receiver line status */
#define UART_IER_MSI	0x08	/* modem status */
#define UART_IER_MASK	0x0f

#define UART_IIR_NO_INT	0x01
#define UART_IIR_MSI	0x00
#define UART_IIR_THRI	0x02
#define UART_IIR_RDI	0x04
#define UART_IIR_RLSI	0x06
#define UART_IIR_RX_TIMEOUT 0x0c
#define UART_IIR_FIFO	0xc0	/* FIFOs enabled: a 16550A */

#define UART_FCR_ENABLE	0x01
#define UART_FCR_CLEAR_RX 0x02
#define UART_FCR_CLEAR_TX 0x04
#define UART_FCR_TRIGGER 0xc0

#define UART_LCR_DLAB	0x80

#define UART_MCR_DTR	0x01
#define UART_MCR_RTS	0x02
#define UART_MCR_OUT1	0x04
#define UART_MCR_OUT2	0x08
#define UART_MCR_LOOP	0x10
#define UART_MCR_MASK	0x1f

#define UART_LSR_DR	0x01
#define UART_LSR_OE	0x02
#define UART_LSR_THRE	0x20
#define UART_LSR_TEMT	0x40

#define UART_MSR_DCTS	0x01
#define UART_MSR_DDSR	0x02
#define UART_MSR_TERI	0x04
#define UART_MSR_DDCD	0x08
#define UART_MSR_CTS	0x10
#define UART_MSR_DSR	0x20
#define UART_MSR_RI	0x40
#define UART_MSR_DCD	0x80

/* How a byte reaches out_fd without SIGPIPE ending the process. */
enum {
	OUT_PLAIN,	/* tty, file, /dev/null: no SIGPIPE possible */
	OUT_PIPE,	/* SIGPIPE blocked and swallowed around write(2) */
	OUT_SOCKET,	/* send(MSG_NOSIGNAL) */
};

/* ---- Register state, called with s->lock held -------------------------- */

static unsigned rx_capacity(const struct serial *s)
{
	return (s->fcr & UART_FCR_ENABLE) ? SERIAL_FIFO_SIZE : 1;
}

static unsigned rx_trigger(const struct serial *s)
{
	static const unsigned level[4] = { 1, 4, 8, 14 };

	return level[(s->fcr & UART_FCR_TRIGGER) >> 6];
}

static void rx_clear(struct serial *s)
{
	s->rx_head = 0;
	s->rx_count = 0;
}

/* Returns false on overrun: the FIFO is full and @c is lost. */
static bool rx_push(struct serial *s, uint8_t c)
{
	if (s->rx_count >= rx_capacity(s))
		return false;
	s->rx[(s->rx_head + s->rx_count) % SERIAL_FIFO_SIZE] = c;
	s->rx_count++;
	return true;
}

static uint8_t rx_pop(struct serial *s)
{
	uint8_t c;

	if (!s->rx_count)
		return 0;
	c = s->rx[s->rx_head];
	s->rx_head = (s->rx_head + 1) % SERIAL_FIFO_SIZE;
	s->rx_count--;
	return c;
}

/* MSR bits 7:4: fixed "carrier, ready, clear to send", or in loopback
 * what MCR drives into them. */
static uint8_t msr_status(const struct serial *s)
{
	uint8_t m = s->mcr;

	if (!(m & UART_MCR_LOOP))
		return UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
	return ((m & UART_MCR_RTS) ? UART_MSR_CTS : 0) |
	       ((m & UART_MCR_DTR) ? UART_MSR_DSR : 0) |
	       ((m & UART_MCR_OUT1) ? UART_MSR_RI : 0) |
	       ((m & UART_MCR_OUT2) ? UART_MSR_DCD : 0);
}

/* The highest-priority pending interrupt, in IIR's encoding. */
static uint8_t serial_iir(const struct serial *s)
{
	uint8_t fifo = (s->fcr & UART_FCR_ENABLE) ? UART_IIR_FIFO : 0;

	if ((s->ier & UART_IER_RLSI) && (s->lsr_err & UART_LSR_OE))
		return fifo | UART_IIR_RLSI;
	if ((s->ier & UART_IER_RDI) && s->rx_count) {
		/*
		 * Below the trigger level a real 16550A reports a character
		 * time-out after four idle character times; we have no notion
		 * of character time, so the time-out is immediate.
		 */
		if (fifo && s->rx_count < rx_trigger(s))
			return fifo | UART_IIR_RX_TIMEOUT;
		return fifo | UART_IIR_RDI;
	}
	if ((s->ier & UART_IER_THRI) && s->thr_ipending)
		return fifo | UART_IIR_THRI;
	if ((s->ier & UART_IER_MSI) && s->msr_delta)
		return fifo | UART_IIR_MSI;
	return fifo | UART_IIR_NO_INT;
}

static void serial_update_irq(struct serial *s)
{
	bool level = !(serial_iir(s) & UART_IIR_NO_INT);

	if (level != s->irq_level) {
		s->irq_level = level;
		irq_set(s->irq, level);
	}
}

/* ---- Output ------------------------------------------------------------ */

/*
 * write(2) to a pipe whose reader is gone raises SIGPIPE, which would end
 * the whole VMM.  Block it for this thread around the write and swallow
 * the one the write raised, leaving the process's disposition alone.
 */
static ssize_t write_nosigpipe(int fd, const void *buf, size_t len)
{
	static const struct timespec zero;
	sigset_t set, old, pending;
	bool was_pending;
	ssize_t r;
	int saved;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	r = write(fd, buf, len);
	saved = errno;
	if (r < 0 && saved == EPIPE && !was_pending)
		while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR)
			;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return r;
}

/* Called with s->lock held: keeps the guest's bytes in order. */
static void serial_out(struct serial *s, const uint8_t *buf, size_t len)
{
	ssize_t r;

	if (s->out_fd < 0)
		return;
	while (len && !s->out_broken) {
		switch (s->out_kind) {
		case OUT_SOCKET:
			r = send(s->out_fd, buf, len, MSG_NOSIGNAL);
			break;
		case OUT_PIPE:
			r = write_nosigpipe(s->out_fd, buf, len);
			break;
		default:
			r = write(s->out_fd, buf, len);
			break;
		}
		if (r > 0) {
			s->stats.tx_bytes += (size_t)r;
			buf += r;
			len -= (size_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EPIPE) {
			/* The reader is gone for good: stop trying. */
			s->out_broken = true;
			pr_warn("%s: output fd %d closed by its reader; discarding output",
				object_path(&s->dev.obj), s->out_fd);
		} else {
			pr_warn_once("%s: writing output fd %d failed: %s",
				     object_path(&s->dev.obj), s->out_fd,
				     r < 0 ? strerror(errno) : "wrote nothing");
		}
		break;
	}
	s->stats.tx_errors += len;
}

/* ---- Guest accesses ---------------------------------------------------- */

static uint64_t serial_read(void *opaque, uint64_t addr, unsigned size)
{
	struct serial *s = opaque;
	void (*notify)(void *opaque) = NULL;
	void *notify_opaque = NULL;
	uint8_t v = 0, iir;

	pthread_mutex_lock(&s->lock);
	switch (addr) {
	case UART_RBR:
		if (s->lcr & UART_LCR_DLAB) {
			v = s->divisor & 0xff;
			break;
		}
		if (!s->rx_count)
			break;	/* RBR keeps no stale byte: reads 0 */
		v = rx_pop(s);
		if (!s->rx_count && s->rx_notify) {
			notify = s->rx_notify;
			notify_opaque = s->rx_notify_opaque;
		}
		break;
	case UART_IER:
		if (s->lcr & UART_LCR_DLAB)
			v = s->divisor >> 8;
		else
			v = s->ier;
		break;
	case UART_IIR:
		/* IIR is not behind DLAB on a 16550A (Linux relies on it). */
		iir = serial_iir(s);
		/* Reading THRI as the cause acknowledges it. */
		if ((iir & 0x0f) == UART_IIR_THRI)
			s->thr_ipending = false;
		v = iir;
		break;
	case UART_LCR:
		v = s->lcr;
		break;
	case UART_MCR:
		v = s->mcr;
		break;
	case UART_LSR:
		v = UART_LSR_THRE | UART_LSR_TEMT | s->lsr_err |
		    (s->rx_count ? UART_LSR_DR : 0);
		s->lsr_err = 0;
		break;
	case UART_MSR:
		v = msr_status(s) | s->msr_delta;
		s->msr_delta = 0;
		break;
	case UART_SCR:
		v = s->scr;
		break;
	}
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	if (notify)
		notify(notify_opaque);
	return v;
}

/* Called with s->lock held. */
static void serial_write_mcr(struct serial *s, uint8_t val)
{
	uint8_t before = msr_status(s), after, changed;

	s->mcr = val & UART_MCR_MASK;
	after = msr_status(s);
	changed = before ^ after;
	if (changed & UART_MSR_CTS)
		s->msr_delta |= UART_MSR_DCTS;
	if (changed & UART_MSR_DSR)
		s->msr_delta |= UART_MSR_DDSR;
	if ((before & UART_MSR_RI) && !(after & UART_MSR_RI))
		s->msr_delta |= UART_MSR_TERI;	/* trailing edge only */
	if (changed & UART_MSR_DCD)
		s->msr_delta |= UART_MSR_DDCD;
}

/* Called with s->lock held. */
static void serial_write_fcr(struct serial *s, uint8_t val)
{
	/* Turning the FIFOs on or off empties them. */
	if ((val ^ s->fcr) & UART_FCR_ENABLE)
		val |= UART_FCR_CLEAR_RX | UART_FCR_CLEAR_TX;
	if (val & UART_FCR_CLEAR_RX) {
		rx_clear(s);
		s->lsr_err = 0;
	}
	/* The transmit FIFO is always empty: nothing to clear. */
	s->fcr = val & (UART_FCR_ENABLE | UART_FCR_TRIGGER);
}

static void serial_write(void *opaque, uint64_t addr, uint64_t val,
			 unsigned size)
{
	struct serial *s = opaque;
	uint8_t c = (uint8_t)val;

	pthread_mutex_lock(&s->lock);
	switch (addr) {
	case UART_THR:
		if (s->lcr & UART_LCR_DLAB) {
			s->divisor = (s->divisor & 0xff00) | c;
			break;
		}
		if (s->mcr & UART_MCR_LOOP) {
			if (!rx_push(s, c)) {
				s->lsr_err |= UART_LSR_OE;
				s->stats.rx_overruns++;
			}
		} else {
			serial_out(s, &c, 1);
		}
		/* Sent at once: the holding register is empty again. */
		s->thr_ipending = true;
		break;
	case UART_IER:
		if (s->lcr & UART_LCR_DLAB) {
			s->divisor = (uint16_t)((s->divisor & 0x00ff) | c << 8);
			break;
		}
		s->ier = c & UART_IER_MASK;
		if (s->ier & UART_IER_THRI)
			s->thr_ipending = true;	/* THR is always empty */
		break;
	case UART_FCR:
		serial_write_fcr(s, c);
		break;
	case UART_LCR:
		s->lcr = c;
		break;
	case UART_MCR:
		serial_write_mcr(s, c);
		break;
	case UART_LSR:
	case UART_MSR:
		/* Read-only on a 16550A (factory test writes): ignored. */
		pr_warn_once("%s: write %#x to read-only register %u ignored",
			     object_path(&s->dev.obj), c, (unsigned)addr);
		break;
	case UART_SCR:
		s->scr = c;
		break;
	}
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

static const struct memory_region_ops serial_ops = {
	.read = serial_read,
	.write = serial_write,
	.min_access_size = 1,
	.max_access_size = 1,
};

/* ---- Host side --------------------------------------------------------- */

size_t serial_input(struct serial *s, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t n = 0;

	pthread_mutex_lock(&s->lock);
	/* In loopback the receiver is wired to the transmitter alone. */
	if (!(s->mcr & UART_MCR_LOOP))
		while (n < len && rx_push(s, p[n]))
			n++;
	s->stats.rx_bytes += n;
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return n;
}

void serial_set_rx_notify(struct serial *s, void (*fn)(void *opaque),
			  void *opaque)
{
	pthread_mutex_lock(&s->lock);
	s->rx_notify = fn;
	s->rx_notify_opaque = opaque;
	pthread_mutex_unlock(&s->lock);
}

void serial_get_stats(struct serial *s, struct serial_stats *st)
{
	pthread_mutex_lock(&s->lock);
	*st = s->stats;
	pthread_mutex_unlock(&s->lock);
}

/* ---- Device ------------------------------------------------------------ */

static int serial_realize(struct device *dev, struct error *err)
{
	struct serial *s = container_of(dev, struct serial, dev);
	struct stat st;

	s->out_kind = OUT_PLAIN;
	if (s->out_fd < 0)
		return 0;
	if (fstat(s->out_fd, &st))
		return error_setf(err, errno,
				  "%s: output fd %d is not open (%s); expected an open fd or -1",
				  object_path(&dev->obj), s->out_fd,
				  strerror(errno));
	if (S_ISSOCK(st.st_mode))
		s->out_kind = OUT_SOCKET;
	else if (S_ISFIFO(st.st_mode))
		s->out_kind = OUT_PIPE;
	return 0;
}

static void serial_finalize(struct object *obj)
{
	struct serial *s = container_of(obj, struct serial, dev.obj);

	/* Rule 4: no view maps us any more, so no handler can run. */
	pthread_mutex_destroy(&s->lock);
}

static const struct device_class serial_class = {
	.obj = {
		.name = "serial-16550a",
		.size = sizeof(struct serial),
		.parent = &device_class.obj,
		.finalize = serial_finalize,
	},
	.realize = serial_realize,
};

struct serial *serial_create(struct object *parent, const char *id,
			     struct irq_line *irq, int out_fd,
			     struct error *err)
{
	struct serial *s;
	int ret;

	s = (struct serial *)object_new(&serial_class.obj);
	if (!s) {
		error_setf(err, ENOMEM, "out of memory creating UART %s", id);
		return NULL;
	}
	device_init(&s->dev);
	pthread_mutex_init(&s->lock, NULL);
	s->irq = irq;
	s->out_fd = out_fd;
	/* Reset values are all zero but the divisor, which is undefined. */
	s->divisor = 12;		/* 9600 baud */

	ret = memory_region_init_io(&s->io, &s->dev.obj, &serial_ops, s,
				    "io", SERIAL_NR_PORTS, err);
	if (ret)
		goto err_unref;
	ret = object_add_child(parent ? parent : object_root(), id,
			       &s->dev.obj, err);
	if (ret)
		goto err_unref;
	object_unref(&s->dev.obj);	/* the parent holds it now */
	ret = device_realize(&s->dev, err);
	if (ret)
		goto err_unparent;
	return s;

err_unparent:
	object_unparent(&s->dev.obj);
	return NULL;
err_unref:
	object_unref(&s->dev.obj);
	return NULL;
}
