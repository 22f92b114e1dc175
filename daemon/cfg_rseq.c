/*
 * cfg_rseq.c: sorted route sequences in shared chunks (cfg_rseq.h).
 */
#include "cfg_rseq.h"

#include <string.h>

#include "arena.h"
#include "cfg.h"

int
cfg_route_id_cmp(const struct cfg_route *a, const struct cfg_route *b)
{
	return a->id < b->id ? -1 : a->id > b->id;
}

static struct cfg_rchunk *
rseq_chunk(struct arena *a, size_t n)
{
	struct cfg_rchunk *ch;

	ch = arena_alloc(a, sizeof(*ch) + n * sizeof(ch->v[0]));
	if (ch != NULL)
		ch->n = (uint32_t)n;
	return ch;
}

int
cfg_rseq_from(struct arena *a, struct cfg_rseq *s,
    const struct cfg_route *const *v, size_t n)
{
	const struct cfg_rchunk **dir;
	struct cfg_rchunk *ch;
	size_t i, nc = (n + CFG_RSEQ_FILL - 1) / CFG_RSEQ_FILL, k;

	memset(s, 0, sizeof(*s));
	if (n == 0)
		return 0;
	if ((dir = arena_alloc(a, nc * sizeof(*dir))) == NULL)
		return -1;
	for (i = 0; i < nc; i++) {
		k = n - i * CFG_RSEQ_FILL < CFG_RSEQ_FILL
		    ? n - i * CFG_RSEQ_FILL
		    : CFG_RSEQ_FILL;
		if ((ch = rseq_chunk(a, k)) == NULL)
			return -1;
		memcpy(ch->v, v + i * CFG_RSEQ_FILL, k * sizeof(ch->v[0]));
		dir[i] = ch;
	}
	s->c = dir;
	s->nc = nc;
	s->n = n;
	return 0;
}

/* Where <r> is or would go: chunk <*ci>, index <*k> in it (the first
 * route not before <r>); with no such route, the end of the last chunk.
 * <s> must not be empty.
 */
static void
rseq_locate(const struct cfg_rseq *s, const struct cfg_route *r,
    cfg_rseq_cmp cmp, size_t *ci, size_t *k)
{
	const struct cfg_rchunk *ch;
	size_t lo = 0, hi = s->nc, mid;

	while (lo < hi) { /* the first chunk whose last is not before r */
		mid = lo + (hi - lo) / 2;
		ch = s->c[mid];
		if (cmp(ch->v[ch->n - 1], r) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == s->nc) {
		*ci = s->nc - 1;
		*k = s->c[*ci]->n;
		return;
	}
	*ci = lo;
	ch = s->c[lo];
	for (lo = 0, hi = ch->n; lo < hi;) {
		mid = lo + (hi - lo) / 2;
		if (cmp(ch->v[mid], r) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*k = lo;
}

/* A new directory for <s>: chunk <ci> replaced by <n> chunks <v> (0, 1
 * or 2). 0 or -1.
 */
static int
rseq_redir(struct arena *a, struct cfg_rseq *s, size_t ci,
    const struct cfg_rchunk *const *v, size_t n, size_t nroutes)
{
	const struct cfg_rchunk **dir = NULL;
	size_t nc = s->nc - 1 + n;

	if (nc > 0) {
		if ((dir = arena_alloc(a, nc * sizeof(*dir))) == NULL)
			return -1;
		memcpy(dir, s->c, ci * sizeof(*dir));
		memcpy(dir + ci, v, n * sizeof(*dir));
		memcpy(dir + ci + n, s->c + ci + 1,
		    (s->nc - ci - 1) * sizeof(*dir));
	}
	s->c = dir;
	s->nc = nc;
	s->n = nroutes;
	return 0;
}

int
cfg_rseq_put(struct arena *a, struct cfg_rseq *s, const struct cfg_route *r,
    cfg_rseq_cmp cmp)
{
	const struct cfg_rchunk *old, *v[2];
	struct cfg_rchunk *ch, *ch2;
	size_t ci, k, n, h;

	if (s->nc == 0)
		return cfg_rseq_from(a, s, &r, 1);
	rseq_locate(s, r, cmp, &ci, &k);
	old = s->c[ci];
	n = old->n + 1;
	if ((ch = rseq_chunk(a, n)) == NULL)
		return -1;
	memcpy(ch->v, old->v, k * sizeof(ch->v[0]));
	ch->v[k] = r;
	memcpy(ch->v + k + 1, old->v + k, (old->n - k) * sizeof(ch->v[0]));
	v[0] = ch;
	if (n <= CFG_RSEQ_MAX)
		return rseq_redir(a, s, ci, v, 1, s->n + 1);
	h = n / 2; /* split: ch keeps the first half */
	if ((ch2 = rseq_chunk(a, n - h)) == NULL)
		return -1;
	memcpy(ch2->v, ch->v + h, (n - h) * sizeof(ch->v[0]));
	ch->n = (uint32_t)h;
	v[1] = ch2;
	return rseq_redir(a, s, ci, v, 2, s->n + 1);
}

int
cfg_rseq_del(struct arena *a, struct cfg_rseq *s, const struct cfg_route *r,
    cfg_rseq_cmp cmp)
{
	const struct cfg_rchunk *old, *v[1];
	struct cfg_rchunk *ch;
	size_t ci, k;

	if (s->nc == 0)
		return 1;
	rseq_locate(s, r, cmp, &ci, &k);
	old = s->c[ci];
	if (k == old->n || cmp(old->v[k], r) != 0)
		return 1;
	if (old->n == 1)
		return rseq_redir(a, s, ci, v, 0, s->n - 1);
	if ((ch = rseq_chunk(a, old->n - 1)) == NULL)
		return -1;
	memcpy(ch->v, old->v, k * sizeof(ch->v[0]));
	memcpy(ch->v + k, old->v + k + 1, (old->n - k - 1) * sizeof(ch->v[0]));
	v[0] = ch;
	return rseq_redir(a, s, ci, v, 1, s->n - 1);
}

const struct cfg_route *
cfg_rseq_find(const struct cfg_rseq *s, const struct cfg_route *key,
    cfg_rseq_cmp cmp)
{
	size_t ci, k;

	if (s->nc == 0)
		return NULL;
	rseq_locate(s, key, cmp, &ci, &k);
	if (k < s->c[ci]->n && cmp(s->c[ci]->v[k], key) == 0)
		return s->c[ci]->v[k];
	return NULL;
}

const struct cfg_route *
cfg_rseq_at(const struct cfg_rseq *s, size_t i)
{
	size_t ci;

	for (ci = 0; ci < s->nc; i -= s->c[ci++]->n)
		if (i < s->c[ci]->n)
			return s->c[ci]->v[i];
	return NULL;
}
