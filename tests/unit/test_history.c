/*
 * test_history.c: the per-minute ring of daemon/history.c on a clock the
 * test sets: a minute's counts, its rollover, zeros when idle, gaps where
 * no tick came, the wrap after 24 hours, the cap per minute, and a clock
 * that goes back. The counts are the real stats.c counters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* cmocka.h needs stdarg.h, stddef.h and setjmp.h first. */
#include <cmocka.h>

#include "history.h"
#include "stats.h"

#define T0 ((time_t)1796299200) /* a minute's start (2026-12-03 12:00) */

static struct history_slot win[HISTORY_MINUTES];

/* <n> answers of class <cls> on listener <lid>, <us> each. */
static void
answer(int64_t lid, int cls, unsigned n, uint64_t us)
{
	struct stats_obj *o = stats_obj(STATS_LISTENER, lid);

	assert_non_null(o);
	stats_add(&o->status[cls], n);
	stats_add(&o->bytes_out, 100u * n);
	stats_add(&o->time_us, us * n);
}

static void
route_answer(int64_t rid, unsigned n)
{
	struct stats_obj *o = stats_obj(STATS_ROUTE, rid);

	assert_non_null(o);
	stats_add(&o->requests, n);
	stats_add(&o->status[2], n);
}

/* The entry for <kind>/<id> in <s>, or NULL. */
static const struct history_entry *
find(const struct history_slot *s, enum history_kind kind, int64_t id)
{
	uint32_t i;

	for (i = 0; i < s->n; i++)
		if (s->e[i].kind == kind && s->e[i].id == id)
			return &s->e[i];
	return NULL;
}

/* Reads <nmin> minutes at <now>; returns the current minute. */
static int64_t
rd(struct history *h, time_t now, unsigned nmin)
{
	int64_t since, m = history_read(h, now, nmin, win, &since);

	assert_true(m >= 0);
	return m;
}

/* Counts go to the current minute; the first tick of the next one closes
 * it, and the next minute starts from zero.
 */
static void
test_minute_rollover(void **state)
{
	struct history *h = history_new();
	const struct history_entry *e;
	int64_t m;

	(void)state;
	assert_non_null(h);
	answer(101, 2, 7, 999); /* before the first tick: not history */
	assert_int_equal(history_tick(h, T0 + 5), 0);
	answer(101, 2, 3, 1000);
	answer(101, 5, 1, 4000);
	m = rd(h, T0 + 30, 1); /* the current minute, up to date */
	assert_int_equal(m, T0 / 60);
	assert_int_equal(win[0].minute, T0 / 60);
	assert_non_null(e = find(&win[0], HISTORY_LISTENER, 101));
	assert_int_equal(e->n.status[2], 3);
	assert_int_equal(e->n.status[5], 1);
	assert_int_equal(e->n.bytes_out, 400);
	assert_int_equal(e->n.time_us, 3 * 1000 + 4000);
	/* reading again changes nothing */
	rd(h, T0 + 31, 1);
	assert_int_equal(find(&win[0], HISTORY_LISTENER, 101)->n.status[2], 3);

	answer(101, 2, 2, 10); /* still counted by the minute before: no tick
	                          of the new one has come yet */
	assert_int_equal(history_tick(h, T0 + 60), 0);
	answer(101, 4, 4, 10); /* the new minute's */
	m = rd(h, T0 + 90, 2);
	assert_int_equal(m, T0 / 60 + 1);
	assert_int_equal(win[0].minute, T0 / 60);
	assert_int_equal(win[1].minute, T0 / 60 + 1);
	e = find(&win[0], HISTORY_LISTENER, 101);
	assert_int_equal(e->n.status[2], 5);
	assert_int_equal(e->n.status[4], 0);
	e = find(&win[1], HISTORY_LISTENER, 101);
	assert_non_null(e);
	assert_int_equal(e->n.status[2], 0);
	assert_int_equal(e->n.status[4], 4);
	history_free(h);
}

/* Idle minutes that were ticked hold zeros; minutes no tick saw, and
 * those before the first tick, are gaps; what was counted while no tick
 * came goes to the minute before.
 */
static void
test_idle_and_gaps(void **state)
{
	struct history *h = history_new();
	const struct history_entry *e;
	int64_t m0 = T0 / 60, since;
	int i;

	(void)state;
	assert_int_equal(history_tick(h, T0), 0);
	answer(102, 2, 1, 1);
	for (i = 1; i <= 3; i++) /* three idle minutes, ticked */
		assert_int_equal(history_tick(h, T0 + 60 * i + 1), 0);
	answer(102, 2, 6, 1);
	/* no tick for minutes 4..7 */
	assert_int_equal(history_read(h, T0 + 60 * 8 + 2, 12, win, &since),
	    m0 + 8);
	assert_int_equal(since, m0);
	for (i = 0; i < 3; i++) /* before the first tick */
		assert_int_equal(win[i].minute, -1);
	assert_int_equal(win[3].minute, m0);
	assert_int_equal(find(&win[3], HISTORY_LISTENER, 102)->n.status[2], 1);
	for (i = 4; i <= 5; i++) { /* idle: zeros, not gaps */
		assert_int_equal(win[i].minute, m0 + i - 3);
		assert_int_equal(win[i].n, 0);
	}
	/* minute 3, the last one ticked, has what came before the next tick */
	assert_int_equal(win[6].minute, m0 + 3);
	assert_non_null(e = find(&win[6], HISTORY_LISTENER, 102));
	assert_int_equal(e->n.status[2], 6);
	for (i = 7; i <= 10; i++) /* minutes 4..7: gaps */
		assert_int_equal(win[i].minute, -1);
	assert_int_equal(win[11].minute, m0 + 8);
	assert_int_equal(win[11].n, 0);
	history_free(h);
}

/* After 24 hours a minute's slot holds the new minute, never the old one;
 * a whole day ticked minute by minute is all there, and a jump of more
 * than a day leaves only gaps and the new minute.
 */
static void
test_wrap_at_24h(void **state)
{
	struct history *h = history_new();
	int64_t m0 = T0 / 60, since;
	const struct history_entry *e;
	int i;

	(void)state;
	assert_int_equal(history_tick(h, T0), 0);
	for (i = 0; i <= HISTORY_MINUTES; i++) {
		/* minute i answers i + 1 requests */
		answer(103, 2, (unsigned)i + 1, 1);
		assert_int_equal(history_tick(h, T0 + 60 * (i + 1)), 0);
	}
	/* the current minute is m0 + 1441: the window starts at m0 + 2 */
	assert_int_equal(history_read(h, T0 + 60 * (HISTORY_MINUTES + 1) + 1,
	                     HISTORY_MINUTES, win, &since),
	    m0 + HISTORY_MINUTES + 1);
	assert_int_equal(since, m0);
	for (i = 0; i < HISTORY_MINUTES - 1; i++) {
		assert_int_equal(win[i].minute, m0 + 2 + i);
		e = find(&win[i], HISTORY_LISTENER, 103);
		assert_non_null(e);
		assert_int_equal(e->n.status[2], (uint32_t)i + 3);
	}
	assert_int_equal(win[HISTORY_MINUTES - 1].n, 0); /* current, idle */

	/* two days later: a day of gaps, and the current minute */
	answer(103, 2, 9, 1);
	assert_int_equal(history_read(h, T0 + 60 * (3 * HISTORY_MINUTES),
	                     HISTORY_MINUTES, win, &since),
	    m0 + 3 * HISTORY_MINUTES);
	for (i = 0; i < HISTORY_MINUTES - 1; i++)
		assert_int_equal(win[i].minute, -1);
	assert_int_equal(win[HISTORY_MINUTES - 1].minute,
	    m0 + 3 * HISTORY_MINUTES);
	assert_int_equal(win[HISTORY_MINUTES - 1].n, 0);
	history_free(h);
}

/* A clock that goes back counts in the current minute. */
static void
test_clock_back(void **state)
{
	struct history *h = history_new();
	int64_t m0 = T0 / 60;

	(void)state;
	assert_int_equal(history_tick(h, T0 + 120), 0);
	answer(104, 3, 2, 1);
	assert_int_equal(rd(h, T0 + 10, 1), m0 + 2);
	assert_int_equal(win[0].minute, m0 + 2);
	assert_int_equal(find(&win[0], HISTORY_LISTENER, 104)->n.status[3], 2);
	history_free(h);
}

/* A minute keeps its HISTORY_SLOT_OBJS busiest objects; the others of
 * each kind are summed in other[], so nothing counted is lost. Listeners
 * and routes are kept apart; a listener's unmatched requests and
 * connections count.
 */
static void
test_cap_per_minute(void **state)
{
	struct history *h = history_new();
	struct stats_obj *l;
	uint64_t sum = 0;
	uint32_t i;
	int64_t id;

	(void)state;
	assert_int_equal(history_tick(h, T0), 0);
	for (id = 0; id < HISTORY_SLOT_OBJS + 8; id++) /* 1..40 requests */
		route_answer(5000 + id, (unsigned)id + 1);
	l = stats_obj(STATS_LISTENER, 105);
	stats_add(&l->unmatched, 500);
	stats_add(&l->requests, 70);
	rd(h, T0 + 59, 1);
	assert_int_equal(win[0].n, HISTORY_SLOT_OBJS);
	/* the listener (570) and the 31 busiest routes (40 down to 10) */
	assert_non_null(find(&win[0], HISTORY_LISTENER, 105));
	assert_int_equal(find(&win[0], HISTORY_LISTENER, 105)->n.unmatched,
	    500);
	assert_int_equal(find(&win[0], HISTORY_LISTENER, 105)->n.conns, 70);
	for (id = 0; id < HISTORY_SLOT_OBJS + 8; id++) {
		if (id >= 9)
			assert_non_null(find(&win[0], HISTORY_ROUTE,
			    5000 + id));
		else
			assert_null(find(&win[0], HISTORY_ROUTE, 5000 + id));
	}
	/* routes 1..9 requests: 45 in other */
	assert_int_equal(win[0].other[HISTORY_ROUTE].status[2], 45);
	assert_int_equal(win[0].other[HISTORY_LISTENER].status[2], 0);
	for (i = 0; i < win[0].n; i++)
		if (win[0].e[i].kind == HISTORY_ROUTE)
			sum += win[0].e[i].n.status[2];
	assert_int_equal(sum + 45, 40 * 41 / 2);
	/* a route's own "requests" are not connections */
	assert_int_equal(find(&win[0], HISTORY_ROUTE, 5039)->n.conns, 0);
	history_free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minute_rollover),
		cmocka_unit_test(test_idle_and_gaps),
		cmocka_unit_test(test_wrap_at_24h),
		cmocka_unit_test(test_clock_back),
		cmocka_unit_test(test_cap_per_minute),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
