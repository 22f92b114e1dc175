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
#include <time.h>

#include "api_int.h"
#include "cfg.h"
#include "cfg_field.h"
#include "json.h"
#include "log.h"
#include "publish.h"
#include "stats.h"
#include "store.h"

#define APPLY_PUBLISH_MS 10000u

/* GATEHOUSED_APPLY_TIMING=1: an item write logs the time of each phase
 * (doc/performance.md, "where the time goes"). Admin thread only.
 */
enum apply_phase {
	AP_START,
	AP_CHECK,   /* body, If-Match, names and references */
	AP_ROWS,    /* the item's rows written and reloaded */
	AP_REV,     /* the next document, its delta and revision row */
	AP_COMPILE, /* the snapshot */
	AP_COMMIT,
	AP_PUBLISH, /* every worker swapped */
	AP__N
};
static struct {
	int on; /* 0: unknown, 1: on, -1: off */
	struct timespec t[AP__N];
} apply_timing;

static void
apply_mark(enum apply_phase p)
{
	if (apply_timing.on == 0) {
		const char *v = getenv("GATEHOUSED_APPLY_TIMING");

		apply_timing.on = v != NULL && strcmp(v, "1") == 0 ? 1 : -1;
	}
	if (apply_timing.on > 0)
		clock_gettime(CLOCK_MONOTONIC, &apply_timing.t[p]);
}

static double
apply_ms(enum apply_phase a, enum apply_phase b)
{
	return (double)(apply_timing.t[b].tv_sec - apply_timing.t[a].tv_sec) *
	    1e3 +
	    (double)(apply_timing.t[b].tv_nsec - apply_timing.t[a].tv_nsec) /
	    1e6;
}

static void
apply_timing_log(void)
{
	if (apply_timing.on <= 0)
		return;
	log_info("apply timing: check %.2f ms, rows %.2f ms, revision %.2f "
	         "ms, compile %.2f ms, commit %.2f ms, publish %.2f ms, "
	         "total %.2f ms",
	    apply_ms(AP_START, AP_CHECK), apply_ms(AP_CHECK, AP_ROWS),
	    apply_ms(AP_ROWS, AP_REV), apply_ms(AP_REV, AP_COMPILE),
	    apply_ms(AP_COMPILE, AP_COMMIT), apply_ms(AP_COMMIT, AP_PUBLISH),
	    apply_ms(AP_START, AP_PUBLISH));
}

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

/* <pre>'s rows; 0, or -1 after replying. */
static int
apply_pre_write(struct api_req *r, struct store *st,
    const struct apply_pre *pre)
{
	unsigned status = 500;
	struct err e;

	err_clear(&e);
	if (pre->write(st, pre->arg, &e, &status) == 0)
		return 0;
	if (status == 409 || status == 422)
		api_reply_problem(r, status, "the configuration was refused",
		    &e);
	else
		api_reply_problem(r, status, e.msg, NULL);
	return -1;
}

/* Everything up to (not including) COMMIT. Returns the compiled snapshot
 * (or NULL when nothing changed, <*rev> then the current revision), with
 * the transaction still open; on failure it has replied and rolled back
 * and returns NULL with <*failed>.
 */
static struct cfg *
apply_prepare(struct api_req *r, const struct json *doc,
    const struct apply_pre *pre, const char *summary, int64_t *rev,
    struct json **newdoc, struct json **changes, bool *failed)
{
	struct store *st = api_store();
	struct json *old = NULL;
	struct cfg *c = NULL;
	struct errs *l;
	struct err e;
	size_t i;

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
	if (pre != NULL && apply_pre_write(r, st, pre) != 0)
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
	for (i = 0; pre != NULL && i < json_len(pre->changes); i++)
		json_append(*changes, json_ref(json_at(pre->changes, i)));
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

/* Commits the open transaction and publishes snapshot <c> (taken) of
 * revision <rev>; 0, or -1 after rolling back and replying 503.
 */
static int
apply_commit(struct api_req *r, struct cfg *c, int64_t rev, const char *summary)
{
	struct store *st = api_store();
	struct err e;
	int64_t gen;

	err_clear(&e);
	if (store_commit(st, &e) != 0) {
		store_rollback(st);
		cfg_unref(c);
		api_reply_problem(r, 503, e.msg, NULL);
		return -1;
	}
	apply_mark(AP_COMMIT);
	gen = publish_cfg(c, APPLY_PUBLISH_MS);
	apply_mark(AP_PUBLISH);
	if (gen < 0)
		log_warnx(
		    "admin api: revision %" PRId64
		    " committed but not every worker took it within %u ms",
		    rev, APPLY_PUBLISH_MS);
	log_info("admin api: revision %" PRId64 " by %s from %s: %s", rev,
	    r->actor, r->client, summary);
	return 0;
}

static void
apply_headers(struct api_req *r, int64_t rev)
{
	char hdr[32];

	snprintf(hdr, sizeof(hdr), "%" PRId64, rev);
	api_add_header(r, "X-Config-Revision", hdr);
	snprintf(hdr, sizeof(hdr), "\"%" PRId64 "\"", rev);
	api_add_header(r, "ETag", hdr);
}

static void
apply_doc_run(struct api_req *r, const struct json *doc,
    const struct apply_pre *pre, const char *summary, int kind,
    const char *item_name, unsigned status)
{
	struct store *st = api_store();
	struct json *newdoc, *changes, *out, *item;
	struct cfg *c;
	int64_t rev;
	bool failed;

	c = apply_prepare(r, doc, pre, summary, &rev, &newdoc, &changes,
	    &failed);
	if (failed)
		return;
	if (c == NULL) {
		store_rollback(st); /* nothing changed */
	} else if (apply_commit(r, c, rev, summary) != 0) {
		json_unref(newdoc);
		json_unref(changes);
		return;
	}
	apply_headers(r, rev);
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
apply_doc(struct api_req *r, const struct json *doc, const char *summary,
    int kind, const char *item_name, unsigned status)
{
	apply_doc_run(r, doc, NULL, summary, kind, item_name, status);
}

void
apply_doc_pre(struct api_req *r, const struct json *doc,
    const struct apply_pre *pre, const char *summary)
{
	apply_doc_run(r, doc, pre, summary, -1, NULL, 200);
}

/* ---- one item: cost grows with the item, not the configuration ---- */

/* The id of the row of <k> named <name> (UNIQUE index), 0 when none,
 * -1 on a store error.
 */
static int64_t
apply_row_id(const struct cf_kind *k, const char *name, struct err *e)
{
	char sql[128];
	struct store_stmt *s;
	enum store_step_result res;
	int64_t id = 0;

	snprintf(sql, sizeof(sql), "SELECT id FROM %s WHERE name = ?1",
	    k->table);
	if ((s = store_prepare(api_store(), sql, e)) == NULL)
		return -1;
	store_bind_text(s, 1, name);
	if ((res = store_step(s, e)) == STORE_ROW)
		id = store_col_int64(s, 0);
	store_finalize(s);
	return res == STORE_ERROR ? -1 : id;
}

/* Every reference of <item> names an existing item: each one missing is
 * an error of <l>. 0, or -1 on a store error.
 */
static int
apply_refs(const struct cf_kind *k, const struct json *item, struct errs *l,
    struct err *e)
{
	const char *v;
	char path[96];
	int64_t id;
	size_t i;

	const struct json *list;
	char p[128];
	size_t j;

	for (i = 0; i < k->n; i++) {
		if (k->f[i].type != F_REFS)
			continue;
		list = conf_field_value(k, (int)i, item);
		for (j = 0; j < json_len(list); j++) {
			if ((v = json_str(json_at(list, j))) == NULL)
				continue;
			if ((id = apply_row_id(&cf_kinds[k->f[i].ref], v, e)) <
			    0)
				return -1;
			cf_path(k, (int)i, path, sizeof(path));
			json_path_idx(p, sizeof(p), path, j);
			if (id == 0)
				errs_add(l, p, "no %s named \"%.64s\"",
				    cf_kinds[k->f[i].ref].one, v);
		}
	}
	for (i = 0; i < k->n; i++) {
		if (k->f[i].type != F_REF ||
		    (v = json_str(conf_field_value(k, (int)i, item))) == NULL)
			continue;
		if ((id = apply_row_id(&cf_kinds[k->f[i].ref], v, e)) < 0)
			return -1;
		cf_path(k, (int)i, path, sizeof(path));
		if (id == 0)
			errs_add(l, path, "no %s named \"%.64s\"",
			    cf_kinds[k->f[i].ref].one, v);
	}
	return 0;
}

/* Appends the listeners that name row <id> of <kind> (error_pages) to
 * buf[0..n) as "listeners/a"; 0 or -1.
 */
static int
apply_listener_referrers(enum conf_kind kind, int64_t id, char *buf, size_t len,
    size_t n, struct err *e)
{
	const struct cf_kind *lk = &cf_kinds[CK_LISTENER];
	char sql[256];
	struct store_stmt *s;
	enum store_step_result res = STORE_DONE;
	size_t i;

	for (i = 0; i < lk->n; i++) {
		if (lk->f[i].type != F_REF || lk->f[i].ref != CK_ERROR_PAGES ||
		    conf_kind(kind) != &cf_kinds[CK_ERROR_PAGES])
			continue;
		snprintf(sql, sizeof(sql),
		    "SELECT name FROM listeners WHERE %s = ?1 ORDER BY id "
		    "LIMIT 20",
		    lk->f[i].column);
		if ((s = store_prepare(api_store(), sql, e)) == NULL)
			return -1;
		store_bind_int64(s, 1, id);
		while ((res = store_step(s, e)) == STORE_ROW && n < len)
			n +=
			    (size_t)snprintf(buf + n, len - n, "%slisteners/%s",
			        n > 0 ? ", " : "", store_col_text(s, 0));
		store_finalize(s);
		if (res == STORE_ERROR)
			return -1;
	}
	return 0;
}

/* The routes that use row <id> of <kind>, as "routes/a, routes/b", by
 * the route_listeners_listener / routes_origin indexes; "" when none.
 */
static int
apply_referrers(enum conf_kind kind, int64_t id, char *buf, size_t len,
    struct err *e)
{
	const struct cf_kind *rk = conf_kind(CONF_ROUTES);
	char sql[256];
	struct store_stmt *s;
	enum store_step_result res;
	size_t i, n = 0;

	buf[0] = '\0';
	/* A list of references (route_listeners) holds its first too. */
	for (i = 0; i < rk->n; i++)
		if (rk->f[i].type == F_REFS &&
		    conf_kind(kind) == &cf_kinds[rk->f[i].ref])
			break;
	if (i < rk->n) {
		snprintf(sql, sizeof(sql),
		    "SELECT name FROM routes WHERE %s = ?1 OR id IN (SELECT "
		    "%s_id FROM %s WHERE %s_id = ?1) ORDER BY id LIMIT 20",
		    rk->f[rk->f[i].single].column, rk->one, rk->f[i].join,
		    conf_kind(kind)->one);
	} else {
		/* Every column that can name it (origin, forward_auth.origin)
		 */
		size_t m = (size_t)snprintf(sql, sizeof(sql),
		    "SELECT name FROM routes WHERE 0");

		for (i = 0; i < rk->n && m < sizeof(sql); i++)
			if (rk->f[i].type == F_REF &&
			    conf_kind(kind) == &cf_kinds[rk->f[i].ref])
				m += (size_t)snprintf(sql + m, sizeof(sql) - m,
				    " OR %s = ?1", rk->f[i].column);
		if (m + 24 >= sizeof(sql))
			return err_set(e, "", "internal: referrers query");
		if (strstr(sql, " OR ") == NULL)
			return 0;
		snprintf(sql + m, sizeof(sql) - m, " ORDER BY id LIMIT 20");
	}
	if ((s = store_prepare(api_store(), sql, e)) == NULL)
		return -1;
	store_bind_int64(s, 1, id);
	while ((res = store_step(s, e)) == STORE_ROW && n < len)
		n += (size_t)snprintf(buf + n, len - n, "%sroutes/%s",
		    n > 0 ? ", " : "", store_col_text(s, 0));
	store_finalize(s);
	if (res == STORE_ERROR)
		return -1;
	return apply_listener_referrers(kind, id, buf, len, n, e);
}

/* Inside the transaction: name, references or referrers of the write.
 * 0, or -1 after replying.
 */
static int
apply_item_check(struct api_req *r, enum conf_kind kind, const struct json *old,
    const struct json *item, struct errs *l)
{
	const struct cf_kind *k = conf_kind(kind);
	int64_t oid = json_int(json_get(old, "id")), id;
	const char *name;
	char refs[512], detail[700];
	struct err e;

	err_clear(&e);
	if (item == NULL) {
		if (apply_referrers(kind, oid, refs, sizeof(refs), &e) != 0)
			goto store;
		if (refs[0] == '\0')
			return 0;
		snprintf(detail, sizeof(detail), "%s \"%s\" is used by %s",
		    k->one, json_str(json_get(old, "name")), refs);
		err_set(&e, "", "referenced by %s", refs);
		api_reply_problem(r, 409, detail, &e);
		return -1;
	}
	name = json_str(json_get(item, "name"));
	if ((id = apply_row_id(k, name, &e)) < 0)
		goto store;
	if (id > 0 && id != oid) {
		snprintf(detail, sizeof(detail),
		    "a %s named \"%s\" already exists", k->one, name);
		err_set(&e, "name", "\"%s\" is already used", name);
		api_reply_problem(r, 409, detail, &e);
		return -1;
	}
	if (apply_refs(k, item, l, &e) != 0)
		goto store;
	if (l->n == 0)
		return 0;
	api_reply_problems(r, 422, "the request body is not valid", l);
	return -1;
store:
	api_reply_problem(r, 503, e.msg, NULL);
	return -1;
}

/* Whether an item of <kind> is named by a reference of another kind, so
 * that renaming it changes those items too.
 */
static bool
apply_referenced(enum conf_kind kind)
{
	const struct cf_kind *k = conf_kind(kind), *o;
	size_t i;
	int j;

	for (j = 0; j < CONF__KINDS; j++)
		for (o = conf_kind((enum conf_kind)j), i = 0; i < o->n; i++)
			if (o->f[i].type == F_REF &&
			    &cf_kinds[o->f[i].ref] == k)
				return true;
	return false;
}

/* The whole document after a write of one item of <kind> (<old> became
 * <now>, a null for a delete, either NULL for a create), built from the
 * previous revision's document in memory: every other item is the same
 * value, shared, so the revision's delta finds them equal by pointer.
 * NULL when the previous document is not in memory or the write may
 * change other items (a rename of a referenced item): then the caller
 * loads it from the rows. Items are in id order, as conf_load() lists
 * them.
 */
/* Whether a write of <old> into <now> changes that item alone in the
 * document: not a rename of an item that others name.
 */
static bool
apply_item_alone(enum conf_kind kind, const struct json *old,
    const struct json *now)
{
	return old == NULL || !json_is_obj(now) ||
	    strcmp(json_str(json_get(old, "name")),
	        json_str(json_get(now, "name"))) == 0 ||
	    !apply_referenced(kind);
}

static struct json *
apply_next_doc(enum conf_kind kind, const struct json *old, struct json *now)
{
	const char *coll = conf_kind_names[kind], *key;
	struct json *prev, *doc, *arr, *parr, *it;
	int64_t id = json_int(json_get(old != NULL ? old : now, "id")), iid;
	bool placed = false;
	size_t i, lo, hi, mid;
	int bad = 0;

	if (!apply_item_alone(kind, old, now) ||
	    (prev = rev_latest_cached(api_store())) == NULL)
		return NULL;
	parr = json_get(prev, coll);
	doc = json_new_obj();
	arr = json_new_arr();
	for (i = 0; doc != NULL && i < json_len(prev); i++) {
		key = json_key_at(prev, i);
		json_set(doc, key,
		    strcmp(key, coll) == 0 ? json_ref(arr)
		                           : json_ref(json_get(prev, key)));
	}
	/* Items are in id order: the place of <id> by binary search, so
	 * that the loop below reads no other item's id.
	 */
	for (lo = 0, hi = json_len(parr); lo < hi;) {
		mid = lo + (hi - lo) / 2;
		if (json_int(json_get(json_at(parr, mid), "id")) < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = 0; arr != NULL && i < json_len(parr); i++) {
		it = json_at(parr, i);
		iid = i < lo  ? id - 1
		    : i == lo ? json_int(json_get(it, "id"))
		              : id + 1;
		if (!placed && iid >= id) {
			placed = true;
			if (json_is_obj(now))
				bad |= json_append(arr, json_ref(now));
			if (iid == id)
				continue;
		}
		bad |= json_append(arr, json_ref(it));
	}
	if (!placed && json_is_obj(now))
		bad |= json_append(arr, json_ref(now));
	json_unref(arr);
	json_unref(prev);
	if (bad != 0 || parr == NULL || json_len(doc) != CONF__KINDS) {
		json_unref(doc);
		return NULL;
	}
	return doc;
}

/* Whether GATEHOUSED_COMPILE_VERIFY=1: every snapshot built from the
 * previous one is compared with a full compile of the same rows, and the
 * full one is used when they differ (tests/e2e/test_74_*).
 */
static bool
apply_verify(void)
{
	static int on; /* 0: unknown, 1: on, -1: off */

	if (on == 0) {
		const char *v = getenv("GATEHOUSED_COMPILE_VERIFY");

		on = v != NULL && strcmp(v, "1") == 0 ? 1 : -1;
	}
	return on > 0;
}

/* A full compile next to the snapshot <c> built from the previous one:
 * the one to publish (<c>, or the full one when they differ).
 */
static struct cfg *
apply_verified(struct store *st, struct cfg *c, int64_t id)
{
	char *a = NULL, *b = NULL;
	size_t na = 0, nb = 0;
	struct cfg *full;
	struct err e;

	if ((full = cfg_compile(st, &e)) == NULL) {
		log_warnx("admin api: route %" PRId64 " compiled from the "
		          "previous snapshot, but a full compile fails: %s%s%s",
		    id, e.field, e.field[0] != '\0' ? ": " : "", e.msg);
		return c;
	}
	if (cfg_dump(c, &a, &na) != 0 || cfg_dump(full, &b, &nb) != 0 ||
	    na != nb || memcmp(a, b, na) != 0) {
		log_warnx("admin api: the snapshot after route %" PRId64
		          " built from the previous one differs from a full "
		          "compile; using the full compile",
		    id);
		cfg_unref(c);
		c = full;
	} else {
		log_info("admin api: the snapshot after route %" PRId64
		         " built from the previous one equals a full compile",
		    id);
		cfg_unref(full);
	}
	free(a);
	free(b);
	return c;
}

/* The snapshot after a write of item <id> of <kind>: when a route was
 * written and the live snapshot is of revision <before> (the rows before
 * the write), built from it reading only that route's rows (cfg_incr.c);
 * otherwise, or when that fails, a full compile.
 */
static struct cfg *
apply_compile(struct store *st, enum conf_kind kind, int64_t id, int64_t before,
    struct err *e)
{
	struct cfg *prev, *c = NULL;
	int rc = 1;

	if (kind == CONF_ROUTES && (prev = publish_current()) != NULL) {
		if ((int64_t)prev->revision == before)
			rc = cfg_compile_route(st, prev, id, &c, e);
		cfg_unref(prev);
	}
	if (rc != 0) /* and on an error, the full compile's message */
		return cfg_compile(st, e);
	return apply_verify() ? apply_verified(st, c, id) : c;
}

/* Writes the rows, records the revision and compiles; the new item (or
 * a null for a delete) with <*c> the snapshot, or NULL with <*c> NULL
 * when nothing changed. On failure replies and returns NULL with
 * <*failed>.
 */
static struct json *
apply_item_write(struct api_req *r, enum conf_kind kind, const struct json *old,
    const struct json *item, const char *summary, int64_t *rev, struct cfg **c,
    bool *failed)
{
	struct store *st = api_store();
	struct json *now = NULL, *doc;
	char key[24];
	struct err e;
	int64_t id = json_int(json_get(old, "id")), before = *rev;

	*c = NULL;
	*failed = true;
	err_clear(&e);
	if (item == NULL
	        ? conf_delete_item(st, kind, id, &e)
	        : (id = conf_write_item(st, kind, old, item, id, &e)) < 0) {
		api_reply_problem(r, 422, "the configuration was refused", &e);
		return NULL;
	}
	if (item != NULL) {
		snprintf(key, sizeof(key), "%" PRId64, id);
		if ((now = conf_load_item(st, kind, key, &e)) == NULL) {
			api_reply_problem(r, 500, e.msg, NULL);
			return NULL;
		}
		if (old != NULL && json_same(old, now)) {
			*failed = false;
			return now;
		}
	} else {
		now = json_new_null();
	}
	apply_mark(AP_ROWS);
	/* The revision: in place when the write changes this item alone. */
	*rev = apply_item_alone(kind, old, now)
	    ? rev_insert_item(r, st, summary, conf_kind_names[kind], id,
	          json_is_obj(now) ? now : NULL, &e)
	    : 0;
	if (*rev == 0) {
		if ((doc = apply_next_doc(kind, old, now)) == NULL)
			doc = conf_load(st, &e);
		*rev = doc != NULL
		    ? api_revision_insert(r, st, summary, doc, &e)
		    : -1;
		json_unref(doc);
	}
	if (*rev < 0) {
		json_unref(now);
		api_reply_problem(r, 503, e.msg, NULL);
		return NULL;
	}
	apply_mark(AP_REV);
	if ((*c = apply_compile(st, kind, id, before, &e)) == NULL) {
		stats_inc(STAT_CFG_REJECTED);
		json_unref(now);
		api_reply_problem(r, 422, "the configuration does not compile",
		    &e);
		return NULL;
	}
	apply_mark(AP_COMPILE);
	*failed = false;
	return now;
}

void
apply_item(struct api_req *r, enum conf_kind kind, const struct json *old,
    const struct json *item, const char *summary, unsigned status)
{
	struct store *st = api_store();
	struct errs *l = calloc(1, sizeof(*l));
	struct json *now = NULL;
	struct cfg *c = NULL;
	struct err e;
	int64_t rev;
	bool failed;

	apply_mark(AP_START);
	err_clear(&e);
	if (l == NULL) {
		api_reply_problem(r, 503, "out of memory", NULL);
		return;
	}
	if (item != NULL && conf_check_item_all(kind, item, "", l) != 0) {
		api_reply_problems(r, 422, "the request body is not valid", l);
		goto out;
	}
	if (store_begin(st, &e) != 0) {
		api_reply_problem(r, 503, e.msg, NULL);
		goto out;
	}
	rev = store_revision(st);
	if (apply_if_match(r, rev) != 0 ||
	    apply_item_check(r, kind, old, item, l) != 0 ||
	    (apply_mark(AP_CHECK),
	        now = apply_item_write(r, kind, old, item, summary, &rev, &c,
	            &failed)) == NULL) {
		store_rollback(st);
		goto out;
	}
	if (c == NULL)
		store_rollback(st); /* nothing changed */
	else if (apply_commit(r, c, rev, summary) != 0)
		goto out;
	else
		apply_timing_log();
	apply_headers(r, rev);
	if (item == NULL)
		api_reply_empty(r, 204);
	else
		api_reply_json(r, c != NULL ? status : 200, json_ref(now));
out:
	json_unref(now);
	free(l);
}

void
apply_validate(struct api_req *r, const struct json *doc)
{
	apply_validate_pre(r, doc, NULL);
}

void
apply_validate_pre(struct api_req *r, const struct json *doc,
    const struct apply_pre *pre)
{
	struct store *st = api_store();
	struct json *newdoc, *changes, *out;
	struct cfg *c;
	int64_t rev;
	bool failed;

	c = apply_prepare(r, doc, pre, "validate", &rev, &newdoc, &changes,
	    &failed);
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
