/*
 * fuzz_proxy_proto.c: the PROXY protocol v1/v2 parser (daemon/proxy_proto.c)
 * that reads what a trusted load balancer sends first.
 *
 * Checked: every answer is OK, MORE or BAD; BAD says why; OK consumes no
 * more than it was given and no more than the version allows; MORE is
 * only for inputs shorter than the longest header; every proper prefix of
 * an accepted header is MORE or the same OK; an accepted header with
 * addresses encodes back (same version) to one that decodes to the same
 * addresses.
 */
#include <netinet/in.h>

#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "proxy_proto.h"

static bool
fz_same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a,
		                         *y = (const void *)b;

		return x->sin_port == y->sin_port &&
		    x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a,
		                          *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		    memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
	}
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_proto_info pi, again;
	enum proxy_proto_status st, s2;
	uint8_t enc[PROXY_PROTO_ENC_MAX];
	size_t n, i;

	memset(&pi, 0, sizeof(pi));
	st = proxy_proto_decode(data, size, &pi);
	FUZZ_CHECK(st == PROXY_PROTO_OK || st == PROXY_PROTO_MORE ||
	    st == PROXY_PROTO_BAD);
	if (st == PROXY_PROTO_BAD) {
		FUZZ_CHECK(pi.error != NULL && pi.error[0] != '\0');
		return 0;
	}
	if (st == PROXY_PROTO_MORE) {
		FUZZ_CHECK(size < PROXY_PROTO_V2_MAX);
		return 0;
	}
	FUZZ_CHECK(pi.len > 0 && pi.len <= size);
	FUZZ_CHECK(pi.version == 1 || pi.version == 2);
	FUZZ_CHECK(pi.len <=
	    (pi.version == 1 ? PROXY_PROTO_V1_MAX : PROXY_PROTO_V2_MAX));
	for (i = 0; i < pi.len; i++) {
		memset(&again, 0, sizeof(again));
		s2 = proxy_proto_decode(data, i, &again);
		FUZZ_CHECK(s2 == PROXY_PROTO_MORE);
	}
	if (pi.local)
		return 0;
	FUZZ_CHECK(pi.src.ss_family == AF_INET || pi.src.ss_family == AF_INET6);
	n = proxy_proto_encode(pi.version, (const struct sockaddr *)&pi.src,
	    (const struct sockaddr *)&pi.dst, enc);
	FUZZ_CHECK(n > 0 && n <= PROXY_PROTO_ENC_MAX);
	memset(&again, 0, sizeof(again));
	s2 = proxy_proto_decode(enc, n, &again);
	FUZZ_CHECK(s2 == PROXY_PROTO_OK && again.len == n);
	FUZZ_CHECK(again.version == pi.version);
	if (pi.src.ss_family == pi.dst.ss_family) {
		FUZZ_CHECK(!again.local);
		FUZZ_CHECK(fz_same_addr(&pi.src, &again.src));
		FUZZ_CHECK(fz_same_addr(&pi.dst, &again.dst));
	}
	return 0;
}
