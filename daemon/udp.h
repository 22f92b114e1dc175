/*
 * udp.h: UDP proxying for udp listeners.
 *
 * Each worker wraps its SO_REUSEPORT socket of a udp listener in a struct
 * udp_listener (owned by the worker's listener wrapper, struct wlistener).
 * The kernel steers a client's datagrams to one worker's socket by their
 * address hash, so a client's session lives in one worker. A session is
 * keyed by the client address and owns one connected socket to the server
 * chosen for it, so replies find their way back and two clients never
 * share an origin-side port. Every datagram is forwarded as one datagram,
 * never merged or split. A session ends after its route's idle timeout
 * without traffic either way, or when its listener goes away.
 */
#ifndef GH_UDP_H
#define GH_UDP_H

#include <stdint.h>

struct worker;
struct udp_listener;

/* Starts reading datagrams on <fd> (worker <w>'s socket of listener
 * <lid>, borrowed). Returns NULL on no memory. Thread: the worker.
 */
struct udp_listener *udp_listener_new(struct worker *w, int64_t lid, int fd);

/* Stops reading and closes every session of <ul>. NULL-safe. */
void udp_listener_free(struct udp_listener *ul);

#endif
