/*
 * respond.c: a route's own answers and its path rewrite (respond.h).
 */
#include "respond.h"

#include <stdio.h>
#include <string.h>

#include "cfg.h"
#include "conn.h"
#include "hdr_rules.h"
#include "l4_route.h"
#include "proxy.h"
#include "rewrite.h"
#include "stats.h"
#include "target.h"
#include "tls.h"
#include "worker.h"

const char *
respond_reason(int status)
{
	switch (status) {
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 204:
		return "No Content";
	case 301:
		return "Moved Permanently";
	case 302:
		return "Found";
	case 303:
		return "See Other";
	case 304:
		return "Not Modified";
	case 307:
		return "Temporary Redirect";
	case 308:
		return "Permanent Redirect";
	case 401:
		return "Unauthorized";
	case 410:
		return "Gone";
	case 418:
		return "I'm a teapot";
	case 429:
		return "Too Many Requests";
	default:
		return proxy_reason(status);
	}
}

void
respond_tmpl_ctx(const struct conn *c, struct str host, struct str path,
    struct tmpl_ctx *x)
{
	const struct req *r = c->req;

	memset(x, 0, sizeof(*x));
	x->v[TMPL_CLIENT_IP] =
	    str_cstr(r->client.text[0] != '\0' ? r->client.text : c->peer);
	x->v[TMPL_HOST] = str_trim(host);
	x->v[TMPL_SCHEME] = r->listener->proto == CFG_PROTO_HTTPS
	    ? STR_LIT("https")
	    : STR_LIT("http");
	x->v[TMPL_PATH] = path;
	x->v[TMPL_ROUTE] = str_cstr(r->route != NULL ? r->route->name : NULL);
	x->v[TMPL_TLS_CLIENT_SUBJECT] = str_cstr(tls_conn_peer_subject(c->tls));
	x->v[TMPL_REQUEST_ID] = r->request_id;
}

/* Host and path of the request on <c>, from its head. */
static void
respond_tmpl_ctx_msg(const struct conn *c, struct tmpl_ctx *x)
{
	const struct http_msg *m = &c->req->msg;
	struct str t = http_msg_str(m, m->target);
	size_t i;

	for (i = 0; i < t.len && t.p[i] != '?'; i++)
		;
	respond_tmpl_ctx(c, http_msg_host(m), str_make(t.p, i), x);
}

void
respond_request_rules(struct conn *c, struct rewrite_req *rq,
    struct tmpl_ctx *tx)
{
	const struct cfg_route *rt = c->req->route;

	if (rt->req_hdrs != NULL) {
		respond_tmpl_ctx_msg(c, tx);
		rq->rules = rt->req_hdrs;
		rq->tx = tx;
		stats_inc(STAT_REQ_HEADER_RULES);
	}
	if (c->req->request_id.p == c->req->rid)
		rq->request_id = c->req->request_id; /* made here: added */
}

size_t
respond_response_rules(struct conn *c, char *buf, size_t cap)
{
	struct tmpl_ctx x;

	if (buf != NULL)
		stats_inc(STAT_REQ_HEADER_RULES);
	respond_tmpl_ctx_msg(c, &x);
	return hdr_rules_write(c->req->route->resp_hdrs, &x, buf, cap);
}

/* The route's request id: the client's X-Request-ID when it is sane
 * (then it goes on as it came), else a new one (added by rewrite.c).
 */
static void
respond_request_id(struct conn *c)
{
	struct str v = http_msg_get(&c->req->msg, "x-request-id");

	if (hdr_rules_request_id_ok(v)) {
		c->req->request_id = v;
		return;
	}
	hdr_rules_request_id_new(c->req->rid);
	c->req->request_id = str_make(c->req->rid, 32);
	stats_inc(STAT_REQ_ID_ADDED);
}

/* Appends p[0..n) to the scratch buffer at *len; false: no memory. */
static bool
out_add(struct conn *c, size_t *len, const char *p, size_t n)
{
	if (worker_scratch(c->w, *len + n) == -1)
		return false;
	memcpy(c->w->scratch + *len, p, n);
	*len += n;
	return true;
}

static bool
out_head(struct conn *c, size_t *len, unsigned status)
{
	char line[96];
	int n;

	n = snprintf(line, sizeof(line),
	    "HTTP/1.1 %u %s\r\nServer: gatehouse\r\n", status,
	    respond_reason((int)status));
	return out_add(c, len, line, (size_t)n);
}

static bool
out_end(struct conn *c, size_t *len)
{
	if ((c->req->flags & REQ_F_CLOSE) &&
	    !out_add(c, len, "Connection: close\r\n", 19))
		return false;
	return out_add(c, len, "\r\n", 2);
}

static void
respond_write(struct conn *c, size_t len)
{
	if (conn_write(c, c->w->scratch, len) == -1)
		c->req->flags |= REQ_F_CLOSE;
	c->req->bytes_out += len;
}

static bool
respond_redirect(struct conn *c, struct str host, const struct target *t)
{
	const struct cfg_redirect *rd = c->req->route->redirect;
	struct tmpl_ctx x;
	size_t len = 0, at, need;
	struct str q = rd->drop_query ? STR_NULL : t->query;

	respond_tmpl_ctx(c, host, t->path, &x);
	if (!out_head(c, &len, rd->status) ||
	    !out_add(c, &len, "Location: ", 10))
		return false;
	at = len;
	need = tmpl_expand(rd->to, &x, NULL, 0);
	if (worker_scratch(c->w, at + need) == -1)
		return false;
	(void)tmpl_expand(rd->to, &x, c->w->scratch + at, need);
	len += need;
	if (q.len > 1) {
		/* "?a=1" after a Location with a query of its own: "&a=1" */
		if (memchr(c->w->scratch + at, '?', need) != NULL) {
			q = str_make(q.p + 1, q.len - 1);
			if (!out_add(c, &len, "&", 1))
				return false;
		}
		if (!out_add(c, &len, q.p, q.len))
			return false;
	}
	if (!out_add(c, &len, "\r\nContent-Length: 0\r\n", 21) ||
	    !out_end(c, &len))
		return false;
	respond_write(c, len);
	c->req->status = (uint16_t)rd->status;
	c->req->decision = "redirect";
	stats_inc(STAT_REQ_ROUTE_REDIRECT);
	return true;
}

static bool
respond_fixed(struct conn *c)
{
	const struct cfg_respond *rs = c->req->route->respond;
	bool nobody = rs->status == 204 || rs->status == 304;
	size_t len = 0;
	char line[64];
	int n;

	if (!out_head(c, &len, rs->status))
		return false;
	if (rs->content_type[0] != '\0' && !nobody &&
	    (!out_add(c, &len, "Content-Type: ", 14) ||
	        !out_add(c, &len, rs->content_type, strlen(rs->content_type)) ||
	        !out_add(c, &len, "\r\n", 2)))
		return false;
	if (!nobody) {
		n = snprintf(line, sizeof(line), "Content-Length: %zu\r\n",
		    rs->body_len);
		if (!out_add(c, &len, line, (size_t)n))
			return false;
	}
	if (!out_end(c, &len))
		return false;
	if (!nobody && !(c->req->flags & REQ_F_HEAD_METHOD) &&
	    !out_add(c, &len, rs->body, rs->body_len))
		return false;
	respond_write(c, len);
	c->req->status = (uint16_t)rs->status;
	c->req->decision = "respond";
	stats_inc(STAT_REQ_ROUTE_RESPOND);
	return true;
}

/* The request's error pages: its route's, else its listener's. */
static const struct cfg_error_pages *
respond_pages(const struct conn *c)
{
	const struct cfg_listener *l = c->req->listener;

	if (c->req->route != NULL && c->req->route->error_pages != NULL)
		return c->req->route->error_pages;
	if (l == NULL) /* refused before routing: the accept's snapshot */
		l = cfg_listener_by_id(c->cfg, c->acc.lid);
	return l != NULL ? l->error_pages : NULL;
}

static const struct cfg_error_page *
respond_page(const struct conn *c, unsigned status)
{
	const struct cfg_error_pages *ep = respond_pages(c);
	size_t i;

	for (i = 0; ep != NULL && i < ep->npages; i++)
		if (ep->pages[i].status == status)
			return &ep->pages[i];
	return NULL;
}

/* The page <pg> as the answer <status>, with <extra> header lines. */
static bool
respond_page_write(struct conn *c, unsigned status,
    const struct cfg_error_page *pg, const char *extra)
{
	size_t len = 0;
	char line[96];
	int n;

	if (!out_head(c, &len, status) ||
	    !out_add(c, &len, extra, strlen(extra)))
		return false;
	n = snprintf(line, sizeof(line),
	    "Content-Type: text/html; charset=utf-8\r\n"
	    "Content-Length: %zu\r\n",
	    pg->len);
	if (!out_add(c, &len, line, (size_t)n) || !out_end(c, &len))
		return false;
	if (!(c->req->flags & REQ_F_HEAD_METHOD) &&
	    !out_add(c, &len, pg->body, pg->len))
		return false;
	respond_write(c, len);
	c->req->status = (uint16_t)status;
	stats_inc(STAT_REQ_ERROR_PAGE);
	return true;
}

bool
respond_error_page(struct conn *c, int status, bool close)
{
	const struct cfg_error_page *pg = respond_page(c, (unsigned)status);

	if (pg == NULL)
		return false;
	if (close)
		c->req->flags |= REQ_F_CLOSE;
	return respond_page_write(c, (unsigned)status, pg, "");
}

bool
respond_intercept(struct conn *c, const struct http_msg *m)
{
	const struct cfg_error_pages *ep = respond_pages(c);
	const struct cfg_error_page *pg;

	if (c->req->route == NULL || ep == NULL || !ep->intercept ||
	    m->status < 400 || (pg = respond_page(c, m->status)) == NULL)
		return false;
	if (c->flags & CONN_F_DRAIN)
		c->req->flags |= REQ_F_CLOSE;
	if (!respond_page_write(c, m->status, pg, ""))
		return false;
	(void)req_to(c->req, REQ_OUT_HEAD);
	c->req->discard = true;
	c->req->decision = "error_page";
	return true;
}

bool
respond_maint_allows(const struct cfg_maint *mt, const struct sockaddr *sa)
{
	size_t i;

	for (i = 0; i < mt->nallow; i++)
		if (l4_cidr_contains(&mt->allow[i], sa))
			return true;
	return false;
}

/* Is the client of <c> in the maintenance allow list? */
static bool
respond_maint_allowed(const struct conn *c, const struct cfg_maint *mt)
{
	return respond_maint_allows(mt,
	    c->req->client.sa.ss_family != 0
	        ? (const struct sockaddr *)&c->req->client.sa
	        : (const struct sockaddr *)&c->peer_sa);
}

static bool
respond_maintenance(struct conn *c)
{
	const struct cfg_maint *mt = c->req->route->maint;
	static const char body[] = "503 Service Unavailable: down for "
	                           "maintenance\n";
	const struct cfg_error_page *pg = respond_page(c, 503);
	size_t len = 0;
	char line[96];
	int n;

	if (pg != NULL) {
		line[0] = '\0';
		if (mt->retry_after_s >= 0)
			snprintf(line, sizeof(line), "Retry-After: %d\r\n",
			    mt->retry_after_s);
		if (!respond_page_write(c, 503, pg, line))
			return false;
		c->req->decision = "maintenance";
		stats_inc(STAT_REQ_ROUTE_MAINTENANCE);
		return true;
	}
	if (!out_head(c, &len, 503))
		return false;
	if (mt->retry_after_s >= 0) {
		n = snprintf(line, sizeof(line), "Retry-After: %d\r\n",
		    mt->retry_after_s);
		if (!out_add(c, &len, line, (size_t)n))
			return false;
	}
	n = snprintf(line, sizeof(line),
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: %zu\r\n",
	    sizeof(body) - 1);
	if (!out_add(c, &len, line, (size_t)n) || !out_end(c, &len))
		return false;
	if (!(c->req->flags & REQ_F_HEAD_METHOD) &&
	    !out_add(c, &len, body, sizeof(body) - 1))
		return false;
	respond_write(c, len);
	c->req->status = 503;
	c->req->decision = "maintenance";
	stats_inc(STAT_REQ_ROUTE_MAINTENANCE);
	return true;
}

int
respond_route(struct conn *c, struct str host, const struct target *t)
{
	const struct cfg_route *rt = c->req->route;
	bool ok;

	if (rt->request_id)
		respond_request_id(c);
	if (rt->maint != NULL && !respond_maint_allowed(c, rt->maint))
		ok = respond_maintenance(c);
	else if (rt->redirect == NULL && rt->respond == NULL)
		return 0;
	else
		ok = rt->redirect != NULL ? respond_redirect(c, host, t)
		                          : respond_fixed(c);
	if (!ok) {
		stats_inc(STAT_REQ_NO_MEMORY);
		c->req->flags |= REQ_F_CLOSE;
		proxy_write_local(c, 503, true);
	}
	(void)req_to(c->req, REQ_OUT_DONE);
	return 1;
}

struct str
respond_rewrite_path(const struct cfg_route *rt, struct str path, char *buf,
    size_t cap)
{
	struct str rest;
	size_t n;

	if (rt->rewrite_prefix == NULL || path.len < rt->path_prefix_len ||
	    memcmp(path.p, rt->path_prefix, rt->path_prefix_len) != 0)
		return path;
	rest = str_make(path.p + rt->path_prefix_len,
	    path.len - rt->path_prefix_len);
	n = rt->rewrite_prefix_len;
	/* "/api" -> "/": "/api/x" is "/x", not "//x" */
	if (n > 0 && rt->rewrite_prefix[n - 1] == '/' && rest.len > 0 &&
	    rest.p[0] == '/') {
		rest.p++;
		rest.len--;
	}
	if (n + rest.len > cap)
		return path;
	memcpy(buf, rt->rewrite_prefix, n);
	if (rest.len > 0)
		memcpy(buf + n, rest.p, rest.len);
	return str_make(buf, n + rest.len);
}
