/*
 * ratelimit.h: rate limits (token buckets per key) and connections per
 * client.
 *
 * A rate limit (a kind, reused by routes through "rate_limit") gives each
 * key (the client address, a request header's value, or the route) a
 * bucket of <burst> tokens refilled at <rate> per second, minute or hour;
 * a request takes one or gets 429 with Retry-After, RateLimit-Policy and
 * RateLimit. The buckets of one limit live in a table shared by every
 * worker, kept across snapshots by the limit's id: lock-striped, with
 * room for <max_keys> keys allocated once (memory is bounded), the least
 * recently used key dropped for a new one (counted). Listener field
 * max_connections_per_client caps the connections open at once from one
 * address, on http, https and tcp listeners, in a shared counting table.
 */
#ifndef GH_RATELIMIT_H
#define GH_RATELIMIT_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stdint.h>

#include "cfg.h"
#include "http_msg.h"
#include "str.h"

struct conn;
struct store;
struct rl_table;

/* Runs the route's rate limit on the request of <c>. false: go on; true:
 * it answered 429 (recorded for the access log, counted).
 */
bool ratelimit_admit(struct conn *c);

/* For an answer to a request the route's rate limit let in: the
 * RateLimit-Policy and RateLimit header lines (the same IETF draft as the
 * 429's; t is the seconds until the bucket is full again) into
 * buf[0..cap); their length, 0 when none or they do not fit.
 */
size_t ratelimit_headers(const struct conn *c, char *buf, size_t cap);

/* One request with key <key> (<len> bytes) against limit <rl> at time
 * <now_ms> (monotonic). True when allowed; <*remaining> tokens left,
 * <*retry_s> seconds until one is back when refused. Exposed for tests.
 */
bool ratelimit_take(const struct cfg_rate_limit *rl, const char *key,
    size_t len, int64_t now_ms, unsigned *remaining, unsigned *retry_s);

/* The key of a request under <rl>: a header of <m>, the route's id
 * (written into <buf>), or the client address <client>.
 */
struct str ratelimit_key(const struct cfg_rate_limit *rl,
    const struct http_msg *m, const struct cfg_route *route, const char *client,
    char buf[24]);

/* The same without taking a token (POST /explain). */
bool ratelimit_peek(const struct cfg_rate_limit *rl, const char *key,
    size_t len, int64_t now_ms, unsigned *remaining, unsigned *retry_s);
/* The monotonic clock in ms, as ratelimit_take() wants it. */
int64_t ratelimit_now_ms(void);

/* The shared table of limit <id> with room for <max_keys> (made on first
 * use, kept until exit), or NULL without memory. The compile sets
 * cfg_rate_limit.table with it.
 */
struct rl_table *ratelimit_table(int64_t id, unsigned max_keys);

/* Keys a limit's table holds now, and how many it has dropped. */
uint64_t ratelimit_keys(const struct cfg_rate_limit *rl);

/* The compile's part (after the routes): the rate limits with their
 * shared tables, the routes' references. 0, or -1 with <e>.
 */
int ratelimit_compile(struct store *st, struct cfg *c, struct err *e);

/* The same for the one route <r> a route write compiled (cfg_incr.c),
 * with the rate limits of <c> taken from the previous snapshot.
 */
int ratelimit_route(struct store *st, struct cfg *c, struct cfg_route *r,
    struct err *e);

/* Connections per client: counts one more connection from <sa> when the
 * client has fewer than <limit>; returns 1 (counted: release it later),
 * 0 (refused), or -1 (the table is full here: allowed, not counted).
 */
int connlimit_take(const struct sockaddr_storage *sa, unsigned limit);
void connlimit_release(const struct sockaddr_storage *sa);

/* max_connections_per_client for the HTTP connection <c> of <l>, by the
 * client it is from: its peer, or the address of its PROXY header (call
 * again once it is read). A peer in trusted_proxies is not counted (its
 * clients are known only per request). 1: counted (its peer address, released
 * by the connection's end); 0: over the limit, close it; -1: not counted.
 */
struct cfg_listener;
int connlimit_conn(struct conn *c, const struct cfg_listener *l);

#endif
