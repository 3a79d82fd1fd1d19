// SPDX-License-Identifier: GPL-2.0-only
/*
 * The virtio guest: finds the virtio-mmio transports the way Linux does
 * (DSDT devices with _HID "LNRO0005"), identifies each and drives the
 * block and entropy devices with a polled driver.  See README.md.
 */
#include "lib/acpi.h"
#include "lib/boot.h"
#include "lib/checks.h"
#include "lib/cmdline.h"
#include "lib/console.h"
#include "lib/io.h"
#include "lib/libc.h"
#include "lib/report.h"
#include "lib/virtio.h"

#define RNG_BYTES	16

static struct virtio_dev dev;
static uint8_t sector[VIRTIO_BLK_SECTOR_SIZE] __attribute__((aligned(16)));
static uint8_t pattern[VIRTIO_BLK_SECTOR_SIZE] __attribute__((aligned(16)));
static uint8_t rng_a[RNG_BYTES], rng_b[RNG_BYTES];

/*
 * What sector 1 gets: a text header, then byte i = (i * 7 + 0x5a) mod 256
 * (README.md documents it for hosts that check the disk image).
 */
static void fill_pattern(void)
{
	static const char head[] = "flatvm virtio guest sector 1\n";
	unsigned i;

	for (i = 0; i < VIRTIO_BLK_SECTOR_SIZE; i++)
		pattern[i] = (uint8_t)(i * 7 + 0x5a);
	memset(pattern, 0, 32);
	memcpy(pattern, head, sizeof(head) - 1);
}

/* name = "<prefix>-<what>" */
static const char *cname(const char *prefix, const char *what)
{
	static char buf[48];

	snprintf(buf, sizeof(buf), "%s-%s", prefix, what);
	return buf;
}

static void test_blk(struct virtio_dev *d, unsigned k)
{
	char p[16];
	const char *err;
	uint64_t cap, want;
	uint32_t h0, h;
	int st;

	snprintf(p, sizeof(p), "blk%u", k);
	err = virtio_init(d, 1ull << VIRTIO_BLK_F_RO);
	if (!check(cname(p, "init"), !err, "%s", err))
		return;
	cap = virtio_blk_capacity(d);
	note("%s: %llu sectors%s, features 0x%llx", p,
	     (unsigned long long)cap,
	     virtio_blk_read_only(d) ? ", read-only" : "",
	     (unsigned long long)d->device_features);
	if (!check(cname(p, "capacity"), cap > 0, "capacity is 0 sectors"))
		goto out;

	memset(sector, 0xcc, sizeof(sector));
	st = virtio_blk_rw(d, 0, sector, false);
	if (!check(cname(p, "read0"), st == VIRTIO_BLK_S_OK,
		   "status %d (%s) %s", st, virtio_blk_status_name(st),
		   st < 0 ? d->err : ""))
		goto out;
	h0 = fnv1a32(FNV1A32_INIT, sector, sizeof(sector));
	printf("# %s sector 0: ", p);
	print_hex_bytes(sector, 16);
	printf(" fnv1a 0x%08x\n", h0);
	if (k == 0 && opt_uint_get("sector0", &want))
		check(cname(p, "sector0-checksum"), h0 == want,
		      "fnv1a 0x%08x, expected 0x%08x", h0, (uint32_t)want);

	if (opt_is("blkwrite", "0")) {
		note("%s: write test skipped (blkwrite=0)", p);
		goto out;
	}
	if (!check(cname(p, "capacity-for-write"), cap >= 2,
		   "%llu sectors: no sector 1 to write",
		   (unsigned long long)cap))
		goto out;

	fill_pattern();
	st = virtio_blk_rw(d, 1, pattern, true);
	if (virtio_blk_read_only(d)) {
		check(cname(p, "write-refused"), st == VIRTIO_BLK_S_IOERR,
		      "write to a read-only disk: status %d (%s), expected IOERR",
		      st, virtio_blk_status_name(st));
		goto out;
	}
	if (!check(cname(p, "write1"), st == VIRTIO_BLK_S_OK,
		   "status %d (%s) %s", st, virtio_blk_status_name(st),
		   st < 0 ? d->err : ""))
		goto out;
	memset(sector, 0, sizeof(sector));
	st = virtio_blk_rw(d, 1, sector, false);
	if (check(cname(p, "read1"), st == VIRTIO_BLK_S_OK, "status %d (%s) %s",
		  st, virtio_blk_status_name(st), st < 0 ? d->err : ""))
		check(cname(p, "readback1"),
		      !memcmp(sector, pattern, sizeof(sector)),
		      "sector 1 reads back differently (fnv1a 0x%08x, wrote 0x%08x)",
		      fnv1a32(FNV1A32_INIT, sector, sizeof(sector)),
		      fnv1a32(FNV1A32_INIT, pattern, sizeof(pattern)));

	/* The write went to sector 1 and nowhere else we can see. */
	st = virtio_blk_rw(d, 0, sector, false);
	h = fnv1a32(FNV1A32_INIT, sector, sizeof(sector));
	check(cname(p, "sector0-unchanged"), st == VIRTIO_BLK_S_OK && h == h0,
	      "status %d, fnv1a 0x%08x (was 0x%08x)", st, h, h0);
out:
	virtio_reset(d);
}

static void test_rng(struct virtio_dev *d, unsigned k)
{
	static const uint8_t zero[RNG_BYTES];
	char p[16];
	const char *err;
	int n;

	snprintf(p, sizeof(p), "rng%u", k);
	err = virtio_init(d, 0);
	if (!check(cname(p, "init"), !err, "%s", err))
		return;
	n = virtio_rng_fill(d, rng_a, RNG_BYTES);
	if (!check(cname(p, "read"), n == RNG_BYTES, "got %d of %u bytes%s%s",
		   n, RNG_BYTES, n < 0 ? ": " : "", n < 0 ? d->err : ""))
		goto out;
	printf("# %s: ", p);
	print_hex_bytes(rng_a, RNG_BYTES);
	console_putc('\n');
	check(cname(p, "nonzero"), memcmp(rng_a, zero, RNG_BYTES),
	      "%u bytes, all zero", RNG_BYTES);
	n = virtio_rng_fill(d, rng_b, RNG_BYTES);
	check(cname(p, "differs"),
	      n == RNG_BYTES && memcmp(rng_a, rng_b, RNG_BYTES),
	      "a second read of %u bytes (got %d) repeats the first", RNG_BYTES,
	      n);
out:
	virtio_reset(d);
}

/* Count check: exact when the option is given, else at least one. */
static void check_count(const char *name, const char *opt, unsigned found)
{
	uint64_t want;

	if (opt_uint_get(opt, &want))
		check(name, found == want, "%u found, expected %llu (%s=)",
		      found, (unsigned long long)want, opt);
	else
		check(name, found >= 1, "none found (%s=0 allows that)", opt);
}

void guest_main(const struct boot_info *bi)
{
	const struct acpi_virtio_dev *w;
	unsigned i, nblk = 0, nrng = 0;
	char p[16];

	printf("flatvm test guest: %s entry, virtio guest\n",
	       boot_kind_name(bi->kind));
	describe_boot(bi);
	check_acpi(bi);
	if (!acpi.loaded)
		return;
	check("virtio-windows", acpi.nvirtio,
	      "the DSDT describes no virtio-mmio (LNRO0005) device");

	for (i = 0; i < acpi.nvirtio; i++) {
		w = &acpi.virtio[i];
		snprintf(p, sizeof(p), "virtio%u", i);
		if (!w->has_mem || !phys_ok(w->base, 0x100 + 8) ||
		    w->size < 0x100) {
			check(cname(p, "window"), false,
			      "window 0x%llx size 0x%llx is not usable",
			      (unsigned long long)w->base,
			      (unsigned long long)w->size);
			continue;
		}
		virtio_probe(&dev, w->base);
		if (!check(cname(p, "magic"), dev.magic == VIRTIO_MMIO_MAGIC,
			   "0x%08x at 0x%llx, expected 0x%08x", dev.magic,
			   (unsigned long long)w->base, VIRTIO_MMIO_MAGIC))
			continue;
		if (!check(cname(p, "version"), dev.version == 2,
			   "transport version %u, expected 2", dev.version))
			continue;
		note("%s at 0x%llx gsi %u: device %u (%s), vendor 0x%08x", p,
		     (unsigned long long)w->base, w->gsi, dev.device_id,
		     virtio_id_name(dev.device_id), dev.vendor_id);
		switch (dev.device_id) {
		case VIRTIO_ID_NONE:
			break;		/* an empty slot */
		case VIRTIO_ID_BLOCK:
			test_blk(&dev, nblk++);
			break;
		case VIRTIO_ID_RNG:
			test_rng(&dev, nrng++);
			break;
		default:
			note("%s: device type %u not exercised", p,
			     dev.device_id);
			break;
		}
	}
	check_count("virtio-blk-count", "blk", nblk);
	check_count("virtio-rng-count", "rng", nrng);
}
