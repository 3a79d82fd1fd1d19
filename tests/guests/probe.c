// SPDX-License-Identifier: GPL-2.0-only
/*
 * The probe guest: a measuring instrument rather than a test.  It times
 * round trips of one kind of access to the test device, touches RAM on
 * request, keeps reading device registers (poll=, for the hotplug
 * benchmark's busy guest), or does nothing and stops (a minimal guest,
 * for start-up times).  Its command line and results block are described
 * in probe.h;
 * flatvm-bench (tools/bench/) runs it.
 *
 * Polled and interrupt-free like every guest here.  It prints its banner
 * first, so a host reading COM1 sees the guest running, and does not
 * mirror its output to TESTDEV_LOG: nothing but the measured accesses
 * and the console should cost exits.
 */
#include "flatvm/layout.h"
#include "flatvm/testdev-regs.h"

#include "lib/boot.h"
#include "lib/cmdline.h"
#include "lib/console.h"
#include "lib/io.h"
#include "lib/libc.h"
#include "lib/testdev.h"
#include "probe.h"

_Static_assert(sizeof(struct probe_results) == 40, "probe.h layout");
_Static_assert(__builtin_offsetof(struct probe_results, loop_ticks) == 24,
	       "probe.h layout");

#define PAGE		4096u
#define MIB		(1u << 20)

static const char *const kind_words[PROBE_NR_KINDS] = {
	[PROBE_NONE] = "none",
	[PROBE_PIO_READ] = "pio-read",
	[PROBE_PIO_WRITE] = "pio-write",
	[PROBE_MMIO_READ] = "mmio-read",
	[PROBE_MMIO_WRITE] = "mmio-write",
	[PROBE_IOEVENTFD] = "ioeventfd",
};

/*
 * One timed window around one access instruction:
 *
 *	lfence; rdtsc; lfence; mov %eax, t0; ACCESS; lfence; rdtsc; lfence
 *
 * The first LFENCE waits for everything before it to complete, the one
 * after each RDTSC keeps what follows from starting before the counter
 * is read.  ACCESS is a single instruction with its operands already in
 * place (writes send the low TSC word that is in EAX anyway), so the
 * window holds the access and the same few instructions every time; the
 * empty window (no ACCESS) measures those, and the host subtracts it.
 * Only the low 32 bits are kept: a window over 2^32 ticks (more than a
 * second) would wrap.
 */
#define WINDOW_OPEN	"lfence; rdtsc; lfence; mov %%eax, %[t0]\n\t"
#define WINDOW_CLOSE	"\n\tlfence; rdtsc; lfence"
#define WINDOW_OUT	[t0] "=&r"(t0), "=&a"(t1), "=&d"(hi)

static inline uint32_t window(unsigned kind)
{
	volatile uint32_t *scratch =
		phys_ptr(LAYOUT_TESTDEV_MMIO + TESTDEV_SCRATCH);
	volatile uint32_t *notify =
		phys_ptr(LAYOUT_TESTDEV_MMIO + TESTDEV_NOTIFY);
	uint32_t t0, t1, hi;

	switch (kind) {
	case PROBE_PIO_READ:
		__asm__ volatile(WINDOW_OPEN "inl %[port], %%eax" WINDOW_CLOSE
				 : WINDOW_OUT
				 : [port] "N"(LAYOUT_PORT_TESTDEV +
					      TESTDEV_SCRATCH)
				 : "memory");
		break;
	case PROBE_PIO_WRITE:
		__asm__ volatile(WINDOW_OPEN "outl %%eax, %[port]" WINDOW_CLOSE
				 : WINDOW_OUT
				 : [port] "N"(LAYOUT_PORT_TESTDEV +
					      TESTDEV_SCRATCH)
				 : "memory");
		break;
	case PROBE_MMIO_READ:
		__asm__ volatile(WINDOW_OPEN "movl %[reg], %%eax" WINDOW_CLOSE
				 : WINDOW_OUT
				 : [reg] "m"(*scratch)
				 : "memory");
		break;
	case PROBE_MMIO_WRITE:
		__asm__ volatile(WINDOW_OPEN "movl %%eax, %[reg]" WINDOW_CLOSE
				 : WINDOW_OUT, [reg] "=m"(*scratch)
				 :
				 : "memory");
		break;
	case PROBE_IOEVENTFD:
		__asm__ volatile(WINDOW_OPEN "movl %%eax, %[reg]" WINDOW_CLOSE
				 : WINDOW_OUT, [reg] "=m"(*notify)
				 :
				 : "memory");
		break;
	default:	/* PROBE_NONE: the empty window */
		__asm__ volatile(WINDOW_OPEN WINDOW_CLOSE
				 : WINDOW_OUT
				 :
				 : "memory");
		break;
	}
	(void)hi;
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
 * @n windows of @kind into @samples; returns the whole loop's ticks,
 * bookkeeping included.  @kind is a constant wherever this is inlined,
 * so no switch runs between windows.
 */
static inline __attribute__((always_inline)) uint64_t
time_loop(unsigned kind, uint32_t n, uint32_t *samples)
{
	uint64_t start = tsc();
	uint32_t i;

	for (i = 0; i < n; i++)
		samples[i] = window(kind);
	return tsc() - start;
}

static uint64_t time_windows(unsigned kind, uint32_t n, uint32_t *samples)
{
	switch (kind) {
	case PROBE_PIO_READ:
		return time_loop(PROBE_PIO_READ, n, samples);
	case PROBE_PIO_WRITE:
		return time_loop(PROBE_PIO_WRITE, n, samples);
	case PROBE_MMIO_READ:
		return time_loop(PROBE_MMIO_READ, n, samples);
	case PROBE_MMIO_WRITE:
		return time_loop(PROBE_MMIO_WRITE, n, samples);
	case PROBE_IOEVENTFD:
		return time_loop(PROBE_IOEVENTFD, n, samples);
	}
	return time_loop(PROBE_NONE, n, samples);
}

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
 * poll=A[,A...]: the addresses into @addr; how many (0 without poll=), or
 * -1 if one is malformed, unaligned or outside the MMIO hole.
 */
static int parse_poll(uint32_t addr[PROBE_MAX_POLL])
{
	size_t len, i = 0;
	const char *v = opt_find("poll", &len);
	unsigned n = 0, base, d;
	uint64_t a;
	bool digits;

	if (!v)
		return 0;
	while (i < len) {
		if (n == PROBE_MAX_POLL)
			return -1;
		base = 10;
		if (i + 2 < len && v[i] == '0' && (v[i + 1] == 'x' ||
						   v[i + 1] == 'X')) {
			base = 16;
			i += 2;
		}
		for (a = 0, digits = false; i < len && v[i] != ','; i++) {
			char c = v[i];

			if (c >= '0' && c <= '9')
				d = (unsigned)(c - '0');
			else if (base == 16 && c >= 'a' && c <= 'f')
				d = (unsigned)(c - 'a' + 10);
			else if (base == 16 && c >= 'A' && c <= 'F')
				d = (unsigned)(c - 'A' + 10);
			else
				return -1;
			a = base == 16 ? a << 4 | d : a * 10 + d;
			if (a >= LAYOUT_MMIO_HOLE_END)
				return -1;
			digits = true;
		}
		if (!digits || a < LAYOUT_MMIO_HOLE_START || (a & 3) ||
		    a + 4 > LAYOUT_MMIO_HOLE_END)
			return -1;
		addr[n++] = (uint32_t)a;
		i++;	/* the comma */
	}
	return (int)n;
}

/* Read every @addr in turn, for good: the host stops the VM. */
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

void guest_main(const struct boot_info *bi)
{
	struct probe_results *res = phys_ptr(PROBE_RESULTS_ADDR);
	uint32_t *empty = phys_ptr(PROBE_RESULTS_ADDR + PROBE_EMPTY_OFFSET);
	uint32_t *samples = phys_ptr(PROBE_RESULTS_ADDR + PROBE_SAMPLES_OFFSET);
	uint64_t count = opt_uint("count", 0), mib = opt_uint("touch", 0);
	uint32_t status = PROBE_OK, poll_addr[PROBE_MAX_POLL];
	int kind = parse_kind(), npoll = parse_poll(poll_addr), i;

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
	res->magic = 0;
	barrier();
	*res = (struct probe_results){
		.version = PROBE_VERSION,
		.kind = kind < 0 ? PROBE_NONE : (uint32_t)kind,
	};
	if (kind < 0 || count > PROBE_MAX_SAMPLES) {
		printf("probe: expected kind=none|pio-read|pio-write|mmio-read|mmio-write|ioeventfd and count=0..%u\n",
		       PROBE_MAX_SAMPLES);
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
	if (mib && (mib > 3072 || !boot_map_find(bi, PROBE_TOUCH_ADDR,
						 mib * MIB, E820_RAM))) {
		printf("probe: touch=%llu: [0x%x, +%llu MiB) is not all RAM\n",
		       (unsigned long long)mib, PROBE_TOUCH_ADDR,
		       (unsigned long long)mib);
		status = PROBE_ERR_MEMORY;
		goto out;
	}

	if (count) {
		res->nempty = (uint32_t)MIN(count, PROBE_MAX_EMPTY);
		time_windows(PROBE_NONE, res->nempty, empty);
		res->loop_ticks = time_windows((unsigned)kind,
					       (uint32_t)count, samples);
		res->count = (uint32_t)count;
	}
	if (mib)
		res->touched = touch((uint32_t)mib);
out:
	res->status = status;
	barrier();
	res->magic = PROBE_MAGIC;
	barrier();
	if (res->count)
		printf("probe: %u accesses in %llu ticks\n", res->count,
		       (unsigned long long)res->loop_ticks);
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
