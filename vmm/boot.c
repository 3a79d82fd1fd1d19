// SPDX-License-Identifier: GPL-2.0-only
/*
 * Kernel loading: a bzImage through the x86 boot protocol (Linux
 * Documentation/arch/x86/boot.rst, "64-bit Boot Protocol" and "32-bit
 * Boot Protocol"), or an ELF vmlinux through its PVH entry note.
 *
 * Files are hostile input: every offset and size read from one is checked
 * against the file's real size and against guest RAM, with overflow-safe
 * arithmetic, and all of it before the first byte of guest memory is
 * written (validate everything before mutating anything).  Files are read
 * with pread() in bounded chunks, never mapped (a file truncated under us
 * must not SIGBUS the VMM) and never read whole into host memory.
 */
#include <asm/e820.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flatvm/acpi.h"
#include "flatvm/boot.h"
#include "flatvm/kvm.h"
#include "flatvm/layout.h"

/* The zero page and the PVH tables are the guest's bytes. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "boot structures are built in host byte order");
_Static_assert(sizeof(struct boot_params) == 4096, "the zero page is 4 KiB");
_Static_assert(E820_RAM == XEN_HVM_MEMMAP_TYPE_RAM &&
	       E820_RESERVED == XEN_HVM_MEMMAP_TYPE_RESERVED &&
	       E820_ACPI == XEN_HVM_MEMMAP_TYPE_ACPI,
	       "e820 and the PVH memmap share their type numbers");

/* What the loader writes below 1 MiB must not overlap. */
_Static_assert(LAYOUT_PVH_START_INFO + sizeof(struct hvm_start_info) <=
	       LAYOUT_PVH_MEMMAP, "start info runs into the memmap");
_Static_assert(LAYOUT_PVH_MEMMAP + BOOT_E820_MAX *
	       sizeof(struct hvm_memmap_table_entry) <= LAYOUT_PVH_MODLIST,
	       "memmap runs into the modlist");
_Static_assert(LAYOUT_PVH_MODLIST + sizeof(struct hvm_modlist_entry) <=
	       LAYOUT_ZERO_PAGE, "modlist runs into the zero page");
_Static_assert(LAYOUT_CMDLINE + LAYOUT_CMDLINE_MAX <= LAYOUT_LOW_RAM_END,
	       "the command line leaves low RAM");
_Static_assert(LAYOUT_ACPI_BASE + LAYOUT_ACPI_MAX <= LAYOUT_KERNEL_LOAD,
	       "kernels load above the ACPI area");
_Static_assert(LAYOUT_MMIO_HOLE_START <= UINT32_MAX,
	       "low RAM is reachable with 32-bit addresses");

#define PAGE_SIZE		0x1000ull
#define MIB			(1ull << 20)
/* Files are copied to guest memory through a buffer this large. */
#define COPY_CHUNK		(1u << 20)
/* The bytes sniffed to tell formats apart; holds a whole setup header. */
#define HEAD_LEN		4096u

/* The RSDP (revision 2) is 36 bytes; it must fit in the ACPI area. */
#define RSDP_LEN		36u

#define EXPECTED_KERNEL							\
	"expected a bzImage (boot protocol 2.06 or later) or an ELF vmlinux with a PVH entry note"

/* ---- Boot protocol constants (boot.rst) -------------------------------- */

/* File offsets of setup header fields: the same as in the zero page. */
#define BZ_HDR_OFF		offsetof(struct boot_params, hdr) /* 0x1f1 */
#define BZ_HDR(field)		offsetof(struct boot_params, hdr.field)
#define BZ_HDR_END(field)						\
	(BZ_HDR(field) + sizeof(((struct setup_header *)0)->field))
/* The jump at 0x200; its displacement byte says where the header ends. */
#define BZ_JUMP_DISP		(BZ_HDR(jump) + 1)	/* 0x201 */
#define BZ_HDR_BASE		BZ_HDR(header)		/* 0x202 */
/* The setup header may extend up to here in the zero page. */
#define BZ_HDR_ROOM							\
	offsetof(struct boot_params, edd_mbr_sig_buffer)	/* 0x290 */
#define BZ_MAGIC		0x53726448u	/* "HdrS" */
#define BZ_BOOT_FLAG		0xaa55u
#define BZ_PROTOCOL_MIN		0x0206u
#define BZ_PROTOCOL_PREF	0x020au	/* pref_address, init_size */
#define BZ_PROTOCOL_XLF		0x020cu	/* xloadflags */
#define BZ_SECTOR		512u
#define BZ_SETUP_SECTS_DEFAULT	4u	/* when setup_sects is 0 */
#define BZ_ENTRY64_OFFSET	0x200u		/* startup_64 */
#define BZ_LOADER_UNDEFINED	0xff		/* type_of_loader */

/* ---- ELF --------------------------------------------------------------- */

#define ELF_PHDRS_MAX		256u
/* Linux's notes are a few hundred bytes; refuse to buffer silly sizes. */
#define ELF_NOTES_MAX		(1u << 20)

/* The PVH note's owner, NUL included, as Xen's ELFNOTE() emits it. */
static const char xen_note_name[4] = "Xen";

/* ---- Files --------------------------------------------------------------- */

/* A kernel or initrd file being read. */
struct image {
	const char *what;	/* "kernel" or "initrd", for messages */
	const char *path;
	int fd;
	uint64_t size;
};

static int image_open(struct image *img, const char *what, const char *path,
		      struct error *err)
{
	struct stat st;
	int ret, e;

	img->what = what;
	img->path = path;
	img->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (img->fd < 0) {
		e = errno;
		return error_setf(err, e, "cannot open %s %s: %s", what, path,
				  strerror(e));
	}
	if (fstat(img->fd, &st)) {
		e = errno;
		ret = error_setf(err, e, "cannot stat %s %s: %s", what, path,
				 strerror(e));
		goto err_close;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = error_setf(err, EINVAL,
				 "%s %s is not a regular file; expected the %s image file",
				 what, path, what);
		goto err_close;
	}
	img->size = (uint64_t)st.st_size;
	return 0;

err_close:
	close(img->fd);
	img->fd = -1;
	return ret;
}

static void image_close(struct image *img)
{
	if (img->fd >= 0)
		close(img->fd);
	img->fd = -1;
}

/* a + b, or UINT64_MAX if that overflows (for messages and bounds). */
static uint64_t sat_add(uint64_t a, uint64_t b)
{
	uint64_t r;

	return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

static bool image_has(const struct image *img, uint64_t off, uint64_t len)
{
	return off <= img->size && len <= img->size - off;
}

/*
 * Read @len bytes at @off, which must lie in the file; @part names what
 * they are ("the ELF program headers") for the message.
 */
static int image_read(const struct image *img, uint64_t off, void *buf,
		      size_t len, const char *part, struct error *err)
{
	uint8_t *p = buf;
	ssize_t n;
	int e;

	if (!image_has(img, off, len))
		return error_setf(err, EINVAL,
				  "%s %s is truncated: %s need bytes [%#" PRIx64 ", %#" PRIx64 ") but the file has %" PRIu64 " bytes",
				  img->what, img->path, part, off,
				  sat_add(off, len), img->size);
	while (len) {
		n = pread(img->fd, p, len, (off_t)off);
		if (n < 0) {
			e = errno;
			if (e == EINTR)
				continue;
			return error_setf(err, e, "reading %s %s: %s",
					  img->what, img->path, strerror(e));
		}
		if (n == 0)
			return error_setf(err, EIO,
					  "%s %s shrank while it was being read (at byte %#" PRIx64 ")",
					  img->what, img->path, off);
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

static int guest_write(struct address_space *mem, uint64_t gpa,
		       const void *buf, uint64_t len, const char *what,
		       struct error *err)
{
	if (address_space_write(mem, gpa, buf, len))
		return error_setf(err, EFAULT,
				  "cannot write %s to guest memory [%#" PRIx64 ", %#" PRIx64 "): not all of it is RAM",
				  what, gpa, sat_add(gpa, len));
	return 0;
}

/* Copy file bytes [@off, @off + @len) to guest-physical @gpa. */
static int image_to_guest(const struct image *img, uint64_t off,
			  uint64_t len, struct address_space *mem,
			  uint64_t gpa, const char *part, struct error *err)
{
	uint64_t done = 0;
	size_t n;
	void *buf;
	int ret = 0;

	if (!len)
		return 0;
	buf = malloc(len < COPY_CHUNK ? (size_t)len : COPY_CHUNK);
	if (!buf)
		return error_setf(err, ENOMEM, "out of memory");
	while (done < len) {
		n = len - done < COPY_CHUNK ? (size_t)(len - done) : COPY_CHUNK;
		ret = image_read(img, off + done, buf, n, part, err);
		if (ret)
			break;
		ret = guest_write(mem, gpa + done, buf, n, part, err);
		if (ret)
			break;
		done += n;
	}
	free(buf);
	return ret;
}

static int guest_zero(struct address_space *mem, uint64_t gpa, uint64_t len,
		      const char *what, struct error *err)
{
	uint64_t done = 0;
	size_t n;
	void *zeros;
	int ret = 0;

	if (!len)
		return 0;
	zeros = calloc(1, len < COPY_CHUNK ? (size_t)len : COPY_CHUNK);
	if (!zeros)
		return error_setf(err, ENOMEM, "out of memory");
	while (done < len && !ret) {
		n = len - done < COPY_CHUNK ? (size_t)(len - done) : COPY_CHUNK;
		ret = guest_write(mem, gpa + done, zeros, n, what, err);
		done += n;
	}
	free(zeros);
	return ret;
}

/* ---- The memory map ------------------------------------------------------ */

static uint64_t low_ram_end(uint64_t ram_size)
{
	return ram_size < LAYOUT_MMIO_HOLE_START ? ram_size :
						   LAYOUT_MMIO_HOLE_START;
}

static struct boot_e820_entry e820(uint64_t addr, uint64_t size,
				   uint32_t type)
{
	return (struct boot_e820_entry){
		.addr = addr, .size = size, .type = type,
	};
}

unsigned boot_e820_build(uint64_t ram_size, bool acpi,
			 struct boot_e820_entry map[BOOT_E820_MAX])
{
	uint64_t low = low_ram_end(ram_size);
	unsigned n = 0;

	if (low <= LAYOUT_LOW_RAM_END) {
		map[n++] = e820(0, low, E820_RAM);
		return n;
	}
	map[n++] = e820(0, LAYOUT_LOW_RAM_END, E820_RAM);
	/* The EBDA, empty; then the VGA and option ROM hole, unlisted. */
	map[n++] = e820(LAYOUT_LOW_RAM_END,
			ISA_START_ADDRESS - LAYOUT_LOW_RAM_END, E820_RESERVED);
	map[n++] = e820(LAYOUT_ACPI_BASE, LAYOUT_ACPI_MAX,
			acpi ? E820_ACPI : E820_RESERVED);
	if (low > LAYOUT_KERNEL_LOAD)
		map[n++] = e820(LAYOUT_KERNEL_LOAD, low - LAYOUT_KERNEL_LOAD,
				E820_RAM);
	if (ram_size > LAYOUT_MMIO_HOLE_START)
		map[n++] = e820(LAYOUT_HIGH_RAM_BASE,
				ram_size - LAYOUT_MMIO_HOLE_START, E820_RAM);
	return n;
}

const char *boot_entry_name(enum boot_entry entry)
{
	static const char *const names[] = {
		[BOOT_ENTRY_LINUX64] = "Linux 64-bit boot protocol",
		[BOOT_ENTRY_LINUX32] = "Linux 32-bit boot protocol",
		[BOOT_ENTRY_PVH] = "PVH",
	};

	return (unsigned)entry < ARRAY_SIZE(names) ? names[entry] : "?";
}

/* ---- Shared by both formats ---------------------------------------------- */

struct loader {
	const struct boot_config *cfg;
	struct image kernel;
	struct image initrd;		/* fd -1 without one */
	const char *cmdline;		/* never NULL */
	size_t cmdline_len;
	uint64_t low_end;		/* end of RAM below the MMIO hole */
	uint8_t head[HEAD_LEN];		/* the kernel's first bytes */
	size_t head_len;
	struct boot_info bi;
};

static uint64_t align_down(uint64_t v, uint64_t a)
{
	return v & ~(a - 1);
}

/*
 * Place the initrd as high as it goes, page aligned, ending at or below
 * @limit (exclusive) and the end of low RAM, starting at or above the
 * kernel's end.  Sets bi.initrd_addr/size.
 */
static int initrd_place(struct loader *l, uint64_t limit, const char *why,
			struct error *err)
{
	uint64_t size = l->initrd.size;
	uint64_t top, floor, addr;

	if (l->initrd.fd < 0)
		return 0;
	top = align_down(limit < l->low_end ? limit : l->low_end, PAGE_SIZE);
	floor = sat_add(l->bi.kernel_end, PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	if (size > top || align_down(top - size, PAGE_SIZE) < floor)
		return error_setf(err, ENOSPC,
				  "initrd %s (%" PRIu64 " bytes) does not fit in guest RAM between the kernel's end at %#" PRIx64 " and %#" PRIx64 " (%s); give the guest more memory or use a smaller initrd",
				  l->initrd.path, size, floor, top, why);
	addr = align_down(top - size, PAGE_SIZE);
	l->bi.initrd_addr = addr;
	l->bi.initrd_size = size;
	return 0;
}

/* The command line and the initrd, once everything is checked. */
static int write_cmdline_initrd(struct loader *l, struct error *err)
{
	struct address_space *mem = l->cfg->mem;
	int ret;

	ret = guest_write(mem, LAYOUT_CMDLINE, l->cmdline, l->cmdline_len + 1,
			  "the command line", err);
	if (ret || l->initrd.fd < 0)
		return ret;
	return image_to_guest(&l->initrd, 0, l->initrd.size, mem,
			      l->bi.initrd_addr, "the initrd", err);
}

/* ---- bzImage ------------------------------------------------------------- */

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/*
 * Where the kernel decompresses itself when loaded at @load: boot.rst,
 * field "init_size".  False if that overflows.
 */
static bool bz_runtime_start(const struct setup_header *h, uint64_t load,
			     uint64_t *start)
{
	uint64_t a = h->kernel_alignment, v;

	if (!h->relocatable_kernel) {
		*start = h->pref_address;
		return true;
	}
	v = load < h->pref_address ? h->pref_address : load;
	if (__builtin_add_overflow(v, a - 1, &v))
		return false;
	*start = align_down(v, a);
	return true;
}

/*
 * End of what the kernel occupies before it reads the memory map, loaded
 * at @load: the image, and init_size bytes from its runtime start.
 * UINT64_MAX on overflow.
 */
static uint64_t bz_footprint_end(const struct setup_header *h,
				 uint64_t load, uint64_t image_size)
{
	uint64_t end = sat_add(load, image_size), start, rt_end;

	if (h->version < BZ_PROTOCOL_PREF)
		return end;
	if (!bz_runtime_start(h, load, &start))
		return UINT64_MAX;
	rt_end = sat_add(start, h->init_size);
	return rt_end > end ? rt_end : end;
}

static int bz_load(struct loader *l, struct error *err)
{
	const struct boot_config *cfg = l->cfg;
	struct image *k = &l->kernel;
	struct boot_params bp;
	struct setup_header *h = &bp.hdr;
	uint64_t setup_size, image_size, load, end, need;
	unsigned hdr_end, need_end, sects;
	uint16_t version;
	int ret;

	/*
	 * The header is copied as the protocol says: from 0x1f1 to 0x202 plus
	 * the byte at 0x201 (the jump's displacement).  Only these bytes of
	 * the zero page come from the file; the rest starts as zeros.
	 */
	hdr_end = BZ_HDR_BASE + l->head[BZ_JUMP_DISP];
	memset(&bp, 0, sizeof(bp));
	memcpy((uint8_t *)&bp + BZ_HDR_OFF, l->head + BZ_HDR_OFF,
	       BZ_HDR_END(header) - BZ_HDR_OFF);
	version = 0;
	if (l->head_len >= BZ_HDR_END(version))
		memcpy(&version, l->head + BZ_HDR(version), sizeof(version));
	if (h->boot_flag != BZ_BOOT_FLAG)
		return error_setf(err, EINVAL,
				  "kernel %s has a Linux boot header but boot_flag is %#x; expected 0xaa55",
				  k->path, h->boot_flag);
	if (version < BZ_PROTOCOL_MIN)
		return error_setf(err, ENOTSUP,
				  "kernel %s uses boot protocol %u.%02u; flatvm needs 2.06 or later (Linux 2.6.22 and newer)",
				  k->path, version >> 8, version & 0xff);
	need_end = version >= BZ_PROTOCOL_PREF ? BZ_HDR_END(init_size) :
						 BZ_HDR_END(cmdline_size);
	if (hdr_end < need_end || hdr_end > BZ_HDR_ROOM ||
	    hdr_end > l->head_len)
		return error_setf(err, EINVAL,
				  "kernel %s: its setup header ends at %#x (0x202 + the byte at 0x201); protocol %u.%02u needs it to reach %#x and the zero page has room up to %#zx%s",
				  k->path, hdr_end, version >> 8,
				  version & 0xff, need_end, BZ_HDR_ROOM,
				  hdr_end > l->head_len ? ", and the file ends before that" : "");
	memcpy((uint8_t *)&bp + BZ_HDR_OFF, l->head + BZ_HDR_OFF,
	       hdr_end - BZ_HDR_OFF);

	if (!(h->loadflags & LOADED_HIGH))
		return error_setf(err, ENOTSUP,
				  "kernel %s is a zImage (loadflags lacks LOADED_HIGH: it runs at 0x10000); expected a bzImage",
				  k->path);
	sects = h->setup_sects ? h->setup_sects : BZ_SETUP_SECTS_DEFAULT;
	setup_size = (uint64_t)(sects + 1) * BZ_SECTOR;
	if (setup_size < hdr_end || setup_size >= k->size)
		return error_setf(err, EINVAL,
				  "kernel %s is truncated or malformed: setup_sects says the setup code is %" PRIu64 " bytes but the file has %" PRIu64 "; expected the protected-mode kernel after it",
				  k->path, setup_size, k->size);
	image_size = k->size - setup_size;
	if ((uint64_t)h->syssize * 16 > image_size)
		return error_setf(err, EINVAL,
				  "kernel %s is truncated: syssize says the protected-mode kernel is %" PRIu64 " bytes but the file has %" PRIu64 " after the setup code",
				  k->path, (uint64_t)h->syssize * 16,
				  image_size);
	if (version >= BZ_PROTOCOL_PREF && h->relocatable_kernel &&
	    !is_pow2(h->kernel_alignment))
		return error_setf(err, EINVAL,
				  "kernel %s is relocatable but its kernel_alignment %#x is not a power of two",
				  k->path, h->kernel_alignment);

	/*
	 * Where to load: see boot_load_kernel()'s description.  A kernel
	 * that is not relocatable runs at pref_address whatever we do, and
	 * that must not be over the boot structures either.
	 */
	if (version >= BZ_PROTOCOL_PREF && !h->relocatable_kernel &&
	    h->pref_address < LAYOUT_KERNEL_LOAD)
		return error_setf(err, EINVAL,
				  "kernel %s is not relocatable and runs at pref_address %#" PRIx64 ", below 1 MiB where the boot structures are",
				  k->path, (uint64_t)h->pref_address);
	load = LAYOUT_KERNEL_LOAD;
	if (version >= BZ_PROTOCOL_PREF && h->relocatable_kernel &&
	    h->pref_address >= LAYOUT_KERNEL_LOAD &&
	    !(h->pref_address & (PAGE_SIZE - 1)) &&
	    bz_footprint_end(h, h->pref_address, image_size) <= l->low_end)
		load = h->pref_address;
	end = bz_footprint_end(h, load, image_size);
	if (end > l->low_end) {
		if (version >= BZ_PROTOCOL_PREF && h->init_size)
			return error_setf(err, ENOSPC,
					  "kernel %s does not fit in guest RAM: loaded at %#" PRIx64 " (%" PRIu64 " bytes) it decompresses itself into init_size %#x bytes at its runtime address and needs RAM up to %#" PRIx64 ", but RAM below the MMIO hole ends at %#" PRIx64 "; give the guest more memory",
					  k->path, load, image_size,
					  h->init_size, end, l->low_end);
		return error_setf(err, ENOSPC,
				  "kernel %s does not fit in guest RAM: its %" PRIu64 " bytes loaded at %#" PRIx64 " need RAM up to %#" PRIx64 ", but RAM below the MMIO hole ends at %#" PRIx64 "; give the guest more memory",
				  k->path, image_size, load, end, l->low_end);
	}
	if (l->cmdline_len > h->cmdline_size)
		return error_setf(err, E2BIG,
				  "the command line is %zu bytes; kernel %s accepts at most %u (its cmdline_size)",
				  l->cmdline_len, k->path, h->cmdline_size);
	if (l->cmdline_len > LAYOUT_CMDLINE_MAX - 1)
		return error_setf(err, E2BIG,
				  "the command line is %zu bytes; flatvm passes at most %llu",
				  l->cmdline_len,
				  (unsigned long long)LAYOUT_CMDLINE_MAX - 1);

	l->bi.protocol = version;
	l->bi.kernel_addr = load;
	l->bi.kernel_end = end;
	if (version >= BZ_PROTOCOL_XLF && (h->xloadflags & XLF_KERNEL_64)) {
		if (image_size <= BZ_ENTRY64_OFFSET)
			return error_setf(err, EINVAL,
					  "kernel %s says it has a 64-bit entry at offset 0x200 but its protected-mode kernel is only %" PRIu64 " bytes",
					  k->path, image_size);
		l->bi.entry = BOOT_ENTRY_LINUX64;
		l->bi.entry_addr = load + BZ_ENTRY64_OFFSET;
	} else {
		l->bi.entry = BOOT_ENTRY_LINUX32;
		l->bi.entry_addr = load;
	}
	l->bi.params_addr = LAYOUT_ZERO_PAGE;
	/* initrd_addr_max is the highest byte the initrd may occupy. */
	need = (uint64_t)h->initrd_addr_max + 1;
	ret = initrd_place(l, need, "its initrd_addr_max", err);
	if (ret)
		return ret;

	/* The zero page's fields a loader fills (boot.rst, zero-page.rst). */
	h->type_of_loader = BZ_LOADER_UNDEFINED;
	h->code32_start = (uint32_t)load;	/* the 32-bit entry */
	h->cmd_line_ptr = LAYOUT_CMDLINE;
	bp.ext_cmd_line_ptr = 0;
	h->ramdisk_image = (uint32_t)l->bi.initrd_addr;
	h->ramdisk_size = (uint32_t)l->bi.initrd_size;
	bp.ext_ramdisk_image = (uint32_t)(l->bi.initrd_addr >> 32);
	bp.ext_ramdisk_size = (uint32_t)(l->bi.initrd_size >> 32);
	/* Read from 2.14 on; older kernels scan the BIOS area, and find it. */
	bp.acpi_rsdp_addr = cfg->rsdp_addr;
	bp.e820_entries = (uint8_t)l->bi.nr_e820;
	memcpy(bp.e820_table, l->bi.e820,
	       l->bi.nr_e820 * sizeof(bp.e820_table[0]));

	ret = image_to_guest(k, setup_size, image_size, cfg->mem, load,
			     "the protected-mode kernel", err);
	if (ret)
		return ret;
	ret = guest_write(cfg->mem, LAYOUT_ZERO_PAGE, &bp, sizeof(bp),
			  "the zero page", err);
	if (ret)
		return ret;
	return write_cmdline_initrd(l, err);
}

/* ---- ELF vmlinux with a PVH note ----------------------------------------- */

/* A program header, ELF32 or ELF64, widened. */
struct elf_phdr {
	uint32_t type;
	uint64_t offset;
	uint64_t paddr;
	uint64_t filesz;
	uint64_t memsz;
	uint64_t align;
};

struct elf_file {
	bool is64;
	unsigned phnum;
	struct elf_phdr *ph;
	bool have_entry;
	uint64_t entry;
	unsigned entry_note_seg;
};

static const char *elf_machine_name(unsigned m)
{
	switch (m) {
	case EM_386: return "i386";
	case EM_X86_64: return "x86-64";
	case EM_ARM: return "arm";
	case EM_AARCH64: return "aarch64";
	case EM_RISCV: return "riscv";
	case EM_PPC64: return "ppc64";
	case EM_S390: return "s390";
	default: return "another architecture";
	}
}

static int elf_read_header(struct loader *l, struct elf_file *ef,
			   uint64_t *phoff, struct error *err)
{
	struct image *k = &l->kernel;
	unsigned cls, machine, type, phentsize, want;
	size_t ehsize;
	Elf64_Ehdr e64;
	Elf32_Ehdr e32;

	if (l->head_len < EI_NIDENT)
		return error_setf(err, EINVAL,
				  "kernel %s is truncated: it starts like an ELF file but has only %zu bytes, fewer than the %u of an ELF identification",
				  k->path, l->head_len, EI_NIDENT);
	cls = l->head[EI_CLASS];
	if (cls != ELFCLASS32 && cls != ELFCLASS64)
		return error_setf(err, EINVAL,
				  "kernel %s is an ELF file with an invalid class %u; expected ELFCLASS64 (2) or ELFCLASS32 (1)",
				  k->path, cls);
	ef->is64 = cls == ELFCLASS64;
	ehsize = ef->is64 ? sizeof(e64) : sizeof(e32);
	if (l->head_len < ehsize)
		return error_setf(err, EINVAL,
				  "kernel %s is truncated: an ELF%s header is %zu bytes but the file has %" PRIu64,
				  k->path, ef->is64 ? "64" : "32", ehsize,
				  k->size);
	if (l->head[EI_DATA] != ELFDATA2LSB)
		return error_setf(err, ENOEXEC,
				  "kernel %s is a big-endian ELF file (EI_DATA %u); expected a little-endian x86 vmlinux",
				  k->path, l->head[EI_DATA]);
	if (ef->is64) {
		memcpy(&e64, l->head, sizeof(e64));
		machine = e64.e_machine;
		type = e64.e_type;
		*phoff = e64.e_phoff;
		phentsize = e64.e_phentsize;
		ef->phnum = e64.e_phnum;
		want = EM_X86_64;
	} else {
		memcpy(&e32, l->head, sizeof(e32));
		machine = e32.e_machine;
		type = e32.e_type;
		*phoff = e32.e_phoff;
		phentsize = e32.e_phentsize;
		ef->phnum = e32.e_phnum;
		want = EM_386;
	}
	if (machine != want)
		return error_setf(err, ENOEXEC,
				  "kernel %s is an ELF%s file for machine %u (%s); expected an x86 vmlinux (ELF64 for x86-64 or ELF32 for i386)",
				  k->path, ef->is64 ? "64" : "32", machine,
				  elf_machine_name(machine));
	if (type != ET_EXEC)
		return error_setf(err, ENOEXEC,
				  "kernel %s is an ELF file of type %u (%s); expected an executable (ET_EXEC) vmlinux",
				  k->path, type,
				  type == ET_REL ? "a relocatable object" :
				  type == ET_DYN ? "a shared object or PIE" :
				  type == ET_CORE ? "a core dump" : "unknown");
	if (phentsize != (ef->is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr)))
		return error_setf(err, EINVAL,
				  "kernel %s: e_phentsize is %u; an ELF%s program header is %zu bytes",
				  k->path, phentsize, ef->is64 ? "64" : "32",
				  ef->is64 ? sizeof(Elf64_Phdr) :
					     sizeof(Elf32_Phdr));
	if (!ef->phnum || ef->phnum > ELF_PHDRS_MAX)
		return error_setf(err, EINVAL,
				  "kernel %s has %u program headers; expected 1 to %u",
				  k->path, ef->phnum, ELF_PHDRS_MAX);
	if (!image_has(k, *phoff, (uint64_t)ef->phnum * phentsize))
		return error_setf(err, EINVAL,
				  "kernel %s is truncated or malformed: its program header table [%#" PRIx64 ", %#" PRIx64 ") lies outside the file of %" PRIu64 " bytes",
				  k->path, *phoff,
				  sat_add(*phoff,
					  (uint64_t)ef->phnum * phentsize),
				  k->size);
	return 0;
}

static int elf_read_phdrs(struct loader *l, struct elf_file *ef,
			  uint64_t phoff, struct error *err)
{
	size_t entsize = ef->is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	uint8_t *raw;
	Elf64_Phdr p64;
	Elf32_Phdr p32;
	unsigned i;
	int ret;

	raw = malloc(ef->phnum * entsize);
	ef->ph = calloc(ef->phnum, sizeof(*ef->ph));
	if (!raw || !ef->ph) {
		ret = error_setf(err, ENOMEM, "out of memory");
		goto out;
	}
	ret = image_read(&l->kernel, phoff, raw, ef->phnum * entsize,
			 "the ELF program headers", err);
	if (ret)
		goto out;
	for (i = 0; i < ef->phnum; i++) {
		struct elf_phdr *p = &ef->ph[i];

		if (ef->is64) {
			memcpy(&p64, raw + i * entsize, sizeof(p64));
			*p = (struct elf_phdr){
				.type = p64.p_type, .offset = p64.p_offset,
				.paddr = p64.p_paddr, .filesz = p64.p_filesz,
				.memsz = p64.p_memsz, .align = p64.p_align,
			};
		} else {
			memcpy(&p32, raw + i * entsize, sizeof(p32));
			*p = (struct elf_phdr){
				.type = p32.p_type, .offset = p32.p_offset,
				.paddr = p32.p_paddr, .filesz = p32.p_filesz,
				.memsz = p32.p_memsz, .align = p32.p_align,
			};
		}
	}
out:
	free(raw);
	return ret;
}

static int elf_check_load(struct loader *l, struct elf_file *ef, unsigned i,
			  struct error *err)
{
	const struct elf_phdr *p = &ef->ph[i], *q;
	const char *path = l->kernel.path;
	uint64_t end;
	unsigned j;

	if (!image_has(&l->kernel, p->offset, p->filesz))
		return error_setf(err, EINVAL,
				  "kernel %s is truncated or malformed: segment %u's file bytes [%#" PRIx64 ", %#" PRIx64 ") lie outside the file of %" PRIu64 " bytes",
				  path, i, p->offset,
				  sat_add(p->offset, p->filesz),
				  l->kernel.size);
	if (p->filesz > p->memsz)
		return error_setf(err, EINVAL,
				  "kernel %s: segment %u has p_filesz %#" PRIx64 " larger than its p_memsz %#" PRIx64,
				  path, i, p->filesz, p->memsz);
	if (__builtin_add_overflow(p->paddr, p->memsz, &end))
		return error_setf(err, EINVAL,
				  "kernel %s: segment %u at p_paddr %#" PRIx64 " with p_memsz %#" PRIx64 " wraps around the address space",
				  path, i, p->paddr, p->memsz);
	if (p->paddr < LAYOUT_KERNEL_LOAD)
		return error_setf(err, ENOSPC,
				  "kernel %s: segment %u at [%#" PRIx64 ", %#" PRIx64 ") overlaps the boot structures below 1 MiB (GDT, start info, page tables, command line, ACPI tables); expected segments at or above 1 MiB",
				  path, i, p->paddr, end);
	if (end > l->low_end)
		return error_setf(err, ENOSPC,
				  "kernel %s: segment %u at [%#" PRIx64 ", %#" PRIx64 ") is outside guest RAM [1 MiB, %#" PRIx64 ") below the MMIO hole; give the guest more memory",
				  path, i, p->paddr, end, l->low_end);
	for (j = 0; j < i; j++) {
		q = &ef->ph[j];
		if (q->type != PT_LOAD || !q->memsz)
			continue;
		if (p->paddr < q->paddr + q->memsz && q->paddr < end)
			return error_setf(err, EINVAL,
					  "kernel %s: segment %u at [%#" PRIx64 ", %#" PRIx64 ") overlaps segment %u at [%#" PRIx64 ", %#" PRIx64 ")",
					  path, i, p->paddr, end, j, q->paddr,
					  q->paddr + q->memsz);
	}
	return 0;
}

static uint64_t align_up4or8(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/*
 * Walk the notes of PT_NOTE segment @i (already read into @buf) looking
 * for Xen's PHYS32_ENTRY.  Notes are 4-byte aligned unless the segment
 * says 8 (ELF gABI; Linux's own are 4).
 */
static int elf_scan_notes(struct loader *l, struct elf_file *ef, unsigned i,
			  const uint8_t *buf, uint64_t len, struct error *err)
{
	const char *path = l->kernel.path;
	uint64_t a = ef->ph[i].align == 8 ? 8 : 4, off = 0, name, desc;
	unsigned n = 0;
	Elf64_Nhdr nh;		/* the same three words in ELF32 */
	uint64_t v;

	_Static_assert(sizeof(Elf64_Nhdr) == sizeof(Elf32_Nhdr),
		       "note headers are three 32-bit words in both classes");
	for (; len - off >= sizeof(nh); n++) {
		memcpy(&nh, buf + off, sizeof(nh));
		off += sizeof(nh);
		name = align_up4or8(nh.n_namesz, a);
		desc = align_up4or8(nh.n_descsz, a);
		if (name > len - off || nh.n_descsz > len - off - name)
			return error_setf(err, EINVAL,
					  "kernel %s is malformed: note %u in segment %u (name size %u, descriptor size %u) runs past the segment's %" PRIu64 " bytes",
					  path, n, i, nh.n_namesz, nh.n_descsz,
					  len);
		if (nh.n_namesz == sizeof(xen_note_name) &&
		    !memcmp(buf + off, xen_note_name, sizeof(xen_note_name)) &&
		    nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY && !ef->have_entry) {
			/* Linux emits .quad on x86-64, .long on i386. */
			if (nh.n_descsz != 4 && nh.n_descsz != 8)
				return error_setf(err, EINVAL,
						  "kernel %s is malformed: its XEN_ELFNOTE_PHYS32_ENTRY note has a %u-byte value; expected 4 or 8",
						  path, nh.n_descsz);
			v = 0;
			memcpy(&v, buf + off + name, nh.n_descsz);
			if (v > UINT32_MAX)
				return error_setf(err, EINVAL,
						  "kernel %s: its PVH entry %#" PRIx64 " is above 4 GiB; the 32-bit entry must be below",
						  path, v);
			ef->have_entry = true;
			ef->entry = v;
			ef->entry_note_seg = i;
		}
		off += name;
		off += desc < len - off ? desc : len - off;
	}
	return 0;
}

static int elf_check_note(struct loader *l, struct elf_file *ef, unsigned i,
			  struct error *err)
{
	const struct elf_phdr *p = &ef->ph[i];
	uint8_t *buf;
	int ret;

	if (!image_has(&l->kernel, p->offset, p->filesz))
		return error_setf(err, EINVAL,
				  "kernel %s is truncated or malformed: note segment %u's bytes [%#" PRIx64 ", %#" PRIx64 ") lie outside the file of %" PRIu64 " bytes",
				  l->kernel.path, i, p->offset,
				  sat_add(p->offset, p->filesz),
				  l->kernel.size);
	if (p->filesz > ELF_NOTES_MAX)
		return error_setf(err, EINVAL,
				  "kernel %s: note segment %u is %" PRIu64 " bytes; refusing notes larger than %u",
				  l->kernel.path, i, p->filesz, ELF_NOTES_MAX);
	if (!p->filesz)
		return 0;
	buf = malloc(p->filesz);
	if (!buf)
		return error_setf(err, ENOMEM, "out of memory");
	ret = image_read(&l->kernel, p->offset, buf, p->filesz,
			 "the ELF notes", err);
	if (!ret)
		ret = elf_scan_notes(l, ef, i, buf, p->filesz, err);
	free(buf);
	return ret;
}

static int elf_write_start_info(struct loader *l, struct error *err)
{
	const struct boot_config *cfg = l->cfg;
	struct hvm_memmap_table_entry map[BOOT_E820_MAX];
	struct hvm_modlist_entry mod;
	struct hvm_start_info si;
	unsigned i;
	int ret;

	si = (struct hvm_start_info){
		.magic = XEN_HVM_START_MAGIC_VALUE,
		.version = 1,
		.cmdline_paddr = LAYOUT_CMDLINE,
		.rsdp_paddr = cfg->rsdp_addr,
		.memmap_paddr = LAYOUT_PVH_MEMMAP,
		.memmap_entries = l->bi.nr_e820,
	};
	memset(map, 0, sizeof(map));
	for (i = 0; i < l->bi.nr_e820; i++)
		map[i] = (struct hvm_memmap_table_entry){
			.addr = l->bi.e820[i].addr,
			.size = l->bi.e820[i].size,
			.type = l->bi.e820[i].type,
		};
	if (l->bi.initrd_size) {
		si.nr_modules = 1;
		si.modlist_paddr = LAYOUT_PVH_MODLIST;
		mod = (struct hvm_modlist_entry){
			.paddr = l->bi.initrd_addr,
			.size = l->bi.initrd_size,
		};
		ret = guest_write(cfg->mem, LAYOUT_PVH_MODLIST, &mod,
				  sizeof(mod), "the PVH module list", err);
		if (ret)
			return ret;
	}
	ret = guest_write(cfg->mem, LAYOUT_PVH_MEMMAP, map,
			  l->bi.nr_e820 * sizeof(map[0]), "the PVH memory map",
			  err);
	if (ret)
		return ret;
	return guest_write(cfg->mem, LAYOUT_PVH_START_INFO, &si, sizeof(si),
			   "the PVH start info", err);
}

static int elf_load(struct loader *l, struct error *err)
{
	struct image *k = &l->kernel;
	struct elf_file ef = { 0 };
	const struct elf_phdr *p;
	uint64_t phoff = 0, lo = UINT64_MAX, hi = 0;
	bool entry_loaded = false;
	unsigned i;
	int ret;

	ret = elf_read_header(l, &ef, &phoff, err);
	if (ret)
		return ret;
	ret = elf_read_phdrs(l, &ef, phoff, err);
	if (ret)
		goto out;
	for (i = 0; i < ef.phnum; i++) {
		p = &ef.ph[i];
		if (p->type == PT_NOTE)
			ret = elf_check_note(l, &ef, i, err);
		else if (p->type == PT_LOAD && p->memsz)
			ret = elf_check_load(l, &ef, i, err);
		if (ret)
			goto out;
		if (p->type == PT_LOAD && p->memsz) {
			if (p->paddr < lo)
				lo = p->paddr;
			if (p->paddr + p->memsz > hi)
				hi = p->paddr + p->memsz;
		}
	}
	if (!ef.have_entry) {
		ret = error_setf(err, ENOEXEC,
				 "kernel %s is an ELF vmlinux without a PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); build with CONFIG_PVH=y or pass the bzImage",
				 k->path);
		goto out;
	}
	if (hi == 0) {
		ret = error_setf(err, EINVAL,
				 "kernel %s has no loadable (PT_LOAD) segments",
				 k->path);
		goto out;
	}
	for (i = 0; i < ef.phnum; i++) {
		p = &ef.ph[i];
		if (p->type == PT_LOAD && p->memsz && ef.entry >= p->paddr &&
		    ef.entry - p->paddr < p->filesz)
			entry_loaded = true;
	}
	if (!entry_loaded) {
		ret = error_setf(err, EINVAL,
				 "kernel %s: its PVH entry %#" PRIx64 " (note in segment %u) lies in no loaded segment's file contents",
				 k->path, ef.entry, ef.entry_note_seg);
		goto out;
	}
	if (l->cmdline_len > LAYOUT_CMDLINE_MAX - 1) {
		ret = error_setf(err, E2BIG,
				 "the command line is %zu bytes; at most %llu fit",
				 l->cmdline_len, LAYOUT_CMDLINE_MAX - 1);
		goto out;
	}
	l->bi.entry = BOOT_ENTRY_PVH;
	l->bi.entry_addr = ef.entry;
	l->bi.params_addr = LAYOUT_PVH_START_INFO;
	l->bi.kernel_addr = lo;
	l->bi.kernel_end = hi;
	ret = initrd_place(l, l->low_end, "the end of RAM below the MMIO hole",
			   err);
	if (ret)
		goto out;

	/* Everything checked: now write. */
	for (i = 0; i < ef.phnum; i++) {
		p = &ef.ph[i];
		if (p->type != PT_LOAD || !p->memsz)
			continue;
		ret = image_to_guest(k, p->offset, p->filesz, l->cfg->mem,
				     p->paddr, "a kernel segment", err);
		if (!ret)
			ret = guest_zero(l->cfg->mem, p->paddr + p->filesz,
					 p->memsz - p->filesz,
					 "a kernel segment's bss", err);
		if (ret)
			goto out;
	}
	ret = elf_write_start_info(l, err);
	if (!ret)
		ret = write_cmdline_initrd(l, err);
out:
	free(ef.ph);
	return ret;
}

/* ---- Anything else ------------------------------------------------------- */

struct magic {
	size_t off;
	const char *bytes;
	size_t len;
	const char *what;
	const char *hint;
};

#define DECOMPRESS_HINT							\
	"decompress it first (Linux's scripts/extract-vmlinux does this for a bzImage's payload)"

static const struct magic not_kernels[] = {
	{ 0, "\x1f\x8b", 2, "gzip-compressed data", DECOMPRESS_HINT },
	{ 0, "\xfd" "7zXZ", 6, "xz-compressed data", DECOMPRESS_HINT },
	{ 0, "\x28\xb5\x2f\xfd", 4, "zstd-compressed data", DECOMPRESS_HINT },
	{ 0, "BZh", 3, "bzip2-compressed data", DECOMPRESS_HINT },
	{ 0, "\x02\x21\x4c\x18", 4, "lz4-compressed data", DECOMPRESS_HINT },
	{ 0, "\x04\x22\x4d\x18", 4, "lz4-compressed data", DECOMPRESS_HINT },
	{ 0, "\x89LZO", 4, "lzo-compressed data", DECOMPRESS_HINT },
	{ 0, "\x5d\x00\x00", 3, "lzma-compressed data", DECOMPRESS_HINT },
	{ 0, "070701", 6, "a cpio archive", "is it the initrd?" },
	{ 0, "070702", 6, "a cpio archive", "is it the initrd?" },
	{ 0x38, "ARM\x64", 4, "an arm64 kernel Image", "flatvm boots x86 kernels" },
	{ 0, "MZ", 2, "a PE/COFF executable without a Linux boot header",
	  "an EFI application is not a bzImage" },
	{ 0x1fe, "\x55\xaa", 2,
	  "a boot sector without a Linux boot header (no \"HdrS\" at 0x202)",
	  "a zImage from before boot protocol 2.00?" },
};

static int refuse_unknown(const struct loader *l, struct error *err)
{
	const struct magic *m;
	const uint8_t *h = l->head;
	unsigned i;

	if (!l->kernel.size)
		return error_setf(err, ENOEXEC,
				  "kernel %s is empty (0 bytes); " EXPECTED_KERNEL,
				  l->kernel.path);
	for (i = 0; i < ARRAY_SIZE(not_kernels); i++) {
		m = &not_kernels[i];
		if (m->off + m->len <= l->head_len &&
		    !memcmp(h + m->off, m->bytes, m->len))
			return error_setf(err, ENOEXEC,
					  "kernel %s is %s, not a kernel (%s); " EXPECTED_KERNEL,
					  l->kernel.path, m->what, m->hint);
	}
	return error_setf(err, ENOEXEC,
			  "kernel %s does not look like a kernel (it starts %02x %02x %02x %02x: neither ELF nor a bzImage with \"HdrS\" at 0x202); " EXPECTED_KERNEL,
			  l->kernel.path, l->head_len > 0 ? h[0] : 0,
			  l->head_len > 1 ? h[1] : 0,
			  l->head_len > 2 ? h[2] : 0,
			  l->head_len > 3 ? h[3] : 0);
}

/* ---- Entry point --------------------------------------------------------- */

static int check_config(const struct boot_config *cfg, struct error *err)
{
	uint64_t low;

	if (!cfg || !cfg->kernel || !cfg->mem)
		return error_setf(err, EINVAL,
				  "boot configuration lacks %s; expected a kernel path and guest memory",
				  !cfg ? "everything" : !cfg->kernel ?
				  "the kernel path" : "the guest memory");
	if (cfg->ncpus < 1 || cfg->ncpus > KVM_MAX_VCPUS)
		return error_setf(err, EINVAL,
				  "boot configuration has %u vCPUs; expected 1 to %u",
				  cfg->ncpus, KVM_MAX_VCPUS);
	low = low_ram_end(cfg->ram_size);
	if (low <= LAYOUT_KERNEL_LOAD)
		return error_setf(err, ENOSPC,
				  "guest RAM of %" PRIu64 " KiB ends at or below 1 MiB, where kernels load; give the guest more memory",
				  cfg->ram_size >> 10);
	if (cfg->rsdp_addr &&
	    (cfg->rsdp_addr < LAYOUT_ACPI_BASE ||
	     cfg->rsdp_addr > LAYOUT_ACPI_BASE + LAYOUT_ACPI_MAX - RSDP_LEN ||
	     cfg->rsdp_addr % ACPI_RSDP_ALIGN))
		return error_setf(err, EINVAL,
				  "rsdp_addr %#" PRIx64 " is not a 16-byte aligned address in the ACPI area [%#llx, %#llx) that the memory map sets aside for the tables",
				  cfg->rsdp_addr, LAYOUT_ACPI_BASE,
				  LAYOUT_ACPI_BASE + LAYOUT_ACPI_MAX);
	return 0;
}

int boot_load_kernel(const struct boot_config *cfg, struct boot_info *out,
		     struct error *err)
{
	static const uint8_t elf_magic[SELFMAG] = { ELFMAG0, ELFMAG1, ELFMAG2,
						    ELFMAG3 };
	struct loader *l;
	uint32_t magic;
	int ret;

	ret = check_config(cfg, err);
	if (ret)
		return ret;
	l = calloc(1, sizeof(*l));
	if (!l)
		return error_setf(err, ENOMEM, "out of memory");
	l->cfg = cfg;
	l->kernel.fd = l->initrd.fd = -1;
	l->cmdline = cfg->cmdline ? cfg->cmdline : "";
	l->cmdline_len = strlen(l->cmdline);
	l->low_end = low_ram_end(cfg->ram_size);
	l->bi.ncpus = cfg->ncpus;
	l->bi.cmdline_addr = LAYOUT_CMDLINE;
	l->bi.cmdline_len = l->cmdline_len;
	l->bi.nr_e820 = boot_e820_build(cfg->ram_size, cfg->rsdp_addr != 0,
					l->bi.e820);

	ret = image_open(&l->kernel, "kernel", cfg->kernel, err);
	if (ret)
		goto err_free;
	if (cfg->initrd) {
		ret = image_open(&l->initrd, "initrd", cfg->initrd, err);
		if (ret)
			goto err_close;
		if (!l->initrd.size) {
			ret = error_setf(err, EINVAL,
					 "initrd %s is empty; expected a cpio archive (or no initrd)",
					 cfg->initrd);
			goto err_close;
		}
	}
	l->head_len = l->kernel.size < HEAD_LEN ? (size_t)l->kernel.size :
						  HEAD_LEN;
	ret = image_read(&l->kernel, 0, l->head, l->head_len,
			 "the kernel's headers", err);
	if (ret)
		goto err_close;

	magic = 0;
	if (l->head_len >= BZ_HDR_END(header))
		memcpy(&magic, l->head + BZ_HDR(header), sizeof(magic));
	if (l->head_len >= SELFMAG && !memcmp(l->head, elf_magic, SELFMAG))
		ret = elf_load(l, err);
	else if (magic == BZ_MAGIC)
		ret = bz_load(l, err);
	else
		ret = refuse_unknown(l, err);
	if (ret)
		goto err_close;

	pr_debug("boot: %s %s loaded at %#" PRIx64 "-%#" PRIx64 ", entry %#" PRIx64 "\n",
		 boot_entry_name(l->bi.entry), cfg->kernel, l->bi.kernel_addr,
		 l->bi.kernel_end, l->bi.entry_addr);
	*out = l->bi;
err_close:
	image_close(&l->initrd);
	image_close(&l->kernel);
err_free:
	free(l);
	return ret;
}
