/*
 * cert_store.c: storing a certificate, for every path that does
 * (api_certs.c: uploads, replacements, deletions and self-signed ones;
 * api_acme_certs.c: an ACME request's placeholder; acme_db.c: the chain
 * the CA issued).
 *
 * A row write (cert_store_row()) seals the private key with the KEK and
 * steps one statement with fixed bindings. The pipeline around it
 * (cert_store_apply()) is the live-apply one of configuration writes:
 * BEGIN, If-Match, the caller's rows, a revision row (the document does
 * not change, so revisions never hold key material), compile (which
 * loads every certificate into GnuTLS credentials), COMMIT, publish.
 *
 * The time and column helpers format a certificate's and an ACME row's
 * times and JSON columns the same way in every view.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_int.h"
#include "cfg.h"
#include "json.h"
#include "kek.h"
#include "log.h"
#include "publish.h"
#include "stats.h"
#include "store.h"

#define CERT_PUBLISH_MS 10000u

void
cert_iso_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%" PRId64, t);
}

struct json *
cert_col_json(struct store_stmt *s, int i)
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

struct json *
cert_col_time(struct store_stmt *s, int i)
{
	char t[40];

	if (store_col_is_null(s, i) || store_col_int64(s, i) == 0)
		return json_new_null();
	cert_iso_time(store_col_int64(s, i), t, sizeof(t));
	return json_new_str(t);
}

int
cert_store_row(struct store *st, struct cert_row *w, struct err *e,
    unsigned *status)
{
	struct store_stmt *s;
	enum store_step_result sr;
	unsigned char *sealed = NULL;
	size_t slen = 0;

	if (w->key != NULL &&
	    kek_seal(w->key, strlen(w->key), &sealed, &slen, e) != 0) {
		*status = 503;
		return -1;
	}
	if ((s = store_prepare(st, w->sql, e)) == NULL) {
		free(sealed);
		*status = 500;
		return -1;
	}
	store_bind_text(s, 1, w->name);
	store_bind_text(s, 2, w->kind);
	store_bind_text(s, 3, w->cert);
	if (sealed != NULL)
		store_bind_blob(s, 4, sealed, (int)slen);
	else
		store_bind_null(s, 4);
	store_bind_int64(s, 5, w->id);
	sr = store_step(s, e);
	store_finalize(s);
	free(sealed);
	if (sr == STORE_CONSTRAINT) {
		*status = 409;
		return err_set(e, "name",
		    "a certificate named \"%.64s\" exists, or it is in use",
		    w->name != NULL ? w->name : "");
	}
	if (sr != STORE_DONE) {
		*status = 500;
		return -1;
	}
	if (w->id == 0)
		w->id = store_last_insert_id(st);
	return 0;
}

int64_t
cert_store_apply(struct api_req *r, struct store *st, bool request,
    const char *summary, cert_store_fn write, void *arg, struct err *e,
    unsigned *status)
{
	struct json *doc;
	struct cfg *c;
	char hdr[32];
	int64_t rev;

	err_clear(e);
	*status = 503;
	if (store_begin(st, e) != 0)
		return -1;
	if (request && apply_if_match(r, store_revision(st)) != 0) {
		*status = 0;
		goto rollback;
	}
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
	if (publish_cfg(c, CERT_PUBLISH_MS) < 0)
		log_warnx("%s: revision %" PRId64 " committed but not every "
		          "worker took it within %u ms",
		    request ? "admin api" : r->actor, rev, CERT_PUBLISH_MS);
	log_info("admin api: revision %" PRId64 " by %s from %s: %s", rev,
	    r->actor, r->client, summary);
	if (request) {
		snprintf(hdr, sizeof(hdr), "%" PRId64, rev);
		api_add_header(r, "X-Config-Revision", hdr);
		snprintf(hdr, sizeof(hdr), "\"%" PRId64 "\"", rev);
		api_add_header(r, "ETag", hdr);
	}
	return rev;
rollback:
	store_rollback(st);
	return -1;
}

void
cert_store_reply_error(struct api_req *r, unsigned status, const struct err *e)
{
	if (status == 0)
		return; /* answered (412) */
	if (status == 422)
		api_reply_problem(r, 422, "the configuration does not compile",
		    e);
	else
		api_reply_problem(r, status, e->msg, NULL);
}
