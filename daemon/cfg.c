/*
 * cfg.c: the snapshot object itself: creation, reference counting and
 * lookups by stable id.
 *
 * A struct cfg lives inside its own arena, together with everything it
 * points to, so the last cfg_unref() is a single arena_free(). Compiling a
 * snapshot from the store is cfg_compile.c's job; handing it to the workers
 * is publish.h's (worker.c).
 */
#include "cfg.h"

#include <stdlib.h>

#include "arena.h"
#include "check.h"

#define CFG_ARENA_CHUNK (16 * 1024)

/* A snapshot with no listeners, routes or origins, holding one reference;
 * NULL when out of memory. cfg_compile() starts from this.
 */
struct cfg *
cfg_new(void)
{
	struct arena *a;
	struct cfg *c;

	if ((a = arena_new(CFG_ARENA_CHUNK, 0)) == NULL)
		return NULL;
	if ((c = arena_calloc(a, 1, sizeof(*c))) == NULL) {
		arena_free(a);
		return NULL;
	}
	c->magic = CFG_MAGIC;
	atomic_init(&c->refs, 1);
	c->arena = a;
	return c;
}

/* Takes one more reference to <c> (which the caller already holds one
 * to, directly or through publish_current()). Thread: any.
 */
struct cfg *
cfg_ref(struct cfg *c)
{
	if (c == NULL)
		return NULL;
	CHECK_OBJ(c, CFG_MAGIC);
	atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
	return c;
}

/* Drops one reference; the last one frees the arena and with it <c> and
 * everything borrowed from it. Thread: any.
 */
/* Frees a chain of snapshots (prev) in a loop, not by recursion: a chain
 * may be cfg_incr_chain_max long. A full compile (the base) has neither
 * prev nor base.
 */
void
cfg_unref(struct cfg *c)
{
	struct arena *a;
	struct cfg *base, *prev;
	unsigned old;

	while (c != NULL) {
		CHECK_OBJ(c, CFG_MAGIC);
		old = atomic_fetch_sub_explicit(&c->refs, 1,
		    memory_order_acq_rel);
		ASSERT(old > 0);
		if (old != 1)
			return;
		a = c->arena;
		base = c->base;
		prev = c->prev;
		c->magic = 0;
		arena_free(a);
		/* After: the arena may point into them. */
		cfg_unref(base);
		c = prev;
	}
}

/* Both arrays are in id order (cfg_compile reads them ORDER BY id). */
const struct cfg_listener *
cfg_listener_by_id(const struct cfg *c, int64_t id)
{
	size_t lo = 0, hi, mid;

	CHECK_OBJ(c, CFG_MAGIC);
	hi = c->nlisteners;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (c->listeners[mid].id == id)
			return &c->listeners[mid];
		if (c->listeners[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct cfg_route *
cfg_route_by_id(const struct cfg *c, int64_t id)
{
	struct cfg_route key;

	CHECK_OBJ(c, CFG_MAGIC);
	key.id = id;
	return cfg_rseq_find(&c->routes, &key, cfg_route_id_cmp);
}

const struct cfg_origin *
cfg_origin_by_id(const struct cfg *c, int64_t id)
{
	size_t lo = 0, hi, mid;

	CHECK_OBJ(c, CFG_MAGIC);
	hi = c->norigins;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (c->origins[mid].id == id)
			return &c->origins[mid];
		if (c->origins[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
