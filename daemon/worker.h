/*
 * worker.h: data-plane threads. Each worker owns an event_base, its own
 * SO_REUSEPORT socket per listener (from listener.c), its client
 * connections and its upstream keep-alive pools. Nothing on a worker's
 * request path takes a lock; the only cross-thread traffic is the snapshot
 * handoff (publish.h) and the shutdown request.
 */
#ifndef GH_WORKER_H
#define GH_WORKER_H

#include <sys/queue.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define WORKER_MAGIC 0x574f524bu /* "WORK" */

struct cfg;
struct conn;
struct upstream_pools;
struct access_log;
struct l4_worker;
struct evbuffer;
struct udp_listener;
struct accept_gauge;

/* A listener socket watched by one worker (made by accept.c). */
struct wlistener {
	int64_t id;
	int fd;                     /* borrowed from listener.c */
	struct evconnlistener *evl; /* owned; NULL for udp */
	struct udp_listener *udp;   /* owned; udp listeners only (udp.c) */
	struct event *pause_ev;     /* owned; ends an accept pause */
	struct accept_gauge *gauge; /* borrowed: open count (accept.c) */
	struct worker *w;
	struct wlistener *next;
};

TAILQ_HEAD(conn_list, conn);

#define WORKER_POKE_HANDOFF 0x1u /* a snapshot was published */
#define WORKER_POKE_DRAIN   0x2u /* stop accepting, finish, exit */

#define WORKER_REQ_CACHE 16

struct req;

struct worker {
	unsigned magic;
	unsigned idx;
	pthread_t thread;
	struct event_base *base; /* owned */
	/* Other threads ask for a handoff or a drain by setting a bit of
	 * <pokes> and writing to <poke_fd>; nothing else of the worker's
	 * base is theirs to touch (it has no lock).
	 */
	int poke_fd;               /* owned; an eventfd */
	struct event *poke_ev;     /* owned; reads poke_fd */
	_Atomic unsigned pokes;    /* WORKER_POKE_* not yet seen */
	unsigned drain_ms;         /* written before a WORKER_POKE_DRAIN */
	struct event *deadline_ev; /* owned; hard stop of the drain */
	struct cfg *cur;           /* ref held: newest snapshot taken */
	int64_t cur_gen;
	_Atomic int64_t acked_gen; /* read by the publisher */
	struct wlistener *listeners;
	struct conn_list conns; /* every open client connection */
	unsigned nconns;        /* admitted connections (accept.c), not UDP */
	struct upstream_pools *pools; /* owned; idle origin connections */
	struct l4_worker *l4;         /* owned; tcp/passthrough conns (l4.c) */
	bool draining;
	uint64_t next_conn_id;
	char *scratch; /* owned; head serialization buffer */
	size_t scratch_cap;
	/* owned: request blocks idle connections gave back (conn.c) */
	struct req *req_cache[WORKER_REQ_CACHE];
	unsigned nreq_cache;
	/* owned: an empty output stage an idle connection gave back */
	struct evbuffer *stage_spare;
};

/* Creates <n> workers (not started). Thread: main, once. */
void workers_init(unsigned n);
unsigned workers_count(void);
/* Starts the threads; each takes the newest published snapshot. */
void workers_start(void);
/* Asks every worker to stop accepting, finish in-flight requests and
 * exit within <timeout_ms>; joins them. Thread: main.
 */
void workers_shutdown(unsigned timeout_ms);

/* Called by an HTTP connection when it is done (leaves w->conns; its
 * accept_ref is released by conn.c).
 */
void worker_conn_gone(struct worker *w, struct conn *c);

/* Ensures w->scratch holds at least <n> bytes; -1 on no memory. */
int worker_scratch(struct worker *w, size_t n);

#endif
