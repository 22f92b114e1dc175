/*
 * balance_key.c: the key a request is hashed on (balance "hash").
 *
 * The origin's hash_key names it: the client's address (its bytes, not
 * the port), a request header's value, a cookie's value, or the path of
 * the request-target (up to '?'). A request without that header or
 * cookie has no key and is balanced round-robin.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <string.h>
#include <strings.h>

#include "balance.h"
#include "conn.h"
#include "http_msg.h"
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

void
balance_key(const struct cfg_origin *o, const struct conn *c,
    struct balance_req *br)
{
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)&c->peer_sa;
	const struct sockaddr_in6 *s6 =
	    (const struct sockaddr_in6 *)&c->peer_sa;
	struct str v = { NULL, 0 };

	br->has_key = false;
	if (o->balance != CFG_BALANCE_HASH)
		return;
	switch (o->hash_on) {
	case CFG_HASH_CLIENT_IP:
		if (c->peer_sa.ss_family == AF_INET)
			v = (struct str){ (const char *)&s4->sin_addr, 4 };
		else if (c->peer_sa.ss_family == AF_INET6)
			v = (struct str){ (const char *)&s6->sin6_addr, 16 };
		break;
	case CFG_HASH_HEADER:
		v = http_msg_get(&c->msg, o->hash_name);
		break;
	case CFG_HASH_COOKIE:
		if (!key_cookie(&c->msg, o->hash_name, &v))
			v.p = NULL;
		break;
	case CFG_HASH_PATH:
		v = key_path(&c->msg);
		break;
	}
	if (v.p == NULL)
		return;
	br->has_key = true;
	br->key = balance_hash(v.p, v.len, 0);
}

const struct cfg_server *
balance_server(struct conn *c, const int64_t *avoid, size_t navoid)
{
	const struct cfg_origin *o = c->req.route->origin;
	struct balance_req br = { .avoid = avoid, .navoid = navoid };

	balance_key(o, c, &br);
	return upstream_choose(c->w->pools, o, &br);
}
