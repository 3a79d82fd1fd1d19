/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The few C library functions the guests use.  The compiler may also emit
 * calls to memcpy, memset and memcmp on its own (structure copies), so
 * these carry the standard names and signatures.
 */
#ifndef GUEST_LIBC_H
#define GUEST_LIBC_H

#include <stddef.h>
#include <stdint.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

/* The first @nlen-byte occurrence of @needle in @hay[0, @len), or NULL. */
const void *mem_find(const void *hay, size_t len, const void *needle,
		     size_t nlen);

/* 32-bit FNV-1a, the checksum the guests print for data they read. */
#define FNV1A32_INIT	0x811c9dc5u
uint32_t fnv1a32(uint32_t h, const void *p, size_t n);

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define MIN(a, b)	((a) < (b) ? (a) : (b))
#define ALIGN_UP(v, a)	(((v) + (a) - 1) & ~((__typeof__(v))(a) - 1))

#endif /* GUEST_LIBC_H */
