/*
 * cfg_policy.c: the compile of a route's policies (cfg.h): its own answer
 * (redirect, respond) and its path rewrite.
 *
 * cfg_policy_route() reads the route row's columns by field (cfg_field.h)
 * into the snapshot; cfg_policy_route_check() runs once the route's
 * hosts are known and refuses what cannot work: two answers at once, an
 * answer on an L4 listener, and a redirect that sends the client back to
 * the same route (same scheme, host, port and path), which would loop.
 * Errors name the route and field: "routes[app].redirect.to".
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arena.h"
#include "cfg.h"
#include "cfg_field.h"
#include "cfg_value.h"
#include "store.h"

static int policy_fail(struct err *e, const struct cfg_route *r,
    const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
policy_fail(struct err *e, const struct cfg_route *r, const char *field,
    const char *fmt, ...)
{
	char path[sizeof(e->field)], msg[sizeof(e->msg)];
	va_list ap;

	snprintf(path, sizeof(path), "routes[%s].%s", r->name, field);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(e, path, "%s", msg);
}

/* A text column checked as value type <vt>; NULL column: <def>. */
static const char *
policy_text(struct cfg *c, const struct cfg_route *r, struct store_stmt *s,
    int col, enum cv_type vt, const char *def, struct err *e)
{
	const char *t;
	char msg[256], field[96];

	if (store_col_is_null(s, col))
		t = def;
	else
		t = store_col_text(s, col);
	if (t == NULL)
		t = "";
	if (cv_check(vt, t, msg, sizeof(msg)) != 0) {
		cf_path(&cf_kinds[CK_ROUTE], col, field, sizeof(field));
		policy_fail(e, r, field, "%s", msg);
		return NULL;
	}
	if ((t = arena_strdup(c->arena, t)) == NULL)
		err_set(e, "",
		    "out of memory while compiling the configuration");
	return t;
}

static int
policy_redirect(struct cfg *c, struct cfg_route *r, struct store_stmt *s,
    struct err *e)
{
	struct cfg_redirect *rd;
	int64_t st;

	if (store_col_is_null(s, RF_REDIRECT_TO))
		return 0;
	if ((rd = arena_calloc(c->arena, 1, sizeof(*rd))) == NULL)
		return err_set(e, "", "out of memory");
	if ((rd->to = policy_text(c, r, s, RF_REDIRECT_TO, CV_TEMPLATE, NULL,
	         e)) == NULL)
		return -1;
	if (rd->to[0] == '\0')
		return policy_fail(e, r, "redirect.to", "must not be empty");
	st = store_col_is_null(s, RF_REDIRECT_STATUS)
	    ? cf_kinds[CK_ROUTE].f[RF_REDIRECT_STATUS].def
	    : store_col_int64(s, RF_REDIRECT_STATUS);
	if (st != 301 && st != 302 && st != 303 && st != 307 && st != 308)
		return policy_fail(e, r, "redirect.status",
		    "%lld is not 301, 302, 303, 307 or 308", (long long)st);
	rd->status = (unsigned)st;
	rd->drop_query = !store_col_is_null(s, RF_REDIRECT_DROP_QUERY) &&
	    store_col_int64(s, RF_REDIRECT_DROP_QUERY) != 0;
	r->redirect = rd;
	return 0;
}

static int
policy_respond(struct cfg *c, struct cfg_route *r, struct store_stmt *s,
    struct err *e)
{
	const struct cf_field *f = cf_kinds[CK_ROUTE].f;
	struct cfg_respond *rs;
	int64_t st;

	if (store_col_is_null(s, RF_RESPOND_STATUS))
		return 0;
	if ((rs = arena_calloc(c->arena, 1, sizeof(*rs))) == NULL)
		return err_set(e, "", "out of memory");
	st = store_col_int64(s, RF_RESPOND_STATUS);
	if (st < f[RF_RESPOND_STATUS].min || st > f[RF_RESPOND_STATUS].max)
		return policy_fail(e, r, "respond.status",
		    "%lld is out of range (200..599)", (long long)st);
	rs->status = (unsigned)st;
	if ((rs->content_type = policy_text(c, r, s, RF_RESPOND_CONTENT_TYPE,
	         CV_LINE, f[RF_RESPOND_CONTENT_TYPE].def_str, e)) == NULL ||
	    (rs->body = policy_text(c, r, s, RF_RESPOND_BODY, CV_ANY, "", e)) ==
	        NULL)
		return -1;
	rs->body_len = strlen(rs->body);
	r->respond = rs;
	return 0;
}

int
cfg_policy_route(struct cfg *c, struct cfg_route *r, struct store_stmt *s,
    struct err *e)
{
	if (policy_redirect(c, r, s, e) != 0 || policy_respond(c, r, s, e) != 0)
		return -1;
	if (!store_col_is_null(s, RF_REWRITE_PREFIX)) {
		if ((r->rewrite_prefix = policy_text(c, r, s, RF_REWRITE_PREFIX,
		         CV_PATH_PREFIX, NULL, e)) == NULL)
			return -1;
		r->rewrite_prefix_len = strlen(r->rewrite_prefix);
	}
	return 0;
}

/* Does the route take requests for host h[0..n) (no port)? */
static bool
policy_host_matches(const struct cfg_route *r, const char *h, size_t n)
{
	size_t i;

	if (r->nhosts == 0)
		return true;
	if (n > 0 && h[n - 1] == '.')
		n--;
	for (i = 0; i < r->nhosts; i++) {
		const struct cfg_host *ch = &r->hosts[i];

		if (ch->kind == CFG_HOST_EXACT && ch->len == n &&
		    strncasecmp(ch->name, h, n) == 0)
			return true;
		if (ch->kind == CFG_HOST_WILDCARD && n > ch->len &&
		    strncasecmp(ch->name, h + n - ch->len, ch->len) == 0)
			return true;
	}
	return false;
}

/* Would redirect.to bring the client back to this route? Only what the
 * template says for sure counts: same scheme (or {scheme}, or a relative
 * reference), same host ({host} or a name the route takes, on the
 * listener's port), and the same path ({path}, or a literal path under
 * the route's prefix). The query does not matter: the second request
 * would be redirected again.
 */
static bool
policy_redirect_loops(const struct cfg_route *r, const char *to)
{
	const struct cfg_listener *l = r->listener;
	bool https = l->proto == CFG_PROTO_HTTPS;
	const char *p = to, *h, *port;
	size_t hn, pn;
	unsigned long want;

	if (p[0] == '/' && p[1] != '/')
		goto path;
	if (strncmp(p, "//", 2) == 0)
		p += 2;
	else if (strncmp(p, "{scheme}://", 11) == 0)
		p += 11;
	else if (strncasecmp(p, https ? "https://" : "http://",
	             https ? 8 : 7) == 0)
		p += https ? 8 : 7;
	else
		return false; /* another scheme, or not known here */
	h = p;
	hn = strncmp(h, "{host}", 6) == 0 ? 6 : strcspn(h, "/?#");
	p = h + hn;
	if (!(hn == 6 && strncmp(h, "{host}", 6) == 0)) {
		if (memchr(h, '{', hn) != NULL || hn == 0)
			return false;
		/* host[:port]; an IPv6 literal keeps its brackets */
		port = h[0] == '[' ? memchr(h, ']', hn) : h;
		port = port != NULL ? memchr(port, ':', hn - (size_t)(port - h))
		                    : NULL;
		want = port != NULL ? strtoul(port + 1, NULL, 10)
		    : https         ? 443
		                    : 80;
		if (want != l->port)
			return false;
		if (!policy_host_matches(r, h[0] == '[' ? h + 1 : h,
		        port != NULL ? (size_t)(port - h) - (h[0] == '[') * 2
		                     : hn - (h[0] == '[') * 2))
			return false;
	}
path:
	pn = strcspn(p, "?#");
	if (pn == 6 && strncmp(p, "{path}", 6) == 0)
		return true;
	if (memchr(p, '{', pn) != NULL)
		return false;
	if (pn == 0)
		return r->path_prefix_len == 1;
	return pn >= r->path_prefix_len &&
	    memcmp(p, r->path_prefix, r->path_prefix_len) == 0;
}

int
cfg_policy_route_check(const struct cfg_route *r, struct err *e)
{
	enum cfg_proto p = r->listener->proto;
	bool http =
	    (p == CFG_PROTO_HTTP || p == CFG_PROTO_HTTPS) && r->nsnis == 0;
	const char *act = r->redirect != NULL ? "redirect"
	    : r->respond != NULL              ? "respond"
	                                      : NULL;

	if (r->redirect != NULL && r->respond != NULL)
		return policy_fail(e, r, "respond",
		    "a route has redirect or respond, not both");
	if (act != NULL && !http)
		return policy_fail(e, r, act,
		    "only http and https routes answer by themselves "
		    "(listener \"%s\")",
		    r->listener->name);
	if (r->rewrite_prefix != NULL && !http)
		return policy_fail(e, r, "rewrite",
		    "only http and https routes rewrite paths (listener "
		    "\"%s\")",
		    r->listener->name);
	if (r->origin == NULL && act == NULL)
		return policy_fail(e, r, "origin",
		    "is required: the route has no redirect or respond");
	if (r->redirect != NULL && policy_redirect_loops(r, r->redirect->to))
		return policy_fail(e, r, "redirect.to",
		    "\"%.100s\" sends the client back to this route "
		    "(a redirect loop)",
		    r->redirect->to);
	return 0;
}

int
cfg_policy_route_own(struct arena *a, struct cfg_route *r)
{
	struct cfg_redirect *rd;
	struct cfg_respond *rs;

	if (r->redirect != NULL) {
		if ((rd = arena_alloc(a, sizeof(*rd))) == NULL)
			return -1;
		*rd = *r->redirect;
		if ((rd->to = arena_strdup(a, rd->to)) == NULL)
			return -1;
		r->redirect = rd;
	}
	if (r->respond != NULL) {
		if ((rs = arena_alloc(a, sizeof(*rs))) == NULL)
			return -1;
		*rs = *r->respond;
		if ((rs->content_type = arena_strdup(a, rs->content_type)) ==
		        NULL ||
		    (rs->body = arena_strndup(a, rs->body, rs->body_len)) ==
		        NULL)
			return -1;
		r->respond = rs;
	}
	if (r->rewrite_prefix != NULL &&
	    (r->rewrite_prefix = arena_strndup(a, r->rewrite_prefix,
	         r->rewrite_prefix_len)) == NULL)
		return -1;
	return 0;
}

void
cfg_policy_route_dump(FILE *f, const struct cfg_route *r)
{
	if (r->redirect != NULL)
		fprintf(f, " redirect=%u,%d,%s", r->redirect->status,
		    r->redirect->drop_query, r->redirect->to);
	if (r->respond != NULL)
		fprintf(f, " respond=%u,%s,%zu", r->respond->status,
		    r->respond->content_type, r->respond->body_len);
	if (r->rewrite_prefix != NULL)
		fprintf(f, " rewrite=%s", r->rewrite_prefix);
}
