/*
 * route.c: route matching on the request path, and the route order.
 *
 * route_match() is on the hot path of every request: it normalizes the
 * Host value once into a stack buffer, then walks the listener's routes in
 * the order cfg_compile() fixed with route_sort(), testing the cheap
 * conditions (method bit, path prefix) before the host list. Configured
 * host names are already lowercased and validated, so matching is memcmp.
 */
#include "route.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum route_hclass {
	ROUTE_HC_EXACT = 0,
	ROUTE_HC_WILDCARD,
	ROUTE_HC_ANY,
};

static inline char
route_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static inline bool
route_is_namechar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

static inline bool
route_is_v6char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F') || c == ':' || c == '.';
}

/* ":digits" or nothing. */
static bool
route_port_ok(const char *p, size_t len)
{
	size_t i;

	if (len == 0)
		return true;
	if (p[0] != ':')
		return false;
	for (i = 1; i < len; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return true;
}

struct str
route_host_normalize(struct str raw, char *buf)
{
	struct str s = str_trim(raw), name;
	const char *close;
	bool v6 = false;
	size_t i, n;

	if (s.len == 0)
		return str_make(buf, 0);
	if (s.p[0] == '[') {
		close = memchr(s.p, ']', s.len);
		if (close == NULL)
			return str_make(buf, 0);
		name = str_make(s.p + 1, (size_t)(close - s.p) - 1);
		n = s.len - (size_t)(close - s.p) - 1;
		if (!route_port_ok(close + 1, n))
			return str_make(buf, 0);
		v6 = true;
	} else {
		close = memchr(s.p, ':', s.len);
		n = close != NULL ? (size_t)(close - s.p) : s.len;
		if (!route_port_ok(s.p + n, s.len - n))
			return str_make(buf, 0);
		name = str_make(s.p, n);
		if (name.len > 0 && name.p[name.len - 1] == '.')
			name.len--;
	}
	if (name.len == 0 || name.len > ROUTE_HOST_MAX)
		return str_make(buf, 0);
	for (i = 0; i < name.len; i++) {
		if (!(v6 ? route_is_v6char(name.p[i])
		         : route_is_namechar(name.p[i])))
			return str_make(buf, 0);
		buf[i] = route_lower(name.p[i]);
	}
	return str_make(buf, name.len);
}

static bool
route_host_ok(const struct cfg_route *r, struct str host)
{
	const struct cfg_host *h;
	size_t i;

	if (host.len == 0)
		return false;
	for (i = 0; i < r->nhosts; i++) {
		h = &r->hosts[i];
		if (h->kind == CFG_HOST_EXACT) {
			if (h->len == host.len &&
			    memcmp(h->name, host.p, host.len) == 0)
				return true;
		} else if (host.len > h->len &&
		    memcmp(h->name, host.p + host.len - h->len, h->len) == 0) {
			/* h->name is ".suffix": at least one byte before. */
			return true;
		}
	}
	return false;
}

const struct cfg_route *
route_match(const struct cfg_listener *l, struct str host, struct str path,
    unsigned method)
{
	const struct cfg_route *r;
	char buf[ROUTE_HOST_MAX];
	struct str h;
	bool normalized = false;
	size_t i;

	h = str_make(buf, 0);
	for (i = 0; i < l->nroutes; i++) {
		r = l->routes[i];
		if (r->methods != 0 && (r->methods & method) == 0)
			continue;
		if (path.len < r->path_prefix_len ||
		    memcmp(path.p, r->path_prefix, r->path_prefix_len) != 0)
			continue;
		if (r->nhosts == 0)
			return r;
		if (!normalized) {
			h = route_host_normalize(host, buf);
			normalized = true;
		}
		if (route_host_ok(r, h))
			return r;
	}
	return NULL;
}

/* The host class of a route and, for wildcards, its longest suffix. */
static enum route_hclass
route_hclass(const struct cfg_route *r, size_t *suffix)
{
	enum route_hclass c = ROUTE_HC_ANY;
	size_t i;

	*suffix = 0;
	for (i = 0; i < r->nhosts; i++) {
		if (r->hosts[i].kind == CFG_HOST_EXACT) {
			c = ROUTE_HC_EXACT;
		} else {
			if (c == ROUTE_HC_ANY)
				c = ROUTE_HC_WILDCARD;
			if (r->hosts[i].len > *suffix)
				*suffix = r->hosts[i].len;
		}
	}
	return c;
}

static int
route_cmp(const void *pa, const void *pb)
{
	const struct cfg_route *a = *(const struct cfg_route *const *)pa;
	const struct cfg_route *b = *(const struct cfg_route *const *)pb;
	enum route_hclass ca, cb;
	size_t sa, sb;

	if (a->priority != b->priority)
		return a->priority > b->priority ? -1 : 1;
	ca = route_hclass(a, &sa);
	cb = route_hclass(b, &sb);
	if (ca != cb)
		return ca < cb ? -1 : 1;
	if (ca == ROUTE_HC_WILDCARD && sa != sb)
		return sa > sb ? -1 : 1;
	if (a->path_prefix_len != b->path_prefix_len)
		return a->path_prefix_len > b->path_prefix_len ? -1 : 1;
	if ((a->methods != 0) != (b->methods != 0))
		return a->methods != 0 ? -1 : 1;
	if (a->id != b->id)
		return a->id < b->id ? -1 : 1;
	return 0;
}

void
route_sort(const struct cfg_route **v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), route_cmp);
}
