/*
 * store.h: the SQLite store (store.c is the only includer of sqlite3.h).
 *
 * One struct store per thread that uses it (SQLite connections are not
 * shared between threads). The schema is embedded from the schema/ migrations
 * and applied by store_migrate() in order, recorded in PRAGMA user_version.
 * Pragmas on every open: foreign_keys=ON, journal_mode=WAL,
 * busy_timeout=5000, synchronous=FULL.
 */
#ifndef GH_STORE_H
#define GH_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct store;
struct store_stmt;

enum store_open_flags {
	STORE_F_CREATE = 1u << 0,   /* create the file if missing */
	STORE_F_READONLY = 1u << 1, /* open read-only */
};

/* Opens <path> (":memory:" works). Refuses, without modifying the file,
 * one that is not a SQLite database, is corrupt, or has a schema newer
 * than this binary knows. Returns NULL with <e> filled on failure.
 */
struct store *store_open(const char *path, unsigned flags, struct err *e);
void store_close(struct store *st);

/* Applies the embedded migrations the file does not have yet, each in its
 * own transaction. Returns 0, or -1 with <e> filled.
 */
int store_migrate(struct store *st, struct err *e);
/* Schema version of the file / of this binary. */
int store_schema_version(struct store *st);
int store_schema_latest(void);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. 0 or -1 (with <e>). */
int store_begin(struct store *st, struct err *e);
int store_commit(struct store *st, struct err *e);
int store_rollback(struct store *st);

/* Runs one or more statements without results. 0 or -1 (with <e>). */
int store_exec(struct store *st, const char *sql, struct err *e);

/* Prepared statements. Binding indexes start at 1, columns at 0. */
struct store_stmt *store_prepare(struct store *st, const char *sql,
    struct err *e);
void store_finalize(struct store_stmt *s);
int store_bind_int64(struct store_stmt *s, int i, int64_t v);
int store_bind_text(struct store_stmt *s, int i, const char *v); /* NULL ok */
int store_bind_blob(struct store_stmt *s, int i, const void *p, int n);
int store_bind_null(struct store_stmt *s, int i);

enum store_step_result {
	STORE_ROW = 0,
	STORE_DONE,
	STORE_ERROR,
	STORE_CONSTRAINT, /* a UNIQUE/CHECK/FOREIGN KEY constraint failed */
};
/* On STORE_ERROR/STORE_CONSTRAINT <e> has SQLite's message. */
enum store_step_result store_step(struct store_stmt *s, struct err *e);
int store_reset(struct store_stmt *s);

bool store_col_is_null(struct store_stmt *s, int i);
int64_t store_col_int64(struct store_stmt *s, int i);
/* Valid until the next step/reset/finalize; "" for NULL. */
const char *store_col_text(struct store_stmt *s, int i);
const void *store_col_blob(struct store_stmt *s, int i, int *n);

int64_t store_last_insert_id(struct store *st);
int store_changes(struct store *st);

/* Newest revisions.id, 0 when none. */
int64_t store_revision(struct store *st);

/* PRAGMA integrity_check == "ok". */
bool store_integrity_ok(struct store *st);

/* ---- backup and restore (the SQLite online backup API) ---- */

/* A consistent copy of the whole database, as a SQLite file image in
 * *img (malloc'd, *len bytes), taken in one read transaction. 0 or -1.
 */
int store_snapshot(struct store *st, uint8_t **img, size_t *len, struct err *e);
/* Copies the whole database into a new file <path> (mode 0600, must not
 * exist). 0 or -1 with <e>.
 */
int store_save_file(struct store *st, const char *path, struct err *e);
/* Opens a copy of a database image in memory after the checks store_open
 * makes (a database, quick_check, a schema version this binary knows),
 * plus integrity_check and a version of at least 1. Writable, so that
 * store_migrate() can bring it up to date. NULL with <e> on refusal.
 */
struct store *store_open_image(const void *img, size_t len, struct err *e);
/* True when <a> and <b> have the same tables, indexes and their SQL. */
bool store_schema_same(struct store *a, struct store *b);
/* Replaces every row of every table of <st> with those of <src> (same
 * schema: check with store_schema_same), inside a transaction it leaves
 * open on success, foreign keys checked at the end. The caller adds its
 * own writes, then commits or rolls back, then calls store_replace_end().
 * 0 or -1 with <e> (rolled back).
 */
int store_replace_begin(struct store *st, struct store *src, struct err *e);
void store_replace_end(struct store *st);

#endif
