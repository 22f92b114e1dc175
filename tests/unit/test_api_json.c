/*
 * test_api_json.c: the jansson shim: typed getters and their field paths,
 * unknown-field refusal, RFC 6902 JSON Patch, RFC 7396 merge patch and
 * the name-keyed diff.
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

#include "json.h"

static struct json *
P(const char *s)
{
	struct err e;
	struct json *j = json_parse(s, strlen(s), &e);

	if (j == NULL)
		fail_msg("parse %s: %s", s, e.msg);
	return j;
}

static void
assert_json(const struct json *j, const char *want)
{
	struct json *w = P(want);
	char *got = json_dump(j, NULL);

	if (!json_same(j, w))
		fail_msg("got %s, want %s", got, want);
	free(got);
	json_unref(w);
}

static void
test_parse_errors(void **state)
{
	struct err e;

	err_clear(&e);
	assert_null(json_parse("{\"a\":", 5, &e));
	assert_non_null(strstr(e.msg, "malformed JSON: line 1"));
	assert_null(json_parse("{\"a\":1,\"a\":2}", 13, &e));
	assert_null(json_parse("", 0, &e));
}

static void
test_getters(void **state)
{
	struct json *o = P("{\"s\":\"x\",\"i\":70000,\"b\":true,\"n\":null,"
	                   "\"a\":[1],\"o\":{}}");
	const char *s = NULL;
	int64_t i = 0;
	bool b = false;
	struct json *sub;
	struct err e;

	assert_int_equal(json_get_str(o, "", "s", &s, &e), 1);
	assert_string_equal(s, "x");
	assert_int_equal(json_get_str(o, "", "missing", &s, &e), 0);
	assert_int_equal(json_get_str(o, "", "n", &s, &e), 0);
	assert_int_equal(json_get_str(o, "servers[2]", "i", &s, &e), -1);
	assert_string_equal(e.field, "servers[2].i");
	assert_string_equal(e.msg, "must be a string");
	assert_int_equal(json_get_int(o, "servers[2]", "i", 1, 65535, &i, &e),
	    -1);
	assert_string_equal(e.field, "servers[2].i");
	assert_string_equal(e.msg, "70000 is out of range 1..65535");
	assert_int_equal(json_get_int(o, "", "i", 0, 100000, &i, &e), 1);
	assert_int_equal(i, 70000);
	assert_int_equal(json_get_int(o, "", "s", 0, 1, &i, &e), -1);
	assert_string_equal(e.field, "s");
	assert_int_equal(json_get_bool(o, "", "b", &b, &e), 1);
	assert_true(b);
	assert_int_equal(json_get_bool(o, "x", "i", &b, &e), -1);
	assert_string_equal(e.field, "x.i");
	assert_int_equal(json_get_arr(o, "", "a", &sub, &e), 1);
	assert_int_equal(json_get_arr(o, "", "o", &sub, &e), -1);
	assert_int_equal(json_get_obj(o, "", "o", &sub, &e), 1);
	assert_int_equal(json_get_obj(o, "", "a", &sub, &e), -1);
	json_unref(o);
}

static void
test_check_keys(void **state)
{
	static const char *const keys[] = { "name", "port", NULL };
	struct json *o = P("{\"name\":\"a\",\"prot\":1}");
	struct json *a = P("[]");
	struct err e;

	assert_int_equal(json_check_keys(o, "servers[0]", keys, &e), -1);
	assert_string_equal(e.field, "servers[0].prot");
	assert_string_equal(e.msg, "unknown field");
	assert_int_equal(json_check_keys(a, "match", keys, &e), -1);
	assert_string_equal(e.field, "match");
	json_del(o, "prot");
	assert_int_equal(json_check_keys(o, "", keys, &e), 0);
	json_unref(o);
	json_unref(a);
}

static void
patch_ok(const char *doc, const char *patch, const char *want)
{
	struct json *d = P(doc), *p = P(patch), *out;
	struct err e;

	err_clear(&e);
	out = json_patch(d, p, &e);
	if (out == NULL)
		fail_msg("patch %s failed: %s: %s", patch, e.field, e.msg);
	assert_json(out, want);
	assert_json(d, doc); /* the input is untouched */
	json_unref(out);
	json_unref(d);
	json_unref(p);
}

static void
patch_fails(const char *doc, const char *patch, const char *field)
{
	struct json *d = P(doc), *p = P(patch);
	struct err e;

	err_clear(&e);
	assert_null(json_patch(d, p, &e));
	assert_string_equal(e.field, field);
	json_unref(d);
	json_unref(p);
}

static void
test_json_patch(void **state)
{
	patch_ok("{\"a\":[1,2]}",
	    "[{\"op\":\"add\",\"path\":\"/a/-\",\"value\":3}]",
	    "{\"a\":[1,2,3]}");
	patch_ok("{\"a\":[1,2]}",
	    "[{\"op\":\"add\",\"path\":\"/a/0\",\"value\":0}]",
	    "{\"a\":[0,1,2]}");
	patch_ok("{\"a\":{\"b\":1}}",
	    "[{\"op\":\"replace\",\"path\":\"/a/b\",\"value\":2},"
	    "{\"op\":\"add\",\"path\":\"/c\",\"value\":{}}]",
	    "{\"a\":{\"b\":2},\"c\":{}}");
	patch_ok("{\"a\":[1,2,3]}", "[{\"op\":\"remove\",\"path\":\"/a/1\"}]",
	    "{\"a\":[1,3]}");
	patch_ok("{\"a\":1,\"b\":{}}",
	    "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/b/a\"}]",
	    "{\"b\":{\"a\":1}}");
	patch_ok("{\"a\":[1]}",
	    "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/b\"}]",
	    "{\"a\":[1],\"b\":[1]}");
	patch_ok("{\"a/b\":1,\"m~n\":2}",
	    "[{\"op\":\"test\",\"path\":\"/a~1b\",\"value\":1},"
	    "{\"op\":\"remove\",\"path\":\"/m~0n\"}]",
	    "{\"a/b\":1}");
	patch_ok("{\"a\":1}",
	    "[{\"op\":\"replace\",\"path\":\"\",\"value\":[]}]", "[]");
	/* Failures name the operation; nothing is half applied. */
	patch_fails("{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"/b\"}]",
	    "[0].path");
	patch_fails("{\"a\":1}",
	    "[{\"op\":\"add\",\"path\":\"/b\",\"value\":1},"
	    "{\"op\":\"test\",\"path\":\"/a\",\"value\":2}]",
	    "[1].path");
	patch_fails("{\"a\":[1]}",
	    "[{\"op\":\"replace\",\"path\":\"/a/1\",\"value\":1}]", "[0].path");
	patch_fails("{\"a\":[1]}",
	    "[{\"op\":\"add\",\"path\":\"/a/01\",\"value\":1}]", "[0].path");
	patch_fails("{}", "[{\"op\":\"jump\",\"path\":\"/a\"}]", "[0].op");
	patch_fails("{}", "[{\"op\":\"add\",\"path\":\"/a\"}]", "[0].value");
	patch_fails("{}", "[{\"op\":\"add\",\"path\":\"a\",\"value\":1}]",
	    "[0].path");
	patch_fails("{\"a\":{}}",
	    "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a/b\"}]",
	    "[0].from");
	patch_fails("{}", "{\"op\":\"add\"}", "");
}

static void
test_merge_patch(void **state)
{
	struct json *d = P("{\"a\":1,\"t\":{\"x\":1,\"y\":2},\"l\":[1]}");
	struct json *p = P("{\"a\":null,\"t\":{\"x\":null,\"z\":3},\"l\":[2],"
	                   "\"n\":{\"k\":null}}");
	struct json *out = json_merge_patch(d, p);

	assert_json(out, "{\"t\":{\"y\":2,\"z\":3},\"l\":[2],\"n\":{}}");
	json_unref(out);
	json_unref(d);
	json_unref(p);
}

static void
test_diff(void **state)
{
	struct json *a = P("{\"routes\":[{\"name\":\"app\",\"origin\":\"web\"},"
	                   "{\"name\":\"old\",\"origin\":\"x\"}],\"n\":1}");
	struct json *b = P("{\"routes\":[{\"name\":\"new\",\"origin\":\"y\"},"
	                   "{\"name\":\"app\",\"origin\":\"alt\"}],\"n\":1}");
	struct json *d = json_diff(a, b);

	assert_json(d,
	    "[{\"op\":\"replace\",\"path\":\"/routes/app/origin\","
	    "\"old\":\"web\",\"new\":\"alt\"},"
	    "{\"op\":\"remove\",\"path\":\"/routes/old\","
	    "\"old\":{\"name\":\"old\",\"origin\":\"x\"}},"
	    "{\"op\":\"add\",\"path\":\"/routes/new\","
	    "\"new\":{\"name\":\"new\",\"origin\":\"y\"}}]");
	json_unref(d);
	d = json_diff(a, a);
	assert_int_equal(json_len(d), 0);
	json_unref(d);
	json_unref(a);
	json_unref(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_getters),
		cmocka_unit_test(test_check_keys),
		cmocka_unit_test(test_json_patch),
		cmocka_unit_test(test_merge_patch),
		cmocka_unit_test(test_diff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
