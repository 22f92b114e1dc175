/*
 * balance.c: server choice (balance.h).
 *
 * A choice first lists the candidates (not avoided; healthy when any
 * is), then applies the origin's algorithm to them. Live state (in
 * flight, latency) comes from server_live.c; nothing here locks or
 * allocates.
 */
#include "balance.h"

#include <time.h>

#include "server_live.h"

#define BAL_MAX 1000 /* servers of an origin (the field table's max) */

/* Weights are scaled by this, so a slow start can ramp a weight of 1. */
#define BAL_W 1000u

struct cands {
	uint16_t i[BAL_MAX]; /* index in o->servers */
	uint32_t w[BAL_MAX]; /* its weight now (x BAL_W, slow start) */
	size_t n;
};

static _Thread_local uint64_t bal_rng;

/* xorshift64*: enough for spreading requests, not for secrets. */
static uint64_t
bal_rand(void)
{
	uint64_t x = bal_rng;

	if (x == 0) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		x = balance_hash(&ts, sizeof(ts),
		    (uint64_t)(uintptr_t)&bal_rng);
		if (x == 0)
			x = 0x9e3779b97f4a7c15ull;
	}
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	bal_rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

static uint64_t
bal_mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

uint64_t
balance_hash(const void *p, size_t n, uint64_t seed)
{
	const unsigned char *b = p;
	uint64_t h = 0xcbf29ce484222325ull ^ bal_mix(seed);
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return bal_mix(h);
}

static bool
bal_avoided(int64_t id, const struct balance_req *br)
{
	size_t j;

	for (j = 0; j < br->navoid; j++)
		if (br->avoid[j] == id)
			return true;
	return false;
}

/* The weight of <s> now: during its slow start, a share of its weight
 * growing with the time since it became usable (a tenth at first).
 */
static uint32_t
bal_weight(const struct cfg_server *s, uint64_t *now)
{
	uint64_t w = (uint64_t)s->weight * BAL_W, ramp, since, el;

	if (s->slow_start_s == 0)
		return (uint32_t)w;
	since = server_live_since(s->id);
	if (*now == 0)
		*now = server_live_now_us();
	ramp = (uint64_t)s->slow_start_s * 1000000u;
	el = *now > since ? *now - since : 0;
	if (since == 0 || el >= ramp)
		return (uint32_t)w;
	w = w * el / ramp;
	return (uint32_t)(w < s->weight * (BAL_W / 10)
	        ? s->weight * (BAL_W / 10)
	        : w);
}

/* May server <s> take a new request at all? Not in drain or disabled,
 * not ejected by passive health, not at its max_connections.
 */
static bool
bal_open(const struct cfg_server *s)
{
	if (s->state != CFG_SERVER_ACTIVE)
		return false;
	if (s->origin != NULL && s->origin->ph_failures != 0 &&
	    server_live_ejected(s->id, server_live_now_us()))
		return false; /* passive health */
	return s->max_connections == 0 ||
	    server_live_inflight(s->id) < s->max_connections;
}

/* The servers this request may go to; none when all are avoided. */
static void
bal_candidates(const struct cfg_origin *o, balance_usable_fn usable,
    const struct balance_req *br, struct cands *c)
{
	bool healthy_only = o->health.enabled && usable != NULL;
	uint64_t now = 0;
	size_t i;

again:
	c->n = 0;
	for (i = 0; i < o->nservers && i < BAL_MAX; i++) {
		const struct cfg_server *s = &o->servers[i];

		if (bal_avoided(s->id, br) || !bal_open(s))
			continue;
		if (healthy_only && !usable(s->id))
			continue;
		c->i[c->n] = (uint16_t)i;
		c->w[c->n++] = bal_weight(s, &now);
	}
	if (c->n == 0 && healthy_only) {
		healthy_only = false; /* none healthy (or they were avoided) */
		goto again;
	}
}

/* Smooth weighted round-robin over idx[0..n) of weights w[0..n). */
static long
bal_wrr(long *cw, const uint16_t *idx, const uint32_t *w, size_t n)
{
	long total = 0;
	size_t k, best = SIZE_MAX;

	for (k = 0; k < n; k++) {
		size_t i = idx[k];

		cw[i] += (long)w[k];
		total += (long)w[k];
		if (best == SIZE_MAX || cw[i] > cw[best])
			best = i;
	}
	if (best == SIZE_MAX)
		return -1;
	cw[best] -= total;
	return (long)best;
}

/* Fewest in flight per weight; the tied ones round-robin. */
static long
bal_least_conn(const struct cfg_origin *o, long *cw, struct cands *c)
{
	uint64_t bi = 0, bw = 1, in, w;
	size_t k, nt = 0;

	for (k = 0; k < c->n; k++) {
		const struct cfg_server *s = &o->servers[c->i[k]];

		in = (uint64_t)server_live_inflight(s->id) + 1;
		w = c->w[k];
		/* in / w against bi / bw */
		if (nt == 0 || in * bw < bi * w) {
			bi = in;
			bw = w;
			nt = 0;
		} else if (in * bw > bi * w) {
			continue;
		}
		c->i[nt] = c->i[k]; /* k >= nt: kept in place */
		c->w[nt++] = c->w[k];
	}
	return bal_wrr(cw, c->i, c->w, nt);
}

/* Power of two choices: latency EWMA times (in flight + 1), per weight;
 * an unknown (or stale) EWMA takes the other's, so a new server is
 * judged by in flight alone and gets its first samples.
 */
static long
bal_p2c(const struct cfg_origin *o, const struct cands *c)
{
	const struct cfg_server *a, *b;
	uint64_t ea, eb, ca, cb;
	size_t x, y;

	if (c->n == 1)
		return c->i[0];
	x = (size_t)(bal_rand() % c->n);
	y = (size_t)(bal_rand() % (c->n - 1));
	if (y >= x)
		y++;
	a = &o->servers[c->i[x]];
	b = &o->servers[c->i[y]];
	ea = server_live_ewma(a->id);
	eb = server_live_ewma(b->id);
	if (ea == 0)
		ea = eb != 0 ? eb : 1;
	if (eb == 0)
		eb = ea;
	ca = ea * ((uint64_t)server_live_inflight(a->id) + 1) * c->w[y];
	cb = eb * ((uint64_t)server_live_inflight(b->id) + 1) * c->w[x];
	return c->i[cb < ca ? y : x];
}

/* -ln(u) for u = h / 2^64 in (0, 1), to about 1e-7. */
static double
bal_neg_ln(uint64_t h)
{
	const double ln2 = 0.69314718055994530942;
	int k;
	double f, y, y2, ln1pf;

	h |= 1;
	k = 63 - __builtin_clzll(h);               /* h = 2^k (1 + f) */
	f = (double)h / (double)(1ull << k) - 1.0; /* [0, 1) */
	y = f / (2.0 + f);                         /* [0, 1/3) */
	y2 = y * y;
	ln1pf = 2.0 * y *
	    (1.0 + y2 * (1.0 / 3 + y2 * (1.0 / 5 + y2 * (1.0 / 7 + y2 / 9))));
	f = (64 - k) * ln2 - ln1pf;
	return f > 1e-300 ? f : 1e-300;
}

/* Weighted rendezvous hashing: the highest weight / -ln(u) wins. */
static long
bal_hash(const struct cfg_origin *o, const struct cands *c, uint64_t key)
{
	double best = -1, score;
	size_t k;
	long bi = -1;

	for (k = 0; k < c->n; k++) {
		const struct cfg_server *s = &o->servers[c->i[k]];
		uint64_t u = bal_mix(key ^ s->hash);

		score = (double)c->w[k] / bal_neg_ln(u);
		if (score > best) {
			best = score;
			bi = c->i[k];
		}
	}
	return bi;
}

static long
bal_random(const struct cfg_origin *o, const struct cands *c)
{
	uint64_t total = 0, r;
	size_t k;

	for (k = 0; k < c->n; k++)
		total += c->w[k];
	r = bal_rand() % total;
	for (k = 0; k < c->n; k++) {
		if (r < c->w[k])
			return c->i[k];
		r -= c->w[k];
	}
	return c->i[c->n - 1];
}

long
balance_choose(const struct cfg_origin *o, long *cw, balance_usable_fn usable,
    const struct balance_req *br)
{
	static const struct balance_req none;
	struct cands c;

	if (br == NULL)
		br = &none;
	bal_candidates(o, usable, br, &c);
	if (c.n == 0)
		return -1;
	switch (o->balance) {
	case CFG_BALANCE_LEAST_CONN:
		return bal_least_conn(o, cw, &c);
	case CFG_BALANCE_P2C:
		return bal_p2c(o, &c);
	case CFG_BALANCE_HASH:
		if (br->has_key)
			return bal_hash(o, &c, br->key);
		break;
	case CFG_BALANCE_RANDOM:
		return bal_random(o, &c);
	case CFG_BALANCE_ROUND_ROBIN:
		break;
	}
	return bal_wrr(cw, c.i, c.w, c.n);
}

long
balance_pick(const struct cfg_origin *o, long *cw, balance_usable_fn usable,
    const int64_t *avoid, size_t navoid)
{
	struct balance_req br = { .avoid = avoid, .navoid = navoid };
	struct cands c;

	bal_candidates(o, usable, &br, &c);
	return bal_wrr(cw, c.i, c.w, c.n);
}

bool
balance_server_open(const struct cfg_server *s, balance_usable_fn usable)
{
	return bal_open(s) &&
	    (!s->origin->health.enabled || usable == NULL || usable(s->id));
}
