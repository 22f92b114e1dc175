/*
 * req.h: one HTTP request on a client connection, and its progress.
 *
 * A struct req lives from the first byte of a request until the
 * connection is idle again; the block and its parser are then given back
 * to the worker's cache (req_give()) for the next request of any
 * connection. The client connection (conn.c) keeps the transport; the
 * request keeps what one exchange needs.
 *
 * Progress is two states, one per direction, because they overlap: a
 * request body may still stream to the origin while the response head has
 * gone to the client. r->in is the request side (REQ_IN_*), r->out the
 * response side (REQ_OUT_*). Both change only through req_to(), which
 * checks a table of allowed transitions (req.c). An illegal transition is
 * a bug in the caller: it is refused, counted (req_bad_transition in
 * /stats) and logged, and in sanitizer builds it aborts.
 *
 *   in:  HEAD -> BODY -> [HOLD -> BODY] -> DONE     (HEAD/HOLD -> DONE too)
 *   out: NONE -> WAIT [-> RETRY -> WAIT] -> HEAD -> DONE
 *        NONE -> DONE (a local answer), WAIT/RETRY -> DONE (502, 504),
 *        WAIT -> TUNNEL -> DONE (101), any but DONE -> ABORT (client gone)
 *
 * What is not progress stays a property flag (REQ_F_*): HEAD method,
 * HTTP/1.1 client, close after, framing on each side, upgrade asked, a
 * body, a body held whole, retried once.
 */
#ifndef GH_REQ_H
#define GH_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "client_addr.h"
#include "http_msg.h"
#include "str.h"

struct cfg;
struct cfg_listener;
struct cfg_route;
struct cfg_server;
struct upstream_conn;
struct stats_obj;
struct evbuffer;
struct http1_parser;
struct http1_limits;
struct http1_callbacks;
struct compress_stream;
struct fwdauth;
struct worker;

enum req_state {
	/* request side: r->in */
	REQ_IN_HEAD = 0, /* reading the head */
	REQ_IN_BODY,     /* head read; its body (if any) is read, and sent on
	                  * or dropped */
	REQ_IN_HOLD,     /* the body is held back (body_buf) until it is
	                  * complete or PROXY_BODY_BUFFER */
	REQ_IN_DONE,     /* the whole request is read, or no more will be */
	/* response side: r->out */
	REQ_OUT_NONE,   /* nothing for the client yet, no origin */
	REQ_OUT_WAIT,   /* sent to an origin, waiting for its head */
	REQ_OUT_RETRY,  /* the origin failed before answering: sent again */
	REQ_OUT_HEAD,   /* response head queued to the client; body follows */
	REQ_OUT_TUNNEL, /* after a 101: bytes both ways */
	REQ_OUT_DONE,   /* the whole response is queued to the client */
	REQ_OUT_ABORT,  /* the connection ended before the response did */
	REQ_S__N
};

enum req_flag {
	REQ_F_HEAD_METHOD = 1u << 0,   /* HEAD: the response has no body */
	REQ_F_CHUNK_OUT = 1u << 1,     /* chunk-encode the response body */
	REQ_F_CHUNK_UP = 1u << 2,      /* chunk-encode the request body */
	REQ_F_CLOSE = 1u << 3,         /* close the connection after this */
	REQ_F_UPGRADE = 1u << 4,       /* client asked to upgrade */
	REQ_F_HAS_BODY = 1u << 5,      /* request carries a body */
	REQ_F_CLIENT_11 = 1u << 6,     /* client speaks HTTP/1.1 */
	REQ_F_RETRIED = 1u << 7,       /* already retried once */
	REQ_F_BODY_BUFFERED = 1u << 8, /* whole body in body_buf: sent with a
	                                * Content-Length, can be resent */
	REQ_F_PATH_NORMAL = 1u << 9,   /* the path is in normal form already
	                                * (reqcheck_head() found it so) */
};

struct req {
	struct cfg *cfg;                            /* ref held */
	const struct cfg_listener *listener;        /* borrowed from cfg */
	const struct cfg_route *route;              /* borrowed from cfg */
	const struct cfg_server *server;            /* borrowed from cfg */
	struct upstream_conn *up;                   /* owned while attached */
	struct stats_obj *rstats, *ostats, *sstats; /* borrowed, global */
	unsigned flags;                             /* REQ_F_* */
	enum req_state in, out; /* progress: req_to() only */
	uint16_t status;
	uint64_t bytes_in, bytes_out, body_in;
	struct timespec t_start, t_up;
	int64_t upstream_ms;
	unsigned retries; /* balance_retry(): tries after the first */
	int64_t tried[4]; /* balance_retry(): servers tried, newest last */
	char *head_copy;  /* owned: request head, kept for one retry */
	size_t head_copy_len, head_copy_cap;
	struct evbuffer *body_buf; /* owned: request body held back */
	struct client_addr client; /* behind trusted proxies (client_addr.h) */
	const char *decision;      /* a policy that answered: for the log */
	const char *user;          /* basic auth user let in (snapshot's) */
	struct str request_id;     /* route request_id: the client's or rid[] */
	char rid[33];
	bool discard; /* the origin's body is dropped (respond_intercept()) */
	/* balance_retry_status(): the server a dropped answer is retried on */
	const struct cfg_server *retry_to;
	struct compress_stream *comp; /* owned: compressing (compress.h) */
	const char *encoding;         /* "gzip", "br": for the log */
	struct fwdauth *fa;    /* owned: the route's forward auth (fwdauth.h) */
	bool rl_passed;        /* let in by the route's rate limit, with */
	unsigned rl_remaining; /* this many requests left (ratelimit.h) */

	/* Kept from one request to the next (pipelined, or in the same
	 * callback): everything above is zeroed by req_clear().
	 */
	struct http_msg msg;         /* owned: current request head */
	struct http1_parser *parser; /* owned */
};

/* A request block for worker <w>, its parser reporting to <cbs> with
 * <arg>: one the cache holds (zeroed, parser between messages), else a new
 * one. States HEAD and NONE. NULL: no memory.
 */
struct req *req_take(struct worker *w, const struct http1_limits *lim,
    const struct http1_callbacks *cbs, void *arg);
/* Ends what one request owns (its forward auth, origin connection,
 * compressor, snapshot, copies) and zeroes it for the next request on the
 * same connection: states HEAD and NONE again.
 */
void req_clear(struct req *r);
/* Clears <r> and gives it back: to <w>'s cache when <reuse> and there is
 * room (the connection is idle between requests), else freed.
 */
void req_give(struct worker *w, struct req *r, bool reuse);
/* Frees the blocks worker <w> keeps (at its exit). */
void req_cache_free(struct worker *w);

/* Is <from> -> <to> in the table? */
bool req_allowed(enum req_state from, enum req_state to);
const char *req_state_name(enum req_state s);
extern bool req_bad_abort;
/* The table (req.c): for each state, a bit per state it may be entered
 * from.
 */
extern const uint16_t req_from[REQ_S__N];
/* req_to()'s refusal: counts, logs, aborts in sanitizer builds. */
bool req_refuse(const struct req *r, enum req_state to);

/* Moves r->in or r->out (the direction <to> belongs to) to <to>. True
 * when the table allows it; false for a bug: counted, logged, the state
 * unchanged (and an abort in sanitizer builds unless req_bad_abort is
 * cleared, as the unit test does). The one way a state changes; inline,
 * as it runs about six times a request.
 */
static inline bool
req_to(struct req *r, enum req_state to)
{
	enum req_state *st = to < REQ_OUT_NONE ? &r->in : &r->out;

	if (__builtin_expect((unsigned)to < REQ_S__N &&
	            (req_from[to] & (1u << *st)) != 0,
	        1)) {
		*st = to;
		return true;
	}
	return req_refuse(r, to);
}

/* The request counts: its head was read, or it was answered. */
static inline bool
req_active(const struct req *r)
{
	return r->in != REQ_IN_HEAD || r->out != REQ_OUT_NONE;
}

/* Something of the response went to the client (a head at least). */
static inline bool
req_out_started(const struct req *r)
{
	return r->out >= REQ_OUT_HEAD;
}

static inline bool
req_out_done(const struct req *r)
{
	return r->out == REQ_OUT_DONE;
}

static inline bool
req_in_done(const struct req *r)
{
	return r->in == REQ_IN_DONE;
}

#endif
