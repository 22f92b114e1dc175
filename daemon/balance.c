/*
 * balance.c: server choice (balance.h).
 */
#include "balance.h"

static bool
balance_avoided(int64_t id, const int64_t *avoid, size_t navoid)
{
	size_t j;

	for (j = 0; j < navoid; j++)
		if (avoid[j] == id)
			return true;
	return false;
}

long
balance_pick(const struct cfg_origin *o, long *cw, balance_usable_fn usable,
    const int64_t *avoid, size_t navoid)
{
	bool healthy_only = o->health.enabled && usable != NULL;
	long total = 0;
	size_t i, best = SIZE_MAX;

	if (healthy_only) {
		for (i = 0; i < o->nservers; i++)
			if (usable(o->servers[i].id))
				break;
		healthy_only = i < o->nservers;
	}
again:
	for (i = 0; i < o->nservers; i++) {
		if (balance_avoided(o->servers[i].id, avoid, navoid))
			continue;
		if (healthy_only && !usable(o->servers[i].id))
			continue;
		cw[i] += (long)o->servers[i].weight;
		total += (long)o->servers[i].weight;
		if (best == SIZE_MAX || cw[i] > cw[best])
			best = i;
	}
	if (best == SIZE_MAX && healthy_only) {
		healthy_only = false; /* the healthy ones were avoided */
		goto again;
	}
	if (best == SIZE_MAX)
		return -1;
	cw[best] -= total;
	return (long)best;
}
