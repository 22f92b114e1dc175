/*
 * api_acme_metrics.c: the /metrics lines of certificates: the expiry of
 * every leaf, the ACME certificates by status and each one's failures in
 * a row.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_int.h"
#include "store.h"
#include "x509.h"

static void
mp(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list ap;
	char *nb;
	int n;

	if (*buf == NULL)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			return;
		}
		if ((size_t)n < *cap - *len) {
			*len += (size_t)n;
			return;
		}
		if ((nb = realloc(*buf, *cap * 2 + (size_t)n)) == NULL) {
			free(*buf);
			*buf = NULL;
			return;
		}
		*buf = nb;
		*cap = *cap * 2 + (size_t)n;
	}
}

char *
acme_metrics(struct store *st)
{
	static const char *const statuses[] = { "pending", "valid", "renewing",
		"failed" };
	struct x509_info *in;
	struct store_stmt *s;
	size_t len = 0, cap = 4096, i;
	int64_t now = (int64_t)time(NULL), n;
	char *buf = malloc(cap);
	struct err e;

	if (buf == NULL)
		return NULL;
	buf[0] = '\0';
	mp(&buf, &len, &cap,
	    "# HELP gatehouse_certificate_expiry_seconds seconds until each "
	    "leaf certificate expires (negative: expired)\n"
	    "# TYPE gatehouse_certificate_expiry_seconds gauge\n");
	if ((in = calloc(1, sizeof(*in))) != NULL &&
	    (s = store_prepare(st,
	         "SELECT name, certificate_pem FROM certificates"
	         " WHERE kind = 'leaf' ORDER BY id",
	         &e)) != NULL) {
		while (store_step(s, &e) == STORE_ROW)
			if (x509_check(store_col_text(s, 1), NULL, in, &e) == 0)
				mp(&buf, &len, &cap,
				    "gatehouse_certificate_expiry_seconds"
				    "{certificate=\"%s\"} %" PRId64 "\n",
				    store_col_text(s, 0), in->not_after - now);
		store_finalize(s);
	}
	free(in);
	mp(&buf, &len, &cap,
	    "# HELP gatehouse_acme_certificates certificates managed by the "
	    "ACME client, by status\n"
	    "# TYPE gatehouse_acme_certificates gauge\n");
	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		n = 0;
		if ((s = store_prepare(st,
		         "SELECT count(*) FROM acme_certs WHERE status = ?1",
		         &e)) != NULL) {
			store_bind_text(s, 1, statuses[i]);
			if (store_step(s, &e) == STORE_ROW)
				n = store_col_int64(s, 0);
			store_finalize(s);
		}
		mp(&buf, &len, &cap,
		    "gatehouse_acme_certificates{status=\"%s\"} %" PRId64 "\n",
		    statuses[i], n);
	}
	mp(&buf, &len, &cap,
	    "# HELP gatehouse_acme_failures failed attempts in a row of each "
	    "ACME certificate (0: the last one succeeded)\n"
	    "# TYPE gatehouse_acme_failures gauge\n");
	if ((s = store_prepare(st,
	         "SELECT c.name, a.attempts FROM acme_certs a JOIN"
	         " certificates c ON c.id = a.certificate_id ORDER BY c.id",
	         &e)) != NULL) {
		while (store_step(s, &e) == STORE_ROW)
			mp(&buf, &len, &cap,
			    "gatehouse_acme_failures{certificate=\"%s\"} "
			    "%" PRId64 "\n",
			    store_col_text(s, 0), store_col_int64(s, 1));
		store_finalize(s);
	}
	return buf;
}
