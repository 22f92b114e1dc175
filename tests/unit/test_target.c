/*
 * test_target.c: the request-target parser (daemon/target.c): every form,
 * what each gives routing and forwarding, and what is refused with 400.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* cmocka.h needs stdarg.h, stddef.h and setjmp.h first. */
#include <cmocka.h>

#include "target.h"

static int
parse(const char *s, bool connect, bool options, struct target *t)
{
	const char *why = NULL;
	int rc = target_parse(str_cstr(s), connect, options, t, &why);

	if (rc != 0)
		assert_non_null(why);
	return rc;
}

static void
want(struct str got, const char *exp)
{
	if (!str_eq(got, str_cstr(exp)))
		fail_msg("got \"%.*s\", want \"%s\"", (int)got.len, got.p, exp);
}

static void
test_origin_form(void **state)
{
	struct target t;

	(void)state;
	assert_int_equal(parse("/", false, false, &t), 0);
	assert_int_equal(t.form, TARGET_ORIGIN);
	assert_null(t.authority.p);
	want(t.path, "/");
	want(t.query, "");
	assert_int_equal(parse("/a/b?x=1&y=/z?", false, false, &t), 0);
	want(t.path, "/a/b");
	want(t.query, "?x=1&y=/z?");
	assert_int_equal(parse("//double", false, false, &t), 0);
	want(t.path, "//double");
	assert_int_equal(parse("/?", false, false, &t), 0);
	want(t.path, "/");
	want(t.query, "?");
	assert_int_equal(parse("/http://x", false, false, &t), 0);
	want(t.path, "/http://x");
}

/* Every shape of absolute-form gives the origin-form the origin gets. */
static void
test_absolute_form(void **state)
{
	static const struct {
		const char *in, *authority, *path, *query;
		bool https;
	} cases[] = {
		{ "http://a.test", "a.test", "/", "", false },
		{ "http://a.test/", "a.test", "/", "", false },
		{ "http://a.test?q=1", "a.test", "/", "?q=1", false },
		{ "http://a.test/?q=1", "a.test", "/", "?q=1", false },
		{ "http://a.test/p/q?x", "a.test", "/p/q", "?x", false },
		{ "HTTP://A.test:8080/p", "A.test:8080", "/p", "", false },
		{ "https://a.test:443/p", "a.test:443", "/p", "", true },
		{ "HtTpS://a.test", "a.test", "/", "", true },
		{ "http://127.0.0.1:80/x", "127.0.0.1:80", "/x", "", false },
		{ "http://[::1]:8080/x", "[::1]:8080", "/x", "", false },
		{ "http://[::1]", "[::1]", "/", "", false },
		{ "http://a.test:/x", "a.test:", "/x", "", false },
		{ "http://a%41.test/x", "a%41.test", "/x", "", false },
		{ "http://a.test/p?q?r/s", "a.test", "/p", "?q?r/s", false },
	};
	struct target t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (parse(cases[i].in, false, false, &t) != 0)
			fail_msg("refused %s", cases[i].in);
		assert_int_equal(t.form, TARGET_ABSOLUTE);
		assert_int_equal(t.https, cases[i].https);
		want(t.authority, cases[i].authority);
		want(t.path, cases[i].path);
		want(t.query, cases[i].query);
	}
}

static void
test_authority_and_asterisk(void **state)
{
	struct target t;

	(void)state;
	assert_int_equal(parse("a.test:443", true, false, &t), 0);
	assert_int_equal(t.form, TARGET_AUTHORITY);
	want(t.authority, "a.test:443");
	assert_int_equal(parse("[::1]:443", true, false, &t), 0);
	assert_int_equal(parse("a.test", true, false, &t), 400);
	assert_int_equal(parse("a.test:", true, false, &t), 400);
	assert_int_equal(parse("/", true, false, &t), 400);
	assert_int_equal(parse("u@a.test:443", true, false, &t), 400);

	assert_int_equal(parse("*", false, true, &t), 0);
	assert_int_equal(t.form, TARGET_ASTERISK);
	want(t.path, "*");
	assert_int_equal(parse("*", false, false, &t), 400);
	assert_int_equal(parse("*x", false, true, &t), 400);
}

static void
test_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"http://user@a.test/",
		"http://user:pw@a.test/",
		"http://@a.test/",
		"https://a.test@evil.test/",
		"ftp://a.test/",
		"ws://a.test/",
		"file:///etc/passwd",
		"mailto:a@b",
		"urn:x",
		"/p#frag",
		"/p?q#frag",
		"http://a.test/#",
		"http:/a.test/",
		"http:a.test",
		"http://",
		"http:///p",
		"http://?q",
		"http://:80/",
		"http://a.test:8x/",
		"http://a.test:65536/",
		"http://a.test:99999999999999999999/",
		"http://[::1/",
		"http://[]/",
		"http://[::1]x/",
		"http://a\"b/",
		"http://a{b}/",
		"http://a%4/",
		"a.test/p",
		"a.test:80",
		"-x",
		"?q",
		"/a b",
		"/a\x01",
		"/\x80",
	};
	struct target t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i], false, false, &t) != 400)
			fail_msg("accepted \"%s\"", bad[i]);
}

static void
test_authority_host(void **state)
{
	(void)state;
	want(target_authority_host(STR_LIT("a.test:8080")), "a.test");
	want(target_authority_host(STR_LIT("a.test")), "a.test");
	want(target_authority_host(STR_LIT("[::1]:8080")), "[::1]");
	want(target_authority_host(STR_LIT("[::1]")), "[::1]");
	want(target_authority_host(STR_LIT("")), "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_origin_form),
		cmocka_unit_test(test_absolute_form),
		cmocka_unit_test(test_authority_and_asterisk),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_authority_host),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
