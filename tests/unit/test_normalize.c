/*
 * test_normalize.c: norm_path() and norm_host() over tables of inputs:
 * RFC 3986 5.4 examples of dot-segment removal, both encodings of "..",
 * escapes decoded or uppercased, the refused inputs, and Host values
 * (names, IP literals, ports, userinfo, spaces).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cmocka.h needs stdarg.h, stddef.h and setjmp.h first. */
#include <cmocka.h>

#include "normalize.h"

/* clang-format off */
static const struct {
	const char *in;
	enum norm_err want;
	const char *out;        /* expected output when NORM_OK */
} paths[] = {
	{ "",                         NORM_OK,            "/" },
	{ "/",                        NORM_OK,            "/" },
	{ "/a/b/c",                   NORM_OK,            "/a/b/c" },
	{ "/public/../admin",         NORM_OK,            "/admin" },
	{ "/public/%2e%2e/admin",     NORM_OK,            "/admin" },
	{ "/public/%2E%2E/admin",     NORM_OK,            "/admin" },
	{ "/public/.%2e/admin",       NORM_OK,            "/admin" },
	{ "/public/%2e./admin",       NORM_OK,            "/admin" },
	{ "/public/%2e/admin",        NORM_OK,            "/public/admin" },
	{ "/a/b/c/./../../g",         NORM_OK,            "/a/g" },
	{ "/mid/content=5/../6",      NORM_OK,            "/mid/6" },
	{ "/..",                      NORM_OK,            "/" },
	{ "/../..",                   NORM_OK,            "/" },
	{ "/../a",                    NORM_OK,            "/a" },
	{ "/.",                       NORM_OK,            "/" },
	{ "/a/.",                     NORM_OK,            "/a/" },
	{ "/a/..",                    NORM_OK,            "/" },
	{ "/a/b/..",                  NORM_OK,            "/a/" },
	{ "/a/./b",                   NORM_OK,            "/a/b" },
	{ "/a/...",                   NORM_OK,            "/a/..." },
	{ "/a/..b/.c",                NORM_OK,            "/a/..b/.c" },
	{ "/a//../b",                 NORM_OK,            "/a/b" },
	{ "//a",                      NORM_OK,            "//a" },
	{ "/a/",                      NORM_OK,            "/a/" },
	{ "/%7Euser/%41%62",          NORM_OK,            "/~user/Ab" },
	{ "/%2d%5f%7e%30",            NORM_OK,            "/-_~0" },
	{ "/a%20b",                   NORM_OK,            "/a%20b" },
	{ "/a%3fb%3F",                NORM_OK,            "/a%3Fb%3F" },
	{ "/%e2%82%ac",               NORM_OK,            "/%E2%82%AC" },
	{ "/%252e%252e/x",            NORM_OK,            "/%252e%252e/x" },
	{ "/a%2Fb",                   NORM_ENC_SLASH,     NULL },
	{ "/a%2fb",                   NORM_ENC_SLASH,     NULL },
	{ "/a\\b",                    NORM_BACKSLASH,     NULL },
	{ "/a%5cb",                   NORM_ENC_BACKSLASH, NULL },
	{ "/a%5Cb",                   NORM_ENC_BACKSLASH, NULL },
	{ "/a%00b",                   NORM_NUL,           NULL },
	{ "/a%",                      NORM_BAD_ESCAPE,    NULL },
	{ "/a%4",                     NORM_BAD_ESCAPE,    NULL },
	{ "/a%4g",                    NORM_BAD_ESCAPE,    NULL },
	{ "/a%%41",                   NORM_BAD_ESCAPE,    NULL },
	{ "a/b",                      NORM_NOT_ABSOLUTE,  NULL },
	{ "*",                        NORM_NOT_ABSOLUTE,  NULL },
};

static const struct {
	const char *in;
	enum norm_err want;
	const char *out;
} hosts[] = {
	{ "example.com",              NORM_OK,            "example.com" },
	{ "  Example.COM\t",          NORM_OK,            "example.com" },
	{ "a.example:8080",           NORM_OK,            "a.example:8080" },
	{ "a.example:",               NORM_OK,            "a.example:" },
	{ "127.0.0.1:80",             NORM_OK,            "127.0.0.1:80" },
	{ "[::1]",                    NORM_OK,            "[::1]" },
	{ "[::1]:443",                NORM_OK,            "[::1]:443" },
	{ "[FE80::1]",                NORM_OK,            "[fe80::1]" },
	{ "[::ffff:1.2.3.4]",         NORM_OK,            "[::ffff:1.2.3.4]" },
	{ "under_score.test",         NORM_OK,            "under_score.test" },
	{ "a~b!$&'()*+,;=",           NORM_OK,            "a~b!$&'()*+,;=" },
	{ "",                         NORM_BAD_HOST,      NULL },
	{ "   ",                      NORM_BAD_HOST,      NULL },
	{ "a b",                      NORM_BAD_HOST,      NULL },
	{ "a@b/c?d",                  NORM_BAD_HOST,      NULL },
	{ "user@a.example",           NORM_BAD_HOST,      NULL },
	{ "user:pw@a.example",        NORM_BAD_PORT,      NULL },
	{ "a/b",                      NORM_BAD_HOST,      NULL },
	{ "a?b",                      NORM_BAD_HOST,      NULL },
	{ "a#b",                      NORM_BAD_HOST,      NULL },
	{ "a%41",                     NORM_BAD_HOST,      NULL },
	{ "a\\b",                     NORM_BAD_HOST,      NULL },
	{ ":80",                      NORM_BAD_HOST,      NULL },
	{ "a:8x",                     NORM_BAD_PORT,      NULL },
	{ "a:65536",                  NORM_BAD_PORT,      NULL },
	{ "a:80:80",                  NORM_BAD_PORT,      NULL },
	{ "[::1",                     NORM_BAD_HOST,      NULL },
	{ "[]",                       NORM_BAD_HOST,      NULL },
	{ "[a.b]",                    NORM_BAD_HOST,      NULL },
	{ "[v1.x]",                   NORM_BAD_HOST,      NULL },
	{ "[::1]x",                   NORM_BAD_HOST,      NULL },
	{ "[::1]:x",                  NORM_BAD_PORT,      NULL },
};
/* clang-format on */

static void
test_paths(void **state)
{
	char out[256], again[256];
	size_t i, n, n2;
	enum norm_err e;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		e = norm_path(str_cstr(paths[i].in), out, sizeof(out), &n);
		if (e != paths[i].want)
			fail_msg("%s: got %s, want %s", paths[i].in,
			    norm_strerror(e), norm_strerror(paths[i].want));
		if (e != NORM_OK) {
			assert_int_equal(n, 0);
			continue;
		}
		if (n != strlen(paths[i].out) ||
		    memcmp(out, paths[i].out, n) != 0)
			fail_msg("%s: got %.*s, want %s", paths[i].in, (int)n,
			    out, paths[i].out);
		/* A fixed point. */
		assert_int_equal(norm_path(str_make(out, n), again,
		                     sizeof(again), &n2),
		    NORM_OK);
		assert_int_equal(n2, n);
		assert_memory_equal(again, out, n);
	}
}

static void
test_path_capacity(void **state)
{
	char out[8];
	size_t n;

	/* The output needs at most max(len, 1) bytes. */
	assert_int_equal(norm_path(STR_LIT("/abcdefg"), out, 8, &n), NORM_OK);
	assert_int_equal(n, 8);
	assert_int_equal(norm_path(STR_LIT("/abcdefgh"), out, 8, &n),
	    NORM_TOO_LONG);
	assert_int_equal(norm_path(STR_LIT(""), out, 1, &n), NORM_OK);
	assert_int_equal(norm_path(STR_LIT(""), out, 0, &n), NORM_TOO_LONG);
	/* A raw NUL in the input is refused like %00. */
	assert_int_equal(norm_path(str_make("/a\0b", 4), out, 8, &n), NORM_NUL);
}

static void
test_hosts(void **state)
{
	char out[NORM_HOST_MAX];
	size_t i, n;
	enum norm_err e;

	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		e = norm_host(str_cstr(hosts[i].in), out, sizeof(out), &n);
		if (e != hosts[i].want)
			fail_msg("%s: got %s, want %s", hosts[i].in,
			    norm_strerror(e), norm_strerror(hosts[i].want));
		if (e != NORM_OK)
			continue;
		if (n != strlen(hosts[i].out) ||
		    memcmp(out, hosts[i].out, n) != 0)
			fail_msg("%s: got %.*s, want %s", hosts[i].in, (int)n,
			    out, hosts[i].out);
	}
}

static void
test_host_limits(void **state)
{
	char in[NORM_HOST_MAX + 2], out[NORM_HOST_MAX];
	size_t n;

	memset(in, 'a', sizeof(in));
	assert_int_equal(norm_host(str_make(in, NORM_HOST_MAX), out,
	                     sizeof(out), &n),
	    NORM_OK);
	assert_int_equal(n, NORM_HOST_MAX);
	assert_int_equal(norm_host(str_make(in, NORM_HOST_MAX + 1), out,
	                     sizeof(out), &n),
	    NORM_TOO_LONG);
	assert_int_equal(norm_host(str_make("a\0b", 3), out, sizeof(out), &n),
	    NORM_BAD_HOST);
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_path_capacity),
		cmocka_unit_test(test_hosts),
		cmocka_unit_test(test_host_limits),
	};

	return cmocka_run_group_tests_name("normalize", tests, NULL, NULL);
}
