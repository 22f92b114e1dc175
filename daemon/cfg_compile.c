/*
 * cfg_compile.c: store rows -> one validated, immutable struct cfg.
 *
 * Reads the certificates, listeners, origins with their servers, and routes
 * inside a savepoint, so the reads are consistent whether or not the
 * caller holds a transaction: one statement per table, columns by field
 * (cf_select_sql(), cfg_field.h), and one per JSON list column (hosts,
 * methods, sni, sources, proxy_protocol_from, unpacked with SQLite's
 * json_each() for every row at once); references are found by binary
 * search on ids, so the time grows linearly with the configuration. It
 * checks what the schema cannot (numeric addresses, duplicate listen
 * addresses, host names, methods, path prefixes, ranges and defaults from
 * the field tables, what each protocol allows), and sorts each listener's
 * routes into match order (route_sort()). Every error names the object by
 * its user-chosen name, e.g. "routes[app].hosts[1]": those strings are API
 * output.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "access.h"
#include "arena.h"
#include "balance.h"
#include "cfg.h"
#include "cfg_field.h"
#include "cfg_value.h"
#include "check.h"
#include "client_addr.h"
#include "ratelimit.h"
#include "route.h"
#include "store.h"

#define CFG_SHOWN 100 /* longest user value quoted in a message */

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
	/* "%s[%s]", cut to fit, without snprintf(): this runs once per
	 * item, and snprintf() was a tenth of a 10,000-route compile.
	 */
	size_t n = 0, room = sizeof(k->obj) - 1;

	for (; *coll != '\0' && n < room; coll++)
		k->obj[n++] = *coll;
	if (n < room)
		k->obj[n++] = '[';
	for (; *name != '\0' && n < room; name++)
		k->obj[n++] = *name;
	if (n < room)
		k->obj[n++] = ']';
	k->obj[n] = '\0';
}

static int
compile_count(struct compile *k, const char *table, size_t *n)
{
	struct store_stmt *s;
	char sql[96];
	int rc = -1;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	if ((s = store_prepare(k->st, sql, k->e)) == NULL)
		return -1;
	if (store_step(s, k->e) == STORE_ROW) {
		*n = (size_t)store_col_int64(s, 0);
		rc = 0;
	}
	store_finalize(s);
	return rc;
}

/* The rows of <kind>, columns by field (cfg_field.h) then <extra>, in id
 * order.
 */
static struct store_stmt *
compile_select(struct compile *k, enum cf_kind_id kind, const char *extra,
    const char *order)
{
	char sql[2048];
	size_t n;

	if (cf_select_sql(&cf_kinds[kind], false, extra, sql, sizeof(sql)) !=
	    0) {
		err_set(k->e, "", "internal: select too long");
		return NULL;
	}
	n = strlen(sql);
	snprintf(sql + n, sizeof(sql) - n, " ORDER BY %s",
	    order != NULL ? order : "t.id");
	return store_prepare(k->st, sql, k->e);
}

/* Field <i> of <kind> (an integer column): its default when NULL, else
 * within the field's range; "<k->obj>.<path>: N is out of range".
 */
static int
compile_field(struct compile *k, struct store_stmt *s, enum cf_kind_id kind,
    int i, int64_t *out)
{
	const struct cf_field *f = &cf_kinds[kind].f[i];
	char path[96];
	int64_t v;

	*out = f->def;
	if (store_col_is_null(s, i))
		return 0;
	v = store_col_int64(s, i);
	if (v < f->min || v > f->max) {
		path[0] = '.';
		cf_path(&cf_kinds[kind], i, path + 1, sizeof(path) - 1);
		return compile_fail(k, path,
		    "%lld is out of range (%lld..%lld)", (long long)v,
		    (long long)f->min, (long long)f->max);
	}
	*out = v;
	return 0;
}

static unsigned
compile_ufield(struct compile *k, struct store_stmt *s, enum cf_kind_id kind,
    int i, int *rc)
{
	int64_t v = 0;

	if (*rc == 0 && compile_field(k, s, kind, i, &v) != 0)
		*rc = -1;
	return (unsigned)v;
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

/* ---- JSON array columns: one statement per column for every row ---- */

/* The compiled objects of one kind, in id order. */
struct compile_rows {
	char *base;
	size_t n, size;     /* count, sizeof one object */
	size_t id, name;    /* offsetof its int64_t id, const char *name */
	const size_t *room; /* per row, <stride> apart: elements allotted */
	size_t stride;
};

/* (k, row, room, path, value, bad, index): one element of a row's list;
 * <room> is how many the row's array holds.
 */
typedef int (*compile_elem_fn)(struct compile *, void *, size_t, const char *,
    const char *, bool, size_t);

static int64_t
rows_id(const struct compile_rows *rw, size_t i)
{
	int64_t id;

	memcpy(&id, rw->base + i * rw->size + rw->id, sizeof(id));
	return id;
}

/* ".<key>[<idx>]" into <buf>, cut to fit (once per element: no
 * snprintf()).
 */
static void
compile_elem_path(char *buf, size_t len, const char *key, size_t idx)
{
	char digits[24];
	size_t n = 0, d = 0;

	do {
		digits[d++] = (char)('0' + idx % 10);
		idx /= 10;
	} while (idx > 0);
	if (len < 2) {
		if (len == 1)
			buf[0] = '\0';
		return;
	}
	buf[n++] = '.';
	for (; *key != '\0' && n < len - 1; key++)
		buf[n++] = *key;
	if (n < len - 1)
		buf[n++] = '[';
	while (d > 0 && n < len - 1)
		buf[n++] = digits[--d];
	if (n < len - 1)
		buf[n++] = ']';
	buf[n] = '\0';
}

/* Calls <fn>(k, row, path, value, bad, index) for each element of the
 * JSON array column <col> of every row of <kind>: one statement for all
 * rows, merged with <rw> by id. Non-strings are errors, and so is a NUL
 * anywhere in the array (SQLite's JSON functions cut strings there).
 */
static int
compile_lists(struct compile *k, enum cf_kind_id kind, int col,
    const struct compile_rows *rw, compile_elem_fn fn, int64_t only)
{
	const struct cf_kind *ck = &cf_kinds[kind];
	const char *f = ck->f[col].key, *v;
	enum store_step_result res = STORE_ERROR;
	struct store_stmt *s;
	char sql[320], path[64], where[48] = "";
	const char *name;
	size_t i = 0, idx, named = SIZE_MAX;
	int64_t id;
	char *row;
	int rc = 0;

	/* Empty lists (most rows) are skipped before json_each() parses
	 * them; rows come in id order, and json_each() walks each array in
	 * order, so no sort is needed.
	 */
	if (only > 0) /* one row (cfg_compile_route_row()) */
		snprintf(where, sizeof(where), " AND t.id = %lld",
		    (long long)only);
	snprintf(sql, sizeof(sql),
	    "SELECT t.id, j.key, j.type, j.value,"
	    " length(CAST(j.value AS BLOB)), instr(t.%s, '\\u0000')"
	    " FROM %s t, json_each(t.%s) j WHERE t.%s <> '[]'%s ORDER BY t.id",
	    ck->f[col].column, ck->table, ck->f[col].column, ck->f[col].column,
	    where);
	if ((s = store_prepare(k->st, sql, k->e)) == NULL)
		return -1;
	while (rc == 0 && (res = store_step(s, k->e)) == STORE_ROW) {
		id = store_col_int64(s, 0);
		while (i < rw->n && rows_id(rw, i) < id)
			i++;
		if (i == rw->n || rows_id(rw, i) != id) {
			rc = err_set(k->e, "", "%s changed while compiling",
			    ck->table);
			break;
		}
		row = rw->base + i * rw->size;
		if (i != named) { /* the error prefix, once per row */
			memcpy(&name, row + rw->name, sizeof(name));
			compile_obj(k, ck->coll, name);
			named = i;
		}
		idx = (size_t)store_col_int64(s, 1);
		compile_elem_path(path, sizeof(path), f, idx);
		if (store_col_int64(s, 5) > 0) {
			snprintf(path, sizeof(path), ".%s", f);
			rc = compile_fail(k, path,
			    "must not contain NUL characters");
		} else if (strcmp(store_col_text(s, 2), "text") != 0) {
			rc = compile_fail(k, path, "must be a string");
		} else {
			v = store_col_text(s, 3);
			rc = fn(k, row, rw->room[i * rw->stride], path, v,
			    (int64_t)strlen(v) != store_col_int64(s, 4), idx);
		}
	}
	if (rc == 0 && res != STORE_DONE)
		rc = -1;
	store_finalize(s);
	return rc;
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

/* ---- listeners ---- */

/* Columns after the listener's fields (compile_listeners()). */
enum {
	LX_NPROXY = LF__N
};

static int
compile_proto(struct compile *k, const char *proto, enum cfg_proto *out)
{
	size_t i;

	for (i = 0; i < NELEM(compile_protos); i++) {
		if (strcmp(proto, compile_protos[i].name) == 0) {
			*out = compile_protos[i].proto;
			return 0;
		}
	}
	return compile_fail(k, ".protocol", "\"%.*s\" is not a protocol",
	    CFG_SHOWN, proto);
}

/* The path_normalization column of kind <ck> (field <fi>) into <out>;
 * NULL leaves <out> as it is.
 */
static int
compile_pathnorm(struct compile *k, struct store_stmt *s, enum cf_kind_id ck,
    int fi, enum cfg_pathnorm *out)
{
	const char *v;
	int i;

	if (store_col_is_null(s, fi))
		return 0;
	v = store_col_text(s, fi);
	if ((i = cf_enum_index(&cf_kinds[ck].f[fi], v)) < 0)
		return compile_fail(k, ".path_normalization",
		    "\"%.*s\" is not a path normalization", CFG_SHOWN, v);
	*out = (enum cfg_pathnorm)i;
	return 0;
}

static int
compile_listener_row(struct compile *k, struct store_stmt *s,
    struct cfg_listener *l, size_t *room)
{
	int64_t v;
	int rc = 0;

	l->id = store_col_int64(s, LF_ID);
	if ((l->name = compile_text(k, s, LF_NAME, -1, NULL)) == NULL ||
	    (l->address = compile_text(k, s, LF_ADDRESS, -1, NULL)) == NULL)
		return compile_oom(k);
	compile_obj(k, "listeners", l->name);
	if (compile_field(k, s, CK_LISTENER, LF_PORT, &v) == -1)
		return -1;
	l->port = (uint16_t)v;
	if (compile_sockaddr(l->address, l->port, &l->sa, &l->salen) == -1)
		return compile_fail(k, ".address",
		    "\"%.*s\" is not a numeric IPv4 or IPv6 address", CFG_SHOWN,
		    l->address);
	if (compile_proto(k, store_col_text(s, LF_PROTOCOL), &l->proto) == -1)
		return -1;
	l->header_ms = compile_ufield(k, s, CK_LISTENER, LF_HEADER_MS, &rc);
	l->keepalive_ms =
	    compile_ufield(k, s, CK_LISTENER, LF_KEEPALIVE_MS, &rc);
	l->trust_forwarded =
	    compile_ufield(k, s, CK_LISTENER, LF_TRUST_FORWARDED, &rc) != 0;
	l->max_connections =
	    compile_ufield(k, s, CK_LISTENER, LF_MAX_CONNECTIONS, &rc);
	if (rc == 0 &&
	    compile_pathnorm(k, s, CK_LISTENER, LF_PATH_NORMALIZATION,
	        &l->pathnorm) != 0)
		rc = -1;
	if (rc != 0)
		return -1;
	*room = (size_t)store_col_int64(s, LX_NPROXY);
	if (*room > 0 &&
	    (l->proxy_from = arena_calloc(k->c->arena, *room,
	         sizeof(*l->proxy_from))) == NULL)
		return compile_oom(k);
	return cfg_tls_listener(k->c, l, s, k->e); /* cfg_tls.c */
}

static int
compile_listener_cidr(struct compile *k, void *row, size_t room,
    const char *path, const char *v, bool bad, size_t idx)
{
	struct cfg_listener *l = row;

	(void)idx;
	if (l->nproxy_from == room)
		return compile_fail(k, path, "changed while compiling");
	if (bad || cfg_cidr_parse(v, &l->proxy_from[l->nproxy_from]) == -1)
		return compile_fail(k, path,
		    "\"%.*s\" is not an address or CIDR block", CFG_SHOWN, v);
	l->nproxy_from++;
	return 0;
}

/* After the lists: what a listener's protocol allows. */
static int
compile_listener_check(struct compile *k, struct cfg_listener *l)
{
	compile_obj(k, "listeners", l->name);
	/* udp: no connection to start with a header; https: the header
	 * would have to be read before TLS starts.
	 */
	if (l->nproxy_from > 0 &&
	    (l->proto == CFG_PROTO_UDP || l->proto == CFG_PROTO_HTTPS))
		return compile_fail(k, ".proxy_protocol_from",
		    "must be empty: listener \"%s\" is %s (PROXY headers are "
		    "read on http, tcp and tls-passthrough listeners)",
		    l->name, compile_proto_name(l->proto));
	return 0;
}

static int
compile_listeners(struct compile *k)
{
	struct store_stmt *s;
	enum store_step_result r;
	struct compile_rows rw;
	size_t n, i, *room = NULL;

	if (compile_count(k, "listeners", &n) == -1)
		return -1;
	if (n > 0 &&
	    ((k->c->listeners = arena_calloc(k->c->arena, n,
	          sizeof(*k->c->listeners))) == NULL ||
	        (room = arena_calloc(k->c->arena, n, sizeof(*room))) == NULL))
		return compile_oom(k);
	s = compile_select(k, CK_LISTENER,
	    "json_array_length(t.proxy_protocol_from)", NULL);
	if (s == NULL)
		return -1;
	while ((r = store_step(s, k->e)) == STORE_ROW) {
		if (k->c->nlisteners == n) {
			r = STORE_ERROR;
			err_set(k->e, "", "listeners changed while compiling");
			break;
		}
		if (compile_listener_row(k, s,
		        &k->c->listeners[k->c->nlisteners],
		        &room[k->c->nlisteners]) == -1) {
			r = STORE_ERROR;
			break;
		}
		k->c->nlisteners++;
	}
	store_finalize(s);
	if (r != STORE_DONE)
		return -1;
	rw = (struct compile_rows){ (char *)k->c->listeners, k->c->nlisteners,
		sizeof(struct cfg_listener), offsetof(struct cfg_listener, id),
		offsetof(struct cfg_listener, name), room, 1 };
	if (compile_lists(k, CK_LISTENER, LF_PROXY_PROTOCOL_FROM, &rw,
	        compile_listener_cidr, 0) != 0)
		return -1;
	for (i = 0; i < k->c->nlisteners; i++)
		if (compile_listener_check(k, &k->c->listeners[i]) != 0)
			return -1;
	k->obj[0] = '\0';
	return compile_listener_dups(k);
}

/* ---- origins and servers ---- */

static int
compile_server_row(struct compile *k, struct store_stmt *s,
    struct cfg_origin *o)
{
	struct cfg_server *sv = &o->servers[o->nservers];
	char label[INET6_ADDRSTRLEN + 16];
	int64_t v;

	sv->id = store_col_int64(s, SF_ID);
	sv->origin = o;
	if ((sv->address = compile_text(k, s, SF_ADDRESS, -1, NULL)) == NULL)
		return compile_oom(k);
	snprintf(k->obj + strlen(k->obj), sizeof(k->obj) - strlen(k->obj),
	    ".servers[%zu]", o->nservers);
	if (compile_field(k, s, CK_SERVER, SF_PORT, &v) == -1)
		return -1;
	sv->port = (uint16_t)v;
	if (compile_field(k, s, CK_SERVER, SF_WEIGHT, &v) == -1)
		return -1;
	sv->weight = (unsigned)v;
	if (compile_sockaddr(sv->address, sv->port, &sv->sa, &sv->salen) == -1)
		return compile_fail(k, ".address",
		    "\"%.*s\" is not a numeric IPv4 or IPv6 address", CFG_SHOWN,
		    sv->address);
	snprintf(label, sizeof(label), "%s%s%s:%u",
	    sv->sa.ss_family == AF_INET6 ? "[" : "", sv->address,
	    sv->sa.ss_family == AF_INET6 ? "]" : "", sv->port);
	if ((sv->label = arena_strdup(k->c->arena, label)) == NULL)
		return compile_oom(k);
	sv->hash = balance_hash(label, strlen(label), 0);
	if (cfg_balance_server(sv, s, k->obj, k->e) != 0)
		return -1;
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

	s = compile_select(k, CK_SERVER, "t.origin_id",
	    "t.origin_id, t.position, t.id");
	if (s == NULL)
		return -1;
	while ((r = store_step(s, k->e)) == STORE_ROW) {
		while (i < k->c->norigins &&
		    k->c->origins[i].id < store_col_int64(s, SF__N))
			i++;
		if (i == k->c->norigins ||
		    k->c->origins[i].id != store_col_int64(s, SF__N) ||
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
compile_origin_row(struct compile *k, struct store_stmt *s,
    struct cfg_origin *o, size_t nsv)
{
	int rc = 0;

	o->id = store_col_int64(s, OF_ID);
	o->name = compile_text(k, s, OF_NAME, -1, NULL);
	o->servers = nsv > 0
	    ? arena_calloc(k->c->arena, nsv, sizeof(*o->servers))
	    : NULL;
	if (o->name == NULL || (nsv > 0 && o->servers == NULL))
		return compile_oom(k);
	compile_obj(k, "origins", o->name);
	o->proxy_protocol =
	    compile_ufield(k, s, CK_ORIGIN, OF_PROXY_PROTOCOL, &rc);
	if (rc != 0 || cfg_tls_origin(k->c, o, s, k->e) != 0 ||
	    cfg_health_origin(k->c, o, s, k->e) != 0 ||
	    cfg_balance_origin(k->c, o, s, k->e) != 0)
		return -1;
	return 0;
}

static int
compile_origins(struct compile *k)
{
	struct store_stmt *s;
	enum store_step_result r;
	size_t n, *cap = NULL;

	if (compile_count(k, "origins", &n) == -1)
		return -1;
	if (n > 0 &&
	    ((k->c->origins = arena_calloc(k->c->arena, n,
	          sizeof(*k->c->origins))) == NULL ||
	        (cap = arena_calloc(k->c->arena, n, sizeof(*cap))) == NULL))
		return compile_oom(k);
	s = compile_select(k, CK_ORIGIN,
	    "(SELECT count(*) FROM servers v WHERE v.origin_id = t.id)", NULL);
	if (s == NULL)
		return -1;
	while ((r = store_step(s, k->e)) == STORE_ROW) {
		if (k->c->norigins == n) {
			r = STORE_ERROR;
			err_set(k->e, "", "origins changed while compiling");
			break;
		}
		cap[k->c->norigins] = (size_t)store_col_int64(s, OF__N);
		if (compile_origin_row(k, s, &k->c->origins[k->c->norigins],
		        cap[k->c->norigins]) != 0) {
			r = STORE_ERROR;
			break;
		}
		k->c->norigins++;
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

/* A TCP or UDP listener sees no host, path or method: a route there that
 * asks for one could never match, so say so instead of never matching.
 */
static int
compile_l4_match(struct compile *k, const struct cfg_route *r,
    const struct cfg_listener *l)
{
	const char *proto;

	if (l->proto != CFG_PROTO_TCP && l->proto != CFG_PROTO_UDP)
		return 0;
	proto = l->proto == CFG_PROTO_TCP ? "tcp" : "udp";
	if (r->nhosts > 0)
		return compile_fail(k, ".hosts",
		    "must be empty: listener \"%s\" is %s", l->name, proto);
	if (r->path_prefix_len != 1)
		return compile_fail(k, ".path_prefix",
		    "must be \"/\": listener \"%s\" is %s", l->name, proto);
	if (r->methods != 0)
		return compile_fail(k, ".methods",
		    "must be empty: listener \"%s\" is %s", l->name, proto);
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

/* What an L4 route may ask for, by listener protocol. */
static int
compile_l4_route_check(struct compile *k, const struct cfg_route *r,
    const struct cfg_listener *l)
{
	enum cfg_proto p = l->proto;
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
		    l->name, pn);
	if (r->nsources > 0 && !compile_is_l4(p) && !pt)
		return compile_fail(k, ".sources",
		    "must be empty: listener \"%s\" is %s (sources are matched "
		    "on tcp, udp and tls-passthrough listeners)",
		    l->name, pn);
	if (p == CFG_PROTO_HTTPS && pt &&
	    (r->nhosts > 0 || r->path_prefix_len != 1 || r->methods != 0))
		return compile_fail(k,
		    r->nhosts > 0         ? ".hosts"
		        : r->methods != 0 ? ".methods"
		                          : ".path_prefix",
		    "must be left out: the route passes TLS for its sni names "
		    "through (listener \"%s\" is https)",
		    l->name);
	if ((compile_is_l4(p) || pt) && r->origin->tls_enabled)
		return compile_fail(k, ".origin",
		    "origin \"%s\" speaks TLS to its servers, which only HTTP "
		    "routes do (listener \"%s\" is %s%s)",
		    r->origin->name, l->name, pn,
		    pt ? ": passthrough forwards the client's own TLS" : "");
	/* On tls-passthrough, hosts are server names too (l4_route_match()). */
	if (p == CFG_PROTO_TLS_PASSTHROUGH &&
	    (r->path_prefix_len != 1 || r->methods != 0))
		return compile_fail(k,
		    r->methods != 0 ? ".methods" : ".path_prefix",
		    "must be left out: listener \"%s\" is tls-passthrough "
		    "(match on sni)",
		    l->name);
	if (r->origin->proxy_protocol != 0 && p != CFG_PROTO_TCP && !pt)
		return compile_fail(k, ".origin",
		    "origin \"%s\" sends a PROXY protocol header, which only "
		    "tcp and tls-passthrough routes send (listener \"%s\" is "
		    "%s)",
		    r->origin->name, l->name, pn);
	return 0;
}

static int
compile_route_host(struct compile *k, void *row, size_t room, const char *path,
    const char *v, bool bad, size_t idx)
{
	struct cfg_route *r = row;

	if (r->nhosts == room)
		return compile_fail(k, path, "changed while compiling");
	return compile_host(k, v, bad, idx, &r->hosts[r->nhosts++]);
}

static int
compile_route_method(struct compile *k, void *row, size_t room,
    const char *path, const char *v, bool bad, size_t idx)
{
	struct cfg_route *r = row;

	(void)room;
	(void)path;
	return compile_method(k, v, bad, idx, &r->methods);
}

static int
compile_route_sni(struct compile *k, void *row, size_t room, const char *path,
    const char *v, bool bad, size_t idx)
{
	struct cfg_route *r = row;

	(void)idx;
	if (r->nsnis == room)
		return compile_fail(k, path, "changed while compiling");
	if (bad)
		return compile_fail(k, path, "\"%.*s\" is not a server name",
		    CFG_SHOWN, v);
	return compile_l4_sni(k, path, v, r);
}

static int
compile_route_cidr(struct compile *k, void *row, size_t room, const char *path,
    const char *v, bool bad, size_t idx)
{
	struct cfg_route *r = row;

	(void)idx;
	if (r->nsources == room)
		return compile_fail(k, path, "changed while compiling");
	if (bad || cfg_cidr_parse(v, &r->sources[r->nsources]) == -1)
		return compile_fail(k, path,
		    "\"%.*s\" is not an address or CIDR block", CFG_SHOWN, v);
	r->nsources++;
	return 0;
}

/* Columns after the route's fields (compile_routes()); rooms per route. */
enum {
	RX_PATH_BYTES = RF__N,
	RX_NHOSTS,
	RX_NSNI,
	RX_NSOURCES
};
enum {
	RR_HOSTS,
	RR_SNI,
	RR_SOURCES,
	RR__N
};

static int
compile_path_prefix(struct compile *k, struct cfg_route *r, bool bad)
{
	char msg[256];

	if (bad)
		return compile_fail(k, ".path_prefix",
		    "must not contain NUL characters");
	if (cv_check(CV_PATH_PREFIX, r->path_prefix, msg, sizeof(msg)) != 0)
		return compile_fail(k, ".path_prefix", "%s", msg);
	return 0;
}

/* The route's listeners: the ids of RF_LISTENERS ("[3,5]", the join
 * table in order), or the one of RF_LISTENER when the table has none
 * (rows written by hand).
 */
static int
compile_route_listeners(struct compile *k, struct store_stmt *s,
    struct cfg_route *r)
{
	const char *p = store_col_is_null(s, RF_LISTENERS)
	    ? "[]"
	    : store_col_text(s, RF_LISTENERS);
	int64_t ids[64], id;
	size_t n = 0, i;
	char *end;

	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			continue;
		id = (int64_t)strtoll(p, &end, 10);
		if (n == NELEM(ids))
			return compile_fail(k, ".listeners",
			    "more than %zu listeners", NELEM(ids));
		ids[n++] = id;
		p = end - 1;
	}
	if (n == 0)
		ids[n++] = store_col_int64(s, RF_LISTENER);
	r->listeners = arena_calloc(k->c->arena, n, sizeof(*r->listeners));
	if (r->listeners == NULL)
		return compile_oom(k);
	for (i = 0; i < n; i++) {
		r->listeners[i] = cfg_listener_by_id(k->c, ids[i]);
		if (r->listeners[i] == NULL)
			return compile_fail(k, ".listeners",
			    "no listener with id %lld", (long long)ids[i]);
	}
	r->nlisteners = n;
	r->listener = r->listeners[0];
	return 0;
}

static int
compile_route_row(struct compile *k, struct store_stmt *s, struct cfg_route *r,
    size_t *room)
{
	int64_t v;
	bool bad;
	int rc = 0;

	r->id = store_col_int64(s, RF_ID);
	if ((r->name = compile_text(k, s, RF_NAME, -1, NULL)) == NULL ||
	    (r->path_prefix = compile_text(k, s, RF_PATH_PREFIX, RX_PATH_BYTES,
	         &bad)) == NULL)
		return compile_oom(k);
	compile_obj(k, "routes", r->name);
	r->path_prefix_len = strlen(r->path_prefix);
	if (compile_route_listeners(k, s, r) != 0)
		return -1;
	r->origin = store_col_is_null(s, RF_ORIGIN)
	    ? NULL
	    : cfg_origin_by_id(k->c, store_col_int64(s, RF_ORIGIN));
	if (r->origin == NULL && !store_col_is_null(s, RF_ORIGIN))
		return compile_fail(k, ".origin", "no origin with id %lld",
		    (long long)store_col_int64(s, RF_ORIGIN));
	if (cfg_policy_route(k->st, k->c, r, s, k->e) != 0)
		return -1;
	if (compile_field(k, s, CK_ROUTE, RF_PRIORITY, &v) != 0 ||
	    compile_path_prefix(k, r, bad) != 0)
		return -1;
	r->priority = (int)v;
	r->forwarded = compile_ufield(k, s, CK_ROUTE, RF_FORWARDED, &rc) != 0;
	if (rc == 0 &&
	    compile_field(k, s, CK_ROUTE, RF_MAX_BODY_BYTES, &v) != 0)
		rc = -1;
	r->max_body_bytes = (uint64_t)v;
	r->connect_ms = compile_ufield(k, s, CK_ROUTE, RF_CONNECT_MS, &rc);
	r->response_ms = compile_ufield(k, s, CK_ROUTE, RF_RESPONSE_MS, &rc);
	r->idle_ms = compile_ufield(k, s, CK_ROUTE, RF_IDLE_MS, &rc);
	r->redirect_https =
	    compile_ufield(k, s, CK_ROUTE, RF_REDIRECT_HTTPS, &rc) != 0;
	r->hsts_max_age = compile_ufield(k, s, CK_ROUTE, RF_HSTS_MAX_AGE, &rc);
	r->pathnorm = r->listener->pathnorm;
	r->pathnorm_set = !store_col_is_null(s, RF_PATH_NORMALIZATION);
	if (rc == 0 &&
	    compile_pathnorm(k, s, CK_ROUTE, RF_PATH_NORMALIZATION,
	        &r->pathnorm) != 0)
		rc = -1;
	if (rc == 0 && cfg_balance_route(r, s, k->obj, k->e) != 0)
		rc = -1;
	if (rc != 0)
		return -1;
	room[RR_HOSTS] = (size_t)store_col_int64(s, RX_NHOSTS);
	room[RR_SNI] = (size_t)store_col_int64(s, RX_NSNI);
	room[RR_SOURCES] = (size_t)store_col_int64(s, RX_NSOURCES);
	if ((room[RR_HOSTS] > 0 &&
	        (r->hosts = arena_calloc(k->c->arena, room[RR_HOSTS],
	             sizeof(*r->hosts))) == NULL) ||
	    (room[RR_SNI] > 0 &&
	        (r->snis = arena_calloc(k->c->arena, room[RR_SNI],
	             sizeof(*r->snis))) == NULL) ||
	    (room[RR_SOURCES] > 0 &&
	        (r->sources = arena_calloc(k->c->arena, room[RR_SOURCES],
	             sizeof(*r->sources))) == NULL))
		return compile_oom(k);
	return 0;
}

/* After the lists: what the route's listener and origin allow. */
static int
compile_route_check(struct compile *k, const struct cfg_route *r)
{
	size_t i;

	compile_obj(k, "routes", r->name);
	if (cfg_policy_route_check(r, k->e) != 0)
		return -1;
	for (i = 0; i < r->nlisteners; i++)
		if (compile_l4_match(k, r, r->listeners[i]) != 0)
			return -1;
	if (r->origin == NULL)
		return 0; /* answers by itself (cfg_policy.c) */
	if (r->origin->nservers == 0)
		return compile_fail(k, ".origin",
		    "origin \"%s\" has no servers", r->origin->name);
	for (i = 0; i < r->nlisteners; i++)
		if (compile_l4_route_check(k, r, r->listeners[i]) != 0)
			return -1;
	return 0;
}

/* A route's list columns, and the room of each. */
static const struct {
	int col, room;
	compile_elem_fn fn;
} compile_route_lists[] = { { RF_HOSTS, RR_HOSTS, compile_route_host },
	{ RF_METHODS, RR_HOSTS, compile_route_method },
	{ RF_SNI, RR_SNI, compile_route_sni },
	{ RF_SOURCES, RR_SOURCES, compile_route_cidr } };

/* Columns after the route's fields: RX_PATH_BYTES ... RX_NSOURCES. */
#define COMPILE_ROUTE_EXTRA                                                \
	"length(CAST(t.path_prefix AS BLOB)), json_array_length(t.hosts)," \
	" json_array_length(t.sni), json_array_length(t.sources)"

static int
compile_routes(struct compile *k)
{
	struct store_stmt *s;
	enum store_step_result r;
	struct compile_rows rw;
	size_t n, i, *room = NULL;

	if (compile_count(k, "routes", &n) == -1)
		return -1;
	if (n > 0 &&
	    ((k->c->route_arr = arena_calloc(k->c->arena, n,
	          sizeof(*k->c->route_arr))) == NULL ||
	        (room = arena_calloc(k->c->arena, n * RR__N, sizeof(*room))) ==
	            NULL))
		return compile_oom(k);
	s = compile_select(k, CK_ROUTE, COMPILE_ROUTE_EXTRA, NULL);
	if (s == NULL)
		return -1;
	while ((r = store_step(s, k->e)) == STORE_ROW) {
		if (k->c->nroute_arr == n) {
			r = STORE_ERROR;
			err_set(k->e, "", "routes changed while compiling");
			break;
		}
		if (compile_route_row(k, s, &k->c->route_arr[k->c->nroute_arr],
		        &room[k->c->nroute_arr * RR__N]) == -1) {
			r = STORE_ERROR;
			break;
		}
		k->c->nroute_arr++;
	}
	store_finalize(s);
	if (r != STORE_DONE)
		return -1;
	for (i = 0; i < NELEM(compile_route_lists); i++) {
		rw = (struct compile_rows){ (char *)k->c->route_arr,
			k->c->nroute_arr, sizeof(struct cfg_route),
			offsetof(struct cfg_route, id),
			offsetof(struct cfg_route, name),
			room != NULL ? room + compile_route_lists[i].room
			             : NULL,
			RR__N };
		if (compile_lists(k, CK_ROUTE, compile_route_lists[i].col, &rw,
		        compile_route_lists[i].fn, 0) != 0)
			return -1;
	}
	for (i = 0; i < k->c->nroute_arr; i++)
		if (compile_route_check(k, &k->c->route_arr[i]) != 0)
			return -1;
	return 0;
}

/* One route's row, for cfg_compile_route() (cfg_incr.c): see cfg.h. */
int
cfg_compile_route_row(struct store *st, struct cfg *c, int64_t id,
    struct cfg_route *r, struct err *e)
{
	struct compile k = { .st = st, .c = c, .e = e };
	enum store_step_result res;
	struct compile_rows rw;
	struct store_stmt *s;
	size_t room[RR__N], i;
	char sql[2048];
	int rc;

	if (cf_select_sql(&cf_kinds[CK_ROUTE], false, COMPILE_ROUTE_EXTRA, sql,
	        sizeof(sql)) != 0 ||
	    strlen(sql) + 20 > sizeof(sql))
		return err_set(e, "", "internal: select too long");
	strcat(sql, " WHERE t.id = ?");
	if ((s = store_prepare(st, sql, e)) == NULL)
		return -1;
	if (store_bind_int64(s, 1, id) != 0) {
		store_finalize(s);
		return err_set(e, "", "internal: bind failed");
	}
	res = store_step(s, e);
	rc = res == STORE_DONE ? 1 : res == STORE_ROW ? 0 : -1;
	if (rc == 0 && compile_route_row(&k, s, r, room) != 0)
		rc = -1;
	store_finalize(s);
	for (i = 0; rc == 0 && i < NELEM(compile_route_lists); i++) {
		rw = (struct compile_rows){ (char *)r, 1,
			sizeof(struct cfg_route),
			offsetof(struct cfg_route, id),
			offsetof(struct cfg_route, name),
			room + compile_route_lists[i].room, RR__N };
		if (compile_lists(&k, CK_ROUTE, compile_route_lists[i].col, &rw,
		        compile_route_lists[i].fn, id) != 0)
			rc = -1;
	}
	if (rc == 0 && compile_route_check(&k, r) != 0)
		rc = -1;
	return rc;
}

/* Gives the snapshot its route sequence (id order) and every listener
 * its routes in match order; an https listener's routes with server
 * names go to sni_routes instead (l4_route_match(), l4_accept_shared()).
 */
static int
compile_listener_routes(struct compile *k)
{
	struct cfg *c = k->c;
	struct cfg_listener *l;
	const struct cfg_route *r, **all, ***v;
	size_t i, j, idx, *n, nsni, nplain;
	int rc = -1;

	all = arena_calloc(c->arena, c->nroute_arr + 1, sizeof(*all));
	v = calloc(c->nlisteners + 1, sizeof(*v));
	n = calloc(c->nlisteners + 1, sizeof(*n));
	if (all == NULL || v == NULL || n == NULL)
		goto out;
	for (i = 0; i < c->nroute_arr; i++) {
		all[i] = r = &c->route_arr[i];
		for (j = 0; j < r->nlisteners; j++)
			n[r->listeners[j] - c->listeners]++;
	}
	if (cfg_rseq_from(c->arena, &c->routes, all, c->nroute_arr) != 0)
		goto out;
	for (i = 0; i < c->nlisteners; i++)
		if (n[i] > 0 &&
		    (v[i] = arena_calloc(c->arena, n[i], sizeof(**v))) == NULL)
			goto out;
	memset(n, 0, (c->nlisteners + 1) * sizeof(*n));
	for (i = 0; i < c->nroute_arr; i++) {
		r = &c->route_arr[i];
		for (j = 0; j < r->nlisteners; j++) {
			idx = (size_t)(r->listeners[j] - c->listeners);
			v[idx][n[idx]++] = r;
		}
	}
	for (i = 0; i < c->nlisteners; i++) {
		l = &c->listeners[i];
		route_sort(v[i], n[i]);
		nsni = nplain = 0;
		if (l->proto == CFG_PROTO_HTTPS) /* sni routes to the end */
			for (j = 0; j < n[i]; j++)
				nsni += v[i][j]->nsnis > 0;
		if (nsni > 0) {
			all = arena_calloc(c->arena, nsni, sizeof(*all));
			if (all == NULL)
				goto out;
			for (j = 0, nsni = 0; j < n[i]; j++) {
				if (v[i][j]->nsnis > 0)
					all[nsni++] = v[i][j];
				else
					v[i][nplain++] = v[i][j];
			}
			n[i] = nplain;
			if (cfg_rseq_from(c->arena, &l->sni_routes, all,
			        nsni) != 0)
				goto out;
		}
		if (cfg_rseq_from(c->arena, &l->routes, v[i], n[i]) != 0)
			goto out;
	}
	rc = 0;
out:
	free(v);
	free(n);
	return rc == 0 ? 0 : compile_oom(k);
}

/* Compiles the store's configuration: see cfg.h. The reads run inside a
 * savepoint (a read transaction of its own when the caller holds none),
 * released before returning; nothing is written. One statement per table
 * (and per JSON list column), objects found by binary search on their id.
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
	rc = cfg_tls_certs(st, k.c, k.e); /* cfg_tls.c */
	if (rc == 0)
		rc = compile_listeners(&k);
	if (rc == 0)
		rc = client_addr_compile(st, k.c, k.e); /* client_addr.c */
	if (rc == 0)
		rc = compile_origins(&k);
	if (rc == 0)
		rc = cfg_policy_error_pages(st, k.c, k.e); /* cfg_policy.c */
	if (rc == 0)
		rc = compile_routes(&k);
	if (rc == 0)
		rc = access_compile(st, k.c, k.e); /* access.c */
	if (rc == 0)
		rc = ratelimit_compile(st, k.c, k.e); /* ratelimit.c */
	if (rc == 0)
		rc = compile_listener_routes(&k);
	if (rc == 0)
		rc = route_index_build(k.c, k.e); /* route.c */
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
