/*
 * log.h: the daemon's error log (not the access log).
 *
 * One line per event on stderr: "<iso time> [<level>] <message>". The verbs
 * are relayd's: log_warn() appends ": strerror(errno)", log_warnx() does
 * not; fatal()/fatalx() log at crit and exit(1). Messages are lowercase,
 * name the object, and stay on one source line so git grep finds them.
 * Safe from any thread: each line is one write(2).
 */
#ifndef GH_LOG_H
#define GH_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LVL_CRIT = 0,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

/* Parses "crit", "warn", "info", "debug"; returns -1 when unknown. */
int log_level_parse(const char *s);
void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);

void log_msg(enum log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level lvl, int errnum, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#define log_enabled(lvl) ((lvl) <= log_get_level())

#endif
