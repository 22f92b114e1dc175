/*
 * test_stats.c: counters per thread, merged when read.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs stdarg.h, stddef.h and setjmp.h first. */
#include <cmocka.h>

#include "stats.h"

/* A thread finds the same object again, also among many ids and with
 * ids that collide in a small table.
 */
static void
test_obj_is_stable(void **state)
{
	struct stats_obj *a, *b, *c;
	int64_t id;

	(void)state;
	a = stats_obj_cached(STATS_ROUTE, 7);
	assert_non_null(a);
	assert_ptr_equal(a, stats_obj(STATS_ROUTE, 7));
	b = stats_obj_cached(STATS_ROUTE, 7 + 128);
	assert_ptr_not_equal(a, b);
	assert_int_equal(b->id, 7 + 128);
	c = stats_obj_cached(STATS_ORIGIN, 7);
	assert_ptr_not_equal(a, c);
	for (id = 1000; id < 1000 + 512; id++)
		assert_int_equal(stats_obj_cached(STATS_SERVER, id)->id, id);
	assert_ptr_equal(stats_obj_cached(STATS_ROUTE, 7), a);
	for (id = 1000; id < 1000 + 512; id++)
		assert_ptr_equal(stats_obj_cached(STATS_SERVER, id),
		    stats_obj(STATS_SERVER, id));
}

/* stats_obj_merge() adds every counter and leaves the id. */
static void
test_merge_adds_every_field(void **state)
{
	struct stats_obj a = { .id = 1 }, b = { .id = 2 };
	int i;

	(void)state;
	stats_add(&a.requests, 3);
	stats_add(&b.requests, 4);
	for (i = 0; i < 6; i++) {
		stats_add(&a.status[i], (uint64_t)i);
		stats_add(&b.status[i], 10);
	}
	stats_add(&a.bytes_in, 100);
	stats_add(&b.bytes_in, 1);
	stats_add(&a.bytes_out, 200);
	stats_add(&b.bytes_out, 2);
	stats_add(&a.errors, 5);
	stats_add(&b.errors, 6);
	stats_add(&a.active, 1);
	stats_sub(&b.active, 1); /* a gauge raised on one thread, lowered on
	                            another: the sum is still right */
	stats_add(&a.time_us, 1000);
	stats_add(&b.time_us, 234);
	stats_add(&a.unmatched, 2);
	stats_add(&b.unmatched, 3);
	stats_obj_merge(&a, &b);
	assert_int_equal(a.id, 1);
	assert_int_equal(a.requests, 7);
	for (i = 0; i < 6; i++)
		assert_int_equal(a.status[i], (uint64_t)i + 10);
	assert_int_equal(a.bytes_in, 101);
	assert_int_equal(a.bytes_out, 202);
	assert_int_equal(a.errors, 11);
	assert_int_equal(a.active, 0);
	assert_int_equal(a.time_us, 1234);
	assert_int_equal(a.unmatched, 5);
}

#define THREADS 4
#define ADDS    100000

static pthread_barrier_t counted, read_done;

struct sums {
	uint64_t requests, bytes, active;
	unsigned seen;
};

static void
sum_route(const struct stats_obj *o, void *arg)
{
	struct sums *s = arg;

	if (o->id == 42 || o->id == 43) {
		s->requests += o->requests;
		s->bytes += o->bytes_in;
		s->active += o->active;
		s->seen++;
	}
}

static struct sums
route_sums(void)
{
	struct sums s = { 0 };

	stats_foreach(STATS_ROUTE, sum_route, &s);
	return s;
}

static void *
adder(void *arg)
{
	struct stats_obj *o;
	int i;

	for (i = 0; i < ADDS; i++) {
		o = stats_obj_cached(STATS_ROUTE, 42 + (i & 1));
		stats_add(&o->requests, 1);
		stats_add(&o->bytes_in, 3);
		stats_inc(STAT_REQ_TOTAL);
	}
	stats_add(&stats_obj(STATS_ROUTE, 42)->active, 1);
	if (arg != NULL) { /* stay alive while the main thread reads */
		pthread_barrier_wait(&counted);
		pthread_barrier_wait(&read_done);
	}
	stats_sub(&stats_obj(STATS_ROUTE, 42)->active, 1);
	return NULL;
}

/* Threads count on their own; readers see exact totals, merged from the
 * live threads' blocks and, once they exit, from the retired one.
 */
static void
test_threads_count_exactly(void **state)
{
	pthread_t t[THREADS];
	uint64_t before = stats_get(STAT_REQ_TOTAL);
	struct sums s0 = route_sums(), s;
	int i;

	(void)state;
	pthread_barrier_init(&counted, NULL, THREADS + 1);
	pthread_barrier_init(&read_done, NULL, THREADS + 1);
	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, adder, &counted),
		    0);
	pthread_barrier_wait(&counted);
	/* Every thread alive, its counts in its own block. */
	s = route_sums();
	assert_int_equal(s.requests - s0.requests, (uint64_t)THREADS * ADDS);
	assert_int_equal(s.bytes - s0.bytes, (uint64_t)THREADS * ADDS * 3);
	assert_int_equal(s.active - s0.active, THREADS);
	assert_int_equal(s.seen, 2); /* one entry per id, merged */
	assert_int_equal(stats_get(STAT_REQ_TOTAL) - before,
	    (uint64_t)THREADS * ADDS);
	pthread_barrier_wait(&read_done);
	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	/* Exited: folded into the retired block, nothing lost. */
	s = route_sums();
	assert_int_equal(s.requests - s0.requests, (uint64_t)THREADS * ADDS);
	assert_int_equal(s.bytes - s0.bytes, (uint64_t)THREADS * ADDS * 3);
	assert_int_equal(s.active, s0.active);
	assert_int_equal(s.seen, 2);
	assert_int_equal(stats_get(STAT_REQ_TOTAL) - before,
	    (uint64_t)THREADS * ADDS);
	/* And again with threads that never wait. */
	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, adder, NULL), 0);
	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	s = route_sums();
	assert_int_equal(s.requests - s0.requests,
	    (uint64_t)2 * THREADS * ADDS);
	assert_int_equal(stats_get(STAT_REQ_TOTAL) - before,
	    (uint64_t)2 * THREADS * ADDS);
	pthread_barrier_destroy(&counted);
	pthread_barrier_destroy(&read_done);
}

static void
collect_ids(const struct stats_obj *o, void *arg)
{
	int64_t *last = arg;

	assert_true(o->id > *last); /* id order, each id once */
	*last = o->id;
}

static void
test_foreach_in_id_order(void **state)
{
	int64_t last = INT64_MIN;

	(void)state;
	(void)stats_obj(STATS_LISTENER, 9);
	(void)stats_obj(STATS_LISTENER, 3);
	(void)stats_obj(STATS_LISTENER, 5);
	stats_foreach(STATS_LISTENER, collect_ids, &last);
	assert_int_equal(last, 9);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_obj_is_stable),
		cmocka_unit_test(test_merge_adds_every_field),
		cmocka_unit_test(test_threads_count_exactly),
		cmocka_unit_test(test_foreach_in_id_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
