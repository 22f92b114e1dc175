/*
 * stats.c: counter storage. Per-object counters live in a small open hash
 * per kind, guarded by a mutex only on creation and iteration. The request
 * path asks stats_obj_cached(), which answers from a per-thread cache and
 * takes the mutex only the first time a thread sees an object.
 */
#include "stats.h"

#include <pthread.h>
#include <stdlib.h>

#include "check.h"

_Atomic uint64_t stats_global[STAT__COUNT];

static const char *const stat_names[] = {
#define STAT(id, name, help) name,
#include "stats_tbl.h"
#undef STAT
};

static const char *const stat_helps[] = {
#define STAT(id, name, help) help,
#include "stats_tbl.h"
#undef STAT
};

struct stats_table {
	struct stats_obj **slots;
	size_t cap, n;
};

static struct stats_table stats_tables[STATS__KINDS];
static pthread_mutex_t stats_mu = PTHREAD_MUTEX_INITIALIZER;

const char *
stats_name(enum stat_id id)
{
	return stat_names[id];
}

const char *
stats_help(enum stat_id id)
{
	return stat_helps[id];
}

static size_t
stats_hash(int64_t id, size_t cap)
{
	return (size_t)((uint64_t)id * 0x9e3779b97f4a7c15ull) & (cap - 1);
}

static int
stats_grow(struct stats_table *t)
{
	struct stats_obj **slots;
	size_t cap = t->cap ? t->cap * 2 : 64, i, h;

	if ((slots = calloc(cap, sizeof(*slots))) == NULL)
		return -1;
	for (i = 0; i < t->cap; i++) {
		if (t->slots[i] == NULL)
			continue;
		h = stats_hash(t->slots[i]->id, cap);
		while (slots[h] != NULL)
			h = (h + 1) & (cap - 1);
		slots[h] = t->slots[i];
	}
	free(t->slots);
	t->slots = slots;
	t->cap = cap;
	return 0;
}

struct stats_obj *
stats_obj(enum stats_kind kind, int64_t id)
{
	struct stats_table *t;
	struct stats_obj *o = NULL;
	size_t h;

	ASSERT(kind < STATS__KINDS);
	t = &stats_tables[kind];
	pthread_mutex_lock(&stats_mu);
	if ((t->n + 1) * 2 > t->cap && stats_grow(t) == -1)
		goto out;
	h = stats_hash(id, t->cap);
	while (t->slots[h] != NULL && t->slots[h]->id != id)
		h = (h + 1) & (t->cap - 1);
	if ((o = t->slots[h]) == NULL) {
		if ((o = calloc(1, sizeof(*o))) == NULL)
			goto out;
		o->id = id;
		t->slots[h] = o;
		t->n++;
	}
out:
	pthread_mutex_unlock(&stats_mu);
	return o;
}

void
stats_foreach(enum stats_kind kind,
    void (*fn)(const struct stats_obj *o, void *arg), void *arg)
{
	struct stats_table *t = &stats_tables[kind];
	size_t i;

	pthread_mutex_lock(&stats_mu);
	for (i = 0; i < t->cap; i++)
		if (t->slots[i] != NULL)
			fn(t->slots[i], arg);
	pthread_mutex_unlock(&stats_mu);
}

struct stats_obj *
stats_obj_cached(enum stats_kind kind, int64_t id)
{
	static _Thread_local struct {
		int64_t id;
		struct stats_obj *o;
	} cache[STATS__KINDS][STATS_CACHE_SLOTS];
	size_t slot = (size_t)((uint64_t)id & (STATS_CACHE_SLOTS - 1));

	ASSERT(kind < STATS__KINDS);
	if (cache[kind][slot].o == NULL || cache[kind][slot].id != id) {
		cache[kind][slot].o = stats_obj(kind, id);
		cache[kind][slot].id = id;
	}
	return cache[kind][slot].o;
}
