/*
 * route.h: choosing the route for a request, and the order that makes the
 * first match the right one.
 *
 * cfg_compile() sorts each listener's routes with route_sort(); the data
 * path calls route_match(), a pure function (no allocation, no I/O, no
 * locks) that walks that order and returns the first route whose hosts,
 * path prefix and methods all accept the request.
 */
#ifndef GH_ROUTE_H
#define GH_ROUTE_H

#include <stddef.h>

#include "cfg.h"
#include "str.h"

/* Longest host name route_match() considers (RFC 1035 limit). */
#define ROUTE_HOST_MAX 255

/* Returns the first route of <l> in match order that accepts the request,
 * or NULL (the caller answers 404). <host> is the raw Host header value
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

#endif
