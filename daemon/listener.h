/*
 * listener.h: the process-wide set of listening sockets.
 *
 * Sockets live outside snapshots, keyed by listener id and bind address,
 * so a snapshot swap that keeps a listener keeps its sockets (no dropped
 * connection). Each listener has one SO_REUSEPORT socket per worker,
 * created by the publishing thread (which keeps CAP_NET_BIND_SERVICE);
 * workers only wrap them in their event loops. A bind the kernel refuses
 * is listener state (shown by /api/v1/status), not an invalid config.
 */
#ifndef GH_LISTENER_H
#define GH_LISTENER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cfg;

struct listener_state {
	int64_t id;
	char name[72];
	char address[64]; /* as configured */
	uint16_t port;    /* bound port (the kernel's choice for port 0) */
	bool bound;
	char error[160]; /* "bind: Address already in use" when !bound */
};

/* Copies the state of every current listener into <out> (at most <max>);
 * returns how many there are. Thread: any.
 */
size_t listener_states(struct listener_state *out, size_t max);

/* The bound port of listener <id>, 0 when it is not bound. Thread: any. */
uint16_t listener_bound_port(int64_t id);

/* Publishing thread: opens the sockets <c> needs that are not open yet
 * (nworkers each). Never fails as a whole: refused binds become state.
 */
void listener_prepare(const struct cfg *c, unsigned nworkers);

/* Publishing thread, after every worker took <c>: closes the sockets of
 * listeners <c> no longer has.
 */
void listener_retire(const struct cfg *c);

/* Worker <w>'s socket for listener <id>, or -1 when there is none. */
int listener_fd(int64_t id, unsigned w);

struct cfg_listener;
/* Worker <w>'s socket for the bind address <l> names now, or -1. */
int listener_fd_for(const struct cfg_listener *l, unsigned w);

/* Closes everything (shutdown). */
void listener_close_all(void);

#endif
