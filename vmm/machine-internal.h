/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The machine's insides, shared by vmm/machine.c (assembly, running) and
 * vmm/control.c (the control plane: QMP operations and hotplug).
 */
#ifndef FLATVM_VMM_MACHINE_INTERNAL_H
#define FLATVM_VMM_MACHINE_INTERNAL_H

#include <pthread.h>
#include <urcu/list.h>

#include "flatvm/boot.h"
#include "flatvm/control.h"
#include "flatvm/devices.h"
#include "flatvm/machine.h"
#include "flatvm/virtio.h"

#define MACHINE_MAX_HOTPLUG_TESTDEV	8
#define MACHINE_MAX_HOTPLUG_RAM		8

/* A hotplug slot: a virtio-mmio window (and GSI) after the boot devices. */
struct hp_slot {
	struct virtio_mmio *vm;		/* mapped there now: empty or a device */
	struct hp_dev *owner;		/* the device plugged in, or NULL */
	bool busy;			/* a deleted device has not finalized */
};

enum hp_kind { HP_VIRTIO, HP_TESTDEV, HP_RAM };

/* A device plugged through the control socket. */
struct hp_dev {
	struct cds_list_head link;	/* machine->hp_devices */
	struct machine *m;
	char id[64];
	char driver[32];
	enum hp_kind kind;
	unsigned index;			/* slot, test device or RAM window */
	struct device *dev;
	char path[128];			/* while in the tree, for the event */
	bool deleting;
};

struct machine {
	struct object obj;		/* /machine */
	struct machine_config cfg;
	struct memory_region sysmem;
	struct memory_region iospace;
	struct memory_region ram;
	struct memory_region ram_below_4g;
	struct memory_region ram_above_4g;
	struct address_space mem;
	struct address_space io;
	bool mem_ready, io_ready;
	struct kvm kvm;
	bool kvm_open;
	struct irq_line irq[LAYOUT_GSI_MAX + 1];
	struct vcpu vcpu[KVM_MAX_VCPUS];
	unsigned nr_vcpus;
	/* Stop request: first one wins.  Protected by stop_lock. */
	pthread_mutex_t stop_lock;
	enum machine_stop stop;
	int status;
	char stop_msg[512];
	int stop_fd;			/* eventfd the main loop waits on */
	/* Devices (children of /machine). */
	struct serial *serial;
	struct i8042 *i8042;
	struct rtc *rtc;
	struct testdev *testdev;
	struct pm *pm;
	/* virtio-mmio transports: disks first, then the rng; window n at
	 * LAYOUT_VIRTIO_MMIO_BASE + n * LAYOUT_VIRTIO_MMIO_SIZE, GSI 5 + n. */
	struct virtio_mmio *virtio[LAYOUT_VIRTIO_MMIO_MAX];
	unsigned nr_virtio;
	/* Transports not yet finalized; protected by stop_lock. */
	unsigned virtio_alive;
	pthread_cond_t virtio_gone;
	/* Console input the UART could not take yet (main thread only). */
	uint8_t pending[256];
	size_t pending_len, pending_off;
	int rx_fd;			/* eventfd: the UART FIFO drained */
	uint64_t rsdp;			/* where the ACPI tables put it */
	struct boot_info boot;
	/* The control plane (vmm/control.c). */
	struct qmp_server *qmp;
	bool paused;			/* control thread only */
	/* Hotplug: protected by ctl_lock (finalizers take it too). */
	pthread_mutex_t ctl_lock;
	unsigned nr_boot_virtio;	/* transports 0.. are boot devices */
	struct hp_slot slot[MACHINE_MAX_HOTPLUG_SLOTS];
	unsigned nr_slots;
	struct cds_list_head hp_devices;	/* struct hp_dev */
	unsigned slot_gen;		/* names of empty transports */
	pthread_cond_t hp_gone;		/* a hotplugged device finalized */
	bool testdev_used[MACHINE_MAX_HOTPLUG_TESTDEV];
	bool ram_used[MACHINE_MAX_HOTPLUG_RAM];
};

/* vmm/machine.c */
uint64_t machine_virtio_window(unsigned n);
unsigned machine_virtio_gsi(unsigned n);
void machine_virtio_track(struct machine *m, struct virtio_mmio *vm);
void machine_virtio_finalized(struct machine *m);
void machine_virtio_untrack(struct machine *m, struct virtio_mmio *vm);
int machine_map(struct memory_region *c, uint64_t addr,
		struct memory_region *mr, struct error *err);
int machine_reload(struct machine *m, struct error *err);
bool machine_stopping(struct machine *m);
bool machine_wait_finalized(struct machine *m, pthread_mutex_t *lock,
			    pthread_cond_t *cond,
			    bool (*done)(struct machine *m));

/* vmm/control.c */
int machine_hotplug_init(struct machine *m, struct error *err);
void machine_hotplug_fini(struct machine *m);
void machine_emit(struct machine *m, const char *event, json_t *data);

#endif /* FLATVM_VMM_MACHINE_INTERNAL_H */
