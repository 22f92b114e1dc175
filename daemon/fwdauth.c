/*
 * fwdauth.c: forward auth subrequests (fwdauth.h).
 *
 * A check is an owner of an origin connection like a client request
 * (upstream.h): upstream_attach() with the check's own ops gives it an
 * idle keep-alive connection of the worker's pool to the chosen auth
 * server, or a new one, with the route's connect, response and idle
 * timeouts; the answer's end gives the connection back to the pool when
 * the service kept it open, so a client's checks share one connection. A
 * pooled connection the service had closed is retried once on a fresh
 * one. The request owns the check (req->fa) and frees it at its end,
 * which closes the connection of a check still running (a client that
 * went away). The owner given to upstream.c is the client connection,
 * which conn_enter()/conn_leave() keep alive across each event; the ops
 * find the check as c->req->fa.
 */
#include "fwdauth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "cfg.h"
#include "check.h"
#include "conn.h"
#include "http1.h"
#include "log.h"
#include "proxy.h"
#include "rewrite.h"
#include "stats.h"
#include "target.h"
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
	const struct cfg_server *server; /* the auth server asked */
	struct upstream_conn *up;        /* owned while asking */
	char *head; /* owned: the subrequest, for a retry */
	size_t head_len;
	struct evbuffer *body; /* the answer's body (not 2xx) */
	bool paused, too_big, retried;
	char *extra; /* copied headers, "Name: value\r\n" each */
	size_t extra_len;
	char user[128]; /* a copied Remote-User: the access log's user */
};

void
fwdauth_free(struct fwdauth *fa)
{
	if (fa == NULL)
		return;
	CHECK_OBJ(fa, FWDAUTH_MAGIC);
	upstream_release(fa->up, false); /* a check still running */
	if (fa->body != NULL)
		evbuffer_free(fa->body);
	free(fa->head);
	free(fa->extra);
	fa->magic = 0;
	free(fa);
}

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
	host = t.form == TARGET_ABSOLUTE ? t.authority : http_msg_host(m);
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
	           "X-Forwarded-For: %s\r\n\r\n",
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

/* Gives the client the auth service's answer <m> (not 2xx) as it came. */
static void
fa_pass_answer(struct fwdauth *fa, struct conn *c, const struct http_msg *m)
{
	struct req *r = c->req;
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

/* The copy_headers of a 2xx answer <m>, kept for fwdauth_request(). */
static int
fa_copy(struct fwdauth *fa, const struct http_msg *m)
{
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

/* The check is over: <status> 0 for the answer on fa->up, else the
 * proxy's own 502 or 504. Acts on the request; <fa> may be freed by it.
 */
static void
fa_done(struct fwdauth *fa, int status)
{
	struct conn *c = fa->c;
	struct req *r = c->req;
	const struct http_msg *m = fa->up != NULL ? &fa->up->resp : NULL;
	bool allowed =
	    status == 0 && m != NULL && m->status >= 200 && m->status < 300;

	if (allowed && fa_copy(fa, m) != 0) {
		allowed = false;
		status = 502;
	}
	conn_enter(c);
	if (allowed) {
		/* The answer is read whole: its connection goes back to the
		 * pool when the service keeps it open.
		 */
		upstream_release(fa->up, true);
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
	if (status == 0 && m != NULL) {
		stats_inc(STAT_FWDAUTH_DENIED);
		r->decision = "forward_auth";
		fa_pass_answer(fa, c, m);
	} else {
		stats_inc(STAT_FWDAUTH_ERRORS);
		r->decision = "forward_auth_error";
		if (!req_in_done(r))
			r->flags |= REQ_F_CLOSE;
		proxy_write_local(c, status, (r->flags & REQ_F_CLOSE) != 0);
	}
	/* A whole answer leaves its connection reusable; a failure not. */
	upstream_release(fa->up, status == 0);
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

static const struct upstream_owner_ops fa_upstream_ops;

/* Asks fa->server: a pooled connection unless <fresh>. 0, or -1 when no
 * connection could even be started.
 */
static int
fa_send(struct fwdauth *fa, bool fresh)
{
	struct conn *c = fa->c;
	const struct cfg_route *rt = fa->route;
	const struct upstream_owner own = { c, &fa_upstream_ops, &fa->up,
		c->req->cfg };

	if (upstream_attach(c->w, &own, fa->server, rt->connect_ms, rt->idle_ms,
	        fresh) == -1)
		return -1;
	if (upstream_write(fa->up, fa->head, fa->head_len) == -1)
		return -1;
	upstream_expect_response(fa->up, rt->response_ms, false);
	return 0;
}

/* The ops' owner is the client connection; the check is its request's. */
static struct fwdauth *
fa_of(void *owner)
{
	struct conn *c = owner;

	return c->req->fa;
}

static void
fa_enter(void *owner)
{
	conn_enter(owner);
}

static void
fa_leave(void *owner)
{
	(void)conn_leave(owner);
}

static bool
fa_holds(void *owner, const struct upstream_conn *u)
{
	const struct conn *c = owner;

	return !(c->flags & CONN_F_DEAD) && c->req != NULL &&
	    c->req->fa != NULL && c->req->fa->up == u;
}

static int
fa_on_head(void *owner, struct http_msg *m)
{
	/* 1xx: the answer follows (upstream.c); a 101 was not asked for */
	return m->status == 101 ? -1 : 0;
}

static int
fa_on_body(void *owner, const char *p, size_t n)
{
	struct fwdauth *fa = fa_of(owner);
	unsigned st = fa->up->resp.status;

	if (st >= 200 && st < 300)
		return 0; /* a 2xx's body is not used */
	if (evbuffer_get_length(fa->body) + n > FWDAUTH_BODY_MAX) {
		fa->too_big = true;
		return -1;
	}
	return evbuffer_add(fa->body, p, n);
}

static void
fa_on_complete(void *owner)
{
	fa_done(fa_of(owner), 0);
}

static void
fa_on_fail(void *owner, enum upstream_fail why)
{
	struct fwdauth *fa = fa_of(owner);
	struct upstream_conn *u = fa->up;

	/* A pooled connection the service had closed: once more, on a
	 * fresh one.
	 */
	if (u != NULL && (u->flags & UPSTREAM_F_REUSED) &&
	    !(u->flags & UPSTREAM_F_GOT_BYTES) && !fa->retried &&
	    (why == UPSTREAM_FAIL_CLOSED || why == UPSTREAM_FAIL_CONNECT)) {
		fa->retried = true;
		upstream_release(u, false);
		if (fa_send(fa, true) == 0)
			return;
		why = UPSTREAM_FAIL_CONNECT;
	}
	switch (why) {
	case UPSTREAM_FAIL_CONNECT:
		fa_fail(fa, 502, "connect failed");
		break;
	case UPSTREAM_FAIL_CONNECT_TIMEOUT:
		fa_fail(fa, 504, "connect timed out");
		break;
	case UPSTREAM_FAIL_RESPONSE_TIMEOUT:
		fa_fail(fa, 504, "no answer in time");
		break;
	case UPSTREAM_FAIL_IDLE_TIMEOUT:
		fa_fail(fa, 504, "answer stalled");
		break;
	case UPSTREAM_FAIL_BAD_RESPONSE:
		fa_fail(fa, 502,
		    fa->too_big ? "answer body too large" : "bad answer");
		break;
	case UPSTREAM_FAIL_CLOSED:
		fa_fail(fa, 502, "closed before answering");
		break;
	}
}

static void
fa_on_upgrade(void *owner)
{
	fa_on_fail(owner, UPSTREAM_FAIL_BAD_RESPONSE);
}

static void
fa_on_drained(void *owner)
{
	(void)owner; /* the subrequest is one small head */
}

static bool
fa_backlogged(void *owner)
{
	(void)owner; /* an answer body is bounded (FWDAUTH_BODY_MAX) */
	return false;
}

static void
fa_tunnel_eof(void *owner)
{
	fa_on_fail(owner, UPSTREAM_FAIL_CLOSED); /* never a tunnel */
}

static const struct upstream_owner_ops fa_upstream_ops = {
	.enter = fa_enter,
	.leave = fa_leave,
	.holds = fa_holds,
	.on_head = fa_on_head,
	.on_body = fa_on_body,
	.on_complete = fa_on_complete,
	.on_upgrade = fa_on_upgrade,
	.on_fail = fa_on_fail,
	.on_drained = fa_on_drained,
	.backlogged = fa_backlogged,
	.tunnel_data = fa_on_drained,
	.tunnel_eof = fa_tunnel_eof,
};

/* Starts the check of the request of <c>. 0, or -1 after answering. */
static int
fa_start(struct conn *c, const struct cfg_forward_auth *cf)
{
	struct req *r = c->req;
	struct fwdauth *fa;

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
	r->fa = fa;
	if ((fa->body = evbuffer_new()) == NULL ||
	    (fa->head_len = fa_head(c, cf, &fa->head)) == 0) {
		stats_inc(STAT_REQ_NO_MEMORY);
		fa_done(fa, 503);
		return -1;
	}
	if ((fa->server = upstream_choose(c->w->pools, cf->origin, NULL)) ==
	    NULL) {
		fa_fail(fa, 502, "no usable server");
		return -1;
	}
	if (fa_send(fa, false) == -1) {
		fa_fail(fa, 502, "connect failed");
		return -1;
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
