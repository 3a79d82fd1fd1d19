/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The legacy and test device models of devices/: a 16550A UART, an i8042
 * keyboard controller (for its reset line), an MC146818 CMOS RTC, the
 * flatvm test device and the ACPI sleep register.
 *
 * Each constructor makes the device a child of @parent named @id (the
 * parent holds the only reference), realizes it and returns it, or
 * returns NULL with @err saying why.  The device's regions are in its
 * struct for the machine to map (memory_region_add_subregion() at the
 * address layout.h gives); device code never adds or deletes subregions,
 * and on unplug or unrealize the device core detaches them.
 *
 * Devices know nothing of KVM: they get struct irq_line pointers and
 * callbacks.  Their handlers run on vCPU threads concurrently and take no
 * global lock (DESIGN.md rule 6); each device guards its state with a lock
 * of its own, named below.  Callbacks (reset, exit, poweroff) are called
 * from the vCPU thread that made the access, with no device lock held.
 * Interrupt lines are driven with the device's lock held, so that level
 * changes reach the line in the order they happened: an irq_line's set()
 * must not call back into the device.
 *
 * Everything below a "private" comment is the device's own business: read
 * it through the functions, never directly.
 */
#ifndef FLATVM_DEVICES_H
#define FLATVM_DEVICES_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flatvm/device.h"
#include "flatvm/error.h"
#include "flatvm/irq.h"
#include "flatvm/memory.h"

/* ---- 16550A UART (devices/serial.c) ------------------------------------ */

#define SERIAL_NR_PORTS		8
#define SERIAL_FIFO_SIZE	16

/**
 * struct serial_stats - what a UART has done, for the control socket and
 * tests.
 * @tx_bytes: bytes the guest transmitted that reached the output fd.
 * @tx_errors: bytes lost because writing the output fd failed (EPIPE,
 *	EAGAIN, ...); after EPIPE the output is abandoned and every later
 *	byte counts here.
 * @rx_bytes: bytes accepted by serial_input().
 * @rx_overruns: bytes lost to a full receive FIFO (loopback only: host
 *	input is never dropped, serial_input() takes what fits).
 */
struct serial_stats {
	uint64_t tx_bytes;
	uint64_t tx_errors;
	uint64_t rx_bytes;
	uint64_t rx_overruns;
};

/**
 * struct serial - a 16550A UART.
 * @dev: the device part.
 * @io: the 8 registers, for the machine to map at LAYOUT_PORT_COM1.
 */
struct serial {
	struct device dev;
	struct memory_region io;

	/* private */
	struct irq_line *irq;
	int out_fd;
	int out_kind;
	/*
	 * Protects every field below, and the order of bytes written to
	 * @out_fd.  Held across that write(2), so it is a mutex of its own
	 * and not dev->lock (which device_get_state() takes).
	 */
	pthread_mutex_t lock;
	uint8_t ier, lcr, mcr, scr, fcr;
	uint8_t lsr_err;		/* OE, until LSR is read */
	uint8_t msr_delta;		/* MSR bits 0-3, until MSR is read */
	uint16_t divisor;
	bool thr_ipending;		/* THR empty interrupt not yet seen */
	bool irq_level;			/* what @irq was last told */
	bool out_broken;		/* EPIPE seen: output abandoned */
	uint8_t rx[SERIAL_FIFO_SIZE];
	unsigned rx_head, rx_count;
	struct serial_stats stats;
	void (*rx_notify)(void *opaque);
	void *rx_notify_opaque;
};

/**
 * serial_create() - create and realize a 16550A UART.
 * @parent: the object that will hold the device (the machine).
 * @id: its name under @parent.
 * @irq: the interrupt line (GSI 4 for COM1), or NULL for none.  It is
 *	asserted while an enabled interrupt is pending.
 * @out_fd: where transmitted bytes go, or -1 to discard them.  Not
 *	closed by the device.  A full pipe blocks the transmitting vCPU;
 *	a reader that went away (EPIPE) never kills the process.
 * @err: the reason on failure, or NULL.
 *
 * Return: the UART, held by @parent, or NULL.
 */
struct serial *serial_create(struct object *parent, const char *id,
			     struct irq_line *irq, int out_fd,
			     struct error *err);

/**
 * serial_input() - bytes from the host for the guest to receive.
 * @s: the UART.
 * @buf: the bytes.
 * @len: how many.
 *
 * Called from the main loop with host terminal input.  Takes as many as
 * the receive FIFO has room for (16 with FIFOs enabled, else 1; none in
 * loopback mode, where the receiver listens to the transmitter) and
 * raises the interrupt if the guest enabled it.
 *
 * Return: how many bytes were accepted; offer the rest again later (see
 * serial_set_rx_notify()).
 */
size_t serial_input(struct serial *s, const void *buf, size_t len);

/**
 * serial_set_rx_notify() - be told when the guest has emptied the receive
 * FIFO, so that input held back by serial_input() can be offered again.
 * @s: the UART.
 * @fn: called on the vCPU thread that read the last byte, with no lock
 *	held; it should only wake the main loop (write an eventfd).  NULL
 *	to stop.
 * @opaque: passed to @fn.
 */
void serial_set_rx_notify(struct serial *s, void (*fn)(void *opaque),
			  void *opaque);

/** serial_get_stats() - a snapshot of @s's counters. */
void serial_get_stats(struct serial *s, struct serial_stats *st);

/* ---- i8042 keyboard controller (devices/i8042.c) ----------------------- */

#define I8042_QUEUE_SIZE	16

/**
 * struct i8042 - an 8042 keyboard controller with nothing plugged in.
 * @dev: the device part.
 * @data: port 0x60 (LAYOUT_PORT_I8042_DATA), one byte.
 * @cmd: port 0x64 (LAYOUT_PORT_I8042_CMD), one byte: status on read,
 *	command on write.
 *
 * Two regions rather than one five-port window: ports 0x61-0x63 belong
 * to other chips (0x61 is the PC speaker and NMI status port), and a gap
 * inside one region would answer for them.
 *
 * The controller answers everything Linux's i8042 driver sends while
 * probing, and its reset line works (command 0xFE, or an output port
 * write with bit 0 clear).  Both PS/2 ports are empty: bytes sent to the
 * keyboard or (command 0xD4) the mouse come back as 0xFE with the
 * time-out status bit, as on a real controller with nothing attached, so
 * atkbd and psmouse give up at once instead of waiting for time-outs.
 */
struct i8042 {
	struct device dev;
	struct memory_region data;
	struct memory_region cmd;

	/* private */
	struct irq_line *kbd_irq, *aux_irq;
	void (*reset)(void *opaque);
	void *reset_opaque;
	/* Fields below are protected by dev.lock. */
	uint8_t ram[32];		/* controller RAM; ram[0] is the CTR */
	uint8_t pending;		/* command waiting for its data byte */
	uint8_t outport;
	bool last_was_cmd;		/* status bit 3 */
	struct {
		uint8_t data;
		uint8_t status;		/* AUXDATA, TIMEOUT bits */
	} queue[I8042_QUEUE_SIZE];
	unsigned head, count;
	bool kbd_level, aux_level;
};

/**
 * i8042_create() - create and realize an i8042.
 * @parent: the object that will hold the device.
 * @id: its name under @parent.
 * @kbd_irq: the keyboard interrupt (GSI 1), or NULL.
 * @aux_irq: the mouse-port interrupt (ISA IRQ 12), or NULL.  Linux checks
 *	that the AUX port's interrupt arrives, and without one it waits
 *	250 ms at boot before disabling the port (or pass i8042.noaux).
 * @reset: called when the guest pulses the reset line (Linux's
 *	reboot=k); the machine ends the VM with status 0.  May be NULL.
 * @opaque: passed to @reset.
 * @err: the reason on failure, or NULL.
 *
 * Return: the controller, held by @parent, or NULL.
 */
struct i8042 *i8042_create(struct object *parent, const char *id,
			   struct irq_line *kbd_irq, struct irq_line *aux_irq,
			   void (*reset)(void *opaque), void *opaque,
			   struct error *err);

/* ---- MC146818 CMOS RTC (devices/rtc.c) --------------------------------- */

#define RTC_CMOS_SIZE		128
/* CMOS offset of the century byte (the FADT's CENTURY field). */
#define RTC_REG_CENTURY		0x32

/**
 * struct rtc - an MC146818 real-time clock with 128 bytes of CMOS.
 * @dev: the device part.
 * @io: ports 0x70 (index) and 0x71 (data): LAYOUT_PORT_RTC, 2 bytes.
 *
 * The time runs from the host's clock (UTC) plus an offset the guest
 * sets by writing the time registers.  The update-in-progress bit is
 * never set, register D always says the time and RAM are valid.  No
 * interrupts: alarms, periodic and update-ended interrupts are not
 * emulated (register C reads 0).
 */
struct rtc {
	struct device dev;
	struct memory_region io;

	/* private; protected by dev.lock */
	uint8_t index;
	uint8_t cmos[RTC_CMOS_SIZE];	/* time registers: only while SET */
	int64_t offset;			/* guest - host time, seconds */
};

/**
 * rtc_create() - create and realize a CMOS RTC.
 * @parent: the object that will hold the device.
 * @id: its name under @parent.
 * @err: the reason on failure, or NULL.
 *
 * Return: the RTC, held by @parent, or NULL.
 */
struct rtc *rtc_create(struct object *parent, const char *id,
		       struct error *err);

/* ---- The test device (devices/testdev.c) ------------------------------- */

/* Bytes of TESTDEV_LOG the device keeps; later bytes are dropped. */
#define TESTDEV_LOG_MAX		4096

/**
 * struct testdev - the test device of include/flatvm/testdev-regs.h.
 * @dev: the device part; hotpluggable.
 * @mmio: every register, LAYOUT_TESTDEV_MMIO_SIZE bytes, for the machine
 *	to map at LAYOUT_TESTDEV_MMIO.
 * @pio: registers 0x0-0xc, LAYOUT_PORT_TESTDEV_SIZE ports, for
 *	LAYOUT_PORT_TESTDEV.
 *
 * Registers are 32 bits and take 1, 2 and 4-byte accesses: a narrow read
 * returns those bytes of the register, a narrow write changes only those
 * bytes of SCRATCH or RESULT, and a narrow write to EXIT exits with the
 * bytes written in their place (an outb to EXIT exits with that byte).
 * LOG takes the low byte of a write at offset TESTDEV_LOG.  A write of any
 * size to NOTIFY counts one notification: 4-byte writes go through the
 * ioeventfd (KVM or the dispatcher signal it, the handler never runs),
 * narrower ones reach the handler, which signals the same eventfd.
 * Write-only registers and unknown offsets read 0; writes to read-only
 * registers and unknown offsets are ignored.
 */
struct testdev {
	struct device dev;
	struct memory_region mmio;
	struct memory_region pio;

	/* private */
	void (*exit_fn)(void *opaque, uint32_t status);
	void *exit_opaque;
	int notify_fd;			/* closed at finalize (rule 5) */
	uint32_t counter;		/* atomic */
	/* Fields below are protected by dev.lock. */
	uint32_t scratch;
	uint32_t result;
	size_t log_len;
	uint64_t log_dropped;
	char log[TESTDEV_LOG_MAX];
};

/**
 * testdev_create() - create and realize a test device.
 * @parent: the object that will hold the device.
 * @id: its name under @parent.
 * @exit_fn: called with the value the guest writes to TESTDEV_EXIT; the
 *	machine ends the VM with it as the exit status.  May be NULL.
 * @opaque: passed to @exit_fn.
 * @err: the reason on failure, or NULL.
 *
 * Return: the device, held by @parent, or NULL.
 */
struct testdev *testdev_create(struct object *parent, const char *id,
			       void (*exit_fn)(void *opaque, uint32_t status),
			       void *opaque, struct error *err);

/**
 * testdev_log() - copy out what the guest wrote to TESTDEV_LOG.
 * @t: the device.
 * @buf: where to copy, or NULL with @len 0.
 * @len: room in @buf; the copy is not NUL-terminated.
 *
 * Return: the length of the whole log (at most TESTDEV_LOG_MAX), which
 * may exceed @len, as with snprintf().
 */
size_t testdev_log(struct testdev *t, char *buf, size_t len);

/** testdev_result() - the value the guest last wrote to TESTDEV_RESULT. */
uint32_t testdev_result(struct testdev *t);

/**
 * testdev_notify_fd() - the NOTIFY eventfd, for the main loop to poll.
 * Valid until the device finalizes; never close it.
 */
int testdev_notify_fd(struct testdev *t);

/**
 * testdev_notify_drain() - collect pending NOTIFY writes.
 * @t: the device.
 *
 * Reads the eventfd without blocking.
 *
 * Return: how many notifications arrived since the last drain.
 */
uint64_t testdev_notify_drain(struct testdev *t);

/* ---- ACPI sleep control/status register (devices/pm.c) ----------------- */

/**
 * struct pm - the hardware-reduced ACPI sleep register.
 * @dev: the device part.
 * @io: one port, for the machine to map at LAYOUT_PORT_ACPI_SLEEP (the
 *	FADT's SLEEP_CONTROL_REG and SLEEP_STATUS_REG).
 *
 * Reads return 0: the wake status is clear.  A write that
 * acpi_sleep_ctl_is_poweroff() accepts (SLP_EN with SLP_TYP S5) calls the
 * poweroff callback; any other write (the WAK_STS clear that precedes it,
 * other sleep states) is ignored.
 */
struct pm {
	struct device dev;
	struct memory_region io;

	/* private */
	void (*poweroff)(void *opaque);
	void *opaque;
};

/**
 * pm_create() - create and realize the ACPI sleep register.
 * @parent: the object that will hold the device.
 * @id: its name under @parent.
 * @poweroff: called when the guest enters S5; may be NULL.
 * @opaque: passed to @poweroff.
 * @err: the reason on failure, or NULL.
 *
 * Return: the device, held by @parent, or NULL.
 */
struct pm *pm_create(struct object *parent, const char *id,
		     void (*poweroff)(void *opaque), void *opaque,
		     struct error *err);

#endif /* FLATVM_DEVICES_H */
