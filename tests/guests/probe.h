/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The probe guest's interface (probe.c), shared with the host tools that
 * run it (tools/bench/): its command-line words and the results block it
 * leaves in guest RAM.  Freestanding: only <stdint.h>.
 *
 * Command line (words; others are ignored):
 *
 *   kind=K     pio-read, pio-write, mmio-read, mmio-write, ioeventfd or
 *              none (the default): which access to time; none times the
 *              same loop with no access in it, a baseline
 *   count=N    how many (default 0, at most PROBE_MAX_SAMPLES)
 *   touch=M    write one word in each 4 KiB page of M MiB of RAM from
 *              PROBE_TOUCH_ADDR, then print PROBE_READY_LINE
 *   spin       stay up after that until the VMM is stopped from outside
 *   poll=A[,A...]  instead of stopping (or spinning), read each of the
 *              guest-physical addresses A (hex or decimal, 4-byte
 *              aligned, in the MMIO hole, at most PROBE_MAX_POLL of
 *              them) with a 32-bit load, in turn, forever, after
 *              printing PROBE_POLL_LINE: a guest that keeps accessing
 *              devices the host plugs and unplugs (an absent one reads
 *              as whatever the VMM returns for unassigned MMIO)
 *
 * The accesses, all 32 bits wide, to the test device's SCRATCH register
 * (include/flatvm/testdev-regs.h):
 *
 *   pio-read   inl  from LAYOUT_PORT_TESTDEV + TESTDEV_SCRATCH
 *   pio-write  outl to   LAYOUT_PORT_TESTDEV + TESTDEV_SCRATCH
 *   mmio-read  load from LAYOUT_TESTDEV_MMIO + TESTDEV_SCRATCH
 *   mmio-write store to  LAYOUT_TESTDEV_MMIO + TESTDEV_SCRATCH
 *   ioeventfd  store to  LAYOUT_TESTDEV_MMIO + TESTDEV_NOTIFY (the VMM
 *              backs it with an ioeventfd: the write never leaves KVM)
 *
 * Each access is timed alone, a single instruction between two
 * "lfence; rdtsc; lfence" stamps, and its TSC ticks stored in samples[];
 * before them the probe times min(count, PROBE_MAX_EMPTY) empty windows,
 * the same stamps around nothing (the timer's own cost).
 *
 * Results block, at guest-physical PROBE_RESULTS_ADDR (in RAM on any
 * machine with at least PROBE_MIN_RAM; the probe checks its memory map):
 *
 *   +0                     struct probe_results
 *   +PROBE_EMPTY_OFFSET    uint32_t empty[nempty]    ticks, empty windows
 *   +PROBE_SAMPLES_OFFSET  uint32_t samples[count]   ticks, one access each
 *
 * magic is written last, after everything else, so a block with the
 * right magic is complete.  Ticks are the guest's TSC (KVM_GET_TSC_KHZ
 * converts them); only their low 32 bits are differenced, so a window
 * longer than 2^32 ticks (over a second) would wrap.
 *
 * The probe ends by writing its status to TESTDEV_EXIT (port window),
 * then to QEMU's isa-debug-exit port (PROBE_EXIT_PORT), then halts:
 * flatvm exits with the status, QEMU with 2 * status + 1, a bare KVM_RUN
 * loop sees the port write or the HLT.
 */
#ifndef GUEST_PROBE_H
#define GUEST_PROBE_H

#include <stdint.h>

#define PROBE_RESULTS_ADDR	0x1000000u	/* 16 MiB */
#define PROBE_EMPTY_OFFSET	0x1000u
#define PROBE_MAX_EMPTY		1024u
#define PROBE_SAMPLES_OFFSET	0x2000u
#define PROBE_MAX_SAMPLES	(1u << 20)
#define PROBE_TOUCH_ADDR	0x2000000u	/* 32 MiB */
/* RAM from 0 that a results block of PROBE_MAX_SAMPLES needs. */
#define PROBE_MIN_RAM	\
	(PROBE_RESULTS_ADDR + PROBE_SAMPLES_OFFSET + 4u * PROBE_MAX_SAMPLES)

/* QEMU's isa-debug-exit port, the probe's last write before it halts. */
#define PROBE_EXIT_PORT		0xf4

#define PROBE_MAGIC		0x424f5250u	/* "PROB" little endian */
#define PROBE_VERSION		1

/* The line (on COM1) that says touch= is done and the probe is spinning. */
#define PROBE_READY_LINE	"probe: ready"

/* poll=: how many addresses, and the line before the endless reads. */
#define PROBE_MAX_POLL		8
#define PROBE_POLL_LINE		"probe: polling"

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
	PROBE_ERR_OPTION = 2,	/* an unknown kind or a count too large */
	PROBE_ERR_MEMORY = 3,	/* the block or touch= range is not RAM */
};

struct probe_results {
	uint32_t magic;		/* PROBE_MAGIC, written last */
	uint32_t version;	/* PROBE_VERSION */
	uint32_t kind;		/* enum probe_kind */
	uint32_t status;	/* enum probe_status */
	uint32_t count;		/* accesses made, samples[] entries */
	uint32_t nempty;	/* empty windows in empty[] */
	uint64_t loop_ticks;	/* the whole timed loop, bookkeeping too */
	uint64_t touched;	/* bytes written by touch= */
};

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
