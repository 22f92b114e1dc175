/*
 * test_store.c: store_open() checks and pragmas, migrations, refusal of
 * foreign, corrupt and too-new files without touching them, statements and
 * the mapping of constraint failures.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* cmocka.h needs stdarg.h, stddef.h and setjmp.h first. */
#include <cmocka.h>

#include "log.h"
#include "store.h"

struct fx {
	char dir[PATH_MAX - 32];
	char db[PATH_MAX];
};

static int
fx_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	const char *tmp = getenv("TMPDIR");

	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "%s/test_store.XXXXXX",
	    tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->db, sizeof(fx->db), "%s/gh.db", fx->dir);
	*state = fx;
	return 0;
}

static int
fx_teardown(void **state)
{
	struct fx *fx = *state;
	static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
	char p[PATH_MAX + 16];
	size_t i;

	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", fx->db, sfx[i]);
		unlink(p);
	}
	rmdir(fx->dir);
	free(fx);
	return 0;
}

/* Reads a whole file into a malloc'd buffer. */
static unsigned char *
slurp(const char *path, size_t *len)
{
	unsigned char *buf;
	struct stat sb;
	FILE *f;

	assert_int_equal(stat(path, &sb), 0);
	buf = malloc((size_t)sb.st_size + 1);
	assert_non_null(buf);
	f = fopen(path, "rb");
	assert_non_null(f);
	*len = fread(buf, 1, (size_t)sb.st_size, f);
	assert_int_equal(*len, (size_t)sb.st_size);
	fclose(f);
	return buf;
}

static void
spill(const char *path, const void *p, size_t len, long off)
{
	FILE *f = fopen(path, off < 0 ? "wb" : "r+b");

	assert_non_null(f);
	if (off > 0)
		assert_int_equal(fseek(f, off, SEEK_SET), 0);
	assert_int_equal(fwrite(p, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static bool
exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

/* Opens <path> expecting refusal with exactly <want>, for every flag
 * combination, and checks the bytes on disk never change.
 */
static void
expect_refused(const char *path, const char *want)
{
	static const unsigned flags[] = { 0, STORE_F_CREATE, STORE_F_READONLY };
	unsigned char *before, *after;
	size_t blen, alen, i;
	char wal[PATH_MAX + 8];
	struct err e;

	before = slurp(path, &blen);
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		err_clear(&e);
		assert_null(store_open(path, flags[i], &e));
		assert_string_equal(e.field, "");
		assert_string_equal(e.msg, want);
		after = slurp(path, &alen);
		assert_int_equal(alen, blen);
		assert_memory_equal(after, before, blen);
		free(after);
	}
	/* A read-only look at a WAL-mode file may leave an empty -wal. */
	snprintf(wal, sizeof(wal), "%s-wal", path);
	if (exists(wal)) {
		after = slurp(wal, &alen);
		assert_int_equal(alen, 0);
		free(after);
	}
	free(before);
}

static void
test_memory(void **state)
{
	struct store *st;
	struct err e;

	(void)state;
	st = store_open(":memory:", 0, &e);
	assert_non_null(st);
	assert_int_equal(store_schema_version(st), 0);
	assert_int_equal(store_migrate(st, &e), 0);
	assert_true(store_schema_latest() >= 1);
	assert_int_equal(store_schema_version(st), store_schema_latest());
	/* Idempotent. */
	assert_int_equal(store_migrate(st, &e), 0);
	assert_int_equal(store_schema_version(st), store_schema_latest());
	assert_int_equal(store_revision(st), 0);
	assert_int_equal(
	    store_exec(st,
	        "INSERT INTO revisions (actor) VALUES ('a'), ('b'),"
	        " ('c')",
	        &e),
	    0);
	assert_int_equal(store_revision(st), 3);
	assert_true(store_integrity_ok(st));
	store_close(st);
}

static void
test_revision_unmigrated(void **state)
{
	struct store *st;
	struct err e;

	(void)state;
	st = store_open(":memory:", 0, &e);
	assert_non_null(st);
	assert_int_equal(store_revision(st), 0);
	store_close(st);
}

static void
test_missing_without_create(void **state)
{
	struct fx *fx = *state;
	char want[PATH_MAX + 64];
	struct err e;

	assert_null(store_open(fx->db, 0, &e));
	snprintf(want, sizeof(want), "%s: No such file or directory", fx->db);
	assert_string_equal(e.msg, want);
	assert_false(exists(fx->db));
	assert_null(store_open(fx->db, STORE_F_CREATE | STORE_F_READONLY, &e));
	assert_false(exists(fx->db));
	assert_null(store_open("", STORE_F_CREATE, &e));
	assert_string_equal(e.msg, "no database path given");
}

static void
test_create_and_reopen(void **state)
{
	struct fx *fx = *state;
	unsigned char *buf;
	struct store *st;
	struct stat sb;
	struct err e;
	size_t len;

	st = store_open(fx->db, STORE_F_CREATE, &e);
	assert_non_null(st);
	assert_int_equal(stat(fx->db, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(store_migrate(st, &e), 0);
	assert_int_equal(store_exec(st,
	                     "INSERT INTO origins (name) VALUES ('web')", &e),
	    0);
	store_close(st);

	/* journal_mode=WAL is persistent: header bytes 18 and 19 are 2. */
	buf = slurp(fx->db, &len);
	assert_true(len >= 100);
	assert_memory_equal(buf, "SQLite format 3", 16);
	assert_int_equal(buf[18], 2);
	assert_int_equal(buf[19], 2);
	free(buf);

	st = store_open(fx->db, 0, &e);
	assert_non_null(st);
	assert_int_equal(store_schema_version(st), store_schema_latest());
	assert_int_equal(store_migrate(st, &e), 0);
	assert_true(store_integrity_ok(st));
	store_close(st);

	/* CREATE on an existing file just opens it. */
	st = store_open(fx->db, STORE_F_CREATE, &e);
	assert_non_null(st);
	assert_int_equal(store_schema_version(st), store_schema_latest());
	store_close(st);
}

static void
test_readonly(void **state)
{
	struct fx *fx = *state;
	struct store_stmt *s;
	struct store *st;
	struct err e;

	st = store_open(fx->db, STORE_F_CREATE, &e);
	assert_non_null(st);
	assert_int_equal(store_migrate(st, &e), 0);
	assert_int_equal(store_exec(st,
	                     "INSERT INTO origins (name) VALUES ('web')", &e),
	    0);
	store_close(st);

	st = store_open(fx->db, STORE_F_READONLY, &e);
	assert_non_null(st);
	s = store_prepare(st, "SELECT name FROM origins", &e);
	assert_non_null(s);
	assert_int_equal(store_step(s, &e), STORE_ROW);
	assert_string_equal(store_col_text(s, 0), "web");
	store_finalize(s);
	s = store_prepare(st, "INSERT INTO origins (name) VALUES ('x')", &e);
	assert_non_null(s);
	assert_int_equal(store_step(s, &e), STORE_ERROR);
	assert_string_equal(e.msg, "attempt to write a readonly database");
	store_finalize(s);
	store_close(st);
}

static void
test_refuse_garbage(void **state)
{
	struct fx *fx = *state;
	unsigned char junk[8192];
	char want[PATH_MAX + 64];
	size_t i;

	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)(i * 7 + 3);
	spill(fx->db, junk, sizeof(junk), -1);
	snprintf(want, sizeof(want), "%s: not a SQLite database", fx->db);
	expect_refused(fx->db, want);
}

static void
test_refuse_text_file(void **state)
{
	struct fx *fx = *state;
	static const char text[] = "listen 0.0.0.0:80;\nroute / web;\n";
	char want[PATH_MAX + 64];

	spill(fx->db, text, sizeof(text) - 1, -1);
	snprintf(want, sizeof(want), "%s: not a SQLite database", fx->db);
	expect_refused(fx->db, want);
}

static void
test_refuse_corrupt(void **state)
{
	struct fx *fx = *state;
	unsigned char junk[3 * 4096];
	struct store *st;
	struct err e;
	char want[PATH_MAX + 256];
	struct stat sb;
	long npages;
	size_t i;

	st = store_open(fx->db, STORE_F_CREATE, &e);
	assert_non_null(st);
	assert_int_equal(store_migrate(st, &e), 0);
	assert_int_equal(
	    store_exec(st,
	        "CREATE TABLE filler (x BLOB);"
	        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL"
	        " SELECT i + 1 FROM n WHERE i < 400)"
	        " INSERT INTO filler SELECT randomblob(200) FROM n",
	        &e),
	    0);
	store_close(st);

	/* Smash three of the filler's b-tree pages (the last table created,
	 * so at the end of the file, whatever the migrations made before).
	 */
	assert_int_equal(stat(fx->db, &sb), 0);
	npages = (long)(sb.st_size / 4096);
	assert_true(npages > 20);
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)(0xa5 ^ i);
	spill(fx->db, junk, sizeof(junk), (npages - 6) * 4096);
	snprintf(want, sizeof(want),
	    "%s: database is corrupt: Page %ld: btreeInitPage() returns error "
	    "code 11; Page %ld: btreeInitPage() returns error code 11; Page "
	    "%ld: btreeInitPage() returns error code 11",
	    fx->db, npages - 3, npages - 4, npages - 5);

	for (i = 0; i < 3; i++) {
		unsigned flags = i == 0 ? 0
		    : i == 1            ? STORE_F_CREATE
		                        : STORE_F_READONLY;
		unsigned char *before, *after;
		size_t blen, alen;

		before = slurp(fx->db, &blen);
		assert_null(store_open(fx->db, flags, &e));
		assert_string_equal(e.field, "");
		assert_string_equal(e.msg, want);
		after = slurp(fx->db, &alen);
		assert_int_equal(alen, blen);
		assert_memory_equal(after, before, blen);
		free(before);
		free(after);
	}
}

static void
test_refuse_newer(void **state)
{
	struct fx *fx = *state;
	char sql[64], want[PATH_MAX + 128];
	struct store *st;
	struct err e;

	st = store_open(fx->db, STORE_F_CREATE, &e);
	assert_non_null(st);
	assert_int_equal(store_migrate(st, &e), 0);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
	    store_schema_latest() + 1);
	assert_int_equal(store_exec(st, sql, &e), 0);
	store_close(st);

	snprintf(want, sizeof(want),
	    "%s: schema version %d is newer than this gatehoused knows (%d); "
	    "refusing to open it",
	    fx->db, store_schema_latest() + 1, store_schema_latest());
	expect_refused(fx->db, want);
}

/* clang-format off */
static const struct {
	const char *sql;
	enum store_step_result want;
	const char *msg;
} constraint_cases[] = {
	{ "INSERT INTO listeners (name, address, port) VALUES ('a', '::', 80)",
	  STORE_CONSTRAINT, "UNIQUE constraint failed: listeners.name" },
	{ "INSERT INTO listeners (name, address, port) VALUES ('b', '::', 70000)",
	  STORE_CONSTRAINT, "CHECK constraint failed: port BETWEEN 0 AND 65535" },
	{ "INSERT INTO listeners (name, address, port, protocol)"
	  " VALUES ('b', '::', 81, 'gopher')",
	  STORE_CONSTRAINT, "CHECK constraint failed: protocol IN ('http', 'https', 'tcp', 'udp', 'tls-passthrough')" },
	{ "INSERT INTO listeners (name, address) VALUES ('b', '::')",
	  STORE_CONSTRAINT, "NOT NULL constraint failed: listeners.port" },
	{ "INSERT INTO listeners (name, address, port) VALUES ('b', '::', 'x')",
	  STORE_CONSTRAINT, "cannot store TEXT value in INTEGER column listeners.port" },
	{ "INSERT INTO routes (name, listener_id, origin_id) VALUES ('r', 99, 1)",
	  STORE_CONSTRAINT, "FOREIGN KEY constraint failed" },
	{ "DELETE FROM origins WHERE name = 'web'",
	  STORE_CONSTRAINT, "FOREIGN KEY constraint failed" },
	{ "INSERT INTO routes (name, listener_id, origin_id, hosts)"
	  " VALUES ('r', 1, 1, '{}')",
	  STORE_CONSTRAINT, "CHECK constraint failed: json_valid(hosts) AND json_type(hosts) = 'array'" },
	{ "INSERT INTO nosuch VALUES (1)", STORE_ERROR, NULL },
	{ "INSERT INTO listeners (name, address, port) VALUES ('c', '::', 82)",
	  STORE_DONE, NULL },
};
/* clang-format on */

static void
test_constraints(void **state)
{
	struct store_stmt *s;
	struct store *st;
	struct err e;
	size_t i;

	(void)state;
	st = store_open(":memory:", 0, &e);
	assert_non_null(st);
	assert_int_equal(store_migrate(st, &e), 0);
	assert_int_equal(store_exec(st,
	                     "INSERT INTO listeners (id, name, address, port)"
	                     " VALUES (1, 'a', '::', 80);"
	                     "INSERT INTO origins (id, name) VALUES (1, 'web');"
	                     "INSERT INTO routes (name, listener_id, origin_id)"
	                     " VALUES ('app', 1, 1);",
	                     &e),
	    0);
	for (i = 0; i < sizeof(constraint_cases) / sizeof(constraint_cases[0]);
	     i++) {
		err_clear(&e);
		s = store_prepare(st, constraint_cases[i].sql, &e);
		if (constraint_cases[i].want == STORE_ERROR && s == NULL) {
			assert_string_equal(e.msg, "no such table: nosuch");
			continue;
		}
		assert_non_null(s);
		assert_int_equal(store_step(s, &e), constraint_cases[i].want);
		if (constraint_cases[i].msg != NULL)
			assert_string_equal(e.msg, constraint_cases[i].msg);
		store_finalize(s);
	}
	store_close(st);
}

static void
test_statements(void **state)
{
	static const unsigned char blob[] = { 0, 1, 2, 0xff };
	struct store_stmt *s;
	struct store *st;
	const void *p;
	struct err e;
	int n;

	(void)state;
	st = store_open(":memory:", 0, &e);
	assert_non_null(st);
	assert_int_equal(
	    store_exec(st,
	        "CREATE TABLE t (id INTEGER PRIMARY KEY, i INTEGER,"
	        " s TEXT, b BLOB)",
	        &e),
	    0);
	s = store_prepare(st, "INSERT INTO t (i, s, b) VALUES (?1, ?2, ?3)",
	    &e);
	assert_non_null(s);
	assert_int_equal(store_bind_int64(s, 1, INT64_MIN), 0);
	assert_int_equal(store_bind_text(s, 2, "héllo"), 0);
	assert_int_equal(store_bind_blob(s, 3, blob, sizeof(blob)), 0);
	assert_int_equal(store_step(s, &e), STORE_DONE);
	assert_int_equal(store_last_insert_id(st), 1);
	assert_int_equal(store_changes(st), 1);
	assert_int_equal(store_reset(s), 0);
	assert_int_equal(store_bind_null(s, 1), 0);
	assert_int_equal(store_bind_text(s, 2, NULL), 0);
	assert_int_equal(store_step(s, &e), STORE_DONE);
	assert_int_equal(store_last_insert_id(st), 2);
	store_finalize(s);

	s = store_prepare(st, "SELECT i, s, b FROM t ORDER BY id", &e);
	assert_non_null(s);
	assert_int_equal(store_step(s, &e), STORE_ROW);
	assert_false(store_col_is_null(s, 0));
	assert_true(store_col_int64(s, 0) == INT64_MIN);
	assert_string_equal(store_col_text(s, 1), "héllo");
	p = store_col_blob(s, 2, &n);
	assert_int_equal(n, sizeof(blob));
	assert_memory_equal(p, blob, sizeof(blob));
	assert_int_equal(store_step(s, &e), STORE_ROW);
	assert_true(store_col_is_null(s, 0));
	assert_true(store_col_is_null(s, 1));
	assert_string_equal(store_col_text(s, 1), "");
	assert_int_equal(store_step(s, &e), STORE_DONE);
	store_finalize(s);
	store_finalize(NULL);

	assert_null(store_prepare(st, "SELEC 1", &e));
	assert_string_equal(e.msg, "near \"SELEC\": syntax error");
	assert_int_equal(store_exec(st, "DROP TABLE nosuch", &e), -1);
	assert_string_equal(e.msg, "no such table: nosuch");
	store_close(st);
	store_close(NULL);
}

static void
test_transactions(void **state)
{
	struct store_stmt *s;
	struct store *st;
	struct err e;

	(void)state;
	st = store_open(":memory:", 0, &e);
	assert_non_null(st);
	assert_int_equal(store_rollback(st), 0); /* none open: no-op */
	assert_int_equal(store_exec(st, "CREATE TABLE t (x)", &e), 0);
	assert_int_equal(store_begin(st, &e), 0);
	assert_int_equal(store_begin(st, &e), -1);
	assert_string_equal(e.msg,
	    "cannot start a transaction within a transaction");
	assert_int_equal(store_exec(st, "INSERT INTO t VALUES (1)", &e), 0);
	assert_int_equal(store_rollback(st), 0);
	assert_int_equal(store_begin(st, &e), 0);
	assert_int_equal(store_exec(st, "INSERT INTO t VALUES (2)", &e), 0);
	assert_int_equal(store_commit(st, &e), 0);
	assert_int_equal(store_commit(st, &e), -1);
	s = store_prepare(st, "SELECT group_concat(x) FROM t", &e);
	assert_non_null(s);
	assert_int_equal(store_step(s, &e), STORE_ROW);
	assert_string_equal(store_col_text(s, 0), "2");
	store_finalize(s);
	store_close(st);
}

int
main(void)
{
	log_set_level(LOG_LVL_WARN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memory),
		cmocka_unit_test(test_revision_unmigrated),
		cmocka_unit_test_setup_teardown(test_missing_without_create,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_create_and_reopen,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_readonly, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_refuse_garbage, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_refuse_text_file, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_refuse_corrupt, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_refuse_newer, fx_setup,
		    fx_teardown),
		cmocka_unit_test(test_constraints),
		cmocka_unit_test(test_statements),
		cmocka_unit_test(test_transactions),
	};

	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
