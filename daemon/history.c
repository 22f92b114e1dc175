/*
 * history.c: per-minute counts for the last 24 hours (see history.h).
 *
 * The ring and the counters as they stood when the current minute began
 * (the base, one sorted array per kind, in stats_foreach()'s id order)
 * are guarded by h->mu: the main loop's timer and the API thread tick.
 * A tick copies the cumulative counters (stats_foreach(), which takes the
 * stats mutex for the copy only), subtracts the base walking both arrays
 * in id order, and rewrites the current minute's slot whole; nothing in
 * it is added to in place, so a tick can be repeated at will.
 */
#include "history.h"

#include <sys/time.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "check.h"
#include "log.h"
#include "stats.h"

/* One object's cumulative counters. */
struct history_cum {
	int64_t id;
	uint64_t status[6], unmatched, conns, bytes_in, bytes_out, time_us;
};

struct history_vec {
	struct history_cum *v;
	size_t n, cap;
	int oom;
};

struct history {
	pthread_mutex_t mu;
	int64_t cur;   /* the current minute; -1 before the first tick */
	int64_t since; /* the first minute ticked */
	struct history_vec base[HISTORY__KINDS];
	struct history_slot *ring; /* HISTORY_MINUTES, slot m % that */
};

static const enum stats_kind history_stats_kind[HISTORY__KINDS] = {
	[HISTORY_LISTENER] = STATS_LISTENER,
	[HISTORY_ROUTE] = STATS_ROUTE,
};

struct history *
history_new(void)
{
	struct history *h;
	size_t i;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	if ((h->ring = calloc(HISTORY_MINUTES, sizeof(*h->ring))) == NULL) {
		free(h);
		return NULL;
	}
	for (i = 0; i < HISTORY_MINUTES; i++)
		h->ring[i].minute = -1;
	h->cur = h->since = -1;
	pthread_mutex_init(&h->mu, NULL);
	return h;
}

void
history_free(struct history *h)
{
	size_t k;

	if (h == NULL)
		return;
	for (k = 0; k < HISTORY__KINDS; k++)
		free(h->base[k].v);
	free(h->ring);
	pthread_mutex_destroy(&h->mu);
	free(h);
}

uint64_t
history_weight(const struct history_counts *c)
{
	uint64_t w = (uint64_t)c->unmatched + c->conns;
	size_t i;

	for (i = 0; i < 6; i++)
		w += c->status[i];
	return w;
}

static void
history_collect(const struct stats_obj *so, void *arg)
{
	struct history_vec *v = arg;
	struct history_cum *c;
	size_t i, cap;

	if (v->oom)
		return;
	if (v->n == v->cap) {
		cap = v->cap ? v->cap * 2 : 64;
		if ((c = realloc(v->v, cap * sizeof(*c))) == NULL) {
			v->oom = 1;
			return;
		}
		v->v = c;
		v->cap = cap;
	}
	c = &v->v[v->n++];
	c->id = so->id;
	for (i = 0; i < 6; i++)
		c->status[i] =
		    atomic_load_explicit(&so->status[i], memory_order_relaxed);
	c->unmatched =
	    atomic_load_explicit(&so->unmatched, memory_order_relaxed);
	c->conns = atomic_load_explicit(&so->requests, memory_order_relaxed);
	c->bytes_in = atomic_load_explicit(&so->bytes_in, memory_order_relaxed);
	c->bytes_out =
	    atomic_load_explicit(&so->bytes_out, memory_order_relaxed);
	c->time_us = atomic_load_explicit(&so->time_us, memory_order_relaxed);
}

/* a - b, as a per-minute count (a counter only grows; 0 if it did not) */
static uint32_t
history_d32(uint64_t a, uint64_t b)
{
	uint64_t d = a > b ? a - b : 0;

	return d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

static uint64_t
history_d64(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static void
history_delta(struct history_counts *d, const struct history_cum *now,
    const struct history_cum *then, enum history_kind kind)
{
	static const struct history_cum zero;
	size_t i;

	if (then == NULL)
		then = &zero;
	for (i = 0; i < 6; i++)
		d->status[i] = history_d32(now->status[i], then->status[i]);
	d->unmatched = history_d32(now->unmatched, then->unmatched);
	/* a route's "requests" are the ones routed, not connections */
	d->conns =
	    kind == HISTORY_LISTENER ? history_d32(now->conns, then->conns) : 0;
	d->bytes_in = history_d64(now->bytes_in, then->bytes_in);
	d->bytes_out = history_d64(now->bytes_out, then->bytes_out);
	d->time_us = history_d64(now->time_us, then->time_us);
}

void
history_counts_add(struct history_counts *into, const struct history_counts *c)
{
	size_t i;

	for (i = 0; i < 6; i++)
		into->status[i] += c->status[i];
	into->unmatched += c->unmatched;
	into->conns += c->conns;
	into->bytes_in += c->bytes_in;
	into->bytes_out += c->bytes_out;
	into->time_us += c->time_us;
}

static int
history_cmp_weight(const void *a, const void *b)
{
	const struct history_entry *x = a, *y = b;
	uint64_t wx = history_weight(&x->n), wy = history_weight(&y->n);

	if (wx != wy)
		return wx > wy ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int
history_nonzero(const struct history_counts *c)
{
	return history_weight(c) != 0 || c->bytes_in != 0 || c->bytes_out != 0;
}

/* Rewrites <s> with now[] - base[]: the objects that counted anything,
 * the busiest HISTORY_SLOT_OBJS of them kept, the rest summed by kind.
 */
static int
history_fill(struct history *h, struct history_slot *s,
    const struct history_vec *now)
{
	struct history_entry *all = NULL, *e;
	size_t n = 0, max = 0, k, i, j;

	for (k = 0; k < HISTORY__KINDS; k++)
		max += now[k].n;
	if (max > 0 && (all = calloc(max, sizeof(*all))) == NULL)
		return -1;
	for (k = 0; k < HISTORY__KINDS; k++) {
		const struct history_vec *b = &h->base[k];

		/* both in id order: walk them together */
		for (i = 0, j = 0; i < now[k].n; i++) {
			while (j < b->n && b->v[j].id < now[k].v[i].id)
				j++;
			e = &all[n];
			e->id = now[k].v[i].id;
			e->kind = (enum history_kind)k;
			history_delta(&e->n, &now[k].v[i],
			    j < b->n && b->v[j].id == e->id ? &b->v[j] : NULL,
			    e->kind);
			if (history_nonzero(&e->n))
				n++;
		}
	}
	if (n > HISTORY_SLOT_OBJS)
		qsort(all, n, sizeof(*all), history_cmp_weight);
	memset(s->other, 0, sizeof(s->other));
	s->n = 0;
	for (i = 0; i < n; i++) {
		if (i < HISTORY_SLOT_OBJS)
			s->e[s->n++] = all[i];
		else
			history_counts_add(&s->other[all[i].kind], &all[i].n);
	}
	free(all);
	return 0;
}

static void
history_clear(struct history_slot *s, int64_t minute)
{
	memset(s, 0, sizeof(*s));
	s->minute = minute;
}

static struct history_slot *
history_slot(struct history *h, int64_t minute)
{
	return &h->ring[minute % HISTORY_MINUTES];
}

/* Caller holds h->mu. */
static int
history_tick_locked(struct history *h, time_t now)
{
	struct history_vec cum[HISTORY__KINDS];
	int64_t m = (int64_t)now / 60, k;
	size_t i;
	int rc = -1;

	if (now < 0)
		m = 0;
	memset(cum, 0, sizeof(cum));
	for (i = 0; i < HISTORY__KINDS; i++) {
		stats_foreach(history_stats_kind[i], history_collect, &cum[i]);
		if (cum[i].oom)
			goto out;
	}
	if (h->cur < 0) { /* the first tick: where the counters stand */
		h->cur = h->since = m;
		history_clear(history_slot(h, m), m);
	} else {
		if (m < h->cur) /* the clock went back */
			m = h->cur;
		if (history_fill(h, history_slot(h, h->cur), cum) == -1)
			goto out;
		if (m == h->cur) {
			rc = 0;
			goto out;
		}
		/* no tick saw the minutes in between (the loop was held up,
		 * or the wall clock jumped): gaps; at most a day of them
		 */
		for (k = m - h->cur > HISTORY_MINUTES ? m - HISTORY_MINUTES + 1
		                                      : h->cur + 1;
		     k < m; k++)
			history_clear(history_slot(h, k), -1);
		history_clear(history_slot(h, m), m);
		h->cur = m;
	}
	for (i = 0; i < HISTORY__KINDS; i++) { /* the new minute's base */
		struct history_vec t = h->base[i];

		h->base[i] = cum[i];
		cum[i] = t;
	}
	rc = 0;
out:
	for (i = 0; i < HISTORY__KINDS; i++)
		free(cum[i].v);
	return rc;
}

int
history_tick(struct history *h, time_t now)
{
	int rc;

	pthread_mutex_lock(&h->mu);
	rc = history_tick_locked(h, now);
	pthread_mutex_unlock(&h->mu);
	return rc;
}

int64_t
history_read(struct history *h, time_t now, unsigned nmin,
    struct history_slot *out, int64_t *since)
{
	const struct history_slot *s;
	int64_t m, first, i;

	ASSERT(nmin >= 1 && nmin <= HISTORY_MINUTES);
	pthread_mutex_lock(&h->mu);
	if (history_tick_locked(h, now) == -1) {
		pthread_mutex_unlock(&h->mu);
		return -1;
	}
	m = h->cur;
	first = m - (int64_t)nmin + 1;
	for (i = 0; i < (int64_t)nmin; i++) {
		if (first + i < 0 ||
		    (s = history_slot(h, first + i))->minute != first + i)
			history_clear(&out[i], -1);
		else
			out[i] = *s;
	}
	*since = h->since;
	pthread_mutex_unlock(&h->mu);
	return m;
}

/* ---- the daemon's own, on the main loop ---- */

static _Atomic(struct history *) history_global;
static struct event *history_ev;

/* Arms the timer for 50 ms after the next minute begins. */
static void
history_arm(void)
{
	struct timespec ts;
	struct timeval tv;
	int64_t ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	ms = 60000 - ((int64_t)(ts.tv_sec % 60) * 1000 + ts.tv_nsec / 1000000) +
	    50;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	if (evtimer_add(history_ev, &tv) == -1)
		log_warn("history: cannot arm the minute timer");
}

static void
history_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct history *h = arg;

	if (history_tick(h, time(NULL)) == -1)
		log_warn("history: out of memory: this minute is not kept");
	history_arm();
}

int
history_timer_start(struct event_base *base)
{
	struct history *h;

	if ((h = history_new()) == NULL)
		return -1;
	if ((history_ev = evtimer_new(base, history_on_timer, h)) == NULL) {
		history_free(h);
		return -1;
	}
	(void)history_tick(h, time(NULL));
	atomic_store(&history_global, h);
	history_arm();
	return 0;
}

/* After the API stopped: nothing reads it any more. */
void
history_timer_stop(void)
{
	struct history *h = atomic_exchange(&history_global, NULL);

	if (history_ev != NULL) {
		event_free(history_ev);
		history_ev = NULL;
	}
	history_free(h);
}

struct history *
history_main(void)
{
	return atomic_load(&history_global);
}
