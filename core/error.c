// SPDX-License-Identifier: GPL-2.0-only
/*
 * Errors carried to a human, and the log.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "flatvm/error.h"

static enum log_level log_level = LOG_WARN;

int error_setf(struct error *err, int errnum, const char *fmt, ...)
{
	va_list ap;

	if (errnum < 0)
		errnum = -errnum;
	if (err) {
		err->code = -errnum;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -errnum;
}

void error_prepend(struct error *err, const char *fmt, ...)
{
	char head[ERROR_MSG_MAX];
	size_t hl, ol;
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	hl = strlen(head);
	ol = strlen(err->msg);
	if (hl + ol >= sizeof(err->msg))
		ol = sizeof(err->msg) - 1 - hl;	/* keep the context, cut the tail */
	memmove(err->msg + hl, err->msg, ol);
	memcpy(err->msg, head, hl);
	err->msg[hl + ol] = '\0';
}

void log_set_level(enum log_level level)
{
	__atomic_store_n(&log_level, level, __ATOMIC_RELAXED);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const tag[] = {
		[LOG_ERR] = "error", [LOG_WARN] = "warning",
		[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
	};
	char line[1024];
	va_list ap;

	if (level > __atomic_load_n(&log_level, __ATOMIC_RELAXED))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One write per line so concurrent threads do not interleave. */
	fprintf(stderr, "flatvm: %s: %s\n", tag[level], line);
}
