/*
 * test_rewrite.c: the origin's request head (daemon/rewrite.c) as a pure
 * function: exact output for the header actions, Forwarded merging, and
 * the snprintf-like size contract.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* cmocka.h needs stdarg.h, stddef.h and setjmp.h first. */
#include <cmocka.h>

#include "msg_build.h"
#include "rewrite.h"

static void
base(struct rewrite_req *rq, struct http_msg *m, const char *method)
{
	http_msg_init(m);
	m->method_name = span(m, method);
	memset(rq, 0, sizeof(*rq));
	rq->m = m;
	rq->path = STR_LIT("/p");
	rq->query = STR_LIT("?q=1");
	rq->peer = "192.0.2.7";
	rq->default_host = STR_LIT("10.0.0.1:8080");
}

static void
check(const struct rewrite_req *rq, const char *want)
{
	char buf[2048];
	size_t n = rewrite_request_head(rq, buf, sizeof(buf));

	assert_true(n < sizeof(buf));
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

static void
test_plain(void **state)
{
	struct rewrite_req rq;
	struct http_msg m;

	(void)state;
	base(&rq, &m, "GET");
	add(&m, "Host", "app.test");
	add(&m, "Connection", "X-Private, keep-alive");
	add(&m, "X-Private", "secret");
	add(&m, "Keep-Alive", "timeout=5");
	add(&m, "Upgrade", "h2c");
	add(&m, "TE", "trailers");
	add(&m, "Accept", "*/*");
	add(&m, "Expect", "100-continue");
	add(&m, "Content-Length", "3");
	add(&m, "X-Forwarded-For", "203.0.113.9");
	add(&m, "X-Forwarded-Proto", "https");
	add(&m, "X-Client-Cert-Subject", "CN=forged");
	rq.body = REWRITE_BODY_LENGTH;
	rq.length = 3;
	check(&rq,
	    "GET /p?q=1 HTTP/1.1\r\n"
	    "Host: app.test\r\n"
	    "Accept: */*\r\n"
	    "X-Forwarded-For: 192.0.2.7\r\n"
	    "X-Forwarded-Proto: http\r\n"
	    "X-Forwarded-Host: app.test\r\n"
	    "Content-Length: 3\r\n"
	    "\r\n");
	http_msg_fini(&m);
}

static void
test_absolute_trusted_forwarded(void **state)
{
	struct rewrite_req rq;
	struct http_msg m;

	(void)state;
	base(&rq, &m, "POST");
	add(&m, "Host", "ignored.test");
	add(&m, "Forwarded", "for=198.51.100.1");
	add(&m, "Accept", "a");
	add(&m, "X-Forwarded-For", "198.51.100.1");
	add(&m, "Forwarded", "for=198.51.100.2");
	add(&m, "X-Forwarded-Host", "front.test");
	add(&m, "X-Forwarded-Host", "second.test");
	add(&m, "X-Forwarded-For", "198.51.100.2");
	add(&m, "Accept-Language", "b");
	rq.absolute = true;
	rq.authority = STR_LIT("app.test:8080");
	rq.trust = true;
	rq.forwarded = true;
	rq.https = true;
	rq.peer = "2001:db8::1";
	rq.peer_v6 = true;
	rq.cert_subject = "CN=client";
	rq.cert_fingerprint = "ab:cd";
	rq.body = REWRITE_BODY_CHUNKED;
	check(&rq,
	    "POST /p?q=1 HTTP/1.1\r\n"
	    "Host: app.test:8080\r\n"
	    "Accept: a\r\n"
	    "Accept-Language: b\r\n"
	    "Forwarded: for=198.51.100.1, for=198.51.100.2, "
	    "for=\"[2001:db8::1]\";host=\"app.test:8080\";proto=https\r\n"
	    "X-Forwarded-For: 198.51.100.1, 198.51.100.2, 2001:db8::1\r\n"
	    "X-Forwarded-Proto: https\r\n"
	    "X-Client-Cert-Subject: CN=client\r\n"
	    "X-Client-Cert-Fingerprint: ab:cd\r\n"
	    "X-Forwarded-Host: front.test\r\n"
	    "Transfer-Encoding: chunked\r\n"
	    "\r\n");
	http_msg_fini(&m);
}

static void
test_untrusted_no_host_upgrade(void **state)
{
	struct rewrite_req rq;
	struct http_msg m;

	(void)state;
	base(&rq, &m, "GET");
	add(&m, "Forwarded", "for=evil");
	add(&m, "X-Forwarded-Host", "evil.test");
	add(&m, "Connection", "Upgrade");
	add(&m, "Upgrade", "websocket");
	add(&m, "Sec-WebSocket-Key", "k");
	rq.query = STR_LIT("");
	rq.upgrade = true;
	check(&rq,
	    "GET /p HTTP/1.1\r\n"
	    "Sec-WebSocket-Key: k\r\n"
	    "Host: 10.0.0.1:8080\r\n"
	    "X-Forwarded-For: 192.0.2.7\r\n"
	    "X-Forwarded-Proto: http\r\n"
	    "Upgrade: websocket\r\n"
	    "Connection: upgrade\r\n"
	    "\r\n");
	http_msg_fini(&m);
}

static void
test_size_contract(void **state)
{
	struct rewrite_req rq;
	struct http_msg m;
	char full[1024], small[40];
	size_t n, k;

	(void)state;
	base(&rq, &m, "GET");
	add(&m, "Host", "app.test");
	n = rewrite_request_head(&rq, full, sizeof(full));
	assert_true(n > sizeof(small) && n < sizeof(full));
	assert_int_equal(rewrite_request_head(&rq, NULL, 0), n);
	assert_int_equal(rewrite_request_head(&rq, small, sizeof(small)), n);
	for (k = n - 2; k <= n; k++) {
		char buf[1024];

		assert_int_equal(rewrite_request_head(&rq, buf, k), n);
	}
	http_msg_fini(&m);
}

static void
test_hop(void **state)
{
	(void)state;
	assert_true(rewrite_is_hop(STR_LIT("Connection")));
	assert_true(rewrite_is_hop(STR_LIT("transfer-encoding")));
	assert_true(rewrite_is_hop(STR_LIT("UPGRADE")));
	assert_false(rewrite_is_hop(STR_LIT("expect")));
	assert_false(rewrite_is_hop(STR_LIT("host")));
	assert_false(rewrite_is_hop(STR_LIT("x-forwarded-for")));
	assert_false(rewrite_is_hop(STR_LIT("")));
	/* The first byte is compared before the rest, in either case. */
	assert_true(rewrite_is_hop(STR_LIT("tE")));
	assert_true(rewrite_is_hop(STR_LIT("KEEP-ALIVE")));
	assert_true(rewrite_is_hop(STR_LIT("Proxy-Authorization")));
	assert_false(rewrite_is_hop(STR_LIT("xonnection")));
	assert_false(rewrite_is_hop(STR_LIT("Connectiom")));
	assert_false(rewrite_is_hop(STR_LIT("#onnection")));
	assert_false(rewrite_is_hop(STR_LIT("\x03onnection"))); /* 'c' ^ 0x60 */
	assert_false(rewrite_is_hop(STR_LIT("x")));
	/* Every length of the table, the search stopping at longer names. */
	assert_true(rewrite_is_hop(STR_LIT("Trailer")));
	assert_true(rewrite_is_hop(STR_LIT("Content-Length")));
	assert_true(rewrite_is_hop(STR_LIT("Proxy-Connection")));
	assert_false(rewrite_is_hop(STR_LIT("Proxy-Authorizatio")));
	assert_false(rewrite_is_hop(STR_LIT("Proxy-Authorizationx")));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_absolute_trusted_forwarded),
		cmocka_unit_test(test_untrusted_no_host_upgrade),
		cmocka_unit_test(test_size_contract),
		cmocka_unit_test(test_hop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
