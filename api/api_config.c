/*
 * api_config.c: the configuration as one JSON document.
 *
 * Every kind is read, checked and shown through its field table
 * (daemon/cfg_field.c): conf_check_item_all() walks the table and
 * collects every error of an item with its field path, conf_load() and
 * conf_load_item() turn rows into items, and conf_sync() (api_sync.c)
 * turns items into rows. The document is
 * {"listeners":[...],"origins":[...],"routes":[...]}; items reference one
 * another by name.
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

#define CONF_MAX_ITEMS 1000000

const char *const conf_kind_names[CONF__KINDS] = { "listeners", "origins",
	"access_lists", "rate_limits", "error_pages", "routes" };

/* ---- load: rows into JSON, by the field tables ---- */

static struct json *
load_list(const char *text)
{
	struct json *j = json_parse(text, strlen(text), NULL);

	if (j == NULL || !json_is_arr(j)) {
		json_unref(j);
		return json_new_arr();
	}
	return j;
}

static struct json *
load_map(const char *text)
{
	struct json *j = json_parse(text, strlen(text), NULL);

	if (j == NULL || !json_is_obj(j)) {
		json_unref(j);
		return json_new_obj();
	}
	return j;
}

/* The members of <k> under <parent> from the row of <s> into <obj>. */
static void
load_fields(const struct cf_kind *k, int parent, struct store_stmt *s,
    struct json *obj)
{
	const struct cf_field *f;
	struct json *sub;
	int i, first;

	for (i = 0; i < (int)k->n; i++) {
		f = &k->f[i];
		if (f->parent != parent || f->type == F_CHILDREN)
			continue;
		if (f->type == F_OBJ) {
			/* A nullable object is there when its first
			 * required member is.
			 */
			for (first = i + 1; (f->flags & F_NULLABLE) != 0 &&
			     first < (int)k->n &&
			     !(k->f[first].parent == i &&
			         (k->f[first].flags & F_REQUIRED) != 0);
			     first++)
				;
			if ((f->flags & F_NULLABLE) != 0 &&
			    (first == (int)k->n ||
			        store_col_is_null(s, first))) {
				json_set(obj, f->key, json_new_null());
				continue;
			}
			sub = json_new_obj();
			load_fields(k, i, s, sub);
			json_set(obj, f->key, sub);
			continue;
		}
		if (store_col_is_null(s, i) || (f->flags & F_WRITEONLY) != 0)
			continue;
		switch (f->type) {
		case F_ID:
		case F_INT:
			json_set(obj, f->key,
			    json_new_int(store_col_int64(s, i)));
			break;
		case F_BOOL:
			json_set(obj, f->key,
			    json_new_bool(store_col_int64(s, i) != 0));
			break;
		case F_LIST:
			json_set(obj, f->key, load_list(store_col_text(s, i)));
			break;
		case F_MAP:
			json_set(obj, f->key, load_map(store_col_text(s, i)));
			break;
		case F_REFS:
			/* One item is shown as its F_REF ("listener"). */
			sub = load_list(store_col_text(s, i));
			if (json_len(sub) > 1) {
				json_del(obj, k->f[f->single].key);
				json_set(obj, f->key, sub);
			} else {
				json_unref(sub);
			}
			break;
		default:
			json_set(obj, f->key,
			    json_new_str(store_col_text(s, i)));
		}
	}
}

/* The child items (servers) of the rows of <k> that load_kind() reads
 * (all, or the one named or numbered <key>), in parent id order.
 */
static struct store_stmt *
load_children_stmt(struct store *st, const struct cf_kind *k,
    const struct cf_field *f, const char *key, bool by_id, struct err *e)
{
	const struct cf_kind *ck = &cf_kinds[f->ref];
	char sql[1024], extra[64], where[160];
	size_t n;

	/* The parent id is the column after the fields. */
	snprintf(extra, sizeof(extra), "t.%s", ck->parent_col);
	if (key == NULL)
		where[0] = '\0';
	else if (by_id)
		snprintf(where, sizeof(where), " WHERE t.%s = ?1",
		    ck->parent_col);
	else
		snprintf(where, sizeof(where),
		    " WHERE t.%s = (SELECT id FROM %s WHERE name = ?1)",
		    ck->parent_col, k->table);
	if (cf_select_sql(ck, true, extra, sql, sizeof(sql)) != 0) {
		err_set(e, "", "internal: select too long");
		return NULL;
	}
	n = strlen(sql);
	snprintf(sql + n, sizeof(sql) - n, "%s ORDER BY t.%s, t.%s, t.id",
	    where, ck->parent_col, ck->order_col);
	return store_prepare(st, sql, e);
}

/* Rows of <k> (all, or the one whose name or id is <key>) as items
 * appended to <out>; children merged in by parent id (both in id order).
 */
static int
load_kind(struct store *st, const struct cf_kind *k, const char *key,
    struct json *out, struct err *e)
{
	struct store_stmt *s, *cs[2] = { NULL, NULL };
	int ci[2] = { -1, -1 }, nc = 0, j, rc = -1;
	enum store_step_result r = STORE_ERROR, rc2[2];
	bool by_id = key != NULL && strspn(key, "0123456789") == strlen(key);
	struct json *it, *arr;
	char sql[2048];
	size_t i, n;
	int64_t id;

	if (cf_select_sql(k, true, NULL, sql, sizeof(sql)) != 0)
		return err_set(e, "", "internal: select too long");
	n = strlen(sql);
	snprintf(sql + n, sizeof(sql) - n, "%s ORDER BY t.id",
	    key == NULL ? ""
	        : by_id ? " WHERE t.id = ?1"
	                : " WHERE t.name = ?1");
	if ((s = store_prepare(st, sql, e)) == NULL)
		return -1;
	for (i = 0; i < k->n && nc < 2; i++) {
		if (k->f[i].type != F_CHILDREN)
			continue;
		cs[nc] = load_children_stmt(st, k, &k->f[i], key, by_id, e);
		if (cs[nc] == NULL)
			goto out;
		if (key != NULL)
			store_bind_text(cs[nc], 1, key);
		rc2[nc] = store_step(cs[nc], e);
		ci[nc++] = (int)i;
	}
	if (key != NULL)
		store_bind_text(s, 1, key);
	while ((r = store_step(s, e)) == STORE_ROW) {
		it = json_new_obj();
		load_fields(k, -1, s, it);
		id = store_col_int64(s, 0);
		for (j = 0; j < nc; j++) {
			const struct cf_kind *ck = &cf_kinds[k->f[ci[j]].ref];
			arr = json_new_arr();
			while (rc2[j] == STORE_ROW &&
			    store_col_int64(cs[j], (int)ck->n) < id)
				rc2[j] = store_step(cs[j], e);
			while (rc2[j] == STORE_ROW &&
			    store_col_int64(cs[j], (int)ck->n) == id) {
				struct json *one = json_new_obj();
				load_fields(ck, -1, cs[j], one);
				json_append(arr, one);
				rc2[j] = store_step(cs[j], e);
			}
			/* Children may sit in an object ("basic_auth"). */
			json_set(k->f[ci[j]].parent < 0
			        ? it
			        : json_get(it, k->f[k->f[ci[j]].parent].key),
			    k->f[ci[j]].key, arr);
		}
		json_append(out, it);
	}
	rc = r == STORE_DONE ? 0 : -1;
	for (j = 0; j < nc; j++)
		if (rc2[j] == STORE_ERROR)
			rc = -1;
out:
	for (j = 0; j < nc; j++)
		store_finalize(cs[j]);
	store_finalize(s);
	return rc;
}

struct json *
conf_load(struct store *st, struct err *e)
{
	struct json *doc = json_new_obj(), *arr;
	int k;

	for (k = 0; k < CONF__KINDS; k++) {
		arr = json_new_arr();
		json_set(doc, conf_kind_names[k], arr);
		if (load_kind(st, conf_kind((enum conf_kind)k), NULL, arr, e) !=
		    0) {
			json_unref(doc);
			return NULL;
		}
	}
	return doc;
}

struct json *
conf_load_item(struct store *st, enum conf_kind kind, const char *key,
    struct err *e)
{
	struct json *arr = json_new_arr(), *it = NULL;

	if (load_kind(st, conf_kind(kind), key, arr, e) == 0 &&
	    json_len(arr) == 1)
		it = json_ref(json_at(arr, 0));
	json_unref(arr);
	return it;
}

/* ---- check: one walk of the field tables, every error collected ---- */

static void check_obj(const struct cf_kind *k, int parent,
    const struct json *obj, const char *path, struct errs *l);

/* "\"x\" is not one of a, b, c". */
static void
enum_fail(struct errs *l, const char *path, const struct cf_field *f,
    const char *v)
{
	char list[256];
	size_t i, n = 0;

	list[0] = '\0';
	for (i = 0; f->enums[i] != NULL && n < sizeof(list); i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s",
		    i > 0 ? ", " : "", f->enums[i]);
	errs_add(l, path, "\"%.32s\" is not one of %s", v, list);
}

static void
check_string(const struct cf_field *f, const char *v, const char *path,
    struct errs *l)
{
	char msg[256];

	if (f->enums != NULL) {
		if (cf_enum_index(f, v) < 0)
			enum_fail(l, path, f, v);
	} else if (cv_check(f->vtype, v, msg, sizeof(msg)) != 0) {
		errs_add(l, path, "%s", msg);
	} else if (f->max > 0 && strlen(v) > (size_t)f->max) {
		errs_add(l, path, "at most %lld characters", (long long)f->max);
	}
}

/* An array of unique strings (compared without case). */
/* Item <i> of a list of HTTP statuses: an integer 100..599, once. */
static void
check_status_item(const struct json *arr, size_t i, const char *p,
    struct errs *l)
{
	const struct json *v = json_at(arr, i);
	size_t j;

	if (!json_is_int(v) || json_int(v) < 100 || json_int(v) > 599) {
		errs_add(l, p, "must be an HTTP status (100..599)");
		return;
	}
	for (j = 0; j < i; j++)
		if (json_is_int(json_at(arr, j)) &&
		    json_int(json_at(arr, j)) == json_int(v))
			errs_add(l, p, "%lld is listed twice",
			    (long long)json_int(v));
}

static void
check_list(const struct cf_field *f, const struct json *arr, const char *path,
    struct errs *l)
{
	struct smap seen;
	const char *v;
	char p[160];
	size_t i, n = json_len(arr);

	if ((int64_t)n > f->max) {
		errs_add(l, path, "at most %lld items", (long long)f->max);
		return;
	}
	if (smap_init(&seen, n, true) != 0) {
		errs_add(l, path, "out of memory");
		return;
	}
	for (i = 0; i < n; i++) {
		json_path_idx(p, sizeof(p), path, i);
		if ((f->flags & F_INTS) != 0) {
			check_status_item(arr, i, p, l);
			continue;
		}
		if ((v = json_str(json_at(arr, i))) == NULL) {
			errs_add(l, p, "must be a string");
			continue;
		}
		if (smap_add(&seen, v, i, NULL) == 1)
			errs_add(l, p, "\"%.100s\" is listed twice", v);
		else
			check_string(f, v, p, l);
	}
	smap_free(&seen);
}

/* An object of unique keys (compared without case) to strings. */
static void
check_map(const struct cf_field *f, const struct json *obj, const char *path,
    struct errs *l)
{
	struct smap seen;
	const char *key, *v;
	char p[160], msg[256];
	size_t i, n = json_len(obj);

	if ((int64_t)n > f->max) {
		errs_add(l, path, "at most %lld members", (long long)f->max);
		return;
	}
	if (smap_init(&seen, n, true) != 0) {
		errs_add(l, path, "out of memory");
		return;
	}
	for (i = 0; i < n; i++) {
		key = json_key_at(obj, i);
		json_path_key(p, sizeof(p), path, key);
		if (smap_add(&seen, key, i, NULL) == 1) {
			errs_add(l, p, "\"%.100s\" is given twice", key);
			continue;
		}
		if (cv_check(f->ktype, key, msg, sizeof(msg)) != 0) {
			errs_add(l, p, "%s", msg);
			continue;
		}
		if ((v = json_str(json_get(obj, key))) == NULL) {
			errs_add(l, p, "must be a string");
			continue;
		}
		if (strlen(v) >
		    (size_t)(f->min > 0 ? f->min : CF_MAP_VALUE_MAX))
			errs_add(l, p, "at most %lld characters",
			    (long long)(f->min > 0 ? f->min
			                           : CF_MAP_VALUE_MAX));
		else if (cv_check(f->vtype, v, msg, sizeof(msg)) != 0)
			errs_add(l, p, "%s", msg);
	}
	smap_free(&seen);
}

static void
check_children(const struct cf_field *f, const struct json *arr,
    const char *path, struct errs *l)
{
	const struct cf_kind *ck = &cf_kinds[f->ref];
	char p[160];
	size_t i, n = json_len(arr);

	if ((int64_t)n < f->min) {
		errs_add(l, path, "needs at least one %s", ck->one);
		return;
	}
	if ((int64_t)n > f->max) {
		errs_add(l, path, "at most %lld %s", (long long)f->max,
		    ck->coll);
		return;
	}
	for (i = 0; i < n; i++) {
		json_path_idx(p, sizeof(p), path, i);
		check_obj(ck, -1, json_at(arr, i), p, l);
	}
}

/* Field <f> of the object <obj> at <path>. */
static void
check_field(const struct cf_kind *k, int i, const struct json *obj,
    const char *path, struct errs *l)
{
	const struct cf_field *f = &k->f[i];
	const struct json *v = json_get(obj, f->key);
	struct json *sub = NULL;
	const char *s = NULL;
	char p[160];
	struct err e;
	int64_t n;
	bool b;
	int rc;

	json_path_key(p, sizeof(p), path, f->key);
	if ((f->flags & F_READONLY) != 0)
		return; /* what a GET answered, sent back */
	if (v == NULL || json_is_nil(v)) {
		if ((f->flags & F_REQUIRED) != 0)
			errs_add(l, p, "is required");
		return;
	}
	err_clear(&e);
	switch (f->type) {
	case F_ID:
	case F_INT:
		rc = json_get_int(obj, path, f->key, f->min, f->max, &n, &e);
		break;
	case F_BOOL:
		rc = json_get_bool(obj, path, f->key, &b, &e);
		break;
	case F_STR:
	case F_ENUM:
	case F_REF:
		if ((rc = json_get_str(obj, path, f->key, &s, &e)) > 0 &&
		    f->type != F_REF)
			check_string(f, s, p, l);
		break;
	case F_LIST:
		if ((rc = json_get_arr(obj, path, f->key, &sub, &e)) > 0)
			check_list(f, sub, p, l);
		break;
	case F_REFS:
		if ((rc = json_get_arr(obj, path, f->key, &sub, &e)) > 0 &&
		    (int64_t)json_len(sub) < f->min)
			errs_add(l, p, "needs at least one %s",
			    cf_kinds[f->ref].one);
		else if (rc > 0)
			check_list(f, sub, p, l);
		break;
	case F_OBJ:
		if ((rc = json_get_obj(obj, path, f->key, &sub, &e)) > 0)
			check_obj(k, i, sub, p, l);
		break;
	case F_MAP:
		if ((rc = json_get_obj(obj, path, f->key, &sub, &e)) > 0)
			check_map(f, sub, p, l);
		break;
	case F_CHILDREN:
		if ((rc = json_get_arr(obj, path, f->key, &sub, &e)) > 0)
			check_children(f, sub, p, l);
		break;
	default:
		rc = 0;
	}
	if (rc < 0)
		errs_add(l, e.field, "%s", e.msg);
}

/* What one field cannot say alone: ranges between two fields. */
static void
check_between(const struct cf_kind *k, int parent, const struct json *obj,
    const char *path, struct errs *l)
{
	const struct json *lo, *hi;
	char p[160];

	if (k != &cf_kinds[CK_ORIGIN] || parent != OF_HEALTH)
		return;
	lo = json_get(obj, "status_min");
	hi = json_get(obj, "status_max");
	json_path_key(p, sizeof(p), path, "status_max");
	if (json_is_int(hi) &&
	    json_int(hi) <
	        (json_is_int(lo) ? json_int(lo) : k->f[OF_HC_STATUS_MIN].def))
		errs_add(l, p, "%lld is below status_min",
		    (long long)json_int(hi));
	lo = json_get(obj, "timeout_ms");
	hi = json_get(obj, "interval_ms");
	json_path_key(p, sizeof(p), path, "timeout_ms");
	if ((json_is_int(lo) || json_is_int(hi)) &&
	    (json_is_int(lo) ? json_int(lo) : k->f[OF_HC_TIMEOUT_MS].def) >=
	        (json_is_int(hi) ? json_int(hi) : k->f[OF_HC_INTERVAL_MS].def))
		errs_add(l, p, "%lld must be shorter than interval_ms",
		    (long long)(json_is_int(lo) ? json_int(lo)
		                                : k->f[OF_HC_TIMEOUT_MS].def));
}

/* A list of references and its one-item form ("listeners", "listener"):
 * one of them is given; given both, the one is the list's first.
 */
static void
check_refs_pair(const struct cf_kind *k, const struct json *obj,
    const char *path, struct errs *l)
{
	const struct cf_field *f;
	const struct json *one, *many;
	const char *first;
	char p[160];
	size_t i;

	for (i = 0; i < k->n; i++) {
		if ((f = &k->f[i])->type != F_REFS || f->parent != -1)
			continue;
		one = json_get(obj, k->f[f->single].key);
		many = json_get(obj, f->key);
		one = json_is_nil(one) ? NULL : one;
		many = json_is_nil(many) ? NULL : many;
		json_path_key(p, sizeof(p), path, k->f[f->single].key);
		if (one == NULL && many == NULL)
			errs_add(l, p, "is required");
		first = json_str(json_at(many, 0));
		if (json_is_str(one) && first != NULL &&
		    strcmp(first, json_str(one)) != 0)
			errs_add(l, p,
			    "\"%.64s\" must be the first of %s, or left out",
			    json_str(one), f->key);
	}
}

/* The fields of <k> under <parent> in the object <obj> at <path>. */
static void
check_obj(const struct cf_kind *k, int parent, const struct json *obj,
    const char *path, struct errs *l)
{
	const char *key;
	char p[160];
	size_t i;
	size_t before = l->n;

	if (!json_is_obj(obj)) {
		errs_add(l, path, "must be an object");
		return;
	}
	for (i = 0; (key = json_key_at(obj, i)) != NULL; i++) {
		if (cf_find(k, parent, key) < 0) {
			json_path_key(p, sizeof(p), path, key);
			errs_add(l, p, "unknown field");
		}
	}
	for (i = 0; i < k->n; i++)
		if (k->f[i].parent == parent)
			check_field(k, (int)i, obj, path, l);
	if (parent == -1)
		check_refs_pair(k, obj, path, l);
	if (l->n == before)
		check_between(k, parent, obj, path, l);
}

static const enum cf_kind_id conf_ck[CONF__KINDS] = { CK_LISTENER, CK_ORIGIN,
	CK_ACCESS_LIST, CK_RATE_LIMIT, CK_ERROR_PAGES, CK_ROUTE };

const struct cf_kind *
conf_kind(enum conf_kind kind)
{
	return &cf_kinds[conf_ck[kind]];
}

/* An https listener needs a certificate to serve: without a
 * default_certificate no handshake completes (the other leaf certificates
 * are SNI candidates only next to a default, cfg_tls.c), so it is refused
 * here rather than bound and closing every connection. Checked on the
 * API's documents, not in the compile, so a database written before this
 * rule still starts.
 */
static void
check_https_cert(const struct json *item, const char *path, struct errs *l)
{
	const struct cf_kind *lk = &cf_kinds[CK_LISTENER];
	const char *key = lk->f[LF_DEFAULT_CERTIFICATE].key;
	const char *proto = json_str(json_get(item, lk->f[LF_PROTOCOL].key));
	const char *cert = json_str(json_get(item, key));
	char p[160];

	if (proto == NULL || strcmp(proto, "https") != 0 ||
	    (cert != NULL && cert[0] != '\0'))
		return;
	json_path_key(p, sizeof(p), path, key);
	errs_add(l, p,
	    "required on an https listener: without a certificate no TLS "
	    "handshake can complete");
}

int
conf_check_item_all(enum conf_kind kind, const struct json *item,
    const char *path, struct errs *l)
{
	size_t before = l->n;

	check_obj(conf_kind(kind), -1, item, path, l);
	if (kind == CONF_LISTENERS && json_is_obj(item))
		check_https_cert(item, path, l);
	return l->n > before ? -1 : 0;
}

int
conf_check_kind(const struct cf_kind *k, const struct json *item, struct err *e)
{
	struct errs *l = calloc(1, sizeof(*l));
	int rc;

	if (l == NULL)
		return err_set(e, "", "out of memory");
	check_obj(k, -1, item, "", l);
	rc = errs_first(l, e);
	free(l);
	return rc;
}

int
conf_check_item(enum conf_kind kind, const struct json *item, const char *path,
    struct err *e)
{
	struct errs *l = calloc(1, sizeof(*l));
	int rc;

	if (l == NULL)
		return err_set(e, "", "out of memory");
	conf_check_item_all(kind, item, path, l);
	rc = errs_first(l, e);
	free(l);
	return rc;
}

/* ---- the whole document ---- */

struct id_idx {
	int64_t id;
	size_t idx;
};

static int
id_cmp(const void *a, const void *b)
{
	const struct id_idx *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* Unique names and ids within <arr>, by hash and by sort. */
static void
check_unique(const struct json *arr, const char *what, struct errs *l)
{
	struct smap names;
	struct id_idx *ids;
	const char *n;
	char p[128];
	size_t i, nids = 0, len = json_len(arr);

	ids = calloc(len + 1, sizeof(*ids));
	if (ids == NULL || smap_init(&names, len, false) != 0) {
		free(ids);
		errs_add(l, what, "out of memory");
		return;
	}
	for (i = 0; i < len; i++) {
		n = json_str(json_get(json_at(arr, i), "name"));
		snprintf(p, sizeof(p), "%s[%zu].name", what, i);
		if (n != NULL && smap_add(&names, n, i, NULL) == 1)
			errs_add(l, p, "\"%.64s\" is already used", n);
		if (json_is_int(json_get(json_at(arr, i), "id"))) {
			ids[nids].id =
			    json_int(json_get(json_at(arr, i), "id"));
			ids[nids++].idx = i;
		}
	}
	qsort(ids, nids, sizeof(*ids), id_cmp);
	for (i = 1; i < nids; i++) {
		if (ids[i].id != ids[i - 1].id)
			continue;
		snprintf(p, sizeof(p), "%s[%zu].id", what,
		    ids[i].idx > ids[i - 1].idx ? ids[i].idx : ids[i - 1].idx);
		errs_add(l, p, "is already used");
	}
	smap_free(&names);
	free(ids);
}

/* Every name in a route's "listeners" is a listener of the document. */
static void
check_refs_list(const struct json *rt, size_t i, const struct smap *names,
    struct errs *l)
{
	const struct cf_field *f = &cf_kinds[CK_ROUTE].f[RF_LISTENERS];
	const struct json *arr = json_get(rt, f->key);
	const char *v;
	char p[128];
	size_t j;

	for (j = 0; j < json_len(arr); j++) {
		if ((v = json_str(json_at(arr, j))) == NULL ||
		    smap_get(names, v, NULL))
			continue;
		snprintf(p, sizeof(p), "routes[%zu].%s[%zu]", i, f->key, j);
		errs_add(l, p, "no listener named \"%.64s\"", v);
	}
}

/* Every reference of the routes names an item of the document. */
static void
check_refs(struct json *const *arr, struct errs *l)
{
	static const struct {
		int field;
		enum conf_kind to;
	} refs[] = { { RF_LISTENER, CONF_LISTENERS },
		{ RF_ORIGIN, CONF_ORIGINS },
		{ RF_ACCESS_LIST, CONF_ACCESS_LISTS },
		{ RF_RATE_LIMIT, CONF_RATE_LIMITS },
		{ RF_ERROR_PAGES, CONF_ERROR_PAGES } };
	const struct cf_kind *rk = &cf_kinds[CK_ROUTE];
	struct smap names[CONF__KINDS];
	const char *v, *key;
	char p[128];
	size_t i, j;

	for (j = 0; j < NELEM(refs); j++) {
		if (smap_init(&names[refs[j].to], json_len(arr[refs[j].to]),
		        false) != 0) {
			errs_add(l, "", "out of memory");
			goto out;
		}
		for (i = 0; i < json_len(arr[refs[j].to]); i++)
			if ((v = json_str(json_get(json_at(arr[refs[j].to], i),
			         "name"))) != NULL)
				smap_add(&names[refs[j].to], v, i, NULL);
	}
	for (i = 0; i < json_len(arr[CONF_ROUTES]); i++) {
		for (j = 0; j < NELEM(refs); j++) {
			key = rk->f[refs[j].field].key;
			v = json_str(json_get(json_at(arr[CONF_ROUTES], i),
			    key));
			if (v == NULL || smap_get(&names[refs[j].to], v, NULL))
				continue;
			snprintf(p, sizeof(p), "routes[%zu].%s", i, key);
			errs_add(l, p, "no %s named \"%.64s\"",
			    conf_kind((enum conf_kind)refs[j].to)->one, v);
		}
		check_refs_list(json_at(arr[CONF_ROUTES], i), i,
		    &names[CONF_LISTENERS], l);
	}
out:
	for (j = 0; j < NELEM(refs); j++)
		smap_free(&names[refs[j].to]);
}

int
conf_check_all(const struct json *doc, struct errs *l)
{
	struct json *arr[CONF__KINDS];
	const char *key;
	char p[128];
	struct err e;
	size_t i;
	int k;

	if (!json_is_obj(doc))
		return errs_add(l, "", "must be an object");
	for (i = 0; (key = json_key_at(doc, i)) != NULL; i++) {
		for (k = 0; k < CONF__KINDS; k++)
			if (strcmp(key, conf_kind_names[k]) == 0)
				break;
		if (k == CONF__KINDS)
			errs_add(l, key, "unknown field");
	}
	for (k = 0; k < CONF__KINDS; k++) {
		arr[k] = NULL;
		err_clear(&e);
		if (json_get_arr(doc, "", conf_kind_names[k], &arr[k], &e) < 0)
			errs_add(l, e.field, "%s", e.msg);
		if (json_len(arr[k]) > CONF_MAX_ITEMS)
			errs_add(l, conf_kind_names[k], "at most %d items",
			    CONF_MAX_ITEMS);
	}
	if (l->n > 0)
		return -1;
	for (k = 0; k < CONF__KINDS; k++) {
		for (i = 0; i < json_len(arr[k]) && l->n < ERRS_MAX; i++) {
			json_path_idx(p, sizeof(p), conf_kind_names[k], i);
			conf_check_item_all((enum conf_kind)k,
			    json_at(arr[k], i), p, l);
		}
		check_unique(arr[k], conf_kind_names[k], l);
	}
	if (l->n == 0)
		check_refs(arr, l);
	return l->n > 0 ? -1 : 0;
}

int
conf_check(const struct json *doc, struct err *e)
{
	struct errs *l = calloc(1, sizeof(*l));
	int rc;

	if (l == NULL)
		return err_set(e, "", "out of memory");
	conf_check_all(doc, l);
	rc = errs_first(l, e);
	free(l);
	return rc;
}

void
conf_merge_refs(enum conf_kind kind, const struct json *patch,
    struct json *merged)
{
	const struct cf_kind *k = conf_kind(kind);
	const char *one, *many;
	size_t i;

	for (i = 0; i < k->n; i++) {
		if (k->f[i].type != F_REFS || k->f[i].parent != -1)
			continue;
		one = k->f[k->f[i].single].key;
		many = k->f[i].key;
		if (json_get(patch, one) != NULL &&
		    json_get(patch, many) == NULL)
			json_del(merged, many);
		else if (json_get(patch, many) != NULL &&
		    json_get(patch, one) == NULL)
			json_del(merged, one);
	}
}

struct json *
conf_find(const struct json *doc, enum conf_kind kind, const char *key,
    size_t *idx)
{
	struct json *arr = json_get(doc, conf_kind_names[kind]), *it;
	char *end;
	long long id = strtoll(key, &end, 10);
	bool by_id = key[0] != '\0' && *end == '\0';
	const char *n;
	size_t i;

	for (i = 0; i < json_len(arr); i++) {
		it = json_at(arr, i);
		n = json_str(json_get(it, "name"));
		if (by_id ? json_int(json_get(it, "id")) == id
		          : (n != NULL && strcmp(n, key) == 0)) {
			if (idx != NULL)
				*idx = i;
			return it;
		}
	}
	return NULL;
}
