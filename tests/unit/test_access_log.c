/*
 * test_access_log.c: the access-log line (daemon/access_log.c), read back
 * from the in-memory ring: every line is valid JSON whatever bytes the
 * client sent (quotes, backslashes, controls, bytes above 0x7e), numbers
 * are exact at their extremes, the time is UTC to the millisecond, and a
 * path longer than the line still gives a closed object. The ring keeps a
 * record and formats it when read: every key comes out in its order,
 * optional keys only when the request had them, and the file gets the
 * very same line.
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
#include <jansson.h>
#include <unistd.h>

#include "access_log.h"
#include "cfg.h"
#include "conn.h"
#include "log_ring.h"

static struct http_span
span(struct http_msg *m, const char *s, size_t n)
{
	int64_t off = http_msg_append(m, s, n);
	struct http_span sp;

	assert_true(off >= 0);
	sp.off = (uint32_t)off;
	sp.len = (uint32_t)n;
	return sp;
}

/* Logs one request with <target> (<tlen> bytes) and <host>; returns the
 * line as parsed JSON (the caller frees it).
 */
static json_t *
log_one(const char *target, size_t tlen, const char *host, uint64_t out,
    int64_t upstream_ms)
{
	static struct conn c;
	static struct req r;
	struct log_ring_line *v;
	size_t n;
	uint64_t before = log_ring_last(LOG_RING_ACCESS);
	json_error_t err;
	json_t *j;

	memset(&c, 0, sizeof(c));
	memset(&r, 0, sizeof(r));
	http_msg_init(&r.msg);
	c.req = &r;
	snprintf(c.peer, sizeof(c.peer), "192.0.2.7");
	r.msg.method_name = span(&r.msg, "GET", 3);
	r.msg.target = span(&r.msg, target, tlen);
	{
		struct http_span hn = span(&r.msg, "host", 4);
		struct http_span hv = span(&r.msg, host, strlen(host));

		assert_int_equal(http_msg_add_header(&r.msg, hn, hv), 0);
	}
	r.status = 200;
	r.bytes_in = 0;
	r.bytes_out = out;
	r.upstream_ms = upstream_ms;
	access_log_request(&c);
	http_msg_fini(&r.msg);
	v = log_ring_since(LOG_RING_ACCESS, before, 1, &n);
	assert_int_equal(n, 1);
	assert_true(v[0].len < 4096);
	j = json_loadb(v[0].text, v[0].len, 0, &err);
	if (j == NULL)
		fail_msg("not JSON (%s): %s", err.text, v[0].text);
	log_ring_lines_free(v, n);
	return j;
}

static void
test_plain(void **state)
{
	json_t *j = log_one("/a/b?q=1", 8, "app.test", 100, 3);
	const char *t = json_string_value(json_object_get(j, "time"));

	(void)state;
	assert_string_equal(json_string_value(json_object_get(j, "path")),
	    "/a/b");
	assert_string_equal(json_string_value(json_object_get(j, "host")),
	    "app.test");
	assert_string_equal(json_string_value(json_object_get(j, "client")),
	    "192.0.2.7");
	assert_int_equal(json_integer_value(json_object_get(j, "status")), 200);
	assert_int_equal(json_integer_value(json_object_get(j, "bytes_out")),
	    100);
	assert_int_equal(json_integer_value(json_object_get(j, "bytes_in")), 0);
	assert_int_equal(json_integer_value(json_object_get(j, "upstream_ms")),
	    3);
	/* 2026-12-03T12:00:00.123Z */
	assert_non_null(t);
	assert_int_equal(strlen(t), 24);
	assert_true(t[4] == '-' && t[10] == 'T' && t[19] == '.' &&
	    t[23] == 'Z');
	json_decref(j);
}

static void
test_escapes(void **state)
{
	static const char target[] = "/q\"u\\o\x01t\x7f\xff\xc3\xa9/x";
	json_t *j = log_one(target, sizeof(target) - 1, "h\"\\\x1f", 0, 0);

	(void)state;
	assert_string_equal(json_string_value(json_object_get(j, "path")),
	    "/q\"u\\o\x01t\x7f\xc3\xbf\xc3\x83\xc2\xa9/x");
	assert_string_equal(json_string_value(json_object_get(j, "host")),
	    "h\"\\\x1f");
	json_decref(j);
}

static void
test_number_extremes(void **state)
{
	json_t *j = log_one("/", 1, "h", UINT64_C(9223372036854775807), -5);

	(void)state;
	assert_true(json_integer_value(json_object_get(j, "bytes_out")) ==
	    INT64_MAX);
	assert_int_equal(json_integer_value(json_object_get(j, "upstream_ms")),
	    -5);
	json_decref(j);
	j = log_one("/", 1, "h", 0, INT64_MIN);
	assert_true(json_integer_value(json_object_get(j, "upstream_ms")) ==
	    INT64_MIN);
	json_decref(j);
}

static void
test_long_path_truncated(void **state)
{
	size_t n = 9000, i;
	char *t = malloc(n);
	json_t *j;
	const char *p;

	(void)state;
	assert_non_null(t);
	t[0] = '/';
	for (i = 1; i < n; i++)
		t[i] = i % 7 == 0 ? '"' : 'a'; /* escapes near the end too */
	j = log_one(t, n, "h", 0, 0);
	p = json_string_value(json_object_get(j, "path"));
	assert_non_null(p);
	assert_true(strlen(p) > 1000 && strlen(p) < 4096);
	assert_memory_equal(p, t, 6);
	json_decref(j);
	free(t);
}

/* The newest line of the ring, with the time cut off (the caller frees). */
static char *
last_line_after_time(void)
{
	struct log_ring_line *v;
	size_t n;
	char *rest;

	v = log_ring_since(LOG_RING_ACCESS, 0, 1, &n);
	assert_int_equal(n, 1);
	assert_true(v[0].len > 36);
	assert_memory_equal(v[0].text, "{\"time\":\"", 9);
	rest = strdup(v[0].text + 9 + 24);
	log_ring_lines_free(v, n);
	return rest;
}

static void
test_every_key_in_order(void **state)
{
	static struct conn c;
	static struct req r;
	struct cfg_route route = { 0 };
	struct cfg_server server = { 0 };
	char *rest;

	(void)state;
	memset(&c, 0, sizeof(c));
	memset(&r, 0, sizeof(r));
	http_msg_init(&r.msg);
	c.req = &r;
	snprintf(c.peer, sizeof(c.peer), "192.0.2.7");
	snprintf(r.client.text, sizeof(r.client.text), "203.0.113.9");
	r.client.from_xff = true;
	r.msg.method_name = span(&r.msg, "POST", 4);
	r.msg.target = span(&r.msg, "/a?b", 4);
	assert_int_equal(http_msg_add_header(&r.msg, span(&r.msg, "host", 4),
	                     span(&r.msg, "app.test", 8)),
	    0);
	route.name = "r1";
	server.label = "127.0.0.1:8081";
	r.route = &route;
	r.server = &server;
	r.decision = ""; /* present though empty */
	r.user = "al\"ice";
	r.encoding = "gzip";
	r.request_id = str_cstr("abc");
	r.status = 201;
	r.bytes_in = 1;
	r.bytes_out = 2;
	r.upstream_ms = 3;
	access_log_request(&c);
	rest = last_line_after_time();
	assert_string_equal(rest,
	    "\",\"client\":\"203.0.113.9\",\"peer\":\"192.0.2.7\","
	    "\"method\":\"POST\",\"host\":\"app.test\",\"path\":\"/a\","
	    "\"status\":201,\"bytes_in\":1,\"bytes_out\":2,\"route\":\"r1\","
	    "\"decision\":\"\",\"user\":\"al\\\"ice\",\"encoding\":\"gzip\","
	    "\"server\":\"127.0.0.1:8081\",\"request_id\":\"abc\","
	    "\"upstream_ms\":3,\"total_ms\":0}");
	free(rest);

	/* Without the optional ones, and with no head at all. */
	http_msg_fini(&r.msg);
	memset(&r, 0, sizeof(r));
	http_msg_init(&r.msg);
	r.status = 400;
	access_log_request(&c);
	rest = last_line_after_time();
	assert_string_equal(rest,
	    "\",\"client\":\"192.0.2.7\",\"method\":\"\",\"host\":\"\","
	    "\"path\":\"\",\"status\":400,\"bytes_in\":0,\"bytes_out\":0,"
	    "\"route\":\"\",\"server\":\"\",\"upstream_ms\":0,"
	    "\"total_ms\":0}");
	free(rest);
	http_msg_fini(&r.msg);
}

/* With a log file open, the file gets the ring's line and a newline. */
static void
test_file_line_is_ring_line(void **state)
{
	char path[] = "/tmp/test_access_log.XXXXXX", got[8192];
	struct log_ring_line *v;
	json_t *j;
	size_t n;
	ssize_t len;
	int fd;

	(void)state;
	assert_true((fd = mkstemp(path)) != -1);
	assert_int_equal(access_log_open(path), 0);
	assert_true(access_log_enabled());
	j = log_one("/f\x01le?x", 8, "file.test", 7, 1);
	json_decref(j);
	access_log_close();
	len = read(fd, got, sizeof(got));
	(void)close(fd);
	(void)unlink(path);
	v = log_ring_since(LOG_RING_ACCESS, 0, 1, &n);
	assert_int_equal(n, 1);
	assert_int_equal((size_t)len, v[0].len + 1);
	assert_memory_equal(got, v[0].text, v[0].len);
	assert_int_equal(got[len - 1], '\n');
	assert_non_null(strstr(v[0].text, "\"path\":\"/f\\u0001le\""));
	log_ring_lines_free(v, n);
}

/* Past the ring's capacity, with records small enough for a slot and
 * larger ones in turn (each kind replacing the other): the newest lines
 * read back whole, and nothing leaks or is freed twice (ASan).
 */
static void
test_ring_wraps_mixed_sizes(void **state)
{
	static char longpath[400];
	struct log_ring_line *v;
	size_t n, i;
	char text[300];

	(void)state;
	memset(longpath, 'p', sizeof(longpath));
	longpath[0] = '/';
	for (i = 0; i < LOG_RING_ACCESS_CAP + 3; i++) {
		json_t *j = i % 2 == 0
		    ? log_one("/s", 2, "h", i, 0)
		    : log_one(longpath, sizeof(longpath), "h", i, 0);

		assert_int_equal(json_integer_value(json_object_get(j,
		                     "bytes_out")),
		    i);
		json_decref(j);
	}
	v = log_ring_since(LOG_RING_ACCESS, 0, 2, &n);
	assert_int_equal(n, 2);
	/* The last one (i even) is short, the one before long. */
	assert_non_null(strstr(v[0].text, "\"path\":\"/ppp"));
	assert_non_null(strstr(v[1].text, "\"path\":\"/s\""));
	log_ring_lines_free(v, n);

	/* Text lines too: short ones in the slot, long ones allocated. */
	memset(text, 'd', sizeof(text));
	for (i = 0; i < LOG_RING_DAEMON_CAP + 3; i++)
		log_ring_push(LOG_RING_DAEMON, text,
		    i % 2 == 0 ? 10 : sizeof(text));
	v = log_ring_since(LOG_RING_DAEMON, 0, 2, &n);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].len, sizeof(text));
	assert_int_equal(strlen(v[0].text), sizeof(text));
	assert_int_equal(v[1].len, 10);
	assert_int_equal(strlen(v[1].text), 10);
	log_ring_lines_free(v, n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_number_extremes),
		cmocka_unit_test(test_long_path_truncated),
		cmocka_unit_test(test_every_key_in_order),
		cmocka_unit_test(test_file_line_is_ring_line),
		cmocka_unit_test(test_ring_wraps_mixed_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
