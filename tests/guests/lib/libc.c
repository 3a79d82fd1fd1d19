// SPDX-License-Identifier: GPL-2.0-only
/*
 * Byte-at-a-time implementations: the guests move a few KiB at most, and
 * simple loops cannot be turned into anything surprising (the guests are
 * built with -mgeneral-regs-only, so no vector code either).
 */
#include "libc.h"

void *memcpy(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	if (d <= s || d >= s + n)
		return memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	uint8_t *d = dst;

	while (n--)
		*d++ = (uint8_t)c;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x < *y ? -1 : 1;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
		if (!*a)
			break;
	}
	return 0;
}

int strcmp(const char *a, const char *b)
{
	return strncmp(a, b, SIZE_MAX);
}

const void *mem_find(const void *hay, size_t len, const void *needle,
		     size_t nlen)
{
	const uint8_t *h = hay;
	size_t i;

	if (!nlen || nlen > len)
		return NULL;
	for (i = 0; i <= len - nlen; i++)
		if (h[i] == *(const uint8_t *)needle &&
		    !memcmp(h + i, needle, nlen))
			return h + i;
	return NULL;
}

uint32_t fnv1a32(uint32_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--) {
		h ^= *b++;
		h *= 0x01000193u;
	}
	return h;
}
