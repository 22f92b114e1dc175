/*
 * api_system.c: /healthz, /status, /stats, /metrics, /openapi.json and
 * the web UI's static files.
 *
 * Read-only views of runtime state: the serving snapshot (through
 * publish_current()), listener states, and the id-keyed counters of
 * stats.h, named through the serving snapshot. Nothing here writes.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api_int.h"
#include "cfg.h"
#include "config.h"
#include "health.h"
#include "json.h"
#include "listener.h"
#include "publish.h"
#include "stats.h"
#include "store.h"

#define SYS_LISTENERS_MAX 256
#define SYS_STATIC_MAX    (8u * 1024u * 1024u)

extern const char api_openapi_json[];

void
sys_healthz(struct api_req *r)
{
	struct json *o = json_new_obj();

	json_set(o, "status", json_new_str("ok"));
	api_reply_json(r, 200, o);
}

void
sys_status(struct api_req *r)
{
	static struct listener_state ls[SYS_LISTENERS_MAX];
	struct cfg *c = publish_current();
	struct json *o = json_new_obj(), *arr, *l;
	int64_t latest = store_revision(api_store());
	uint64_t serving = c != NULL ? c->revision : 0;
	size_t n, i;

	json_set(o, "version", json_new_str(PACKAGE_VERSION));
	json_set(o, "uptime_s", json_new_int((int64_t)api_uptime()));
	json_set(o, "serving_revision", json_new_int((int64_t)serving));
	json_set(o, "generation", json_new_int(publish_generation()));
	json_set(o, "latest_revision", json_new_int(latest));
	json_set(o, "in_sync", json_new_bool((int64_t)serving == latest));
	arr = json_new_arr();
	n = listener_states(ls, SYS_LISTENERS_MAX);
	for (i = 0; i < n && i < SYS_LISTENERS_MAX; i++) {
		l = json_new_obj();
		json_set(l, "id", json_new_int(ls[i].id));
		json_set(l, "name", json_new_str(ls[i].name));
		json_set(l, "address", json_new_str(ls[i].address));
		json_set(l, "port", json_new_int(ls[i].port));
		json_set(l, "state",
		    json_new_str(ls[i].bound ? "bound" : "error"));
		json_set(l, "bound", json_new_bool(ls[i].bound));
		if (!ls[i].bound)
			json_set(l, "error", json_new_str(ls[i].error));
		json_append(arr, l);
	}
	json_set(o, "listeners", arr);
	cfg_unref(c);
	api_reply_json(r, 200, o);
}

/* ---- names for counters ---- */

static const char *
route_name(const struct cfg *c, int64_t id)
{
	const struct cfg_route *r = c != NULL ? cfg_route_by_id(c, id) : NULL;

	return r != NULL ? r->name : NULL;
}

static const struct cfg_server *
server_find(const struct cfg *c, int64_t id)
{
	size_t i, j;

	for (i = 0; c != NULL && i < c->norigins; i++)
		for (j = 0; j < c->origins[i].nservers; j++)
			if (c->origins[i].servers[j].id == id)
				return &c->origins[i].servers[j];
	return NULL;
}

static const char *
obj_name(const struct cfg *c, enum stats_kind k, int64_t id)
{
	const struct cfg_origin *o;
	const struct cfg_server *s;

	switch (k) {
	case STATS_ROUTE:
		return route_name(c, id);
	case STATS_ORIGIN:
		o = c != NULL ? cfg_origin_by_id(c, id) : NULL;
		return o != NULL ? o->name : NULL;
	case STATS_SERVER:
		s = server_find(c, id);
		return s != NULL ? s->label : NULL;
	case STATS_LISTENER: {
		const struct cfg_listener *l =
		    c != NULL ? cfg_listener_by_id(c, id) : NULL;

		return l != NULL ? l->name : NULL;
	}
	default:
		return NULL;
	}
}

static uint64_t
ld(const _Atomic uint64_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

struct stats_walk {
	const struct cfg *c;
	enum stats_kind kind;
	struct json *arr;
};

static void
stats_one(const struct stats_obj *so, void *arg)
{
	static const char *const cls[6] = { "none", "1xx", "2xx", "3xx", "4xx",
		"5xx" };
	struct stats_walk *w = arg;
	struct json *o = json_new_obj(), *st = json_new_obj();
	const char *name = obj_name(w->c, w->kind, so->id);
	const struct cfg_server *sv;
	int i;

	json_set(o, "id", json_new_int(so->id));
	json_set(o, "name",
	    name != NULL ? json_new_str(name) : json_new_null());
	if (w->kind == STATS_SERVER && (sv = server_find(w->c, so->id)) != NULL)
		json_set(o, "origin", json_new_str(sv->origin->name));
	json_set(o, "requests", json_new_int((int64_t)ld(&so->requests)));
	for (i = 0; i < 6; i++)
		json_set(st, cls[i], json_new_int((int64_t)ld(&so->status[i])));
	json_set(o, "responses", st);
	json_set(o, "bytes_in", json_new_int((int64_t)ld(&so->bytes_in)));
	json_set(o, "bytes_out", json_new_int((int64_t)ld(&so->bytes_out)));
	json_set(o, "errors", json_new_int((int64_t)ld(&so->errors)));
	json_set(o, "active", json_new_int((int64_t)ld(&so->active)));
	if (w->kind == STATS_LISTENER)
		json_set(o, "unmatched",
		    json_new_int((int64_t)ld(&so->unmatched)));
	json_append(w->arr, o);
}

/* Every server of the serving snapshot with its health-check state. */
static struct json *
health_list(const struct cfg *c)
{
	static const char *const names[] = { "unchecked", "up", "down" };
	struct json *arr = json_new_arr(), *o;
	struct health_info hi;
	size_t i, j;

	for (i = 0; c != NULL && i < c->norigins; i++)
		for (j = 0; j < c->origins[i].nservers; j++) {
			const struct cfg_server *sv = &c->origins[i].servers[j];

			o = json_new_obj();
			json_set(o, "id", json_new_int(sv->id));
			json_set(o, "origin", json_new_str(c->origins[i].name));
			json_set(o, "server", json_new_str(sv->label));
			if (!c->origins[i].health.enabled ||
			    !health_get(sv->id, &hi))
				hi = (struct health_info){ 0 };
			json_set(o, "state", json_new_str(names[hi.state]));
			json_set(o, "checks", json_new_int((int64_t)hi.checks));
			json_set(o, "failures",
			    json_new_int((int64_t)hi.failures));
			json_set(o, "changed_at", json_new_int(hi.changed_at));
			json_set(o, "last_error", json_new_str(hi.last_error));
			json_append(arr, o);
		}
	return arr;
}

void
sys_stats(struct api_req *r)
{
	static const char *const kinds[STATS__KINDS] = { "routes", "origins",
		"servers", "listeners" };
	struct cfg *c = publish_current();
	struct json *o = json_new_obj(), *g = json_new_obj();
	struct stats_walk w = { .c = c };
	int i;

	for (i = 0; i < STAT__COUNT; i++)
		json_set(g, stats_name((enum stat_id)i),
		    json_new_int((int64_t)stats_get((enum stat_id)i)));
	json_set(o, "global", g);
	for (i = 0; i < STATS__KINDS; i++) {
		w.kind = (enum stats_kind)i;
		w.arr = json_new_arr();
		stats_foreach(w.kind, stats_one, &w);
		json_set(o, kinds[i], w.arr);
	}
	json_set(o, "health", health_list(c));
	json_set(o, "balance", balance_live_json(c));
	cfg_unref(c);
	api_reply_json(r, 200, o);
}

/* ---- Prometheus text ---- */

struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		if (b->oom)
			return;
		va_start(ap, fmt);
		n = vsnprintf(b->p != NULL ? b->p + b->len : NULL,
		    b->p != NULL ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if (b->p != NULL && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap != 0 ? b->cap * 2 : 16384;
		while (cap < b->len + (size_t)n + 1)
			cap *= 2;
		char *np = realloc(b->p, cap);
		if (np == NULL) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
}

struct metrics_walk {
	struct sbuf *b;
	const struct cfg *c;
	enum stats_kind kind;
	const char *field; /* which counter to print */
};

static void
metric_one(const struct stats_obj *so, void *arg)
{
	static const char *const cls[6] = { "none", "1xx", "2xx", "3xx", "4xx",
		"5xx" };
	static const char *const kn[STATS__KINDS] = { "route", "origin",
		"server", "listener" };
	struct metrics_walk *w = arg;
	const char *name = obj_name(w->c, w->kind, so->id);
	char lbl[200];
	int i;

	snprintf(lbl, sizeof(lbl), "%s_id=\"%" PRId64 "\",%s=\"%s\"",
	    kn[w->kind], so->id, kn[w->kind], name != NULL ? name : "");
	if (strcmp(w->field, "responses") == 0) {
		for (i = 0; i < 6; i++)
			sb_printf(w->b,
			    "gatehouse_%s_responses_total{%s,class=\"%s\"} %" PRIu64
			    "\n",
			    kn[w->kind], lbl, cls[i], ld(&so->status[i]));
		return;
	}
	sb_printf(w->b, "gatehouse_%s_%s%s{%s} %" PRIu64 "\n", kn[w->kind],
	    w->field, strcmp(w->field, "active") == 0 ? "" : "_total", lbl,
	    strcmp(w->field, "requests") == 0        ? ld(&so->requests)
	        : strcmp(w->field, "bytes_in") == 0  ? ld(&so->bytes_in)
	        : strcmp(w->field, "bytes_out") == 0 ? ld(&so->bytes_out)
	        : strcmp(w->field, "errors") == 0    ? ld(&so->errors)
	        : strcmp(w->field, "unmatched") == 0 ? ld(&so->unmatched)
	                                             : ld(&so->active));
}

void
sys_metrics(struct api_req *r)
{
	static const char *const kn[STATS__KINDS] = { "route", "origin",
		"server", "listener" };
	static const char *const fields[] = { "requests", "responses",
		"bytes_in", "bytes_out", "errors", "active", "unmatched" };
	static const char *const help[] = { "requests handled",
		"responses by status class (none: no response)",
		"request bytes from clients", "response bytes to clients",
		"connect and response failures", "requests in flight",
		"requests (L4: connections, UDP: datagrams) no route took" };
	struct cfg *c = publish_current();
	struct sbuf b = { 0 };
	struct metrics_walk w = { .b = &b, .c = c };
	char *acme;
	size_t f;
	int i;

	for (i = 0; i < STAT__COUNT; i++) {
		const char *n = stats_name((enum stat_id)i);
		sb_printf(&b, "# HELP gatehouse_%s_total %s\n", n,
		    stats_help((enum stat_id)i));
		sb_printf(&b, "# TYPE gatehouse_%s_total counter\n", n);
		sb_printf(&b, "gatehouse_%s_total %" PRIu64 "\n", n,
		    stats_get((enum stat_id)i));
	}
	for (i = 0; i < STATS__KINDS; i++) {
		w.kind = (enum stats_kind)i;
		for (f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
			bool gauge = strcmp(fields[f], "active") == 0;

			if (strcmp(fields[f], "unmatched") == 0 &&
			    i != STATS_LISTENER)
				continue; /* a listener's count only */
			w.field = fields[f];
			sb_printf(&b, "# HELP gatehouse_%s_%s%s %s\n", kn[i],
			    fields[f], gauge ? "" : "_total", help[f]);
			sb_printf(&b, "# TYPE gatehouse_%s_%s%s %s\n", kn[i],
			    fields[f], gauge ? "" : "_total",
			    gauge ? "gauge" : "counter");
			stats_foreach(w.kind, metric_one, &w);
		}
	}
	sb_printf(&b,
	    "# HELP gatehouse_config_revision revision of the serving configuration\n");
	sb_printf(&b, "# TYPE gatehouse_config_revision gauge\n");
	sb_printf(&b, "gatehouse_config_revision %" PRIu64 "\n",
	    c != NULL ? c->revision : 0);
	sb_printf(&b,
	    "# HELP gatehouse_uptime_seconds seconds since the admin API started\n");
	sb_printf(&b, "# TYPE gatehouse_uptime_seconds gauge\n");
	sb_printf(&b, "gatehouse_uptime_seconds %.0f\n", api_uptime());
	if ((acme = acme_metrics(api_store())) != NULL) {
		sb_printf(&b, "%s", acme);
		free(acme);
	}
	{
		char *live = balance_live_metrics(c);

		if (live != NULL)
			sb_printf(&b, "%s", live);
		free(live);
	}
	cfg_unref(c);
	if (b.oom)
		api_reply_problem(r, 503, "out of memory", NULL);
	else
		api_reply_raw(r, 200, "text/plain; version=0.0.4", b.p, b.len);
	free(b.p);
}

/* ---- web UI ---- */

static const char *
mime_type(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".json", "application/json" },
		{ ".svg", "image/svg+xml" },
		{ ".png", "image/png" },
		{ ".ico", "image/x-icon" },
		{ ".txt", "text/plain; charset=utf-8" },
	};
	const char *dot = strrchr(path, '.');
	size_t i;

	for (i = 0; dot != NULL && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

void
sys_static(struct api_req *r)
{
	const char *rel = strcmp(r->path, "/") == 0 ? "/index.html" : r->path;
	char path[4200], *buf;
	struct stat sb;
	ssize_t n;
	int fd;

	if (strstr(rel, "/.") != NULL || strstr(rel, "//") != NULL ||
	    strchr(rel, '\\') != NULL) {
		api_reply_problem(r, 404, "no such file", NULL);
		return;
	}
	snprintf(path, sizeof(path), "%s%s", api_webui_dir(), rel);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    (size_t)sb.st_size > SYS_STATIC_MAX) {
		if (fd >= 0)
			close(fd);
		api_reply_problem(r, 404, "no such file", NULL);
		return;
	}
	if ((buf = malloc((size_t)sb.st_size + 1)) == NULL) {
		close(fd);
		api_reply_problem(r, 503, "out of memory", NULL);
		return;
	}
	n = read(fd, buf, (size_t)sb.st_size);
	close(fd);
	if (n != (ssize_t)sb.st_size) {
		free(buf);
		api_reply_problem(r, 500, "short read", NULL);
		return;
	}
	api_add_header(r, "Cache-Control", "no-cache");
	static_headers(r);
	api_reply_raw(r, 200, mime_type(path), buf, (size_t)n);
	free(buf);
}
