/*
 * rewrite.c: the origin's request head (rewrite.h).
 */
#include "rewrite.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* What happens to one client header on its way to the origin. */
enum rw_action {
	RW_PASS,      /* copied as received */
	RW_DROP,      /* hop-by-hop, framing, or set by the proxy only */
	RW_HOP,       /* hop-by-hop: also dropped from responses */
	RW_HOST,      /* kept unless the target's authority replaces it */
	RW_FORWARDED, /* trusted: merged into ours, or passed on */
	RW_XFF,       /* rebuilt: trusted values, then the peer */
	RW_XFH,       /* trusted: the first one wins over Host */
	RW_XFP,       /* trusted: the first one wins over the scheme */
};

/* clang-format off */
static const struct rw_rule {
	const char *name;
	size_t len;
	enum rw_action act;
} rw_rules[] = { /* sorted by length (rw_action_of()) */
#define RW(n, a) { n, sizeof(n) - 1, a }
	RW("te", RW_HOP),
	RW("host", RW_HOST),
	RW("expect", RW_DROP),            /* answered here: 100 Continue */
	RW("trailer", RW_HOP),
	RW("upgrade", RW_HOP),
	RW("forwarded", RW_FORWARDED),
	RW("connection", RW_HOP),
	RW("keep-alive", RW_HOP),
	RW("content-length", RW_HOP),     /* framing: set below */
	RW("x-forwarded-for", RW_XFF),
	RW("proxy-connection", RW_HOP),
	RW("x-forwarded-host", RW_XFH),
	RW("transfer-encoding", RW_HOP),  /* framing: set below */
	RW("x-forwarded-proto", RW_XFP),
	RW("proxy-authorization", RW_HOP),
	RW("x-client-cert-subject", RW_DROP),  /* from the TLS session only */
	RW("x-client-cert-fingerprint", RW_DROP),
#undef RW
};
/* clang-format on */

static enum rw_action
rw_action_of(struct str name)
{
	size_t i;

	if (name.len == 0)
		return RW_PASS;
	/* The table is sorted by length: the search stops at the first
	 * longer name. The names are lowercase and start with a letter: a
	 * first byte that differs (in either case) skips the comparison.
	 */
	for (i = 0; i < sizeof(rw_rules) / sizeof(rw_rules[0]); i++) {
		if (rw_rules[i].len > name.len)
			break;
		if (rw_rules[i].len == name.len &&
		    rw_rules[i].name[0] == (name.p[0] | 0x20) &&
		    str_caseeq(name, str_make(rw_rules[i].name, name.len)))
			return rw_rules[i].act;
	}
	return RW_PASS;
}

bool
rewrite_is_hop(struct str name)
{
	return name.len >= 2 && name.len <= 19 && rw_action_of(name) == RW_HOP;
}

static bool
rewrite_is_protected(struct str n)
{
	return str_caseeq_cstr(n, "host") ||
	    str_caseeq_cstr(n, "content-length") ||
	    str_caseeq_cstr(n, "transfer-encoding");
}

size_t
rewrite_conn_tokens(const struct http_msg *m, struct str *tok, size_t max)
{
	size_t i, n = 0;
	struct str v, t;
	const char *p, *end, *comma;

	for (i = 0; i < m->nhdrs; i++) {
		if (!str_caseeq_cstr(http_msg_hname(m, i), "connection"))
			continue;
		v = http_msg_hvalue(m, i);
		p = v.p;
		end = v.p + v.len;
		while (p < end) {
			comma = memchr(p, ',', (size_t)(end - p));
			if (comma == NULL)
				comma = end;
			t = str_trim(str_make(p, (size_t)(comma - p)));
			/* Never Host or the framing: "Connection: close,
			 * Host" must not strip them (the origin would see
			 * another virtual host or another body).
			 */
			if (t.len > 0 && n < max && !rewrite_is_protected(t))
				tok[n++] = t;
			p = comma + 1;
		}
	}
	return n;
}

bool
rewrite_in_names(struct str name, const char *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strlen(v[i]) == name.len &&
		    strncasecmp(v[i], name.p, name.len) == 0)
			return true;
	return false;
}

bool
rewrite_in_tokens(struct str name, const struct str *tok, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (str_caseeq(name, tok[i]))
			return true;
	return false;
}

/* Output that counts what it could not hold (snprintf's contract). */
struct rw_out {
	char *p;
	size_t cap, len;
};

static inline void
rw_add(struct rw_out *o, const char *p, size_t n)
{
	if (n > 0 && o->len + n <= o->cap)
		memcpy(o->p + o->len, p, n);
	o->len += n;
}

static inline void
rw_str(struct rw_out *o, struct str s)
{
	rw_add(o, s.p, s.len);
}

static inline void
rw_cstr(struct rw_out *o, const char *s)
{
	rw_add(o, s, strlen(s));
}

static inline void
rw_hdr(struct rw_out *o, const char *name, struct str value)
{
	rw_cstr(o, name);
	rw_add(o, ": ", 2);
	rw_str(o, value);
	rw_add(o, "\r\n", 2);
}

/* Every value of the headers with action <act>, joined by ", ";
 * returns whether there was one.
 */
static bool
rw_join(struct rw_out *o, const struct http_msg *m, enum rw_action act)
{
	bool any = false;
	size_t i;

	for (i = 0; i < m->nhdrs; i++) {
		if (rw_action_of(http_msg_hname(m, i)) != act)
			continue;
		if (any)
			rw_add(o, ", ", 2);
		rw_str(o, http_msg_hvalue(m, i));
		any = true;
	}
	return any;
}

/* The X-Forwarded-For values from header <from>, byte <off> on, then
 * every later one, joined by ", "; returns whether there was one.
 */
static bool
rw_xff_from(struct rw_out *o, const struct http_msg *m, int from, size_t off)
{
	struct str v;
	bool any = false;
	size_t i;

	if (from < 0)
		return false;
	for (i = (size_t)from; i < m->nhdrs; i++) {
		if (rw_action_of(http_msg_hname(m, i)) != RW_XFF)
			continue;
		v = http_msg_hvalue(m, i);
		if (i == (size_t)from && off <= v.len)
			v = str_make(v.p + off, v.len - off);
		if (any)
			rw_add(o, ", ", 2);
		rw_str(o, v);
		any = true;
	}
	return any;
}

size_t
rewrite_request_head(const struct rewrite_req *rq, char *buf, size_t cap)
{
	const struct http_msg *m = rq->m;
	const char *proto = rq->https ? "https" : "http";
	struct str tok[REWRITE_MAX_CONN_TOKENS], name, host;
	struct str xfp = STR_NULL, xfh = STR_NULL;
	struct rw_out o = { buf, cap, 0 };
	bool have_host = false;
	size_t ntok, i;
	char num[32];

	host = rq->absolute ? rq->authority : http_msg_host(m);
	ntok = rewrite_conn_tokens(m, tok, REWRITE_MAX_CONN_TOKENS);

	rw_str(&o, http_msg_str(m, m->method_name));
	rw_add(&o, " ", 1);
	rw_str(&o, rq->path);
	rw_str(&o, rq->query);
	rw_add(&o, " HTTP/1.1\r\n", 11);
	if (rq->absolute) {
		/* RFC 9112 3.2.2: the target's authority replaces Host */
		rw_hdr(&o, "Host", rq->authority);
		have_host = true;
	}

	for (i = 0; i < m->nhdrs; i++) {
		name = http_msg_hname(m, i);
		if (ntok > 0 && rewrite_in_tokens(name, tok, ntok))
			continue;
		switch (rw_action_of(name)) {
		case RW_PASS:
			if ((rq->rules != NULL &&
			        hdr_rules_drops(rq->rules, name)) ||
			    rewrite_in_names(name, rq->strip, rq->nstrip))
				continue;
			break;
		case RW_DROP:
		case RW_HOP:
		case RW_XFF:
			continue;
		case RW_HOST:
			if (rq->absolute)
				continue; /* sent above */
			have_host = true;
			break;
		case RW_FORWARDED:
			if (!rq->trust || rq->forwarded)
				continue; /* dropped, or merged below */
			break;
		case RW_XFH:
			if (rq->trust && xfh.p == NULL)
				xfh = http_msg_hvalue(m, i);
			continue;
		case RW_XFP:
			if (rq->trust && xfp.p == NULL)
				xfp = http_msg_hvalue(m, i);
			continue;
		}
		rw_str(&o, name);
		rw_add(&o, ": ", 2);
		rw_str(&o, http_msg_hvalue(m, i));
		rw_add(&o, "\r\n", 2);
	}

	if (rq->rules != NULL)
		o.len += hdr_rules_write(rq->rules, rq->tx,
		    o.len < o.cap ? o.p + o.len : NULL,
		    o.len < o.cap ? o.cap - o.len : 0);
	rw_str(&o, rq->extra);
	if (rq->request_id.len > 0)
		rw_hdr(&o, "X-Request-ID", rq->request_id);
	if (rq->forwarded) {
		rw_cstr(&o, "Forwarded: ");
		if (rq->trust && rw_join(&o, m, RW_FORWARDED))
			rw_add(&o, ", ", 2);
		if (rq->peer_v6) {
			rw_cstr(&o, "for=\"[");
			rw_cstr(&o, rq->peer);
			rw_cstr(&o, "]\"");
		} else {
			rw_cstr(&o, "for=");
			rw_cstr(&o, rq->peer);
		}
		if (host.len > 0) {
			rw_cstr(&o, ";host=\"");
			rw_str(&o, host);
			rw_add(&o, "\"", 1);
		}
		rw_cstr(&o, ";proto=");
		rw_cstr(&o, proto);
		rw_add(&o, "\r\n", 2);
	}
	if (!have_host)
		rw_hdr(&o, "Host", rq->default_host);
	rw_cstr(&o, "X-Forwarded-For: ");
	if (rq->xff_resolved) {
		if (rw_xff_from(&o, m, rq->xff_hdr, rq->xff_off))
			rw_add(&o, ", ", 2);
	} else if (rq->trust && rw_join(&o, m, RW_XFF)) {
		rw_add(&o, ", ", 2);
	}
	rw_cstr(&o, rq->peer);
	rw_add(&o, "\r\n", 2);
	rw_hdr(&o, "X-Forwarded-Proto", xfp.p != NULL ? xfp : str_cstr(proto));
	if (rq->cert_subject != NULL) {
		rw_hdr(&o, "X-Client-Cert-Subject", str_cstr(rq->cert_subject));
		rw_hdr(&o, "X-Client-Cert-Fingerprint",
		    str_cstr(rq->cert_fingerprint));
	}
	if (xfh.p != NULL)
		rw_hdr(&o, "X-Forwarded-Host", xfh);
	else if (host.len > 0)
		rw_hdr(&o, "X-Forwarded-Host", host);
	switch (rq->body) {
	case REWRITE_BODY_NONE:
		break;
	case REWRITE_BODY_LENGTH:
		snprintf(num, sizeof(num), "%" PRIu64, rq->length);
		rw_hdr(&o, "Content-Length", str_cstr(num));
		break;
	case REWRITE_BODY_CHUNKED:
		rw_cstr(&o, "Transfer-Encoding: chunked\r\n");
		break;
	}
	if (rq->upgrade)
		rw_cstr(&o, "Upgrade: websocket\r\nConnection: upgrade\r\n");
	rw_add(&o, "\r\n", 2);
	return o.len;
}
