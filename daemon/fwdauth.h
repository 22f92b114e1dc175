/*
 * fwdauth.h: forward auth, the Authelia / Authentik / oauth2-proxy
 * convention (route field "forward_auth", cfg.h struct cfg_forward_auth).
 *
 * Before a routed request goes to its origin, a subrequest asks the auth
 * service: GET <path> to a server of the route's forward_auth.origin,
 * chosen by that origin's balancing and health like any request to it,
 * over its TLS-to-origin settings, on the worker's event loop and its
 * keep-alive pool of origin connections (upstream_attach(): a client's
 * checks share one connection while the service keeps it open; a pooled
 * connection the service closed is retried once on a new one). It carries
 * the client's headers (Cookie, Authorization, ...; not hop-by-hop ones,
 * not framing, not the client's X-Forwarded-*, not the copy_headers
 * names) and X-Forwarded-Method, -Proto, -Host, -Uri and -For (the client
 * address, behind trusted proxies the real one), no body.
 *
 *   2xx      the request goes on; the copy_headers of that answer are
 *            added to the request sent to the origin, and the client's
 *            headers of those names are always removed (no forging).
 *   other    (401, 403, 302 to a login page, ...) the answer goes back to
 *            the client as the service gave it: status, headers
 *            (Location, Set-Cookie, WWW-Authenticate, ...) and body (at
 *            most FWDAUTH_BODY_MAX bytes), minus hop-by-hop headers.
 *   failure  no usable server, connect refused, a bad or too large answer:
 *            502; connect or response timeout (the route's connect_ms and
 *            response_ms): 504. Never passed through.
 *
 * A request body waits (held as proxy.h holds it, reads paused past
 * PROXY_BODY_BUFFER) until the answer; it then goes to the origin as
 * usual. Counted in /stats (fwdauth_allowed, _denied, _errors), logged
 * with decision "forward_auth" (denied) or "forward_auth_error".
 */
#ifndef GH_FWDAUTH_H
#define GH_FWDAUTH_H

#include <stdbool.h>

struct conn;
struct fwdauth;
struct rewrite_req;

/* The largest answer body passed back to the client. */
#define FWDAUTH_BODY_MAX (64 * 1024)

/* Called by proxy_start(): true when the request of <c> must wait for
 * (or was answered by) its forward auth; false to go on to the origin.
 */
bool fwdauth_hold(struct conn *c);

/* Adds the headers copied from the auth answer to the origin's request
 * head, and names the client headers it removes.
 */
void fwdauth_request(struct conn *c, struct rewrite_req *rq);

/* Ends a check still running and frees <fa> (the request's end).
 * NULL-safe.
 */
void fwdauth_free(struct fwdauth *fa);

#endif
