/*
 * test_health.c: the health checker's status-line parser, the state table
 * defaults, and compiling health-check settings (exact error strings).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* cmocka.h needs the headers above first. */
#include <cmocka.h>

#include "cfg.h"
#include "health.h"
#include "store.h"

/* clang-format off */
static const struct {
	const char *line;
	int want;
} status_cases[] = {
	{ "HTTP/1.1 200 OK",            200 },
	{ "HTTP/1.0 503 Unavailable",   503 },
	{ "HTTP/1.1 204",               204 },
	{ "HTTP/1.1 301 Moved\r",       301 },
	{ "HTTP/2 200 OK",              -1 },
	{ "HTTP/1.1 20 OK",             -1 },
	{ "HTTP/1.1 2000 OK",           -1 },
	{ "HTTP/1.1 099 Low",           -1 },
	{ "http/1.1 200 OK",            -1 },
	{ "SSH-2.0-OpenSSH_9.2",        -1 },
	{ "",                           -1 },
};
/* clang-format on */

static void
test_parse_status(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(status_cases) / sizeof(status_cases[0]); i++)
		assert_int_equal(health_parse_status(status_cases[i].line,
		                     strlen(status_cases[i].line)),
		    status_cases[i].want);
}

static void
test_unknown_server_is_usable(void **state)
{
	struct health_info hi;

	assert_true(health_usable(424242));
	assert_false(health_get(424242, &hi));
}

static struct store *
fixture(const char *origin_sql)
{
	struct store *st;
	struct err e;

	st = store_open(":memory:", STORE_F_CREATE, &e);
	assert_non_null(st);
	assert_int_equal(store_migrate(st, &e), 0);
	assert_int_equal(store_exec(st, origin_sql, &e), 0);
	return st;
}

/* clang-format off */
static const struct {
	const char *sql;
	const char *field, *msg; /* NULL: compiles */
} compile_cases[] = {
	{ "INSERT INTO origins (name, hc_path) VALUES ('web', '/healthz')",
	  NULL, NULL },
	{ "INSERT INTO origins (name, hc_path, hc_interval_ms, hc_timeout_ms)"
	  " VALUES ('web', '/', 1000, 1000)",
	  "origins[web].health_check.timeout_ms",
	  "1000 must be shorter than interval_ms (1000)" },
	{ "INSERT INTO origins (name, hc_path) VALUES ('web', '/a b')",
	  "origins[web].health_check.path",
	  "must not contain whitespace, control characters or non-ASCII" },
	{ "INSERT INTO origins (name, hc_path, hc_host) VALUES ('web', '/', 'a/b')",
	  "origins[web].health_check.host", "\"a/b\" is not a host name" },
};
/* clang-format on */

static void
test_compile(void **state)
{
	struct store *st;
	struct cfg *c;
	struct err e;
	size_t i;

	for (i = 0; i < sizeof(compile_cases) / sizeof(compile_cases[0]); i++) {
		st = fixture(compile_cases[i].sql);
		err_clear(&e);
		c = cfg_compile(st, &e);
		if (compile_cases[i].field == NULL) {
			assert_non_null(c);
			assert_int_equal(c->norigins, 1);
			assert_true(c->origins[0].health.enabled);
			assert_string_equal(c->origins[0].health.path,
			    "/healthz");
			assert_int_equal(c->origins[0].health.interval_ms,
			    5000);
			assert_int_equal(c->origins[0].health.timeout_ms, 2000);
			assert_int_equal(c->origins[0].health.rise, 2);
			assert_int_equal(c->origins[0].health.fall, 3);
			assert_int_equal(c->origins[0].health.status_min, 200);
			assert_int_equal(c->origins[0].health.status_max, 399);
			cfg_unref(c);
		} else {
			assert_null(c);
			assert_string_equal(e.field, compile_cases[i].field);
			assert_string_equal(e.msg, compile_cases[i].msg);
		}
		store_close(st);
	}
}

static void
test_no_check_by_default(void **state)
{
	struct store *st = fixture("INSERT INTO origins (name) VALUES ('web')");
	struct err e;
	struct cfg *c = cfg_compile(st, &e);

	assert_non_null(c);
	assert_false(c->origins[0].health.enabled);
	cfg_unref(c);
	store_close(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_status),
		cmocka_unit_test(test_unknown_server_is_usable),
		cmocka_unit_test(test_compile),
		cmocka_unit_test(test_no_check_by_default),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
