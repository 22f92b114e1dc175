/*
 * acme_http.c: libcurl (GnuTLS flavour) for the ACME client.
 */
#include "acme_http.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "config.h"

#define ACME_BODY_MAX (1024u * 1024u)

int
acme_http_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static size_t
on_body(char *p, size_t sz, size_t nm, void *arg)
{
	struct acme_resp *r = arg;
	size_t n = sz * nm;
	char *b;

	if (r->len + n > ACME_BODY_MAX ||
	    (b = realloc(r->body, r->len + n + 1)) == NULL)
		return 0;
	memcpy(b + r->len, p, n);
	r->len += n;
	b[r->len] = '\0';
	r->body = b;
	return n;
}

static void
hdr_copy(char *dst, size_t cap, const char *v, size_t n)
{
	while (n > 0 &&
	    (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
		n--;
	while (n > 0 && *v == ' ') {
		v++;
		n--;
	}
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

static size_t
on_header(char *p, size_t sz, size_t nm, void *arg)
{
	struct acme_resp *r = arg;
	size_t n = sz * nm, k;
	char v[64];
	const char *colon = memchr(p, ':', n);

	if (colon == NULL)
		return n;
	k = (size_t)(colon - p);
	colon++;
	if (k == 12 && strncasecmp(p, "Replay-Nonce", k) == 0)
		hdr_copy(r->nonce, sizeof(r->nonce), colon,
		    n - (size_t)(colon - p));
	else if (k == 8 && strncasecmp(p, "Location", k) == 0)
		hdr_copy(r->location, sizeof(r->location), colon,
		    n - (size_t)(colon - p));
	else if (k == 12 && strncasecmp(p, "Content-Type", k) == 0)
		hdr_copy(r->ctype, sizeof(r->ctype), colon,
		    n - (size_t)(colon - p));
	else if (k == 11 && strncasecmp(p, "Retry-After", k) == 0) {
		hdr_copy(v, sizeof(v), colon, n - (size_t)(colon - p));
		if (isdigit((unsigned char)v[0]))
			r->retry_after = strtol(v, NULL, 10);
	}
	return n;
}

int
acme_http(const char *method, const char *url, const char *ca_file,
    const char *body, struct acme_resp *out, struct err *e)
{
	struct curl_slist *h = NULL;
	CURL *c;
	CURLcode rc;

	memset(out, 0, sizeof(*out));
	if ((c = curl_easy_init()) == NULL)
		return err_set(e, "", "curl: cannot start a request");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, ca_file);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_USERAGENT,
	    "gatehouse-acme/" PACKAGE_VERSION);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
	if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (strcmp(method, "POST") == 0) {
		h = curl_slist_append(h, "Content-Type: application/jose+json");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS,
		    body != NULL ? body : "");
	}
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	if (rc != CURLE_OK) {
		acme_resp_free(out);
		return err_set(e, "", "%s: %s", url, curl_easy_strerror(rc));
	}
	return 0;
}

void
acme_resp_free(struct acme_resp *r)
{
	free(r->body);
	r->body = NULL;
	r->len = 0;
}
