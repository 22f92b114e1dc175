/*
 * x509.h: the X.509 shim (x509.c is, with tls.c, the only gnutls includer).
 *
 * It parses and checks PEM chains and keys for the certificate store,
 * extracts what the API shows about a certificate (subject, SANs, issuer,
 * validity, SHA-256 fingerprint, key type), generates self-signed
 * certificates (for the store and for the admin listener) and computes
 * SHA-256 digests. Nothing here keeps state; every call is thread-safe.
 */
#ifndef GH_X509_H
#define GH_X509_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define X509_PEM_MAX   (64u * 1024u) /* longest certificate chain accepted */
#define X509_KEY_MAX   (16u * 1024u) /* longest private key accepted */
#define X509_MAX_SANS  64
#define X509_MAX_NAMES 32 /* names of a self-signed certificate */

/* What the API shows about the first certificate of a chain. */
struct x509_info {
	char subject[512];
	char issuer[512];
	char sans[X509_MAX_SANS][256]; /* DNS names and IP addresses */
	size_t nsans;
	int64_t not_before, not_after; /* unix seconds */
	char fingerprint[65];          /* lowercase hex SHA-256 of the DER */
	char key_type[16];             /* "RSA-2048", "ECDSA-P256", "Ed25519" */
	bool is_ca;                    /* basicConstraints CA:TRUE */
	bool self_signed;              /* subject == issuer, signature checks */
	size_t nchain;                 /* certificates in the PEM */
};

/* Generates an ECDSA P-256 key and a self-signed certificate (10 years,
 * CN "gatehouse admin"; SANs: "localhost", and <host> when it is an
 * IP address, or for 0.0.0.0 and :: the loopback addresses and the host
 * name) and writes them as PEM to <cert_path> (0644) and
 * <key_path> (0600). 0, or -1 with <e>.
 */
int x509_selfsigned_files(const char *cert_path, const char *key_path,
    const char *host, struct err *e);

/* Lowercase hex SHA-256 of <n> bytes into <out> (65 bytes). 0 or -1. */
int x509_sha256_hex(const void *p, size_t n, char out[65]);

/* Checks a PEM chain <cert> (leaf first) and, unless <key> is NULL, the
 * PEM private key that must match the leaf: sizes (X509_PEM_MAX,
 * X509_KEY_MAX), PEM syntax, chain order, key type (RSA 2048 bits or
 * more, ECDSA P-256/P-384/P-521, Ed25519) and key/leaf match. Fills
 * <info> (may be NULL). On failure returns -1 with <e>: field
 * "certificate" or "private_key" and a message naming the problem.
 * Expired certificates pass: the caller compares not_after.
 */
int x509_check(const char *cert, const char *key, struct x509_info *info,
    struct err *e);

/* Generates a key of <key_type> ("ecdsa-p256" when NULL; also
 * "ecdsa-p384", "rsa-2048", "rsa-3072", "rsa-4096", "ed25519", any case)
 * and a certificate valid <days> days from an hour ago for <names> (DNS
 * names or IP literals; the first is also the CN). On success <*cert_pem>
 * and <*key_pem> are malloc'ed PEM strings the caller frees. 0 or -1 with
 * <e> (field "key_type", "names" or "" for library failures).
 */
int x509_selfsigned_pem(const char *const *names, size_t nnames, unsigned days,
    const char *key_type, char **cert_pem, char **key_pem, struct err *e);

/* Subject DN and SHA-256 fingerprint of one DER certificate. 0 or -1. */
int x509_der_describe(const void *der, size_t len, char *subject, size_t sublen,
    char fingerprint[65]);

#endif
