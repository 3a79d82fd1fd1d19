// SPDX-License-Identifier: GPL-2.0-only
/*
 * The checks a kernel's early boot would make, against what this machine
 * promises (include/flatvm/layout.h, include/flatvm/acpi.h).
 */
#include "flatvm/layout.h"
#include "flatvm/testdev-regs.h"

#include "acpi.h"
#include "checks.h"
#include "cmdline.h"
#include "console.h"
#include "io.h"
#include "libc.h"
#include "report.h"
#include "testdev.h"

#define FADT_HW_REDUCED_ACPI	(1u << 20)
#define ACPI_S5_SLP_TYP		5	/* include/flatvm/acpi.h */
#define LOW_RAM_MIN		0x80000	/* RAM from 0 at least this long */
#define MIB			0x100000ull

/* ---- Boot hand-over ---------------------------------------------------- */

void describe_boot(const struct boot_info *bi)
{
	const struct mem_range *r;
	unsigned i;

	note("entry: %s, boot structure at 0x%llx", boot_kind_name(bi->kind),
	     (unsigned long long)bi->boot_struct);
	note("image: 0x%llx-0x%llx",
	     (unsigned long long)ptr_phys(__image_start),
	     (unsigned long long)ptr_phys(__image_end));
	if (bi->cmdline)
		note("cmdline: \"%s\"", bi->cmdline);
	for (i = 0; i < bi->nmap; i++) {
		r = &bi->map[i];
		note("memmap %u: 0x%012llx-0x%012llx %s (%u)", i,
		     (unsigned long long)r->addr,
		     (unsigned long long)(r->addr + r->size - 1),
		     e820_type_name(r->type), r->type);
	}
}

static void check_memmap(const struct boot_info *bi)
{
	const struct mem_range *r, *prev = NULL;
	uint64_t img = ptr_phys(__image_start);
	uint64_t img_len = ptr_phys(__image_end) - img;
	unsigned i;
	bool sane = true;

	if (!check("memmap-present", bi->nmap && bi->nmap_given <= BOOT_MAP_MAX,
		   "%u entries given, expected 1 to %u", bi->nmap_given,
		   BOOT_MAP_MAX))
		return;

	for (i = 0; i < bi->nmap && sane; i++) {
		r = &bi->map[i];
		if (!r->size || r->addr + r->size < r->addr ||
		    (prev && r->addr < prev->addr + prev->size)) {
			sane = false;
			break;
		}
		prev = r;
	}
	r = &bi->map[MIN(i, bi->nmap - 1)];
	check("memmap-sorted", sane,
	      "entry %u (0x%llx, size 0x%llx) is empty, wraps, or overlaps or precedes the one before",
	      i, (unsigned long long)r->addr, (unsigned long long)r->size);

	check("memmap-ram-low", boot_map_find(bi, 0, LOW_RAM_MIN, E820_RAM),
	      "no RAM entry covering 0x0-0x%x", LOW_RAM_MIN - 1);
	check("memmap-ram-high", boot_map_find(bi, img, img_len, E820_RAM),
	      "no RAM entry covering the guest image at 0x%llx-0x%llx",
	      (unsigned long long)img, (unsigned long long)(img + img_len - 1));
	check("memmap-holes",
	      !boot_map_overlaps_ram(bi, LAYOUT_LOW_RAM_END,
				     MIB - LAYOUT_LOW_RAM_END) &&
		      !boot_map_overlaps_ram(bi, LAYOUT_MMIO_HOLE_START,
					     LAYOUT_MMIO_HOLE_END -
						     LAYOUT_MMIO_HOLE_START),
	      "RAM in the legacy hole 0x%llx-0xfffff or the MMIO hole 0x%llx-0x%llx",
	      (unsigned long long)LAYOUT_LOW_RAM_END,
	      (unsigned long long)LAYOUT_MMIO_HOLE_START,
	      (unsigned long long)LAYOUT_MMIO_HOLE_END - 1);
}

static void check_cmdline(const struct boot_info *bi)
{
	if (!bi->cmdline_paddr) {
		note("no command line");
		check("cmdline", true, NULL);
		return;
	}
	check("cmdline", bi->cmdline,
	      "command line at 0x%llx is out of reach or not NUL-terminated within %u bytes",
	      (unsigned long long)bi->cmdline_paddr, BOOT_CMDLINE_MAX);
}

static void check_initrd(const struct boot_info *bi)
{
	uint64_t img = ptr_phys(__image_start);
	uint64_t img_end = ptr_phys(__image_end);
	uint64_t want;
	uint32_t h;
	const uint8_t *p;

	if (opt_is("initrd", "none")) {
		check("initrd-absent", !bi->nmodules && !bi->initrd_size,
		      "%u module(s), initrd 0x%llx size 0x%llx; expected none",
		      bi->nmodules, (unsigned long long)bi->initrd,
		      (unsigned long long)bi->initrd_size);
		return;
	}
	if (!opt_is("initrd", "expect")) {
		note("initrd: %u module(s), 0x%llx size 0x%llx (not checked: no initrd=expect|none)",
		     bi->nmodules, (unsigned long long)bi->initrd,
		     (unsigned long long)bi->initrd_size);
		return;
	}
	if (!check("initrd-present",
		   bi->nmodules && bi->initrd && bi->initrd_size,
		   "%u module(s), initrd 0x%llx size 0x%llx; expected one",
		   bi->nmodules, (unsigned long long)bi->initrd,
		   (unsigned long long)bi->initrd_size))
		return;
	if (!check("initrd-reachable", phys_ok(bi->initrd, bi->initrd_size),
		   "0x%llx size 0x%llx is not below 4 GiB",
		   (unsigned long long)bi->initrd,
		   (unsigned long long)bi->initrd_size))
		return;
	check("initrd-in-ram",
	      !bi->nmap ||
		      boot_map_find(bi, bi->initrd, bi->initrd_size, E820_RAM),
	      "0x%llx size 0x%llx is not inside one RAM entry",
	      (unsigned long long)bi->initrd,
	      (unsigned long long)bi->initrd_size);
	check("initrd-clear-of-image",
	      bi->initrd >= img_end || bi->initrd + bi->initrd_size <= img,
	      "0x%llx size 0x%llx overlaps the guest image",
	      (unsigned long long)bi->initrd,
	      (unsigned long long)bi->initrd_size);

	p = phys_ptr(bi->initrd);
	h = fnv1a32(FNV1A32_INIT, p, (size_t)bi->initrd_size);
	console_puts("# initrd: ");
	print_hex_bytes(p, (unsigned)MIN(bi->initrd_size, 16));
	printf(" ... size %llu fnv1a 0x%08x\n",
	       (unsigned long long)bi->initrd_size, h);
	if (opt_uint_get("initrd_fnv", &want))
		check("initrd-checksum", h == want,
		      "fnv1a 0x%08x, expected 0x%08x", h, (uint32_t)want);
}

static void check_pvh(const struct boot_info *bi)
{
	const struct hvm_start_info *si = phys_ptr(bi->boot_struct);

	if (!check("pvh-start-info", bi->boot_struct_ok,
		   "no hvm_start_info magic 0x%08x at 0x%llx (EBX)",
		   HVM_START_MAGIC, (unsigned long long)bi->boot_struct))
		return;
	note("start_info: version %u flags 0x%x modules %u memmap %u entries at 0x%llx",
	     si->version, si->flags, si->nr_modules, si->memmap_entries,
	     (unsigned long long)si->memmap_paddr);
	check("pvh-version", si->version >= 1,
	      "version %u; the memory map needs version 1", si->version);
	check("pvh-rsdp", si->rsdp_paddr,
	      "rsdp_paddr is 0; a PVH kernel cannot find ACPI without it");
	if (si->nr_modules)
		check("pvh-modlist", phys_ok(si->modlist_paddr,
					     sizeof(struct hvm_modlist_entry) *
						     (uint64_t)si->nr_modules),
		      "%u modules at 0x%llx: out of reach", si->nr_modules,
		      (unsigned long long)si->modlist_paddr);
}

static void check_zero_page(const struct boot_info *bi)
{
	const uint8_t *bp = phys_ptr(bi->boot_struct);
	uint16_t version;

	if (!check("bp-reachable", bi->boot_struct_ok,
		   "boot_params pointer 0x%llx out of reach (RSI/ESI)",
		   (unsigned long long)bi->boot_struct))
		return;
	version = get_le16(bp + BP_HDR_VERSION);
	note("boot_params: protocol %u.%02u loader 0x%02x loadflags 0x%02x code32_start 0x%x e820 %u",
	     version >> 8, version & 0xff, bp[BP_HDR_TYPE_OF_LOADER],
	     bp[BP_HDR_LOADFLAGS], get_le32(bp + BP_HDR_CODE32_START),
	     bp[BP_E820_ENTRIES]);
	check("bp-setup-header",
	      get_le32(bp + BP_HDR_HEADER) == BP_HEADER_MAGIC &&
		      get_le16(bp + BP_HDR_BOOT_FLAG) == BP_BOOT_FLAG &&
		      version >= 0x20f,
	      "header 0x%08x boot_flag 0x%04x version 0x%04x; expected HdrS, 0xaa55, >= 0x020f",
	      get_le32(bp + BP_HDR_HEADER), get_le16(bp + BP_HDR_BOOT_FLAG),
	      version);
	check("bp-type-of-loader", bp[BP_HDR_TYPE_OF_LOADER],
	      "type_of_loader is 0; a boot loader must set it");
	check("bp-loaded-high", bp[BP_HDR_LOADFLAGS] & 1,
	      "loadflags 0x%02x lack LOADED_HIGH", bp[BP_HDR_LOADFLAGS]);
	check("bp-code32-start",
	      get_le32(bp + BP_HDR_CODE32_START) == ptr_phys(__image_start),
	      "code32_start 0x%x, but the image runs at 0x%llx",
	      get_le32(bp + BP_HDR_CODE32_START),
	      (unsigned long long)ptr_phys(__image_start));
	if (bi->kind == ENTRY_BZIMAGE64)
		check("bp-acpi-rsdp-addr", bi->rsdp,
		      "acpi_rsdp_addr is 0; the 64-bit protocol has no BIOS to scan");
	else
		note("acpi_rsdp_addr 0x%llx (optional on this entry)",
		     (unsigned long long)bi->rsdp);
}

void check_boot(const struct boot_info *bi)
{
	if (bi->kind == ENTRY_PVH)
		check_pvh(bi);
	else
		check_zero_page(bi);
	if (!bi->boot_struct_ok)
		return;
	check_memmap(bi);
	check_cmdline(bi);
	check_initrd(bi);
}

/* ---- ACPI -------------------------------------------------------------- */

uint64_t boot_rsdp_hint(const struct boot_info *bi)
{
	return bi->boot_struct_ok ? bi->rsdp : 0;
}

static bool sig_printable(const char *sig)
{
	unsigned i;

	for (i = 0; i < 4; i++)
		if (sig[i] < '0' || sig[i] > 'Z')
			return false;
	return true;
}

static void check_table(const char *what, const struct acpi_table *t,
			const char *sig)
{
	char name[40];

	snprintf(name, sizeof(name), "acpi-%s", what);
	if (!check(name, t->reachable && !memcmp(t->sig, sig, 4),
		   "table at 0x%llx: signature \"%.4s\" length %u; expected a reachable %s",
		   (unsigned long long)t->addr, t->sig, t->len, sig))
		return;
	snprintf(name, sizeof(name), "acpi-%s-checksum", what);
	check(name, t->sum_ok, "bytes of %.4s at 0x%llx do not sum to 0",
	      t->sig, (unsigned long long)t->addr);
}

static void check_tables_not_ram(const struct boot_info *bi)
{
	const struct acpi_table *t;
	unsigned i;
	bool ok = !boot_map_overlaps_ram(bi, acpi.rsdp, 36);
	uint64_t bad = acpi.rsdp;

	for (i = 0; ok && i <= acpi.ntables; i++) {
		t = i < acpi.ntables ? &acpi.tables[i] : &acpi.dsdt;
		if (t->reachable &&
		    boot_map_overlaps_ram(bi, t->addr, t->len)) {
			ok = false;
			bad = t->addr;
		}
	}
	if (ok && acpi.root.reachable &&
	    boot_map_overlaps_ram(bi, acpi.root.addr, acpi.root.len)) {
		ok = false;
		bad = acpi.root.addr;
	}
	check("acpi-tables-reserved", ok,
	      "table at 0x%llx lies in RAM the memory map hands out",
	      (unsigned long long)bad);
}

static void check_virtio_windows(void)
{
	const struct acpi_virtio_dev *d;
	uint64_t want, slot;
	unsigned i;
	char name[32];

	for (i = 0; i < acpi.nvirtio; i++) {
		d = &acpi.virtio[i];
		note("virtio-mmio %u: 0x%llx size 0x%llx gsi %u", i,
		     (unsigned long long)d->base, (unsigned long long)d->size,
		     d->gsi);
	}
	if (opt_uint_get("virtio", &want))
		check("acpi-virtio-count", acpi.nvirtio_found == want,
		      "DSDT has %u LNRO0005 devices, expected %llu",
		      acpi.nvirtio_found, (unsigned long long)want);
	else
		note("DSDT has %u LNRO0005 devices (not checked: no virtio=N)",
		     acpi.nvirtio_found);

	for (i = 0; i < acpi.nvirtio; i++) {
		d = &acpi.virtio[i];
		snprintf(name, sizeof(name), "acpi-virtio%u-crs", i);
		if (!check(name, d->has_mem && d->has_irq,
			   "_CRS without a memory window or an interrupt"))
			continue;
		slot = (d->base - LAYOUT_VIRTIO_MMIO_BASE) /
		       LAYOUT_VIRTIO_MMIO_SIZE;
		snprintf(name, sizeof(name), "acpi-virtio%u-window", i);
		check(name,
		      d->base >= LAYOUT_VIRTIO_MMIO_BASE &&
			      slot < LAYOUT_VIRTIO_MMIO_MAX &&
			      !(d->base % LAYOUT_VIRTIO_MMIO_SIZE) &&
			      d->size == LAYOUT_VIRTIO_MMIO_SIZE,
		      "0x%llx size 0x%llx; expected a 0x%llx-byte slot from 0x%llx",
		      (unsigned long long)d->base, (unsigned long long)d->size,
		      (unsigned long long)LAYOUT_VIRTIO_MMIO_SIZE,
		      (unsigned long long)LAYOUT_VIRTIO_MMIO_BASE);
		snprintf(name, sizeof(name), "acpi-virtio%u-gsi", i);
		if (d->base >= LAYOUT_VIRTIO_MMIO_BASE &&
		    slot < LAYOUT_VIRTIO_GSI_COUNT)
			check(name, d->gsi == layout_virtio_gsi((unsigned)slot),
			      "gsi %u, expected %u for slot %llu", d->gsi,
			      layout_virtio_gsi((unsigned)slot),
			      (unsigned long long)slot);
		else
			check(name, d->gsi <= LAYOUT_GSI_MAX,
			      "gsi %u beyond the IOAPIC's %u", d->gsi,
			      LAYOUT_GSI_MAX);
	}
}

void check_acpi(const struct boot_info *bi)
{
	uint64_t hint = boot_rsdp_hint(bi), cpus;
	const struct acpi_table *t;
	unsigned i;
	char name[40];

	acpi_load(hint);
	if (!check("acpi-rsdp", acpi.loaded,
		   "no RSDP at 0x%llx (0: not given, and none in 0xe0000-0xfffff)",
		   (unsigned long long)hint))
		return;
	note("RSDP at 0x%llx (%s), revision %u", (unsigned long long)acpi.rsdp,
	     acpi.rsdp_scanned ? "found by scanning" : "from the loader",
	     acpi.rsdp_revision);
	check("acpi-rsdp-checksum", acpi.rsdp_sum_ok,
	      "first 20 bytes do not sum to 0 (or no \"RSD PTR \")");
	if (check("acpi-rsdp-revision", acpi.rsdp_revision >= 2,
		  "revision %u; expected 2 (with an XSDT)",
		  acpi.rsdp_revision))
		check("acpi-rsdp-ext-checksum", acpi.rsdp_ext_sum_ok,
		      "the 36 bytes do not sum to 0");
	check_table("xsdt", &acpi.root, acpi.root_is_xsdt ? "XSDT" : "RSDT");
	if (!acpi.root_is_xsdt)
		check("acpi-xsdt-used", false, "no XSDT; fell back to the RSDT");

	for (i = 0; i < acpi.ntables; i++) {
		t = &acpi.tables[i];
		note("table %u: %.4s at 0x%llx length %u", i, t->sig,
		     (unsigned long long)t->addr, t->len);
		snprintf(name, sizeof(name), "acpi-%.4s-checksum",
			 sig_printable(t->sig) ? t->sig : "????");
		check(name, t->reachable && t->sum_ok,
		      "%s", t->reachable ? "bytes do not sum to 0" :
					   "out of reach or bad length");
	}
	check("acpi-xsdt-lists-facp", acpi.fadt >= 0, "no FACP among %u tables",
	      acpi.ntables);
	check("acpi-xsdt-lists-apic", acpi.madt >= 0, "no APIC among %u tables",
	      acpi.ntables);

	if (acpi.fadt >= 0) {
		check("acpi-fadt-dsdt", acpi.have_dsdt,
		      "FADT has neither X_DSDT nor DSDT");
		check("acpi-fadt-hw-reduced",
		      acpi.fadt_flags & FADT_HW_REDUCED_ACPI,
		      "flags 0x%x lack HW_REDUCED_ACPI", acpi.fadt_flags);
		check("acpi-fadt-sleep-reg",
		      acpi.have_sleep_reg && acpi.sleep_space == ACPI_GAS_IO &&
			      acpi.sleep_addr == LAYOUT_PORT_ACPI_SLEEP,
		      "SLEEP_CONTROL_REG space %u address 0x%llx; expected port 0x%x",
		      acpi.sleep_space, (unsigned long long)acpi.sleep_addr,
		      LAYOUT_PORT_ACPI_SLEEP);
	}
	if (acpi.madt >= 0) {
		check("acpi-madt-lapic", acpi.lapic_addr == LAYOUT_LAPIC,
		      "local APIC address 0x%x, expected 0x%llx",
		      acpi.lapic_addr, (unsigned long long)LAYOUT_LAPIC);
		check("acpi-madt-ioapic",
		      acpi.nioapic == 1 && acpi.ioapic_addr == LAYOUT_IOAPIC,
		      "%u IOAPICs, the first at 0x%x; expected one at 0x%llx",
		      acpi.nioapic, acpi.ioapic_addr,
		      (unsigned long long)LAYOUT_IOAPIC);
		if (opt_uint_get("cpus", &cpus))
			check("acpi-madt-cpus", acpi.nlapic == cpus,
			      "%u enabled local APICs, expected %llu",
			      acpi.nlapic, (unsigned long long)cpus);
		else
			check("acpi-madt-cpus", acpi.nlapic >= 1,
			      "no enabled local APIC");
	}
	if (!acpi.have_dsdt)
		return;
	check_table("dsdt", &acpi.dsdt, "DSDT");
	check("acpi-dsdt-s5", acpi.s5_typ == ACPI_S5_SLP_TYP,
	      "\\_S5 SLP_TYPa %d, expected %d (-1: not found)", acpi.s5_typ,
	      ACPI_S5_SLP_TYP);
	if (bi->nmap)
		check_tables_not_ram(bi);
	check_virtio_windows();
}

/* ---- Devices ----------------------------------------------------------- */

void check_testdev(void)
{
	uint32_t id_mmio = testdev_mmio_read(TESTDEV_ID);
	uint32_t id_pio = testdev_pio_read(TESTDEV_ID);
	uint32_t v, c1, c2;
	bool mmio, pio;

	mmio = check("testdev-id-mmio", id_mmio == TESTDEV_MAGIC,
		     "ID at 0x%llx reads 0x%08x, expected 0x%08x",
		     (unsigned long long)LAYOUT_TESTDEV_MMIO, id_mmio,
		     TESTDEV_MAGIC);
	pio = check("testdev-id-pio", id_pio == TESTDEV_MAGIC,
		    "ID at port 0x%x reads 0x%08x, expected 0x%08x",
		    LAYOUT_PORT_TESTDEV, id_pio, TESTDEV_MAGIC);

	if (mmio) {
		testdev_mmio_write(TESTDEV_SCRATCH, 0x5a5aa5a5);
		v = testdev_mmio_read(TESTDEV_SCRATCH);
		check("testdev-scratch-mmio", v == 0x5a5aa5a5,
		      "wrote 0x5a5aa5a5, read 0x%08x", v);
		c1 = testdev_mmio_read(TESTDEV_COUNTER);
		c2 = testdev_mmio_read(TESTDEV_COUNTER);
		check("testdev-counter-mmio", c2 == c1 + 1,
		      "two reads gave %u then %u", c1, c2);
		testdev_mmio_write(TESTDEV_RESULT, 0xfeedf00d);
		v = testdev_mmio_read(TESTDEV_RESULT);
		check("testdev-result", v == 0xfeedf00d,
		      "wrote 0xfeedf00d, read 0x%08x", v);
	}
	if (pio) {
		testdev_pio_write(TESTDEV_SCRATCH, 0x12345678);
		v = testdev_pio_read(TESTDEV_SCRATCH);
		check("testdev-scratch-pio", v == 0x12345678,
		      "wrote 0x12345678, read 0x%08x", v);
		c1 = testdev_pio_read(TESTDEV_COUNTER);
		c2 = testdev_pio_read(TESTDEV_COUNTER);
		check("testdev-counter-pio", c2 == c1 + 1,
		      "two reads gave %u then %u", c1, c2);
	}
	if (mmio && pio) {
		testdev_pio_write(TESTDEV_SCRATCH, 0xc0ffee11);
		v = testdev_mmio_read(TESTDEV_SCRATCH);
		check("testdev-scratch-shared", v == 0xc0ffee11,
		      "wrote 0xc0ffee11 through the port, read 0x%08x through MMIO",
		      v);
	}
	if (!mmio || !pio)
		note("test device missing in %s: its register checks were skipped",
		     !mmio && !pio ? "both windows" :
		     !mmio	   ? "the MMIO window" :
				     "the port window");
}

#define UART_SCR	7

void check_uart(void)
{
	uint8_t a, b;

	outb(LAYOUT_PORT_COM1 + UART_SCR, 0xa5);
	a = inb(LAYOUT_PORT_COM1 + UART_SCR);
	outb(LAYOUT_PORT_COM1 + UART_SCR, 0x5a);
	b = inb(LAYOUT_PORT_COM1 + UART_SCR);
	check("uart-scratch", a == 0xa5 && b == 0x5a,
	      "wrote 0xa5 and 0x5a to the 16550 scratch register, read 0x%02x and 0x%02x",
	      a, b);
}
