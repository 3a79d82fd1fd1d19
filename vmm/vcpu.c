// SPDX-License-Identifier: GPL-2.0-only
/*
 * vCPUs: one thread each, a QSBR reader that is offline inside KVM_RUN
 * and online while it dispatches an exit through the published views
 * (rule 6: no lock, no reference on the way).
 */
#include <cpuid.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "flatvm/kvm.h"
#include "flatvm/rcu.h"

/* Kicks a vCPU out of KVM_RUN; the handler does nothing (EINTR is all). */
#define SIG_VCPU_KICK	SIGUSR1

static void kick_handler(int sig)
{
}

static pthread_once_t kick_once = PTHREAD_ONCE_INIT;

static void kick_install(void)
{
	struct sigaction sa = { .sa_handler = kick_handler };

	sigemptyset(&sa.sa_mask);
	sigaction(SIG_VCPU_KICK, &sa, NULL);	/* no SA_RESTART */
}

const char *vcpu_stop_reason_name(enum vcpu_stop_reason r)
{
	static const char *const names[] = {
		[VCPU_RUNNING] = "running",
		[VCPU_STOP_REQUESTED] = "stopped",
		[VCPU_STOP_HLT] = "halted",
		[VCPU_STOP_SHUTDOWN] = "shutdown",
		[VCPU_STOP_POWEROFF] = "poweroff",
		[VCPU_STOP_ERROR] = "error",
	};

	return r < ARRAY_SIZE(names) ? names[r] : "?";
}

/* ---- Exit statistics (include/flatvm/stats.h) ------------------------ */

/*
 * The clock: RDTSC costs about 10 ns here (PVM host, measured), against
 * 26 ns for clock_gettime(CLOCK_MONOTONIC) through the vDSO, and needs
 * no conversion on the fast path.  It is right only if the TSC runs at
 * one rate whatever the CPU's state (invariant TSC, CPUID 0x80000007
 * EDX bit 8) and we know that rate: KVM_GET_TSC_KHZ of the vCPU, the
 * host's TSC rate as long as nobody scaled the guest's (flatvm does
 * not).  A vCPU thread that moves between CPUs reads TSCs that the
 * kernel keeps synchronized.  Otherwise: CLOCK_MONOTONIC, in ns.
 */
/* The statistics and what frees them after a grace period. */
struct vcpu_stats_block {
	struct vcpu_stats st;
	struct rcu_head rcu;
};

static int vcpu_stats_init(struct vcpu *vcpu)
{
	size_t size = (sizeof(struct vcpu_stats_block) + 127) & ~(size_t)127;
	struct vcpu_stats_block *blk = aligned_alloc(128, size);
	unsigned a, b, c, d;
	int khz;

	if (!blk)
		return -ENOMEM;
	memset(blk, 0, size);
	if (__get_cpuid(0x80000007, &a, &b, &c, &d) && (d & (1u << 8))) {
		khz = ioctl(vcpu->fd, KVM_GET_TSC_KHZ, 0);
		if (khz > 0)
			blk->st.tsc_khz = (uint32_t)khz;
	}
	vcpu->stats = &blk->st;		/* before the thread and the server */
	return 0;
}

static void vcpu_stats_free(struct rcu_head *head)
{
	rcu_reclaim_begin();
	free(container_of(head, struct vcpu_stats_block, rcu));
	rcu_reclaim_end();
}

/*
 * The vCPU is gone, but the control thread may be reading its
 * statistics (query-stats is served until the machine has stopped its
 * server): unpublish them, free them after a grace period.
 */
static void vcpu_stats_release(struct vcpu *vcpu)
{
	struct vcpu_stats *st = vcpu->stats;

	if (!st)
		return;
	rcu_store(vcpu->stats, NULL);
	rcu_call(&container_of(st, struct vcpu_stats_block, st)->rcu,
		 vcpu_stats_free);
}

struct vcpu_stats *vcpu_get_stats(struct vcpu *vcpu)
{
	return rcu_load(vcpu->stats);
}

/* Only on the vCPU's thread, which holds its statistics (@st). */
static inline uint64_t vcpu_stats_now(const struct vcpu_stats *st)
{
	struct timespec ts;

	if (likely(st->tsc_khz))
		return __rdtsc();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static enum exit_kind exit_kind_of(const struct kvm_run *run)
{
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		return run->io.direction == KVM_EXIT_IO_OUT ?
		       EXIT_KIND_PIO_WRITE : EXIT_KIND_PIO_READ;
	case KVM_EXIT_MMIO:
		return run->mmio.is_write ? EXIT_KIND_MMIO_WRITE :
		       EXIT_KIND_MMIO_READ;
	default:
		return EXIT_KIND_OTHER;
	}
}

const char *exit_kind_name(enum exit_kind k)
{
	static const char *const names[] = {
		[EXIT_KIND_PIO_READ] = "pio-read",
		[EXIT_KIND_PIO_WRITE] = "pio-write",
		[EXIT_KIND_MMIO_READ] = "mmio-read",
		[EXIT_KIND_MMIO_WRITE] = "mmio-write",
		[EXIT_KIND_OTHER] = "other",
	};

	return (unsigned)k < ARRAY_SIZE(names) ? names[k] : "?";
}

/*
 * The reader's side of lat_hist_add(): the sequence count, acquire, then
 * the fields, acquire (one that an update in progress wrote makes its
 * odd count visible to the second look), then the count again.  An
 * update is a few stores every several microseconds, so a retry is rare;
 * an owner preempted in the middle of one is waited for politely.
 */
void lat_hist_read(const struct lat_hist *h, struct lat_hist *out)
{
	uint64_t s1, s2;
	unsigned b, tries = 0;

	for (;;) {
		s1 = __atomic_load_n(&h->seq, __ATOMIC_ACQUIRE);
		if (!(s1 & 1)) {
			out->count = __atomic_load_n(&h->count, __ATOMIC_ACQUIRE);
			out->sum = __atomic_load_n(&h->sum, __ATOMIC_ACQUIRE);
			out->max = __atomic_load_n(&h->max, __ATOMIC_ACQUIRE);
			for (b = 0; b < LAT_BUCKETS; b++)
				out->buckets[b] = __atomic_load_n(&h->buckets[b],
								  __ATOMIC_ACQUIRE);
			s2 = READ_ONCE(h->seq);
			if (s1 == s2)
				break;
		}
		if (++tries % 64 == 0)
			sched_yield();
	}
	out->seq = s1;
}

double lat_hist_quantile(const struct lat_hist *h, double q)
{
	uint64_t rank, cum = 0, lo, hi;
	unsigned b;

	if (!h->count)
		return 0;
	rank = (uint64_t)(q * (double)h->count);	/* ceil, without libm */
	if ((double)rank < q * (double)h->count)
		rank++;
	if (rank < 1)
		rank = 1;
	if (rank > h->count)
		rank = h->count;
	for (b = 0; b < LAT_BUCKETS; b++) {
		if (!h->buckets[b] || cum + h->buckets[b] < rank) {
			cum += h->buckets[b];
			continue;
		}
		lo = lat_bucket_lower(b);
		hi = b + 1 < LAT_BUCKETS ? lat_bucket_lower(b + 1) : h->max;
		if (hi - lo <= 1)
			return (double)lo;	/* one value wide: exact */
		if (h->max < hi)
			hi = h->max;	/* the maximum is in this bucket */
		if (hi < lo)
			hi = lo;
		return (double)lo + (double)(hi - lo) *
		       (double)(rank - cum) / (double)h->buckets[b];
	}
	return (double)h->max;	/* buckets and count disagree: not a snapshot */
}

/* ---- vCPUs --------------------------------------------------------------- */

int vcpu_create(struct kvm *kvm, struct vcpu *vcpu, unsigned id,
		struct error *err)
{
	void *run;

	memset(vcpu, 0, sizeof(*vcpu));
	vcpu->kvm = kvm;
	vcpu->id = id;
	pthread_once(&kick_once, kick_install);
	vcpu->fd = ioctl(kvm->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (vcpu->fd < 0)
		return error_setf(err, errno, "KVM_CREATE_VCPU %u: %s", id,
				  strerror(errno));
	run = mmap(NULL, (size_t)kvm->run_size, PROT_READ | PROT_WRITE,
		   MAP_SHARED, vcpu->fd, 0);
	if (run == MAP_FAILED) {
		close(vcpu->fd);
		return error_setf(err, errno, "mmap of vCPU %u run area: %s",
				  id, strerror(errno));
	}
	vcpu->run = run;
	if (vcpu_stats_init(vcpu)) {
		munmap(run, (size_t)kvm->run_size);
		close(vcpu->fd);
		return error_setf(err, ENOMEM, "out of memory");
	}
	pthread_mutex_init(&vcpu->lock, NULL);
	pthread_cond_init(&vcpu->cond, NULL);
	return 0;
}

void vcpu_destroy(struct vcpu *vcpu)
{
	vcpu_stats_release(vcpu);
	if (vcpu->run)
		munmap(vcpu->run, (size_t)vcpu->kvm->run_size);
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	pthread_mutex_destroy(&vcpu->lock);
	pthread_cond_destroy(&vcpu->cond);
	vcpu->run = NULL;
	vcpu->fd = -1;
}

int vcpu_init_cpuid(struct vcpu *vcpu, unsigned ncpus, struct error *err)
{
	struct kvm_cpuid2 *cpuid;
	unsigned n = 128, i;
	int ret = 0;

	/* Set once: it does not change, and after KVM_RUN KVM refuses it
	 * (system_reset sets the rest of the entry state again). */
	if (vcpu->cpuid_set)
		return 0;
	for (;;) {
		cpuid = calloc(1, sizeof(*cpuid) + n * sizeof(cpuid->entries[0]));
		if (!cpuid)
			return error_setf(err, ENOMEM, "out of memory");
		cpuid->nent = n;
		if (!ioctl(vcpu->kvm->sys_fd, KVM_GET_SUPPORTED_CPUID, cpuid))
			break;
		free(cpuid);
		if (errno != E2BIG || n >= 4096)
			return error_setf(err, errno,
					  "KVM_GET_SUPPORTED_CPUID: %s",
					  strerror(errno));
		n *= 2;
	}
	for (i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		switch (e->function) {
		case 1:
			/* Initial APIC id and logical processor count. */
			e->ebx = (e->ebx & 0x0000ffff) | (vcpu->id << 24) |
				 ((ncpus & 0xff) << 16);
			e->ecx |= 1u << 31;	/* running on a hypervisor */
			break;
		case 0xb:
		case 0x1f:
			e->edx = vcpu->id;	/* x2APIC id */
			break;
		case 0x40000000:
			/* KVM signature, kept as KVM gives it */
			break;
		}
	}
	if (ioctl(vcpu->fd, KVM_SET_CPUID2, cpuid))
		ret = error_setf(err, errno, "KVM_SET_CPUID2: %s",
				 strerror(errno));
	else
		vcpu->cpuid_set = true;
	free(cpuid);
	return ret;
}

/* ---- Exits ------------------------------------------------------------- */

static void handle_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	uint32_t i;

	WRITE_ONCE(vcpu->exits_io, vcpu->exits_io + 1);
	if (!vcpu->kvm->io) {
		if (run->io.direction == KVM_EXIT_IO_IN)
			memset(data, 0xff, (size_t)run->io.size * run->io.count);
		return;
	}
	for (i = 0; i < run->io.count; i++, data += run->io.size) {
		if (run->io.direction == KVM_EXIT_IO_OUT)
			address_space_write(vcpu->kvm->io, run->io.port, data,
					    run->io.size);
		else
			address_space_read(vcpu->kvm->io, run->io.port, data,
					   run->io.size);
	}
}

static void handle_mmio(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint32_t len = run->mmio.len;

	WRITE_ONCE(vcpu->exits_mmio, vcpu->exits_mmio + 1);
	if (len > sizeof(run->mmio.data))
		len = sizeof(run->mmio.data);
	if (run->mmio.is_write)
		address_space_write(vcpu->kvm->mem, run->mmio.phys_addr,
				    run->mmio.data, len);
	else
		address_space_read(vcpu->kvm->mem, run->mmio.phys_addr,
				   run->mmio.data, len);
}

/* Describe an exit that ends the guest: RIP and the bytes there. */
static void describe_failure(struct vcpu *vcpu, const char *what)
{
	struct kvm_run *run = vcpu->run;
	struct kvm_regs regs;
	struct kvm_sregs sregs = { 0 };
	uint8_t insn[15];
	unsigned n = 0, i;
	int len;
	char *p = vcpu->error;
	size_t left = sizeof(vcpu->error);
	uint64_t rip = 0;

	if (!ioctl(vcpu->fd, KVM_GET_REGS, &regs))
		rip = regs.rip;
	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs))
		memset(&sregs, 0, sizeof(sregs));
	else if (!(sregs.cr0 & 1))
		rip += sregs.cs.base;		/* real mode: linear address */
	if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR &&
	    run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION &&
	    (run->emulation_failure.flags &
	     KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES)) {
		n = run->emulation_failure.insn_size;
		if (n > sizeof(insn))
			n = sizeof(insn);
		memcpy(insn, run->emulation_failure.insn_bytes, n);
	} else if (vcpu->kvm->mem && !(sregs.cr0 & (1u << 31))) {
		/* No paging: RIP is a physical address. */
		n = sizeof(insn);
		address_space_read(vcpu->kvm->mem, rip, insn, n);
	}
	len = snprintf(p, left, "vCPU %u: %s at RIP %#llx", vcpu->id, what,
		       (unsigned long long)rip);
	if (len > 0 && (size_t)len < left && n) {
		p += len;
		left -= (size_t)len;
		len = snprintf(p, left, ", instruction bytes:");
		for (i = 0; i < n && len > 0 && (size_t)len < left; i++) {
			p += len;
			left -= (size_t)len;
			len = snprintf(p, left, " %02x", insn[i]);
		}
	}
}

/* Returns VCPU_RUNNING to go on, or why to stop. */
static enum vcpu_stop_reason handle_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	char what[96];

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		handle_io(vcpu);
		return VCPU_RUNNING;
	case KVM_EXIT_MMIO:
		handle_mmio(vcpu);
		return VCPU_RUNNING;
	case KVM_EXIT_INTR:
		WRITE_ONCE(vcpu->exits_other, vcpu->exits_other + 1);
		return VCPU_RUNNING;
	case KVM_EXIT_HLT:
		WRITE_ONCE(vcpu->exits_other, vcpu->exits_other + 1);
		if (vcpu->ops && vcpu->ops->hlt && vcpu->ops->hlt(vcpu))
			return VCPU_RUNNING;
		return VCPU_STOP_HLT;
	case KVM_EXIT_SHUTDOWN:
		return VCPU_STOP_SHUTDOWN;
	case KVM_EXIT_SYSTEM_EVENT:
		return run->system_event.type == KVM_SYSTEM_EVENT_RESET ?
		       VCPU_STOP_SHUTDOWN : VCPU_STOP_POWEROFF;
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(what, sizeof(what),
			 run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ?
			 "KVM emulation failure (suberror %u): the instruction cannot be emulated on this host" :
			 "KVM internal error (suberror %u)",
			 run->internal.suberror);
		describe_failure(vcpu, what);
		return VCPU_STOP_ERROR;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(what, sizeof(what),
			 "VM entry failed (hardware reason %#llx)",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		describe_failure(vcpu, what);
		return VCPU_STOP_ERROR;
	default:
		snprintf(what, sizeof(what), "unexpected KVM exit reason %u",
			 run->exit_reason);
		describe_failure(vcpu, what);
		return VCPU_STOP_ERROR;
	}
}

/*
 * Let KVM finish an I/O or MMIO exit we answered (it writes a read's
 * value into the register and moves RIP on the next KVM_RUN), so that a
 * parked vCPU's state is consistent for KVM_GET/SET_REGS: KVM_RUN with
 * immediate_exit completes the operation and returns EINTR.
 */
static void complete_pending_io(struct vcpu *vcpu)
{
	uint32_t reason = vcpu->run->exit_reason;

	if (reason != KVM_EXIT_IO && reason != KVM_EXIT_MMIO)
		return;
	__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_RELAXED);
	rcu_thread_offline();
	if (ioctl(vcpu->fd, KVM_RUN, 0) == 0)
		pr_warn_once("vCPU %u ran while completing I/O", vcpu->id);
	rcu_thread_online();
	__atomic_store_n(&vcpu->run->immediate_exit, 0, __ATOMIC_RELAXED);
	vcpu->run->exit_reason = KVM_EXIT_INTR;
}

static bool wait_if_paused(struct vcpu *vcpu)
{
	bool stop;

	if (__atomic_load_n(&vcpu->paused, __ATOMIC_ACQUIRE))
		complete_pending_io(vcpu);

	pthread_mutex_lock(&vcpu->lock);
	while (vcpu->paused && !vcpu->stop) {
		vcpu->parked = true;
		pthread_cond_broadcast(&vcpu->cond);
		rcu_thread_offline();
		pthread_cond_wait(&vcpu->cond, &vcpu->lock);
		rcu_thread_online();
	}
	vcpu->parked = false;
	stop = vcpu->stop;
	pthread_mutex_unlock(&vcpu->lock);
	return stop;
}

/*
 * The end of an exit's handling: record the time since KVM_RUN returned
 * (@t0) in the histogram of its kind, if one is being timed.  The stamp
 * comes first, so the recording's own cost is outside.
 */
static inline void exit_done(struct vcpu_stats *st, int *kind, uint64_t t0)
{
	uint64_t t1;

	if (*kind < 0)
		return;
	t1 = vcpu_stats_now(st);
	lat_hist_add(&st->hist[*kind], t1 - t0);
	*kind = -1;
}

/*
 * Each exit is timed from KVM_RUN's return (before going online) to the
 * next KVM_RUN call (after going offline), or to the moment the thread
 * sees it must pause or stop, or leaves the loop (include/flatvm/stats.h
 * says why), so every exit handled is recorded once and a pause is not.
 */
enum vcpu_stop_reason vcpu_run_loop(struct vcpu *vcpu)
{
	/* Ours until vcpu_destroy(), which comes after this thread ends. */
	struct vcpu_stats *st = vcpu->stats;
	enum vcpu_stop_reason r = VCPU_RUNNING;
	int kind = -1;			/* the exit being timed, if any */
	uint64_t t0 = 0;
	int ret;

	while (r == VCPU_RUNNING) {
		if (__atomic_load_n(&vcpu->paused, __ATOMIC_ACQUIRE) ||
		    __atomic_load_n(&vcpu->stop, __ATOMIC_ACQUIRE)) {
			exit_done(st, &kind, t0);
			if (wait_if_paused(vcpu)) {
				r = VCPU_STOP_REQUESTED;
				break;
			}
		}
		rcu_thread_offline();
		exit_done(st, &kind, t0);
		ret = ioctl(vcpu->fd, KVM_RUN, 0);
		t0 = vcpu_stats_now(st);
		rcu_thread_online();
		if (ret < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				__atomic_store_n(&vcpu->run->immediate_exit, 0,
						 __ATOMIC_RELAXED);
				continue;
			}
			snprintf(vcpu->error, sizeof(vcpu->error),
				 "vCPU %u: KVM_RUN failed: %s", vcpu->id,
				 strerror(errno));
			r = VCPU_STOP_ERROR;
			break;
		}
		kind = exit_kind_of(vcpu->run);
		r = handle_exit(vcpu);
	}
	exit_done(st, &kind, t0);	/* the exit that ended the loop */
	vcpu->reason = r;
	return r;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	char name[16];

	snprintf(name, sizeof(name), "vcpu%u", vcpu->id);
	pthread_setname_np(pthread_self(), name);
	rcu_thread_register();
	vcpu_run_loop(vcpu);
	pthread_mutex_lock(&vcpu->lock);
	vcpu->ended = true;
	pthread_cond_broadcast(&vcpu->cond);
	pthread_mutex_unlock(&vcpu->lock);
	if (vcpu->ops && vcpu->ops->stopped)
		vcpu->ops->stopped(vcpu, vcpu->reason);
	rcu_thread_unregister();
	return NULL;
}

int vcpu_start(struct vcpu *vcpu, struct error *err)
{
	sigset_t all, old;
	int ret;

	vcpu->ended = false;
	/* The vCPU thread takes kicks; block the rest so main handles them. */
	sigfillset(&all);
	sigdelset(&all, SIG_VCPU_KICK);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(&vcpu->thread, NULL, vcpu_thread, vcpu);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret)
		return error_setf(err, ret, "cannot start vCPU %u thread: %s",
				  vcpu->id, strerror(ret));
	vcpu->thread_started = true;
	return 0;
}

enum vcpu_stop_reason vcpu_join(struct vcpu *vcpu)
{
	if (vcpu->thread_started) {
		pthread_join(vcpu->thread, NULL);
		vcpu->thread_started = false;
	}
	return vcpu->reason;
}

static void vcpu_kick(struct vcpu *vcpu)
{
	__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_RELAXED);
	if (vcpu->thread_started)
		pthread_kill(vcpu->thread, SIG_VCPU_KICK);
}

void vcpu_stop(struct vcpu *vcpu)
{
	pthread_mutex_lock(&vcpu->lock);
	__atomic_store_n(&vcpu->stop, true, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&vcpu->cond);
	pthread_mutex_unlock(&vcpu->lock);
	vcpu_kick(vcpu);
}

void vcpu_pause(struct vcpu *vcpu)
{
	pthread_mutex_lock(&vcpu->lock);
	__atomic_store_n(&vcpu->paused, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vcpu->lock);
	vcpu_kick(vcpu);
}

void vcpu_pause_wait(struct vcpu *vcpu)
{
	pthread_mutex_lock(&vcpu->lock);
	while (vcpu->thread_started && vcpu->paused && !vcpu->parked &&
	       !vcpu->ended)
		pthread_cond_wait(&vcpu->cond, &vcpu->lock);
	pthread_mutex_unlock(&vcpu->lock);
}

void vcpu_resume(struct vcpu *vcpu)
{
	pthread_mutex_lock(&vcpu->lock);
	__atomic_store_n(&vcpu->paused, false, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&vcpu->cond);
	pthread_mutex_unlock(&vcpu->lock);
}
