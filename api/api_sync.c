/*
 * api_sync.c: making the rows say what a configuration document says.
 *
 * Rows are written through the field tables (daemon/cfg_field.c): one
 * generated upsert per kind, each field bound from its JSON value or its
 * default. conf_sync() runs inside the caller's write transaction and
 * compares the document with the one the rows said before: each item
 * becomes the row with its "id", else the row with its name, else a new
 * row (with its "id" when that is free), so every object that stays keeps
 * its row id (the key of counters, health and pools); items equal to
 * their row are not written at all. Servers keep their ids when their
 * address and port stay. Order: routes that go away are deleted first,
 * names that move are parked ("~id") so UNIQUE never trips, then
 * listeners, origins (with servers) and routes are upserted, and finally
 * listeners and origins that go away are deleted (no route refers to them
 * by then). conf_write_item() writes one item alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "cfg_field.h"
#include "check.h"
#include "json.h"
#include "smap.h"
#include "store.h"

static int
step_done(struct store_stmt *s, struct err *e)
{
	enum store_step_result r = store_step(s, e);

	store_reset(s);
	return r == STORE_DONE || r == STORE_ROW ? 0 : -1;
}

/* "INSERT INTO t (id, cols..[, parent, order]) VALUES (...) ON CONFLICT
 * (id) DO UPDATE SET ...": parameter i + 1 is field i; the parent and
 * order columns of a child kind follow the fields.
 */
static struct store_stmt *
upsert_prepare(struct store *st, const struct cf_kind *k, struct err *e)
{
	char cols[2048], vals[512], set[4096];
	size_t i, nc = 0, nv = 0, ns = 0;
	int p = 0;

	for (i = 0; i < k->n; i++) {
		if (k->f[i].column == NULL)
			continue;
		nc += (size_t)snprintf(cols + nc, sizeof(cols) - nc, "%s%s",
		    nc > 0 ? ", " : "", k->f[i].column);
		nv += (size_t)snprintf(vals + nv, sizeof(vals) - nv, "%s?%zu",
		    nv > 0 ? ", " : "", i + 1);
		if (i != 0)
			ns += (size_t)snprintf(set + ns, sizeof(set) - ns,
			    "%s%s = excluded.%s", ns > 0 ? ", " : "",
			    k->f[i].column, k->f[i].column);
	}
	if (k->parent_col != NULL) {
		p = (int)k->n;
		nc += (size_t)snprintf(cols + nc, sizeof(cols) - nc, ", %s, %s",
		    k->parent_col, k->order_col);
		nv += (size_t)snprintf(vals + nv, sizeof(vals) - nv,
		    ", ?%d, ?%d", p + 1, p + 2);
		ns += (size_t)snprintf(set + ns, sizeof(set) - ns,
		    ", %s = excluded.%s, %s = excluded.%s", k->parent_col,
		    k->parent_col, k->order_col, k->order_col);
	}
	if (nc >= sizeof(cols) || nv >= sizeof(vals) || ns >= sizeof(set)) {
		err_set(e, "", "internal: upsert too long");
		return NULL;
	}
	{
		char sql[sizeof(cols) + sizeof(vals) + sizeof(set) + 128];

		snprintf(sql, sizeof(sql),
		    "INSERT INTO %s (%s) VALUES (%s) ON CONFLICT (id) DO UPDATE"
		    " SET %s",
		    k->table, cols, vals, set);
		return store_prepare(st, sql, e);
	}
}

/* The row id of the item of kind <ref> named <name>, by its UNIQUE
 * index; 0 when there is none.
 */
static int64_t
ref_id(struct store *st, int ref, const char *name, struct err *e)
{
	char sql[128];
	struct store_stmt *s;
	int64_t id = 0;

	snprintf(sql, sizeof(sql), "SELECT id FROM %s WHERE name = ?1",
	    cf_kinds[ref].table);
	if ((s = store_prepare(st, sql, e)) == NULL)
		return -1;
	store_bind_text(s, 1, name);
	if (store_step(s, e) == STORE_ROW)
		id = store_col_int64(s, 0);
	store_finalize(s);
	return id;
}

const struct json *
conf_field_value(const struct cf_kind *k, int i, const struct json *item)
{
	const struct json *obj;

	if (k->f[i].parent < 0)
		obj = item;
	else if ((obj = conf_field_value(k, k->f[i].parent, item)) == NULL)
		return NULL;
	obj = json_get(obj, k->f[i].key);
	return obj == NULL || json_is_nil(obj) ? NULL : obj;
}

/* Binds field <i> of <item> to parameter i + 1: its value, else its
 * default, else NULL. A reference binds the referenced row's id;
 * <path> names the item in errors ("origins[0]").
 */
static int
bind_field(struct store *st, struct store_stmt *s, const struct cf_kind *k,
    int i, const struct json *item, const char *path, struct err *e)
{
	const struct cf_field *f = &k->f[i];
	const struct json *v = conf_field_value(k, i, item);
	char p[160], fp[96];
	int64_t id;
	char *text;
	int rc, j;

	if (f->column == NULL)
		return 0;
	/* "listener" left out: the first of "listeners". */
	if (v == NULL && f->type == F_REF && (j = cf_refs_of(k, i)) >= 0)
		v = json_at(conf_field_value(k, j, item), 0);
	if (v == NULL) {
		if ((f->flags & F_NULLABLE) != 0 || f->type == F_REF ||
		    f->type == F_ID || (f->type == F_STR && f->def_str == NULL))
			return store_bind_null(s, i + 1);
		if (f->type == F_LIST)
			return store_bind_text(s, i + 1, "[]");
		if (f->type == F_MAP)
			return store_bind_text(s, i + 1, "{}");
		if (f->def_str != NULL)
			return store_bind_text(s, i + 1, f->def_str);
		return store_bind_int64(s, i + 1, f->def);
	}
	switch (f->type) {
	case F_ID:
	case F_INT:
		return store_bind_int64(s, i + 1, json_int(v));
	case F_BOOL:
		return store_bind_int64(s, i + 1, json_bool(v) ? 1 : 0);
	case F_LIST:
	case F_MAP:
		if ((text = json_dump(v, NULL)) == NULL)
			return err_set(e, "", "out of memory");
		rc = store_bind_text(s, i + 1, text);
		free(text);
		return rc;
	case F_REF:
		if ((id = ref_id(st, f->ref, json_str(v), e)) < 0)
			return -1;
		if (id == 0) {
			cf_path(k, i, fp, sizeof(fp));
			json_path_key(p, sizeof(p), path, fp);
			return err_set(e, p, "no %s named \"%.64s\"",
			    cf_kinds[f->ref].one, json_str(v));
		}
		return store_bind_int64(s, i + 1, id);
	default:
		return store_bind_text(s, i + 1, json_str(v));
	}
}

/* Binds every column of <item> with row id <id> (0: a new row). */
static int
bind_item(struct store *st, struct store_stmt *s, const struct cf_kind *k,
    const struct json *item, int64_t id, const char *path, struct err *e)
{
	size_t i;

	for (i = 1; i < k->n; i++)
		if (bind_field(st, s, k, (int)i, item, path, e) != 0)
			return -1;
	/* Passwords become hashes (api_access.c). */
	if (k == &cf_kinds[CK_ACCESS_USER] &&
	    access_user_bind(st, s, item, id, path, e) != 0)
		return -1;
	return id > 0 ? store_bind_int64(s, 1, id) : store_bind_null(s, 1);
}

/* The same child by what names it: a server's address and port, an
 * access list user's name.
 */
static bool
child_same(const struct json *o, const struct json *sv)
{
	if (json_get(sv, "username") != NULL)
		return json_same(json_get(o, "username"),
		    json_get(sv, "username"));
	return json_same(json_get(o, "port"), json_get(sv, "port")) &&
	    json_same(json_get(o, "address"), json_get(sv, "address"));
}

/* Writes the servers of origin <oid> in order, keeping the ids of the
 * servers that stay (same id, else same address and port), and deletes
 * the others. <old> is the origin's server array before (may be NULL).
 */
static int
sync_children(struct store *st, const struct cf_field *f, int64_t pid,
    const struct json *old, const struct json *now, const char *path,
    struct err *e)
{
	const struct cf_kind *ck = &cf_kinds[f->ref];
	struct store_stmt *up, *del;
	const struct json *sv, *o;
	size_t nold = json_len(old), i, j;
	bool *kept = calloc(nold + 1, sizeof(*kept));
	char p[160], sql[128];
	int64_t want, id;
	int rc = -1;

	snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE id = ?1", ck->table);
	up = upsert_prepare(st, ck, e);
	del = store_prepare(st, sql, e);
	if (kept == NULL || up == NULL || del == NULL)
		goto out;
	for (i = 0; i < json_len(now); i++) {
		sv = json_at(now, i);
		want = json_int(json_get(sv, "id"));
		for (j = 0; want > 0 && j < nold; j++)
			if (!kept[j] &&
			    json_int(json_get(json_at(old, j), "id")) == want)
				break;
		if (want <= 0 || j == nold)
			for (j = 0; j < nold; j++) {
				o = json_at(old, j);
				if (!kept[j] && child_same(o, sv))
					break;
			}
		id = 0;
		if (j < nold) {
			kept[j] = true;
			id = json_int(json_get(json_at(old, j), "id"));
		}
		json_path_idx(p, sizeof(p), path, i);
		if (bind_item(st, up, ck, sv, id, p, e) != 0)
			goto out;
		store_bind_int64(up, (int)ck->n + 1, pid);
		store_bind_int64(up, (int)ck->n + 2, (int64_t)i);
		if (step_done(up, e) != 0)
			goto out;
	}
	for (j = 0; j < nold; j++) {
		if (kept[j])
			continue;
		store_bind_int64(del, 1,
		    json_int(json_get(json_at(old, j), "id")));
		if (step_done(del, e) != 0)
			goto out;
	}
	rc = 0;
out:
	free(kept);
	store_finalize(up);
	store_finalize(del);
	return rc;
}

/* Writes the rows of the F_REFS field <i> of <item> (row <id>) into its
 * join table, in order; left out, it is its one-item form alone.
 */
static int
sync_refs(struct store *st, const struct cf_kind *k, int i,
    const struct json *item, int64_t id, const char *path, struct err *e)
{
	const struct cf_field *f = &k->f[i];
	const struct cf_kind *rk = &cf_kinds[f->ref];
	const struct json *list = conf_field_value(k, i, item), *one;
	struct store_stmt *del, *ins;
	char sql[256], p[192], fp[160];
	const char *v;
	size_t j, n;
	int64_t rid;
	int rc = -1;

	one = conf_field_value(k, f->single, item);
	n = list != NULL ? json_len(list) : one != NULL ? 1 : 0;
	snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE %s_id = ?1", f->join,
	    k->one);
	del = store_prepare(st, sql, e);
	snprintf(sql, sizeof(sql),
	    "INSERT INTO %s (%s_id, %s_id, position) VALUES (?1, ?2, ?3)",
	    f->join, k->one, rk->one);
	ins = store_prepare(st, sql, e);
	if (del == NULL || ins == NULL)
		goto out;
	store_bind_int64(del, 1, id);
	if (step_done(del, e) != 0)
		goto out;
	for (j = 0; j < n; j++) {
		v = json_str(list != NULL ? json_at(list, j) : one);
		if ((rid = ref_id(st, f->ref, v != NULL ? v : "", e)) < 0)
			goto out;
		if (rid == 0) {
			json_path_key(fp, sizeof(fp), path,
			    list != NULL ? f->key : k->f[f->single].key);
			if (list != NULL)
				json_path_idx(p, sizeof(p), fp, j);
			else
				snprintf(p, sizeof(p), "%s", fp);
			err_set(e, p, "no %s named \"%.64s\"", rk->one,
			    v != NULL ? v : "");
			goto out;
		}
		store_bind_int64(ins, 1, id);
		store_bind_int64(ins, 2, rid);
		store_bind_int64(ins, 3, (int64_t)j);
		if (step_done(ins, e) != 0)
			goto out;
	}
	rc = 0;
out:
	store_finalize(del);
	store_finalize(ins);
	return rc;
}

/* Upserts <item> of <k> as row <id> (0: new) with statement <up>, then
 * its children; <old> is the item as it was (NULL: new). The row id, or
 * -1.
 */
static int64_t
write_item(struct store *st, struct store_stmt *up, const struct cf_kind *k,
    const struct json *old, const struct json *item, int64_t id,
    const char *path, struct err *e)
{
	char p[160], fp[96];
	size_t i;

	if (bind_item(st, up, k, item, id, path, e) != 0 ||
	    step_done(up, e) != 0)
		return -1;
	if (id <= 0)
		id = store_last_insert_id(st);
	for (i = 0; i < k->n; i++) {
		if (k->f[i].type == F_REFS &&
		    sync_refs(st, k, (int)i, item, id, path, e) != 0)
			return -1;
		if (k->f[i].type != F_CHILDREN)
			continue;
		cf_path(k, (int)i, fp, sizeof(fp));
		json_path_key(p, sizeof(p), path, fp);
		if (sync_children(st, &k->f[i], id,
		        old != NULL ? conf_field_value(k, (int)i, old) : NULL,
		        conf_field_value(k, (int)i, item), p, e) != 0)
			return -1;
	}
	return id;
}

int64_t
conf_write_item(struct store *st, enum conf_kind kind, const struct json *old,
    const struct json *item, int64_t id, struct err *e)
{
	struct store_stmt *up = upsert_prepare(st, conf_kind(kind), e);
	int64_t rc;

	if (up == NULL)
		return -1;
	rc = write_item(st, up, conf_kind(kind), old, item, id, "", e);
	store_finalize(up);
	return rc;
}

int
conf_delete_item(struct store *st, enum conf_kind kind, int64_t id,
    struct err *e)
{
	char sql[128];
	struct store_stmt *s;
	int rc;

	snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE id = ?1",
	    conf_kind(kind)->table);
	if ((s = store_prepare(st, sql, e)) == NULL)
		return -1;
	store_bind_int64(s, 1, id);
	rc = step_done(s, e);
	store_finalize(s);
	return rc;
}

/* ---- the whole document ---- */

struct sync_kind {
	const struct json *old, *now; /* arrays of items */
	int64_t *ids;  /* per new item: its row id, an explicit new id, 0 */
	size_t *from;  /* per new item: index of its old item, or SIZE_MAX */
	bool *claimed; /* per old item */
	size_t *to;    /* per old item: index of the new item it becomes */
	bool renamed;  /* a row that stays changes its name */
	bool rewrite;  /* write every item, equal or not */
};

static void
sync_kind_free(struct sync_kind *k)
{
	free(k->ids);
	free(k->from);
	free(k->claimed);
	free(k->to);
}

static size_t
old_by_id(const struct json *old, int64_t id)
{
	size_t lo = 0, hi = json_len(old), mid;
	int64_t v;

	/* conf_load() lists items in id order. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		v = json_int(json_get(json_at(old, mid), "id"));
		if (v == id)
			return mid;
		if (v < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return SIZE_MAX;
}

/* Decides which old row each new item becomes: the row with its "id",
 * else the row with its name, else a new row (with its "id" when free).
 */
static int
sync_plan(const struct json *old, const struct json *now, struct sync_kind *k,
    struct err *e)
{
	size_t nold = json_len(old), n = json_len(now), i, j;
	struct smap names;
	int64_t want;
	const char *name;

	memset(k, 0, sizeof(*k));
	k->old = old;
	k->now = now;
	k->ids = calloc(n + 1, sizeof(*k->ids));
	k->from = calloc(n + 1, sizeof(*k->from));
	k->claimed = calloc(nold + 1, sizeof(*k->claimed));
	k->to = calloc(nold + 1, sizeof(*k->to));
	if (k->ids == NULL || k->from == NULL || k->claimed == NULL ||
	    k->to == NULL || smap_init(&names, nold, false) != 0)
		return err_set(e, "", "out of memory");
	for (j = 0; j < nold; j++)
		smap_add(&names, json_str(json_get(json_at(old, j), "name")), j,
		    NULL);
	for (i = 0; i < n; i++) {
		want = json_int(json_get(json_at(now, i), "id"));
		name = json_str(json_get(json_at(now, i), "name"));
		j = want > 0 ? old_by_id(old, want) : SIZE_MAX;
		if ((j == SIZE_MAX || k->claimed[j]) &&
		    (!smap_get(&names, name, &j) || k->claimed[j]))
			j = SIZE_MAX;
		k->from[i] = j;
		if (j != SIZE_MAX) {
			k->claimed[j] = true;
			k->to[j] = i;
			if (!json_same(json_get(json_at(old, j), "name"),
			        json_get(json_at(now, i), "name")))
				k->renamed = true;
			k->ids[i] = json_int(json_get(json_at(old, j), "id"));
		} else {
			/* An explicit new id that an old row has is not free.
			 */
			k->ids[i] = want > 0 && old_by_id(old, want) == SIZE_MAX
			    ? want
			    : 0;
		}
	}
	smap_free(&names);
	return 0;
}

/* The item at <i> is its old row unchanged (same values, same id). */
static bool
sync_same(const struct sync_kind *k, size_t i)
{
	const struct json *o, *it = json_at(k->now, i);
	struct json *c;
	bool same;

	if (k->from[i] == SIZE_MAX || k->rewrite)
		return false;
	o = json_at(k->old, k->from[i]);
	if (json_get(it, "id") != NULL)
		return json_same(o, it);
	c = json_clone(it);
	json_set(c, "id", json_ref(json_get(o, "id")));
	same = json_same(o, c);
	json_unref(c);
	return same;
}

/* Deletes the rows of <ck> that no item claims or, with <parked_only>,
 * parks the names of those and of the rows whose names change.
 */
static int
sync_exec_ids(struct store *st, const struct cf_kind *ck,
    const struct sync_kind *k, bool parked_only, struct err *e)
{
	char sql[160];
	struct store_stmt *s;
	const struct json *o;
	size_t j;
	int rc = 0;

	if (parked_only)
		snprintf(sql, sizeof(sql),
		    "UPDATE %s SET name = '~' || id WHERE id = ?1", ck->table);
	else
		snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE id = ?1",
		    ck->table);
	if ((s = store_prepare(st, sql, e)) == NULL)
		return -1;
	for (j = 0; rc == 0 && j < json_len(k->old); j++) {
		o = json_at(k->old, j);
		if (!parked_only && k->claimed[j])
			continue;
		/* Park only a row whose name changes or goes. */
		if (parked_only && k->claimed[j] &&
		    json_same(json_get(o, "name"),
		        json_get(json_at(k->now, k->to[j]), "name")))
			continue;
		store_bind_int64(s, 1, json_int(json_get(o, "id")));
		rc = step_done(s, e);
	}
	store_finalize(s);
	return rc;
}

static int
sync_upsert(struct store *st, enum conf_kind kind, const struct sync_kind *k,
    struct err *e)
{
	const struct cf_kind *ck = conf_kind(kind);
	struct store_stmt *up = upsert_prepare(st, ck, e);
	char p[64];
	size_t i;
	int rc = 0;

	if (up == NULL)
		return -1;
	for (i = 0; rc == 0 && i < json_len(k->now); i++) {
		if (sync_same(k, i))
			continue;
		snprintf(p, sizeof(p), "%s[%zu]", ck->coll, i);
		if (write_item(st, up, ck,
		        k->from[i] != SIZE_MAX ? json_at(k->old, k->from[i])
		                               : NULL,
		        json_at(k->now, i), k->ids[i], p, e) < 0)
			rc = -1;
	}
	store_finalize(up);
	return rc;
}

int
conf_sync(struct store *st, const struct json *old, const struct json *doc,
    struct err *e)
{
	struct sync_kind k[CONF__KINDS];
	int i, rc = -1;

	memset(k, 0, sizeof(k));
	for (i = 0; i < CONF__KINDS; i++)
		if (sync_plan(json_get(old, conf_kind_names[i]),
		        json_get(doc, conf_kind_names[i]), &k[i], e) != 0)
			goto out;
	/* Routes name their listener and origin: when names move between
	 * rows, an unchanged route may point at another row now.
	 */
	k[CONF_ROUTES].rewrite = k[CONF_LISTENERS].renamed ||
	    k[CONF_ORIGINS].renamed || k[CONF_ACCESS_LISTS].renamed ||
	    k[CONF_RATE_LIMITS].renamed || k[CONF_ERROR_PAGES].renamed;
	if (sync_exec_ids(st, conf_kind(CONF_ROUTES), &k[CONF_ROUTES], false,
	        e) != 0)
		goto out;
	for (i = 0; i < CONF__KINDS; i++)
		if (sync_exec_ids(st, conf_kind((enum conf_kind)i), &k[i], true,
		        e) != 0)
			goto out;
	for (i = 0; i < CONF__KINDS; i++)
		if (sync_upsert(st, (enum conf_kind)i, &k[i], e) != 0)
			goto out;
	if (sync_exec_ids(st, conf_kind(CONF_LISTENERS), &k[CONF_LISTENERS],
	        false, e) != 0 ||
	    sync_exec_ids(st, conf_kind(CONF_ORIGINS), &k[CONF_ORIGINS], false,
	        e) != 0 ||
	    sync_exec_ids(st, conf_kind(CONF_ACCESS_LISTS),
	        &k[CONF_ACCESS_LISTS], false, e) != 0 ||
	    sync_exec_ids(st, conf_kind(CONF_RATE_LIMITS), &k[CONF_RATE_LIMITS],
	        false, e) != 0 ||
	    sync_exec_ids(st, conf_kind(CONF_ERROR_PAGES), &k[CONF_ERROR_PAGES],
	        false, e) != 0)
		goto out;
	rc = 0;
out:
	for (i = 0; i < CONF__KINDS; i++)
		sync_kind_free(&k[i]);
	return rc;
}
