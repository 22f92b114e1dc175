/*
 * cfg_incr.c: the snapshot after a one-route write, built from the
 * previous snapshot instead of from every row, and a canonical dump of a
 * snapshot that tells whether two compiles agree.
 *
 * cfg_compile_route() reads only the written route's row (and its list
 * columns) through cfg_compile_route_row() (cfg_compile.c, the same
 * checks as a full compile) and takes everything else from <prev>: the
 * certificates, origins and listeners are the same objects (a route write
 * does not change them), the other routes are copied structs whose
 * strings and lists stay where they are. What may be shared lives in the
 * arena of a full compile, the new snapshot's <base>, which it holds a
 * reference to; routes written since that compile have their strings and
 * lists in the newest snapshot's arena and are copied along (incr_owned),
 * so a snapshot keeps at most one other alive however many writes follow.
 * Each listener's route order is the previous one with the route taken
 * out and put back in by binary search (route_cmp()), which is the order a
 * full sort gives; each host index is the previous one copied with the
 * ranks moved, the route's names taken out and put in
 * (route_index_update()), without hashing every name again.
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

/* The index of the route with <id> in c->routes (id order), or where it
 * would go; <*found> whether it is there.
 */
static size_t
incr_find(const struct cfg *c, int64_t id, bool *found)
{
	size_t lo = 0, hi = c->nroutes, mid;

	*found = false;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (c->routes[mid].id == id) {
			*found = true;
			return mid;
		}
		if (c->routes[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct cfg_host *
incr_hosts(struct arena *a, const struct cfg_host *h, size_t n)
{
	struct cfg_host *out;
	size_t i;

	if (n == 0)
		return NULL;
	if ((out = arena_calloc(a, n, sizeof(*out))) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		out[i] = h[i];
		if ((out[i].name = arena_strndup(a, h[i].name, h[i].len)) ==
		    NULL)
			return NULL;
	}
	return out;
}

/* A route's strings and lists into <a> (it was written after the base
 * compile, so they live in the previous snapshot's arena). 0 or -1.
 */
static int
incr_own(struct arena *a, struct cfg_route *r)
{
	const struct cfg_host *hosts = r->hosts, *snis = r->snis;
	const struct cfg_cidr *src = r->sources;

	if ((r->name = arena_strdup(a, r->name)) == NULL ||
	    (r->path_prefix = arena_strndup(a, r->path_prefix,
	         r->path_prefix_len)) == NULL)
		return -1;
	if ((r->nhosts > 0 &&
	        (r->hosts = incr_hosts(a, hosts, r->nhosts)) == NULL) ||
	    (r->nsnis > 0 && (r->snis = incr_hosts(a, snis, r->nsnis)) == NULL))
		return -1;
	if (r->nsources > 0) {
		if ((r->sources = arena_calloc(a, r->nsources,
		         sizeof(*r->sources))) == NULL)
			return -1;
		memcpy(r->sources, src, r->nsources * sizeof(*r->sources));
	}
	return cfg_policy_route_own(a, r);
}

/* Where the old route at index <i> of prev->routes is in c->routes: one
 * route (old index <gone>, SIZE_MAX: none) left, one (new index <added>,
 * SIZE_MAX: none) came in.
 */
static size_t
incr_map(size_t i, size_t gone, size_t added)
{
	if (gone != SIZE_MAX && i > gone)
		i--;
	if (added != SIZE_MAX && i >= added)
		i++;
	return i;
}

/* One of prev's listener lists (routes or sni_routes) for the listener
 * <l> of <c>: the same order, pointers moved to c->routes, without the
 * written route (old index <gone>) and with <nr> put in its place in the
 * order when <put>. <*rgone> is the rank the route left in the list,
 * <*radded> the rank <nr> took (UINT32_MAX: none). 0 or -1.
 */
static int
incr_list(struct cfg *c, const struct cfg *prev,
    const struct cfg_route *const *v, size_t n, size_t gone, size_t added,
    const struct cfg_route *nr, bool put, const struct cfg_route ***out,
    size_t *nout, uint32_t *rgone, uint32_t *radded)
{
	const struct cfg_route **w;
	size_t i, j = 0, idx, lo, hi, mid;

	*out = NULL;
	*nout = 0;
	*rgone = *radded = UINT32_MAX;
	if (n + put == 0)
		return 0;
	if ((w = arena_calloc(c->arena, n + put, sizeof(*w))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		idx = (size_t)(v[i] - prev->routes);
		if (idx == gone) {
			*rgone = (uint32_t)i;
			continue;
		}
		w[j++] = &c->routes[incr_map(idx, gone, added)];
	}
	if (put) {
		lo = 0;
		hi = j;
		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			if (route_order(w[mid], nr) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		memmove(&w[lo + 1], &w[lo], (j - lo) * sizeof(*w));
		w[lo] = nr;
		*radded = (uint32_t)lo;
		j++;
	}
	*out = w;
	*nout = j;
	return 0;
}

/* Whether route <r> goes in listener <l>'s sni_routes
 * (compile_l4_split()).
 */
static bool
incr_is_sni(const struct cfg_route *r, const struct cfg_listener *l)
{
	return l->proto == CFG_PROTO_HTTPS && r->nsnis > 0;
}

/* Whether route <r> serves listener <l>. */
static bool
incr_serves(const struct cfg_route *r, const struct cfg_listener *l)
{
	size_t i;

	for (i = 0; r != NULL && i < r->nlisteners; i++)
		if (r->listeners[i] == l)
			return true;
	return false;
}

/* A copied route's listeners, moved from prev's listeners to c's. */
static int
incr_relisten(struct cfg *c, const struct cfg *prev, struct cfg_route *r)
{
	const struct cfg_listener **v;
	size_t i;

	if ((v = arena_calloc(c->arena, r->nlisteners, sizeof(*v))) == NULL)
		return -1;
	for (i = 0; i < r->nlisteners; i++)
		v[i] = &c->listeners[r->listeners[i] - prev->listeners];
	r->listeners = v;
	r->listener = v[0];
	return 0;
}

static int
incr_listeners(struct cfg *c, const struct cfg *prev, size_t gone, size_t added,
    const struct cfg_route *nr)
{
	const struct cfg_listener *pl;
	struct cfg_listener *l;
	uint32_t rgone, radded, sgone, sadded;
	size_t i;
	bool mine;

	for (i = 0; i < c->nlisteners; i++) {
		pl = &prev->listeners[i];
		l = &c->listeners[i];
		mine = incr_serves(nr, l);
		if (incr_list(c, prev, pl->routes, pl->nroutes, gone, added, nr,
		        mine && !incr_is_sni(nr, l), &l->routes, &l->nroutes,
		        &rgone, &radded) != 0 ||
		    incr_list(c, prev, pl->sni_routes, pl->nsni_routes, gone,
		        added, nr, mine && incr_is_sni(nr, l), &l->sni_routes,
		        &l->nsni_routes, &sgone, &sadded) != 0 ||
		    route_index_update(c->arena, l, pl->route_index, rgone,
		        radded) != 0)
			return -1;
	}
	return 0;
}

int
cfg_compile_route(struct store *st, struct cfg *prev, int64_t id,
    struct cfg **out, struct err *e)
{
	struct cfg *c;
	struct cfg_route nr, *r;
	size_t i, j, gone = SIZE_MAX, added = SIZE_MAX, pos;
	bool found;
	int rc;

	*out = NULL;
	err_clear(e);
	if (prev == NULL || prev->nlisteners == 0)
		return 1;
	if ((c = cfg_new()) == NULL)
		goto oom;
	c->base = cfg_ref(prev->base != NULL ? prev->base : prev);
	c->certs = prev->certs;
	c->ncerts = prev->ncerts;
	c->origins = prev->origins;
	c->norigins = prev->norigins;
	c->nlisteners = prev->nlisteners;
	if ((c->listeners = arena_calloc(c->arena, c->nlisteners,
	         sizeof(*c->listeners))) == NULL)
		goto oom;
	memcpy(c->listeners, prev->listeners,
	    c->nlisteners * sizeof(*c->listeners));
	for (i = 0; i < c->nlisteners; i++) {
		c->listeners[i].route_index = NULL;
		c->listeners[i].routes = c->listeners[i].sni_routes = NULL;
		c->listeners[i].nroutes = c->listeners[i].nsni_routes = 0;
	}
	/* Policies (access.c) are the previous snapshot's: a route write
	 * does not change them.
	 */
	c->access_lists = prev->access_lists;
	c->naccess_lists = prev->naccess_lists;
	c->rate_limits = prev->rate_limits; /* ratelimit.c */
	c->nrate_limits = prev->nrate_limits;
	c->error_pages = prev->error_pages; /* cfg_policy.c */
	c->nerror_pages = prev->nerror_pages;
	memset(&nr, 0, sizeof(nr));
	rc = cfg_compile_route_row(st, c, id, &nr, e);
	if (rc == 0 &&
	    (access_route(st, c, &nr, e) != 0 ||
	        ratelimit_route(st, c, &nr, e) != 0))
		rc = -1;
	if (rc < 0) {
		cfg_unref(c);
		return -1;
	}
	pos = incr_find(prev, id, &found);
	if (found)
		gone = pos;
	c->nroutes = prev->nroutes - found + (rc == 0);
	if (c->nroutes > 0 &&
	    (c->routes = arena_alloc(c->arena,
	         c->nroutes * sizeof(*c->routes))) == NULL) /* all set below */
		goto oom;
	if (rc == 0)
		added = pos;
	for (i = 0, j = 0; i < prev->nroutes; i++) {
		if (i == gone)
			continue;
		if (j == added)
			j++;
		r = &c->routes[j++];
		*r = prev->routes[i];
		if (incr_relisten(c, prev, r) != 0)
			goto oom;
		if (r->incr_owned && incr_own(c->arena, r) != 0)
			goto oom;
	}
	if (rc == 0) {
		nr.incr_owned = true;
		c->routes[added] = nr;
	}
	if (incr_listeners(c, prev, gone, added,
	        rc == 0 ? &c->routes[added] : NULL) != 0)
		goto oom;
	c->revision = (uint64_t)store_revision(st);
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
dump_routes(FILE *f, const char *key, const struct cfg_route *const *v,
    size_t n)
{
	size_t i;

	fprintf(f, " %s=[", key);
	for (i = 0; i < n; i++)
		fprintf(f, "%s%lld", i > 0 ? "," : "", (long long)v[i]->id);
	fputc(']', f);
}

/* What route_match() answers on <l> for each host of each of its routes,
 * with the route's path prefix and a method it takes: the index in use.
 */
static void
dump_matches(FILE *f, const struct cfg_listener *l)
{
	const struct cfg_route *r, *m;
	struct str host, path;
	size_t i, j;
	unsigned method;

	fputs(" match=[", f);
	for (i = 0; i < l->nroutes; i++) {
		r = l->routes[i];
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
		dump_routes(f, "routes", l->routes, l->nroutes);
		dump_routes(f, "sni_routes", l->sni_routes, l->nsni_routes);
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
	for (i = 0; i < c->nroutes; i++) {
		r = &c->routes[i];
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
