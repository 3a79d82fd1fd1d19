// SPDX-License-Identifier: GPL-2.0-only
/*
 * An 8042 keyboard controller with both PS/2 ports empty.  A microVM has
 * no keyboard; the controller is here for Linux's i8042 probe to succeed
 * quickly and for its reset line, which is how `reboot=k` ends the VM.
 *
 * Port 0x64 reads the status register and takes commands; port 0x60
 * reads the output buffer and takes command parameters or bytes for the
 * keyboard.  Commands complete at once, so the input buffer is never full
 * (IBF stays clear) and a response is in the output buffer by the time
 * the guest polls OBF.
 *
 * Bytes waiting for the guest queue up behind the output buffer with
 * their origin (controller or keyboard port, or mouse port): a real
 * controller holds one byte and the devices keep theirs, which is what
 * the queue stands for.  The keyboard interrupt is asserted while a
 * keyboard-side byte waits and CTR bit 0 is set; the mouse interrupt
 * likewise for a mouse-side byte and CTR bit 1.
 */
#include <errno.h>
#include <string.h>

#include "flatvm/devices.h"

/* Status register */
#define STS_OBF		0x01	/* output buffer full */
#define STS_IBF		0x02	/* input buffer full: never */
#define STS_SYS		0x04	/* system flag: CTR bit 2 */
#define STS_CMD		0x08	/* last write went to port 0x64 */
#define STS_UNLOCKED	0x10	/* keylock off */
#define STS_AUXDATA	0x20	/* the byte came from the mouse port */
#define STS_TIMEOUT	0x40	/* the device did not answer */

/* Controller configuration byte (RAM byte 0) */
#define CTR_KBDINT	0x01
#define CTR_AUXINT	0x02
#define CTR_SYS		0x04
#define CTR_KBDDIS	0x10
#define CTR_AUXDIS	0x20
#define CTR_XLATE	0x40

/* Commands */
#define CMD_READ_RAM	0x20	/* 0x20-0x3f: read RAM byte n */
#define CMD_WRITE_RAM	0x60	/* 0x60-0x7f: write RAM byte n */
#define CMD_AUX_DISABLE	0xa7
#define CMD_AUX_ENABLE	0xa8
#define CMD_AUX_TEST	0xa9
#define CMD_SELF_TEST	0xaa
#define CMD_KBD_TEST	0xab
#define CMD_KBD_DISABLE	0xad
#define CMD_KBD_ENABLE	0xae
#define CMD_READ_OUTP	0xd0
#define CMD_WRITE_OUTP	0xd1
#define CMD_WRITE_KBD_OBUF 0xd2	/* as if the keyboard sent it */
#define CMD_WRITE_AUX_OBUF 0xd3	/* as if the mouse sent it */
#define CMD_WRITE_AUX	0xd4	/* next data byte goes to the mouse */
#define CMD_PULSE	0xf0	/* 0xf0-0xff: pulse lines whose bit is 0 */

#define SELF_TEST_OK	0x55
#define PORT_TEST_OK	0x00
#define PS2_NAK		0xfe	/* what an empty port answers */

#define OUTP_RESET	0x01	/* active low: clear = reset the CPU */
#define OUTP_A20	0x02

/* ---- Called with dev.lock held ----------------------------------------- */

static void i8042_update_irq(struct i8042 *k)
{
	uint8_t ctr = k->ram[0];
	bool kbd = false, aux = false;

	if (k->count) {
		if (k->queue[k->head].status & STS_AUXDATA)
			aux = ctr & CTR_AUXINT;
		else
			kbd = ctr & CTR_KBDINT;
	}
	if (kbd != k->kbd_level) {
		k->kbd_level = kbd;
		irq_set(k->kbd_irq, kbd);
	}
	if (aux != k->aux_level) {
		k->aux_level = aux;
		irq_set(k->aux_irq, aux);
	}
}

/* Queue a byte for the guest; @status is 0, STS_AUXDATA and/or
 * STS_TIMEOUT.  Bytes beyond the queue are lost, as on hardware. */
static void i8042_queue(struct i8042 *k, uint8_t data, uint8_t status)
{
	unsigned tail;

	if (k->count == I8042_QUEUE_SIZE) {
		pr_warn_once("%s: output queue full, byte %#x dropped",
			     object_path(&k->dev.obj), data);
		return;
	}
	tail = (k->head + k->count) % I8042_QUEUE_SIZE;
	k->queue[tail].data = data;
	k->queue[tail].status = status;
	k->count++;
}

static uint8_t i8042_status(const struct i8042 *k)
{
	uint8_t st = STS_UNLOCKED;

	if (k->ram[0] & CTR_SYS)
		st |= STS_SYS;
	if (k->last_was_cmd)
		st |= STS_CMD;
	if (k->count)
		st |= STS_OBF | k->queue[k->head].status;
	return st;
}

/* Returns true if the reset line was pulsed. */
static bool i8042_command(struct i8042 *k, uint8_t cmd)
{
	k->pending = 0;
	if (cmd >= CMD_READ_RAM && cmd < CMD_READ_RAM + 0x20) {
		i8042_queue(k, k->ram[cmd - CMD_READ_RAM], 0);
		return false;
	}
	if (cmd >= CMD_WRITE_RAM && cmd < CMD_WRITE_RAM + 0x20) {
		k->pending = cmd;
		return false;
	}
	if (cmd >= CMD_PULSE)
		return !(cmd & OUTP_RESET);

	switch (cmd) {
	case CMD_AUX_DISABLE:
		k->ram[0] |= CTR_AUXDIS;
		break;
	case CMD_AUX_ENABLE:
		k->ram[0] &= ~CTR_AUXDIS;
		break;
	case CMD_AUX_TEST:
	case CMD_KBD_TEST:
		/* The interface lines are fine; nothing is plugged in. */
		i8042_queue(k, PORT_TEST_OK, 0);
		break;
	case CMD_SELF_TEST:
		k->ram[0] |= CTR_SYS;
		i8042_queue(k, SELF_TEST_OK, 0);
		break;
	case CMD_KBD_DISABLE:
		k->ram[0] |= CTR_KBDDIS;
		break;
	case CMD_KBD_ENABLE:
		k->ram[0] &= ~CTR_KBDDIS;
		break;
	case CMD_READ_OUTP:
		i8042_queue(k, k->outport, 0);
		break;
	case CMD_WRITE_OUTP:
	case CMD_WRITE_KBD_OBUF:
	case CMD_WRITE_AUX_OBUF:
	case CMD_WRITE_AUX:
		k->pending = cmd;
		break;
	default:
		pr_warn_once("%s: unsupported command %#x ignored",
			     object_path(&k->dev.obj), cmd);
		break;
	}
	return false;
}

/* A byte written to port 0x60.  Returns true if the reset line was
 * pulsed. */
static bool i8042_data(struct i8042 *k, uint8_t val)
{
	uint8_t cmd = k->pending;

	k->pending = 0;
	if (cmd >= CMD_WRITE_RAM && cmd < CMD_WRITE_RAM + 0x20) {
		k->ram[cmd - CMD_WRITE_RAM] = val;
		return false;
	}
	switch (cmd) {
	case CMD_WRITE_OUTP:
		k->outport = val;
		return !(val & OUTP_RESET);
	case CMD_WRITE_KBD_OBUF:
		i8042_queue(k, val, 0);
		break;
	case CMD_WRITE_AUX_OBUF:
		i8042_queue(k, val, STS_AUXDATA);
		break;
	case CMD_WRITE_AUX:
		/* No mouse: the controller times out waiting for it. */
		i8042_queue(k, PS2_NAK, STS_AUXDATA | STS_TIMEOUT);
		break;
	default:
		/* A byte for the keyboard, which is not there either. */
		i8042_queue(k, PS2_NAK, STS_TIMEOUT);
		break;
	}
	return false;
}

/* ---- Guest accesses ---------------------------------------------------- */

static uint64_t i8042_data_read(void *opaque, uint64_t addr, unsigned size)
{
	struct i8042 *k = opaque;
	uint8_t v = 0;

	pthread_mutex_lock(&k->dev.lock);
	if (k->count) {
		v = k->queue[k->head].data;
		k->head = (k->head + 1) % I8042_QUEUE_SIZE;
		k->count--;
	}
	i8042_update_irq(k);
	pthread_mutex_unlock(&k->dev.lock);
	return v;
}

static void i8042_pulse_reset(struct i8042 *k)
{
	pr_info("%s: guest pulsed the reset line", object_path(&k->dev.obj));
	if (k->reset)
		k->reset(k->reset_opaque);
}

static void i8042_data_write(void *opaque, uint64_t addr, uint64_t val,
			     unsigned size)
{
	struct i8042 *k = opaque;
	bool reset;

	pthread_mutex_lock(&k->dev.lock);
	k->last_was_cmd = false;
	reset = i8042_data(k, (uint8_t)val);
	i8042_update_irq(k);
	pthread_mutex_unlock(&k->dev.lock);
	if (reset)
		i8042_pulse_reset(k);
}

static uint64_t i8042_status_read(void *opaque, uint64_t addr,
				  unsigned size)
{
	struct i8042 *k = opaque;
	uint8_t v;

	pthread_mutex_lock(&k->dev.lock);
	v = i8042_status(k);
	pthread_mutex_unlock(&k->dev.lock);
	return v;
}

static void i8042_command_write(void *opaque, uint64_t addr, uint64_t val,
				unsigned size)
{
	struct i8042 *k = opaque;
	bool reset;

	pthread_mutex_lock(&k->dev.lock);
	k->last_was_cmd = true;
	reset = i8042_command(k, (uint8_t)val);
	i8042_update_irq(k);
	pthread_mutex_unlock(&k->dev.lock);
	if (reset)
		i8042_pulse_reset(k);
}

static const struct memory_region_ops i8042_data_ops = {
	.read = i8042_data_read,
	.write = i8042_data_write,
	.min_access_size = 1,
	.max_access_size = 1,
};

static const struct memory_region_ops i8042_cmd_ops = {
	.read = i8042_status_read,
	.write = i8042_command_write,
	.min_access_size = 1,
	.max_access_size = 1,
};

/* ---- Device ------------------------------------------------------------ */

static const struct device_class i8042_class = {
	.obj = {
		.name = "i8042",
		.size = sizeof(struct i8042),
		.parent = &device_class.obj,
	},
};

struct i8042 *i8042_create(struct object *parent, const char *id,
			   struct irq_line *kbd_irq, struct irq_line *aux_irq,
			   void (*reset)(void *opaque), void *opaque,
			   struct error *err)
{
	struct i8042 *k;
	int ret;

	k = (struct i8042 *)object_new(&i8042_class.obj);
	if (!k) {
		error_setf(err, ENOMEM, "out of memory creating i8042 %s", id);
		return NULL;
	}
	device_init(&k->dev);
	k->kbd_irq = kbd_irq;
	k->aux_irq = aux_irq;
	k->reset = reset;
	k->reset_opaque = opaque;
	/* As firmware leaves it: keyboard interrupt and translation on,
	 * POST passed, the mouse port off. */
	k->ram[0] = CTR_KBDINT | CTR_SYS | CTR_AUXDIS | CTR_XLATE;
	k->outport = OUTP_RESET | OUTP_A20;

	ret = memory_region_init_io(&k->data, &k->dev.obj, &i8042_data_ops, k,
				    "data", 1, err);
	if (ret)
		goto err_unref;
	ret = memory_region_init_io(&k->cmd, &k->dev.obj, &i8042_cmd_ops, k,
				    "cmd", 1, err);
	if (ret)
		goto err_unref;
	ret = object_add_child(parent ? parent : object_root(), id,
			       &k->dev.obj, err);
	if (ret)
		goto err_unref;
	object_unref(&k->dev.obj);	/* the parent holds it now */
	ret = device_realize(&k->dev, err);
	if (ret)
		goto err_unparent;
	return k;

err_unparent:
	object_unparent(&k->dev.obj);
	return NULL;
err_unref:
	object_unref(&k->dev.obj);
	return NULL;
}
