// SPDX-License-Identifier: GPL-2.0-only
/*
 * flatvm-bench dispatch: what one in-process MMIO read costs.
 *
 * flatvm:  address_space_read(as, addr, &v, 4): one load of the address
 *          space's RCU-published flat view, a lookup in it, and a call of
 *          the device's read handler; no lock, no reference (rule 6).
 * mutex:   one global mutex around a bisection of a sorted array and the
 *          handler call (kvmtool's scheme), see baseline.c.
 * rwlock:  a writer-preferring rwlock, read-held around a tfind() in a
 *          red-black tree and the handler call.
 *
 * All three call the same trivial handler (it loads one word of its
 * device's state) for the same 4 KiB windows, one per device, at
 * MMIO_BASE + i * REGION_STRIDE: a hole follows every window, and the churn
 * device comes and goes in the hole in the middle.
 *
 * Addresses are pre-generated: each reader thread owns a ring of ADDR_RING
 * addresses drawn with xorshift32 (uniform over all regions, any aligned
 * word of a region) before the clock starts, so the PRNG is not in the
 * measured loop and every dispatcher sees exactly the same sequence.  The
 * 16 KiB ring is read sequentially; its period (4096 accesses, each with
 * several data-dependent branches) is far beyond what a branch predictor
 * learns.
 *
 * A measured run starts its threads together behind a gate, lets them go
 * for --seconds, then raises a stop flag that readers poll every
 * QUIESCENT_EVERY accesses.  Each reader times itself (CLOCK_MONOTONIC)
 * and counts locally; ns/access is the readers' summed time over their
 * summed accesses (elapsed * threads / total), and throughput is the sum
 * of each reader's accesses per second.
 *
 * The churn thread, when there is one, starts a cycle every
 * CHURN_PERIOD_NS: flatvm creates, realizes and maps a device, then
 * unplugs it (two new flat views per cycle; the device finalizes after a
 * grace period, on flatvm's RCU reclaim thread); the baselines insert and
 * remove an entry for it under their writer lock.  A cycle that overruns
 * its slot skips the missed slots rather than bursting to catch up.
 *
 * RCU (STYLE.md rule 9): every thread registers and unregisters.  flatvm
 * readers are online while dispatching and announce a quiescent state
 * every QUIESCENT_EVERY accesses, as a vCPU does between exits; baseline
 * readers read nothing RCU-protected and stay offline.  Everybody is
 * offline while waiting (gate, sleep, join); the main thread waits for
 * every RCU callback with rcu_barrier() before it checks that every object
 * it created has finalized.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "flatvm/compiler.h"
#include "flatvm/device.h"
#include "flatvm/memory.h"
#include "flatvm/rcu.h"

#include "baseline.h"
#include "bench.h"

#define MMIO_BASE		0x10000000ull
#define REGION_SIZE		0x1000ull
#define REGION_STRIDE		0x2000ull	/* window, then a hole */
#define ACCESS_SIZE		4
#define QUIESCENT_EVERY		256
#define ADDR_RING		4096		/* a power of two */
#define CHURN_PERIOD_NS		100000ull
#define CHURN_NAME		"bench-churn"
#define CHURN_VALUE		0xc4c4c4c4u
#define MAX_READERS		2
#define CACHELINE		64

static const unsigned reader_counts[] = { 1, 2 };
static const unsigned region_counts[] = { 8, 64, 1024 };
#define NR_READER_COUNTS	ARRAY_SIZE(reader_counts)
#define NR_REGION_COUNTS	ARRAY_SIZE(region_counts)
#define MAX_REGIONS		1024

enum dispatcher { D_FLATVM, D_MUTEX, D_RWLOCK, NR_DISPATCHERS };

static const char *const dispatcher_names[NR_DISPATCHERS] = {
	[D_FLATVM] = "flatvm",
	[D_MUTEX] = "mutex",
	[D_RWLOCK] = "rwlock",
};

/* ---- The device -------------------------------------------------------- */

/* What the handler reads; the baselines' churn entry has one too. */
struct bench_regs {
	uint32_t value;
};

struct bench_dev {
	struct device dev;
	struct bench_regs regs;
	struct memory_region *mmio;	/* a heap child of the device */
};

static inline struct bench_dev *to_bench_dev(struct device *dev)
{
	return container_of(dev, struct bench_dev, dev);
}

static uint64_t bench_mmio_read(void *opaque, uint64_t addr, unsigned size)
{
	const struct bench_regs *regs = opaque;

	return regs->value ^ (uint32_t)addr;
}

static void bench_mmio_write(void *opaque, uint64_t addr, uint64_t val,
			     unsigned size)
{
}

static const struct memory_region_ops bench_mmio_ops = {
	.read = bench_mmio_read,
	.write = bench_mmio_write,
	.min_access_size = 4,
	.max_access_size = 4,
};

static int bench_dev_realize(struct device *dev, struct error *err)
{
	struct bench_dev *bd = to_bench_dev(dev);

	bd->mmio = memory_region_new_io(&dev->obj, &bench_mmio_ops, &bd->regs,
					"mmio", REGION_SIZE, err);
	if (!bd->mmio)
		return error_is_set(err) ? err->code : -ENOMEM;
	return 0;
}

static const struct device_class bench_dev_class = {
	.obj = {
		.name = "bench-mmio",
		.size = sizeof(struct bench_dev),
		.parent = &device_class.obj,
	},
	.realize = bench_dev_realize,
	.hotpluggable = true,
};

/* Devices created and not finalized yet; zero after the final barrier. */
static long bench_devs_live;

static void bench_dev_finalized(struct device *dev, void *opaque)
{
	__atomic_sub_fetch(&bench_devs_live, 1, __ATOMIC_RELAXED);
}

/*
 * Create device @name, realize it and map its window at @addr in
 * @sysmem.  The caller holds a reference of its own on the result, which
 * bench_dev_unplug() drops.
 */
static struct bench_dev *bench_dev_plug(struct memory_region *sysmem,
					const char *name, uint32_t value,
					uint64_t addr, struct error *err)
{
	struct bench_dev *bd;
	struct object *obj;

	obj = object_new(&bench_dev_class.obj);
	if (!obj) {
		error_setf(err, ENOMEM, "out of memory for device %s", name);
		return NULL;
	}
	bd = to_bench_dev(to_device(obj));
	device_init(&bd->dev);
	bd->regs.value = value;
	__atomic_add_fetch(&bench_devs_live, 1, __ATOMIC_RELAXED);
	device_set_finalized_notifier(&bd->dev, bench_dev_finalized, NULL);

	if (object_add_child(object_root(), name, obj, err))
		goto err_unref;
	if (device_realize(&bd->dev, err))
		goto err_unparent;
	if (memory_region_add_subregion(sysmem, addr, bd->mmio, err))
		goto err_unplug;
	return bd;

err_unplug:
	device_unplug(&bd->dev, NULL);		/* unparents it too */
	object_unref(obj);
	return NULL;
err_unparent:
	object_unparent(obj);
err_unref:
	object_unref(obj);
	return NULL;
}

/* Unplug @bd and drop the reference bench_dev_plug() gave us. */
static int bench_dev_unplug(struct bench_dev *bd, struct error *err)
{
	int ret = device_unplug(&bd->dev, err);

	object_unref(&bd->dev.obj);
	return ret;
}

/* ---- The bench --------------------------------------------------------- */

/**
 * struct figures - one dispatcher's result in one configuration.
 * @accesses: summed over the readers.
 * @elapsed_ns: summed over the readers.
 * @ns_per_access: @elapsed_ns / @accesses.
 * @cpu_ns: the readers' CPU time, summed; below @elapsed_ns when they
 *	were preempted (other load, or more threads than CPUs).
 * @maccesses: millions of accesses per second, summed over the readers.
 * @churn_cycles: churn cycles completed while the readers ran.
 */
struct figures {
	uint64_t accesses;
	uint64_t elapsed_ns;
	uint64_t cpu_ns;
	double ns_per_access;
	double maccesses;
	uint64_t churn_cycles;
};

struct result {
	unsigned threads;
	unsigned regions;
	bool churn;
	struct figures f[NR_DISPATCHERS];
};

struct bench {
	const struct bench_opts *opts;
	long cpus;
	struct memory_region sysmem;
	struct address_space as;
	struct mutex_bus mbus;
	struct rw_bus rbus;
	/* The current region count: devices, bus entries, churn slot. */
	unsigned nr_devs;
	unsigned nr_entries;
	struct bench_dev *devs[MAX_REGIONS];
	struct bench_entry entries[MAX_REGIONS];
	uint64_t churn_addr;
	uint32_t *addrs[MAX_READERS];	/* ADDR_RING each */
	struct result results[NR_READER_COUNTS][NR_REGION_COUNTS][2];
};

static uint64_t region_addr(unsigned i)
{
	return MMIO_BASE + i * REGION_STRIDE;
}

static uint32_t region_value(unsigned i)
{
	return 0x5a000000u | i;
}

static uint32_t xorshift32(uint32_t *state)
{
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *state = x;
}

/* Fill @ring with addresses spread uniformly over @n regions. */
static void addrs_generate(uint32_t *ring, unsigned n, unsigned reader)
{
	uint32_t state = 0x9e3779b9u * (reader + 1), region, off;
	unsigned i;

	for (i = 0; i < ADDR_RING; i++) {
		region = (uint32_t)(((uint64_t)xorshift32(&state) * n) >> 32);
		off = xorshift32(&state) & (REGION_SIZE - ACCESS_SIZE);
		ring[i] = (uint32_t)(region_addr(region) + off);
	}
}

/* One read through dispatcher @d; inlined with @d a constant. */
static __attribute__((always_inline)) inline int
bench_read(struct bench *b, enum dispatcher d, uint64_t addr, uint32_t *v)
{
	switch (d) {
	case D_FLATVM:
		return address_space_read(&b->as, addr, v, ACCESS_SIZE);
	case D_MUTEX:
		return mutex_bus_read(&b->mbus, addr, v, ACCESS_SIZE);
	case D_RWLOCK:
	default:
		return rw_bus_read(&b->rbus, addr, v, ACCESS_SIZE);
	}
}

/* Every dispatcher returns the right word for every region, before timing. */
static int regions_verify(struct bench *b, struct error *err)
{
	static const uint32_t offs[] = { 0, 0x124, REGION_SIZE - ACCESS_SIZE };
	uint32_t v, want;
	unsigned i, j;
	int d, ret;

	for (i = 0; i < b->nr_devs; i++) {
		for (j = 0; j < ARRAY_SIZE(offs); j++) {
			want = region_value(i) ^ offs[j];
			for (d = 0; d < NR_DISPATCHERS; d++) {
				v = 0;
				ret = bench_read(b, d, region_addr(i) + offs[j],
						 &v);
				if (!ret && v == want)
					continue;
				return error_setf(err, EIO,
						  "%s read %#" PRIx64 ": got %d, %#x; expected 0, %#x",
						  dispatcher_names[d],
						  region_addr(i) + offs[j],
						  ret, v, want);
			}
		}
	}
	for (d = 0; d < NR_DISPATCHERS; d++) {
		if (bench_read(b, d, b->churn_addr, &v) == -EFAULT &&
		    v == UINT32_MAX)
			continue;
		return error_setf(err, EIO,
				  "%s read of the free churn slot %#" PRIx64 ": expected unassigned (-EFAULT, all ones)",
				  dispatcher_names[d], b->churn_addr);
	}
	return 0;
}

/* Undo regions_setup(), however far it got. */
static int regions_teardown(struct bench *b, struct error *err)
{
	int ret = 0, r;
	unsigned i;

	for (i = 0; i < b->nr_entries; i++) {
		mutex_bus_del(&b->mbus, b->entries[i].base);
		rw_bus_del(&b->rbus, &b->entries[i]);
	}
	b->nr_entries = 0;
	/* One transaction: one new flat view rather than one per device. */
	memory_region_transaction_begin();
	for (i = 0; i < b->nr_devs; i++) {
		r = bench_dev_unplug(b->devs[i], ret ? NULL : err);
		if (r && !ret)
			ret = r;
	}
	memory_region_transaction_commit();
	b->nr_devs = 0;
	return ret;
}

static int regions_setup(struct bench *b, unsigned n, struct error *err)
{
	struct bench_entry *e;
	char name[32];
	unsigned i;
	int ret = 0;

	/* One transaction: one flat view for all @n devices. */
	memory_region_transaction_begin();
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "bench%u", i);
		b->devs[i] = bench_dev_plug(&b->sysmem, name, region_value(i),
					    region_addr(i), err);
		if (!b->devs[i]) {
			ret = err->code;
			break;
		}
		b->nr_devs++;
	}
	memory_region_transaction_commit();
	if (ret)
		return ret;

	for (i = 0; i < n; i++) {
		e = &b->entries[i];
		*e = (struct bench_entry){
			.base = region_addr(i),
			.last = region_addr(i) + REGION_SIZE - 1,
			.ops = &bench_mmio_ops,
			.opaque = &b->devs[i]->regs,
		};
		ret = mutex_bus_add(&b->mbus, e);
		if (ret)
			return error_setf(err, -ret,
					  "mutex bus: cannot add %#" PRIx64,
					  e->base);
		ret = rw_bus_add(&b->rbus, e);
		if (ret) {
			mutex_bus_del(&b->mbus, e->base);
			return error_setf(err, -ret,
					  "rwlock bus: cannot add %#" PRIx64,
					  e->base);
		}
		b->nr_entries++;
	}
	b->churn_addr = region_addr(n / 2) + REGION_SIZE;
	for (i = 0; i < MAX_READERS; i++)
		addrs_generate(b->addrs[i], n, i);
	return regions_verify(b, err);
}

/* ---- Measured runs ----------------------------------------------------- */

/*
 * The start line.  A pthread barrier would do, except that its count is
 * fixed up front: if a thread fails to start, the ones already waiting
 * could never be released.  Here the main thread opens the gate for
 * however many arrived.
 */
struct start_gate {
	pthread_mutex_t lock;		/* protects @arrived and @open */
	pthread_cond_t cond;
	unsigned arrived;
	bool open;
};

static void gate_wait(struct start_gate *g)
{
	pthread_mutex_lock(&g->lock);
	g->arrived++;
	pthread_cond_broadcast(&g->cond);
	while (!g->open)
		pthread_cond_wait(&g->cond, &g->lock);
	pthread_mutex_unlock(&g->lock);
}

static void gate_open(struct start_gate *g, unsigned expected)
{
	pthread_mutex_lock(&g->lock);
	while (g->arrived < expected)
		pthread_cond_wait(&g->cond, &g->lock);
	g->open = true;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

struct run;

/* Written by its thread, read by main after the join; one line each. */
struct reader {
	struct run *run;
	const uint32_t *addrs;
	pthread_t thread;
	uint64_t accesses;
	uint64_t elapsed_ns;
	uint64_t cpu_ns;
	uint64_t failures;		/* reads that did not return 0 */
	volatile uint32_t sink;		/* keeps the reads' values alive */
} __attribute__((aligned(CACHELINE)));

struct churner {
	struct run *run;
	pthread_t thread;
	uint64_t cycles;
	struct error err;		/* why churning stopped early */
} __attribute__((aligned(CACHELINE)));

struct stop_flag {
	bool stop;
} __attribute__((aligned(CACHELINE)));

struct run {
	struct bench *b;
	enum dispatcher which;
	unsigned nr_readers;
	bool churn;
	struct start_gate gate;
	struct stop_flag stop;		/* read by readers every batch */
	struct reader readers[MAX_READERS];
	struct churner churner;
};

static __attribute__((always_inline)) inline void
reader_loop(struct reader *r, enum dispatcher d)
{
	struct run *run = r->run;
	struct bench *b = run->b;
	const uint32_t *addrs = r->addrs;
	uint64_t n = 0, failures = 0;
	uint32_t v = 0, acc = 0;
	unsigned i, k = 0;
	uint64_t addr;

	do {
		for (i = 0; i < QUIESCENT_EVERY; i++, k++) {
			addr = addrs[k % ADDR_RING];
			if (unlikely(bench_read(b, d, addr, &v)))
				failures++;
			acc += v;
		}
		n += QUIESCENT_EVERY;
		r->sink = acc;
		if (d == D_FLATVM)
			rcu_quiescent();	/* between "exits" */
	} while (!READ_ONCE(run->stop.stop));
	r->accesses = n;
	r->failures = failures;
}

/* Pin the calling thread to @cpu (modulo the CPUs online), unless --no-pin. */
static void pin_self(const struct bench *b, long cpu)
{
	cpu_set_t set;

	if (b->opts->no_pin || b->cpus < 1)
		return;
	CPU_ZERO(&set);
	CPU_SET((int)(cpu % b->cpus), &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	struct run *run = r->run;
	uint64_t t0, cpu0;

	pin_self(run->b, r - run->readers);
	rcu_thread_register();
	rcu_thread_offline();			/* across the wait */
	gate_wait(&run->gate);
	if (run->which == D_FLATVM)
		rcu_thread_online();		/* a reader from here */
	cpu0 = bench_thread_cpu_ns();
	t0 = bench_now_ns();
	/* One loop specialised per dispatcher: no indirect call added. */
	switch (run->which) {
	case D_FLATVM:
		reader_loop(r, D_FLATVM);
		break;
	case D_MUTEX:
		reader_loop(r, D_MUTEX);
		break;
	default:
		reader_loop(r, D_RWLOCK);
		break;
	}
	r->elapsed_ns = bench_now_ns() - t0;
	r->cpu_ns = bench_thread_cpu_ns() - cpu0;
	rcu_thread_unregister();
	return NULL;
}

/* The baselines' churn device: its bus entry and its state. */
struct churn_dev {
	struct bench_entry entry;
	struct bench_regs regs;
};

static struct churn_dev *churn_dev_new(struct bench *b)
{
	struct churn_dev *cd = malloc(sizeof(*cd));

	if (!cd)
		return NULL;
	cd->regs.value = CHURN_VALUE;
	cd->entry = (struct bench_entry){
		.base = b->churn_addr,
		.last = b->churn_addr + REGION_SIZE - 1,
		.ops = &bench_mmio_ops,
		.opaque = &cd->regs,
	};
	return cd;
}

/*
 * One churn cycle.  flatvm: plug (create, realize, map) then unplug, two
 * flat views; the device is freed later, after a grace period.  The
 * baselines: insert then remove under the writer lock; once removed no
 * reader can be in the handler (it runs under the lock), so it is freed
 * at once.
 */
static int churn_cycle(struct churner *c)
{
	struct bench *b = c->run->b;
	struct bench_dev *bd;
	struct churn_dev *cd;
	int ret;

	if (c->run->which == D_FLATVM) {
		rcu_thread_online();
		bd = bench_dev_plug(&b->sysmem, CHURN_NAME, CHURN_VALUE,
				    b->churn_addr, &c->err);
		ret = bd ? bench_dev_unplug(bd, &c->err) : c->err.code;
		rcu_thread_offline();
		return ret;
	}

	cd = churn_dev_new(b);
	if (!cd)
		return error_setf(&c->err, ENOMEM, "out of memory");
	if (c->run->which == D_MUTEX) {
		ret = mutex_bus_add(&b->mbus, &cd->entry);
		if (!ret)
			ret = mutex_bus_del(&b->mbus, cd->entry.base);
	} else {
		ret = rw_bus_add(&b->rbus, &cd->entry);
		if (!ret)
			ret = rw_bus_del(&b->rbus, &cd->entry);
	}
	free(cd);
	if (ret)
		return error_setf(&c->err, -ret,
				  "%s bus: churn entry at %#" PRIx64 " failed",
				  dispatcher_names[c->run->which],
				  b->churn_addr);
	return 0;
}

static void sleep_until(uint64_t deadline_ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(deadline_ns / 1000000000ull),
		.tv_nsec = (long)(deadline_ns % 1000000000ull),
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}

static void *churn_main(void *arg)
{
	struct churner *c = arg;
	uint64_t next, now;

	/* Wake on time: the default 50 us slack is half a period. */
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	pin_self(c->run->b, c->run->b->cpus - 1);
	rcu_thread_register();
	rcu_thread_offline();		/* online only inside a cycle */
	gate_wait(&c->run->gate);
	next = bench_now_ns();
	while (!READ_ONCE(c->run->stop.stop)) {
		if (churn_cycle(c))
			break;
		c->cycles++;
		next += CHURN_PERIOD_NS;
		now = bench_now_ns();
		if (next < now)		/* overran: skip, don't burst */
			next = now + CHURN_PERIOD_NS;
		sleep_until(next);
	}
	rcu_thread_unregister();
	return NULL;
}

static void figures_compute(const struct run *run, struct figures *f)
{
	const struct reader *r;
	unsigned i;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < run->nr_readers; i++) {
		r = &run->readers[i];
		f->accesses += r->accesses;
		f->elapsed_ns += r->elapsed_ns;
		f->cpu_ns += r->cpu_ns;
		if (r->elapsed_ns)
			f->maccesses += r->accesses * 1e3 / r->elapsed_ns;
	}
	if (f->accesses)
		f->ns_per_access = (double)f->elapsed_ns / f->accesses;
	f->churn_cycles = run->churn ? run->churner.cycles : 0;
}

/*
 * Measure dispatcher @d with @nr_readers readers (and a churn thread if
 * @churn) for opts->seconds.  Called online; returns online.
 */
static int run_one(struct bench *b, enum dispatcher d, unsigned nr_readers,
		   bool churn, struct figures *f, struct error *err)
{
	struct run run = {
		.b = b,
		.which = d,
		.nr_readers = nr_readers,
		.churn = churn,
		.gate = {
			.lock = PTHREAD_MUTEX_INITIALIZER,
			.cond = PTHREAD_COND_INITIALIZER,
		},
	};
	unsigned i, started, readers = 0;
	bool churning = false;
	uint64_t failures = 0;
	int ret = 0;

	rcu_thread_offline();		/* we only wait from here on */
	for (i = 0; i < nr_readers; i++) {
		run.readers[i].run = &run;
		run.readers[i].addrs = b->addrs[i];
		ret = pthread_create(&run.readers[i].thread, NULL, reader_main,
				     &run.readers[i]);
		if (ret)
			break;
		readers++;
	}
	if (!ret && churn) {
		run.churner.run = &run;
		ret = pthread_create(&run.churner.thread, NULL, churn_main,
				     &run.churner);
		churning = !ret;
	}
	started = readers + churning;
	if (ret)
		WRITE_ONCE(run.stop.stop, true);	/* release at once */
	gate_open(&run.gate, started);
	if (!ret) {
		sleep_until(bench_now_ns() +
			    (uint64_t)(b->opts->seconds * 1e9));
		WRITE_ONCE(run.stop.stop, true);
	}
	for (i = 0; i < readers; i++) {
		pthread_join(run.readers[i].thread, NULL);
		failures += run.readers[i].failures;
	}
	if (churning)
		pthread_join(run.churner.thread, NULL);
	rcu_thread_online();
	pthread_cond_destroy(&run.gate.cond);
	pthread_mutex_destroy(&run.gate.lock);

	if (ret)
		return error_setf(err, ret, "cannot start a bench thread: %s",
				  strerror(ret));
	if (error_is_set(&run.churner.err)) {
		*err = run.churner.err;
		error_prepend(err, "%s churn: ", dispatcher_names[d]);
		return err->code;
	}
	if (failures)
		return error_setf(err, EIO,
				  "%s: %" PRIu64 " reads of mapped regions failed",
				  dispatcher_names[d], failures);
	figures_compute(&run, f);
	return 0;
}

/* ---- Targets ----------------------------------------------------------- */

#define TARGET_NS_1T		15.0
#define TARGET_SCALING		1.8
#define TARGET_CHURN_COST	0.10

struct targets {
	double ns_1t;				/* (1) */
	bool ns_1t_pass;
	double tput_1t, tput_2t, scaling;	/* (2) */
	bool scaling_pass;
	double churn_cost[NR_READER_COUNTS];	/* (3) */
	bool churn_pass;
	bool oversubscribed;
	unsigned ahead, compared;		/* (4) */
	double closest_margin;
	const struct result *closest;
	enum dispatcher closest_d;
	bool ahead_pass;
};

static unsigned region_index(unsigned n)
{
	unsigned i;

	for (i = 0; i < NR_REGION_COUNTS; i++)
		if (region_counts[i] == n)
			break;
	return i;
}

static void targets_compute(struct bench *b, struct targets *t)
{
	unsigned r64 = region_index(64), ti, ri, ci;
	const struct result *res;
	double margin, ns;
	int d;

	memset(t, 0, sizeof(*t));
	t->ns_1t = b->results[0][r64][0].f[D_FLATVM].ns_per_access;
	t->ns_1t_pass = t->ns_1t <= TARGET_NS_1T;

	t->tput_1t = b->results[0][r64][0].f[D_FLATVM].maccesses;
	t->tput_2t = b->results[1][r64][0].f[D_FLATVM].maccesses;
	t->scaling = t->tput_1t ? t->tput_2t / t->tput_1t : 0;
	t->scaling_pass = t->scaling >= TARGET_SCALING;

	t->churn_pass = true;
	for (ti = 0; ti < NR_READER_COUNTS; ti++) {
		double quiet = b->results[ti][r64][0].f[D_FLATVM].ns_per_access;
		double busy = b->results[ti][r64][1].f[D_FLATVM].ns_per_access;

		t->churn_cost[ti] = quiet ? busy / quiet - 1 : 0;
		if (t->churn_cost[ti] >= TARGET_CHURN_COST)
			t->churn_pass = false;
	}
	/* Readers + churn + the RCU reclaim thread, against the CPUs. */
	t->oversubscribed = reader_counts[NR_READER_COUNTS - 1] + 2 > b->cpus;

	t->closest_margin = 0;
	for (ri = 0; ri < NR_REGION_COUNTS; ri++) {
		for (ci = 0; ci < 2; ci++) {
			res = &b->results[NR_READER_COUNTS - 1][ri][ci];
			ns = res->f[D_FLATVM].ns_per_access;
			t->compared++;
			if (ns < res->f[D_MUTEX].ns_per_access &&
			    ns < res->f[D_RWLOCK].ns_per_access)
				t->ahead++;
			for (d = D_MUTEX; d < NR_DISPATCHERS; d++) {
				margin = ns ? res->f[d].ns_per_access / ns : 0;
				if (!t->closest || margin < t->closest_margin) {
					t->closest = res;
					t->closest_d = d;
					t->closest_margin = margin;
				}
			}
		}
	}
	t->ahead_pass = t->compared && t->ahead == t->compared;
}

/* ---- Output ------------------------------------------------------------ */

static const char *pass(bool ok)
{
	return ok ? "PASS" : "MISS";
}

/* Readers on a CPU less than this share of the time were preempted. */
#define ON_CPU_SHARE	0.9

static bool preempted(const struct figures *f)
{
	return f->cpu_ns < ON_CPU_SHARE * f->elapsed_ns;
}

static void print_table(struct bench *b, const struct targets *t)
{
	const struct result *res;
	const struct figures *f;
	unsigned ti, ri, ci;
	bool marked = false;
	int d;

	printf("threads regions churn   flatvm ns   mutex ns  rwlock ns   flatvm Macc/s   churn cycles flatvm/mutex/rwlock\n");
	for (ti = 0; ti < NR_READER_COUNTS; ti++) {
		for (ri = 0; ri < NR_REGION_COUNTS; ri++) {
			for (ci = 0; ci < 2; ci++) {
				res = &b->results[ti][ri][ci];
				f = res->f;
				printf("%7u %7u %5s ", res->threads,
				       res->regions, res->churn ? "yes" : "no");
				for (d = 0; d < NR_DISPATCHERS; d++) {
					printf(" %9.2f%c", f[d].ns_per_access,
					       preempted(&f[d]) ? '*' : ' ');
					marked |= preempted(&f[d]);
				}
				printf(" %14.1f   ", f[D_FLATVM].maccesses);
				if (res->churn)
					printf("%" PRIu64 "/%" PRIu64 "/%" PRIu64 "\n",
					       f[D_FLATVM].churn_cycles,
					       f[D_MUTEX].churn_cycles,
					       f[D_RWLOCK].churn_cycles);
				else
					printf("-\n");
			}
		}
	}
	printf("churn: one cycle every %llu us, nominally %.0f per configuration\n",
	       CHURN_PERIOD_NS / 1000,
	       b->opts->seconds * 1e9 / CHURN_PERIOD_NS);
	if (marked)
		printf("*: the readers were on a CPU less than %.0f%% of the time (other load, or more threads than CPUs)\n",
		       ON_CPU_SHARE * 100);

	printf("\ntargets:\n");
	printf("  (1) flatvm <= %.0f ns/access, 1 thread, 64 regions, no churn: %s (%.2f ns)\n",
	       TARGET_NS_1T, pass(t->ns_1t_pass), t->ns_1t);
	printf("  (2) 2 threads >= %.1fx 1-thread throughput, 64 regions, no churn: %s (%.2fx: %.1f vs %.1f Macc/s)\n",
	       TARGET_SCALING, pass(t->scaling_pass), t->scaling, t->tput_2t,
	       t->tput_1t);
	printf("  (3) churn costs flatvm readers < %.0f%%, 64 regions: %s (1 thread %+.1f%%, 2 threads %+.1f%%)\n",
	       TARGET_CHURN_COST * 100, pass(t->churn_pass),
	       t->churn_cost[0] * 100, t->churn_cost[1] * 100);
	if (t->oversubscribed)
		printf("      note: with churn, 2 readers + the churn thread + the RCU reclaim thread share %ld CPUs: oversubscribed\n",
		       b->cpus);
	printf("  (4) flatvm ahead of both baselines at 2 threads: %s (%u/%u configurations",
	       pass(t->ahead_pass), t->ahead, t->compared);
	if (t->closest)
		printf("; closest: %s %.2fx flatvm's ns/access at %u regions%s",
		       dispatcher_names[t->closest_d], t->closest_margin,
		       t->closest->regions,
		       t->closest->churn ? ", churn" : "");
	printf(")\n");
}

static void print_json_figures(const struct figures *f)
{
	printf("{\"ns_per_access\": %.4f, \"maccesses_per_s\": %.4f, \"accesses\": %" PRIu64 ", \"elapsed_ns\": %" PRIu64 ", \"cpu_ns\": %" PRIu64 ", \"churn_cycles\": %" PRIu64 "}",
	       f->ns_per_access, f->maccesses, f->accesses, f->elapsed_ns,
	       f->cpu_ns, f->churn_cycles);
}

static void print_json(struct bench *b, const struct targets *t)
{
	const struct result *res;
	unsigned ti, ri, ci;
	bool first = true;
	int d;

	printf("{\n");
	printf("  \"mode\": \"dispatch\",\n");
	printf("  \"seconds_per_config\": %.4f,\n", b->opts->seconds);
	printf("  \"quick\": %s,\n", b->opts->quick ? "true" : "false");
	printf("  \"pinned\": %s,\n", b->opts->no_pin ? "false" : "true");
	printf("  \"cpus\": %ld,\n", b->cpus);
	printf("  \"access_size\": %d,\n", ACCESS_SIZE);
	printf("  \"addresses\": \"pregenerated\",\n");
	printf("  \"address_ring\": %d,\n", ADDR_RING);
	printf("  \"quiescent_every\": %d,\n", QUIESCENT_EVERY);
	printf("  \"churn_period_ns\": %llu,\n", CHURN_PERIOD_NS);
	printf("  \"configs\": [");
	for (ti = 0; ti < NR_READER_COUNTS; ti++) {
		for (ri = 0; ri < NR_REGION_COUNTS; ri++) {
			for (ci = 0; ci < 2; ci++) {
				res = &b->results[ti][ri][ci];
				printf("%s\n    {\"threads\": %u, \"regions\": %u, \"churn\": %s",
				       first ? "" : ",", res->threads,
				       res->regions,
				       res->churn ? "true" : "false");
				for (d = 0; d < NR_DISPATCHERS; d++) {
					printf(", \"%s\": ", dispatcher_names[d]);
					print_json_figures(&res->f[d]);
				}
				printf("}");
				first = false;
			}
		}
	}
	printf("\n  ],\n");
	printf("  \"targets\": {\n");
	printf("    \"flatvm_ns_1t_64r\": {\"limit\": %.1f, \"value\": %.4f, \"pass\": %s},\n",
	       TARGET_NS_1T, t->ns_1t, t->ns_1t_pass ? "true" : "false");
	printf("    \"scaling_2t_64r\": {\"limit\": %.2f, \"value\": %.4f, \"maccesses_1t\": %.4f, \"maccesses_2t\": %.4f, \"pass\": %s},\n",
	       TARGET_SCALING, t->scaling, t->tput_1t, t->tput_2t,
	       t->scaling_pass ? "true" : "false");
	printf("    \"churn_cost_64r\": {\"limit\": %.2f, \"cost_1t\": %.4f, \"cost_2t\": %.4f, \"oversubscribed\": %s, \"pass\": %s},\n",
	       TARGET_CHURN_COST, t->churn_cost[0], t->churn_cost[1],
	       t->oversubscribed ? "true" : "false",
	       t->churn_pass ? "true" : "false");
	printf("    \"ahead_of_baselines_2t\": {\"ahead\": %u, \"compared\": %u, \"closest_margin\": %.4f, \"pass\": %s}\n",
	       t->ahead, t->compared, t->closest_margin,
	       t->ahead_pass ? "true" : "false");
	printf("  }\n}\n");
}

/* ---- The mode ---------------------------------------------------------- */

/* Every configuration of @n regions, dispatchers interleaved per config. */
static int measure_regions(struct bench *b, unsigned ri, struct error *err)
{
	unsigned ti, ci;
	struct result *res;
	int d, ret;

	for (ti = 0; ti < NR_READER_COUNTS; ti++) {
		for (ci = 0; ci < 2; ci++) {
			res = &b->results[ti][ri][ci];
			res->threads = reader_counts[ti];
			res->regions = region_counts[ri];
			res->churn = ci;
			for (d = 0; d < NR_DISPATCHERS; d++) {
				ret = run_one(b, d, res->threads, res->churn,
					      &res->f[d], err);
				if (ret)
					return ret;
			}
		}
	}
	return 0;
}

static int bench_run(struct bench *b, struct error *err)
{
	unsigned ri;
	int ret, r;

	for (ri = 0; ri < NR_REGION_COUNTS; ri++) {
		ret = regions_setup(b, region_counts[ri], err);
		if (!ret)
			ret = measure_regions(b, ri, err);
		r = regions_teardown(b, ret ? NULL : err);
		if (ret || r)
			return ret ? ret : r;
	}
	return 0;
}

static void bench_free(struct bench *b)
{
	unsigned i;

	address_space_destroy(&b->as);
	memory_region_unref(&b->sysmem);
	rw_bus_destroy(&b->rbus);
	mutex_bus_destroy(&b->mbus);
	for (i = 0; i < MAX_READERS; i++)
		free(b->addrs[i]);
	free(b);
}

/* The address space, the buses and the address rings; NULL on failure. */
static struct bench *bench_new(const struct bench_opts *opts,
			       struct error *err)
{
	struct bench *b;
	unsigned i;
	int ret;

	b = calloc(1, sizeof(*b));
	if (!b)
		goto err_oom;
	b->opts = opts;
	b->cpus = sysconf(_SC_NPROCESSORS_ONLN);
	for (i = 0; i < MAX_READERS; i++) {
		b->addrs[i] = calloc(ADDR_RING, sizeof(*b->addrs[i]));
		if (!b->addrs[i])
			goto err_free;
	}
	if (mutex_bus_init(&b->mbus, MAX_REGIONS + 1))
		goto err_free;
	ret = rw_bus_init(&b->rbus);
	if (ret) {
		error_setf(err, -ret, "cannot create the rwlock bus");
		goto err_mutex_bus;
	}
	if (memory_region_init(&b->sysmem, NULL, "system", UINT64_MAX, err))
		goto err_rw_bus;
	if (address_space_init(&b->as, &b->sysmem, "memory", err))
		goto err_sysmem;
	return b;

err_sysmem:
	memory_region_unref(&b->sysmem);
err_rw_bus:
	rw_bus_destroy(&b->rbus);
err_mutex_bus:
	mutex_bus_destroy(&b->mbus);
err_free:
	for (i = 0; i < MAX_READERS; i++)
		free(b->addrs[i]);
	free(b);
err_oom:
	if (!error_is_set(err))
		error_setf(err, ENOMEM, "out of memory");
	return NULL;
}

int bench_dispatch(const struct bench_opts *opts)
{
	struct object_stats before, after;
	struct error err = { 0 };
	struct targets t;
	struct bench *b;
	int ret;

	rcu_thread_register();
	object_get_stats(&before);
	b = bench_new(opts, &err);
	if (b) {
		if (!opts->json) {
			printf("flatvm-bench dispatch: %.2f s per configuration, %ld CPUs online, %d-byte reads\n",
			       opts->seconds, b->cpus, ACCESS_SIZE);
			printf("addresses pre-generated per reader (%d-entry xorshift32 ring, same for every dispatcher); flatvm readers announce a quiescent state every %d reads\n",
			       ADDR_RING, QUIESCENT_EVERY);
			printf("%s\n\n", opts->no_pin ?
			       "threads placed by the scheduler (--no-pin)" :
			       "reader i pinned to CPU i, the churn thread to the last CPU (--no-pin to disable)");
			fflush(stdout);
		}
		ret = bench_run(b, &err);
		if (!ret) {
			targets_compute(b, &t);
			if (opts->json)
				print_json(b, &t);
			else
				print_table(b, &t);
		}
		bench_free(b);
	} else {
		ret = err.code;
	}
	/* Let every RCU callback run, so every device has finalized. */
	rcu_thread_offline();
	rcu_barrier();
	object_get_stats(&after);
	rcu_thread_unregister();

	if (ret) {
		fprintf(stderr, "flatvm-bench: dispatch: %s\n", err.msg);
		return BENCH_EXIT_FAILED;
	}
	if (bench_devs_live || after.live_objects != before.live_objects ||
	    after.live_allocations != before.live_allocations) {
		fprintf(stderr,
			"flatvm-bench: dispatch: leak after teardown: %ld devices not finalized, %ld objects and %ld allocations more than at start\n",
			bench_devs_live,
			after.live_objects - before.live_objects,
			after.live_allocations - before.live_allocations);
		return BENCH_EXIT_FAILED;
	}
	return BENCH_EXIT_OK;
}
