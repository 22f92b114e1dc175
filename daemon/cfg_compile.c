/*
 * cfg_compile.c: store rows -> one validated, immutable struct cfg.
 *
 * Reads listeners, origins with their servers, and routes (whose hosts and
 * methods are JSON arrays, unpacked with SQLite's json_each()) inside a
 * savepoint, so the reads are consistent whether or not the caller holds a
 * transaction. It checks what the schema cannot (numeric addresses,
 * duplicate listen addresses, host names, methods, path prefixes, origins
 * without servers that a route uses), fills in the CFG_DEF_* defaults, and
 * sorts each listener's routes into match order (route_sort()). Every
 * error names the object by its user-chosen name, e.g.
 * "routes[app].hosts[1]": those strings are API output.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "arena.h"
#include "cfg.h"
#include "cfg_value.h"
#include "check.h"
#include "route.h"
#include "store.h"

#define CFG_MAX_MS 86400000LL /* 24 h: longest timeout accepted */
#define CFG_SHOWN  100        /* longest user value quoted in a message */

struct compile {
	struct store *st;
	struct cfg *c;
	struct err *e;
	char obj[96]; /* "routes[app]": prefix of error paths */
};

/* clang-format off */
static const struct {
	const char *name;
	enum cfg_proto proto;
} compile_protos[] = {
	{ "http",            CFG_PROTO_HTTP },
	{ "https",           CFG_PROTO_HTTPS },
	{ "tcp",             CFG_PROTO_TCP },
	{ "udp",             CFG_PROTO_UDP },
	{ "tls-passthrough", CFG_PROTO_TLS_PASSTHROUGH },
};

static const struct {
	const char *name;
	unsigned bit;
} compile_methods[] = {
	{ "GET",     CFG_M_GET },
	{ "HEAD",    CFG_M_HEAD },
	{ "POST",    CFG_M_POST },
	{ "PUT",     CFG_M_PUT },
	{ "DELETE",  CFG_M_DELETE },
	{ "PATCH",   CFG_M_PATCH },
	{ "OPTIONS", CFG_M_OPTIONS },
	{ "CONNECT", CFG_M_CONNECT },
	{ "TRACE",   CFG_M_TRACE },
};
/* clang-format on */

static int compile_fail(struct compile *k, const char *field, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

/* Fills the error with path "<k->obj><field>". */
static int
compile_fail(struct compile *k, const char *field, const char *fmt, ...)
{
	char path[sizeof(k->e->field)];
	char msg[sizeof(k->e->msg)];
	va_list ap;

	snprintf(path, sizeof(path), "%s%s", k->obj, field);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(k->e, path, "%s", msg);
}

static int
compile_oom(struct compile *k)
{
	return err_set(k->e, "",
	    "out of memory while compiling the configuration");
}

static void
compile_obj(struct compile *k, const char *coll, const char *name)
{
	snprintf(k->obj, sizeof(k->obj), "%s[%s]", coll, name);
}

static int
compile_count(struct compile *k, const char *sql, size_t *n)
{
	struct store_stmt *s;
	int rc = -1;

	if ((s = store_prepare(k->st, sql, k->e)) == NULL)
		return -1;
	if (store_step(s, k->e) == STORE_ROW) {
		*n = (size_t)store_col_int64(s, 0);
		rc = 0;
	}
	store_finalize(s);
	return rc;
}

/* An integer column within [lo, hi], or <def> when NULL. */
static int
compile_int(struct compile *k, struct store_stmt *s, int col, int64_t def,
    int64_t lo, int64_t hi, const char *field, int64_t *out)
{
	int64_t v;

	*out = def;
	if (store_col_is_null(s, col))
		return 0;
	v = store_col_int64(s, col);
	if (v < lo || v > hi)
		return compile_fail(k, field,
		    "%lld is out of range (%lld..%lld)", (long long)v,
		    (long long)lo, (long long)hi);
	*out = v;
	return 0;
}

static int
compile_ms(struct compile *k, struct store_stmt *s, int col, unsigned def,
    bool zero_ok, const char *field, unsigned *out)
{
	int64_t v;

	if (compile_int(k, s, col, def, zero_ok ? 0 : 1, CFG_MAX_MS, field,
	        &v) == -1)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* A numeric IPv4 or IPv6 literal into <ss>; no name resolution. */
static int
compile_sockaddr(const char *addr, uint16_t port, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*len = sizeof(*sin6);
		return 0;
	}
	return -1;
}

/* Same family, address and port. */
static bool
compile_same_sockaddr(const struct sockaddr_storage *a,
    const struct sockaddr_storage *b)
{
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)a;
	const struct sockaddr_in *b4 = (const struct sockaddr_in *)b;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)a;
	const struct sockaddr_in6 *b6 = (const struct sockaddr_in6 *)b;

	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	return a6->sin6_port == b6->sin6_port &&
	    memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof(a6->sin6_addr)) == 0;
}

/* A text column as an arena string; an embedded NUL makes it <*bad>. */
static const char *
compile_text(struct compile *k, struct store_stmt *s, int col, int lencol,
    bool *bad)
{
	const char *t = store_col_text(s, col);
	size_t len = strlen(t);

	if (bad != NULL)
		*bad =
		    lencol >= 0 && (int64_t)len != store_col_int64(s, lencol);
	return arena_strndup(k->c->arena, t, len);
}

static int
compile_listener_row(struct compile *k, struct store_stmt *s,
    struct cfg_listener *l)
{
	const char *proto;
	int64_t v;
	size_t i;

	l->id = store_col_int64(s, 0);
	if ((l->name = compile_text(k, s, 1, -1, NULL)) == NULL ||
	    (l->address = compile_text(k, s, 2, -1, NULL)) == NULL)
		return compile_oom(k);
	compile_obj(k, "listeners", l->name);
	if (compile_int(k, s, 3, 0, 0, 65535, ".port", &v) == -1)
		return -1;
	l->port = (uint16_t)v;
	if (compile_sockaddr(l->address, l->port, &l->sa, &l->salen) == -1)
		return compile_fail(k, ".address",
		    "\"%.*s\" is not a numeric IPv4 or IPv6 address", CFG_SHOWN,
		    l->address);
	proto = store_col_text(s, 4);
	for (i = 0; i < NELEM(compile_protos); i++)
		if (strcmp(proto, compile_protos[i].name) == 0)
			break;
	if (i == NELEM(compile_protos))
		return compile_fail(k, ".protocol",
		    "\"%.*s\" is not a protocol", CFG_SHOWN, proto);
	l->proto = compile_protos[i].proto;
	if (compile_ms(k, s, 5, CFG_DEF_HEADER_MS, false, ".timeouts.header_ms",
	        &l->header_ms) == -1 ||
	    compile_ms(k, s, 6, CFG_DEF_KEEPALIVE_MS, true,
	        ".timeouts.keepalive_ms", &l->keepalive_ms) == -1 ||
	    compile_int(k, s, 7, 0, 0, 1, ".trust_forwarded", &v) == -1)
		return -1;
	l->trust_forwarded = v != 0;
	return 0;
}

/* Two listeners may not share a non-zero port on the same address (UDP
 * and the stream protocols are separate port spaces).
 */
static int
compile_listener_dups(struct compile *k)
{
	const struct cfg_listener *a, *b;
	size_t i, j;

	for (i = 0; i < k->c->nlisteners; i++) {
		b = &k->c->listeners[i];
		if (b->port == 0)
			continue;
		for (j = 0; j < i; j++) {
			a = &k->c->listeners[j];
			if ((a->proto == CFG_PROTO_UDP) !=
			        (b->proto == CFG_PROTO_UDP) ||
			    !compile_same_sockaddr(&a->sa, &b->sa))
				continue;
			compile_obj(k, "listeners", b->name);
			return compile_fail(k, ".port",
			    "%s%s%s:%u is already used by listener \"%s\"",
			    b->sa.ss_family == AF_INET6 ? "[" : "", b->address,
			    b->sa.ss_family == AF_INET6 ? "]" : "", b->port,
			    a->name);
		}
	}
	return 0;
}

static int
compile_listeners(struct compile *k)
{
	struct store_stmt *s;
	enum store_step_result r;
	size_t n;

	if (compile_count(k, "SELECT count(*) FROM listeners", &n) == -1)
		return -1;
	if (n > 0 &&
	    (k->c->listeners = arena_calloc(k->c->arena, n,
	         sizeof(*k->c->listeners))) == NULL)
		return compile_oom(k);
	s = store_prepare(k->st,
	    "SELECT id, name, address, port, protocol, header_timeout_ms,"
	    " keepalive_timeout_ms, trust_forwarded FROM listeners ORDER BY id",
	    k->e);
	if (s == NULL)
		return -1;
	while ((r = store_step(s, k->e)) == STORE_ROW) {
		if (k->c->nlisteners == n) {
			r = STORE_ERROR;
			err_set(k->e, "", "listeners changed while compiling");
			break;
		}
		if (compile_listener_row(k, s,
		        &k->c->listeners[k->c->nlisteners]) == -1) {
			r = STORE_ERROR;
			break;
		}
		k->c->nlisteners++;
	}
	store_finalize(s);
	if (r != STORE_DONE)
		return -1;
	k->obj[0] = '\0';
	return compile_listener_dups(k);
}

static int
compile_server_row(struct compile *k, struct store_stmt *s,
    struct cfg_origin *o)
{
	struct cfg_server *sv = &o->servers[o->nservers];
	char field[48], label[INET6_ADDRSTRLEN + 16];
	int64_t v;

	sv->id = store_col_int64(s, 0);
	sv->origin = o;
	if ((sv->address = compile_text(k, s, 2, -1, NULL)) == NULL)
		return compile_oom(k);
	snprintf(field, sizeof(field), ".servers[%zu].port", o->nservers);
	if (compile_int(k, s, 3, 0, 1, 65535, field, &v) == -1)
		return -1;
	sv->port = (uint16_t)v;
	snprintf(field, sizeof(field), ".servers[%zu].weight", o->nservers);
	if (compile_int(k, s, 4, 1, 1, 1000, field, &v) == -1)
		return -1;
	sv->weight = (unsigned)v;
	snprintf(field, sizeof(field), ".servers[%zu].address", o->nservers);
	if (compile_sockaddr(sv->address, sv->port, &sv->sa, &sv->salen) == -1)
		return compile_fail(k, field,
		    "\"%.*s\" is not a numeric IPv4 or IPv6 address", CFG_SHOWN,
		    sv->address);
	snprintf(label, sizeof(label), "%s%s%s:%u",
	    sv->sa.ss_family == AF_INET6 ? "[" : "", sv->address,
	    sv->sa.ss_family == AF_INET6 ? "]" : "", sv->port);
	if ((sv->label = arena_strdup(k->c->arena, label)) == NULL)
		return compile_oom(k);
	o->total_weight += sv->weight;
	o->nservers++;
	return 0;
}

/* Servers in origin, position, id order; origins are already loaded. */
static int
compile_servers(struct compile *k, const size_t *cap)
{
	struct store_stmt *s;
	enum store_step_result r;
	struct cfg_origin *o;
	size_t i = 0;

	s = store_prepare(k->st,
	    "SELECT id, origin_id, address, port, weight FROM servers"
	    " ORDER BY origin_id, position, id",
	    k->e);
	if (s == NULL)
		return -1;
	while ((r = store_step(s, k->e)) == STORE_ROW) {
		while (i < k->c->norigins &&
		    k->c->origins[i].id < store_col_int64(s, 1))
			i++;
		if (i == k->c->norigins ||
		    k->c->origins[i].id != store_col_int64(s, 1) ||
		    k->c->origins[i].nservers == cap[i]) {
			r = STORE_ERROR;
			err_set(k->e, "", "servers changed while compiling");
			break;
		}
		o = &k->c->origins[i];
		compile_obj(k, "origins", o->name);
		if (compile_server_row(k, s, o) == -1) {
			r = STORE_ERROR;
			break;
		}
	}
	store_finalize(s);
	return r == STORE_DONE ? 0 : -1;
}

static int
compile_origins(struct compile *k)
{
	struct store_stmt *s;
	enum store_step_result r;
	struct cfg_origin *o;
	size_t n, nsv, *cap;

	if (compile_count(k, "SELECT count(*) FROM origins", &n) == -1)
		return -1;
	if (n > 0 &&
	    ((k->c->origins = arena_calloc(k->c->arena, n,
	          sizeof(*k->c->origins))) == NULL ||
	        (cap = arena_calloc(k->c->arena, n, sizeof(*cap))) == NULL))
		return compile_oom(k);
	if (n == 0)
		cap = NULL;
	s = store_prepare(k->st,
	    "SELECT o.id, o.name, (SELECT count(*) FROM servers v"
	    " WHERE v.origin_id = o.id) FROM origins o ORDER BY o.id",
	    k->e);
	if (s == NULL)
		return -1;
	while ((r = store_step(s, k->e)) == STORE_ROW) {
		if (k->c->norigins == n) {
			r = STORE_ERROR;
			err_set(k->e, "", "origins changed while compiling");
			break;
		}
		cap[k->c->norigins] = nsv = (size_t)store_col_int64(s, 2);
		o = &k->c->origins[k->c->norigins++];
		o->id = store_col_int64(s, 0);
		o->name = compile_text(k, s, 1, -1, NULL);
		o->servers = nsv > 0
		    ? arena_calloc(k->c->arena, nsv, sizeof(*o->servers))
		    : NULL;
		if (o->name == NULL || (nsv > 0 && o->servers == NULL)) {
			r = STORE_ERROR;
			compile_oom(k);
			break;
		}
	}
	store_finalize(s);
	if (r != STORE_DONE)
		return -1;
	return compile_servers(k, cap);
}

/* "app.example", "app.example." (the dot is dropped), "*.example", or an
 * IPv6 literal with or without brackets; stored lowercased.
 */
static int
compile_host(struct compile *k, const char *v, bool bad, size_t idx,
    struct cfg_host *h)
{
	char field[48], v6[INET6_ADDRSTRLEN];
	struct in6_addr a6;
	const char *p = v;
	size_t len = strlen(v), i;
	bool literal = false;
	char *name;

	h->kind = CFG_HOST_EXACT;
	if (len > 2 && p[0] == '*' && p[1] == '.') {
		h->kind = CFG_HOST_WILDCARD;
		p++; /* keep the dot: the suffix is ".example" */
		len--;
	} else if (len > 2 && p[0] == '[' && p[len - 1] == ']') {
		p++;
		len -= 2;
		literal = true;
	} else if (memchr(p, ':', len) != NULL) {
		literal = true;
	}
	if (bad)
		goto fail;
	if (literal) {
		if (len >= sizeof(v6))
			goto fail;
		memcpy(v6, p, len);
		v6[len] = '\0';
		if (inet_pton(AF_INET6, v6, &a6) != 1)
			goto fail;
	} else {
		if (len > 1 && p[len - 1] == '.')
			len--;
		if (h->kind == CFG_HOST_WILDCARD
		        ? !cv_is_dns_name(p + 1, len - 1)
		        : !cv_is_dns_name(p, len))
			goto fail;
	}
	if ((name = arena_strndup(k->c->arena, p, len)) == NULL)
		return compile_oom(k);
	for (i = 0; i < len; i++)
		if (name[i] >= 'A' && name[i] <= 'Z')
			name[i] = (char)(name[i] - 'A' + 'a');
	h->name = name;
	h->len = len;
	return 0;
fail:
	snprintf(field, sizeof(field), ".hosts[%zu]", idx);
	return compile_fail(k, field, "\"%.*s\" is not a host name", CFG_SHOWN,
	    v);
}

static int
compile_method(struct compile *k, const char *v, bool bad, size_t idx,
    unsigned *bits)
{
	char field[48];
	size_t i;

	for (i = 0; !bad && i < NELEM(compile_methods); i++) {
		if (strcmp(v, compile_methods[i].name) == 0) {
			*bits |= compile_methods[i].bit;
			return 0;
		}
	}
	snprintf(field, sizeof(field), ".methods[%zu]", idx);
	return compile_fail(k, field,
	    "\"%.*s\" is not a known method (GET, HEAD, POST, PUT, DELETE, "
	    "PATCH, OPTIONS, CONNECT, TRACE)",
	    CFG_SHOWN, v);
}

/* Walks the JSON array <json> (a route's hosts or methods) and hands each
 * element to compile_host() or compile_method(). Non-strings are errors.
 */
static int
compile_json_list(struct compile *k, const char *json, bool hosts,
    struct cfg_route *r, size_t max)
{
	const char *what = hosts ? "hosts" : "methods";
	struct store_stmt *s;
	enum store_step_result res = STORE_ERROR;
	const char *v;
	char field[48];
	size_t idx = 0;
	int rc = 0;
	bool bad;

	/* SQLite's JSON functions cut strings at \u0000: refuse those. */
	if (strstr(json, "\\u0000") != NULL)
		return compile_fail(k, hosts ? ".hosts" : ".methods",
		    "must not contain NUL characters");
	s = store_prepare(k->st,
	    "SELECT type, value, length(CAST(value AS BLOB)) FROM json_each(?1)"
	    " ORDER BY key",
	    k->e);
	if (s == NULL)
		return -1;
	store_bind_text(s, 1, json);
	while (rc == 0 && (res = store_step(s, k->e)) == STORE_ROW) {
		snprintf(field, sizeof(field), ".%s[%zu]", what, idx);
		if (idx == max) {
			rc = compile_fail(k, field, "changed while compiling");
		} else if (strcmp(store_col_text(s, 0), "text") != 0) {
			rc = compile_fail(k, field, "must be a string");
		} else {
			v = store_col_text(s, 1);
			bad = (int64_t)strlen(v) != store_col_int64(s, 2);
			if (hosts)
				rc = compile_host(k, v, bad, idx,
				    &r->hosts[r->nhosts++]);
			else
				rc =
				    compile_method(k, v, bad, idx, &r->methods);
		}
		idx++;
	}
	if (rc == 0 && res != STORE_DONE)
		rc = -1;
	store_finalize(s);
	return rc;
}

static int
compile_path_prefix(struct compile *k, struct cfg_route *r, bool bad)
{
	const char *p = r->path_prefix;
	size_t i;

	if (p[0] != '/')
		return compile_fail(k, ".path_prefix",
		    "\"%.*s\" does not start with \"/\"", CFG_SHOWN, p);
	for (i = 0; i < r->path_prefix_len; i++)
		if ((unsigned char)p[i] <= 0x20 || p[i] == 0x7f)
			bad = true;
	if (bad)
		return compile_fail(k, ".path_prefix",
		    "must not contain whitespace or control characters");
	return 0;
}

/* A TCP or UDP listener sees no host, path or method: a route there that
 * asks for one could never match, so say so instead of never matching.
 */
static int
compile_l4_match(struct compile *k, const struct cfg_route *r)
{
	const char *proto;

	if (r->listener->proto != CFG_PROTO_TCP &&
	    r->listener->proto != CFG_PROTO_UDP)
		return 0;
	proto = r->listener->proto == CFG_PROTO_TCP ? "tcp" : "udp";
	if (r->nhosts > 0)
		return compile_fail(k, ".hosts",
		    "must be empty: listener \"%s\" is %s", r->listener->name,
		    proto);
	if (r->path_prefix_len != 1)
		return compile_fail(k, ".path_prefix",
		    "must be \"/\": listener \"%s\" is %s", r->listener->name,
		    proto);
	if (r->methods != 0)
		return compile_fail(k, ".methods",
		    "must be empty: listener \"%s\" is %s", r->listener->name,
		    proto);
	return 0;
}

/* Columns: see the SELECT in compile_routes(). */
static int
compile_route_row(struct compile *k, struct store_stmt *s, struct cfg_route *r)
{
	const struct cfg_origin *o;
	int64_t v;
	size_t nh, nm;
	bool bad;

	r->id = store_col_int64(s, 0);
	if ((r->name = compile_text(k, s, 1, -1, NULL)) == NULL ||
	    (r->path_prefix = compile_text(k, s, 5, 6, &bad)) == NULL)
		return compile_oom(k);
	compile_obj(k, "routes", r->name);
	r->path_prefix_len = strlen(r->path_prefix);
	r->listener = cfg_listener_by_id(k->c, store_col_int64(s, 2));
	if (r->listener == NULL)
		return compile_fail(k, ".listener", "no listener with id %lld",
		    (long long)store_col_int64(s, 2));
	if ((o = cfg_origin_by_id(k->c, store_col_int64(s, 3))) == NULL)
		return compile_fail(k, ".origin", "no origin with id %lld",
		    (long long)store_col_int64(s, 3));
	r->origin = o;
	if (compile_int(k, s, 4, 0, INT_MIN, INT_MAX, ".priority", &v) == -1)
		return -1;
	r->priority = (int)v;
	nh = (size_t)store_col_int64(s, 14);
	nm = (size_t)store_col_int64(s, 15);
	if (nh > 0 &&
	    (r->hosts = arena_calloc(k->c->arena, nh, sizeof(*r->hosts))) ==
	        NULL)
		return compile_oom(k);
	if (compile_json_list(k, store_col_text(s, 12), true, r, nh) == -1 ||
	    compile_path_prefix(k, r, bad) == -1 ||
	    compile_json_list(k, store_col_text(s, 13), false, r, nm) == -1 ||
	    compile_l4_match(k, r) == -1)
		return -1;
	if (o->nservers == 0)
		return compile_fail(k, ".origin",
		    "origin \"%s\" has no servers", o->name);
	if (compile_int(k, s, 7, 0, 0, 1, ".forwarded", &v) == -1)
		return -1;
	r->forwarded = v != 0;
	if (compile_int(k, s, 8, 0, 0, INT64_MAX, ".max_body_bytes", &v) == -1)
		return -1;
	r->max_body_bytes = (uint64_t)v;
	if (compile_ms(k, s, 9, CFG_DEF_CONNECT_MS, false,
	        ".timeouts.connect_ms", &r->connect_ms) == -1 ||
	    compile_ms(k, s, 10, CFG_DEF_RESPONSE_MS, false,
	        ".timeouts.response_ms", &r->response_ms) == -1 ||
	    compile_ms(k, s, 11, CFG_DEF_IDLE_MS, false, ".timeouts.idle_ms",
	        &r->idle_ms) == -1)
		return -1;
	return 0;
}

static int
compile_routes(struct compile *k)
{
	struct store_stmt *s;
	enum store_step_result r;
	size_t n;

	if (compile_count(k, "SELECT count(*) FROM routes", &n) == -1)
		return -1;
	if (n > 0 &&
	    (k->c->routes = arena_calloc(k->c->arena, n,
	         sizeof(*k->c->routes))) == NULL)
		return compile_oom(k);
	s = store_prepare(k->st,
	    "SELECT id, name, listener_id, origin_id, priority, path_prefix,"
	    " length(CAST(path_prefix AS BLOB)), forwarded, max_body_bytes,"
	    " connect_timeout_ms, response_timeout_ms, idle_timeout_ms,"
	    " hosts, methods, json_array_length(hosts),"
	    " json_array_length(methods) FROM routes ORDER BY id",
	    k->e);
	if (s == NULL)
		return -1;
	while ((r = store_step(s, k->e)) == STORE_ROW) {
		if (k->c->nroutes == n) {
			r = STORE_ERROR;
			err_set(k->e, "", "routes changed while compiling");
			break;
		}
		if (compile_route_row(k, s, &k->c->routes[k->c->nroutes]) ==
		    -1) {
			r = STORE_ERROR;
			break;
		}
		k->c->nroutes++;
	}
	store_finalize(s);
	return r == STORE_DONE ? 0 : -1;
}

/* Gives every listener its routes, in match order. */
static int
compile_listener_routes(struct compile *k)
{
	struct cfg_listener *l;
	const struct cfg_route *r;
	size_t i, idx;

	for (i = 0; i < k->c->nroutes; i++) {
		idx = (size_t)(k->c->routes[i].listener - k->c->listeners);
		k->c->listeners[idx].nroutes++;
	}
	for (i = 0; i < k->c->nlisteners; i++) {
		l = &k->c->listeners[i];
		if (l->nroutes == 0)
			continue;
		l->routes =
		    arena_calloc(k->c->arena, l->nroutes, sizeof(*l->routes));
		if (l->routes == NULL)
			return compile_oom(k);
		l->nroutes = 0;
	}
	for (i = 0; i < k->c->nroutes; i++) {
		r = &k->c->routes[i];
		idx = (size_t)(r->listener - k->c->listeners);
		l = &k->c->listeners[idx];
		l->routes[l->nroutes++] = r;
	}
	for (i = 0; i < k->c->nlisteners; i++)
		route_sort(k->c->listeners[i].routes,
		    k->c->listeners[i].nroutes);
	return 0;
}

/* ---- Layer 4: listener limits and PROXY trust, route SNI and sources,
 * origin PROXY headers (schema/0004_l4.sql). Read in a pass of their own
 * after the rest is compiled, so the checks can see every object.
 */

/* Calls <fn> for each string of the JSON array <json> (column <field>). */
static int
compile_l4_list(struct compile *k, const char *json, const char *field,
    int (*fn)(struct compile *, const char *, const char *, void *), void *arg)
{
	struct store_stmt *s;
	enum store_step_result res = STORE_ERROR;
	char path[48];
	size_t idx = 0;
	int rc = 0;

	if (strstr(json, "\\u0000") != NULL)
		return compile_fail(k, field,
		    "must not contain NUL characters");
	s = store_prepare(k->st,
	    "SELECT type, value FROM json_each(?1) ORDER BY key", k->e);
	if (s == NULL)
		return -1;
	store_bind_text(s, 1, json);
	while (rc == 0 && (res = store_step(s, k->e)) == STORE_ROW) {
		snprintf(path, sizeof(path), "%s[%zu]", field, idx++);
		if (strcmp(store_col_text(s, 0), "text") != 0)
			rc = compile_fail(k, path, "must be a string");
		else
			rc = fn(k, path, store_col_text(s, 1), arg);
	}
	if (rc == 0 && res != STORE_DONE)
		rc = -1;
	store_finalize(s);
	return rc;
}

struct l4_cidrs {
	struct cfg_cidr *v;
	size_t n, cap;
};

static int
compile_l4_cidr(struct compile *k, const char *path, const char *v, void *arg)
{
	struct l4_cidrs *cs = arg;

	if (cs->n == cs->cap)
		return compile_fail(k, path, "changed while compiling");
	if (cfg_cidr_parse(v, &cs->v[cs->n]) == -1)
		return compile_fail(k, path,
		    "\"%.*s\" is not an address or CIDR block", CFG_SHOWN, v);
	cs->n++;
	return 0;
}

static int
compile_l4_cidrs(struct compile *k, const char *json, size_t n,
    const char *field, struct cfg_cidr **out, size_t *nout)
{
	struct l4_cidrs cs = { .cap = n };

	*out = NULL;
	*nout = 0;
	if (n == 0)
		return 0;
	if ((cs.v = arena_calloc(k->c->arena, n, sizeof(*cs.v))) == NULL)
		return compile_oom(k);
	if (compile_l4_list(k, json, field, compile_l4_cidr, &cs) == -1)
		return -1;
	*out = cs.v;
	*nout = cs.n;
	return 0;
}

/* A server name: "db.example" or "*.example", stored lowercased (for a
 * wildcard, the suffix ".example").
 */
static int
compile_l4_sni(struct compile *k, const char *path, const char *v, void *arg)
{
	struct cfg_route *r = arg;
	struct cfg_host *h = &r->snis[r->nsnis];
	size_t len = strlen(v), i;
	const char *p = v;
	char *name;

	h->kind = CFG_HOST_EXACT;
	if (len > 2 && p[0] == '*' && p[1] == '.') {
		h->kind = CFG_HOST_WILDCARD;
		p++;
		len--;
	}
	if (h->kind == CFG_HOST_WILDCARD ? !cv_is_dns_name(p + 1, len - 1)
	                                 : !cv_is_dns_name(p, len))
		return compile_fail(k, path, "\"%.*s\" is not a server name",
		    CFG_SHOWN, v);
	for (i = 0; i < r->nsnis; i++)
		if (r->snis[i].kind == h->kind && r->snis[i].len == len &&
		    strncasecmp(r->snis[i].name, p, len) == 0)
			return compile_fail(k, path, "\"%.*s\" is listed twice",
			    CFG_SHOWN, v);
	if ((name = arena_strndup(k->c->arena, p, len)) == NULL)
		return compile_oom(k);
	for (i = 0; i < len; i++)
		if (name[i] >= 'A' && name[i] <= 'Z')
			name[i] = (char)(name[i] - 'A' + 'a');
	h->name = name;
	h->len = len;
	r->nsnis++;
	return 0;
}

static const char *
compile_proto_name(enum cfg_proto p)
{
	size_t i;

	for (i = 0; i < NELEM(compile_protos); i++)
		if (compile_protos[i].proto == p)
			return compile_protos[i].name;
	return "?";
}

static bool
compile_is_l4(enum cfg_proto p)
{
	return p == CFG_PROTO_TCP || p == CFG_PROTO_UDP ||
	    p == CFG_PROTO_TLS_PASSTHROUGH;
}

static int
compile_l4_listeners(struct compile *k)
{
	struct store_stmt *s;
	enum store_step_result r;
	struct cfg_listener *l;
	int64_t v;
	size_t i;
	int rc = 0;

	s = store_prepare(k->st,
	    "SELECT id, max_connections, proxy_protocol_from,"
	    " json_array_length(proxy_protocol_from) FROM listeners",
	    k->e);
	if (s == NULL)
		return -1;
	while (rc == 0 && (r = store_step(s, k->e)) == STORE_ROW) {
		for (i = 0, l = NULL; i < k->c->nlisteners; i++)
			if (k->c->listeners[i].id == store_col_int64(s, 0))
				l = &k->c->listeners[i];
		if (l == NULL) {
			rc = err_set(k->e, "",
			    "listeners changed while compiling");
			break;
		}
		compile_obj(k, "listeners", l->name);
		if ((rc = compile_int(k, s, 1, 0, 1, 1000000,
		         ".max_connections", &v)) == -1)
			break;
		l->max_connections = (unsigned)v;
		if (v != 0 && !compile_is_l4(l->proto))
			rc = compile_fail(k, ".max_connections",
			    "applies to tcp, udp and tls-passthrough listeners, "
			    "not %s",
			    compile_proto_name(l->proto));
		else
			rc = compile_l4_cidrs(k, store_col_text(s, 2),
			    (size_t)store_col_int64(s, 3),
			    ".proxy_protocol_from", &l->proxy_from,
			    &l->nproxy_from);
		/* udp: no connection to start with a header; https: the
		 * header would have to be read before TLS starts.
		 */
		if (rc == 0 && l->nproxy_from > 0 &&
		    (l->proto == CFG_PROTO_UDP || l->proto == CFG_PROTO_HTTPS))
			rc = compile_fail(k, ".proxy_protocol_from",
			    "must be empty: listener \"%s\" is %s (PROXY headers "
			    "are read on http, tcp and tls-passthrough listeners)",
			    l->name, compile_proto_name(l->proto));
	}
	if (rc == 0 && r != STORE_DONE)
		rc = -1;
	store_finalize(s);
	return rc;
}

static int
compile_l4_origins(struct compile *k)
{
	struct store_stmt *s;
	enum store_step_result r;
	struct cfg_origin *o;
	int64_t v;
	size_t i;
	int rc = 0;

	s = store_prepare(k->st, "SELECT id, proxy_protocol FROM origins",
	    k->e);
	if (s == NULL)
		return -1;
	while (rc == 0 && (r = store_step(s, k->e)) == STORE_ROW) {
		for (i = 0, o = NULL; i < k->c->norigins; i++)
			if (k->c->origins[i].id == store_col_int64(s, 0))
				o = &k->c->origins[i];
		if (o == NULL) {
			rc = err_set(k->e, "",
			    "origins changed while compiling");
			break;
		}
		compile_obj(k, "origins", o->name);
		if ((rc = compile_int(k, s, 1, 0, 0, 2, ".proxy_protocol",
		         &v)) == 0)
			o->proxy_protocol = (unsigned)v;
	}
	if (rc == 0 && r != STORE_DONE)
		rc = -1;
	store_finalize(s);
	return rc;
}

/* What an L4 route may ask for, by listener protocol. */
static int
compile_l4_route_check(struct compile *k, const struct cfg_route *r)
{
	enum cfg_proto p = r->listener->proto;
	const char *pn = compile_proto_name(p);

	/* On an https listener, a route with server names passes those
	 * names' TLS through instead of terminating it (one port for both).
	 */
	bool pt = p == CFG_PROTO_TLS_PASSTHROUGH ||
	    (p == CFG_PROTO_HTTPS && r->nsnis > 0);

	if (r->nsnis > 0 && !pt)
		return compile_fail(k, ".sni",
		    "must be empty: listener \"%s\" is %s (server names are "
		    "matched on tls-passthrough and https listeners)",
		    r->listener->name, pn);
	if (r->nsources > 0 && !compile_is_l4(p) && !pt)
		return compile_fail(k, ".sources",
		    "must be empty: listener \"%s\" is %s (sources are matched "
		    "on tcp, udp and tls-passthrough listeners)",
		    r->listener->name, pn);
	if (p == CFG_PROTO_HTTPS && pt &&
	    (r->nhosts > 0 || r->path_prefix_len != 1 || r->methods != 0))
		return compile_fail(k,
		    r->nhosts > 0         ? ".hosts"
		        : r->methods != 0 ? ".methods"
		                          : ".path_prefix",
		    "must be left out: the route passes TLS for its sni names "
		    "through (listener \"%s\" is https)",
		    r->listener->name);
	if ((compile_is_l4(p) || pt) && r->origin->tls_enabled)
		return compile_fail(k, ".origin",
		    "origin \"%s\" speaks TLS to its servers, which only HTTP "
		    "routes do (listener \"%s\" is %s%s)",
		    r->origin->name, r->listener->name, pn,
		    pt ? ": passthrough forwards the client's own TLS" : "");
	/* On tls-passthrough, hosts are server names too (l4_route_match()). */
	if (p == CFG_PROTO_TLS_PASSTHROUGH &&
	    (r->path_prefix_len != 1 || r->methods != 0))
		return compile_fail(k,
		    r->methods != 0 ? ".methods" : ".path_prefix",
		    "must be left out: listener \"%s\" is tls-passthrough "
		    "(match on sni)",
		    r->listener->name);
	if (r->origin->proxy_protocol != 0 && p != CFG_PROTO_TCP && !pt)
		return compile_fail(k, ".origin",
		    "origin \"%s\" sends a PROXY protocol header, which only "
		    "tcp and tls-passthrough routes send (listener \"%s\" is "
		    "%s)",
		    r->origin->name, r->listener->name, pn);
	return 0;
}

static int
compile_l4_routes(struct compile *k)
{
	struct store_stmt *s;
	enum store_step_result res;
	struct cfg_route *r = NULL;
	size_t i, nsni;
	int rc = 0;

	s = store_prepare(k->st,
	    "SELECT id, sni, json_array_length(sni), sources,"
	    " json_array_length(sources) FROM routes",
	    k->e);
	if (s == NULL)
		return -1;
	while (rc == 0 && (res = store_step(s, k->e)) == STORE_ROW) {
		for (i = 0, r = NULL; i < k->c->nroutes; i++)
			if (k->c->routes[i].id == store_col_int64(s, 0))
				r = &k->c->routes[i];
		if (r == NULL) {
			rc =
			    err_set(k->e, "", "routes changed while compiling");
			break;
		}
		compile_obj(k, "routes", r->name);
		nsni = (size_t)store_col_int64(s, 2);
		if (nsni > 0 &&
		    (r->snis = arena_calloc(k->c->arena, nsni,
		         sizeof(*r->snis))) == NULL) {
			rc = compile_oom(k);
			break;
		}
		if (nsni > 0)
			rc = compile_l4_list(k, store_col_text(s, 1), ".sni",
			    compile_l4_sni, r);
		if (rc == 0)
			rc = compile_l4_cidrs(k, store_col_text(s, 3),
			    (size_t)store_col_int64(s, 4), ".sources",
			    &r->sources, &r->nsources);
		if (rc == 0)
			rc = compile_l4_route_check(k, r);
	}
	if (rc == 0 && res != STORE_DONE)
		rc = -1;
	store_finalize(s);
	return rc;
}

/* An https listener's routes with server names leave its HTTP match
 * list for sni_routes (l4_route_match(), l4_accept_shared()).
 */
static int
compile_l4_split(struct compile *k)
{
	struct cfg_listener *l;
	size_t i, j, n;

	for (i = 0; i < k->c->nlisteners; i++) {
		l = &k->c->listeners[i];
		if (l->proto != CFG_PROTO_HTTPS)
			continue;
		for (j = 0, n = 0; j < l->nroutes; j++)
			n += l->routes[j]->nsnis > 0;
		if (n == 0)
			continue;
		l->sni_routes =
		    arena_calloc(k->c->arena, n, sizeof(*l->sni_routes));
		if (l->sni_routes == NULL)
			return compile_oom(k);
		for (j = 0, n = 0; j < l->nroutes; j++) {
			if (l->routes[j]->nsnis > 0)
				l->sni_routes[l->nsni_routes++] = l->routes[j];
			else
				l->routes[n++] = l->routes[j];
		}
		l->nroutes = n;
	}
	return 0;
}

static int
compile_l4(struct compile *k)
{
	int rc;

	rc = compile_l4_listeners(k);
	if (rc == 0)
		rc = compile_l4_origins(k);
	if (rc == 0)
		rc = compile_l4_routes(k);
	if (rc == 0)
		rc = compile_l4_split(k);
	k->obj[0] = '\0';
	return rc;
}

/* Compiles the store's configuration: see cfg.h. The reads run inside a
 * savepoint (a read transaction of its own when the caller holds none),
 * released before returning; nothing is written.
 */
struct cfg *
cfg_compile(struct store *st, struct err *e)
{
	struct compile k = { .st = st, .e = e };
	struct err tmp;
	int rc;

	if (k.e == NULL)
		k.e = &tmp;
	err_clear(k.e);
	if ((k.c = cfg_new()) == NULL) {
		err_set(k.e, "",
		    "out of memory while compiling the configuration");
		return NULL;
	}
	if (store_exec(st, "SAVEPOINT cfg_compile", k.e) == -1) {
		cfg_unref(k.c);
		return NULL;
	}
	rc = compile_listeners(&k);
	if (rc == 0)
		rc = compile_origins(&k);
	if (rc == 0)
		rc = compile_routes(&k);
	if (rc == 0)
		rc = compile_listener_routes(&k);
	if (rc == 0)
		rc = cfg_compile_tls(st, k.c, k.e); /* cfg_tls.c */
	if (rc == 0)
		rc = compile_l4(&k); /* after TLS: it checks origins' tls */
	if (rc == 0)
		rc = cfg_compile_health(st, k.c, k.e); /* cfg_health.c */
	if (rc == 0)
		k.c->revision = (uint64_t)store_revision(st);
	if (store_exec(st, "RELEASE cfg_compile", rc == 0 ? k.e : NULL) == -1)
		rc = -1;
	if (rc == -1) {
		cfg_unref(k.c);
		return NULL;
	}
	return k.c;
}
