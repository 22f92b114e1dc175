/*
 * balance_key.c: the key a request is hashed on (balance "hash").
 *
 * The origin's hash_key names it: the client's address (its bytes, not
 * the port), a request header's value, a cookie's value, or the path of
 * the request-target (up to '?'). A request without that header or
 * cookie has no key and is balanced round-robin.
 *
 * It also keeps sticky sessions: a request whose sticky cookie names a
 * server of the origin that may take it (active, not full, healthy) goes
 * there whatever the balance; otherwise the balance chooses, and the
 * response sets the cookie to the chosen server. The value is signed
 * with the appliance's secret (balance_secret.c): it never shows the
 * address, cannot be made for a server nor altered into another without
 * the secret, and holds across restarts and configuration changes that
 * keep the server.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "balance.h"
#include "conn.h"
#include "health.h"
#include "http_msg.h"
#include "stats.h"
#include "upstream.h"
#include "worker.h"

/* The value of cookie <name> in the Cookie header(s) of <m>. */
static bool
key_cookie(const struct http_msg *m, const char *name, struct str *out)
{
	size_t nlen = strlen(name), i;

	for (i = 0; i < m->nhdrs; i++) {
		struct str v, hn = http_msg_hname(m, i);
		const char *p, *end, *semi, *eq;

		if (hn.len != 6 || strncasecmp(hn.p, "cookie", 6) != 0)
			continue;
		v = http_msg_str(m, m->hdrs[i].value);
		p = v.p;
		end = v.p + v.len;
		while (p < end) {
			while (p < end && (*p == ' ' || *p == ';'))
				p++;
			if ((semi = memchr(p, ';', (size_t)(end - p))) == NULL)
				semi = end;
			eq = memchr(p, '=', (size_t)(semi - p));
			if (eq != NULL && (size_t)(eq - p) == nlen &&
			    memcmp(p, name, nlen) == 0) {
				out->p = eq + 1;
				out->len = (size_t)(semi - eq - 1);
				return true;
			}
			p = semi;
		}
	}
	return false;
}

/* The path of the request-target: origin-form up to '?', or the part of
 * an absolute-form after its authority.
 */
static struct str
key_path(const struct http_msg *m)
{
	struct str t = http_msg_str(m, m->target);
	const char *p = t.p, *end = t.p + t.len, *q;

	if (t.len > 0 && t.p[0] != '/') {
		q = t.len > 3 ? memchr(t.p, ':', t.len) : NULL;
		if (q != NULL && end - q > 3 && q[1] == '/' && q[2] == '/') {
			p = memchr(q + 3, '/', (size_t)(end - q - 3));
			if (p == NULL)
				p = end;
		}
	}
	if ((q = memchr(p, '?', (size_t)(end - p))) != NULL)
		end = q;
	return (struct str){ p, (size_t)(end - p) };
}

/* The address of <addr> (a sockaddr_storage or a union conn_addr: both
 * begin with the family) without its port.
 */
static struct str
key_addr(const void *addr)
{
	const struct sockaddr *sa = addr;
	const struct sockaddr_in *s4 = addr;
	const struct sockaddr_in6 *s6 = addr;

	if (sa->sa_family == AF_INET)
		return (struct str){ (const char *)&s4->sin_addr, 4 };
	if (sa->sa_family == AF_INET6)
		return (struct str){ (const char *)&s6->sin6_addr, 16 };
	return (struct str){ NULL, 0 };
}

void
balance_key(const struct cfg_origin *o, const struct conn *c,
    struct balance_req *br)
{
	struct str v = { NULL, 0 };

	br->has_key = false;
	if (o->balance != CFG_BALANCE_HASH)
		return;
	switch (o->hash_on) {
	case CFG_HASH_CLIENT_IP:
		v = key_addr(&c->peer_sa);
		break;
	case CFG_HASH_HEADER:
		v = http_msg_get(&c->req->msg, o->hash_name);
		break;
	case CFG_HASH_COOKIE:
		if (!key_cookie(&c->req->msg, o->hash_name, &v))
			v.p = NULL;
		break;
	case CFG_HASH_PATH:
		v = key_path(&c->req->msg);
		break;
	}
	if (v.p == NULL)
		return;
	br->has_key = true;
	br->key = balance_hash(v.p, v.len, 0);
}

/* The sticky cookie's value for server <s>: its tag in 32 hex digits
 * (balance_secret.c).
 */
static void
sticky_value(const struct cfg_server *s, char out[2 * BALANCE_STICKY_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	int i;

	for (i = 0; i < BALANCE_STICKY_LEN; i++) {
		out[2 * i] = hex[s->sticky[i] >> 4];
		out[2 * i + 1] = hex[s->sticky[i] & 15];
	}
	out[2 * BALANCE_STICKY_LEN] = '\0';
}

/* Equal in a time that does not depend on where they differ. */
static bool
sticky_eq(const unsigned char *a, const unsigned char *b)
{
	unsigned char d = 0;
	int i;

	for (i = 0; i < BALANCE_STICKY_LEN; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

/* The server the request's sticky cookie names, if it may take it. A
 * value this appliance did not sign (forged, altered, or from before
 * cookies were signed) is counted once per request and ignored.
 */
static const struct cfg_server *
sticky_server(const struct cfg_origin *o, const struct conn *c,
    const int64_t *avoid, size_t navoid)
{
	unsigned char v[BALANCE_STICKY_LEN];
	struct str cv;
	size_t i, j;

	if (!key_cookie(&c->req->msg, o->sticky_cookie, &cv))
		return NULL;
	if (balance_unhex(cv.p, cv.len, v, sizeof(v)) != 0) {
		if (navoid == 0)
			stats_inc(STAT_STICKY_BAD);
		return NULL;
	}
	for (i = 0; i < o->nservers; i++) {
		if (!sticky_eq(o->servers[i].sticky, v))
			continue;
		for (j = 0; j < navoid; j++)
			if (avoid[j] == o->servers[i].id)
				return NULL;
		return balance_server_open(&o->servers[i], health_usable)
		    ? &o->servers[i]
		    : NULL; /* down, drained, full: stickiness breaks */
	}
	/* No server of the origin: one since removed, or not ours. */
	if (navoid == 0 && !balance_sticky_signed(v))
		stats_inc(STAT_STICKY_BAD);
	return NULL;
}

const struct cfg_server *
balance_server(struct conn *c, const int64_t *avoid, size_t navoid)
{
	const struct cfg_origin *o = c->req->route->origin;
	struct balance_req br = { .avoid = avoid, .navoid = navoid };
	const struct cfg_server *s;

	if (o->sticky_cookie != NULL &&
	    (s = sticky_server(o, c, avoid, navoid)) != NULL)
		return s;
	balance_key(o, c, &br);
	return upstream_choose(c->w->pools, o, &br);
}

const struct cfg_server *
balance_l4_server(struct upstream_pools *p, const struct cfg_origin *o,
    const struct sockaddr_storage *client, const int64_t *avoid, size_t navoid)
{
	struct balance_req br = { .avoid = avoid, .navoid = navoid };
	struct str v;

	if (o->balance == CFG_BALANCE_HASH &&
	    (v = key_addr(client)).p != NULL) {
		br.has_key = true;
		br.key = balance_hash(v.p, v.len, 0);
	}
	return upstream_choose(p, o, &br);
}

size_t
balance_sticky_header(const struct conn *c, char *buf, size_t len)
{
	const struct req *r = c->req;
	const struct cfg_origin *o;
	struct str v;
	char val[2 * BALANCE_STICKY_LEN + 1], age[32] = "";
	int n;

	if (r->server == NULL || r->route == NULL ||
	    (o = r->route->origin)->sticky_cookie == NULL)
		return 0;
	sticky_value(r->server, val);
	if (key_cookie(&c->req->msg, o->sticky_cookie, &v) &&
	    v.len == 2 * BALANCE_STICKY_LEN &&
	    memcmp(v.p, val, 2 * BALANCE_STICKY_LEN) == 0)
		return 0; /* it already names this server */
	if (o->sticky_ttl_s > 0)
		snprintf(age, sizeof(age), "; Max-Age=%u", o->sticky_ttl_s);
	n = snprintf(buf, len, "Set-Cookie: %s=%s; Path=/%s; HttpOnly%s\r\n",
	    o->sticky_cookie, val, age, o->sticky_secure ? "; Secure" : "");
	return n > 0 && (size_t)n < len ? (size_t)n : 0;
}
