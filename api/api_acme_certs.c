/*
 * api_acme_certs.c: POST /api/v1/certificates/acme, POST
 * /api/v1/certificates/{id}/renew, and the "acme" member of a
 * certificate.
 *
 * A requested certificate is a row of `certificates` at once (a
 * self-signed placeholder for its names, so listeners can name it) and a
 * row of `acme_certs` that the ACME thread works on (acme_db.c stores
 * what it gets); both are written in one revision through cert_store.c.
 */
#include <arpa/inet.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acme.h"
#include "acme_crypto.h"
#include "api.h"
#include "api_int.h"
#include "cfg_value.h"
#include "json.h"
#include "log.h"
#include "store.h"
#include "x509.h"

#define ACME_PLACEHOLDER_D 7

static const char *const challenges[] = { "http-01", "tls-alpn-01", NULL };

struct json *
acme_cert_json(struct store *st, int64_t id)
{
	struct store_stmt *s;
	struct json *o = NULL, *w;
	struct err e;

	s = store_prepare(st,
	    "SELECT a.status, a.last_error, a.next_renewal, a.attempts,"
	    " a.challenge, c.name, a.names, a.issued, a.next_attempt,"
	    " a.order_url IS NOT NULL, a.orders, a.ari_start, a.ari_end"
	    " FROM acme_certs a JOIN acme_accounts c ON c.id = a.account_id"
	    " WHERE a.certificate_id = ?1",
	    &e);
	if (s == NULL)
		return NULL;
	store_bind_int64(s, 1, id);
	if (store_step(s, &e) == STORE_ROW) {
		o = json_new_obj();
		json_set(o, "status", json_new_str(store_col_text(s, 0)));
		json_set(o, "last_error", cert_col_json(s, 1));
		json_set(o, "next_renewal", cert_col_time(s, 2));
		json_set(o, "attempts", json_new_int(store_col_int64(s, 3)));
		json_set(o, "challenge", json_new_str(store_col_text(s, 4)));
		json_set(o, "account", json_new_str(store_col_text(s, 5)));
		json_set(o, "names", cert_col_json(s, 6));
		json_set(o, "issued", json_new_int(store_col_int64(s, 7)));
		json_set(o, "next_attempt", cert_col_time(s, 8));
		json_set(o, "order_in_progress",
		    json_new_bool(store_col_int64(s, 9) != 0));
		json_set(o, "orders", json_new_int(store_col_int64(s, 10)));
		/* RFC 9773: the CA's suggested window, next_renewal is in
		 * it; null: two thirds of the lifetime.
		 */
		if (store_col_is_null(s, 11)) {
			json_set(o, "renewal_window", json_new_null());
		} else {
			w = json_new_obj();
			json_set(w, "start", cert_col_time(s, 11));
			json_set(w, "end", cert_col_time(s, 12));
			json_set(o, "renewal_window", w);
		}
	}
	store_finalize(s);
	return o;
}

/* A name a certificate may carry: a DNS name, no wildcard, no address. */
static int
acme_name_check(const char *n, size_t i, struct err *e)
{
	unsigned char b[16];
	char msg[256];

	if (n == NULL)
		return err_set(e, "names", "[%zu] must be a string", i);
	if (strchr(n, '*') != NULL)
		return err_set(e, "names",
		    "[%zu] \"%.64s\": wildcard names need the dns-01 "
		    "challenge, which Gatehouse does not offer; list each "
		    "name instead",
		    i, n);
	if (inet_pton(AF_INET, n, b) == 1 || inet_pton(AF_INET6, n, b) == 1)
		return err_set(e, "names",
		    "[%zu] \"%.64s\": IP addresses cannot be requested", i, n);
	if (cv_check(CV_SERVER_NAME, n, msg, sizeof(msg)) != 0)
		return err_set(e, "names", "[%zu] %s", i, msg);
	return 0;
}

/* The id of account <q->account> into <q->account_id>: 0, or -1 with
 * <e> (at "account" when there is none; at "" on a store error).
 */
static int
acme_account_id(struct store *st, struct acme_req *q, struct err *e)
{
	struct store_stmt *s;

	if ((s = store_prepare(st,
	         "SELECT id FROM acme_accounts WHERE name = ?1", e)) == NULL) {
		e->field[0] = '\0';
		return -1;
	}
	store_bind_text(s, 1, q->account);
	if (store_step(s, e) == STORE_ROW)
		q->account_id = store_col_int64(s, 0);
	store_finalize(s);
	if (q->account_id == 0)
		return err_set(e, "account", "no ACME account \"%.64s\"",
		    q->account);
	return 0;
}

int
acme_req_check(struct store *st, const struct json *j, struct acme_req *q,
    struct err *e)
{
	struct json *arr = NULL, *na;
	const char *kt = NULL;
	int64_t delay = 0;
	size_t i, k;

	memset(q, 0, sizeof(*q));
	q->challenge = "http-01";
	if (json_get_arr(j, "", "names", &arr, e) < 0 ||
	    json_get_str(j, "", "account", &q->account, e) < 0 ||
	    json_get_str(j, "", "challenge", &q->challenge, e) < 0 ||
	    json_get_str(j, "", "key_type", &kt, e) < 0 ||
	    json_get_int(j, "", "delay_s", 0, 3600, &delay, e) < 0)
		return -1;
	/* A caller that makes the listeners next (the web UI's New site)
	 * starts the order itself with /renew once they serve.
	 */
	q->start = delay > 0 ? (int64_t)time(NULL) + delay : 0;
	q->n = arr != NULL ? json_len(arr) : 0;
	if (q->n == 0 || q->n > ACME_MAX_NAMES)
		return err_set(e, "names", "must list 1 to %d DNS names",
		    ACME_MAX_NAMES);
	for (i = 0; i < q->n; i++) {
		q->names[i] = json_str(json_at(arr, i));
		if (acme_name_check(q->names[i], i, e) != 0)
			return -1;
		for (k = 0; k < i; k++)
			if (strcasecmp(q->names[k], q->names[i]) == 0)
				return err_set(e, "names",
				    "[%zu] \"%.64s\" is listed twice", i,
				    q->names[i]);
	}
	for (i = 0; challenges[i] != NULL; i++)
		if (strcmp(challenges[i], q->challenge) == 0)
			break;
	if (challenges[i] == NULL)
		return err_set(e, "challenge",
		    "must be http-01 or tls-alpn-01");
	if (kt != NULL && strcmp(kt, "ecdsa-p256") != 0)
		return err_set(e, "key_type", "must be ecdsa-p256");
	if (q->account == NULL)
		return err_set(e, "account",
		    "is required (an ACME account name)");
	if (acme_account_id(st, q, e) != 0)
		return -1;
	na = json_new_arr();
	for (i = 0; i < q->n; i++)
		json_append(na, json_new_str(q->names[i]));
	q->names_json = json_dump(na, NULL);
	json_unref(na);
	if (q->names_json == NULL)
		return err_set(e, "", "out of memory");
	return 0;
}

int
acme_req_placeholder(struct acme_req *q, struct err *e)
{
	return x509_selfsigned_pem(q->names, q->n, ACME_PLACEHOLDER_D,
	    "ecdsa-p256", &q->cert, &q->key, e);
}

int
acme_req_write(struct store *st, int64_t cert_id, const struct acme_req *q,
    struct err *e)
{
	struct store_stmt *s;
	enum store_step_result sr;

	s = store_prepare(st,
	    "INSERT INTO acme_certs (certificate_id, account_id, names,"
	    " challenge, next_attempt) VALUES (?1, ?2, ?3, ?4, ?5)",
	    e);
	if (s == NULL)
		return -1;
	store_bind_int64(s, 1, cert_id);
	store_bind_int64(s, 2, q->account_id);
	store_bind_text(s, 3, q->names_json);
	store_bind_text(s, 4, q->challenge);
	store_bind_int64(s, 5, q->start);
	sr = store_step(s, e);
	store_finalize(s);
	return sr == STORE_DONE ? 0 : -1;
}

void
acme_req_free(struct acme_req *q)
{
	free(q->names_json);
	free(q->cert);
	acme_pem_free(q->key);
	q->names_json = q->cert = q->key = NULL;
}

struct req_write {
	struct cert_row row; /* the placeholder */
	const struct acme_req *q;
};

static int
req_write(struct store *st, void *arg, struct err *e, unsigned *status)
{
	struct req_write *w = arg;

	if (cert_store_row(st, &w->row, e, status) != 0)
		return -1;
	return acme_req_write(st, w->row.id, w->q, e);
}

/* {"id","name","acme"} of certificate <id>. */
static struct json *
short_json(struct store *st, int64_t id, const char *name)
{
	struct json *o = json_new_obj(), *a;

	json_set(o, "id", json_new_int(id));
	json_set(o, "name", json_new_str(name));
	if ((a = acme_cert_json(st, id)) != NULL)
		json_set(o, "acme", a);
	return o;
}

void
acme_certs_request(struct api_req *r)
{
	static const char *const keys[] = { "name", "names", "account",
		"challenge", "key_type", "delay_s", NULL };
	struct req_write w = { 0 };
	struct acme_req q;
	struct json *j;
	struct store *st = api_store();
	char msg[256], summary[160];
	unsigned status;
	struct err e;

	if ((j = api_req_json(r)) == NULL)
		return;
	err_clear(&e);
	memset(&q, 0, sizeof(q));
	if (json_check_keys(j, "", keys, &e) != 0 ||
	    json_get_str(j, "", "name", &w.row.name, &e) < 0)
		goto refuse;
	if (w.row.name == NULL) {
		err_set(&e, "name", "is required");
		goto refuse;
	}
	if (cv_check(CV_NAME, w.row.name, msg, sizeof(msg)) != 0) {
		err_set(&e, "name", "%s", msg);
		goto refuse;
	}
	if (acme_req_check(st, j, &q, &e) != 0) {
		if (e.field[0] == '\0')
			goto fail;
		goto refuse;
	}
	if (acme_req_placeholder(&q, &e) != 0)
		goto fail;
	w.q = &q;
	w.row.sql = "INSERT INTO certificates (name, kind, certificate_pem,"
	            " private_key_pem) VALUES (?1, ?2, ?3, ?4)";
	w.row.kind = "leaf";
	w.row.cert = q.cert;
	w.row.key = q.key;
	snprintf(summary, sizeof(summary),
	    "certificates: add %s (ACME %s, placeholder until issued)",
	    w.row.name, q.challenge);
	if (cert_store_apply(r, st, true, summary, req_write, &w, &e, &status) <
	    0) {
		cert_store_reply_error(r, status, &e);
	} else {
		api_reply_json(r, 202, short_json(st, w.row.id, w.row.name));
		acme_kick();
	}
	acme_req_free(&q);
	json_unref(j);
	return;
fail:
	acme_req_free(&q);
	api_reply_problem(r, 500, e.msg, NULL);
	json_unref(j);
	return;
refuse:
	acme_req_free(&q);
	api_reply_problem(r, 422, "the certificate request was refused", &e);
	json_unref(j);
}

void
acme_certs_renew(struct api_req *r)
{
	struct store *st = api_store();
	struct store_stmt *s;
	char name[80] = "", detail[200];
	int64_t id = 0;
	struct err e;

	s = store_prepare(st,
	    "SELECT c.id, c.name FROM certificates c JOIN acme_certs a"
	    " ON a.certificate_id = c.id WHERE c.name = ?1 OR"
	    " (CAST(?1 AS INTEGER) = c.id AND ?1 GLOB '[0-9]*')",
	    &e);
	if (s == NULL) {
		api_reply_problem(r, 500, e.msg, NULL);
		return;
	}
	store_bind_text(s, 1, r->param);
	if (store_step(s, &e) == STORE_ROW) {
		id = store_col_int64(s, 0);
		snprintf(name, sizeof(name), "%s", store_col_text(s, 1));
	}
	store_finalize(s);
	if (id == 0) {
		snprintf(detail, sizeof(detail),
		    "no certificate \"%.100s\" managed by the ACME client",
		    r->param);
		api_reply_problem(r, 404, detail, NULL);
		return;
	}
	s = store_prepare(st,
	    "UPDATE acme_certs SET status = CASE WHEN issued > 0 THEN"
	    " 'renewing' ELSE 'pending' END, next_attempt = 0, attempts = 0"
	    " WHERE certificate_id = ?1",
	    &e);
	if (s == NULL ||
	    (store_bind_int64(s, 1, id), store_step(s, &e)) != STORE_DONE) {
		store_finalize(s);
		api_reply_problem(r, 500, e.msg, NULL);
		return;
	}
	store_finalize(s);
	log_info("admin api: %s from %s: renewal of %s forced", r->actor,
	    r->client, name);
	api_reply_json(r, 202, short_json(st, id, name));
	acme_kick();
}
