// SPDX-License-Identifier: GPL-2.0-only
/*
 * Deferred reclamation: rcu_call() and rcu_barrier() on a thread of our
 * own (see include/flatvm/rcu.h for why not liburcu's call_rcu), and,
 * under ThreadSanitizer, the clock on which quiescent states release and
 * reclamation acquires.
 *
 * The reclaim thread is a registered QSBR thread, offline except while
 * it runs callbacks.  It takes the whole queue, waits for one grace
 * period, runs the batch, and goes again without sleeping.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "flatvm/error.h"
#include "flatvm/rcu.h"

#ifdef FLATVM_TSAN
char rcu_tsan_clock;
#endif

/* The queue, linked through head->next.next; protected by lock. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work = PTHREAD_COND_INITIALIZER;
static pthread_cond_t progress = PTHREAD_COND_INITIALIZER;
static struct rcu_head *first, *last;
static unsigned long queued, done;	/* callbacks ever queued, ever run */
static pthread_once_t once = PTHREAD_ONCE_INIT;

#define NEXT(h)	((struct rcu_head *)(h)->next.next)

static void *reclaim_thread(void *arg)
{
	struct rcu_head *batch, *h, *next;
	unsigned long n;

	rcu_thread_register();
	rcu_thread_offline();
	for (;;) {
		pthread_mutex_lock(&lock);
		while (!first)
			pthread_cond_wait(&work, &lock);
		batch = first;
		first = last = NULL;
		n = queued - done;
		pthread_mutex_unlock(&lock);

		urcu_qsbr_synchronize_rcu();	/* offline: not waiting on us */

		rcu_thread_online();
		for (h = batch; h; h = next) {
			next = NEXT(h);		/* the callback frees h */
			h->func(h);
		}
		rcu_thread_offline();

		pthread_mutex_lock(&lock);
		done += n;
		pthread_cond_broadcast(&progress);
		pthread_mutex_unlock(&lock);
	}
	return NULL;
}

static void reclaim_start(void)
{
	pthread_attr_t attr;
	pthread_t tid;
	sigset_t all, old;

	/* Signals are for the threads that want them, not for this one. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&tid, &attr, reclaim_thread, NULL)) {
		/* Nothing can be reclaimed safely without it. */
		fprintf(stderr, "flatvm: cannot start the RCU reclaim thread\n");
		abort();
	}
	pthread_setname_np(tid, "rcu-reclaim");
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void rcu_call(struct rcu_head *head, void (*fn)(struct rcu_head *head))
{
	pthread_once(&once, reclaim_start);
	head->func = fn;
	head->next.next = NULL;
	pthread_mutex_lock(&lock);
	if (last)
		last->next.next = &head->next;
	else
		first = head;
	last = head;
	queued++;
	pthread_cond_signal(&work);
	pthread_mutex_unlock(&lock);
}

void rcu_barrier(void)
{
	unsigned long target;

	pthread_mutex_lock(&lock);
	target = queued;
	while (done < target)
		pthread_cond_wait(&progress, &lock);
	pthread_mutex_unlock(&lock);
	rcu_tsan_acquire();
}
