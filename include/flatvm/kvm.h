/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The KVM backend: a VM, its vCPUs, and the memory listeners that turn
 * flat views into memslots and ioeventfds (DESIGN.md "KVM as a listener").
 *
 * mm/ knows nothing of KVM; KVM learns about memory only as a listener
 * of the system-memory and I/O-port address spaces.
 */
#ifndef FLATVM_KVM_H
#define FLATVM_KVM_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "flatvm/error.h"
#include "flatvm/memory.h"
#include "flatvm/stats.h"

#define KVM_MAX_VCPUS	64

/* One memslot we installed: the flat range it mirrors. */
struct kvm_slot {
	uint64_t gpa;
	uint64_t size;
	uint64_t hva;
	uint32_t flags;
	bool used;
};

struct kvm {
	int sys_fd;
	int vm_fd;
	int run_size;			/* mmap size of struct kvm_run */
	/* Memslots, protected by the memory lock (listener callbacks). */
	struct kvm_slot *slots;
	unsigned nr_slots;		/* KVM_CAP_NR_MEMSLOTS */
	unsigned slots_used;
	struct memory_listener mem_listener;
	struct memory_listener io_listener;
	struct address_space *mem;	/* guest-physical memory */
	struct address_space *io;	/* I/O ports */
	/* Counted in listener callbacks, for tests and stats. */
	unsigned long slot_ops;
	unsigned long ioeventfds;
	bool irqchip;
};

/**
 * kvm_open() - open /dev/kvm and create a VM.
 * Return: 0, -ENOENT/-EACCES with an error saying /dev/kvm is missing or
 * not accessible, or another negative errno.
 */
int kvm_open(struct kvm *kvm, struct error *err);
void kvm_close(struct kvm *kvm);

/* Is /dev/kvm usable here?  Fills @why when it is not. */
bool kvm_available(char *why, size_t len);

/**
 * kvm_attach_memory() - register the memslot listener on @mem and the
 * ioeventfd listener on @mem and @io; the current views are replayed.
 */
int kvm_attach_memory(struct kvm *kvm, struct address_space *mem,
		      struct address_space *io, struct error *err);
void kvm_detach_memory(struct kvm *kvm);

/* In-kernel IRQ chip and PIT (x86). */
int kvm_create_irqchip(struct kvm *kvm, struct error *err);
int kvm_set_irq_line(struct kvm *kvm, unsigned gsi, bool level);

/* Find the slot covering @gpa (tests, diagnostics). Memory lock taken. */
bool kvm_slot_lookup(struct kvm *kvm, uint64_t gpa, struct kvm_slot *out);
unsigned kvm_slot_count(struct kvm *kvm);

/* ---- vCPUs -------------------------------------------------------------- */

enum vcpu_stop_reason {
	VCPU_RUNNING,
	VCPU_STOP_REQUESTED,	/* vcpu_stop() */
	VCPU_STOP_HLT,		/* HLT with no interrupts to wait for */
	VCPU_STOP_SHUTDOWN,	/* triple fault / reset */
	VCPU_STOP_POWEROFF,	/* the machine asked for it (devices) */
	VCPU_STOP_ERROR,	/* emulation failure, failed entry, ... */
};

struct vcpu;

/* Hooks the machine gives its vCPUs. */
struct vcpu_ops {
	/* HLT exit: return true to keep running (e.g. interrupts pending). */
	bool (*hlt)(struct vcpu *vcpu);
	/* The vCPU's thread left its run loop (vcpu_start() threads only). */
	void (*stopped)(struct vcpu *vcpu, enum vcpu_stop_reason why);
};

struct vcpu {
	struct kvm *kvm;
	unsigned id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool thread_started;
	const struct vcpu_ops *ops;
	void *opaque;
	/* Written by other threads to stop this one. */
	bool stop;
	bool paused;
	bool parked;			/* the thread is waiting, paused */
	bool ended;			/* the thread left its run loop */
	bool cpuid_set;			/* KVM refuses a new CPUID after KVM_RUN */
	pthread_mutex_t lock;		/* protects paused/stop waits */
	pthread_cond_t cond;
	/* Result, read after join. */
	enum vcpu_stop_reason reason;
	char error[512];
	/* Exit counters, written only by the vCPU thread (relaxed stores:
	 * query-stats reads them while it runs). */
	uint64_t exits_io, exits_mmio, exits_other;
	/*
	 * Time spent on exits (include/flatvm/stats.h); same writer.  Heap,
	 * 6 KiB, only for vCPUs that exist; RCU-protected for other
	 * threads: vcpu_get_stats().
	 */
	struct vcpu_stats *stats;
};

int vcpu_create(struct kvm *kvm, struct vcpu *vcpu, unsigned id,
		struct error *err);
void vcpu_destroy(struct vcpu *vcpu);

/*
 * The vCPU's exit statistics, or NULL once vcpu_destroy() has run.  From
 * any thread, online (RCU reader): they stay valid until it goes
 * quiescent.
 */
struct vcpu_stats *vcpu_get_stats(struct vcpu *vcpu);

/* Set up CPUID from KVM_GET_SUPPORTED_CPUID (with the KVM leaves). */
int vcpu_init_cpuid(struct vcpu *vcpu, unsigned ncpus, struct error *err);

/**
 * vcpu_run_loop() - run until the guest stops or vcpu_stop() is called.
 * The calling thread must be registered with RCU; it is offline inside
 * KVM_RUN and online while it dispatches an exit (rule 6).
 */
enum vcpu_stop_reason vcpu_run_loop(struct vcpu *vcpu);

/* Start vcpu_run_loop() on a thread of its own; vcpu_join() waits. */
int vcpu_start(struct vcpu *vcpu, struct error *err);
enum vcpu_stop_reason vcpu_join(struct vcpu *vcpu);

/* Ask the vCPU to leave KVM_RUN and stop (signal + immediate_exit). */
void vcpu_stop(struct vcpu *vcpu);

/* Pause/resume: the vCPU leaves KVM_RUN and waits until resumed. */
void vcpu_pause(struct vcpu *vcpu);
/*
 * Wait until a paused vCPU's thread is parked outside KVM_RUN (or has
 * ended), so its state may be read or set with ioctls.  Call offline.
 */
void vcpu_pause_wait(struct vcpu *vcpu);
void vcpu_resume(struct vcpu *vcpu);

const char *vcpu_stop_reason_name(enum vcpu_stop_reason r);

#endif /* FLATVM_KVM_H */
