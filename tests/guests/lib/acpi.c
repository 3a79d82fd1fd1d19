// SPDX-License-Identifier: GPL-2.0-only
/*
 * ACPI tables, read-only.  Every address found in a table is checked with
 * phys_ok() before it is followed, and every AML byte read is bounded by
 * the DSDT's length: a broken table makes a check fail, never a fault.
 */
#include "flatvm/layout.h"

#include "acpi.h"
#include "io.h"
#include "libc.h"

struct acpi_info acpi;

/* RSDP (5.2.5.3) field offsets. */
#define RSDP_SIG		0
#define RSDP_REVISION		15
#define RSDP_RSDT		16
#define RSDP_LENGTH		20
#define RSDP_XSDT		24
#define RSDP_V1_LEN		20
#define RSDP_V2_LEN		36

/* Header (5.2.6) field offsets. */
#define HDR_LENGTH		4

/* FADT (5.2.9) field offsets. */
#define FADT_DSDT		40
#define FADT_FLAGS		112
#define FADT_X_DSDT		140
#define FADT_SLEEP_CONTROL	244
#define GAS_LEN			12

/* MADT (5.2.12). */
#define MADT_LAPIC_ADDR		36
#define MADT_ENTRIES		44
#define MADT_TYPE_LAPIC		0
#define MADT_TYPE_IOAPIC	1
#define MADT_TYPE_X2APIC	9
#define MADT_LAPIC_ENABLED	1

/* AML (20.2) and resource descriptors (6.4). */
#define AML_ZERO_OP		0x00
#define AML_ONE_OP		0x01
#define AML_BYTE_PREFIX		0x0a
#define AML_WORD_PREFIX		0x0b
#define AML_DWORD_PREFIX	0x0c
#define AML_STRING_PREFIX	0x0d
#define AML_QWORD_PREFIX	0x0e
#define AML_BUFFER_OP		0x11
#define AML_PACKAGE_OP		0x12
#define AML_EXT_OP_PREFIX	0x5b
#define AML_DEVICE_OP		0x82
#define AML_ONES_OP		0xff

#define RES_SMALL_IRQ		0x04	/* small item type */
#define RES_SMALL_END		0x0f
#define RES_MEMORY32		0x85
#define RES_MEMORY32_FIXED	0x86
#define RES_DWORD_ADDRESS	0x87
#define RES_EXT_INTERRUPT	0x89
#define RES_QWORD_ADDRESS	0x8a
#define RES_ADDRESS_MEMORY	0	/* address space resource type */

#define VIRTIO_MMIO_HID		"LNRO0005"

static uint8_t sum_bytes(const uint8_t *p, uint64_t len)
{
	uint8_t s = 0;

	while (len--)
		s += *p++;
	return s;
}

/* Fill @t from the table header at @addr. */
static void table_read(struct acpi_table *t, uint64_t addr)
{
	const uint8_t *p = phys_ptr(addr);

	memset(t, 0, sizeof(*t));
	t->addr = addr;
	memcpy(t->sig, "????", 4);
	if (!phys_ok(addr, ACPI_HEADER_LEN))
		return;
	memcpy(t->sig, p, 4);
	t->len = get_le32(p + HDR_LENGTH);
	if (t->len < ACPI_HEADER_LEN || t->len > ACPI_TABLE_MAX_LEN ||
	    !phys_ok(addr, t->len))
		return;
	t->reachable = true;
	t->sum_ok = !sum_bytes(p, t->len);
}

static const uint8_t *table_bytes(const struct acpi_table *t)
{
	return phys_ptr(t->addr);
}

static bool rsdp_valid_v1(uint64_t addr)
{
	const uint8_t *p = phys_ptr(addr);

	return phys_ok(addr, RSDP_V1_LEN) && !memcmp(p, "RSD PTR ", 8) &&
	       !sum_bytes(p, RSDP_V1_LEN);
}

uint64_t acpi_scan_rsdp(void)
{
	uint64_t a;

	for (a = 0xe0000; a < 0x100000; a += 16)
		if (rsdp_valid_v1(a))
			return a;
	return 0;
}

const struct acpi_table *acpi_find(const char *sig)
{
	unsigned i;

	for (i = 0; i < acpi.ntables; i++)
		if (!memcmp(acpi.tables[i].sig, sig, 4))
			return &acpi.tables[i];
	return NULL;
}

static void read_root(void)
{
	const uint8_t *p;
	unsigned i, n, width;
	uint64_t entry;

	width = acpi.root_is_xsdt ? 8 : 4;
	if (!acpi.root.reachable)
		return;
	p = table_bytes(&acpi.root);
	n = (acpi.root.len - ACPI_HEADER_LEN) / width;
	acpi.ntables_listed = n;
	for (i = 0; i < n && i < ACPI_MAX_TABLES; i++) {
		const uint8_t *e = p + ACPI_HEADER_LEN + i * width;

		entry = width == 8 ? get_le64(e) : get_le32(e);
		table_read(&acpi.tables[i], entry);
	}
	acpi.ntables = i;
}

static void read_fadt(const struct acpi_table *t)
{
	const uint8_t *p = table_bytes(t);
	uint64_t dsdt = 0;

	if (t->len >= FADT_FLAGS + 4)
		acpi.fadt_flags = get_le32(p + FADT_FLAGS);
	if (t->len >= FADT_X_DSDT + 8)
		dsdt = get_le64(p + FADT_X_DSDT);
	if (!dsdt && t->len >= FADT_DSDT + 4)
		dsdt = get_le32(p + FADT_DSDT);
	if (dsdt) {
		table_read(&acpi.dsdt, dsdt);
		acpi.have_dsdt = true;
	}
	if (t->len >= FADT_SLEEP_CONTROL + GAS_LEN) {
		const uint8_t *gas = p + FADT_SLEEP_CONTROL;

		acpi.sleep_space = gas[0];
		acpi.sleep_addr = get_le64(gas + 4);
		acpi.have_sleep_reg = acpi.sleep_addr != 0;
	}
}

static void read_madt(const struct acpi_table *t)
{
	const uint8_t *p = table_bytes(t), *end = p + t->len, *e;

	if (t->len < MADT_ENTRIES)
		return;
	acpi.lapic_addr = get_le32(p + MADT_LAPIC_ADDR);
	for (e = p + MADT_ENTRIES; e + 2 <= end && e[1] >= 2 &&
				   e + e[1] <= end;
	     e += e[1]) {
		switch (e[0]) {
		case MADT_TYPE_LAPIC:
			if (e[1] >= 8 && (get_le32(e + 4) & MADT_LAPIC_ENABLED))
				acpi.nlapic++;
			break;
		case MADT_TYPE_X2APIC:
			if (e[1] >= 16 &&
			    (get_le32(e + 8) & MADT_LAPIC_ENABLED))
				acpi.nlapic++;
			break;
		case MADT_TYPE_IOAPIC:
			if (e[1] >= 12 && !acpi.nioapic++)
				acpi.ioapic_addr = get_le32(e + 4);
			break;
		}
	}
}

/* ---- AML --------------------------------------------------------------- */

/*
 * A PkgLength (20.2.4) at @p: its value (which counts the PkgLength bytes
 * themselves) and, in *@n, how many bytes it took.  False if it runs past
 * @end.
 */
static bool aml_pkglength(const uint8_t *p, const uint8_t *end, uint32_t *len,
			  unsigned *n)
{
	unsigned extra, i;
	uint32_t v;

	if (p >= end)
		return false;
	extra = p[0] >> 6;
	if ((unsigned)(end - p) < 1 + extra)
		return false;
	if (!extra) {
		v = p[0] & 0x3f;
	} else {
		v = p[0] & 0x0f;
		for (i = 0; i < extra; i++)
			v |= (uint32_t)p[1 + i] << (4 + 8 * i);
	}
	*len = v;
	*n = 1 + extra;
	return true;
}

/* An integer data object (ZeroOp, OneOp, OnesOp or a prefixed constant). */
static bool aml_integer(const uint8_t *p, const uint8_t *end, uint64_t *v,
			unsigned *n)
{
	unsigned size;

	if (p >= end)
		return false;
	switch (p[0]) {
	case AML_ZERO_OP:
		*v = 0;
		*n = 1;
		return true;
	case AML_ONE_OP:
		*v = 1;
		*n = 1;
		return true;
	case AML_ONES_OP:
		*v = ~0ull;
		*n = 1;
		return true;
	case AML_BYTE_PREFIX:
		size = 1;
		break;
	case AML_WORD_PREFIX:
		size = 2;
		break;
	case AML_DWORD_PREFIX:
		size = 4;
		break;
	case AML_QWORD_PREFIX:
		size = 8;
		break;
	default:
		return false;
	}
	if ((unsigned)(end - p) < 1 + size)
		return false;
	*v = 0;
	memcpy(v, p + 1, size);	/* little endian, like the CPU */
	*n = 1 + size;
	return true;
}

/* Name (_S5, Package () { SLP_TYPa, ... }): SLP_TYPa, or -1. */
static int dsdt_s5(const uint8_t *aml, const uint8_t *end)
{
	const uint8_t *p = mem_find(aml, (size_t)(end - aml), "_S5_", 4);
	uint32_t pkglen;
	unsigned n;
	uint64_t v;

	if (!p)
		return -1;
	p += 4;
	if (p >= end || *p++ != AML_PACKAGE_OP)
		return -1;
	if (!aml_pkglength(p, end, &pkglen, &n))
		return -1;
	p += n + 1;	/* and NumElements */
	if (!aml_integer(p, end, &v, &n) || v > 7)
		return -1;
	return (int)v;
}

/*
 * The Device () that encloses @pos: the nearest DeviceOp before it whose
 * PkgLength reaches past it.  Returns the device's [start, end) or false.
 */
static bool dsdt_enclosing_device(const uint8_t *aml, const uint8_t *end,
				  const uint8_t *pos, const uint8_t **dstart,
				  const uint8_t **dend)
{
	const uint8_t *p;
	uint32_t len;
	unsigned n;
	size_t off;

	for (off = (size_t)(pos - aml); off-- > 0;) {
		p = aml + off;
		if (p[0] != AML_EXT_OP_PREFIX || p[1] != AML_DEVICE_OP)
			continue;
		if (!aml_pkglength(p + 2, end, &len, &n))
			continue;
		if (len > (uint32_t)(end - (p + 2)) || p + 2 + len <= pos)
			continue;
		*dstart = p;
		*dend = p + 2 + len;
		return true;
	}
	return false;
}

/* Walk a resource template (6.4), keeping the first memory and IRQ. */
static void parse_resources(struct acpi_virtio_dev *d, const uint8_t *p,
			    const uint8_t *end)
{
	const uint8_t *body;
	unsigned len, i;

	while (p < end) {
		if (!(p[0] & 0x80)) {		/* small item */
			unsigned type = (p[0] >> 3) & 0x0f;

			len = p[0] & 7;
			if (type == RES_SMALL_END || p + 1 + len > end)
				return;
			if (type == RES_SMALL_IRQ && len >= 2 && !d->has_irq) {
				uint16_t mask = get_le16(p + 1);

				for (i = 0; i < 16; i++)
					if (mask & (1u << i))
						break;
				if (i < 16) {
					d->gsi = i;
					d->has_irq = true;
				}
			}
			p += 1 + len;
			continue;
		}
		if (end - p < 3)			/* large item */
			return;
		len = get_le16(p + 1);
		body = p + 3;
		if ((unsigned)(end - body) < len)
			return;
		switch (p[0]) {
		case RES_MEMORY32_FIXED:
			if (len >= 9 && !d->has_mem) {
				d->base = get_le32(body + 1);
				d->size = get_le32(body + 5);
				d->has_mem = true;
			}
			break;
		case RES_MEMORY32:
			if (len >= 17 && !d->has_mem) {
				d->base = get_le32(body + 1);
				d->size = get_le32(body + 13);
				d->has_mem = true;
			}
			break;
		case RES_DWORD_ADDRESS:
			if (len >= 23 && body[0] == RES_ADDRESS_MEMORY &&
			    !d->has_mem) {
				d->base = get_le32(body + 7);
				d->size = get_le32(body + 19);
				d->has_mem = true;
			}
			break;
		case RES_QWORD_ADDRESS:
			if (len >= 43 && body[0] == RES_ADDRESS_MEMORY &&
			    !d->has_mem) {
				d->base = get_le64(body + 11);
				d->size = get_le64(body + 35);
				d->has_mem = true;
			}
			break;
		case RES_EXT_INTERRUPT:
			if (len >= 6 && body[1] >= 1 && !d->has_irq) {
				d->gsi = get_le32(body + 2);
				d->has_irq = true;
			}
			break;
		}
		p = body + len;
	}
}

/* Name (_CRS, Buffer () {...}) inside [p, end): parse it into @d. */
static void device_crs(struct acpi_virtio_dev *d, const uint8_t *p,
		       const uint8_t *end)
{
	const uint8_t *crs = mem_find(p, (size_t)(end - p), "_CRS", 4);
	const uint8_t *buf_end;
	uint32_t pkglen;
	unsigned n;
	uint64_t size;

	if (!crs)
		return;
	p = crs + 4;
	if (p >= end || *p != AML_BUFFER_OP)
		return;	/* a _CRS method: not something we evaluate */
	p++;
	if (!aml_pkglength(p, end, &pkglen, &n) ||
	    pkglen > (uint32_t)(end - p))
		return;
	buf_end = p + pkglen;
	p += n;
	if (!aml_integer(p, buf_end, &size, &n))
		return;
	p += n;
	if (size > (uint64_t)(buf_end - p))
		size = (uint64_t)(buf_end - p);
	parse_resources(d, p, p + size);
}

static void dsdt_virtio(const uint8_t *aml, const uint8_t *end)
{
	const size_t hid_len = sizeof(VIRTIO_MMIO_HID);	/* with its NUL */
	const uint8_t *p = aml, *hid, *dstart, *dend;
	struct acpi_virtio_dev *d;

	while ((hid = mem_find(p, (size_t)(end - p), VIRTIO_MMIO_HID,
			       hid_len))) {
		p = hid + hid_len;
		/* Only a string object counts: Name (_HID, "LNRO0005"). */
		if (hid == aml || hid[-1] != AML_STRING_PREFIX)
			continue;
		acpi.nvirtio_found++;
		if (acpi.nvirtio >= ACPI_MAX_VIRTIO)
			continue;
		d = &acpi.virtio[acpi.nvirtio++];
		memset(d, 0, sizeof(*d));
		if (dsdt_enclosing_device(aml, end, hid, &dstart, &dend))
			device_crs(d, dstart, dend);
	}
}

static void read_dsdt(void)
{
	const uint8_t *p, *end;

	if (!acpi.have_dsdt || !acpi.dsdt.reachable)
		return;
	p = table_bytes(&acpi.dsdt);
	end = p + acpi.dsdt.len;
	p += ACPI_HEADER_LEN;
	acpi.s5_typ = dsdt_s5(p, end);
	dsdt_virtio(p, end);
}

bool acpi_load(uint64_t rsdp)
{
	const uint8_t *p;
	unsigned i;
	uint64_t xsdt = 0;

	memset(&acpi, 0, sizeof(acpi));
	acpi.fadt = acpi.madt = -1;
	acpi.s5_typ = -1;
	if (!rsdp) {
		rsdp = acpi_scan_rsdp();
		acpi.rsdp_scanned = true;
	}
	if (!rsdp || !phys_ok(rsdp, RSDP_V2_LEN))
		return false;
	acpi.rsdp = rsdp;
	acpi.loaded = true;
	p = phys_ptr(rsdp);
	if (memcmp(p + RSDP_SIG, "RSD PTR ", 8))
		return true;
	acpi.rsdp_revision = p[RSDP_REVISION];
	acpi.rsdp_sum_ok = !sum_bytes(p, RSDP_V1_LEN);
	if (acpi.rsdp_revision >= 2) {
		uint32_t len = get_le32(p + RSDP_LENGTH);

		acpi.rsdp_ext_sum_ok = len >= RSDP_V2_LEN && len < 4096 &&
				       phys_ok(rsdp, len) &&
				       !sum_bytes(p, len);
		xsdt = get_le64(p + RSDP_XSDT);
	}
	if (xsdt) {
		acpi.root_is_xsdt = true;
		table_read(&acpi.root, xsdt);
	} else {
		table_read(&acpi.root, get_le32(p + RSDP_RSDT));
	}
	read_root();

	for (i = 0; i < acpi.ntables; i++) {
		const struct acpi_table *t = &acpi.tables[i];

		if (!t->reachable)
			continue;
		if (!memcmp(t->sig, "FACP", 4) && acpi.fadt < 0) {
			acpi.fadt = (int)i;
			read_fadt(t);
		} else if (!memcmp(t->sig, "APIC", 4) && acpi.madt < 0) {
			acpi.madt = (int)i;
			read_madt(t);
		}
	}
	read_dsdt();
	return true;
}

void acpi_poweroff(void)
{
	int typ = acpi.s5_typ >= 0 ? acpi.s5_typ : ACPI_S5_DEFAULT;
	uint8_t v = (uint8_t)(((typ << ACPI_SLP_TYP_SHIFT) &
			       ACPI_SLP_TYP_MASK) | ACPI_SLP_EN);

	if (acpi.have_sleep_reg && acpi.sleep_space == ACPI_GAS_MEMORY &&
	    phys_ok(acpi.sleep_addr, 1)) {
		mmio_write8(acpi.sleep_addr, ACPI_WAK_STS);
		mmio_write8(acpi.sleep_addr, v);
		return;
	}
	if (acpi.have_sleep_reg && acpi.sleep_space == ACPI_GAS_IO &&
	    acpi.sleep_addr <= 0xffff) {
		outb((uint16_t)acpi.sleep_addr, ACPI_WAK_STS);
		outb((uint16_t)acpi.sleep_addr, v);
		return;
	}
	outb(LAYOUT_PORT_ACPI_SLEEP, ACPI_WAK_STS);
	outb(LAYOUT_PORT_ACPI_SLEEP, v);
}
