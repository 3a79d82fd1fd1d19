/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small encoder for ACPI Machine Language (AML), the byte code of the
 * DSDT: just what a microVM's DSDT needs.  Section numbers refer to the
 * ACPI Specification 6.5 (chapter 20 for the AML grammar, 6.4 for the
 * resource descriptors).
 *
 * Usage: emit into a struct aml_buf with the aml_*() functions; open a
 * construct that carries a PkgLength (Scope, Device, Method, Package,
 * Buffer, resource template) with its _begin() call and close it with
 * aml_end().  The PkgLength is written when the construct is closed, in
 * the smallest of its four forms that fits the finished body.
 *
 * Errors latch: once an allocation fails or a caller passes something the
 * grammar cannot express (a bad name, an unbalanced aml_end(), ...), the
 * buffer stops growing and every later call is a no-op.  Check
 * aml_error() once at the end instead of after every call.
 */
#ifndef FLATVM_VMM_AML_H
#define FLATVM_VMM_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How deep Scope/Device/Method/Package/Buffer may nest. */
#define AML_MAX_DEPTH		16

/* The largest PkgLength value the four-byte form can hold (20.2.4). */
#define AML_PKGLENGTH_MAX	0x0fffffffu

/* Opcodes and prefixes (20.2.3, 20.2.5). */
#define AML_ZERO_OP		0x00
#define AML_ONE_OP		0x01
#define AML_NAME_OP		0x08
#define AML_BYTE_PREFIX		0x0a
#define AML_WORD_PREFIX		0x0b
#define AML_DWORD_PREFIX	0x0c
#define AML_STRING_PREFIX	0x0d
#define AML_QWORD_PREFIX	0x0e
#define AML_SCOPE_OP		0x10
#define AML_BUFFER_OP		0x11
#define AML_PACKAGE_OP		0x12
#define AML_METHOD_OP		0x14
#define AML_DUAL_NAME_PREFIX	0x2e
#define AML_MULTI_NAME_PREFIX	0x2f
#define AML_EXT_OP_PREFIX	0x5b
#define AML_DEVICE_OP		0x82	/* after AML_EXT_OP_PREFIX */
#define AML_ROOT_CHAR		0x5c	/* '\' */
#define AML_PARENT_PREFIX_CHAR	0x5e	/* '^' */
#define AML_RETURN_OP		0xa4

/*
 * Extended Interrupt Descriptor flags (6.4.3.6, byte 3).  The bits are the
 * spec's own, so a clear bit means the other choice: level-triggered,
 * active-high, exclusive, not wake capable, producer.
 */
#define AML_IRQ_CONSUMER	(1u << 0)
#define AML_IRQ_EDGE		(1u << 1)
#define AML_IRQ_ACTIVE_LOW	(1u << 2)
#define AML_IRQ_SHARED		(1u << 3)
#define AML_IRQ_WAKE		(1u << 4)

/**
 * struct aml_buf - a growable AML byte buffer.
 * @data: the bytes emitted so far (NULL until the first byte).
 * @len: how many bytes of @data are used.
 * @cap: how many bytes @data can hold.
 * @err: 0, or the first failure as a negative errno (the error latch).
 * @depth: how many constructs are open.
 * @open: for each open construct, what it is and where its PkgLength goes.
 */
struct aml_buf {
	uint8_t *data;
	size_t len, cap;
	int err;
	unsigned depth;
	struct {
		uint8_t kind;
		size_t pos;
	} open[AML_MAX_DEPTH];
};

/* ---- The buffer ------------------------------------------------------- */

/** aml_init() - start an empty buffer (no allocation yet). */
void aml_init(struct aml_buf *b);

/** aml_release() - free the bytes; the buffer may be aml_init()ed again. */
void aml_release(struct aml_buf *b);

/**
 * aml_error() - the latched error of a finished buffer.
 * @b: the buffer.
 *
 * Return: 0 if every call succeeded and every construct was closed,
 * -ENOMEM after a failed allocation, -EINVAL after an argument the AML
 * grammar cannot express or while constructs are still open, -E2BIG after
 * a body too large for a PkgLength.
 */
int aml_error(const struct aml_buf *b);

/* ---- Raw bytes -------------------------------------------------------- */

/** aml_byte() - append one byte. */
void aml_byte(struct aml_buf *b, uint8_t v);

/** aml_bytes() - append @n bytes from @p. */
void aml_bytes(struct aml_buf *b, const void *p, size_t n);

/** aml_le16() - append @v as two little-endian bytes. */
void aml_le16(struct aml_buf *b, uint16_t v);

/** aml_le32() - append @v as four little-endian bytes. */
void aml_le32(struct aml_buf *b, uint32_t v);

/** aml_le64() - append @v as eight little-endian bytes. */
void aml_le64(struct aml_buf *b, uint64_t v);

/* ---- Terms ------------------------------------------------------------ */

/**
 * aml_pkglength() - append a PkgLength encoding of @value (20.2.4).
 * @b: the buffer.
 * @value: the length, counting the PkgLength bytes themselves.
 *
 * One byte up to 63, two up to 4095, three up to 1048575, four up to
 * AML_PKGLENGTH_MAX; larger values latch -E2BIG.  The begin/end pairs
 * compute the value themselves; this is for callers and tests that need
 * the bare encoding.
 */
void aml_pkglength(struct aml_buf *b, uint32_t value);

/**
 * aml_namestring() - append a NameString (20.2.2).
 * @b: the buffer.
 * @path: a name such as "VR00", "_SB", "\\_SB.VR00" or "^^FOO.BAR";
 *	  segments shorter than four characters are padded with '_'.
 *
 * A leading '\' is the root, each leading '^' goes up one scope.  Segments
 * are separated by '.', start with A-Z or '_' and continue with A-Z, 0-9
 * or '_'.  Anything else latches -EINVAL.  "\\" alone is the root itself
 * (RootChar NullName).
 */
void aml_namestring(struct aml_buf *b, const char *path);

/**
 * aml_integer() - append @v as the shortest integer constant (20.2.3).
 *
 * ZeroOp and OneOp for 0 and 1, then BytePrefix, WordPrefix, DWordPrefix
 * or QWordPrefix by magnitude.  OnesOp is never used: its value depends on
 * the DSDT revision.
 */
void aml_integer(struct aml_buf *b, uint64_t v);

/**
 * aml_string() - append a String constant (20.2.3).
 * @s: ASCII characters 0x01-0x7f; anything else latches -EINVAL.
 */
void aml_string(struct aml_buf *b, const char *s);

/**
 * aml_eisaid() - append a compressed EISA id such as "PNP0501" (the ASL
 * EISAID macro, chapter 19).
 * @id: three upper-case letters and four hex digits; anything else latches
 *	-EINVAL.
 *
 * The 32-bit value is emitted as a DWordConst, as ASL's EisaId() does.
 */
void aml_eisaid(struct aml_buf *b, const char *id);

/**
 * aml_name_decl() - append NameOp and @name (20.2.5.1, DefName).
 *
 * The caller appends the object that follows (an integer, a string, a
 * package, a buffer, ...).
 */
void aml_name_decl(struct aml_buf *b, const char *name);

/** aml_name_integer() - Name (@name, @v). */
void aml_name_integer(struct aml_buf *b, const char *name, uint64_t v);

/** aml_name_string() - Name (@name, "@s"). */
void aml_name_string(struct aml_buf *b, const char *name, const char *s);

/**
 * aml_return() - append ReturnOp (20.2.5.3, DefReturn).
 *
 * The caller appends the returned object, e.g. aml_integer().
 */
void aml_return(struct aml_buf *b);

/* ---- Constructs with a PkgLength -------------------------------------- */

/** aml_scope_begin() - open Scope (@path) { ... } (20.2.5.1). */
void aml_scope_begin(struct aml_buf *b, const char *path);

/** aml_device_begin() - open Device (@name) { ... } (20.2.5.2). */
void aml_device_begin(struct aml_buf *b, const char *name);

/**
 * aml_method_begin() - open Method (@name, @nargs, ...) { ... } (20.2.5.2).
 * @b: the buffer.
 * @name: the method's name.
 * @nargs: how many arguments it takes, 0 to 7 (more latches -EINVAL).
 * @serialized: whether the method is Serialized (sync level 0).
 */
void aml_method_begin(struct aml_buf *b, const char *name, unsigned nargs,
		      bool serialized);

/**
 * aml_package_begin() - open Package (@nelems) { ... } (20.2.5.4).
 * @b: the buffer.
 * @nelems: the NumElements byte, 0 to 255 (more latches -EINVAL); the
 *	    caller appends that many elements before aml_end().
 */
void aml_package_begin(struct aml_buf *b, unsigned nelems);

/**
 * aml_buffer_begin() - open Buffer () { ... } (20.2.5.4).
 *
 * Append the bytes with aml_byte()/aml_bytes(); aml_end() inserts the
 * BufferSize integer in front of them.
 */
void aml_buffer_begin(struct aml_buf *b);

/**
 * aml_restemplate_begin() - open ResourceTemplate () { ... } (the ASL
 * macro, chapter 19).
 *
 * A Buffer whose bytes are resource descriptors (6.4); append them with
 * the aml_res_*() functions.  aml_end() appends the End Tag and its
 * checksum, then closes the Buffer.
 */
void aml_restemplate_begin(struct aml_buf *b);

/**
 * aml_end() - close the innermost open construct.
 *
 * Chooses the PkgLength form now that the body is known and moves the
 * body up to make room for it.  Latches -EINVAL if nothing is open.
 */
void aml_end(struct aml_buf *b);

/** aml_buffer() - Buffer () { @n bytes from @p }. */
void aml_buffer(struct aml_buf *b, const void *p, size_t n);

/* ---- Resource descriptors (inside a resource template) ---------------- */

/**
 * aml_res_io() - IO port descriptor (6.4.2.5).
 * @b: the buffer.
 * @decode16: the device decodes 16 address bits (else 10).
 * @min: the lowest base address.
 * @max: the highest base address.
 * @align: the base alignment.
 * @len: how many ports.
 */
void aml_res_io(struct aml_buf *b, bool decode16, uint16_t min, uint16_t max,
		uint8_t align, uint8_t len);

/**
 * aml_res_memory32_fixed() - 32-bit Fixed Memory Range descriptor
 * (6.4.3.4).
 * @b: the buffer.
 * @writable: ReadWrite, else ReadOnly.
 * @base: the range's base address.
 * @len: its length in bytes.
 */
void aml_res_memory32_fixed(struct aml_buf *b, bool writable, uint32_t base,
			    uint32_t len);

/**
 * aml_res_qword_memory() - QWord Address Space descriptor for a fixed
 * memory range consumed by the device (6.4.3.5.1).
 * @b: the buffer.
 * @cacheable: Cacheable, else NonCacheable.
 * @writable: ReadWrite, else ReadOnly.
 * @base: the range's base address.
 * @len: its length in bytes; 0, or a range past 2^64, latches -EINVAL.
 *
 * ResourceConsumer, PosDecode, MinFixed, MaxFixed, granularity 0, no
 * translation: the form for a window above 4 GiB.
 */
void aml_res_qword_memory(struct aml_buf *b, bool cacheable, bool writable,
			  uint64_t base, uint64_t len);

/**
 * aml_res_interrupt() - Extended Interrupt descriptor (6.4.3.6).
 * @b: the buffer.
 * @flags: AML_IRQ_* bits.
 * @irqs: the interrupt numbers (GSIs on x86).
 * @n: how many, 1 to 255 (else -EINVAL latches).
 */
void aml_res_interrupt(struct aml_buf *b, unsigned flags,
		       const uint32_t *irqs, unsigned n);

#endif /* FLATVM_VMM_AML_H */
