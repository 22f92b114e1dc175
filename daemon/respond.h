/*
 * respond.h: answers a route makes by itself, and its path rewrite.
 *
 * respond_route() is called once a request has its route (conn.c): a
 * route with `redirect` answers with a Location built from its template
 * (tmpl.h) plus the request's query, a route with `respond` with its fixed
 * status, type and body. Either way no origin is involved and the request
 * body, if any, is read and dropped. Before either, a route in maintenance
 * answers 503 (with Retry-After) to every client outside its allow list,
 * and a route with request_id keeps the client's X-Request-ID or makes
 * one. respond_rewrite_path() gives the path
 * an origin is sent when the route has `rewrite.replace_prefix`.
 */
#ifndef GH_RESPOND_H
#define GH_RESPOND_H

#include <stdbool.h>
#include <stddef.h>

#include "str.h"
#include "tmpl.h"

struct conn;
struct target;
struct cfg_route;

/* 1 when the route answered the request (the response is queued), else
 * 0: the request goes on to the origin.
 */
int respond_route(struct conn *c, struct str host, const struct target *t);

/* <path> with the route's matched path_prefix replaced by its
 * rewrite.replace_prefix, in buf[0..cap); <path> itself when the route has
 * no rewrite, the path does not start with the prefix, or it does not fit.
 */
struct str respond_rewrite_path(const struct cfg_route *rt, struct str path,
    char *buf, size_t cap);

/* The template values of the request on <c> (host and path as given). */
void respond_tmpl_ctx(const struct conn *c, struct str host, struct str path,
    struct tmpl_ctx *x);

/* Fills the header-rule members of <rq> (rules, template values in <tx>,
 * the request id to add) for the origin's request head (proxy.c).
 */
struct rewrite_req;
void respond_request_rules(struct conn *c, struct rewrite_req *rq,
    struct tmpl_ctx *tx);

/* Writes the route's response header rules into buf[0..cap); returns the
 * length they need (above <cap>: did not fit).
 */
size_t respond_response_rules(struct conn *c, char *buf, size_t cap);

/* Is <sa> in the maintenance allow list of <mt>? */
struct cfg_maint;
struct sockaddr;
bool respond_maint_allows(const struct cfg_maint *mt,
    const struct sockaddr *sa);

/* Answers <status> with the route's error page for it, when it has one
 * (proxy_write_local()); false: it has none, nothing was written.
 */
bool respond_error_page(struct conn *c, int status, bool close);

/* An origin's answer <m> the route's error pages replace (intercept):
 * the page is written and the origin's body will be dropped. true when it
 * did.
 */
struct http_msg;
bool respond_intercept(struct conn *c, const struct http_msg *m);

/* The reason phrase of <status>. */
const char *respond_reason(int status);

#endif
