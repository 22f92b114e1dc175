/*
 * route.h: choosing the route for a request, and the order that makes the
 * first match the right one.
 *
 * cfg_compile() sorts each listener's routes with route_sort(), then
 * builds each listener's host index with route_index_build() in the
 * snapshot's arena. The data path calls route_match(), a pure function (no
 * allocation, no I/O, no locks) that returns the first route in that
 * order whose hosts, path prefix and methods all accept the request.
 *
 * The index makes the cost per request independent of the number of
 * routes: exact host names are found in a hash table, wildcards by one
 * lookup per '.' of the request's host (each suffix ".example" in a second
 * table), and routes without hosts sit in a catch-all list. Each of those
 * lists holds routes in match order (route_order()), so
 * route_match() merges the few lists that apply and returns the first
 * route whose path prefix and methods accept: the same answer as walking
 * l->routes from the start (tests/fuzz/fuzz_route_match.c checks this).
 */
#ifndef GH_ROUTE_H
#define GH_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "cfg.h"
#include "err.h"
#include "str.h"

/* Longest host name route_match() considers (RFC 1035 limit). */
#define ROUTE_HOST_MAX 255

/* Returns the first route of <l> in match order that accepts the request,
 * or NULL (the caller answers 404). A listener without an index (no
 * route_index_build()) matches nothing. <host> is the raw Host header value
 * (":port" and "[v6]:port" are handled, case and one trailing dot are
 * ignored; a missing or malformed host matches only routes without
 * hosts); <path> is the request-target's path without the query;
 * <method> is one CFG_M_* bit (CFG_M_OTHER for other methods). The result
 * is borrowed from the snapshot <l> belongs to. Thread: any.
 */
const struct cfg_route *route_match(const struct cfg_listener *l,
    struct str host, struct str path, unsigned method);

/* Normalizes a Host header value into <buf> (ROUTE_HOST_MAX bytes, not
 * NUL-terminated): port and brackets stripped, lowercased, one trailing
 * dot dropped. Returns the name in <buf>, or an empty str when <raw> is
 * empty or not a valid host.
 */
struct str route_host_normalize(struct str raw, char *buf);

/* Sorts <v> into match order: priority descending; exact hosts, then
 * wildcards (longer suffix first), then any host; longer path_prefix;
 * method-restricted before any method; id ascending.
 */
void route_sort(const struct cfg_route **v, size_t n);

/* The comparison route_sort() sorts with, on two routes: < 0 when <a>
 * comes first.
 */
int route_order(const struct cfg_route *a, const struct cfg_route *b);

/* Builds <l>'s host index over l->routes (already in match order) in
 * <a> and sets l->route_index. Returns 0, or -1 when out of memory.
 */
int route_index_listener(struct arena *a, struct cfg_listener *l);

/* <l>'s index (in <a>) after one change to its route list (l->routes
 * already changed): <old> is the index of the list before, route <gone>
 * (NULL: none) left and <added> (NULL: none) came in. The same index
 * route_index_listener() builds; it copies only the parts of <old> that
 * change and shares the rest (cfg_incr.c). 0, or -1 when out of memory.
 */
int route_index_update(struct arena *a, struct cfg_listener *l,
    const struct route_index *old, const struct cfg_route *gone,
    const struct cfg_route *added);

/* route_index_listener() for every listener of <c>, in c's arena; the
 * last step of cfg_compile(). Returns 0, or -1 with <e> set.
 */
int route_index_build(struct cfg *c, struct err *e);

#endif
