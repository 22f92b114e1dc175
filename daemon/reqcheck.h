/*
 * reqcheck.h: what a request head must pass before and after routing.
 *
 * conn_on_head() calls reqcheck_head() once the request-target is parsed
 * (target.h): an Expect other than 100-continue is answered 417; a Host
 * value or an absolute-form authority that is not a valid host[:port]
 * (normalize.h: no userinfo, no spaces, no '/', '?' or '@') is 400; the
 * path is normalised, and an encoded slash, a backslash, an encoded NUL
 * or a bad escape is 400. Routing then matches the normalised path, and
 * reqcheck_route() answers TRACE with 405 unless the route lists TRACE
 * in its methods, and 400 when the route's (or, with no route, the
 * listener's) path_normalization is "reject" and the path changed.
 * proxy.c forwards the normalised path unless the route says
 * "forward_as_received".
 */
#ifndef GH_REQCHECK_H
#define GH_REQCHECK_H

#include <stdbool.h>

#include "cfg.h"
#include "http1.h"
#include "http_msg.h"
#include "str.h"
#include "target.h"

struct reqcheck {
	struct str host; /* what routing reads: the authority, else Host */
	struct str path; /* normalised (in buf), or "*" */
	bool changed;    /* path differs from the target's */
	char buf[HTTP1_DEF_MAX_REQUEST_LINE];
};

/* Checks <m> whose target parsed as <t>; fills <rc>. Returns 0, or the
 * status to answer (400, 417) with *<why> set to a static reason.
 */
int reqcheck_head(const struct http_msg *m, const struct target *t,
    struct reqcheck *rc, const char **why);

/* After route_match(): <route> may be NULL (no route: then the
 * listener's path_normalization applies). Returns 0, 400 or 405.
 */
int reqcheck_route(const struct http_msg *m, const struct cfg_listener *l,
    const struct cfg_route *route, const struct reqcheck *rc, const char **why);

#endif
