/*
 * hdr_rules.h: a route's header rules, request or response side.
 *
 * {"set":{"X-Env":"prod"},"add":{"Via-Gate":"{host}"},"remove":["X-Debug"]}
 * compiled into one table (cfg_policy.c): `remove` and `set` names drop
 * every header of that name from the message as received (set replaces),
 * then the `set` and `add` headers are written with their values expanded
 * (tmpl.h), in the order configured. Names the proxy owns (hop-by-hop,
 * framing, Host, X-Forwarded-*, Forwarded, X-Client-Cert-*) cannot be set
 * or added (CV_HEADER_SETTABLE, cfg_value.c); values hold no control
 * characters (CV_TEMPLATE). Pure functions: no allocation, no I/O.
 */
#ifndef GH_HDR_RULES_H
#define GH_HDR_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "str.h"
#include "tmpl.h"

struct hdr_rule {
	struct str name;   /* as configured */
	const char *value; /* template; NULL for remove */
	bool vars;         /* the value holds {variables} */
};

struct hdr_rules {
	const struct hdr_rule *drop; /* remove and set names */
	size_t ndrop;
	const struct hdr_rule *put; /* set, then add */
	size_t nput;
};

/* Does <r> drop header <name> of the message as received? */
bool hdr_rules_drops(const struct hdr_rules *r, struct str name);

/* Writes the headers <r> puts, "Name: value\r\n" each, into buf[0..cap)
 * and returns the length they need (above <cap>: did not fit).
 */
size_t hdr_rules_write(const struct hdr_rules *r, const struct tmpl_ctx *x,
    char *buf, size_t cap);

/* An X-Request-ID value the client sent that is kept as it is: 1 to 200
 * visible ASCII characters.
 */
bool hdr_rules_request_id_ok(struct str v);

/* A new request id: 32 lowercase hex digits into <out> (33 bytes). */
void hdr_rules_request_id_new(char *out);

#endif
