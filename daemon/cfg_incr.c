/*
 * cfg_incr.c: the snapshot after a one-route write, built from the
 * previous snapshot instead of from every row, and a canonical dump of a
 * snapshot that tells whether two compiles agree.
 *
 * cfg_compile_route() reads only the written route's row (and its list
 * columns) through cfg_compile_route_row() (cfg_compile.c, the same
 * checks as a full compile) and takes everything else from <prev>: the
 * certificates, origins and policies are the same objects (a route write
 * does not change them), the listeners are copied structs. The routes
 * themselves are never copied: the snapshot's route sequence (id order)
 * and each listener's (match order) are chunked sequences (cfg_rseq.h)
 * that share every chunk but the written route's with <prev>, and each
 * listener's host index shares every page and bucket but those of the
 * route's names (route_index_update()). A one-route write thus costs
 * O(chunks + chunk + the route's names), not O(routes).
 *
 * The new snapshot holds a reference to <prev> (whose arena holds what
 * it shares) and to <base>, the full compile the chain started from. The
 * chain ends when a write of another kind compiles in full, or when it
 * is cfg_incr_chain_max long or its arenas outweigh the base's: then
 * cfg_compile_route() answers 1 and the caller compiles in full, which
 * frees the chain once the workers have swapped.
 *
 * A full compile stays the reference: cfg_dump() writes every compiled
 * value of a snapshot in a fixed order (and what route_match() answers
 * for each route's own hosts), so tests and GATEHOUSED_COMPILE_VERIFY=1
 * compare the two byte for byte.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "arena.h"
#include "cfg.h"
#include "ratelimit.h"
#include "route.h"
#include "store.h"

unsigned cfg_incr_chain_max = 1000;

/* Bytes a chain may hold whatever the size of its base. */
#define CFG_INCR_SLACK (4u << 20)

/* Whether route <r> serves the listener with <id>. */
static bool
incr_serves(const struct cfg_route *r, int64_t id)
{
	size_t i;

	for (i = 0; r != NULL && i < r->nlisteners; i++)
		if (r->listeners[i]->id == id)
			return true;
	return false;
}

/* Whether route <r> goes in listener <l>'s sni_routes
 * (compile_listener_routes()).
 */
static bool
incr_is_sni(const struct cfg_route *r, const struct cfg_listener *l)
{
	return l->proto == CFG_PROTO_HTTPS && r->nsnis > 0;
}

/* Listener <l> (prev's lists, shared) with route <gone> (NULL: none)
 * taken out and <nr> (NULL: none) put in, and its host index updated.
 */
static int
incr_listener(struct cfg *c, struct cfg_listener *l,
    const struct cfg_route *gone, const struct cfg_route *nr)
{
	const struct route_index *old = l->route_index;
	const struct cfg_route *igone = NULL, *iadded = NULL;

	if (gone != NULL && !incr_serves(gone, l->id))
		gone = NULL;
	if (nr != NULL && !incr_serves(nr, l->id))
		nr = NULL;
	if (gone == NULL && nr == NULL)
		return 0;
	if (gone != NULL) {
		if (cfg_rseq_del(c->arena,
		        incr_is_sni(gone, l) ? &l->sni_routes : &l->routes,
		        gone, route_order) < 0)
			return -1;
		igone = incr_is_sni(gone, l) ? NULL : gone;
	}
	if (nr != NULL) {
		if (cfg_rseq_put(c->arena,
		        incr_is_sni(nr, l) ? &l->sni_routes : &l->routes, nr,
		        route_order) != 0)
			return -1;
		iadded = incr_is_sni(nr, l) ? NULL : nr;
	}
	if (igone == NULL && iadded == NULL)
		return 0;
	return route_index_update(c->arena, l, old, igone, iadded);
}

int
cfg_compile_route(struct store *st, struct cfg *prev, int64_t id,
    struct cfg **out, struct err *e)
{
	struct cfg *c, *base;
	struct cfg_route *nr, key;
	const struct cfg_route *gone;
	size_t i;
	int rc;

	*out = NULL;
	err_clear(e);
	if (prev == NULL || prev->nlisteners == 0)
		return 1;
	base = prev->base != NULL ? prev->base : prev;
	/* Rebase: a full compile frees the chain (prev) when it has grown
	 * long or heavier than the full compile it started from.
	 */
	if (prev->chain >= cfg_incr_chain_max ||
	    (prev->chain_bytes > CFG_INCR_SLACK &&
	        prev->chain_bytes > arena_used(base->arena)))
		return 1;
	if ((c = cfg_new()) == NULL)
		goto oom;
	c->base = cfg_ref(base);
	c->prev = cfg_ref(prev);
	c->chain = prev->chain + 1;
	c->certs = prev->certs;
	c->ncerts = prev->ncerts;
	c->origins = prev->origins;
	c->norigins = prev->norigins;
	c->nlisteners = prev->nlisteners;
	/* The listeners' lists and indexes start as prev's (shared). */
	if ((c->listeners = arena_calloc(c->arena, c->nlisteners,
	         sizeof(*c->listeners))) == NULL)
		goto oom;
	memcpy(c->listeners, prev->listeners,
	    c->nlisteners * sizeof(*c->listeners));
	/* Policies (access.c) are the previous snapshot's: a route write
	 * does not change them.
	 */
	c->access_lists = prev->access_lists;
	c->naccess_lists = prev->naccess_lists;
	c->rate_limits = prev->rate_limits; /* ratelimit.c */
	c->nrate_limits = prev->nrate_limits;
	c->error_pages = prev->error_pages; /* cfg_policy.c */
	c->nerror_pages = prev->nerror_pages;
	if ((nr = arena_calloc(c->arena, 1, sizeof(*nr))) == NULL)
		goto oom;
	rc = cfg_compile_route_row(st, c, id, nr, e);
	if (rc == 0 &&
	    (access_route(st, c, nr, e) != 0 ||
	        ratelimit_route(st, c, nr, e) != 0))
		rc = -1;
	if (rc < 0) {
		cfg_unref(c);
		return -1;
	}
	if (rc != 0)
		nr = NULL; /* deleted */
	key.id = id;
	gone = cfg_rseq_find(&prev->routes, &key, cfg_route_id_cmp);
	c->routes = prev->routes;
	if ((gone != NULL &&
	        cfg_rseq_del(c->arena, &c->routes, gone, cfg_route_id_cmp) <
	            0) ||
	    (nr != NULL &&
	        cfg_rseq_put(c->arena, &c->routes, nr, cfg_route_id_cmp) != 0))
		goto oom;
	for (i = 0; i < c->nlisteners; i++)
		if (incr_listener(c, &c->listeners[i], gone, nr) != 0)
			goto oom;
	c->revision = (uint64_t)store_revision(st);
	c->chain_bytes = prev->chain_bytes + arena_used(c->arena);
	*out = c;
	return 0;
oom:
	cfg_unref(c);
	return err_set(e, "",
	    "out of memory while compiling the configuration");
}

/* ---- canonical dump ---- */

static void
dump_hosts(FILE *f, const char *key, const struct cfg_host *h, size_t n)
{
	size_t i;

	fprintf(f, " %s=[", key);
	for (i = 0; i < n; i++)
		fprintf(f, "%s%d:%.*s", i > 0 ? "," : "", (int)h[i].kind,
		    (int)h[i].len, h[i].name);
	fputc(']', f);
}

static void
dump_cidrs(FILE *f, const char *key, const struct cfg_cidr *v, size_t n)
{
	size_t i, j;

	fprintf(f, " %s=[", key);
	for (i = 0; i < n; i++) {
		fprintf(f, "%s%d/", i > 0 ? "," : "", v[i].family);
		for (j = 0; j < sizeof(v[i].addr); j++)
			fprintf(f, "%02x", v[i].addr[j]);
		fprintf(f, "/%u", v[i].prefix);
	}
	fputc(']', f);
}

static long long
dump_cert_id(const struct cfg_cert *ct)
{
	return ct != NULL ? (long long)ct->id : -1;
}

static void
dump_routes(FILE *f, const char *key, const struct cfg_rseq *s)
{
	struct cfg_rseq_it it = cfg_rseq_begin(s);
	const struct cfg_route *r;
	size_t i = 0;

	fprintf(f, " %s=[", key);
	while ((r = cfg_rseq_next(&it)) != NULL)
		fprintf(f, "%s%lld", i++ > 0 ? "," : "", (long long)r->id);
	fprintf(f, "] n=%zu", s->n);
}

/* What route_match() answers on <l> for each host of each of its routes,
 * with the route's path prefix and a method it takes: the index in use.
 */
static void
dump_matches(FILE *f, const struct cfg_listener *l)
{
	struct cfg_rseq_it it = cfg_rseq_begin(&l->routes);
	const struct cfg_route *r, *m;
	struct str host, path;
	size_t j;
	unsigned method;

	fputs(" match=[", f);
	while ((r = cfg_rseq_next(&it)) != NULL) {
		path = str_make(r->path_prefix, r->path_prefix_len);
		method = r->methods != 0 ? (r->methods & (~r->methods + 1u))
		                         : CFG_M_GET;
		for (j = 0; j == 0 || j < r->nhosts; j++) {
			host =
			    r->nhosts > 0 && r->hosts[j].kind == CFG_HOST_EXACT
			    ? str_make(r->hosts[j].name, r->hosts[j].len)
			    : str_make("any.example", 11);
			m = route_match(l, host, path, method);
			fprintf(f, "%lld,", m != NULL ? (long long)m->id : -1);
		}
	}
	fputc(']', f);
}

int
cfg_dump(const struct cfg *c, char **buf, size_t *len)
{
	const struct cfg_listener *l;
	const struct cfg_origin *o;
	const struct cfg_server *sv;
	const struct cfg_route *r;
	const struct cfg_health *h;
	struct cfg_rseq_it it;
	FILE *f;
	size_t i, j;

	if ((f = open_memstream(buf, len)) == NULL)
		return -1;
	fprintf(f, "revision %llu\n", (unsigned long long)c->revision);
	for (i = 0; i < c->ncerts; i++)
		fprintf(f, "cert %lld %s ca=%d cert=%zu key=%zu\n",
		    (long long)c->certs[i].id, c->certs[i].name,
		    c->certs[i].is_ca, strlen(c->certs[i].cert_pem),
		    c->certs[i].key_pem != NULL ? strlen(c->certs[i].key_pem)
		                                : 0);
	for (i = 0; i < c->nlisteners; i++) {
		l = &c->listeners[i];
		fprintf(f,
		    "listener %lld %s %s:%u proto=%d header=%u keepalive=%u "
		    "trust=%d pathnorm=%d maxconn=%u cert=%lld auth=%d "
		    "ca=%lld tls=%d",
		    (long long)l->id, l->name, l->address, l->port,
		    (int)l->proto, l->header_ms, l->keepalive_ms,
		    l->trust_forwarded, (int)l->pathnorm, l->max_connections,
		    dump_cert_id(l->default_cert), (int)l->client_auth,
		    dump_cert_id(l->client_ca), l->tls != NULL);
		dump_cidrs(f, "proxy_from", l->proxy_from, l->nproxy_from);
		dump_routes(f, "routes", &l->routes);
		dump_routes(f, "sni_routes", &l->sni_routes);
		fprintf(f, " index=%d", l->route_index != NULL);
		dump_matches(f, l);
		fputc('\n', f);
	}
	for (i = 0; i < c->norigins; i++) {
		o = &c->origins[i];
		h = &o->health;
		fprintf(f,
		    "origin %lld %s weight=%u pp=%u tls=%d/%d/%s/%lld/%lld/%d "
		    "health=%d %s %s %s %u %u %u %u %u-%u\n",
		    (long long)o->id, o->name, o->total_weight,
		    o->proxy_protocol, o->tls_enabled, o->tls_verify,
		    o->tls_sni != NULL ? o->tls_sni : "-",
		    dump_cert_id(o->tls_ca), dump_cert_id(o->tls_client_cert),
		    o->tls != NULL, h->enabled, h->path != NULL ? h->path : "-",
		    h->method != NULL ? h->method : "-",
		    h->host != NULL ? h->host : "-", h->interval_ms,
		    h->timeout_ms, h->rise, h->fall, h->status_min,
		    h->status_max);
		for (j = 0; j < o->nservers; j++) {
			sv = &o->servers[j];
			fprintf(f, "  server %lld %s %u %u %s origin=%lld\n",
			    (long long)sv->id, sv->address, sv->port,
			    sv->weight, sv->label, (long long)sv->origin->id);
		}
	}
	fprintf(f, "routes %zu\n", c->routes.n);
	it = cfg_rseq_begin(&c->routes);
	while ((r = cfg_rseq_next(&it)) != NULL) {
		fprintf(f,
		    "route %lld %s prio=%d listener=%lld origin=%lld "
		    "prefix=%s methods=%u fwd=%d body=%llu t=%u/%u/%u "
		    "redirect=%d hsts=%u pathnorm=%d",
		    (long long)r->id, r->name, r->priority,
		    (long long)r->listener->id,
		    r->origin != NULL ? (long long)r->origin->id : -1LL,
		    r->path_prefix, r->methods, r->forwarded,
		    (unsigned long long)r->max_body_bytes, r->connect_ms,
		    r->response_ms, r->idle_ms, r->redirect_https,
		    r->hsts_max_age, (int)r->pathnorm);
		fputs(" listeners=[", f);
		for (j = 0; j < r->nlisteners; j++)
			fprintf(f, "%s%lld", j > 0 ? "," : "",
			    (long long)r->listeners[j]->id);
		fprintf(f, "] pathnorm_set=%d", r->pathnorm_set);
		dump_hosts(f, "hosts", r->hosts, r->nhosts);
		dump_hosts(f, "sni", r->snis, r->nsnis);
		dump_cidrs(f, "sources", r->sources, r->nsources);
		fprintf(f, " retry=%u/%u/%u acl=%lld rl=%lld",
		    r->retry_attempts, r->retry_on, r->retry_budget_percent,
		    r->access_list != NULL ? (long long)r->access_list->id
		                           : -1LL,
		    r->rate_limit != NULL ? (long long)r->rate_limit->id
		                          : -1LL);
		cfg_policy_route_dump(f, r);
		fputc('\n', f);
	}
	if (fclose(f) != 0)
		return -1;
	return 0;
}
