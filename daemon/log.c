/*
 * log.c: error log lines to stderr, one write(2) per line.
 */
#include "log.h"

#include <sys/time.h>

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "log_ring.h"

static _Atomic int log_level = LOG_LVL_INFO;

static const char *const log_names[] = { "crit", "warn", "info", "debug" };

int
log_level_parse(const char *s)
{
	size_t i;

	for (i = 0; i < NELEM(log_names); i++)
		if (strcmp(s, log_names[i]) == 0)
			return (int)i;
	return -1;
}

void
log_set_level(enum log_level lvl)
{
	atomic_store(&log_level, (int)lvl);
}

enum log_level
log_get_level(void)
{
	return (enum log_level)atomic_load_explicit(&log_level,
	    memory_order_relaxed);
}

void
log_vmsg(enum log_level lvl, int errnum, const char *fmt, va_list ap)
{
	char line[2048];
	struct timeval tv;
	struct tm tm;
	size_t n;
	int r;

	if (!log_enabled(lvl))
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	r = snprintf(line + n, sizeof(line) - n, ".%03dZ [%s] ",
	    (int)(tv.tv_usec / 1000), log_names[lvl]);
	if (r > 0)
		n += (size_t)r;
	r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (r > 0)
		n = n + (size_t)r < sizeof(line) ? n + (size_t)r
		                                 : sizeof(line) - 1;
	if (errnum != 0 && n < sizeof(line) - 1) {
		r = snprintf(line + n, sizeof(line) - n, ": %s",
		    strerror(errnum));
		if (r > 0)
			n = n + (size_t)r < sizeof(line) ? n + (size_t)r
			                                 : sizeof(line) - 1;
	}
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	log_ring_push(LOG_RING_DAEMON, line, n);
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, n);
}

void
log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lvl, 0, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	log_vmsg(LOG_LVL_WARN, e, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LVL_WARN, 0, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LVL_INFO, 0, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LVL_DEBUG, 0, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	log_vmsg(LOG_LVL_CRIT, e, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LVL_CRIT, 0, fmt, ap);
	va_end(ap);
	exit(1);
}

void
check_fail(const char *file, int line, const char *expr)
{
	log_msg(LOG_LVL_CRIT, "assertion failed at %s:%d: %s", file, line,
	    expr);
	abort();
}
