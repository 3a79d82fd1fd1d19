/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef FLATVM_COMPILER_H
#define FLATVM_COMPILER_H

#include <stddef.h>

#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#ifndef container_of
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#endif

#define __printf(a, b)	__attribute__((format(printf, a, b)))
#define __noreturn	__attribute__((noreturn))
#define __must_check	__attribute__((warn_unused_result))

/*
 * Relaxed loads and stores of shared words.  They compile to plain moves on
 * x86, but ThreadSanitizer sees them as atomic, so counters written by one
 * thread and summed by another are not reported as races.
 */
#define READ_ONCE(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

#endif /* FLATVM_COMPILER_H */
