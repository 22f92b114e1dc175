/*
 * upstream.h: connections to origin servers, their per-worker keep-alive
 * pools, and the choice of server (smooth weighted round-robin).
 *
 * An upstream_conn is owned by its worker's pool while idle and by one
 * request (conn->req.up) while busy. Pools are keyed by the server's
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
struct conn;
struct worker;
struct upstream_pools;
struct http1_parser;

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
	struct worker *w;        /* borrowed */
	struct bufferevent *bev; /* owned: connects, writes */
	struct sockread rd;      /* plain: our reads (zeroed: TLS) */
	struct event *tmr;       /* owned: connect / response deadline */
	struct conn *owner;      /* borrowed; NULL while idle */
	const struct upstream_owner_ops *ops; /* the owner's, while attached */
	struct http_msg resp;                 /* owned */
	struct http1_parser *parser;          /* owned */
	struct sockaddr_storage sa;
	socklen_t salen;
	unsigned idle_ms;    /* body idle timeout of the request */
	struct cfg *tls_cfg; /* ref held: TLS credentials' snapshot */
	uint64_t tls_key;    /* tls_client_key() of its settings; 0 */
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
 * from upstream.c into the code that owns the request goes through this
 * table (proxy.c's proxy_upstream_ops for a client request today). Each
 * callback runs inside conn_enter()/conn_leave() of the owner.
 */
struct upstream_owner_ops {
	/* The response head; 0 to go on, -1 to refuse it (bad response). */
	int (*on_head)(struct conn *c, struct http_msg *m);
	/* <n> bytes of response body; 0, or -1 to stop. */
	int (*on_body)(struct conn *c, const char *p, size_t n);
	void (*on_complete)(struct conn *c); /* the response is complete */
	void (*on_upgrade)(struct conn *c);  /* 101: bytes both ways now */
	void (*on_fail)(struct conn *c, enum upstream_fail why);
	void (*on_drained)(struct conn *c); /* the origin took what waited */
	/* Should the origin's reading pause (the owner's output is full)? */
	bool (*backlogged)(struct conn *c);
	void (*tunnel_data)(struct conn *c); /* tunnel: origin bytes wait */
	void (*tunnel_eof)(struct conn *c);  /* tunnel: the origin ended */
};

/* Gives request <c> a connection to <s>: an idle pooled one unless
 * <fresh>, else a new connect; the connection reports to <ops>. Sets
 * c->req.up. Returns 0, or -1 when no connection could even be started
 * (the caller answers 502).
 */
int upstream_attach(struct conn *c, const struct upstream_owner_ops *ops,
    const struct cfg_server *s, unsigned connect_ms, unsigned idle_ms,
    bool fresh);

/* Detaches <u> from its request: back to the pool when <reuse> and the
 * response allowed it, else closed. NULL-safe.
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
/* The request is on its way: the head must come within <ms>. */
void upstream_expect_response(struct upstream_conn *u, unsigned ms,
    bool head_request);
/* After a 101: bytes both ways, no parsing. */
void upstream_start_tunnel(struct upstream_conn *u);
/* Feeds bytes already buffered (after a pause, or the tunnel's leftovers). */
void upstream_process(struct upstream_conn *u);

#endif
