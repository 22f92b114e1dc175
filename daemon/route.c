/*
 * route.c: route matching on the request path, the route order, and the
 * per-listener host index that keeps matching independent of the number
 * of routes.
 *
 * route_match() is on the hot path of every request: it normalizes the
 * Host value once into a stack buffer, hashes it backwards (each suffix's
 * hash on the way), finds the routes naming that exact host and those
 * naming each of its wildcard suffixes, and merges those lists with the
 * catch-all list in the order route_sort() fixes (route_order()),
 * testing the method bit and path prefix of each candidate. Configured
 * host names are already lowercased and validated, so matching is memcmp.
 * The index lives in the snapshot's arena, built once per full compile in
 * time linear in the routes' host names. Its hash tables are cut in
 * buckets and pages of buckets, and its lists hold route pointers, so
 * that after a one-route write route_index_update() copies only the page
 * directory, the pages and buckets of that route's names, and shares the
 * rest with the previous snapshot (cfg_incr.c).
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
 * and the routes that name it, in match order (each once).
 */
struct route_slot {
	const char *name;
	uint32_t len, hash;
	const struct cfg_route *const *v;
	uint32_t n;
};

/* The names whose hash falls in one bucket. */
struct route_bucket {
	uint32_t n;
	struct route_slot s[];
};

#define ROUTE_PAGE 256 /* buckets per page */

struct route_page {
	const struct route_bucket *b[ROUTE_PAGE];
};

/* Bucket i is pages[i / ROUTE_PAGE]->b[i % ROUTE_PAGE] (NULL: empty);
 * mask + 1 buckets, a power of two. Never changed once built: a change
 * makes a new directory, page and bucket (route_table_set()).
 */
struct route_table {
	const struct route_page *const *pages; /* NULL: no names */
	size_t npages, mask;
	size_t used; /* names */
};

struct route_index {
	struct route_table exact, wild;
	size_t wmin, wmax; /* shortest and longest wildcard suffix */
	/* Routes without hosts, or with a host the tables cannot hold: their
	 * hosts are tested one by one (route_host_ok()). Match order.
	 */
	struct cfg_rseq other;
};

/* A list of candidates being merged by route_match(): an array, or the
 * chunks of <seq> (chunk <ci> now).
 */
struct route_cursor {
	const struct cfg_route *const *p, *const *end;
	const struct cfg_rseq *seq;
	size_t ci;
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

static inline const struct route_bucket *
route_bucket_at(const struct route_table *t, size_t i)
{
	return t->pages[i / ROUTE_PAGE]->b[i % ROUTE_PAGE];
}

static const struct route_slot *
route_table_find(const struct route_table *t, const char *p, size_t n,
    uint32_t hash)
{
	const struct route_bucket *b;
	uint32_t j;

	if (t->pages == NULL)
		return NULL;
	b = route_bucket_at(t, hash & t->mask);
	for (j = 0; b != NULL && j < b->n; j++)
		if (b->s[j].hash == hash && b->s[j].len == n &&
		    memcmp(b->s[j].name, p, n) == 0)
			return &b->s[j];
	return NULL;
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

/* ---- matching ---- */

static void
route_cursor_seq(struct route_cursor *c, const struct cfg_rseq *s)
{
	c->seq = s;
	c->ci = 0;
	c->p = c->end = NULL;
	if (s->nc > 0) {
		c->p = s->c[0]->v;
		c->end = c->p + s->c[0]->n;
	}
}

static inline void
route_cursor_next(struct route_cursor *c)
{
	if (++c->p == c->end && c->seq != NULL && ++c->ci < c->seq->nc) {
		c->p = c->seq->c[c->ci]->v;
		c->end = c->p + c->seq->c[c->ci]->n;
	}
}

static inline void
route_cursor_slot(struct route_cursor *c, const struct route_slot *s)
{
	c->p = s->v;
	c->end = s->v + s->n;
	c->seq = NULL;
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

	route_cursor_seq(&cur[0], &x->other);
	for (i = h.len; i > 0; i--) {
		hash = (hash ^ (unsigned char)h.p[i - 1]) * ROUTE_FNV_PRIME;
		sl = h.len - (i - 1);
		/* A wildcard's suffix needs at least one byte before it. */
		if (h.p[i - 1] != '.' || i == 1 || x->wild.pages == NULL ||
		    sl < x->wmin || sl > x->wmax)
			continue;
		s = route_table_find(&x->wild, h.p + i - 1, sl, hash);
		if (s != NULL)
			route_cursor_slot(&cur[n++], s);
	}
	if (h.len > 0 &&
	    (s = route_table_find(&x->exact, h.p, h.len, hash)) != NULL)
		route_cursor_slot(&cur[n++], s);
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
	size_t i, n, best;
	struct str h;

	if (x == NULL)
		return NULL;
	h = route_host_normalize(host, buf);
	n = route_candidates(x, h, cur);
	for (;;) {
		best = n;
		r = NULL;
		for (i = 0; i < n; i++)
			if (cur[i].p < cur[i].end &&
			    (r == NULL || route_cmp(&cur[i].p[0], &r) < 0)) {
				r = cur[i].p[0];
				best = i;
			}
		if (best == n)
			return NULL;
		route_cursor_next(&cur[best]);
		if (!route_accepts(r, path, method))
			continue;
		if (best == 0 && r->nhosts > 0 && !route_host_ok(r, h))
			continue;
		return r;
	}
}

/* ---- building an index ---- */

/* A name being collected by route_table_build(). */
struct route_name {
	const char *name;
	uint32_t len, hash;
	const struct cfg_route **v;
	uint32_t n;
	const struct cfg_route *last; /* the last route counted */
};

static size_t
route_pow2(size_t n)
{
	size_t p = 1;

	while (p < n)
		p *= 2;
	return p;
}

/* Empty pages for <buckets> buckets, also in <*pages> to fill. 0 or -1.
 */
static int
route_table_init(struct arena *a, struct route_table *t, size_t buckets,
    struct route_page ***pages)
{
	size_t i;

	t->mask = buckets - 1;
	t->npages = (buckets + ROUTE_PAGE - 1) / ROUTE_PAGE;
	t->used = 0;
	if ((*pages = arena_alloc(a, t->npages * sizeof(**pages))) == NULL)
		return -1;
	for (i = 0; i < t->npages; i++)
		if (((*pages)[i] = arena_calloc(a, 1, sizeof(***pages))) ==
		    NULL)
			return -1;
	t->pages = (const struct route_page *const *)*pages;
	return 0;
}

/* The table of <l>'s hosts of <kind> (at most <names> of them), in
 * match order: names gathered in a scratch hash table, then laid out in
 * buckets. 0 or -1.
 */
static int
route_table_build(struct arena *a, struct route_table *t,
    const struct cfg_listener *l, enum cfg_host_kind kind, size_t names)
{
	struct route_name *tab = NULL, *e, **order = NULL;
	struct route_page **pages, *pg;
	struct route_bucket *b, **bucket = NULL;
	struct cfg_rseq_it it;
	const struct cfg_route *r;
	const struct cfg_host *h;
	size_t cap, mask, i, j, k, nn = 0, *cnt = NULL;
	uint32_t hash;
	int pass, rc = -1;

	memset(t, 0, sizeof(*t));
	if (names == 0)
		return 0;
	cap = route_pow2(2 * names);
	mask = cap - 1;
	if ((tab = calloc(cap, sizeof(*tab))) == NULL ||
	    (order = calloc(names, sizeof(*order))) == NULL)
		goto out;
	/* Pass 0 counts each name's routes, pass 1 lists them. */
	for (pass = 0; pass < 2; pass++) {
		it = cfg_rseq_begin(&l->routes);
		while ((r = cfg_rseq_next(&it)) != NULL) {
			if (route_is_other(r))
				continue;
			for (j = 0; j < r->nhosts; j++) {
				h = &r->hosts[j];
				if (h->kind != kind)
					continue;
				hash = route_hash(h->name, h->len);
				for (i = hash & mask;; i = (i + 1) & mask) {
					e = &tab[i];
					if (e->name == NULL ||
					    (e->hash == hash &&
					        e->len == h->len &&
					        memcmp(e->name, h->name,
					            h->len) == 0))
						break;
				}
				if (e->name == NULL) {
					e->name = h->name;
					e->len = (uint32_t)h->len;
					e->hash = hash;
					order[nn++] = e;
				}
				if (e->last == r)
					continue; /* a host named twice */
				e->last = r;
				if (pass == 1)
					e->v[e->n] = r;
				e->n++;
			}
		}
		for (i = 0; pass == 0 && i < nn; i++) {
			e = order[i];
			if ((e->v = arena_alloc(a, e->n * sizeof(*e->v))) ==
			    NULL)
				goto out;
			e->n = 0;
			e->last = NULL;
		}
	}
	/* About one name per bucket. */
	if (route_table_init(a, t, route_pow2(nn), &pages) != 0 ||
	    (cnt = calloc(t->mask + 1, sizeof(*cnt))) == NULL ||
	    (bucket = calloc(t->mask + 1, sizeof(*bucket))) == NULL)
		goto out;
	for (i = 0; i < nn; i++)
		cnt[order[i]->hash & t->mask]++;
	for (i = 0; i < nn; i++) {
		e = order[i];
		k = e->hash & t->mask;
		pg = pages[k / ROUTE_PAGE];
		if (pg->b[k % ROUTE_PAGE] == NULL) {
			b = arena_alloc(a,
			    sizeof(*b) + cnt[k] * sizeof(b->s[0]));
			if (b == NULL)
				goto out;
			b->n = 0;
			pg->b[k % ROUTE_PAGE] = b;
			bucket[k] = b;
		}
		b = bucket[k];
		b->s[b->n++] =
		    (struct route_slot){ e->name, e->len, e->hash, e->v, e->n };
	}
	t->used = nn;
	rc = 0;
out:
	free(tab);
	free(order);
	free(cnt);
	free(bucket);
	return rc;
}

int
route_index_listener(struct arena *a, struct cfg_listener *l)
{
	const struct cfg_route *r, **other = NULL;
	struct cfg_rseq_it it;
	struct route_index *x;
	size_t nexact = 0, nwild = 0, nother = 0, j;
	int rc = -1;

	l->route_index = NULL;
	if (l->routes.n == 0)
		return 0;
	if ((x = arena_calloc(a, 1, sizeof(*x))) == NULL ||
	    (other = calloc(l->routes.n, sizeof(*other))) == NULL)
		goto out;
	x->wmin = SIZE_MAX;
	it = cfg_rseq_begin(&l->routes);
	while ((r = cfg_rseq_next(&it)) != NULL) {
		if (route_is_other(r)) {
			other[nother++] = r;
			continue;
		}
		for (j = 0; j < r->nhosts; j++) {
			if (r->hosts[j].kind == CFG_HOST_EXACT) {
				nexact++;
				continue;
			}
			nwild++;
			if (r->hosts[j].len < x->wmin)
				x->wmin = r->hosts[j].len;
			if (r->hosts[j].len > x->wmax)
				x->wmax = r->hosts[j].len;
		}
	}
	if (cfg_rseq_from(a, &x->other, other, nother) != 0 ||
	    route_table_build(a, &x->exact, l, CFG_HOST_EXACT, nexact) != 0 ||
	    route_table_build(a, &x->wild, l, CFG_HOST_WILDCARD, nwild) != 0)
		goto out;
	l->route_index = x;
	rc = 0;
out:
	free(other);
	return rc;
}

/* ---- the index after one route left and/or one came in ---- */

/* <t> with bucket <i> replaced by <b> (NULL: empty): a new directory and
 * page in <a>. 0 or -1.
 */
static int
route_table_set(struct arena *a, struct route_table *t, size_t i,
    const struct route_bucket *b)
{
	const struct route_page **pages;
	struct route_page *pg;

	if ((pages = arena_alloc(a, t->npages * sizeof(*pages))) == NULL ||
	    (pg = arena_alloc(a, sizeof(*pg))) == NULL)
		return -1;
	memcpy(pages, t->pages, t->npages * sizeof(*pages));
	*pg = *t->pages[i / ROUTE_PAGE];
	pg->b[i % ROUTE_PAGE] = b;
	pages[i / ROUTE_PAGE] = pg;
	t->pages = pages;
	return 0;
}

/* A copy of bucket <b> in <a> with room for <more> slots. */
static struct route_bucket *
route_bucket_copy(struct arena *a, const struct route_bucket *b, size_t more)
{
	struct route_bucket *nb;
	size_t n = b != NULL ? b->n : 0;

	nb = arena_alloc(a, sizeof(*nb) + (n + more) * sizeof(nb->s[0]));
	if (nb == NULL)
		return NULL;
	nb->n = (uint32_t)n;
	if (n > 0)
		memcpy(nb->s, b->s, n * sizeof(nb->s[0]));
	return nb;
}

/* Takes route <r> out of the slot of host <h> in <t>. 0 or -1. */
static int
route_table_drop(struct arena *a, struct route_table *t,
    const struct cfg_host *h, const struct cfg_route *r)
{
	uint32_t hash = route_hash(h->name, h->len), j, k;
	const struct route_bucket *b;
	const struct cfg_route **v;
	struct route_bucket *nb;
	size_t i = hash & t->mask;

	if (t->pages == NULL || (b = route_bucket_at(t, i)) == NULL)
		return 0;
	for (j = 0; j < b->n; j++)
		if (b->s[j].hash == hash && b->s[j].len == h->len &&
		    memcmp(b->s[j].name, h->name, h->len) == 0)
			break;
	if (j == b->n)
		return 0;
	for (k = 0; k < b->s[j].n && b->s[j].v[k] != r; k++)
		;
	if (k == b->s[j].n)
		return 0;     /* a host named twice, already out */
	if (b->s[j].n == 1) { /* the name goes */
		t->used--;
		if (b->n == 1)
			return route_table_set(a, t, i, NULL);
		if ((nb = route_bucket_copy(a, b, 0)) == NULL)
			return -1;
		nb->s[j] = nb->s[--nb->n];
		return route_table_set(a, t, i, nb);
	}
	if ((nb = route_bucket_copy(a, b, 0)) == NULL ||
	    (v = arena_alloc(a, (b->s[j].n - 1) * sizeof(*v))) == NULL)
		return -1;
	memcpy(v, b->s[j].v, k * sizeof(*v));
	memcpy(v + k, b->s[j].v + k + 1, (b->s[j].n - k - 1) * sizeof(*v));
	nb->s[j].v = v;
	nb->s[j].n--;
	return route_table_set(a, t, i, nb);
}

/* Puts route <r> in the slot of host <h> in <t> (a table with pages),
 * in match order. 0 or -1.
 */
static int
route_table_put(struct arena *a, struct route_table *t,
    const struct cfg_host *h, const struct cfg_route *r)
{
	uint32_t hash = route_hash(h->name, h->len), j, k, n;
	const struct route_bucket *b;
	const struct cfg_route **v;
	struct route_bucket *nb;
	size_t i = hash & t->mask;

	b = route_bucket_at(t, i);
	for (j = 0; b != NULL && j < b->n; j++)
		if (b->s[j].hash == hash && b->s[j].len == h->len &&
		    memcmp(b->s[j].name, h->name, h->len) == 0)
			break;
	if (b == NULL || j == b->n) { /* a new name */
		if ((nb = route_bucket_copy(a, b, 1)) == NULL ||
		    (v = arena_alloc(a, sizeof(*v))) == NULL)
			return -1;
		v[0] = r;
		nb->s[nb->n++] = (struct route_slot){ h->name, (uint32_t)h->len,
			hash, v, 1 };
		t->used++;
		return route_table_set(a, t, i, nb);
	}
	n = b->s[j].n;
	for (k = 0; k < n && route_order(b->s[j].v[k], r) < 0; k++)
		;
	if (k < n && b->s[j].v[k] == r)
		return 0; /* a host named twice */
	if ((nb = route_bucket_copy(a, b, 0)) == NULL ||
	    (v = arena_alloc(a, (n + 1) * sizeof(*v))) == NULL)
		return -1;
	memcpy(v, b->s[j].v, k * sizeof(*v));
	v[k] = r;
	memcpy(v + k + 1, b->s[j].v + k, (n - k) * sizeof(*v));
	nb->s[j].v = v;
	nb->s[j].n = n + 1;
	return route_table_set(a, t, i, nb);
}

/* Whether <t> has pages and stays under four names per bucket with
 * <more> more.
 */
static bool
route_table_room(const struct route_table *t, size_t more)
{
	return more == 0 ||
	    (t->pages != NULL && t->used + more <= 4 * (t->mask + 1));
}

int
route_index_update(struct arena *a, struct cfg_listener *l,
    const struct route_index *old, const struct cfg_route *gone,
    const struct cfg_route *added)
{
	struct route_index *x;
	struct route_table *t;
	size_t j, ne = 0, nw = 0;

	l->route_index = NULL;
	if (l->routes.n == 0)
		return 0;
	for (j = 0;
	     added != NULL && !route_is_other(added) && j < added->nhosts; j++)
		*(added->hosts[j].kind == CFG_HOST_EXACT ? &ne : &nw) += 1;
	if (old == NULL || !route_table_room(&old->exact, ne) ||
	    !route_table_room(&old->wild, nw))
		return route_index_listener(a, l);
	if ((x = arena_alloc(a, sizeof(*x))) == NULL)
		return -1;
	*x = *old;
	if (gone != NULL && route_is_other(gone)) {
		if (cfg_rseq_del(a, &x->other, gone, route_order) < 0)
			return -1;
	} else {
		for (j = 0; gone != NULL && j < gone->nhosts; j++) {
			t = gone->hosts[j].kind == CFG_HOST_EXACT ? &x->exact
			                                          : &x->wild;
			if (route_table_drop(a, t, &gone->hosts[j], gone) != 0)
				return -1;
		}
	}
	if (added != NULL && route_is_other(added)) {
		if (cfg_rseq_put(a, &x->other, added, route_order) != 0)
			return -1;
	} else {
		for (j = 0; added != NULL && j < added->nhosts; j++) {
			if (added->hosts[j].kind == CFG_HOST_EXACT) {
				t = &x->exact;
			} else {
				t = &x->wild;
				if (added->hosts[j].len < x->wmin)
					x->wmin = added->hosts[j].len;
				if (added->hosts[j].len > x->wmax)
					x->wmax = added->hosts[j].len;
			}
			if (route_table_put(a, t, &added->hosts[j], added) != 0)
				return -1;
		}
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
