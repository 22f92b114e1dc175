/*
 * acme_db.c: the store side of the ACME thread (acme_db_*(), acme.h).
 *
 * Every function runs on the admin API's store connection under
 * api_with_store(), so the API stays the only writer: the next job to
 * work on, account keys and registrations, orders in flight, failures
 * with their backoff, and the issued chain, which replaces the
 * certificate as a revision through cert_store.c (compiled and
 * published like an upload).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acme.h"
#include "acme_ari.h"
#include "api.h"
#include "api_int.h"
#include "json.h"
#include "kek.h"
#include "log.h"
#include "store.h"
#include "x509.h"

static struct api_req acme_actor = { .magic = API_REQ_MAGIC,
	.actor = "acme",
	.client = "local" };

static char *
open_blob(struct store_stmt *s, int i, struct err *e)
{
	const void *b;
	char *out = NULL;
	size_t n;
	int len;

	if (store_col_is_null(s, i))
		return NULL;
	b = store_col_blob(s, i, &len);
	if (b == NULL || len <= 0 || kek_open(b, (size_t)len, &out, &n, e) != 0)
		return NULL;
	return out;
}

static char *
dup_col(struct store_stmt *s, int i)
{
	return store_col_is_null(s, i) ? NULL : strdup(store_col_text(s, i));
}

struct next_arg {
	struct acme_job *j;
	time_t next;
	struct err *e;
};

static int
load_account(struct store *st, struct acme_job *j, struct err *e)
{
	struct store_stmt *s;
	struct err ke;
	int rc = -1;

	s = store_prepare(st,
	    "SELECT name, directory, directory_ca, email, eab_kid,"
	    " eab_hmac_key, terms_agreed, key_pem, account_url"
	    " FROM acme_accounts WHERE id = ?1",
	    e);
	if (s == NULL)
		return -1;
	store_bind_int64(s, 1, j->account_id);
	if (store_step(s, e) == STORE_ROW) {
		snprintf(j->account, sizeof(j->account), "%s",
		    store_col_text(s, 0));
		j->directory = dup_col(s, 1);
		j->directory_ca = dup_col(s, 2);
		j->email = dup_col(s, 3);
		j->eab_kid = dup_col(s, 4);
		j->eab_hmac_key = open_blob(s, 5, &ke);
		j->terms_agreed = store_col_int64(s, 6) != 0;
		j->account_key = open_blob(s, 7, &ke);
		/* A key that does not open is made again, and with it
		 * the registration.
		 */
		j->account_url = j->account_key != NULL ? dup_col(s, 8) : NULL;
		rc = 0;
	}
	store_finalize(s);
	return rc;
}

static int
next_cb(struct store *st, void *arg)
{
	struct next_arg *a = arg;
	struct acme_job *j = a->j;
	struct store_stmt *s;
	time_t now = time(NULL);
	struct err ke;
	bool renew = false;
	int64_t t;

	/* A certificate first: it registers its account too. */
	s = store_prepare(st,
	    "SELECT certificate_id, account_id, names, challenge, order_url,"
	    " order_key, attempts, status,"
	    " (SELECT name FROM certificates WHERE id = certificate_id),"
	    " ari_id"
	    " FROM acme_certs WHERE (status <> 'valid' AND next_attempt <= ?1)"
	    " OR (status = 'valid' AND next_renewal <= ?1)"
	    " ORDER BY next_attempt LIMIT 1",
	    a->e);
	if (s == NULL)
		return -1;
	store_bind_int64(s, 1, now);
	if (store_step(s, a->e) == STORE_ROW) {
		j->is_cert = true;
		j->cert_id = store_col_int64(s, 0);
		j->account_id = store_col_int64(s, 1);
		j->names = dup_col(s, 2);
		snprintf(j->challenge, sizeof(j->challenge), "%s",
		    store_col_text(s, 3));
		j->order_key = open_blob(s, 5, &ke);
		j->order_url = j->order_key != NULL ? dup_col(s, 4) : NULL;
		j->attempts = store_col_int64(s, 6);
		renew = strcmp(store_col_text(s, 7), "valid") == 0;
		snprintf(j->cert, sizeof(j->cert), "%s", store_col_text(s, 8));
		j->ari_id = dup_col(s, 9);
	}
	store_finalize(s);
	if (j->is_cert) {
		if (renew) {
			s = store_prepare(st,
			    "UPDATE acme_certs SET status = 'renewing'"
			    " WHERE certificate_id = ?1",
			    a->e);
			if (s != NULL) {
				store_bind_int64(s, 1, j->cert_id);
				(void)store_step(s, a->e);
				store_finalize(s);
			}
			log_info("acme: %s: renewal due", j->cert);
		}
		return load_account(st, j, a->e) == 0 ? 1 : -1;
	}
	/* A valid certificate whose renewal window is due to be asked. */
	s = store_prepare(st,
	    "SELECT certificate_id, account_id, ari_id,"
	    " (SELECT name FROM certificates WHERE id = certificate_id)"
	    " FROM acme_certs WHERE status = 'valid' AND ari_id IS NOT NULL"
	    " AND ari_check IS NOT NULL AND ari_check <= ?1"
	    " ORDER BY ari_check LIMIT 1",
	    a->e);
	if (s == NULL)
		return -1;
	store_bind_int64(s, 1, now);
	if (store_step(s, a->e) == STORE_ROW) {
		j->ari_only = true;
		j->cert_id = store_col_int64(s, 0);
		j->account_id = store_col_int64(s, 1);
		j->ari_id = dup_col(s, 2);
		snprintf(j->cert, sizeof(j->cert), "%s", store_col_text(s, 3));
	}
	store_finalize(s);
	if (j->ari_only)
		return load_account(st, j, a->e) == 0 ? 1 : -1;
	s = store_prepare(st,
	    "SELECT id FROM acme_accounts WHERE status <> 'valid'"
	    " AND next_attempt <= ?1 ORDER BY next_attempt LIMIT 1",
	    a->e);
	if (s == NULL)
		return -1;
	store_bind_int64(s, 1, now);
	if (store_step(s, a->e) == STORE_ROW)
		j->account_id = store_col_int64(s, 0);
	store_finalize(s);
	if (j->account_id != 0)
		return load_account(st, j, a->e) == 0 ? 1 : -1;
	/* Nothing due: when is the next? */
	s = store_prepare(st,
	    "SELECT min(t) FROM (SELECT next_attempt AS t FROM acme_certs"
	    " WHERE status <> 'valid' UNION ALL SELECT next_renewal FROM"
	    " acme_certs WHERE status = 'valid' AND next_renewal IS NOT NULL"
	    " UNION ALL SELECT ari_check FROM acme_certs WHERE status ="
	    " 'valid' AND ari_id IS NOT NULL AND ari_check IS NOT NULL"
	    " UNION ALL SELECT next_attempt FROM acme_accounts"
	    " WHERE status <> 'valid')",
	    a->e);
	if (s == NULL)
		return -1;
	if (store_step(s, a->e) == STORE_ROW && !store_col_is_null(s, 0)) {
		t = store_col_int64(s, 0);
		a->next = (time_t)(t > 0 ? t : 1);
	}
	store_finalize(s);
	return 0;
}

int
acme_db_next(struct acme_job *j, time_t *next, struct err *e)
{
	struct next_arg a = { j, 0, e };
	int rc;

	err_clear(e);
	rc = api_with_store(next_cb, &a);
	if (rc == -2) {
		*next = 0;
		return 0; /* no API, no store to work from */
	}
	*next = a.next;
	if (rc < 0)
		acme_job_free(j);
	return rc;
}

/* One UPDATE with up to four bindings (text or int), under the lock. */
struct upd {
	const char *sql;
	int64_t id;
	const char *t2, *t3;
	const void *blob;
	size_t blen;
	int64_t i4;
	struct err *e;
	int64_t i5, i6;
};

static int
upd_cb(struct store *st, void *arg)
{
	struct upd *u = arg;
	struct store_stmt *s;
	enum store_step_result r;

	if ((s = store_prepare(st, u->sql, u->e)) == NULL)
		return -1;
	store_bind_int64(s, 1, u->id);
	store_bind_text(s, 2, u->t2);
	if (u->blob != NULL)
		store_bind_blob(s, 3, u->blob, (int)u->blen);
	else
		store_bind_text(s, 3, u->t3);
	store_bind_int64(s, 4, u->i4);
	if (strstr(u->sql, "?5") != NULL)
		store_bind_int64(s, 5, u->i5);
	if (strstr(u->sql, "?6") != NULL)
		store_bind_int64(s, 6, u->i6);
	r = store_step(s, u->e);
	store_finalize(s);
	return r == STORE_DONE ? 0 : -1;
}

static int
upd_run(struct upd *u)
{
	int rc = api_with_store(upd_cb, u);

	if (rc == -2)
		return err_set(u->e, "", "the admin API is not running");
	return rc;
}

static int
sealed_upd(const char *sql, int64_t id, const char *pem, struct err *e)
{
	unsigned char *sealed = NULL;
	size_t slen = 0;
	struct upd u = { sql, id, NULL, NULL, NULL, 0, 0, e, 0, 0 };
	int rc;

	if (kek_seal(pem, strlen(pem), &sealed, &slen, e) != 0)
		return -1;
	u.blob = sealed;
	u.blen = slen;
	rc = upd_run(&u);
	free(sealed);
	return rc;
}

int
acme_db_account_key(int64_t account, const char *key_pem, struct err *e)
{
	return sealed_upd("UPDATE acme_accounts SET key_pem = ?3,"
	                  " account_url = NULL, status = 'pending'"
	                  " WHERE id = ?1 AND (?2 IS NULL) AND ?4 = 0",
	    account, key_pem, e);
}

int
acme_db_account_done(int64_t account, const char *url, const char *problem,
    struct err *e)
{
	struct upd u = { NULL, account, url, problem, NULL, 0, 0, e, 0, 0 };

	if (url != NULL) {
		u.sql = "UPDATE acme_accounts SET status = 'valid',"
		        " account_url = ?2, last_error = ?3, attempts = 0,"
		        " next_attempt = ?4 WHERE id = ?1";
		u.t3 = NULL;
		return upd_run(&u);
	}
	u.sql = "UPDATE acme_accounts SET status = 'failed', last_error = ?3,"
	        " attempts = attempts + 1, next_attempt = ?4 +"
	        " min(21600, ?6 * (1 << min(attempts, 11)))"
	        " WHERE id = ?1 AND (?2 IS NULL)";
	u.i4 = (int64_t)time(NULL);
	u.i6 = acme_backoff(1);
	return upd_run(&u);
}

int
acme_db_account_reset(int64_t account, struct err *e)
{
	struct upd u = { "UPDATE acme_accounts SET account_url = NULL,"
		         " status = 'pending', next_attempt = 0"
		         " WHERE id = ?1 AND (?2 IS NULL) AND (?3 IS NULL)"
		         " AND ?4 = 0",
		account, NULL, NULL, NULL, 0, 0, e, 0, 0 };

	return upd_run(&u);
}

int
acme_db_order(int64_t cert, const char *key_pem, const char *url, struct err *e)
{
	struct upd u = { NULL, cert, url, NULL, NULL, 0, 0, e, 0, 0 };

	if (key_pem != NULL)
		return sealed_upd("UPDATE acme_certs SET order_key = ?3,"
		                  " order_url = NULL WHERE certificate_id = ?1"
		                  " AND (?2 IS NULL) AND ?4 = 0",
		    cert, key_pem, e);
	u.sql = "UPDATE acme_certs SET order_url = ?2, orders = orders +"
	        " (?2 IS NOT NULL) WHERE certificate_id = ?1 AND (?3 IS NULL)"
	        " AND ?4 = 0";
	return upd_run(&u);
}

int
acme_db_cert_failed(int64_t cert, const char *problem, long retry_after,
    struct err *e)
{
	struct upd u = { NULL, cert, NULL, problem, NULL, 0, 0, e, 0, 0 };

	/* The n-th failure in a row waits base * 2^(n-1), at most 6 h, or
	 * longer when the CA said Retry-After.
	 */
	u.sql = "UPDATE acme_certs SET status = 'failed', last_error = ?3,"
	        " attempts = attempts + 1, next_attempt = ?4 +"
	        " max(?5, min(21600, ?6 * (1 << min(attempts, 11))))"
	        " WHERE certificate_id = ?1 AND (?2 IS NULL)";
	u.i4 = (int64_t)time(NULL);
	u.i5 = retry_after;
	u.i6 = acme_backoff(1);
	return upd_run(&u);
}

struct ari_arg {
	int64_t cert, start, end, renew, recheck;
	struct err *e;
};

static int
ari_cb(struct store *st, void *arg)
{
	struct ari_arg *a = arg;
	struct store_stmt *s;
	enum store_step_result r;

	/* start -1: keep the window (the CA did not answer); 0: none. A
	 * new window moves next_renewal to the moment chosen in it; the
	 * same window keeps the moment chosen before.
	 */
	s = store_prepare(st,
	    "UPDATE acme_certs SET"
	    " next_renewal = CASE WHEN ?2 <= 0 OR (ari_start IS ?2 AND"
	    " ari_end IS ?3) THEN next_renewal ELSE ?4 END,"
	    " ari_start = CASE WHEN ?2 < 0 THEN ari_start WHEN ?2 = 0 THEN"
	    " NULL ELSE ?2 END,"
	    " ari_end = CASE WHEN ?2 < 0 THEN ari_end WHEN ?2 = 0 THEN NULL"
	    " ELSE ?3 END,"
	    " ari_check = CASE WHEN ?5 = 0 THEN NULL ELSE ?5 END"
	    " WHERE certificate_id = ?1 AND status = 'valid'",
	    a->e);
	if (s == NULL)
		return -1;
	store_bind_int64(s, 1, a->cert);
	store_bind_int64(s, 2, a->start);
	store_bind_int64(s, 3, a->end);
	store_bind_int64(s, 4, a->renew);
	store_bind_int64(s, 5, a->recheck);
	r = store_step(s, a->e);
	store_finalize(s);
	return r == STORE_DONE ? 0 : -1;
}

int
acme_db_ari(int64_t cert, int64_t start, int64_t end, int64_t renew,
    int64_t recheck, struct err *e)
{
	struct ari_arg a = { cert, start, end, renew, recheck, e };
	int rc = api_with_store(ari_cb, &a);

	if (rc == -2)
		return err_set(e, "", "the admin API is not running");
	return rc;
}

struct issued_arg {
	int64_t cert;
	const char *chain, *key;
	char name[80];
};

static int
issued_write(struct store *st, void *arg, struct err *e, unsigned *status)
{
	struct issued_arg *a = arg;
	struct cert_row row = { "UPDATE certificates SET kind = ?2,"
		                " certificate_pem = ?3, private_key_pem = ?4"
		                " WHERE id = ?5 AND ?1 IS NOT NULL",
		a->name, "leaf", a->chain, a->key, a->cert };
	char ari[ACME_ARI_ID_MAX];
	struct x509_info *in;
	struct store_stmt *s;
	struct err ae;
	int64_t renew;
	int rc;

	if ((in = calloc(1, sizeof(*in))) == NULL)
		return err_set(e, "", "out of memory");
	if (x509_check(a->chain, a->key, in, e) != 0) {
		free(in);
		return -1;
	}
	renew = in->not_before + (in->not_after - in->not_before) * 2 / 3;
	free(in);
	if (acme_ari_cert_id(a->chain, ari, sizeof(ari), &ae) != 0) {
		log_warnx("acme: %s: no renewal information can be asked: %s",
		    a->name, ae.msg);
		ari[0] = '\0';
	}
	if (cert_store_row(st, &row, e, status) != 0)
		return -1;
	/* Two thirds of the lifetime until the CA's window (asked at
	 * once, when it offers one) says otherwise.
	 */
	s = store_prepare(st,
	    "UPDATE acme_certs SET status = 'valid', issued = issued + 1,"
	    " last_error = NULL, attempts = 0, next_attempt = 0,"
	    " next_renewal = ?2, order_url = NULL, order_key = NULL,"
	    " ari_id = ?3, ari_start = NULL, ari_end = NULL,"
	    " ari_check = CASE WHEN ?3 IS NULL THEN NULL ELSE ?4 END"
	    " WHERE certificate_id = ?1",
	    e);
	if (s == NULL)
		return -1;
	store_bind_int64(s, 1, a->cert);
	store_bind_int64(s, 2, renew);
	store_bind_text(s, 3, ari[0] != '\0' ? ari : NULL);
	store_bind_int64(s, 4, (int64_t)time(NULL));
	rc = store_step(s, e) == STORE_DONE ? 0 : -1;
	store_finalize(s);
	return rc;
}

struct issued_run {
	struct issued_arg *a;
	struct err *e;
};

static int
issued_cb(struct store *st, void *arg)
{
	struct issued_run *ir = arg;
	struct store_stmt *s;
	char summary[160];
	unsigned status;

	if ((s = store_prepare(st,
	         "SELECT name FROM certificates WHERE id = ?1", ir->e)) == NULL)
		return -1;
	store_bind_int64(s, 1, ir->a->cert);
	if (store_step(s, ir->e) == STORE_ROW)
		snprintf(ir->a->name, sizeof(ir->a->name), "%s",
		    store_col_text(s, 0));
	store_finalize(s);
	snprintf(summary, sizeof(summary), "certificates: %s issued by ACME",
	    ir->a->name);
	return cert_store_apply(&acme_actor, st, false, summary, issued_write,
	           ir->a, ir->e, &status) < 0
	    ? -1
	    : 0;
}

int
acme_db_cert_issued(int64_t cert, const char *chain, const char *key_pem,
    struct err *e)
{
	struct issued_arg a = { cert, chain, key_pem, "" };
	struct issued_run ir = { &a, e };
	int rc = api_with_store(issued_cb, &ir);

	if (rc == -2)
		return err_set(e, "", "the admin API is not running");
	return rc;
}
