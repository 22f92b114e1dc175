/*
 * test_json_delta.c: json_delta() gives the RFC 6902 patch that
 * json_patch() turns back into the new document: hand-written cases
 * (named arrays, removals, insertions, reordering, escaping) and random
 * mutations of configuration-like documents; a one-route change among
 * 10,000 routes gives one small operation.
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

/* json_delta(a, b) applied to a gives b; returns the patch as text. */
static char *
roundtrip(const struct json *a, const struct json *b)
{
	struct json *d = json_delta(a, b), *got;
	struct err e;
	char *text, *ta, *tb;

	assert_non_null(d);
	got = json_patch(a, d, &e);
	text = json_dump(d, NULL);
	if (got == NULL || !json_same(got, b)) {
		ta = json_dump(a, NULL);
		tb = json_dump(b, NULL);
		fail_msg("delta %s from %s does not give %s (%s)", text, ta, tb,
		    got == NULL ? e.msg : "different");
	}
	json_unref(got);
	json_unref(d);
	return text;
}

static void
check(const char *a, const char *b, const char *want)
{
	struct json *ja = P(a), *jb = P(b);
	char *got = roundtrip(ja, jb);

	if (want != NULL && strcmp(got, want) != 0)
		fail_msg("delta of %s -> %s: got %s, want %s", a, b, got, want);
	free(got);
	json_unref(ja);
	json_unref(jb);
}

static void
test_cases(void **state)
{
	(void)state;
	check("{}", "{}", "[]");
	check("{\"a\":1}", "{\"a\":2}",
	    "[{\"op\":\"replace\",\"path\":\"/a\",\"value\":2}]");
	check("{\"a\":1,\"b\":2}", "{\"b\":2,\"c\":3}",
	    "[{\"op\":\"remove\",\"path\":\"/a\"},"
	    "{\"op\":\"add\",\"path\":\"/c\",\"value\":3}]");
	check("{\"a/b\":1,\"t~\":{\"x\":1}}", "{\"a/b\":2,\"t~\":{\"x\":2}}",
	    "[{\"op\":\"replace\",\"path\":\"/a~1b\",\"value\":2},"
	    "{\"op\":\"replace\",\"path\":\"/t~0/x\",\"value\":2}]");
	/* Named members: matched by name whatever their positions. */
	check("{\"r\":[{\"name\":\"a\"},{\"name\":\"b\",\"p\":1},"
	      "{\"name\":\"c\"}]}",
	    "{\"r\":[{\"name\":\"b\",\"p\":2},{\"name\":\"x\"},"
	    "{\"name\":\"c\"}]}",
	    "[{\"op\":\"remove\",\"path\":\"/r/0\"},"
	    "{\"op\":\"replace\",\"path\":\"/r/0/p\",\"value\":2},"
	    "{\"op\":\"add\",\"path\":\"/r/1\",\"value\":{\"name\":\"x\"}}]");
	/* Kept members in another order: the array is replaced. */
	check("{\"r\":[{\"name\":\"a\"},{\"name\":\"b\"}]}",
	    "{\"r\":[{\"name\":\"b\"},{\"name\":\"a\"}]}",
	    "[{\"op\":\"replace\",\"path\":\"/r\",\"value\":"
	    "[{\"name\":\"b\"},{\"name\":\"a\"}]}]");
	/* Duplicate names, unnamed members, scalars. */
	check("[{\"name\":\"a\",\"v\":1},{\"name\":\"a\"}]",
	    "[{\"name\":\"a\",\"v\":2},{\"name\":\"a\"}]",
	    "[{\"op\":\"replace\",\"path\":\"/0/v\",\"value\":2}]");
	check("[1,2,3]", "[1,2]", NULL);
	check("[1,2,3]", "[1,5,3]",
	    "[{\"op\":\"replace\",\"path\":\"/1\",\"value\":5}]");
	check("{\"a\":[1]}", "{\"a\":{\"x\":null}}", NULL);
	check("1", "\"x\"", NULL);
	check("{\"r\":[]}", "{\"r\":[{\"name\":\"a\"},{\"name\":\"b\"}]}",
	    NULL);
	check("{\"r\":[{\"name\":\"a\"},{\"name\":\"b\"}]}", "{\"r\":[]}",
	    NULL);
}

/* A configuration-like document from a seed: named routes with a few
 * fields, hosts (an unnamed array) and a nested object.
 */
static unsigned
rnd(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 16) & 0x7fff;
}

static struct json *
route(unsigned *s, unsigned name)
{
	struct json *r = json_new_obj(), *m = json_new_obj(),
	            *h = json_new_arr();
	char buf[32];
	unsigned i, n = rnd(s) % 3;

	snprintf(buf, sizeof(buf), "r%u", name);
	json_set(r, "name", json_new_str(buf));
	json_set(r, "priority", json_new_int(rnd(s) % 4));
	for (i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "h%u.example", rnd(s) % 5);
		json_append(h, json_new_str(buf));
	}
	json_set(m, "hosts", h);
	if (rnd(s) % 2)
		json_set(m, "path_prefix", json_new_str("/api"));
	json_set(r, "match", m);
	return r;
}

static struct json *
mutate(const struct json *a, unsigned *s, unsigned *next)
{
	struct json *b = json_clone(a), *rs = json_get(b, "routes"), *r;
	unsigned k, n = 1 + rnd(s) % 4;

	for (k = 0; k < n; k++) {
		size_t len = json_len(rs), i = len ? rnd(s) % len : 0;

		switch (rnd(s) % 6) {
		case 0:
			if (len > 0)
				json_remove_at(rs, i);
			break;
		case 1: /* insert at i: append, then rotate into place */
			json_append(rs, route(s, (*next)++));
			for (size_t j = len; j > i; j--) {
				r = json_ref(json_at(rs, j - 1));
				json_replace_at(rs, j - 1,
				    json_ref(json_at(rs, j)));
				json_replace_at(rs, j, r);
			}
			break;
		case 2:
			if (len > 0)
				json_set(json_at(rs, i), "priority",
				    json_new_int(rnd(s) % 9));
			break;
		case 3:
			if (len > 0)
				json_replace_at(rs, i,
				    route(s, (unsigned)rnd(s) + 100000u));
			break;
		case 4:
			if (len > 1 && rnd(s) % 4 == 0) {
				r = json_ref(json_at(rs, 0));
				json_remove_at(rs, 0);
				json_append(rs, r);
			}
			break;
		default:
			if (len > 0)
				json_del(json_get(json_at(rs, i), "match"),
				    "path_prefix");
			json_set(b, "version", json_new_int(rnd(s) % 3));
			break;
		}
	}
	return b;
}

static void
test_random(void **state)
{
	unsigned s = 1, next = 0, i, round;
	struct json *a, *b;

	(void)state;
	for (round = 0; round < 300; round++) {
		a = json_new_obj();
		json_set(a, "routes", json_new_arr());
		for (i = rnd(&s) % 12; i > 0; i--)
			json_append(json_get(a, "routes"), route(&s, next++));
		for (i = 0; i < 10; i++) {
			b = mutate(a, &s, &next);
			free(roundtrip(a, b));
			json_unref(a);
			a = b;
		}
		json_unref(a);
	}
}

static void
test_one_change_in_many(void **state)
{
	struct json *a = json_new_obj(), *rs = json_new_arr(), *b, *d;
	unsigned s = 7, i;
	char *text;

	(void)state;
	for (i = 0; i < 10000; i++)
		json_append(rs, route(&s, i));
	json_set(a, "routes", rs);
	b = json_clone(a);
	json_set(json_at(json_get(b, "routes"), 9876), "priority",
	    json_new_int(42));
	d = json_delta(a, b);
	assert_non_null(d);
	text = json_dump(d, NULL);
	assert_string_equal(text,
	    "[{\"op\":\"replace\",\"path\":\"/routes/9876/priority\","
	    "\"value\":42}]");
	free(text);
	json_unref(d);
	/* One route changed and one added at the end: two operations. */
	json_remove_at(json_get(b, "routes"), 9999);
	d = json_delta(b, a);
	assert_int_equal(json_len(d), 2);
	json_unref(d);
	json_unref(a);
	json_unref(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_one_change_in_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
