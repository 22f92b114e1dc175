/*
 * balance.h: choosing the server of an origin for one request.
 *
 * The origin's "balance" says how (cfg.h enum cfg_balance):
 * - round_robin: smooth weighted round-robin (as nginx does it): every
 *   candidate gains its weight, the richest is chosen and pays the total
 *   back. The caller keeps the running weights (one long per server, per
 *   worker: no locks).
 * - least_conn: the fewest requests in flight for its weight (all
 *   workers' requests, server_live.h); ties go round-robin as above.
 * - p2c: two candidates at random, the one with the lower latency EWMA
 *   times (in flight + 1), for its weight.
 * - hash: rendezvous (highest random weight) hashing of the request's
 *   key with each server's address, weighted: a server that leaves takes
 *   only its own keys with it (about 1/N of them), and a server that is
 *   down or avoided hands its keys to each key's next choice. No key (no
 *   such header or cookie): round-robin.
 * - random: weighted, uniformly.
 * With health checks on, servers that failed them get nothing unless all
 * did (then everyone is tried, as nginx does); servers in <avoid>
 * (already tried for this request) are never chosen.
 */
#ifndef GH_BALANCE_H
#define GH_BALANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"

#define BALANCE_STICKY_LEN 16 /* bytes of a sticky cookie (32 hex digits) */

/* Whether server <id> passed its health checks. */
typedef bool (*balance_usable_fn)(int64_t id);

/* One request's side of the choice. */
struct balance_req {
	const int64_t *avoid; /* servers already tried */
	size_t navoid;
	bool has_key; /* balance hash: the request had its key */
	uint64_t key; /* balance_hash() of the key's value */
};

/* Returns the index in o->servers of the chosen server, or -1 when every
 * one is avoided. <cw> holds o->nservers running weights; <br> may be
 * NULL (nothing avoided, no key).
 */
long balance_choose(const struct cfg_origin *o, long *cw,
    balance_usable_fn usable, const struct balance_req *br);

/* Smooth weighted round-robin whatever the origin's balance. */
long balance_pick(const struct cfg_origin *o, long *cw,
    balance_usable_fn usable, const int64_t *avoid, size_t navoid);

/* May <s> take a new request: active, below its max_connections, and
 * healthy when its origin checks health (<usable>)?
 */
bool balance_server_open(const struct cfg_server *s, balance_usable_fn usable);

/* A 64-bit hash of <n> bytes (FNV-1a, then a finaliser that spreads
 * every input bit over the result).
 */
uint64_t balance_hash(const void *p, size_t n, uint64_t seed);

struct conn;
/* The request key of <c> for origin <o>'s hash_key into <br> (has_key
 * false when the request has none or the balance is not hash).
 * balance_key.c.
 */
void balance_key(const struct cfg_origin *o, const struct conn *c,
    struct balance_req *br);
/* The server for the request of <c> (its route's origin), never one of
 * <avoid>; NULL when none is left. balance_key.c.
 */
const struct cfg_server *balance_server(struct conn *c, const int64_t *avoid,
    size_t navoid);

/* The sticky cookie's value of a server, and whether one is signed by
 * this appliance's secret (balance_secret.c). balance_secret_load()
 * reads the secret from the database, making it the first time, and
 * makes it the live one: before the first snapshot is compiled, and
 * after a restore. 0 or -1 + <e> (the live secret unchanged).
 */
struct store;
struct err;
int balance_secret_load(struct store *st, struct err *e);
void balance_sticky_tag(int64_t origin_id, const char *label,
    unsigned char out[BALANCE_STICKY_LEN]);
bool balance_sticky_signed(const unsigned char v[BALANCE_STICKY_LEN]);
/* <n> lowercase hex digits into <outn> = n / 2 bytes: 0, or -1. */
int balance_unhex(const char *p, size_t n, unsigned char *out, size_t outn);

struct upstream_pools;
/* The server for an L4 connection or UDP session of <client> (its
 * address as the PROXY header gave it, if any): balance "hash" hashes
 * the client's address whatever hash_key says (an L4 stream has no
 * header, cookie or path), the other balances choose as for a request.
 * Never one of <avoid>; NULL when none is left. balance_key.c.
 */
const struct cfg_server *balance_l4_server(struct upstream_pools *p,
    const struct cfg_origin *o, const struct sockaddr_storage *client,
    const int64_t *avoid, size_t navoid);

/* Sticky sessions (balance_key.c): the Set-Cookie line ("Set-Cookie:
 * ...\r\n") naming the server of <c>'s request, when its origin is
 * sticky and the request did not already name it, into <buf>; returns
 * its length, 0 for none.
 */
size_t balance_sticky_header(const struct conn *c, char *buf, size_t len);

/* Passive health (balance_passive.c): server <s> answered a request
 * with <status>, or failed it (connect error, timeout, reset, bad
 * response). No-ops unless its origin has passive_health.
 */
void balance_passive_status(const struct cfg_server *s, unsigned status);
void balance_passive_failure(const struct cfg_server *s);

/* Retries (balance_retry.c). balance_retry_count(): a request of <rt>
 * (adds to its budget). balance_retry(): the request of <c> failed on its
 * server for <why> (an enum upstream_fail); 0 when it was sent again, -1 when
 * it is not to be (then the caller answers as without retries).
 */
void balance_retry_count(const struct cfg_route *rt);
int balance_retry(struct conn *c, int why);
/* The server answered the request of <c> with <status>: true when that
 * status is to be retried (listed in "on", safe to repeat, a try and
 * budget left, a server not tried yet), the server for it kept in
 * c->req->retry_to: the caller drops the answer unseen and has
 * balance_retry_dropped() send the request there (0, or -1 as
 * proxy_resend()).
 */
bool balance_retry_status(struct conn *c, unsigned status);
int balance_retry_dropped(struct conn *c);

/* No server is open for the request of <c>: parks it in its origin's
 * queue (balance_queue.c) to start again through proxy_start() when one
 * is, or to get 503 after the queue's timeout. 0 when parked; -1 when
 * it cannot wait (no queue, full, a body still streaming): the caller
 * answers 503.
 */
int balance_queue_park(struct conn *c);

#endif
