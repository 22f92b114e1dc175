/*
 * err.h: an error with a field path, for config compile and API validation.
 *
 * The path names the offending field the way a user wrote it
 * ("servers[2].port", "routes[app].origin"); the message says what is wrong
 * with it. Both strings are API output, so tests compare them exactly.
 */
#ifndef GH_ERR_H
#define GH_ERR_H

#include <stddef.h>

struct err {
	char field[128]; /* "" when the error is not about one field */
	char msg[384];
};

/* Fills <e> (if not NULL) and returns -1, so callers can
 * `return err_set(e, "port", "%d is not a port", p);`.
 */
int err_set(struct err *e, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void err_clear(struct err *e);

/* "field: msg", or "msg" alone, into <buf>. Returns <buf>. */
const char *err_str(const struct err *e, char *buf, size_t len);

#endif
