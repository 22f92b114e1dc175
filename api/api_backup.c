/*
 * api_backup.c: backup and restore of the whole appliance state, over the
 * admin API and from the command line (gatehoused --backup/--restore).
 *
 * Backup: a consistent snapshot of the database (SQLite online backup API,
 * one read transaction: certificates with their keys, users, tokens,
 * listeners, origins, routes, revisions), sealed with the caller's
 * passphrase by backup.c (PBKDF2-SHA256 + AES-256-GCM).
 *
 * Restore validates everything before it touches anything: decrypt and
 * authenticate, open the image as SQLite, quick_check + integrity_check,
 * a schema version this binary knows (>= 1), migrate the in-memory copy to
 * ours, compare its schema with a freshly migrated one, compile it. Then it
 * copies the live database to <dir>/pre-restore-<UTC time>.db, swaps every
 * table's rows in one transaction with a revision row "restored from a
 * backup" numbered above both histories, compiles again inside the
 * transaction (with the restored sticky cookie secret loaded before,
 * balance_secret.c: the compile signs the servers' cookie values with
 * it), commits and publishes. Sessions of users whose account
 * changed end; tokens are rows like the rest and follow the backup.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "api_int.h"
#include "backup.h"
#include "balance.h"
#include "cfg.h"
#include "compress.h"
#include "json.h"
#include "kek.h"
#include "log.h"
#include "publish.h"
#include "store.h"

#define BK_PUBLISH_MS 10000u
#define BK_FILE_MAX   (256u * 1024u * 1024u) /* --restore reads at most */
#define BK_MAX_USERS  256                    /* sessions checked */
#define BK_PASS_ENV   "GATEHOUSE_BACKUP_PASSPHRASE"
#define BK_PASS_HDR   "X-Backup-Passphrase"

/* A user row before the restore, to end the sessions of changed ones. */
struct bk_user {
	int64_t id;
	char name[72];
	char hash[160];
	char role[16];
};

/* Compiles <st>'s configuration in a read transaction (validation). */
static int
bk_compiles(struct store *st, struct err *e)
{
	struct cfg *c;

	if (store_exec(st, "BEGIN", e) == -1)
		return -1;
	c = cfg_compile(st, e);
	(void)store_rollback(st);
	if (c == NULL)
		return -1;
	cfg_unref(c);
	return 0;
}

/* A snapshot of <st> with its private keys opened (a backup never holds
 * the KEK: the keys are protected by the backup's own encryption, and a
 * restore seals them with the KEK of the machine it lands on).
 */
static int
bk_snapshot(struct store *st, uint8_t **img, size_t *len, struct err *e)
{
	struct store *tmp;
	int rc;

	if (store_snapshot(st, img, len, e) != 0)
		return -1;
	if ((tmp = store_open_image(*img, *len, e)) == NULL)
		goto fail;
	explicit_bzero(*img, *len);
	free(*img);
	*img = NULL;
	rc = store_exec(tmp, "PRAGMA secure_delete = ON", e) != 0 ||
	        store_begin(tmp, e) != 0 || kek_unseal_all(tmp, e) < 0 ||
	        store_commit(tmp, e) != 0 ||
	        store_snapshot(tmp, img, len, e) != 0
	    ? -1
	    : 0;
	store_close(tmp);
	return rc;
fail:
	free(*img);
	*img = NULL;
	return -1;
}

/* Decrypts and checks a backup file: a migrated in-memory store that
 * compiles, or NULL with <e> (nothing touched).
 */
static struct store *
bk_validate(const void *file, size_t len, const char *pass, struct err *e)
{
	struct store *img = NULL, *ref = NULL;
	uint8_t *plain;
	size_t plen;
	char why[600];

	if (backup_open(file, len, pass, &plain, &plen, e) != 0)
		return NULL;
	img = store_open_image(plain, plen, e);
	free(plain);
	if (img == NULL)
		return NULL;
	if (store_migrate(img, e) != 0 || kek_seal_all(img, e) < 0)
		goto fail;
	if ((ref = store_open(":memory:", STORE_F_CREATE, e)) == NULL ||
	    store_migrate(ref, e) != 0)
		goto fail;
	if (!store_schema_same(img, ref)) {
		err_set(e, "", "backup: its tables are not Gatehouse's");
		goto fail;
	}
	store_close(ref);
	if (bk_compiles(img, e) != 0) {
		err_set(e, "",
		    "backup: its configuration does not compile: %.300s",
		    err_str(e, why, sizeof(why)));
		store_close(img);
		return NULL;
	}
	return img;
fail:
	store_close(ref);
	store_close(img);
	return NULL;
}

/* Reads up to <max> users of <st>; returns how many. */
static size_t
bk_users(struct store *st, struct bk_user *u, size_t max)
{
	struct store_stmt *s;
	struct err e;
	size_t n = 0;

	s = store_prepare(st, "SELECT id, name, password_hash, role FROM users",
	    &e);
	if (s == NULL)
		return 0;
	while (n < max && store_step(s, &e) == STORE_ROW) {
		u[n].id = store_col_int64(s, 0);
		snprintf(u[n].name, sizeof(u[n].name), "%s",
		    store_col_text(s, 1));
		snprintf(u[n].hash, sizeof(u[n].hash), "%s",
		    store_col_text(s, 2));
		snprintf(u[n].role, sizeof(u[n].role), "%s",
		    store_col_text(s, 3));
		n++;
	}
	store_finalize(s);
	return n;
}

/* True when the user row <u> is still there, unchanged. */
static bool
bk_user_kept(struct store *st, const struct bk_user *u)
{
	struct store_stmt *s;
	struct err e;
	bool kept;

	s = store_prepare(st,
	    "SELECT 1 FROM users WHERE id = ?1 AND name = ?2"
	    " AND password_hash = ?3 AND role = ?4",
	    &e);
	if (s == NULL)
		return false;
	store_bind_int64(s, 1, u->id);
	store_bind_text(s, 2, u->name);
	store_bind_text(s, 3, u->hash);
	store_bind_text(s, 4, u->role);
	kept = store_step(s, &e) == STORE_ROW;
	store_finalize(s);
	return kept;
}

/* The restore revision: the restored document, numbered above both the
 * live history (<old_rev>) and the backup's. Inside the transaction.
 */
static int64_t
bk_revision(struct api_req *r, struct store *st, int64_t old_rev, struct err *e)
{
	struct store_stmt *s;
	struct json *doc;
	char summary[96];
	int64_t bk_rev = store_revision(st), rev, want;

	if ((doc = conf_load(st, e)) == NULL)
		return -1;
	snprintf(summary, sizeof(summary),
	    "restored from a backup (its revision %" PRId64 ")", bk_rev);
	rev = api_revision_insert(r, st, summary, doc, e);
	json_unref(doc);
	want = (old_rev > bk_rev ? old_rev : bk_rev) + 1;
	if (rev < 0 || rev == want)
		return rev;
	if ((s = store_prepare(st, "UPDATE revisions SET id = ?1 WHERE id = ?2",
	         e)) == NULL)
		return -1;
	store_bind_int64(s, 1, want);
	store_bind_int64(s, 2, rev);
	rev = store_step(s, e) == STORE_DONE ? want : -1;
	store_finalize(s);
	return rev;
}

/* Keeps the live database as <dir>/pre-restore-<time>.db. */
static int
bk_keep(struct store *live, const char *dir, char *path, size_t len,
    struct err *e)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(path, len, "%s/pre-restore-%s.db", dir, stamp);
	if (access(path, F_OK) == 0)
		snprintf(path, len, "%s/pre-restore-%s-%ld.db", dir, stamp,
		    (long)getpid());
	return store_save_file(live, path, e);
}

/* Swaps <img> into <live> as a new revision and compiles it; on success
 * the change is committed and *cfgp holds the snapshot to publish.
 * Returns the revision or -1 with <e> (nothing changed).
 */
static int64_t
bk_apply(struct api_req *r, struct store *live, struct store *img,
    struct cfg **cfgp, struct err *e)
{
	int64_t old_rev = store_revision(live), rev;
	struct cfg *c = NULL;
	bool secret = false;
	struct err e2;

	*cfgp = NULL;
	if (store_replace_begin(live, img, e) != 0)
		return -1;
	if ((rev = bk_revision(r, live, old_rev, e)) < 0)
		goto fail;
	/* The restored sticky cookie secret (made here if the backup has
	 * none) signs the servers' cookie values of the compile.
	 */
	if (balance_secret_load(live, e) != 0)
		goto fail;
	secret = true;
	if ((c = cfg_compile(live, e)) == NULL)
		goto fail;
	if (store_commit(live, e) != 0)
		goto fail;
	store_replace_end(live);
	*cfgp = c;
	return rev;
fail:
	cfg_unref(c);
	store_replace_end(live);
	/* The rows rolled back: their secret is the live one again. */
	if (secret && balance_secret_load(live, &e2) != 0)
		log_warnx("restore: the sticky cookie secret did not load back:"
		          " %s",
		    e2.msg);
	return -1;
}

/* ---- the admin API ---- */

static void
bk_reply_backup(struct api_req *r, const char *pass)
{
	uint8_t *img, *file;
	size_t ilen, flen;
	char disp[128], stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	struct err e;

	err_clear(&e);
	if (r->role != API_ROLE_ADMIN) {
		api_reply_problem(r, 403,
		    "a backup holds keys and password hashes: admins only",
		    NULL);
		return;
	}
	if (backup_pass_check(pass, &e) != 0) {
		api_reply_problem(r, 400, "a backup needs a passphrase", &e);
		return;
	}
	if (bk_snapshot(api_store(), &img, &ilen, &e) != 0) {
		api_reply_problem(r, 503, e.msg, NULL);
		return;
	}
	if (backup_seal(img, ilen, pass, 0, &file, &flen, &e) != 0) {
		free(img);
		api_reply_problem(r, 500, e.msg, NULL);
		return;
	}
	free(img);
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(disp, sizeof(disp),
	    "attachment; filename=\"gatehouse-%s-r%" PRId64 ".ghbackup\"",
	    stamp, store_revision(api_store()));
	api_add_header(r, "Content-Disposition", disp);
	api_reply_raw(r, 200, "application/octet-stream", file, flen);
	free(file);
	log_info("admin api: backup taken by %s from %s (%zu bytes)", r->actor,
	    r->client, flen);
}

/* GET /api/v1/backup with the passphrase in X-Backup-Passphrase. */
void
backup_get(struct api_req *r)
{
	bk_reply_backup(r, api_req_header(r, BK_PASS_HDR));
}

/* POST /api/v1/backup {"passphrase": "..."}. */
void
backup_post(struct api_req *r)
{
	static const char *const keys[] = { "passphrase", NULL };
	struct json *body;
	const char *pass = NULL;
	struct err e;

	err_clear(&e);
	if ((body = api_req_json(r)) == NULL)
		return;
	if (json_check_keys(body, "", keys, &e) != 0 ||
	    json_get_str(body, "", "passphrase", &pass, &e) < 0) {
		api_reply_problem(r, 400, "the request is not valid", &e);
		json_unref(body);
		return;
	}
	bk_reply_backup(r, pass);
	json_unref(body);
}

/* Ends the sessions of users the restore changed or removed. */
static void
bk_sessions(struct store *st, const struct bk_user *u, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!bk_user_kept(st, &u[i]))
			auth_sessions_drop_user(u[i].id, NULL);
}

/* POST /api/v1/restore: the backup file as the body
 * (application/octet-stream), the passphrase in X-Backup-Passphrase.
 */
void
restore_post(struct api_req *r)
{
	static struct bk_user users[BK_MAX_USERS];
	struct store *img, *live = api_store();
	struct json *out;
	struct cfg *c;
	struct err e;
	char kept[4200], hdr[32];
	size_t nusers;
	int64_t rev;

	err_clear(&e);
	if (backup_pass_check(api_req_header(r, BK_PASS_HDR), &e) != 0) {
		api_reply_problem(r, 400, "a restore needs the passphrase", &e);
		return;
	}
	if (r->body_len == 0) {
		api_reply_problem(r, 400, "send the backup file as the body",
		    NULL);
		return;
	}
	img = bk_validate(r->body, r->body_len, api_req_header(r, BK_PASS_HDR),
	    &e);
	if (img == NULL) {
		api_reply_problem(r, 422, e.msg, NULL);
		return;
	}
	nusers = bk_users(live, users, BK_MAX_USERS);
	if (bk_keep(live, api_db_dir(), kept, sizeof(kept), &e) != 0) {
		store_close(img);
		api_reply_problem(r, 503, e.msg, NULL);
		return;
	}
	rev = bk_apply(r, live, img, &c, &e);
	store_close(img);
	if (rev < 0) {
		unlink(kept);
		api_reply_problem(r, 422, e.msg, NULL);
		return;
	}
	if (publish_cfg(c, BK_PUBLISH_MS) < 0)
		log_warnx("admin api: restored revision %" PRId64
		          " not taken by every worker within %u ms",
		    rev, BK_PUBLISH_MS);
	/* The daemon's settings the backup carried take effect too. */
	if (compress_settings_load(live, &e) != 0)
		log_warnx("admin api: restored compression settings: %s",
		    e.msg);
	bk_sessions(live, users, nusers);
	log_info("admin api: revision %" PRId64
	         " restored from a backup by %s from %s; previous state in %s",
	    rev, r->actor, r->client, kept);
	snprintf(hdr, sizeof(hdr), "%" PRId64, rev);
	api_add_header(r, "X-Config-Revision", hdr);
	out = json_new_obj();
	json_set(out, "revision", json_new_int(rev));
	json_set(out, "previous_state", json_new_str(kept));
	api_reply_json(r, 200, out);
}

/* ---- gatehoused --backup / --restore ---- */

/* The passphrase: the first line of <file>, else $GATEHOUSE_BACKUP_...
 * Never from the command line (other users see argv).
 */
static int
bk_passphrase(const char *file, char *out, size_t len, struct err *e)
{
	const char *env;
	FILE *f;

	out[0] = '\0';
	if (file != NULL) {
		if ((f = fopen(file, "re")) == NULL)
			return err_set(e, "", "%s: %s", file, strerror(errno));
		if (fgets(out, (int)len, f) == NULL)
			out[0] = '\0';
		fclose(f);
		out[strcspn(out, "\r\n")] = '\0';
	} else if ((env = getenv(BK_PASS_ENV)) != NULL) {
		snprintf(out, len, "%s", env);
	} else {
		return err_set(e, "",
		    "no passphrase: use --passphrase-file FILE or set " BK_PASS_ENV);
	}
	return backup_pass_check(out, e);
}

/* Reads a whole file (at most BK_FILE_MAX). */
static uint8_t *
bk_read(const char *path, size_t *len, struct err *e)
{
	struct stat sb;
	uint8_t *buf;
	FILE *f;

	if ((f = fopen(path, "rbe")) == NULL) {
		err_set(e, "", "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    sb.st_size <= 0 || (uint64_t)sb.st_size > BK_FILE_MAX) {
		fclose(f);
		err_set(e, "", "%s: not a regular file of 1 to %u bytes", path,
		    BK_FILE_MAX);
		return NULL;
	}
	*len = (size_t)sb.st_size;
	if ((buf = malloc(*len)) == NULL || fread(buf, 1, *len, f) != *len) {
		free(buf);
		fclose(f);
		err_set(e, "", "%s: read failed", path);
		return NULL;
	}
	fclose(f);
	return buf;
}

/* Writes <len> bytes to a new file <path> (mode 0600, must not exist). */
static int
bk_write(const char *path, const uint8_t *p, size_t len, struct err *e)
{
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1)
		return err_set(e, "", "%s: %s", path, strerror(errno));
	if (write(fd, p, len) != (ssize_t)len || fsync(fd) != 0) {
		close(fd);
		unlink(path);
		return err_set(e, "", "%s: write failed", path);
	}
	close(fd);
	return 0;
}

static int
bk_cli_backup(const char *db, const char *file, const char *pass, struct err *e)
{
	struct store *st;
	uint8_t *img, *out;
	size_t ilen, olen;
	int rc;

	if ((st = store_open(db, STORE_F_READONLY, e)) == NULL)
		return -1;
	rc = bk_snapshot(st, &img, &ilen, e);
	store_close(st);
	if (rc != 0)
		return -1;
	rc = backup_seal(img, ilen, pass, 0, &out, &olen, e);
	free(img);
	if (rc != 0)
		return -1;
	rc = bk_write(file, out, olen, e);
	free(out);
	if (rc == 0)
		log_info("backup of %s written to %s (%zu bytes)", db, file,
		    olen);
	return rc;
}

static int
bk_cli_restore(const char *db, const char *file, const char *pass,
    struct err *e)
{
	struct api_req r = { .magic = API_REQ_MAGIC };
	struct store *live, *img;
	struct cfg *c;
	uint8_t *buf;
	size_t len;
	char kept[4200], dir[4096], *slash;
	int64_t rev;

	if ((buf = bk_read(file, &len, e)) == NULL)
		return -1;
	img = bk_validate(buf, len, pass, e);
	free(buf);
	if (img == NULL)
		return -1;
	if ((live = store_open(db, STORE_F_CREATE, e)) == NULL ||
	    store_migrate(live, e) != 0)
		goto fail;
	snprintf(dir, sizeof(dir), "%s", db);
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		*(slash == dir ? slash + 1 : slash) = '\0';
	if (bk_keep(live, dir, kept, sizeof(kept), e) != 0)
		goto fail;
	snprintf(r.actor, sizeof(r.actor), "gatehoused --restore");
	if ((rev = bk_apply(&r, live, img, &c, e)) < 0) {
		unlink(kept);
		goto fail;
	}
	cfg_unref(c);
	store_close(img);
	store_close(live);
	log_info("restored %s into %s as revision %" PRId64
	         "; previous state in %s",
	    file, db, rev, kept);
	return 0;
fail:
	store_close(live);
	store_close(img);
	return -1;
}

int
api_backup_cli(const char *db, const char *backup_file,
    const char *restore_file, const char *pass_file)
{
	char pass[BACKUP_PASS_MAX + 2], buf[600];
	struct err e;
	int rc;

	err_clear(&e);
	if (bk_passphrase(pass_file, pass, sizeof(pass), &e) != 0) {
		log_warnx("%s", err_str(&e, buf, sizeof(buf)));
		return 2;
	}
	if (backup_file != NULL)
		rc = bk_cli_backup(db, backup_file, pass, &e);
	else
		rc = bk_cli_restore(db, restore_file, pass, &e);
	explicit_bzero(pass, sizeof(pass));
	if (rc != 0) {
		log_warnx("%s", err_str(&e, buf, sizeof(buf)));
		return 1;
	}
	return 0;
}
