/*
 * fuzz_http1_request.c: HTTP/1 request heads and body framing.
 *
 * The input is the bytes a client sends on one connection (pipelined
 * requests, bodies, garbage); http1_fuzz.h says what is checked.
 */
#include "http1_fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_http1(HTTP1_REQUEST, 0, data, size);
	return 0;
}
