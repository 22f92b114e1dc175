/*
 * conn.c: client connections and the request cycle on them.
 *
 * States: IDLE (waiting for a request) -> HEAD (bytes of a head arrived;
 * the header deadline runs) -> ACTIVE (routed; proxy.c forwards it) ->
 * back to IDLE when both the request and the response are complete, or
 * TUNNEL after a 101. The request's own progress (its head, body and
 * response) is struct req's two states (req.h), moved by req_to() where
 * each event is seen. Pipelined requests wait in the input buffer: the
 * parser stops after each message and resumes only once the previous
 * response is fully queued, so answers go out in order. Every libevent
 * callback brackets its work with conn_enter()/conn_leave(); the struct is
 * freed only by the outermost leave, so no callback ever touches freed
 * memory.
 */
#include "conn.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "access.h"
#include "access_log.h"
#include "acme_chal.h"
#include "cfg.h"
#include "check.h"
#include "compress.h"
#include "fwdauth.h"
#include "http1.h"
#include "l4_route.h"
#include "log.h"
#include "proxy.h"
#include "proxy_proto.h"
#include "ratelimit.h"
#include "reqcheck.h"
#include "respond.h"
#include "route.h"
#include "stats.h"
#include "target.h"
#include "tls.h"
#include "upstream.h"
#include "worker.h"

#define CONN_FEED_MAX  (64 * 1024)
#define CONN_READ_HIGH (256 * 1024)
#define CONN_LINGER_MS 2000u
#define CONN_STAGE_MAX (64 * 1024)
/* Space reserved for one read (a 16 KiB evbuffer chain with its header). */
#define CONN_READ_CHUNK (16 * 1024 - 128)

static const struct http1_limits conn_limits = {
	.max_request_line = HTTP1_DEF_MAX_REQUEST_LINE,
	.max_header_bytes = HTTP1_DEF_MAX_HEADER_BYTES,
	.max_headers = HTTP1_DEF_MAX_HEADERS,
};

static int conn_on_head(void *arg, struct http_msg *m);
static int conn_on_body(void *arg, const char *p, size_t n);
static int conn_on_complete(void *arg);

static const struct http1_callbacks conn_cbs = {
	.on_head = conn_on_head,
	.on_body = conn_on_body,
	.on_complete = conn_on_complete,
};

static void conn_read_cb(struct bufferevent *bev, void *arg);
static void conn_write_cb(struct bufferevent *bev, void *arg);
static void conn_event_cb(struct bufferevent *bev, short what, void *arg);
static void conn_timer_cb(evutil_socket_t fd, short what, void *arg);
static void conn_req_end(struct conn *c);

static void
conn_sock_read_cb(void *arg)
{
	struct conn *c = arg;

	conn_read_cb(c->bev, c);
}

static void
conn_sock_event_cb(void *arg, short what)
{
	struct conn *c = arg;

	conn_event_cb(c->bev, what, c);
}

void
conn_read_enable(struct conn *c, bool on)
{
	if (on)
		sockread_enable(&c->rd);
	else
		sockread_disable(&c->rd);
}

void
conn_read_timeout(struct conn *c, unsigned ms)
{
	sockread_set_timeout(&c->rd, ms);
}

static short
conn_tls_decode(void *arg, struct evbuffer *raw, const char *p, size_t n,
    size_t *used, struct evbuffer *in)
{
	struct conn *c = arg;

	return tls_conn_recv(c->tls, raw, p, n, used, in);
}

/* https listeners: the session, with the credentials of the snapshot the
 * connection holds (c->cfg), reading through the sockread and writing
 * through a socket bufferevent kept for the connection's life (the
 * session queues there what the socket does not take). 0, or -1.
 */
static int
conn_tls_new(struct conn *c, const struct cfg_listener *l)
{
	if (l->tls == NULL) { /* no default certificate: nothing to serve */
		stats_inc(STAT_TLS_HANDSHAKE_FAILED);
		return -1;
	}
	if ((c->bev = bufferevent_socket_new(c->w->base, c->fd, 0)) == NULL)
		return -1;
	bufferevent_setcb(c->bev, NULL, conn_write_cb, conn_event_cb, c);
	bufferevent_setwatermark(c->bev, EV_WRITE, PROXY_LOW_WATER, 0);
	c->tls = tls_server_conn_new(l->tls, c->fd,
	    bufferevent_get_output(c->bev), c->peer);
	if (c->tls == NULL)
		return -1;
	sockread_set_decoder(&c->rd, conn_tls_decode);
	return 0;
}

static void
ms_tv(unsigned ms, struct timeval *tv)
{
	tv->tv_sec = ms / 1000;
	tv->tv_usec = (ms % 1000) * 1000;
}

/* The header deadline and the lingering close: a timer that exists only
 * while one of them runs.
 */
static void
conn_arm(struct conn *c, unsigned ms)
{
	struct timeval tv;

	if (c->tmr == NULL &&
	    (c->tmr = evtimer_new(c->w->base, conn_timer_cb, c)) == NULL) {
		stats_inc(STAT_REQ_NO_MEMORY);
		conn_close(c);
		return;
	}
	ms_tv(ms, &tv);
	event_add(c->tmr, &tv);
}

void
conn_disarm(struct conn *c)
{
	if (c->tmr != NULL)
		event_del(c->tmr);
}

/* Plain connections: the bufferevent that queues what the socket did not
 * take, created on demand. NULL: no memory (the connection is closed).
 */
static struct bufferevent *
conn_bev(struct conn *c)
{
	if (c->bev != NULL)
		return c->bev;
	if ((c->bev = bufferevent_socket_new(c->w->base, c->fd, 0)) == NULL) {
		stats_inc(STAT_REQ_NO_MEMORY);
		conn_close(c);
		return NULL;
	}
	bufferevent_setcb(c->bev, NULL, conn_write_cb, conn_event_cb, c);
	bufferevent_setwatermark(c->bev, EV_WRITE,
	    (c->flags & CONN_F_CLOSING) ? 0 : PROXY_LOW_WATER, 0);
	return c->bev;
}

struct evbuffer *
conn_input(struct conn *c)
{
	return sockread_input(&c->rd);
}

size_t
conn_output_pending(struct conn *c)
{
	if (c->bev == NULL)
		return 0;
	return evbuffer_get_length(bufferevent_get_output(c->bev));
}

static const struct cfg_listener *
conn_listener(const struct conn *c)
{
	const struct cfg_listener *l;

	if (c->w->cur != NULL &&
	    (l = cfg_listener_by_id(c->w->cur, c->acc.lid)) != NULL)
		return l;
	return cfg_listener_by_id(c->cfg, c->acc.lid);
}

void
conn_new(struct worker *w, struct accept_ref *ref, int fd,
    const struct sockaddr *sa, socklen_t salen)
{
	struct conn *c;
	const struct cfg_listener *l;
	int one = 1;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		stats_inc(STAT_REQ_NO_MEMORY);
		accept_release(w, ref);
		(void)close(fd);
		return;
	}
	c->magic = CONN_MAGIC;
	c->w = w;
	c->id = ++w->next_conn_id;
	c->acc = *ref;
	*ref = (struct accept_ref){ 0 };
	c->cfg = cfg_ref(w->cur);
	if ((sa->sa_family == AF_INET6 || sa->sa_family == AF_INET) &&
	    salen > 0 && (size_t)salen <= sizeof(c->peer_sa))
		memcpy(&c->peer_sa, sa, salen);
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, c->peer, sizeof(c->peer));
		c->peer_port = ntohs(s6->sin6_port);
	} else if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, c->peer, sizeof(c->peer));
		c->peer_port = ntohs(s4->sin_port);
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
	TAILQ_INSERT_TAIL(&w->conns, c, link);
	/* The fd is ours, we read it (sockread.h) into a buffer that
	 * exists only while bytes wait. Plain: a bufferevent exists only
	 * while output is queued. TLS: the sockread decrypts (tls.h).
	 */
	l = cfg_listener_by_id(c->cfg, c->acc.lid);
	if (sockread_init(&c->rd, w->base, fd, NULL, CONN_READ_CHUNK,
	        conn_sock_read_cb, conn_sock_event_cb, c) == -1)
		c->flags |= CONN_F_DEAD; /* freed below */
	else if (l == NULL || l->proto != CFG_PROTO_HTTPS)
		c->flags |= CONN_F_PLAIN;
	else if (conn_tls_new(c, l) == -1)
		c->flags |= CONN_F_DEAD;
	if ((c->flags & CONN_F_DEAD) || (l = conn_listener(c)) == NULL) {
		stats_inc(STAT_REQ_NO_MEMORY);
		c->flags &= ~CONN_F_DEAD;
		conn_close(c);
		return;
	}
	sockread_set_high(&c->rd, CONN_READ_HIGH);
	sockread_enable(&c->rd);
	if (l->nproxy_from > 0 &&
	    l4_cidr_any(l->proxy_from, l->nproxy_from, sa))
		c->flags |= CONN_F_PROXY_HDR;
	/* per client: after the PROXY header when one comes (ratelimit.c) */
	if (!(c->flags & CONN_F_PROXY_HDR) && connlimit_conn(c, l) == 0) {
		conn_close(c);
		return;
	}
	/* The first request must begin within the header time; a read
	 * timeout, like the keep-alive time between requests.
	 */
	conn_read_timeout(c, l->header_ms);
}

void
conn_enter(struct conn *c)
{
	CHECK_OBJ(c, CONN_MAGIC);
	c->busy++;
}

void
conn_peer_storage(const struct conn *c, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (c->peer_sa.ss_family == AF_INET6)
		memcpy(ss, &c->peer_sa.in6, sizeof(c->peer_sa.in6));
	else if (c->peer_sa.ss_family == AF_INET)
		memcpy(ss, &c->peer_sa.in4, sizeof(c->peer_sa.in4));
}

/* The request's state for the next request: taken on its first byte.
 * 0, or -1 (no memory).
 */
static int
conn_req_new(struct conn *c)
{
	if (c->req == NULL &&
	    (c->req = req_take(c->w, &conn_limits, &conn_cbs, c)) == NULL)
		return -1;
	return 0;
}

/* <reuse>: the connection is idle between requests (req_give()). */
static void
conn_req_free(struct conn *c, bool reuse)
{
	struct req *r = c->req;

	c->req = NULL;
	req_give(c->w, r, reuse);
}

void
conn_stage_spare_free(struct worker *w)
{
	if (w->stage_spare != NULL) {
		evbuffer_free(w->stage_spare);
		w->stage_spare = NULL;
	}
}

static void
conn_free(struct conn *c)
{
	struct req *r = c->req;

	if (c->climit == 1) {
		struct sockaddr_storage ss;

		if (c->climit_sa == NULL)
			conn_peer_storage(c, &ss);
		connlimit_release(c->climit_sa != NULL ? c->climit_sa : &ss);
	}
	free(c->climit_sa);
	if (r != NULL && req_active(r) && !req_out_done(r)) {
		if (r->status == 0 || !req_out_started(r))
			r->status = 499; /* client went away first */
		(void)req_to(r, REQ_OUT_ABORT);
		stats_inc(STAT_REQ_CLIENT_ABORT);
		access_log_request(c);
	}
	conn_req_free(c, false);
	sockread_fini(&c->rd); /* before the fd is closed */
	tls_conn_free(c->tls); /* before the bufferevent it queues on */
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	(void)close(c->fd);
	if (c->stage != NULL)
		evbuffer_free(c->stage);
	if (c->tmr != NULL)
		event_free(c->tmr);
	cfg_unref(c->cfg);
	worker_conn_gone(c->w, c);
	accept_release(c->w, &c->acc);
	stats_inc(STAT_CONN_CLOSED);
	c->magic = 0;
	free(c);
}

/* At the end of a callback, an idle connection lets go of what only a
 * request needs.
 */
static void
conn_idle_trim(struct conn *c)
{
	if (c->state != CONN_S_IDLE ||
	    (c->flags & (CONN_F_CLOSING | CONN_F_DEAD)) ||
	    (c->req != NULL && req_active(c->req)))
		return;
	conn_req_free(c, true);
	if (c->tmr != NULL) {
		event_free(c->tmr);
		c->tmr = NULL;
	}
	if (c->stage != NULL && evbuffer_get_length(c->stage) == 0) {
		/* Empty, it holds no chain: the worker keeps one for the
		 * next connection's answer (evbuffer_new/free per request
		 * cost more than the write).
		 */
		if (c->w->stage_spare == NULL && !c->w->draining)
			c->w->stage_spare = c->stage;
		else
			evbuffer_free(c->stage);
		c->stage = NULL;
	}
	sockread_trim(&c->rd);
	if ((c->flags & CONN_F_PLAIN) && c->bev != NULL &&
	    conn_output_pending(c) == 0) {
		bufferevent_free(c->bev);
		c->bev = NULL;
	}
}

bool
conn_leave(struct conn *c)
{
	ASSERT(c->busy > 0);
	/* Still held: what this callback fed a compressor goes out. */
	if (c->busy == 1 && !(c->flags & CONN_F_DEAD) && c->req != NULL &&
	    c->req->comp != NULL)
		compress_flush(c);
	if (--c->busy == 0 && (c->flags & CONN_F_DEAD)) {
		conn_free(c);
		return true;
	}
	if (c->busy == 0) {
		/* Held while flushing: a failed write closes the connection,
		 * and it is freed here.
		 */
		c->busy++;
		conn_flush(c);
		if (--c->busy == 0 && (c->flags & CONN_F_DEAD)) {
			conn_free(c);
			return true;
		}
		conn_idle_trim(c);
	}
	return false;
}

/* The output stage, from the worker's spare if it has one. */
static struct evbuffer *
conn_stage(struct conn *c)
{
	if (c->stage == NULL) {
		c->stage = c->w->stage_spare;
		c->w->stage_spare = NULL;
		if (c->stage == NULL)
			c->stage = evbuffer_new();
	}
	return c->stage;
}

int
conn_write(struct conn *c, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	if (conn_stage(c) == NULL)
		return -1;
	if (evbuffer_add(c->stage, p, n) == -1)
		return -1;
	/* Bulk output does not wait for the end of the callback: the
	 * bufferevent's queue is what back-pressure looks at.
	 */
	if (evbuffer_get_length(c->stage) >= CONN_STAGE_MAX)
		conn_flush(c);
	return 0;
}

int
conn_write_buffer(struct conn *c, struct evbuffer *b)
{
	if (evbuffer_get_length(b) == 0)
		return 0;
	if (conn_stage(c) == NULL)
		return -1;
	return evbuffer_add_buffer(c->stage, b);
}

void
conn_flush(struct conn *c)
{
	struct evbuffer *out;

	if (c->stage == NULL || evbuffer_get_length(c->stage) == 0 ||
	    (c->flags & CONN_F_DEAD))
		return;
	/* TLS: records, written or queued by the session (tls.h). */
	if (c->tls != NULL) {
		if (tls_conn_send(c->tls, c->stage) == -1)
			conn_close(c);
		return;
	}
	/* Plain socket, nothing queued ahead: write now. What the kernel
	 * does not take goes to the bufferevent, which waits for POLLOUT.
	 */
	if (conn_output_pending(c) == 0)
		(void)evbuffer_write(c->stage, c->fd);
	if (evbuffer_get_length(c->stage) == 0 || conn_bev(c) == NULL)
		return;
	out = bufferevent_get_output(c->bev);
	evbuffer_add_buffer(out, c->stage);
}

void
conn_close(struct conn *c)
{
	CHECK_OBJ(c, CONN_MAGIC);
	if (c->flags & CONN_F_DEAD)
		return;
	c->flags |= CONN_F_DEAD;
	conn_read_enable(c, false);
	if (c->bev != NULL)
		bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	if (c->busy == 0)
		conn_free(c);
}

static void
conn_linger(struct conn *c)
{
	struct evbuffer *in = conn_input(c);

	c->flags |= CONN_F_CLOSING;
	if (shutdown(c->fd, SHUT_WR) == -1) {
		conn_close(c);
		return;
	}
	/* Read and drop what the client still sends, briefly, so that our
	 * answer is not destroyed by a reset.
	 */
	if (in != NULL)
		evbuffer_drain(in, evbuffer_get_length(in));
	sockread_set_high(&c->rd, 0);
	conn_read_enable(c, true);
	if (c->bev != NULL)
		bufferevent_disable(c->bev, EV_WRITE);
	conn_arm(c, CONN_LINGER_MS);
	c->flags |= CONN_F_LINGER;
}

void
conn_finish(struct conn *c)
{
	CHECK_OBJ(c, CONN_MAGIC);
	if (c->flags & (CONN_F_DEAD | CONN_F_LINGER))
		return;
	if (!(c->flags & CONN_F_CLOSING)) {
		c->flags |= CONN_F_CLOSING;
		if (c->req != NULL)
			upstream_release(c->req->up, false);
		conn_disarm(c);
		conn_read_enable(c, false);
		if (c->bev != NULL) {
			bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
			bufferevent_enable(c->bev, EV_WRITE);
		}
	}
	conn_flush(c);
	if (c->flags & CONN_F_DEAD)
		return;
	/* TLS: our side ends with a close_notify, behind what is queued. */
	tls_conn_close_notify(c->tls);
	if (conn_output_pending(c) > 0)
		return; /* the write callback comes back when it is sent */
	conn_linger(c);
}

void
conn_abort(struct conn *c)
{
	conn_close(c);
}

void
conn_drain(struct conn *c)
{
	conn_enter(c);
	c->flags |= CONN_F_DRAIN;
	if (c->state == CONN_S_IDLE && !(c->flags & CONN_F_CLOSING))
		conn_close(c);
	conn_leave(c);
}

/* Answers from the proxy itself. */
static void
conn_local(struct conn *c, int status, bool close)
{
	struct req *r = c->req;

	if (close)
		r->flags |= REQ_F_CLOSE;
	proxy_write_local(c, status, (r->flags & REQ_F_CLOSE) != 0);
	(void)req_to(r, REQ_OUT_DONE);
}

void
conn_respond_error(struct conn *c, int status, bool close)
{
	struct req *r;

	if (conn_req_new(c) == -1) {
		stats_inc(STAT_REQ_NO_MEMORY);
		conn_close(c);
		return;
	}
	r = c->req;
	if (req_out_started(r)) {
		conn_finish(c);
		return;
	}
	if (r->t_start.tv_sec == 0)
		clock_gettime(CLOCK_MONOTONIC, &r->t_start);
	conn_local(c, status, close);
	if (close) {
		if (!req_in_done(r))
			(void)req_to(r, REQ_IN_DONE); /* no more is read */
		conn_req_end(c);
	}
}

static int
conn_on_head(void *arg, struct http_msg *m)
{
	struct conn *c = arg;
	struct req *r = c->req;
	struct target t;
	struct reqcheck rc;
	struct str host;
	const char *why = NULL;
	int st;

	stats_inc(STAT_REQ_TOTAL);
	conn_disarm(c);
	c->state = CONN_S_ACTIVE;
	(void)req_to(r, REQ_IN_BODY);
	r->cfg = cfg_ref(c->w->cur);
	if ((r->listener = cfg_listener_by_id(r->cfg, c->acc.lid)) == NULL) {
		/* The listener was removed: finish this one request under
		 * the snapshot the connection was accepted with.
		 */
		cfg_unref(r->cfg);
		r->cfg = cfg_ref(c->cfg);
		r->listener = cfg_listener_by_id(r->cfg, c->acc.lid);
		r->flags |= REQ_F_CLOSE;
	}
	{
		struct sockaddr_storage ss;

		conn_peer_storage(c, &ss);
		client_addr_resolve(r->listener, m, &ss, c->peer, &r->client);
	}
	if (r->client.from_xff)
		stats_inc(STAT_CLIENT_FROM_XFF);
	if (m->major == 1 && m->minor >= 1)
		r->flags |= REQ_F_CLIENT_11;
	if (!(m->flags & HTTP_MSG_F_KEEPALIVE) || (c->flags & CONN_F_DRAIN) ||
	    r->listener->keepalive_ms == 0)
		r->flags |= REQ_F_CLOSE;
	if (m->method == CFG_M_HEAD)
		r->flags |= REQ_F_HEAD_METHOD;
	if (m->flags & HTTP_MSG_F_CHUNKED)
		r->flags |= REQ_F_HAS_BODY | REQ_F_CHUNK_UP;
	else if ((m->flags & HTTP_MSG_F_HAS_LENGTH) && m->content_length > 0)
		r->flags |= REQ_F_HAS_BODY;
	if (m->flags & HTTP_MSG_F_UPGRADE)
		r->flags |= REQ_F_UPGRADE;
	if (m->method == CFG_M_CONNECT) {
		stats_inc(STAT_REQ_NOT_IMPL);
		conn_local(c, 501, true);
		return -1;
	}
	if (target_parse(http_msg_str(m, m->target), false,
	        m->method == CFG_M_OPTIONS, &t, &why) != 0) {
		stats_inc(STAT_REQ_BAD);
		log_debug("conn %llu from %s: refused request (400): %s",
		    (unsigned long long)c->id, c->peer, why);
		conn_local(c, 400, true);
		return -1;
	}
	/* ACME HTTP-01 answers come before routing, even on a listener
	 * whose routes redirect to https.
	 */
	if (r->listener->proto == CFG_PROTO_HTTP &&
	    (m->method == CFG_M_GET || m->method == CFG_M_HEAD) &&
	    acme_chal_http_answer(c, t.path))
		return 0;
	/* RFC 9112 3.2.2: an absolute-form target's authority wins over Host
	 * (proxy.c forwards it as Host). Routes match the normalised path.
	 */
	if ((st = reqcheck_head(m, &t, &rc, &why)) == 0) {
		/* proxy.c does not normalise it again */
		if (!rc.changed)
			r->flags |= REQ_F_PATH_NORMAL;
		host = rc.host;
		r->route = route_match(r->listener, host, rc.path, m->method);
		st = reqcheck_route(m, r->listener, r->route, &rc, &why);
	}
	if (st != 0) {
		stats_inc(STAT_REQ_BAD);
		log_debug("conn %llu from %s: refused request (%d): %s",
		    (unsigned long long)c->id, c->peer, st, why);
		conn_local(c, st, true);
		return -1;
	}
	if (r->route == NULL) {
		stats_inc(STAT_REQ_NO_ROUTE);
		stats_unmatched(r->listener->id);
		conn_local(c, 404, false);
		return 0; /* a body, if any, is read and dropped */
	}
	r->rstats = stats_obj_cached(STATS_ROUTE, r->route->id);
	r->ostats = r->route->origin != NULL
	    ? stats_obj_cached(STATS_ORIGIN, r->route->origin->id)
	    : NULL;
	if (r->rstats != NULL) {
		stats_add(&r->rstats->requests, 1);
		stats_add(&r->rstats->active, 1);
	}
	if (r->ostats != NULL)
		stats_add(&r->ostats->requests, 1);
	if (r->route->redirect_https && r->listener->proto == CFG_PROTO_HTTP &&
	    host.len > 0) {
		stats_inc(STAT_REQ_REDIRECT_HTTPS);
		proxy_write_redirect(c, host, t.path, t.query);
		(void)req_to(r, REQ_OUT_DONE);
		return 0; /* a body, if any, is read and dropped */
	}
	if (access_admit(c) || ratelimit_admit(c)) { /* 401, 403 or 429 */
		(void)req_to(r, REQ_OUT_DONE);
		return 0; /* a body, if any, is read and dropped */
	}
	if (respond_route(c, host, &t) != 0)
		return 0; /* a body, if any, is read and dropped */
	if (r->route->max_body_bytes != 0 &&
	    (m->flags & HTTP_MSG_F_HAS_LENGTH) &&
	    m->content_length > r->route->max_body_bytes) {
		stats_inc(STAT_REQ_BODY_TOO_BIG);
		conn_local(c, 413, true);
		return -1;
	}
	if ((m->flags & HTTP_MSG_F_EXPECT_100) && (r->flags & REQ_F_HAS_BODY) &&
	    (r->flags & REQ_F_CLIENT_11))
		(void)conn_write(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
	if (r->flags & REQ_F_HAS_BODY) {
		conn_read_timeout(c, r->route->idle_ms);
		(void)req_to(r, REQ_IN_HOLD); /* proxy_request_body() starts */
		return 0;
	}
	(void)proxy_start(c);
	return 0;
}

static int
conn_on_body(void *arg, const char *p, size_t n)
{
	struct conn *c = arg;
	struct req *r = c->req;

	r->body_in += n;
	if (r->route != NULL && r->route->max_body_bytes != 0 &&
	    r->body_in > r->route->max_body_bytes) {
		stats_inc(STAT_REQ_BODY_TOO_BIG);
		if (!req_out_started(r)) {
			upstream_release(r->up, false);
			if (r->in == REQ_IN_HOLD)
				(void)req_to(r, REQ_IN_BODY); /* dropped */
			conn_local(c, 413, true);
		}
		r->flags |= REQ_F_CLOSE;
		return -1;
	}
	return proxy_request_body(c, p, n);
}

static int
conn_on_complete(void *arg)
{
	struct conn *c = arg;
	struct req *r = c->req;

	bool held = r->in == REQ_IN_HOLD;

	(void)req_to(r, REQ_IN_DONE);
	if (r->flags & REQ_F_HAS_BODY)
		conn_read_timeout(c, 0);
	proxy_request_end(c, held);
	return 0;
}

/* Microseconds since <r> began (0 if it never did). */
static uint64_t
conn_req_us(const struct req *r)
{
	struct timespec now;
	int64_t us;

	if (r->t_start.tv_sec == 0)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	us = (int64_t)(now.tv_sec - r->t_start.tv_sec) * 1000000 +
	    (now.tv_nsec - r->t_start.tv_nsec) / 1000;
	return us > 0 ? (uint64_t)us : 0;
}

static void
conn_req_end(struct conn *c)
{
	struct req *r = c->req;
	const struct cfg_listener *l = r->listener;
	unsigned keepalive_ms = l != NULL ? l->keepalive_ms : 0;
	bool close = (r->flags & REQ_F_CLOSE) || (c->flags & CONN_F_DRAIN);
	/* the listener counts every request it answered, routed or not */
	struct stats_obj *so[3] = { r->rstats, r->sstats,
		l != NULL ? stats_obj_cached(STATS_LISTENER, l->id) : NULL };
	uint64_t us = conn_req_us(r);
	size_t i;

	for (i = 0; i < 3; i++) {
		if (so[i] == NULL)
			continue;
		stats_add(&so[i]->status[r->status / 100 <= 5 ? r->status / 100
		                                              : 0],
		    1);
		stats_add(&so[i]->bytes_in, r->bytes_in);
		stats_add(&so[i]->bytes_out, r->bytes_out);
		stats_add(&so[i]->time_us, us);
	}
	if (r->rstats != NULL)
		stats_sub(&r->rstats->active, 1);
	access_log_request(c);
	/* The block itself goes when the connection is idle at the end of
	 * the callback (conn_idle_trim()); a pipelined request reuses it.
	 */
	req_clear(r);
	c->nreqs++;
	if (close) {
		conn_finish(c);
		return;
	}
	http1_next(r->parser);
	http_msg_reset(&r->msg);
	c->state = CONN_S_IDLE;
	conn_disarm(c);
	conn_read_timeout(c, keepalive_ms);
	if (c->flags & CONN_F_READ_PAUSED) {
		c->flags &= ~CONN_F_READ_PAUSED;
		conn_read_enable(c, true);
	}
}

void
conn_req_finish_if_done(struct conn *c)
{
	struct req *r = c->req;

	if (c->flags & (CONN_F_DEAD | CONN_F_CLOSING))
		return;
	if (!req_out_done(r))
		return;
	if (!req_in_done(r)) {
		/* Answered before the body was read: it is not worth
		 * reading; close once the answer is out.
		 */
		if (r->flags & REQ_F_CLOSE) {
			(void)req_to(r, REQ_IN_DONE);
			conn_req_end(c);
		}
		return;
	}
	if (c->flags & CONN_F_PROCESSING)
		return; /* conn_process() ends it and goes on */
	conn_req_end(c);
	conn_process(c);
}

static int
conn_parse_error_status(struct conn *c)
{
	int status = http1_error_status(c->req->parser);

	switch (status) {
	case 414:
		stats_inc(STAT_REQ_URI_TOO_LONG);
		break;
	case 431:
		stats_inc(STAT_REQ_HEADERS_TOO_BIG);
		break;
	case 413:
		stats_inc(STAT_REQ_BODY_TOO_BIG);
		break;
	case 501:
		stats_inc(STAT_REQ_NOT_IMPL);
		break;
	default:
		stats_inc(STAT_REQ_BAD);
		status = status >= 400 ? status : 400;
		break;
	}
	log_debug("conn %llu from %s: refused request (%d): %s",
	    (unsigned long long)c->id, c->peer, status,
	    http1_error_reason(c->req->parser));
	return status;
}

/* A PROXY protocol header from a client the listener trusts
 * (proxy_protocol_from) comes before any request; the address it names
 * replaces the peer's for logs, X-Forwarded-For and Forwarded. Returns 1
 * when it was consumed, 0 while it is incomplete, -1 when it was refused
 * (the connection is closed: a trusted peer that sends none is broken).
 */
static int
conn_proxy_header(struct conn *c)
{
	struct evbuffer *in = conn_input(c);
	struct proxy_proto_info pi;
	enum proxy_proto_status st;
	size_t len = evbuffer_get_length(in);
	unsigned char *p;

	if (len > PROXY_PROTO_V2_MAX)
		len = PROXY_PROTO_V2_MAX;
	if ((p = evbuffer_pullup(in, (ev_ssize_t)len)) == NULL) {
		stats_inc(STAT_REQ_NO_MEMORY);
		conn_close(c);
		return -1;
	}
	st = proxy_proto_decode(p, len, &pi);
	if (st == PROXY_PROTO_MORE && len < PROXY_PROTO_V2_MAX)
		return 0;
	if (st != PROXY_PROTO_OK) {
		stats_inc(STAT_PROXY_HDR_BAD);
		log_debug("conn %llu from %s: %s", (unsigned long long)c->id,
		    c->peer,
		    st == PROXY_PROTO_BAD ? pi.error : "no PROXY header");
		conn_close(c);
		return -1;
	}
	evbuffer_drain(in, pi.len);
	c->flags &= ~CONN_F_PROXY_HDR;
	stats_inc(STAT_PROXY_HDR_ACCEPTED);
	if (pi.local ||
	    (pi.src.ss_family != AF_INET6 && pi.src.ss_family != AF_INET))
		return 1;
	if (c->climit == 1 && c->climit_sa == NULL) {
		/* The count stays on the address it was taken for. */
		if ((c->climit_sa = malloc(sizeof(*c->climit_sa))) == NULL) {
			stats_inc(STAT_REQ_NO_MEMORY);
			conn_close(c);
			return -1;
		}
		conn_peer_storage(c, c->climit_sa);
	}
	memcpy(&c->peer_sa, &pi.src,
	    pi.src.ss_family == AF_INET6 ? sizeof(c->peer_sa.in6)
	                                 : sizeof(c->peer_sa.in4));
	if (pi.src.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)&pi.src;

		inet_ntop(AF_INET6, &s6->sin6_addr, c->peer, sizeof(c->peer));
		c->peer_port = ntohs(s6->sin6_port);
	} else {
		const struct sockaddr_in *s4 = (const void *)&pi.src;

		inet_ntop(AF_INET, &s4->sin_addr, c->peer, sizeof(c->peer));
		c->peer_port = ntohs(s4->sin_port);
	}
	return 1;
}

/* The PROXY header was read: the connection counts for its client. */
static int
conn_proxy_header_done(struct conn *c)
{
	if (connlimit_conn(c, conn_listener(c)) == 0) {
		conn_close(c);
		return -1;
	}
	return 1;
}

void
conn_process(struct conn *c)
{
	struct evbuffer *in;
	struct evbuffer_iovec v;
	struct req *r = c->req;
	enum http1_status st;
	size_t used, n;
	const struct cfg_listener *l;

	if (c->flags & (CONN_F_PROCESSING | CONN_F_DEAD | CONN_F_CLOSING))
		return;
	c->flags |= CONN_F_PROCESSING;
	in = conn_input(c);
	for (;;) {
		if (c->flags & (CONN_F_DEAD | CONN_F_CLOSING))
			break;
		if (c->state == CONN_S_TUNNEL) {
			proxy_tunnel_from_client(c);
			break;
		}
		r = c->req; /* NULL while idle */
		if (r != NULL && req_active(r) && req_in_done(r)) {
			if (!req_out_done(r))
				break; /* pipelined bytes wait their turn */
			conn_req_end(c);
			continue;
		}
		if (r != NULL && req_active(r) &&
		    proxy_upstream_backlogged(c)) {
			c->flags |= CONN_F_READ_PAUSED;
			conn_read_enable(c, false);
			break;
		}
		if (in == NULL || evbuffer_get_length(in) == 0)
			break;
		if ((c->flags & CONN_F_PROXY_HDR) &&
		    (conn_proxy_header(c) != 1 ||
		        conn_proxy_header_done(c) != 1))
			break;
		if (c->state == CONN_S_IDLE) {
			if (conn_req_new(c) == -1) {
				stats_inc(STAT_REQ_NO_MEMORY);
				conn_close(c);
				break;
			}
			r = c->req;
			c->state = CONN_S_HEAD;
			/* The header deadline now; its timer is armed below
			 * only when this callback leaves the head unfinished.
			 */
			conn_read_timeout(c, 0);
			clock_gettime(CLOCK_MONOTONIC, &r->t_start);
		}
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			break;
		n = v.iov_len > CONN_FEED_MAX ? CONN_FEED_MAX : v.iov_len;
		st = http1_feed(c->req->parser, v.iov_base, n, &used);
		if (c->flags & CONN_F_DEAD)
			break;
		evbuffer_drain(in, used);
		r->bytes_in += used;
		if (st == HTTP1_OK || st == HTTP1_PAUSED)
			continue;
		if (st == HTTP1_UPGRADE) {
			/* The rest of the input is tunnel data, sent on once
			 * the origin agrees (101).
			 */
			if (!req_in_done(r))
				(void)req_to(r, REQ_IN_DONE);
			if (req_out_done(r)) {
				r->flags |= REQ_F_CLOSE;
				conn_req_end(c);
			}
			break;
		}
		/* HTTP1_ERROR */
		if (req_out_started(r)) {
			/* Refused by a callback that already answered, or a
			 * broken body mid-proxy: nothing more is read.
			 */
			r->flags |= REQ_F_CLOSE;
			if (req_out_done(r)) {
				if (!req_in_done(r))
					(void)req_to(r, REQ_IN_DONE);
				conn_req_end(c);
			} else {
				conn_finish(c);
			}
			break;
		}
		upstream_release(r->up, false);
		conn_respond_error(c, conn_parse_error_status(c), true);
		break;
	}
	/* A head that came whole in one read (the usual case) never needs
	 * the deadline timer; one still incomplete starts it, once.
	 */
	if (c->state == CONN_S_HEAD &&
	    !(c->flags & (CONN_F_DEAD | CONN_F_CLOSING)) &&
	    (c->tmr == NULL || !evtimer_pending(c->tmr, NULL)) &&
	    (l = conn_listener(c)) != NULL)
		conn_arm(c, l->header_ms);
	c->flags &= ~CONN_F_PROCESSING;
	if (!(c->flags & CONN_F_DEAD))
		sockread_drained(&c->rd);
}

void
conn_resume_read(struct conn *c)
{
	if (c->flags & CONN_F_READ_PAUSED) {
		c->flags &= ~CONN_F_READ_PAUSED;
		conn_read_enable(c, true);
	}
	conn_process(c);
}

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	conn_enter(c);
	if (c->flags & CONN_F_CLOSING) {
		struct evbuffer *in = conn_input(c);

		if (in != NULL)
			evbuffer_drain(in, evbuffer_get_length(in));
		sockread_drained(&c->rd);
	} else {
		conn_process(c);
	}
	conn_leave(c);
}

static void
conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	conn_enter(c);
	if (c->flags & CONN_F_CLOSING) {
		conn_finish(c);
	} else if (c->state == CONN_S_TUNNEL) {
		if (c->req->up != NULL) {
			upstream_resume_read(c->req->up);
			proxy_tunnel_from_upstream(c);
		}
	} else if (c->req != NULL && req_active(c->req)) {
		proxy_on_client_drained(c);
	}
	conn_leave(c);
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	struct req *r = c->req;

	conn_enter(c);
	if ((c->flags & CONN_F_CLOSING) || r == NULL) {
		conn_close(c); /* idle: EOF, an error or keep-alive time */
		goto out;
	}
	if (c->state == CONN_S_TUNNEL) {
		if (what & BEV_EVENT_TIMEOUT) {
			upstream_release(r->up, false);
			conn_close(c);
		} else {
			proxy_tunnel_client_eof(c);
		}
		goto out;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		/* The request body stalled. */
		stats_inc(STAT_REQ_HEADER_TIMEOUT);
		upstream_release(r->up, false);
		if (!req_out_started(r)) {
			conn_local(c, 408, true);
			conn_finish(c);
		} else {
			conn_close(c);
		}
		goto out;
	}
	/* EOF or error from the client. */
	if (c->state == CONN_S_ACTIVE && req_in_done(r) && !req_out_done(r) &&
	    (what & BEV_EVENT_EOF) && !(r->flags & REQ_F_UPGRADE)) {
		/* A half-close after a complete request: let the answer
		 * come, then close.
		 */
		r->flags |= REQ_F_CLOSE;
		conn_read_enable(c, false);
		goto out;
	}
	conn_close(c);
out:
	conn_leave(c);
}

static void
conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	conn_enter(c);
	if (c->flags & CONN_F_CLOSING) {
		conn_close(c); /* lingering is over */
	} else if (c->state == CONN_S_HEAD) {
		stats_inc(STAT_REQ_HEADER_TIMEOUT);
		conn_respond_error(c, 408, true);
	} else if (c->state == CONN_S_IDLE) {
		conn_close(c); /* keep-alive idle time is over */
	}
	conn_leave(c);
}
