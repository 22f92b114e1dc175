/*
 * l4_route.h: choosing the route of a Layer 4 connection or datagram
 * session, from the client address and (tls-passthrough) the server name.
 *
 * A pure function over a snapshot's listener, like route_match() for
 * HTTP: no allocation, no I/O, no locks.
 */
#ifndef GH_L4_ROUTE_H
#define GH_L4_ROUTE_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>

#include "cfg.h"

/* Does block <c> hold the address of <sa> (AF_INET or AF_INET6; an
 * IPv4-mapped IPv6 address counts as its IPv4 address)?
 */
bool l4_cidr_contains(const struct cfg_cidr *c, const struct sockaddr *sa);

/* Is <sa> in any of the <n> blocks of <v>? */
bool l4_cidr_any(const struct cfg_cidr *v, size_t n, const struct sockaddr *sa);

/* The route of <l> for a client at <peer> that sent server name <sni>
 * (<sni_len> bytes, any case, one trailing dot ignored; NULL or empty:
 * none), or NULL. A route's sources, when it has any, must hold the
 * client. Among the routes that accept, the winner has the highest
 * priority, then the most specific name (exact, then the longest
 * wildcard suffix, then routes without names), then a source list over
 * none, then the lowest id. A route's names are its sni list and, on
 * tls-passthrough listeners, its hosts. A route with names never
 * accepts a connection without a name. On an https listener only its
 * sni_routes (passthrough names) are considered. Thread: any.
 */
const struct cfg_route *l4_route_match(const struct cfg_listener *l,
    const struct sockaddr *peer, const char *sni, size_t sni_len);

#endif
