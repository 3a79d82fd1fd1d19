// SPDX-License-Identifier: GPL-2.0-only
/*
 * Kernel loading (vmm/boot.c) and the entry state (vmm/x86.c).
 *
 * The images are crafted here and written to temporary files: a minimal
 * bzImage (a real setup header, a protected-mode "kernel" of a few
 * instructions), minimal ELF64 and ELF32 files with and without a PVH
 * note, and malformed variants of each, every one refused with the right
 * errno and a message checked with strstr.  What the loader wrote is read
 * back from guest memory (zero page, PVH start info, memory maps).
 *
 * Then the crafted kernels run on /dev/kvm: each payload writes what its
 * entry registers point at to a port and halts (KVM_EXIT_HLT without an
 * irqchip ends vcpu_run_loop() with VCPU_STOP_HLT).  /dev/kvm here may be
 * PVM, which runs 32- and 64-bit code with port I/O but delivers no
 * exceptions in those modes: the payloads must not fault.
 *
 * Skips (77) with the reason when /dev/kvm is not usable.
 */
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "flatvm/boot.h"
#include "flatvm/kvm.h"
#include "flatvm/layout.h"

#define RAM_SIZE	(32ull << 20)
#define RSDP_ADDR	LAYOUT_ACPI_BASE
#define CMDLINE		"console=ttyS0 panic=-1"
#define PORT		LAYOUT_PORT_TESTDEV
#define PORT_LOG_MAX	32

/* Markers the payloads write last, one per entry kind. */
#define MARK_LINUX64	0x64
#define MARK_LINUX32	0x32
#define MARK_PVH	0x9d

#define BZ_PREF		0x1000000ull	/* 16 MiB, Linux's default */
#define BZ_ALIGN	0x200000u
#define BZ_INIT_SIZE	0x200000u
#define BZ_HDR_END	0x26c		/* the 2.15 setup header's end */

#define ELF_PADDR	0x200000ull
#define ELF_BSS_PADDR	0x300000ull

static struct memory_region sysmem, ram, high_ram, iospace, pio;
static struct address_space mem_as, io_as;
static bool have_high, have_io;
static struct kvm kvm;
static bool have_kvm;
static uint8_t port_log[PORT_LOG_MAX];
static unsigned port_n;

/* ---- Guest memory and the VM ------------------------------------------- */

static uint64_t pio_read(void *opaque, uint64_t addr, unsigned size)
{
	return 0;
}

static void pio_write(void *opaque, uint64_t addr, uint64_t val,
		      unsigned size)
{
	if (addr == 0 && port_n < PORT_LOG_MAX)
		port_log[port_n++] = (uint8_t)val;
}

static const struct memory_region_ops pio_ops = {
	.read = pio_read, .write = pio_write,
};

static void mem_setup(uint64_t ram_size)
{
	struct error err = { 0 };
	uint64_t low = ram_size < LAYOUT_MMIO_HOLE_START ?
		       ram_size : LAYOUT_MMIO_HOLE_START;

	ck_assert_int_eq(memory_region_init(&sysmem, NULL, "system",
					   UINT64_MAX, &err), 0);
	ck_assert_int_eq(address_space_init(&mem_as, &sysmem, "memory", &err),
			 0);
	ck_assert_msg(!memory_region_init_ram(&ram, NULL, "ram", low, &err),
		      "%s", err.msg);
	ck_assert_int_eq(memory_region_add_subregion(&sysmem, 0, &ram, &err),
			 0);
	have_high = ram_size > LAYOUT_MMIO_HOLE_START;
	if (have_high) {
		ck_assert_msg(!memory_region_init_ram(&high_ram, NULL,
						      "high-ram",
						      ram_size - low, &err),
			      "%s", err.msg);
		ck_assert_int_eq(memory_region_add_subregion(
					 &sysmem, LAYOUT_HIGH_RAM_BASE,
					 &high_ram, &err), 0);
	}
	have_io = have_kvm = false;
	port_n = 0;
}

/* The VM, with the test port at PORT; RAM as mem_setup() made it. */
static void vm_setup(bool irqchip)
{
	struct error err = { 0 };

	mem_setup(RAM_SIZE);
	ck_assert_int_eq(memory_region_init(&iospace, NULL, "io", 0x10000,
					   &err), 0);
	ck_assert_int_eq(address_space_init(&io_as, &iospace, "io", &err), 0);
	ck_assert_int_eq(memory_region_init_io(&pio, NULL, &pio_ops, NULL,
					       "port", 0x10, &err), 0);
	ck_assert_int_eq(memory_region_add_subregion(&iospace, PORT, &pio,
						     &err), 0);
	have_io = true;
	ck_assert_msg(!kvm_open(&kvm, &err), "%s", err.msg);
	have_kvm = true;
	if (irqchip)
		ck_assert_msg(!kvm_create_irqchip(&kvm, &err), "%s", err.msg);
	ck_assert_msg(!kvm_attach_memory(&kvm, &mem_as, &io_as, &err), "%s",
		      err.msg);
}

static void mem_teardown(void)
{
	if (have_kvm)
		kvm_close(&kvm);
	address_space_destroy(&mem_as);
	memory_region_del_subregion(&sysmem, &ram, NULL);
	object_unref(&ram.obj);
	if (have_high) {
		memory_region_del_subregion(&sysmem, &high_ram, NULL);
		object_unref(&high_ram.obj);
	}
	object_unref(&sysmem.obj);
	if (have_io) {
		address_space_destroy(&io_as);
		memory_region_del_subregion(&iospace, &pio, NULL);
		object_unref(&pio.obj);
		object_unref(&iospace.obj);
	}
	rcu_flush();
}

static void guest_read(uint64_t gpa, void *buf, size_t len)
{
	ck_assert_int_eq(address_space_read(&mem_as, gpa, buf, len), 0);
}

static void guest_fill(uint64_t gpa, uint8_t byte, size_t len)
{
	uint8_t *buf = malloc(len);

	ck_assert_ptr_nonnull(buf);
	memset(buf, byte, len);
	ck_assert_int_eq(address_space_write(&mem_as, gpa, buf, len), 0);
	free(buf);
}

static bool guest_is(uint64_t gpa, uint8_t byte, size_t len)
{
	uint8_t *buf = malloc(len);
	bool same = true;
	size_t i;

	ck_assert_ptr_nonnull(buf);
	guest_read(gpa, buf, len);
	for (i = 0; i < len; i++)
		same &= buf[i] == byte;
	free(buf);
	return same;
}

/* ---- Temporary files ----------------------------------------------------- */

static char *tmp_paths[16];
static unsigned tmp_n;

static const char *tmp_write(const void *buf, size_t len)
{
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char *path;
	int fd;

	ck_assert_uint_lt(tmp_n, ARRAY_SIZE(tmp_paths));
	ck_assert_int_gt(asprintf(&path, "%s/flatvm-boot-XXXXXX", dir), 0);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, buf, len), (ssize_t)len);
	close(fd);
	tmp_paths[tmp_n++] = path;
	return path;
}

/* Grow @path to @size bytes without writing them (a sparse file). */
static void tmp_extend(const char *path, off_t size)
{
	ck_assert_int_eq(truncate(path, size), 0);
}

static void tmp_cleanup(void)
{
	while (tmp_n) {
		tmp_n--;
		unlink(tmp_paths[tmp_n]);
		free(tmp_paths[tmp_n]);
	}
}

/* ---- Payloads ------------------------------------------------------------ */

/* 64-bit entry: RSI = zero page, RSP = the boot stack. */
static const uint8_t payload64[] = {
	0x89, 0xf0,				/* mov eax, esi */
	0xe6, PORT,				/* out PORT, al */
	0xc1, 0xe8, 0x08,			/* shr eax, 8 */
	0xe6, PORT,				/* out PORT, al */
	0x8a, 0x86, 0x10, 0x02, 0x00, 0x00,	/* mov al, [rsi + 0x210] */
	0xe6, PORT,				/* out PORT, al: loader */
	0x56,					/* push rsi */
	0x58,					/* pop rax */
	0xc1, 0xe8, 0x08,			/* shr eax, 8 */
	0xe6, PORT,				/* out PORT, al */
	0xb0, MARK_LINUX64,			/* mov al, MARK */
	0xe6, PORT,				/* out PORT, al */
	0xf4,					/* hlt */
};

/* 32-bit boot protocol entry: ESI = zero page. */
static const uint8_t payload32[] = {
	0x89, 0xf0,				/* mov eax, esi */
	0xe6, PORT,				/* out PORT, al */
	0x88, 0xe0,				/* mov al, ah */
	0xe6, PORT,				/* out PORT, al */
	0x8a, 0x86, 0x10, 0x02, 0x00, 0x00,	/* mov al, [esi + 0x210] */
	0xe6, PORT,				/* out PORT, al */
	0xb0, MARK_LINUX32,			/* mov al, MARK */
	0xe6, PORT,				/* out PORT, al */
	0xf4,					/* hlt */
};

/* PVH entry: EBX = start info. */
static const uint8_t payload_pvh[] = {
	0x89, 0xd8,				/* mov eax, ebx */
	0xe6, PORT,				/* out PORT, al */
	0x88, 0xe0,				/* mov al, ah */
	0xe6, PORT,				/* out PORT, al */
	0x8b, 0x03,				/* mov eax, [ebx]: magic */
	0xe6, PORT,				/* out PORT, al */
	0x8b, 0x43, 0x18,			/* mov eax, [ebx + 24] */
	0x8a, 0x00,				/* mov al, [eax]: cmdline */
	0xe6, PORT,				/* out PORT, al */
	0xb0, MARK_PVH,				/* mov al, MARK */
	0xe6, PORT,				/* out PORT, al */
	0xf4,					/* hlt */
};

static void expect_ports(const uint8_t *want, unsigned n)
{
	unsigned i;

	ck_assert_uint_eq(port_n, n);
	for (i = 0; i < n; i++)
		ck_assert_msg(port_log[i] == want[i],
			      "port write %u: %#x, expected %#x", i,
			      port_log[i], want[i]);
}

/* ---- A crafted bzImage --------------------------------------------------- */

struct bz_spec {
	uint16_t version;
	uint8_t setup_sects;
	uint8_t loadflags;
	uint16_t xloadflags;
	uint8_t relocatable;
	uint32_t kernel_alignment;
	uint64_t pref_address;
	uint32_t init_size;
	uint32_t cmdline_size;
	uint32_t initrd_addr_max;
	unsigned hdr_end;
	const uint8_t *code;
	size_t code_len;
	size_t code_off;	/* in the protected-mode kernel */
	size_t pm_len;
};

static struct bz_spec bz_default(void)
{
	return (struct bz_spec){
		.version = 0x020f,
		.setup_sects = 4,
		.loadflags = LOADED_HIGH,
		.xloadflags = XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G,
		.relocatable = 1,
		.kernel_alignment = BZ_ALIGN,
		.pref_address = BZ_PREF,
		.init_size = BZ_INIT_SIZE,
		.cmdline_size = 2047,
		.initrd_addr_max = 0x7fffffff,
		.hdr_end = BZ_HDR_END,
		.code = payload64,
		.code_len = sizeof(payload64),
		.code_off = 0x200,
		.pm_len = 0x1000,
	};
}

static size_t bz_setup_size(const struct bz_spec *s)
{
	return ((s->setup_sects ? s->setup_sects : 4) + 1) * 512u;
}

/* The file's bytes; the caller frees. */
static uint8_t *bz_build(const struct bz_spec *s, size_t *len)
{
	size_t setup = bz_setup_size(s);
	struct setup_header h = {
		.setup_sects = s->setup_sects,
		.syssize = (uint32_t)((s->pm_len + 15) / 16),
		.boot_flag = 0xaa55,
		.jump = (uint16_t)(0xeb | ((s->hdr_end - 0x202) << 8)),
		.header = 0x53726448,		/* "HdrS" */
		.version = s->version,
		.loadflags = s->loadflags,
		.code32_start = 0x100000,
		.initrd_addr_max = s->initrd_addr_max,
		.kernel_alignment = s->kernel_alignment,
		.relocatable_kernel = s->relocatable,
		.xloadflags = s->xloadflags,
		.cmdline_size = s->cmdline_size,
		.pref_address = s->pref_address,
		.init_size = s->init_size,
	};
	uint8_t *f;

	*len = setup + s->pm_len;
	f = calloc(1, *len);
	ck_assert_ptr_nonnull(f);
	memcpy(f + offsetof(struct boot_params, hdr), &h, sizeof(h));
	memset(f + setup, 0xf4, s->pm_len);	/* hlt everywhere else */
	memcpy(f + setup + s->code_off, s->code, s->code_len);
	return f;
}

static const char *bz_file(const struct bz_spec *s)
{
	size_t len;
	uint8_t *f = bz_build(s, &len);
	const char *path = tmp_write(f, len);

	free(f);
	return path;
}

/* ---- Crafted ELF files --------------------------------------------------- */

struct note64 {
	Elf64_Nhdr nh;
	char name[4];
	uint64_t desc;
};

/*
 * Two PT_LOADs (code with a bss tail; bss only) and a PT_NOTE holding a
 * GNU build-id note and then the PVH note.
 */
struct elf64 {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[3];
	struct note64 notes[2];
	uint8_t code[0x100];
};

#define ELF64_CODE_OFF	offsetof(struct elf64, code)
#define ELF64_SEG0_MEMSZ 0x1000
#define ELF64_SEG1_MEMSZ 0x2000

static struct elf64 elf64_default(void)
{
	struct elf64 e = {
		.eh = {
			.e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3,
				     ELFCLASS64, ELFDATA2LSB, EV_CURRENT },
			.e_type = ET_EXEC,
			.e_machine = EM_X86_64,
			.e_version = EV_CURRENT,
			.e_entry = 0xffffffff81000000ull,	/* virtual */
			.e_phoff = offsetof(struct elf64, ph),
			.e_ehsize = sizeof(Elf64_Ehdr),
			.e_phentsize = sizeof(Elf64_Phdr),
			.e_phnum = 3,
		},
		.ph = {
			{ .p_type = PT_LOAD, .p_flags = PF_R | PF_X,
			  .p_offset = ELF64_CODE_OFF,
			  .p_vaddr = 0xffffffff81000000ull,
			  .p_paddr = ELF_PADDR,
			  .p_filesz = sizeof(e.code),
			  .p_memsz = ELF64_SEG0_MEMSZ, .p_align = 0x1000 },
			{ .p_type = PT_LOAD, .p_flags = PF_R | PF_W,
			  .p_paddr = ELF_BSS_PADDR,
			  .p_memsz = ELF64_SEG1_MEMSZ, .p_align = 0x1000 },
			{ .p_type = PT_NOTE, .p_flags = PF_R,
			  .p_offset = offsetof(struct elf64, notes),
			  .p_filesz = sizeof(e.notes), .p_align = 4 },
		},
		.notes = {
			{ .nh = { 4, 8, NT_GNU_BUILD_ID }, .name = "GNU",
			  .desc = 0x0123456789abcdefull },
			{ .nh = { 4, 8, XEN_ELFNOTE_PHYS32_ENTRY },
			  .name = "Xen", .desc = ELF_PADDR },
		},
	};

	memset(e.code, 0xf4, sizeof(e.code));
	memcpy(e.code, payload_pvh, sizeof(payload_pvh));
	return e;
}

struct note32 {
	Elf32_Nhdr nh;
	char name[4];
	uint32_t desc;
};

struct elf32 {
	Elf32_Ehdr eh;
	Elf32_Phdr ph[2];
	struct note32 note;
	uint8_t code[0x40];
};

static struct elf32 elf32_default(void)
{
	struct elf32 e = {
		.eh = {
			.e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3,
				     ELFCLASS32, ELFDATA2LSB, EV_CURRENT },
			.e_type = ET_EXEC,
			.e_machine = EM_386,
			.e_version = EV_CURRENT,
			.e_entry = 0xc1000000u,
			.e_phoff = offsetof(struct elf32, ph),
			.e_ehsize = sizeof(Elf32_Ehdr),
			.e_phentsize = sizeof(Elf32_Phdr),
			.e_phnum = 2,
		},
		.ph = {
			{ .p_type = PT_LOAD, .p_flags = PF_R | PF_X,
			  .p_offset = offsetof(struct elf32, code),
			  .p_vaddr = 0xc1000000u, .p_paddr = ELF_PADDR,
			  .p_filesz = sizeof(e.code), .p_memsz = 0x800,
			  .p_align = 0x1000 },
			{ .p_type = PT_NOTE, .p_flags = PF_R,
			  .p_offset = offsetof(struct elf32, note),
			  .p_filesz = sizeof(e.note), .p_align = 4 },
		},
		.note = { .nh = { 4, 4, XEN_ELFNOTE_PHYS32_ENTRY },
			  .name = "Xen", .desc = ELF_PADDR },
	};

	memset(e.code, 0xf4, sizeof(e.code));
	memcpy(e.code, payload_pvh, sizeof(payload_pvh));
	return e;
}

/* ---- Loading ------------------------------------------------------------- */

static struct boot_config config(const char *kernel)
{
	return (struct boot_config){
		.kernel = kernel,
		.cmdline = CMDLINE,
		.mem = &mem_as,
		.ram_size = RAM_SIZE,
		.rsdp_addr = RSDP_ADDR,
		.ncpus = 1,
	};
}

static void load_ok(const struct boot_config *cfg, struct boot_info *bi)
{
	struct error err = { 0 };

	ck_assert_msg(!boot_load_kernel(cfg, bi, &err), "%s", err.msg);
}

static void expect_refused(const struct boot_config *cfg, int errnum,
			   const char *msg, const char *what)
{
	struct error err = { 0 };
	struct boot_info bi;
	int ret;

	ret = boot_load_kernel(cfg, &bi, &err);
	ck_assert_msg(ret == -errnum,
		      "%s: returned %d (%s), expected -%s; message: %s", what,
		      ret, strerror(-ret), strerrorname_np(errnum), err.msg);
	ck_assert_int_eq(err.code, ret);
	ck_assert_msg(strstr(err.msg, msg), "%s: message \"%s\" lacks \"%s\"",
		      what, err.msg, msg);
}

/* An initrd of @len bytes, byte i being (i * 7 + 3) & 0xff. */
static const char *initrd_file(size_t len)
{
	uint8_t *buf = malloc(len);
	const char *path;
	size_t i;

	ck_assert_ptr_nonnull(buf);
	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	path = tmp_write(buf, len);
	free(buf);
	return path;
}

static void expect_initrd_in_guest(uint64_t gpa, size_t len)
{
	uint8_t *buf = malloc(len);
	size_t i;

	ck_assert_ptr_nonnull(buf);
	guest_read(gpa, buf, len);
	for (i = 0; i < len; i++)
		ck_assert_uint_eq(buf[i], (uint8_t)(i * 7 + 3));
	free(buf);
}

static void expect_cmdline_in_guest(const char *want)
{
	char buf[256];

	guest_read(LAYOUT_CMDLINE, buf, strlen(want) + 1);
	ck_assert_str_eq(buf, want);
}

static void expect_e820(const struct boot_e820_entry *e, uint64_t addr,
			uint64_t size, uint32_t type)
{
	ck_assert_uint_eq(e->addr, addr);
	ck_assert_uint_eq(e->size, size);
	ck_assert_uint_eq(e->type, type);
}

/* The map for RAM_SIZE with ACPI tables. */
static void expect_low_map(const struct boot_e820_entry *m, unsigned n)
{
	ck_assert_uint_eq(n, 4);
	expect_e820(&m[0], 0, LAYOUT_LOW_RAM_END, 1);
	expect_e820(&m[1], LAYOUT_LOW_RAM_END, 0xa0000 - LAYOUT_LOW_RAM_END, 2);
	expect_e820(&m[2], LAYOUT_ACPI_BASE, LAYOUT_ACPI_MAX, 3);
	expect_e820(&m[3], 0x100000, RAM_SIZE - 0x100000, 1);
}

#define INITRD_LEN	10000

START_TEST(bzimage_zero_page)
{
	struct bz_spec s = bz_default();
	struct boot_config cfg;
	struct boot_params bp;
	struct boot_info bi;
	uint8_t code[sizeof(payload64)];

	mem_setup(RAM_SIZE);
	cfg = config(bz_file(&s));
	cfg.initrd = initrd_file(INITRD_LEN);
	cfg.ncpus = 2;
	load_ok(&cfg, &bi);

	/* Relocatable, and it fits at pref_address: loaded there. */
	ck_assert_int_eq(bi.entry, BOOT_ENTRY_LINUX64);
	ck_assert_uint_eq(bi.kernel_addr, BZ_PREF);
	ck_assert_uint_eq(bi.entry_addr, BZ_PREF + 0x200);
	ck_assert_uint_eq(bi.kernel_end, BZ_PREF + BZ_INIT_SIZE);
	ck_assert_uint_eq(bi.params_addr, LAYOUT_ZERO_PAGE);
	ck_assert_uint_eq(bi.protocol, 0x020f);
	ck_assert_uint_eq(bi.ncpus, 2);
	ck_assert_uint_eq(bi.cmdline_addr, LAYOUT_CMDLINE);
	ck_assert_uint_eq(bi.cmdline_len, strlen(CMDLINE));
	guest_read(bi.entry_addr, code, sizeof(code));
	ck_assert_mem_eq(code, payload64, sizeof(code));

	guest_read(LAYOUT_ZERO_PAGE, &bp, sizeof(bp));
	ck_assert_uint_eq(bp.hdr.header, 0x53726448);
	ck_assert_uint_eq(bp.hdr.boot_flag, 0xaa55);
	ck_assert_uint_eq(bp.hdr.version, 0x020f);
	ck_assert_uint_eq(bp.hdr.type_of_loader, 0xff);
	ck_assert_uint_eq(bp.hdr.loadflags & LOADED_HIGH, LOADED_HIGH);
	ck_assert_uint_eq(bp.hdr.code32_start, BZ_PREF);
	ck_assert_uint_eq(bp.hdr.init_size, BZ_INIT_SIZE);
	ck_assert_uint_eq(bp.sentinel, 0);
	ck_assert_uint_eq(bp.hdr.cmd_line_ptr, LAYOUT_CMDLINE);
	ck_assert_uint_eq(bp.ext_cmd_line_ptr, 0);
	expect_cmdline_in_guest(CMDLINE);

	/* The initrd: page aligned, above the kernel, as high as it goes. */
	ck_assert_uint_eq(bp.hdr.ramdisk_image, bi.initrd_addr);
	ck_assert_uint_eq(bp.hdr.ramdisk_size, INITRD_LEN);
	ck_assert_uint_eq(bp.ext_ramdisk_image, 0);
	ck_assert_uint_eq(bi.initrd_size, INITRD_LEN);
	ck_assert_uint_eq(bi.initrd_addr % 4096, 0);
	ck_assert_uint_ge(bi.initrd_addr, bi.kernel_end);
	ck_assert_uint_le(bi.initrd_addr + INITRD_LEN, RAM_SIZE);
	ck_assert_uint_gt(bi.initrd_addr + INITRD_LEN, RAM_SIZE - 4096);
	expect_initrd_in_guest(bi.initrd_addr, INITRD_LEN);

	ck_assert_uint_eq(bp.acpi_rsdp_addr, RSDP_ADDR);
	ck_assert_uint_eq(bp.e820_entries, bi.nr_e820);
	expect_low_map(bp.e820_table, bp.e820_entries);
	expect_low_map(bi.e820, bi.nr_e820);
	mem_teardown();
}
END_TEST

/*
 * Not relocatable: loaded at 1 MiB (it will run at pref_address), and the
 * initrd stays below initrd_addr_max.  setup_sects 0 means 4.
 */
START_TEST(bzimage_fixed_address_and_initrd_limit)
{
	struct bz_spec s = bz_default();
	struct boot_config cfg;
	struct boot_params bp;
	struct boot_info bi;
	uint8_t code[sizeof(payload64)];

	s.relocatable = 0;
	s.pref_address = 0x100000;
	s.setup_sects = 0;
	s.initrd_addr_max = 0xbfffff;
	mem_setup(RAM_SIZE);
	cfg = config(bz_file(&s));
	cfg.initrd = initrd_file(INITRD_LEN);
	load_ok(&cfg, &bi);
	ck_assert_uint_eq(bi.kernel_addr, LAYOUT_KERNEL_LOAD);
	ck_assert_uint_eq(bi.entry_addr, LAYOUT_KERNEL_LOAD + 0x200);
	ck_assert_uint_eq(bi.kernel_end, 0x100000 + BZ_INIT_SIZE);
	guest_read(bi.entry_addr, code, sizeof(code));
	ck_assert_mem_eq(code, payload64, sizeof(code));
	ck_assert_uint_le(bi.initrd_addr + INITRD_LEN, 0xc00000);
	ck_assert_uint_gt(bi.initrd_addr + INITRD_LEN, 0xc00000 - 4096);
	guest_read(LAYOUT_ZERO_PAGE, &bp, sizeof(bp));
	ck_assert_uint_eq(bp.hdr.ramdisk_image, bi.initrd_addr);
	expect_initrd_in_guest(bi.initrd_addr, INITRD_LEN);
	mem_teardown();
}
END_TEST

/* Protocol 2.11 has no xloadflags: the 32-bit entry at the load address. */
START_TEST(bzimage_32bit_entry)
{
	struct bz_spec s = bz_default();
	struct boot_config cfg;
	struct boot_params bp;
	struct boot_info bi;

	s.version = 0x020b;
	s.xloadflags = 0;
	s.code = payload32;
	s.code_len = sizeof(payload32);
	s.code_off = 0;
	mem_setup(RAM_SIZE);
	cfg = config(bz_file(&s));
	cfg.cmdline = NULL;
	load_ok(&cfg, &bi);
	ck_assert_int_eq(bi.entry, BOOT_ENTRY_LINUX32);
	ck_assert_uint_eq(bi.entry_addr, bi.kernel_addr);
	ck_assert_uint_eq(bi.initrd_addr, 0);
	ck_assert_uint_eq(bi.cmdline_len, 0);
	expect_cmdline_in_guest("");
	guest_read(LAYOUT_ZERO_PAGE, &bp, sizeof(bp));
	ck_assert_uint_eq(bp.hdr.code32_start, bi.kernel_addr);
	ck_assert_uint_eq(bp.hdr.ramdisk_image, 0);
	ck_assert_uint_eq(bp.hdr.ramdisk_size, 0);
	mem_teardown();
}
END_TEST

static void expect_start_info(const struct boot_info *bi, uint32_t modules)
{
	struct hvm_memmap_table_entry map[BOOT_E820_MAX];
	struct hvm_modlist_entry mod;
	struct hvm_start_info si;
	unsigned i;

	guest_read(LAYOUT_PVH_START_INFO, &si, sizeof(si));
	ck_assert_uint_eq(si.magic, 0x336ec578);
	ck_assert_uint_eq(si.version, 1);
	ck_assert_uint_eq(si.flags, 0);
	ck_assert_uint_eq(si.cmdline_paddr, LAYOUT_CMDLINE);
	ck_assert_uint_eq(si.rsdp_paddr, RSDP_ADDR);
	ck_assert_uint_eq(si.memmap_paddr, LAYOUT_PVH_MEMMAP);
	ck_assert_uint_eq(si.memmap_entries, bi->nr_e820);
	ck_assert_uint_eq(si.reserved, 0);
	ck_assert_uint_eq(si.nr_modules, modules);
	guest_read(si.memmap_paddr, map, si.memmap_entries * sizeof(map[0]));
	for (i = 0; i < si.memmap_entries; i++) {
		ck_assert_uint_eq(map[i].addr, bi->e820[i].addr);
		ck_assert_uint_eq(map[i].size, bi->e820[i].size);
		ck_assert_uint_eq(map[i].type, bi->e820[i].type);
		ck_assert_uint_eq(map[i].reserved, 0);
	}
	if (!modules) {
		ck_assert_uint_eq(si.modlist_paddr, 0);
		return;
	}
	ck_assert_uint_eq(si.modlist_paddr, LAYOUT_PVH_MODLIST);
	guest_read(si.modlist_paddr, &mod, sizeof(mod));
	ck_assert_uint_eq(mod.paddr, bi->initrd_addr);
	ck_assert_uint_eq(mod.size, bi->initrd_size);
	ck_assert_uint_eq(mod.cmdline_paddr, 0);
	ck_assert_uint_eq(mod.reserved, 0);
}

START_TEST(pvh_elf64_start_info)
{
	struct elf64 e = elf64_default();
	struct boot_config cfg;
	struct boot_info bi;
	uint8_t code[sizeof(e.code)];

	mem_setup(RAM_SIZE);
	/* Stale bytes where the bss goes: the loader must clear them. */
	guest_fill(ELF_PADDR + sizeof(e.code), 0xaa,
		   ELF64_SEG0_MEMSZ - sizeof(e.code));
	guest_fill(ELF_BSS_PADDR, 0xaa, ELF64_SEG1_MEMSZ);
	cfg = config(tmp_write(&e, sizeof(e)));
	cfg.initrd = initrd_file(INITRD_LEN);
	load_ok(&cfg, &bi);

	ck_assert_int_eq(bi.entry, BOOT_ENTRY_PVH);
	ck_assert_uint_eq(bi.entry_addr, ELF_PADDR);
	ck_assert_uint_eq(bi.params_addr, LAYOUT_PVH_START_INFO);
	ck_assert_uint_eq(bi.kernel_addr, ELF_PADDR);
	ck_assert_uint_eq(bi.kernel_end, ELF_BSS_PADDR + ELF64_SEG1_MEMSZ);
	ck_assert_uint_eq(bi.protocol, 0);
	guest_read(ELF_PADDR, code, sizeof(code));
	ck_assert_mem_eq(code, e.code, sizeof(code));
	ck_assert(guest_is(ELF_PADDR + sizeof(e.code), 0,
			   ELF64_SEG0_MEMSZ - sizeof(e.code)));
	ck_assert(guest_is(ELF_BSS_PADDR, 0, ELF64_SEG1_MEMSZ));
	/* The bzImage's structures are not written on this path. */
	ck_assert(guest_is(LAYOUT_ZERO_PAGE, 0, 4096));

	expect_low_map(bi.e820, bi.nr_e820);
	expect_start_info(&bi, 1);
	ck_assert_uint_eq(bi.initrd_addr % 4096, 0);
	ck_assert_uint_ge(bi.initrd_addr, bi.kernel_end);
	ck_assert_uint_le(bi.initrd_addr + INITRD_LEN, RAM_SIZE);
	expect_initrd_in_guest(bi.initrd_addr, INITRD_LEN);
	expect_cmdline_in_guest(CMDLINE);
	mem_teardown();
}
END_TEST

START_TEST(pvh_elf32_start_info)
{
	struct elf32 e = elf32_default();
	struct boot_config cfg;
	struct boot_info bi;
	uint8_t code[sizeof(e.code)];

	mem_setup(RAM_SIZE);
	cfg = config(tmp_write(&e, sizeof(e)));
	cfg.rsdp_addr = RSDP_ADDR;
	load_ok(&cfg, &bi);
	ck_assert_int_eq(bi.entry, BOOT_ENTRY_PVH);
	ck_assert_uint_eq(bi.entry_addr, ELF_PADDR);
	ck_assert_uint_eq(bi.kernel_end, ELF_PADDR + 0x800);
	guest_read(ELF_PADDR, code, sizeof(code));
	ck_assert_mem_eq(code, e.code, sizeof(code));
	ck_assert(guest_is(ELF_PADDR + sizeof(e.code), 0,
			   0x800 - sizeof(e.code)));
	expect_start_info(&bi, 0);
	mem_teardown();
}
END_TEST

/* RAM past the MMIO hole: the map's last entry, the initrd below the hole. */
START_TEST(high_ram_memory_map)
{
	const uint64_t high = 256ull << 20;
	struct elf64 e = elf64_default();
	struct boot_config cfg;
	struct boot_info bi;

	mem_setup(LAYOUT_MMIO_HOLE_START + high);
	cfg = config(tmp_write(&e, sizeof(e)));
	cfg.ram_size = LAYOUT_MMIO_HOLE_START + high;
	cfg.initrd = initrd_file(INITRD_LEN);
	load_ok(&cfg, &bi);
	ck_assert_uint_eq(bi.nr_e820, 5);
	expect_e820(&bi.e820[3], 0x100000, LAYOUT_MMIO_HOLE_START - 0x100000,
		    1);
	expect_e820(&bi.e820[4], LAYOUT_HIGH_RAM_BASE, high, 1);
	ck_assert_uint_le(bi.initrd_addr + INITRD_LEN, LAYOUT_MMIO_HOLE_START);
	ck_assert_uint_gt(bi.initrd_addr + INITRD_LEN,
			  LAYOUT_MMIO_HOLE_START - 4096);
	expect_initrd_in_guest(bi.initrd_addr, INITRD_LEN);
	expect_start_info(&bi, 1);
	mem_teardown();
}
END_TEST

START_TEST(e820_without_acpi)
{
	struct boot_e820_entry m[BOOT_E820_MAX];
	unsigned n;

	n = boot_e820_build(RAM_SIZE, false, m);
	ck_assert_uint_eq(n, 4);
	expect_e820(&m[2], LAYOUT_ACPI_BASE, LAYOUT_ACPI_MAX, 2);
	n = boot_e820_build(RAM_SIZE, true, m);
	expect_low_map(m, n);
}
END_TEST

/* ---- Refusals ------------------------------------------------------------ */

/*
 * A refusal case corrupts its image with up to two "pokes": a field, by
 * offset and size in the file, and the little-endian value written there.
 */
struct poke {
	size_t off;
	size_t size;
	uint64_t val;
};

static void poke_apply(uint8_t *f, const struct poke *p, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (p[i].size)
			memcpy(f + p[i].off, &p[i].val, p[i].size);
}

#define FIELD_POKE(type, field, v)					\
	{ offsetof(type, field), sizeof(((type *)0)->field), (v) }
#define BZ_POKE(field, v)	FIELD_POKE(struct boot_params, hdr.field, v)
#define ELF_POKE(field, v)	FIELD_POKE(struct elf64, field, v)

struct bad_image {
	const char *name;
	struct poke poke[2];
	size_t len;		/* cut the file to this length; 0: keep */
	int err;
	const char *msg;
};

static const struct bad_image bad_bzimages[] = {
	{ "protocol 2.05", { BZ_POKE(version, 0x0205) }, 0, ENOTSUP,
	  "boot protocol 2.05; flatvm needs 2.06 or later" },
	{ "missing HdrS", { BZ_POKE(header, 0) }, 0, ENOEXEC,
	  "without a Linux boot header (no \"HdrS\" at 0x202)" },
	{ "bad boot_flag", { BZ_POKE(boot_flag, 0xaa12) }, 0, EINVAL,
	  "boot_flag is 0xaa12; expected 0xaa55" },
	{ "zImage", { BZ_POKE(loadflags, 0) }, 0, ENOTSUP, "LOADED_HIGH" },
	{ "short header", { BZ_POKE(jump, 0xeb | ((0x230 - 0x202) << 8)) }, 0,
	  EINVAL, "setup header ends at 0x230" },
	{ "setup_sects past the end", { BZ_POKE(setup_sects, 200) }, 0, EINVAL,
	  "setup_sects says the setup code is 102912 bytes" },
	{ "syssize past the end", { BZ_POKE(syssize, 0x100000) }, 0, EINVAL,
	  "syssize says the protected-mode kernel is 16777216 bytes" },
	{ "truncated file", { { 0 } }, 0x300, EINVAL,
	  "setup_sects says the setup code is 2560 bytes but the file has 768" },
	{ "init_size beyond RAM", { BZ_POKE(init_size, 0xf0000000u) }, 0,
	  ENOSPC, "init_size 0xf0000000" },
	{ "cmdline_size", { BZ_POKE(cmdline_size, 8) }, 0, E2BIG,
	  "accepts at most 8 (its cmdline_size)" },
	{ "kernel_alignment", { BZ_POKE(kernel_alignment, 0x3000) }, 0, EINVAL,
	  "kernel_alignment 0x3000 is not a power of two" },
	{ "fixed below 1 MiB",
	  { BZ_POKE(relocatable_kernel, 0), BZ_POKE(pref_address, 0x7000) }, 0,
	  EINVAL, "runs at pref_address 0x7000, below 1 MiB" },
};

START_TEST(bzimage_refused)
{
	const struct bad_image *c = &bad_bzimages[_i];
	struct bz_spec s = bz_default();
	struct boot_config cfg;
	uint8_t *f;
	size_t len;

	f = bz_build(&s, &len);
	poke_apply(f, c->poke, ARRAY_SIZE(c->poke));
	mem_setup(RAM_SIZE);
	cfg = config(tmp_write(f, c->len ? c->len : len));
	free(f);
	expect_refused(&cfg, c->err, c->msg, c->name);
	/* Refused before anything was written. */
	ck_assert(guest_is(LAYOUT_ZERO_PAGE, 0, 4096));
	ck_assert(guest_is(BZ_PREF, 0, 4096));
	ck_assert(guest_is(LAYOUT_CMDLINE, 0, 0x100));
	mem_teardown();
}
END_TEST

static const struct bad_image bad_elfs[] = {
	{ "truncated header", { { 0 } }, 40, EINVAL,
	  "is truncated: an ELF64 header is 64 bytes but the file has 40" },
	{ "truncated ident", { { 0 } }, 10, EINVAL,
	  "has only 10 bytes, fewer than the 16 of an ELF identification" },
	{ "phdrs out of the file", { ELF_POKE(eh.e_phoff, 0x10000) }, 0, EINVAL,
	  "program header table [0x10000, 0x100a8) lies outside the file" },
	{ "phdr offset wraps", { ELF_POKE(eh.e_phoff, UINT64_MAX - 8) }, 0,
	  EINVAL,
	  "program header table [0xfffffffffffffff7, 0xffffffffffffffff)" },
	{ "no phdrs", { ELF_POKE(eh.e_phnum, 0) }, 0, EINVAL,
	  "has 0 program headers" },
	{ "e_phentsize", { ELF_POKE(eh.e_phentsize, 32) }, 0, EINVAL,
	  "e_phentsize is 32" },
	{ "segment beyond RAM", { ELF_POKE(ph[0].p_paddr, RAM_SIZE - 0x800) },
	  0, ENOSPC,
	  "segment 0 at [0x1fff800, 0x2000800) is outside guest RAM" },
	{ "segment over the boot structures",
	  { ELF_POKE(ph[0].p_paddr, LAYOUT_ZERO_PAGE) }, 0, ENOSPC,
	  "segment 0 at [0x7000, 0x8000) overlaps the boot structures below 1 MiB" },
	{ "huge p_filesz",
	  { ELF_POKE(ph[0].p_filesz, 1ull << 62),
	    ELF_POKE(ph[0].p_memsz, 1ull << 62) }, 0, EINVAL,
	  "segment 0's file bytes [0x118, 0x4000000000000118) lie outside the file" },
	{ "segment wraps", { ELF_POKE(ph[1].p_paddr, UINT64_MAX - 0xfff) }, 0,
	  EINVAL,
	  "segment 1 at p_paddr 0xfffffffffffff000 with p_memsz 0x2000 wraps" },
	{ "p_filesz > p_memsz", { ELF_POKE(ph[0].p_memsz, 0x10) }, 0, EINVAL,
	  "p_filesz 0x100 larger than its p_memsz 0x10" },
	{ "overlapping segments", { ELF_POKE(ph[1].p_paddr, ELF_PADDR + 0x800) },
	  0, EINVAL, "segment 1 at [0x200800, 0x202800) overlaps segment 0" },
	{ "no PVH note", { ELF_POKE(notes[1].nh.n_type, 1) }, 0, ENOEXEC,
	  "is an ELF vmlinux without a PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); build with CONFIG_PVH=y or pass the bzImage" },
	{ "note name size", { ELF_POKE(notes[0].nh.n_namesz, 0x1000) }, 0,
	  EINVAL,
	  "note 0 in segment 2 (name size 4096, descriptor size 8) runs past" },
	{ "note descriptor size", { ELF_POKE(notes[1].nh.n_descsz, 0xffffffff) },
	  0, EINVAL,
	  "note 1 in segment 2 (name size 4, descriptor size 4294967295) runs past" },
	{ "PVH note value size", { ELF_POKE(notes[1].nh.n_descsz, 2) }, 0,
	  EINVAL,
	  "XEN_ELFNOTE_PHYS32_ENTRY note has a 2-byte value; expected 4 or 8" },
	{ "notes out of the file", { ELF_POKE(ph[2].p_offset, 0x100000) }, 0,
	  EINVAL, "note segment 2's bytes [0x100000, 0x100030) lie outside the file" },
	{ "entry outside the segments", { ELF_POKE(notes[1].desc, ELF_BSS_PADDR) },
	  0, EINVAL,
	  "PVH entry 0x300000 (note in segment 2) lies in no loaded segment's file contents" },
	{ "entry above 4 GiB", { ELF_POKE(notes[1].desc, 1ull << 32) }, 0,
	  EINVAL, "PVH entry 0x100000000 is above 4 GiB" },
	{ "no PT_LOAD",
	  { ELF_POKE(ph[0].p_type, PT_NULL), ELF_POKE(ph[1].p_type, PT_NULL) },
	  0, EINVAL, "has no loadable (PT_LOAD) segments" },
	{ "arm64", { ELF_POKE(eh.e_machine, EM_AARCH64) }, 0, ENOEXEC,
	  "for machine 183 (aarch64); expected an x86 vmlinux" },
	{ "ET_DYN", { ELF_POKE(eh.e_type, ET_DYN) }, 0, ENOEXEC,
	  "type 3 (a shared object or PIE); expected an executable (ET_EXEC) vmlinux" },
	{ "big endian", { ELF_POKE(eh.e_ident[EI_DATA], ELFDATA2MSB) }, 0,
	  ENOEXEC, "is a big-endian ELF file" },
	{ "bad class", { ELF_POKE(eh.e_ident[EI_CLASS], 7) }, 0, EINVAL,
	  "invalid class 7" },
};

START_TEST(elf_refused)
{
	const struct bad_image *c = &bad_elfs[_i];
	struct elf64 e = elf64_default();
	struct boot_config cfg;

	poke_apply((uint8_t *)&e, c->poke, ARRAY_SIZE(c->poke));
	mem_setup(RAM_SIZE);
	cfg = config(tmp_write(&e, c->len ? c->len : sizeof(e)));
	expect_refused(&cfg, c->err, c->msg, c->name);
	/* Refused before anything was written. */
	ck_assert(guest_is(ELF_PADDR, 0, 0x1000));
	ck_assert(guest_is(LAYOUT_PVH_START_INFO, 0, 0x1000));
	ck_assert(guest_is(LAYOUT_CMDLINE, 0, 0x100));
	mem_teardown();
}
END_TEST

struct file_case {
	const char *name;
	const void *bytes;
	size_t len;
	const char *msg;
};

static const struct file_case file_cases[] = {
	{ "empty", "", 0, "is empty (0 bytes); expected a bzImage (boot protocol 2.06 or later) or an ELF vmlinux with a PVH entry note" },
	{ "gzip", "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", 10,
	  "is gzip-compressed data, not a kernel (decompress it first" },
	{ "xz", "\xfd" "7zXZ\0\0\x04\xe6\xd6\xb4\x46", 12,
	  "is xz-compressed data, not a kernel" },
	{ "zstd", "\x28\xb5\x2f\xfd\x04\x00", 6, "is zstd-compressed data" },
	{ "cpio", "070701000000010000", 18, "is a cpio archive, not a kernel (is it the initrd?)" },
	{ "text", "#!/bin/sh\necho hello\n", 21,
	  "does not look like a kernel (it starts 23 21 2f 62: neither ELF nor a bzImage with \"HdrS\" at 0x202); expected a bzImage" },
};

START_TEST(not_a_kernel_refused)
{
	const struct file_case *c = &file_cases[_i];
	struct boot_config cfg;

	mem_setup(RAM_SIZE);
	cfg = config(tmp_write(c->bytes, c->len));
	expect_refused(&cfg, ENOEXEC, c->msg, c->name);
	mem_teardown();
}
END_TEST

START_TEST(config_and_files_refused)
{
	struct elf64 e = elf64_default();
	struct bz_spec s = bz_default();
	struct boot_config cfg;
	const char *elf, *bz, *big;
	char *long_cmdline;

	mem_setup(RAM_SIZE);
	elf = tmp_write(&e, sizeof(e));
	bz = bz_file(&s);

	cfg = config("/nonexistent/vmlinux");
	expect_refused(&cfg, ENOENT, "cannot open kernel /nonexistent/vmlinux: No such file or directory", "missing kernel");
	cfg = config("/");
	expect_refused(&cfg, EINVAL, "kernel / is not a regular file", "directory");

	cfg = config(elf);
	cfg.initrd = "/nonexistent/initrd";
	expect_refused(&cfg, ENOENT, "cannot open initrd /nonexistent/initrd", "missing initrd");
	cfg.initrd = tmp_write("", 0);
	expect_refused(&cfg, EINVAL, "is empty; expected a cpio archive", "empty initrd");
	cfg.initrd = big = initrd_file(16);
	tmp_extend(big, (off_t)RAM_SIZE);
	expect_refused(&cfg, ENOSPC, "(33554432 bytes) does not fit in guest RAM between the kernel's end at 0x302000 and 0x2000000", "initrd too big");

	/* A bzImage whose kernel is larger than RAM. */
	big = bz_file(&s);
	tmp_extend(big, (off_t)RAM_SIZE + 4096);
	cfg = config(big);
	expect_refused(&cfg, ENOSPC, "does not fit in guest RAM", "kernel too big");

	cfg = config(elf);
	cfg.rsdp_addr = 0x7000;
	expect_refused(&cfg, EINVAL, "rsdp_addr 0x7000 is not a 16-byte aligned address in the ACPI area [0xe0000, 0x100000)", "rsdp outside");
	cfg.rsdp_addr = LAYOUT_ACPI_BASE + 8;
	expect_refused(&cfg, EINVAL, "rsdp_addr", "rsdp unaligned");
	cfg = config(elf);
	cfg.ram_size = 1ull << 20;
	expect_refused(&cfg, ENOSPC, "guest RAM of 1024 KiB ends at or below 1 MiB", "tiny RAM");
	cfg = config(elf);
	cfg.ncpus = 0;
	expect_refused(&cfg, EINVAL, "has 0 vCPUs; expected 1 to 64", "no vCPUs");
	cfg = config(NULL);
	expect_refused(&cfg, EINVAL, "lacks the kernel path", "no kernel");

	long_cmdline = malloc(LAYOUT_CMDLINE_MAX + 1);
	ck_assert_ptr_nonnull(long_cmdline);
	memset(long_cmdline, 'x', LAYOUT_CMDLINE_MAX);
	long_cmdline[LAYOUT_CMDLINE_MAX] = '\0';
	cfg = config(elf);
	cfg.cmdline = long_cmdline;
	expect_refused(&cfg, E2BIG, "the command line is 65536 bytes; at most 65535 fit", "PVH command line");
	cfg = config(bz);
	cfg.cmdline = long_cmdline;
	expect_refused(&cfg, E2BIG, "accepts at most 2047 (its cmdline_size)", "bzImage command line");
	free(long_cmdline);
	/* Nothing reached guest memory. */
	ck_assert(guest_is(0, 0, 1 << 20));
	mem_teardown();
}
END_TEST

/* ---- On /dev/kvm --------------------------------------------------------- */

static void run_guest(const struct boot_info *bi, const uint8_t *want,
		      unsigned n)
{
	struct error err = { 0 };
	enum vcpu_stop_reason r;
	struct vcpu vcpu;

	ck_assert_msg(!vcpu_create(&kvm, &vcpu, 0, &err), "%s", err.msg);
	ck_assert_msg(!x86_setup_vcpu(&vcpu, bi, &mem_as, &err), "%s",
		      err.msg);
	r = vcpu_run_loop(&vcpu);
	ck_assert_msg(r == VCPU_STOP_HLT, "stopped: %s %s",
		      vcpu_stop_reason_name(r), vcpu.error);
	expect_ports(want, n);
	vcpu_destroy(&vcpu);
}

START_TEST(kvm_boots_bzimage_64bit)
{
	const uint8_t want[] = { LAYOUT_ZERO_PAGE & 0xff,
				 (LAYOUT_ZERO_PAGE >> 8) & 0xff, 0xff,
				 (LAYOUT_ZERO_PAGE >> 8) & 0xff,
				 MARK_LINUX64 };
	struct bz_spec s = bz_default();
	struct boot_config cfg;
	struct boot_info bi;

	vm_setup(false);
	cfg = config(bz_file(&s));
	load_ok(&cfg, &bi);
	run_guest(&bi, want, sizeof(want));
	mem_teardown();
}
END_TEST

START_TEST(kvm_boots_bzimage_32bit)
{
	const uint8_t want[] = { LAYOUT_ZERO_PAGE & 0xff,
				 (LAYOUT_ZERO_PAGE >> 8) & 0xff, 0xff,
				 MARK_LINUX32 };
	struct bz_spec s = bz_default();
	struct boot_config cfg;
	struct boot_info bi;

	s.version = 0x020b;
	s.xloadflags = 0;
	s.code = payload32;
	s.code_len = sizeof(payload32);
	s.code_off = 0;
	vm_setup(false);
	cfg = config(bz_file(&s));
	load_ok(&cfg, &bi);
	ck_assert_int_eq(bi.entry, BOOT_ENTRY_LINUX32);
	run_guest(&bi, want, sizeof(want));
	mem_teardown();
}
END_TEST

static const uint8_t want_pvh[] = {
	LAYOUT_PVH_START_INFO & 0xff, (LAYOUT_PVH_START_INFO >> 8) & 0xff,
	0x78,			/* low byte of XEN_HVM_START_MAGIC_VALUE */
	CMDLINE[0], MARK_PVH,
};

START_TEST(kvm_boots_pvh_elf64)
{
	struct elf64 e = elf64_default();
	struct boot_config cfg;
	struct boot_info bi;

	vm_setup(false);
	cfg = config(tmp_write(&e, sizeof(e)));
	cfg.initrd = initrd_file(INITRD_LEN);
	load_ok(&cfg, &bi);
	run_guest(&bi, want_pvh, sizeof(want_pvh));
	mem_teardown();
}
END_TEST

START_TEST(kvm_boots_pvh_elf32)
{
	struct elf32 e = elf32_default();
	struct boot_config cfg;
	struct boot_info bi;

	vm_setup(false);
	cfg = config(tmp_write(&e, sizeof(e)));
	load_ok(&cfg, &bi);
	run_guest(&bi, want_pvh, sizeof(want_pvh));
	mem_teardown();
}
END_TEST

static uint64_t get_msr(struct vcpu *vcpu, uint32_t index)
{
	union {
		struct kvm_msrs hdr;
		uint8_t bytes[sizeof(struct kvm_msrs) +
			      sizeof(struct kvm_msr_entry)];
	} m;

	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = 1;
	m.hdr.entries[0].index = index;
	ck_assert_int_eq(ioctl(vcpu->fd, KVM_GET_MSRS, &m), 1);
	return m.hdr.entries[0].data;
}

static uint32_t lapic_reg(const struct kvm_lapic_state *l, unsigned off)
{
	uint32_t v;

	memcpy(&v, l->regs + off, sizeof(v));
	return v;
}

/* The state x86_setup_vcpu() leaves, read back through KVM. */
START_TEST(kvm_entry_state_64bit)
{
	struct bz_spec s = bz_default();
	struct error err = { 0 };
	struct kvm_lapic_state lapic;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_xsave xsave;
	struct kvm_fpu fpu;
	struct boot_config cfg;
	struct boot_info bi;
	struct vcpu bsp, ap;
	uint64_t gdt[6], pml4, pdpt[4], pde;

	vm_setup(true);
	cfg = config(bz_file(&s));
	cfg.ncpus = 2;
	load_ok(&cfg, &bi);
	ck_assert_msg(!vcpu_create(&kvm, &bsp, 0, &err), "%s", err.msg);
	ck_assert_msg(!vcpu_create(&kvm, &ap, 1, &err), "%s", err.msg);
	/* A used FPU (rounding toward zero) is reset to MXCSR 0x1f80. */
	ck_assert_int_eq(ioctl(bsp.fd, KVM_GET_XSAVE, &xsave), 0);
	xsave.region[6] = 0x7f80;
	ck_assert_int_eq(ioctl(bsp.fd, KVM_SET_XSAVE, &xsave), 0);
	ck_assert_msg(!x86_setup_vcpu(&bsp, &bi, &mem_as, &err), "%s", err.msg);
	ck_assert_msg(!x86_setup_vcpu(&ap, &bi, &mem_as, &err), "%s", err.msg);

	ck_assert_int_eq(ioctl(bsp.fd, KVM_GET_SREGS, &sregs), 0);
	ck_assert_uint_eq(sregs.cr0, 0x80000031);	/* PG NE ET PE */
	ck_assert_uint_eq(sregs.cr3, LAYOUT_PML4);
	ck_assert_uint_eq(sregs.cr4, 0x20);		/* PAE */
	ck_assert_uint_eq(sregs.efer & 0x500, 0x500);	/* LMA LME */
	ck_assert_uint_eq(sregs.cs.selector, 0x10);
	ck_assert_uint_eq(sregs.cs.l, 1);
	ck_assert_uint_eq(sregs.cs.db, 0);
	ck_assert_uint_eq(sregs.ds.selector, 0x18);
	ck_assert_uint_eq(sregs.ss.selector, 0x18);
	ck_assert_uint_eq(sregs.es.selector, 0x18);
	ck_assert_uint_eq(sregs.tr.selector, 0x20);
	ck_assert_uint_eq(sregs.gdt.base, LAYOUT_GDT);
	ck_assert_uint_eq(sregs.gdt.limit, sizeof(gdt) - 1);
	guest_read(LAYOUT_GDT, gdt, sizeof(gdt));
	ck_assert_uint_eq(gdt[0], 0);
	ck_assert_uint_eq(gdt[2], 0x00af9b000000ffffull);	/* code64 */
	ck_assert_uint_eq(gdt[3], 0x00cf93000000ffffull);	/* data */
	ck_assert_uint_eq(gdt[4], 0x00008b0000000067ull);	/* TSS */
	guest_read(LAYOUT_PML4, &pml4, sizeof(pml4));
	ck_assert_uint_eq(pml4, LAYOUT_PDPT | 3);
	guest_read(LAYOUT_PDPT, pdpt, sizeof(pdpt));
	ck_assert_uint_eq(pdpt[3], (LAYOUT_PD + 3 * 0x1000) | 3);
	guest_read(LAYOUT_PD + 3 * 0x1000 + 511 * 8, &pde, sizeof(pde));
	ck_assert_uint_eq(pde, 0xffe00000ull | 0x83);	/* last 2 MiB */

	ck_assert_int_eq(ioctl(bsp.fd, KVM_GET_REGS, &regs), 0);
	ck_assert_uint_eq(regs.rip, BZ_PREF + 0x200);
	ck_assert_uint_eq(regs.rsi, LAYOUT_ZERO_PAGE);
	ck_assert_uint_eq(regs.rsp, LAYOUT_BOOT_STACK);
	ck_assert_uint_eq(regs.rflags, 2);

	ck_assert_uint_eq(get_msr(&bsp, 0x1a0) & 1, 1);	/* fast string */
	ck_assert_uint_eq(get_msr(&bsp, 0x2ff), 0x806);	/* MTRR on, WB */
	ck_assert_uint_eq(get_msr(&bsp, 0xc0000082), 0);	/* LSTAR */
	ck_assert_uint_eq(get_msr(&bsp, 0x174), 0);	/* SYSENTER_CS */
	ck_assert_uint_eq(get_msr(&bsp, 0xc0000080) & 0x500, 0x500);
	ck_assert_int_eq(ioctl(bsp.fd, KVM_GET_FPU, &fpu), 0);
	ck_assert_uint_eq(fpu.fcw, 0x37f);
	/* KVM reports MXCSR only in the XSAVE area (legacy region, byte 24). */
	ck_assert_int_eq(ioctl(bsp.fd, KVM_GET_XSAVE, &xsave), 0);
	ck_assert_uint_eq(xsave.region[6], 0x1f80);

	/* Virtual wire mode: LINT0 ExtINT, LINT1 NMI, unmasked. */
	ck_assert_int_eq(ioctl(bsp.fd, KVM_GET_LAPIC, &lapic), 0);
	ck_assert_uint_eq(lapic_reg(&lapic, 0x350) & 0x10700, 0x700);
	ck_assert_uint_eq(lapic_reg(&lapic, 0x360) & 0x10700, 0x400);

	/* The AP keeps its reset state: real mode at the reset vector. */
	ck_assert_int_eq(ioctl(ap.fd, KVM_GET_REGS, &regs), 0);
	ck_assert_uint_eq(regs.rip, 0xfff0);
	ck_assert_int_eq(ioctl(ap.fd, KVM_GET_SREGS, &sregs), 0);
	ck_assert_uint_eq(sregs.cr0 & 1, 0);
	ck_assert_uint_eq(sregs.efer, 0);
	ck_assert_uint_eq(get_msr(&ap, 0x1a0) & 1, 1);

	vcpu_destroy(&ap);
	vcpu_destroy(&bsp);
	mem_teardown();
}
END_TEST

START_TEST(kvm_entry_state_pvh)
{
	struct elf64 e = elf64_default();
	struct error err = { 0 };
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct boot_config cfg;
	struct boot_info bi;
	struct vcpu vcpu;
	uint64_t gdt[6];

	vm_setup(false);
	cfg = config(tmp_write(&e, sizeof(e)));
	load_ok(&cfg, &bi);
	ck_assert_msg(!vcpu_create(&kvm, &vcpu, 0, &err), "%s", err.msg);
	ck_assert_msg(!x86_setup_vcpu(&vcpu, &bi, &mem_as, &err), "%s",
		      err.msg);
	ck_assert_int_eq(ioctl(vcpu.fd, KVM_GET_SREGS, &sregs), 0);
	ck_assert_uint_eq(sregs.cr0, 0x11);		/* ET PE */
	ck_assert_uint_eq(sregs.cr4, 0);
	ck_assert_uint_eq(sregs.efer, 0);
	ck_assert_uint_eq(sregs.cs.db, 1);
	ck_assert_uint_eq(sregs.cs.l, 0);
	ck_assert_uint_eq(sregs.cs.base, 0);
	ck_assert_uint_eq(sregs.cs.limit, 0xffffffff);
	ck_assert_uint_eq(sregs.ss.limit, 0xffffffff);
	ck_assert_uint_eq(sregs.tr.limit, 0x67);
	guest_read(LAYOUT_GDT, gdt, sizeof(gdt));
	ck_assert_uint_eq(gdt[2], 0x00cf9b000000ffffull);	/* code32 */
	ck_assert(guest_is(LAYOUT_PML4, 0, 0x1000));	/* no page tables */
	ck_assert_int_eq(ioctl(vcpu.fd, KVM_GET_REGS, &regs), 0);
	ck_assert_uint_eq(regs.rip, ELF_PADDR);
	ck_assert_uint_eq(regs.rbx, LAYOUT_PVH_START_INFO);
	ck_assert_uint_eq(regs.rflags, 2);
	vcpu_destroy(&vcpu);
	mem_teardown();
}
END_TEST

START_TEST(kvm_ap_needs_irqchip)
{
	struct elf64 e = elf64_default();
	struct error err = { 0 };
	struct boot_config cfg;
	struct boot_info bi;
	struct vcpu ap;

	vm_setup(false);
	cfg = config(tmp_write(&e, sizeof(e)));
	cfg.ncpus = 2;
	load_ok(&cfg, &bi);
	ck_assert_msg(!vcpu_create(&kvm, &ap, 1, &err), "%s", err.msg);
	ck_assert_int_eq(x86_setup_vcpu(&ap, &bi, &mem_as, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "vCPU 1 is an application processor"));
	ck_assert_ptr_nonnull(strstr(err.msg, "in-kernel irqchip"));
	bi.entry_addr = 1ull << 32;
	ck_assert_int_eq(x86_setup_vcpu(&ap, &bi, &mem_as, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "must lie below 4 GiB"));
	vcpu_destroy(&ap);
	mem_teardown();
}
END_TEST

static Suite *boot_suite(void)
{
	Suite *s = suite_create("boot");
	TCase *load = rcu_tcase("load", 30);
	TCase *refuse = rcu_tcase("refuse", 30);
	TCase *run = rcu_tcase("kvm", 30);

	tcase_add_checked_fixture(load, NULL, tmp_cleanup);
	tcase_add_test(load, bzimage_zero_page);
	tcase_add_test(load, bzimage_fixed_address_and_initrd_limit);
	tcase_add_test(load, bzimage_32bit_entry);
	tcase_add_test(load, pvh_elf64_start_info);
	tcase_add_test(load, pvh_elf32_start_info);
	tcase_add_test(load, high_ram_memory_map);
	tcase_add_test(load, e820_without_acpi);
	suite_add_tcase(s, load);

	tcase_add_checked_fixture(refuse, NULL, tmp_cleanup);
	tcase_add_loop_test(refuse, bzimage_refused, 0,
			    ARRAY_SIZE(bad_bzimages));
	tcase_add_loop_test(refuse, elf_refused, 0, ARRAY_SIZE(bad_elfs));
	tcase_add_loop_test(refuse, not_a_kernel_refused, 0,
			    ARRAY_SIZE(file_cases));
	tcase_add_test(refuse, config_and_files_refused);
	suite_add_tcase(s, refuse);

	tcase_add_checked_fixture(run, NULL, tmp_cleanup);
	tcase_add_test(run, kvm_boots_bzimage_64bit);
	tcase_add_test(run, kvm_boots_bzimage_32bit);
	tcase_add_test(run, kvm_boots_pvh_elf64);
	tcase_add_test(run, kvm_boots_pvh_elf32);
	tcase_add_test(run, kvm_entry_state_64bit);
	tcase_add_test(run, kvm_entry_state_pvh);
	tcase_add_test(run, kvm_ap_needs_irqchip);
	suite_add_tcase(s, run);
	return s;
}

CHECK_MAIN_REQUIRES(kvm_available, boot_suite)
