/*
 * fuzz_http1_response.c: HTTP/1 response heads, chunked decoding, 1xx,
 * close-delimited bodies.
 *
 * The first byte says whether the request was HEAD (bit 0); the rest is
 * what an origin sends on one connection. http1_fuzz.h says what is
 * checked.
 */
#include "http1_fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	fz_http1(HTTP1_RESPONSE, data[0] & 1, data + 1, size - 1);
	return 0;
}
