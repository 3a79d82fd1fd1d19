/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The guests' console: COM1, a 16550A driven by polling (no interrupts),
 * optionally mirrored byte by byte to the test device's LOG register.
 */
#ifndef GUEST_CONSOLE_H
#define GUEST_CONSOLE_H

#include <stdarg.h>
#include <stdbool.h>

void console_init(void);
/*
 * Also send output to TESTDEV_LOG (once the device is known to be there),
 * except "# ..." lines.
 */
void console_mirror_testdev(bool on);
void console_putc(char c);
void console_puts(const char *s);

/*
 * A small printf: %c %s %d %i %u %x %X %p and %%, the length modifiers
 * l, ll and z, a field width, a precision (for %s only) and the flags '0'
 * and '-'.  64-bit values
 * print without libgcc (the 32-bit build has no 64-bit division).
 */
__attribute__((format(printf, 1, 2))) void printf(const char *fmt, ...);
void vprintf(const char *fmt, va_list ap);
/* Into a buffer of @size bytes, always NUL-terminated; returns the length. */
__attribute__((format(printf, 3, 4))) int snprintf(char *buf, unsigned size,
						   const char *fmt, ...);
int vsnprintf(char *buf, unsigned size, const char *fmt, va_list ap);

/* @n bytes as two-digit hex, separated by spaces. */
void print_hex_bytes(const void *p, unsigned n);

#endif /* GUEST_CONSOLE_H */
