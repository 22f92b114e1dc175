/*
 * normalize.c: request paths and Host values reduced to one meaning
 * (RFC 3986 6.2.2 and 5.2.4; see normalize.h).
 *
 * norm_path() works in two passes over <out>: the first copies <in>,
 * decoding escapes of unreserved characters, uppercasing the others and
 * refusing the dangerous ones; the second removes dot segments in place
 * (the write position never passes the read position). Decoding comes
 * first so that "%2e%2e" is removed like "..".
 */
#include "normalize.h"

#include <arpa/inet.h>

#include <stdbool.h>
#include <string.h>

static int
norm_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* RFC 3986 2.3: ALPHA / DIGIT / "-" / "." / "_" / "~". */
static bool
norm_is_unreserved(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

/* RFC 3986 2.2 sub-delims. */
static bool
norm_is_subdelim(int c)
{
	return c != '\0' && strchr("!$&'()*+,;=", c) != NULL;
}

/* Pass 1: escapes. Writes at most in.len bytes to <out>. */
static enum norm_err
norm_decode(struct str in, char *out, size_t *len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, w = 0;
	int hi, lo, c;

	for (i = 0; i < in.len; i++) {
		c = (unsigned char)in.p[i];
		if (c == '\\')
			return NORM_BACKSLASH;
		if (c == '\0')
			return NORM_NUL;
		if (c != '%') {
			out[w++] = (char)c;
			continue;
		}
		if (in.len - i < 3)
			return NORM_BAD_ESCAPE;
		hi = norm_hexval(in.p[i + 1]);
		lo = norm_hexval(in.p[i + 2]);
		if (hi < 0 || lo < 0)
			return NORM_BAD_ESCAPE;
		c = hi * 16 + lo;
		i += 2;
		if (c == '/')
			return NORM_ENC_SLASH;
		if (c == '\\')
			return NORM_ENC_BACKSLASH;
		if (c == '\0')
			return NORM_NUL;
		if (norm_is_unreserved(c)) {
			out[w++] = (char)c;
			continue;
		}
		out[w++] = '%';
		out[w++] = hex[hi];
		out[w++] = hex[lo];
	}
	*len = w;
	return NORM_OK;
}

/* Pass 2: RFC 3986 5.2.4 on an absolute path, in place. The output is a
 * run of "/segment"s; "." is dropped and ".." drops the last one, and
 * either leaves a trailing "/" when it ends the path.
 */
static size_t
norm_remove_dots(char *p, size_t n)
{
	size_t i = 0, j, w = 0, seg;

	while (i < n) {
		/* p[i] == '/' */
		for (j = i + 1; j < n && p[j] != '/'; j++)
			;
		seg = j - i - 1;
		if ((seg == 1 && p[i + 1] == '.') ||
		    (seg == 2 && p[i + 1] == '.' && p[i + 2] == '.')) {
			if (seg == 2)
				while (w > 0 && p[--w] != '/')
					;
			if (j == n)
				p[w++] = '/';
		} else {
			memmove(p + w, p + i, j - i);
			w += j - i;
		}
		i = j;
	}
	if (w == 0)
		p[w++] = '/';
	return w;
}

enum norm_err
norm_path(struct str in, char *out, size_t cap, size_t *out_len)
{
	enum norm_err e;
	size_t n;

	*out_len = 0;
	if (cap < (in.len > 0 ? in.len : 1))
		return NORM_TOO_LONG;
	if (in.len == 0) {
		out[0] = '/';
		*out_len = 1;
		return NORM_OK;
	}
	if (in.p[0] != '/')
		return NORM_NOT_ABSOLUTE;
	if ((e = norm_decode(in, out, &n)) != NORM_OK)
		return e;
	*out_len = norm_remove_dots(out, n);
	return NORM_OK;
}

/* ":" *DIGIT, at most 65535; an empty port is allowed (RFC 3986 3.2.3). */
static bool
norm_port_ok(struct str s)
{
	unsigned long v = 0;
	size_t i;

	for (i = 1; i < s.len; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(s.p[i] - '0');
		if (v > 65535)
			return false;
	}
	return true;
}

enum norm_err
norm_host(struct str in, char *out, size_t cap, size_t *out_len)
{
	struct str s = str_trim(in), port;
	char v6[64];
	struct in6_addr a6;
	const char *close;
	size_t i, hl;
	int c;

	*out_len = 0;
	if (s.len == 0)
		return NORM_BAD_HOST;
	if (s.len > NORM_HOST_MAX || s.len > cap)
		return NORM_TOO_LONG;
	if (s.p[0] == '[') {
		close = memchr(s.p, ']', s.len);
		if (close == NULL)
			return NORM_BAD_HOST;
		hl = (size_t)(close - s.p) + 1;
		if (hl - 2 == 0 || hl - 2 >= sizeof(v6))
			return NORM_BAD_HOST;
		memcpy(v6, s.p + 1, hl - 2);
		v6[hl - 2] = '\0';
		if (inet_pton(AF_INET6, v6, &a6) != 1)
			return NORM_BAD_HOST;
	} else {
		for (hl = 0; hl < s.len && s.p[hl] != ':'; hl++) {
			c = (unsigned char)s.p[hl];
			if (!norm_is_unreserved(c) && !norm_is_subdelim(c))
				return NORM_BAD_HOST;
		}
		if (hl == 0)
			return NORM_BAD_HOST;
	}
	port = str_make(s.p + hl, s.len - hl);
	if (port.len > 0 && (port.p[0] != ':' || !norm_port_ok(port)))
		return port.p[0] != ':' ? NORM_BAD_HOST : NORM_BAD_PORT;
	for (i = 0; i < s.len; i++) {
		c = (unsigned char)s.p[i];
		out[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	*out_len = s.len;
	return NORM_OK;
}

const char *
norm_strerror(enum norm_err e)
{
	switch (e) {
	case NORM_OK:
		return "ok";
	case NORM_ENC_SLASH:
		return "encoded slash";
	case NORM_BACKSLASH:
		return "backslash";
	case NORM_ENC_BACKSLASH:
		return "encoded backslash";
	case NORM_NUL:
		return "encoded NUL";
	case NORM_BAD_ESCAPE:
		return "invalid percent-escape";
	case NORM_NOT_ABSOLUTE:
		return "path not absolute";
	case NORM_BAD_HOST:
		return "invalid host";
	case NORM_BAD_PORT:
		return "invalid port";
	case NORM_TOO_LONG:
		return "too long";
	}
	return "?";
}
