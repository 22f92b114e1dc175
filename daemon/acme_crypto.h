/*
 * acme_crypto.h: the GnuTLS pieces of the ACME client (acme_crypto.c is,
 * with x509.c and tls.c, a GnuTLS includer): account and certificate
 * keys, the account's JWK and thumbprint (RFC 7638), JWS signatures
 * (ES256 for requests, HS256 for external account binding), CSRs and the
 * self-signed TLS-ALPN-01 challenge certificate (RFC 8737). Nothing here
 * keeps state; every call is thread-safe.
 */
#ifndef GH_ACME_CRYPTO_H
#define GH_ACME_CRYPTO_H

#include <stddef.h>

#include "err.h"

struct acme_key;

/* base64url without padding of <n> bytes into <out> (NUL-terminated);
 * the length, or -1 when <outlen> is too small.
 */
int acme_b64url(const void *p, size_t n, char *out, size_t outlen);
/* Decodes base64url (padding and standard alphabet accepted) into <out>;
 * the length, or -1.
 */
int acme_b64url_dec(const char *s, unsigned char *out, size_t outlen);

/* A new ECDSA P-256 private key as PEM (<*pem>, free with
 * acme_pem_free()). 0 or -1 + <e>.
 */
int acme_key_generate(char **pem, struct err *e);
void acme_pem_free(char *pem);
struct acme_key *acme_key_load(const char *pem, struct err *e);
void acme_key_free(struct acme_key *k);
/* The JWK of the public key, members in RFC 7638 order, into <buf>. */
int acme_key_jwk(const struct acme_key *k, char *buf, size_t len);
/* base64url(SHA-256(JWK)): the thumbprint of key authorizations. */
int acme_key_thumbprint(const struct acme_key *k, char out[64]);

/* The flattened JWS {"protected","payload","signature"} of <payload>
 * (NULL or "": POST-as-GET's empty payload) under <protected> (JSON
 * text), signed ES256 with <k>. A new string (free()), or NULL + <e>.
 */
char *acme_jws(const struct acme_key *k, const char *protected_json,
    const char *payload, struct err *e);
/* The same signed HS256 with <mac_key> (external account binding). */
char *acme_jws_hs256(const unsigned char *mac_key, size_t mac_len,
    const char *protected_json, const char *payload, struct err *e);

/* A CSR for <names> (the first is the CN) signed with the private key
 * <key_pem>, as base64url DER (free()). NULL + <e>.
 */
char *acme_csr(const char *key_pem, const char *const *names, size_t n,
    struct err *e);

/* The TLS-ALPN-01 challenge certificate for <name> and <keyauth>: a new
 * key and a self-signed certificate with SAN <name> and the critical
 * id-pe-acmeIdentifier extension holding SHA-256(<keyauth>), as
 * credentials (a gnutls_certificate_credentials_t in <*cred>). 0 or -1.
 */
int acme_alpn_cred(const char *name, const char *keyauth, void **cred,
    struct err *e);
void acme_alpn_cred_free(void *cred);

#endif
