/*
 * l4_route.c: route choice for tcp, udp and tls-passthrough listeners.
 *
 * Listeners have few routes, so the whole list is scored in one walk
 * instead of relying on route_sort()'s HTTP order: the server name is
 * normalized once into a stack buffer (configured names are lowercased
 * at compile time), and each route that accepts gets a score compared
 * field by field.
 */
#include "l4_route.h"

#include <netinet/in.h>

#include <string.h>

#define L4_NAME_MAX 255

struct l4_score {
	int priority;
	int name_class; /* 2 exact, 1 wildcard, 0 no names */
	size_t suffix;  /* wildcard suffix length */
	int sources;    /* 1 when the route lists sources */
};

bool
l4_cidr_contains(const struct cfg_cidr *c, const struct sockaddr *sa)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff,
		0xff };
	const uint8_t *a;
	unsigned full, rest;

	if (sa->sa_family == AF_INET && c->family == AF_INET) {
		a = (const uint8_t
		        *)&((const struct sockaddr_in *)(const void *)sa)
		        ->sin_addr;
	} else if (sa->sa_family == AF_INET6) {
		a = (const uint8_t
		        *)&((const struct sockaddr_in6 *)(const void *)sa)
		        ->sin6_addr;
		if (c->family == AF_INET) {
			if (memcmp(a, mapped, sizeof(mapped)) != 0)
				return false;
			a += 12;
		} else if (c->family != AF_INET6) {
			return false;
		}
	} else {
		return false;
	}
	full = c->prefix / 8;
	rest = c->prefix % 8;
	if (memcmp(a, c->addr, full) != 0)
		return false;
	return rest == 0 ||
	    ((a[full] ^ c->addr[full]) & (uint8_t)(0xff00u >> rest)) == 0;
}

bool
l4_cidr_any(const struct cfg_cidr *v, size_t n, const struct sockaddr *sa)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (l4_cidr_contains(&v[i], sa))
			return true;
	return false;
}

/* The best of <n> names <h> for <name>: 2 exact, 1 wildcard (with its
 * suffix length in <suffix>), 0 none matches.
 */
static int
l4_names(const struct cfg_host *h, size_t n, const char *name, size_t len,
    size_t *suffix)
{
	int best = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (h[i].kind == CFG_HOST_EXACT) {
			if (h[i].len == len &&
			    memcmp(h[i].name, name, len) == 0)
				return 2;
		} else if (len > h[i].len &&
		    memcmp(h[i].name, name + len - h[i].len, h[i].len) == 0 &&
		    (best == 0 || h[i].len > *suffix)) {
			best = 1;
			*suffix = h[i].len;
		}
	}
	return best;
}

static bool
l4_better(const struct l4_score *a, const struct l4_score *b)
{
	if (a->priority != b->priority)
		return a->priority > b->priority;
	if (a->name_class != b->name_class)
		return a->name_class > b->name_class;
	if (a->suffix != b->suffix)
		return a->suffix > b->suffix;
	return a->sources > b->sources;
}

const struct cfg_route *
l4_route_match(const struct cfg_listener *l, const struct sockaddr *peer,
    const char *sni, size_t sni_len)
{
	const struct cfg_route *r, *best = NULL;
	struct l4_score sc, bs = { 0 };
	char name[L4_NAME_MAX];
	bool hosts_are_names = l->proto == CFG_PROTO_TLS_PASSTHROUGH;
	bool https = l->proto == CFG_PROTO_HTTPS;
	struct cfg_rseq_it it =
	    cfg_rseq_begin(https ? &l->sni_routes : &l->routes);
	size_t i, len = 0, suffix;
	int cls, cls2;

	if (sni != NULL && sni_len > 0 && sni[sni_len - 1] == '.')
		sni_len--;
	if (sni != NULL && sni_len <= sizeof(name)) {
		for (i = 0; i < sni_len; i++)
			name[i] = (sni[i] >= 'A' && sni[i] <= 'Z')
			    ? (char)(sni[i] - 'A' + 'a')
			    : sni[i];
		len = sni_len;
	}
	while ((r = cfg_rseq_next(&it)) != NULL) {
		if (r->nsources > 0 &&
		    !l4_cidr_any(r->sources, r->nsources, peer))
			continue;
		suffix = 0;
		if (r->nsnis > 0 || (hosts_are_names && r->nhosts > 0)) {
			if (len == 0)
				continue;
			cls = l4_names(r->snis, r->nsnis, name, len, &suffix);
			if (cls < 2 && hosts_are_names) {
				size_t s2 = 0;

				cls2 = l4_names(r->hosts, r->nhosts, name, len,
				    &s2);
				if (cls2 > cls ||
				    (cls2 == cls && cls == 1 && s2 > suffix)) {
					cls = cls2;
					suffix = s2;
				}
			}
			if (cls == 0)
				continue;
		} else {
			cls = 0;
		}
		sc.priority = r->priority;
		sc.name_class = cls;
		sc.suffix = cls == 1 ? suffix : 0;
		sc.sources = r->nsources > 0;
		if (best == NULL || l4_better(&sc, &bs) ||
		    (!l4_better(&bs, &sc) && r->id < best->id)) {
			best = r;
			bs = sc;
		}
	}
	return best;
}
