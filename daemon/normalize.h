/*
 * normalize.h: request paths and Host values reduced to one meaning.
 *
 * Pure functions (no I/O, no allocation, no logging): the request path
 * calls them once per request, the unit tests and tests/fuzz/
 * fuzz_normalize.c call them directly.
 *
 * norm_path() normalises a request path as RFC 3986 6.2.2 describes:
 * percent-encoded unreserved characters are decoded, the hex digits of
 * the remaining escapes are uppercased, and dot segments are removed
 * (5.2.4). Inputs that mean different things to different origins are
 * refused instead: an encoded slash (%2F), a backslash, raw or encoded
 * (%5C), an encoded NUL (%00) and a malformed escape. The result is a
 * fixed point: norm_path() of its output returns the output unchanged.
 *
 * norm_host() validates a Host value or an authority: an RFC 3986
 * reg-name (unreserved and sub-delims only: no percent-escapes, no
 * userinfo, no spaces), an IPv4 address (a reg-name syntactically) or a
 * bracketed IPv6 literal, then an optional ":port" of digits; the result
 * is lowercased.
 */
#ifndef GH_NORMALIZE_H
#define GH_NORMALIZE_H

#include <stddef.h>

#include "str.h"

enum norm_err {
	NORM_OK = 0,
	NORM_ENC_SLASH,     /* %2F */
	NORM_BACKSLASH,     /* '\' */
	NORM_ENC_BACKSLASH, /* %5C */
	NORM_NUL,           /* %00 */
	NORM_BAD_ESCAPE,    /* '%' without two hex digits */
	NORM_NOT_ABSOLUTE,  /* does not start with '/' */
	NORM_BAD_HOST,      /* not a reg-name, IPv4 or [IPv6] literal */
	NORM_BAD_PORT,      /* port not digits or above 65535 */
	NORM_TOO_LONG,      /* does not fit the output buffer */
};

/* Longest Host value norm_host() accepts (name, brackets and port). */
#define NORM_HOST_MAX 262

/* Normalises the path <in> (no query, no fragment) into <out>, which
 * holds <cap> bytes; an empty path becomes "/". The output is never
 * longer than max(in.len, 1), and is not NUL-terminated. On NORM_OK
 * *<out_len> is its length; otherwise *<out_len> is 0 and the request is
 * refused (400).
 */
enum norm_err norm_path(struct str in, char *out, size_t cap, size_t *out_len);

/* Validates and lowercases the Host value or authority <in> (optional
 * whitespace around it ignored) into <out>, which holds <cap> bytes
 * (NORM_HOST_MAX is always enough). On NORM_OK *<out_len> is the length
 * of "host[:port]"; otherwise *<out_len> is 0.
 */
enum norm_err norm_host(struct str in, char *out, size_t cap, size_t *out_len);

/* A short, stable name for <e>, for logs and tests ("encoded slash"). */
const char *norm_strerror(enum norm_err e);

#endif
