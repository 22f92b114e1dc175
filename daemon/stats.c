/*
 * stats.c: counter storage (see stats.h).
 *
 * A thread's block is made the first time it counts and registered in a
 * list under stats_mu; a thread-specific key folds it into stats_retired
 * when the thread exits. The owner finds its objects in its own open hash
 * without a lock (no other thread changes that table); inserting an object
 * and growing the table take stats_mu, which the readers hold while they
 * walk every block. Counters are only ever added to by their owner, so a
 * reader sees each one as some value it really had.
 */
#include "stats.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

_Thread_local struct stats_block *stats_self;

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

static pthread_mutex_t stats_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t stats_once = PTHREAD_ONCE_INIT;
static pthread_key_t stats_key;
static struct stats_block *stats_blocks;          /* live threads' */
static struct stats_block stats_retired;          /* exited threads', summed */
static _Atomic uint64_t stats_spill[STAT__COUNT]; /* no memory for a block */

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

static struct stats_obj *
stats_table_find(const struct stats_table *t, int64_t id)
{
	size_t h;

	if (t->cap == 0)
		return NULL;
	h = stats_hash(id, t->cap);
	while (t->slots[h] != NULL) {
		if (t->slots[h]->id == id)
			return t->slots[h];
		h = (h + 1) & (t->cap - 1);
	}
	return NULL;
}

static int
stats_table_grow(struct stats_table *t)
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

/* Adds a zeroed object <id> to <t>. Caller holds stats_mu. */
static struct stats_obj *
stats_table_add(struct stats_table *t, int64_t id)
{
	struct stats_obj *o;
	size_t h;

	if ((t->n + 1) * 2 > t->cap && stats_table_grow(t) == -1)
		return NULL;
	if ((o = calloc(1, sizeof(*o))) == NULL)
		return NULL;
	o->id = id;
	h = stats_hash(id, t->cap);
	while (t->slots[h] != NULL)
		h = (h + 1) & (t->cap - 1);
	t->slots[h] = o;
	t->n++;
	return o;
}

void
stats_obj_merge(struct stats_obj *into, const struct stats_obj *from)
{
	int i;

#define MERGE(f)                                                      \
	atomic_store_explicit(&into->f,                               \
	    atomic_load_explicit(&into->f, memory_order_relaxed) +    \
	        atomic_load_explicit(&from->f, memory_order_relaxed), \
	    memory_order_relaxed)
	MERGE(requests);
	for (i = 0; i < 6; i++)
		MERGE(status[i]);
	MERGE(bytes_in);
	MERGE(bytes_out);
	MERGE(errors);
	MERGE(active);
	MERGE(time_us);
	MERGE(unmatched);
#undef MERGE
}

/* Thread exit: the block's counts go to stats_retired. */
static void
stats_block_fold(void *arg)
{
	struct stats_block *b = arg, **pp;
	struct stats_table *t;
	struct stats_obj *o;
	size_t k, i;

	pthread_mutex_lock(&stats_mu);
	for (pp = &stats_blocks; *pp != NULL; pp = &(*pp)->next)
		if (*pp == b) {
			*pp = b->next;
			break;
		}
	for (i = 0; i < STAT__COUNT; i++)
		stats_add(&stats_retired.g[i],
		    atomic_load_explicit(&b->g[i], memory_order_relaxed));
	for (k = 0; k < STATS__KINDS; k++) {
		t = &b->tables[k];
		for (i = 0; i < t->cap; i++) {
			if (t->slots[i] == NULL)
				continue;
			if ((o = stats_table_find(&stats_retired.tables[k],
			         t->slots[i]->id)) != NULL ||
			    (o = stats_table_add(&stats_retired.tables[k],
			         t->slots[i]->id)) != NULL)
				stats_obj_merge(o, t->slots[i]);
			free(t->slots[i]);
		}
		free(t->slots);
	}
	pthread_mutex_unlock(&stats_mu);
	if (stats_self == b)
		stats_self = NULL;
	free(b);
}

static void
stats_key_init(void)
{
	if (pthread_key_create(&stats_key, stats_block_fold) != 0)
		abort();
}

/* This thread's block, made now if needed; NULL on no memory. */
static struct stats_block *
stats_me(void)
{
	struct stats_block *b;

	if (stats_self != NULL)
		return stats_self;
	(void)pthread_once(&stats_once, stats_key_init);
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	if (pthread_setspecific(stats_key, b) != 0) {
		free(b);
		return NULL;
	}
	pthread_mutex_lock(&stats_mu);
	b->next = stats_blocks;
	stats_blocks = b;
	pthread_mutex_unlock(&stats_mu);
	stats_self = b;
	return b;
}

void
stats_inc_slow(enum stat_id id, uint64_t n)
{
	struct stats_block *b = stats_me();

	if (b != NULL)
		stats_add(&b->g[id], n);
	else /* shared by every thread without a block: a real RMW */
		atomic_fetch_add_explicit(&stats_spill[id], n,
		    memory_order_relaxed);
}

uint64_t
stats_get(enum stat_id id)
{
	const struct stats_block *b;
	uint64_t sum;

	pthread_mutex_lock(&stats_mu);
	sum = atomic_load_explicit(&stats_spill[id], memory_order_relaxed) +
	    atomic_load_explicit(&stats_retired.g[id], memory_order_relaxed);
	for (b = stats_blocks; b != NULL; b = b->next)
		sum += atomic_load_explicit(&b->g[id], memory_order_relaxed);
	pthread_mutex_unlock(&stats_mu);
	return sum;
}

struct stats_obj *
stats_obj(enum stats_kind kind, int64_t id)
{
	struct stats_block *b;
	struct stats_obj *o;

	ASSERT(kind < STATS__KINDS);
	if ((b = stats_me()) == NULL)
		return NULL;
	if ((o = stats_table_find(&b->tables[kind], id)) != NULL)
		return o;
	pthread_mutex_lock(&stats_mu);
	o = stats_table_add(&b->tables[kind], id);
	pthread_mutex_unlock(&stats_mu);
	return o;
}

static int
stats_cmp_id(const void *a, const void *b)
{
	const struct stats_obj *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static size_t
stats_copy_table(struct stats_obj *out, const struct stats_table *t)
{
	size_t i, n = 0;

	for (i = 0; i < t->cap; i++)
		if (t->slots[i] != NULL) {
			memset(&out[n], 0, sizeof(out[n]));
			out[n].id = t->slots[i]->id;
			stats_obj_merge(&out[n], t->slots[i]);
			n++;
		}
	return n;
}

void
stats_foreach(enum stats_kind kind,
    void (*fn)(const struct stats_obj *o, void *arg), void *arg)
{
	const struct stats_block *b;
	struct stats_obj *all;
	size_t n = 0, max, i, j;

	ASSERT(kind < STATS__KINDS);
	/* Copy every thread's objects of <kind> under the mutex ... */
	pthread_mutex_lock(&stats_mu);
	max = stats_retired.tables[kind].n;
	for (b = stats_blocks; b != NULL; b = b->next)
		max += b->tables[kind].n;
	if ((all = calloc(max > 0 ? max : 1, sizeof(*all))) == NULL) {
		pthread_mutex_unlock(&stats_mu);
		return;
	}
	n = stats_copy_table(all, &stats_retired.tables[kind]);
	for (b = stats_blocks; b != NULL; b = b->next)
		n += stats_copy_table(all + n, &b->tables[kind]);
	pthread_mutex_unlock(&stats_mu);
	/* ... then sum the copies of each id, in id order. */
	qsort(all, n, sizeof(*all), stats_cmp_id);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && all[j].id == all[i].id; j++)
			stats_obj_merge(&all[i], &all[j]);
		fn(&all[i], arg);
	}
	free(all);
}
