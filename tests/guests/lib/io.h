/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Port I/O, MMIO and guest-physical memory for the test guests.
 *
 * The same code is built twice: as 32-bit code for the PVH entry (paging
 * off, so a physical address is a linear address) and as 64-bit code for
 * the bzImage entry (the loader identity-maps the first 4 GiB).  Either
 * way a physical address below 4 GiB is usable as a pointer and nothing
 * above it is: phys_ok() says which is which.  There is no fault handler
 * (PVM delivers no exceptions in protected or long mode), so every
 * pointer that comes from a boot structure or a table is checked with
 * phys_ok() before it is dereferenced.
 */
#ifndef GUEST_IO_H
#define GUEST_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PHYS_LIMIT	0x100000000ull	/* what is reachable: the first 4 GiB */

/* Is [addr, addr + len) inside the reachable range, and not at 0? */
static inline bool phys_ok(uint64_t addr, uint64_t len)
{
	return addr && addr < PHYS_LIMIT && len <= PHYS_LIMIT - addr;
}

static inline void *phys_ptr(uint64_t addr)
{
	return (void *)(uintptr_t)addr;
}

static inline uint64_t ptr_phys(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

/* ---- Port I/O ---------------------------------------------------------- */

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;

	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* ---- Barriers ---------------------------------------------------------- */

/* Keeps the compiler from moving memory accesses across it. */
#define barrier()	__asm__ volatile("" : : : "memory")

/*
 * A full fence, for ordering ring updates against a device running on
 * another host thread.  x86 orders stores among themselves and loads among
 * themselves, so only store-then-load needs the real fence.
 */
static inline void mb(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/*
 * Bounded waiting.  There is no timer to ask (no interrupts) and PAUSE is
 * a VM exit under PVM (about 3.6 us each here), so a wait polls without
 * PAUSE and ends after @ms milliseconds of TSC, taking the TSC to run at
 * a nominal 2 GHz (so a real 1-5 GHz TSC gives 0.4x to 2x @ms), or after
 * as many polls as could run in @ms at one per nanosecond, should the TSC
 * not move at all.
 *
 *	struct deadline d;
 *
 *	deadline_start(&d, 5000);
 *	while (!done())
 *		if (deadline_passed(&d))
 *			break;
 */
#define DEADLINE_TSC_PER_MS	2000000ull
#define DEADLINE_POLLS_PER_MS	1000000ull
#define DEADLINE_TSC_EVERY	1024	/* polls between TSC reads */

struct deadline {
	uint64_t start, ticks;
	uint64_t polls, max_polls;
};

static inline void deadline_start(struct deadline *d, uint32_t ms)
{
	d->start = rdtsc();
	d->ticks = ms * DEADLINE_TSC_PER_MS;
	d->polls = 0;
	d->max_polls = ms * DEADLINE_POLLS_PER_MS;
}

static inline bool deadline_passed(struct deadline *d)
{
	if (++d->polls >= d->max_polls)
		return true;
	if (d->polls % DEADLINE_TSC_EVERY)
		return false;
	return rdtsc() - d->start >= d->ticks;
}

/* Halt for good: no interrupt can wake us (they are off and not delivered). */
static inline __attribute__((noreturn)) void cpu_halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt" : : : "memory");
}

/* ---- MMIO and guest memory --------------------------------------------- */

/*
 * One access of exactly the given width: volatile, so it is neither split,
 * merged nor elided.  Used for device registers and for memory a device
 * writes behind our back (virtqueue used rings).
 */
static inline uint8_t mmio_read8(uint64_t addr)
{
	return *(volatile uint8_t *)phys_ptr(addr);
}

static inline uint16_t mmio_read16(uint64_t addr)
{
	return *(volatile uint16_t *)phys_ptr(addr);
}

static inline uint32_t mmio_read32(uint64_t addr)
{
	return *(volatile uint32_t *)phys_ptr(addr);
}

static inline void mmio_write8(uint64_t addr, uint8_t v)
{
	*(volatile uint8_t *)phys_ptr(addr) = v;
}

static inline void mmio_write16(uint64_t addr, uint16_t v)
{
	*(volatile uint16_t *)phys_ptr(addr) = v;
}

static inline void mmio_write32(uint64_t addr, uint32_t v)
{
	*(volatile uint32_t *)phys_ptr(addr) = v;
}

/*
 * Little-endian loads from byte buffers that need not be aligned (ACPI
 * tables pack 64-bit fields at 4-byte offsets).  x86 does not fault on
 * unaligned loads, but the compiler may assume alignment for a plain
 * dereference; a byte-wise load says what we mean.
 */
static inline uint16_t get_le16(const void *p)
{
	const uint8_t *b = p;

	return (uint16_t)(b[0] | b[1] << 8);
}

static inline uint32_t get_le32(const void *p)
{
	const uint8_t *b = p;

	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	       (uint32_t)b[3] << 24;
}

static inline uint64_t get_le64(const void *p)
{
	const uint8_t *b = p;

	return (uint64_t)get_le32(b) | (uint64_t)get_le32(b + 4) << 32;
}

#endif /* GUEST_IO_H */
