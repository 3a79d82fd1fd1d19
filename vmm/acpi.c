// SPDX-License-Identifier: GPL-2.0-only
/*
 * The microVM's ACPI tables: RSDP, XSDT, FADT (hardware-reduced), MADT and
 * a DSDT with \_S5, the virtio-mmio transports and optionally COM1.
 *
 * Layouts are declared here from the ACPI Specification 6.5 (section
 * numbers below); Linux's UAPI headers have no ACPI table structs.  The
 * tables are built in host memory for a guest-physical base, so every
 * pointer field holds base + offset.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "flatvm/acpi.h"
#include "aml.h"

/* The table structs below are the guest's bytes: little endian only. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "ACPI tables are built in host byte order");

#define ACPI_OEM_ID		"FLATVM"
#define ACPI_OEM_REVISION	1
#define ACPI_CREATOR_ID		"FLVM"
#define ACPI_CREATOR_REVISION	1
#define ACPI_HYPERVISOR_ID	"FLATVM"

#define TABLE_ALIGN		16

_Static_assert(ACPI_MAX_VIRTIO_WINDOWS <= 256, "device names are VR00-VRFF");

_Static_assert(sizeof(ACPI_OEM_ID) - 1 == 6, "OEM IDs are 6 bytes");
_Static_assert(sizeof(ACPI_HYPERVISOR_ID) - 1 <= 8,
	       "the hypervisor vendor identity is 8 bytes");

/* ---- Layouts ---------------------------------------------------------- */

/* Root System Description Pointer, revision 2 (5.2.5.3). */
struct acpi_rsdp {
	char signature[8];		/* "RSD PTR " */
	uint8_t checksum;		/* over the first 20 bytes */
	char oem_id[6];
	uint8_t revision;		/* 2: has the fields below */
	uint32_t rsdt_address;
	uint32_t length;		/* of this struct: 36 */
	uint64_t xsdt_address;
	uint8_t extended_checksum;	/* over all 36 bytes */
	uint8_t reserved[3];
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP is 36 bytes");

#define RSDP_V1_LENGTH		20

/* System Description Table Header (5.2.6). */
struct acpi_header {
	char signature[4];
	uint32_t length;		/* of the whole table */
	uint8_t revision;
	uint8_t checksum;		/* the table's bytes sum to 0 */
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_header) == 36, "table header is 36 bytes");

/* Generic Address Structure (5.2.3.2). */
struct acpi_gas {
	uint8_t space_id;
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;		/* 1 byte ... 4 qword */
	uint64_t address;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_gas) == 12, "GAS is 12 bytes");

#define ACPI_GAS_SYSTEM_IO	1
#define ACPI_GAS_ACCESS_BYTE	1

/* Fixed ACPI Description Table, revision 6 (5.2.9, Table 5.9). */
struct acpi_fadt {
	struct acpi_header header;		/* "FACP" */
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable;
	uint8_t acpi_disable;
	uint8_t s4bios_req;
	uint8_t pstate_cnt;
	uint32_t pm1a_evt_blk;
	uint32_t pm1b_evt_blk;
	uint32_t pm1a_cnt_blk;
	uint32_t pm1b_cnt_blk;
	uint32_t pm2_cnt_blk;
	uint32_t pm_tmr_blk;
	uint32_t gpe0_blk;
	uint32_t gpe1_blk;
	uint8_t pm1_evt_len;
	uint8_t pm1_cnt_len;
	uint8_t pm2_cnt_len;
	uint8_t pm_tmr_len;
	uint8_t gpe0_blk_len;
	uint8_t gpe1_blk_len;
	uint8_t gpe1_base;
	uint8_t cst_cnt;
	uint16_t p_lvl2_lat;
	uint16_t p_lvl3_lat;
	uint16_t flush_size;
	uint16_t flush_stride;
	uint8_t duty_offset;
	uint8_t duty_width;
	uint8_t day_alrm;
	uint8_t mon_alrm;
	uint8_t century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas x_pm1a_evt_blk;
	struct acpi_gas x_pm1b_evt_blk;
	struct acpi_gas x_pm1a_cnt_blk;
	struct acpi_gas x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk;
	struct acpi_gas x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk;
	struct acpi_gas x_gpe1_blk;
	struct acpi_gas sleep_control_reg;
	struct acpi_gas sleep_status_reg;
	char hypervisor_vendor_id[8];
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT 6.x is 276 bytes");
_Static_assert(offsetof(struct acpi_fadt, flags) == 112, "FADT Flags");
_Static_assert(offsetof(struct acpi_fadt, x_dsdt) == 140, "FADT X_DSDT");
_Static_assert(offsetof(struct acpi_fadt, sleep_control_reg) == 244,
	       "FADT SLEEP_CONTROL_REG");

/* IA-PC Boot Architecture Flags (5.2.9.3). */
#define FADT_BOOT_8042			(1u << 1)
#define FADT_BOOT_VGA_NOT_PRESENT	(1u << 2)
#define FADT_BOOT_CMOS_RTC_NOT_PRESENT	(1u << 5)

/* Fixed feature flags (5.2.9, Table 5.10). */
#define FADT_PWR_BUTTON			(1u << 4)
#define FADT_SLP_BUTTON			(1u << 5)
#define FADT_HW_REDUCED_ACPI		(1u << 20)

/* Multiple APIC Description Table (5.2.12). */
struct acpi_madt {
	struct acpi_header header;		/* "APIC" */
	uint32_t lapic_address;
	uint32_t flags;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_madt) == 44, "MADT header is 44 bytes");

#define MADT_PCAT_COMPAT		(1u << 0)

/* Processor Local APIC Structure (5.2.12.2). */
struct acpi_madt_lapic {
	uint8_t type;			/* 0 */
	uint8_t length;			/* 8 */
	uint8_t processor_uid;
	uint8_t apic_id;
	uint32_t flags;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_madt_lapic) == 8, "Local APIC entry");

#define MADT_TYPE_LAPIC			0
#define MADT_LAPIC_ENABLED		(1u << 0)

/* I/O APIC Structure (5.2.12.3). */
struct acpi_madt_ioapic {
	uint8_t type;			/* 1 */
	uint8_t length;			/* 12 */
	uint8_t ioapic_id;
	uint8_t reserved;
	uint32_t address;
	uint32_t gsi_base;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_madt_ioapic) == 12, "I/O APIC entry");

#define MADT_TYPE_IOAPIC		1

/* ---- Helpers ---------------------------------------------------------- */

static size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* The byte that makes @len bytes at @p sum to zero, given they hold 0 now. */
static uint8_t acpi_checksum(const void *p, size_t len)
{
	const uint8_t *c = p;
	uint8_t sum = 0;

	while (len--)
		sum += *c++;
	return -sum;
}

/* Fill an unpadded fixed-width field from a string of at most @n bytes. */
static void put_id(char *field, const char *s, size_t n)
{
	size_t l = strlen(s);

	memset(field, ' ', n);
	memcpy(field, s, l < n ? l : n);
}

static void acpi_header_init(struct acpi_header *h, const char *sig,
			     uint32_t length, uint8_t revision,
			     const char *table_id)
{
	memcpy(h->signature, sig, 4);
	h->length = length;
	h->revision = revision;
	h->checksum = 0;
	put_id(h->oem_id, ACPI_OEM_ID, sizeof(h->oem_id));
	put_id(h->oem_table_id, table_id, sizeof(h->oem_table_id));
	h->oem_revision = ACPI_OEM_REVISION;
	memcpy(h->creator_id, ACPI_CREATOR_ID, 4);
	h->creator_revision = ACPI_CREATOR_REVISION;
}

/* Set the checksum of the table at @table, whose header is filled in. */
static void acpi_table_seal(uint8_t *table)
{
	struct acpi_header h;

	memcpy(&h, table, sizeof(h));
	table[offsetof(struct acpi_header, checksum)] =
		acpi_checksum(table, h.length);
}

/* ---- Validation ------------------------------------------------------- */

static bool window_below_4g(const struct acpi_virtio_window *w)
{
	return w->base + w->size <= (1ull << 32);
}

static int acpi_check_windows(const struct acpi_config *cfg,
			      struct error *err)
{
	const struct acpi_virtio_window *w, *o;
	unsigned i, j;

	if (cfg->nr_virtio > ACPI_MAX_VIRTIO_WINDOWS)
		return error_setf(err, EINVAL,
				  "acpi: %u virtio-mmio windows configured; at most %u can be described",
				  cfg->nr_virtio, ACPI_MAX_VIRTIO_WINDOWS);
	if (cfg->nr_virtio && !cfg->virtio)
		return error_setf(err, EINVAL,
				  "acpi: %u virtio-mmio windows configured but the window array is missing",
				  cfg->nr_virtio);

	for (i = 0; i < cfg->nr_virtio; i++) {
		w = &cfg->virtio[i];
		if (!w->size || w->base + (w->size - 1) < w->base)
			return error_setf(err, EINVAL,
					  "acpi: virtio-mmio window %u (base 0x%" PRIx64 ", size 0x%" PRIx64 ") is empty or wraps past 2^64; expected a non-empty range",
					  i, w->base, w->size);
		if (w->gsi >= ACPI_IOAPIC_PINS)
			return error_setf(err, EINVAL,
					  "acpi: virtio-mmio window %u uses GSI %" PRIu32 "; the IOAPIC has GSIs 0 to %u",
					  i, w->gsi, ACPI_IOAPIC_PINS - 1);
		if (cfg->serial && w->gsi == ACPI_COM1_GSI)
			return error_setf(err, EINVAL,
					  "acpi: virtio-mmio window %u uses GSI %u, which COM1 owns; pick another GSI or drop the serial port",
					  i, ACPI_COM1_GSI);
		for (j = 0; j < i; j++) {
			o = &cfg->virtio[j];
			if (w->base <= o->base + (o->size - 1) &&
			    o->base <= w->base + (w->size - 1))
				return error_setf(err, EINVAL,
						  "acpi: virtio-mmio windows %u and %u overlap; expected disjoint windows",
						  j, i);
			if (w->gsi == o->gsi && w->level != o->level)
				return error_setf(err, EINVAL,
						  "acpi: virtio-mmio windows %u and %u share GSI %" PRIu32 " but one is edge- and the other level-triggered; a shared GSI needs one trigger mode",
						  j, i, w->gsi);
		}
	}
	return 0;
}

static int acpi_check_config(const struct acpi_config *cfg, struct error *err)
{
	if (cfg->ncpus < 1 || cfg->ncpus > ACPI_MAX_CPUS)
		return error_setf(err, EINVAL,
				  "acpi: %u vCPUs configured; expected 1 to %u (one xAPIC ID each, 255 is broadcast)",
				  cfg->ncpus, ACPI_MAX_CPUS);
	if (cfg->base_gpa % ACPI_RSDP_ALIGN)
		return error_setf(err, EINVAL,
				  "acpi: base address 0x%" PRIx64 " is not %u-byte aligned, as the RSDP must be",
				  cfg->base_gpa, ACPI_RSDP_ALIGN);
	if (!cfg->ioapic_addr)
		return error_setf(err, EINVAL,
				  "acpi: no IOAPIC address configured; expected its MMIO base, usually 0x%x",
				  ACPI_IOAPIC_DEFAULT_ADDR);
	if (!cfg->sleep_port)
		return error_setf(err, EINVAL,
				  "acpi: sleep port is 0; expected the I/O port of the sleep control register (0 tells the guest there is none)");
	if (cfg->serial && cfg->sleep_port >= ACPI_COM1_PORT &&
	    cfg->sleep_port < ACPI_COM1_PORT + 8)
		return error_setf(err, EINVAL,
				  "acpi: sleep port 0x%x is inside COM1's ports 0x%x-0x%x",
				  cfg->sleep_port, ACPI_COM1_PORT,
				  ACPI_COM1_PORT + 7);
	return acpi_check_windows(cfg, err);
}

/* ---- DSDT ------------------------------------------------------------- */

static bool gsi_shared(const struct acpi_config *cfg, unsigned idx)
{
	unsigned i;

	for (i = 0; i < cfg->nr_virtio; i++)
		if (i != idx && cfg->virtio[i].gsi == cfg->virtio[idx].gsi)
			return true;
	return false;
}

/*
 * Device (COM1): the 8250 UART at 0x3f8, interrupt 4.  Linux on x86 finds
 * COM1 without it (the 8250 driver's table of legacy ports), but described
 * here the ports and the interrupt are claimed by a named ACPI device, as
 * they would be on a PC.
 */
static void dsdt_com1(struct aml_buf *b)
{
	static const uint32_t irq = ACPI_COM1_GSI;

	aml_device_begin(b, "COM1");
	aml_name_decl(b, "_HID");
	aml_eisaid(b, "PNP0501");
	aml_name_integer(b, "_UID", 0);
	aml_name_decl(b, "_CRS");
	aml_restemplate_begin(b);
	aml_res_io(b, true, ACPI_COM1_PORT, ACPI_COM1_PORT, 1, 8);
	aml_res_interrupt(b, AML_IRQ_CONSUMER | AML_IRQ_EDGE, &irq, 1);
	aml_end(b);
	aml_end(b);
}

/*
 * Device (VRnn): a virtio-mmio transport, matched by virtio_mmio's ACPI id
 * "LNRO0005".  The driver takes the first memory resource as the register
 * window and the first interrupt as its interrupt.
 */
static void dsdt_virtio(struct aml_buf *b, const struct acpi_config *cfg,
			unsigned idx)
{
	static const char hex[] = "0123456789ABCDEF";
	const struct acpi_virtio_window *w = &cfg->virtio[idx];
	unsigned flags = AML_IRQ_CONSUMER;
	/* VR00..VR1F: two hex digits cover ACPI_MAX_VIRTIO_WINDOWS. */
	char name[] = { 'V', 'R', hex[(idx >> 4) & 0xf], hex[idx & 0xf], 0 };

	if (!w->level)
		flags |= AML_IRQ_EDGE;
	if (gsi_shared(cfg, idx))
		flags |= AML_IRQ_SHARED;

	aml_device_begin(b, name);
	aml_name_string(b, "_HID", "LNRO0005");
	aml_name_integer(b, "_UID", idx);
	aml_name_decl(b, "_CRS");
	aml_restemplate_begin(b);
	if (window_below_4g(w))
		aml_res_memory32_fixed(b, true, w->base, w->size);
	else
		aml_res_qword_memory(b, false, true, w->base, w->size);
	aml_res_interrupt(b, flags, &w->gsi, 1);
	aml_end(b);
	aml_end(b);
}

/* The DSDT's definition block (5.2.11.1): AML after the header. */
static int dsdt_build(struct aml_buf *b, const struct acpi_config *cfg)
{
	unsigned i;

	/*
	 * \_S5: SLP_TYPa, SLP_TYPb and two reserved elements.  On hardware-
	 * reduced ACPI only SLP_TYPa matters: it goes into the sleep control
	 * register.
	 */
	aml_name_decl(b, "_S5");
	aml_package_begin(b, 4);
	aml_integer(b, ACPI_S5_SLP_TYP);
	aml_integer(b, 0);
	aml_integer(b, 0);
	aml_integer(b, 0);
	aml_end(b);

	aml_scope_begin(b, "\\_SB");
	if (cfg->serial)
		dsdt_com1(b);
	for (i = 0; i < cfg->nr_virtio; i++)
		dsdt_virtio(b, cfg, i);
	aml_end(b);
	return aml_error(b);
}

/* ---- The other tables ------------------------------------------------- */

static void fadt_build(uint8_t *p, const struct acpi_config *cfg,
		       uint64_t dsdt_gpa)
{
	const struct acpi_gas sleep_reg = {
		.space_id = ACPI_GAS_SYSTEM_IO,
		.bit_width = 8,
		.bit_offset = 0,
		.access_size = ACPI_GAS_ACCESS_BYTE,
		.address = cfg->sleep_port,
	};
	struct acpi_fadt fadt = {
		/*
		 * Hardware-reduced: no SCI, no PM1/GPE blocks, no FACS, no
		 * SMI command port; power management goes through the sleep
		 * registers.  There are no fixed power or sleep buttons.
		 */
		.flags = FADT_HW_REDUCED_ACPI | FADT_PWR_BUTTON |
			 FADT_SLP_BUTTON,
		/* Only the legacy devices the machine really has. */
		.iapc_boot_arch = FADT_BOOT_VGA_NOT_PRESENT |
				  (cfg->i8042 ? FADT_BOOT_8042 : 0) |
				  (cfg->rtc ? 0 : FADT_BOOT_CMOS_RTC_NOT_PRESENT),
		.minor_version = 5,
		/* The CMOS RTC keeps the century at index 0x32. */
		.century = cfg->rtc ? 0x32 : 0,
		/* Both DSDT pointers, equal, so no OS sees a mismatch. */
		.dsdt = dsdt_gpa,
		.x_dsdt = dsdt_gpa,
		.sleep_control_reg = sleep_reg,
		.sleep_status_reg = sleep_reg,
	};

	acpi_header_init(&fadt.header, "FACP", sizeof(fadt), 6, "FVMFACP");
	/* The 8-byte id, zero padded: "FLATVM\0\0". */
	memcpy(fadt.hypervisor_vendor_id, ACPI_HYPERVISOR_ID,
	       strlen(ACPI_HYPERVISOR_ID));
	memcpy(p, &fadt, sizeof(fadt));
	acpi_table_seal(p);
}

/*
 * MADT: the local APIC address, one enabled Processor Local APIC per vCPU
 * and the IOAPIC with GSI base 0.
 *
 * No Interrupt Source Overrides, on purpose:
 *  - KVM's default GSI routing wires ISA IRQ n to IOAPIC pin n, including
 *    the PIT on pin 0 (a PC chipset wires it to pin 2 and says so with an
 *    IRQ0 -> GSI2 override); the identity mapping Linux assumes for ISA
 *    IRQs 0-15 without overrides (edge, active-high) is exactly right.
 *  - Hardware-reduced ACPI has no SCI, so no SCI override either.
 *  - virtio-mmio and COM1 interrupts are described, trigger and polarity
 *    included, by their Extended Interrupt descriptors in the DSDT, which
 *    Linux takes as they are.
 */
static size_t madt_size(const struct acpi_config *cfg)
{
	return sizeof(struct acpi_madt) +
	       cfg->ncpus * sizeof(struct acpi_madt_lapic) +
	       sizeof(struct acpi_madt_ioapic);
}

static void madt_build(uint8_t *p, const struct acpi_config *cfg)
{
	struct acpi_madt madt = {
		.lapic_address = ACPI_LAPIC_ADDR,
		/* KVM's in-kernel irqchip has the two 8259s as well. */
		.flags = MADT_PCAT_COMPAT,
	};
	struct acpi_madt_ioapic ioapic = {
		.type = MADT_TYPE_IOAPIC,
		.length = sizeof(ioapic),
		.ioapic_id = 0,		/* KVM's IOAPIC resets to ID 0 */
		.address = cfg->ioapic_addr,
		.gsi_base = 0,
	};
	size_t off = sizeof(madt);
	unsigned i;

	acpi_header_init(&madt.header, "APIC", madt_size(cfg), 5, "FVMAPIC");
	memcpy(p, &madt, sizeof(madt));
	for (i = 0; i < cfg->ncpus; i++) {
		struct acpi_madt_lapic lapic = {
			.type = MADT_TYPE_LAPIC,
			.length = sizeof(lapic),
			.processor_uid = i,
			.apic_id = i,
			.flags = MADT_LAPIC_ENABLED,
		};

		memcpy(p + off, &lapic, sizeof(lapic));
		off += sizeof(lapic);
	}
	memcpy(p + off, &ioapic, sizeof(ioapic));
	acpi_table_seal(p);
}

static void xsdt_build(uint8_t *p, const uint64_t *entries, unsigned n)
{
	struct acpi_header h;

	acpi_header_init(&h, "XSDT", sizeof(h) + 8 * n, 1, "FVMXSDT");
	memcpy(p, &h, sizeof(h));
	/* 64-bit entries at offset 36: unaligned, as the spec has it. */
	memcpy(p + sizeof(h), entries, 8 * n);
	acpi_table_seal(p);
}

static void rsdp_build(uint8_t *p, uint64_t xsdt_gpa)
{
	struct acpi_rsdp rsdp = {
		.signature = { 'R', 'S', 'D', ' ', 'P', 'T', 'R', ' ' },
		.revision = 2,
		/* No RSDT: a revision 2 RSDP's XSDT is what OSes use. */
		.rsdt_address = 0,
		.length = sizeof(rsdp),
		.xsdt_address = xsdt_gpa,
	};

	put_id(rsdp.oem_id, ACPI_OEM_ID, sizeof(rsdp.oem_id));
	rsdp.checksum = acpi_checksum(&rsdp, RSDP_V1_LENGTH);
	rsdp.extended_checksum = acpi_checksum(&rsdp, sizeof(rsdp));
	memcpy(p, &rsdp, sizeof(rsdp));
}

/* ---- Entry points ----------------------------------------------------- */

int acpi_build(const struct acpi_config *cfg, struct acpi_tables *out,
	       struct error *err)
{
	size_t xsdt_off, fadt_off, madt_off, dsdt_off, len;
	struct acpi_header dsdt;
	uint64_t xsdt_entries[2];
	struct aml_buf aml;
	uint8_t *blob;
	int ret;

	ret = acpi_check_config(cfg, err);
	if (ret)
		return ret;

	aml_init(&aml);
	ret = dsdt_build(&aml, cfg);
	if (ret) {
		/* Only allocation can fail once the config is checked. */
		error_setf(err, -ret, "acpi: cannot encode the DSDT (%s)",
			   strerror(-ret));
		goto err_aml;
	}

	/* RSDP first, so a BIOS-area base puts it where scans look. */
	xsdt_off = align_up(sizeof(struct acpi_rsdp), TABLE_ALIGN);
	fadt_off = align_up(xsdt_off + sizeof(struct acpi_header) +
			    sizeof(xsdt_entries), TABLE_ALIGN);
	madt_off = align_up(fadt_off + sizeof(struct acpi_fadt), TABLE_ALIGN);
	dsdt_off = align_up(madt_off + madt_size(cfg), TABLE_ALIGN);
	len = dsdt_off + sizeof(struct acpi_header) + aml.len;

	if (cfg->base_gpa > (1ull << 32) - len) {
		uint64_t max_base = (1ull << 32) - len;

		ret = error_setf(err, EINVAL,
				 "acpi: tables at 0x%" PRIx64 " would end past 4 GiB (%zu bytes); expected a base of at most 0x%" PRIx64,
				 cfg->base_gpa, len, max_base);
		goto err_aml;
	}

	blob = calloc(1, len);
	if (!blob) {
		ret = error_setf(err, ENOMEM,
				 "acpi: cannot allocate %zu bytes for the tables",
				 len);
		goto err_aml;
	}

	acpi_header_init(&dsdt, "DSDT", sizeof(dsdt) + aml.len, 2, "FVMDSDT");
	memcpy(blob + dsdt_off, &dsdt, sizeof(dsdt));
	memcpy(blob + dsdt_off + sizeof(dsdt), aml.data, aml.len);
	acpi_table_seal(blob + dsdt_off);

	madt_build(blob + madt_off, cfg);
	fadt_build(blob + fadt_off, cfg, cfg->base_gpa + dsdt_off);
	xsdt_entries[0] = cfg->base_gpa + fadt_off;
	xsdt_entries[1] = cfg->base_gpa + madt_off;
	xsdt_build(blob + xsdt_off, xsdt_entries, ARRAY_SIZE(xsdt_entries));
	rsdp_build(blob, cfg->base_gpa + xsdt_off);
	aml_release(&aml);

	*out = (struct acpi_tables){
		.blob = blob,
		.len = len,
		.rsdp_gpa = cfg->base_gpa,
		.xsdt_off = xsdt_off,
		.fadt_off = fadt_off,
		.madt_off = madt_off,
		.dsdt_off = dsdt_off,
	};
	return 0;

err_aml:
	aml_release(&aml);
	return ret;
}

void acpi_tables_free(struct acpi_tables *t)
{
	if (!t)
		return;
	free(t->blob);
	*t = (struct acpi_tables){ 0 };
}
