/*
 * route.c: route matching on the request path, the route order, and the
 * per-listener host index that keeps matching independent of the number
 * of routes.
 *
 * route_match() is on the hot path of every request: it normalizes the
 * Host value once into a stack buffer, hashes it backwards (each suffix's
 * hash on the way), finds the routes naming that exact host and those
 * naming each of its wildcard suffixes, and merges those lists with the
 * catch-all list by rank (position in the order route_sort() fixed),
 * testing the method bit and path prefix of each candidate. Configured
 * host names are already lowercased and validated, so matching is memcmp.
 * The index lives in the snapshot's arena, built once per compile in time
 * linear in the routes' host names.
 */
#include "route.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum route_hclass {
	ROUTE_HC_EXACT = 0,
	ROUTE_HC_WILDCARD,
	ROUTE_HC_ANY,
};

static inline char
route_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static inline bool
route_is_namechar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

static inline bool
route_is_v6char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F') || c == ':' || c == '.';
}

/* ":digits" or nothing. */
static bool
route_port_ok(const char *p, size_t len)
{
	size_t i;

	if (len == 0)
		return true;
	if (p[0] != ':')
		return false;
	for (i = 1; i < len; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return true;
}

struct str
route_host_normalize(struct str raw, char *buf)
{
	struct str s = str_trim(raw), name;
	const char *close;
	bool v6 = false;
	size_t i, n;

	if (s.len == 0)
		return str_make(buf, 0);
	if (s.p[0] == '[') {
		close = memchr(s.p, ']', s.len);
		if (close == NULL)
			return str_make(buf, 0);
		name = str_make(s.p + 1, (size_t)(close - s.p) - 1);
		n = s.len - (size_t)(close - s.p) - 1;
		if (!route_port_ok(close + 1, n))
			return str_make(buf, 0);
		v6 = true;
	} else {
		close = memchr(s.p, ':', s.len);
		n = close != NULL ? (size_t)(close - s.p) : s.len;
		if (!route_port_ok(s.p + n, s.len - n))
			return str_make(buf, 0);
		name = str_make(s.p, n);
		if (name.len > 0 && name.p[name.len - 1] == '.')
			name.len--;
	}
	if (name.len == 0 || name.len > ROUTE_HOST_MAX)
		return str_make(buf, 0);
	for (i = 0; i < name.len; i++) {
		if (!(v6 ? route_is_v6char(name.p[i])
		         : route_is_namechar(name.p[i])))
			return str_make(buf, 0);
		buf[i] = route_lower(name.p[i]);
	}
	return str_make(buf, name.len);
}

static bool
route_host_ok(const struct cfg_route *r, struct str host)
{
	const struct cfg_host *h;
	size_t i;

	if (host.len == 0)
		return false;
	for (i = 0; i < r->nhosts; i++) {
		h = &r->hosts[i];
		if (h->kind == CFG_HOST_EXACT) {
			if (h->len == host.len &&
			    memcmp(h->name, host.p, host.len) == 0)
				return true;
		} else if (host.len > h->len &&
		    memcmp(h->name, host.p + host.len - h->len, h->len) == 0) {
			/* h->name is ".suffix": at least one byte before. */
			return true;
		}
	}
	return false;
}

/* One host name (exact "a.example", or a wildcard's suffix ".example")
 * and the ranks (positions in l->routes) of the routes that name it,
 * ascending. name == NULL: an empty slot.
 */
struct route_slot {
	const char *name;
	uint32_t len, hash;
	uint32_t *ranks;
	uint32_t n, last; /* last: rank + 1 of the last route counted */
};

/* Open addressing, linear probing; mask + 1 slots (a power of two). */
struct route_table {
	struct route_slot *slot; /* NULL: no names */
	size_t mask;
	size_t used; /* slots with a name */
};

struct route_index {
	struct route_table exact, wild;
	size_t wmin, wmax; /* shortest and longest wildcard suffix */
	/* Routes without hosts, or with a host the tables cannot hold: their
	 * hosts are tested one by one (route_host_ok()).
	 */
	uint32_t *other;
	uint32_t nother;
};

/* A list of ranks being merged by route_match(). */
struct route_cursor {
	const uint32_t *p, *end;
};

#define ROUTE_FNV_BASIS 2166136261u
#define ROUTE_FNV_PRIME 16777619u

/* FNV-1a over the bytes from the last to the first, so that the hash of
 * every suffix of a name falls out of one backward pass (route_match()).
 */
static uint32_t
route_hash(const char *p, size_t n)
{
	uint32_t h = ROUTE_FNV_BASIS;

	while (n > 0)
		h = (h ^ (unsigned char)p[--n]) * ROUTE_FNV_PRIME;
	return h;
}

static const struct route_slot *
route_table_find(const struct route_table *t, const char *p, size_t n,
    uint32_t hash)
{
	const struct route_slot *s;
	size_t i;

	if (t->slot == NULL)
		return NULL;
	for (i = hash & t->mask;; i = (i + 1) & t->mask) {
		s = &t->slot[i];
		if (s->name == NULL)
			return NULL;
		if (s->hash == hash && s->len == n &&
		    memcmp(s->name, p, n) == 0)
			return s;
	}
}

/* The test route_match() applies to every candidate. */
static inline bool
route_accepts(const struct cfg_route *r, struct str path, unsigned method)
{
	if (r->methods != 0 && (r->methods & method) == 0)
		return false;
	return path.len >= r->path_prefix_len &&
	    memcmp(path.p, r->path_prefix, r->path_prefix_len) == 0;
}

/* Collects the lists that apply to host <h>: cursor 0 is the catch-all
 * list, then the exact name's, then one per wildcard suffix of <h>.
 * Returns the number of cursors.
 */
static size_t
route_candidates(const struct route_index *x, struct str h,
    struct route_cursor *cur)
{
	const struct route_slot *s;
	uint32_t hash = ROUTE_FNV_BASIS;
	size_t n = 1, i, sl;

	cur[0].p = cur[0].end = x->other; /* NULL when empty */
	if (x->nother > 0)
		cur[0].end = x->other + x->nother;
	for (i = h.len; i > 0; i--) {
		hash = (hash ^ (unsigned char)h.p[i - 1]) * ROUTE_FNV_PRIME;
		sl = h.len - (i - 1);
		/* A wildcard's suffix needs at least one byte before it. */
		if (h.p[i - 1] != '.' || i == 1 || x->wild.slot == NULL ||
		    sl < x->wmin || sl > x->wmax)
			continue;
		s = route_table_find(&x->wild, h.p + i - 1, sl, hash);
		if (s != NULL) {
			cur[n].p = s->ranks;
			cur[n++].end = s->ranks + s->n;
		}
	}
	if (h.len > 0 &&
	    (s = route_table_find(&x->exact, h.p, h.len, hash)) != NULL) {
		cur[n].p = s->ranks;
		cur[n++].end = s->ranks + s->n;
	}
	return n;
}

const struct cfg_route *
route_match(const struct cfg_listener *l, struct str host, struct str path,
    unsigned method)
{
	/* The catch-all, the exact name, at most one per byte of <h>. */
	struct route_cursor cur[ROUTE_HOST_MAX + 2];
	const struct route_index *x = l->route_index;
	const struct cfg_route *r;
	char buf[ROUTE_HOST_MAX];
	uint32_t rank;
	size_t i, n, best;
	struct str h;

	if (x == NULL)
		return NULL;
	h = route_host_normalize(host, buf);
	n = route_candidates(x, h, cur);
	for (;;) {
		best = n;
		rank = UINT32_MAX;
		for (i = 0; i < n; i++)
			if (cur[i].p < cur[i].end && *cur[i].p < rank) {
				rank = *cur[i].p;
				best = i;
			}
		if (best == n)
			return NULL;
		cur[best].p++;
		r = l->routes[rank];
		if (!route_accepts(r, path, method))
			continue;
		if (best == 0 && r->nhosts > 0 && !route_host_ok(r, h))
			continue;
		return r;
	}
}

/* The host class of a route and, for wildcards, its longest suffix. */
static enum route_hclass
route_hclass(const struct cfg_route *r, size_t *suffix)
{
	enum route_hclass c = ROUTE_HC_ANY;
	size_t i;

	*suffix = 0;
	for (i = 0; i < r->nhosts; i++) {
		if (r->hosts[i].kind == CFG_HOST_EXACT) {
			c = ROUTE_HC_EXACT;
		} else {
			if (c == ROUTE_HC_ANY)
				c = ROUTE_HC_WILDCARD;
			if (r->hosts[i].len > *suffix)
				*suffix = r->hosts[i].len;
		}
	}
	return c;
}

static int
route_cmp(const void *pa, const void *pb)
{
	const struct cfg_route *a = *(const struct cfg_route *const *)pa;
	const struct cfg_route *b = *(const struct cfg_route *const *)pb;
	enum route_hclass ca, cb;
	size_t sa, sb;

	if (a->priority != b->priority)
		return a->priority > b->priority ? -1 : 1;
	ca = route_hclass(a, &sa);
	cb = route_hclass(b, &sb);
	if (ca != cb)
		return ca < cb ? -1 : 1;
	if (ca == ROUTE_HC_WILDCARD && sa != sb)
		return sa > sb ? -1 : 1;
	if (a->path_prefix_len != b->path_prefix_len)
		return a->path_prefix_len > b->path_prefix_len ? -1 : 1;
	if ((a->methods != 0) != (b->methods != 0))
		return a->methods != 0 ? -1 : 1;
	if (a->id != b->id)
		return a->id < b->id ? -1 : 1;
	return 0;
}

int
route_order(const struct cfg_route *a, const struct cfg_route *b)
{
	return route_cmp(&a, &b);
}

void
route_sort(const struct cfg_route **v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), route_cmp);
}

/* A wildcard the suffix table can hold: ".example" (route_candidates()
 * looks suffixes up at each '.').
 */
static bool
route_wild_indexable(const struct cfg_host *h)
{
	return h->len > 0 && h->len <= ROUTE_HOST_MAX && h->name[0] == '.';
}

static bool
route_is_other(const struct cfg_route *r)
{
	size_t i;

	if (r->nhosts == 0)
		return true;
	for (i = 0; i < r->nhosts; i++)
		if (r->hosts[i].kind != CFG_HOST_EXACT &&
		    !route_wild_indexable(&r->hosts[i]))
			return true;
	return false;
}

static int
route_table_init(struct arena *a, struct route_table *t, size_t names)
{
	size_t cap = 4;

	if (names == 0)
		return 0;
	while (cap < 2 * names)
		cap *= 2;
	if ((t->slot = arena_calloc(a, cap, sizeof(*t->slot))) == NULL)
		return -1;
	t->mask = cap - 1;
	return 0;
}

static struct route_slot *
route_table_add(struct route_table *t, const struct cfg_host *h)
{
	uint32_t hash = route_hash(h->name, h->len);
	struct route_slot *s;
	size_t i;

	for (i = hash & t->mask;; i = (i + 1) & t->mask) {
		s = &t->slot[i];
		if (s->name == NULL) {
			s->name = h->name;
			s->len = (uint32_t)h->len;
			s->hash = hash;
			t->used++;
			return s;
		}
		if (s->hash == hash && s->len == h->len &&
		    memcmp(s->name, h->name, h->len) == 0)
			return s;
	}
}

/* Pass 0 counts each slot's routes, pass 1 (ranks allocated) fills them;
 * a route naming a host twice is listed once.
 */
static void
route_index_pass(struct route_index *x, const struct cfg_listener *l, int pass)
{
	const struct cfg_route *r;
	struct route_slot *s;
	uint32_t rank;
	size_t j;

	x->nother = 0;
	for (rank = 0; rank < l->nroutes; rank++) {
		r = l->routes[rank];
		if (route_is_other(r)) {
			if (pass == 1)
				x->other[x->nother] = rank;
			x->nother++;
			continue;
		}
		for (j = 0; j < r->nhosts; j++) {
			s = route_table_add(r->hosts[j].kind == CFG_HOST_EXACT
			        ? &x->exact
			        : &x->wild,
			    &r->hosts[j]);
			if (s->last == rank + 1)
				continue;
			s->last = rank + 1;
			if (pass == 1)
				s->ranks[s->n] = rank;
			s->n++;
		}
	}
}

/* Sizes the tables: host names of each kind (an upper bound on slots). */
static void
route_index_count(struct route_index *x, const struct cfg_listener *l,
    size_t *nexact, size_t *nwild)
{
	const struct cfg_host *h;
	size_t i, j;

	*nexact = *nwild = 0;
	x->wmin = SIZE_MAX;
	x->wmax = 0;
	for (i = 0; i < l->nroutes; i++) {
		if (route_is_other(l->routes[i]))
			continue;
		for (j = 0; j < l->routes[i]->nhosts; j++) {
			h = &l->routes[i]->hosts[j];
			if (h->kind == CFG_HOST_EXACT) {
				(*nexact)++;
				continue;
			}
			(*nwild)++;
			if (h->len < x->wmin)
				x->wmin = h->len;
			if (h->len > x->wmax)
				x->wmax = h->len;
		}
	}
}

static int
route_table_ranks(struct arena *a, struct route_table *t)
{
	size_t i;

	if (t->slot == NULL)
		return 0;
	for (i = 0; i <= t->mask; i++) {
		if (t->slot[i].name == NULL)
			continue;
		t->slot[i].ranks =
		    arena_calloc(a, t->slot[i].n, sizeof(*t->slot[i].ranks));
		if (t->slot[i].ranks == NULL)
			return -1;
		t->slot[i].n = 0;
		t->slot[i].last = 0;
	}
	return 0;
}

int
route_index_listener(struct arena *a, struct cfg_listener *l)
{
	struct route_index *x;
	size_t nexact, nwild;

	l->route_index = NULL;
	if (l->nroutes == 0)
		return 0;
	if (l->nroutes >= UINT32_MAX ||
	    (x = arena_calloc(a, 1, sizeof(*x))) == NULL)
		return -1;
	route_index_count(x, l, &nexact, &nwild);
	if (route_table_init(a, &x->exact, nexact) == -1 ||
	    route_table_init(a, &x->wild, nwild) == -1)
		return -1;
	route_index_pass(x, l, 0);
	if (x->nother > 0 &&
	    (x->other = arena_calloc(a, x->nother, sizeof(*x->other))) == NULL)
		return -1;
	if (route_table_ranks(a, &x->exact) == -1 ||
	    route_table_ranks(a, &x->wild) == -1)
		return -1;
	route_index_pass(x, l, 1);
	l->route_index = x;
	return 0;
}

/* ---- the index after one route left and/or one came in ---- */

/* Where old rank <r> is now (see route_index_update()). */
static uint32_t
route_rank_map(uint32_t r, uint32_t gone, uint32_t added)
{
	if (gone != UINT32_MAX && r > gone)
		r--;
	if (added != UINT32_MAX && r >= added)
		r++;
	return r;
}

/* Removes the slot at <i> from a linear-probing table, moving later
 * members of its run back so that every lookup still finds them.
 */
static void
route_table_del(struct route_table *t, size_t i)
{
	size_t j = i, k;

	for (;;) {
		j = (j + 1) & t->mask;
		if (t->slot[j].name == NULL)
			break;
		k = t->slot[j].hash & t->mask;
		/* The member at j may fill i unless its home k lies
		 * cyclically in (i, j].
		 */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		t->slot[i] = t->slot[j];
		i = j;
	}
	memset(&t->slot[i], 0, sizeof(t->slot[i]));
	t->used--;
}

/* The host of <r> named like slot <s> (its name must point into the new
 * snapshot), or NULL.
 */
static const char *
route_slot_name(const struct cfg_route *r, const struct route_slot *s)
{
	size_t j;

	for (j = 0; j < r->nhosts; j++)
		if (r->hosts[j].len == s->len &&
		    memcmp(r->hosts[j].name, s->name, s->len) == 0)
			return r->hosts[j].name;
	return NULL;
}

/* Copies <old> into <t> (in <a>) with ranks moved, the rank <gone>
 * dropped, slots left without routes removed, and each name pointing at
 * a host of the listener's new routes. 0, or -1 (out of memory, or a
 * name not found: the caller builds the index afresh).
 */
static int
route_table_copy(struct arena *a, const struct cfg_listener *l,
    struct route_table *t, const struct route_table *old, uint32_t gone,
    uint32_t added)
{
	struct route_slot *s;
	size_t i, total = 0, n;
	uint32_t *buf = NULL, k;

	*t = *old;
	if (old->slot == NULL)
		return 0;
	if ((t->slot = arena_alloc(a, (old->mask + 1) * sizeof(*t->slot))) ==
	    NULL)
		return -1;
	memcpy(t->slot, old->slot, (old->mask + 1) * sizeof(*t->slot));
	for (i = 0; i <= t->mask; i++)
		total += t->slot[i].n;
	if (total > 0 && (buf = arena_alloc(a, total * sizeof(*buf))) == NULL)
		return -1;
	for (i = 0; i <= t->mask; i++) {
		s = &t->slot[i];
		if (s->name == NULL)
			continue;
		for (k = 0, n = 0; k < s->n; k++)
			if (s->ranks[k] != gone)
				buf[n++] =
				    route_rank_map(s->ranks[k], gone, added);
		s->ranks = buf;
		s->n = (uint32_t)n;
		s->last = 0;
		buf += n;
		if (n > 0 &&
		    (s->name = route_slot_name(l->routes[s->ranks[0]], s)) ==
		        NULL)
			return -1;
	}
	for (i = 0; i <= t->mask;) { /* empty slots out (may move others) */
		if (t->slot[i].name != NULL && t->slot[i].n == 0)
			route_table_del(t, i);
		else
			i++;
	}
	return 0;
}

/* Puts rank <rank> of route <r> into the slots of its hosts. 0 or -1. */
static int
route_index_add(struct arena *a, struct route_index *x,
    const struct cfg_route *r, uint32_t rank)
{
	struct route_slot *s;
	uint32_t *v, k;
	size_t j;

	for (j = 0; j < r->nhosts; j++) {
		if (r->hosts[j].kind != CFG_HOST_EXACT) {
			if (r->hosts[j].len < x->wmin)
				x->wmin = r->hosts[j].len;
			if (r->hosts[j].len > x->wmax)
				x->wmax = r->hosts[j].len;
		}
		s = route_table_add(r->hosts[j].kind == CFG_HOST_EXACT
		        ? &x->exact
		        : &x->wild,
		    &r->hosts[j]);
		for (k = 0; k < s->n && s->ranks[k] < rank; k++)
			;
		if (k < s->n && s->ranks[k] == rank)
			continue; /* a host named twice */
		if ((v = arena_alloc(a, (s->n + 1) * sizeof(*v))) == NULL)
			return -1;
		if (s->n > 0) { /* a new slot has no ranks yet */
			memcpy(v, s->ranks, k * sizeof(*v));
			memcpy(v + k + 1, s->ranks + k,
			    (s->n - k) * sizeof(*v));
		}
		v[k] = rank;
		s->ranks = v;
		s->n++;
	}
	return 0;
}

/* Whether table <t> (of <old>) can take <more> names without growing. */
static bool
route_table_room(const struct route_table *t, size_t more)
{
	return more == 0 ||
	    (t->slot != NULL && 2 * (t->used + more) <= t->mask + 1);
}

int
route_index_update(struct arena *a, struct cfg_listener *l,
    const struct route_index *old, uint32_t gone, uint32_t added)
{
	const struct cfg_route *r =
	    added != UINT32_MAX ? l->routes[added] : NULL;
	struct route_index *x;
	size_t j, ne = 0, nw = 0, n;
	uint32_t k;

	l->route_index = NULL;
	if (l->nroutes == 0)
		return 0;
	for (j = 0; r != NULL && !route_is_other(r) && j < r->nhosts; j++)
		*(r->hosts[j].kind == CFG_HOST_EXACT ? &ne : &nw) += 1;
	if (old == NULL || l->nroutes >= UINT32_MAX ||
	    !route_table_room(&old->exact, ne) ||
	    !route_table_room(&old->wild, nw))
		return route_index_listener(a, l);
	if ((x = arena_calloc(a, 1, sizeof(*x))) == NULL)
		return -1;
	x->wmin = old->wmin;
	x->wmax = old->wmax;
	if (route_table_copy(a, l, &x->exact, &old->exact, gone, added) != 0 ||
	    route_table_copy(a, l, &x->wild, &old->wild, gone, added) != 0)
		return route_index_listener(a, l);
	n = old->nother + (r != NULL && route_is_other(r));
	if (n > 0 && (x->other = arena_alloc(a, n * sizeof(*x->other))) == NULL)
		return -1;
	for (k = 0; k < old->nother; k++) {
		if (old->other[k] == gone)
			continue;
		x->other[x->nother++] =
		    route_rank_map(old->other[k], gone, added);
	}
	if (r != NULL && route_is_other(r)) {
		for (k = x->nother; k > 0 && x->other[k - 1] > added; k--)
			x->other[k] = x->other[k - 1];
		x->other[k] = added;
		x->nother++;
	} else if (r != NULL && route_index_add(a, x, r, added) != 0) {
		return -1;
	}
	l->route_index = x;
	return 0;
}

int
route_index_build(struct cfg *c, struct err *e)
{
	size_t i;

	for (i = 0; i < c->nlisteners; i++)
		if (route_index_listener(c->arena, &c->listeners[i]) == -1)
			return err_set(e, "",
			    "out of memory while indexing the routes of "
			    "listener %s",
			    c->listeners[i].name != NULL ? c->listeners[i].name
			                                 : "?");
	return 0;
}
