/*
 * ratelimit.c: rate limits and connections per client (ratelimit.h).
 */
#include "ratelimit.h"

#include <sys/random.h>

#include <netinet/in.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "access.h"
#include "arena.h"
#include "cfg_route_ref.h"
#include "conn.h"
#include "l4_route.h"
#include "stats.h"
#include "store.h"

#define RL_STRIPES 64u
#define RL_NONE    UINT32_MAX
/* Tokens are summed in doubles: ten 0.1s make 0.999...; a token is a
 * token within this much.
 */
#define RL_EPSILON 1e-9

/* One key's bucket; indices link the LRU list and the hash chain. */
struct rl_entry {
	uint64_t h;
	double tokens;
	int64_t last_ms;
	uint32_t prev, next; /* LRU: head is the most recent */
	uint32_t chain;      /* next in the hash bucket */
};

struct rl_stripe {
	pthread_mutex_t mu;
	struct rl_entry *e; /* room for <cap> */
	uint32_t cap, n;
	uint32_t *heads; /* hash buckets: entry index or RL_NONE */
	uint32_t mask;
	uint32_t lru_head, lru_tail;
};

struct rl_table {
	int64_t id;
	unsigned max_keys;
	_Atomic uint64_t keys;
	struct rl_stripe s[RL_STRIPES];
	struct rl_table *next;
};

static pthread_mutex_t rl_reg_mu = PTHREAD_MUTEX_INITIALIZER;
static struct rl_table *rl_reg; /* every table made; kept until exit */
static uint64_t rl_seed;
static pthread_once_t rl_seed_once = PTHREAD_ONCE_INIT;

static void
rl_seed_init(void)
{
	if (getrandom(&rl_seed, sizeof(rl_seed), 0) != sizeof(rl_seed))
		rl_seed = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull;
}

static uint64_t
rl_hash(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull ^ rl_seed;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (uint8_t)p[i]) * 0x100000001b3ull;
	/* splitmix64's finaliser spreads the bits over stripe and bucket */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 31;
	return h;
}

/* The shared table of limit <id> with room for <max_keys>, made on
 * first use. NULL: no memory.
 */
struct rl_table *
ratelimit_table(int64_t id, unsigned max_keys)
{
	struct rl_table *t;
	uint32_t cap, nb, i;
	size_t k;

	pthread_once(&rl_seed_once, rl_seed_init);
	pthread_mutex_lock(&rl_reg_mu);
	for (t = rl_reg; t != NULL; t = t->next)
		if (t->id == id && t->max_keys == max_keys)
			goto out;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		goto out;
	t->id = id;
	t->max_keys = max_keys;
	cap = (max_keys + RL_STRIPES - 1) / RL_STRIPES;
	for (nb = 1; nb < cap * 2; nb <<= 1)
		;
	for (k = 0; k < RL_STRIPES; k++) {
		struct rl_stripe *s = &t->s[k];

		pthread_mutex_init(&s->mu, NULL);
		s->cap = cap;
		s->mask = nb - 1;
		s->lru_head = s->lru_tail = RL_NONE;
		/* calloc: pages are touched only as keys arrive */
		s->e = calloc(cap, sizeof(*s->e));
		s->heads = malloc(nb * sizeof(*s->heads));
		if (s->e == NULL || s->heads == NULL) {
			while (1) {
				free(t->s[k].e);
				free(t->s[k].heads);
				if (k-- == 0)
					break;
			}
			free(t);
			t = NULL;
			goto out;
		}
		for (i = 0; i < nb; i++)
			s->heads[i] = RL_NONE;
	}
	t->next = rl_reg;
	rl_reg = t;
out:
	pthread_mutex_unlock(&rl_reg_mu);
	return t;
}

static void
lru_unlink(struct rl_stripe *s, uint32_t i)
{
	struct rl_entry *e = &s->e[i];

	if (e->prev != RL_NONE)
		s->e[e->prev].next = e->next;
	else
		s->lru_head = e->next;
	if (e->next != RL_NONE)
		s->e[e->next].prev = e->prev;
	else
		s->lru_tail = e->prev;
}

static void
lru_push(struct rl_stripe *s, uint32_t i)
{
	struct rl_entry *e = &s->e[i];

	e->prev = RL_NONE;
	e->next = s->lru_head;
	if (s->lru_head != RL_NONE)
		s->e[s->lru_head].prev = i;
	s->lru_head = i;
	if (s->lru_tail == RL_NONE)
		s->lru_tail = i;
}

static void
chain_unlink(struct rl_stripe *s, uint32_t i)
{
	uint32_t *p = &s->heads[s->e[i].h & s->mask];

	while (*p != RL_NONE && *p != i)
		p = &s->e[*p].chain;
	if (*p == i)
		*p = s->e[i].chain;
}

bool
ratelimit_take(const struct cfg_rate_limit *rl, const char *key, size_t len,
    int64_t now_ms, unsigned *remaining, unsigned *retry_s)
{
	struct rl_table *t = rl->table;
	struct rl_stripe *s;
	struct rl_entry *e;
	uint64_t h;
	uint32_t i;
	double per_ms = (double)rl->rate / ((double)rl->per_s * 1000.0);
	double need;
	bool ok;

	*remaining = 0;
	*retry_s = 0;
	if (t == NULL)
		return true; /* no memory for the table: fail open */
	h = rl_hash(key, len);
	s = &t->s[h >> 58]; /* the top 6 bits: RL_STRIPES == 64 */
	pthread_mutex_lock(&s->mu);
	for (i = s->heads[h & s->mask]; i != RL_NONE && s->e[i].h != h;
	     i = s->e[i].chain)
		;
	if (i == RL_NONE) {
		if (s->n < s->cap) {
			i = s->n++;
			atomic_fetch_add_explicit(&t->keys, 1,
			    memory_order_relaxed);
		} else {
			/* The least recently used key makes room. */
			i = s->lru_tail;
			lru_unlink(s, i);
			chain_unlink(s, i);
			stats_inc(STAT_RATE_LIMIT_DROPPED);
		}
		e = &s->e[i];
		e->h = h;
		e->tokens = rl->burst;
		e->last_ms = now_ms;
		e->chain = s->heads[h & s->mask];
		s->heads[h & s->mask] = i;
	} else {
		lru_unlink(s, i);
		e = &s->e[i];
	}
	lru_push(s, i);
	if (now_ms > e->last_ms) {
		e->tokens += (double)(now_ms - e->last_ms) * per_ms;
		if (e->tokens > rl->burst)
			e->tokens = rl->burst;
		e->last_ms = now_ms;
	}
	ok = e->tokens >= 1.0 - RL_EPSILON;
	if (ok)
		e->tokens = e->tokens > 1.0 ? e->tokens - 1.0 : 0.0;
	*remaining = e->tokens >= 1.0 ? (unsigned)e->tokens : 0;
	if (!ok) {
		need = (1.0 - e->tokens) / per_ms / 1000.0;
		*retry_s = (unsigned)need + ((double)(unsigned)need < need);
		if (*retry_s == 0)
			*retry_s = 1;
	}
	pthread_mutex_unlock(&s->mu);
	return ok;
}

bool
ratelimit_peek(const struct cfg_rate_limit *rl, const char *key, size_t len,
    int64_t now_ms, unsigned *remaining, unsigned *retry_s)
{
	struct rl_table *t = rl->table;
	struct rl_stripe *s;
	uint64_t h;
	uint32_t i;
	double per_ms = (double)rl->rate / ((double)rl->per_s * 1000.0);
	double tokens = rl->burst, need;

	*retry_s = 0;
	if (t != NULL) {
		h = rl_hash(key, len);
		s = &t->s[h >> 58];
		pthread_mutex_lock(&s->mu);
		for (i = s->heads[h & s->mask]; i != RL_NONE && s->e[i].h != h;
		     i = s->e[i].chain)
			;
		if (i != RL_NONE) {
			tokens = s->e[i].tokens;
			if (now_ms > s->e[i].last_ms)
				tokens +=
				    (double)(now_ms - s->e[i].last_ms) * per_ms;
			if (tokens > rl->burst)
				tokens = rl->burst;
		}
		pthread_mutex_unlock(&s->mu);
	}
	*remaining = tokens >= 1.0 ? (unsigned)tokens : 0;
	if (tokens >= 1.0 - RL_EPSILON)
		return true;
	need = (1.0 - tokens) / per_ms / 1000.0;
	*retry_s = (unsigned)need + ((double)(unsigned)need < need);
	if (*retry_s == 0)
		*retry_s = 1;
	return false;
}

uint64_t
ratelimit_keys(const struct cfg_rate_limit *rl)
{
	return rl->table != NULL
	    ? atomic_load_explicit(&rl->table->keys, memory_order_relaxed)
	    : 0;
}

int64_t
ratelimit_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct str
ratelimit_key(const struct cfg_rate_limit *rl, const struct http_msg *m,
    const struct cfg_route *route, const char *client, char buf[24])
{
	switch (rl->key) {
	case CFG_RL_KEY_HEADER:
		return http_msg_get(m, rl->header);
	case CFG_RL_KEY_ROUTE:
		snprintf(buf, 24, "%lld", (long long)route->id);
		return str_cstr(buf);
	default:
		return str_cstr(client);
	}
}

bool
ratelimit_admit(struct conn *c)
{
	struct req *r = c->req;
	const struct cfg_rate_limit *rl = r->route->rate_limit;
	struct str key;
	char hdr[256], id[24];
	unsigned remaining, retry, window;

	if (rl == NULL)
		return false;
	key = ratelimit_key(rl, &c->req->msg, r->route, r->client.text, id);
	if (ratelimit_take(rl, key.p != NULL ? key.p : "", key.len,
	        ratelimit_now_ms(), &remaining, &retry)) {
		r->rl_passed = true; /* ratelimit_headers() tells the client */
		r->rl_remaining = remaining;
		return false;
	}
	stats_inc(STAT_RATE_LIMITED);
	window = (unsigned)(((uint64_t)rl->burst * rl->per_s + rl->rate - 1) /
	    rl->rate);
	snprintf(hdr, sizeof(hdr),
	    "Retry-After: %u\r\n"
	    "RateLimit-Policy: \"%s\";q=%u;w=%u\r\n"
	    "RateLimit: \"%s\";r=%u;t=%u\r\n",
	    retry, rl->name, rl->burst, window, rl->name, remaining, retry);
	access_answer(c, 429, hdr, "rate_limit:exceeded");
	return true;
}

size_t
ratelimit_headers(const struct conn *c, char *buf, size_t cap)
{
	const struct req *r = c->req;
	const struct cfg_rate_limit *rl;
	unsigned window, full;
	int n;

	if (!r->rl_passed || r->route == NULL ||
	    (rl = r->route->rate_limit) == NULL || cap == 0)
		return 0;
	window = (unsigned)(((uint64_t)rl->burst * rl->per_s + rl->rate - 1) /
	    rl->rate);
	/* t: seconds until the bucket is full again (at most one token's
	 * time more than exact: remaining is rounded down)
	 */
	full = r->rl_remaining >= rl->burst
	    ? 0
	    : (unsigned)(((uint64_t)(rl->burst - r->rl_remaining) * rl->per_s +
	                     rl->rate - 1) /
	          rl->rate);
	n = snprintf(buf, cap,
	    "RateLimit-Policy: \"%s\";q=%u;w=%u\r\n"
	    "RateLimit: \"%s\";r=%u;t=%u\r\n",
	    rl->name, rl->burst, window, rl->name, r->rl_remaining, full);
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* ---- compile ---- */

static const struct {
	const char *name;
	unsigned s;
} rl_pers[] = { { "second", 1 }, { "minute", 60 }, { "hour", 3600 } };

static struct cfg_rate_limit *
rl_by_id(struct cfg *c, int64_t id)
{
	size_t lo = 0, hi = c->nrate_limits, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (c->rate_limits[mid].id == id)
			return &c->rate_limits[mid];
		if (c->rate_limits[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int
rl_rows(struct store *st, struct cfg *c, struct err *e)
{
	struct store_stmt *s;
	enum store_step_result r = STORE_ERROR;
	struct cfg_rate_limit *rl;
	const char *key, *per;
	char path[128];
	size_t n = 0, i;
	int rc = 0;

	if ((s = store_prepare(st, "SELECT count(*) FROM rate_limits", e)) ==
	    NULL)
		return -1;
	if (store_step(s, e) == STORE_ROW)
		n = (size_t)store_col_int64(s, 0);
	store_finalize(s);
	if (n == 0)
		return 0;
	if ((c->rate_limits = arena_calloc(c->arena, n, sizeof(*rl))) == NULL)
		return err_set(e, "", "out of memory");
	s = store_prepare(st,
	    "SELECT id, name, rate, per, coalesce(burst, rate), key, max_keys"
	    " FROM rate_limits ORDER BY id",
	    e);
	if (s == NULL)
		return -1;
	while (rc == 0 && (r = store_step(s, e)) == STORE_ROW) {
		if (c->nrate_limits == n) {
			rc = err_set(e, "",
			    "rate limits changed while "
			    "compiling");
			break;
		}
		rl = &c->rate_limits[c->nrate_limits++];
		rl->id = store_col_int64(s, 0);
		rl->name = arena_strdup(c->arena, store_col_text(s, 1));
		snprintf(path, sizeof(path), "rate_limits[%s]",
		    store_col_text(s, 1));
		rl->rate = (unsigned)store_col_int64(s, 2);
		per = store_col_text(s, 3);
		for (i = 0; i < sizeof(rl_pers) / sizeof(rl_pers[0]); i++)
			if (strcmp(per, rl_pers[i].name) == 0)
				rl->per_s = rl_pers[i].s;
		rl->burst = (unsigned)store_col_int64(s, 4);
		key = store_col_text(s, 5);
		rl->max_keys = (unsigned)store_col_int64(s, 6);
		if (strcmp(key, "route") == 0) {
			rl->key = CFG_RL_KEY_ROUTE;
		} else if (strncmp(key, "header:", 7) == 0) {
			rl->key = CFG_RL_KEY_HEADER;
			rl->header = arena_strdup(c->arena, key + 7);
		} else {
			rl->key = CFG_RL_KEY_CLIENT_IP;
		}
		if (rl->name == NULL ||
		    (rl->key == CFG_RL_KEY_HEADER && rl->header == NULL)) {
			rc = err_set(e, "", "out of memory");
			break;
		}
		if (rl->rate == 0 || rl->per_s == 0 || rl->burst == 0 ||
		    rl->max_keys == 0) {
			rc = err_set(e, path,
			    "rate, per, burst and max_keys "
			    "must be set");
			break;
		}
		/* Made once per limit and size; shared by the workers. */
		if ((rl->table = ratelimit_table(rl->id, rl->max_keys)) ==
		    NULL) {
			rc = err_set(e, path,
			    "no memory for %u keys: lower max_keys",
			    rl->max_keys);
			break;
		}
	}
	if (rc == 0 && r != STORE_DONE)
		rc = -1;
	store_finalize(s);
	return rc;
}

static bool
rl_set(struct cfg *c, struct cfg_route *r, int64_t id)
{
	r->rate_limit = id != 0 ? rl_by_id(c, id) : NULL;
	return id == 0 || r->rate_limit != NULL;
}

static const struct cfg_route_ref rl_ref = { "rate_limit_id", "rate_limit",
	"rate limit", rl_set };

static int
rl_listener_set(struct cfg *c, struct cfg_listener *l, int64_t v,
    const char *path, struct err *e)
{
	(void)c;
	if (l->proto == CFG_PROTO_UDP)
		return err_set(e, path,
		    "applies to http, https, tcp and tls-passthrough "
		    "listeners");
	l->max_conns_per_client = (unsigned)v;
	return 0;
}

static const struct cfg_listener_col rl_listeners = {
	"max_connections_per_client", "max_connections_per_client",
	rl_listener_set
};

int
ratelimit_route(struct store *st, struct cfg *c, struct cfg_route *r,
    struct err *e)
{
	return cfg_route_ref(st, c, r, &rl_ref, e);
}

int
ratelimit_compile(struct store *st, struct cfg *c, struct err *e)
{
	if (rl_rows(st, c, e) != 0 || cfg_route_refs(st, c, &rl_ref, e) != 0 ||
	    cfg_listener_cols(st, c, &rl_listeners, e) != 0)
		return -1;
	return 0;
}

/* ---- connections per client ---- */

#define CL_SLOTS   16384u
#define CL_STRIPES 64u
#define CL_PROBE   8u

struct cl_slot {
	uint8_t addr[16];
	int family;
	unsigned n;
};

static struct cl_slot cl_slots[CL_SLOTS];
static pthread_mutex_t cl_mu[CL_STRIPES] = { [0 ... CL_STRIPES - 1] =
	                                         PTHREAD_MUTEX_INITIALIZER };

static uint64_t
cl_key(const struct sockaddr_storage *sa, uint8_t *addr)
{
	memset(addr, 0, 16);
	if (sa->ss_family == AF_INET6)
		memcpy(addr,
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		    16);
	else
		memcpy(addr,
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
		    4);
	pthread_once(&rl_seed_once, rl_seed_init);
	return rl_hash((const char *)addr, 16) ^ (uint64_t)sa->ss_family;
}

/* Slots are probed within one stripe (CL_SLOTS / CL_STRIPES apart is
 * another stripe), so one lock covers the probe.
 */
static int
cl_find(const struct sockaddr_storage *sa, bool take, unsigned limit)
{
	uint8_t addr[16];
	uint64_t h = cl_key(sa, addr);
	unsigned stripe = (unsigned)(h % CL_STRIPES),
	         per = CL_SLOTS / CL_STRIPES;
	unsigned base = stripe * per, i, k, free_at = UINT32_MAX;
	struct cl_slot *s;
	int rc = -1;

	pthread_mutex_lock(&cl_mu[stripe]);
	for (k = 0; k < CL_PROBE; k++) {
		i = base + (unsigned)((h / CL_STRIPES + k) % per);
		s = &cl_slots[i];
		if (s->n > 0 && s->family == sa->ss_family &&
		    memcmp(s->addr, addr, 16) == 0) {
			if (!take) {
				s->n--;
				rc = 1;
			} else if (s->n >= limit) {
				rc = 0;
			} else {
				s->n++;
				rc = 1;
			}
			goto out;
		}
		if (s->n == 0 && free_at == UINT32_MAX)
			free_at = i;
	}
	if (take && free_at != UINT32_MAX) {
		s = &cl_slots[free_at];
		memcpy(s->addr, addr, 16);
		s->family = sa->ss_family;
		s->n = 1;
		rc = limit >= 1 ? 1 : 0;
		if (rc == 0)
			s->n = 0;
	}
out:
	pthread_mutex_unlock(&cl_mu[stripe]);
	return rc;
}

int
connlimit_take(const struct sockaddr_storage *sa, unsigned limit)
{
	int rc = cl_find(sa, true, limit);

	if (rc == 0)
		stats_inc(STAT_CONN_PER_CLIENT_LIMIT);
	return rc;
}

void
connlimit_release(const struct sockaddr_storage *sa)
{
	(void)cl_find(sa, false, 0);
}

int
connlimit_conn(struct conn *c, const struct cfg_listener *l)
{
	struct sockaddr_storage ss;

	if (l == NULL || l->max_conns_per_client == 0 || c->climit == 1)
		return -1;
	conn_peer_storage(c, &ss);
	if (l->ntrusted_proxies > 0 &&
	    l4_cidr_any(l->trusted_proxies, l->ntrusted_proxies,
	        (const struct sockaddr *)&ss)) {
		/* a proxy in front: its connections carry many clients,
		 * named per request by X-Forwarded-For
		 */
		stats_inc(STAT_CONN_PER_CLIENT_PROXY);
		return -1;
	}
	/* counted on peer_sa, which no longer changes (conn_free()) */
	c->climit = connlimit_take(&ss, l->max_conns_per_client);
	return c->climit;
}
