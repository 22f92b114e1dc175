/*
 * rewrite.h: the request head an origin is sent, as a pure function.
 *
 * rewrite_request_head() takes the client's parsed head and what the
 * proxy knows about the request (struct rewrite_req) and writes the head
 * for the origin. It allocates nothing and does no I/O: every client
 * header goes through one table of header actions (rewrite.c), then the
 * proxy's own headers are appended in a fixed order:
 *
 *   request line     method SP path query SP HTTP/1.1
 *   Host             the absolute-form authority, else the client's Host,
 *                    else <default_host>
 *   client headers   minus hop-by-hop ones (RFC 9110 7.6.1), those named
 *                    by Connection, framing, Expect, the headers the
 *                    proxy sets itself, and those the route's rules
 *                    remove or set (hdr_rules.h)
 *   rule headers     the route's set and add headers, expanded
 *   extra headers    lines the proxy adds as they are (forward auth's
 *                    copied headers; their names are in <strip>)
 *   X-Request-ID     (route option) when the client sent none
 *   Forwarded        (route option) the trusted client's elements, then
 *                    ours: for=, host=, proto= (RFC 7239)
 *   X-Forwarded-For  trusted client values, then the peer
 *   X-Forwarded-Proto, X-Client-Cert-*, X-Forwarded-Host
 *   framing          Content-Length or Transfer-Encoding: chunked
 *   Upgrade          "websocket" only (http1.c lets no other through)
 */
#ifndef GH_REWRITE_H
#define GH_REWRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hdr_rules.h"
#include "http_msg.h"
#include "str.h"

/* At most this many Connection tokens name headers to drop. */
#define REWRITE_MAX_CONN_TOKENS 16

enum rewrite_body {
	REWRITE_BODY_NONE,
	REWRITE_BODY_LENGTH,  /* Content-Length: <length> */
	REWRITE_BODY_CHUNKED, /* Transfer-Encoding: chunked */
};

struct rewrite_req {
	const struct http_msg *m; /* the client's head */
	struct str path, query;   /* from target_parse() */
	struct str authority;     /* absolute-form authority, or len 0 */
	bool absolute;            /* the target was absolute-form */
	bool trust;               /* listener trusts client X-Forwarded-* */
	bool forwarded;           /* route adds RFC 7239 Forwarded */
	bool https;               /* the client came over TLS */
	bool upgrade;             /* a WebSocket upgrade */
	const char *peer;         /* the client's address as text */
	bool peer_v6;
	/* The listener has trusted proxies (client_addr.h): X-Forwarded-For
	 * keeps the client's values from header <xff_hdr>, byte <xff_off>
	 * on (-1: none), whatever <trust> says.
	 */
	bool xff_resolved;
	int xff_hdr;
	size_t xff_off;
	struct str default_host;  /* Host when the client sent none */
	const char *cert_subject; /* client certificate, or NULL */
	const char *cert_fingerprint;
	const struct hdr_rules *rules; /* the route's, or NULL */
	const struct tmpl_ctx *tx;     /* values for the rules' templates */
	struct str request_id;         /* X-Request-ID added; len 0: none */
	/* Client headers dropped by name, and "Name: value\r\n" lines
	 * added after the rule headers (fwdauth.h); none: NULL, 0, len 0.
	 */
	const char *const *strip;
	size_t nstrip;
	struct str extra;
	enum rewrite_body body;
	uint64_t length; /* with REWRITE_BODY_LENGTH */
};

/* Writes the origin's request head into buf[0..cap) and returns its
 * length. A return above <cap> means it did not fit: nothing useful was
 * written, call again with at least that much room.
 */
size_t rewrite_request_head(const struct rewrite_req *rq, char *buf,
    size_t cap);

/* Hop-by-hop and framing header names the proxy never passes on (either
 * direction).
 */
bool rewrite_is_hop(struct str name);

/* The tokens of every Connection header of <m> (header names the sender
 * declared hop-by-hop); returns how many, at most <max>.
 */
size_t rewrite_conn_tokens(const struct http_msg *m, struct str *tok,
    size_t max);
bool rewrite_in_tokens(struct str name, const struct str *tok, size_t n);
/* Is <name> one of the <n> names <v> (compared without case)? */
bool rewrite_in_names(struct str name, const char *const *v, size_t n);

#endif
