/*
 * conn.h: a client connection, the transport of the requests on it
 * (struct req, req.h).
 *
 * A struct conn is owned by its worker (listed in w->conns) from accept
 * until conn_close(), which is the only way it ends. It holds the snapshot
 * it was accepted under; each request takes the worker's newest snapshot
 * when its head is complete and routes with it, so a keep-alive connection
 * picks up new routes on its next request while a request in flight
 * finishes on the snapshot it started with.
 *
 * Callbacks from libevent enter with conn_enter() and leave with
 * conn_leave(); a conn_close() inside them only marks the connection, and
 * the outermost conn_leave() frees it. After conn_leave() returns true the
 * caller must not touch the connection again.
 */
#ifndef GH_CONN_H
#define GH_CONN_H

#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "accept.h"
#include "cfg.h"
#include "client_addr.h"
#include "http_msg.h"
#include "req.h"
#include "sockread.h"

#define CONN_MAGIC 0x434f4e4eu /* "CONN" */

struct worker;
struct upstream_conn;
struct http1_parser;
struct stats_obj;
struct tls_conn;
struct evbuffer;
struct bufferevent;

enum conn_state {
	CONN_S_IDLE = 0, /* waiting for the first byte of a request */
	CONN_S_HEAD,     /* reading a request head */
	CONN_S_ACTIVE,   /* a request is being proxied */
	CONN_S_TUNNEL,   /* upgraded: bytes both ways */
};

enum conn_flag {
	CONN_F_CLOSING = 1u << 0, /* flush the output, then close */
	CONN_F_DEAD = 1u << 1,    /* closed inside a callback; free on leave */
	CONN_F_PROCESSING = 1u << 2,  /* conn_process() is on the stack */
	CONN_F_READ_PAUSED = 1u << 3, /* back-pressure from the origin */
	CONN_F_DRAIN = 1u << 4,  /* shutting down: close after this request */
	CONN_F_LINGER = 1u << 5, /* output sent; reading the rest, then close */
	CONN_F_PROXY_HDR = 1u << 6, /* a PROXY header must come first */
	CONN_F_PLAIN = 1u << 7,     /* no TLS: the bufferevent is lazy */
};

/* A client's address: TCP listeners see IPv4 and IPv6 only, so 28 bytes
 * instead of a sockaddr_storage's 128. ss_family reads the family of
 * either (it is the first field of both); conn_peer_storage() widens it.
 */
union conn_addr {
	sa_family_t ss_family;
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;
};

struct conn {
	unsigned magic;
	unsigned flags; /* CONN_F_* */
	unsigned busy;  /* conn_enter() depth */
	int fd;
	uint64_t id;
	struct worker *w;      /* borrowed: the owner */
	struct accept_ref acc; /* the listener slot (accept.c); acc.lid: the
	                        * listener's id */
	struct cfg *cfg;       /* ref held: snapshot at accept */
	/* owned: what the socket has not taken yet (the fd is ours). TLS:
	 * for the connection's life (the session queues records there);
	 * plain: only while output waits for the socket (NULL when idle)
	 */
	struct bufferevent *bev;
	struct sockread rd;     /* our reads (TLS: decrypted, tls.h) */
	struct evbuffer *stage; /* owned: output not yet handed on; lazy */
	struct tls_conn *tls;   /* owned: https: the session */
	struct event *tmr;      /* owned: header deadline, linger; lazy */
	/* owned: the request's state, from its first byte until the
	 * connection is idle at the end of a callback (conn_leave()); NULL
	 * while idle. Never freed while a callback runs.
	 */
	struct req *req;
	enum conn_state state;
	unsigned nreqs;
	union conn_addr peer_sa; /* the socket's peer, or a PROXY header's */
	uint16_t peer_port;
	char peer[INET6_ADDRSTRLEN];
	int climit; /* 1: counted in max_connections_per_client */
	/* owned, rare: the address counted in max_connections_per_client
	 * when a PROXY header replaced peer_sa afterwards; NULL: peer_sa.
	 */
	struct sockaddr_storage *climit_sa;
	TAILQ_ENTRY(conn) link;
};

/* The peer address widened to a sockaddr_storage (for the functions that
 * take one).
 */
void conn_peer_storage(const struct conn *c, struct sockaddr_storage *ss);

/* Takes <fd> and the listener slot <ref> (accept.c) into worker <w>. On
 * failure the fd is closed, the slot released and the failure counted.
 */
void conn_new(struct worker *w, struct accept_ref *ref, int fd,
    const struct sockaddr *sa, socklen_t salen);

/* Shutdown: closes an idle connection now, or lets the running request
 * finish and closes after it.
 */
void conn_drain(struct conn *c);
/* Closes at once (worker exit). */
void conn_abort(struct conn *c);

void conn_enter(struct conn *c);
/* Returns true when the connection was freed. */
bool conn_leave(struct conn *c);
/* Ends the connection at once, dropping unsent output (the one close
 * path: everything else ends up here).
 */
void conn_close(struct conn *c);
/* Sends what is queued, then closes (with a short lingering read so a
 * client still sending does not turn our answer into a reset).
 */
void conn_finish(struct conn *c);

/* Queues <n> bytes for the client. Output is staged and written when the
 * current callback ends (conn_leave()), in one writev(2) straight to the
 * socket when nothing is queued before it: no poll round trip and no
 * epoll_ctl for the common small answer. 0, or -1 (no memory).
 */
int conn_write(struct conn *c, const void *p, size_t n);
/* Moves everything in <b> to the client's output (no copy). 0 or -1. */
int conn_write_buffer(struct conn *c, struct evbuffer *b);
/* Hands staged output on now (before tunnelling or checking the queue). */
void conn_flush(struct conn *c);

/* Parses and acts on buffered client bytes; safe to call again. */
void conn_process(struct conn *c);

/* The client's buffered input (NULL: none), and output queued behind
 * the socket.
 */
struct evbuffer *conn_input(struct conn *c);
size_t conn_output_pending(struct conn *c);
/* Stops the header deadline. */
void conn_disarm(struct conn *c);

/* Reading from the client on or off (back-pressure, half-close). */
void conn_read_enable(struct conn *c, bool on);
/* Read idle timeout, restarted by each read; 0: none. */
void conn_read_timeout(struct conn *c, unsigned ms);

/* Frees the spare output stage worker <w> keeps for reuse (at its
 * exit).
 */
void conn_stage_spare_free(struct worker *w);

/* Called by upstream.c / proxy.c. */
void conn_resume_read(struct conn *c);
void conn_req_finish_if_done(struct conn *c);
/* Answers <status> with a short text body; closes after when <close>. */
void conn_respond_error(struct conn *c, int status, bool close);

#endif
