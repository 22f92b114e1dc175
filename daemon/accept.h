/*
 * accept.h: the listener types and the one accept path.
 *
 * Every listener protocol (http, https, tcp, tls-passthrough, udp) is one
 * row of a table in accept.c: how its socket is watched, which module
 * takes an accepted connection, and which counters it feeds. What they
 * share lives here once: accepting, the back-off when accept(2) runs out
 * of descriptors, max_connections, the per-listener counters and the
 * worker's connection count that a drain waits on.
 *
 * A connection admitted by accept_admit() holds a struct accept_ref until
 * it ends; accept_release() gives the slot back. A ref moves with the
 * connection (an https connection peeked at by l4.c and handed to conn.c).
 */
#ifndef GH_ACCEPT_H
#define GH_ACCEPT_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stdint.h>

#include "cfg.h"

struct worker;
struct wlistener;
struct accept_gauge;

/* One admitted connection's hold on its listener. */
struct accept_ref {
	struct accept_gauge *g; /* borrowed: the listener's open count */
	int64_t lid;
	bool held; /* a slot is held: accept_release() gives it back */
	bool conn; /* counts in w->nconns (a drain waits for it) */
};

/* Does a worker serve listeners of <proto>? */
bool accept_serves(enum cfg_proto proto);

/* Worker <w>'s wrapper of socket <fd> for listener <l>, watched in its
 * event loop, or NULL (logged). Thread: the worker.
 */
struct wlistener *accept_listener_new(struct worker *w,
    const struct cfg_listener *l, int fd);
/* Stops watching and frees <wl>; connections it accepted go on. */
void accept_listener_free(struct wlistener *wl);

/* The shared open count of listener <lid> (all workers), created on first
 * use and never freed. NULL only when memory runs out. Thread: any; takes
 * a mutex (call it when a listener is set up, not per connection).
 */
struct accept_gauge *accept_gauge(int64_t lid);

/* Admits one more connection (or UDP session) on <l> through gauge <g>:
 * false when max_connections is reached (counted: the type's limit
 * counter and the listener's errors). On success <ref> holds the slot and
 * the listener's requests and active counters went up; <conn>: the
 * connection also counts in w->nconns. Thread: the worker.
 */
bool accept_admit(struct worker *w, const struct cfg_listener *l,
    struct accept_gauge *g, bool conn, struct accept_ref *ref);

/* Gives <ref>'s slot back (no-op when none is held; <lid> stays). The
 * last connection of a draining worker ends its loop.
 */
void accept_release(struct worker *w, struct accept_ref *ref);

/* Open connections of listener <lid> across workers (tests, API). */
uint64_t accept_open(int64_t lid);

#endif
