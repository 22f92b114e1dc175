/*
 * l4.h: TCP proxying for tcp and tls-passthrough listeners.
 *
 * A struct l4_conn (private to l4.c) is one client connection and its
 * origin connection. It is owned by its worker's struct l4_worker from
 * accept to close, holds the snapshot it was accepted under (routes
 * chosen later on the same connection use it), and holds a listener slot
 * (accept.c) that counts in w->nconns so a graceful drain waits for it.
 *
 * Life of a connection: PREAMBLE (a PROXY header from a trusted client,
 * then, on tls-passthrough, the ClientHello: read and kept, never
 * consumed) -> CONNECT (to a server of the route's origin, trying the
 * others when one refuses) -> PUMP (the kept bytes, after our own PROXY
 * header if the origin wants one, then everything else both ways with
 * splice(2); each direction's EOF becomes a shutdown(SHUT_WR) of the
 * other side once its bytes are out; the connection ends when both
 * directions have, or on an error or the route's idle timeout).
 */
#ifndef GH_L4_H
#define GH_L4_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stdint.h>

#include "accept.h"
#include "cfg.h"
#include "stats.h"

struct worker;
struct l4_worker;

/* The L4 state of worker <w>, or NULL on no memory. Thread: main. */
struct l4_worker *l4_worker_new(struct worker *w);
/* Closes every L4 connection of the worker at once and frees <lw>.
 * Thread: the worker, after its loop ended. NULL-safe.
 */
void l4_worker_free(struct l4_worker *lw);

/* Takes <fd> and its listener slot <ref> (accept.c) into worker <w>
 * (which uses its current snapshot). On failure the fd is closed, the
 * slot released and the failure counted. Thread: the worker.
 */
void l4_accept(struct worker *w, struct accept_ref *ref, int fd,
    const struct sockaddr *sa, socklen_t salen);

/* An https listener with passthrough routes (routes with sni names):
 * takes <fd>, peeks at its ClientHello and either passes it through (a
 * name one of those routes accepts) or hands it, untouched, with its
 * slot, to conn_new() for TLS termination. Thread: the worker.
 */
void l4_accept_shared(struct worker *w, struct accept_ref *ref, int fd,
    const struct sockaddr *sa, socklen_t salen);

#endif
