/*
 * api_acme_accounts.c: /api/v1/acme_accounts (the acme_accounts kind).
 *
 * An account's key is made by the ACME thread and sealed with the KEK
 * (as is the EAB MAC key); neither is ever returned. An account used by
 * a certificate cannot be deleted (409 naming them).
 */
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
#include "kek.h"
#include "log.h"
#include "store.h"
#include "x509.h"

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
	json_set(o, "last_error", cert_col_json(s, 9));
	json_set(o, "attempts", json_new_int(store_col_int64(s, 10)));
	if (store_col_int64(s, 10) > 0)
		json_set(o, "next_attempt", cert_col_time(s, 11));
	json_set(o, "created_at", cert_col_time(s, 12));
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
