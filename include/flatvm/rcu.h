/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * flatvm's one door to liburcu.  We use the QSBR flavour: readers pay
 * nothing at lock/unlock and instead announce quiescent states.
 *
 * Discipline (STYLE.md rule 9):
 *  - every thread that reads RCU-protected data registers first and
 *    unregisters before it exits;
 *  - a registered thread is "online" (inside a read-side critical section)
 *    unless it said otherwise: vCPU threads go offline across KVM_RUN and
 *    every thread goes offline across blocking calls;
 *  - long-running readers call rcu_quiescent() between units of work;
 *  - nobody waits for a grace period (rcu_synchronize, rcu_barrier) while
 *    online: it would wait for itself.
 *
 * The pointer helpers are C11 atomics rather than liburcu's macros so that
 * ThreadSanitizer understands publication, and under ThreadSanitizer the
 * grace period is modelled as release (quiescent state) / acquire
 * (reclamation) on one clock, which liburcu's uninstrumented internals
 * cannot tell it.
 */
#ifndef FLATVM_RCU_H
#define FLATVM_RCU_H

#include <urcu/urcu-qsbr.h>

#if defined(__SANITIZE_THREAD__)
#define FLATVM_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define FLATVM_TSAN 1
#endif
#endif

#ifdef FLATVM_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
extern char rcu_tsan_clock;
#define rcu_tsan_release()	__tsan_release(&rcu_tsan_clock)
#define rcu_tsan_acquire()	__tsan_acquire(&rcu_tsan_clock)
#else
#define rcu_tsan_release()	do { } while (0)
#define rcu_tsan_acquire()	do { } while (0)
#endif

/* Publish @v at @p: everything written to *v before is visible to readers. */
#define rcu_store(p, v)		__atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
/* Read an RCU-protected pointer once, into a local. */
#define rcu_load(p)		__atomic_load_n(&(p), __ATOMIC_ACQUIRE)

static inline void rcu_thread_register(void)
{
	urcu_qsbr_register_thread();
}

static inline void rcu_thread_unregister(void)
{
	rcu_tsan_release();
	urcu_qsbr_unregister_thread();
}

static inline void rcu_thread_offline(void)
{
	rcu_tsan_release();
	urcu_qsbr_thread_offline();
}

static inline void rcu_thread_online(void)
{
	urcu_qsbr_thread_online();
}

/* The calling reader holds no RCU-protected pointer any more. */
static inline void rcu_quiescent(void)
{
	rcu_tsan_release();
	urcu_qsbr_quiescent_state();
}

/* Wait for a grace period.  Must be called offline or unregistered. */
static inline void rcu_synchronize(void)
{
	urcu_qsbr_synchronize_rcu();
	rcu_tsan_acquire();
}

/*
 * Run @fn after a grace period, on flatvm's reclaim thread (core/rcu.c).
 * Every callback starts with rcu_reclaim_begin() and ends with
 * rcu_reclaim_end(), so that ThreadSanitizer sees the grace period before
 * it and rcu_barrier() after it.  Callbacks may call rcu_call() again,
 * never rcu_barrier().
 *
 * Not liburcu's call_rcu: its worker sleeps 10 ms before every batch,
 * which puts a floor under every unplug (DEVICE_DELETED) and every exit.
 * Ours waits on a condition variable and starts a grace period as soon
 * as there is work; callbacks queued meanwhile form the next batch.
 */
void rcu_call(struct rcu_head *head, void (*fn)(struct rcu_head *head));

static inline void rcu_reclaim_begin(void)
{
	rcu_tsan_acquire();
}

static inline void rcu_reclaim_end(void)
{
	rcu_tsan_release();
}

/* Wait until every rcu_call() queued so far has run.  Offline only. */
void rcu_barrier(void);

#endif /* FLATVM_RCU_H */
