/*
 * balance_passive.c: passive health (origin "passive_health").
 *
 * Every answer a server gives a request counts: connect errors,
 * timeouts, resets, bad responses and the listed statuses are failures,
 * anything else resets the run. consecutive_failures in a row eject the
 * server for eject_s seconds, doubled when it fails again soon after
 * coming back (server_live.c), unless that would put more than
 * max_ejected_percent of the origin's servers out at once. An ejected
 * server is no candidate (balance.c), as a server failing its active
 * check is not: the two combine.
 */
#include "balance.h"
#include "log.h"
#include "server_live.h"

static void
passive_fail(const struct cfg_server *s)
{
	const struct cfg_origin *o = s->origin;
	uint64_t now;
	size_t i, out = 0;
	unsigned secs;

	if (server_live_failure(s->id) < o->ph_failures)
		return;
	now = server_live_now_us();
	if (server_live_ejected(s->id, now))
		return;
	for (i = 0; i < o->nservers; i++)
		if (server_live_ejected(o->servers[i].id, now))
			out++;
	if ((out + 1) * 100 > (size_t)o->ph_max_ejected_percent * o->nservers) {
		log_debug("origin %s server %s: not ejected, %zu of %zu are",
		    o->name, s->label, out, o->nservers);
		return;
	}
	secs = server_live_eject(s->id, o->ph_eject_s, now);
	log_warnx("origin %s server %s ejected for %us after %u failures",
	    o->name, s->label, secs, o->ph_failures);
}

void
balance_passive_status(const struct cfg_server *s, unsigned status)
{
	if (s == NULL || s->origin->ph_failures == 0)
		return;
	if (status < 640 &&
	    (s->origin->ph_statuses[status / 64] & (1ull << (status % 64))) !=
	        0)
		passive_fail(s);
	else
		server_live_success(s->id);
}

void
balance_passive_failure(const struct cfg_server *s)
{
	if (s != NULL && s->origin->ph_failures != 0)
		passive_fail(s);
}
