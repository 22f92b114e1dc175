/*
 * x509.c: self-signed admin certificates and SHA-256, through GnuTLS.
 *
 * Used once at admin API start (certificate) and per API token check
 * (digest). Files are written to a temporary name, synced and renamed, so
 * a crash never leaves half a key behind.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "x509.h"

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
	    (r = gnutls_x509_crt_set_dn_by_oid(crt,
		 GNUTLS_OID_X520_COMMON_NAME, 0, "gatehouse admin", 15)) < 0 ||
	    (r = gnutls_x509_crt_set_key(crt, key)) < 0 ||
	    (r = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME,
		 "localhost", 9, GNUTLS_FSAN_APPEND)) < 0 ||
	    (r = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) < 0 ||
	    (r = gnutls_x509_crt_set_key_usage(crt,
		 GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0 ||
	    (r = gnutls_x509_crt_set_key_purpose_oid(crt,
		 GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0)
		goto gnutls_fail;
	if (host != NULL && (strcmp(host, "0.0.0.0") == 0 ||
				strcmp(host, "::") == 0)) {
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
