/*
 * acme_chal.h: the answers to ACME challenges, shared between the ACME
 * thread (which provisions and withdraws them) and the workers (which
 * answer them): HTTP-01 key authorizations by token, served by every http
 * listener for /.well-known/acme-challenge/<token> before routing, and
 * TLS-ALPN-01 certificates by server name, presented by https listeners
 * to a client that offers only the "acme-tls/1" protocol. A short mutex
 * guards the table; the request path takes it only for those two cases.
 */
#ifndef GH_ACME_CHAL_H
#define GH_ACME_CHAL_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "str.h"

struct conn;

#define ACME_CHAL_PREFIX "/.well-known/acme-challenge/"

/* ACME thread: provisions or withdraws the answer for <token>. */
int acme_chal_http_add(const char *token, const char *keyauth, struct err *e);
void acme_chal_http_del(const char *token);
/* ACME thread: the TLS-ALPN-01 certificate for <name>. */
int acme_chal_alpn_add(const char *name, const char *keyauth, struct err *e);
void acme_chal_alpn_del(const char *name);
/* Frees withdrawn ALPN credentials (a handshake may still hold one for a
 * moment, so they are kept until this runs, from the ACME thread, a
 * while after their withdrawal) and, with <all>, everything (shutdown).
 */
void acme_chal_gc(bool all);

/* Worker: when <path> is under ACME_CHAL_PREFIX, answers the request
 * (200 and the key authorization, or 404) and returns true.
 */
bool acme_chal_http_answer(struct conn *c, struct str path);
/* Worker, in the TLS handshake: the challenge credentials for <name>
 * (a gnutls_certificate_credentials_t), or NULL.
 */
void *acme_chal_alpn_cred(const char *name);

#endif
