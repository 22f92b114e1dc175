/*
 * test_req.c: a request's two progress states (req.c) and its life in the
 * worker's cache.
 *
 * Every path the daemon takes is walked through req_to() as conn.c,
 * proxy.c and the local answers take it; every pair the table refuses is
 * refused, counted in req_bad_transition and leaves the state as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* cmocka.h needs stdarg.h, stddef.h and setjmp.h first. */
#include <cmocka.h>

#include "check.h"
#include "http1.h"
#include "req.h"
#include "stats.h"
#include "worker.h"

#define END REQ_S__N

/* A path: the states entered, in order, each from the one before in its
 * direction. END ends the list.
 */
struct path {
	const char *name;
	enum req_state to[12];
};

/* clang-format off */
static const struct path paths[] = {
	{ "plain GET",
	  { REQ_IN_BODY, REQ_OUT_WAIT, REQ_IN_DONE, REQ_OUT_HEAD,
	    REQ_OUT_DONE, END } },
	{ "POST, body held whole then sent",
	  { REQ_IN_BODY, REQ_IN_HOLD, REQ_IN_DONE, REQ_OUT_WAIT,
	    REQ_OUT_HEAD, REQ_OUT_DONE, END } },
	{ "POST, body streamed past the buffer",
	  { REQ_IN_BODY, REQ_IN_HOLD, REQ_OUT_WAIT, REQ_IN_BODY,
	    REQ_OUT_HEAD, REQ_IN_DONE, REQ_OUT_DONE, END } },
	{ "response done before the body (close after)",
	  { REQ_IN_BODY, REQ_IN_HOLD, REQ_OUT_WAIT, REQ_IN_BODY,
	    REQ_OUT_HEAD, REQ_OUT_DONE, REQ_IN_DONE, END } },
	{ "local answer (404, redirect, respond, 401)",
	  { REQ_IN_BODY, REQ_OUT_DONE, REQ_IN_DONE, END } },
	{ "local answer while a body is held (413, 503)",
	  { REQ_IN_BODY, REQ_IN_HOLD, REQ_IN_BODY, REQ_OUT_DONE,
	    REQ_IN_DONE, END } },
	{ "refused head (400, 408, 431)",
	  { REQ_OUT_DONE, REQ_IN_DONE, END } },
	{ "origin failed: 502",
	  { REQ_IN_BODY, REQ_OUT_WAIT, REQ_IN_DONE, REQ_OUT_DONE, END } },
	{ "retry on a fresh connection, then answered",
	  { REQ_IN_BODY, REQ_IN_DONE, REQ_OUT_WAIT, REQ_OUT_RETRY,
	    REQ_OUT_WAIT, REQ_OUT_HEAD, REQ_OUT_DONE, END } },
	{ "retry that could not connect: 502",
	  { REQ_IN_BODY, REQ_IN_DONE, REQ_OUT_WAIT, REQ_OUT_RETRY,
	    REQ_OUT_DONE, END } },
	{ "upgrade to a tunnel",
	  { REQ_IN_BODY, REQ_OUT_WAIT, REQ_IN_DONE, REQ_OUT_TUNNEL,
	    REQ_OUT_DONE, END } },
	{ "error page for the origin's error (intercept)",
	  { REQ_IN_BODY, REQ_IN_DONE, REQ_OUT_WAIT, REQ_OUT_HEAD,
	    REQ_OUT_DONE, END } },
};
/* clang-format on */

static void
req_init(struct req *r)
{
	memset(r, 0, sizeof(*r));
	r->in = REQ_IN_HEAD;
	r->out = REQ_OUT_NONE;
}

static void
walk(struct req *r, const struct path *p, size_t upto)
{
	size_t i;

	req_init(r);
	for (i = 0; i < upto && p->to[i] != END; i++) {
		if (!req_to(r, p->to[i]))
			fail_msg("%s: step %zu (%s) refused", p->name, i,
			    req_state_name(p->to[i]));
		assert_int_equal(p->to[i] < REQ_OUT_NONE ? r->in : r->out,
		    p->to[i]);
	}
}

static void
test_paths(void **state)
{
	uint64_t bad = stats_get(STAT_REQ_BAD_TRANSITION);
	struct req r;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(paths); i++) {
		walk(&r, &paths[i], 100);
		assert_true(req_in_done(&r));
		assert_true(req_out_done(&r));
		assert_true(req_active(&r));
	}
	assert_int_equal(stats_get(STAT_REQ_BAD_TRANSITION), bad);
}

/* The client may go at any point of any path: each state but DONE (and
 * ABORT itself) on the response side moves to ABORT.
 */
static void
test_abort_everywhere(void **state)
{
	uint64_t bad = stats_get(STAT_REQ_BAD_TRANSITION);
	struct req r;
	size_t i, k;
	unsigned aborts = 0;

	(void)state;
	for (i = 0; i < NELEM(paths); i++)
		for (k = 0; k < 12 && paths[i].to[k] != END; k++) {
			walk(&r, &paths[i], k);
			if (req_out_done(&r))
				continue;
			assert_true(req_to(&r, REQ_OUT_ABORT));
			assert_int_equal(r.out, REQ_OUT_ABORT);
			aborts++;
		}
	assert_true(aborts > 30);
	assert_int_equal(stats_get(STAT_REQ_BAD_TRANSITION), bad);
	/* After the last byte was queued, it is too late to abort. */
	walk(&r, &paths[0], 100);
	assert_false(req_to(&r, REQ_OUT_ABORT));
	assert_int_equal(r.out, REQ_OUT_DONE);
	assert_int_equal(stats_get(STAT_REQ_BAD_TRANSITION), bad + 1);
}

/* The table as a grid: what is allowed, everything else refused. */
static void
test_illegal_refused_and_counted(void **state)
{
	/* clang-format off */
	static const enum req_state ok[][2] = {
		{ REQ_IN_HEAD, REQ_IN_BODY }, { REQ_IN_HEAD, REQ_IN_DONE },
		{ REQ_IN_BODY, REQ_IN_HOLD }, { REQ_IN_BODY, REQ_IN_DONE },
		{ REQ_IN_HOLD, REQ_IN_BODY }, { REQ_IN_HOLD, REQ_IN_DONE },
		{ REQ_OUT_NONE, REQ_OUT_WAIT }, { REQ_OUT_NONE, REQ_OUT_DONE },
		{ REQ_OUT_NONE, REQ_OUT_ABORT },
		{ REQ_OUT_WAIT, REQ_OUT_RETRY }, { REQ_OUT_WAIT, REQ_OUT_HEAD },
		{ REQ_OUT_WAIT, REQ_OUT_TUNNEL }, { REQ_OUT_WAIT, REQ_OUT_DONE },
		{ REQ_OUT_WAIT, REQ_OUT_ABORT },
		{ REQ_OUT_RETRY, REQ_OUT_WAIT }, { REQ_OUT_RETRY, REQ_OUT_DONE },
		{ REQ_OUT_RETRY, REQ_OUT_ABORT },
		{ REQ_OUT_HEAD, REQ_OUT_DONE }, { REQ_OUT_HEAD, REQ_OUT_ABORT },
		{ REQ_OUT_TUNNEL, REQ_OUT_DONE },
		{ REQ_OUT_TUNNEL, REQ_OUT_ABORT },
	};
	/* clang-format on */
	struct req r;
	unsigned from, to;
	size_t i, nbad = 0;
	uint64_t bad = stats_get(STAT_REQ_BAD_TRANSITION);
	bool want;

	(void)state;
	for (from = 0; from < REQ_S__N; from++)
		for (to = 0; to < REQ_S__N; to++) {
			want = false;
			for (i = 0; i < NELEM(ok); i++)
				if (ok[i][0] == from && ok[i][1] == to)
					want = true;
			assert_int_equal(req_allowed(from, to), want);
			/* Only same-direction pairs can be tried on a req. */
			if ((from < REQ_OUT_NONE) != (to < REQ_OUT_NONE))
				continue;
			req_init(&r);
			if (from < REQ_OUT_NONE)
				r.in = (enum req_state)from;
			else
				r.out = (enum req_state)from;
			assert_int_equal(req_to(&r, (enum req_state)to), want);
			assert_int_equal(from < REQ_OUT_NONE ? r.in : r.out,
			    want ? to : from);
			if (!want)
				nbad++;
		}
	assert_int_equal(stats_get(STAT_REQ_BAD_TRANSITION), bad + nbad);
	/* Self-transitions are bugs too: a progress never repeats. */
	assert_false(req_allowed(REQ_IN_DONE, REQ_IN_DONE));
	assert_false(req_allowed(REQ_OUT_DONE, REQ_OUT_DONE));
	/* A state of the other direction never enters this one. */
	assert_false(req_allowed(REQ_IN_HEAD, REQ_OUT_WAIT));
	assert_false(req_allowed(REQ_S__N, REQ_IN_BODY));
}

/* The block and its parser go to the worker's cache and come back
 * cleared; the cache is bounded and a draining worker keeps none.
 */
static void
test_life_cache(void **state)
{
	static const struct http1_limits lim = {
		.max_request_line = HTTP1_DEF_MAX_REQUEST_LINE,
		.max_header_bytes = HTTP1_DEF_MAX_HEADER_BYTES,
		.max_headers = HTTP1_DEF_MAX_HEADERS,
	};
	static const struct http1_callbacks cbs = { 0 };
	static struct worker w;
	struct req *r, *r2, *many[WORKER_REQ_CACHE + 2];
	char *kept;
	size_t i;

	(void)state;
	r = req_take(&w, &lim, &cbs, NULL);
	assert_non_null(r);
	assert_int_equal(r->in, REQ_IN_HEAD);
	assert_int_equal(r->out, REQ_OUT_NONE);
	assert_false(req_active(r));
	assert_true(req_to(r, REQ_IN_BODY));
	assert_true(req_to(r, REQ_OUT_DONE));
	r->flags |= REQ_F_CLOSE;
	r->status = 404;
	req_give(&w, r, true);
	assert_int_equal(w.nreq_cache, 1);
	r2 = req_take(&w, &lim, &cbs, NULL);
	assert_ptr_equal(r2, r); /* the same block, cleared */
	assert_int_equal(r2->in, REQ_IN_HEAD);
	assert_int_equal(r2->out, REQ_OUT_NONE);
	assert_int_equal(r2->flags, 0);
	assert_int_equal(r2->status, 0);
	assert_int_equal(w.nreq_cache, 0);
	req_give(&w, r2, false); /* freed, not cached */
	assert_int_equal(w.nreq_cache, 0);

	/* A small head copy's buffer stays with the cleared block (and goes
	 * with it: LeakSanitizer sees it otherwise); a large one is freed.
	 */
	r = req_take(&w, &lim, &cbs, NULL);
	assert_non_null(r->head_copy = malloc(100));
	r->head_copy_cap = r->head_copy_len = 100;
	kept = r->head_copy;
	req_give(&w, r, true);
	r = req_take(&w, &lim, &cbs, NULL);
	assert_ptr_equal(r->head_copy, kept);
	assert_int_equal(r->head_copy_cap, 100);
	assert_int_equal(r->head_copy_len, 0);
	free(r->head_copy);
	assert_non_null(r->head_copy = malloc(64 * 1024));
	r->head_copy_cap = r->head_copy_len = 64 * 1024;
	req_clear(r);
	assert_null(r->head_copy);
	assert_int_equal(r->head_copy_cap, 0);
	assert_non_null(r->head_copy = malloc(10));
	r->head_copy_cap = 10;
	req_give(&w, r, false); /* freed with the block */

	for (i = 0; i < NELEM(many); i++)
		assert_non_null(many[i] = req_take(&w, &lim, &cbs, NULL));
	for (i = 0; i < NELEM(many); i++)
		req_give(&w, many[i], true);
	assert_int_equal(w.nreq_cache, WORKER_REQ_CACHE);
	req_cache_free(&w);
	assert_int_equal(w.nreq_cache, 0);

	w.draining = true;
	r = req_take(&w, &lim, &cbs, NULL);
	req_give(&w, r, true);
	assert_int_equal(w.nreq_cache, 0);
	w.draining = false;
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_abort_everywhere),
		cmocka_unit_test(test_illegal_refused_and_counted),
		cmocka_unit_test(test_life_cache),
	};

	req_bad_abort = false; /* refusals are what is tested here */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
