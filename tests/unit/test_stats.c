/*
 * test_stats.c: the counter store and its per-thread cache.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs stdarg.h, stddef.h and setjmp.h first. */
#include <cmocka.h>

#include "stats.h"

/* The cache answers with the store's own object, for ids that share a
 * cache slot too.
 */
static void
test_cached_is_the_store(void **state)
{
	struct stats_obj *a, *b, *c;
	int64_t id;

	(void)state;
	a = stats_obj_cached(STATS_ROUTE, 7);
	assert_non_null(a);
	assert_ptr_equal(a, stats_obj(STATS_ROUTE, 7));
	b = stats_obj_cached(STATS_ROUTE, 7 + STATS_CACHE_SLOTS);
	assert_ptr_not_equal(a, b);
	assert_int_equal(b->id, 7 + STATS_CACHE_SLOTS);
	assert_ptr_equal(stats_obj_cached(STATS_ROUTE, 7), a);
	c = stats_obj_cached(STATS_ORIGIN, 7);
	assert_ptr_not_equal(a, c);
	for (id = 1000; id < 1000 + 4 * STATS_CACHE_SLOTS; id++)
		assert_int_equal(stats_obj_cached(STATS_SERVER, id)->id, id);
	for (id = 1000; id < 1000 + 4 * STATS_CACHE_SLOTS; id++)
		assert_ptr_equal(stats_obj_cached(STATS_SERVER, id),
		    stats_obj(STATS_SERVER, id));
}

#define THREADS 4
#define ADDS    100000

static void *
adder(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < ADDS; i++)
		stats_add(&stats_obj_cached(STATS_ROUTE, 42 + (i & 1))
		               ->requests,
		    1);
	return NULL;
}

static void
count_requests(const struct stats_obj *o, void *arg)
{
	uint64_t *sum = arg;

	if (o->id == 42 || o->id == 43)
		*sum += o->requests;
}

/* Threads that each cache the same objects count into one place: the
 * totals read through stats_foreach() are exact.
 */
static void
test_threads_count_exactly(void **state)
{
	pthread_t t[THREADS];
	uint64_t sum = 0;
	int i;

	(void)state;
	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, adder, NULL), 0);
	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	stats_foreach(STATS_ROUTE, count_requests, &sum);
	assert_int_equal(sum, (uint64_t)THREADS * ADDS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cached_is_the_store),
		cmocka_unit_test(test_threads_count_exactly),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
