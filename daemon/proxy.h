/*
 * proxy.h: forwarding one request to its origin and relaying the answer.
 *
 * proxy.c rewrites heads (hop-by-hop headers out, X-Forwarded-* and
 * Forwarded in, framing chosen for each side), streams bodies both ways
 * with back-pressure, turns a 101 into a byte tunnel and maps origin
 * failures to 502/504 or to an abortive close once a response has begun.
 */
#ifndef GH_PROXY_H
#define GH_PROXY_H

#include <stdbool.h>
#include <stddef.h>

#include "str.h"
#include "upstream.h"

#define PROXY_HIGH_WATER (256 * 1024) /* stop reading the other side */
#define PROXY_LOW_WATER  (64 * 1024)  /* and resume below this */
/* A request body is held back until it is complete or this large, so a
 * small request with broken framing never reaches the origin, and a
 * complete one can be resent once and goes out with a Content-Length.
 */
#define PROXY_BODY_BUFFER (64 * 1024)

struct conn;
struct http_msg;

/* The request head in c->msg is routed (c->req.route set): connect, send
 * the rewritten head. Returns 0, or -1 after answering an error itself.
 */
int proxy_start(struct conn *c);
struct cfg_server;
/* Sends the request of <c> again, to <s> on a new connection (the head
 * and a fully held body). 0, or -1 when it could not even start.
 */
int proxy_resend(struct conn *c, const struct cfg_server *s);
/* Request body bytes (de-chunked) and the end of the request body. While
 * the request is REQ_IN_HOLD they are held back; proxy_start() is called
 * when the body is complete (<held>: it was held whole) or passes
 * PROXY_BODY_BUFFER.
 */
int proxy_request_body(struct conn *c, const char *p, size_t n);
void proxy_request_end(struct conn *c, bool held);

/* Is the origin's send queue above the high-water mark? */
bool proxy_upstream_backlogged(struct conn *c);
/* The client's send queue drained: read from the origin again. */
void proxy_on_client_drained(struct conn *c);

/* Tunnel mode (after a 101), from the client's side. What the origin
 * says comes through the proxy's struct upstream_owner_ops (proxy.c).
 */
void proxy_tunnel_from_client(struct conn *c);
void proxy_tunnel_from_upstream(struct conn *c);
void proxy_tunnel_client_eof(struct conn *c);

/* Writes the proxy's own short response (404, 502, ...) to the client.
 * <close>: add Connection: close.
 */
void proxy_write_local(struct conn *c, int status, bool close);
/* Answers 308 to https://<host without port><target> (route
 * redirect_https); closes after when the request asked to.
 */
void proxy_write_redirect(struct conn *c, struct str host, struct str path,
    struct str query);
const char *proxy_reason(int status);

#endif
