// SPDX-License-Identifier: GPL-2.0-only
/*
 * The AML encoder (vmm/aml.c): exact bytes for every encoder, worked out
 * by hand from the ACPI Specification 6.5 (sections cited at each test).
 */
#include <string.h>

#include "harness.h"
#include "../../vmm/aml.h"

/*
 * ASan builds: the out-of-memory test asks for a petabyte on purpose and
 * wants realloc() to return NULL, not the sanitizer to end the process.
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

#define BYTES(...)	((const uint8_t[]){ __VA_ARGS__ })
#define EXPECT(b, ...)							\
	expect_bytes((b), BYTES(__VA_ARGS__),				\
		     sizeof(BYTES(__VA_ARGS__)), __LINE__)

static void expect_bytes(const struct aml_buf *b, const uint8_t *want,
			 size_t n, int line)
{
	size_t i;

	ck_assert_msg(aml_error(b) == 0, "line %d: error %d latched", line,
		      aml_error(b));
	ck_assert_msg(b->len == n, "line %d: %zu bytes emitted, expected %zu",
		      line, b->len, n);
	for (i = 0; i < n; i++)
		ck_assert_msg(b->data[i] == want[i],
			      "line %d: byte %zu is 0x%02x, expected 0x%02x",
			      line, i, b->data[i], want[i]);
}

/* Start over with an empty buffer. */
static void reset(struct aml_buf *b)
{
	aml_release(b);
	aml_init(b);
}

/* 20.2.4: one byte up to 63; then 2, 3, 4 bytes with the count in 7:6. */
START_TEST(pkglength_forms)
{
	struct aml_buf b;

	aml_init(&b);
	aml_pkglength(&b, 0);
	EXPECT(&b, 0x00);
	reset(&b);
	aml_pkglength(&b, 63);
	EXPECT(&b, 0x3f);
	reset(&b);
	/* 64 = 0x40: low nibble 0 in the lead byte, 0x04 after it. */
	aml_pkglength(&b, 64);
	EXPECT(&b, 0x40, 0x04);
	reset(&b);
	aml_pkglength(&b, 4095);
	EXPECT(&b, 0x4f, 0xff);
	reset(&b);
	/* 4096 = 0x1000: lead 0x80 | 0x0, then 0x00, 0x01. */
	aml_pkglength(&b, 4096);
	EXPECT(&b, 0x80, 0x00, 0x01);
	reset(&b);
	aml_pkglength(&b, 1048575);
	EXPECT(&b, 0x8f, 0xff, 0xff);
	reset(&b);
	/* 1048576 = 0x100000: lead 0xc0, then 0x00, 0x00, 0x01. */
	aml_pkglength(&b, 1048576);
	EXPECT(&b, 0xc0, 0x00, 0x00, 0x01);
	reset(&b);
	aml_pkglength(&b, AML_PKGLENGTH_MAX);
	EXPECT(&b, 0xcf, 0xff, 0xff, 0xff);
	reset(&b);
	aml_pkglength(&b, AML_PKGLENGTH_MAX + 1);
	ck_assert_int_eq(aml_error(&b), -E2BIG);
	ck_assert_uint_eq(b.len, 0);
	aml_release(&b);
}
END_TEST

/*
 * Package (0) followed by @fill raw bytes: aml_end() must pick the
 * PkgLength form for 1 + @fill body bytes plus its own, and keep the body
 * intact while moving it.
 */
static void check_backpatch(size_t fill, const uint8_t *pkglen, size_t n)
{
	struct aml_buf b;
	uint8_t *body = malloc(fill);
	size_t i;

	ck_assert_ptr_nonnull(body);
	for (i = 0; i < fill; i++)
		body[i] = i * 7 + 3;
	aml_init(&b);
	aml_package_begin(&b, 0);
	aml_bytes(&b, body, fill);
	aml_end(&b);
	ck_assert_int_eq(aml_error(&b), 0);
	ck_assert_uint_eq(b.len, 1 + n + 1 + fill);
	ck_assert_uint_eq(b.data[0], AML_PACKAGE_OP);
	ck_assert_mem_eq(b.data + 1, pkglen, n);
	ck_assert_uint_eq(b.data[1 + n], 0);	/* NumElements */
	ck_assert_mem_eq(b.data + 2 + n, body, fill);
	aml_release(&b);
	free(body);
}

START_TEST(pkglength_backpatch_boundaries)
{
	/* Body 62 + 1 length byte = 63: the one-byte form. */
	check_backpatch(61, BYTES(0x3f), 1);
	/* Body 63 + 1 = 64 does not fit one byte; with two it is 65. */
	check_backpatch(62, BYTES(0x41, 0x04), 2);
	/* Body 4093 + 2 = 4095: the two-byte form's limit. */
	check_backpatch(4092, BYTES(0x4f, 0xff), 2);
	/* Body 4094 needs three bytes: 4097 = 0x1001. */
	check_backpatch(4093, BYTES(0x81, 0x00, 0x01), 3);
	/* Body 1048572 + 3 = 1048575: the three-byte form's limit. */
	check_backpatch(1048571, BYTES(0x8f, 0xff, 0xff), 3);
	/* Body 1048573 needs four bytes: 1048577 = 0x100001. */
	check_backpatch(1048572, BYTES(0xc1, 0x00, 0x00, 0x01), 4);
}
END_TEST

/* 20.2.2: NameSeg, RootChar, ParentPrefixChar, Dual/MultiNamePrefix. */
START_TEST(namestrings)
{
	static const char *const bad[] = {
		"", "vr00", "TOOLONG", "0ABC", "A..B", "A.", ".A", "AB-C",
		"\\^A", "^\\A",
	};
	struct aml_buf b;
	unsigned i;

	aml_init(&b);
	aml_namestring(&b, "VR00");
	EXPECT(&b, 'V', 'R', '0', '0');
	reset(&b);
	aml_namestring(&b, "_SB");		/* padded with '_' */
	EXPECT(&b, '_', 'S', 'B', '_');
	reset(&b);
	aml_namestring(&b, "\\_SB_");
	EXPECT(&b, 0x5c, '_', 'S', 'B', '_');
	reset(&b);
	aml_namestring(&b, "\\");		/* RootChar NullName */
	EXPECT(&b, 0x5c, 0x00);
	reset(&b);
	aml_namestring(&b, "^^FOO");
	EXPECT(&b, 0x5e, 0x5e, 'F', 'O', 'O', '_');
	reset(&b);
	aml_namestring(&b, "_SB.PCI0");
	EXPECT(&b, 0x2e, '_', 'S', 'B', '_', 'P', 'C', 'I', '0');
	reset(&b);
	aml_namestring(&b, "\\_SB.PCI0.VR0");
	EXPECT(&b, 0x5c, 0x2f, 0x03, '_', 'S', 'B', '_', 'P', 'C', 'I', '0',
	       'V', 'R', '0', '_');
	reset(&b);
	aml_namestring(&b, "^A.B");
	EXPECT(&b, 0x5e, 0x2e, 'A', '_', '_', '_', 'B', '_', '_', '_');

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		reset(&b);
		aml_namestring(&b, bad[i]);
		ck_assert_msg(aml_error(&b) == -EINVAL, "\"%s\" accepted",
			      bad[i]);
		ck_assert_uint_eq(b.len, 0);
	}
	aml_release(&b);
}
END_TEST

/* 20.2.3: ConstObj for 0 and 1, then Byte/Word/DWord/QWordConst. */
START_TEST(integers)
{
	struct aml_buf b;

	aml_init(&b);
	aml_integer(&b, 0);
	aml_integer(&b, 1);
	aml_integer(&b, 2);
	aml_integer(&b, 0xff);
	EXPECT(&b, 0x00, 0x01, 0x0a, 0x02, 0x0a, 0xff);
	reset(&b);
	aml_integer(&b, 0x100);
	aml_integer(&b, 0xffff);
	EXPECT(&b, 0x0b, 0x00, 0x01, 0x0b, 0xff, 0xff);
	reset(&b);
	aml_integer(&b, 0x10000);
	aml_integer(&b, 0xffffffff);
	EXPECT(&b, 0x0c, 0x00, 0x00, 0x01, 0x00, 0x0c, 0xff, 0xff, 0xff, 0xff);
	reset(&b);
	aml_integer(&b, 0x100000000ull);
	EXPECT(&b, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00);
	reset(&b);
	aml_integer(&b, UINT64_MAX);		/* QWordConst, not OnesOp */
	EXPECT(&b, 0x0e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
	aml_release(&b);
}
END_TEST

/* 20.2.3 String; the ASL EISAID macro's compressed id. */
START_TEST(strings_and_eisaid)
{
	struct aml_buf b;

	aml_init(&b);
	aml_string(&b, "LNRO0005");
	EXPECT(&b, 0x0d, 'L', 'N', 'R', 'O', '0', '0', '0', '5', 0x00);
	reset(&b);
	aml_string(&b, "");
	EXPECT(&b, 0x0d, 0x00);
	reset(&b);
	aml_string(&b, "caf\xc3\xa9");
	ck_assert_int_eq(aml_error(&b), -EINVAL);

	/* P=16, N=14, P=16: 0 10000 01110 10000 = 0x41d0, then 0x0501. */
	reset(&b);
	aml_eisaid(&b, "PNP0501");
	EXPECT(&b, 0x0c, 0x41, 0xd0, 0x05, 0x01);
	reset(&b);
	aml_eisaid(&b, "PNP0A03");
	EXPECT(&b, 0x0c, 0x41, 0xd0, 0x0a, 0x03);
	reset(&b);
	aml_eisaid(&b, "pnp0501");
	ck_assert_int_eq(aml_error(&b), -EINVAL);
	reset(&b);
	aml_eisaid(&b, "PNP050");
	ck_assert_int_eq(aml_error(&b), -EINVAL);
	reset(&b);
	aml_eisaid(&b, "PNP05G1");
	ck_assert_int_eq(aml_error(&b), -EINVAL);
	aml_release(&b);
}
END_TEST

/* 20.2.5.1 DefName. */
START_TEST(names)
{
	struct aml_buf b;

	aml_init(&b);
	aml_name_integer(&b, "_UID", 0);
	EXPECT(&b, 0x08, '_', 'U', 'I', 'D', 0x00);
	reset(&b);
	aml_name_string(&b, "_HID", "LNRO0005");
	EXPECT(&b, 0x08, '_', 'H', 'I', 'D',
	       0x0d, 'L', 'N', 'R', 'O', '0', '0', '0', '5', 0x00);
	reset(&b);
	aml_name_decl(&b, "_HID");
	aml_eisaid(&b, "PNP0501");
	EXPECT(&b, 0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x05, 0x01);
	aml_release(&b);
}
END_TEST

/*
 * 20.2.5.2 DefMethod, 20.2.5.3 DefReturn:
 * Method (_STA, 0, NotSerialized) { Return (0x0F) }
 *   14 PkgLength(9) "_STA" flags(0) A4 0A 0F
 */
START_TEST(method_sta)
{
	struct aml_buf b;

	aml_init(&b);
	aml_method_begin(&b, "_STA", 0, false);
	aml_return(&b);
	aml_integer(&b, 0x0f);
	aml_end(&b);
	EXPECT(&b, 0x14, 0x09, '_', 'S', 'T', 'A', 0x00, 0xa4, 0x0a, 0x0f);

	/* Serialized, two arguments: flags 0x08 | 2; empty body. */
	reset(&b);
	aml_method_begin(&b, "FOO", 2, true);
	aml_end(&b);
	EXPECT(&b, 0x14, 0x06, 'F', 'O', 'O', '_', 0x0a);

	reset(&b);
	aml_method_begin(&b, "FOO", 8, false);
	ck_assert_int_eq(aml_error(&b), -EINVAL);
	aml_release(&b);
}
END_TEST

/*
 * 20.2.5.1 DefScope, 20.2.5.2 DefDevice, nested:
 * Scope (\_SB) { Device (VR00) { Name (_UID, Zero) } }
 *   Device: 5B 82 PkgLength(11) "VR00" 08 "_UID" 00     (13 bytes)
 *   Scope:  10 PkgLength(19) 5C "_SB_" <device>          (20 bytes)
 */
START_TEST(scope_and_device)
{
	struct aml_buf b;

	aml_init(&b);
	aml_scope_begin(&b, "\\_SB");
	aml_device_begin(&b, "VR00");
	aml_name_integer(&b, "_UID", 0);
	aml_end(&b);
	aml_end(&b);
	EXPECT(&b, 0x10, 0x13, 0x5c, '_', 'S', 'B', '_',
	       0x5b, 0x82, 0x0b, 'V', 'R', '0', '0',
	       0x08, '_', 'U', 'I', 'D', 0x00);
	aml_release(&b);
}
END_TEST

/*
 * 20.2.5.4 DefPackage:
 * Name (_S5, Package (0x04) { 0x05, Zero, Zero, Zero })
 *   08 "_S5_" 12 PkgLength(7) NumElements(4) 0A 05 00 00 00
 */
START_TEST(package_s5)
{
	struct aml_buf b;

	aml_init(&b);
	aml_name_decl(&b, "_S5");
	aml_package_begin(&b, 4);
	aml_integer(&b, 5);
	aml_integer(&b, 0);
	aml_integer(&b, 0);
	aml_integer(&b, 0);
	aml_end(&b);
	EXPECT(&b, 0x08, '_', 'S', '5', '_', 0x12, 0x07, 0x04,
	       0x0a, 0x05, 0x00, 0x00, 0x00);

	reset(&b);
	aml_package_begin(&b, 256);		/* would need VarPackage */
	ck_assert_int_eq(aml_error(&b), -EINVAL);
	aml_release(&b);
}
END_TEST

/*
 * 20.2.5.4 DefBuffer: 11 PkgLength BufferSize ByteList, where the
 * PkgLength also counts the BufferSize integer.
 */
START_TEST(buffers)
{
	uint8_t bytes[61];
	struct aml_buf b;
	size_t i;

	aml_init(&b);
	aml_buffer(&b, BYTES(1, 2, 3), 3);
	EXPECT(&b, 0x11, 0x06, 0x0a, 0x03, 0x01, 0x02, 0x03);
	reset(&b);
	aml_buffer(&b, NULL, 0);		/* BufferSize Zero */
	EXPECT(&b, 0x11, 0x02, 0x00);
	reset(&b);
	aml_buffer(&b, BYTES(9), 1);		/* BufferSize One */
	EXPECT(&b, 0x11, 0x03, 0x01, 0x09);

	/* 60 bytes + 0A 3C = 62, + 1 = 63: still one PkgLength byte. */
	for (i = 0; i < sizeof(bytes); i++)
		bytes[i] = i;
	reset(&b);
	aml_buffer(&b, bytes, 60);
	ck_assert_int_eq(aml_error(&b), 0);
	ck_assert_uint_eq(b.len, 64);
	ck_assert_mem_eq(b.data, BYTES(0x11, 0x3f, 0x0a, 0x3c), 4);
	ck_assert_mem_eq(b.data + 4, bytes, 60);
	/* 61 bytes + 0A 3D = 63: two PkgLength bytes, 65 = 0x41. */
	reset(&b);
	aml_buffer(&b, bytes, 61);
	ck_assert_int_eq(aml_error(&b), 0);
	ck_assert_uint_eq(b.len, 66);
	ck_assert_mem_eq(b.data, BYTES(0x11, 0x41, 0x04, 0x0a, 0x3d), 5);
	ck_assert_mem_eq(b.data + 5, bytes, 61);
	aml_release(&b);
}
END_TEST

/* 6.4.2.5 I/O Port Descriptor: IO (Decode16, 0x3F8, 0x3F8, 0x01, 0x08) */
START_TEST(res_io)
{
	struct aml_buf b;

	aml_init(&b);
	aml_res_io(&b, true, 0x3f8, 0x3f8, 1, 8);
	EXPECT(&b, 0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08);
	reset(&b);
	aml_res_io(&b, false, 0x60, 0x64, 4, 1);
	EXPECT(&b, 0x47, 0x00, 0x60, 0x00, 0x64, 0x00, 0x04, 0x01);
	aml_release(&b);
}
END_TEST

/* 6.4.3.4 32-Bit Fixed Memory Range Descriptor. */
START_TEST(res_memory32_fixed)
{
	struct aml_buf b;

	aml_init(&b);
	aml_res_memory32_fixed(&b, true, 0xd0000000, 0x200);
	EXPECT(&b, 0x86, 0x09, 0x00, 0x01,
	       0x00, 0x00, 0x00, 0xd0, 0x00, 0x02, 0x00, 0x00);
	reset(&b);
	aml_res_memory32_fixed(&b, false, 0xfed00000, 0x400);
	EXPECT(&b, 0x86, 0x09, 0x00, 0x00,
	       0x00, 0x00, 0xd0, 0xfe, 0x00, 0x04, 0x00, 0x00);
	aml_release(&b);
}
END_TEST

/*
 * 6.4.3.5.1 QWord Address Space Descriptor:
 * QWordMemory (ResourceConsumer, PosDecode, MinFixed, MaxFixed,
 *              NonCacheable, ReadWrite, 0, 0x100000000, 0x1000001FF, 0,
 *              0x200)
 */
START_TEST(res_qword_memory)
{
	struct aml_buf b;

	aml_init(&b);
	aml_res_qword_memory(&b, false, true, 0x100000000ull, 0x200);
	EXPECT(&b, 0x8a, 0x2b, 0x00,
	       0x00,			/* memory range */
	       0x0d,			/* MaxFixed, MinFixed, consumer */
	       0x01,			/* NonCacheable, ReadWrite */
	       0, 0, 0, 0, 0, 0, 0, 0,				/* _GRA */
	       0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,	/* _MIN */
	       0xff, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,	/* _MAX */
	       0, 0, 0, 0, 0, 0, 0, 0,				/* _TRA */
	       0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00);	/* _LEN */
	reset(&b);
	aml_res_qword_memory(&b, true, false, 0, 0x1000);
	ck_assert_int_eq(aml_error(&b), 0);
	ck_assert_uint_eq(b.data[5], 0x02);	/* Cacheable, ReadOnly */
	reset(&b);
	aml_res_qword_memory(&b, false, true, 0x1000, 0);
	ck_assert_int_eq(aml_error(&b), -EINVAL);
	reset(&b);
	aml_res_qword_memory(&b, false, true, UINT64_MAX, 2);
	ck_assert_int_eq(aml_error(&b), -EINVAL);
	aml_release(&b);
}
END_TEST

/* 6.4.3.6 Extended Interrupt Descriptor. */
START_TEST(res_interrupt)
{
	static const uint32_t one[] = { 5 }, two[] = { 9, 0x123 };
	struct aml_buf b;

	aml_init(&b);
	/* Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive) {5} */
	aml_res_interrupt(&b, AML_IRQ_CONSUMER | AML_IRQ_EDGE, one, 1);
	EXPECT(&b, 0x89, 0x06, 0x00, 0x03, 0x01, 0x05, 0x00, 0x00, 0x00);
	reset(&b);
	/* Interrupt (ResourceConsumer, Level, ActiveLow, Shared) {9, 0x123} */
	aml_res_interrupt(&b, AML_IRQ_CONSUMER | AML_IRQ_ACTIVE_LOW |
			  AML_IRQ_SHARED, two, 2);
	EXPECT(&b, 0x89, 0x0a, 0x00, 0x0d, 0x02,
	       0x09, 0x00, 0x00, 0x00, 0x23, 0x01, 0x00, 0x00);
	reset(&b);
	aml_res_interrupt(&b, AML_IRQ_CONSUMER, one, 0);
	ck_assert_int_eq(aml_error(&b), -EINVAL);
	aml_release(&b);
}
END_TEST

/*
 * A whole ResourceTemplate as a Buffer, with the End Tag (6.4.2.9) and its
 * checksum:
 *   Memory32Fixed (ReadWrite, 0xD0000000, 0x200)        12 bytes
 *   Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive) {5}  9 bytes
 *   EndTag: 79 checksum                                  2 bytes
 * The descriptors' bytes sum to 0x1fa; with 0x79 that is 0x273, so the
 * checksum is 0x100 - 0x73 = 0x8d.  23 bytes of template: BufferSize
 * 0A 17, PkgLength 2 + 23 + 1 = 26.
 */
START_TEST(resource_template)
{
	static const uint32_t irq = 5;
	struct aml_buf b;
	uint8_t sum = 0;
	size_t i;

	aml_init(&b);
	aml_restemplate_begin(&b);
	aml_res_memory32_fixed(&b, true, 0xd0000000, 0x200);
	aml_res_interrupt(&b, AML_IRQ_CONSUMER | AML_IRQ_EDGE, &irq, 1);
	aml_end(&b);
	EXPECT(&b, 0x11, 0x1a, 0x0a, 0x17,
	       0x86, 0x09, 0x00, 0x01,
	       0x00, 0x00, 0x00, 0xd0, 0x00, 0x02, 0x00, 0x00,
	       0x89, 0x06, 0x00, 0x03, 0x01, 0x05, 0x00, 0x00, 0x00,
	       0x79, 0x8d);
	for (i = 4; i < b.len; i++)
		sum += b.data[i];
	ck_assert_uint_eq(sum, 0);

	/* An empty template is just the End Tag: 79 and 0x100 - 0x79. */
	reset(&b);
	aml_restemplate_begin(&b);
	aml_end(&b);
	EXPECT(&b, 0x11, 0x05, 0x0a, 0x02, 0x79, 0x87);
	aml_release(&b);
}
END_TEST

/* The latch: misuse and allocation failure are remembered, not fatal. */
START_TEST(error_latch)
{
	static const uint8_t src[1];
	struct aml_buf b;
	unsigned i;

	aml_init(&b);
	aml_end(&b);				/* nothing open */
	ck_assert_int_eq(aml_error(&b), -EINVAL);
	reset(&b);
	aml_scope_begin(&b, "\\_SB");		/* left open */
	ck_assert_int_eq(aml_error(&b), -EINVAL);
	aml_end(&b);
	ck_assert_int_eq(aml_error(&b), 0);
	reset(&b);
	for (i = 0; i <= AML_MAX_DEPTH; i++)
		aml_scope_begin(&b, "A");
	ck_assert_int_eq(aml_error(&b), -EINVAL);

	/* The first error wins and later calls change nothing. */
	reset(&b);
	aml_byte(&b, 0xaa);
	aml_bytes(&b, src, (size_t)1 << 50);	/* realloc() fails */
	ck_assert_int_eq(aml_error(&b), -ENOMEM);
	ck_assert_uint_eq(b.len, 1);
	ck_assert_uint_eq(b.data[0], 0xaa);
	aml_namestring(&b, "bad name");
	aml_device_begin(&b, "VR00");
	aml_integer(&b, 42);
	aml_end(&b);
	ck_assert_int_eq(aml_error(&b), -ENOMEM);
	ck_assert_uint_eq(b.len, 1);
	aml_release(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_int_eq(aml_error(&b), 0);
}
END_TEST

static Suite *aml_suite(void)
{
	Suite *s = suite_create("aml");
	TCase *tc = tcase_create("aml");

	tcase_add_test(tc, pkglength_forms);
	tcase_add_test(tc, pkglength_backpatch_boundaries);
	tcase_add_test(tc, namestrings);
	tcase_add_test(tc, integers);
	tcase_add_test(tc, strings_and_eisaid);
	tcase_add_test(tc, names);
	tcase_add_test(tc, method_sta);
	tcase_add_test(tc, scope_and_device);
	tcase_add_test(tc, package_s5);
	tcase_add_test(tc, buffers);
	tcase_add_test(tc, res_io);
	tcase_add_test(tc, res_memory32_fixed);
	tcase_add_test(tc, res_qword_memory);
	tcase_add_test(tc, res_interrupt);
	tcase_add_test(tc, resource_template);
	tcase_add_test(tc, error_latch);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(aml_suite)
