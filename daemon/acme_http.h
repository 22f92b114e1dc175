/*
 * acme_http.h: HTTPS requests to an ACME server (acme_http.c is the only
 * libcurl includer). Blocking, for the ACME thread only. Verification of
 * the server is always on: against <ca_file> when given (a private CA's
 * PEM), else the system trust store.
 */
#ifndef GH_ACME_HTTP_H
#define GH_ACME_HTTP_H

#include <stddef.h>

#include "err.h"

struct acme_resp {
	long status;
	char *body; /* NUL-terminated; free() */
	size_t len;
	char nonce[256];     /* Replay-Nonce */
	char location[1024]; /* Location */
	char ctype[128];     /* Content-Type */
	long retry_after;    /* Retry-After in seconds, 0 when absent */
};

int acme_http_init(void);
/* GET, HEAD, or POST of <body> as application/jose+json, to <url>.
 * 0 with <out> filled (any HTTP status), or -1 + <e> (no answer).
 */
int acme_http(const char *method, const char *url, const char *ca_file,
    const char *body, struct acme_resp *out, struct err *e);
void acme_resp_free(struct acme_resp *r);

#endif
