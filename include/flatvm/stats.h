/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vCPU exit statistics: how long flatvm spends in user space on each exit
 * a vCPU takes, as a log-linear histogram per kind of exit (port read,
 * port write, MMIO read, MMIO write, the rest), with count, sum and max.
 *
 * The timed interval runs from KVM_RUN's return to the next KVM_RUN call
 * (vmm/vcpu.c, vcpu_run_loop()): everything flatvm does on the vCPU
 * thread for the exit (QSBR online and offline, the dispatch through the
 * flat view, the device's handler), which is what the guest waits for on
 * top of KVM's own round trip.  When the vCPU is to pause or stop, the
 * interval ends where it sees that, so a pause is never counted and
 * every exit handled is recorded exactly once.
 *
 * Values are clock ticks: the TSC when it is invariant and KVM tells its
 * rate (KVM_GET_TSC_KHZ of the vCPU: flatvm never scales a guest's TSC,
 * so that is the host's rate), else CLOCK_MONOTONIC nanoseconds.  Ticks
 * become nanoseconds only when the statistics are read.
 *
 * Cheap enough to leave on: each vCPU has histograms of its own, written
 * only by its thread with relaxed stores (no read-modify-write on shared
 * lines, no lock); readers load them relaxed, under a per-histogram
 * sequence count that gives them a consistent snapshot (count, sum, max
 * and buckets of the same moment).
 */
#ifndef FLATVM_STATS_H
#define FLATVM_STATS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "flatvm/compiler.h"

enum exit_kind {
	EXIT_KIND_PIO_READ,
	EXIT_KIND_PIO_WRITE,
	EXIT_KIND_MMIO_READ,
	EXIT_KIND_MMIO_WRITE,
	EXIT_KIND_OTHER,	/* HLT, an interrupted KVM_RUN, ... */
	EXIT_KINDS,
};

/*
 * Buckets: values 0..LAT_SUB-1 exactly, then LAT_SUB buckets per power
 * of two (each at most 1/LAT_SUB of its lower bound wide, so a quantile
 * is known to within 25%), up to 2^LAT_MAX_BITS ticks (7 minutes at
 * 2.6 GHz); longer values share the last bucket.
 */
#define LAT_SUB_BITS	2
#define LAT_SUB		(1u << LAT_SUB_BITS)
#define LAT_MAX_BITS	40
#define LAT_BUCKETS	(LAT_SUB * (LAT_MAX_BITS - LAT_SUB_BITS + 1))

/* One kind's histogram.  Written by the owning vCPU thread only. */
struct lat_hist {
	uint64_t seq;		/* odd while the owner updates */
	uint64_t count;
	uint64_t sum;		/* ticks */
	uint64_t max;		/* ticks */
	uint64_t buckets[LAT_BUCKETS];
};

/* A vCPU's; its own cache-line pairs, away from its neighbours'. */
struct vcpu_stats {
	uint32_t tsc_khz;	/* ticks per ms; 0: the clock is ns */
	struct lat_hist hist[EXIT_KINDS];
} __attribute__((aligned(128)));

/* The bucket of @v ticks. */
static inline unsigned lat_bucket(uint64_t v)
{
	unsigned e;

	if (v < LAT_SUB)
		return (unsigned)v;
	e = 63u - (unsigned)__builtin_clzll(v);		/* 2^e <= v */
	if (e >= LAT_MAX_BITS)
		return LAT_BUCKETS - 1;
	return LAT_SUB * (e - LAT_SUB_BITS + 1) +
	       (unsigned)((v >> (e - LAT_SUB_BITS)) & (LAT_SUB - 1));
}

/* The least value of bucket @b (the next bucket's is its end). */
static inline uint64_t lat_bucket_lower(unsigned b)
{
	unsigned e = b / LAT_SUB + LAT_SUB_BITS - 1;

	if (b < LAT_SUB)
		return b;
	return (uint64_t)(LAT_SUB + b % LAT_SUB) << (e - LAT_SUB_BITS);
}

/*
 * Record @v ticks.  Only from the thread that owns @h: plain
 * read-then-store increments, made atomic (relaxed) so readers on other
 * threads may load them; the sequence count around them tells a reader
 * to try again.  The stores in between are releases, so a reader that
 * sees one of them sees the odd count before it (no fence needed; each
 * is a plain move on x86).
 */
static inline void lat_hist_add(struct lat_hist *h, uint64_t v)
{
	unsigned b = lat_bucket(v);
	uint64_t seq = READ_ONCE(h->seq);

	WRITE_ONCE(h->seq, seq + 1);
	__atomic_store_n(&h->count, READ_ONCE(h->count) + 1, __ATOMIC_RELEASE);
	__atomic_store_n(&h->sum, READ_ONCE(h->sum) + v, __ATOMIC_RELEASE);
	if (v > READ_ONCE(h->max))
		__atomic_store_n(&h->max, v, __ATOMIC_RELEASE);
	__atomic_store_n(&h->buckets[b], READ_ONCE(h->buckets[b]) + 1,
			 __ATOMIC_RELEASE);
	__atomic_store_n(&h->seq, seq + 2, __ATOMIC_RELEASE);
}

/**
 * lat_hist_read() - a consistent copy of @h, from any thread, while its
 * owner goes on recording (it retries while an update is in progress).
 */
void lat_hist_read(const struct lat_hist *h, struct lat_hist *out);

/**
 * lat_hist_quantile() - estimate the @q quantile (0 < @q <= 1) of a
 * snapshot, in ticks: the value of rank ceil(@q * count), interpolated
 * linearly inside its bucket (whose end is taken as the maximum when
 * the maximum lies in it).  Ordered in @q; 0 when @h is empty.
 */
double lat_hist_quantile(const struct lat_hist *h, double q);

/* @ticks of a vCPU's clock in nanoseconds. */
static inline double vcpu_stats_ns(const struct vcpu_stats *st, double ticks)
{
	return st->tsc_khz ? ticks * 1e6 / st->tsc_khz : ticks;
}

const char *exit_kind_name(enum exit_kind k);

/**
 * vcpu_stats_json() - the "dispatch" member of a vCPU in query-stats
 * (Documentation/control.md): {"unit": "ns", "clock", "tsc-khz", and per
 * kind {"count", "sum-ns", "max-ns", "p50-ns", "p90-ns", "p99-ns",
 * "buckets": [[lower-ns, count], ...]}}.  Any thread.
 */
json_t *vcpu_stats_json(const struct vcpu_stats *st);

#endif /* FLATVM_STATS_H */
