/*
 * req.c: a request's life and its two progress states (req.h).
 *
 * The table below is the whole state machine: for each state, the states
 * it may be entered from. Transitions happen where the event is seen:
 *   in   HEAD -> BODY      conn_on_head(): the head is complete
 *        BODY -> HOLD      conn_on_head(): a body is held back
 *        HOLD -> BODY      proxy_start() sends it on; or it is dropped (a
 *                          local answer, no memory, forward auth denied)
 *        * -> DONE         conn_on_complete(), or a refusal that reads no
 *                          more (conn_respond_error(), conn_process())
 *   out  NONE -> WAIT      proxy.c send_head(): at an origin
 *        WAIT -> RETRY     proxy_resend(): the origin failed, sent again
 *        RETRY -> WAIT     send_head() on the new connection
 *        WAIT -> HEAD      write_response_head(), respond_intercept()
 *        WAIT -> TUNNEL    proxy_on_upgrade(): a 101
 *        * -> DONE         the last byte queued: the origin's, or a local
 *                          answer (conn_local(), fail_status(), ...)
 *        * -> ABORT        conn_free() of a request not done
 * A state never goes back, except RETRY -> WAIT; req_clear() starts the
 * next request of the connection over at HEAD and NONE.
 */
#include "req.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "cfg.h"
#include "compress.h"
#include "fwdauth.h"
#include "http1.h"
#include "log.h"
#include "stats.h"
#include "upstream.h"
#include "worker.h"

#define REQ_CACHE_BUF 4096 /* head buffer a cached request keeps */

/* Sanitizer builds (and -DREQ_STRICT=1) abort on an illegal transition. */
#ifndef REQ_STRICT
#if defined(__SANITIZE_ADDRESS__)
#define REQ_STRICT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define REQ_STRICT 1
#endif
#endif
#endif
#ifndef REQ_STRICT
#define REQ_STRICT 0
#endif

bool req_bad_abort = REQ_STRICT;

#define B(s) (1u << (s))

/* clang-format off */
const uint16_t req_from[REQ_S__N] = {
	[REQ_IN_HEAD]    = 0,
	[REQ_IN_BODY]    = B(REQ_IN_HEAD) | B(REQ_IN_HOLD),
	[REQ_IN_HOLD]    = B(REQ_IN_BODY),
	[REQ_IN_DONE]    = B(REQ_IN_HEAD) | B(REQ_IN_BODY) | B(REQ_IN_HOLD),
	[REQ_OUT_NONE]   = 0,
	[REQ_OUT_WAIT]   = B(REQ_OUT_NONE) | B(REQ_OUT_RETRY),
	[REQ_OUT_RETRY]  = B(REQ_OUT_WAIT),
	[REQ_OUT_HEAD]   = B(REQ_OUT_WAIT),
	[REQ_OUT_TUNNEL] = B(REQ_OUT_WAIT),
	[REQ_OUT_DONE]   = B(REQ_OUT_NONE) | B(REQ_OUT_WAIT) | B(REQ_OUT_RETRY) |
	                   B(REQ_OUT_HEAD) | B(REQ_OUT_TUNNEL),
	[REQ_OUT_ABORT]  = B(REQ_OUT_NONE) | B(REQ_OUT_WAIT) | B(REQ_OUT_RETRY) |
	                   B(REQ_OUT_HEAD) | B(REQ_OUT_TUNNEL),
};

static const char *const req_names[REQ_S__N] = {
	[REQ_IN_HEAD] = "in_head",     [REQ_IN_BODY] = "in_body",
	[REQ_IN_HOLD] = "in_hold",     [REQ_IN_DONE] = "in_done",
	[REQ_OUT_NONE] = "out_none",   [REQ_OUT_WAIT] = "out_wait",
	[REQ_OUT_RETRY] = "out_retry", [REQ_OUT_HEAD] = "out_head",
	[REQ_OUT_TUNNEL] = "out_tunnel", [REQ_OUT_DONE] = "out_done",
	[REQ_OUT_ABORT] = "out_abort",
};
/* clang-format on */

const char *
req_state_name(enum req_state s)
{
	return (unsigned)s < REQ_S__N ? req_names[s] : "?";
}

bool
req_allowed(enum req_state from, enum req_state to)
{
	if ((unsigned)from >= REQ_S__N || (unsigned)to >= REQ_S__N ||
	    (from < REQ_OUT_NONE) != (to < REQ_OUT_NONE))
		return false;
	return (req_from[to] & B(from)) != 0;
}

bool
req_refuse(const struct req *r, enum req_state to)
{
	enum req_state from = to < REQ_OUT_NONE ? r->in : r->out;

	stats_inc(STAT_REQ_BAD_TRANSITION);
	log_warnx("BUG: request state %s -> %s refused (in %s, out %s)",
	    req_state_name(from), req_state_name(to), req_state_name(r->in),
	    req_state_name(r->out));
	if (req_bad_abort)
		abort();
	return false;
}

struct req *
req_take(struct worker *w, const struct http1_limits *lim,
    const struct http1_callbacks *cbs, void *arg)
{
	struct req *r;

	if (w->nreq_cache > 0) {
		/* A block an idle connection gave back: cleared up to its
		 * parser, which is between messages, and its head buffer.
		 */
		r = w->req_cache[--w->nreq_cache];
		http1_set_arg(r->parser, arg);
		return r;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->in = REQ_IN_HEAD;
	r->out = REQ_OUT_NONE;
	http_msg_init(&r->msg);
	if ((r->parser = http1_new(HTTP1_REQUEST, lim, cbs, arg, &r->msg)) ==
	    NULL) {
		free(r);
		return NULL;
	}
	return r;
}

void
req_clear(struct req *r)
{
	char *head_copy = NULL;
	size_t head_copy_cap = 0;

	fwdauth_free(r->fa); /* before the snapshot its TLS settings are in */
	upstream_release(r->up, false);
	compress_free(r->comp);
	cfg_unref(r->cfg);
	/* A small head copy's buffer stays for the next request (one
	 * malloc and free fewer per request), a large one goes.
	 */
	if (r->head_copy_cap <= REQ_CACHE_BUF) {
		head_copy = r->head_copy;
		head_copy_cap = r->head_copy_cap;
	} else {
		free(r->head_copy);
	}
	if (r->body_buf != NULL)
		evbuffer_free(r->body_buf);
	memset(r, 0, offsetof(struct req, msg));
	r->in = REQ_IN_HEAD;
	r->out = REQ_OUT_NONE;
	r->head_copy = head_copy;
	r->head_copy_cap = head_copy_cap;
}

static void
req_destroy(struct req *r)
{
	free(r->head_copy);
	http1_free(r->parser);
	http_msg_fini(&r->msg);
	free(r);
}

/* <reuse>: the connection is idle between requests, so the block can go
 * to the worker's cache for the next request of any connection (malloc
 * and free of the block, parser and head buffers cost more than the rest
 * of a small request's bookkeeping). A cached block holds no more than a
 * small head buffer; the cache is bounded, so idle connections still hold
 * no request state.
 */
void
req_give(struct worker *w, struct req *r, bool reuse)
{
	if (r == NULL)
		return;
	req_clear(r);
	if (reuse && w->nreq_cache < WORKER_REQ_CACHE && !w->draining &&
	    !http1_in_message(r->parser)) {
		if (r->msg.cap > REQ_CACHE_BUF) {
			http_msg_fini(&r->msg);
			http_msg_init(&r->msg);
		}
		http1_set_arg(r->parser, NULL);
		w->req_cache[w->nreq_cache++] = r;
		return;
	}
	req_destroy(r);
}

void
req_cache_free(struct worker *w)
{
	while (w->nreq_cache > 0)
		req_destroy(w->req_cache[--w->nreq_cache]);
}
