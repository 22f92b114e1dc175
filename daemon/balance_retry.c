/*
 * balance_retry.c: a route's retries (route "retries").
 *
 * A request that failed on its server (connect error, timeout, reset or
 * a bad response; proxy_on_upstream_fail()) is sent again when the
 * route's "on" names that failure, it is safe to repeat (an idempotent
 * method, and no body or one held whole), nothing of the response has
 * reached the client, it has tries left, and the route's budget allows:
 * each request adds budget_percent hundredths of a retry, each retry
 * takes one, with a reserve of 10 to start with (over all workers,
 * server_live.c). The new try goes to a server not tried yet when there
 * is one, on a new connection.
 */
#include "balance.h"
#include "conn.h"
#include "log.h"
#include "proxy.h"
#include "server_live.h"
#include "upstream.h"
#include "worker.h"

#define RETRY_IDEMPOTENT                                                     \
	(CFG_M_GET | CFG_M_HEAD | CFG_M_PUT | CFG_M_DELETE | CFG_M_OPTIONS | \
	    CFG_M_TRACE)
#define RETRY_RESERVE 1000u /* hundredths: 10 retries */

static unsigned
retry_bits(enum upstream_fail why)
{
	switch (why) {
	case UPSTREAM_FAIL_CONNECT:
		return CFG_RETRY_CONNECT_ERROR | CFG_RETRY_502;
	case UPSTREAM_FAIL_CONNECT_TIMEOUT:
	case UPSTREAM_FAIL_RESPONSE_TIMEOUT:
		return CFG_RETRY_TIMEOUT | CFG_RETRY_504;
	case UPSTREAM_FAIL_BAD_RESPONSE:
	case UPSTREAM_FAIL_CLOSED:
		return CFG_RETRY_RESET | CFG_RETRY_502;
	case UPSTREAM_FAIL_IDLE_TIMEOUT:
		break; /* the response had begun */
	}
	return 0;
}

void
balance_retry_count(const struct cfg_route *rt)
{
	if (rt->retry_attempts > 0)
		server_live_budget_add(rt->id, rt->retry_budget_percent);
}

int
balance_retry(struct conn *c, int why)
{
	struct req *r = c->req;
	const struct cfg_route *rt = r->route;
	const struct cfg_server *s;
	size_t n, i;

	if (rt == NULL || rt->retry_attempts == 0 || r->server == NULL ||
	    r->retries >= rt->retry_attempts ||
	    (rt->retry_on & retry_bits((enum upstream_fail)why)) == 0 ||
	    (r->flags & (REQ_F_RESP_STARTED | REQ_F_UPGRADE)) != 0 ||
	    ((r->flags & REQ_F_HAS_BODY) &&
	        !(r->flags & REQ_F_BODY_BUFFERED)) ||
	    (c->req->msg.method & RETRY_IDEMPOTENT) == 0)
		return -1;
	if (!server_live_budget_take(rt->id, 100, RETRY_RESERVE)) {
		log_debug("route %s: retry budget spent", rt->name);
		return -1;
	}
	n = r->retries < 4 ? r->retries : 4;
	if (n == 4) /* keep the newest */
		for (i = 1; i < 4; i++)
			r->tried[i - 1] = r->tried[i];
	r->tried[n < 4 ? n : 3] = r->server->id;
	n = n < 4 ? n + 1 : 4;
	if ((s = balance_server(c, r->tried, n)) == NULL)
		s = upstream_choose(c->w->pools, rt->origin, NULL);
	if (s == NULL)
		return -1;
	log_debug("route %s: retrying on %s (%u of %u)", rt->name, s->label,
	    r->retries + 1, rt->retry_attempts);
	upstream_release(r->up, false);
	r->retries++;
	return proxy_resend(c, s);
}
