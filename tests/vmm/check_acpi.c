// SPDX-License-Identifier: GPL-2.0-only
/*
 * The microVM's ACPI tables (vmm/acpi.c): structure and checksums parsed
 * back from the blob, refusals, and ACPICA's own disassembler (iasl -d)
 * reading the tables and compiling its disassembly back without errors.
 */
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "flatvm/acpi.h"

extern char **environ;

#define BASE_GPA	((uint64_t)0xe0000)
#define SLEEP_PORT	0x600

/* A Generic Address's first bytes: SystemIO, 8 bits, offset 0, byte. */
#define BYTES_SLEEP_REG	((const uint8_t[]){ 1, 8, 0, 1 })

static const struct acpi_virtio_window two_windows[] = {
	{ .base = 0xd0000000, .size = 0x200, .gsi = 5 },
	{ .base = 0xd0000200, .size = 0x200, .gsi = 6 },
};

/* Two level-triggered windows above 4 GiB sharing GSI 7. */
static const struct acpi_virtio_window high_windows[] = {
	{ .base = 0x100000000ull, .size = 0x1000, .gsi = 7, .level = true },
	{ .base = 0x100001000ull, .size = 0x1000, .gsi = 7, .level = true },
};

static struct acpi_config base_config(void)
{
	return (struct acpi_config){
		.ncpus = 4,
		.base_gpa = BASE_GPA,
		.ioapic_addr = ACPI_IOAPIC_DEFAULT_ADDR,
		.sleep_port = SLEEP_PORT,
		.virtio = two_windows,
		.nr_virtio = ARRAY_SIZE(two_windows),
		.serial = true,
	};
}

/* ---- Reading the blob back -------------------------------------------- */

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint8_t sum8(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

/*
 * The table at guest-physical @gpa, checked to lie inside the blob, to
 * carry @sig and to sum to zero over its Length.
 */
static const uint8_t *table_at(const struct acpi_tables *t, uint64_t gpa,
			       const char *sig)
{
	const uint8_t *p;
	uint64_t off;
	uint32_t len;

	ck_assert_msg(gpa >= t->rsdp_gpa && gpa - t->rsdp_gpa + 36 <= t->len,
		      "%s at 0x%" PRIx64 " is outside the blob", sig, gpa);
	off = gpa - t->rsdp_gpa;
	ck_assert_msg(off % 8 == 0, "%s is not 8-byte aligned", sig);
	p = (const uint8_t *)t->blob + off;
	ck_assert_msg(!memcmp(p, sig, 4), "expected %s at 0x%" PRIx64, sig,
		      gpa);
	len = rd32(p + 4);
	ck_assert_msg(off + len <= t->len, "%s runs past the blob", sig);
	ck_assert_msg(sum8(p, len) == 0, "%s checksum is wrong", sig);
	ck_assert_mem_eq(p + 10, "FLATVM", 6);		/* OEM ID */
	return p;
}

/* ---- Structure and checksums ------------------------------------------ */

START_TEST(structure_and_checksums)
{
	struct acpi_config cfg = base_config();
	const uint8_t *rsdp, *xsdt, *fadt, *madt, *dsdt, *e;
	struct error err = { 0 };
	struct acpi_tables t;
	unsigned nlapic = 0, nioapic = 0;
	uint32_t len;

	ck_assert_int_eq(acpi_build(&cfg, &t, &err), 0);
	ck_assert_uint_eq(t.rsdp_gpa, BASE_GPA);

	/* RSDP: signature, 20-byte and 36-byte checksums, XSDT pointer. */
	rsdp = t.blob;
	ck_assert_mem_eq(rsdp, "RSD PTR ", 8);
	ck_assert_uint_eq(sum8(rsdp, 20), 0);
	ck_assert_uint_eq(sum8(rsdp, 36), 0);
	ck_assert_uint_eq(rsdp[15], 2);			/* revision */
	ck_assert_uint_eq(rd32(rsdp + 20), 36);		/* length */
	ck_assert_mem_eq(rsdp + 9, "FLATVM", 6);
	xsdt = table_at(&t, rd64(rsdp + 24), "XSDT");
	ck_assert_ptr_eq(xsdt, (uint8_t *)t.blob + t.xsdt_off);

	/* XSDT: FACP then APIC, at the offsets acpi_build() reports. */
	ck_assert_uint_eq(rd32(xsdt + 4), 36 + 2 * 8);
	fadt = table_at(&t, rd64(xsdt + 36), "FACP");
	madt = table_at(&t, rd64(xsdt + 44), "APIC");
	ck_assert_uint_eq(rd64(xsdt + 36), BASE_GPA + t.fadt_off);
	ck_assert_uint_eq(rd64(xsdt + 44), BASE_GPA + t.madt_off);

	/* FADT: revision 6, hardware reduced, DSDT twice, sleep registers. */
	ck_assert_uint_eq(rd32(fadt + 4), 276);
	ck_assert_uint_eq(fadt[8], 6);
	ck_assert(rd32(fadt + 112) & (1u << 20));
	ck_assert_uint_eq(rd32(fadt + 40), BASE_GPA + t.dsdt_off);
	ck_assert_uint_eq(rd64(fadt + 140), BASE_GPA + t.dsdt_off);
	dsdt = table_at(&t, rd64(fadt + 140), "DSDT");
	ck_assert_mem_eq(fadt + 244, BYTES_SLEEP_REG, 4);
	ck_assert_uint_eq(rd64(fadt + 248), SLEEP_PORT);
	ck_assert_mem_eq(fadt + 256, BYTES_SLEEP_REG, 4);
	ck_assert_uint_eq(rd64(fadt + 260), SLEEP_PORT);
	ck_assert_mem_eq(fadt + 268, "FLATVM\0\0", 8);

	/* MADT: the LAPIC address, N enabled LAPICs, one IOAPIC. */
	len = rd32(madt + 4);
	ck_assert_uint_eq(rd32(madt + 36), ACPI_LAPIC_ADDR);
	for (e = madt + 44; e < madt + len; e += e[1]) {
		ck_assert_uint_ge(e[1], 2);
		if (e[0] == 0) {
			ck_assert_uint_eq(e[1], 8);
			ck_assert_uint_eq(e[3], nlapic);	/* APIC ID */
			ck_assert_uint_eq(rd32(e + 4) & 1, 1);	/* enabled */
			nlapic++;
		} else if (e[0] == 1) {
			ck_assert_uint_eq(e[1], 12);
			ck_assert_uint_eq(rd32(e + 4), cfg.ioapic_addr);
			ck_assert_uint_eq(rd32(e + 8), 0);	/* GSI base */
			nioapic++;
		} else {
			ck_abort_msg("unexpected MADT entry type %u", e[0]);
		}
	}
	ck_assert_ptr_eq(e, madt + len);
	ck_assert_uint_eq(nlapic, cfg.ncpus);
	ck_assert_uint_eq(nioapic, 1);

	/* DSDT: the blob ends with it; its AML names what we configured. */
	len = rd32(dsdt + 4);
	ck_assert_uint_eq(t.dsdt_off + len, t.len);
	ck_assert_ptr_nonnull(memmem(dsdt, len, "_S5_", 4));
	ck_assert_ptr_nonnull(memmem(dsdt, len, "VR00", 4));
	ck_assert_ptr_nonnull(memmem(dsdt, len, "VR01", 4));
	ck_assert_ptr_null(memmem(dsdt, len, "VR02", 4));
	ck_assert_ptr_nonnull(memmem(dsdt, len, "LNRO0005", 9));
	ck_assert_ptr_nonnull(memmem(dsdt, len, "COM1", 4));

	acpi_tables_free(&t);
	ck_assert_ptr_null(t.blob);
	acpi_tables_free(&t);			/* twice is harmless */
	acpi_tables_free(NULL);
}
END_TEST

/* The largest configuration: 255 vCPUs and every window slot. */
START_TEST(largest_config)
{
	struct acpi_virtio_window w[ACPI_MAX_VIRTIO_WINDOWS];
	struct acpi_config cfg = base_config();
	struct error err = { 0 };
	const uint8_t *madt, *dsdt;
	struct acpi_tables t;
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(w); i++)
		w[i] = (struct acpi_virtio_window){
			.base = 0xd0000000 + 0x200 * i, .size = 0x200,
			.gsi = 5 + i % 19,	/* 5..23, some shared */
		};
	cfg.ncpus = ACPI_MAX_CPUS;
	cfg.virtio = w;
	cfg.nr_virtio = ARRAY_SIZE(w);
	ck_assert_int_eq(acpi_build(&cfg, &t, &err), 0);

	madt = (const uint8_t *)t.blob + t.madt_off;
	ck_assert_uint_eq(rd32(madt + 4), 44 + 8 * 255 + 12);
	ck_assert_uint_eq(sum8(madt, rd32(madt + 4)), 0);
	ck_assert_uint_eq(madt[44 + 8 * 254 + 3], 254);	/* last APIC ID */
	dsdt = (const uint8_t *)t.blob + t.dsdt_off;
	ck_assert_uint_eq(sum8(dsdt, rd32(dsdt + 4)), 0);
	ck_assert_ptr_nonnull(memmem(dsdt, rd32(dsdt + 4), "VR1F", 4));
	acpi_tables_free(&t);
}
END_TEST

/* The tables' offsets are 16-byte aligned and the RSDP comes first. */
START_TEST(layout)
{
	struct acpi_config cfg = base_config();
	struct error err = { 0 };
	struct acpi_tables t;

	cfg.base_gpa = 0x9fc00;		/* anywhere 16-byte aligned works */
	ck_assert_int_eq(acpi_build(&cfg, &t, &err), 0);
	ck_assert_uint_eq(t.rsdp_gpa, 0x9fc00);
	ck_assert_uint_eq(t.xsdt_off % 16, 0);
	ck_assert_uint_eq(t.fadt_off % 16, 0);
	ck_assert_uint_eq(t.madt_off % 16, 0);
	ck_assert_uint_eq(t.dsdt_off % 16, 0);
	ck_assert_uint_ge(t.xsdt_off, 36);
	ck_assert_uint_eq(rd64((uint8_t *)t.blob + 24), 0x9fc00 + t.xsdt_off);
	acpi_tables_free(&t);
}
END_TEST

START_TEST(poweroff_decode)
{
	/* What ACPICA writes for S5: SLP_TYP 5 in bits 4:2, SLP_EN. */
	ck_assert(acpi_sleep_ctl_is_poweroff(0x34));
	ck_assert(acpi_sleep_ctl_is_poweroff((ACPI_S5_SLP_TYP <<
					      ACPI_SLEEP_CTL_TYP_SHIFT) |
					     ACPI_SLEEP_CTL_EN));
	ck_assert(!acpi_sleep_ctl_is_poweroff(ACPI_SLEEP_STS_WAK));
	ck_assert(!acpi_sleep_ctl_is_poweroff(5 << 2));	/* no SLP_EN */
	ck_assert(!acpi_sleep_ctl_is_poweroff(ACPI_SLEEP_CTL_EN | (3 << 2)));
}
END_TEST

/* ---- Refusals --------------------------------------------------------- */

static const struct acpi_virtio_window overlapping[] = {
	{ .base = 0xd0000000, .size = 0x1000, .gsi = 5 },
	{ .base = 0xd0000800, .size = 0x200, .gsi = 6 },
};

static const struct acpi_virtio_window mixed_trigger[] = {
	{ .base = 0xd0000000, .size = 0x200, .gsi = 5 },
	{ .base = 0xd0000200, .size = 0x200, .gsi = 5, .level = true },
};

static const struct acpi_virtio_window gsi_too_big[] = {
	{ .base = 0xd0000000, .size = 0x200, .gsi = ACPI_IOAPIC_PINS },
};

static const struct acpi_virtio_window gsi_of_com1[] = {
	{ .base = 0xd0000000, .size = 0x200, .gsi = ACPI_COM1_GSI },
};

static const struct acpi_virtio_window empty_window[] = {
	{ .base = 0xd0000000, .size = 0, .gsi = 5 },
};

static const struct acpi_virtio_window wrapping_window[] = {
	{ .base = UINT64_MAX - 0xff, .size = 0x200, .gsi = 5 },
};

static struct acpi_virtio_window many[ACPI_MAX_VIRTIO_WINDOWS + 1];

#define WINDOWS(w)	.virtio = (w), .nr_virtio = ARRAY_SIZE(w)

static const struct refusal {
	const char *what;
	struct acpi_config delta;	/* fields that differ, see below */
	int set;			/* which fields of delta to apply */
	const char *msg;		/* expected in err.msg */
} refusals[] = {
#define R_NCPUS		(1 << 0)
#define R_BASE		(1 << 1)
#define R_IOAPIC	(1 << 2)
#define R_SLEEP		(1 << 3)
#define R_VIRTIO	(1 << 4)
#define R_SERIAL	(1 << 5)
	{ "no vCPUs", { .ncpus = 0 }, R_NCPUS, "0 vCPUs configured; expected 1 to 255" },
	{ "256 vCPUs", { .ncpus = 256 }, R_NCPUS, "256 vCPUs configured; expected 1 to 255" },
	{ "too many windows", { .virtio = many, .nr_virtio = ACPI_MAX_VIRTIO_WINDOWS + 1 }, R_VIRTIO, "33 virtio-mmio windows configured; at most 32" },
	{ "missing window array", { .virtio = NULL, .nr_virtio = 1 }, R_VIRTIO, "window array is missing" },
	{ "GSI past the IOAPIC", { WINDOWS(gsi_too_big) }, R_VIRTIO, "uses GSI 24; the IOAPIC has GSIs 0 to 23" },
	{ "GSI of COM1", { WINDOWS(gsi_of_com1), .serial = true }, R_VIRTIO | R_SERIAL, "GSI 4, which COM1 owns" },
	{ "overlapping windows", { WINDOWS(overlapping) }, R_VIRTIO, "windows 0 and 1 overlap" },
	{ "shared GSI, mixed triggers", { WINDOWS(mixed_trigger) }, R_VIRTIO, "share GSI 5 but one is edge- and the other level-triggered" },
	{ "empty window", { WINDOWS(empty_window) }, R_VIRTIO, "is empty or wraps" },
	{ "wrapping window", { WINDOWS(wrapping_window) }, R_VIRTIO, "is empty or wraps" },
	{ "unaligned base", { .base_gpa = 0xe0008 }, R_BASE, "is not 16-byte aligned" },
	{ "base past 4 GiB", { .base_gpa = 0xffffff00 }, R_BASE, "would end past 4 GiB" },
	{ "no IOAPIC", { .ioapic_addr = 0 }, R_IOAPIC, "no IOAPIC address" },
	{ "sleep port 0", { .sleep_port = 0 }, R_SLEEP, "sleep port is 0" },
	{ "sleep port in COM1", { .sleep_port = 0x3fc, .serial = true }, R_SLEEP | R_SERIAL, "inside COM1's ports" },
};

START_TEST(refusals_explain)
{
	const struct refusal *r = &refusals[_i];
	struct acpi_config cfg = base_config();
	struct acpi_tables t = { .blob = (void *)&t, .len = 12345 };
	struct error err = { 0 };
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(many); i++)
		many[i] = (struct acpi_virtio_window){
			.base = 0xd0000000 + 0x200 * i, .size = 0x200, .gsi = 5,
		};
	if (r->set & R_NCPUS)
		cfg.ncpus = r->delta.ncpus;
	if (r->set & R_BASE)
		cfg.base_gpa = r->delta.base_gpa;
	if (r->set & R_IOAPIC)
		cfg.ioapic_addr = r->delta.ioapic_addr;
	if (r->set & R_SLEEP)
		cfg.sleep_port = r->delta.sleep_port;
	if (r->set & R_VIRTIO) {
		cfg.virtio = r->delta.virtio;
		cfg.nr_virtio = r->delta.nr_virtio;
	}
	if (r->set & R_SERIAL)
		cfg.serial = r->delta.serial;

	ck_assert_int_eq(acpi_build(&cfg, &t, &err), -EINVAL);
	ck_assert_int_eq(err.code, -EINVAL);
	ck_assert_msg(strstr(err.msg, r->msg), "%s: message \"%s\" lacks \"%s\"",
		      r->what, err.msg, r->msg);
	ck_assert_msg(!strncmp(err.msg, "acpi: ", 6), "%s: \"%s\"", r->what,
		      err.msg);
	/* On failure the output is left alone. */
	ck_assert_ptr_eq(t.blob, &t);
	ck_assert_uint_eq(t.len, 12345);
	/* And a NULL error pointer is fine. */
	ck_assert_int_eq(acpi_build(&cfg, &t, NULL), -EINVAL);
}
END_TEST

/* Boundaries that must be accepted. */
START_TEST(accepted_boundaries)
{
	struct acpi_config cfg = base_config();
	struct error err = { 0 };
	struct acpi_tables t;

	cfg.ncpus = 1;
	cfg.nr_virtio = 0;
	cfg.virtio = NULL;
	cfg.serial = false;
	ck_assert_int_eq(acpi_build(&cfg, &t, &err), 0);
	acpi_tables_free(&t);

	/* The blob may end exactly at 4 GiB. */
	cfg = base_config();
	ck_assert_int_eq(acpi_build(&cfg, &t, &err), 0);
	cfg.base_gpa = (1ull << 32) - ((t.len + 15) & ~(size_t)15);
	acpi_tables_free(&t);
	ck_assert_int_eq(acpi_build(&cfg, &t, &err), 0);
	acpi_tables_free(&t);
}
END_TEST

/* ---- iasl ------------------------------------------------------------- */

static char tmpdir[] = "/tmp/flatvm-acpi-XXXXXX";
static bool tmpdir_made;

/* Unchecked fixture: runs in the parent, so cleanup survives failures. */
static void tmpdir_setup(void)
{
	tmpdir_made = mkdtemp(tmpdir) != NULL;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	return remove(path);
}

static void tmpdir_teardown(void)
{
	if (tmpdir_made)
		nftw(tmpdir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static bool have_iasl(void)
{
	const char *path = getenv("PATH");
	char buf[4096], *dir, *save = NULL;

	if (!path)
		path = "/usr/bin:/bin";
	snprintf(buf, sizeof(buf), "%s", path);
	for (dir = strtok_r(buf, ":", &save); dir;
	     dir = strtok_r(NULL, ":", &save)) {
		char exe[4200];

		snprintf(exe, sizeof(exe), "%s/iasl", dir);
		if (!access(exe, X_OK))
			return true;
	}
	return false;
}

/* Tests call this first; it says why they did nothing. */
static bool iasl_or_skip(const char *test)
{
	if (have_iasl())
		return true;
	fprintf(stderr,
		"SKIP %s: iasl (acpica-tools) is not installed; the disassembly checks did not run\n",
		test);
	return false;
}

/* "<tmpdir>/<name>", in a static ring so a few can be live at once. */
static const char *tmp_path(const char *name)
{
	static char ring[8][512];
	static unsigned next;
	char *p = ring[next++ % ARRAY_SIZE(ring)];

	snprintf(p, sizeof(ring[0]), "%s/%s", tmpdir, name);
	return p;
}

/* Run iasl with @args, its output going to @log.  Return: exit status. */
static int run_iasl(const char *log, const char *a1, const char *a2)
{
	char *argv[] = { (char *)"iasl", (char *)a1, (char *)a2, NULL };
	posix_spawn_file_actions_t fa;
	int status, ret;
	pid_t pid;

	ck_assert_int_eq(posix_spawn_file_actions_init(&fa), 0);
	ck_assert_int_eq(posix_spawn_file_actions_addopen(&fa, 1, log,
				O_WRONLY | O_CREAT | O_TRUNC, 0644), 0);
	ck_assert_int_eq(posix_spawn_file_actions_adddup2(&fa, 1, 2), 0);
	ret = posix_spawnp(&pid, "iasl", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	ck_assert_msg(ret == 0, "cannot start iasl: %s", strerror(ret));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status), "iasl died");
	return WEXITSTATUS(status);
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s;
	long n;

	ck_assert_msg(f, "cannot open %s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	s = malloc(n + 1);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(fread(s, 1, n, f), (size_t)n);
	s[n] = '\0';
	fclose(f);
	return s;
}

/* Collapse every run of white space into one blank: layout-proof text. */
static char *squeeze(char *s)
{
	char *r = s, *w = s;
	bool blank = false;

	for (; *r; r++) {
		if (*r == ' ' || *r == '\t' || *r == '\n' || *r == '\r') {
			blank = true;
			continue;
		}
		if (blank && w != s)
			*w++ = ' ';
		blank = false;
		*w++ = *r;
	}
	*w = '\0';
	return s;
}

static unsigned count(const char *hay, const char *needle)
{
	unsigned n = 0;

	while ((hay = strstr(hay, needle))) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

#define HAS(text, needle)						\
	ck_assert_msg(strstr((text), (needle)),				\
		      "iasl output lacks \"%s\"", (needle))

/* The text from @from up to @to (or the end), as a new string. */
static char *section(const char *text, const char *from, const char *to)
{
	const char *s = strstr(text, from), *e;

	ck_assert_msg(s, "iasl output lacks \"%s\"", from);
	e = to ? strstr(s + strlen(from), to) : NULL;
	if (!e)
		e = s + strlen(s);
	return strndup(s, e - s);
}

static void write_table(const struct acpi_tables *t, size_t off,
			const char *name)
{
	const uint8_t *p = (const uint8_t *)t->blob + off;
	FILE *f = fopen(tmp_path(name), "wb");

	ck_assert_msg(f, "cannot create %s", tmp_path(name));
	ck_assert_uint_eq(fwrite(p, 1, rd32(p + 4), f), rd32(p + 4));
	ck_assert_int_eq(fclose(f), 0);
}

/*
 * Disassemble <tmpdir>/<stem>.dat, check iasl found nothing wrong, then
 * compile the disassembly back (the compiler checks far more than the
 * disassembler does).  Return: the disassembly, white space squeezed.
 */
static char *iasl_roundtrip(const char *stem)
{
	char dat[64], dsl[64], log[64], clog[64];
	char *text, *msgs;

	snprintf(dat, sizeof(dat), "%s.dat", stem);
	snprintf(dsl, sizeof(dsl), "%s.dsl", stem);
	snprintf(log, sizeof(log), "%s.log", stem);
	snprintf(clog, sizeof(clog), "%s.compile.log", stem);

	ck_assert_int_eq(run_iasl(tmp_path(log), "-d", tmp_path(dat)), 0);
	msgs = read_text(tmp_path(log));
	ck_assert_msg(!strstr(msgs, "Error") && !strstr(msgs, "Warning") &&
		      !strstr(msgs, "Incorrect checksum") &&
		      !strstr(msgs, "not contain a valid"),
		      "iasl -d %s complained:\n%s", dat, msgs);
	free(msgs);

	text = read_text(tmp_path(dsl));
	ck_assert_msg(!strstr(text, "Incorrect checksum"),
		      "%s: iasl reports a bad checksum", dat);

	ck_assert_int_eq(run_iasl(tmp_path(clog), tmp_path(dsl), NULL), 0);
	msgs = squeeze(read_text(tmp_path(clog)));
	ck_assert_msg(strstr(msgs, "Compilation successful. 0 Errors, 0 Warnings, 0 Remarks"),
		      "iasl could not compile the disassembly of %s:\n%s",
		      dat, msgs);
	free(msgs);
	return squeeze(text);
}

/* The DSDT for two virtio-mmio windows and COM1, as iasl reads it. */
START_TEST(iasl_dsdt_two_windows)
{
	struct acpi_config cfg = base_config();
	struct error err = { 0 };
	char want[256], *dsl, *vr00, *vr01;
	struct acpi_tables t;
	unsigned i;

	if (!iasl_or_skip("iasl_dsdt_two_windows"))
		return;
	ck_assert_int_eq(acpi_build(&cfg, &t, &err), 0);
	write_table(&t, t.dsdt_off, "dsdt.dat");
	acpi_tables_free(&t);
	dsl = iasl_roundtrip("dsdt");

	HAS(dsl, "DefinitionBlock (\"\", \"DSDT\", 2, \"FLATVM\", \"FVMDSDT \", 0x00000001)");
	HAS(dsl, "Name (_S5, Package (0x04)");
	HAS(dsl, "{ 0x05, Zero, Zero, Zero })");
	HAS(dsl, "Scope (\\_SB) {");
	ck_assert_uint_eq(count(dsl, "Name (_HID, \"LNRO0005\")"), 2);

	vr00 = section(dsl, "Device (VR00)", "Device (VR01)");
	vr01 = section(dsl, "Device (VR01)", NULL);
	ck_assert_ptr_null(strstr(dsl, "Device (VR02)"));
	HAS(vr00, "Name (_UID, Zero)");
	HAS(vr01, "Name (_UID, One)");
	for (i = 0; i < 2; i++) {
		const struct acpi_virtio_window *w = &two_windows[i];
		const char *dev = i ? vr01 : vr00;

		HAS(dev, "Name (_HID, \"LNRO0005\")");
		snprintf(want, sizeof(want),
			 "Memory32Fixed (ReadWrite, 0x%08" PRIX64 ", // Address Base 0x%08" PRIX64 ", // Address Length )",
			 w->base, w->size);
		HAS(dev, want);
		snprintf(want, sizeof(want),
			 "Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive, ,, ) { 0x%08" PRIX32 ", }",
			 w->gsi);
		HAS(dev, want);
	}

	HAS(dsl, "Device (COM1)");
	HAS(dsl, "Name (_HID, EisaId (\"PNP0501\")");
	HAS(dsl, "IO (Decode16, 0x03F8, // Range Minimum 0x03F8, // Range Maximum 0x01, // Alignment 0x08, // Length )");
	HAS(dsl, "Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive, ,, ) { 0x00000004, }");

	free(vr00);
	free(vr01);
	free(dsl);
}
END_TEST

/* Windows above 4 GiB become QWordMemory; a shared level GSI says so. */
START_TEST(iasl_dsdt_high_shared)
{
	struct acpi_config cfg = base_config();
	struct error err = { 0 };
	struct acpi_tables t;
	char *dsl;

	if (!iasl_or_skip("iasl_dsdt_high_shared"))
		return;
	cfg.virtio = high_windows;
	cfg.nr_virtio = ARRAY_SIZE(high_windows);
	cfg.serial = false;
	ck_assert_int_eq(acpi_build(&cfg, &t, &err), 0);
	write_table(&t, t.dsdt_off, "high.dat");
	acpi_tables_free(&t);
	dsl = iasl_roundtrip("high");

	ck_assert_ptr_null(strstr(dsl, "COM1"));
	ck_assert_ptr_null(strstr(dsl, "Memory32Fixed"));
	ck_assert_uint_eq(count(dsl, "QWordMemory (ResourceConsumer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite,"), 2);
	HAS(dsl, "0x0000000100000000, // Range Minimum 0x0000000100000FFF, // Range Maximum 0x0000000000000000, // Translation Offset 0x0000000000001000, // Length");
	HAS(dsl, "0x0000000100001000, // Range Minimum 0x0000000100001FFF, // Range Maximum");
	ck_assert_uint_eq(count(dsl, "Interrupt (ResourceConsumer, Level, ActiveHigh, Shared, ,, ) { 0x00000007, }"), 2);
	free(dsl);
}
END_TEST

/* FADT, MADT and XSDT, field by field as iasl decodes them. */
START_TEST(iasl_data_tables)
{
	struct acpi_config cfg = base_config();
	char want[256], *fadt, *madt, *xsdt, *sect;
	struct error err = { 0 };
	struct acpi_tables t;

	if (!iasl_or_skip("iasl_data_tables"))
		return;
	cfg.ncpus = 7;
	cfg.i8042 = true;
	ck_assert_int_eq(acpi_build(&cfg, &t, &err), 0);
	write_table(&t, t.fadt_off, "facp.dat");
	write_table(&t, t.madt_off, "apic.dat");
	write_table(&t, t.xsdt_off, "xsdt.dat");

	fadt = iasl_roundtrip("facp");
	HAS(fadt, "Signature : \"FACP\" [Fixed ACPI Description Table (FADT)]");
	HAS(fadt, "Revision : 06");
	HAS(fadt, "FADT Minor Revision : 05");
	HAS(fadt, "Oem ID : \"FLATVM\"");
	HAS(fadt, "Hardware Reduced (V5) : 1");
	HAS(fadt, "Control Method Power Button (V1) : 1");
	HAS(fadt, "8042 Present on ports 60/64 (V2) : 1");
	HAS(fadt, "VGA Not Present (V4) : 1");
	HAS(fadt, "CMOS RTC Not Present (V5) : 1");
	HAS(fadt, "SCI Interrupt : 0000");
	snprintf(want, sizeof(want), "DSDT Address : %08" PRIX64,
		 BASE_GPA + t.dsdt_off);
	HAS(fadt, want);
	snprintf(want, sizeof(want), "DSDT Address : %016" PRIX64,
		 BASE_GPA + t.dsdt_off);
	HAS(fadt, want);
	sect = section(fadt, "Sleep Control Register", "Sleep Status Register");
	HAS(sect, "Space ID : 01 [SystemIO]");
	HAS(sect, "Bit Width : 08");
	HAS(sect, "Encoded Access Width : 01 [Byte Access:8]");
	snprintf(want, sizeof(want), "Address : %016X", SLEEP_PORT);
	HAS(sect, want);
	free(sect);
	sect = section(fadt, "Sleep Status Register", "Hypervisor ID");
	HAS(sect, "Space ID : 01 [SystemIO]");
	HAS(sect, want);
	free(sect);
	/* "FLATVM\0\0" read as a little-endian UINT64. */
	HAS(fadt, "Hypervisor ID : 00004D5654414C46");

	madt = iasl_roundtrip("apic");
	HAS(madt, "Signature : \"APIC\" [Multiple APIC Description Table (MADT)]");
	HAS(madt, "Local Apic Address : FEE00000");
	ck_assert_uint_eq(count(madt, "Subtable Type : 00 [Processor Local APIC]"), 7);
	ck_assert_uint_eq(count(madt, "Processor Enabled : 1"), 7);
	HAS(madt, "Local Apic ID : 06");
	ck_assert_ptr_null(strstr(madt, "Local Apic ID : 07"));
	ck_assert_uint_eq(count(madt, "Subtable Type : 01 [I/O APIC]"), 1);
	HAS(madt, "Address : FEC00000");
	HAS(madt, "Interrupt : 00000000");		/* GSI base */
	ck_assert_ptr_null(strstr(madt, "Interrupt Source Override"));

	xsdt = iasl_roundtrip("xsdt");
	snprintf(want, sizeof(want), "ACPI Table Address 0 : %016" PRIX64,
		 BASE_GPA + t.fadt_off);
	HAS(xsdt, want);
	snprintf(want, sizeof(want), "ACPI Table Address 1 : %016" PRIX64,
		 BASE_GPA + t.madt_off);
	HAS(xsdt, want);
	ck_assert_ptr_null(strstr(xsdt, "ACPI Table Address 2"));

	acpi_tables_free(&t);
	free(fadt);
	free(madt);
	free(xsdt);
}
END_TEST

static Suite *acpi_suite(void)
{
	Suite *s = suite_create("acpi");
	TCase *tc = tcase_create("tables");
	TCase *ti = tcase_create("iasl");

	tcase_add_test(tc, structure_and_checksums);
	tcase_add_test(tc, largest_config);
	tcase_add_test(tc, layout);
	tcase_add_test(tc, poweroff_decode);
	tcase_add_loop_test(tc, refusals_explain, 0, ARRAY_SIZE(refusals));
	tcase_add_test(tc, accepted_boundaries);
	suite_add_tcase(s, tc);

	tcase_add_unchecked_fixture(ti, tmpdir_setup, tmpdir_teardown);
	tcase_set_timeout(ti, 60);
	tcase_add_test(ti, iasl_dsdt_two_windows);
	tcase_add_test(ti, iasl_dsdt_high_shared);
	tcase_add_test(ti, iasl_data_tables);
	suite_add_tcase(s, ti);
	return s;
}

CHECK_MAIN(acpi_suite)
