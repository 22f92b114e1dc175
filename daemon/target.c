/*
 * target.c: the one request-target parser (target.h).
 */
#include "target.h"

#include <string.h>

/* unreserved / sub-delims / '%' (pct-encoded is checked by the caller of
 * the characters, not here): the bytes of a reg-name.
 */
static bool
target_regname_char(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return strchr("-._~!$&'()*+,;=%", c) != NULL && c != '\0';
}

static bool
target_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

static int
target_fail(const char **why, const char *reason)
{
	if (why != NULL)
		*why = reason;
	return 400;
}

/* authority = host [ ":" port ], host = IP-literal / reg-name (an IPv4
 * address is a reg-name here). No userinfo, no empty host; <need_port>
 * for CONNECT.
 */
static int
target_authority(struct str a, bool need_port, const char **why)
{
	size_t i = 0, j;

	if (a.len == 0)
		return target_fail(why, "empty authority in request target");
	if (memchr(a.p, '@', a.len) != NULL)
		return target_fail(why, "userinfo in request target");
	if (a.p[0] == '[') {
		for (i = 1; i < a.len && a.p[i] != ']'; i++) {
			unsigned char c = (unsigned char)a.p[i];

			if (!target_hex(c) && c != ':' && c != '.' &&
			    !target_regname_char(c))
				return target_fail(why,
				    "invalid IP literal in request target");
		}
		if (i >= a.len || i == 1)
			return target_fail(why,
			    "invalid IP literal in request target");
		i++; /* past ']' */
	} else {
		for (; i < a.len && a.p[i] != ':'; i++) {
			unsigned char c = (unsigned char)a.p[i];

			if (!target_regname_char(c))
				return target_fail(why,
				    "invalid host in request target");
			if (c == '%' &&
			    (i + 2 >= a.len ||
			        !target_hex((unsigned char)a.p[i + 1]) ||
			        !target_hex((unsigned char)a.p[i + 2])))
				return target_fail(why,
				    "invalid host in request target");
		}
		if (i == 0)
			return target_fail(why, "empty host in request target");
	}
	if (i == a.len) {
		if (need_port)
			return target_fail(why,
			    "CONNECT target without a port");
		return 0;
	}
	if (a.p[i] != ':')
		return target_fail(why, "invalid authority in request target");
	if (need_port && i + 1 == a.len)
		return target_fail(why, "CONNECT target without a port");
	{
		unsigned long port = 0;

		for (j = i + 1; j < a.len; j++) {
			if (a.p[j] < '0' || a.p[j] > '9')
				return target_fail(why,
				    "invalid port in request target");
			port = port * 10 + (unsigned long)(a.p[j] - '0');
			if (port > 65535)
				return target_fail(why,
				    "invalid port in request target");
		}
	}
	return 0;
}

/* Splits path-abempty [ "?" query ] at the first '?'. */
static void
target_split_query(struct str rest, struct target *out)
{
	const char *q = rest.len > 0 ? memchr(rest.p, '?', rest.len) : NULL;

	if (q == NULL) {
		out->path = rest;
		out->query = str_make(rest.p + rest.len, 0);
	} else {
		out->path = str_make(rest.p, (size_t)(q - rest.p));
		out->query = str_make(q, rest.len - (size_t)(q - rest.p));
	}
}

/* Length of a URI scheme at the start of <t> followed by ':', or 0. */
static size_t
target_scheme_len(struct str t)
{
	size_t i;

	if (t.len == 0 ||
	    !((t.p[0] >= 'a' && t.p[0] <= 'z') ||
	        (t.p[0] >= 'A' && t.p[0] <= 'Z')))
		return 0;
	for (i = 1; i < t.len; i++) {
		char c = t.p[i];

		if (c == ':')
			return i;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        (c >= '0' && c <= '9') || c == '+' || c == '-' ||
		        c == '.'))
			return 0;
	}
	return 0;
}

int
target_parse(struct str t, bool connect, bool options, struct target *out,
    const char **why)
{
	size_t i, slen;

	memset(out, 0, sizeof(*out));
	out->form = TARGET_ORIGIN;
	out->authority = STR_NULL;
	if (t.len == 0)
		return target_fail(why, "empty request target");
	for (i = 0; i < t.len; i++) {
		unsigned char c = (unsigned char)t.p[i];

		if (c <= 0x20 || c >= 0x7f)
			return target_fail(why,
			    "invalid byte in request target");
		if (c == '#')
			return target_fail(why, "fragment in request target");
	}
	if (connect) {
		/* authority-form only (RFC 9112 3.2.3) */
		if (target_authority(t, true, why) != 0)
			return 400;
		out->form = TARGET_AUTHORITY;
		out->authority = t;
		out->path = STR_NULL;
		out->query = STR_NULL;
		return 0;
	}
	if (t.p[0] == '/') {
		target_split_query(t, out);
		return 0;
	}
	if (t.len == 1 && t.p[0] == '*') {
		if (!options)
			return target_fail(why, "'*' target without OPTIONS");
		out->form = TARGET_ASTERISK;
		out->path = t;
		out->query = str_make(t.p + 1, 0);
		return 0;
	}
	slen = target_scheme_len(t);
	if (slen == 0)
		return target_fail(why, "invalid request target");
	if (slen == 4 && strncasecmp(t.p, "http", 4) == 0)
		out->https = false;
	else if (slen == 5 && strncasecmp(t.p, "https", 5) == 0)
		out->https = true;
	else
		return target_fail(why, "scheme other than http(s) in target");
	if (t.len < slen + 3 || t.p[slen + 1] != '/' || t.p[slen + 2] != '/')
		return target_fail(why, "absolute target without authority");
	for (i = slen + 3; i < t.len && t.p[i] != '/' && t.p[i] != '?'; i++)
		;
	out->form = TARGET_ABSOLUTE;
	out->authority = str_make(t.p + slen + 3, i - slen - 3);
	if (target_authority(out->authority, false, why) != 0)
		return 400;
	target_split_query(str_make(t.p + i, t.len - i), out);
	if (out->path.len == 0)
		out->path = STR_LIT("/");
	return 0;
}

struct str
target_authority_host(struct str a)
{
	const char *e;

	if (a.len == 0)
		return str_make(a.p, 0);
	if (a.p[0] == '[') {
		e = memchr(a.p, ']', a.len);
		return e != NULL ? str_make(a.p, (size_t)(e - a.p) + 1) : a;
	}
	e = memchr(a.p, ':', a.len);
	return e != NULL ? str_make(a.p, (size_t)(e - a.p)) : a;
}
