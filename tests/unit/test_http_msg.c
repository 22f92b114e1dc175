/*
 * test_http_msg.c: message heads: buffer spans, header lookups, reuse.
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* cmocka.h needs stdarg.h, stddef.h and setjmp.h first. */
#include <cmocka.h>

#include "http_msg.h"

/* Appends "name: value" as two spans and adds the header. */
static void
add(struct http_msg *m, const char *name, const char *value)
{
	int64_t no, vo;
	struct http_span n, v;

	no = http_msg_append(m, name, strlen(name));
	vo = http_msg_append(m, value, strlen(value));
	assert_true(no >= 0 && vo >= 0);
	n.off = (uint32_t)no;
	n.len = (uint32_t)strlen(name);
	v.off = (uint32_t)vo;
	v.len = (uint32_t)strlen(value);
	assert_int_equal(http_msg_add_header(m, n, v), 0);
}

static void
test_spans_survive_growth(void **state)
{
	struct http_msg m;
	char big[5000];
	int i;

	http_msg_init(&m);
	add(&m, "Host", "a.test");
	memset(big, 'x', sizeof(big));
	/* Force the buffer to move several times. */
	for (i = 0; i < 20; i++) {
		assert_true(http_msg_append(&m, big, sizeof(big)) >= 0);
	}
	assert_true(m.len == 10 + 20 * sizeof(big));
	assert_true(str_eq(http_msg_hname(&m, 0), STR_LIT("Host")));
	assert_true(str_eq(http_msg_hvalue(&m, 0), STR_LIT("a.test")));
	http_msg_fini(&m);
}

static void
test_lookups(void **state)
{
	struct http_msg m;

	http_msg_init(&m);
	add(&m, "Host", "a.test");
	add(&m, "Connection", "keep-alive, Upgrade");
	add(&m, "set-cookie", "a=1");
	add(&m, "Set-Cookie", "b=2");
	add(&m, "X-Empty", "");
	add(&m, "Cache-Control", "no-cache,  no-store ,max-age=0");

	assert_int_equal(http_msg_find(&m, "HOST", 0), 0);
	assert_int_equal(http_msg_find(&m, "host", 1), -1);
	assert_int_equal(http_msg_find(&m, "set-cookie", 0), 2);
	assert_int_equal(http_msg_find(&m, "set-cookie", 3), 3);
	assert_int_equal(http_msg_find(&m, "Absent", 0), -1);
	assert_int_equal(http_msg_find(&m, "Hos", 0), -1);
	assert_int_equal(http_msg_count(&m, "SET-COOKIE"), 2);
	assert_int_equal(http_msg_count(&m, "host"), 1);
	assert_int_equal(http_msg_count(&m, "nope"), 0);
	assert_true(str_eq(http_msg_get(&m, "set-cookie"), STR_LIT("a=1")));
	assert_null(http_msg_get(&m, "nope").p);
	assert_int_equal(http_msg_get(&m, "x-empty").len, 0);
	assert_true(http_msg_has_token(&m, "connection", "upgrade"));
	assert_true(http_msg_has_token(&m, "Connection", "KEEP-ALIVE"));
	assert_false(http_msg_has_token(&m, "connection", "close"));
	assert_false(http_msg_has_token(&m, "connection", "keep"));
	assert_true(http_msg_has_token(&m, "cache-control", "no-store"));
	assert_true(http_msg_has_token(&m, "cache-control", "max-age=0"));
	assert_false(http_msg_has_token(&m, "absent", "x"));
	assert_false(http_msg_has_token(&m, "x-empty", ""));
	assert_true(str_eq(http_msg_host(&m), STR_LIT("a.test")));
	http_msg_fini(&m);
}

/* The first Host header is kept as it is added, whatever its case and
 * place, and forgotten by a reset.
 */
static void
test_host(void **state)
{
	struct http_msg m;

	(void)state;
	http_msg_init(&m);
	assert_null(http_msg_host(&m).p);
	add(&m, "Hostx", "no");
	add(&m, "Hos", "no");
	add(&m, "hOsT", "first.test");
	add(&m, "Host", "second.test");
	assert_true(str_eq(http_msg_host(&m), STR_LIT("first.test")));
	assert_true(str_eq(http_msg_host(&m), http_msg_get(&m, "host")));
	http_msg_reset(&m);
	assert_null(http_msg_host(&m).p);
	add(&m, "Accept", "*/*");
	assert_null(http_msg_host(&m).p);
	add(&m, "HOST", "");
	assert_non_null(http_msg_host(&m).p);
	assert_int_equal(http_msg_host(&m).len, 0);
	http_msg_fini(&m);
}

static void
test_reset_keeps_allocations(void **state)
{
	struct http_msg m;
	char *buf;
	struct http_hdr *hdrs;
	size_t cap, hcap;
	int i;

	http_msg_init(&m);
	for (i = 0; i < 40; i++)
		add(&m, "X-Header", "value");
	m.flags = HTTP_MSG_F_CHUNKED;
	m.status = 200;
	m.content_length = 5;
	buf = m.buf;
	hdrs = m.hdrs;
	cap = m.cap;
	hcap = m.hcap;
	http_msg_reset(&m);
	assert_int_equal(m.magic, HTTP_MSG_MAGIC);
	assert_int_equal(m.len, 0);
	assert_int_equal(m.nhdrs, 0);
	assert_int_equal(m.flags, 0);
	assert_int_equal(m.status, 0);
	assert_int_equal(m.content_length, 0);
	assert_ptr_equal(m.buf, buf);
	assert_ptr_equal(m.hdrs, hdrs);
	assert_int_equal(m.cap, cap);
	assert_int_equal(m.hcap, hcap);
	for (i = 0; i < 40; i++)
		add(&m, "X-Header", "value");
	assert_ptr_equal(m.buf, buf);
	assert_ptr_equal(m.hdrs, hdrs);
	assert_int_equal(http_msg_count(&m, "x-header"), 40);
	http_msg_fini(&m);
}

static void
test_append_limits(void **state)
{
	struct http_msg m;

	http_msg_init(&m);
	assert_int_equal(http_msg_append(&m, "", 0), 0);
	assert_int_equal(http_msg_append(&m, "ab", 2), 0);
	assert_int_equal(http_msg_append(&m, "cd", 2), 2);
	/* Spans are 32-bit: a message can never outgrow them. */
	assert_int_equal(http_msg_append(&m, "x", (size_t)UINT32_MAX), -1);
	assert_int_equal(m.len, 4);
	assert_memory_equal(m.buf, "abcd", 4);
	http_msg_fini(&m);
}

/* str_caseeq() against the C locale's tolower(), byte pair by byte
 * pair: only ASCII letters match their other case; and every byte of
 * the length counts, a NUL too.
 */
static void
test_caseeq(void **state)
{
	unsigned a, b;

	(void)state;
	for (a = 0; a < 256; a++) {
		for (b = 0; b < 256; b++) {
			char x[2] = { (char)a, 'k' }, y[2] = { (char)b, 'K' };
			bool want = a == b ||
			    (a < 128 && b < 128 &&
			        tolower((int)a) == tolower((int)b));

			if (str_caseeq(str_make(x, 2), str_make(y, 2)) != want)
				fail_msg("bytes %u and %u", a, b);
		}
	}
	assert_true(str_caseeq(STR_LIT("X-Forwarded-FOR"),
	    STR_LIT("x-forwarded-for")));
	assert_false(str_caseeq(STR_LIT("host"), STR_LIT("hosts")));
	assert_true(str_caseeq(STR_NULL, STR_LIT("")));
	assert_false(str_caseeq(str_make("a\0b", 3), str_make("a\0c", 3)));
	assert_true(str_caseeq_cstr(STR_LIT("Content-Length"),
	    "content-length"));
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_caseeq),
		cmocka_unit_test(test_spans_survive_growth),
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_host),
		cmocka_unit_test(test_reset_keeps_allocations),
		cmocka_unit_test(test_append_limits),
	};

	return cmocka_run_group_tests_name("http_msg", tests, NULL, NULL);
}
