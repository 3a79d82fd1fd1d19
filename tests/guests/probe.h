/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The probe guest's interface (probe.c), shared with the host tools that
 * run it (tools/bench/): its command-line words, the results blocks it
 * leaves in guest RAM and the lines it prints.  Freestanding: only
 * <stdint.h>.  This comment is the interface's reference.
 *
 * Command line (words, all optional; others are ignored; numbers are
 * decimal or 0x hex):
 *
 *   kind=K     pio-read, pio-write, mmio-read, mmio-write, ioeventfd or
 *              none (the default): which access to time; none times the
 *              same loop with no access in it, a baseline
 *   count=N    how many, per CPU (default 0, at most PROBE_MAX_SAMPLES)
 *   cpus=C     1..PROBE_MAX_CPUS (default 1): vCPUs 0..C-1 all run the
 *              timed loops at once.  vCPU 0 (the BSP) starts APs 1..C-1
 *              with INIT-SIPI-SIPI through its local APIC (APIC IDs
 *              0..C-1, as flatvm and QEMU assign them); the VM needs C
 *              vCPUs.  All CPUs wait on one start flag, then each runs
 *              the empty windows and the timed loop into its own results
 *              block; the BSP waits for the others (bounded), prints,
 *              and ends the VM; APs halt.
 *   reg=A[,A...]  up to PROBE_MAX_CPUS registers: CPU i accesses
 *              A[i % n].  pio-read, pio-write: a port, A + width <=
 *              0x10000.  mmio-read, mmio-write, ioeventfd: a
 *              guest-physical address in [0xc0000000, 4 GiB) (flatvm's
 *              MMIO hole LAYOUT_MMIO_HOLE_START.., QEMU microvm's devices
 *              at 0xfe000000..), aligned to the width.  Default: the test
 *              device's SCRATCH (NOTIFY for ioeventfd), as below
 *   width=W    1, 2 or 4 (default 4): the access width in bytes
 *   value=V    what the writes store (pio-write, mmio-write, ioeventfd);
 *              default 0; must fit the width
 *   virtio=A[,A...]  before the loops (BSP, before starting APs), bring
 *              each virtio-mmio transport at A (at most PROBE_MAX_VIRTIO,
 *              4-byte aligned, in [0xc0000000, 4 GiB)) to DRIVER_OK:
 *              MagicValue, Version 2 (a legacy version 1 transport is an
 *              error), DeviceID != 0, reset, ACKNOWLEDGE | DRIVER,
 *              VIRTIO_F_VERSION_1 only, FEATURES_OK (read back), queue 0
 *              in the probe's own RAM, DRIVER_OK.  The VMM then arms its
 *              ioeventfd on QueueNotify, so "kind=ioeventfd reg=A+0x50
 *              value=0" times a kernel-handled queue 0 notify (flatvm
 *              --rng at 0xd0000000, QEMU -device virtio-rng-device at
 *              0xfeb00000 + 0x200 * i).  Prints PROBE_VIRTIO_LINE per A;
 *              any failure is PROBE_ERR_DEVICE
 *   hist       after the loops, print every CPU's histograms (below)
 *   apic-off   with cpus= >= 2: start the APs without software-enabling
 *              the BSP's local APIC first (INIT and SIPI work either way
 *              on hardware; a VMM test of AP start-up)
 *   touch=M    write one word in each 4 KiB page of M MiB of RAM from
 *              PROBE_TOUCH_ADDR, then print PROBE_READY_LINE (refused
 *              with cpus= >= 2: it would overlap CPU 1's block)
 *   spin       stay up after that until the VMM is stopped from outside
 *   poll=A[,A...]  instead of stopping (or spinning), read each of the
 *              guest-physical addresses A (hex or decimal, 4-byte
 *              aligned, in the MMIO hole, at most PROBE_MAX_POLL of
 *              them) with a 32-bit load, in turn, forever, after
 *              printing PROBE_POLL_LINE: a guest that keeps accessing
 *              devices the host plugs and unplugs (an absent one reads
 *              as whatever the VMM returns for unassigned MMIO)
 *
 * Any malformed or out-of-range word prints what is expected on COM1
 * and ends with PROBE_ERR_OPTION.
 *
 * The accesses (width W, default register in parentheses,
 * include/flatvm/testdev-regs.h):
 *
 *   pio-read   in  from port A  (LAYOUT_PORT_TESTDEV + TESTDEV_SCRATCH)
 *   pio-write  out to   port A  (the same)
 *   mmio-read  load from A      (LAYOUT_TESTDEV_MMIO + TESTDEV_SCRATCH)
 *   mmio-write store to  A      (the same)
 *   ioeventfd  store to  A      (LAYOUT_TESTDEV_MMIO + TESTDEV_NOTIFY,
 *              which flatvm backs with an ioeventfd: the write never
 *              leaves KVM)
 *
 * Each access is timed alone, a single instruction between two
 * "lfence; rdtsc; lfence" stamps, and its TSC ticks stored in samples[],
 * the low 32 bits of its opening stamp in stamps[].  Port accesses need
 * the port in DX (and a write its value in EAX), which RDTSC overwrites,
 * so their windows also hold one or two register moves; the empty
 * windows are the same window without the access instruction (for
 * pio-write: both moves, for pio-read: the port move, else nothing), so
 * a sample minus the median empty window is the access alone.  Before
 * the timed loop each CPU times min(count, PROBE_MAX_EMPTY) empty
 * windows into empty[].
 *
 * Results: one block per CPU i < C, at guest-physical
 * PROBE_RESULTS_ADDR + i * PROBE_CPU_STRIDE (CPU 0's is in RAM on any
 * machine with at least PROBE_MIN_RAM, C CPUs' on one with
 * PROBE_RAM_FOR(C); the probe checks its memory map, else
 * PROBE_ERR_MEMORY):
 *
 *   +0                     struct probe_results
 *   +PROBE_EMPTY_OFFSET    uint32_t empty[nempty]    ticks, empty windows
 *   +PROBE_SAMPLES_OFFSET  uint32_t samples[count]   ticks, one access each
 *   +PROBE_STAMPS_OFFSET   uint32_t stamps[count]    low 32 bits of each
 *                          window's opening TSC read, stored outside the
 *                          window (unwrap them for latency over time;
 *                          start_tsc is the full TSC just before the
 *                          first)
 *
 * magic is written last, after everything else in the block, so a block
 * with the right magic is complete.  An AP that never started gets a
 * block with status PROBE_ERR_SMP from the BSP; one that started but did
 * not finish in time keeps magic 0.  Ticks are the guest's TSC
 * (KVM_GET_TSC_KHZ converts them); only their low 32 bits are
 * differenced, so a window longer than 2^32 ticks (over a second) would
 * wrap.
 *
 * Lines on COM1: first the banner "probe: kind=K count=N touch=M"; with
 * any of cpus=, reg=, width=, value= "probe: cpus=C width=W value=0xV
 * reg=0xT[,0xT...]" (one target per CPU); PROBE_VIRTIO_LINE per virtio=
 * transport; with C > 1 "probe: N APs up (trampoline at 0xP)"; then
 * "probe: N accesses in T ticks" (CPU 0's loop).  With hist, for every
 * CPU I that finished, in order, exactly:
 *
 *   probe: cpu=I kind=K width=W target=0xT count=N loop=TICKS
 *   probe: cpu=I hist=samples L:C L:C ...
 *   probe: cpu=I hist=empty L:C ...
 *   probe: cpu=I end
 *
 * (T lower-case hex; TICKS the CPU's loop_ticks.)  L:C is a bucket's
 * lower bound (probe_hist_bucket()) and how many values fell in it, in
 * decimal, nonzero buckets only, ascending, at most PROBE_HIST_PER_LINE
 * pairs per line: more repeat the line's prefix.  A histogram with no
 * values prints its prefix once with no pairs.  Building them costs
 * guest instructions, so only with hist.
 *
 * Failures print a line starting "probe: " that says what and why.  The
 * probe ends by writing its status (the worst of the CPUs') to
 * TESTDEV_EXIT (port window), then to QEMU's isa-debug-exit port
 * (PROBE_EXIT_PORT), then halts: flatvm exits with the status, QEMU with
 * 2 * status + 1, a bare KVM_RUN loop sees the port write or the HLT.
 */
#ifndef GUEST_PROBE_H
#define GUEST_PROBE_H

#include <stdint.h>

#define PROBE_RESULTS_ADDR	0x1000000u	/* 16 MiB: CPU 0's block */
#define PROBE_CPU_STRIDE	0x1000000u	/* 16 MiB between blocks */
#define PROBE_MAX_CPUS		4u
#define PROBE_EMPTY_OFFSET	0x1000u
#define PROBE_MAX_EMPTY		1024u
#define PROBE_SAMPLES_OFFSET	0x2000u
#define PROBE_MAX_SAMPLES	(1u << 20)
#define PROBE_STAMPS_OFFSET	(PROBE_SAMPLES_OFFSET + 4u * PROBE_MAX_SAMPLES)
#define PROBE_BLOCK_SIZE	(PROBE_STAMPS_OFFSET + 4u * PROBE_MAX_SAMPLES)
#define PROBE_TOUCH_ADDR	0x2000000u	/* 32 MiB */

/* Guest-physical address of CPU @cpu's results block. */
#define PROBE_BLOCK_ADDR(cpu)	\
	(PROBE_RESULTS_ADDR + (uint32_t)(cpu) * PROBE_CPU_STRIDE)
/* RAM from 0 that the blocks of @cpus CPUs need (PROBE_MAX_SAMPLES each). */
#define PROBE_RAM_FOR(cpus)						\
	(PROBE_RESULTS_ADDR + ((uint32_t)(cpus) - 1u) * PROBE_CPU_STRIDE + \
	 PROBE_STAMPS_OFFSET + 4u * PROBE_MAX_SAMPLES)
/* RAM from 0 that CPU 0's block needs. */
#define PROBE_MIN_RAM		PROBE_RAM_FOR(1)

_Static_assert(PROBE_BLOCK_SIZE <= PROBE_CPU_STRIDE, "blocks overlap");
_Static_assert(PROBE_RAM_FOR(1) <= PROBE_TOUCH_ADDR,
	       "touch= overlaps CPU 0's block");

/* QEMU's isa-debug-exit port, the probe's last write before it halts. */
#define PROBE_EXIT_PORT		0xf4

#define PROBE_MAGIC		0x424f5250u	/* "PROB" little endian */
#define PROBE_VERSION		2

/* The line (on COM1) that says touch= is done and the probe is spinning. */
#define PROBE_READY_LINE	"probe: ready"

/* poll=: how many addresses, and the line before the endless reads. */
#define PROBE_MAX_POLL		8
#define PROBE_POLL_LINE		"probe: polling"

/*
 * virtio=: how many transports, and the line for each:
 * "probe: virtio 0xA device=ID (NAME) ready" (ID decimal).
 */
#define PROBE_MAX_VIRTIO	8
#define PROBE_VIRTIO_LINE	"probe: virtio"

/* hist: L:C pairs per line. */
#define PROBE_HIST_PER_LINE	8

enum probe_kind {
	PROBE_NONE,
	PROBE_PIO_READ,
	PROBE_PIO_WRITE,
	PROBE_MMIO_READ,
	PROBE_MMIO_WRITE,
	PROBE_IOEVENTFD,
	PROBE_NR_KINDS,
};

/* Status, in the block and as the exit value. */
enum probe_status {
	PROBE_OK = 0,
	PROBE_ERR_OPTION = 2,	/* a malformed or out-of-range word */
	PROBE_ERR_MEMORY = 3,	/* a block or the touch= range is not RAM */
	PROBE_ERR_SMP = 4,	/* an AP did not start, or not finish in time */
	PROBE_ERR_DEVICE = 5,	/* a virtio= transport could not be driven */
};

/* One per CPU; existing offsets never move, fields are appended. */
struct probe_results {
	uint32_t magic;		/* PROBE_MAGIC, written last */
	uint32_t version;	/* PROBE_VERSION */
	uint32_t kind;		/* enum probe_kind */
	uint32_t status;	/* enum probe_status */
	uint32_t count;		/* accesses made, samples[] entries */
	uint32_t nempty;	/* empty windows in empty[] */
	uint64_t loop_ticks;	/* the whole timed loop, bookkeeping too */
	uint64_t touched;	/* bytes written by touch= (CPU 0) */
	uint32_t cpu;		/* this block's CPU (= APIC ID) */
	uint32_t ncpus;		/* cpus= */
	uint32_t target;	/* the port or address accessed (reg=) */
	uint32_t width;		/* bytes per access */
	uint64_t start_tsc;	/* full TSC at the timed loop's start */
};

_Static_assert(sizeof(struct probe_results) == 64, "probe.h layout");
_Static_assert(__builtin_offsetof(struct probe_results, loop_ticks) == 24,
	       "probe.h layout");
_Static_assert(__builtin_offsetof(struct probe_results, cpu) == 40,
	       "probe.h layout");
_Static_assert(__builtin_offsetof(struct probe_results, start_tsc) == 56,
	       "probe.h layout");

/*
 * The histogram bucket of @v: its lower bound L.  0..7 have buckets of
 * their own; above, 4 log-linear sub-buckets per power of two: with
 * e = floor(log2 v), sub = (v >> (e - 2)) & 3, L = (4 + sub) << (e - 2).
 */
static inline uint32_t probe_hist_bucket(uint32_t v)
{
	unsigned e;

	if (v < 8)
		return v;
	e = 31u - (unsigned)__builtin_clz(v);
	return (4u + ((v >> (e - 2)) & 3u)) << (e - 2);
}

static inline const char *probe_kind_name(unsigned kind)
{
	switch (kind) {
	case PROBE_NONE:
		return "none";
	case PROBE_PIO_READ:
		return "pio-read";
	case PROBE_PIO_WRITE:
		return "pio-write";
	case PROBE_MMIO_READ:
		return "mmio-read";
	case PROBE_MMIO_WRITE:
		return "mmio-write";
	case PROBE_IOEVENTFD:
		return "ioeventfd";
	}
	return "?";
}

#endif /* GUEST_PROBE_H */
