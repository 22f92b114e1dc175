/*
 * test_rev_store.c: revisions' heads are read without their documents
 * (rev_store.c, schema/0030_revision_head.sql), and a document rebuilt
 * from its checkpoint and deltas is the one stored.
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

#include "api_int.h"
#include "json.h"
#include "store.h"

static struct store *
open_store(void)
{
	struct err e;
	struct store *st;

	err_clear(&e);
	st = store_open(":memory:", 0, &e);
	assert_non_null(st);
	assert_int_equal(store_migrate(st, &e), 0);
	return st;
}

/* Every statement that reads a head goes through revisions_head: no
 * step of its plan reads a revisions row by rowid or scans the table.
 */
static void
test_head_plans(void **state)
{
	struct store *st = open_store();
	struct store_stmt *s;
	const char *detail;
	char sql[512];
	struct err e;
	size_t i;
	int covered;

	(void)state;
	for (i = 0; rev_head_sql[i] != NULL; i++) {
		snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN %s",
		    rev_head_sql[i]);
		err_clear(&e);
		s = store_prepare(st, sql, &e);
		assert_non_null(s);
		covered = 0;
		while (store_step(s, &e) == STORE_ROW) {
			detail = store_col_text(s, 3);
			print_message("%zu: %s\n", i, detail);
			covered += strstr(detail,
			               "COVERING INDEX revisions_head") != NULL;
			assert_null(strstr(detail, "INTEGER PRIMARY KEY"));
			assert_false(strncmp(detail, "SCAN ", 5) == 0 &&
			    strstr(detail, "INDEX") == NULL);
		}
		store_finalize(s);
		assert_int_equal(covered, 1);
	}
	assert_true(i >= 5);
	store_close(st);
}

static struct json *
doc_of(int n, int prio)
{
	struct json *doc = json_new_obj(), *routes = json_new_arr(), *r;
	char name[16];
	int i;

	for (i = 0; i < n; i++) {
		r = json_new_obj();
		json_set(r, "id", json_new_int(i + 1));
		snprintf(name, sizeof(name), "r%d", i);
		json_set(r, "name", json_new_str(name));
		json_set(r, "priority", json_new_int(i == 7 ? prio : 0));
		json_append(routes, r);
	}
	json_set(doc, "routes", routes);
	return doc;
}

/* A checkpoint and two deltas; with the documents no longer in memory,
 * rev_doc() rebuilds each from the rows.
 */
static void
test_rebuild(void **state)
{
	struct store *st = open_store();
	struct api_req r;
	struct json *docs[3], *got;
	int64_t ids[3];
	struct err e;
	size_t i;

	(void)state;
	memset(&r, 0, sizeof(r));
	err_clear(&e);
	for (i = 0; i < 3; i++) {
		docs[i] = doc_of(2000, (int)i);
		assert_int_equal(store_begin(st, &e), 0);
		ids[i] = api_revision_insert(&r, st, "test", docs[i], &e);
		assert_true(ids[i] > 0);
		assert_int_equal(store_commit(st, &e), 0);
	}
	rev_cache_clear();
	for (i = 0; i < 3; i++) {
		got = rev_doc(st, ids[i], &e);
		assert_non_null(got);
		assert_true(json_same(got, docs[i]));
		json_unref(got);
		json_unref(docs[i]);
	}
	assert_null(rev_doc(st, ids[2] + 1, &e));
	assert_string_equal(e.msg, "");
	store_close(st);
}

/* Item writes recorded in place (rev_insert_item()): each revision's
 * document, rebuilt from the rows once nothing is in memory, is the one
 * the writes made; a shared document is left alone (0).
 */
static void
test_item_in_place(void **state)
{
	struct store *st = open_store();
	struct json *want[6], *doc, *it, *got, *held;
	int64_t ids[6];
	struct api_req r;
	struct err e;
	size_t i;

	(void)state;
	memset(&r, 0, sizeof(r));
	err_clear(&e);
	doc = doc_of(50, 0);
	assert_int_equal(store_begin(st, &e), 0);
	ids[0] = api_revision_insert(&r, st, "load", doc, &e);
	assert_true(ids[0] > 0);
	want[0] = json_clone(doc);
	json_unref(doc);
	for (i = 1; i < 6; i++) {
		it = NULL;
		if (i != 3) { /* a changed item 8, a new 100, then 100 again */
			it = json_new_obj();
			json_set(it, "id", json_new_int(i < 3 ? 8 : 100));
			json_set(it, "name", json_new_str("x"));
			json_set(it, "priority", json_new_int((int64_t)i));
		}
		/* i == 3 deletes item 8 */
		ids[i] = rev_insert_item(&r, st, "item", "routes",
		    i < 3        ? 8
		        : i == 3 ? 8
		                 : 100,
		    it, &e);
		assert_true(ids[i] > ids[i - 1]);
		want[i] = json_clone(want[i - 1]);
		if (i == 1 || i == 2)
			json_replace_at(json_get(want[i], "routes"), 7,
			    json_ref(it));
		else if (i == 3)
			json_remove_at(json_get(want[i], "routes"), 7);
		else if (i == 4)
			json_append(json_get(want[i], "routes"), json_ref(it));
		else
			json_replace_at(json_get(want[i], "routes"), 49,
			    json_ref(it));
		json_unref(it);
	}
	/* The newest in memory is the last one; held elsewhere, it is not
	 * changed in place.
	 */
	held = rev_latest_cached(st);
	assert_non_null(held);
	assert_true(json_same(held, want[5]));
	assert_int_equal(rev_insert_item(&r, st, "item", "routes", 1, NULL, &e),
	    0);
	json_unref(held);
	assert_int_equal(store_commit(st, &e), 0);
	rev_cache_clear();
	for (i = 0; i < 6; i++) {
		got = rev_doc(st, ids[i], &e);
		assert_non_null(got);
		if (!json_same(got, want[i]))
			fail_msg("revision %zu differs", i);
		json_unref(got);
		json_unref(want[i]);
	}
	/* Nothing in memory: the caller builds the document. */
	assert_int_equal(rev_insert_item(&r, st, "item", "routes", 1, NULL, &e),
	    0);
	store_close(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_head_plans),
		cmocka_unit_test(test_rebuild),
		cmocka_unit_test(test_item_in_place),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
