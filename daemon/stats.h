/*
 * stats.h: counters. Global ones come from stats_tbl.h; per-object ones
 * (route, origin, server) are keyed by the object's stable id, so they
 * survive configuration swaps. All are relaxed atomics: workers write,
 * the API reads.
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

extern _Atomic uint64_t stats_global[STAT__COUNT];

static inline void
stats_inc(enum stat_id id)
{
	atomic_fetch_add_explicit(&stats_global[id], 1, memory_order_relaxed);
}

static inline uint64_t
stats_get(enum stat_id id)
{
	return atomic_load_explicit(&stats_global[id], memory_order_relaxed);
}

const char *stats_name(enum stat_id id);
const char *stats_help(enum stat_id id);

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
};

/* The counters of object <id> of <kind>, created on first use and never
 * freed (ids are few). NULL only if memory runs out.
 */
struct stats_obj *stats_obj(enum stats_kind kind, int64_t id);

/* The same as stats_obj(), from a per-thread cache of STATS_CACHE_SLOTS
 * entries per kind: no lock once the thread has seen <id>. For the request
 * path.
 */
#define STATS_CACHE_SLOTS 128
struct stats_obj *stats_obj_cached(enum stats_kind kind, int64_t id);

/* Calls <fn> for every object of <kind> seen so far. */
void stats_foreach(enum stats_kind kind,
    void (*fn)(const struct stats_obj *o, void *arg), void *arg);

static inline void
stats_add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static inline void
stats_sub(_Atomic uint64_t *c, uint64_t n)
{
	atomic_fetch_sub_explicit(c, n, memory_order_relaxed);
}

#endif
