/*
 * idtab.c: per-id state shared by threads, read without a lock, growing
 * (idtab.h).
 *
 * The index is an open-addressed array of {id, slot} pairs, probed
 * linearly from a multiplicative hash of the id, never more than half
 * full, so a probe for an absent id ends at a free pair within a few
 * steps. An adder (under the mutex) writes a pair's slot pointer, then
 * its id with a release store; a reader loads the id with acquire, so
 * the slot it then reads is the one written. Growing builds a whole new
 * index from the current one and publishes it with a release store:
 * readers of the old one still find every id it had, at the same slots,
 * and an id added after that is added to the new index only, under the
 * same mutex, so no add is lost. The old index stays allocated (chained
 * from the new one) because a reader may still be probing it.
 */
#include "idtab.h"

#include <stdbool.h>
#include <stdlib.h>

#include "log.h"
#include "stats.h"

#define IDTAB_FIRST_BITS 10 /* the first index: 1,024 pairs */

struct idtab_ent {
	_Atomic int64_t id; /* 0: free */
	void *slot;         /* written before id, never changed */
};

struct idtab_arr {
	struct idtab_arr *prev; /* the index it replaced, kept */
	unsigned bits;
	size_t mask;
	struct idtab_ent e[];
};

static size_t
ent_first(const struct idtab_arr *a, int64_t id)
{
	return (size_t)((uint64_t)id * 0x9e3779b97f4a7c15ull >>
	           (64 - a->bits)) &
	    a->mask;
}

static struct idtab_ent *
ent_find(struct idtab_arr *a, int64_t id, bool *found)
{
	size_t h;
	int64_t cur;

	for (h = ent_first(a, id);; h = (h + 1) & a->mask) {
		cur = atomic_load_explicit(&a->e[h].id, memory_order_acquire);
		if (cur == id || cur == 0) {
			*found = cur == id;
			return &a->e[h];
		}
	}
}

void *
idtab_get(struct idtab *t, int64_t id)
{
	struct idtab_arr *a =
	    atomic_load_explicit(&t->arr, memory_order_acquire);
	struct idtab_ent *e;
	bool found;

	if (a == NULL || id <= 0)
		return NULL;
	e = ent_find(a, id, &found);
	return found ? e->slot : NULL;
}

static size_t
tab_max(const struct idtab *t)
{
	return t->max > 0 ? t->max : IDTAB_MAX_DEFAULT;
}

/* A new index of 2^<bits> pairs holding every pair of <old>. Under mu. */
static struct idtab_arr *
arr_grow(struct idtab_arr *old, unsigned bits)
{
	struct idtab_arr *a;
	struct idtab_ent *e;
	size_t i;
	bool found;

	a = calloc(1, sizeof(*a) + ((size_t)1 << bits) * sizeof(a->e[0]));
	if (a == NULL)
		return NULL;
	a->bits = bits;
	a->mask = ((size_t)1 << bits) - 1;
	a->prev = old;
	for (i = 0; old != NULL && i <= old->mask; i++) {
		int64_t id =
		    atomic_load_explicit(&old->e[i].id, memory_order_relaxed);

		if (id == 0)
			continue;
		e = ent_find(a, id, &found);
		e->slot = old->e[i].slot;
		atomic_store_explicit(&e->id, id, memory_order_relaxed);
	}
	return a;
}

/* Counts and logs (once per table) an id left without state. Under mu. */
static void *
tab_refuse(struct idtab *t, int64_t id, const char *why)
{
	atomic_fetch_add_explicit(&t->refused, 1, memory_order_relaxed);
	stats_inc(STAT_LIVE_STATE_REFUSED);
	if (!t->warned) {
		t->warned = 1;
		log_warnx("%s: id %lld and any further ones get no live state:"
		          " %s (counted in live_state_refused)",
		    t->name, (long long)id, why);
	}
	return NULL;
}

void *
idtab_add(struct idtab *t, int64_t id)
{
	struct idtab_arr *a, *na;
	struct idtab_ent *e;
	void *slot;
	bool found;

	if (id <= 0)
		return NULL;
	if ((slot = idtab_get(t, id)) != NULL)
		return slot;
	pthread_mutex_lock(&t->mu);
	a = atomic_load_explicit(&t->arr, memory_order_relaxed);
	if (a != NULL) {
		e = ent_find(a, id, &found);
		if (found) { /* added since the look above */
			slot = e->slot;
			goto out;
		}
	}
	if (t->n >= tab_max(t)) {
		slot = tab_refuse(t, id, "the table is full");
		goto out;
	}
	if (a == NULL || (t->n + 1) * 2 > a->mask + 1) {
		na = arr_grow(a, a == NULL ? IDTAB_FIRST_BITS : a->bits + 1);
		if (na == NULL) {
			slot = tab_refuse(t, id, "out of memory");
			goto out;
		}
		atomic_store_explicit(&t->arr, na, memory_order_release);
		a = na;
	}
	if ((slot = calloc(1, t->slot_size)) == NULL) {
		slot = tab_refuse(t, id, "out of memory");
		goto out;
	}
	e = ent_find(a, id, &found);
	e->slot = slot;
	atomic_store_explicit(&e->id, id, memory_order_release);
	t->n++;
out:
	pthread_mutex_unlock(&t->mu);
	return slot;
}

size_t
idtab_count(struct idtab *t)
{
	size_t n;

	pthread_mutex_lock(&t->mu);
	n = t->n;
	pthread_mutex_unlock(&t->mu);
	return n;
}

size_t
idtab_capacity(struct idtab *t)
{
	struct idtab_arr *a =
	    atomic_load_explicit(&t->arr, memory_order_acquire);

	return a == NULL ? 0 : a->mask + 1;
}

void
idtab_destroy(struct idtab *t)
{
	struct idtab_arr *a, *prev;
	size_t i;

	pthread_mutex_lock(&t->mu);
	a = atomic_load_explicit(&t->arr, memory_order_relaxed);
	/* The newest index holds every slot. */
	for (i = 0; a != NULL && i <= a->mask; i++)
		if (atomic_load_explicit(&a->e[i].id, memory_order_relaxed) !=
		    0)
			free(a->e[i].slot);
	for (; a != NULL; a = prev) {
		prev = a->prev;
		free(a);
	}
	atomic_store_explicit(&t->arr, NULL, memory_order_relaxed);
	t->n = 0;
	t->warned = 0;
	pthread_mutex_unlock(&t->mu);
}
