// SPDX-License-Identifier: GPL-2.0-only
/*
 * The probe guest: a measuring instrument rather than a test.  It times
 * round trips of one kind of access to a device register, on one vCPU
 * or on several at once, touches RAM on request, keeps reading device
 * registers (poll=, for the hotplug benchmark's busy guest), or does
 * nothing and stops (a minimal guest, for start-up times).  Its command
 * line, results blocks and output lines are described in probe.h;
 * flatvm-bench (tools/bench/) runs it.
 *
 * Polled and interrupt-free like every guest here; APs come up through
 * lib/smp.c.  It prints its banner first, so a host reading COM1 sees
 * the guest running, and does not mirror its output to TESTDEV_LOG:
 * nothing but the measured accesses and the console should cost exits.
 * Only the BSP prints.
 */
#include "flatvm/layout.h"
#include "flatvm/testdev-regs.h"

#include "lib/boot.h"
#include "lib/cmdline.h"
#include "lib/console.h"
#include "lib/io.h"
#include "lib/libc.h"
#include "lib/smp.h"
#include "lib/testdev.h"
#include "lib/virtio.h"
#include "probe.h"

_Static_assert(PROBE_MAX_CPUS <= SMP_MAX_CPUS, "lib/smp.h starts the APs");

#define PAGE		4096u
#define MIB		(1u << 20)

/* The lowest address reg= and virtio= accept: the 32-bit MMIO hole. */
#define MMIO_LOW	0xc0000000u

/* Bounded waits (at tsc_khz()'s rate, a high guess if unknown). */
#define AP_START_MS	1000	/* for an AP to reach C after its SIPIs */
#define AP_GO_MS	30000	/* for an AP to see the start flag */
#define AP_FINISH_MS	2000	/* for the APs, on top of twice the BSP's run */

/* hist: buckets 0..7, then 4 per power of two up to 2^31. */
#define HIST_SLOTS	(8 + 29 * 4)

static const char *const kind_words[PROBE_NR_KINDS] = {
	[PROBE_NONE] = "none",
	[PROBE_PIO_READ] = "pio-read",
	[PROBE_PIO_WRITE] = "pio-write",
	[PROBE_MMIO_READ] = "mmio-read",
	[PROBE_MMIO_WRITE] = "mmio-write",
	[PROBE_IOEVENTFD] = "ioeventfd",
};

/*
 * What every CPU does, set by the BSP before it starts any AP (the APs
 * read it only after they see the start flag).
 */
struct probe_cfg {
	unsigned kind, width, ncpus;
	uint32_t count, nempty, value;
	uint32_t target[PROBE_MAX_CPUS];
	bool hist;
};

static struct probe_cfg cfg;

enum { GO_WAIT, GO_RUN, GO_ABORT };
static volatile uint32_t go;
static volatile uint32_t finished[PROBE_MAX_CPUS];
/* Large, so in .data rather than .bss (see __image_zeroed). */
static uint32_t hist[PROBE_MAX_CPUS][2][HIST_SLOTS] __image_zeroed;

static struct probe_results *block(unsigned cpu)
{
	return phys_ptr(PROBE_BLOCK_ADDR(cpu));
}

static uint32_t *block_array(unsigned cpu, uint32_t offset)
{
	return phys_ptr(PROBE_BLOCK_ADDR(cpu) + offset);
}

/* ---- The timed windows --------------------------------------------------- */

/*
 * One timed window around one access instruction:
 *
 *	lfence; rdtsc; lfence; mov %eax, t0; [SETUP;] ACCESS;
 *	lfence; rdtsc; lfence
 *
 * The first LFENCE waits for everything before it to complete, the one
 * after each RDTSC keeps what follows from starting before the counter
 * is read.  ACCESS is a single instruction with its operands in
 * registers (the address or port and the value are loop invariants held
 * in registers other than EAX and EDX, which RDTSC overwrites).  Port
 * I/O can only use DX for the port and AL/AX/EAX for the data, so
 * SETUP moves the port into EDX (and, for writes, the value into EAX).
 * The empty window of a kind is the same window without ACCESS (SETUP
 * kept), so the host subtracts exactly the timer and the moves.  Only
 * the low 32 bits are kept: a window over 2^32 ticks (more than a
 * second) would wrap.
 */
#define W_OPEN		"lfence; rdtsc; lfence; mov %%eax, %[t0]\n\t"
#define W_CLOSE		"\n\tlfence; rdtsc; lfence"
#define W_OUT		[t0] "=&r"(t0), "=&a"(t1), "=&d"(hi)
#define W_IN		[reg] "r"(reg), [val] "q"(val)
#define W_PORT		"mov %[reg], %%edx\n\t"
#define W_PORT_VAL	"mov %[reg], %%edx\n\tmov %[val], %%eax\n\t"

#define WINDOW(setup, insn)						\
	do {								\
		if (access)						\
			__asm__ volatile(W_OPEN setup insn W_CLOSE	\
					 : W_OUT : W_IN : "memory");	\
		else							\
			__asm__ volatile(W_OPEN setup W_CLOSE		\
					 : W_OUT : W_IN : "memory");	\
	} while (0)

/* Ticks of one window; its opening stamp's low word in *@stamp. */
static inline __attribute__((always_inline)) uint32_t
window(unsigned kind, unsigned width, bool access, uint32_t reg,
       uint32_t val, uint32_t *stamp)
{
	uint32_t t0, t1, hi;

	switch (kind * 8 + width) {
	case PROBE_PIO_READ * 8 + 1:
		WINDOW(W_PORT, "inb %%dx, %%al");
		break;
	case PROBE_PIO_READ * 8 + 2:
		WINDOW(W_PORT, "inw %%dx, %%ax");
		break;
	case PROBE_PIO_READ * 8 + 4:
		WINDOW(W_PORT, "inl %%dx, %%eax");
		break;
	case PROBE_PIO_WRITE * 8 + 1:
		WINDOW(W_PORT_VAL, "outb %%al, %%dx");
		break;
	case PROBE_PIO_WRITE * 8 + 2:
		WINDOW(W_PORT_VAL, "outw %%ax, %%dx");
		break;
	case PROBE_PIO_WRITE * 8 + 4:
		WINDOW(W_PORT_VAL, "outl %%eax, %%dx");
		break;
	case PROBE_MMIO_READ * 8 + 1:
		WINDOW("", "movb (%[reg]), %%al");
		break;
	case PROBE_MMIO_READ * 8 + 2:
		WINDOW("", "movw (%[reg]), %%ax");
		break;
	case PROBE_MMIO_READ * 8 + 4:
		WINDOW("", "movl (%[reg]), %%eax");
		break;
	case PROBE_MMIO_WRITE * 8 + 1:
	case PROBE_IOEVENTFD * 8 + 1:
		WINDOW("", "movb %b[val], (%[reg])");
		break;
	case PROBE_MMIO_WRITE * 8 + 2:
	case PROBE_IOEVENTFD * 8 + 2:
		WINDOW("", "movw %w[val], (%[reg])");
		break;
	case PROBE_MMIO_WRITE * 8 + 4:
	case PROBE_IOEVENTFD * 8 + 4:
		WINDOW("", "movl %[val], (%[reg])");
		break;
	default:	/* PROBE_NONE: the window with nothing in it */
		WINDOW("", "");
		break;
	}
	(void)hi;
	*stamp = t0;
	return t1 - t0;
}

static inline uint64_t tsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc; lfence"
			 : "=a"(lo), "=d"(hi) : : "memory");
	return (uint64_t)hi << 32 | lo;
}

/*
 * @n windows of @kind and @width into @samples and their stamps into
 * @stamps; returns the whole loop's ticks, bookkeeping included, and its
 * start in *@start.  @kind and @width are constants wherever this is
 * inlined, so no switch runs between windows.
 */
static inline __attribute__((always_inline)) uint64_t
time_loop(unsigned kind, unsigned width, uint32_t reg, uint32_t val,
	  uint32_t n, uint32_t *samples, uint32_t *stamps, uint64_t *start)
{
	uint64_t t = tsc();
	uint32_t i, t0;

	for (i = 0; i < n; i++) {
		samples[i] = window(kind, width, true, reg, val, &t0);
		stamps[i] = t0;
	}
	*start = t;
	return tsc() - t;
}

#define LOOP(k, w)							\
	case (k) * 8 + (w):						\
		return time_loop((k), (w), reg, val, n, samples, stamps, start)

static uint64_t time_windows(unsigned kind, unsigned width, uint32_t reg,
			     uint32_t val, uint32_t n, uint32_t *samples,
			     uint32_t *stamps, uint64_t *start)
{
	switch (kind * 8 + width) {
	LOOP(PROBE_PIO_READ, 1);
	LOOP(PROBE_PIO_READ, 2);
	LOOP(PROBE_PIO_READ, 4);
	LOOP(PROBE_PIO_WRITE, 1);
	LOOP(PROBE_PIO_WRITE, 2);
	LOOP(PROBE_PIO_WRITE, 4);
	LOOP(PROBE_MMIO_READ, 1);
	LOOP(PROBE_MMIO_READ, 2);
	LOOP(PROBE_MMIO_READ, 4);
	LOOP(PROBE_MMIO_WRITE, 1);
	LOOP(PROBE_MMIO_WRITE, 2);
	LOOP(PROBE_MMIO_WRITE, 4);
	LOOP(PROBE_IOEVENTFD, 1);
	LOOP(PROBE_IOEVENTFD, 2);
	LOOP(PROBE_IOEVENTFD, 4);
	}
	return time_loop(PROBE_NONE, 4, reg, val, n, samples, stamps, start);
}

/* @n empty windows of @kind (its setup, no access) into @empty. */
static inline __attribute__((always_inline)) void
empty_loop(unsigned kind, uint32_t reg, uint32_t val, uint32_t n,
	   uint32_t *empty)
{
	uint32_t i, t0;

	for (i = 0; i < n; i++)
		empty[i] = window(kind, 4, false, reg, val, &t0);
}

static void empty_windows(unsigned kind, uint32_t reg, uint32_t val,
			  uint32_t n, uint32_t *empty)
{
	switch (kind) {
	case PROBE_PIO_READ:
		empty_loop(PROBE_PIO_READ, reg, val, n, empty);
		return;
	case PROBE_PIO_WRITE:
		empty_loop(PROBE_PIO_WRITE, reg, val, n, empty);
		return;
	}
	empty_loop(PROBE_NONE, reg, val, n, empty);
}

/* ---- Histograms -------------------------------------------------------- */

/* The slot of @v's bucket: 0..7, then 8 + 4 * (e - 3) + sub. */
static unsigned hist_slot(uint32_t v)
{
	unsigned e;

	if (v < 8)
		return v;
	e = 31u - (unsigned)__builtin_clz(v);
	return 8 + 4 * (e - 3) + ((v >> (e - 2)) & 3u);
}

/* A slot's lower bound: probe_hist_bucket() of every value in it. */
static uint32_t hist_lower(unsigned slot)
{
	unsigned e;

	if (slot < 8)
		return slot;
	e = 3 + ((slot - 8) >> 2);
	return (4u + ((slot - 8) & 3u)) << (e - 2);
}

static void hist_fill(uint32_t *h, const uint32_t *v, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		h[hist_slot(v[i])]++;
}

/* "probe: cpu=I hist=WHAT L:C ...", PROBE_HIST_PER_LINE pairs a line. */
static void hist_print(unsigned cpu, const char *what, const uint32_t *h)
{
	unsigned i, n = 0;

	for (i = 0; i < HIST_SLOTS; i++) {
		if (!h[i])
			continue;
		if (!(n % PROBE_HIST_PER_LINE))
			printf("%sprobe: cpu=%u hist=%s", n ? "\n" : "", cpu,
			       what);
		printf(" %u:%u", hist_lower(i), h[i]);
		n++;
	}
	if (!n)
		printf("probe: cpu=%u hist=%s", cpu, what);
	printf("\n");
}

static void hist_report(unsigned cpu)
{
	const struct probe_results *r = block(cpu);

	printf("probe: cpu=%u kind=%s width=%u target=0x%x count=%u loop=%llu\n",
	       cpu, kind_words[r->kind], r->width, r->target, r->count,
	       (unsigned long long)r->loop_ticks);
	hist_print(cpu, "samples", hist[cpu][0]);
	hist_print(cpu, "empty", hist[cpu][1]);
	printf("probe: cpu=%u end\n", cpu);
}

/* ---- Per CPU ----------------------------------------------------------- */

/* Before anything runs: CPU @cpu's block, incomplete (magic 0). */
static void block_init(unsigned cpu, uint32_t kind)
{
	struct probe_results *res = block(cpu);

	res->magic = 0;
	barrier();
	*res = (struct probe_results){
		.version = PROBE_VERSION,
		.kind = kind,
		.cpu = cpu,
		.ncpus = cfg.ncpus,
		.target = cfg.target[cpu],
		.width = cfg.width,
	};
}

static void block_finish(unsigned cpu, uint32_t status)
{
	struct probe_results *res = block(cpu);

	res->status = status;
	mb();
	res->magic = PROBE_MAGIC;
	mb();
}

/* The measurement itself, on CPU @cpu (every CPU runs the same). */
static void cpu_measure(unsigned cpu)
{
	struct probe_results *res = block(cpu);
	uint32_t *empty = block_array(cpu, PROBE_EMPTY_OFFSET);
	uint32_t *samples = block_array(cpu, PROBE_SAMPLES_OFFSET);
	uint32_t *stamps = block_array(cpu, PROBE_STAMPS_OFFSET);
	uint32_t reg = cfg.target[cpu];
	uint64_t start = 0;

	if (!cfg.count)
		return;
	res->nempty = cfg.nempty;
	empty_windows(cfg.kind, reg, cfg.value, cfg.nempty, empty);
	res->loop_ticks = time_windows(cfg.kind, cfg.width, reg, cfg.value,
				       cfg.count, samples, stamps, &start);
	res->start_tsc = start;
	res->count = cfg.count;
	if (cfg.hist) {
		hist_fill(hist[cpu][0], samples, cfg.count);
		hist_fill(hist[cpu][1], empty, cfg.nempty);
	}
}

/* An AP's life after lib/smp.c brought it to C: wait, measure, halt. */
static void ap_main(unsigned cpu)
{
	struct tsc_wait w;

	if (cpu >= PROBE_MAX_CPUS)
		return;
	tsc_wait_start(&w, AP_GO_MS);
	while (go == GO_WAIT)
		if (tsc_wait_over(&w))
			return;
	if (go != GO_RUN || cpu >= cfg.ncpus)
		return;
	cpu_measure(cpu);
	block_finish(cpu, PROBE_OK);
	finished[cpu] = 1;
	mb();
}

/* ---- Options ----------------------------------------------------------- */

/* Stop the VM with @status, whichever VMM runs us (probe.h). */
static __attribute__((noreturn)) void probe_exit(uint32_t status)
{
	testdev_exit(status);
	outl(PROBE_EXIT_PORT, status);	/* QEMU's isa-debug-exit */
	cpu_halt_forever();
}

static int parse_kind(void)
{
	const char *v;
	size_t len;
	unsigned k;

	v = opt_find("kind", &len);
	if (!v)
		return PROBE_NONE;
	for (k = 0; k < PROBE_NR_KINDS; k++)
		if (len == strlen(kind_words[k]) &&
		    !strncmp(v, kind_words[k], len))
			return (int)k;
	return -1;
}

/*
 * @key=N[,N...] (decimal or 0x hex, each below 2^32) into @out: how
 * many (0 if @key is absent), or -1 if malformed or more than @max.
 */
static int parse_list(const char *key, uint32_t *out, unsigned max)
{
	size_t len, i = 0, n_len;
	const char *v = opt_find(key, &len);
	unsigned n = 0;
	uint64_t a;

	if (!v)
		return 0;
	if (!len)
		return -1;
	while (i < len) {
		if (n == max)
			return -1;
		for (n_len = 0; i + n_len < len && v[i + n_len] != ','; n_len++)
			;
		if (!parse_uint(v + i, n_len, &a) || a > 0xffffffffu)
			return -1;
		out[n++] = (uint32_t)a;
		i += n_len + 1;	/* the comma */
	}
	return (int)n;
}

/* An MMIO address: in [MMIO_LOW, 4 GiB), @len bytes, aligned to @align. */
static bool mmio_ok(uint32_t a, uint32_t len, uint32_t align)
{
	return a >= MMIO_LOW && !(a & (align - 1)) &&
	       (uint64_t)a + len <= LAYOUT_MMIO_HOLE_END;
}

/*
 * poll=A[,A...]: the addresses into @addr; how many (0 without poll=), or
 * -1 if one is malformed, unaligned or outside the MMIO hole.
 */
static int parse_poll(uint32_t addr[PROBE_MAX_POLL])
{
	int n = parse_list("poll", addr, PROBE_MAX_POLL), i;

	for (i = 0; i < n; i++)
		if (addr[i] < LAYOUT_MMIO_HOLE_START || !mmio_ok(addr[i], 4, 4))
			return -1;
	return n;
}

/* An optional number @key into *@v (unchanged if absent); false if bad. */
static bool opt_number(const char *key, uint64_t *v)
{
	return !opt_present(key) || opt_uint_get(key, v);
}

static bool is_pio(unsigned kind)
{
	return kind == PROBE_PIO_READ || kind == PROBE_PIO_WRITE;
}

static uint32_t default_target(unsigned kind)
{
	if (is_pio(kind))
		return LAYOUT_PORT_TESTDEV + TESTDEV_SCRATCH;
	if (kind == PROBE_IOEVENTFD)
		return LAYOUT_TESTDEV_MMIO + TESTDEV_NOTIFY;
	return LAYOUT_TESTDEV_MMIO + TESTDEV_SCRATCH;
}

/*
 * cpus=, width=, value=, reg= and hist into cfg (kind and count are
 * there already).  On a bad word: print what is expected, return false.
 */
static bool parse_cfg(void)
{
	uint64_t cpus = 1, width = 4, value = 0;
	uint32_t reg[PROBE_MAX_CPUS];
	int nreg, i;

	if (!opt_number("cpus", &cpus) || cpus < 1 || cpus > PROBE_MAX_CPUS) {
		printf("probe: expected cpus=1..%u\n", PROBE_MAX_CPUS);
		return false;
	}
	cfg.ncpus = (unsigned)cpus;
	if (!opt_number("width", &width) ||
	    (width != 1 && width != 2 && width != 4)) {
		printf("probe: expected width=1|2|4 (bytes per access)\n");
		return false;
	}
	cfg.width = (unsigned)width;
	if (!opt_number("value", &value) ||
	    value >> (8 * width)) {
		printf("probe: expected value=V (decimal or 0x hex) that fits a %u-byte access\n",
		       cfg.width);
		return false;
	}
	cfg.value = (uint32_t)value;
	nreg = parse_list("reg", reg, PROBE_MAX_CPUS);
	if (nreg < 0) {
		printf("probe: expected reg=A[,A...]: at most %u numbers, decimal or 0x hex\n",
		       PROBE_MAX_CPUS);
		return false;
	}
	for (i = 0; i < nreg; i++) {
		if (is_pio(cfg.kind) && reg[i] + cfg.width > 0x10000) {
			printf("probe: reg=0x%x: kind=%s needs a port, at most 0x%x for width=%u\n",
			       reg[i], kind_words[cfg.kind],
			       0x10000 - cfg.width, cfg.width);
			return false;
		}
		if (!is_pio(cfg.kind) && cfg.kind != PROBE_NONE &&
		    !mmio_ok(reg[i], cfg.width, cfg.width)) {
			printf("probe: reg=0x%x: kind=%s needs a guest-physical address in [0x%x, 4 GiB) aligned to width=%u\n",
			       reg[i], kind_words[cfg.kind], MMIO_LOW,
			       cfg.width);
			return false;
		}
	}
	for (i = 0; i < (int)PROBE_MAX_CPUS; i++)
		cfg.target[i] = nreg ? reg[i % nreg] :
				cfg.kind == PROBE_NONE ? 0 :
				default_target(cfg.kind);
	cfg.hist = opt_present("hist");
	return true;
}

/* ---- virtio= ------------------------------------------------------------ */

static struct virtio_dev virtio_devs[PROBE_MAX_VIRTIO] __image_zeroed;

/* Each transport in virtio= to DRIVER_OK; a status, having said why. */
static uint32_t virtio_bring_up(const uint32_t *addr, unsigned n)
{
	struct virtio_dev *d;
	const char *err;
	unsigned i;

	for (i = 0; i < n; i++) {
		d = &virtio_devs[i];
		if (!virtio_probe(d, addr[i])) {
			printf("probe: virtio=0x%x: no virtio-mmio transport there (MagicValue 0x%08x, expected 0x%08x)\n",
			       addr[i], d->magic, VIRTIO_MMIO_MAGIC);
			return PROBE_ERR_DEVICE;
		}
		if (d->version == 1) {
			printf("probe: virtio=0x%x: a legacy (version 1) virtio-mmio transport; the probe drives only modern ones (version 2; QEMU: -global virtio-mmio.force-legacy=false)\n",
			       addr[i]);
			return PROBE_ERR_DEVICE;
		}
		if (d->device_id == VIRTIO_ID_NONE) {
			printf("probe: virtio=0x%x: an empty transport (DeviceID 0): no device there\n",
			       addr[i]);
			return PROBE_ERR_DEVICE;
		}
		err = virtio_init(d, 0);
		if (err) {
			printf("probe: virtio=0x%x: device %u (%s): %s\n",
			       addr[i], d->device_id,
			       virtio_id_name(d->device_id), err);
			return PROBE_ERR_DEVICE;
		}
		printf(PROBE_VIRTIO_LINE " 0x%x device=%u (%s) ready\n",
		       addr[i], d->device_id, virtio_id_name(d->device_id));
	}
	return PROBE_OK;
}

/* ---- The BSP ------------------------------------------------------------ */

/* Poll-read every @addr in turn, for good: the host stops the VM. */
static __attribute__((noreturn)) void poll_forever(const uint32_t *addr,
						   unsigned n)
{
	unsigned i;

	for (;;)
		for (i = 0; i < n; i++)
			(void)mmio_read32(addr[i]);
}

static uint32_t touch(uint32_t mib)
{
	uint32_t addr, end = PROBE_TOUCH_ADDR + mib * MIB;

	for (addr = PROBE_TOUCH_ADDR; addr < end; addr += PAGE)
		*(volatile uint32_t *)phys_ptr(addr) = addr;
	return end - PROBE_TOUCH_ADDR;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* Blocks 1..ncpus-1 in RAM, and clear of touch=; a status. */
static uint32_t check_memory(const struct boot_info *bi, uint64_t mib)
{
	unsigned cpu;

	for (cpu = 1; cpu < cfg.ncpus; cpu++) {
		if (boot_map_find(bi, PROBE_BLOCK_ADDR(cpu), PROBE_BLOCK_SIZE,
				  E820_RAM))
			continue;
		printf("probe: no RAM for cpu %u's results block at 0x%x: cpus=%u needs at least %u MiB\n",
		       cpu, PROBE_BLOCK_ADDR(cpu), cfg.ncpus,
		       PROBE_RAM_FOR(cfg.ncpus) / MIB + 1);
		return PROBE_ERR_MEMORY;
	}
	if (!mib)
		return PROBE_OK;
	for (cpu = 0; cpu < cfg.ncpus; cpu++) {
		if (!overlaps(PROBE_TOUCH_ADDR, mib * MIB,
			      PROBE_BLOCK_ADDR(cpu), PROBE_BLOCK_SIZE))
			continue;
		printf("probe: touch=%llu: [0x%x, +%llu MiB) overlaps cpu %u's results block at 0x%x; use touch= with cpus=1\n",
		       (unsigned long long)mib, PROBE_TOUCH_ADDR,
		       (unsigned long long)mib, cpu, PROBE_BLOCK_ADDR(cpu));
		return PROBE_ERR_OPTION;
	}
	if (mib > 3072 || !boot_map_find(bi, PROBE_TOUCH_ADDR, mib * MIB,
					 E820_RAM)) {
		printf("probe: touch=%llu: [0x%x, +%llu MiB) is not all RAM\n",
		       (unsigned long long)mib, PROBE_TOUCH_ADDR,
		       (unsigned long long)mib);
		return PROBE_ERR_MEMORY;
	}
	return PROBE_OK;
}

/*
 * Start APs 1..ncpus-1, one after the other; a status.  On failure the
 * APs that did start are told to give up, and the blocks of those that
 * did not are finished with PROBE_ERR_SMP.
 */
static uint32_t start_aps(const struct boot_info *bi)
{
	const char *err;
	unsigned cpu, i;

	if (cfg.ncpus == 1)
		return PROBE_OK;
	err = smp_init(bi, ap_main, !opt_present("apic-off"));
	if (err) {
		printf("probe: cpus=%u: cannot start APs: %s\n", cfg.ncpus,
		       err);
		goto fail;
	}
	for (cpu = 1; cpu < cfg.ncpus; cpu++) {
		err = smp_start_ap(cpu, AP_START_MS);
		if (err) {
			printf("probe: cpu=%u (APIC ID %u) did not start: %s; does the VM have %u vCPUs, and do SIPIs reach them here?\n",
			       cpu, cpu, err, cfg.ncpus);
			goto fail;
		}
	}
	printf("probe: %u APs up (trampoline at 0x%x)\n", cfg.ncpus - 1,
	       smp_trampoline());
	return PROBE_OK;
fail:
	go = GO_ABORT;
	mb();
	for (i = 1; i < cfg.ncpus; i++)
		if (!smp_ap_alive(i))
			block_finish(i, PROBE_ERR_SMP);
	return PROBE_ERR_SMP;
}

/* Wait (bounded by @ticks) for every AP to finish; a status. */
static uint32_t wait_aps(uint64_t ticks)
{
	struct tsc_wait w;
	uint32_t status = PROBE_OK;
	unsigned cpu;

	tsc_wait_start_ticks(&w, ticks);
	for (cpu = 1; cpu < cfg.ncpus; cpu++) {
		while (!finished[cpu] && !tsc_wait_over(&w))
			;
		if (finished[cpu])
			continue;
		printf("probe: cpu=%u did not finish within %llu ticks of the BSP's own finish; its block stays incomplete\n",
		       cpu, (unsigned long long)ticks);
		status = PROBE_ERR_SMP;
	}
	mb();
	return status;
}

void guest_main(const struct boot_info *bi)
{
	struct probe_results *res = block(0);
	uint64_t count = 0, mib = 0, t;
	uint32_t status = PROBE_OK, poll_addr[PROBE_MAX_POLL];
	uint32_t virtio_addr[PROBE_MAX_VIRTIO];
	int kind = parse_kind(), npoll = parse_poll(poll_addr), nvirtio, i;
	unsigned cpu;
	bool count_ok = opt_number("count", &count);
	bool touch_ok = opt_number("touch", &mib);

	console_mirror_testdev(false);
	printf("probe: kind=%s count=%llu touch=%llu\n",
	       kind < 0 ? "?" : kind_words[kind], (unsigned long long)count,
	       (unsigned long long)mib);
	if (!boot_map_find(bi, PROBE_RESULTS_ADDR, PROBE_MIN_RAM -
			   PROBE_RESULTS_ADDR, E820_RAM)) {
		printf("probe: no RAM for the results block at 0x%x: the VM needs at least %u MiB\n",
		       PROBE_RESULTS_ADDR, PROBE_MIN_RAM / MIB + 1);
		probe_exit(PROBE_ERR_MEMORY);
	}
	cfg.kind = kind < 0 ? PROBE_NONE : (unsigned)kind;
	cfg.ncpus = 1;
	cfg.width = 4;
	cfg.target[0] = default_target(cfg.kind);
	block_init(0, cfg.kind);

	if (kind < 0 || !count_ok || count > PROBE_MAX_SAMPLES) {
		printf("probe: expected kind=none|pio-read|pio-write|mmio-read|mmio-write|ioeventfd and count=0..%u\n",
		       PROBE_MAX_SAMPLES);
		status = PROBE_ERR_OPTION;
		goto out;
	}
	if (!touch_ok) {
		printf("probe: expected touch=M (MiB, decimal or 0x hex)\n");
		status = PROBE_ERR_OPTION;
		goto out;
	}
	if (npoll < 0) {
		printf("probe: expected poll=ADDR[,ADDR...]: at most %u 4-byte aligned addresses in [0x%llx, 0x%llx)\n",
		       PROBE_MAX_POLL,
		       (unsigned long long)LAYOUT_MMIO_HOLE_START,
		       (unsigned long long)LAYOUT_MMIO_HOLE_END);
		status = PROBE_ERR_OPTION;
		goto out;
	}
	nvirtio = parse_list("virtio", virtio_addr, PROBE_MAX_VIRTIO);
	for (i = 0; i < nvirtio; i++)
		if (!mmio_ok(virtio_addr[i], 0x100, 4))
			nvirtio = -1;
	if (nvirtio < 0) {
		printf("probe: expected virtio=ADDR[,ADDR...]: at most %u 4-byte aligned virtio-mmio transport addresses in [0x%x, 4 GiB)\n",
		       PROBE_MAX_VIRTIO, MMIO_LOW);
		status = PROBE_ERR_OPTION;
		goto out;
	}
	cfg.count = (uint32_t)count;
	cfg.nempty = (uint32_t)MIN(count, PROBE_MAX_EMPTY);
	if (!parse_cfg()) {
		status = PROBE_ERR_OPTION;
		goto out;
	}
	block_init(0, cfg.kind);
	if (cfg.ncpus > 1 || opt_present("reg") || opt_present("width") ||
	    opt_present("value")) {
		printf("probe: cpus=%u width=%u value=0x%x reg=", cfg.ncpus,
		       cfg.width, cfg.value);
		for (cpu = 0; cpu < cfg.ncpus; cpu++)
			printf("%s0x%x", cpu ? "," : "", cfg.target[cpu]);
		printf("\n");
	}
	status = check_memory(bi, mib);
	if (status)
		goto out;
	status = virtio_bring_up(virtio_addr, (unsigned)nvirtio);
	if (status)
		goto out;

	for (cpu = 1; cpu < cfg.ncpus; cpu++)
		block_init(cpu, cfg.kind);
	status = start_aps(bi);
	if (status)
		goto out;
	mb();
	go = GO_RUN;
	mb();
	t = tsc();
	cpu_measure(0);
	t = tsc() - t;
	status = wait_aps(2 * t + (uint64_t)AP_FINISH_MS * tsc_khz(NULL));

	if (mib)
		res->touched = touch((uint32_t)mib);
out:
	block_finish(0, status);
	if (res->count)
		printf("probe: %u accesses in %llu ticks\n", res->count,
		       (unsigned long long)res->loop_ticks);
	if (cfg.hist && go == GO_RUN)
		for (cpu = 0; cpu < cfg.ncpus; cpu++)
			if (!cpu || finished[cpu])
				hist_report(cpu);
	if (status == PROBE_OK && npoll > 0) {
		printf(PROBE_POLL_LINE " %d addresses:", npoll);
		for (i = 0; i < npoll; i++)
			printf(" 0x%x", poll_addr[i]);
		printf("\n");
		poll_forever(poll_addr, (unsigned)npoll);
	}
	if (status == PROBE_OK && opt_present("spin")) {
		printf(PROBE_READY_LINE " touched=%llu MiB\n",
		       (unsigned long long)(res->touched >> 20));
		/*
		 * Stay up without costing exits or a host CPU: halted with
		 * interrupts off.  A VMM with an in-kernel irqchip keeps the
		 * HLT in KVM until it stops the vCPU itself.
		 */
		cpu_halt_forever();
	}
	probe_exit(status);
}
