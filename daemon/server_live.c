/*
 * server_live.c: per-server live state shared by the workers
 * (server_live.h).
 *
 * Slots sit in a growing table keyed by id (idtab.c, as health.c's):
 * workers find them with a lock-free probe and change only their
 * atomics. The publisher makes the slots of every server, origin and
 * route with retries of a snapshot before the workers get it
 * (server_live_prepare()), so the request path only looks them up; an
 * id it has no slot for (a route created since the last full compile)
 * is added on its first use, under the table's mutex, once. The EWMA
 * gives each new sample a weight of 1/4 and is updated with a
 * compare-and-swap loop, so two workers' samples are both counted.
 */
#include "server_live.h"

#include <stdatomic.h>
#include <stddef.h>
#include <time.h>

#include "cfg.h"
#include "cfg_rseq.h"
#include "idtab.h"

struct live_slot {
	_Atomic unsigned inflight;
	_Atomic uint64_t ewma_us;
	_Atomic uint64_t sampled_us; /* when the last sample came */
	_Atomic uint64_t picks;
	_Atomic uint64_t since_us; /* became usable */
	_Atomic int state;         /* enum cfg_server_state last published */
	_Atomic unsigned fails;    /* failures in a row */
	_Atomic uint64_t ejected_until, eject_end; /* us; 0: never */
	_Atomic unsigned backoff;                  /* ejections in a row */
	_Atomic uint64_t ejections;
};

/* Origins' queues and routes' retry budgets share the table: their ids
 * with bit 62 or 61 set never meet a server id. A budget slot's inflight
 * holds what is spent (0: full), so a new slot starts full.
 */
#define LIVE_ORIGIN (1ll << 62)
#define LIVE_ROUTE  (1ll << 61)

static struct idtab live_tab =
    IDTAB_INIT("server live state", sizeof(struct live_slot));

static struct live_slot *
live_find(int64_t id, bool create)
{
	struct live_slot *s = idtab_get(&live_tab, id);

	if (s == NULL && create)
		s = idtab_add(&live_tab, id);
	return s;
}

uint64_t
server_live_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void
server_live_begin(int64_t id)
{
	struct live_slot *s = live_find(id, true);

	if (s == NULL)
		return;
	atomic_fetch_add_explicit(&s->inflight, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->picks, 1, memory_order_relaxed);
}

void
server_live_end(int64_t id)
{
	struct live_slot *s = live_find(id, false);
	unsigned cur;

	if (s == NULL)
		return;
	cur = atomic_load_explicit(&s->inflight, memory_order_relaxed);
	while (cur > 0 &&
	    !atomic_compare_exchange_weak_explicit(&s->inflight, &cur, cur - 1,
	        memory_order_relaxed, memory_order_relaxed))
		;
}

void
server_live_latency(int64_t id, uint64_t us)
{
	struct live_slot *s = live_find(id, true);
	uint64_t now = server_live_now_us(), cur, next, last;

	if (s == NULL)
		return;
	if (us == 0)
		us = 1; /* 0 means "unknown" */
	last = atomic_load_explicit(&s->sampled_us, memory_order_relaxed);
	cur = atomic_load_explicit(&s->ewma_us, memory_order_relaxed);
	do {
		if (cur == 0 || now - last > SERVER_LIVE_STALE_US)
			next = us; /* the first sample, or a fresh start */
		else
			next = cur - cur / 4 + us / 4;
		if (next == 0)
			next = 1;
	} while (!atomic_compare_exchange_weak_explicit(&s->ewma_us, &cur, next,
	    memory_order_relaxed, memory_order_relaxed));
	atomic_store_explicit(&s->sampled_us, now, memory_order_relaxed);
}

unsigned
server_live_inflight(int64_t id)
{
	struct live_slot *s = live_find(id, false);

	return s == NULL
	    ? 0
	    : atomic_load_explicit(&s->inflight, memory_order_relaxed);
}

uint64_t
server_live_ewma(int64_t id)
{
	struct live_slot *s = live_find(id, false);
	uint64_t last;

	if (s == NULL)
		return 0;
	last = atomic_load_explicit(&s->sampled_us, memory_order_relaxed);
	if (server_live_now_us() - last > SERVER_LIVE_STALE_US)
		return 0;
	return atomic_load_explicit(&s->ewma_us, memory_order_relaxed);
}

bool
server_live_get(int64_t id, struct server_live_info *out)
{
	struct live_slot *s = live_find(id, false);

	if (s == NULL)
		return false;
	out->inflight =
	    atomic_load_explicit(&s->inflight, memory_order_relaxed);
	out->ewma_us = server_live_ewma(id);
	out->picks = atomic_load_explicit(&s->picks, memory_order_relaxed);
	out->ejections = atomic_load(&s->ejections);
	out->failures_run = atomic_load(&s->fails);
	{
		uint64_t until = atomic_load(&s->ejected_until),
		         now = server_live_now_us();

		out->ejected_ms = until > now ? (until - now) / 1000 : 0;
	}
	return true;
}

void
server_live_restart(int64_t id)
{
	struct live_slot *s = live_find(id, true);

	if (s != NULL)
		atomic_store_explicit(&s->since_us, server_live_now_us(),
		    memory_order_relaxed);
}

uint64_t
server_live_since(int64_t id)
{
	struct live_slot *s = live_find(id, false);

	return s == NULL
	    ? 0
	    : atomic_load_explicit(&s->since_us, memory_order_relaxed);
}

void
server_live_prepare(const struct cfg *c)
{
	struct cfg_rseq_it it;
	const struct cfg_route *r;
	size_t i, j;

	/* A route write's snapshot shares its base's origins, prepared
	 * when the base was published.
	 */
	if (c->base != NULL)
		return;
	for (i = 0; i < c->norigins; i++) {
		(void)live_find(c->origins[i].id | LIVE_ORIGIN, true);
		for (j = 0; j < c->origins[i].nservers; j++)
			(void)live_find(c->origins[i].servers[j].id, true);
	}
	it = cfg_rseq_begin(&c->routes);
	while ((r = cfg_rseq_next(&it)) != NULL)
		if (r->retry_attempts > 0)
			(void)live_find(r->id | LIVE_ROUTE, true);
}

size_t
server_live_count(void)
{
	return idtab_count(&live_tab);
}

void
server_live_reconcile(const struct cfg *c)
{
	uint64_t now = server_live_now_us();
	struct live_slot *s;
	size_t i, j;
	int prev;

	for (i = 0; i < c->norigins; i++)
		for (j = 0; j < c->origins[i].nservers; j++) {
			const struct cfg_server *sv = &c->origins[i].servers[j];

			if ((s = live_find(sv->id, true)) == NULL)
				continue;
			prev = atomic_exchange(&s->state, (int)sv->state);
			if (atomic_load(&s->since_us) == 0 ||
			    (prev != CFG_SERVER_ACTIVE &&
			        sv->state == CFG_SERVER_ACTIVE))
				atomic_store(&s->since_us, now);
		}
}

bool
server_live_queue_enter(int64_t origin_id, unsigned max)
{
	struct live_slot *s = live_find(origin_id | LIVE_ORIGIN, true);
	unsigned cur;

	if (s == NULL)
		return false;
	cur = atomic_load_explicit(&s->inflight, memory_order_relaxed);
	do {
		if (cur >= max)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(&s->inflight, &cur,
	    cur + 1, memory_order_relaxed, memory_order_relaxed));
	return true;
}

void
server_live_queue_leave(int64_t origin_id)
{
	server_live_end(origin_id | LIVE_ORIGIN);
}

unsigned
server_live_queued(int64_t origin_id)
{
	return server_live_inflight(origin_id | LIVE_ORIGIN);
}

void
server_live_success(int64_t id)
{
	struct live_slot *s = live_find(id, false);

	if (s != NULL &&
	    atomic_load_explicit(&s->fails, memory_order_relaxed) != 0)
		atomic_store_explicit(&s->fails, 0, memory_order_relaxed);
}

unsigned
server_live_failure(int64_t id)
{
	struct live_slot *s = live_find(id, true);

	return s == NULL
	    ? 0
	    : atomic_fetch_add_explicit(&s->fails, 1, memory_order_relaxed) + 1;
}

bool
server_live_ejected(int64_t id, uint64_t now)
{
	struct live_slot *s = live_find(id, false);

	return s != NULL &&
	    atomic_load_explicit(&s->ejected_until, memory_order_relaxed) > now;
}

unsigned
server_live_eject(int64_t id, unsigned base_s, uint64_t now)
{
	struct live_slot *s = live_find(id, true);
	unsigned k, secs;
	uint64_t end;

	if (s == NULL)
		return 0;
	end = atomic_load(&s->eject_end);
	k = atomic_load(&s->backoff);
	if (end == 0 || now > end + (uint64_t)base_s * 3000000u)
		k = 0; /* a while since the last one: start over */
	secs = base_s << (k < 10 ? k : 10);
	end = now + (uint64_t)secs * 1000000u;
	atomic_store(&s->ejected_until, end);
	atomic_store(&s->eject_end, end);
	atomic_store(&s->backoff, k + 1);
	atomic_store(&s->fails, 0);
	atomic_fetch_add(&s->ejections, 1);
	return secs;
}

void
server_live_budget_add(int64_t route_id, unsigned n)
{
	struct live_slot *s = live_find(route_id | LIVE_ROUTE, false);
	unsigned cur;

	if (s == NULL)
		return;
	cur = atomic_load_explicit(&s->inflight, memory_order_relaxed);
	while (cur > 0 &&
	    !atomic_compare_exchange_weak_explicit(&s->inflight, &cur,
	        cur > n ? cur - n : 0, memory_order_relaxed,
	        memory_order_relaxed))
		;
}

bool
server_live_budget_take(int64_t route_id, unsigned n, unsigned cap)
{
	struct live_slot *s = live_find(route_id | LIVE_ROUTE, true);
	unsigned cur;

	if (s == NULL)
		return false;
	cur = atomic_load_explicit(&s->inflight, memory_order_relaxed);
	do {
		if (cur + n > cap)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(&s->inflight, &cur,
	    cur + n, memory_order_relaxed, memory_order_relaxed));
	return true;
}
