/*
 * stats.h: counters. Global ones come from stats_tbl.h; per-object ones
 * (route, origin, server, listener) are keyed by the object's stable id,
 * so they survive configuration swaps.
 *
 * Every thread counts into its own block (global counters and a table of
 * objects), created the first time it counts: the request path takes no
 * lock and no shared atomic, and a counter has exactly one writer, so an
 * addition is a plain load and store (relaxed atomics, for the readers).
 * Readers (the API) merge every thread's block under the registry mutex:
 * stats_get() and stats_foreach() give exact totals of what was counted
 * before they were called. A thread that exits folds its block into the
 * retired one, so nothing it counted is lost.
 */
#ifndef GH_STATS_H
#define GH_STATS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

enum stat_id {
#define STAT(id, name, help) STAT_##id,
#include "stats_tbl.h"
#undef STAT
	STAT__COUNT
};

enum stats_kind {
	STATS_ROUTE = 0,
	STATS_ORIGIN,
	STATS_SERVER,
	STATS_LISTENER, /* connections or UDP sessions (accept.c) */
	STATS__KINDS,
};

struct stats_obj {
	int64_t id;
	_Atomic uint64_t requests;
	_Atomic uint64_t status[6]; /* [1..5]: 1xx..5xx; [0]: no response */
	_Atomic uint64_t bytes_in;  /* request bytes from clients */
	_Atomic uint64_t bytes_out; /* response bytes to clients */
	_Atomic uint64_t errors;    /* connect/response failures */
	_Atomic uint64_t active;    /* requests in flight */
	_Atomic uint64_t time_us;   /* answered requests' durations, summed */
	_Atomic uint64_t unmatched; /* listeners: requests (L4: connections,
	                             * UDP: datagrams) no route took */
};

struct stats_table {
	struct stats_obj **slots; /* open addressing, cap a power of 2 */
	size_t cap, n;
};

/* One thread's counters (stats.c). Only the owner writes them. */
struct stats_block {
	_Atomic uint64_t g[STAT__COUNT];
	struct stats_table tables[STATS__KINDS];
	struct stats_block *next;
};

extern _Thread_local struct stats_block *stats_self;

/* Counts <n> for <id> in a thread without a block yet (it makes one). */
void stats_inc_slow(enum stat_id id, uint64_t n);

/* Adds <n> to a counter of this thread's block (one writer: no RMW). */
static inline void
stats_add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c,
	    atomic_load_explicit(c, memory_order_relaxed) + n,
	    memory_order_relaxed);
}

static inline void
stats_sub(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c,
	    atomic_load_explicit(c, memory_order_relaxed) - n,
	    memory_order_relaxed);
}

static inline void
stats_inc(enum stat_id id)
{
	struct stats_block *b = stats_self;

	if (b != NULL)
		stats_add(&b->g[id], 1);
	else
		stats_inc_slow(id, 1);
}

/* The total of <id> over every thread (takes the registry mutex). */
uint64_t stats_get(enum stat_id id);

const char *stats_name(enum stat_id id);
const char *stats_help(enum stat_id id);

/* This thread's counters of object <id> of <kind>, created on first use
 * (under the registry mutex, once per thread and object) and kept until
 * the thread exits. NULL only if memory runs out. Write them with
 * stats_add()/stats_sub() from this thread only.
 */
struct stats_obj *stats_obj(enum stats_kind kind, int64_t id);

/* The same (the name the request path used when this was a cache). */
#define stats_obj_cached(kind, id) stats_obj((kind), (id))

/* Counts, on listener <lid>, one request (connection, datagram) that no
 * route took.
 */
static inline void
stats_unmatched(int64_t lid)
{
	struct stats_obj *o = stats_obj(STATS_LISTENER, lid);

	if (o != NULL)
		stats_add(&o->unmatched, 1);
}

/* Adds every counter of <from> into <into> (not the id). */
void stats_obj_merge(struct stats_obj *into, const struct stats_obj *from);

/* Calls <fn>, in id order, with the merged counters of every object of
 * <kind> any thread has seen. <fn> runs without the mutex held.
 */
void stats_foreach(enum stats_kind kind,
    void (*fn)(const struct stats_obj *o, void *arg), void *arg);

#endif
