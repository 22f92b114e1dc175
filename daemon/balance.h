/*
 * balance.h: choosing the server of an origin for one request.
 *
 * Smooth weighted round-robin (as nginx does it): every candidate gains
 * its weight, the richest is chosen and pays the total back. The caller
 * keeps the running weights (one long per server, per worker: no locks).
 * With health checks on, servers that failed them get nothing unless all
 * did (then everyone is tried, as nginx does); servers in <avoid> (already
 * tried for this request) are never chosen.
 */
#ifndef GH_BALANCE_H
#define GH_BALANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"

/* Whether server <id> passed its health checks. */
typedef bool (*balance_usable_fn)(int64_t id);

/* Returns the index in o->servers of the chosen server, or -1 when every
 * one is avoided. <cw> holds o->nservers running weights.
 */
long balance_pick(const struct cfg_origin *o, long *cw,
    balance_usable_fn usable, const int64_t *avoid, size_t navoid);

#endif
