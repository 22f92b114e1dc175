/*
 * cfg_rseq.h: a sorted sequence of routes kept in chunks, shared between
 * snapshots.
 *
 * A snapshot's routes (id order) and each listener's routes (match order)
 * are sequences of route pointers cut into chunks of at most
 * CFG_RSEQ_MAX. Chunks and the directory that lists them are never
 * changed once built: cfg_rseq_put() and cfg_rseq_del() give the
 * sequence a new directory and a new copy of the one chunk that changes,
 * both in the arena of the snapshot being built, and share every other
 * chunk with the sequence they started from. A one-route write thus costs
 * O(chunks + CFG_RSEQ_MAX) instead of O(routes) (cfg_incr.c); the memory
 * the old snapshot shared stays alive because the new snapshot holds a
 * reference to it (struct cfg's prev).
 */
#ifndef GH_CFG_RSEQ_H
#define GH_CFG_RSEQ_H

#include <stddef.h>
#include <stdint.h>

struct arena;
struct cfg_route;

#define CFG_RSEQ_FILL 64  /* chunk size cfg_rseq_from() builds */
#define CFG_RSEQ_MAX  128 /* a fuller chunk splits in two */

struct cfg_rchunk {
	uint32_t n;
	const struct cfg_route *v[];
};

struct cfg_rseq {
	const struct cfg_rchunk *const *c; /* nc chunks, none empty */
	size_t nc;
	size_t n; /* routes in all chunks */
};

/* The order of a sequence: < 0 when <a> comes first, 0 for the same
 * route.
 */
typedef int (*cfg_rseq_cmp)(const struct cfg_route *a,
    const struct cfg_route *b);

/* Id order (struct cfg's routes). */
int cfg_route_id_cmp(const struct cfg_route *a, const struct cfg_route *b);

/* <s> holding the <n> routes of <v> (already in order), in <a>. 0 or -1
 * (out of memory).
 */
int cfg_rseq_from(struct arena *a, struct cfg_rseq *s,
    const struct cfg_route *const *v, size_t n);

/* Puts <r> in its place in <s> (a route equal by <cmp> must not be in
 * it). The chunks of <s> are not changed: the new directory and chunk
 * are allocated in <a>. 0 or -1.
 */
int cfg_rseq_put(struct arena *a, struct cfg_rseq *s, const struct cfg_route *r,
    cfg_rseq_cmp cmp);

/* Takes the route equal to <r> by <cmp> out of <s>, as cfg_rseq_put()
 * does. 0, 1 when there is none, or -1.
 */
int cfg_rseq_del(struct arena *a, struct cfg_rseq *s, const struct cfg_route *r,
    cfg_rseq_cmp cmp);

/* The route of <s> equal to <key> by <cmp>, or NULL. */
const struct cfg_route *cfg_rseq_find(const struct cfg_rseq *s,
    const struct cfg_route *key, cfg_rseq_cmp cmp);

/* The route at index <i> of <s>, or NULL: a walk over the chunks, for
 * tests and tools (the data path uses cfg_rseq_next()).
 */
const struct cfg_route *cfg_rseq_at(const struct cfg_rseq *s, size_t i);

/* Walks a sequence in order:
 *     struct cfg_rseq_it it = cfg_rseq_begin(&l->routes);
 *     while ((r = cfg_rseq_next(&it)) != NULL) ...
 */
struct cfg_rseq_it {
	const struct cfg_rseq *s;
	size_t c, k;
};

static inline struct cfg_rseq_it
cfg_rseq_begin(const struct cfg_rseq *s)
{
	struct cfg_rseq_it it = { s, 0, 0 };

	return it;
}

static inline const struct cfg_route *
cfg_rseq_next(struct cfg_rseq_it *it)
{
	while (it->c < it->s->nc) {
		if (it->k < it->s->c[it->c]->n)
			return it->s->c[it->c]->v[it->k++];
		it->c++;
		it->k = 0;
	}
	return NULL;
}

/* The first route of <s>, or NULL. */
static inline const struct cfg_route *
cfg_rseq_first(const struct cfg_rseq *s)
{
	return s->nc > 0 ? s->c[0]->v[0] : NULL;
}

#endif
