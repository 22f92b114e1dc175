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

/* Every error of one request, in the order found (a validator that
 * reports all of them at once). At most ERRS_MAX are kept; later ones
 * only count in <n>.
 */
#define ERRS_MAX 64
struct errs {
	struct err v[ERRS_MAX];
	size_t n; /* errors found, possibly more than ERRS_MAX */
};

/* Appends an error to <l>; returns -1 like err_set(). */
int errs_add(struct errs *l, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The first error into <e> (when any); returns -1 when <l> has errors. */
int errs_first(const struct errs *l, struct err *e);

#endif
