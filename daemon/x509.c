/*
 * x509.c: the X.509 shim: PEM checks and descriptions for the certificate
 * store, self-signed certificates (store and admin listener) and SHA-256,
 * through GnuTLS.
 *
 * Used by the admin API (uploads, generation, token digests) and by the
 * TLS code for client certificate descriptions. Admin certificate files
 * are written to a temporary name, synced and renamed, so a crash never
 * leaves half a key behind.
 */
#include "x509.h"

#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

static int
file_write(const char *path, const void *p, size_t n, mode_t mode,
    struct err *e)
{
	char tmp[4096];
	ssize_t w;
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return err_set(e, "", "%s: %s", tmp, strerror(errno));
	w = write(fd, p, n);
	if (w < 0 || (size_t)w != n || fsync(fd) != 0) {
		close(fd);
		unlink(tmp);
		return err_set(e, "", "%s: write failed", tmp);
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		unlink(tmp);
		return err_set(e, "", "%s: %s", path, strerror(errno));
	}
	return 0;
}

int
x509_selfsigned_files(const char *cert_path, const char *key_path,
    const char *host, struct err *e)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t kpem = { NULL, 0 }, cpem = { NULL, 0 };
	unsigned char serial[16], ip[16];
	time_t now = time(NULL);
	int rc = -1, r;

	if ((r = gnutls_x509_privkey_init(&key)) < 0 ||
	    (r = gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
	         GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0)) < 0 ||
	    (r = gnutls_x509_crt_init(&crt)) < 0)
		goto gnutls_fail;
	if ((r = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial))) < 0)
		goto gnutls_fail;
	serial[0] &= 0x7f;
	if ((r = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
	    (r = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial))) < 0 ||
	    (r = gnutls_x509_crt_set_activation_time(crt, now - 3600)) < 0 ||
	    (r = gnutls_x509_crt_set_expiration_time(crt,
	         now + 3650L * 86400)) < 0 ||
	    (r = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME,
	         0, "gatehouse admin", 15)) < 0 ||
	    (r = gnutls_x509_crt_set_key(crt, key)) < 0 ||
	    (r = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME,
	         "localhost", 9, GNUTLS_FSAN_APPEND)) < 0 ||
	    (r = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) < 0 ||
	    (r = gnutls_x509_crt_set_key_usage(crt,
	         GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0 ||
	    (r = gnutls_x509_crt_set_key_purpose_oid(crt,
	         GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0)
		goto gnutls_fail;
	if (host != NULL &&
	    (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0)) {
		/* A wildcard address: name what clients will dial. */
		char hn[256];
		inet_pton(AF_INET, "127.0.0.1", ip);
		if ((r = gnutls_x509_crt_set_subject_alt_name(crt,
		         GNUTLS_SAN_IPADDRESS, ip, 4, GNUTLS_FSAN_APPEND)) < 0)
			goto gnutls_fail;
		inet_pton(AF_INET6, "::1", ip);
		if ((r = gnutls_x509_crt_set_subject_alt_name(crt,
		         GNUTLS_SAN_IPADDRESS, ip, 16, GNUTLS_FSAN_APPEND)) < 0)
			goto gnutls_fail;
		if (gethostname(hn, sizeof(hn)) == 0 && hn[0] != '\0' &&
		    strcmp(hn, "localhost") != 0 &&
		    (r = gnutls_x509_crt_set_subject_alt_name(crt,
		         GNUTLS_SAN_DNSNAME, hn, (unsigned)strlen(hn),
		         GNUTLS_FSAN_APPEND)) < 0)
			goto gnutls_fail;
	} else if (host != NULL) {
		r = 0;
		if (inet_pton(AF_INET, host, ip) == 1)
			r = gnutls_x509_crt_set_subject_alt_name(crt,
			    GNUTLS_SAN_IPADDRESS, ip, 4, GNUTLS_FSAN_APPEND);
		else if (inet_pton(AF_INET6, host, ip) == 1)
			r = gnutls_x509_crt_set_subject_alt_name(crt,
			    GNUTLS_SAN_IPADDRESS, ip, 16, GNUTLS_FSAN_APPEND);
		if (r < 0)
			goto gnutls_fail;
	}
	if ((r = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0)) <
	        0 ||
	    (r = gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM,
	         NULL, GNUTLS_PKCS_PLAIN, &kpem)) < 0 ||
	    (r = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &cpem)) < 0)
		goto gnutls_fail;
	if (file_write(key_path, kpem.data, kpem.size, 0600, e) != 0 ||
	    file_write(cert_path, cpem.data, cpem.size, 0644, e) != 0)
		goto out;
	rc = 0;
	goto out;
gnutls_fail:
	err_set(e, "", "admin certificate: %s", gnutls_strerror(r));
out:
	gnutls_free(kpem.data);
	gnutls_free(cpem.data);
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	if (key != NULL)
		gnutls_x509_privkey_deinit(key);
	return rc;
}

int
x509_sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char d[32];
	size_t i;

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, p, n, d) < 0)
		return -1;
	for (i = 0; i < sizeof(d); i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
	return 0;
}

static void
hex_of(const unsigned char *d, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hx[d[i] >> 4];
		out[2 * i + 1] = hx[d[i] & 15];
	}
	out[2 * n] = '\0';
}

/* "RSA-2048" etc. into <out>, or -1 with a reason for unsupported keys. */
static int
key_type_name(gnutls_pk_algorithm_t pk, unsigned bits, gnutls_ecc_curve_t curve,
    char *out, size_t len, char *why, size_t wlen)
{
	switch (pk) {
	case GNUTLS_PK_RSA:
		if (bits < 2048) {
			snprintf(why, wlen,
			    "RSA key of %u bits is too small (2048 or more)",
			    bits);
			return -1;
		}
		snprintf(out, len, "RSA-%u", bits);
		return 0;
	case GNUTLS_PK_ECDSA:
		switch (curve) {
		case GNUTLS_ECC_CURVE_SECP256R1:
			snprintf(out, len, "ECDSA-P256");
			return 0;
		case GNUTLS_ECC_CURVE_SECP384R1:
			snprintf(out, len, "ECDSA-P384");
			return 0;
		case GNUTLS_ECC_CURVE_SECP521R1:
			snprintf(out, len, "ECDSA-P521");
			return 0;
		default:
			snprintf(why, wlen,
			    "ECDSA curve %s is not supported (P-256, P-384)",
			    gnutls_ecc_curve_get_name(curve) != NULL
			        ? gnutls_ecc_curve_get_name(curve)
			        : "unknown");
			return -1;
		}
	case GNUTLS_PK_EDDSA_ED25519:
		snprintf(out, len, "Ed25519");
		return 0;
	default:
		snprintf(why, wlen,
		    "%s keys are not supported (RSA 2048+, ECDSA P-256/P-384, Ed25519)",
		    gnutls_pk_algorithm_get_name(pk) != NULL
		        ? gnutls_pk_algorithm_get_name(pk)
		        : "unknown");
		return -1;
	}
}

static int
crt_key_type(gnutls_x509_crt_t crt, char *out, size_t len, char *why,
    size_t wlen)
{
	unsigned bits = 0;
	gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;
	int pk = gnutls_x509_crt_get_pk_algorithm(crt, &bits);

	if (pk < 0) {
		snprintf(why, wlen, "unreadable public key");
		return -1;
	}
	if (pk == GNUTLS_PK_ECDSA &&
	    gnutls_x509_crt_get_pk_ecc_raw(crt, &curve, NULL, NULL) < 0) {
		snprintf(why, wlen, "unreadable ECDSA public key");
		return -1;
	}
	return key_type_name((gnutls_pk_algorithm_t)pk, bits, curve, out, len,
	    why, wlen);
}

static void
crt_describe(gnutls_x509_crt_t crt, struct x509_info *in)
{
	gnutls_datum_t d = { NULL, 0 };
	unsigned char buf[256], fp[32];
	char ip[INET6_ADDRSTRLEN];
	size_t sz, i;
	unsigned crit = 0, ca = 0;
	int t;

	if (gnutls_x509_crt_get_dn3(crt, &d, 0) >= 0) {
		snprintf(in->subject, sizeof(in->subject), "%.*s", (int)d.size,
		    (const char *)d.data);
		gnutls_free(d.data);
	}
	d.data = NULL;
	if (gnutls_x509_crt_get_issuer_dn3(crt, &d, 0) >= 0) {
		snprintf(in->issuer, sizeof(in->issuer), "%.*s", (int)d.size,
		    (const char *)d.data);
		gnutls_free(d.data);
	}
	in->nsans = 0;
	for (i = 0; in->nsans < X509_MAX_SANS; i++) {
		sz = sizeof(buf) - 1;
		t = gnutls_x509_crt_get_subject_alt_name(crt, (unsigned)i, buf,
		    &sz, &crit);
		if (t == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (t == GNUTLS_E_SHORT_MEMORY_BUFFER)
			continue;
		if (t < 0)
			break;
		if (t == GNUTLS_SAN_DNSNAME) {
			buf[sz] = '\0';
			snprintf(in->sans[in->nsans++], sizeof(in->sans[0]),
			    "%s", (const char *)buf);
		} else if (t == GNUTLS_SAN_IPADDRESS && (sz == 4 || sz == 16) &&
		    inet_ntop(sz == 4 ? AF_INET : AF_INET6, buf, ip,
		        sizeof(ip)) != NULL) {
			snprintf(in->sans[in->nsans++], sizeof(in->sans[0]),
			    "%s", ip);
		}
	}
	in->not_before = (int64_t)gnutls_x509_crt_get_activation_time(crt);
	in->not_after = (int64_t)gnutls_x509_crt_get_expiration_time(crt);
	sz = sizeof(fp);
	if (gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, fp, &sz) >=
	        0 &&
	    sz == sizeof(fp))
		hex_of(fp, sz, in->fingerprint);
	in->is_ca =
	    gnutls_x509_crt_get_basic_constraints(crt, &crit, &ca, NULL) >= 0 &&
	    ca != 0;
	in->self_signed = gnutls_x509_crt_check_issuer(crt, crt) != 0;
}

int
x509_check(const char *cert, const char *key, struct x509_info *info,
    struct err *e)
{
	gnutls_x509_crt_t *crts = NULL;
	gnutls_x509_privkey_t pk = NULL;
	gnutls_datum_t d;
	unsigned n = 0, i, bits = 0;
	unsigned char kid1[64], kid2[64];
	size_t k1 = sizeof(kid1), k2 = sizeof(kid2), clen;
	gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;
	char kt[16], ktk[16], why[160];
	struct x509_info tmp;
	int r, rc = -1, alg;

	if (info == NULL)
		info = &tmp;
	memset(info, 0, sizeof(*info));
	clen = cert != NULL ? strlen(cert) : 0;
	if (clen == 0)
		return err_set(e, "certificate", "is empty");
	if (clen > X509_PEM_MAX)
		return err_set(e, "certificate",
		    "is %zu bytes, more than the limit of %u", clen,
		    X509_PEM_MAX);
	if (key != NULL && strlen(key) > X509_KEY_MAX)
		return err_set(e, "private_key",
		    "is %zu bytes, more than the limit of %u", strlen(key),
		    X509_KEY_MAX);
	if (strstr(cert, "-----BEGIN CERTIFICATE-----") == NULL)
		return err_set(e, "certificate",
		    "is not PEM: no \"-----BEGIN CERTIFICATE-----\" block");
	d.data = (unsigned char *)(uintptr_t)cert;
	d.size = (unsigned)clen;
	r = gnutls_x509_crt_list_import2(&crts, &n, &d, GNUTLS_X509_FMT_PEM, 0);
	if (r < 0 || n == 0)
		return err_set(e, "certificate", "is not a valid PEM chain: %s",
		    r < 0 ? gnutls_strerror(r) : "no certificate");
	info->nchain = n;
	for (i = 0; i + 1 < n; i++)
		if (!gnutls_x509_crt_check_issuer(crts[i], crts[i + 1])) {
			err_set(e, "certificate",
			    "chain is out of order: certificate %u was not issued by certificate %u",
			    i + 1, i + 2);
			goto out;
		}
	crt_describe(crts[0], info);
	if (crt_key_type(crts[0], kt, sizeof(kt), why, sizeof(why)) != 0) {
		err_set(e, "certificate", "%s", why);
		goto out;
	}
	snprintf(info->key_type, sizeof(info->key_type), "%s", kt);
	if (key == NULL) {
		rc = 0;
		goto out;
	}
	if (key[0] == '\0' || strstr(key, "-----BEGIN") == NULL) {
		err_set(e, "private_key",
		    "is not PEM: no \"-----BEGIN\" block");
		goto out;
	}
	if (strstr(key, "ENCRYPTED") != NULL) {
		err_set(e, "private_key",
		    "is encrypted: upload it without a passphrase");
		goto out;
	}
	if ((r = gnutls_x509_privkey_init(&pk)) < 0) {
		err_set(e, "", "%s", gnutls_strerror(r));
		goto out;
	}
	d.data = (unsigned char *)(uintptr_t)key;
	d.size = (unsigned)strlen(key);
	if ((r = gnutls_x509_privkey_import2(pk, &d, GNUTLS_X509_FMT_PEM, NULL,
	         GNUTLS_PKCS_PLAIN)) < 0) {
		err_set(e, "private_key", "is not a valid PEM private key: %s",
		    gnutls_strerror(r));
		goto out;
	}
	alg = gnutls_x509_privkey_get_pk_algorithm2(pk, &bits);
	if (alg == GNUTLS_PK_ECDSA &&
	    gnutls_x509_privkey_export_ecc_raw(pk, &curve, NULL, NULL, NULL) <
	        0) {
		err_set(e, "private_key", "unreadable ECDSA key");
		goto out;
	}
	if (alg < 0 ||
	    key_type_name((gnutls_pk_algorithm_t)alg, bits, curve, ktk,
	        sizeof(ktk), why, sizeof(why)) != 0) {
		err_set(e, "private_key", "%s",
		    alg < 0 ? "unreadable key" : why);
		goto out;
	}
	if (gnutls_x509_crt_get_key_id(crts[0], 0, kid1, &k1) < 0 ||
	    gnutls_x509_privkey_get_key_id(pk, 0, kid2, &k2) < 0 || k1 != k2 ||
	    memcmp(kid1, kid2, k1) != 0) {
		err_set(e, "private_key",
		    "does not match the certificate (a %s key for a %s certificate)",
		    ktk, kt);
		goto out;
	}
	rc = 0;
out:
	if (pk != NULL)
		gnutls_x509_privkey_deinit(pk);
	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_free(crts);
	return rc;
}

/* clang-format off */
static const struct {
	const char *name;
	gnutls_pk_algorithm_t pk;
	unsigned bits;
} x509_key_types[] = {
	{ "ecdsa-p256", GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1) },
	{ "ecdsa-p384", GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP384R1) },
	{ "rsa-2048",   GNUTLS_PK_RSA,   2048 },
	{ "rsa-3072",   GNUTLS_PK_RSA,   3072 },
	{ "rsa-4096",   GNUTLS_PK_RSA,   4096 },
	{ "ed25519",    GNUTLS_PK_EDDSA_ED25519, 256 },
};
/* clang-format on */

static int
san_add(gnutls_x509_crt_t crt, const char *name)
{
	unsigned char ip[16];

	if (inet_pton(AF_INET, name, ip) == 1)
		return gnutls_x509_crt_set_subject_alt_name(crt,
		    GNUTLS_SAN_IPADDRESS, ip, 4, GNUTLS_FSAN_APPEND);
	if (inet_pton(AF_INET6, name, ip) == 1)
		return gnutls_x509_crt_set_subject_alt_name(crt,
		    GNUTLS_SAN_IPADDRESS, ip, 16, GNUTLS_FSAN_APPEND);
	return gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME,
	    name, (unsigned)strlen(name), GNUTLS_FSAN_APPEND);
}

static bool
name_ok(const char *n)
{
	size_t i, len = strlen(n);

	if (len == 0 || len > 253)
		return false;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)n[i]) && n[i] != '-' &&
		    n[i] != '.' && n[i] != ':' && !(n[i] == '*' && i == 0))
			return false;
	return !(n[0] == '*' && n[1] != '.');
}

static char *
datum_str(gnutls_datum_t *d)
{
	char *s = malloc(d->size + 1);

	if (s != NULL) {
		memcpy(s, d->data, d->size);
		s[d->size] = '\0';
	}
	return s;
}

int
x509_selfsigned_pem(const char *const *names, size_t nnames, unsigned days,
    const char *key_type, char **cert_pem, char **key_pem, struct err *e)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t kpem = { NULL, 0 }, cpem = { NULL, 0 };
	unsigned char serial[16];
	time_t now = time(NULL);
	size_t i, kt;
	int rc = -1, r;

	*cert_pem = *key_pem = NULL;
	if (key_type == NULL)
		key_type = "ecdsa-p256";
	for (kt = 0; kt < sizeof(x509_key_types) / sizeof(x509_key_types[0]);
	     kt++)
		if (strcasecmp(key_type, x509_key_types[kt].name) == 0)
			break;
	if (kt == sizeof(x509_key_types) / sizeof(x509_key_types[0]))
		return err_set(e, "key_type",
		    "\"%.40s\" is not one of ecdsa-p256, ecdsa-p384, rsa-2048, rsa-3072, rsa-4096, ed25519",
		    key_type);
	if (nnames == 0 || nnames > X509_MAX_NAMES)
		return err_set(e, "names", "must list 1 to %d names",
		    X509_MAX_NAMES);
	for (i = 0; i < nnames; i++)
		if (!name_ok(names[i]))
			return err_set(e, "names",
			    "\"%.64s\" is not a host name, wildcard or IP address",
			    names[i]);
	if (days == 0 || days > 3650)
		return err_set(e, "days", "%u is out of range (1..3650)", days);
	if ((r = gnutls_x509_privkey_init(&key)) < 0 ||
	    (r = gnutls_x509_privkey_generate(key, x509_key_types[kt].pk,
	         x509_key_types[kt].bits, 0)) < 0 ||
	    (r = gnutls_x509_crt_init(&crt)) < 0 ||
	    (r = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial))) < 0)
		goto gnutls_fail;
	serial[0] &= 0x7f;
	if ((r = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
	    (r = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial))) < 0 ||
	    (r = gnutls_x509_crt_set_activation_time(crt, now - 3600)) < 0 ||
	    (r = gnutls_x509_crt_set_expiration_time(crt,
	         now + (time_t)days * 86400)) < 0 ||
	    (r = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME,
	         0, names[0], (unsigned)strlen(names[0]))) < 0 ||
	    (r = gnutls_x509_crt_set_key(crt, key)) < 0 ||
	    (r = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) < 0 ||
	    (r = gnutls_x509_crt_set_key_usage(crt,
	         GNUTLS_KEY_DIGITAL_SIGNATURE |
	             (x509_key_types[kt].pk == GNUTLS_PK_RSA
	                     ? GNUTLS_KEY_KEY_ENCIPHERMENT
	                     : 0))) < 0 ||
	    (r = gnutls_x509_crt_set_key_purpose_oid(crt,
	         GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0)
		goto gnutls_fail;
	for (i = 0; i < nnames; i++)
		if ((r = san_add(crt, names[i])) < 0)
			goto gnutls_fail;
	if ((r = gnutls_x509_crt_sign2(crt, crt, key,
	         x509_key_types[kt].pk == GNUTLS_PK_EDDSA_ED25519
	             ? GNUTLS_DIG_SHA512
	             : GNUTLS_DIG_SHA256,
	         0)) < 0 ||
	    (r = gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM,
	         NULL, GNUTLS_PKCS_PLAIN, &kpem)) < 0 ||
	    (r = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &cpem)) < 0)
		goto gnutls_fail;
	if ((*cert_pem = datum_str(&cpem)) == NULL ||
	    (*key_pem = datum_str(&kpem)) == NULL) {
		free(*cert_pem);
		*cert_pem = NULL;
		err_set(e, "", "out of memory");
		goto out;
	}
	rc = 0;
	goto out;
gnutls_fail:
	err_set(e, "", "self-signed certificate: %s", gnutls_strerror(r));
out:
	if (kpem.data != NULL) {
		memset(kpem.data, 0, kpem.size);
		gnutls_free(kpem.data);
	}
	gnutls_free(cpem.data);
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	if (key != NULL)
		gnutls_x509_privkey_deinit(key);
	return rc;
}

int
x509_der_describe(const void *der, size_t len, char *subject, size_t sublen,
    char fingerprint[65])
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)der, (unsigned)len };
	struct x509_info in;
	int rc = -1;

	if (gnutls_x509_crt_init(&crt) < 0)
		return -1;
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) >= 0) {
		memset(&in, 0, sizeof(in));
		crt_describe(crt, &in);
		snprintf(subject, sublen, "%s", in.subject);
		memcpy(fingerprint, in.fingerprint, 65);
		rc = 0;
	}
	gnutls_x509_crt_deinit(crt);
	return rc;
}
