// SPDX-License-Identifier: GPL-2.0-only
/*
 * flatvm-bench report: the parser of the histogram the probe prints on
 * its console with "hist" (tests/guests/probe.h):
 *
 *   probe: cpu=I kind=K width=W target=0xT count=N loop=TICKS
 *   probe: cpu=I hist=samples L:C L:C ...
 *   probe: cpu=I hist=empty L:C ...
 *   probe: cpu=I end
 *
 * Buckets are log-linear, four per power of two (values below 8 exact);
 * L is a bucket's lower bound in ticks.  Everything is checked: a
 * console is guest output, and a report built on a garbled line would
 * mislead.  Other console lines are skipped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "report.h"

#define PREFIX		"probe: cpu="

/* The lower bound after @lower's bucket; 0 when @lower is no bound. */
static uint64_t bucket_next(uint32_t lower)
{
	unsigned e;

	if (lower < 8)
		return lower + 1;
	e = 31 - (unsigned)__builtin_clz(lower);
	if (lower & ((1u << (e - 2)) - 1))
		return 0;
	return (uint64_t)lower + (1u << (e - 2));
}

static int kind_of(const char *s, size_t len)
{
	unsigned k;

	for (k = 0; k < PROBE_NR_KINDS; k++)
		if (strlen(probe_kind_name(k)) == len &&
		    !strncmp(probe_kind_name(k), s, len))
			return (int)k;
	return -1;
}

/* Does [p, end) start with @word? */
static bool starts(const char *p, const char *end, const char *word)
{
	size_t n = strlen(word);

	return (size_t)(end - p) >= n && !strncmp(p, word, n);
}

/*
 * "name=" at *p, then a number: decimal digits, or with @hex "0x" and hex
 * digits, nothing else (the probe prints exactly these); *p moves past it.
 */
static int field_u64(const char **p, const char *end, const char *name,
		     bool hex, uint64_t *out)
{
	size_t n = strlen(name), len;
	char buf[24], *e;

	while (*p < end && **p == ' ')
		(*p)++;
	if (!starts(*p, end, name) || *p + n >= end || (*p)[n] != '=')
		return -1;
	*p += n + 1;
	for (len = 0; *p + len < end && (*p)[len] != ' '; len++)
		;
	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, *p, len);
	buf[len] = '\0';
	if (hex ? (len < 3 || strncmp(buf, "0x", 2) ||
		   strspn(buf + 2, "0123456789abcdefABCDEF") != len - 2) :
		  (!len || strspn(buf, "0123456789") != len))
		return -1;
	errno = 0;
	*out = strtoull(buf, &e, hex ? 16 : 10);
	if (errno)
		return -1;
	*p += len;
	return 0;
}

static int bad(struct error *err, unsigned lineno, const char *line,
	       size_t len, const char *expected)
{
	return error_setf(err, EPROTO,
			  "probe console line %u '%.*s': %s", lineno,
			  (int)(len > 120 ? 120 : len), line, expected);
}

/* Why a bucket list was refused; NULL if it was not. */
static const char *parse_buckets(const char *p, const char *end,
				 struct probe_hist_bucket *b, unsigned *n)
{
	unsigned long long lower, count;
	char tok[48], *colon, *e;
	uint64_t sum = 0;
	unsigned i;
	size_t len;

	for (i = 0; i < *n; i++)
		sum += b[i].count;
	for (;;) {
		while (p < end && *p == ' ')
			p++;
		if (p == end)
			return NULL;
		for (len = 0; p + len < end && p[len] != ' '; len++)
			;
		if (len >= sizeof(tok))
			return "a LOWER:COUNT pair too long to be one";
		memcpy(tok, p, len);
		tok[len] = '\0';
		p += len;
		colon = strchr(tok, ':');
		if (!colon || colon == tok || !colon[1] ||
		    strspn(tok, "0123456789") != (size_t)(colon - tok) ||
		    strspn(colon + 1, "0123456789") != strlen(colon + 1))
			return "expected LOWER:COUNT pairs of decimal numbers";
		errno = 0;
		lower = strtoull(tok, &e, 10);
		count = strtoull(colon + 1, &e, 10);
		if (errno || lower > UINT32_MAX)
			return "a number out of range";
		if (!bucket_next((uint32_t)lower))
			return "a lower bound that is not one of the probe's buckets (0-7, then four per power of two)";
		if (!count)
			return "a bucket with a count of 0 (the probe prints non-empty buckets only)";
		if (*n && b[*n - 1].lower >= lower)
			return "buckets not in ascending order";
		if (*n == PROBE_HIST_MAX_BUCKETS)
			return "more buckets than there are";
		if (sum + count < sum)
			return "bucket counts that overflow";
		sum += count;
		b[*n].lower = (uint32_t)lower;
		b[*n].count = count;
		(*n)++;
	}
}

static uint64_t total(const struct probe_hist_bucket *b, unsigned n)
{
	uint64_t t = 0;
	unsigned i;

	for (i = 0; i < n; i++)
		t += b[i].count;
	return t;
}

static int parse_line(const char *line, size_t len, unsigned lineno,
		      struct probe_hist *hs, struct error *err)
{
	const char *p = line + strlen(PREFIX) - strlen("cpu="), *end = line + len;
	const char *word, *why;
	uint64_t cpu, v;
	struct probe_hist *h;
	size_t wl;
	int k;

	if (field_u64(&p, end, "cpu", false, &cpu) || cpu >= PROBE_MAX_CPUS)
		return bad(err, lineno, line, len,
			   "expected cpu=I with I below the probe's CPU limit");
	h = &hs[cpu];
	while (p < end && *p == ' ')
		p++;
	if (starts(p, end, "kind=")) {
		if (h->seen)
			return bad(err, lineno, line, len,
				   "a second header for this CPU");
		word = p + 5;
		for (wl = 0; word + wl < end && word[wl] != ' '; wl++)
			;
		k = kind_of(word, wl);
		if (k < 0)
			return bad(err, lineno, line, len,
				   "expected kind=none|pio-read|pio-write|mmio-read|mmio-write|ioeventfd");
		h->kind = (unsigned)k;
		p = word + wl;
		if (field_u64(&p, end, "width", false, &v) ||
		    (v != 1 && v != 2 && v != 4))
			return bad(err, lineno, line, len,
				   "expected width=1, 2 or 4");
		h->width = (unsigned)v;
		if (field_u64(&p, end, "target", true, &v) || v > UINT32_MAX)
			return bad(err, lineno, line, len,
				   "expected target=0xADDRESS (hex, 32 bits)");
		h->target = (uint32_t)v;
		if (field_u64(&p, end, "count", false, &h->count) ||
		    field_u64(&p, end, "loop", false, &h->loop))
			return bad(err, lineno, line, len,
				   "expected count=N loop=TICKS (decimal)");
		while (p < end && *p == ' ')
			p++;
		if (p != end)
			return bad(err, lineno, line, len,
				   "unexpected words after loop=");
		h->cpu = (unsigned)cpu;
		h->seen = true;
		return 0;
	}
	if (!h->seen || h->ended)
		return bad(err, lineno, line, len,
			   h->ended ? "a line after this CPU's end line" :
				      "a histogram line before this CPU's header line");
	if (starts(p, end, "hist=samples") &&
	    (p + 12 == end || p[12] == ' ')) {
		why = parse_buckets(p + 12, end, h->samples, &h->nsamples);
		return why ? bad(err, lineno, line, len, why) : 0;
	}
	if (starts(p, end, "hist=empty") && (p + 10 == end || p[10] == ' ')) {
		why = parse_buckets(p + 10, end, h->empty, &h->nempty);
		return why ? bad(err, lineno, line, len, why) : 0;
	}
	if (starts(p, end, "end") && p + 3 == end) {
		if (total(h->samples, h->nsamples) != h->count)
			return bad(err, lineno, line, len,
				   "the sample buckets do not add up to the header's count");
		h->ended = true;
		return 0;
	}
	return bad(err, lineno, line, len,
		   "expected kind=..., hist=samples ..., hist=empty ... or end");
}

int probe_hist_parse(const char *text, size_t len, struct probe_hist *h,
		     struct error *err)
{
	const char *p = text, *end = text + len, *nl;
	unsigned lineno = 0, i;
	size_t l;
	int ret, n = 0;

	memset(h, 0, sizeof(*h) * PROBE_MAX_CPUS);
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		l = (size_t)((nl ? nl : end) - p);
		lineno++;
		/* Serial consoles may end lines with CR LF. */
		if (l && p[l - 1] == '\r')
			l--;
		if (starts(p, p + l, PREFIX)) {
			ret = parse_line(p, l, lineno, h, err);
			if (ret)
				return ret;
		}
		p = nl ? nl + 1 : end;
	}
	for (i = 0; i < PROBE_MAX_CPUS; i++) {
		if (h[i].seen && !h[i].ended)
			return error_setf(err, EPROTO,
					  "probe console: CPU %u's histogram has no end line (output cut short?)",
					  i);
		n += h[i].ended;
	}
	return n;
}

uint32_t probe_hist_quantile(const struct probe_hist_bucket *b, unsigned n,
			     double p, uint32_t *upper)
{
	uint64_t t = total(b, n), rank, seen = 0;
	unsigned i;

	*upper = 0;
	if (!t)
		return 0;
	rank = bench_rank(t, p);	/* nearest rank, as the samples' */
	for (i = 0; i < n; i++) {
		seen += b[i].count;
		if (seen > rank)
			break;
	}
	if (i == n)
		i = n - 1;
	*upper = (uint32_t)(bucket_next(b[i].lower) > UINT32_MAX ?
			    UINT32_MAX : bucket_next(b[i].lower));
	return b[i].lower;
}
