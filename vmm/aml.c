// SPDX-License-Identifier: GPL-2.0-only
/*
 * AML encoder: a growable byte buffer with an error latch, term encoders
 * and resource descriptors.  See aml.h; sections cited are those of the
 * ACPI Specification 6.5.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aml.h"

/* What an open construct needs when aml_end() closes it. */
enum {
	AML_OPEN_PLAIN,		/* Scope, Device, Method, Package */
	AML_OPEN_BUFFER,	/* PkgLength and BufferSize */
	AML_OPEN_RESTEMPLATE,	/* End Tag, then as a Buffer */
};

/* Small and large resource item tags (6.4.2, 6.4.3). */
#define RES_IO_PORT		0x47	/* small item 0x08, length 7 */
#define RES_END_TAG		0x79	/* small item 0x0f, length 1 */
#define RES_MEMORY32_FIXED	0x86
#define RES_QWORD_ADDRESS	0x8a
#define RES_EXT_INTERRUPT	0x89

/* Room for the largest integer encoding: QWordPrefix and eight bytes. */
#define AML_INTEGER_MAX_BYTES	9

/* ---- The buffer ------------------------------------------------------- */

void aml_init(struct aml_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void aml_release(struct aml_buf *b)
{
	free(b->data);
	aml_init(b);
}

int aml_error(const struct aml_buf *b)
{
	if (b->err)
		return b->err;
	return b->depth ? -EINVAL : 0;
}

/* Latch the first failure; later calls see it and do nothing. */
static void aml_fail(struct aml_buf *b, int err)
{
	if (!b->err)
		b->err = err;
}

/* Make room for @more bytes.  False (and the latch set) if there is none. */
static bool aml_reserve(struct aml_buf *b, size_t more)
{
	size_t need, cap;
	uint8_t *p;

	if (b->err)
		return false;
	if (more > SIZE_MAX / 4 - b->len) {
		aml_fail(b, -ENOMEM);
		return false;
	}
	need = b->len + more;
	if (need <= b->cap)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p) {
		aml_fail(b, -ENOMEM);
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}

/* Insert @n bytes at @pos, moving what follows up. */
static void aml_insert(struct aml_buf *b, size_t pos, const uint8_t *p,
		       size_t n)
{
	if (!aml_reserve(b, n))
		return;
	memmove(b->data + pos + n, b->data + pos, b->len - pos);
	memcpy(b->data + pos, p, n);
	b->len += n;
}

/* ---- Raw bytes -------------------------------------------------------- */

void aml_bytes(struct aml_buf *b, const void *p, size_t n)
{
	if (!n)
		return;
	if (!aml_reserve(b, n))
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void aml_byte(struct aml_buf *b, uint8_t v)
{
	aml_bytes(b, &v, 1);
}

static void aml_le(struct aml_buf *b, uint64_t v, unsigned n)
{
	uint8_t le[8];
	unsigned i;

	for (i = 0; i < n; i++)
		le[i] = v >> (8 * i);
	aml_bytes(b, le, n);
}

void aml_le16(struct aml_buf *b, uint16_t v)
{
	aml_le(b, v, 2);
}

void aml_le32(struct aml_buf *b, uint32_t v)
{
	aml_le(b, v, 4);
}

void aml_le64(struct aml_buf *b, uint64_t v)
{
	aml_le(b, v, 8);
}

/* ---- Terms ------------------------------------------------------------ */

/*
 * PkgLength (20.2.4).  Up to 63 the value fits in bits 5:0 of the lead
 * byte.  Otherwise bits 7:6 of the lead byte say how many bytes follow
 * (1 to 3), bits 3:0 hold the value's low nibble and the following bytes
 * the rest, least significant first.
 *
 * Return: how many bytes were written to @out, 0 if @value is too large.
 */
static unsigned pkglength_encode(uint8_t out[4], uint32_t value)
{
	unsigned n, i;

	if (value <= 0x3f) {
		out[0] = value;
		return 1;
	}
	if (value <= 0xfff)
		n = 2;
	else if (value <= 0xfffff)
		n = 3;
	else if (value <= AML_PKGLENGTH_MAX)
		n = 4;
	else
		return 0;
	out[0] = ((n - 1) << 6) | (value & 0x0f);
	for (i = 1; i < n; i++)
		out[i] = value >> (4 + 8 * (i - 1));
	return n;
}

void aml_pkglength(struct aml_buf *b, uint32_t value)
{
	uint8_t enc[4];
	unsigned n = pkglength_encode(enc, value);

	if (!n) {
		aml_fail(b, -E2BIG);
		return;
	}
	aml_bytes(b, enc, n);
}

/*
 * The shortest integer constant (20.2.3, ComputationalData and ConstObj).
 * Return: how many bytes were written to @out.
 */
static unsigned integer_encode(uint8_t out[AML_INTEGER_MAX_BYTES], uint64_t v)
{
	unsigned n, i;

	if (v == 0) {
		out[0] = AML_ZERO_OP;
		return 1;
	}
	if (v == 1) {
		out[0] = AML_ONE_OP;
		return 1;
	}
	if (v <= UINT8_MAX) {
		out[0] = AML_BYTE_PREFIX;
		n = 1;
	} else if (v <= UINT16_MAX) {
		out[0] = AML_WORD_PREFIX;
		n = 2;
	} else if (v <= UINT32_MAX) {
		out[0] = AML_DWORD_PREFIX;
		n = 4;
	} else {
		out[0] = AML_QWORD_PREFIX;
		n = 8;
	}
	for (i = 0; i < n; i++)
		out[1 + i] = v >> (8 * i);
	return 1 + n;
}

void aml_integer(struct aml_buf *b, uint64_t v)
{
	uint8_t enc[AML_INTEGER_MAX_BYTES];

	aml_bytes(b, enc, integer_encode(enc, v));
}

static bool is_lead_name_char(char c)
{
	return (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_name_char(char c)
{
	return is_lead_name_char(c) || (c >= '0' && c <= '9');
}

/*
 * Check the segments of @p ("ABCD.EF.G"): 1 to 4 characters each, the
 * first a LeadNameChar (20.2.2).  Return: how many, or -1 if malformed.
 */
static int namepath_count(const char *p)
{
	int nsegs = 0;
	unsigned len;

	if (!*p)
		return 0;
	for (;;) {
		if (!is_lead_name_char(*p))
			return -1;
		for (len = 1; is_name_char(p[len]); len++)
			;
		if (len > 4)
			return -1;
		nsegs++;
		p += len;
		if (!*p)
			return nsegs;
		if (*p++ != '.')
			return -1;
	}
}

void aml_namestring(struct aml_buf *b, const char *path)
{
	const char *p = path;
	int nsegs;
	unsigned i;

	if (!path || !*path) {
		aml_fail(b, -EINVAL);
		return;
	}
	if (*p == '\\')
		p++;
	else
		while (*p == '^')
			p++;
	nsegs = namepath_count(p);
	if (nsegs < 0 || nsegs > UINT8_MAX) {
		aml_fail(b, -EINVAL);
		return;
	}

	/* RootChar or the ParentPrefixChars, exactly as written. */
	aml_bytes(b, path, p - path);
	if (nsegs == 0)
		aml_byte(b, 0x00);		/* NullName */
	else if (nsegs == 2)
		aml_byte(b, AML_DUAL_NAME_PREFIX);
	else if (nsegs > 2) {
		aml_byte(b, AML_MULTI_NAME_PREFIX);
		aml_byte(b, nsegs);
	}
	while (*p) {
		char seg[4] = { '_', '_', '_', '_' };

		for (i = 0; *p && *p != '.'; i++)
			seg[i] = *p++;
		aml_bytes(b, seg, sizeof(seg));
		if (*p == '.')
			p++;
	}
}

void aml_string(struct aml_buf *b, const char *s)
{
	const char *c;

	if (!s) {
		aml_fail(b, -EINVAL);
		return;
	}
	for (c = s; *c; c++) {
		if ((unsigned char)*c > 0x7f) {
			aml_fail(b, -EINVAL);
			return;
		}
	}
	aml_byte(b, AML_STRING_PREFIX);
	aml_bytes(b, s, c - s + 1);	/* with the NullChar */
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * An EISA id packs three letters into 5 bits each ('A' is 1) above a
 * 16-bit product number, big endian: "PNP0501" is 0x41d00501.  The DWord
 * holds those four bytes in that order, so its little-endian value is
 * byte-swapped.
 */
void aml_eisaid(struct aml_buf *b, const char *id)
{
	uint32_t v = 0;
	int i, d;

	if (!id || strlen(id) != 7) {
		aml_fail(b, -EINVAL);
		return;
	}
	for (i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z') {
			aml_fail(b, -EINVAL);
			return;
		}
		v |= (uint32_t)(id[i] - 'A' + 1) << (26 - 5 * i);
	}
	for (i = 3; i < 7; i++) {
		d = hex_digit(id[i]);
		if (d < 0) {
			aml_fail(b, -EINVAL);
			return;
		}
		v |= (uint32_t)d << (4 * (6 - i));
	}
	aml_byte(b, AML_DWORD_PREFIX);
	aml_le32(b, __builtin_bswap32(v));
}

void aml_name_decl(struct aml_buf *b, const char *name)
{
	aml_byte(b, AML_NAME_OP);
	aml_namestring(b, name);
}

void aml_name_integer(struct aml_buf *b, const char *name, uint64_t v)
{
	aml_name_decl(b, name);
	aml_integer(b, v);
}

void aml_name_string(struct aml_buf *b, const char *name, const char *s)
{
	aml_name_decl(b, name);
	aml_string(b, s);
}

void aml_return(struct aml_buf *b)
{
	aml_byte(b, AML_RETURN_OP);
}

/* ---- Constructs with a PkgLength -------------------------------------- */

/* Remember that the PkgLength of a construct of @kind goes here. */
static void aml_open(struct aml_buf *b, uint8_t kind)
{
	if (b->err)
		return;
	if (b->depth == AML_MAX_DEPTH) {
		aml_fail(b, -EINVAL);
		return;
	}
	b->open[b->depth].kind = kind;
	b->open[b->depth].pos = b->len;
	b->depth++;
}

void aml_scope_begin(struct aml_buf *b, const char *path)
{
	aml_byte(b, AML_SCOPE_OP);
	aml_open(b, AML_OPEN_PLAIN);
	aml_namestring(b, path);
}

void aml_device_begin(struct aml_buf *b, const char *name)
{
	aml_byte(b, AML_EXT_OP_PREFIX);
	aml_byte(b, AML_DEVICE_OP);
	aml_open(b, AML_OPEN_PLAIN);
	aml_namestring(b, name);
}

/* MethodFlags (20.2.5.2): bits 2:0 ArgCount, bit 3 SerializeFlag. */
void aml_method_begin(struct aml_buf *b, const char *name, unsigned nargs,
		      bool serialized)
{
	if (nargs > 7) {
		aml_fail(b, -EINVAL);
		return;
	}
	aml_byte(b, AML_METHOD_OP);
	aml_open(b, AML_OPEN_PLAIN);
	aml_namestring(b, name);
	aml_byte(b, nargs | (serialized ? 0x08 : 0));
}

void aml_package_begin(struct aml_buf *b, unsigned nelems)
{
	if (nelems > UINT8_MAX) {
		aml_fail(b, -EINVAL);	/* that would be a VarPackage */
		return;
	}
	aml_byte(b, AML_PACKAGE_OP);
	aml_open(b, AML_OPEN_PLAIN);
	aml_byte(b, nelems);
}

void aml_buffer_begin(struct aml_buf *b)
{
	aml_byte(b, AML_BUFFER_OP);
	aml_open(b, AML_OPEN_BUFFER);
}

void aml_restemplate_begin(struct aml_buf *b)
{
	aml_byte(b, AML_BUFFER_OP);
	aml_open(b, AML_OPEN_RESTEMPLATE);
}

/*
 * End Tag (6.4.2.9).  The checksum makes the bytes of the whole template,
 * End Tag included, sum to zero.  (A zero checksum would also be accepted
 * as "not computed"; ours is the real one.)
 */
static void aml_res_end_tag(struct aml_buf *b, size_t start)
{
	uint8_t sum = RES_END_TAG;
	size_t i;

	if (b->err)
		return;
	for (i = start; i < b->len; i++)
		sum += b->data[i];
	aml_byte(b, RES_END_TAG);
	aml_byte(b, -sum);
}

void aml_end(struct aml_buf *b)
{
	uint8_t head[4 + AML_INTEGER_MAX_BYTES];
	unsigned nprefix = 0, n;
	size_t pos, content;
	uint8_t kind;

	if (b->err)
		return;
	if (!b->depth) {
		aml_fail(b, -EINVAL);
		return;
	}
	kind = b->open[b->depth - 1].kind;
	pos = b->open[b->depth - 1].pos;
	if (kind == AML_OPEN_RESTEMPLATE)
		aml_res_end_tag(b, pos);
	if (b->err)
		return;
	b->depth--;

	/*
	 * A Buffer's BufferSize, an integer term, sits between its PkgLength
	 * and its bytes (20.2.5.4) and counts only the bytes.
	 */
	content = b->len - pos;
	if (kind != AML_OPEN_PLAIN)
		nprefix = integer_encode(head + 4, content);
	content += nprefix;

	/*
	 * The PkgLength counts itself: take the smallest form whose limit
	 * still holds the body plus the form's own bytes.
	 */
	if (content > AML_PKGLENGTH_MAX - 4) {
		aml_fail(b, -E2BIG);
		return;
	}
	for (n = 1; n < 4; n++) {
		uint8_t probe[4];

		if (pkglength_encode(probe, content + n) == n)
			break;
	}
	pkglength_encode(head + 4 - n, content + n);
	aml_insert(b, pos, head + 4 - n, n + nprefix);
}

void aml_buffer(struct aml_buf *b, const void *p, size_t n)
{
	aml_buffer_begin(b);
	aml_bytes(b, p, n);
	aml_end(b);
}

/* ---- Resource descriptors --------------------------------------------- */

/* I/O Port Descriptor (6.4.2.5): 8 bytes. */
void aml_res_io(struct aml_buf *b, bool decode16, uint16_t min, uint16_t max,
		uint8_t align, uint8_t len)
{
	aml_byte(b, RES_IO_PORT);
	aml_byte(b, decode16 ? 0x01 : 0x00);
	aml_le16(b, min);
	aml_le16(b, max);
	aml_byte(b, align);
	aml_byte(b, len);
}

/* 32-Bit Fixed Memory Range Descriptor (6.4.3.4): 12 bytes. */
void aml_res_memory32_fixed(struct aml_buf *b, bool writable, uint32_t base,
			    uint32_t len)
{
	aml_byte(b, RES_MEMORY32_FIXED);
	aml_le16(b, 9);			/* length of what follows */
	aml_byte(b, writable ? 0x01 : 0x00);
	aml_le32(b, base);
	aml_le32(b, len);
}

/*
 * QWord Address Space Descriptor (6.4.3.5.1): 46 bytes.
 *
 * General flags: bit 3 _MAF, bit 2 _MIF, bit 1 _DEC (0: positive decode),
 * bit 0 consumer.  ACPI 6 calls bit 0 "ignored" but ASL still sets it for
 * ResourceConsumer and disassemblers read it back that way.
 * Memory flags: bits 2:1 _MEM (0 non-cacheable, 1 cacheable), bit 0 _RW.
 */
void aml_res_qword_memory(struct aml_buf *b, bool cacheable, bool writable,
			  uint64_t base, uint64_t len)
{
	if (!len || base + (len - 1) < base) {
		aml_fail(b, -EINVAL);
		return;
	}
	aml_byte(b, RES_QWORD_ADDRESS);
	aml_le16(b, 43);		/* length of what follows */
	aml_byte(b, 0);			/* resource type: memory range */
	aml_byte(b, 0x08 | 0x04 | 0x01);
	aml_byte(b, (cacheable ? 0x02 : 0) | (writable ? 0x01 : 0));
	aml_le64(b, 0);			/* _GRA */
	aml_le64(b, base);		/* _MIN */
	aml_le64(b, base + (len - 1));	/* _MAX */
	aml_le64(b, 0);			/* _TRA */
	aml_le64(b, len);		/* _LEN */
}

/* Extended Interrupt Descriptor (6.4.3.6): 5 + 4 * n bytes. */
void aml_res_interrupt(struct aml_buf *b, unsigned flags,
		       const uint32_t *irqs, unsigned n)
{
	unsigned i;

	if (!irqs || n < 1 || n > UINT8_MAX || flags > 0x1f) {
		aml_fail(b, -EINVAL);
		return;
	}
	aml_byte(b, RES_EXT_INTERRUPT);
	aml_le16(b, 2 + 4 * n);		/* no ResourceSource */
	aml_byte(b, flags);
	aml_byte(b, n);
	for (i = 0; i < n; i++)
		aml_le32(b, irqs[i]);
}
