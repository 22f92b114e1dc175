/*
 * fuzz_target.c: target_parse() over any bytes.
 *
 * Input: byte 0 picks the method class (bit 0: CONNECT, bit 1: OPTIONS);
 * the rest is the request-target. Checked: every view lies inside the
 * input; a success gives the form's shape (origin and absolute: path
 * starts with '/', query empty or starting with '?', path and query
 * contiguous in the input for origin-form; absolute: authority without
 * '@' and not empty, scheme http(s); no '#', no byte outside 0x21..0x7e);
 * and re-parsing the forwarded origin-form (path + query) gives the same
 * path and query back, so the origin reads what routing read.
 */
#include <string.h>

#include "fuzz.h"
#include "target.h"

static int
fz_inside(struct str s, const uint8_t *data, size_t size)
{
	const char *b = (const char *)data;

	if (s.len == 0)
		return 1;
	if (s.p == NULL)
		return 0;
	/* "/" for an empty absolute path is a literal outside the input */
	if (s.len == 1 && s.p[0] == '/')
		return 1;
	return s.p >= b && s.p + s.len <= b + size;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct target t, u;
	char buf[4096];
	const char *why = NULL;
	bool connect, options;
	struct str in;
	size_t i;
	int rc;

	if (size < 1)
		return 0;
	connect = (data[0] & 1) != 0;
	options = (data[0] & 2) != 0;
	in = str_make((const char *)data + 1, size - 1);
	rc = target_parse(in, connect, options, &t, &why);
	if (rc != 0) {
		FUZZ_CHECK(rc == 400 && why != NULL);
		return 0;
	}
	for (i = 0; i < in.len; i++)
		FUZZ_CHECK(in.p[i] > 0x20 && in.p[i] < 0x7f && in.p[i] != '#');
	FUZZ_CHECK(fz_inside(t.authority, data, size));
	FUZZ_CHECK(fz_inside(t.path, data, size));
	FUZZ_CHECK(fz_inside(t.query, data, size));
	switch (t.form) {
	case TARGET_AUTHORITY:
		FUZZ_CHECK(connect);
		FUZZ_CHECK(str_eq(t.authority, in));
		FUZZ_CHECK(memchr(in.p, '@', in.len) == NULL);
		return 0;
	case TARGET_ASTERISK:
		FUZZ_CHECK(options && !connect && in.len == 1);
		return 0;
	case TARGET_ORIGIN:
		FUZZ_CHECK(!connect && t.authority.p == NULL);
		FUZZ_CHECK(t.path.p == in.p);
		FUZZ_CHECK(t.path.len + t.query.len == in.len);
		break;
	case TARGET_ABSOLUTE:
		FUZZ_CHECK(!connect);
		FUZZ_CHECK(t.authority.len > 0);
		FUZZ_CHECK(memchr(t.authority.p, '@', t.authority.len) == NULL);
		FUZZ_CHECK(strncasecmp(in.p, t.https ? "https://" : "http://",
		               t.https ? 8 : 7) == 0);
		FUZZ_CHECK(t.authority.p == in.p + (t.https ? 8 : 7));
		break;
	}
	FUZZ_CHECK(t.path.len > 0 && t.path.p[0] == '/');
	FUZZ_CHECK(memchr(t.path.p, '?', t.path.len) == NULL);
	FUZZ_CHECK(t.query.len == 0 || t.query.p[0] == '?');
	/* What proxy.c forwards parses to the same path and query. */
	if (t.path.len + t.query.len > sizeof(buf))
		return 0;
	memcpy(buf, t.path.p, t.path.len);
	if (t.query.len > 0)
		memcpy(buf + t.path.len, t.query.p, t.query.len);
	rc = target_parse(str_make(buf, t.path.len + t.query.len), false,
	    options, &u, &why);
	FUZZ_CHECK(rc == 0 && u.form == TARGET_ORIGIN);
	FUZZ_CHECK(str_eq(u.path, t.path) && str_eq(u.query, t.query));
	return 0;
}
