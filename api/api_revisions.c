/*
 * api_revisions.c: /revisions, their diffs, restoring one, and the
 * retention setting (/settings/revisions).
 *
 * Every committed configuration change is a row of the revisions table
 * with its actor, client address, time and summary; its document is
 * stored as a delta or a checkpoint and rebuilt by rev_doc()
 * (rev_store.c). Restoring revision n applies its document through
 * apply_doc(), which records a new revision. Old revisions go only by
 * the retention setting.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "json.h"
#include "store.h"

static int64_t
rev_param(struct api_req *r)
{
	char *end;
	long long n = strtoll(r->param, &end, 10);

	if (*end != '\0' || n <= 0) {
		api_reply_problem(r, 404, "no such revision", NULL);
		return -1;
	}
	return n;
}

static struct json *
rev_row(struct store_stmt *s)
{
	struct json *o = json_new_obj();

	json_set(o, "revision", json_new_int(store_col_int64(s, 0)));
	json_set(o, "created_at", json_new_int(store_col_int64(s, 1)));
	json_set(o, "actor", json_new_str(store_col_text(s, 2)));
	json_set(o, "client", json_new_str(store_col_text(s, 3)));
	json_set(o, "summary", json_new_str(store_col_text(s, 4)));
	return o;
}

void
rev_list(struct api_req *r)
{
	struct store_stmt *s;
	struct json *out;
	const char *q;
	int64_t limit = 100, before = INT64_MAX;
	struct err e;

	err_clear(&e);
	if ((q = api_req_query(r, "limit")) != NULL)
		limit = strtoll(q, NULL, 10);
	if ((q = api_req_query(r, "before")) != NULL)
		before = strtoll(q, NULL, 10);
	if (limit <= 0 || limit > 1000)
		limit = 100;
	s = store_prepare(api_store(),
	    "SELECT id, created_at, actor, client, summary FROM revisions"
	    " WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
	    &e);
	if (s == NULL) {
		api_reply_problem(r, 500, e.msg, NULL);
		return;
	}
	store_bind_int64(s, 1, before);
	store_bind_int64(s, 2, limit);
	out = json_new_arr();
	while (store_step(s, &e) == STORE_ROW)
		json_append(out, rev_row(s));
	store_finalize(s);
	api_reply_json(r, 200, out);
}

/* Revision <n> with its config; NULL (404 replied) when absent. */
static struct json *
rev_load(struct api_req *r, int64_t n, bool reply)
{
	struct store_stmt *s;
	struct json *o = NULL, *cfg;
	struct err e;

	err_clear(&e);
	s = store_prepare(api_store(),
	    "SELECT id, created_at, actor, client, summary"
	    " FROM revisions WHERE id = ?1",
	    &e);
	if (s == NULL) {
		api_reply_problem(r, 500, e.msg, NULL);
		return NULL;
	}
	store_bind_int64(s, 1, n);
	if (store_step(s, &e) == STORE_ROW)
		o = rev_row(s);
	store_finalize(s);
	if (o == NULL) {
		if (reply)
			api_reply_problem(r, 404, "no such revision", NULL);
		return NULL;
	}
	if ((cfg = rev_doc(api_store(), n, &e)) == NULL) {
		json_unref(o);
		if (reply)
			api_reply_problem(r, 500,
			    e.msg[0] != '\0' ? e.msg : "revision vanished",
			    NULL);
		return NULL;
	}
	json_set(o, "config", cfg);
	return o;
}

void
rev_get(struct api_req *r)
{
	int64_t n = rev_param(r);
	struct json *o;

	if (n > 0 && (o = rev_load(r, n, true)) != NULL)
		api_reply_json(r, 200, o);
}

static struct json *
empty_doc(void)
{
	struct json *d = json_new_obj();

	json_set(d, "listeners", json_new_arr());
	json_set(d, "origins", json_new_arr());
	json_set(d, "routes", json_new_arr());
	return d;
}

void
rev_diff(struct api_req *r)
{
	int64_t n = rev_param(r), against;
	struct json *o, *base = NULL, *out, *empty;
	const char *q;

	if (n <= 0 || (o = rev_load(r, n, true)) == NULL)
		return;
	q = api_req_query(r, "against");
	against = q != NULL ? strtoll(q, NULL, 10) : n - 1;
	if (q != NULL && (base = rev_load(r, against, true)) == NULL) {
		json_unref(o);
		return;
	}
	if (base == NULL && against > 0)
		base = rev_load(r, against, false);
	out = json_new_obj();
	json_set(out, "revision", json_new_int(n));
	json_set(out, "against", json_new_int(base != NULL ? against : 0));
	empty = empty_doc();
	json_set(out, "changes",
	    json_diff(base != NULL ? json_get(base, "config") : empty,
	        json_get(o, "config")));
	json_unref(empty);
	api_reply_json(r, 200, out);
	json_unref(base);
	json_unref(o);
}

void
rev_restore(struct api_req *r)
{
	int64_t n = rev_param(r);
	char summary[64];
	struct json *o;

	if (n <= 0 || (o = rev_load(r, n, true)) == NULL)
		return;
	snprintf(summary, sizeof(summary), "restore revision %" PRId64, n);
	apply_doc(r, json_get(o, "config"), summary, -1, NULL, 200);
	json_unref(o);
}

static struct json *
rev_settings_json(int64_t keep, int64_t days)
{
	struct json *o = json_new_obj();

	json_set(o, "keep", json_new_int(keep));
	json_set(o, "keep_days", json_new_int(days));
	return o;
}

void
rev_settings_get(struct api_req *r)
{
	int64_t keep, days;
	struct err e;

	err_clear(&e);
	if (rev_retention_get(api_store(), &keep, &days, &e) != 0) {
		api_reply_problem(r, 500, e.msg, NULL);
		return;
	}
	api_reply_json(r, 200, rev_settings_json(keep, days));
}

/* {"keep": N, "keep_days": D}; a field left out keeps its value. The
 * new setting prunes at once, in the same transaction.
 */
void
rev_settings_put(struct api_req *r)
{
	static const char *const keys[] = { "keep", "keep_days", NULL };
	struct store *st = api_store();
	struct json *body;
	int64_t keep, days;
	struct err e;

	err_clear(&e);
	if ((body = api_req_json(r)) == NULL)
		return;
	if (rev_retention_get(st, &keep, &days, &e) != 0) {
		api_reply_problem(r, 500, e.msg, NULL);
	} else if (json_check_keys(body, "", keys, &e) != 0 ||
	    json_get_int(body, "", "keep", 0, REV_KEEP_MAX, &keep, &e) < 0 ||
	    json_get_int(body, "", "keep_days", 0, REV_DAYS_MAX, &days, &e) <
	        0) {
		api_reply_problem(r, 422, "the settings are not valid", &e);
	} else if (store_begin(st, &e) != 0) {
		api_reply_problem(r, 503, e.msg, NULL);
	} else if (rev_retention_set(st, keep, days, &e) != 0 ||
	    rev_prune(st, &e) != 0 || store_commit(st, &e) != 0) {
		store_rollback(st);
		api_reply_problem(r, 503, e.msg, NULL);
	} else {
		api_reply_json(r, 200, rev_settings_json(keep, days));
	}
	json_unref(body);
}
