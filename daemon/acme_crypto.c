/*
 * acme_crypto.c: keys, JWK, JWS, CSR and the TLS-ALPN-01 certificate of
 * the ACME client (acme_crypto.h), with GnuTLS.
 *
 * ES256 signatures: GnuTLS signs into DER (SEQUENCE of r and s); JWS
 * wants r and s as two 32-byte big-endian numbers, so the DER is decoded
 * and each number left-padded or trimmed to 32 bytes.
 */
#include "acme_crypto.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

struct acme_key {
	gnutls_privkey_t pk;
};

static const char b64u[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int
acme_b64url(const void *p, size_t n, char *out, size_t outlen)
{
	const unsigned char *b = p;
	size_t i, o = 0;
	unsigned v;

	if (outlen < (n + 2) / 3 * 4 + 1)
		return -1;
	for (i = 0; i + 2 < n; i += 3) {
		v = (unsigned)b[i] << 16 | (unsigned)b[i + 1] << 8 | b[i + 2];
		out[o++] = b64u[v >> 18 & 63];
		out[o++] = b64u[v >> 12 & 63];
		out[o++] = b64u[v >> 6 & 63];
		out[o++] = b64u[v & 63];
	}
	if (n - i == 1) {
		v = (unsigned)b[i] << 16;
		out[o++] = b64u[v >> 18 & 63];
		out[o++] = b64u[v >> 12 & 63];
	} else if (n - i == 2) {
		v = (unsigned)b[i] << 16 | (unsigned)b[i + 1] << 8;
		out[o++] = b64u[v >> 18 & 63];
		out[o++] = b64u[v >> 12 & 63];
		out[o++] = b64u[v >> 6 & 63];
	}
	out[o] = '\0';
	return (int)o;
}

static int
b64_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-' || c == '+')
		return 62;
	if (c == '_' || c == '/')
		return 63;
	return -1;
}

int
acme_b64url_dec(const char *s, unsigned char *out, size_t outlen)
{
	unsigned acc = 0, bits = 0;
	size_t o = 0;
	int v;

	for (; *s != '\0' && *s != '='; s++) {
		if ((v = b64_val(*s)) < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= outlen)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	return (int)o;
}

static int
gt_fail(struct err *e, const char *what, int r)
{
	return err_set(e, "", "%s: %s", what, gnutls_strerror(r));
}

int
acme_key_generate(char **pem, struct err *e)
{
	gnutls_x509_privkey_t k;
	gnutls_datum_t d = { NULL, 0 };
	int r;

	*pem = NULL;
	if ((r = gnutls_x509_privkey_init(&k)) < 0)
		return gt_fail(e, "key", r);
	if ((r = gnutls_x509_privkey_generate(k, GNUTLS_PK_ECDSA,
	         GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0)) < 0 ||
	    (r = gnutls_x509_privkey_export2_pkcs8(k, GNUTLS_X509_FMT_PEM, NULL,
	         GNUTLS_PKCS_PLAIN, &d)) < 0) {
		gnutls_x509_privkey_deinit(k);
		return gt_fail(e, "key generation", r);
	}
	gnutls_x509_privkey_deinit(k);
	if ((*pem = malloc(d.size + 1)) == NULL) {
		gnutls_memset(d.data, 0, d.size);
		gnutls_free(d.data);
		return err_set(e, "", "out of memory");
	}
	memcpy(*pem, d.data, d.size);
	(*pem)[d.size] = '\0';
	gnutls_memset(d.data, 0, d.size);
	gnutls_free(d.data);
	return 0;
}

void
acme_pem_free(char *pem)
{
	if (pem == NULL)
		return;
	gnutls_memset(pem, 0, strlen(pem));
	free(pem);
}

struct acme_key *
acme_key_load(const char *pem, struct err *e)
{
	struct acme_key *k;
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)pem,
		(unsigned)strlen(pem) };
	int r;

	if ((k = calloc(1, sizeof(*k))) == NULL) {
		err_set(e, "", "out of memory");
		return NULL;
	}
	if ((r = gnutls_privkey_init(&k->pk)) < 0 ||
	    (r = gnutls_privkey_import_x509_raw(k->pk, &d, GNUTLS_X509_FMT_PEM,
	         NULL, 0)) < 0) {
		gt_fail(e, "key", r);
		acme_key_free(k);
		return NULL;
	}
	return k;
}

void
acme_key_free(struct acme_key *k)
{
	if (k == NULL)
		return;
	if (k->pk != NULL)
		gnutls_privkey_deinit(k->pk);
	free(k);
}

/* <d> as exactly 32 bytes (left-padded, or its leading zeros trimmed). */
static int
fixed32(const gnutls_datum_t *d, unsigned char out[32])
{
	const unsigned char *p = d->data;
	size_t n = d->size;

	while (n > 32 && *p == 0) {
		p++;
		n--;
	}
	if (n > 32)
		return -1;
	memset(out, 0, 32 - n);
	memcpy(out + 32 - n, p, n);
	return 0;
}

int
acme_key_jwk(const struct acme_key *k, char *buf, size_t len)
{
	gnutls_datum_t x = { NULL, 0 }, y = { NULL, 0 };
	gnutls_ecc_curve_t curve;
	unsigned char bx[32], by[32];
	char sx[48], sy[48];
	int r, n;

	r = gnutls_privkey_export_ecc_raw2(k->pk, &curve, &x, &y, NULL, 0);
	if (r < 0)
		return -1;
	r = (curve == GNUTLS_ECC_CURVE_SECP256R1 && fixed32(&x, bx) == 0 &&
	        fixed32(&y, by) == 0)
	    ? 0
	    : -1;
	gnutls_free(x.data);
	gnutls_free(y.data);
	if (r != 0)
		return -1;
	acme_b64url(bx, 32, sx, sizeof(sx));
	acme_b64url(by, 32, sy, sizeof(sy));
	n = snprintf(buf, len,
	    "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\","
	    "\"y\":\"%s\"}",
	    sx, sy);
	return n > 0 && (size_t)n < len ? 0 : -1;
}

int
acme_key_thumbprint(const struct acme_key *k, char out[64])
{
	unsigned char h[32];
	char jwk[256];

	if (acme_key_jwk(k, jwk, sizeof(jwk)) != 0 ||
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, jwk, strlen(jwk), h) < 0)
		return -1;
	return acme_b64url(h, 32, out, 64) < 0 ? -1 : 0;
}

/* "<b64url(protected)>.<b64url(payload)>" as a new string. */
static char *
signing_input(const char *protected_json, const char *payload)
{
	size_t pl = strlen(protected_json), yl = payload ? strlen(payload) : 0;
	size_t cap = (pl + 2) / 3 * 4 + (yl + 2) / 3 * 4 + 4;
	char *s;
	int n;

	if ((s = malloc(cap)) == NULL)
		return NULL;
	n = acme_b64url(protected_json, pl, s, cap);
	s[n++] = '.';
	acme_b64url(payload != NULL ? payload : "", yl, s + n, cap - (size_t)n);
	return s;
}

static char *
jws_join(const char *input, const unsigned char *sig, size_t siglen)
{
	const char *dot = strchr(input, '.');
	size_t cap = strlen(input) + siglen * 2 + 64;
	char *out, ssig[200];
	int n;

	if (acme_b64url(sig, siglen, ssig, sizeof(ssig)) < 0 ||
	    (out = malloc(cap)) == NULL)
		return NULL;
	n = snprintf(out, cap,
	    "{\"protected\":\"%.*s\",\"payload\":\"%s\",\"signature\":\"%s\"}",
	    (int)(dot - input), input, dot + 1, ssig);
	if (n < 0 || (size_t)n >= cap) {
		free(out);
		return NULL;
	}
	return out;
}

char *
acme_jws(const struct acme_key *k, const char *protected_json,
    const char *payload, struct err *e)
{
	gnutls_datum_t in, der = { NULL, 0 }, r = { NULL, 0 }, s = { NULL, 0 };
	unsigned char rs[64];
	char *input, *out = NULL;
	int rc;

	if ((input = signing_input(protected_json, payload)) == NULL) {
		err_set(e, "", "out of memory");
		return NULL;
	}
	in.data = (unsigned char *)input;
	in.size = (unsigned)strlen(input);
	if ((rc = gnutls_privkey_sign_data2(k->pk, GNUTLS_SIGN_ECDSA_SHA256, 0,
	         &in, &der)) < 0 ||
	    (rc = gnutls_decode_rs_value(&der, &r, &s)) < 0) {
		gt_fail(e, "JWS signature", rc);
		goto done;
	}
	if (fixed32(&r, rs) != 0 || fixed32(&s, rs + 32) != 0) {
		err_set(e, "", "JWS signature: bad r/s size");
		goto done;
	}
	if ((out = jws_join(input, rs, 64)) == NULL)
		err_set(e, "", "out of memory");
done:
	gnutls_free(der.data);
	gnutls_free(r.data);
	gnutls_free(s.data);
	free(input);
	return out;
}

char *
acme_jws_hs256(const unsigned char *mac_key, size_t mac_len,
    const char *protected_json, const char *payload, struct err *e)
{
	unsigned char mac[32];
	char *input, *out;
	int rc;

	if ((input = signing_input(protected_json, payload)) == NULL) {
		err_set(e, "", "out of memory");
		return NULL;
	}
	if ((rc = gnutls_hmac_fast(GNUTLS_MAC_SHA256, mac_key, mac_len, input,
	         strlen(input), mac)) < 0) {
		gt_fail(e, "EAB signature", rc);
		free(input);
		return NULL;
	}
	out = jws_join(input, mac, 32);
	free(input);
	if (out == NULL)
		err_set(e, "", "out of memory");
	return out;
}

char *
acme_csr(const char *key_pem, const char *const *names, size_t n, struct err *e)
{
	gnutls_x509_crq_t crq = NULL;
	gnutls_x509_privkey_t xk = NULL;
	gnutls_datum_t kd = { (unsigned char *)(uintptr_t)key_pem,
		(unsigned)strlen(key_pem) };
	gnutls_datum_t der = { NULL, 0 };
	char *out = NULL;
	size_t i, cap;
	int r;

	if ((r = gnutls_x509_privkey_init(&xk)) < 0 ||
	    (r = gnutls_x509_privkey_import(xk, &kd, GNUTLS_X509_FMT_PEM)) <
	        0 ||
	    (r = gnutls_x509_crq_init(&crq)) < 0 ||
	    (r = gnutls_x509_crq_set_version(crq, 1)) < 0 ||
	    (r = gnutls_x509_crq_set_dn_by_oid(crq, GNUTLS_OID_X520_COMMON_NAME,
	         0, names[0], (unsigned)strlen(names[0]))) < 0)
		goto fail;
	for (i = 0; i < n; i++)
		if ((r = gnutls_x509_crq_set_subject_alt_name(crq,
		         GNUTLS_SAN_DNSNAME, names[i],
		         (unsigned)strlen(names[i]),
		         i == 0 ? GNUTLS_FSAN_SET : GNUTLS_FSAN_APPEND)) < 0)
			goto fail;
	if ((r = gnutls_x509_crq_set_key(crq, xk)) < 0 ||
	    (r = gnutls_x509_crq_sign2(crq, xk, GNUTLS_DIG_SHA256, 0)) < 0 ||
	    (r = gnutls_x509_crq_export2(crq, GNUTLS_X509_FMT_DER, &der)) < 0)
		goto fail;
	cap = (der.size + 2) / 3 * 4 + 1;
	if ((out = malloc(cap)) != NULL)
		acme_b64url(der.data, der.size, out, cap);
	else
		err_set(e, "", "out of memory");
	goto done;
fail:
	gt_fail(e, "CSR", r);
done:
	gnutls_free(der.data);
	if (crq != NULL)
		gnutls_x509_crq_deinit(crq);
	if (xk != NULL)
		gnutls_x509_privkey_deinit(xk);
	return out;
}

int
acme_alpn_cred(const char *name, const char *keyauth, void **credp,
    struct err *e)
{
	gnutls_certificate_credentials_t cred = NULL;
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	unsigned char ext[34], serial[16];
	time_t now = time(NULL);
	int r;

	*credp = NULL;
	ext[0] = 0x04; /* OCTET STRING */
	ext[1] = 0x20; /* of 32 bytes */
	if ((r = gnutls_hash_fast(GNUTLS_DIG_SHA256, keyauth, strlen(keyauth),
	         ext + 2)) < 0 ||
	    (r = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial))) < 0 ||
	    (r = gnutls_x509_privkey_init(&key)) < 0 ||
	    (r = gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
	         GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0)) < 0 ||
	    (r = gnutls_x509_crt_init(&crt)) < 0)
		goto fail;
	serial[0] &= 0x7f;
	if ((r = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
	    (r = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial))) < 0 ||
	    (r = gnutls_x509_crt_set_activation_time(crt, now - 3600)) < 0 ||
	    (r = gnutls_x509_crt_set_expiration_time(crt, now + 7 * 86400)) <
	        0 ||
	    (r = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME,
	         0, name, (unsigned)strlen(name))) < 0 ||
	    (r = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME,
	         name, (unsigned)strlen(name), GNUTLS_FSAN_SET)) < 0 ||
	    (r = gnutls_x509_crt_set_extension_by_oid(crt, "1.3.6.1.5.5.7.1.31",
	         ext, sizeof(ext), 1)) < 0 ||
	    (r = gnutls_x509_crt_set_key(crt, key)) < 0 ||
	    (r = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0)) <
	        0 ||
	    (r = gnutls_certificate_allocate_credentials(&cred)) < 0 ||
	    (r = gnutls_certificate_set_x509_key(cred, &crt, 1, key)) < 0)
		goto fail;
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	*credp = cred;
	return 0;
fail:
	if (cred != NULL)
		gnutls_certificate_free_credentials(cred);
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	if (key != NULL)
		gnutls_x509_privkey_deinit(key);
	return gt_fail(e, "tls-alpn-01 certificate", r);
}

void
acme_alpn_cred_free(void *cred)
{
	if (cred != NULL)
		gnutls_certificate_free_credentials(cred);
}
