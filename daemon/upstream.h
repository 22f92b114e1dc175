/*
 * upstream.h: connections to origin servers, their per-worker keep-alive
 * pools, and the choice of server (smooth weighted round-robin).
 *
 * An upstream_conn is owned by its worker's pool while idle and by one
 * owner while busy: a client request (proxy.c) or a forward auth check
 * (fwdauth.c), each through its own struct upstream_owner_ops. upstream.c
 * knows nothing else of its owner. Pools are keyed by the server's
 * stable id and bind address, so they survive snapshot swaps; a server
 * that leaves the configuration has its idle connections closed.
 */
#ifndef GH_UPSTREAM_H
#define GH_UPSTREAM_H

#include <sys/queue.h>
#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http_msg.h"
#include "sockread.h"

#define UPSTREAM_MAGIC    0x55505354u /* "UPST" */
#define UPSTREAM_IDLE_MAX 64          /* idle connections per server */
#define UPSTREAM_IDLE_MS  60000u      /* idle connection lifetime */

struct cfg;
struct cfg_origin;
struct cfg_server;
struct worker;
struct upstream_pools;
struct http1_parser;
struct tls_conn;

enum upstream_fail {
	UPSTREAM_FAIL_CONNECT = 0,      /* refused, unreachable: 502 */
	UPSTREAM_FAIL_CONNECT_TIMEOUT,  /* 504 */
	UPSTREAM_FAIL_RESPONSE_TIMEOUT, /* 504 */
	UPSTREAM_FAIL_IDLE_TIMEOUT,     /* body stalled */
	UPSTREAM_FAIL_BAD_RESPONSE,     /* 502 */
	UPSTREAM_FAIL_CLOSED,           /* closed before/while responding */
};

enum upstream_flag {
	UPSTREAM_F_CONNECTED = 1u << 0,
	UPSTREAM_F_REUSED = 1u << 1,    /* taken from the pool */
	UPSTREAM_F_GOT_BYTES = 1u << 2, /* response bytes arrived */
	UPSTREAM_F_TUNNEL = 1u << 3,
	UPSTREAM_F_KEEPALIVE = 1u << 4, /* response allows reuse */
	UPSTREAM_F_RESP_DONE = 1u << 5,
};

struct upstream_conn {
	unsigned magic;
	unsigned flags; /* UPSTREAM_F_* */
	int64_t server_id;
	struct worker *w;         /* borrowed */
	struct bufferevent *bev;  /* owned: connects, writes (TLS: records) */
	struct sockread rd;       /* our reads (TLS: decrypted, tls.h) */
	struct event *tmr;        /* owned: connect / response deadline */
	uint64_t resp_deadline;   /* monotonic ms for the head; 0: none */
	uint64_t tmr_at;          /* monotonic ms <tmr> fires; 0: not pending */
	struct tls_conn *tls;     /* owned: TLS origins' session; NULL */
	struct evbuffer *tls_out; /* owned, TLS: plaintext to encrypt */
	struct event *tls_ev;     /* owned, TLS: encrypts tls_out */
	void *owner;              /* borrowed, opaque; NULL while idle */
	const struct upstream_owner_ops *ops; /* the owner's, while attached */
	struct upstream_conn **slot;          /* the owner's pointer to it */
	struct http_msg resp;                 /* owned */
	struct http1_parser *parser;          /* owned */
	struct sockaddr_storage sa;
	socklen_t salen;
	unsigned idle_ms;     /* body idle timeout of the request */
	unsigned response_ms; /* the head's deadline once connected */
	bool head_req;        /* the request was HEAD: no body follows */
	struct cfg *tls_cfg;  /* ref held: TLS credentials' snapshot */
	uint64_t tls_key;     /* tls_client_key() of its settings; 0 */
	TAILQ_ENTRY(upstream_conn) link; /* in the pool while idle */
};

struct upstream_pools *upstream_pools_new(struct worker *w);
void upstream_pools_free(struct upstream_pools *p);
/* Closes every idle connection (shutdown). */
void upstream_pools_free_idle(struct upstream_pools *p);
/* Drops pools of servers <c> no longer has (or that moved). */
void upstream_pools_reconcile(struct upstream_pools *p, const struct cfg *c);

struct balance_req;
/* Chooses a server of <o> by its balance for a request <br> (balance.h;
 * NULL: no key, nothing avoided). NULL when every server is avoided.
 */
const struct cfg_server *upstream_choose(struct upstream_pools *p,
    const struct cfg_origin *o, const struct balance_req *br);
/* Chooses a server of <o>, skipping the ids in <avoid> (navoid of them). */
const struct cfg_server *upstream_pick(struct upstream_pools *p,
    const struct cfg_origin *o, const int64_t *avoid, size_t navoid);

/* What an origin connection tells its owner, and asks it: every call
 * from upstream.c into the code that owns it goes through this table
 * (proxy.c's for a client request, fwdauth.c's for an auth check), with
 * the opaque <owner> given to upstream_attach().
 *
 * Contract: each event is bracketed by enter(owner) ... leave(owner); the
 * owner must stay valid between the two even if it lets go of the
 * connection or ends inside (conn_enter()/conn_leave() give that for a
 * client connection). After any call that may have let go, upstream.c
 * asks holds(owner, u) and stops when it is false: <u> may be freed, and
 * is never touched again. The owner lets go only with upstream_release(),
 * and always before the memory of its pointer (the attach's <slot>) goes.
 */
struct upstream_owner_ops {
	void (*enter)(void *owner);
	void (*leave)(void *owner);
	/* Does <owner> still hold <u> and want its events? (Compares the
	 * pointer only: <u> may be freed.)
	 */
	bool (*holds)(void *owner, const struct upstream_conn *u);
	/* The response head; 0 to go on, -1 to refuse it (bad response). */
	int (*on_head)(void *owner, struct http_msg *m);
	/* <n> bytes of response body; 0, or -1 to stop. */
	int (*on_body)(void *owner, const char *p, size_t n);
	void (*on_complete)(void *owner); /* the response is complete */
	void (*on_upgrade)(void *owner);  /* 101: bytes both ways now */
	void (*on_fail)(void *owner, enum upstream_fail why);
	void (*on_drained)(void *owner); /* the origin took what waited */
	/* Should the origin's reading pause (the owner's output is full)? */
	bool (*backlogged)(void *owner);
	void (*tunnel_data)(void *owner); /* tunnel: origin bytes wait */
	void (*tunnel_eof)(void *owner);  /* tunnel: the origin ended */
};

/* Who a connection works for, given to upstream_attach(). */
struct upstream_owner {
	void *arg;                            /* passed to every op */
	const struct upstream_owner_ops *ops; /* static */
	struct upstream_conn **slot; /* the owner's pointer: set by attach,
	                              * NULL again by upstream_release() */
	struct cfg *cfg; /* the snapshot a TLS session's credentials are
	                  * in: a new TLS connection keeps a reference */
};

/* Gives <own> a connection of worker <w> to <s>: an idle pooled one
 * unless <fresh>, else a new connect; the connection reports to
 * own->ops. Sets *own->slot. Returns 0, or -1 when no connection could
 * even be started (the caller answers 502).
 */
int upstream_attach(struct worker *w, const struct upstream_owner *own,
    const struct cfg_server *s, unsigned connect_ms, unsigned idle_ms,
    bool fresh);

/* Detaches <u> from its owner (*slot = NULL): back to the pool when
 * <reuse> and the response allowed it, else closed. NULL-safe.
 */
void upstream_release(struct upstream_conn *u, bool reuse);

struct evbuffer *upstream_output(struct upstream_conn *u);
/* Queues <n> bytes for the origin, sending them at once when the
 * connection is plain, established and has nothing queued. 0 or -1.
 */
int upstream_write(struct upstream_conn *u, const void *p, size_t n);
size_t upstream_pending(struct upstream_conn *u);
void upstream_pause_read(struct upstream_conn *u);
void upstream_resume_read(struct upstream_conn *u);
/* The request is on its way: the head must come within <ms> of the
 * connection being up; <head_request>: it was HEAD (no body follows any
 * head, interim ones included).
 */
void upstream_expect_response(struct upstream_conn *u, unsigned ms,
    bool head_request);
/* After a 101: bytes both ways, no parsing. */
void upstream_start_tunnel(struct upstream_conn *u);
/* Feeds bytes already buffered (after a pause, or the tunnel's leftovers). */
void upstream_process(struct upstream_conn *u);

#endif
