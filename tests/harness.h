/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared libcheck scaffolding.
 *
 * libcheck forks each test: liburcu must never be touched in main() or in
 * an unchecked fixture.  The checked fixture below registers the test's
 * thread as a QSBR reader; its teardown goes offline, waits for every
 * queued RCU callback (so finalizers have run) and unregisters.
 */
#ifndef FLATVM_TESTS_HARNESS_H
#define FLATVM_TESTS_HARNESS_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "flatvm/object.h"
#include "flatvm/rcu.h"

static inline void rcu_fixture_setup(void)
{
	rcu_thread_register();
}

static inline void rcu_fixture_teardown(void)
{
	rcu_thread_offline();
	rcu_barrier();
	rcu_thread_unregister();
}

/*
 * Let the grace period pass and the call_rcu callbacks run, from an
 * online test thread: go offline, barrier, come back online.
 */
static inline void rcu_flush(void)
{
	rcu_thread_offline();
	rcu_barrier();
	rcu_thread_online();
}

static inline long live_objects(void)
{
	struct object_stats st;

	object_get_stats(&st);
	return st.live_objects;
}

static inline long live_allocations(void)
{
	struct object_stats st;

	object_get_stats(&st);
	return st.live_allocations;
}

/* A TCase with the RCU fixture and a time limit. */
static inline TCase *rcu_tcase(const char *name, double timeout)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, rcu_fixture_setup, rcu_fixture_teardown);
	tcase_set_timeout(tc, timeout);
	return tc;
}

/*
 * Each test file defines one suite constructor and a main() through this
 * macro; ctest runs one executable per file.
 */
#define CHECK_MAIN(suite_fn)						\
	int main(void)							\
	{								\
		SRunner *sr = srunner_create(suite_fn());		\
		int failed;						\
									\
		srunner_run_all(sr, CK_NORMAL);				\
		failed = srunner_ntests_failed(sr);			\
		srunner_free(sr);					\
		return failed ? EXIT_FAILURE : EXIT_SUCCESS;		\
	}

/*
 * The same, for suites that need something of the host (/dev/kvm):
 * @req_fn(why, len) says whether it is there; if not, the reason is
 * printed and the test exits 77, which ctest reports as skipped.
 */
#define CHECK_MAIN_REQUIRES(req_fn, suite_fn)				\
	int main(void)							\
	{								\
		char why[256] = "";					\
		SRunner *sr;						\
		int failed;						\
									\
		if (!req_fn(why, sizeof(why))) {			\
			printf("SKIP: %s\n", why);			\
			return 77;					\
		}							\
		sr = srunner_create(suite_fn());			\
		srunner_run_all(sr, CK_NORMAL);				\
		failed = srunner_ntests_failed(sr);			\
		srunner_free(sr);					\
		return failed ? EXIT_FAILURE : EXIT_SUCCESS;		\
	}

#endif /* FLATVM_TESTS_HARNESS_H */
