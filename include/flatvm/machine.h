/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The x86 microVM: guest RAM, the system-memory and I/O-port address
 * spaces, KVM with its in-kernel irqchip, the devices, ACPI tables, the
 * kernel and the vCPUs, put together from a struct machine_config.
 */
#ifndef FLATVM_MACHINE_H
#define FLATVM_MACHINE_H

#include <stdbool.h>
#include <stdint.h>

#include "flatvm/control.h"
#include "flatvm/error.h"
#include "flatvm/irq.h"
#include "flatvm/kvm.h"
#include "flatvm/layout.h"
#include "flatvm/memory.h"
#include "flatvm/object.h"

#define MACHINE_MAX_DISKS	8
/* virtio-mmio windows reserved for hotplug (--hotplug-slots). */
#define MACHINE_MAX_HOTPLUG_SLOTS	8
#define MACHINE_MIN_MEM		(16ull << 20)
#define MACHINE_MAX_MEM		(1ull << 40)

struct machine_disk {
	const char *path;
	bool readonly;
};

struct machine_config {
	const char *kernel;		/* NULL: the built-in guest */
	const char *initrd;
	const char *cmdline;
	uint64_t mem_size;
	unsigned ncpus;
	struct machine_disk disks[MACHINE_MAX_DISKS];
	unsigned ndisks;
	bool rng;
	/*
	 * Also describe the virtio-mmio devices on the kernel command line
	 * (virtio_mmio.device=SIZE@BASE:IRQ), for kernels built with
	 * CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES; distribution kernels find them
	 * through the DSDT instead.
	 */
	bool virtio_cmdline;
	unsigned hotplug_slots;		/* empty virtio-mmio windows */
	const char *api_sock;		/* QMP control socket, or NULL */
	int console_in;			/* -1: no input */
	int console_out;
};

/* Why the machine stopped, and the exit status flatvm reports. */
enum machine_stop {
	MACHINE_RUNNING,
	MACHINE_POWEROFF,		/* ACPI S5, i8042 reset, triple fault */
	MACHINE_TESTDEV_EXIT,		/* the test device's EXIT register */
	MACHINE_SIGNAL,			/* SIGINT/SIGTERM */
	MACHINE_QUIT,			/* the control socket's quit */
	MACHINE_ERROR,			/* emulation failure, setup error */
};

struct machine;

/**
 * machine_create() - build the machine described by @cfg.
 * Return: the machine or NULL with @err saying what was wrong (a bad
 * flag value, a missing file, an unknown kernel format, /dev/kvm).
 */
struct machine *machine_create(const struct machine_config *cfg,
			       struct error *err);

/**
 * machine_run() - run until the guest powers off, a device ends the VM,
 * a vCPU fails or SIGINT/SIGTERM arrives.  Called from the thread that
 * created the machine, registered with RCU.
 * Return: the exit status for the process (0 on a clean stop).
 */
int machine_run(struct machine *m);

/* Ask the machine to stop (any thread, e.g. a device handler). */
void machine_request_stop(struct machine *m, enum machine_stop why,
			  int status);

/* Tear everything down: vCPUs joined, devices and memory finalized. */
void machine_destroy(struct machine *m);

/*
 * For tests and benchmarks that drive a machine in-process: its
 * guest-physical address space, and the operations the control socket
 * calls (opaque = the machine; call them from one thread at a time,
 * registered with RCU and online).
 */
struct address_space *machine_memory(struct machine *m);
extern const struct control_ops machine_control_ops;

/* Parse "256M", "1G", "65536", ... into bytes. */
int machine_parse_size(const char *s, uint64_t *out, struct error *err);

#endif /* FLATVM_MACHINE_H */
