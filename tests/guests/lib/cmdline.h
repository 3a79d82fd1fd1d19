/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Guest options from the kernel command line: space-separated words,
 * "key=value" or a bare "key".  Unknown words are ignored, so a command
 * line meant for Linux (console=ttyS0 ...) does no harm.
 */
#ifndef GUEST_CMDLINE_H
#define GUEST_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The command line the options come from; NULL means an empty one. */
void cmdline_set(const char *cmdline);
const char *cmdline_get(void);

/*
 * The value of the last "key=value" (or "" for a bare "key"), its length
 * in *@len; NULL if @key is absent.
 */
const char *opt_find(const char *key, size_t *len);
bool opt_present(const char *key);
/* Is @key given with exactly the value @value? */
bool opt_is(const char *key, const char *value);
/* @key as a number (decimal, or hex with 0x), or @def if absent or bad. */
uint64_t opt_uint(const char *key, uint64_t def);
/* Like opt_uint(), but says whether @key was there and well formed. */
bool opt_uint_get(const char *key, uint64_t *out);
/*
 * [@v, @v + @len) as a number, decimal or hex with 0x, into *@out; false
 * if empty, not all digits, or over 64 bits.
 */
bool parse_uint(const char *v, size_t len, uint64_t *out);

#endif /* GUEST_CMDLINE_H */
