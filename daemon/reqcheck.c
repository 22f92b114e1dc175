/*
 * reqcheck.c: a request head's Expect, Host and path, and what its route
 * allows (reqcheck.h). No I/O and no allocation: conn.c keeps the
 * struct reqcheck on its stack for the length of conn_on_head().
 */
#include "reqcheck.h"

#include "normalize.h"

int
reqcheck_head(const struct http_msg *m, const struct target *t,
    struct reqcheck *rc, const char **why)
{
	char hbuf[NORM_HOST_MAX];
	struct str name, hv;
	enum norm_err e;
	size_t i, n;

	for (i = 0; i < m->nhdrs; i++) {
		name = http_msg_hname(m, i);
		if (name.len == 6 && str_caseeq_cstr(name, "expect") &&
		    !str_caseeq_cstr(str_trim(http_msg_hvalue(m, i)),
		        "100-continue")) {
			*why = "unsupported Expect";
			return 417;
		}
	}
	/* A Host value must be valid even where the authority wins. */
	hv = http_msg_host(m);
	if (hv.p != NULL &&
	    (e = norm_host(hv, hbuf, sizeof(hbuf), &n)) != NORM_OK) {
		*why = "invalid Host";
		return 400;
	}
	if (t->form == TARGET_ABSOLUTE &&
	    norm_host(t->authority, hbuf, sizeof(hbuf), &n) != NORM_OK) {
		*why = "invalid authority";
		return 400;
	}
	rc->host = t->form == TARGET_ABSOLUTE ? t->authority : hv;
	rc->changed = false;
	if (t->form == TARGET_ASTERISK || t->form == TARGET_AUTHORITY) {
		rc->path = t->path;
		return 0;
	}
	if ((e = norm_path(t->path, rc->buf, sizeof(rc->buf), &n)) != NORM_OK) {
		*why = norm_strerror(e);
		return 400;
	}
	rc->path = str_make(rc->buf, n);
	rc->changed = !str_eq(rc->path, t->path);
	return 0;
}

int
reqcheck_route(const struct http_msg *m, const struct cfg_listener *l,
    const struct cfg_route *route, const struct reqcheck *rc, const char **why)
{
	enum cfg_pathnorm pn =
	    route != NULL ? cfg_route_pathnorm(route, l) : l->pathnorm;

	if (m->method == CFG_M_TRACE &&
	    (route == NULL || (route->methods & CFG_M_TRACE) == 0)) {
		*why = "TRACE not allowed by the route";
		return 405;
	}
	if (pn == CFG_PATHNORM_REJECT && rc->changed) {
		*why = "path not in normal form";
		return 400;
	}
	return 0;
}
