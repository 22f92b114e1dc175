/*
 * test_cfg_incr.c: a snapshot built from the previous one after a route
 * write (cfg_compile_route(), cfg_incr.c) equals a full compile of the
 * same rows, compared through cfg_dump(), over a few hundred random route
 * creates, changes and deletes chained one on the other (some routes on
 * two listeners); and a route that does not compile fails both ways with
 * the same error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cmocka.h needs stdarg.h, stddef.h and setjmp.h first. */
#include <cmocka.h>

#include "arena.h"
#include "cfg.h"
#include "store.h"

#ifndef FIXTURES_DIR
#error "FIXTURES_DIR must name tests/unit/fixtures"
#endif

static struct store *
db_base(void)
{
	char path[512], *buf;
	struct store *st;
	struct err e;
	size_t len;
	FILE *f;

	st = store_open(":memory:", 0, &e);
	assert_non_null(st);
	assert_int_equal(store_migrate(st, &e), 0);
	snprintf(path, sizeof(path), "%s/base.sql", FIXTURES_DIR);
	f = fopen(path, "rb");
	assert_non_null(f);
	buf = malloc(1 << 16);
	assert_non_null(buf);
	len = fread(buf, 1, (1 << 16) - 1, f);
	fclose(f);
	buf[len] = '\0';
	if (store_exec(st, buf, &e) == -1)
		fail_msg("base.sql: %s", e.msg);
	free(buf);
	return st;
}

/* The snapshots' dumps are equal; on a difference, prints both. */
static void
same_dump(const struct cfg *a, const struct cfg *b, int step)
{
	char *da = NULL, *db = NULL;
	size_t na = 0, nb = 0;

	assert_int_equal(cfg_dump(a, &da, &na), 0);
	assert_int_equal(cfg_dump(b, &db, &nb), 0);
	if (na != nb || memcmp(da, db, na) != 0)
		fail_msg("step %d: incremental\n%s\nfull\n%s", step, da, db);
	free(da);
	free(db);
}

static unsigned rnd_state = 12345;

static unsigned
rnd(unsigned n)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 16) % n;
}

static const char *const hosts[] = { "[]", "[\"a.example\"]",
	"[\"a.example\", \"b.example\"]", "[\"*.example\"]",
	"[\"*.sub.example\", \"c.example\"]", "[\"B.example\"]",
	"[\"*.a.example\"]" };
static const char *const prefixes[] = { "/", "/api/", "/api/v2/", "/x" };
static const char *const methods[] = { "[]", "[\"GET\"]",
	"[\"POST\", \"PUT\"]" };

/* One random route write as SQL into <sql>; <*id> the route's id. */
static void
random_write(struct store *st, char *sql, size_t len, int64_t *next_id,
    int64_t *id)
{
	struct store_stmt *s;
	struct err e;
	int64_t ids[256];
	size_t n = 0;
	unsigned op = rnd(10), listener = rnd(3) == 0 ? 2 : 1;

	s = store_prepare(st, "SELECT id FROM routes ORDER BY id", &e);
	assert_non_null(s);
	while (store_step(s, &e) == STORE_ROW && n < 256)
		ids[n++] = store_col_int64(s, 0);
	store_finalize(s);
	if (n == 0 || op < 3) {
		*id = (*next_id)++;
		snprintf(sql, len,
		    "INSERT INTO routes (id, name, listener_id, origin_id, "
		    "hosts, path_prefix, methods, priority) VALUES (%lld, "
		    "'r%lld', %u, %u, '%s', '%s', '%s', %d)",
		    (long long)*id, (long long)*id, listener, 1 + rnd(2),
		    listener == 2 && rnd(3) == 0 ? "[]" : hosts[rnd(7)],
		    listener == 2 ? "/" : prefixes[rnd(4)],
		    listener == 2 ? "[]" : methods[rnd(3)], (int)rnd(5) - 2);
		if (listener == 2 && rnd(2) == 0) /* passthrough by sni */
			snprintf(sql + strlen(sql), len - strlen(sql),
			    "; UPDATE routes SET hosts = '[]', origin_id = 2, "
			    "sni = '[\"s%u.example\", \"*.p.example\"]' WHERE "
			    "id = %lld",
			    rnd(3), (long long)*id);
		else if (listener == 1 && rnd(3) == 0) /* http and https */
			snprintf(sql + strlen(sql), len - strlen(sql),
			    "; INSERT INTO route_listeners (route_id, "
			    "listener_id, position) VALUES (%lld, 1, 0), "
			    "(%lld, 2, 1)",
			    (long long)*id, (long long)*id);
		return;
	}
	*id = ids[rnd((unsigned)n)];
	if (op < 5) {
		snprintf(sql, len, "DELETE FROM routes WHERE id = %lld",
		    (long long)*id);
	} else if (op < 8) {
		snprintf(sql, len,
		    "UPDATE routes SET priority = %d, hosts = CASE WHEN "
		    "listener_id = 1 THEN '%s' ELSE hosts END WHERE id = %lld",
		    (int)rnd(5) - 2, hosts[rnd(7)], (long long)*id);
	} else {
		snprintf(sql, len,
		    "UPDATE routes SET listener_id = 1, sni = '[]', "
		    "origin_id = %u, path_prefix = '%s', methods = '%s' WHERE "
		    "id = %lld",
		    1 + rnd(2), prefixes[rnd(4)], methods[rnd(3)],
		    (long long)*id);
	}
}

/* <steps> random route writes chained one on the other, each compared
 * with a full compile; returns how many were rebased (compiled in full
 * because the chain had grown, cfg_incr_chain_max).
 */
static int
random_writes(int steps)
{
	struct store *st = db_base();
	struct cfg *prev, *inc, *full;
	int64_t next_id = 100, id;
	char sql[1024];
	struct err e;
	int step, rc, rebased = 0;

	prev = cfg_compile(st, &e);
	assert_non_null(prev);
	for (step = 0; step < steps; step++) {
		assert_int_equal(store_begin(st, &e), 0);
		random_write(st, sql, sizeof(sql), &next_id, &id);
		if (store_exec(st, sql, &e) != 0)
			fail_msg("%s: %s", sql, e.msg);
		assert_int_equal(store_exec(st,
		                     "INSERT INTO revisions (actor, summary) "
		                     "VALUES ('test', 'step')",
		                     &e),
		    0);
		rc = cfg_compile_route(st, prev, id, &inc, &e);
		if (rc < 0 || (rc == 1 && prev->chain == 0))
			fail_msg("step %d (%s): %d %s: %s", step, sql, rc,
			    e.field, e.msg);
		full = cfg_compile(st, &e);
		assert_non_null(full);
		if (rc == 1) { /* a rebase: the caller compiles in full */
			rebased++;
			inc = cfg_ref(full);
		}
		assert_true(inc->chain <= cfg_incr_chain_max);
		same_dump(inc, full, step);
		assert_int_equal(store_commit(st, &e), 0);
		cfg_unref(full);
		cfg_unref(prev);
		prev = inc; /* the next one builds on this one */
		assert_true(prev->chain == 0 ||
		    (prev->base != NULL && prev->base->base == NULL &&
		        prev->base->prev == NULL && prev->prev != NULL));
	}
	cfg_unref(prev);
	store_close(st);
	return rebased;
}

static void
test_random_writes(void **state)
{
	(void)state;
	random_writes(400);
}

/* A chain of at most 7 snapshots: every 8th write compiles in full. */
static void
test_rebase(void **state)
{
	unsigned max = cfg_incr_chain_max;

	(void)state;
	cfg_incr_chain_max = 7;
	assert_int_equal(random_writes(80), 10);
	cfg_incr_chain_max = max;
}

/* The sequences are persistent: random puts and deletes, each on a copy,
 * against a sorted array; every version stays as it was.
 */
static void
test_rseq(void **state)
{
	enum {
		N = 1500,
		OPS = 3000,
		KEEP = 8
	};
	struct cfg_route *r = calloc(N, sizeof(*r));
	const struct cfg_route *ref[N], *got;
	struct cfg_rseq s, kept[KEEP];
	struct arena *a = arena_new(1 << 16, 0);
	struct cfg_rseq_it it;
	bool in[N] = { false };
	size_t i, k, n, op;
	int id;

	(void)state;
	assert_non_null(r);
	assert_non_null(a);
	for (i = 0; i < N; i++)
		r[i].id = (int64_t)i;
	for (i = 0, n = 0; i < N; i += 2) { /* every other one to start */
		ref[n++] = &r[i];
		in[i] = true;
	}
	assert_int_equal(cfg_rseq_from(a, &s, ref, n), 0);
	for (op = 0; op < OPS; op++) {
		if (op % (OPS / KEEP) == 0)
			kept[op / (OPS / KEEP)] = s;
		id = (int)rnd(N);
		if (in[id]) {
			assert_int_equal(cfg_rseq_del(a, &s, &r[id],
			                     cfg_route_id_cmp),
			    0);
			assert_int_equal(cfg_rseq_del(a, &s, &r[id],
			                     cfg_route_id_cmp),
			    1);
		} else {
			assert_int_equal(cfg_rseq_put(a, &s, &r[id],
			                     cfg_route_id_cmp),
			    0);
		}
		in[id] = !in[id];
		assert_true((cfg_rseq_find(&s, &r[id], cfg_route_id_cmp) ==
		                &r[id]) == in[id]);
	}
	for (i = 0, n = 0; i < N; i++)
		if (in[i])
			ref[n++] = &r[i];
	assert_int_equal(s.n, n);
	for (i = 0; i < s.nc; i++)
		assert_true(s.c[i]->n > 0 && s.c[i]->n <= CFG_RSEQ_MAX);
	it = cfg_rseq_begin(&s);
	for (i = 0; (got = cfg_rseq_next(&it)) != NULL; i++)
		assert_ptr_equal(got, ref[i]);
	assert_int_equal(i, n);
	assert_ptr_equal(cfg_rseq_at(&s, n - 1), ref[n - 1]);
	assert_null(cfg_rseq_at(&s, n));
	/* The first kept version is the starting one, unchanged. */
	it = cfg_rseq_begin(&kept[0]);
	for (i = 0; (got = cfg_rseq_next(&it)) != NULL; i++)
		assert_int_equal(got->id, (int64_t)(2 * i));
	assert_int_equal(i, (N + 1) / 2);
	for (k = 1; k < KEEP; k++) { /* each kept one still sorted */
		it = cfg_rseq_begin(&kept[k]);
		for (i = 0, id = -1; (got = cfg_rseq_next(&it)) != NULL; i++) {
			assert_true(got->id > id);
			id = (int)got->id;
		}
		assert_int_equal(i, kept[k].n);
	}
	arena_free(a);
	free(r);
}

/* One route written among 3,000: the new snapshot shares all but a few
 * chunks of the route sequences and all but a few pages of the host
 * index with the one before, and equals a full compile.
 */
static void
test_shared(void **state)
{
	struct store *st = db_base();
	struct cfg *prev, *inc, *full;
	const struct cfg_listener *pl, *l;
	struct store_stmt *s;
	char sql[256];
	struct err e;
	size_t i, diff;
	int64_t id;

	(void)state;
	assert_int_equal(store_exec(st,
	                     "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL "
	                     "SELECT i + 1 FROM n WHERE i < 3000) "
	                     "INSERT INTO routes (name, listener_id, "
	                     "origin_id, hosts) SELECT 'bulk' || i, 1, 1, "
	                     "json_array('h' || i || '.example') FROM n; "
	                     "INSERT INTO route_listeners (route_id, "
	                     "listener_id, position) SELECT id, 1, 0 FROM "
	                     "routes WHERE name LIKE 'bulk%'",
	                     &e),
	    0);
	prev = cfg_compile(st, &e);
	assert_non_null(prev);
	assert_true(prev->routes.n > 3000 && prev->routes.nc > 40);
	assert_int_equal(store_begin(st, &e), 0);
	snprintf(sql, sizeof(sql),
	    "UPDATE routes SET priority = 5 WHERE name = 'bulk1500'");
	assert_int_equal(store_exec(st, sql, &e), 0);
	assert_int_equal(store_exec(st,
	                     "INSERT INTO revisions (actor, summary) "
	                     "VALUES ('test', 'step')",
	                     &e),
	    0);
	s = store_prepare(st, "SELECT id FROM routes WHERE name = 'bulk1500'",
	    &e);
	assert_non_null(s);
	assert_int_equal(store_step(s, &e), STORE_ROW);
	id = store_col_int64(s, 0);
	store_finalize(s);
	assert_int_equal(cfg_compile_route(st, prev, id, &inc, &e), 0);
	full = cfg_compile(st, &e);
	assert_non_null(full);
	same_dump(inc, full, 0);
	/* The id sequence: one chunk changed. */
	assert_int_equal(inc->routes.nc, prev->routes.nc);
	for (i = 0, diff = 0; i < inc->routes.nc; i++)
		diff += inc->routes.c[i] != prev->routes.c[i];
	assert_int_equal(diff, 1);
	/* The listener's order: the route left one chunk, joined another
	 * (priority 5 puts it first).
	 */
	pl = &prev->listeners[0];
	l = &inc->listeners[0];
	assert_true(pl->routes.n > 3000);
	for (i = 1, diff = 0; i < l->routes.nc && i < pl->routes.nc; i++)
		diff += l->routes.c[i] != pl->routes.c[i];
	assert_true(diff <= 2);
	assert_ptr_not_equal(l->route_index, pl->route_index);
	cfg_unref(full);
	cfg_unref(inc);
	store_commit(st, &e);
	cfg_unref(prev);
	store_close(st);
}

/* A route that does not compile: the same error both ways. */
static void
test_refused(void **state)
{
	struct store *st = db_base();
	struct cfg *prev, *inc = NULL;
	struct err e, ef;

	(void)state;
	prev = cfg_compile(st, &e);
	assert_non_null(prev);
	assert_int_equal(store_begin(st, &e), 0);
	assert_int_equal(store_exec(st,
	                     "UPDATE routes SET sni = '[\"x.example\"]' "
	                     "WHERE id = 1",
	                     &e),
	    0);
	assert_int_equal(cfg_compile_route(st, prev, 1, &inc, &e), -1);
	assert_null(inc);
	assert_null(cfg_compile(st, &ef));
	assert_string_equal(e.field, ef.field);
	assert_string_equal(e.msg, ef.msg);
	store_rollback(st);
	/* No previous snapshot: the caller compiles in full. */
	assert_int_equal(cfg_compile_route(st, NULL, 1, &inc, &e), 1);
	cfg_unref(prev);
	store_close(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_writes),
		cmocka_unit_test(test_rebase),
		cmocka_unit_test(test_rseq),
		cmocka_unit_test(test_shared),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
