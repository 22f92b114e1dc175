/*
 * test_hdr_rules.c: header rules (daemon/hdr_rules.c), templates
 * (daemon/tmpl.c) and the rules inside the origin's request head
 * (daemon/rewrite.c): what is dropped, what is written, expansion, the
 * size contract, and request ids.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* cmocka.h needs stdarg.h, stddef.h and setjmp.h first. */
#include <cmocka.h>

#include "cfg_value.h"
#include "hdr_rules.h"
#include "msg_build.h"
#include "rewrite.h"
#include "tmpl.h"

static const struct hdr_rule drop[] = {
	{ STR_LIT("X-Debug"), NULL, false },
	{ STR_LIT("X-Env"), NULL, false },
};
static const struct hdr_rule putv[] = {
	{ STR_LIT("X-Env"), "prod", false },
	{ STR_LIT("Via-Gate"), "{host} {route}", true },
};
static const struct hdr_rules rules = { drop, 2, putv, 2 };

static void
ctx(struct tmpl_ctx *x)
{
	memset(x, 0, sizeof(*x));
	x->v[TMPL_HOST] = STR_LIT("app.test");
	x->v[TMPL_ROUTE] = STR_LIT("r1");
	x->v[TMPL_PATH] = STR_LIT("/a");
	x->v[TMPL_TLS_CLIENT_SUBJECT] = STR_LIT("CN=x\r\nEvil: 1");
}

static void
test_drops(void **state)
{
	(void)state;
	assert_true(hdr_rules_drops(&rules, STR_LIT("x-debug")));
	assert_true(hdr_rules_drops(&rules, STR_LIT("X-ENV")));
	assert_false(hdr_rules_drops(&rules, STR_LIT("X-Debu")));
	assert_false(hdr_rules_drops(&rules, STR_LIT("Via-Gate")));
}

static void
test_write_and_size_contract(void **state)
{
	const char *want = "X-Env: prod\r\nVia-Gate: app.test r1\r\n";
	struct tmpl_ctx x;
	char buf[128];
	size_t n, cap;

	(void)state;
	ctx(&x);
	n = hdr_rules_write(&rules, &x, buf, sizeof(buf));
	assert_int_equal(n, strlen(want));
	buf[n] = '\0';
	assert_string_equal(buf, want);
	for (cap = 0; cap < n; cap++)
		assert_int_equal(hdr_rules_write(&rules, &x, buf, cap), n);
}

static void
test_template(void **state)
{
	struct tmpl_ctx x;
	char buf[64], msg[256];
	size_t n;

	(void)state;
	ctx(&x);
	/* values are cleaned of control characters: no header injection */
	n = tmpl_expand("s={tls_client_subject}", &x, buf, sizeof(buf));
	buf[n] = '\0';
	assert_string_equal(buf, "s=CN=xEvil: 1");
	n = tmpl_expand("https://{host}{path}", &x, buf, sizeof(buf));
	buf[n] = '\0';
	assert_string_equal(buf, "https://app.test/a");
	assert_int_equal(tmpl_check("{host}{path}{client_ip}", msg, 256), 0);
	assert_int_equal(tmpl_check("{nope}", msg, 256), -1);
	assert_int_equal(tmpl_check("{host", msg, 256), -1);
	assert_int_equal(tmpl_check("a\r\nb", msg, 256), -1);
	assert_int_equal(tmpl_check("a\nb", msg, 256), -1);
	assert_int_equal(tmpl_check("tab\tok", msg, 256), 0);
}

static void
test_value_types(void **state)
{
	char msg[256];

	(void)state;
	assert_int_equal(cv_check(CV_HEADER_NAME, "X-Env", msg, 256), 0);
	assert_int_equal(cv_check(CV_HEADER_NAME, "X Env", msg, 256), -1);
	assert_int_equal(cv_check(CV_HEADER_NAME, "", msg, 256), -1);
	assert_int_equal(cv_check(CV_HEADER_SETTABLE, "X-Env", msg, 256), 0);
	assert_int_equal(cv_check(CV_HEADER_SETTABLE, "Connection", msg, 256),
	    -1);
	assert_int_equal(cv_check(CV_HEADER_SETTABLE, "transfer-encoding", msg,
	                     256),
	    -1);
	assert_int_equal(cv_check(CV_HEADER_SETTABLE, "Host", msg, 256), -1);
	assert_int_equal(cv_check(CV_HEADER_SETTABLE, "X-Forwarded-For", msg,
	                     256),
	    -1);
}

static void
test_in_request_head(void **state)
{
	struct rewrite_req rq;
	struct http_msg m;
	struct tmpl_ctx x;
	char buf[1024];
	size_t n;

	(void)state;
	ctx(&x);
	http_msg_init(&m);
	m.method_name = span(&m, "GET");
	add(&m, "Host", "app.test");
	add(&m, "X-Debug", "1");
	add(&m, "x-env", "staging");
	add(&m, "Accept", "*/*");
	memset(&rq, 0, sizeof(rq));
	rq.m = &m;
	rq.path = STR_LIT("/p");
	rq.peer = "192.0.2.7";
	rq.rules = &rules;
	rq.tx = &x;
	rq.request_id = STR_LIT("abc");
	n = rewrite_request_head(&rq, buf, sizeof(buf));
	assert_true(n < sizeof(buf));
	buf[n] = '\0';
	assert_string_equal(buf,
	    "GET /p HTTP/1.1\r\n"
	    "Host: app.test\r\n"
	    "Accept: */*\r\n"
	    "X-Env: prod\r\n"
	    "Via-Gate: app.test r1\r\n"
	    "X-Request-ID: abc\r\n"
	    "X-Forwarded-For: 192.0.2.7\r\n"
	    "X-Forwarded-Proto: http\r\n"
	    "X-Forwarded-Host: app.test\r\n"
	    "\r\n");
	http_msg_fini(&m);
}

static void
test_request_id(void **state)
{
	char a[33], b[33];

	(void)state;
	hdr_rules_request_id_new(a);
	hdr_rules_request_id_new(b);
	assert_int_equal(strlen(a), 32);
	assert_string_not_equal(a, b);
	assert_int_equal(strspn(a, "0123456789abcdef"), 32);
	assert_true(hdr_rules_request_id_ok(STR_LIT("req-1")));
	assert_false(hdr_rules_request_id_ok(STR_LIT("a b")));
	assert_false(hdr_rules_request_id_ok(STR_LIT("")));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_drops),
		cmocka_unit_test(test_write_and_size_contract),
		cmocka_unit_test(test_template),
		cmocka_unit_test(test_value_types),
		cmocka_unit_test(test_in_request_head),
		cmocka_unit_test(test_request_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
