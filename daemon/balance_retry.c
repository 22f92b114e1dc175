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
 *
 * A status the server answered itself (503, 502, ... as "on" lists them)
 * is retried on the same terms, but only on a server not tried yet:
 * proxy_on_response_head() asks balance_retry_status() before anything
 * of the answer reaches the client; when it says yes the head is refused
 * (the parser stops, the connection and the answer are dropped) and
 * proxy_on_upstream_fail() sends the request on through
 * balance_retry_dropped(). Otherwise the answer is passed on.
 */
#include "balance.h"
#include "conn.h"
#include "log.h"
#include "proxy.h"
#include "server_live.h"
#include "stats.h"
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

static enum stat_id
retry_stat(enum upstream_fail why)
{
	switch (why) {
	case UPSTREAM_FAIL_CONNECT:
		return STAT_RETRY_CONNECT;
	case UPSTREAM_FAIL_CONNECT_TIMEOUT:
	case UPSTREAM_FAIL_RESPONSE_TIMEOUT:
	case UPSTREAM_FAIL_IDLE_TIMEOUT:
		return STAT_RETRY_TIMEOUT;
	case UPSTREAM_FAIL_BAD_RESPONSE:
	case UPSTREAM_FAIL_CLOSED:
		break;
	}
	return STAT_RETRY_RESET;
}

/* The bit of "on" naming a status the server itself answered; 0 when
 * none does.
 */
static unsigned
status_bit(unsigned status)
{
	switch (status) {
	case 404:
		return CFG_RETRY_404;
	case 408:
		return CFG_RETRY_408;
	case 425:
		return CFG_RETRY_425;
	case 429:
		return CFG_RETRY_429;
	case 500:
		return CFG_RETRY_500;
	case 501:
		return CFG_RETRY_501;
	case 502:
		return CFG_RETRY_502;
	case 503:
		return CFG_RETRY_503;
	case 504:
		return CFG_RETRY_504;
	}
	return 0;
}

void
balance_retry_count(const struct cfg_route *rt)
{
	if (rt->retry_attempts > 0)
		server_live_budget_add(rt->id, rt->retry_budget_percent);
}

/* The server the request of <c> is to be tried again on, for a failure
 * or status in <bits> of its route's "on": NULL when it is not to be
 * (not listed, not safe to repeat, no tries left, budget spent, or no
 * server left; with <other_only>, no server not tried yet). Takes one
 * retry of the budget when it returns a server.
 */
static const struct cfg_server *
retry_next(struct conn *c, unsigned bits, bool other_only)
{
	struct req *r = c->req;
	const struct cfg_route *rt = r->route;
	const struct cfg_server *s;
	size_t n, i;

	if (rt == NULL || rt->retry_attempts == 0 || r->server == NULL ||
	    r->retries >= rt->retry_attempts || (rt->retry_on & bits) == 0 ||
	    req_out_started(r) || (r->flags & REQ_F_UPGRADE) != 0 ||
	    ((r->flags & REQ_F_HAS_BODY) &&
	        !(r->flags & REQ_F_BODY_BUFFERED)) ||
	    (r->msg.method & RETRY_IDEMPOTENT) == 0)
		return NULL;
	n = r->retries < 4 ? r->retries : 4;
	if (n == 4) /* keep the newest */
		for (i = 1; i < 4; i++)
			r->tried[i - 1] = r->tried[i];
	r->tried[n < 4 ? n : 3] = r->server->id;
	n = n < 4 ? n + 1 : 4;
	if ((s = balance_server(c, r->tried, n)) == NULL && !other_only)
		s = upstream_choose(c->w->pools, rt->origin, NULL);
	if (s == NULL || (other_only && s->id == r->server->id))
		return NULL;
	if (!server_live_budget_take(rt->id, 100, RETRY_RESERVE)) {
		stats_inc(STAT_RETRY_BUDGET_SPENT);
		log_debug("route %s: retry budget spent", rt->name);
		return NULL;
	}
	return s;
}

/* Sends the request of <c> again, on <s>. */
static int
retry_send(struct conn *c, const struct cfg_server *s, enum stat_id why)
{
	struct req *r = c->req;

	stats_inc(why);
	log_debug("route %s: retrying on %s (%u of %u)", r->route->name,
	    s->label, r->retries + 1, r->route->retry_attempts);
	upstream_release(r->up, false);
	r->retries++;
	return proxy_resend(c, s);
}

int
balance_retry(struct conn *c, int why)
{
	const struct cfg_server *s;

	s = retry_next(c, retry_bits((enum upstream_fail)why), false);
	if (s == NULL)
		return -1;
	return retry_send(c, s, retry_stat((enum upstream_fail)why));
}

bool
balance_retry_status(struct conn *c, unsigned status)
{
	struct req *r = c->req;
	unsigned bit = status_bit(status);

	if (bit == 0 || r->route == NULL || (r->route->retry_on & bit) == 0)
		return false;
	r->retry_to = retry_next(c, bit, true);
	return r->retry_to != NULL;
}

int
balance_retry_dropped(struct conn *c)
{
	const struct cfg_server *s = c->req->retry_to;

	c->req->retry_to = NULL;
	return retry_send(c, s, STAT_RETRY_STATUS);
}
