// SPDX-License-Identifier: GPL-2.0-only
/*
 * mkbzimage: make a bzImage-format test guest from a real-mode setup
 * block and a 64-bit ELF payload.
 *
 *	mkbzimage <setup.bin> <payload.elf> <out.bzImage>
 *
 * The output follows the Linux x86 boot protocol 2.15
 * (Documentation/arch/x86/boot.rst): the setup block (boot sector, setup
 * header at 0x1f1, real-mode code), padded to whole 512-byte sectors, then
 * the protected-mode part: the payload's PT_LOAD segments flattened from
 * its load address.  The payload is not compressed and not relocatable;
 * its 32-bit entry is at offset 0 (code32_start) and its 64-bit entry at
 * offset 0x200, which this tool checks against the ELF entry point.
 *
 * The setup block leaves the header bytes zero (apart from the 2-byte
 * jump at 0x200); every field is written here, in one place, with the
 * layout from <asm/bootparam.h>.
 */
#include <asm/bootparam.h>
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flatvm/layout.h"

#define SECTOR			512
#define HDR_OFFSET		0x1f1
#define JUMP_OFFSET		0x200
#define MIN_SETUP_SECTS		4	/* "0 means 4"; and loaders assume 4 */
#define MAX_SETUP_SECTS		60	/* real-mode part stays below 32 KiB */
#define ENTRY64_OFFSET		0x200
#define BOOT_PROTOCOL		0x020f
#define KERNEL_INFO_MAGIC	"LToP"
#define KERNEL_INFO_HDR_LEN	16
#define PAYLOAD_MAX		(64u << 20)

_Static_assert(offsetof(struct boot_params, hdr) == HDR_OFFSET,
	       "setup header at 0x1f1");
_Static_assert(HDR_OFFSET + offsetof(struct setup_header, jump) == JUMP_OFFSET,
	       "jump at 0x200");
_Static_assert(HDR_OFFSET + offsetof(struct setup_header, kernel_info_offset) ==
		       0x268,
	       "setup header is the 2.15 one");

struct buf {
	uint8_t *data;
	size_t len;
};

static int failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int failf(const char *fmt, ...)
{
	va_list ap;

	fputs("mkbzimage: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

static int read_file(const char *path, struct buf *b)
{
	FILE *f = fopen(path, "rb");
	long len;

	if (!f)
		return failf("%s: %s", path, strerror(errno));
	if (fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET)) {
		failf("%s: cannot find its size: %s", path, strerror(errno));
		goto err_close;
	}
	if ((unsigned long)len > PAYLOAD_MAX) {
		failf("%s: %ld bytes, more than the %u this tool takes", path,
		      len, PAYLOAD_MAX);
		goto err_close;
	}
	b->len = (size_t)len;
	b->data = malloc(b->len ? b->len : 1);
	if (!b->data) {
		failf("%s: out of memory", path);
		goto err_close;
	}
	if (fread(b->data, 1, b->len, f) != b->len) {
		failf("%s: short read", path);
		goto err_free;
	}
	fclose(f);
	return 0;

err_free:
	free(b->data);
	b->data = NULL;
err_close:
	fclose(f);
	return -1;
}

/*
 * Flatten the payload's PT_LOAD segments into @out (from the lowest load
 * address, which must be LAYOUT_KERNEL_LOAD); *@mem_len is the extent in
 * memory including .bss.
 */
static int flatten_elf(const char *path, const struct buf *elf,
		       struct buf *out, uint64_t *mem_len)
{
	const Elf64_Ehdr *eh = (const void *)elf->data;
	const Elf64_Phdr *ph;
	uint64_t base = UINT64_MAX, file_end = 0, mem_end = 0;
	unsigned i;

	if (elf->len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_machine != EM_X86_64)
		return failf("%s: not a little-endian x86-64 ELF64 file", path);
	if (eh->e_phentsize != sizeof(*ph) || eh->e_phoff > elf->len ||
	    (uint64_t)eh->e_phnum * sizeof(*ph) > elf->len - eh->e_phoff)
		return failf("%s: program headers out of the file", path);
	ph = (const void *)(elf->data + eh->e_phoff);

	for (i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD || !ph[i].p_memsz)
			continue;
		if (ph[i].p_filesz > ph[i].p_memsz ||
		    ph[i].p_offset > elf->len ||
		    ph[i].p_filesz > elf->len - ph[i].p_offset)
			return failf("%s: segment %u is out of the file", path,
				     i);
		if (ph[i].p_paddr < base)
			base = ph[i].p_paddr;
		if (ph[i].p_paddr + ph[i].p_filesz > file_end)
			file_end = ph[i].p_paddr + ph[i].p_filesz;
		if (ph[i].p_paddr + ph[i].p_memsz > mem_end)
			mem_end = ph[i].p_paddr + ph[i].p_memsz;
	}
	if (base == UINT64_MAX)
		return failf("%s: no PT_LOAD segment", path);
	if (base != LAYOUT_KERNEL_LOAD)
		return failf("%s: loads at 0x%llx; the payload must be linked at 0x%llx (it is not relocatable)",
			     path, (unsigned long long)base,
			     (unsigned long long)LAYOUT_KERNEL_LOAD);
	if (eh->e_entry != base + ENTRY64_OFFSET)
		return failf("%s: entry point 0x%llx; the 64-bit entry must be at load address + 0x%x",
			     path, (unsigned long long)eh->e_entry,
			     ENTRY64_OFFSET);
	if (mem_end - base > PAYLOAD_MAX)
		return failf("%s: spans 0x%llx bytes in memory", path,
			     (unsigned long long)(mem_end - base));

	out->len = (size_t)(file_end - base);
	out->data = calloc(1, out->len ? out->len : 1);
	if (!out->data)
		return failf("%s: out of memory", path);
	for (i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD || !ph[i].p_filesz)
			continue;
		memcpy(out->data + (ph[i].p_paddr - base),
		       elf->data + ph[i].p_offset, ph[i].p_filesz);
	}
	*mem_len = mem_end - base;
	return 0;
}

/* Offset of the 2.15 kernel_info in the payload, or 0 if there is none. */
static int find_kernel_info(const char *path, const struct buf *pm,
			    uint32_t *offset)
{
	size_t off;
	uint32_t size, total;

	*offset = 0;
	for (off = 0; off + KERNEL_INFO_HDR_LEN <= pm->len; off += 4) {
		if (memcmp(pm->data + off, KERNEL_INFO_MAGIC, 4))
			continue;
		memcpy(&size, pm->data + off + 4, 4);
		memcpy(&total, pm->data + off + 8, 4);
		if (size < KERNEL_INFO_HDR_LEN || total < size ||
		    total > pm->len - off)
			return failf("%s: kernel_info at 0x%zx has size %u and size_total %u",
				     path, off, size, total);
		*offset = (uint32_t)off;
		return 0;
	}
	return 0;
}

/* The setup block, padded to whole sectors, with the header filled in. */
static int build_setup(const char *path, const struct buf *in,
		       const struct buf *pm, uint64_t mem_len,
		       uint32_t kernel_info, struct buf *out)
{
	struct setup_header hdr;
	size_t sects, i;

	if (in->len < JUMP_OFFSET + 2 || in->data[JUMP_OFFSET] != 0xeb)
		return failf("%s: expected a short jump at 0x%x", path,
			     JUMP_OFFSET);
	for (i = HDR_OFFSET; i < HDR_OFFSET + sizeof(hdr) && i < in->len; i++) {
		if (i == JUMP_OFFSET || i == JUMP_OFFSET + 1)
			continue;
		if (in->data[i])
			return failf("%s: byte 0x%zx is inside the setup header but not zero; leave 0x%x-0x%zx to mkbzimage",
				     path, i, HDR_OFFSET,
				     HDR_OFFSET + sizeof(hdr) - 1);
	}

	sects = (in->len + SECTOR - 1) / SECTOR;
	if (sects < 1 + MIN_SETUP_SECTS)
		sects = 1 + MIN_SETUP_SECTS;
	if (sects > 1 + MAX_SETUP_SECTS)
		return failf("%s: %zu bytes; the setup may have at most %u sectors",
			     path, in->len, MAX_SETUP_SECTS);
	out->len = sects * SECTOR;
	out->data = calloc(1, out->len);
	if (!out->data)
		return failf("out of memory");
	memcpy(out->data, in->data, in->len);

	memcpy(&hdr, out->data + HDR_OFFSET, sizeof(hdr));	/* keeps jump */
	hdr.setup_sects = (uint8_t)(sects - 1);
	hdr.syssize = (uint32_t)((pm->len + 15) / 16);
	hdr.vid_mode = 0xffff;			/* "normal" */
	hdr.boot_flag = 0xaa55;
	memcpy(&hdr.header, "HdrS", 4);
	hdr.version = BOOT_PROTOCOL;
	hdr.start_sys_seg = 0x1000;		/* obsolete, as Linux sets it */
	hdr.loadflags = LOADED_HIGH;
	hdr.code32_start = LAYOUT_KERNEL_LOAD;
	hdr.initrd_addr_max = 0x7fffffff;
	hdr.kernel_alignment = LAYOUT_KERNEL_LOAD;
	hdr.relocatable_kernel = 0;
	hdr.min_alignment = 12;
	hdr.xloadflags = XLF_KERNEL_64;
	hdr.cmdline_size = LAYOUT_CMDLINE_MAX - 1;
	hdr.pref_address = LAYOUT_KERNEL_LOAD;
	hdr.init_size = (uint32_t)((mem_len + 4095) & ~(uint64_t)4095);
	hdr.kernel_info_offset = kernel_info;
	memcpy(out->data + HDR_OFFSET, &hdr, sizeof(hdr));
	return 0;
}

static int write_file(const char *path, const struct buf *a,
		      const struct buf *b)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		return failf("%s: %s", path, strerror(errno));
	if (fwrite(a->data, 1, a->len, f) != a->len ||
	    fwrite(b->data, 1, b->len, f) != b->len) {
		failf("%s: write failed: %s", path, strerror(errno));
		fclose(f);
		remove(path);
		return -1;
	}
	if (fclose(f)) {
		failf("%s: %s", path, strerror(errno));
		remove(path);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct buf setup_in = { 0 }, elf = { 0 }, pm = { 0 }, setup = { 0 };
	uint64_t mem_len = 0;
	uint32_t kinfo;
	int ret = EXIT_FAILURE;

	if (argc != 4) {
		fprintf(stderr,
			"usage: mkbzimage <setup.bin> <payload.elf> <out.bzImage>\n");
		return EXIT_FAILURE;
	}
	if (read_file(argv[1], &setup_in))
		goto out;
	if (read_file(argv[2], &elf))
		goto out;
	if (flatten_elf(argv[2], &elf, &pm, &mem_len))
		goto out;
	if (find_kernel_info(argv[2], &pm, &kinfo))
		goto out;
	if (build_setup(argv[1], &setup_in, &pm, mem_len, kinfo, &setup))
		goto out;
	if (write_file(argv[3], &setup, &pm))
		goto out;
	ret = EXIT_SUCCESS;
out:
	free(setup.data);
	free(pm.data);
	free(elf.data);
	free(setup_in.data);
	return ret;
}
