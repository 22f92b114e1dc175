/*
 * proxy.c: one request's trip to its origin and back.
 *
 * Heads are never forwarded as received: the request and response heads
 * are re-serialized from the parsed name/value pairs (so no smuggling
 * shape survives), minus hop-by-hop headers and the headers Connection
 * names, plus X-Forwarded-For/-Proto/-Host (and RFC 7239 Forwarded when
 * the route asks). Framing is chosen per side: a chunked request body is
 * re-chunked to the origin; a chunked or close-delimited response goes to
 * an HTTP/1.1 client chunked, to an HTTP/1.0 client delimited by close.
 * Bodies stream with back-pressure: a side whose send queue passes
 * PROXY_HIGH_WATER stops the other side's reads until it drains.
 */
#include "proxy.h"

#include <sys/socket.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "balance.h"
#include "cfg.h"
#include "check.h"
#include "compress.h"
#include "conn.h"
#include "fwdauth.h"
#include "http1.h"
#include "log.h"
#include "normalize.h"
#include "ratelimit.h"
#include "respond.h"
#include "rewrite.h"
#include "server_live.h"
#include "stats.h"
#include "target.h"
#include "tls.h"
#include "upstream.h"
#include "worker.h"

#define PROXY_MAX_AVOID 8

/* Head serialization into the worker's scratch buffer. */
struct sb {
	struct worker *w;
	size_t len;
	bool fail;
};

/* sb_add() when the scratch buffer must grow first, or failed. */
static void __attribute__((noinline))
sb_add_grow(struct sb *b, const char *p, size_t n)
{
	if (b->fail || worker_scratch(b->w, b->len + n) == -1) {
		b->fail = true;
		return;
	}
	memcpy(b->w->scratch + b->len, p, n);
	b->len += n;
}

/* Inline: a head is a dozen small pieces, most of constant length. */
static inline void
sb_add(struct sb *b, const char *p, size_t n)
{
	if (!b->fail && b->len + n <= b->w->scratch_cap) { /* the usual */
		memcpy(b->w->scratch + b->len, p, n);
		b->len += n;
		return;
	}
	sb_add_grow(b, p, n);
}

static void
sb_str(struct sb *b, struct str s)
{
	sb_add(b, s.p, s.len);
}

static void
sb_cstr(struct sb *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

const char *
proxy_reason(int status)
{
	switch (status) {
	case 100:
		return "Continue";
	case 101:
		return "Switching Protocols";
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 413:
		return "Content Too Large";
	case 414:
		return "URI Too Long";
	case 417:
		return "Expectation Failed";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Unknown";
	}
}

static void
client_write(struct conn *c, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (conn_write(c, p, n) == -1)
		c->req->flags |= REQ_F_CLOSE;
	c->req->bytes_out += n;
}

void
proxy_write_local(struct conn *c, int status, bool close)
{
	char buf[512];
	const char *reason = proxy_reason(status);
	int body, n;

	if (respond_error_page(c, status, close))
		return;
	body = (int)strlen(reason) + 5; /* "404 " + reason + "\n" */
	n = snprintf(buf, sizeof(buf),
	    "HTTP/1.1 %d %s\r\n"
	    "Server: gatehouse\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: %d\r\n"
	    "%s"
	    "\r\n"
	    "%d %s\n",
	    status, reason, body, close ? "Connection: close\r\n" : "", status,
	    reason);
	if ((c->req->flags & REQ_F_HEAD_METHOD) && n > body)
		n -= body;
	client_write(c, buf, (size_t)n);
	c->req->status = (uint16_t)status;
}

void
proxy_write_redirect(struct conn *c, struct str host, struct str path,
    struct str query)
{
	struct sb b = { c->w, 0, false };

	sb_cstr(&b,
	    "HTTP/1.1 308 Permanent Redirect\r\n"
	    "Server: gatehouse\r\n"
	    "Location: https://");
	sb_str(&b, target_authority_host(str_trim(host)));
	sb_str(&b, path);
	sb_str(&b, query);
	sb_cstr(&b, "\r\nContent-Length: 0\r\n");
	if (c->req->flags & REQ_F_CLOSE)
		sb_cstr(&b, "Connection: close\r\n");
	sb_add(&b, "\r\n", 2);
	if (b.fail) {
		proxy_write_local(c, 503, true);
		return;
	}
	client_write(c, c->w->scratch, b.len);
	c->req->status = 308;
}

/* Serializes the request head for the origin into the scratch buffer
 * (rewrite.c); returns its length or -1 (no memory).
 */
static ssize_t
build_request_head(struct conn *c)
{
	const struct http_msg *m = &c->req->msg;
	struct req *r = c->req;
	struct rewrite_req rq;
	struct target t;
	char npath[HTTP1_DEF_MAX_REQUEST_LINE];
	char rpath[HTTP1_DEF_MAX_REQUEST_LINE + CV_PATH_MAX];
	struct tmpl_ctx tx;
	size_t n;

	/* conn_on_head() routed by the same parse and refused what fails */
	if (target_parse(http_msg_str(m, m->target), false,
	        m->method == CFG_M_OPTIONS, &t, NULL) != 0)
		return -1;
	memset(&rq, 0, sizeof(rq));
	rq.m = m;
	rq.path = t.path;
	/* conn_on_head() refused what does not normalise, and said when the
	 * path is in normal form already (the usual case).
	 */
	if (cfg_route_pathnorm(r->route, r->listener) ==
	        CFG_PATHNORM_FORWARD_NORMALIZED &&
	    t.form != TARGET_ASTERISK && !(r->flags & REQ_F_PATH_NORMAL) &&
	    norm_path(t.path, npath, sizeof(npath), &n) == NORM_OK)
		rq.path = str_make(npath, n);
	rq.path = respond_rewrite_path(r->route, rq.path, rpath, sizeof(rpath));
	respond_request_rules(c, &rq, &tx);
	fwdauth_request(c, &rq); /* copied headers, forged ones out */
	rq.query = t.query;
	rq.absolute = t.form == TARGET_ABSOLUTE;
	rq.authority = rq.absolute ? t.authority : STR_NULL;
	rq.trust = r->listener->trust_forwarded;
	rq.forwarded = r->route->forwarded;
	rq.https = r->listener->proto == CFG_PROTO_HTTPS;
	rq.upgrade = (r->flags & REQ_F_UPGRADE) != 0;
	rq.peer = c->peer;
	rq.xff_resolved = r->listener->ntrusted_proxies > 0;
	rq.xff_hdr = r->client.xff_hdr;
	rq.xff_off = r->client.xff_off;
	rq.peer_v6 = c->peer_sa.ss_family == AF_INET6;
	rq.default_host = str_cstr(r->server->label);
	rq.cert_subject = tls_conn_peer_subject(c->tls);
	rq.cert_fingerprint = tls_conn_peer_fingerprint(c->tls);
	if (r->flags & REQ_F_BODY_BUFFERED) {
		rq.body = REWRITE_BODY_LENGTH;
		rq.length = evbuffer_get_length(r->body_buf);
	} else if (m->flags & HTTP_MSG_F_CHUNKED) {
		rq.body = REWRITE_BODY_CHUNKED;
	} else if (m->flags & HTTP_MSG_F_HAS_LENGTH) {
		rq.body = REWRITE_BODY_LENGTH;
		rq.length = m->content_length;
	}
	n = rewrite_request_head(&rq, c->w->scratch, c->w->scratch_cap);
	if (n > c->w->scratch_cap) {
		if (worker_scratch(c->w, n) == -1)
			return -1;
		(void)rewrite_request_head(&rq, c->w->scratch,
		    c->w->scratch_cap);
	}
	return (ssize_t)n;
}

static void
fail_status(struct conn *c, int status, enum stat_id id)
{
	struct req *r = c->req;

	stats_inc(id);
	if (r->sstats != NULL)
		stats_add(&r->sstats->errors, 1);
	upstream_release(r->up, false);
	if (req_out_started(r)) {
		/* Never fake a complete response: the client sees the
		 * connection end early.
		 */
		r->flags |= REQ_F_CLOSE;
		conn_finish(c);
		return;
	}
	if (!req_in_done(r))
		r->flags |= REQ_F_CLOSE;
	proxy_write_local(c, status, (r->flags & REQ_F_CLOSE) != 0);
	(void)req_to(r, REQ_OUT_DONE);
	conn_req_finish_if_done(c);
}

static int proxy_on_response_head(void *owner, struct http_msg *m);
static int proxy_on_response_body(void *owner, const char *p, size_t n);
static void proxy_on_response_complete(void *owner);
static void proxy_on_upgrade(void *owner);
static void proxy_on_upstream_fail(void *owner, enum upstream_fail why);
static void proxy_on_upstream_drained(void *owner);
static bool proxy_client_backlogged(void *owner);
static void proxy_tunnel_upstream_eof(void *owner);

/* The owner is the client connection: held across each event. */
static void
proxy_enter(void *owner)
{
	conn_enter(owner);
}

static void
proxy_leave(void *owner)
{
	(void)conn_leave(owner);
}

static bool
proxy_holds(void *owner, const struct upstream_conn *u)
{
	const struct conn *c = owner;

	return !(c->flags & CONN_F_DEAD) && c->req->up == u;
}

static void
proxy_tunnel_data(void *owner)
{
	proxy_tunnel_from_upstream(owner);
}

/* How an origin connection reports to the client request that owns it
 * (upstream.h); the functions are below and in the tunnel code.
 */
static const struct upstream_owner_ops proxy_upstream_ops = {
	.enter = proxy_enter,
	.leave = proxy_leave,
	.holds = proxy_holds,
	.on_head = proxy_on_response_head,
	.on_body = proxy_on_response_body,
	.on_complete = proxy_on_response_complete,
	.on_upgrade = proxy_on_upgrade,
	.on_fail = proxy_on_upstream_fail,
	.on_drained = proxy_on_upstream_drained,
	.backlogged = proxy_client_backlogged,
	.tunnel_data = proxy_tunnel_data,
	.tunnel_eof = proxy_tunnel_upstream_eof,
};

static int
send_head(struct conn *c, bool fresh)
{
	struct req *r = c->req;
	const struct cfg_route *rt = r->route;
	const struct upstream_owner own = { c, &proxy_upstream_ops, &r->up,
		r->cfg };

	if (upstream_attach(c->w, &own, r->server, rt->connect_ms, rt->idle_ms,
	        fresh) == -1)
		return -1;
	(void)req_to(r, REQ_OUT_WAIT);
	if (upstream_write(r->up, r->head_copy, r->head_copy_len) == -1)
		return -1;
	if (r->flags & REQ_F_BODY_BUFFERED) {
		/* Copied, not moved: a retry sends it again. */
		size_t n = evbuffer_get_length(r->body_buf);
		unsigned char *p = evbuffer_pullup(r->body_buf, -1);

		if (n > 0 && (p == NULL || upstream_write(r->up, p, n) == -1))
			return -1;
	}
	upstream_expect_response(r->up, rt->response_ms,
	    (r->flags & REQ_F_HEAD_METHOD) != 0);
	clock_gettime(CLOCK_MONOTONIC, &r->t_up);
	return 0;
}

/* The origin failed before answering: the request goes again (a retry
 * whose connect failed at once is still retrying).
 */
static void
proxy_retrying(struct req *r)
{
	if (r->out != REQ_OUT_RETRY)
		(void)req_to(r, REQ_OUT_RETRY);
}

int
proxy_resend(struct conn *c, const struct cfg_server *s)
{
	struct req *r = c->req;

	proxy_retrying(r);
	r->server = s;
	r->sstats = stats_obj_cached(STATS_SERVER, s->id);
	if (r->sstats != NULL)
		stats_add(&r->sstats->requests, 1);
	return send_head(c, true);
}

int
proxy_start(struct conn *c)
{
	struct req *r = c->req;
	ssize_t len;
	char *copy;

	if (fwdauth_hold(c)) /* the auth service answers first */
		return 0;
	balance_retry_count(r->route);
	r->server = balance_server(c, NULL, 0);
	if (r->server == NULL) {
		/* every server draining, disabled or at max_connections */
		if (balance_queue_park(c) == 0)
			return 0;
		fail_status(c, 503, STAT_UP_CONNECT_FAILED);
		return -1;
	}
	if ((len = build_request_head(c)) == -1) {
		stats_inc(STAT_REQ_NO_MEMORY);
		r->flags |= REQ_F_CLOSE;
		proxy_write_local(c, 503, true);
		(void)req_to(r, REQ_OUT_DONE);
		return -1;
	}
	/* Keep the head: a pooled connection the origin closed under us
	 * gets one retry on a fresh one.
	 */
	if ((size_t)len > r->head_copy_cap) {
		if ((copy = realloc(r->head_copy, (size_t)len)) == NULL) {
			stats_inc(STAT_REQ_NO_MEMORY);
			r->flags |= REQ_F_CLOSE;
			proxy_write_local(c, 503, true);
			(void)req_to(r, REQ_OUT_DONE);
			return -1;
		}
		r->head_copy = copy;
		r->head_copy_cap = (size_t)len;
	}
	memcpy(r->head_copy, c->w->scratch, (size_t)len);
	r->head_copy_len = (size_t)len;
	r->sstats = stats_obj_cached(STATS_SERVER, r->server->id);
	if (r->sstats != NULL)
		stats_add(&r->sstats->requests, 1);
	if (send_head(c, false) == -1) {
		fail_status(c, 502, STAT_UP_CONNECT_FAILED);
		return -1;
	}
	if (r->in == REQ_IN_HOLD && r->body_buf != NULL) {
		/* Part of a large body was held back: send it on and
		 * stream the rest.
		 */
		struct evbuffer *held = r->body_buf;
		size_t n = evbuffer_get_length(held);
		unsigned char *p = evbuffer_pullup(held, -1);

		(void)req_to(r, REQ_IN_BODY);
		if (n > 0 && p != NULL)
			(void)proxy_request_body(c, (const char *)p, n);
		evbuffer_drain(held, n);
	}
	if (r->in == REQ_IN_HOLD)
		(void)req_to(r, REQ_IN_BODY);
	return 0;
}

/* Out of memory while queueing the request body for the origin: the
 * origin connection goes (it holds a partial body), the client gets 503
 * if nothing of the response was sent yet, and the connection closes.
 */
static int
body_no_memory(struct conn *c)
{
	struct req *r = c->req;

	stats_inc(STAT_REQ_NO_MEMORY);
	r->flags |= REQ_F_CLOSE;
	if (!req_out_started(r)) {
		upstream_release(r->up, false);
		if (r->in == REQ_IN_HOLD)
			(void)req_to(r, REQ_IN_BODY); /* dropped */
		proxy_write_local(c, 503, true);
		(void)req_to(r, REQ_OUT_DONE);
	}
	return -1;
}

int
proxy_request_body(struct conn *c, const char *p, size_t n)
{
	struct req *r = c->req;
	struct evbuffer *out;
	char line[24];
	int len;

	if (r->in == REQ_IN_HOLD) {
		if (r->body_buf == NULL &&
		    (r->body_buf = evbuffer_new()) == NULL)
			return body_no_memory(c);
		if (evbuffer_add(r->body_buf, p, n) == -1)
			return body_no_memory(c);
		if (evbuffer_get_length(r->body_buf) > PROXY_BODY_BUFFER)
			(void)proxy_start(c);
		return 0;
	}
	if (r->up == NULL || n == 0)
		return 0; /* discarded: answered locally or failed */
	out = upstream_output(r->up);
	if (r->flags & REQ_F_CHUNK_UP) {
		len = snprintf(line, sizeof(line), "%zx\r\n", n);
		if (evbuffer_add(out, line, (size_t)len) == -1 ||
		    evbuffer_add(out, p, n) == -1 ||
		    evbuffer_add(out, "\r\n", 2) == -1)
			return body_no_memory(c);
	} else if (evbuffer_add(out, p, n) == -1) {
		return body_no_memory(c);
	}
	return 0;
}

void
proxy_request_end(struct conn *c, bool held)
{
	struct req *r = c->req;

	if (held) {
		/* The whole body is here: it goes out in one piece with a
		 * Content-Length, chunked or not.
		 */
		if (r->body_buf == NULL &&
		    (r->body_buf = evbuffer_new()) == NULL) {
			(void)body_no_memory(c);
			return;
		}
		r->flags &= ~REQ_F_CHUNK_UP;
		r->flags |= REQ_F_BODY_BUFFERED;
		(void)proxy_start(c);
		return;
	}
	if (r->up != NULL && (r->flags & REQ_F_CHUNK_UP) &&
	    evbuffer_add(upstream_output(r->up), "0\r\n\r\n", 5) == -1)
		(void)body_no_memory(c);
}

bool
proxy_upstream_backlogged(struct conn *c)
{
	return c->req->up != NULL &&
	    upstream_pending(c->req->up) > PROXY_HIGH_WATER;
}

static bool
proxy_client_backlogged(void *owner)
{
	return conn_output_pending(owner) > PROXY_HIGH_WATER;
}

void
proxy_on_client_drained(struct conn *c)
{
	struct upstream_conn *u = c->req->up;

	if (u == NULL)
		return;
	upstream_resume_read(u);
	upstream_process(u);
}

static void
proxy_on_upstream_drained(void *owner)
{
	struct conn *c = owner;

	if (c->state == CONN_S_TUNNEL) {
		conn_read_enable(c, true);
		proxy_tunnel_from_client(c);
		return;
	}
	if (c->flags & CONN_F_READ_PAUSED)
		conn_resume_read(c);
}

/* The route's response header rules (hdr_rules.h). */
static void
sb_rules(struct sb *b, struct conn *c)
{
	size_t n = respond_response_rules(c, NULL, 0);

	if (b->fail || worker_scratch(b->w, b->len + n) == -1) {
		b->fail = true;
		return;
	}
	b->len += respond_response_rules(c, b->w->scratch + b->len, n);
}

/* The compression lines of the head (compress.h). */
static void
sb_compress(struct sb *b, struct conn *c, const struct http_msg *m,
    unsigned how)
{
	size_t n = compress_head_lines(c, m, how, NULL, 0);

	if (b->fail || worker_scratch(b->w, b->len + n) == -1) {
		b->fail = true;
		return;
	}
	b->len += compress_head_lines(c, m, how, b->w->scratch + b->len, n);
}

static void
write_response_head(struct conn *c, const struct http_msg *m)
{
	struct req *r = c->req;
	struct sb b = { c->w, 0, false };
	struct str tok[REWRITE_MAX_CONN_TOKENS], name;
	size_t ntok, i;
	char line[64];
	int n;
	bool no_body = (m->flags & HTTP_MSG_F_NO_BODY) != 0;
	bool keep_length;
	bool hsts = r->route != NULL && r->route->hsts_max_age > 0 &&
	    r->listener->proto == CFG_PROTO_HTTPS;
	unsigned zh = r->route != NULL && r->route->compress != NULL
	    ? compress_response_head(c, m)
	    : 0;

	if (c->flags & CONN_F_DRAIN)
		r->flags |= REQ_F_CLOSE;
	keep_length = no_body ||
	    ((m->flags & HTTP_MSG_F_HAS_LENGTH) &&
	        !(m->flags & HTTP_MSG_F_CHUNKED) && !(zh & COMPRESS_HEAD_ON));
	if (!no_body && !keep_length) {
		if (r->flags & REQ_F_CLIENT_11)
			r->flags |= REQ_F_CHUNK_OUT;
		else
			r->flags |= REQ_F_CLOSE; /* close-delimited */
	}
	ntok = rewrite_conn_tokens(m, tok, REWRITE_MAX_CONN_TOKENS);
	if (m->status >= 100 && m->status <= 999) {
		memcpy(line, "HTTP/1.1 ", 9);
		line[9] = (char)('0' + m->status / 100);
		line[10] = (char)('0' + m->status / 10 % 10);
		line[11] = (char)('0' + m->status % 10);
		line[12] = ' ';
		n = 13;
	} else {
		n = snprintf(line, sizeof(line), "HTTP/1.1 %u ", m->status);
	}
	sb_add(&b, line, (size_t)n);
	if (m->reason.len > 0)
		sb_str(&b, http_msg_str(m, m->reason));
	else
		sb_cstr(&b, proxy_reason(m->status));
	sb_add(&b, "\r\n", 2);
	for (i = 0; i < m->nhdrs; i++) {
		name = http_msg_hname(m, i);
		if (keep_length && name.len == 14 &&
		    str_caseeq_cstr(name, "content-length"))
			goto copy;
		if (rewrite_is_hop(name) ||
		    (ntok > 0 && rewrite_in_tokens(name, tok, ntok)))
			continue;
		if (r->route != NULL && r->route->resp_hdrs != NULL &&
		    hdr_rules_drops(r->route->resp_hdrs, name))
			continue;
		if (hsts && name.len == 25 &&
		    str_caseeq_cstr(name, "strict-transport-security"))
			continue; /* the route's own replaces the origin's */
		if ((zh & COMPRESS_HEAD_ON) && compress_drops(name))
			continue; /* compress_head_lines() says them */
copy:
		sb_str(&b, name);
		sb_add(&b, ": ", 2);
		sb_str(&b, http_msg_hvalue(m, i));
		sb_add(&b, "\r\n", 2);
	}
	if (r->route != NULL && r->route->resp_hdrs != NULL)
		sb_rules(&b, c);
	if (zh != 0)
		sb_compress(&b, c, m, zh);
	if (hsts) {
		n = snprintf(line, sizeof(line),
		    "Strict-Transport-Security: max-age=%u\r\n",
		    r->route->hsts_max_age);
		sb_add(&b, line, (size_t)n);
	}
	{
		char ck[160];
		size_t ckn = balance_sticky_header(c, ck, sizeof(ck));

		sb_add(&b, ck, ckn);
	}
	{
		char rl[320];

		sb_add(&b, rl, ratelimit_headers(c, rl, sizeof(rl)));
	}
	if (r->flags & REQ_F_CHUNK_OUT)
		sb_cstr(&b, "Transfer-Encoding: chunked\r\n");
	if (r->flags & REQ_F_CLOSE)
		sb_cstr(&b, "Connection: close\r\n");
	else if (!(r->flags & REQ_F_CLIENT_11))
		sb_cstr(&b, "Connection: keep-alive\r\n");
	sb_add(&b, "\r\n", 2);
	if (b.fail) {
		stats_inc(STAT_REQ_NO_MEMORY);
		r->flags |= REQ_F_CLOSE;
		conn_finish(c);
		return;
	}
	client_write(c, c->w->scratch, b.len);
	r->status = m->status;
	(void)req_to(r, REQ_OUT_HEAD);
}

static int
proxy_on_response_head(void *owner, struct http_msg *m)
{
	struct conn *c = owner;
	struct req *r = c->req;

	if (c->flags & CONN_F_DEAD)
		return -1;
	if (m->status < 200 && m->status != 101)
		return 0; /* interim: our own 100 Continue already went out */
	if (m->status == 101) {
		if (!(r->flags & REQ_F_UPGRADE))
			return -1; /* an unasked-for switch: bad response */
		return 0;          /* written by proxy_on_upgrade() */
	}
	if (r->t_up.tv_sec != 0) {
		struct timespec now;

		clock_gettime(CLOCK_MONOTONIC, &now);
		r->upstream_ms = (now.tv_sec - r->t_up.tv_sec) * 1000 +
		    (now.tv_nsec - r->t_up.tv_nsec) / 1000000;
		balance_passive_status(r->server, m->status);
		server_live_latency(r->server->id,
		    (uint64_t)((now.tv_sec - r->t_up.tv_sec) * 1000000 +
		        (now.tv_nsec - r->t_up.tv_nsec) / 1000));
	}
	if (balance_retry_status(c, m->status))
		return -1; /* dropped: proxy_on_upstream_fail() resends it */
	if (!respond_intercept(c, m))
		write_response_head(c, m);
	return 0;
}

static int
proxy_on_response_body(void *owner, const char *p, size_t n)
{
	struct conn *c = owner;
	struct req *r = c->req;
	char line[24];
	int len;

	if (c->flags & CONN_F_DEAD)
		return -1;
	if (n == 0 || (r->flags & REQ_F_HEAD_METHOD) || r->discard)
		return 0;
	if (r->comp != NULL)
		return compress_body(c, p, n);
	if (r->flags & REQ_F_CHUNK_OUT) {
		len = snprintf(line, sizeof(line), "%zx\r\n", n);
		client_write(c, line, (size_t)len);
		client_write(c, p, n);
		client_write(c, "\r\n", 2);
	} else {
		client_write(c, p, n);
	}
	return 0;
}

static void
proxy_on_response_complete(void *owner)
{
	struct conn *c = owner;
	struct req *r = c->req;
	struct upstream_conn *u = r->up;

	if (r->comp != NULL)
		compress_finish(c);
	if (r->flags & REQ_F_CHUNK_OUT)
		client_write(c, "0\r\n\r\n", 5);
	(void)req_to(r, REQ_OUT_DONE);
	/* The origin connection is reusable only when the whole request
	 * went out and nothing is left over.
	 */
	upstream_release(u, req_in_done(r));
	if (!req_in_done(r))
		r->flags |= REQ_F_CLOSE; /* the rest of the body is unread */
	conn_req_finish_if_done(c);
}

static void
proxy_on_upgrade(void *owner)
{
	struct conn *c = owner;
	struct req *r = c->req;
	struct upstream_conn *u = r->up;
	const struct http_msg *m = &u->resp;
	struct sb b = { c->w, 0, false };
	struct str name;
	size_t i;
	char line[64];
	int n;

	if (m->status != 101 || !(r->flags & REQ_F_UPGRADE)) {
		proxy_on_upstream_fail(c, UPSTREAM_FAIL_BAD_RESPONSE);
		return;
	}
	n = snprintf(line, sizeof(line), "HTTP/1.1 101 %s\r\n",
	    proxy_reason(101));
	sb_add(&b, line, (size_t)n);
	for (i = 0; i < m->nhdrs; i++) {
		name = http_msg_hname(m, i);
		if (rewrite_is_hop(name) && !str_caseeq_cstr(name, "upgrade"))
			continue;
		sb_str(&b, name);
		sb_add(&b, ": ", 2);
		sb_str(&b, http_msg_hvalue(m, i));
		sb_add(&b, "\r\n", 2);
	}
	sb_cstr(&b, "Connection: upgrade\r\n\r\n");
	if (b.fail) {
		proxy_on_upstream_fail(c, UPSTREAM_FAIL_BAD_RESPONSE);
		return;
	}
	client_write(c, c->w->scratch, b.len);
	conn_flush(c); /* the 101 goes out before any tunnel byte */
	r->status = 101;
	r->flags |= REQ_F_CLOSE;
	(void)req_to(r, REQ_OUT_TUNNEL);
	stats_inc(STAT_UPGRADES);
	c->state = CONN_S_TUNNEL;
	upstream_start_tunnel(u);
	conn_read_timeout(c, u->idle_ms);
	conn_disarm(c);
	conn_read_enable(c, true);
	/* Bytes that came along with either head go first. */
	proxy_tunnel_from_client(c);
	if (!(c->flags & CONN_F_DEAD))
		proxy_tunnel_from_upstream(c);
}

static void
proxy_on_upstream_fail(void *owner, enum upstream_fail why)
{
	struct conn *c = owner;
	struct req *r = c->req;
	struct upstream_conn *u = r->up;
	int64_t avoid[1];

	if (c->flags & CONN_F_DEAD)
		return;
	if (c->state == CONN_S_TUNNEL) {
		proxy_tunnel_upstream_eof(c);
		return;
	}
	/* A status the route retries: its answer was dropped. */
	if (r->retry_to != NULL) {
		if (balance_retry_dropped(c) == 0)
			return;
		why = UPSTREAM_FAIL_CONNECT;
		u = r->up; /* the dropped one is gone */
	}
	/* A pooled connection the origin had closed: retry once on a
	 * fresh one, when nothing of the request body has been sent.
	 */
	if (u != NULL && (u->flags & UPSTREAM_F_REUSED) &&
	    !(u->flags & UPSTREAM_F_GOT_BYTES) &&
	    (!(r->flags & REQ_F_HAS_BODY) ||
	        (r->flags & REQ_F_BODY_BUFFERED)) &&
	    !(r->flags & (REQ_F_RETRIED | REQ_F_UPGRADE)) &&
	    !req_out_started(r) &&
	    (why == UPSTREAM_FAIL_CLOSED || why == UPSTREAM_FAIL_CONNECT)) {
		r->flags |= REQ_F_RETRIED;
		upstream_release(u, false);
		proxy_retrying(r);
		if (send_head(c, true) == 0)
			return;
		why = UPSTREAM_FAIL_CONNECT;
	}
	balance_passive_failure(r->server);
	if (balance_retry(c, why) == 0)
		return; /* the route's retries */
	/* A refused connect: try another server of the origin once. */
	if (why == UPSTREAM_FAIL_CONNECT && u != NULL &&
	    r->route->retry_attempts == 0 &&
	    !(u->flags & UPSTREAM_F_CONNECTED) &&
	    (!(r->flags & REQ_F_HAS_BODY) ||
	        (r->flags & REQ_F_BODY_BUFFERED)) &&
	    !(r->flags & REQ_F_RETRIED) && r->route->origin->nservers > 1) {
		avoid[0] = r->server->id;
		log_debug("upstream %s: connect failed, trying another server",
		    r->server->label);
		upstream_release(u, false);
		r->flags |= REQ_F_RETRIED;
		stats_inc(STAT_UP_CONNECT_FAILED);
		if (r->sstats != NULL)
			stats_add(&r->sstats->errors, 1);
		r->server = balance_server(c, avoid, 1);
		proxy_retrying(r);
		if (r->server != NULL && send_head(c, true) == 0) {
			r->sstats =
			    stats_obj_cached(STATS_SERVER, r->server->id);
			return;
		}
		if (r->server == NULL) {
			fail_status(c, 502, STAT_UP_CONNECT_FAILED);
			return;
		}
	}
	switch (why) {
	case UPSTREAM_FAIL_CONNECT:
		fail_status(c, 502, STAT_UP_CONNECT_FAILED);
		break;
	case UPSTREAM_FAIL_CONNECT_TIMEOUT:
		fail_status(c, 504, STAT_UP_CONNECT_TIMEOUT);
		break;
	case UPSTREAM_FAIL_RESPONSE_TIMEOUT:
	case UPSTREAM_FAIL_IDLE_TIMEOUT:
		fail_status(c, 504, STAT_UP_RESPONSE_TIMEOUT);
		break;
	case UPSTREAM_FAIL_BAD_RESPONSE:
		fail_status(c, 502, STAT_UP_BAD_RESPONSE);
		break;
	case UPSTREAM_FAIL_CLOSED:
		fail_status(c, 502, STAT_UP_PREMATURE_CLOSE);
		break;
	}
}

/* Tunnel: move whatever one side sent to the other, zero-copy. True when
 * the other side's queue is full: stop reading this one.
 */
static bool
tunnel_move(struct evbuffer *in, struct evbuffer *out)
{
	if (evbuffer_get_length(in) > 0)
		evbuffer_add_buffer(out, in);
	return evbuffer_get_length(out) > PROXY_HIGH_WATER;
}

void
proxy_tunnel_from_client(struct conn *c)
{
	struct upstream_conn *u = c->req->up;
	struct evbuffer *in = conn_input(c);

	if (u == NULL || in == NULL)
		return;
	c->req->bytes_in += evbuffer_get_length(in);
	if (tunnel_move(in, upstream_output(u)))
		conn_read_enable(c, false);
}

void
proxy_tunnel_from_upstream(struct conn *c)
{
	struct upstream_conn *u = c->req->up;
	struct evbuffer *in;

	if (u == NULL)
		return;
	in = bufferevent_get_input(u->bev);
	c->req->bytes_out += evbuffer_get_length(in);
	if (conn_write_buffer(c, in) == -1) {
		conn_close(c);
		return;
	}
	conn_flush(c);
	if (conn_output_pending(c) > PROXY_HIGH_WATER)
		upstream_pause_read(u);
}

/* One side of the tunnel ended: so does the exchange. */
static void
proxy_tunnel_end(struct req *r)
{
	r->flags |= REQ_F_CLOSE;
	if (!req_in_done(r))
		(void)req_to(r, REQ_IN_DONE);
	if (!req_out_done(r))
		(void)req_to(r, REQ_OUT_DONE);
}

static void
proxy_tunnel_upstream_eof(void *owner)
{
	struct conn *c = owner;

	/* The origin is done: flush what it sent, then close. */
	if (c->req->up != NULL)
		proxy_tunnel_from_upstream(c);
	upstream_release(c->req->up, false);
	proxy_tunnel_end(c->req);
	conn_finish(c);
}

void
proxy_tunnel_client_eof(struct conn *c)
{
	struct upstream_conn *u = c->req->up;

	if (u != NULL) {
		/* Hand the origin what is left, then let it go (a TLS
		 * origin's session sends it before its close_notify).
		 */
		proxy_tunnel_from_client(c);
		upstream_release(u, false);
	}
	proxy_tunnel_end(c->req);
	conn_close(c);
}
