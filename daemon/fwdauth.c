/*
 * fwdauth.c: forward auth subrequests (fwdauth.h).
 *
 * One check is one connection to a server of the auth origin, closed after
 * the answer (Connection: close): the keep-alive pools of upstream.c
 * belong to client requests. The check owns its bufferevent, timer and
 * parser; the request owns the check (req->fa) and frees it at its end,
 * which ends a check still running (a client that went away).
 */
#include "fwdauth.h"

#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "cfg.h"
#include "check.h"
#include "conn.h"
#include "http1.h"
#include "log.h"
#include "proxy.h"
#include "rewrite.h"
#include "server_live.h"
#include "stats.h"
#include "target.h"
#include "tls.h"
#include "upstream.h"
#include "worker.h"

#define FWDAUTH_MAGIC 0x46574441u /* "FWDA" */

enum fa_state {
	FA_PENDING = 0, /* asked, no answer yet */
	FA_ALLOWED,     /* 2xx: the request goes on */
	FA_ANSWERED,    /* the client was answered (denied or failed) */
};

struct fwdauth {
	unsigned magic;
	enum fa_state state;
	struct conn *c;                     /* borrowed: the request's */
	const struct cfg_forward_auth *cfg; /* borrowed from the request's */
	const struct cfg_route *route;
	int64_t server_id; /* counted in server_live while asking */
	struct bufferevent *bev;
	struct event *tmr;
	struct http1_parser *parser;
	struct http_msg resp;
	struct evbuffer *body; /* the answer's body (not 2xx) */
	bool connected, live, paused, too_big;
	char *extra; /* copied headers, "Name: value\r\n" each */
	size_t extra_len;
	char user[128]; /* a copied Remote-User: the access log's user */
};

static const struct http1_limits fa_limits = {
	.max_request_line = HTTP1_DEF_MAX_REQUEST_LINE,
	.max_header_bytes = 64 * 1024,
	.max_headers = 200,
};

static void fa_read_cb(struct bufferevent *bev, void *arg);
static void fa_event_cb(struct bufferevent *bev, short what, void *arg);

static void
fa_ms_tv(unsigned ms, struct timeval *tv)
{
	tv->tv_sec = ms / 1000;
	tv->tv_usec = (ms % 1000) * 1000;
}

/* Ends the subrequest's I/O (the state stays). */
static void
fa_close(struct fwdauth *fa)
{
	if (fa->bev != NULL) {
		bufferevent_free(fa->bev);
		fa->bev = NULL;
	}
	if (fa->tmr != NULL) {
		event_free(fa->tmr);
		fa->tmr = NULL;
	}
	if (fa->parser != NULL) {
		http1_free(fa->parser);
		fa->parser = NULL;
	}
	if (fa->live) {
		server_live_end(fa->server_id);
		fa->live = false;
	}
}

void
fwdauth_free(struct fwdauth *fa)
{
	if (fa == NULL)
		return;
	CHECK_OBJ(fa, FWDAUTH_MAGIC);
	fa_close(fa);
	http_msg_fini(&fa->resp);
	if (fa->body != NULL)
		evbuffer_free(fa->body);
	free(fa->extra);
	fa->magic = 0;
	free(fa);
}

static int
fa_on_body(void *arg, const char *p, size_t n)
{
	struct fwdauth *fa = arg;

	if (fa->resp.status >= 200 && fa->resp.status < 300)
		return 0; /* a 2xx's body is not used */
	if (evbuffer_get_length(fa->body) + n > FWDAUTH_BODY_MAX) {
		fa->too_big = true;
		return -1;
	}
	return evbuffer_add(fa->body, p, n);
}

static const struct http1_callbacks fa_cbs = {
	.on_body = fa_on_body,
};

/* The client's header <name> is not passed to the auth service. */
static bool
fa_skip_header(const struct cfg_forward_auth *cf, struct str name,
    const struct str *tok, size_t ntok)
{
	static const char *const own[] = { "host", "expect", "forwarded",
		"x-client-cert-subject", "x-client-cert-fingerprint" };

	if (rewrite_is_hop(name) || rewrite_in_tokens(name, tok, ntok) ||
	    rewrite_in_names(name, own, sizeof(own) / sizeof(own[0])) ||
	    rewrite_in_names(name, cf->copy, cf->ncopy))
		return true;
	return name.len >= 12 && strncasecmp(name.p, "x-forwarded-", 12) == 0;
}

/* The subrequest's head into the worker's scratch buffer: its length, or
 * 0 (no memory).
 */
static size_t
fa_head(struct conn *c, const struct cfg_forward_auth *cf, char **out)
{
	struct req *r = c->req;
	const struct http_msg *m = &r->msg;
	struct evbuffer *b = evbuffer_new();
	struct str tok[REWRITE_MAX_CONN_TOKENS], name, host;
	struct target t;
	size_t ntok, i, n;
	int bad = 0;

	*out = NULL;
	if (b == NULL)
		return 0;
	memset(&t, 0, sizeof(t));
	(void)target_parse(http_msg_str(m, m->target), false,
	    m->method == CFG_M_OPTIONS, &t, NULL);
	host =
	    t.form == TARGET_ABSOLUTE ? t.authority : http_msg_get(m, "host");
	if (host.len == 0 && r->server != NULL)
		host = str_cstr(r->server->label);
	ntok = rewrite_conn_tokens(m, tok, REWRITE_MAX_CONN_TOKENS);
	bad |= evbuffer_add_printf(b, "GET %s HTTP/1.1\r\nHost: %.*s\r\n",
	           cf->path, (int)host.len, host.p) < 0;
	for (i = 0; i < m->nhdrs; i++) {
		name = http_msg_hname(m, i);
		if (fa_skip_header(cf, name, tok, ntok))
			continue;
		bad |= evbuffer_add(b, name.p, name.len) != 0;
		bad |= evbuffer_add(b, ": ", 2) != 0;
		bad |= evbuffer_add(b, http_msg_hvalue(m, i).p,
		           http_msg_hvalue(m, i).len) != 0;
		bad |= evbuffer_add(b, "\r\n", 2) != 0;
	}
	bad |= evbuffer_add_printf(b,
	           "X-Forwarded-Method: %.*s\r\n"
	           "X-Forwarded-Proto: %s\r\n"
	           "X-Forwarded-Host: %.*s\r\n"
	           "X-Forwarded-Uri: %.*s%.*s\r\n"
	           "X-Forwarded-For: %s\r\n"
	           "Connection: close\r\n\r\n",
	           (int)m->method_name.len, m->buf + m->method_name.off,
	           r->listener->proto == CFG_PROTO_HTTPS ? "https" : "http",
	           (int)host.len, host.p, (int)t.path.len, t.path.p,
	           (int)t.query.len, t.query.p, r->client.text) < 0;
	n = evbuffer_get_length(b);
	if (bad || (*out = malloc(n)) == NULL) {
		evbuffer_free(b);
		return 0;
	}
	evbuffer_remove(b, *out, n);
	evbuffer_free(b);
	return n;
}

/* Gives the client the auth service's answer (not 2xx) as it came. */
static void
fa_pass_answer(struct fwdauth *fa, struct conn *c)
{
	struct req *r = c->req;
	const struct http_msg *m = &fa->resp;
	struct evbuffer *b = evbuffer_new();
	struct str name, reason = http_msg_str(m, m->reason);
	size_t i, blen = evbuffer_get_length(fa->body);
	int bad = b == NULL;

	if (!req_in_done(r))
		r->flags |= REQ_F_CLOSE; /* the body is not read on */
	if (!bad)
		bad |=
		    evbuffer_add_printf(b, "HTTP/1.1 %u %.*s\r\n", m->status,
		        reason.len > 0 ? (int)reason.len
		                       : (int)strlen(proxy_reason(m->status)),
		        reason.len > 0 ? reason.p : proxy_reason(m->status)) <
		    0;
	for (i = 0; !bad && i < m->nhdrs; i++) {
		name = http_msg_hname(m, i);
		if (rewrite_is_hop(name))
			continue;
		bad |= evbuffer_add(b, name.p, name.len) != 0;
		bad |= evbuffer_add(b, ": ", 2) != 0;
		bad |= evbuffer_add(b, http_msg_hvalue(m, i).p,
		           http_msg_hvalue(m, i).len) != 0;
		bad |= evbuffer_add(b, "\r\n", 2) != 0;
	}
	if (!bad)
		bad |= evbuffer_add_printf(b, "Content-Length: %zu\r\n%s\r\n",
		           blen,
		           (r->flags & REQ_F_CLOSE) ? "Connection: close\r\n"
		                                    : "") < 0;
	if (!bad && !(r->flags & REQ_F_HEAD_METHOD))
		bad |= evbuffer_add_buffer(b, fa->body) != 0;
	if (bad) {
		stats_inc(STAT_REQ_NO_MEMORY);
		r->flags |= REQ_F_CLOSE;
		proxy_write_local(c, 503, true);
	} else {
		r->bytes_out += evbuffer_get_length(b);
		if (conn_write_buffer(c, b) == -1)
			r->flags |= REQ_F_CLOSE;
		r->status = (uint16_t)m->status;
	}
	if (b != NULL)
		evbuffer_free(b);
}

/* The copy_headers of a 2xx answer, kept for fwdauth_request(). */
static int
fa_copy(struct fwdauth *fa)
{
	const struct http_msg *m = &fa->resp;
	struct evbuffer *b = evbuffer_new();
	struct str name, v;
	size_t i;
	int bad = b == NULL;

	for (i = 0; !bad && i < m->nhdrs; i++) {
		name = http_msg_hname(m, i);
		if (!rewrite_in_names(name, fa->cfg->copy, fa->cfg->ncopy))
			continue;
		v = http_msg_hvalue(m, i);
		bad |= evbuffer_add(b, name.p, name.len) != 0;
		bad |= evbuffer_add(b, ": ", 2) != 0;
		bad |= evbuffer_add(b, v.p, v.len) != 0;
		bad |= evbuffer_add(b, "\r\n", 2) != 0;
		if (name.len == 11 &&
		    strncasecmp(name.p, "remote-user", 11) == 0) {
			snprintf(fa->user, sizeof(fa->user), "%.*s", (int)v.len,
			    v.p);
			fa->c->req->user = fa->user;
		}
	}
	fa->extra_len = bad ? 0 : evbuffer_get_length(b);
	if (!bad && fa->extra_len > 0 &&
	    ((fa->extra = malloc(fa->extra_len)) == NULL ||
	        evbuffer_remove(b, fa->extra, fa->extra_len) < 0))
		bad = 1;
	if (b != NULL)
		evbuffer_free(b);
	return bad ? -1 : 0;
}

/* The check is over: <status> 0 for the answer in fa->resp, else the
 * proxy's own 502 or 504. Acts on the request; <fa> may be freed by it.
 */
static void
fa_done(struct fwdauth *fa, int status)
{
	struct conn *c = fa->c;
	struct req *r = c->req;
	bool allowed =
	    status == 0 && fa->resp.status >= 200 && fa->resp.status < 300;

	fa_close(fa);
	if (allowed && fa_copy(fa) != 0) {
		allowed = false;
		status = 502;
	}
	conn_enter(c);
	if (allowed) {
		fa->state = FA_ALLOWED;
		stats_inc(STAT_FWDAUTH_ALLOWED);
		/* before reading more of a held body: proxy_start() sends
		 * what is held and streams the rest
		 */
		(void)proxy_start(c);
		if (fa->paused && c->req == r && r->fa == fa)
			conn_resume_read(c);
		conn_leave(c);
		return;
	}
	fa->state = FA_ANSWERED;
	if (r->body_buf != NULL)
		evbuffer_drain(r->body_buf, evbuffer_get_length(r->body_buf));
	if (r->in == REQ_IN_HOLD)
		(void)req_to(r, REQ_IN_BODY); /* read and dropped */
	r->flags &= ~REQ_F_BODY_BUFFERED;
	if (status == 0) {
		stats_inc(STAT_FWDAUTH_DENIED);
		r->decision = "forward_auth";
		fa_pass_answer(fa, c);
	} else {
		stats_inc(STAT_FWDAUTH_ERRORS);
		r->decision = "forward_auth_error";
		if (!req_in_done(r))
			r->flags |= REQ_F_CLOSE;
		proxy_write_local(c, status, (r->flags & REQ_F_CLOSE) != 0);
	}
	(void)req_to(r, REQ_OUT_DONE);
	if (fa->paused)
		conn_resume_read(c);
	conn_req_finish_if_done(c);
	conn_leave(c);
}

static void
fa_fail(struct fwdauth *fa, int status, const char *why)
{
	log_info("forward auth of route %s (origin %s): %s: %d",
	    fa->route->name, fa->cfg->origin->name, why, status);
	fa_done(fa, status);
}

static void
fa_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fwdauth *fa = arg;

	(void)fd;
	(void)what;
	CHECK_OBJ(fa, FWDAUTH_MAGIC);
	fa_fail(fa, 504,
	    fa->connected ? "no answer in time" : "connect timed out");
}

static void
fa_read_cb(struct bufferevent *bev, void *arg)
{
	struct fwdauth *fa = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_iovec v;
	enum http1_status st;
	size_t used;

	CHECK_OBJ(fa, FWDAUTH_MAGIC);
	while (evbuffer_peek(in, -1, NULL, &v, 1) >= 1 && v.iov_len > 0) {
		st = http1_feed(fa->parser, v.iov_base, v.iov_len, &used);
		evbuffer_drain(in, used);
		if (st == HTTP1_OK)
			continue;
		if (st == HTTP1_PAUSED && fa->resp.status < 200) {
			http1_next(fa->parser); /* 1xx: the answer follows */
			continue;
		}
		if (st == HTTP1_PAUSED) {
			fa_done(fa, 0);
			return;
		}
		fa_fail(fa, 502,
		    fa->too_big ? "answer body too large"
		                : http1_error_reason(fa->parser));
		return;
	}
}

static void
fa_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct fwdauth *fa = arg;
	const struct cfg_route *rt = fa->route;
	struct timeval tv;

	CHECK_OBJ(fa, FWDAUTH_MAGIC);
	if (what & BEV_EVENT_CONNECTED) {
		fa->connected = true;
		evtimer_del(fa->tmr);
		if (rt->response_ms > 0) {
			fa_ms_tv(rt->response_ms, &tv);
			evtimer_add(fa->tmr, &tv);
		}
		return;
	}
	if (what & BEV_EVENT_EOF) {
		fa_read_cb(bev, fa); /* what is still buffered */
		if (fa->magic != FWDAUTH_MAGIC || fa->parser == NULL)
			return; /* answered */
		if (http1_finish(fa->parser) == HTTP1_PAUSED &&
		    fa->resp.status >= 200) {
			fa_done(fa, 0);
			return;
		}
		fa_fail(fa, 502, "closed before answering");
		return;
	}
	fa_fail(fa, 502,
	    fa->connected ? "connection failed" : "connect failed");
}

/* Starts the check of the request of <c>. 0, or -1 after answering. */
static int
fa_start(struct conn *c, const struct cfg_forward_auth *cf)
{
	struct req *r = c->req;
	const struct cfg_origin *o = cf->origin;
	const struct cfg_server *s;
	struct fwdauth *fa;
	struct timeval tv;
	char *head = NULL, label[256];
	size_t n;
	int one = 1;

	if ((fa = calloc(1, sizeof(*fa))) == NULL) {
		stats_inc(STAT_REQ_NO_MEMORY);
		r->flags |= REQ_F_CLOSE;
		proxy_write_local(c, 503, true);
		(void)req_to(r, REQ_OUT_DONE);
		conn_req_finish_if_done(c);
		return -1;
	}
	fa->magic = FWDAUTH_MAGIC;
	fa->c = c;
	fa->cfg = cf;
	fa->route = r->route;
	http_msg_init(&fa->resp);
	r->fa = fa;
	if ((fa->body = evbuffer_new()) == NULL ||
	    (fa->parser = http1_new(HTTP1_RESPONSE, &fa_limits, &fa_cbs, fa,
	         &fa->resp)) == NULL ||
	    (fa->tmr = evtimer_new(c->w->base, fa_timer_cb, fa)) == NULL ||
	    (n = fa_head(c, cf, &head)) == 0) {
		stats_inc(STAT_REQ_NO_MEMORY);
		fa_done(fa, 503);
		return -1;
	}
	if ((s = upstream_choose(c->w->pools, o, NULL)) == NULL) {
		free(head);
		fa_fail(fa, 502, "no usable server");
		return -1;
	}
	fa->server_id = s->id;
	fa->bev = bufferevent_socket_new(c->w->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (fa->bev != NULL)
		bufferevent_setcb(fa->bev, fa_read_cb, NULL, fa_event_cb, fa);
	if (fa->bev == NULL ||
	    bufferevent_socket_connect(fa->bev, (const struct sockaddr *)&s->sa,
	        (int)s->salen) == -1) {
		free(head);
		fa_fail(fa, 502, "connect failed");
		return -1;
	}
	(void)setsockopt(bufferevent_getfd(fa->bev), IPPROTO_TCP, TCP_NODELAY,
	    &one, sizeof(one));
	if (o->tls != NULL) {
		snprintf(label, sizeof(label), "origin %s server %s", o->name,
		    s->label);
		fa->bev = tls_client_wrap(fa->bev, o->tls,
		    o->tls_sni != NULL ? o->tls_sni : s->address, label);
		if (fa->bev == NULL) {
			free(head);
			fa_fail(fa, 502, "TLS setup failed");
			return -1;
		}
	}
	server_live_begin(s->id);
	fa->live = true;
	bufferevent_setcb(fa->bev, fa_read_cb, NULL, fa_event_cb, fa);
	bufferevent_enable(fa->bev, EV_READ | EV_WRITE);
	if (bufferevent_write(fa->bev, head, n) == -1) {
		free(head);
		fa_fail(fa, 502, "no memory for the subrequest");
		return -1;
	}
	free(head);
	if (r->route->connect_ms > 0) {
		fa_ms_tv(r->route->connect_ms, &tv);
		evtimer_add(fa->tmr, &tv);
	}
	return 0;
}

bool
fwdauth_hold(struct conn *c)
{
	struct req *r = c->req;
	const struct cfg_forward_auth *cf = r->route->forward_auth;

	if (cf == NULL)
		return false;
	if (r->fa == NULL && fa_start(c, cf) != 0)
		return true; /* answered at once (the request may be over) */
	switch (r->fa->state) {
	case FA_ALLOWED:
		return false;
	case FA_ANSWERED:
		return true;
	case FA_PENDING:
		break;
	}
	/* A large body waits with the rest of the request: no more reads
	 * until the answer (conn_resume_read() then).
	 */
	if (r->in == REQ_IN_HOLD && !(c->flags & CONN_F_READ_PAUSED)) {
		c->flags |= CONN_F_READ_PAUSED;
		conn_read_enable(c, false);
		r->fa->paused = true;
	}
	return true;
}

void
fwdauth_request(struct conn *c, struct rewrite_req *rq)
{
	struct req *r = c->req;
	const struct cfg_forward_auth *cf = r->route->forward_auth;

	if (cf == NULL)
		return;
	rq->strip = cf->copy;
	rq->nstrip = cf->ncopy;
	if (r->fa != NULL && r->fa->extra != NULL)
		rq->extra = str_make(r->fa->extra, r->fa->extra_len);
}
