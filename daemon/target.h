/*
 * target.h: the one reading of an HTTP/1 request-target (RFC 9112 3.2).
 *
 * Routing and forwarding both take the target from target_parse(), so a
 * request is routed by the same authority and path that the origin is
 * sent. The result is a set of views into the caller's bytes.
 *
 *   origin-form     /path?query           path, query
 *   absolute-form   http://host:port/p?q  authority, path ("/" if empty),
 *                                         query
 *   authority-form  host:port             CONNECT only: authority
 *   asterisk-form   *                     OPTIONS only: path "*"
 *
 * Refused with 400: userinfo ("user@") in an authority, a scheme other
 * than http or https, a fragment ('#'), an empty authority, a port that
 * is not digits, a form that does not fit the method, and bytes outside
 * the request-target grammar's visible ASCII.
 */
#ifndef GH_TARGET_H
#define GH_TARGET_H

#include <stdbool.h>

#include "str.h"

enum target_form {
	TARGET_ORIGIN,
	TARGET_ABSOLUTE,
	TARGET_AUTHORITY,
	TARGET_ASTERISK,
};

struct target {
	enum target_form form;
	bool https;           /* absolute-form with scheme "https" */
	struct str authority; /* absolute/authority-form: host[:port] */
	struct str path;      /* starts with '/' (or is "*"); no query */
	struct str query;     /* from '?' on, '?' included; len 0 if none */
};

/* Parses <t>. <connect> and <options> say whether the method is CONNECT
 * or OPTIONS (the forms that only they may use). Returns 0 or 400 (with
 * *why set to a static reason).
 */
int target_parse(struct str t, bool connect, bool options, struct target *out,
    const char **why);

/* The host part of an authority: without the port, an IPv6 literal with
 * its brackets. An empty authority gives an empty string.
 */
struct str target_authority_host(struct str authority);

#endif
