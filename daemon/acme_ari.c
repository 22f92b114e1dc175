/*
 * acme_ari.c: ACME Renewal Information (RFC 9773), acme_ari.h.
 *
 * The identifier names a certificate to its CA without the CA's database
 * (the key id of the issuer and the serial). The window is the CA's word
 * on when to renew; a client picks a uniformly random moment in it so
 * that a CA's whole population does not come back at once (section 4.2),
 * and renews at once when the window is already past.
 */
#include "acme_ari.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "acme_crypto.h"
#include "json.h"

int
acme_ari_cert_id(const char *chain_pem, char *out, size_t len, struct err *e)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t d;
	unsigned char aki[64], serial[40];
	size_t akilen = sizeof(aki), slen = sizeof(serial);
	unsigned crit = 0;
	int n;

	if (chain_pem == NULL)
		return err_set(e, "", "no certificate");
	if (gnutls_x509_crt_init(&crt) < 0)
		return err_set(e, "", "out of memory");
	d.data = (unsigned char *)(uintptr_t)chain_pem;
	d.size = (unsigned)strlen(chain_pem);
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) < 0) {
		gnutls_x509_crt_deinit(crt);
		return err_set(e, "", "the certificate does not parse");
	}
	if (gnutls_x509_crt_get_authority_key_id(crt, aki, &akilen, &crit) <
	    0) {
		gnutls_x509_crt_deinit(crt);
		return err_set(e, "",
		    "the certificate has no authority key identifier");
	}
	if (gnutls_x509_crt_get_serial(crt, serial, &slen) < 0 || slen == 0) {
		gnutls_x509_crt_deinit(crt);
		return err_set(e, "", "the certificate has no serial");
	}
	gnutls_x509_crt_deinit(crt);
	if ((n = acme_b64url(aki, akilen, out, len)) < 0 ||
	    (size_t)n + 2 > len ||
	    acme_b64url(serial, slen, out + n + 1, len - (size_t)n - 1) < 0)
		return err_set(e, "", "the ARI identifier is too long");
	out[n] = '.';
	return 0;
}

/* Days from 1970-01-01 to <y>-<m>-<d> (proleptic Gregorian). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int
digits(const char *s, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

int
acme_ari_time(const char *s, int64_t *t)
{
	static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30,
		31, 30, 31 };
	int y, mo, d, h, mi, sec, oh, om;
	const char *p;
	int64_t off = 0;

	if (s == NULL || strlen(s) < 20 || digits(s, 4, &y) != 0 ||
	    s[4] != '-' || digits(s + 5, 2, &mo) != 0 || s[7] != '-' ||
	    digits(s + 8, 2, &d) != 0 || (s[10] != 'T' && s[10] != 't') ||
	    digits(s + 11, 2, &h) != 0 || s[13] != ':' ||
	    digits(s + 14, 2, &mi) != 0 || s[16] != ':' ||
	    digits(s + 17, 2, &sec) != 0)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || (unsigned)d > mdays[mo - 1] ||
	    h > 23 || mi > 59 || sec > 60)
		return -1;
	p = s + 19;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		if (digits(p + 1, 2, &oh) != 0 || p[3] != ':' ||
		    digits(p + 4, 2, &om) != 0 || oh > 23 || om > 59)
			return -1;
		off = (int64_t)(oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
		p += 6;
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;
	*t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 +
	    mi * 60 + (sec == 60 ? 59 : sec) - off;
	return 0;
}

int
acme_ari_parse(const char *body, size_t len, int64_t *start, int64_t *end,
    struct err *e)
{
	struct json *j, *w;
	const char *a, *b;
	int rc = -1;

	if (body == NULL || (j = json_parse(body, len, e)) == NULL)
		return err_set(e, "", "the renewal information is not JSON");
	w = json_get(j, "suggestedWindow");
	a = json_str(json_get(w, "start"));
	b = json_str(json_get(w, "end"));
	if (a == NULL || b == NULL)
		err_set(e, "",
		    "the renewal information has no suggestedWindow "
		    "start and end");
	else if (acme_ari_time(a, start) != 0)
		err_set(e, "",
		    "suggestedWindow.start \"%.40s\" is not an "
		    "RFC 3339 time",
		    a);
	else if (acme_ari_time(b, end) != 0)
		err_set(e, "",
		    "suggestedWindow.end \"%.40s\" is not an "
		    "RFC 3339 time",
		    b);
	else if (*end <= *start)
		err_set(e, "",
		    "suggestedWindow ends (%.40s) before it starts (%.40s)", b,
		    a);
	else
		rc = 0;
	json_unref(j);
	return rc;
}

int64_t
acme_ari_choose(int64_t start, int64_t end, int64_t now, uint64_t rnd)
{
	if (end <= now)
		return now;
	if (start < now)
		start = now;
	return start + (int64_t)(rnd % (uint64_t)(end - start));
}

int64_t
acme_ari_recheck(int64_t now, long retry_after)
{
	if (retry_after <= 0)
		return now + 6 * 3600;
	if (retry_after < 3600)
		return now + 3600;
	if (retry_after > 86400)
		return now + 86400;
	return now + retry_after;
}
