/*
 * acme_chal.c: the table of challenge answers (acme_chal.h).
 */
#include "acme_chal.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "acme_crypto.h"
#include "conn.h"
#include "stats.h"

#define CHAL_MAX    64
#define TOKEN_MAX   128
#define KEYAUTH_MAX 256
#define ALPN_GRACE  120 /* s a withdrawn certificate is kept */

struct chal_http {
	char token[TOKEN_MAX];
	char keyauth[KEYAUTH_MAX];
};

struct chal_alpn {
	char name[256];
	void *cred;
	time_t gone; /* withdrawn at; 0: live */
};

static struct {
	pthread_mutex_t mu;
	struct chal_http http[CHAL_MAX];
	size_t nhttp;
	struct chal_alpn alpn[CHAL_MAX];
	size_t nalpn;
} chal = { .mu = PTHREAD_MUTEX_INITIALIZER };

int
acme_chal_http_add(const char *token, const char *keyauth, struct err *e)
{
	int rc = 0;

	if (strlen(token) >= TOKEN_MAX || strlen(keyauth) >= KEYAUTH_MAX)
		return err_set(e, "", "challenge token too long");
	pthread_mutex_lock(&chal.mu);
	if (chal.nhttp == CHAL_MAX) {
		rc = err_set(e, "", "too many challenges at once");
	} else {
		snprintf(chal.http[chal.nhttp].token, TOKEN_MAX, "%s", token);
		snprintf(chal.http[chal.nhttp].keyauth, KEYAUTH_MAX, "%s",
		    keyauth);
		chal.nhttp++;
	}
	pthread_mutex_unlock(&chal.mu);
	return rc;
}

void
acme_chal_http_del(const char *token)
{
	size_t i;

	pthread_mutex_lock(&chal.mu);
	for (i = 0; i < chal.nhttp; i++)
		if (strcmp(chal.http[i].token, token) == 0) {
			chal.http[i] = chal.http[--chal.nhttp];
			break;
		}
	pthread_mutex_unlock(&chal.mu);
}

int
acme_chal_alpn_add(const char *name, const char *keyauth, struct err *e)
{
	void *cred;
	size_t i;
	int rc = 0;

	if (strlen(name) >= sizeof(chal.alpn[0].name))
		return err_set(e, "", "name too long");
	if (acme_alpn_cred(name, keyauth, &cred, e) != 0)
		return -1;
	pthread_mutex_lock(&chal.mu);
	for (i = 0; i < chal.nalpn; i++)
		if (chal.alpn[i].gone == 0 &&
		    strcasecmp(chal.alpn[i].name, name) == 0)
			chal.alpn[i].gone = time(NULL);
	if (chal.nalpn == CHAL_MAX) {
		rc = err_set(e, "", "too many challenges at once");
	} else {
		snprintf(chal.alpn[chal.nalpn].name, sizeof(chal.alpn[0].name),
		    "%s", name);
		chal.alpn[chal.nalpn].cred = cred;
		chal.alpn[chal.nalpn].gone = 0;
		chal.nalpn++;
		cred = NULL;
	}
	pthread_mutex_unlock(&chal.mu);
	acme_alpn_cred_free(cred);
	return rc;
}

void
acme_chal_alpn_del(const char *name)
{
	size_t i;

	pthread_mutex_lock(&chal.mu);
	for (i = 0; i < chal.nalpn; i++)
		if (chal.alpn[i].gone == 0 &&
		    strcasecmp(chal.alpn[i].name, name) == 0)
			chal.alpn[i].gone = time(NULL);
	pthread_mutex_unlock(&chal.mu);
}

void
acme_chal_gc(bool all)
{
	void *dead[CHAL_MAX];
	size_t i = 0, n = 0;
	time_t now = time(NULL);

	pthread_mutex_lock(&chal.mu);
	while (i < chal.nalpn) {
		if (all ||
		    (chal.alpn[i].gone != 0 &&
		        now - chal.alpn[i].gone > ALPN_GRACE)) {
			dead[n++] = chal.alpn[i].cred;
			chal.alpn[i] = chal.alpn[--chal.nalpn];
		} else {
			i++;
		}
	}
	if (all)
		chal.nhttp = 0;
	pthread_mutex_unlock(&chal.mu);
	for (i = 0; i < n; i++)
		acme_alpn_cred_free(dead[i]);
}

void *
acme_chal_alpn_cred(const char *name)
{
	void *cred = NULL;
	size_t i;

	pthread_mutex_lock(&chal.mu);
	for (i = 0; i < chal.nalpn; i++)
		if (chal.alpn[i].gone == 0 &&
		    strcasecmp(chal.alpn[i].name, name) == 0) {
			cred = chal.alpn[i].cred;
			break;
		}
	pthread_mutex_unlock(&chal.mu);
	return cred;
}

bool
acme_chal_http_answer(struct conn *c, struct str path)
{
	static const size_t plen = sizeof(ACME_CHAL_PREFIX) - 1;
	struct req *r = c->req;
	char buf[512], body[KEYAUTH_MAX + 1];
	size_t i, tlen;
	int n, status = 404;

	if (path.len <= plen || memcmp(path.p, ACME_CHAL_PREFIX, plen) != 0)
		return false;
	tlen = path.len - plen;
	body[0] = '\0';
	pthread_mutex_lock(&chal.mu);
	for (i = 0; i < chal.nhttp; i++)
		if (strlen(chal.http[i].token) == tlen &&
		    memcmp(chal.http[i].token, path.p + plen, tlen) == 0) {
			snprintf(body, sizeof(body), "%s",
			    chal.http[i].keyauth);
			status = 200;
			break;
		}
	pthread_mutex_unlock(&chal.mu);
	if (status == 404)
		snprintf(body, sizeof(body), "404 no such challenge\n");
	n = snprintf(buf, sizeof(buf),
	    "HTTP/1.1 %d %s\r\nServer: gatehouse\r\n"
	    "Content-Type: %s\r\nContent-Length: %zu\r\n%s\r\n%s",
	    status, status == 200 ? "OK" : "Not Found",
	    status == 200 ? "application/octet-stream"
	                  : "text/plain; charset=utf-8",
	    strlen(body),
	    (r->flags & REQ_F_CLOSE) ? "Connection: close\r\n" : "",
	    (r->flags & REQ_F_HEAD_METHOD) ? "" : body);
	if (n > 0 && (size_t)n < sizeof(buf)) {
		if (conn_write(c, buf, (size_t)n) == -1)
			r->flags |= REQ_F_CLOSE;
		r->bytes_out += (uint64_t)n;
	}
	r->status = (uint16_t)status;
	(void)req_to(r, REQ_OUT_DONE);
	return true;
}
