/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef FLATVM_ERROR_H
#define FLATVM_ERROR_H

#include <errno.h>
#include <stdbool.h>
#include "flatvm/compiler.h"

#define ERROR_MSG_MAX	512

/**
 * struct error - a failure explained for a human.
 * @code: the negative errno the failing function returned.
 * @msg: what was wrong and, where it helps, what is expected instead.
 *
 * Functions return 0 or a negative errno; those that can tell the caller
 * more take a struct error * that may be NULL.  The message travels up to
 * the command line or the control socket unchanged.
 */
struct error {
	int code;
	char msg[ERROR_MSG_MAX];
};

/**
 * error_setf() - record a failure and return it as a negative errno.
 * @err: where to record it, or NULL.
 * @errnum: a positive errno value.
 *
 * Return: -@errnum, so callers can write `return error_setf(err, ...)`.
 */
int error_setf(struct error *err, int errnum, const char *fmt, ...) __printf(3, 4);

/** error_prepend() - add context in front of an already recorded message. */
void error_prepend(struct error *err, const char *fmt, ...) __printf(2, 3);

static inline void error_clear(struct error *err)
{
	if (err) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}

static inline bool error_is_set(const struct error *err)
{
	return err && err->code;
}

/* Logging.  Guest- and client-triggered conditions use the _once or
 * _ratelimited forms so a hostile guest cannot flood the log. */
enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_msg(enum log_level level, const char *fmt, ...) __printf(2, 3);
void log_set_level(enum log_level level);

#define pr_err(...)	log_msg(LOG_ERR, __VA_ARGS__)
#define pr_warn(...)	log_msg(LOG_WARN, __VA_ARGS__)
#define pr_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...)	log_msg(LOG_DEBUG, __VA_ARGS__)

#define pr_warn_once(...)						\
	do {								\
		static bool __warned;					\
		if (!__atomic_exchange_n(&__warned, true,		\
					 __ATOMIC_RELAXED))		\
			log_msg(LOG_WARN, __VA_ARGS__);			\
	} while (0)

#endif /* FLATVM_ERROR_H */
