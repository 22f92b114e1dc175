/*
 * test_ratelimit.c: the token bucket (daemon/ratelimit.c) on a clock the
 * test drives: the burst, then the steady rate, Retry-After, per-key
 * buckets, peeking without taking, the least recently used key dropped
 * when the table is full, and connections per client.
 */
#include <arpa/inet.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* cmocka.h needs stdarg.h, stddef.h and setjmp.h first. */
#include <cmocka.h>

#include "ratelimit.h"
#include "stats.h"

static struct cfg_rate_limit
limit(int64_t id, unsigned rate, unsigned per_s, unsigned burst,
    unsigned max_keys)
{
	struct cfg_rate_limit rl;

	memset(&rl, 0, sizeof(rl));
	rl.id = id;
	rl.name = "t";
	rl.rate = rate;
	rl.per_s = per_s;
	rl.burst = burst;
	rl.max_keys = max_keys;
	rl.table = ratelimit_table(id, max_keys);
	assert_non_null(rl.table);
	return rl;
}

static bool
take(const struct cfg_rate_limit *rl, const char *key, int64_t now,
    unsigned *retry)
{
	unsigned rem;

	return ratelimit_take(rl, key, strlen(key), now, &rem, retry);
}

static void
test_burst_then_rate(void **state)
{
	struct cfg_rate_limit rl = limit(1, 10, 1, 5, 64);
	unsigned retry, ok = 0, i;
	int64_t t;

	(void)state;
	for (i = 0; i < 5; i++)
		assert_true(take(&rl, "a", 1000, &retry));
	assert_false(take(&rl, "a", 1000, &retry));
	assert_int_equal(retry, 1);
	/* 10 per second: one token every 100 ms, over 10 s: 100 more. */
	for (t = 1000; t <= 11000; t += 10)
		ok += take(&rl, "a", t, &retry);
	assert_int_equal(ok, 100);
	/* Another key has its own bucket. */
	assert_true(take(&rl, "b", 11000, &retry));
}

static void
test_retry_after_and_peek(void **state)
{
	struct cfg_rate_limit rl = limit(2, 1, 3600, 1, 64);
	unsigned retry, rem;

	(void)state;
	assert_true(ratelimit_peek(&rl, "k", 1, 0, &rem, &retry));
	assert_int_equal(rem, 1);
	assert_true(take(&rl, "k", 0, &retry));
	assert_false(ratelimit_peek(&rl, "k", 1, 1000, &rem, &retry));
	assert_in_range(retry, 3599, 3600);
	assert_false(take(&rl, "k", 1000, &retry));
	assert_in_range(retry, 3599, 3600);
	/* Peeking took nothing: an hour later there is one token. */
	assert_true(take(&rl, "k", 3600000, &retry));
}

static void
test_bounded_keys(void **state)
{
	struct cfg_rate_limit rl = limit(3, 1, 3600, 1, 64);
	uint64_t before = stats_get(STAT_RATE_LIMIT_DROPPED);
	char key[32];
	unsigned retry, i;

	(void)state;
	for (i = 0; i < 10000; i++) {
		snprintf(key, sizeof(key), "key%u", i);
		assert_true(take(&rl, key, 0, &retry));
	}
	/* 64 stripes of one key each: at most 64 kept. */
	assert_true(ratelimit_keys(&rl) <= 64);
	assert_true(stats_get(STAT_RATE_LIMIT_DROPPED) - before >= 10000 - 64);
	/* The most recent key is still there (its bucket is empty). */
	assert_false(take(&rl, "key9999", 0, &retry));
}

static void
test_connections_per_client(void **state)
{
	struct sockaddr_storage a, b;
	struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)&a;

	(void)state;
	memset(&a, 0, sizeof(a));
	s4->sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.1", &s4->sin_addr);
	b = a;
	inet_pton(AF_INET, "192.0.2.2",
	    &((struct sockaddr_in *)(void *)&b)->sin_addr);
	assert_int_equal(connlimit_take(&a, 2), 1);
	assert_int_equal(connlimit_take(&a, 2), 1);
	assert_int_equal(connlimit_take(&a, 2), 0);
	assert_int_equal(connlimit_take(&b, 2), 1);
	connlimit_release(&a);
	assert_int_equal(connlimit_take(&a, 2), 1);
	connlimit_release(&a);
	connlimit_release(&a);
	connlimit_release(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_then_rate),
		cmocka_unit_test(test_retry_after_and_peek),
		cmocka_unit_test(test_bounded_keys),
		cmocka_unit_test(test_connections_per_client),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
