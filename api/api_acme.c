/*
 * api_acme.c: /api/v1/acme_accounts, POST /api/v1/certificates/acme,
 * POST /api/v1/certificates/{id}/renew, the "acme" member of a
 * certificate, and the store side of the ACME thread (acme_db_*(),
 * acme.h), which runs under api_with_store().
 *
 * An account's key is made by the ACME thread and sealed with the KEK
 * (as is the EAB MAC key); neither is ever returned. A requested
 * certificate is a row of `certificates` at once (a self-signed
 * placeholder for its names, so listeners can name it) and a row of
 * `acme_certs` that the thread works on; the issued chain replaces the
 * placeholder as a revision, compiled and published like an upload.
 */
#include <arpa/inet.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acme.h"
#include "acme_crypto.h"
#include "api.h"
#include "api_int.h"
#include "cfg.h"
#include "cfg_value.h"
#include "json.h"
#include "kek.h"
#include "log.h"
#include "publish.h"
#include "stats.h"
#include "store.h"
#include "x509.h"

#define ACME_PUBLISH_MS    10000u
#define ACME_PLACEHOLDER_D 7
#define ACME_MAX_NAMES     32

static const char *const challenges[] = { "http-01", "tls-alpn-01", NULL };

static void
iso(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%" PRId64, t);
}

/* A JSON text column as JSON (null when NULL or not JSON). */
static struct json *
col_json(struct store_stmt *s, int i)
{
	const char *t;
	struct json *j;
	struct err e;

	if (store_col_is_null(s, i))
		return json_new_null();
	t = store_col_text(s, i);
	if ((j = json_parse(t, strlen(t), &e)) == NULL)
		return json_new_str(t);
	return j;
}

static struct json *
col_time(struct store_stmt *s, int i)
{
	char t[40];

	if (store_col_is_null(s, i) || store_col_int64(s, i) == 0)
		return json_new_null();
	iso(store_col_int64(s, i), t, sizeof(t));
	return json_new_str(t);
}

/* ---- the live-apply pipeline, for requests and for the thread ---- */

typedef int (*acme_write_fn)(struct store *st, void *arg, struct err *e,
    unsigned *status);

/* BEGIN, <write>, a revision by <r>, compile, COMMIT, publish. 0, or -1
 * with <e> and the status to answer in <*status>.
 */
static int
acme_apply(struct api_req *r, struct store *st, const char *summary,
    acme_write_fn write, void *arg, struct err *e, unsigned *status)
{
	struct json *doc;
	struct cfg *c;
	int64_t rev;

	*status = 503;
	if (store_begin(st, e) != 0)
		return -1;
	*status = 500;
	if (write(st, arg, e, status) != 0)
		goto rollback;
	*status = 503;
	if ((doc = conf_load(st, e)) == NULL)
		goto rollback;
	rev = api_revision_insert(r, st, summary, doc, e);
	json_unref(doc);
	if (rev < 0)
		goto rollback;
	if ((c = cfg_compile(st, e)) == NULL) {
		stats_inc(STAT_CFG_REJECTED);
		*status = 422;
		goto rollback;
	}
	if (store_commit(st, e) != 0) {
		cfg_unref(c);
		goto rollback;
	}
	if (publish_cfg(c, ACME_PUBLISH_MS) < 0)
		log_warnx("acme: revision %" PRId64 " committed but not every "
		          "worker took it within %u ms",
		    rev, ACME_PUBLISH_MS);
	log_info("admin api: revision %" PRId64 " by %s from %s: %s", rev,
	    r->actor, r->client, summary);
	return 0;
rollback:
	store_rollback(st);
	return -1;
}

/* ---- accounts ---- */

static const char acct_cols[] =
    "id, name, directory, email, terms_agreed, eab_kid, directory_ca,"
    " status, account_url, last_error, attempts, next_attempt, created_at";

static struct json *
acct_json(struct store *st, struct store_stmt *s)
{
	struct json *o = json_new_obj(), *eab;
	struct store_stmt *u;
	struct err e;

	json_set(o, "id", json_new_int(store_col_int64(s, 0)));
	json_set(o, "name", json_new_str(store_col_text(s, 1)));
	json_set(o, "directory", json_new_str(store_col_text(s, 2)));
	if (!store_col_is_null(s, 3))
		json_set(o, "email", json_new_str(store_col_text(s, 3)));
	json_set(o, "terms_agreed", json_new_bool(store_col_int64(s, 4) != 0));
	if (!store_col_is_null(s, 5)) {
		eab = json_new_obj();
		json_set(eab, "kid", json_new_str(store_col_text(s, 5)));
		json_set(o, "eab", eab);
	}
	if (!store_col_is_null(s, 6))
		json_set(o, "directory_ca", json_new_str(store_col_text(s, 6)));
	json_set(o, "key_type", json_new_str("ecdsa-p256"));
	json_set(o, "status", json_new_str(store_col_text(s, 7)));
	json_set(o, "account_url",
	    store_col_is_null(s, 8) ? json_new_null()
	                            : json_new_str(store_col_text(s, 8)));
	json_set(o, "last_error", col_json(s, 9));
	json_set(o, "attempts", json_new_int(store_col_int64(s, 10)));
	if (store_col_int64(s, 10) > 0)
		json_set(o, "next_attempt", col_time(s, 11));
	json_set(o, "created_at", col_time(s, 12));
	u = store_prepare(st,
	    "SELECT c.name FROM acme_certs a JOIN certificates c"
	    " ON c.id = a.certificate_id WHERE a.account_id = ?1"
	    " ORDER BY c.id",
	    &e);
	if (u != NULL) {
		struct json *used = json_new_arr();

		store_bind_int64(u, 1, store_col_int64(s, 0));
		while (store_step(u, &e) == STORE_ROW)
			json_append(used, json_new_str(store_col_text(u, 0)));
		store_finalize(u);
		json_set(o, "used_by", used);
	}
	return o;
}

static struct json *
acct_find(struct store *st, const char *key, int64_t *id)
{
	char sql[400];
	struct store_stmt *s;
	struct json *o = NULL;
	struct err e;

	snprintf(sql, sizeof(sql),
	    "SELECT %s FROM acme_accounts WHERE name = ?1 OR"
	    " (CAST(?1 AS INTEGER) = id AND ?1 GLOB '[0-9]*')",
	    acct_cols);
	if ((s = store_prepare(st, sql, &e)) == NULL)
		return NULL;
	store_bind_text(s, 1, key);
	if (store_step(s, &e) == STORE_ROW) {
		if (id != NULL)
			*id = store_col_int64(s, 0);
		o = acct_json(st, s);
	}
	store_finalize(s);
	return o;
}

void
acme_accounts_list(struct api_req *r)
{
	struct store *st = api_store();
	struct json *arr = json_new_arr();
	struct store_stmt *s;
	char sql[300];
	struct err e;

	snprintf(sql, sizeof(sql), "SELECT %s FROM acme_accounts ORDER BY id",
	    acct_cols);
	if ((s = store_prepare(st, sql, &e)) == NULL) {
		json_unref(arr);
		api_reply_problem(r, 500, e.msg, NULL);
		return;
	}
	while (store_step(s, &e) == STORE_ROW)
		json_append(arr, acct_json(st, s));
	store_finalize(s);
	api_reply_json(r, 200, arr);
}

void
acme_accounts_get(struct api_req *r)
{
	struct json *o = acct_find(api_store(), r->param, NULL);
	char detail[160];

	if (o == NULL) {
		snprintf(detail, sizeof(detail), "no ACME account \"%.100s\"",
		    r->param);
		api_reply_problem(r, 404, detail, NULL);
		return;
	}
	api_reply_json(r, 200, o);
}

static bool
email_ok(const char *m)
{
	const char *at = strchr(m, '@');
	size_t i;

	if (at == NULL || at == m || at[1] == '\0' || strlen(m) > 254 ||
	    strchr(at + 1, '@') != NULL)
		return false;
	for (i = 0; m[i] != '\0'; i++)
		if ((unsigned char)m[i] <= ' ' || m[i] == '"' || m[i] == '<' ||
		    m[i] == '>' || m[i] == '\\' || m[i] == ',' ||
		    (unsigned char)m[i] >= 0x7f)
			return false;
	return true;
}

void
acme_accounts_create(struct api_req *r)
{
	static const char *const keys[] = { "name", "directory", "email",
		"terms_agreed", "eab", "directory_ca", NULL };
	static const char *const eab_keys[] = { "kid", "hmac_key", NULL };
	const char *name = NULL, *dir = NULL, *mail = NULL, *kid = NULL,
	           *mac = NULL, *ca = NULL;
	unsigned char macbin[256], *sealed = NULL;
	struct json *j, *eab = NULL, *o;
	struct store *st = api_store();
	struct store_stmt *s;
	struct x509_info *in = NULL;
	enum store_step_result sr;
	bool tos = false;
	size_t slen = 0;
	char msg[256];
	struct err e;

	if ((j = api_req_json(r)) == NULL)
		return;
	err_clear(&e);
	if (json_check_keys(j, "", keys, &e) != 0 ||
	    json_get_str(j, "", "name", &name, &e) < 0 ||
	    json_get_str(j, "", "directory", &dir, &e) < 0 ||
	    json_get_str(j, "", "email", &mail, &e) < 0 ||
	    json_get_bool(j, "", "terms_agreed", &tos, &e) < 0 ||
	    json_get_obj(j, "", "eab", &eab, &e) < 0 ||
	    json_get_str(j, "", "directory_ca", &ca, &e) < 0)
		goto refuse;
	if (name == NULL) {
		err_set(&e, "name", "is required");
		goto refuse;
	}
	if (cv_check(CV_NAME, name, msg, sizeof(msg)) != 0) {
		err_set(&e, "name", "%s", msg);
		goto refuse;
	}
	if (dir == NULL || strncmp(dir, "https://", 8) != 0 ||
	    strlen(dir) > 1000 || strpbrk(dir, " \"\\\r\n\t") != NULL) {
		err_set(&e, "directory",
		    "is required: the CA's https:// "
		    "directory URL");
		goto refuse;
	}
	if (mail != NULL && !email_ok(mail)) {
		err_set(&e, "email", "is not an e-mail address");
		goto refuse;
	}
	if (!tos) {
		err_set(&e, "terms_agreed",
		    "must be true: the CA's terms of service must be agreed "
		    "to");
		goto refuse;
	}
	if (eab != NULL &&
	    (json_check_keys(eab, "eab", eab_keys, &e) != 0 ||
	        json_get_str(eab, "eab", "kid", &kid, &e) < 0 ||
	        json_get_str(eab, "eab", "hmac_key", &mac, &e) < 0))
		goto refuse;
	if (eab != NULL &&
	    (kid == NULL || kid[0] == '\0' || strlen(kid) > 500 ||
	        strpbrk(kid, "\"\\") != NULL)) {
		err_set(&e, "eab.kid", "is required (the CA's key id)");
		goto refuse;
	}
	if (eab != NULL &&
	    (mac == NULL || strlen(mac) > 300 ||
	        acme_b64url_dec(mac, macbin, sizeof(macbin)) < 16)) {
		err_set(&e, "eab.hmac_key",
		    "is required: the CA's MAC key, base64url");
		goto refuse;
	}
	memset(macbin, 0, sizeof(macbin));
	if (ca != NULL) {
		if ((in = calloc(1, sizeof(*in))) == NULL ||
		    x509_check(ca, NULL, in, &e) != 0) {
			if (in == NULL)
				err_set(&e, "directory_ca", "out of memory");
			else
				err_set(&e, "directory_ca", "%s",
				    e.msg[0] ? e.msg : "is not a PEM CA");
			free(in);
			goto refuse;
		}
		free(in);
	}
	if (mac != NULL &&
	    kek_seal(mac, strlen(mac), &sealed, &slen, &e) != 0) {
		api_reply_problem(r, 503, e.msg, NULL);
		json_unref(j);
		return;
	}
	s = store_prepare(st,
	    "INSERT INTO acme_accounts (name, directory, email, terms_agreed,"
	    " eab_kid, eab_hmac_key, directory_ca) VALUES (?1, ?2, ?3, ?4,"
	    " ?5, ?6, ?7)",
	    &e);
	if (s == NULL) {
		free(sealed);
		api_reply_problem(r, 500, e.msg, NULL);
		json_unref(j);
		return;
	}
	store_bind_text(s, 1, name);
	store_bind_text(s, 2, dir);
	store_bind_text(s, 3, mail);
	store_bind_int64(s, 4, tos);
	store_bind_text(s, 5, kid);
	if (sealed != NULL)
		store_bind_blob(s, 6, sealed, (int)slen);
	else
		store_bind_null(s, 6);
	store_bind_text(s, 7, ca);
	sr = store_step(s, &e);
	store_finalize(s);
	free(sealed);
	if (sr == STORE_CONSTRAINT) {
		snprintf(msg, sizeof(msg),
		    "an ACME account named \"%.64s\" "
		    "exists",
		    name);
		api_reply_problem(r, 409, msg, NULL);
	} else if (sr != STORE_DONE) {
		api_reply_problem(r, 500, e.msg, NULL);
	} else {
		log_info("admin api: %s from %s: acme account %s added (%s)",
		    r->actor, r->client, name, dir);
		o = acct_find(st, name, NULL);
		api_reply_json(r, 201, o != NULL ? o : json_new_obj());
		acme_kick();
	}
	json_unref(j);
	return;
refuse:
	api_reply_problem(r, 422, "the ACME account was refused", &e);
	json_unref(j);
}

void
acme_accounts_delete(struct api_req *r)
{
	struct store *st = api_store();
	struct json *o, *used;
	struct store_stmt *s;
	char detail[400], *list;
	int64_t id = 0;
	struct err e;

	if ((o = acct_find(st, r->param, &id)) == NULL) {
		snprintf(detail, sizeof(detail), "no ACME account \"%.100s\"",
		    r->param);
		api_reply_problem(r, 404, detail, NULL);
		return;
	}
	used = json_get(o, "used_by");
	if (json_len(used) > 0) {
		list = json_dump(used, NULL);
		snprintf(detail, sizeof(detail),
		    "ACME account \"%s\" is used by certificates %s",
		    json_str(json_get(o, "name")), list != NULL ? list : "?");
		free(list);
		json_unref(o);
		api_reply_problem(r, 409, detail, NULL);
		return;
	}
	json_unref(o);
	if ((s = store_prepare(st, "DELETE FROM acme_accounts WHERE id = ?1",
	         &e)) == NULL) {
		api_reply_problem(r, 500, e.msg, NULL);
		return;
	}
	store_bind_int64(s, 1, id);
	if (store_step(s, &e) != STORE_DONE) {
		store_finalize(s);
		api_reply_problem(r, 500, e.msg, NULL);
		return;
	}
	store_finalize(s);
	api_reply_empty(r, 204);
}

/* ---- certificates ---- */

struct json *
acme_cert_json(struct store *st, int64_t id)
{
	struct store_stmt *s;
	struct json *o = NULL;
	struct err e;

	s = store_prepare(st,
	    "SELECT a.status, a.last_error, a.next_renewal, a.attempts,"
	    " a.challenge, c.name, a.names, a.issued, a.next_attempt,"
	    " a.order_url IS NOT NULL, a.orders"
	    " FROM acme_certs a JOIN acme_accounts c ON c.id = a.account_id"
	    " WHERE a.certificate_id = ?1",
	    &e);
	if (s == NULL)
		return NULL;
	store_bind_int64(s, 1, id);
	if (store_step(s, &e) == STORE_ROW) {
		o = json_new_obj();
		json_set(o, "status", json_new_str(store_col_text(s, 0)));
		json_set(o, "last_error", col_json(s, 1));
		json_set(o, "next_renewal", col_time(s, 2));
		json_set(o, "attempts", json_new_int(store_col_int64(s, 3)));
		json_set(o, "challenge", json_new_str(store_col_text(s, 4)));
		json_set(o, "account", json_new_str(store_col_text(s, 5)));
		json_set(o, "names", col_json(s, 6));
		json_set(o, "issued", json_new_int(store_col_int64(s, 7)));
		json_set(o, "next_attempt", col_time(s, 8));
		json_set(o, "order_in_progress",
		    json_new_bool(store_col_int64(s, 9) != 0));
		json_set(o, "orders", json_new_int(store_col_int64(s, 10)));
	}
	store_finalize(s);
	return o;
}

static void
mp(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list ap;
	char *nb;
	int n;

	if (*buf == NULL)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			return;
		}
		if ((size_t)n < *cap - *len) {
			*len += (size_t)n;
			return;
		}
		if ((nb = realloc(*buf, *cap * 2 + (size_t)n)) == NULL) {
			free(*buf);
			*buf = NULL;
			return;
		}
		*buf = nb;
		*cap = *cap * 2 + (size_t)n;
	}
}

char *
acme_metrics(struct store *st)
{
	static const char *const statuses[] = { "pending", "valid", "renewing",
		"failed" };
	struct x509_info *in;
	struct store_stmt *s;
	size_t len = 0, cap = 4096, i;
	int64_t now = (int64_t)time(NULL), n;
	char *buf = malloc(cap);
	struct err e;

	if (buf == NULL)
		return NULL;
	buf[0] = '\0';
	mp(&buf, &len, &cap,
	    "# HELP gatehouse_certificate_expiry_seconds seconds until each "
	    "leaf certificate expires (negative: expired)\n"
	    "# TYPE gatehouse_certificate_expiry_seconds gauge\n");
	if ((in = calloc(1, sizeof(*in))) != NULL &&
	    (s = store_prepare(st,
	         "SELECT name, certificate_pem FROM certificates"
	         " WHERE kind = 'leaf' ORDER BY id",
	         &e)) != NULL) {
		while (store_step(s, &e) == STORE_ROW)
			if (x509_check(store_col_text(s, 1), NULL, in, &e) == 0)
				mp(&buf, &len, &cap,
				    "gatehouse_certificate_expiry_seconds"
				    "{certificate=\"%s\"} %" PRId64 "\n",
				    store_col_text(s, 0), in->not_after - now);
		store_finalize(s);
	}
	free(in);
	mp(&buf, &len, &cap,
	    "# HELP gatehouse_acme_certificates certificates managed by the "
	    "ACME client, by status\n"
	    "# TYPE gatehouse_acme_certificates gauge\n");
	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		n = 0;
		if ((s = store_prepare(st,
		         "SELECT count(*) FROM acme_certs WHERE status = ?1",
		         &e)) != NULL) {
			store_bind_text(s, 1, statuses[i]);
			if (store_step(s, &e) == STORE_ROW)
				n = store_col_int64(s, 0);
			store_finalize(s);
		}
		mp(&buf, &len, &cap,
		    "gatehouse_acme_certificates{status=\"%s\"} %" PRId64 "\n",
		    statuses[i], n);
	}
	mp(&buf, &len, &cap,
	    "# HELP gatehouse_acme_failures failed attempts in a row of each "
	    "ACME certificate (0: the last one succeeded)\n"
	    "# TYPE gatehouse_acme_failures gauge\n");
	if ((s = store_prepare(st,
	         "SELECT c.name, a.attempts FROM acme_certs a JOIN"
	         " certificates c ON c.id = a.certificate_id ORDER BY c.id",
	         &e)) != NULL) {
		while (store_step(s, &e) == STORE_ROW)
			mp(&buf, &len, &cap,
			    "gatehouse_acme_failures{certificate=\"%s\"} "
			    "%" PRId64 "\n",
			    store_col_text(s, 0), store_col_int64(s, 1));
		store_finalize(s);
	}
	return buf;
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

struct req_write {
	const char *name, *challenge, *cert, *key;
	char *names;
	int64_t account_id, id;
};

static int
req_write(struct store *st, void *arg, struct err *e, unsigned *status)
{
	struct req_write *w = arg;
	struct store_stmt *s;
	enum store_step_result sr;
	unsigned char *sealed = NULL;
	size_t slen = 0;

	if (kek_seal(w->key, strlen(w->key), &sealed, &slen, e) != 0) {
		*status = 503;
		return -1;
	}
	s = store_prepare(st,
	    "INSERT INTO certificates (name, kind, certificate_pem,"
	    " private_key_pem) VALUES (?1, 'leaf', ?2, ?3)",
	    e);
	if (s == NULL) {
		free(sealed);
		return -1;
	}
	store_bind_text(s, 1, w->name);
	store_bind_text(s, 2, w->cert);
	store_bind_blob(s, 3, sealed, (int)slen);
	sr = store_step(s, e);
	store_finalize(s);
	free(sealed);
	if (sr == STORE_CONSTRAINT) {
		*status = 409;
		return err_set(e, "name",
		    "a certificate named \"%.64s\" "
		    "exists",
		    w->name);
	}
	if (sr != STORE_DONE)
		return -1;
	w->id = store_last_insert_id(st);
	s = store_prepare(st,
	    "INSERT INTO acme_certs (certificate_id, account_id, names,"
	    " challenge) VALUES (?1, ?2, ?3, ?4)",
	    e);
	if (s == NULL)
		return -1;
	store_bind_int64(s, 1, w->id);
	store_bind_int64(s, 2, w->account_id);
	store_bind_text(s, 3, w->names);
	store_bind_text(s, 4, w->challenge);
	sr = store_step(s, e);
	store_finalize(s);
	return sr == STORE_DONE ? 0 : -1;
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
		"challenge", "key_type", NULL };
	const char *names[ACME_MAX_NAMES], *acct = NULL, *kt = NULL;
	struct req_write w = { 0 };
	struct json *j, *arr = NULL, *na = NULL;
	struct store *st = api_store();
	struct store_stmt *s;
	char *cert = NULL, *key = NULL, msg[256], summary[160];
	unsigned status;
	struct err e;
	size_t i, k, n;

	if ((j = api_req_json(r)) == NULL)
		return;
	err_clear(&e);
	w.challenge = "http-01";
	if (json_check_keys(j, "", keys, &e) != 0 ||
	    json_get_str(j, "", "name", &w.name, &e) < 0 ||
	    json_get_arr(j, "", "names", &arr, &e) < 0 ||
	    json_get_str(j, "", "account", &acct, &e) < 0 ||
	    json_get_str(j, "", "challenge", &w.challenge, &e) < 0 ||
	    json_get_str(j, "", "key_type", &kt, &e) < 0)
		goto refuse;
	if (w.name == NULL) {
		err_set(&e, "name", "is required");
		goto refuse;
	}
	if (cv_check(CV_NAME, w.name, msg, sizeof(msg)) != 0) {
		err_set(&e, "name", "%s", msg);
		goto refuse;
	}
	n = arr != NULL ? json_len(arr) : 0;
	if (n == 0 || n > ACME_MAX_NAMES) {
		err_set(&e, "names", "must list 1 to %d DNS names",
		    ACME_MAX_NAMES);
		goto refuse;
	}
	for (i = 0; i < n; i++) {
		names[i] = json_str(json_at(arr, i));
		if (acme_name_check(names[i], i, &e) != 0)
			goto refuse;
		for (k = 0; k < i; k++)
			if (strcasecmp(names[k], names[i]) == 0) {
				err_set(&e, "names",
				    "[%zu] \"%.64s\" is listed "
				    "twice",
				    i, names[i]);
				goto refuse;
			}
	}
	for (i = 0; challenges[i] != NULL; i++)
		if (strcmp(challenges[i], w.challenge) == 0)
			break;
	if (challenges[i] == NULL) {
		err_set(&e, "challenge", "must be http-01 or tls-alpn-01");
		goto refuse;
	}
	if (kt != NULL && strcmp(kt, "ecdsa-p256") != 0) {
		err_set(&e, "key_type", "must be ecdsa-p256");
		goto refuse;
	}
	if (acct == NULL) {
		err_set(&e, "account", "is required (an ACME account name)");
		goto refuse;
	}
	if ((s = store_prepare(st,
	         "SELECT id FROM acme_accounts WHERE name = ?1", &e)) == NULL)
		goto fail;
	store_bind_text(s, 1, acct);
	if (store_step(s, &e) == STORE_ROW)
		w.account_id = store_col_int64(s, 0);
	store_finalize(s);
	if (w.account_id == 0) {
		err_set(&e, "account", "no ACME account \"%.64s\"", acct);
		goto refuse;
	}
	na = json_new_arr();
	for (i = 0; i < n; i++)
		json_append(na, json_new_str(names[i]));
	w.names = json_dump(na, NULL);
	json_unref(na);
	if (w.names == NULL ||
	    x509_selfsigned_pem(names, n, ACME_PLACEHOLDER_D, "ecdsa-p256",
	        &cert, &key, &e) != 0)
		goto fail;
	w.cert = cert;
	w.key = key;
	snprintf(summary, sizeof(summary),
	    "certificates: add %s (ACME %s, placeholder until issued)", w.name,
	    w.challenge);
	if (acme_apply(r, st, summary, req_write, &w, &e, &status) != 0) {
		if (status == 409)
			api_reply_problem(r, 409, e.msg, NULL);
		else
			api_reply_problem(r, status,
			    status == 422 ? "the configuration does not "
			                    "compile"
			                  : e.msg,
			    status == 422 ? &e : NULL);
	} else {
		api_reply_json(r, 202, short_json(st, w.id, w.name));
		acme_kick();
	}
	free(w.names);
	free(cert);
	acme_pem_free(key);
	json_unref(j);
	return;
fail:
	free(w.names);
	free(cert);
	acme_pem_free(key);
	api_reply_problem(r, 500, e.msg, NULL);
	json_unref(j);
	return;
refuse:
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

/* ---- the ACME thread's side ---- */

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
	    " (SELECT name FROM certificates WHERE id = certificate_id)"
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

struct issued_arg {
	int64_t cert;
	const char *chain, *key;
	char name[80];
};

static int
issued_write(struct store *st, void *arg, struct err *e, unsigned *status)
{
	struct issued_arg *a = arg;
	struct x509_info *in;
	struct store_stmt *s;
	unsigned char *sealed = NULL;
	size_t slen = 0;
	int64_t renew;
	int rc = -1;

	(void)status;
	if ((in = calloc(1, sizeof(*in))) == NULL)
		return err_set(e, "", "out of memory");
	if (x509_check(a->chain, a->key, in, e) != 0) {
		free(in);
		return -1;
	}
	renew = in->not_before + (in->not_after - in->not_before) * 2 / 3;
	free(in);
	if (kek_seal(a->key, strlen(a->key), &sealed, &slen, e) != 0)
		return -1;
	s = store_prepare(st,
	    "UPDATE certificates SET certificate_pem = ?2,"
	    " private_key_pem = ?3, kind = 'leaf' WHERE id = ?1",
	    e);
	if (s != NULL) {
		store_bind_int64(s, 1, a->cert);
		store_bind_text(s, 2, a->chain);
		store_bind_blob(s, 3, sealed, (int)slen);
		if (store_step(s, e) == STORE_DONE)
			rc = 0;
		store_finalize(s);
	}
	free(sealed);
	if (rc != 0)
		return -1;
	s = store_prepare(st,
	    "UPDATE acme_certs SET status = 'valid', issued = issued + 1,"
	    " last_error = NULL, attempts = 0, next_attempt = 0,"
	    " next_renewal = ?2, order_url = NULL, order_key = NULL"
	    " WHERE certificate_id = ?1",
	    e);
	if (s == NULL)
		return -1;
	store_bind_int64(s, 1, a->cert);
	store_bind_int64(s, 2, renew);
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
	return acme_apply(&acme_actor, st, summary, issued_write, ir->a, ir->e,
	    &status);
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
