/*
 * test_client_addr.c: the client behind trusted proxies
 * (daemon/client_addr.c): right-most untrusted X-Forwarded-For entry,
 * forged entries from untrusted peers ignored, IPv6 and port forms,
 * several headers, unreadable entries, and the part of the header kept
 * for the origin.
 */
#include <arpa/inet.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* cmocka.h needs stdarg.h, stddef.h and setjmp.h first. */
#include <cmocka.h>

#include "client_addr.h"
#include "msg_build.h"

static struct sockaddr_storage
addr(const char *s)
{
	struct sockaddr_storage sa;

	assert_int_equal(client_addr_parse(str_cstr(s), &sa), 0);
	return sa;
}

/* Resolves for a listener trusting <cidrs> (NULL-terminated) and a peer. */
static void
resolve(const char *const *cidrs, const char *peer, struct http_msg *m,
    struct client_addr *out)
{
	struct cfg_cidr v[8];
	struct cfg_listener l;
	struct sockaddr_storage sa = addr(peer);
	size_t n = 0;

	memset(&l, 0, sizeof(l));
	while (cidrs != NULL && cidrs[n] != NULL) {
		assert_int_equal(cfg_cidr_parse(cidrs[n], &v[n]), 0);
		n++;
	}
	l.trusted_proxies = v;
	l.ntrusted_proxies = n;
	client_addr_resolve(&l, m, &sa, peer, out);
}

/* What the origin's X-Forwarded-For keeps of the client's. */
static const char *
kept(const struct http_msg *m, const struct client_addr *ca, char *buf,
    size_t len)
{
	struct str v;

	if (ca->xff_hdr < 0)
		return "";
	v = http_msg_hvalue(m, (size_t)ca->xff_hdr);
	snprintf(buf, len, "%.*s", (int)(v.len - ca->xff_off),
	    v.p + ca->xff_off);
	return buf;
}

static void
test_parse(void **state)
{
	struct sockaddr_storage sa;
	static const char *const good[] = { "192.0.2.1", "192.0.2.1:80",
		"2001:db8::1", "[2001:db8::1]", "[2001:db8::1]:443", "::1",
		NULL };
	static const char *const bad[] = { "", "unknown", "192.0.2", "[::1",
		"[::1]x", "1.2.3.4:80:90x", "_hidden",
		"[2001:db8:0:0:0:0:0:0:0:0:0:0:0:0:1]", NULL };
	size_t i;

	(void)state;
	for (i = 0; good[i] != NULL; i++)
		assert_int_equal(client_addr_parse(str_cstr(good[i]), &sa), 0);
	for (i = 0; bad[i] != NULL; i++)
		assert_int_equal(client_addr_parse(str_cstr(bad[i]), &sa), -1);
}

static void
test_no_trusted(void **state)
{
	struct http_msg m;
	struct client_addr ca;

	(void)state;
	http_msg_init(&m);
	add(&m, "X-Forwarded-For", "203.0.113.9");
	resolve(NULL, "127.0.0.1", &m, &ca);
	assert_string_equal(ca.text, "127.0.0.1");
	assert_false(ca.from_xff);
	assert_int_equal(ca.xff_hdr, -1);
	http_msg_fini(&m);
}

static void
test_forged_from_untrusted(void **state)
{
	static const char *const t[] = { "10.0.0.0/8", NULL };
	struct http_msg m;
	struct client_addr ca;

	(void)state;
	http_msg_init(&m);
	add(&m, "X-Forwarded-For", "203.0.113.9");
	resolve(t, "192.0.2.50", &m, &ca);
	assert_string_equal(ca.text, "192.0.2.50");
	assert_false(ca.from_xff);
	assert_int_equal(ca.xff_hdr, -1);
	http_msg_fini(&m);
}

static void
test_right_most_untrusted(void **state)
{
	static const char *const t[] = { "10.0.0.0/8", "198.51.100.0/24",
		NULL };
	struct http_msg m;
	struct client_addr ca;
	char buf[128];

	(void)state;
	http_msg_init(&m);
	add(&m, "X-Forwarded-For", "1.1.1.1, 203.0.113.9, 198.51.100.7");
	resolve(t, "10.1.2.3", &m, &ca);
	assert_string_equal(ca.text, "203.0.113.9");
	assert_true(ca.from_xff);
	assert_string_equal(kept(&m, &ca, buf, sizeof(buf)),
	    "203.0.113.9, 198.51.100.7");
	http_msg_fini(&m);
}

static void
test_overlapping_and_several_headers(void **state)
{
	/* 10.9/16 inside 10/8: both trusted, either matches. */
	static const char *const t[] = { "10.0.0.0/8", "10.9.0.0/16", NULL };
	struct http_msg m;
	struct client_addr ca;
	char buf[128];

	(void)state;
	http_msg_init(&m);
	add(&m, "X-Forwarded-For", "203.0.113.1, 192.0.2.8");
	add(&m, "Accept", "*/*");
	add(&m, "x-forwarded-for", "10.9.1.1,10.200.0.1");
	resolve(t, "10.0.0.1", &m, &ca);
	assert_string_equal(ca.text, "192.0.2.8");
	assert_int_equal(ca.xff_hdr, 0);
	assert_string_equal(kept(&m, &ca, buf, sizeof(buf)), "192.0.2.8");
	http_msg_fini(&m);
}

static void
test_ipv6(void **state)
{
	static const char *const t[] = { "2001:db8::/32", "::1", NULL };
	struct http_msg m;
	struct client_addr ca;

	(void)state;
	http_msg_init(&m);
	add(&m, "X-Forwarded-For",
	    "[2001:db9::5]:4711, [2001:db8::1]:443, 2001:db8:ffff::2");
	resolve(t, "::1", &m, &ca);
	assert_string_equal(ca.text, "2001:db9::5");
	assert_int_equal(ca.sa.ss_family, AF_INET6);
	http_msg_fini(&m);
}

static void
test_all_trusted_and_garbage(void **state)
{
	static const char *const t[] = { "10.0.0.0/8", NULL };
	struct http_msg m;
	struct client_addr ca;

	(void)state;
	/* Every entry trusted: the left-most one. */
	http_msg_init(&m);
	add(&m, "X-Forwarded-For", "10.0.0.9, 10.0.0.8");
	resolve(t, "10.0.0.1", &m, &ca);
	assert_string_equal(ca.text, "10.0.0.9");
	http_msg_fini(&m);
	/* An unreadable entry ends the walk at the last trusted address. */
	http_msg_init(&m);
	add(&m, "X-Forwarded-For", "203.0.113.9, unknown, 10.0.0.8");
	resolve(t, "10.0.0.1", &m, &ca);
	assert_string_equal(ca.text, "10.0.0.8");
	http_msg_fini(&m);
	/* Empty elements are skipped. */
	http_msg_init(&m);
	add(&m, "X-Forwarded-For", "203.0.113.9, ,");
	resolve(t, "10.0.0.1", &m, &ca);
	assert_string_equal(ca.text, "203.0.113.9");
	http_msg_fini(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_no_trusted),
		cmocka_unit_test(test_forged_from_untrusted),
		cmocka_unit_test(test_right_most_untrusted),
		cmocka_unit_test(test_overlapping_and_several_headers),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_all_trusted_and_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
