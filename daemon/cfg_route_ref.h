/*
 * cfg_route_ref.h: a route's reference to a policy kind (access list,
 * rate limit, ...), read from its routes column and checked the same way
 * for every kind.
 *
 * A policy kind is compiled into the snapshot first; then each route that
 * names one gets its pointer, and a route serving any listener that is
 * not http or https is refused ("applies to routes of http and https
 * listeners"): every listener of the route's "listeners" is checked, not
 * only the first. cfg_route_refs() does it for every route of a full
 * compile, cfg_route_ref() for the one route a route write compiled
 * (cfg_incr.c). Errors name the route and field: "routes[app].rate_limit".
 */
#ifndef GH_CFG_ROUTE_REF_H
#define GH_CFG_ROUTE_REF_H

#include <stdbool.h>
#include <stdint.h>

#include "cfg.h"

struct store;

struct cfg_route_ref {
	const char *column; /* of table routes: the item's id or NULL */
	const char *field;  /* JSON key, for errors: "access_list" */
	const char *what;   /* for errors: "access list" */
	/* Points <r> at the item of <c> with id <id> (0: at none); false
	 * when <c> has no such item.
	 */
	bool (*set)(struct cfg *c, struct cfg_route *r, int64_t id);
};

/* The first listener of <r> that is neither http nor https, or NULL. */
const struct cfg_listener *cfg_route_non_http(const struct cfg_route *r);

/* Every route's reference <ref>. 0, or -1 with <e> set. */
int cfg_route_refs(struct store *st, struct cfg *c,
    const struct cfg_route_ref *ref, struct err *e);

/* Route <r>'s reference <ref>. 0, or -1 with <e> set. */
int cfg_route_ref(struct store *st, struct cfg *c, struct cfg_route *r,
    const struct cfg_route_ref *ref, struct err *e);

/* A listener column read after its kind is compiled: <set> is called
 * for each listener whose <column> is not NULL, with the column's value
 * and the error path "listeners[NAME].FIELD"; it returns 0, or -1 with
 * <e> set (a refused value, an unknown item).
 */
struct cfg_listener_col {
	const char *column; /* of table listeners */
	const char *field;  /* JSON key, for errors */
	int (*set)(struct cfg *c, struct cfg_listener *l, int64_t v,
	    const char *path, struct err *e);
};

/* Every listener's column <col>. 0, or -1 with <e> set. */
int cfg_listener_cols(struct store *st, struct cfg *c,
    const struct cfg_listener_col *col, struct err *e);

#endif
