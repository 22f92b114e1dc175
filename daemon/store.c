/*
 * store.c: the SQLite store, and the only file that includes sqlite3.h.
 *
 * store_open() first opens an existing file read-only and checks it (is it
 * a database, does PRAGMA quick_check pass, is its user_version one this
 * binary knows), so that a file we refuse is never written to; only then
 * does it reopen read-write and set the pragmas (journal_mode=WAL writes the
 * header). Migrations come from the generated schema/schema.c, one
 * transaction each, and are recorded in PRAGMA user_version. Everything
 * else is a thin, typed layer over prepared statements that turns SQLite
 * result codes into our 0/-1 + struct err convention.
 */
#include "store.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "log.h"
#include "schema.h"

#define STORE_MAGIC      0x53544f52u /* "STOR" */
#define STORE_BUSY_MS    5000
#define STORE_PATH_SHOWN 200 /* longest path quoted in messages */

struct store {
	unsigned magic;
	sqlite3 *db; /* owned */
	bool readonly;
};

struct store_stmt {
	sqlite3_stmt *stmt; /* owned */
	struct store *st;   /* borrowed */
};

static bool
store_is_memory(const char *path)
{
	return strcmp(path, ":memory:") == 0;
}

/* Runs a pragma (or any statement) whose first row's first column is text
 * and copies it into <out>. Returns the SQLite result code of the failure,
 * or SQLITE_OK.
 */
static int
store_query_text(sqlite3 *db, const char *sql, char *out, size_t outlen)
{
	sqlite3_stmt *stmt;
	const unsigned char *t;
	int rc;

	out[0] = '\0';
	if ((rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL)) != SQLITE_OK)
		return rc;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		t = sqlite3_column_text(stmt, 0);
		snprintf(out, outlen, "%s", t != NULL ? (const char *)t : "");
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_OK;
	}
	sqlite3_finalize(stmt);
	return rc;
}

static int
store_query_int(sqlite3 *db, const char *sql, int64_t *out)
{
	sqlite3_stmt *stmt;
	int rc;

	*out = 0;
	if ((rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL)) != SQLITE_OK)
		return rc;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(stmt, 0);
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_OK;
	}
	sqlite3_finalize(stmt);
	return rc;
}

/* Appends the lines of one check result row to <out>, skipping the
 * "*** in database main ***" headings; returns how many it added.
 */
static int
store_check_lines(const char *t, char *out, size_t outlen, int n)
{
	const char *nl;
	size_t used, len;
	int added = 0;

	for (; *t != '\0' && n + added < 3; t = *nl != '\0' ? nl + 1 : nl) {
		nl = strchr(t, '\n');
		if (nl == NULL)
			nl = t + strlen(t);
		len = (size_t)(nl - t);
		if (len == 0 || strncmp(t, "*** ", 4) == 0)
			continue;
		used = strlen(out);
		snprintf(out + used, outlen - used, "%s%.*s",
		    n + added > 0 ? "; " : "", (int)len, t);
		added++;
	}
	return added;
}

/* Runs PRAGMA quick_check or integrity_check: "ok", or the first few
 * problems joined by "; ".
 */
static int
store_query_check(sqlite3 *db, const char *sql, char *out, size_t outlen)
{
	sqlite3_stmt *stmt;
	const char *t;
	int rc = SQLITE_DONE, n = 0;

	out[0] = '\0';
	if ((rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL)) != SQLITE_OK)
		return rc;
	while (n < 3 && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		t = (const char *)sqlite3_column_text(stmt, 0);
		if (t != NULL)
			n += store_check_lines(t, out, outlen, n);
	}
	sqlite3_finalize(stmt);
	/* Reading on after the problems found may fail: report those. */
	return n > 0 || rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Explains a failed check in words a user can act on. */
static int
store_refuse(struct err *e, const char *path, sqlite3 *db, int rc)
{
	switch (rc & 0xff) {
	case SQLITE_NOTADB:
		return err_set(e, "", "%.*s: not a SQLite database",
		    STORE_PATH_SHOWN, path);
	case SQLITE_CORRUPT:
		return err_set(e, "", "%.*s: database is corrupt: %s",
		    STORE_PATH_SHOWN, path, sqlite3_errmsg(db));
	default:
		return err_set(e, "", "%.*s: cannot read database: %s",
		    STORE_PATH_SHOWN, path, sqlite3_errmsg(db));
	}
}

/* Checks <db> (opened read-only) without writing: readable, consistent,
 * and not from a newer binary. Returns 0 or -1 with <e> filled.
 */
static int
store_check(sqlite3 *db, const char *path, struct err *e)
{
	char res[256];
	int64_t version;
	int rc;

	if ((rc = store_query_int(db, "PRAGMA user_version", &version)) !=
	    SQLITE_OK)
		return store_refuse(e, path, db, rc);
	if ((rc = store_query_check(db, "PRAGMA quick_check", res,
	         sizeof(res))) != SQLITE_OK)
		return store_refuse(e, path, db, rc);
	if (strcmp(res, "ok") != 0)
		return err_set(e, "", "%.*s: database is corrupt: %s",
		    STORE_PATH_SHOWN, path, res);
	if (version < 0 || version > store_schema_latest())
		return err_set(e, "",
		    "%.*s: schema version %lld is newer than this gatehoused "
		    "knows (%d); refusing to open it",
		    STORE_PATH_SHOWN, path, (long long)version,
		    store_schema_latest());
	return 0;
}

/* Creates an empty file (an empty file is a valid empty database) with
 * mode 0600, or confirms that <path> exists. Returns 0, or -1 with <e>.
 */
static int
store_prepare_file(const char *path, unsigned flags, struct err *e)
{
	struct stat sb;
	int fd;

	if (stat(path, &sb) == 0) {
		if (!S_ISREG(sb.st_mode))
			return err_set(e, "", "%.*s: not a regular file",
			    STORE_PATH_SHOWN, path);
		return 0;
	}
	if (errno != ENOENT || (flags & STORE_F_CREATE) == 0 ||
	    (flags & STORE_F_READONLY) != 0)
		return err_set(e, "", "%.*s: %s", STORE_PATH_SHOWN, path,
		    strerror(errno));
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1)
		return err_set(e, "", "%.*s: cannot create: %s",
		    STORE_PATH_SHOWN, path, strerror(errno));
	close(fd);
	return 0;
}

static int
store_open_db(const char *path, int oflags, sqlite3 **dbp, struct err *e)
{
	int rc;

	*dbp = NULL;
	rc = sqlite3_open_v2(path, dbp, oflags | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		err_set(e, "", "%.*s: cannot open database: %s",
		    STORE_PATH_SHOWN, path,
		    *dbp != NULL ? sqlite3_errmsg(*dbp) : sqlite3_errstr(rc));
		sqlite3_close(*dbp);
		*dbp = NULL;
		return -1;
	}
	sqlite3_extended_result_codes(*dbp, 1);
	sqlite3_busy_timeout(*dbp, STORE_BUSY_MS);
	return 0;
}

/* The pragmas of every read-write connection; run only after the checks
 * passed, since journal_mode=WAL writes the file header.
 */
static int
store_pragmas(sqlite3 *db, const char *path, bool memory, bool readonly,
    struct err *e)
{
	char mode[32];
	int rc;

	if ((rc = store_query_text(db, "PRAGMA foreign_keys = ON", mode,
	         sizeof(mode))) != SQLITE_OK)
		goto fail;
	if (readonly)
		return 0;
	if ((rc = store_query_text(db, "PRAGMA journal_mode = WAL", mode,
	         sizeof(mode))) != SQLITE_OK)
		goto fail;
	if (strcmp(mode, memory ? "memory" : "wal") != 0)
		return err_set(e, "", "%.*s: cannot use WAL journal (got %s)",
		    STORE_PATH_SHOWN, path, mode);
	if ((rc = store_query_text(db, "PRAGMA synchronous = FULL", mode,
	         sizeof(mode))) != SQLITE_OK)
		goto fail;
	/* Freed pages are zeroed: a replaced private key leaves no trace. */
	if ((rc = store_query_text(db, "PRAGMA secure_delete = ON", mode,
	         sizeof(mode))) != SQLITE_OK)
		goto fail;
	return 0;
fail:
	return store_refuse(e, path, db, rc);
}

/* Wraps the open connection <db> (which the caller closes on failure). */
static struct store *
store_new(sqlite3 *db, bool ro, struct err *e)
{
	struct store *st;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		err_set(e, "", "out of memory");
		return NULL;
	}
	st->magic = STORE_MAGIC;
	st->db = db;
	st->readonly = ro;
	return st;
}

/* Opens <path>: see store.h. The file is checked over a read-only
 * connection first and reopened read-write only when it passes.
 */
struct store *
store_open(const char *path, unsigned flags, struct err *e)
{
	struct store *st;
	sqlite3 *db = NULL;
	bool memory = store_is_memory(path);
	bool ro = (flags & STORE_F_READONLY) != 0;

	if (path[0] == '\0') {
		err_set(e, "", "no database path given");
		return NULL;
	}
	if (!memory) {
		if (store_prepare_file(path, flags, e) == -1)
			return NULL;
		if (store_open_db(path, SQLITE_OPEN_READONLY, &db, e) == -1)
			return NULL;
		if (store_check(db, path, e) == -1)
			goto fail;
		if (!ro) {
			sqlite3_close(db);
			if (store_open_db(path, SQLITE_OPEN_READWRITE, &db,
			        e) == -1)
				return NULL;
			/* The file may have changed since the check. */
			if (store_check(db, path, e) == -1)
				goto fail;
		}
	} else if (store_open_db(":memory:",
	               SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &db,
	               e) == -1) {
		return NULL;
	}
	if (store_pragmas(db, path, memory, ro, e) == -1)
		goto fail;
	if ((st = store_new(db, ro, e)) == NULL)
		goto fail;
	return st;
fail:
	sqlite3_close(db);
	return NULL;
}

/* Closes <st> and finalizes what is left; NULL-safe. */
void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	CHECK_OBJ(st, STORE_MAGIC);
	if (sqlite3_close(st->db) != SQLITE_OK) {
		log_warnx("store: statements left open at close");
		sqlite3_close_v2(st->db);
	}
	st->magic = 0;
	free(st);
}

int
store_schema_latest(void)
{
	return (int)schema_nmigrations;
}

/* PRAGMA user_version of the file, -1 on error. */
int
store_schema_version(struct store *st)
{
	int64_t v;

	CHECK_OBJ(st, STORE_MAGIC);
	if (store_query_int(st->db, "PRAGMA user_version", &v) != SQLITE_OK)
		return -1;
	return (int)v;
}

/* Applies each missing migration in its own IMMEDIATE transaction together
 * with its PRAGMA user_version, so a crash leaves a consistent version.
 */
int
store_migrate(struct store *st, struct err *e)
{
	struct err why;
	char sql[64];
	int v, i;

	CHECK_OBJ(st, STORE_MAGIC);
	if ((v = store_schema_version(st)) < 0)
		return err_set(e, "", "cannot read schema version: %s",
		    sqlite3_errmsg(st->db));
	if (v > store_schema_latest())
		return err_set(e, "",
		    "schema version %d is newer than this gatehoused knows (%d)",
		    v, store_schema_latest());
	for (i = v; i < store_schema_latest(); i++) {
		if (store_begin(st, e) == -1)
			return -1;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", i + 1);
		if (store_exec(st, schema_migrations[i].sql, &why) == -1 ||
		    store_exec(st, sql, &why) == -1) {
			store_rollback(st);
			return err_set(e, "", "migration %s: %s",
			    schema_migrations[i].name, why.msg);
		}
		if (store_commit(st, e) == -1) {
			store_rollback(st);
			return -1;
		}
		log_info("store: applied migration %s",
		    schema_migrations[i].name);
	}
	return 0;
}

int
store_begin(struct store *st, struct err *e)
{
	return store_exec(st, "BEGIN IMMEDIATE", e);
}

int
store_commit(struct store *st, struct err *e)
{
	return store_exec(st, "COMMIT", e);
}

/* Rolls back the open transaction; a no-op (returning 0) when none is. */
int
store_rollback(struct store *st)
{
	CHECK_OBJ(st, STORE_MAGIC);
	if (sqlite3_get_autocommit(st->db))
		return 0;
	if (sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK) {
		log_warnx("store: rollback failed: %s", sqlite3_errmsg(st->db));
		return -1;
	}
	return 0;
}

int
store_exec(struct store *st, const char *sql, struct err *e)
{
	char *msg = NULL;
	int rc;

	CHECK_OBJ(st, STORE_MAGIC);
	rc = sqlite3_exec(st->db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		err_set(e, "", "%s", msg != NULL ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

struct store_stmt *
store_prepare(struct store *st, const char *sql, struct err *e)
{
	struct store_stmt *s;
	sqlite3_stmt *stmt;

	CHECK_OBJ(st, STORE_MAGIC);
	if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		err_set(e, "", "%s", sqlite3_errmsg(st->db));
		return NULL;
	}
	if ((s = malloc(sizeof(*s))) == NULL) {
		sqlite3_finalize(stmt);
		err_set(e, "", "out of memory");
		return NULL;
	}
	s->stmt = stmt;
	s->st = st;
	return s;
}

void
store_finalize(struct store_stmt *s)
{
	if (s == NULL)
		return;
	sqlite3_finalize(s->stmt);
	free(s);
}

int
store_bind_int64(struct store_stmt *s, int i, int64_t v)
{
	return sqlite3_bind_int64(s->stmt, i, v) == SQLITE_OK ? 0 : -1;
}

int
store_bind_text(struct store_stmt *s, int i, const char *v)
{
	int rc;

	if (v == NULL)
		rc = sqlite3_bind_null(s->stmt, i);
	else
		rc = sqlite3_bind_text(s->stmt, i, v, -1, SQLITE_TRANSIENT);
	return rc == SQLITE_OK ? 0 : -1;
}

int
store_bind_blob(struct store_stmt *s, int i, const void *p, int n)
{
	return sqlite3_bind_blob(s->stmt, i, p, n, SQLITE_TRANSIENT) ==
	        SQLITE_OK
	    ? 0
	    : -1;
}

int
store_bind_null(struct store_stmt *s, int i)
{
	return sqlite3_bind_null(s->stmt, i) == SQLITE_OK ? 0 : -1;
}

/* One step; constraint failures are told apart so the API can answer 409
 * or 422 with SQLite's own wording ("UNIQUE constraint failed: ...").
 */
enum store_step_result
store_step(struct store_stmt *s, struct err *e)
{
	int rc = sqlite3_step(s->stmt);

	switch (rc & 0xff) {
	case SQLITE_ROW:
		return STORE_ROW;
	case SQLITE_DONE:
		return STORE_DONE;
	case SQLITE_CONSTRAINT:
		err_set(e, "", "%s", sqlite3_errmsg(s->st->db));
		return STORE_CONSTRAINT;
	default:
		err_set(e, "", "%s", sqlite3_errmsg(s->st->db));
		return STORE_ERROR;
	}
}

int
store_reset(struct store_stmt *s)
{
	sqlite3_reset(s->stmt);
	return sqlite3_clear_bindings(s->stmt) == SQLITE_OK ? 0 : -1;
}

bool
store_col_is_null(struct store_stmt *s, int i)
{
	return sqlite3_column_type(s->stmt, i) == SQLITE_NULL;
}

int64_t
store_col_int64(struct store_stmt *s, int i)
{
	return sqlite3_column_int64(s->stmt, i);
}

const char *
store_col_text(struct store_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s->stmt, i);

	return t != NULL ? (const char *)t : "";
}

const void *
store_col_blob(struct store_stmt *s, int i, int *n)
{
	const void *p = sqlite3_column_blob(s->stmt, i);

	*n = sqlite3_column_bytes(s->stmt, i);
	return p;
}

int64_t
store_last_insert_id(struct store *st)
{
	CHECK_OBJ(st, STORE_MAGIC);
	return sqlite3_last_insert_rowid(st->db);
}

int
store_changes(struct store *st)
{
	CHECK_OBJ(st, STORE_MAGIC);
	return sqlite3_changes(st->db);
}

/* max(revisions.id); 0 when there is none or the table is missing. */
int64_t
store_revision(struct store *st)
{
	int64_t v;

	CHECK_OBJ(st, STORE_MAGIC);
	if (store_query_int(st->db,
	        "SELECT coalesce(max(id), 0) FROM revisions", &v) != SQLITE_OK)
		return 0;
	return v;
}

bool
store_integrity_ok(struct store *st)
{
	char res[256];

	CHECK_OBJ(st, STORE_MAGIC);
	if (store_query_check(st->db, "PRAGMA integrity_check", res,
	        sizeof(res)) != SQLITE_OK)
		return false;
	return strcmp(res, "ok") == 0;
}

/* ---- backup and restore ---- */

/* A SQLite file image's header says WAL (bytes 18 and 19 = 2); an image
 * deserialized into memory must say rollback journal (1) or reads fail.
 */
static void
store_image_unwal(unsigned char *p, size_t len)
{
	if (len >= 100 && p[18] == 2 && p[19] == 2)
		p[18] = p[19] = 1;
}

/* A copy of schema <schema> of <db> into *img (malloc'd). */
static int
store_serialize(sqlite3 *db, const char *schema, uint8_t **img, size_t *len,
    struct err *e)
{
	sqlite3_int64 n = 0;
	unsigned char *p;

	if ((p = sqlite3_serialize(db, schema, &n, 0)) == NULL || n <= 0) {
		sqlite3_free(p);
		return err_set(e, "", "cannot serialize the database: %s",
		    sqlite3_errmsg(db));
	}
	if ((*img = malloc((size_t)n)) == NULL) {
		sqlite3_free(p);
		return err_set(e, "", "out of memory");
	}
	memcpy(*img, p, (size_t)n);
	sqlite3_free(p);
	*len = (size_t)n;
	store_image_unwal(*img, *len);
	return 0;
}

/* Copies all of <from> into <to> with the online backup API: one step,
 * so the copy is one read transaction on <from>.
 */
static int
store_copy_db(sqlite3 *to, sqlite3 *from, struct err *e)
{
	sqlite3_backup *b;
	int rc;

	if ((b = sqlite3_backup_init(to, "main", from, "main")) == NULL)
		return err_set(e, "", "backup: %s", sqlite3_errmsg(to));
	rc = sqlite3_backup_step(b, -1);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE)
		return err_set(e, "", "backup: %s", sqlite3_errstr(rc));
	return 0;
}

int
store_snapshot(struct store *st, uint8_t **img, size_t *len, struct err *e)
{
	sqlite3 *mem;
	int rc;

	CHECK_OBJ(st, STORE_MAGIC);
	*img = NULL;
	*len = 0;
	if (store_open_db(":memory:", SQLITE_OPEN_READWRITE, &mem, e) == -1)
		return -1;
	rc = store_copy_db(mem, st->db, e);
	if (rc == 0)
		rc = store_serialize(mem, "main", img, len, e);
	sqlite3_close(mem);
	return rc;
}

int
store_save_file(struct store *st, const char *path, struct err *e)
{
	sqlite3 *db;
	int fd, rc;

	CHECK_OBJ(st, STORE_MAGIC);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1)
		return err_set(e, "", "%.*s: cannot create: %s",
		    STORE_PATH_SHOWN, path, strerror(errno));
	close(fd);
	if (store_open_db(path, SQLITE_OPEN_READWRITE, &db, e) == -1) {
		unlink(path);
		return -1;
	}
	rc = store_copy_db(db, st->db, e);
	if (sqlite3_close(db) != SQLITE_OK && rc == 0)
		rc = err_set(e, "", "%.*s: close failed", STORE_PATH_SHOWN,
		    path);
	if (rc != 0)
		unlink(path);
	return rc;
}

struct store *
store_open_image(const void *img, size_t len, struct err *e)
{
	struct store *st;
	unsigned char *copy;
	sqlite3 *db;
	int rc;

	if (len < 512)
		return err_set(e, "", "not a SQLite database"), NULL;
	if (store_open_db(":memory:", SQLITE_OPEN_READWRITE, &db, e) == -1)
		return NULL;
	if ((copy = sqlite3_malloc64(len)) == NULL) {
		sqlite3_close(db);
		return err_set(e, "", "out of memory"), NULL;
	}
	memcpy(copy, img, len);
	store_image_unwal(copy, len);
	rc = sqlite3_deserialize(db, "main", copy, (sqlite3_int64)len,
	    (sqlite3_int64)len,
	    SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_RESIZEABLE);
	if (rc != SQLITE_OK) {
		err_set(e, "", "not a SQLite database: %s", sqlite3_errstr(rc));
		goto fail;
	}
	if (store_check(db, "backup", e) == -1)
		goto fail;
	if ((st = store_new(db, false, e)) == NULL)
		goto fail;
	if (!store_integrity_ok(st) || store_schema_version(st) < 1) {
		err_set(e, "", "backup: %s",
		    store_schema_version(st) < 1
		        ? "not a Gatehouse database (schema version 0)"
		        : "integrity_check failed");
		store_close(st);
		return NULL;
	}
	return st;
fail:
	sqlite3_close(db);
	return NULL;
}

/* Tables, indexes, views and triggers with their SQL, one string. */
static char *
store_schema_text(struct store *st)
{
	sqlite3_stmt *stmt;
	sqlite3_str *s;

	if (sqlite3_prepare_v2(st->db,
	        "SELECT type, name, tbl_name, coalesce(sql, '')"
	        " FROM sqlite_schema ORDER BY type, name",
	        -1, &stmt, NULL) != SQLITE_OK)
		return NULL;
	s = sqlite3_str_new(st->db);
	while (sqlite3_step(stmt) == SQLITE_ROW)
		sqlite3_str_appendf(s, "%s|%s|%s|%s\n",
		    sqlite3_column_text(stmt, 0), sqlite3_column_text(stmt, 1),
		    sqlite3_column_text(stmt, 2), sqlite3_column_text(stmt, 3));
	sqlite3_finalize(stmt);
	return sqlite3_str_finish(s);
}

bool
store_schema_same(struct store *a, struct store *b)
{
	char *ta, *tb;
	bool same;

	CHECK_OBJ(a, STORE_MAGIC);
	CHECK_OBJ(b, STORE_MAGIC);
	ta = store_schema_text(a);
	tb = store_schema_text(b);
	same = ta != NULL && tb != NULL && strcmp(ta, tb) == 0 &&
	    store_schema_version(a) == store_schema_version(b);
	sqlite3_free(ta);
	sqlite3_free(tb);
	return same;
}

/* DELETE + INSERT ... SELECT for every table of main, from "restore". */
static int
store_copy_tables(struct store *st, struct err *e)
{
	sqlite3_stmt *stmt;
	char *sql;
	int rc = 0;

	if (sqlite3_prepare_v2(st->db,
	        "SELECT name FROM main.sqlite_schema WHERE type = 'table'"
	        " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
	        -1, &stmt, NULL) != SQLITE_OK)
		return err_set(e, "", "%s", sqlite3_errmsg(st->db));
	while (rc == 0 && sqlite3_step(stmt) == SQLITE_ROW) {
		sql = sqlite3_mprintf("DELETE FROM main.\"%w\";"
		                      " INSERT INTO main.\"%w\""
		                      " SELECT * FROM restore.\"%w\";",
		    sqlite3_column_text(stmt, 0), sqlite3_column_text(stmt, 0),
		    sqlite3_column_text(stmt, 0));
		if (sql == NULL)
			rc = err_set(e, "", "out of memory");
		else
			rc = store_exec(st, sql, e);
		sqlite3_free(sql);
	}
	sqlite3_finalize(stmt);
	return rc;
}

int
store_replace_begin(struct store *st, struct store *src, struct err *e)
{
	uint8_t *img;
	unsigned char *copy;
	size_t len;
	int64_t bad = 0;

	CHECK_OBJ(st, STORE_MAGIC);
	CHECK_OBJ(src, STORE_MAGIC);
	if (store_serialize(src->db, "main", &img, &len, e) == -1)
		return -1;
	copy = sqlite3_malloc64(len);
	if (copy != NULL)
		memcpy(copy, img, len);
	free(img);
	if (copy == NULL)
		return err_set(e, "", "out of memory");
	/* RESTRICT actions fire at once even when deferred: checks off while
	 * the tables are swapped, foreign_key_check before the commit.
	 */
	if (store_exec(st, "PRAGMA foreign_keys = OFF", e) == -1 ||
	    store_exec(st, "ATTACH ':memory:' AS restore", e) == -1) {
		sqlite3_free(copy);
		store_replace_end(st);
		return -1;
	}
	if (sqlite3_deserialize(st->db, "restore", copy, (sqlite3_int64)len,
	        (sqlite3_int64)len,
	        SQLITE_DESERIALIZE_FREEONCLOSE) != SQLITE_OK) {
		err_set(e, "", "cannot load the backup: %s",
		    sqlite3_errmsg(st->db));
		store_replace_end(st);
		return -1;
	}
	if (store_begin(st, e) == -1)
		goto fail;
	if (store_copy_tables(st, e) == -1)
		goto fail;
	if (store_query_int(st->db,
	        "SELECT count(*) FROM pragma_foreign_key_check",
	        &bad) != SQLITE_OK ||
	    bad != 0) {
		err_set(e, "", "the backup has %lld broken references",
		    (long long)bad);
		goto fail;
	}
	return 0;
fail:
	store_replace_end(st);
	return -1;
}

void
store_replace_end(struct store *st)
{
	CHECK_OBJ(st, STORE_MAGIC);
	(void)store_rollback(st);
	(void)sqlite3_exec(st->db, "DETACH restore", NULL, NULL, NULL);
	(void)sqlite3_exec(st->db, "PRAGMA foreign_keys = ON", NULL, NULL,
	    NULL);
}
