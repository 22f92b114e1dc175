/*
 * cfg_policy.c: the compile of a route's policies (cfg.h): its own answer
 * (redirect, respond) and its path rewrite.
 *
 * cfg_policy_route() reads the route row's columns by field (cfg_field.h)
 * into the snapshot; cfg_policy_route_check() runs once the route's
 * hosts are known and refuses what cannot work: two answers at once, an
 * answer on an L4 listener, and a redirect that sends the client back to
 * the same route (same scheme, host, port and path), which would loop.
 * Header rules (hdr_rules.h) and the maintenance allow list come from
 * JSON columns, read with SQLite's json_each() for the routes that have
 * any (an empty object or array costs no statement).
 * Errors name the route and field: "routes[app].redirect.to".
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arena.h"
#include "cfg.h"
#include "cfg_field.h"
#include "cfg_route_ref.h"
#include "cfg_value.h"
#include "hdr_rules.h"
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

/* One member of a JSON column: its key (object) or NULL, its value. */
typedef int (*policy_each_fn)(void *arg, const char *key, const char *v,
    size_t idx);

/* Calls <fn> for every member of the JSON text <json>. 0 or -1. */
static int
policy_each(struct store *st, const char *json, policy_each_fn fn, void *arg,
    struct err *e)
{
	struct store_stmt *q;
	enum store_step_result r;
	size_t i = 0;
	int rc = 0;

	if (strcmp(json, "{}") == 0 || strcmp(json, "[]") == 0)
		return 0;
	if ((q = store_prepare(st, "SELECT key, value, type FROM json_each(?1)",
	         e)) == NULL)
		return -1;
	store_bind_text(q, 1, json);
	while ((r = store_step(q, e)) == STORE_ROW) {
		if (strcmp(store_col_text(q, 2), "text") != 0)
			rc = err_set(e, "", "must be a string");
		else
			rc = fn(arg,
			    json[0] == '{' ? store_col_text(q, 0) : NULL,
			    store_col_text(q, 1), i++);
		if (rc != 0)
			break;
	}
	store_finalize(q);
	return rc != 0 || r == STORE_ROW || r == STORE_DONE ? rc : -1;
}

/* Header rules being read: one route, one side. */
struct policy_hdrs {
	struct cfg *c;
	const struct cfg_route *r;
	int col; /* the field read */
	struct hdr_rule *drop, *put;
	size_t ndrop, nput, cap;
	struct err *e;
};

static int
policy_hdr_fail(struct policy_hdrs *h, const char *key, size_t idx,
    const char *msg)
{
	char field[160], base[96];

	cf_path(&cf_kinds[CK_ROUTE], h->col, base, sizeof(base));
	if (key != NULL)
		snprintf(field, sizeof(field), "%s.%s", base, key);
	else
		snprintf(field, sizeof(field), "%s[%zu]", base, idx);
	return policy_fail(h->e, h->r, field, "%s", msg);
}

static int
policy_hdr(void *arg, const char *key, const char *v, size_t idx)
{
	struct policy_hdrs *h = arg;
	const struct cf_field *f = &cf_kinds[CK_ROUTE].f[h->col];
	struct hdr_rule rule;
	char msg[256];

	memset(&rule, 0, sizeof(rule));
	if (key == NULL) { /* remove: a list of names */
		if (cv_check(f->vtype, v, msg, sizeof(msg)) != 0)
			return policy_hdr_fail(h, NULL, idx, msg);
		key = v;
	} else {
		if (cv_check(f->ktype, key, msg, sizeof(msg)) != 0 ||
		    cv_check(f->vtype, v, msg, sizeof(msg)) != 0)
			return policy_hdr_fail(h, key, idx, msg);
		if ((rule.value = arena_strdup(h->c->arena, v)) == NULL)
			return err_set(h->e, "", "out of memory");
		rule.vars = tmpl_has_vars(v);
	}
	if (h->ndrop == h->cap || h->nput == h->cap)
		return policy_hdr_fail(h, key, idx, "too many header rules");
	if ((rule.name.p = arena_strdup(h->c->arena, key)) == NULL)
		return err_set(h->e, "", "out of memory");
	rule.name.len = strlen(key);
	/* remove and set drop the message's own; set and add put */
	if (f->type == F_LIST || h->col == RF_REQH_SET ||
	    h->col == RF_RESPH_SET)
		h->drop[h->ndrop++] = rule;
	if (rule.value != NULL)
		h->put[h->nput++] = rule;
	return 0;
}

/* The rules of one side from columns set, add, remove; NULL: none. */
static int
policy_hdrs(struct store *st, struct cfg *c, const struct cfg_route *r,
    struct store_stmt *s, const int cols[3], const struct hdr_rules **out,
    struct err *e)
{
	const struct cf_field *f = cf_kinds[CK_ROUTE].f;
	struct policy_hdrs h = { c, r, 0, NULL, NULL, 0, 0, 0, e };
	struct hdr_rules *hr;
	const char *t[3];
	int i;

	*out = NULL;
	for (i = 0; i < 3; i++)
		t[i] = store_col_is_null(s, cols[i])
		    ? "[]"
		    : store_col_text(s, cols[i]);
	if (strlen(t[0]) <= 2 && strlen(t[1]) <= 2 && strlen(t[2]) <= 2)
		return 0;
	h.cap = (size_t)(f[cols[0]].max + f[cols[1]].max + f[cols[2]].max);
	if ((hr = arena_calloc(c->arena, 1, sizeof(*hr))) == NULL ||
	    (h.drop = arena_calloc(c->arena, h.cap, sizeof(*h.drop))) == NULL ||
	    (h.put = arena_calloc(c->arena, h.cap, sizeof(*h.put))) == NULL)
		return err_set(e, "", "out of memory");
	for (i = 0; i < 3; i++) {
		h.col = cols[i];
		if (policy_each(st, t[i], policy_hdr, &h, e) != 0) {
			if (e->field[0] == '\0')
				policy_hdr_fail(&h, NULL, 0, e->msg);
			return -1;
		}
	}
	hr->drop = h.drop;
	hr->ndrop = h.ndrop;
	hr->put = h.put;
	hr->nput = h.nput;
	*out = hr;
	return 0;
}

struct policy_cidrs {
	struct cfg_cidr *v;
	size_t n, cap;
	const struct cfg_route *r;
	struct err *e;
};

static int
policy_cidr(void *arg, const char *key, const char *v, size_t idx)
{
	struct policy_cidrs *pc = arg;
	char field[64];

	(void)key;
	if (pc->n == pc->cap || cfg_cidr_parse(v, &pc->v[pc->n]) != 0) {
		snprintf(field, sizeof(field), "maintenance.allow[%zu]", idx);
		return policy_fail(pc->e, pc->r, field,
		    "\"%.100s\" is not an address or CIDR block", v);
	}
	pc->n++;
	return 0;
}

static int
policy_maint(struct store *st, struct cfg *c, struct cfg_route *r,
    struct store_stmt *s, struct err *e)
{
	struct policy_cidrs pc = { NULL, 0, 0, r, e };
	struct cfg_maint *mt;
	const char *t;

	if (store_col_is_null(s, RF_MAINT_ENABLED) ||
	    store_col_int64(s, RF_MAINT_ENABLED) == 0)
		return 0;
	if ((mt = arena_calloc(c->arena, 1, sizeof(*mt))) == NULL)
		return err_set(e, "", "out of memory");
	mt->retry_after_s = store_col_is_null(s, RF_MAINT_RETRY_AFTER_S)
	    ? -1
	    : (int)store_col_int64(s, RF_MAINT_RETRY_AFTER_S);
	if (mt->retry_after_s < -1 ||
	    mt->retry_after_s >
	        cf_kinds[CK_ROUTE].f[RF_MAINT_RETRY_AFTER_S].max)
		return policy_fail(e, r, "maintenance.retry_after_s",
		    "%d is out of range", mt->retry_after_s);
	t = store_col_is_null(s, RF_MAINT_ALLOW)
	    ? "[]"
	    : store_col_text(s, RF_MAINT_ALLOW);
	pc.cap = (size_t)cf_kinds[CK_ROUTE].f[RF_MAINT_ALLOW].max;
	if (strlen(t) > 2 &&
	    ((pc.v = arena_calloc(c->arena, pc.cap, sizeof(*pc.v))) == NULL ||
	        policy_each(st, t, policy_cidr, &pc, e) != 0))
		return e->msg[0] != '\0' ? -1 : err_set(e, "", "out of memory");
	mt->allow = pc.v;
	mt->nallow = pc.n;
	r->maint = mt;
	return 0;
}

/* ---- the error pages kind ---- */

struct policy_pages {
	struct cfg *c;
	struct cfg_error_pages *ep;
	size_t cap;
	struct err *e;
};

static int
policy_page(void *arg, const char *key, const char *v, size_t idx)
{
	struct policy_pages *pp = arg;
	struct cfg_error_page *pg;
	char msg[128], field[160];

	(void)idx;
	if (key == NULL ||
	    cv_check(CV_ERROR_STATUS, key, msg, sizeof(msg)) != 0 ||
	    pp->ep->npages == pp->cap) {
		snprintf(field, sizeof(field), "error_pages[%s].pages.%s",
		    pp->ep->name, key != NULL ? key : "?");
		return err_set(pp->e, field,
		    "not a status code from 400 to 599");
	}
	pg = &pp->ep->pages[pp->ep->npages++];
	pg->status = (unsigned)atoi(key);
	pg->len = strlen(v);
	if ((pg->body = arena_strndup(pp->c->arena, v, pg->len)) == NULL)
		return err_set(pp->e, "", "out of memory");
	return 0;
}

static const struct cfg_error_pages *
policy_error_pages_by_id(const struct cfg *c, int64_t id);

/* A listener's error_pages, once the kind is compiled. */
static int
policy_listener_pages_set(struct cfg *c, struct cfg_listener *l, int64_t id,
    const char *path, struct err *e)
{
	if ((l->error_pages = policy_error_pages_by_id(c, id)) == NULL)
		return err_set(e, path, "no such error pages");
	if (l->proto != CFG_PROTO_HTTP && l->proto != CFG_PROTO_HTTPS)
		return err_set(e, path, "applies to http and https listeners");
	return 0;
}

static const struct cfg_listener_col policy_listener_pages = { "error_pages_id",
	"error_pages", policy_listener_pages_set };

int
cfg_policy_error_pages(struct store *st, struct cfg *c, struct err *e)
{
	const struct cf_kind *k = &cf_kinds[CK_ERROR_PAGES];
	struct policy_pages pp = { c, NULL, (size_t)k->f[EPF_PAGES].max, e };
	struct store_stmt *s, *n;
	enum store_step_result r;
	char sql[512];
	size_t cnt = 0;
	int rc = 0;

	if ((n = store_prepare(st, "SELECT count(*) FROM error_pages", e)) ==
	    NULL)
		return -1;
	if (store_step(n, e) == STORE_ROW)
		cnt = (size_t)store_col_int64(n, 0);
	store_finalize(n);
	if (cnt == 0)
		return 0;
	if ((c->error_pages = arena_calloc(c->arena, cnt,
	         sizeof(*c->error_pages))) == NULL)
		return err_set(e, "", "out of memory");
	if (cf_select_sql(k, false, NULL, sql, sizeof(sql)) != 0)
		return err_set(e, "", "internal: select too long");
	strncat(sql, " ORDER BY t.id", sizeof(sql) - strlen(sql) - 1);
	if ((s = store_prepare(st, sql, e)) == NULL)
		return -1;
	while (rc == 0 && (r = store_step(s, e)) == STORE_ROW) {
		if (c->nerror_pages == cnt) {
			rc = err_set(e, "",
			    "error pages changed while compiling");
			break;
		}
		pp.ep = &c->error_pages[c->nerror_pages++];
		pp.ep->id = store_col_int64(s, EPF_ID);
		pp.ep->intercept = store_col_int64(s, EPF_INTERCEPT) != 0;
		if ((pp.ep->name = arena_strdup(c->arena,
		         store_col_text(s, EPF_NAME))) == NULL ||
		    (pp.ep->pages = arena_calloc(c->arena, pp.cap,
		         sizeof(*pp.ep->pages))) == NULL) {
			rc = err_set(e, "", "out of memory");
			break;
		}
		rc = policy_each(st, store_col_text(s, EPF_PAGES), policy_page,
		    &pp, e);
	}
	if (rc == 0 && r != STORE_DONE)
		rc = -1;
	store_finalize(s);
	return rc == 0 ? cfg_listener_cols(st, c, &policy_listener_pages, e)
	               : rc;
}

static const struct cfg_error_pages *
policy_error_pages_by_id(const struct cfg *c, int64_t id)
{
	size_t lo = 0, hi = c->nerror_pages, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (c->error_pages[mid].id == id)
			return &c->error_pages[mid];
		if (c->error_pages[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ---- forward auth ---- */

struct policy_names {
	struct cfg *c;
	const struct cfg_route *r;
	const char **v;
	size_t n, cap;
	struct err *e;
};

static int
policy_copy_header(void *arg, const char *key, const char *v, size_t idx)
{
	struct policy_names *pn = arg;
	char msg[128], field[64];
	size_t i;

	(void)key;
	snprintf(field, sizeof(field), "forward_auth.copy_headers[%zu]", idx);
	if (cv_check(CV_HEADER_SETTABLE, v, msg, sizeof(msg)) != 0)
		return policy_fail(pn->e, pn->r, field, "%s", msg);
	for (i = 0; i < pn->n; i++)
		if (strcasecmp(pn->v[i], v) == 0)
			return policy_fail(pn->e, pn->r, field,
			    "\"%.100s\" is listed twice", v);
	if (pn->n == pn->cap)
		return policy_fail(pn->e, pn->r, field, "too many headers");
	if ((pn->v[pn->n] = arena_strdup(pn->c->arena, v)) == NULL)
		return err_set(pn->e, "", "out of memory");
	pn->n++;
	return 0;
}

static int
policy_forward_auth(struct store *st, struct cfg *c, struct cfg_route *r,
    struct store_stmt *s, struct err *e)
{
	struct policy_names pn = { c, r, NULL, 0, 0, e };
	struct cfg_forward_auth *fa;
	const char *t;

	if (store_col_is_null(s, RF_FA_ORIGIN))
		return 0;
	if ((fa = arena_calloc(c->arena, 1, sizeof(*fa))) == NULL)
		return err_set(e, "", "out of memory");
	if ((fa->origin = cfg_origin_by_id(c,
	         store_col_int64(s, RF_FA_ORIGIN))) == NULL)
		return policy_fail(e, r, "forward_auth.origin",
		    "no origin with id %lld",
		    (long long)store_col_int64(s, RF_FA_ORIGIN));
	if ((fa->path = policy_text(c, r, s, RF_FA_PATH, CV_REQUEST_PATH, NULL,
	         e)) == NULL)
		return -1;
	fa->path_len = strlen(fa->path);
	t = store_col_is_null(s, RF_FA_COPY_HEADERS)
	    ? "[]"
	    : store_col_text(s, RF_FA_COPY_HEADERS);
	pn.cap = (size_t)cf_kinds[CK_ROUTE].f[RF_FA_COPY_HEADERS].max;
	if (strlen(t) > 2 &&
	    ((pn.v = arena_calloc(c->arena, pn.cap, sizeof(*pn.v))) == NULL ||
	        policy_each(st, t, policy_copy_header, &pn, e) != 0))
		return e->msg[0] != '\0' ? -1 : err_set(e, "", "out of memory");
	fa->copy = pn.v;
	fa->ncopy = pn.n;
	r->forward_auth = fa;
	return 0;
}

static int
policy_forward_auth_own(struct arena *a, struct cfg_route *r)
{
	struct cfg_forward_auth *fa;
	const char **v = NULL;
	size_t i;

	if (r->forward_auth == NULL)
		return 0;
	if ((fa = arena_alloc(a, sizeof(*fa))) == NULL)
		return -1;
	*fa = *r->forward_auth;
	if ((fa->path = arena_strndup(a, fa->path, fa->path_len)) == NULL)
		return -1;
	if (fa->ncopy > 0 &&
	    (v = arena_calloc(a, fa->ncopy, sizeof(*v))) == NULL)
		return -1;
	for (i = 0; i < fa->ncopy; i++)
		if ((v[i] = arena_strdup(a, fa->copy[i])) == NULL)
			return -1;
	fa->copy = v;
	r->forward_auth = fa;
	return 0;
}

int
cfg_policy_route(struct store *st, struct cfg *c, struct cfg_route *r,
    struct store_stmt *s, struct err *e)
{
	static const int req[3] = { RF_REQH_SET, RF_REQH_ADD, RF_REQH_REMOVE };
	static const int resp[3] = { RF_RESPH_SET, RF_RESPH_ADD,
		RF_RESPH_REMOVE };

	if (policy_redirect(c, r, s, e) != 0 ||
	    policy_respond(c, r, s, e) != 0 ||
	    policy_hdrs(st, c, r, s, req, &r->req_hdrs, e) != 0 ||
	    policy_hdrs(st, c, r, s, resp, &r->resp_hdrs, e) != 0 ||
	    policy_maint(st, c, r, s, e) != 0 ||
	    cfg_compress_route(st, c, r, s, e) != 0 ||
	    policy_forward_auth(st, c, r, s, e) != 0)
		return -1;
	if (!store_col_is_null(s, RF_ERROR_PAGES) &&
	    (r->error_pages = policy_error_pages_by_id(c,
	         store_col_int64(s, RF_ERROR_PAGES))) == NULL)
		return policy_fail(e, r, "error_pages",
		    "no error pages with id %lld",
		    (long long)store_col_int64(s, RF_ERROR_PAGES));
	r->request_id = !store_col_is_null(s, RF_REQUEST_ID) &&
	    store_col_int64(s, RF_REQUEST_ID) != 0;
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
policy_redirect_loops(const struct cfg_route *r, const struct cfg_listener *l,
    const char *to)
{
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
	const struct cfg_listener *l4 = cfg_route_non_http(r);
	bool http = l4 == NULL && r->nsnis == 0;
	const char *l4name = l4 != NULL ? l4->name : r->listener->name;
	size_t i;
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
		    l4name);
	if (r->compress != NULL && !http)
		return policy_fail(e, r, "compress",
		    "only http and https routes compress responses (listener "
		    "\"%s\")",
		    l4name);
	if (r->forward_auth != NULL && !http)
		return policy_fail(e, r, "forward_auth",
		    "only http and https routes use forward auth (listener "
		    "\"%s\")",
		    l4name);
	if (r->forward_auth != NULL && act != NULL)
		return policy_fail(e, r, "forward_auth",
		    "a route that answers by itself (%s) sends nothing to "
		    "check",
		    act);
	if (r->rewrite_prefix != NULL && !http)
		return policy_fail(e, r, "rewrite",
		    "only http and https routes rewrite paths (listener "
		    "\"%s\")",
		    l4name);
	if (r->origin == NULL && act == NULL)
		return policy_fail(e, r, "origin",
		    "is required: the route has no redirect or respond");
	for (i = 0; r->redirect != NULL && i < r->nlisteners; i++)
		if (policy_redirect_loops(r, r->listeners[i], r->redirect->to))
			return policy_fail(e, r, "redirect.to",
			    "\"%.100s\" sends the client back to this route "
			    "(a redirect loop on listener \"%s\")",
			    r->redirect->to, r->listeners[i]->name);
	return 0;
}

static struct hdr_rule *
policy_own_rules(struct arena *a, const struct hdr_rule *v, size_t n)
{
	struct hdr_rule *out;
	size_t i;

	if ((out = arena_calloc(a, n > 0 ? n : 1, sizeof(*out))) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		out[i] = v[i];
		if ((out[i].name.p = arena_strndup(a, v[i].name.p,
		         v[i].name.len)) == NULL ||
		    (v[i].value != NULL &&
		        (out[i].value = arena_strdup(a, v[i].value)) == NULL))
			return NULL;
	}
	return out;
}

static const struct hdr_rules *
policy_own_hdrs(struct arena *a, const struct hdr_rules *h)
{
	struct hdr_rules *out = arena_alloc(a, sizeof(*out));

	if (out == NULL)
		return NULL;
	*out = *h;
	if ((out->drop = policy_own_rules(a, h->drop, h->ndrop)) == NULL ||
	    (out->put = policy_own_rules(a, h->put, h->nput)) == NULL)
		return NULL;
	return out;
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
	if ((r->req_hdrs != NULL &&
	        (r->req_hdrs = policy_own_hdrs(a, r->req_hdrs)) == NULL) ||
	    (r->resp_hdrs != NULL &&
	        (r->resp_hdrs = policy_own_hdrs(a, r->resp_hdrs)) == NULL))
		return -1;
	if (r->maint != NULL) {
		struct cfg_maint *mt = arena_alloc(a, sizeof(*mt));

		if (mt == NULL)
			return -1;
		*mt = *r->maint;
		if (mt->nallow > 0) {
			if ((mt->allow = arena_calloc(a, mt->nallow,
			         sizeof(*mt->allow))) == NULL)
				return -1;
			memcpy(mt->allow, r->maint->allow,
			    mt->nallow * sizeof(*mt->allow));
		}
		r->maint = mt;
	}
	if (cfg_compress_own(a, r) != 0)
		return -1;
	return policy_forward_auth_own(a, r);
}

static void
policy_dump_hdrs(FILE *f, const char *what, const struct hdr_rules *h)
{
	size_t i;

	if (h == NULL)
		return;
	fprintf(f, " %s=", what);
	for (i = 0; i < h->ndrop; i++)
		fprintf(f, "-%.*s,", (int)h->drop[i].name.len,
		    h->drop[i].name.p);
	for (i = 0; i < h->nput; i++)
		fprintf(f, "+%.*s:%s,", (int)h->put[i].name.len,
		    h->put[i].name.p, h->put[i].value);
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
	policy_dump_hdrs(f, "reqh", r->req_hdrs);
	policy_dump_hdrs(f, "resph", r->resp_hdrs);
	if (r->request_id)
		fprintf(f, " request_id");
	if (r->error_pages != NULL)
		fprintf(f, " error_pages=%lld", (long long)r->error_pages->id);
	if (r->maint != NULL)
		fprintf(f, " maint=%d,%zu", r->maint->retry_after_s,
		    r->maint->nallow);
	cfg_compress_dump(f, r);
	if (r->forward_auth != NULL) {
		size_t i;

		fprintf(f, " forward_auth=%lld,%s",
		    (long long)r->forward_auth->origin->id,
		    r->forward_auth->path);
		for (i = 0; i < r->forward_auth->ncopy; i++)
			fprintf(f, ",%s", r->forward_auth->copy[i]);
	}
}
