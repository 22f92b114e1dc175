/*
 * balance_queue.c: requests waiting for a server (origin "queue").
 *
 * When every server of an origin is at its max_connections (or
 * draining, or disabled), proxy_start() parks the request here instead
 * of answering 503, if the origin has a queue with room and the request
 * can wait (no body, or the whole body already held). A parked request
 * holds its connection (conn_enter()) and polls every BQ_POLL_MS on its
 * worker for a server; when one is open it starts again through
 * proxy_start(), when timeout_ms passes it gets 503. How many wait is
 * counted per origin over all workers (server_live.c), so "max" is the
 * appliance's. A client that goes away while parked is freed at the
 * next poll.
 */
#include <stdlib.h>

#include <event2/event.h>

#include "balance.h"
#include "conn.h"
#include "proxy.h"
#include "server_live.h"
#include "worker.h"

#define BQ_POLL_MS 5

struct bq_wait {
	struct conn *c;    /* entered: kept alive while we wait */
	struct event *ev;  /* owned */
	int64_t origin_id; /* counted in its queue */
	uint64_t deadline; /* server_live_now_us() */
};

/* Set while a timed-out request goes through proxy_start() one last
 * time: it must answer 503, not wait again.
 */
static _Thread_local bool bq_expired;

static void
bq_arm(struct bq_wait *q)
{
	struct timeval tv = { 0, BQ_POLL_MS * 1000 };

	evtimer_add(q->ev, &tv);
}

static void
bq_done(struct bq_wait *q)
{
	server_live_queue_leave(q->origin_id);
	event_free(q->ev);
	free(q);
}

static void
bq_poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bq_wait *q = arg;
	struct conn *c = q->c;
	bool expired;

	(void)fd;
	(void)what;
	if (c->flags & CONN_F_DEAD) {
		bq_done(q);
		(void)conn_leave(c); /* frees it */
		return;
	}
	expired = server_live_now_us() >= q->deadline;
	if (!expired && balance_server(c, NULL, 0) == NULL) {
		bq_arm(q);
		return;
	}
	bq_done(q);
	bq_expired = expired;
	(void)proxy_start(c);
	bq_expired = false;
	(void)conn_leave(c);
}

int
balance_queue_park(struct conn *c)
{
	struct req *r = c->req;
	const struct cfg_origin *o = r->route->origin;
	struct bq_wait *q;

	if (bq_expired || o->queue_max == 0 ||
	    ((r->flags & REQ_F_HAS_BODY) && !(r->flags & REQ_F_BODY_BUFFERED)))
		return -1;
	if (!server_live_queue_enter(o->id, o->queue_max))
		return -1;
	if ((q = calloc(1, sizeof(*q))) == NULL ||
	    (q->ev = evtimer_new(c->w->base, bq_poll_cb, q)) == NULL) {
		free(q);
		server_live_queue_leave(o->id);
		return -1;
	}
	q->c = c;
	q->origin_id = o->id;
	q->deadline =
	    server_live_now_us() + (uint64_t)o->queue_timeout_ms * 1000;
	conn_enter(c);
	bq_arm(q);
	return 0;
}
