/*
 * api_apply.c: the live-apply pipeline shared by every configuration write.
 *
 * validate -> BEGIN IMMEDIATE -> If-Match -> rows (conf_sync) -> revision
 * row -> cfg_compile inside the transaction -> COMMIT -> publish_cfg ->
 * answer with X-Config-Revision. The revision row goes in before the
 * compile so the snapshot carries its own revision number. Any failure
 * before COMMIT rolls back: an invalid change changes nothing. A change
 * that changes nothing records no revision.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "cfg.h"
#include "json.h"
#include "log.h"
#include "publish.h"
#include "stats.h"
#include "store.h"

#define APPLY_PUBLISH_MS 10000u

int
apply_if_match(struct api_req *r, int64_t current)
{
	const char *im = api_req_header(r, "If-Match"), *p;
	char want[32], detail[128];
	size_t n;

	if (im == NULL)
		return 0;
	snprintf(want, sizeof(want), "%" PRId64, current);
	for (p = im; *p != '\0';) {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '*')
			return 0;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		if (*p == '"')
			p++;
		n = strcspn(p, "\", ");
		if (n == strlen(want) && strncmp(p, want, n) == 0)
			return 0;
		p += n;
		while (*p == '"')
			p++;
		if (*p != '\0' && *p != ',' && *p != ' ')
			break;
	}
	snprintf(detail, sizeof(detail),
	    "If-Match does not name the current revision (%" PRId64 ")",
	    current);
	snprintf(want, sizeof(want), "\"%" PRId64 "\"", current);
	api_add_header(r, "ETag", want);
	api_reply_problem(r, 412, detail, NULL);
	return -1;
}

int64_t
api_revision_insert(struct api_req *r, struct store *st, const char *summary,
    const struct json *doc, struct err *e)
{
	struct store_stmt *s;
	char *text;
	int rc;

	if ((text = json_dump(doc, NULL)) == NULL)
		return err_set(e, "", "out of memory");
	s = store_prepare(st,
	    "INSERT INTO revisions (actor, client, summary, config)"
	    " VALUES (?1, ?2, ?3, ?4)",
	    e);
	if (s == NULL) {
		free(text);
		return -1;
	}
	store_bind_text(s, 1, r->actor[0] != '\0' ? r->actor : "system");
	store_bind_text(s, 2, r->client);
	store_bind_text(s, 3, summary);
	store_bind_text(s, 4, text);
	rc = store_step(s, e) == STORE_DONE ? 0 : -1;
	store_finalize(s);
	free(text);
	return rc == 0 ? store_last_insert_id(st) : -1;
}

/* Everything up to (not including) COMMIT. Returns the compiled snapshot
 * (or NULL when nothing changed, <*rev> then the current revision), with
 * the transaction still open; on failure it has replied and rolled back
 * and returns NULL with <*failed>.
 */
static struct cfg *
apply_prepare(struct api_req *r, const struct json *doc, const char *summary,
    int64_t *rev, struct json **newdoc, struct json **changes, bool *failed)
{
	struct store *st = api_store();
	struct json *old = NULL;
	struct cfg *c = NULL;
	struct errs *l;
	struct err e;

	*failed = true;
	*newdoc = *changes = NULL;
	err_clear(&e);
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		api_reply_problem(r, 503, "out of memory", NULL);
		return NULL;
	}
	if (conf_check_all(doc, l) != 0) {
		api_reply_problems(r, 422, "the configuration is not valid", l);
		free(l);
		return NULL;
	}
	free(l);
	if (store_begin(st, &e) != 0) {
		api_reply_problem(r, 503, e.msg, NULL);
		return NULL;
	}
	*rev = store_revision(st);
	if (apply_if_match(r, *rev) != 0)
		goto rollback;
	if ((old = conf_load(st, &e)) == NULL) {
		api_reply_problem(r, 500, e.msg, NULL);
		goto rollback;
	}
	if (conf_sync(st, old, doc, &e) != 0) {
		api_reply_problem(r, 422, "the configuration was refused", &e);
		goto rollback;
	}
	if ((*newdoc = conf_load(st, &e)) == NULL ||
	    (*changes = json_diff(old, *newdoc)) == NULL) {
		api_reply_problem(r, 500, e.msg[0] ? e.msg : "out of memory",
		    NULL);
		goto rollback;
	}
	json_unref(old);
	old = NULL;
	if (json_len(*changes) == 0) {
		*failed = false;
		return NULL;
	}
	if ((*rev = api_revision_insert(r, st, summary, *newdoc, &e)) < 0) {
		api_reply_problem(r, 503, e.msg, NULL);
		goto rollback;
	}
	if ((c = cfg_compile(st, &e)) == NULL) {
		stats_inc(STAT_CFG_REJECTED);
		api_reply_problem(r, 422, "the configuration does not compile",
		    &e);
		goto rollback;
	}
	*failed = false;
	return c;
rollback:
	store_rollback(st);
	json_unref(old);
	json_unref(*newdoc);
	json_unref(*changes);
	*newdoc = *changes = NULL;
	return NULL;
}

void
apply_doc(struct api_req *r, const struct json *doc, const char *summary,
    int kind, const char *item_name, unsigned status)
{
	struct store *st = api_store();
	struct json *newdoc, *changes, *out, *item;
	struct cfg *c;
	struct err e;
	char hdr[32];
	int64_t rev, gen;
	bool failed;

	c = apply_prepare(r, doc, summary, &rev, &newdoc, &changes, &failed);
	if (failed)
		return;
	if (c == NULL) {
		store_rollback(st); /* nothing changed */
	} else {
		err_clear(&e);
		if (store_commit(st, &e) != 0) {
			store_rollback(st);
			cfg_unref(c);
			json_unref(newdoc);
			json_unref(changes);
			api_reply_problem(r, 503, e.msg, NULL);
			return;
		}
		gen = publish_cfg(c, APPLY_PUBLISH_MS);
		if (gen < 0)
			log_warnx(
			    "admin api: revision %" PRId64
			    " committed but not every worker took it within %u ms",
			    rev, APPLY_PUBLISH_MS);
		log_info("admin api: revision %" PRId64 " by %s from %s: %s",
		    rev, r->actor, r->client, summary);
	}
	snprintf(hdr, sizeof(hdr), "%" PRId64, rev);
	api_add_header(r, "X-Config-Revision", hdr);
	snprintf(hdr, sizeof(hdr), "\"%" PRId64 "\"", rev);
	api_add_header(r, "ETag", hdr);
	if (status == 204) {
		api_reply_empty(r, 204);
	} else if (kind >= 0 && item_name != NULL &&
	    (item = conf_find(newdoc, (enum conf_kind)kind, item_name, NULL)) !=
	        NULL) {
		api_reply_json(r, c != NULL ? status : 200, json_ref(item));
	} else {
		out = json_new_obj();
		json_set(out, "revision", json_new_int(rev));
		json_set(out, "changes", json_ref(changes));
		api_reply_json(r, 200, out);
	}
	json_unref(newdoc);
	json_unref(changes);
}

void
apply_validate(struct api_req *r, const struct json *doc)
{
	struct store *st = api_store();
	struct json *newdoc, *changes, *out;
	struct cfg *c;
	int64_t rev;
	bool failed;

	c = apply_prepare(r, doc, "validate", &rev, &newdoc, &changes, &failed);
	if (failed)
		return;
	store_rollback(st);
	cfg_unref(c);
	out = json_new_obj();
	json_set(out, "valid", json_new_bool(true));
	json_set(out, "revision", json_new_int(c != NULL ? rev - 1 : rev));
	json_set(out, "changes", json_ref(changes));
	api_reply_json(r, 200, out);
	json_unref(newdoc);
	json_unref(changes);
}
