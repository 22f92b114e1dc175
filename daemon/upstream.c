/*
 * upstream.c: origin connections, keep-alive pools and server choice.
 *
 * Each worker has one struct upstream_pools: a pool of idle connections
 * per server (keyed by the server's stable id and address) and a smooth
 * weighted round-robin state per origin. Pools are created and dropped by
 * upstream_pools_reconcile() when the worker takes a snapshot; idle
 * connections of a server that went away are closed then. A busy
 * connection belongs to exactly one owner (upstream.h): its events become
 * calls of the owner's struct upstream_owner_ops, bracketed by the owner's
 * enter/leave, and nothing else of the owner is read here.
 */
#include "upstream.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "balance.h"
#include "cfg.h"
#include "check.h"
#include "clock.h"
#include "health.h"
#include "http1.h"
#include "log.h"
#include "proxy.h"
#include "server_live.h"
#include "stats.h"
#include "tls.h"
#include "worker.h"

#define UPOOL_BUCKETS     64
#define UPSTREAM_FEED_MAX (64 * 1024)
/* Space reserved for one read: a 64 KiB evbuffer chain with its header,
 * so a 16 KiB answer and its head come in one readv(2).
 */
#define UPSTREAM_READ_CHUNK (64 * 1024 - 128)
/* A response deadline this close is taken as reached (the coarse clock
 * and an early wake-up, as sockread's SOCKREAD_TMO_SLACK_MS).
 */
#define UPSTREAM_TMR_SLACK_MS 10

TAILQ_HEAD(upstream_list, upstream_conn);

struct upool {
	int64_t server_id;
	struct sockaddr_storage sa;
	socklen_t salen;
	struct upstream_list idle;
	unsigned nidle;
	bool seen; /* mark for reconcile */
	struct upool *next;
};

struct wrr {
	int64_t origin_id;
	size_t n;
	int64_t *ids;
	long *cw;
	struct wrr *next;
};

struct upstream_pools {
	struct worker *w;
	struct upool *buckets[UPOOL_BUCKETS];
	struct wrr *wrrs;
};

static void upstream_read_cb(struct bufferevent *bev, void *arg);
static void upstream_write_cb(struct bufferevent *bev, void *arg);
static void upstream_event_cb(struct bufferevent *bev, short what, void *arg);
static void upstream_free(struct upstream_conn *u);
static void upstream_idle_cb(struct bufferevent *bev, void *arg);

static int up_on_head(void *arg, struct http_msg *m);
static int up_on_body(void *arg, const char *p, size_t n);
static int up_on_complete(void *arg);

static const struct http1_callbacks upstream_cbs = {
	.on_head = up_on_head,
	.on_body = up_on_body,
	.on_complete = up_on_complete,
};

static const struct http1_limits upstream_limits = {
	.max_request_line = HTTP1_DEF_MAX_REQUEST_LINE,
	.max_header_bytes = 64 * 1024,
	.max_headers = 200,
};

static size_t
upool_bucket(int64_t id)
{
	return (size_t)((uint64_t)id * 0x9e3779b97f4a7c15ull >> 58) %
	    UPOOL_BUCKETS;
}

static struct upool *
upool_find(struct upstream_pools *p, int64_t id)
{
	struct upool *pl;

	for (pl = p->buckets[upool_bucket(id)]; pl != NULL; pl = pl->next)
		if (pl->server_id == id)
			return pl;
	return NULL;
}

struct upstream_pools *
upstream_pools_new(struct worker *w)
{
	struct upstream_pools *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->w = w;
	return p;
}

static void
upool_drop_idle(struct upool *pl)
{
	struct upstream_conn *u;

	while ((u = TAILQ_FIRST(&pl->idle)) != NULL) {
		TAILQ_REMOVE(&pl->idle, u, link);
		pl->nidle--;
		upstream_free(u);
	}
}

void
upstream_pools_free_idle(struct upstream_pools *p)
{
	struct upool *pl;
	size_t i;

	for (i = 0; i < UPOOL_BUCKETS; i++)
		for (pl = p->buckets[i]; pl != NULL; pl = pl->next)
			upool_drop_idle(pl);
}

static void
wrr_free(struct wrr *s)
{
	free(s->ids);
	free(s->cw);
	free(s);
}

void
upstream_pools_free(struct upstream_pools *p)
{
	struct upool *pl, *next;
	struct wrr *s;
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < UPOOL_BUCKETS; i++)
		for (pl = p->buckets[i]; pl != NULL; pl = next) {
			next = pl->next;
			upool_drop_idle(pl);
			free(pl);
		}
	while ((s = p->wrrs) != NULL) {
		p->wrrs = s->next;
		wrr_free(s);
	}
	free(p);
}

void
upstream_pools_reconcile(struct upstream_pools *p, const struct cfg *c)
{
	struct upool *pl, **pp;
	struct wrr *s, **sp;
	size_t i, j;
	bool keep;

	for (i = 0; i < UPOOL_BUCKETS; i++)
		for (pl = p->buckets[i]; pl != NULL; pl = pl->next)
			pl->seen = false;
	for (i = 0; i < c->norigins; i++)
		for (j = 0; j < c->origins[i].nservers; j++) {
			const struct cfg_server *sv = &c->origins[i].servers[j];

			pl = upool_find(p, sv->id);
			if (pl != NULL &&
			    (pl->salen != sv->salen ||
			        memcmp(&pl->sa, &sv->sa, sv->salen) != 0)) {
				/* Same server id, new address: old idle
				 * connections go to the wrong place.
				 */
				upool_drop_idle(pl);
				pl->sa = sv->sa;
				pl->salen = sv->salen;
			}
			if (pl == NULL) {
				if ((pl = calloc(1, sizeof(*pl))) == NULL)
					continue; /* no pooling for it */
				pl->server_id = sv->id;
				pl->sa = sv->sa;
				pl->salen = sv->salen;
				TAILQ_INIT(&pl->idle);
				pl->next = p->buckets[upool_bucket(sv->id)];
				p->buckets[upool_bucket(sv->id)] = pl;
			}
			pl->seen = true;
		}
	for (i = 0; i < UPOOL_BUCKETS; i++)
		for (pp = &p->buckets[i]; (pl = *pp) != NULL;) {
			if (pl->seen) {
				pp = &pl->next;
				continue;
			}
			*pp = pl->next;
			upool_drop_idle(pl);
			free(pl);
		}
	for (sp = &p->wrrs; (s = *sp) != NULL;) {
		keep = cfg_origin_by_id(c, s->origin_id) != NULL;
		if (keep) {
			sp = &s->next;
			continue;
		}
		*sp = s->next;
		wrr_free(s);
	}
}

static struct wrr *
wrr_get(struct upstream_pools *p, const struct cfg_origin *o)
{
	struct wrr *s;
	size_t i;

	for (s = p->wrrs; s != NULL; s = s->next)
		if (s->origin_id == o->id)
			break;
	if (s != NULL && s->n == o->nservers) {
		for (i = 0; i < s->n; i++)
			if (s->ids[i] != o->servers[i].id)
				break;
		if (i == s->n)
			return s;
	}
	if (s == NULL) {
		if ((s = calloc(1, sizeof(*s))) == NULL)
			return NULL;
		s->origin_id = o->id;
		s->next = p->wrrs;
		p->wrrs = s;
	}
	free(s->ids);
	free(s->cw);
	s->n = o->nservers;
	s->ids = calloc(s->n ? s->n : 1, sizeof(*s->ids));
	s->cw = calloc(s->n ? s->n : 1, sizeof(*s->cw));
	if (s->ids == NULL || s->cw == NULL) {
		s->n = 0;
		return NULL;
	}
	for (i = 0; i < s->n; i++)
		s->ids[i] = o->servers[i].id;
	return s;
}

const struct cfg_server *
upstream_choose(struct upstream_pools *p, const struct cfg_origin *o,
    const struct balance_req *br)
{
	struct wrr *s;
	long i;

	if (o->nservers == 0)
		return NULL;
	if (o->nservers == 1 && o->servers[0].state == CFG_SERVER_ACTIVE &&
	    o->servers[0].max_connections == 0)
		return br == NULL || br->navoid == 0 ? &o->servers[0] : NULL;
	if ((s = wrr_get(p, o)) == NULL)
		return &o->servers[0];
	i = balance_choose(o, s->cw, health_usable, br);
	return i < 0 ? NULL : &o->servers[i];
}

const struct cfg_server *
upstream_pick(struct upstream_pools *p, const struct cfg_origin *o,
    const int64_t *avoid, size_t navoid)
{
	struct balance_req br = { .avoid = avoid, .navoid = navoid };

	return upstream_choose(p, o, &br);
}

static void
upstream_free(struct upstream_conn *u)
{
	if (u == NULL)
		return;
	CHECK_OBJ(u, UPSTREAM_MAGIC);
	sockread_fini(&u->rd); /* before the bufferevent closes the fd */
	if (u->tls != NULL) {
		/* What waits goes (a tunnel's last bytes), then our
		 * close_notify; neither blocks.
		 */
		if (tls_conn_established(u->tls) && u->tls_out != NULL &&
		    evbuffer_get_length(u->tls_out) > 0)
			(void)tls_conn_send(u->tls, u->tls_out);
		tls_conn_close_notify(u->tls);
		tls_conn_free(u->tls); /* before the queue it writes to */
	}
	if (u->tls_out != NULL)
		evbuffer_free(u->tls_out);
	if (u->tls_ev != NULL)
		event_free(u->tls_ev);
	if (u->bev != NULL)
		bufferevent_free(u->bev);
	if (u->tmr != NULL)
		event_free(u->tmr);
	http1_free(u->parser);
	http_msg_fini(&u->resp);
	cfg_unref(u->tls_cfg); /* after the session that used it */
	u->magic = 0;
	free(u);
}

static void
ms_to_tv(unsigned ms, struct timeval *tv)
{
	tv->tv_sec = ms / 1000;
	tv->tv_usec = (ms % 1000) * 1000;
}

/* <tmr> pending for <ms> from <now>. */
static void
upstream_tmr_arm(struct upstream_conn *u, uint64_t now, unsigned ms)
{
	struct timeval tv;

	ms_to_tv(ms, &tv);
	evtimer_add(u->tmr, &tv);
	u->tmr_at = now + ms;
}

static void
upstream_tmr_stop(struct upstream_conn *u)
{
	evtimer_del(u->tmr);
	u->tmr_at = 0;
}

/* The response head is due within <ms>. The timer is moved lazily, as
 * sockread's read timeout is: it is armed only when none is pending that
 * fires no later than the new deadline, and the head's arrival or the
 * release only clears the deadline. A timer that fires early re-arms for
 * what is left, or does nothing when no head is awaited; so a keep-alive
 * origin connection in steady use arms it about once per <ms>, not
 * twice (add and delete) per request.
 */
static void
upstream_response_deadline(struct upstream_conn *u, unsigned ms)
{
	uint64_t now = clock_coarse_ms();

	u->resp_deadline = now + ms;
	if (u->tmr_at != 0 && u->tmr_at <= u->resp_deadline)
		return;
	upstream_tmr_arm(u, now, ms);
}

static void
upstream_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct upstream_conn *u = arg;
	const struct upstream_owner_ops *ops = u->ops;
	void *o = u->owner;
	uint64_t now;

	CHECK_OBJ(u, UPSTREAM_MAGIC);
	u->tmr_at = 0;
	if (o == NULL)
		return;
	if (u->flags & (UPSTREAM_F_CONNECTED | UPSTREAM_F_REUSED)) {
		/* The response timer: early, or left from a head that came. */
		if (u->resp_deadline == 0)
			return;
		now = clock_coarse_ms();
		if (now + UPSTREAM_TMR_SLACK_MS < u->resp_deadline) {
			upstream_tmr_arm(u, now,
			    (unsigned)(u->resp_deadline - now));
			return;
		}
	}
	ops->enter(o);
	ops->on_fail(o,
	    (u->flags & UPSTREAM_F_CONNECTED) ? UPSTREAM_FAIL_RESPONSE_TIMEOUT
	                                      : UPSTREAM_FAIL_CONNECT_TIMEOUT);
	ops->leave(o);
}

static struct upstream_conn *
upstream_new(struct worker *w, const struct sockaddr_storage *sa,
    socklen_t salen, int64_t server_id)
{
	struct upstream_conn *u;

	if ((u = calloc(1, sizeof(*u))) == NULL)
		return NULL;
	u->magic = UPSTREAM_MAGIC;
	u->w = w;
	u->server_id = server_id;
	u->sa = *sa;
	u->salen = salen;
	http_msg_init(&u->resp);
	u->parser = http1_new(HTTP1_RESPONSE, &upstream_limits, &upstream_cbs,
	    u, &u->resp);
	u->bev = bufferevent_socket_new(w->base, -1, BEV_OPT_CLOSE_ON_FREE);
	u->tmr = evtimer_new(w->base, upstream_timer_cb, u);
	if (u->parser == NULL || u->bev == NULL || u->tmr == NULL) {
		upstream_free(u);
		return NULL;
	}
	bufferevent_setcb(u->bev, upstream_read_cb, upstream_write_cb,
	    upstream_event_cb, u);
	return u;
}

static void
upstream_read_timeout(struct upstream_conn *u, unsigned ms)
{
	sockread_set_timeout(&u->rd, ms);
}

static void
upstream_sock_read_cb(void *arg)
{
	struct upstream_conn *u = arg;

	if (u->owner == NULL)
		upstream_idle_cb(u->bev, u);
	else
		upstream_read_cb(u->bev, u);
}

static void
upstream_sock_event_cb(void *arg, short what)
{
	struct upstream_conn *u = arg;

	upstream_event_cb(u->bev, what, u);
}

/* TLS: plaintext was queued; it is encrypted once the current
 * callback is over (a head and its body leave as one write).
 */
static void
upstream_tls_added(struct evbuffer *b, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct upstream_conn *u = arg;

	if (info->n_added > 0)
		event_active(u->tls_ev, EV_WRITE, 0);
}

/* TLS: encrypts what waits, once the handshake is done (before, the
 * handshake's end comes back here: upstream_tls_decode()).
 */
static void
upstream_tls_out_cb(evutil_socket_t fd, short what, void *arg)
{
	struct upstream_conn *u = arg;
	size_t before;

	CHECK_OBJ(u, UPSTREAM_MAGIC);
	if (!(u->flags & UPSTREAM_F_CONNECTED) ||
	    !tls_conn_established(u->tls) ||
	    evbuffer_get_length(u->tls_out) == 0)
		return;
	before = upstream_pending(u);
	if (tls_conn_send(u->tls, u->tls_out) == -1) {
		upstream_event_cb(u->bev, BEV_EVENT_WRITING | BEV_EVENT_ERROR,
		    u);
		return;
	}
	/* Records the socket took at once pass no bufferevent, whose write
	 * callback would tell the owner that what held it back has gone.
	 */
	if (before > PROXY_LOW_WATER && upstream_pending(u) <= PROXY_LOW_WATER)
		upstream_write_cb(u->bev, u);
}

/* TLS: the sockread's decoder. */
static short
upstream_tls_decode(void *arg, struct evbuffer *raw, const char *p, size_t n,
    size_t *used, struct evbuffer *in)
{
	struct upstream_conn *u = arg;
	short end = tls_conn_recv(u->tls, raw, p, n, used, in);

	/* The handshake may have ended: what waited for it goes. */
	if (end == 0 && evbuffer_get_length(u->tls_out) > 0 &&
	    tls_conn_established(u->tls))
		event_active(u->tls_ev, EV_WRITE, 0);
	return end;
}

/* TLS origins: a client session on the connecting socket, read through
 * the sockread's decoder, writing records to the socket or behind the
 * bufferevent's queue; the owners' plaintext waits in tls_out. The
 * connection keeps the request's snapshot (whose credentials the session
 * uses) until it is freed. 0, or -1 (no memory).
 */
static int
upstream_tls(struct upstream_conn *u, struct cfg *cfg,
    const struct cfg_server *s)
{
	const struct cfg_origin *o = s->origin;
	char label[256];

	snprintf(label, sizeof(label), "origin %s server %s", o->name,
	    s->label);
	u->tls = tls_client_conn_new(o->tls, bufferevent_getfd(u->bev),
	    bufferevent_get_output(u->bev),
	    o->tls_sni != NULL ? o->tls_sni : s->address, label);
	u->tls_out = evbuffer_new();
	u->tls_ev = event_new(u->w->base, -1, 0, upstream_tls_out_cb, u);
	if (u->tls == NULL || u->tls_out == NULL || u->tls_ev == NULL ||
	    evbuffer_add_cb(u->tls_out, upstream_tls_added, u) == NULL)
		return -1;
	sockread_set_decoder(&u->rd, upstream_tls_decode);
	u->tls_cfg = cfg_ref(cfg);
	u->tls_key = tls_client_key(o->tls);
	return 0;
}

int
upstream_attach(struct worker *w, const struct upstream_owner *own,
    const struct cfg_server *s, unsigned connect_ms, unsigned idle_ms,
    bool fresh)
{
	struct upstream_pools *p = w->pools;
	struct upstream_conn *u = NULL;
	struct upool *pl;
	short en;

	pl = upool_find(p, s->id);
	if (pl != NULL && (u = TAILQ_FIRST(&pl->idle)) != NULL &&
	    u->tls_key != tls_client_key(s->origin->tls))
		upool_drop_idle(pl); /* the origin's TLS settings changed */
	u = NULL;
	if (!fresh && pl != NULL && (u = TAILQ_FIRST(&pl->idle)) != NULL) {
		TAILQ_REMOVE(&pl->idle, u, link);
		pl->nidle--;
		u->flags |= UPSTREAM_F_REUSED;
		bufferevent_setcb(u->bev, upstream_read_cb, upstream_write_cb,
		    upstream_event_cb, u);
		stats_inc(STAT_UP_CONN_REUSED);
	} else {
		if ((u = upstream_new(w, &s->sa, s->salen, s->id)) == NULL)
			return -1;
		/* Our reads, enabled once connected (TLS: decrypted). */
		if (bufferevent_socket_connect(u->bev,
		        (const struct sockaddr *)&s->sa, (int)s->salen) == -1 ||
		    sockread_init(&u->rd, w->base, bufferevent_getfd(u->bev),
		        bufferevent_get_input(u->bev), UPSTREAM_READ_CHUNK,
		        upstream_sock_read_cb, upstream_sock_event_cb,
		        u) == -1 ||
		    (s->origin->tls != NULL &&
		        upstream_tls(u, own->cfg, s) == -1)) {
			upstream_free(u);
			return -1;
		}
		stats_inc(STAT_UP_CONN_OPENED);
		upstream_tmr_arm(u, clock_coarse_ms(), connect_ms);
	}
	u->owner = own->arg;
	u->ops = own->ops;
	u->slot = own->slot;
	u->idle_ms = idle_ms;
	u->response_ms = 0;
	u->resp_deadline = 0;
	u->head_req = false;
	if (u->flags & UPSTREAM_F_REUSED)
		http1_next(u->parser); /* paused after the last response */
	u->flags &= ~(UPSTREAM_F_GOT_BYTES | UPSTREAM_F_KEEPALIVE |
	    UPSTREAM_F_RESP_DONE);
	upstream_read_timeout(u, 0);
	bufferevent_setwatermark(u->bev, EV_WRITE, PROXY_LOW_WATER, 0);
	/* Enable writing only when it is not enabled yet: enabling EV_WRITE
	 * again on a pooled connection would poll for POLLOUT with nothing
	 * to send (two epoll_ctl calls and a wakeup per request). The
	 * bufferevent never reads (sockread.h).
	 */
	en = bufferevent_get_enabled(u->bev);
	if (!(en & EV_WRITE))
		bufferevent_enable(u->bev, EV_WRITE);
	*u->slot = u;
	server_live_begin(s->id);
	return 0;
}

static void
upstream_idle_cb(struct bufferevent *bev, void *arg)
{
	/* Bytes or EOF from an idle origin connection: it cannot be
	 * reused safely.
	 */
	struct upstream_conn *u = arg;
	struct upool *pl;

	CHECK_OBJ(u, UPSTREAM_MAGIC);
	if ((pl = upool_find(u->w->pools, u->server_id)) != NULL) {
		struct upstream_conn *x;

		TAILQ_FOREACH(x, &pl->idle, link)
			if (x == u)
				break;
		if (x != NULL) {
			TAILQ_REMOVE(&pl->idle, u, link);
			pl->nidle--;
		}
	}
	upstream_free(u);
}

static void
upstream_idle_event_cb(struct bufferevent *bev, short what, void *arg)
{
	upstream_idle_cb(bev, arg);
}

void
upstream_release(struct upstream_conn *u, bool reuse)
{
	struct upool *pl;

	if (u == NULL)
		return;
	CHECK_OBJ(u, UPSTREAM_MAGIC);
	if (u->owner != NULL) {
		*u->slot = NULL;
		server_live_end(u->server_id);
	}
	u->owner = NULL;
	u->ops = NULL;
	u->slot = NULL;
	/* A pending response timer stays: it finds no owner, or a later
	 * request's deadline, when it fires.
	 */
	u->resp_deadline = 0;
	pl = upool_find(u->w->pools, u->server_id);
	if (!reuse || !(u->flags & UPSTREAM_F_KEEPALIVE) ||
	    !(u->flags & UPSTREAM_F_RESP_DONE) ||
	    (u->flags & UPSTREAM_F_TUNNEL) || u->w->draining || pl == NULL ||
	    pl->salen != u->salen || memcmp(&pl->sa, &u->sa, u->salen) != 0 ||
	    pl->nidle >= UPSTREAM_IDLE_MAX ||
	    evbuffer_get_length(bufferevent_get_input(u->bev)) != 0 ||
	    upstream_pending(u) != 0) {
		upstream_free(u);
		return;
	}
	bufferevent_setcb(u->bev, upstream_idle_cb, NULL,
	    upstream_idle_event_cb, u);
	upstream_read_timeout(u, UPSTREAM_IDLE_MS);
	sockread_enable(&u->rd);
	/* Newest first: the warmest connection is reused first and the
	 * coldest ones age out.
	 */
	TAILQ_INSERT_HEAD(&pl->idle, u, link);
	pl->nidle++;
}

int
upstream_write(struct upstream_conn *u, const void *p, size_t n)
{
	struct evbuffer *out = bufferevent_get_output(u->bev);
	ssize_t w;

	if (u->tls != NULL) /* encrypted once the callback is over */
		return n > 0 ? evbuffer_add(u->tls_out, p, n) : 0;
	if ((u->flags & UPSTREAM_F_CONNECTED) &&
	    evbuffer_get_length(out) == 0 && n > 0) {
		w = send(bufferevent_getfd(u->bev), p, n,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w > 0) {
			p = (const char *)p + w;
			n -= (size_t)w;
		}
		/* An error is seen again, and reported, by the bufferevent
		 * on its next write or read.
		 */
	}
	return n > 0 ? evbuffer_add(out, p, n) : 0;
}

struct evbuffer *
upstream_output(struct upstream_conn *u)
{
	return u->tls != NULL ? u->tls_out : bufferevent_get_output(u->bev);
}

size_t
upstream_pending(struct upstream_conn *u)
{
	return evbuffer_get_length(bufferevent_get_output(u->bev)) +
	    (u->tls != NULL ? evbuffer_get_length(u->tls_out) : 0);
}

void
upstream_pause_read(struct upstream_conn *u)
{
	sockread_disable(&u->rd);
}

void
upstream_resume_read(struct upstream_conn *u)
{
	if (u->flags & UPSTREAM_F_CONNECTED)
		sockread_enable(&u->rd);
}

void
upstream_expect_response(struct upstream_conn *u, unsigned ms,
    bool head_request)
{
	http1_set_head_response(u->parser, head_request);
	u->head_req = head_request;
	u->response_ms = ms;
	if (u->flags & UPSTREAM_F_CONNECTED || u->flags & UPSTREAM_F_REUSED)
		upstream_response_deadline(u, ms);
	/* else: the connect timer runs; the response timer starts once
	 * connected (upstream_event_cb).
	 */
	u->idle_ms = u->idle_ms ? u->idle_ms : CFG_DEF_IDLE_MS;
}

void
upstream_start_tunnel(struct upstream_conn *u)
{
	u->flags |= UPSTREAM_F_TUNNEL;
	upstream_tmr_stop(u);
	u->resp_deadline = 0;
	upstream_read_timeout(u, u->idle_ms);
}

static int
up_on_head(void *arg, struct http_msg *m)
{
	struct upstream_conn *u = arg;

	u->flags |= UPSTREAM_F_GOT_BYTES;
	if (m->status >= 200 || m->status == 101) {
		/* The head is here: from now on only the body idle
		 * timeout applies (a pending timer finds no deadline).
		 */
		u->resp_deadline = 0;
		upstream_read_timeout(u, u->idle_ms);
	}
	if (u->owner == NULL)
		return -1;
	return u->ops->on_head(u->owner, m);
}

static int
up_on_body(void *arg, const char *p, size_t n)
{
	struct upstream_conn *u = arg;

	if (u->owner == NULL)
		return -1;
	return u->ops->on_body(u->owner, p, n);
}

static int
up_on_complete(void *arg)
{
	struct upstream_conn *u = arg;

	if (u->resp.status >= 200) {
		u->flags |= UPSTREAM_F_RESP_DONE;
		if (u->resp.flags & HTTP_MSG_F_KEEPALIVE)
			u->flags |= UPSTREAM_F_KEEPALIVE;
	}
	return 0;
}

void
upstream_process(struct upstream_conn *u)
{
	struct evbuffer *in = bufferevent_get_input(u->bev);
	struct evbuffer_iovec v;
	const struct upstream_owner_ops *ops = u->ops;
	void *o = u->owner;
	enum http1_status st;
	size_t used, n;

	while (o != NULL && ops->holds(o, u)) {
		if (u->flags & UPSTREAM_F_TUNNEL) {
			ops->tunnel_data(o);
			return;
		}
		if (evbuffer_get_length(in) == 0)
			return;
		if (ops->backlogged(o)) {
			upstream_pause_read(u);
			return;
		}
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			return;
		n = v.iov_len > UPSTREAM_FEED_MAX ? UPSTREAM_FEED_MAX
		                                  : v.iov_len;
		u->flags |= UPSTREAM_F_GOT_BYTES;
		st = http1_feed(u->parser, v.iov_base, n, &used);
		if (!ops->holds(o, u))
			return;
		evbuffer_drain(in, used);
		switch (st) {
		case HTTP1_OK:
			break;
		case HTTP1_PAUSED:
			if (u->resp.status < 200) {
				/* An interim response: the final one follows.
				 */
				http1_next(u->parser);
				http1_set_head_response(u->parser, u->head_req);
				break;
			}
			ops->on_complete(o);
			return;
		case HTTP1_UPGRADE:
			ops->on_upgrade(o);
			return;
		case HTTP1_ERROR:
			log_debug("upstream %lld: bad response: %s",
			    (long long)u->server_id,
			    http1_error_reason(u->parser));
			ops->on_fail(o, UPSTREAM_FAIL_BAD_RESPONSE);
			return;
		}
	}
}

static void
upstream_read_cb(struct bufferevent *bev, void *arg)
{
	struct upstream_conn *u = arg;
	const struct upstream_owner_ops *ops = u->ops;
	void *o = u->owner;

	CHECK_OBJ(u, UPSTREAM_MAGIC);
	if (o == NULL)
		return;
	ops->enter(o);
	upstream_process(u);
	ops->leave(o);
}

static void
upstream_write_cb(struct bufferevent *bev, void *arg)
{
	struct upstream_conn *u = arg;
	const struct upstream_owner_ops *ops = u->ops;
	void *o = u->owner;

	if (o == NULL)
		return;
	ops->enter(o);
	ops->on_drained(o);
	ops->leave(o);
}

static void
upstream_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct upstream_conn *u = arg;
	const struct upstream_owner_ops *ops = u->ops;
	void *o = u->owner;
	enum http1_status st;
	int one = 1;

	CHECK_OBJ(u, UPSTREAM_MAGIC);
	if (o == NULL) {
		upstream_idle_cb(bev, arg);
		return;
	}
	ops->enter(o);
	if (what & BEV_EVENT_CONNECTED) {
		u->flags |= UPSTREAM_F_CONNECTED;
		(void)setsockopt(bufferevent_getfd(bev), IPPROTO_TCP,
		    TCP_NODELAY, &one, sizeof(one));
		sockread_enable(&u->rd);
		upstream_tmr_stop(u); /* the connect timer */
		if (u->response_ms > 0)
			upstream_response_deadline(u, u->response_ms);
		/* TLS: the ClientHello goes; the request waits for the
		 * handshake's end, under the same response deadline.
		 */
		if (u->tls != NULL && tls_conn_send(u->tls, u->tls_out) == -1)
			ops->on_fail(o, UPSTREAM_FAIL_CLOSED);
		goto out;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		ops->on_fail(o, UPSTREAM_FAIL_IDLE_TIMEOUT);
		goto out;
	}
	if (!(u->flags & UPSTREAM_F_CONNECTED) &&
	    !(u->flags & UPSTREAM_F_REUSED)) {
		ops->on_fail(o, UPSTREAM_FAIL_CONNECT);
		goto out;
	}
	if (u->flags & UPSTREAM_F_TUNNEL) {
		ops->tunnel_eof(o);
		goto out;
	}
	/* EOF or error after connect: drain what is buffered first. */
	upstream_process(u);
	if (!ops->holds(o, u))
		goto out;
	if (what & BEV_EVENT_EOF) {
		st = http1_finish(u->parser);
		if (st == HTTP1_PAUSED && u->resp.status >= 200) {
			u->flags &= ~UPSTREAM_F_KEEPALIVE;
			ops->on_complete(o);
			goto out;
		}
	}
	ops->on_fail(o, UPSTREAM_FAIL_CLOSED);
out:
	ops->leave(o);
}
