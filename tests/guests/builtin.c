// SPDX-License-Identifier: GPL-2.0-only
/*
 * The built-in guest: what flatvm runs when no kernel is given.  A short
 * tour of the machine (ACPI tables, the test device, any virtio-blk disk
 * and virtio-rng), a summary, then ACPI poweroff whatever the result, so
 * `flatvm` with no arguments starts, shows the machine works, and exits.
 *
 * It never changes a disk: the write test writes sector 0 back with the
 * bytes just read from it.
 */
#include "flatvm/testdev-regs.h"

#include "lib/acpi.h"
#include "lib/boot.h"
#include "lib/checks.h"
#include "lib/console.h"
#include "lib/io.h"
#include "lib/libc.h"
#include "lib/report.h"
#include "lib/testdev.h"
#include "lib/virtio.h"

static struct virtio_dev dev;
static uint8_t sector[VIRTIO_BLK_SECTOR_SIZE] __attribute__((aligned(16)));
static uint8_t again[VIRTIO_BLK_SECTOR_SIZE] __attribute__((aligned(16)));

static void tour_acpi(const struct boot_info *bi)
{
	unsigned i, bad = 0;

	acpi_load(boot_rsdp_hint(bi));
	if (!check("acpi", acpi.loaded, "no RSDP"))
		return;
	console_puts("# ACPI tables:");
	for (i = 0; i < acpi.ntables; i++) {
		printf(" %s", acpi.tables[i].sig);
		bad += !acpi.tables[i].sum_ok;
	}
	if (acpi.have_dsdt) {
		printf(" DSDT");
		bad += !acpi.dsdt.sum_ok;
	}
	printf(", %u CPU(s), %u virtio-mmio window(s)\n", acpi.nlapic,
	       acpi.nvirtio_found);
	check("acpi-tables",
	      acpi.rsdp_sum_ok && acpi.root.sum_ok && !bad && acpi.fadt >= 0 &&
		      acpi.madt >= 0 && acpi.have_dsdt,
	      "%u bad checksum(s), FACP %s, APIC %s, DSDT %s", bad,
	      acpi.fadt >= 0 ? "found" : "missing",
	      acpi.madt >= 0 ? "found" : "missing",
	      acpi.have_dsdt ? "found" : "missing");
}

static void tour_testdev(void)
{
	uint32_t m, p;

	if (!testdev_present()) {
		note("no test device");
		return;
	}
	testdev_mmio_write(TESTDEV_SCRATCH, 0x600dcafe);
	m = testdev_mmio_read(TESTDEV_SCRATCH);
	testdev_pio_write(TESTDEV_SCRATCH, 0x0badf00d);
	p = testdev_pio_read(TESTDEV_SCRATCH);
	check("testdev", m == 0x600dcafe && p == 0x0badf00d &&
				 testdev_pio_read(TESTDEV_ID) == TESTDEV_MAGIC,
	      "scratch read back 0x%08x (MMIO) and 0x%08x (ports)", m, p);
}

static void tour_blk(struct virtio_dev *d, unsigned k)
{
	const char *err = virtio_init(d, 1ull << VIRTIO_BLK_F_RO);
	uint64_t cap;
	char name[24];
	int st;

	snprintf(name, sizeof(name), "blk%u-init", k);
	if (!check(name, !err, "%s", err))
		return;
	cap = virtio_blk_capacity(d);
	st = virtio_blk_rw(d, 0, sector, false);
	snprintf(name, sizeof(name), "blk%u-read", k);
	if (!check(name, st == VIRTIO_BLK_S_OK,
		   "reading sector 0: status %d %s", st, st < 0 ? d->err : ""))
		goto out;
	printf("# blk%u: %llu sectors (%llu KiB)%s, sector 0: ",
	       k, (unsigned long long)cap, (unsigned long long)(cap / 2),
	       virtio_blk_read_only(d) ? ", read-only" : "");
	print_hex_bytes(sector, 16);
	printf(" ... fnv1a 0x%08x\n",
	       fnv1a32(FNV1A32_INIT, sector, sizeof(sector)));
	if (virtio_blk_read_only(d))
		goto out;
	/* Write the same bytes back: the write path, the disk unchanged. */
	st = virtio_blk_rw(d, 0, sector, true);
	if (st == VIRTIO_BLK_S_OK)
		st = virtio_blk_rw(d, 0, again, false);
	snprintf(name, sizeof(name), "blk%u-rewrite", k);
	check(name, st == VIRTIO_BLK_S_OK && !memcmp(sector, again, 512),
	      "rewriting sector 0: status %d %s", st, st < 0 ? d->err : "");
out:
	virtio_reset(d);
}

static void tour_rng(struct virtio_dev *d, unsigned k)
{
	static const uint8_t zero[16];
	const char *err = virtio_init(d, 0);
	uint8_t buf[16];
	char name[16];
	int n = -1;

	snprintf(name, sizeof(name), "rng%u", k);
	if (!err)
		n = virtio_rng_read(d, buf, sizeof(buf));
	if (check(name, n > 0 && memcmp(buf, zero, (unsigned)n),
		  "%s", err ? err : n < 0 ? d->err : "no or all-zero bytes")) {
		printf("# %s: ", name);
		print_hex_bytes(buf, (unsigned)n);
		console_putc('\n');
	}
	virtio_reset(d);
}

static void tour_virtio(void)
{
	const struct acpi_virtio_dev *w;
	unsigned i, nblk = 0, nrng = 0;

	for (i = 0; i < acpi.nvirtio; i++) {
		w = &acpi.virtio[i];
		if (!w->has_mem || !phys_ok(w->base, 0x108) ||
		    !virtio_probe(&dev, w->base) || dev.device_id == 0)
			continue;
		note("virtio-mmio at 0x%llx: %s (version %u)",
		     (unsigned long long)w->base,
		     virtio_id_name(dev.device_id), dev.version);
		if (dev.device_id == VIRTIO_ID_BLOCK)
			tour_blk(&dev, nblk++);
		else if (dev.device_id == VIRTIO_ID_RNG)
			tour_rng(&dev, nrng++);
	}
	if (!nblk)
		note("no virtio-blk disk");
}

void guest_main(const struct boot_info *bi)
{
	printf("flatvm built-in guest\n");
	note("%s entry; no kernel was given, so this is flatvm's own guest",
	     boot_kind_name(bi->kind));
	if (bi->cmdline && *bi->cmdline)
		note("cmdline: \"%s\"", bi->cmdline);
	tour_acpi(bi);
	tour_testdev();
	if (acpi.loaded)
		tour_virtio();
	printf("flatvm built-in guest: %u checks, %u failed; powering off\n",
	       report_checks(), report_failures());
	report_finish(REPORT_END_POWEROFF);
}
