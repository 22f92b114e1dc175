/*
 * acme.h: the ACME client (RFC 8555) on its own thread (acme.c), and the
 * store side it calls (api/acme_db.c).
 *
 * The thread owns every exchange with the CA: it blocks on HTTPS (libcurl)
 * and never runs on a worker or on the admin thread's request path. It
 * reads and writes the database only through acme_db_*(), which run on
 * the admin API's store connection while no API handler runs
 * (api_with_store()), so the API stays the only writer and every issued
 * certificate becomes a revision and a live snapshot through the same
 * pipeline as an upload. The API wakes the thread with acme_kick() after
 * a request, a forced renewal or a new account.
 */
#ifndef GH_ACME_H
#define GH_ACME_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "err.h"

/* Thread: main. acme_start() after api_start(). */
void acme_start(void);
void acme_stop(void);
/* Any thread: look at the work list now. */
void acme_kick(void);

/* Base of the retry backoff in seconds (GATEHOUSE_ACME_RETRY_S, default
 * 60): the n-th failure in a row waits base * 2^(n-1), at most 6 h.
 */
int64_t acme_backoff(int64_t attempts);

/* One piece of work: register an account, or get a certificate (which
 * registers its account first when needed). Strings are owned copies,
 * keys in plain PEM (acme_job_free() wipes them).
 */
struct acme_job {
	bool is_cert;
	int64_t account_id;
	char account[72];
	char *directory, *directory_ca, *email, *eab_kid, *eab_hmac_key;
	bool terms_agreed;
	char *account_key; /* NULL: generate one */
	char *account_url; /* NULL: not registered yet */

	int64_t cert_id;
	char cert[72];
	char *names; /* JSON array text */
	char challenge[16];
	char *order_url; /* the order in flight, or NULL */
	char *order_key; /* its certificate key, or NULL */
	int64_t attempts;
	/* The issued certificate's RFC 9773 name (NULL before the first
	 * issue): a renewal's order "replaces" it; <ari_only>: only its
	 * renewal window is due to be asked for.
	 */
	bool ari_only;
	char *ari_id;
};
void acme_job_free(struct acme_job *j);

/* ---- api/acme_db.c, from the ACME thread ---- */
/* The most overdue job into <j>: 1; 0 when none is due (then <*next> is
 * when the next one is, 0: none); -1 + <e>.
 */
int acme_db_next(struct acme_job *j, time_t *next, struct err *e);
/* Stores a new account key (sealed). */
int acme_db_account_key(int64_t account, const char *key_pem, struct err *e);
/* Registration result: <url> (valid) or <problem> (JSON text, failed). */
int acme_db_account_done(int64_t account, const char *url, const char *problem,
    struct err *e);
/* Forgets the registration (the CA no longer knows the account): the
 * next job registers the same key again.
 */
int acme_db_account_reset(int64_t account, struct err *e);
/* Records the order's key (NULL: keep) and URL (NULL: clear) before the
 * order is placed or resumed.
 */
int acme_db_order(int64_t cert, const char *key_pem, const char *url,
    struct err *e);
/* A failure: <problem> (JSON text) kept, attempts counted, next attempt
 * after the backoff (or <retry_after> s when the CA said so).
 */
int acme_db_cert_failed(int64_t cert, const char *problem, long retry_after,
    struct err *e);
/* The CA's renewal window [<start>, <end>) and the moment chosen in it
 * (<renew>, kept while the window does not change); <start> 0: the CA
 * offers none (renewal stays at two thirds of the lifetime); -1: no
 * answer (the last window stays). Ask again at <recheck> (0: never).
 */
int acme_db_ari(int64_t cert, int64_t start, int64_t end, int64_t renew,
    int64_t recheck, struct err *e);
/* The issued chain and its key replace the certificate as a new revision,
 * compiled and published before this returns.
 */
int acme_db_cert_issued(int64_t cert, const char *chain, const char *key_pem,
    struct err *e);

#endif
