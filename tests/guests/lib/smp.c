// SPDX-License-Identifier: GPL-2.0-only
/*
 * Application processors through the local APIC, and TSC-timed waits
 * (smp.h).  32-bit PVH guests only (linked by guest(... SMP)).
 */
#include "console.h"
#include "io.h"
#include "libc.h"
#include "smp.h"

/* xAPIC registers (offsets in its 4 KiB page). */
#define APIC_SVR		0x0f0
#define APIC_SVR_ENABLE		(1u << 8)
#define APIC_SPURIOUS		0xffu
#define APIC_ICR_LO		0x300
#define APIC_ICR_HI		0x310
#define APIC_ICR_BUSY		(1u << 12)	/* delivery status: pending */
#define APIC_DM_INIT		0x500u
#define APIC_DM_STARTUP		0x600u
#define APIC_INT_ASSERT		0x4000u
#define APIC_INT_LEVELTRIG	0x8000u
#define APIC_BASE_ENABLE	(1u << 11)

#define PAGE			0x1000u
#define TRAMPOLINE_LOW		0x10000u	/* above the boot structures */
#define TRAMPOLINE_HIGH		0x9f000u	/* below the EBDA */
#define ICR_WAIT_MS		100

extern const char ap16_start[], ap16_end[];

/* In .data: see __image_zeroed. */
uint8_t smp_ap_stacks[SMP_MAX_CPUS][SMP_AP_STACK_SIZE] __image_zeroed
	__attribute__((aligned(16)));

static volatile uint32_t ap_alive[SMP_MAX_CPUS];
static void (*ap_main_fn)(unsigned cpu);
static uint32_t apic_base, trampoline;
static char why[128];

/* ---- TSC ---------------------------------------------------------------- */

static void cpuid(uint32_t leaf, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(0));
}

uint32_t tsc_khz(bool *known)
{
	static uint32_t khz;
	static bool found;
	uint32_t r[4], max;

	if (khz)
		goto out;
	khz = TSC_KHZ_GUESS;
	cpuid(1, r);
	if (r[2] & 1u << 31) {		/* a hypervisor: its leaves */
		cpuid(0x40000000, r);
		if (r[0] >= 0x40000010 && r[0] < 0x40000100) {
			cpuid(0x40000010, r);
			if (r[0]) {
				khz = r[0];
				found = true;
				goto out;
			}
		}
	}
	cpuid(0, r);
	max = r[0];
	if (max >= 0x15) {
		/* EAX denominator, EBX numerator, ECX crystal Hz. */
		cpuid(0x15, r);
		if (r[0] && r[1] && r[2] >= 1000 &&
		    r[2] / 1000 <= 0xffffffffu / r[1]) {
			khz = r[2] / 1000 * r[1] / r[0];
			found = khz != 0;
			if (found)
				goto out;
			khz = TSC_KHZ_GUESS;
		}
	}
	if (max >= 0x16) {
		cpuid(0x16, r);
		if (r[0] & 0xffff) {
			khz = (r[0] & 0xffff) * 1000u;
			found = true;
		}
	}
out:
	if (known)
		*known = found;
	return khz;
}

void tsc_wait_start_ticks(struct tsc_wait *w, uint64_t ticks)
{
	w->start = rdtsc();
	w->ticks = ticks;
	w->polls = 0;
	/* One poll per tick at least: a TSC that stands still still ends. */
	w->max_polls = ticks;
}

void tsc_wait_start(struct tsc_wait *w, uint32_t ms)
{
	tsc_wait_start_ticks(w, (uint64_t)ms * tsc_khz(NULL));
}

bool tsc_wait_over(struct tsc_wait *w)
{
	if (++w->polls >= w->max_polls)
		return true;
	return rdtsc() - w->start >= w->ticks;
}

void tsc_delay_us(uint32_t us)
{
	struct tsc_wait w;

	/* kHz * us / 1000, without a 64-bit division. */
	tsc_wait_start_ticks(&w, ((uint64_t)tsc_khz(NULL) * us) >> 10);
	while (!tsc_wait_over(&w))
		;
}

/* ---- Local APIC --------------------------------------------------------- */

static uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}

static bool icr_idle(void)
{
	struct tsc_wait w;

	tsc_wait_start(&w, ICR_WAIT_MS);
	while (mmio_read32(apic_base + APIC_ICR_LO) & APIC_ICR_BUSY)
		if (tsc_wait_over(&w))
			return false;
	return true;
}

/* One IPI; false if the ICR stayed busy. */
static bool send_ipi(unsigned apic_id, uint32_t icr)
{
	if (!icr_idle())
		return false;
	mmio_write32(apic_base + APIC_ICR_HI, (uint32_t)apic_id << 24);
	mmio_write32(apic_base + APIC_ICR_LO, icr);
	return icr_idle();
}

/* ---- Application processors -------------------------------------------- */

void smp_ap_entry(unsigned cpu)
{
	ap_alive[cpu] = 1;
	mb();
	if (ap_main_fn)
		ap_main_fn(cpu);
}

bool smp_ap_alive(unsigned cpu)
{
	return cpu < SMP_MAX_CPUS && ap_alive[cpu];
}

uint32_t smp_trampoline(void)
{
	return trampoline;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

const char *smp_init(const struct boot_info *bi, void (*ap_main)(unsigned cpu),
		     bool enable_apic)
{
	uint32_t size = (uint32_t)(ap16_end - ap16_start), page;
	uint64_t cl = bi->cmdline_paddr, base;
	uint64_t cl_len = bi->cmdline ? strlen(bi->cmdline) + 1 : 1;

	base = rdmsr(SMP_MSR_APIC_BASE);
	if (!(base & APIC_BASE_ENABLE) ||
	    !phys_ok(base & ~0xfffull, PAGE)) {
		snprintf(why, sizeof(why),
			 "the local APIC is off or out of reach (IA32_APIC_BASE 0x%llx)",
			 (unsigned long long)base);
		return why;
	}
	apic_base = (uint32_t)(base & ~0xfffull);
	/*
	 * Software-enable the APIC (SVR bit 8, spurious vector 0xff), as
	 * an OS does before it starts APs.  INIT and SIPI are delivered
	 * with it disabled too (SDM: a software-disabled APIC still sends
	 * and accepts them); a guest that leaves it off tests that the VMM
	 * made KVM's map of APIC IDs include every AP (KVM rebuilds the map
	 * on KVM_SET_LAPIC and when this bit changes).
	 */
	if (enable_apic)
		mmio_write32(apic_base + APIC_SVR,
			     APIC_SVR_ENABLE | APIC_SPURIOUS);

	for (page = TRAMPOLINE_LOW; page < TRAMPOLINE_HIGH; page += PAGE) {
		if (!boot_map_find(bi, page, PAGE, E820_RAM) ||
		    (cl && overlaps(page, PAGE, cl, cl_len)) ||
		    overlaps(page, PAGE, bi->boot_struct, PAGE))
			continue;
		trampoline = page;
		break;
	}
	if (!trampoline) {
		snprintf(why, sizeof(why),
			 "no free RAM page in [0x%x, 0x%x) for the AP trampoline",
			 TRAMPOLINE_LOW, TRAMPOLINE_HIGH);
		return why;
	}
	memcpy(phys_ptr(trampoline), ap16_start, size);
	ap_main_fn = ap_main;
	mb();
	return NULL;
}

const char *smp_start_ap(unsigned cpu, uint32_t ms)
{
	uint32_t sipi = APIC_DM_STARTUP | trampoline >> 12;
	struct tsc_wait w;
	unsigned i;

	if (!trampoline)
		return "smp_init() has not run";
	if (cpu >= SMP_MAX_CPUS)
		return "APIC ID out of range";
	/* INIT (assert, then the deassert older APICs want), as Linux does. */
	if (!send_ipi(cpu, APIC_INT_LEVELTRIG | APIC_INT_ASSERT |
			   APIC_DM_INIT) ||
	    !send_ipi(cpu, APIC_INT_LEVELTRIG | APIC_DM_INIT))
		goto busy;
	tsc_delay_us(10000);
	for (i = 0; i < 2 && !ap_alive[cpu]; i++) {
		if (!send_ipi(cpu, sipi))
			goto busy;
		tsc_delay_us(200);
	}
	tsc_wait_start(&w, ms);
	while (!ap_alive[cpu])
		if (tsc_wait_over(&w)) {
			snprintf(why, sizeof(why),
				 "INIT-SIPI-SIPI (vector 0x%x) sent, no sign of life within %u ms",
				 trampoline >> 12, ms);
			return why;
		}
	return NULL;
busy:
	snprintf(why, sizeof(why),
		 "the local APIC's ICR stayed busy (delivery status) for %u ms",
		 ICR_WAIT_MS);
	return why;
}
