/*
 * cfg_route_ref.c: a route's reference to a policy kind (cfg_route_ref.h).
 */
#include "cfg_route_ref.h"

#include <stdio.h>

#include "cfg_field.h"
#include "store.h"

/* A full compile's route, in its id-ordered array. */
static struct cfg_route *
compiled_route(struct cfg *c, int64_t id)
{
	size_t lo = 0, hi = c->nroute_arr, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (c->route_arr[mid].id == id)
			return &c->route_arr[mid];
		if (c->route_arr[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct cfg_listener *
cfg_route_non_http(const struct cfg_route *r)
{
	size_t i;

	for (i = 0; i < r->nlisteners; i++)
		if (r->listeners[i]->proto != CFG_PROTO_HTTP &&
		    r->listeners[i]->proto != CFG_PROTO_HTTPS)
			return r->listeners[i];
	return NULL;
}

/* Points <r> at item <id> of <ref> and checks its listeners. */
static int
ref_set(struct cfg *c, struct cfg_route *r, const struct cfg_route_ref *ref,
    int64_t id, struct err *e)
{
	const struct cfg_listener *l;
	char path[160];

	snprintf(path, sizeof(path), "routes[%s].%s", r->name, ref->field);
	if (!ref->set(c, r, id))
		return err_set(e, path, "no such %s", ref->what);
	if ((l = cfg_route_non_http(r)) != NULL)
		return err_set(e, path,
		    "applies to routes of http and https listeners "
		    "(listener \"%s\" is %s)",
		    l->name,
		    cf_kinds[CK_LISTENER].f[LF_PROTOCOL].enums[l->proto]);
	return 0;
}

int
cfg_route_refs(struct store *st, struct cfg *c, const struct cfg_route_ref *ref,
    struct err *e)
{
	struct store_stmt *s;
	enum store_step_result r = STORE_ERROR;
	struct cfg_route *rt;
	char sql[160];
	int rc = 0;

	snprintf(sql, sizeof(sql),
	    "SELECT id, %s FROM routes WHERE %s IS NOT NULL ORDER BY id",
	    ref->column, ref->column);
	if ((s = store_prepare(st, sql, e)) == NULL)
		return -1;
	while (rc == 0 && (r = store_step(s, e)) == STORE_ROW) {
		if ((rt = compiled_route(c, store_col_int64(s, 0))) == NULL)
			continue; /* not compiled (no listener): unused */
		rc = ref_set(c, rt, ref, store_col_int64(s, 1), e);
	}
	if (rc == 0 && r != STORE_DONE)
		rc = -1;
	store_finalize(s);
	return rc;
}

int
cfg_route_ref(struct store *st, struct cfg *c, struct cfg_route *r,
    const struct cfg_route_ref *ref, struct err *e)
{
	struct store_stmt *s;
	int64_t id = 0;
	char sql[160];

	snprintf(sql, sizeof(sql), "SELECT %s FROM routes WHERE id = ?1",
	    ref->column);
	if ((s = store_prepare(st, sql, e)) == NULL)
		return -1;
	store_bind_int64(s, 1, r->id);
	if (store_step(s, e) == STORE_ROW && !store_col_is_null(s, 0))
		id = store_col_int64(s, 0);
	store_finalize(s);
	ref->set(c, r, 0);
	if (id == 0)
		return 0;
	return ref_set(c, r, ref, id, e);
}

int
cfg_listener_cols(struct store *st, struct cfg *c,
    const struct cfg_listener_col *col, struct err *e)
{
	struct store_stmt *s;
	enum store_step_result r = STORE_ERROR;
	struct cfg_listener *l;
	char sql[160], path[160];
	int rc = 0;

	snprintf(sql, sizeof(sql),
	    "SELECT id, %s FROM listeners WHERE %s IS NOT NULL ORDER BY id",
	    col->column, col->column);
	if ((s = store_prepare(st, sql, e)) == NULL)
		return -1;
	while (rc == 0 && (r = store_step(s, e)) == STORE_ROW) {
		l = (struct cfg_listener *)(uintptr_t)cfg_listener_by_id(c,
		    store_col_int64(s, 0));
		if (l == NULL)
			continue;
		snprintf(path, sizeof(path), "listeners[%s].%s", l->name,
		    col->field);
		rc = col->set(c, l, store_col_int64(s, 1), path, e);
	}
	if (rc == 0 && r != STORE_DONE)
		rc = -1;
	store_finalize(s);
	return rc;
}
