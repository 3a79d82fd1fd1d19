// SPDX-License-Identifier: GPL-2.0-only
#include "cmdline.h"
#include "libc.h"

static const char *cmdline = "";

void cmdline_set(const char *cl)
{
	cmdline = cl ? cl : "";
}

const char *cmdline_get(void)
{
	return cmdline;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

const char *opt_find(const char *key, size_t *len)
{
	size_t klen = strlen(key);
	const char *p = cmdline, *found = NULL, *w;
	size_t wlen, flen = 0;

	while (*p) {
		while (is_space(*p))
			p++;
		w = p;
		while (*p && !is_space(*p))
			p++;
		wlen = (size_t)(p - w);
		if (wlen < klen || strncmp(w, key, klen))
			continue;
		if (wlen == klen) {
			found = w + wlen;
			flen = 0;
		} else if (w[klen] == '=') {
			found = w + klen + 1;
			flen = wlen - klen - 1;
		}
	}
	if (found && len)
		*len = flen;
	return found;
}

bool opt_present(const char *key)
{
	return opt_find(key, NULL);
}

bool opt_is(const char *key, const char *value)
{
	size_t len;
	const char *v = opt_find(key, &len);

	return v && len == strlen(value) && !strncmp(v, value, len);
}

bool parse_uint(const char *v, size_t len, uint64_t *out)
{
	unsigned base = 10, d;
	uint64_t n = 0;
	size_t i = 0;

	if (!v || !len)
		return false;
	if (len > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
		base = 16;
		i = 2;
	}
	for (; i < len; i++) {
		char c = v[i];

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return false;
		/* Does not fit 64 bits (constants only: no 64-bit division
		 * in a 32-bit guest). */
		if (base == 16 ? n >> 60 :
		    n > UINT64_MAX / 10 ||
		    (n == UINT64_MAX / 10 && d > UINT64_MAX % 10))
			return false;
		n = base == 16 ? n << 4 | d : n * 10 + d;
	}
	*out = n;
	return true;
}

bool opt_uint_get(const char *key, uint64_t *out)
{
	size_t len;
	const char *v = opt_find(key, &len);

	return parse_uint(v, len, out);
}

uint64_t opt_uint(const char *key, uint64_t def)
{
	uint64_t v;

	return opt_uint_get(key, &v) ? v : def;
}
