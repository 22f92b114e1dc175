/*
 * server_live.h: the live state of every origin server, shared by all
 * workers: requests in flight and a latency EWMA.
 *
 * Like health states, it sits in a table keyed by the server's stable
 * id that grows with the configuration (idtab.h), outlives every
 * snapshot and is read and written with relaxed atomics only; the
 * publisher makes the slots of a snapshot before workers get it, so the
 * request path only looks them up (no lock). In flight counts
 * origin connections owned by a request (upstream.c), tunnels included;
 * the EWMA is the time from sending a request head to the response head,
 * learnt from every response (proxy.c).
 */
#ifndef GH_SERVER_LIVE_H
#define GH_SERVER_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A latency sample older than this no longer counts: a server that got
 * no traffic for a while is tried again (its EWMA reads as unknown).
 */
#define SERVER_LIVE_STALE_US 10000000ull

struct server_live_info {
	unsigned inflight;
	uint64_t ewma_us;      /* 0: no recent sample */
	uint64_t picks;        /* requests sent to it since start */
	uint64_t ejections;    /* passive health, since start */
	uint64_t ejected_ms;   /* ejected for this much longer; 0: not */
	unsigned failures_run; /* failures in a row */
};

/* In flight on server <id>: one more, one fewer. Thread: any. */
void server_live_begin(int64_t id);
void server_live_end(int64_t id);
/* A response head came <us> microseconds after the request. */
void server_live_latency(int64_t id, uint64_t us);

/* Requests in flight on <id> (0 when never seen). Lock-free. */
unsigned server_live_inflight(int64_t id);
/* Its latency EWMA in microseconds, 0 when unknown or stale. */
uint64_t server_live_ewma(int64_t id);
/* All of it; false when the id was never seen. */
bool server_live_get(int64_t id, struct server_live_info *out);

/* Server <id> became usable now (back up, enabled): slow start begins
 * again. Thread: any.
 */
void server_live_restart(int64_t id);
/* When it last became usable (monotonic us); 0 when never. */
uint64_t server_live_since(int64_t id);

struct cfg;
/* Makes the slots of every server, origin and route with retries of
 * <c>, before the workers get it. Thread: the publisher.
 */
void server_live_prepare(const struct cfg *c);
/* Ids with a slot (servers, origins' queues, routes' budgets). */
size_t server_live_count(void);

/* Takes note of every server of <c>: a server new to the table, or
 * active again after drain or disabled, starts its slow start now.
 * Thread: the publisher.
 */
void server_live_reconcile(const struct cfg *c);

/* One more request waiting in origin <origin_id>'s queue, unless <max>
 * already wait: false then. Thread: any.
 */
bool server_live_queue_enter(int64_t origin_id, unsigned max);
void server_live_queue_leave(int64_t origin_id);
/* Requests waiting in origin <origin_id>'s queue. */
unsigned server_live_queued(int64_t origin_id);

/* Passive health. A response that is not a failure resets the run of
 * failures; server_live_failure() counts one and returns the run.
 */
void server_live_success(int64_t id);
unsigned server_live_failure(int64_t id);
/* Is <id> ejected at <now> (server_live_now_us())? */
bool server_live_ejected(int64_t id, uint64_t now);
/* Ejects <id> from <now> for <base_s> seconds, doubled for each
 * ejection that follows the end of the previous one within 3 x base_s
 * (at most 1024 x); returns the seconds.
 */
unsigned server_live_eject(int64_t id, unsigned base_s, uint64_t now);

/* A budget of route <route_id> (retries), in hundredths; it starts full
 * at <cap>. budget_add() puts <n> back, budget_take() takes <n> when
 * there is that much.
 */
void server_live_budget_add(int64_t route_id, unsigned n);
bool server_live_budget_take(int64_t route_id, unsigned n, unsigned cap);

/* Monotonic microseconds (the clock of the samples). */
uint64_t server_live_now_us(void);

#endif
