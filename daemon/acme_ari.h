/*
 * acme_ari.h: ACME Renewal Information (RFC 9773): a certificate's ARI
 * identifier, the CA's suggested renewal window, and the moment chosen
 * inside it. Pure functions (no I/O); the ACME thread (acme.c) fetches
 * the window and acme_db.c stores the choice.
 */
#ifndef GH_ACME_ARI_H
#define GH_ACME_ARI_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Longest identifier: a 64-byte key id and a 20-byte serial, encoded. */
#define ACME_ARI_ID_MAX 160

/* The ARI identifier of the first certificate of <chain_pem>:
 * base64url(authority key identifier) "." base64url(serial, DER
 * content octets). 0, or -1 + <e> (no AKI: the CA cannot be asked).
 */
int acme_ari_cert_id(const char *chain_pem, char *out, size_t len,
    struct err *e);

/* Parses a renewalInfo answer {"suggestedWindow":{"start","end"}}
 * (RFC 3339 times) into epoch seconds. 0, or -1 + <e> (not JSON, a
 * member missing, a time that does not parse, end not after start).
 */
int acme_ari_parse(const char *body, size_t len, int64_t *start, int64_t *end,
    struct err *e);

/* RFC 3339 "2026-12-03T12:00:00Z" (fraction and offset accepted) as
 * epoch seconds: 0, or -1.
 */
int acme_ari_time(const char *s, int64_t *t);

/* The moment to renew in the window [start, end): uniform from <rnd>
 * (any 64-bit value) over the part of the window not yet past; <now>
 * when the whole window is past.
 */
int64_t acme_ari_choose(int64_t start, int64_t end, int64_t now, uint64_t rnd);

/* When to ask again: <retry_after> (the answer's Retry-After, 0: none)
 * bounded to one hour .. one day, 6 h when absent.
 */
int64_t acme_ari_recheck(int64_t now, long retry_after);

#endif
