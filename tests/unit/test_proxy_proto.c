/*
 * test_proxy_proto.c: PROXY protocol v1/v2: what encode writes decodes
 * back to the same addresses (IPv4, IPv6, mixed families), every proper
 * prefix of a header is "more", and a table of malformed headers, each
 * refused with its reason.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cmocka.h needs stdarg.h, stddef.h and setjmp.h first. */
#include <cmocka.h>

#include "proxy_proto.h"

static void
mk(const char *addr, uint16_t port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
	} else {
		assert_int_equal(inet_pton(AF_INET6, addr, &s6->sin6_addr), 1);
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
	}
}

static void
same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	assert_int_equal(a->ss_family, b->ss_family);
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a,
		                         *y = (const void *)b;

		assert_int_equal(x->sin_addr.s_addr, y->sin_addr.s_addr);
		assert_int_equal(x->sin_port, y->sin_port);
	} else {
		const struct sockaddr_in6 *x = (const void *)a,
		                          *y = (const void *)b;

		assert_memory_equal(&x->sin6_addr, &y->sin6_addr, 16);
		assert_int_equal(x->sin6_port, y->sin6_port);
	}
}

/* clang-format off */
static const struct {
	const char *src, *dst;
	uint16_t sport, dport;
	const char *v1; /* the v1 line expected */
} pairs[] = {
	{ "192.0.2.7", "198.51.100.1", 5555, 443,
	  "PROXY TCP4 192.0.2.7 198.51.100.1 5555 443\r\n" },
	{ "2001:db8::1", "2001:db8::2", 65535, 0,
	  "PROXY TCP6 2001:db8::1 2001:db8::2 65535 0\r\n" },
	{ "255.255.255.255", "0.0.0.0", 1, 65535,
	  "PROXY TCP4 255.255.255.255 0.0.0.0 1 65535\r\n" },
};
/* clang-format on */

static void
test_roundtrip(void **state)
{
	struct sockaddr_storage src, dst;
	struct proxy_proto_info pi;
	uint8_t buf[PROXY_PROTO_ENC_MAX + 8];
	size_t i, n, cut;
	unsigned v;

	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		mk(pairs[i].src, pairs[i].sport, &src);
		mk(pairs[i].dst, pairs[i].dport, &dst);
		for (v = 1; v <= 2; v++) {
			n = proxy_proto_encode(v, (struct sockaddr *)&src,
			    (struct sockaddr *)&dst, buf);
			if (v == 1) {
				assert_int_equal(n, strlen(pairs[i].v1));
				assert_memory_equal(buf, pairs[i].v1, n);
			}
			memcpy(buf + n, "DATA", 4); /* payload follows */
			assert_int_equal(proxy_proto_decode(buf, n + 4, &pi),
			    PROXY_PROTO_OK);
			assert_int_equal(pi.version, v);
			assert_int_equal(pi.len, n);
			assert_false(pi.local);
			same_addr(&pi.src, &src);
			same_addr(&pi.dst, &dst);
			for (cut = 0; cut < n; cut++)
				assert_int_equal(proxy_proto_decode(buf, cut,
				                     &pi),
				    PROXY_PROTO_MORE);
		}
	}
}

static void
test_mixed_families_are_local(void **state)
{
	struct sockaddr_storage src, dst;
	struct proxy_proto_info pi;
	uint8_t buf[PROXY_PROTO_ENC_MAX];
	size_t n;

	mk("192.0.2.1", 1, &src);
	mk("2001:db8::1", 2, &dst);
	n = proxy_proto_encode(1, (struct sockaddr *)&src,
	    (struct sockaddr *)&dst, buf);
	assert_int_equal(n, 15);
	assert_memory_equal(buf, "PROXY UNKNOWN\r\n", 15);
	assert_int_equal(proxy_proto_decode(buf, n, &pi), PROXY_PROTO_OK);
	assert_true(pi.local);
	n = proxy_proto_encode(2, (struct sockaddr *)&src,
	    (struct sockaddr *)&dst, buf);
	assert_int_equal(n, 16);
	assert_int_equal(buf[12], 0x20); /* LOCAL */
	assert_int_equal(proxy_proto_decode(buf, n, &pi), PROXY_PROTO_OK);
	assert_true(pi.local);
	assert_int_equal(pi.len, 16);
}

/* clang-format off */
static const struct {
	const char *in;
	size_t len; /* 0: strlen */
	const char *err;
} bads[] = {
	{ "GET / HTTP/1.1\r\n", 0, "not a PROXY protocol header" },
	{ "PROXZ", 0, "not a PROXY protocol header" },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", 0, "PROXY v1 line does not end in CRLF" },
	{ "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n", 0, "PROXY v1 fields must be one space apart" },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", 0, "PROXY v1 fields must be one space apart" },
	{ "PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", 0, "unknown PROXY v1 protocol" },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", 0, "PROXY v1 line needs four addresses and ports" },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n", 0, "bad address or port in PROXY v1 line" },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n", 0, "bad address or port in PROXY v1 line" },
	{ "PROXY TCP4 ::1 5.6.7.8 1 2\r\n", 0, "bad address or port in PROXY v1 line" },
	{ "PROXY TCP6 1.2.3.4 ::1 1 2\r\n", 0, "bad address or port in PROXY v1 line" },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", 0, "PROXY v1 line needs four addresses and ports" },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3 4\r\n", 0, "malformed PROXY v1 line" },
	{ "PROXY TCP4 1.2.3.4\t5.6.7.8 1 2\r\n", 0, "PROXY v1 line holds a control byte" },
	{ "\r\n\r\n\x00\r\nQUIX\n\x21\x11\x00\x0c", 16, "not a PROXY protocol header" },
	{ "\r\n\r\n\x00\r\nQUIT\n\x31\x11\x00\x0c", 16, "PROXY v2 header with an unknown version" },
	{ "\r\n\r\n\x00\r\nQUIT\n\x22\x11\x00\x0c", 16, "PROXY v2 header with an unknown command" },
	{ "\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x04" "abcd", 20, "PROXY v2 IPv4 address block too short" },
	{ "\r\n\r\n\x00\r\nQUIT\n\x21\x21\x00\x0c" "abcdefghijkl", 28, "PROXY v2 IPv6 address block too short" },
	{ "\r\n\r\n\x00\r\nQUIT\n\x21\x11\xff\xff", 16, "PROXY v2 header too long" },
};
/* clang-format on */

static void
test_bad(void **state)
{
	struct proxy_proto_info pi;
	size_t i, len;

	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		len = bads[i].len ? bads[i].len : strlen(bads[i].in);
		if (proxy_proto_decode((const uint8_t *)bads[i].in, len, &pi) !=
		        PROXY_PROTO_BAD ||
		    strcmp(pi.error, bads[i].err) != 0) {
			print_error("case %zu: got \"%s\"\n", i,
			    pi.error ? pi.error : "(not refused)");
			fail();
		}
	}
}

static void
test_v1_limits_and_unknown(void **state)
{
	struct proxy_proto_info pi;
	char line[200];

	/* 107 bytes without a LF: too long; fewer: more. */
	memset(line, 'x', sizeof(line));
	memcpy(line, "PROXY ", 6);
	assert_int_equal(proxy_proto_decode((uint8_t *)line, 106, &pi),
	    PROXY_PROTO_MORE);
	assert_int_equal(proxy_proto_decode((uint8_t *)line, 107, &pi),
	    PROXY_PROTO_BAD);
	assert_string_equal(pi.error, "PROXY v1 line too long");
	/* UNKNOWN ignores the rest of the line. */
	strcpy(line, "PROXY UNKNOWN whatever 1 2\r\nrest");
	assert_int_equal(proxy_proto_decode((uint8_t *)line, strlen(line), &pi),
	    PROXY_PROTO_OK);
	assert_true(pi.local);
	assert_int_equal(pi.len, strlen(line) - 4);
	/* v2 with TLVs after the addresses: their bytes are consumed. */
	memcpy(line, "\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x10", 16);
	memset(line + 16, 7, 16);
	assert_int_equal(proxy_proto_decode((uint8_t *)line, 31, &pi),
	    PROXY_PROTO_MORE);
	assert_int_equal(proxy_proto_decode((uint8_t *)line, 32, &pi),
	    PROXY_PROTO_OK);
	assert_int_equal(pi.len, 32);
	assert_false(pi.local);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_mixed_families_are_local),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_v1_limits_and_unknown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
