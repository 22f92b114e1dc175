/*
 * test_idtab.c: the growing per-id table (daemon/idtab.c) and the live
 * server state on it (daemon/server_live.c) at 20,000 servers: every id
 * keeps its own slot at the same address while the index grows, readers
 * on other threads always find what was added, two adders of one id get
 * one slot, and a table at its limit refuses, counted.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* cmocka.h needs the headers above. */
#include <cmocka.h>

#include "idtab.h"
#include "server_live.h"
#include "stats.h"

#define MANY 20000

struct slot {
	_Atomic uint64_t n;
	_Atomic int64_t id;
};

static void
test_add_get(void **state)
{
	struct idtab t = IDTAB_INIT("test", sizeof(struct slot));
	struct slot *s;

	(void)state;
	assert_null(idtab_get(&t, 1));
	assert_null(idtab_add(&t, 0));
	assert_null(idtab_add(&t, -5));
	s = idtab_add(&t, 7);
	assert_non_null(s);
	assert_int_equal(s->n, 0); /* zeroed */
	assert_ptr_equal(idtab_add(&t, 7), s);
	assert_ptr_equal(idtab_get(&t, 7), s);
	assert_null(idtab_get(&t, 8));
	assert_int_equal(idtab_count(&t), 1);
	idtab_destroy(&t);
	assert_null(idtab_get(&t, 7));
	assert_int_equal(idtab_count(&t), 0);
}

/* 20,000 ids, then 100,000 more: the index doubles many times, each id
 * keeps the slot it was given, and no two ids share one.
 */
static void
test_grows_and_keeps_slots(void **state)
{
	struct idtab t = IDTAB_INIT("test", sizeof(struct slot));
	size_t n = MANY + 100000, i;
	struct slot **got = calloc(n, sizeof(*got));

	(void)state;
	assert_non_null(got);
	for (i = 0; i < n; i++) {
		/* Ids as SQLite hands them out, and far apart ones. */
		int64_t id = i % 2 ? (int64_t)i + 1 : ((int64_t)i + 1) << 20;

		got[i] = idtab_add(&t, id);
		assert_non_null(got[i]);
		got[i]->id = id;
		atomic_fetch_add(&got[i]->n, 1);
		if (i + 1 == MANY) {
			assert_int_equal(idtab_count(&t), MANY);
			assert_true(idtab_capacity(&t) >= 2 * MANY);
		}
	}
	assert_int_equal(idtab_count(&t), n);
	assert_true(idtab_capacity(&t) >= 2 * n);
	assert_true(idtab_capacity(&t) <= 4 * n);
	for (i = 0; i < n; i++) {
		assert_ptr_equal(idtab_get(&t, got[i]->id), got[i]);
		assert_int_equal(got[i]->n, 1); /* nobody else's slot */
	}
	free(got);
	idtab_destroy(&t);
}

/* At its limit a table refuses a new id (NULL), counts it once per
 * refusal, and still answers for the ids it has.
 */
static void
test_limit_refuses_and_counts(void **state)
{
	struct idtab t = IDTAB_INIT("test", sizeof(struct slot));
	uint64_t before = stats_get(STAT_LIVE_STATE_REFUSED);
	int64_t id;

	(void)state;
	t.max = 100;
	for (id = 1; id <= 100; id++)
		assert_non_null(idtab_add(&t, id));
	assert_null(idtab_add(&t, 101));
	assert_null(idtab_add(&t, 102));
	assert_null(idtab_get(&t, 101));
	assert_int_equal(t.refused, 2);
	assert_int_equal(stats_get(STAT_LIVE_STATE_REFUSED), before + 2);
	for (id = 1; id <= 100; id++)
		assert_non_null(idtab_get(&t, id));
	assert_non_null(idtab_add(&t, 50)); /* one it has: no refusal */
	assert_int_equal(t.refused, 2);
	idtab_destroy(&t);
}

/* ---- threads ---- */

static struct idtab shared = IDTAB_INIT("test", sizeof(struct slot));
static struct slot *first[MANY];
static _Atomic int stop, lost;

/* Looks up the first MANY ids again and again while they are added
 * to (and the index grows): an id found once is found always, at the
 * same slot.
 */
static void *
reader(void *arg)
{
	struct slot **seen = calloc(MANY + 1, sizeof(*seen)), *s;
	int64_t id, v;

	(void)arg;
	if (seen == NULL) {
		atomic_fetch_add(&lost, 1);
		return NULL;
	}
	while (!atomic_load(&stop))
		for (id = 1; id <= MANY; id++) {
			s = idtab_get(&shared, id);
			if (s == NULL && seen[id] == NULL)
				continue; /* not added yet */
			if (s != seen[id] && seen[id] != NULL)
				atomic_fetch_add(&lost, 1); /* moved, or gone */
			seen[id] = s;
			if ((v = atomic_load(&s->id)) != 0 && v != id)
				atomic_fetch_add(&lost, 1); /* another's */
		}
	free(seen);
	return NULL;
}

/* Adds ids 1..MANY (two of these run at once), then 100,000 more of
 * its own.
 */
static void *
adder(void *arg)
{
	intptr_t me = (intptr_t)arg;
	struct slot *s;
	int64_t id;

	for (id = 1; id <= MANY; id++) {
		if ((s = idtab_add(&shared, id)) == NULL) {
			atomic_fetch_add(&lost, 1);
			continue;
		}
		s->id = id; /* both adders write the same value */
		atomic_fetch_add(&s->n, 1);
		if (me == 0)
			first[id - 1] = s;
	}
	for (id = 0; id < 50000; id++)
		if (idtab_add(&shared, (int64_t)(me + 1) << 32 | id) == NULL)
			atomic_fetch_add(&lost, 1);
	return NULL;
}

static void
test_threads(void **state)
{
	pthread_t r[2], a[2];
	int64_t id;
	int i;

	(void)state;
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&r[i], NULL, reader, NULL), 0);
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&a[i], NULL, adder,
		                     (void *)(intptr_t)i),
		    0);
	for (i = 0; i < 2; i++)
		pthread_join(a[i], NULL);
	atomic_store(&stop, 1);
	for (i = 0; i < 2; i++)
		pthread_join(r[i], NULL);
	assert_int_equal(lost, 0);
	assert_int_equal(idtab_count(&shared), MANY + 2 * 50000);
	for (id = 1; id <= MANY; id++) {
		/* one slot per id, which both adders got */
		assert_ptr_equal(idtab_get(&shared, id), first[id - 1]);
		assert_int_equal(first[id - 1]->n, 2);
	}
	idtab_destroy(&shared);
}

/* server_live.c at 20,000 servers: each keeps its own in-flight count,
 * failures and ejection, the last as well as the first.
 */
static void
test_server_live_20000(void **state)
{
	struct server_live_info li;
	uint64_t now = server_live_now_us();
	int64_t id;

	(void)state;
	for (id = 1; id <= MANY; id++) {
		server_live_begin(id);
		if (id % 2 == 0)
			server_live_begin(id);
		assert_int_equal(server_live_failure(id), 1);
		if (id % 3 == 0)
			assert_int_equal(server_live_eject(id, 5, now), 5);
	}
	assert_true(server_live_count() >= MANY);
	for (id = 1; id <= MANY; id++) {
		assert_true(server_live_get(id, &li));
		assert_int_equal(li.inflight, id % 2 == 0 ? 2 : 1);
		assert_int_equal(li.picks, id % 2 == 0 ? 2 : 1);
		assert_int_equal(server_live_ejected(id, now + 1), id % 3 == 0);
		assert_int_equal(li.ejections, id % 3 == 0);
		assert_int_equal(li.failures_run, id % 3 == 0 ? 0 : 1);
	}
	assert_false(server_live_get(MANY + 1, &li));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_get),
		cmocka_unit_test(test_grows_and_keeps_slots),
		cmocka_unit_test(test_limit_refuses_and_counts),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_server_live_20000),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
