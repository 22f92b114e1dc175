/*
 * api_auth.c: who is asking. Users (argon2id), cookie sessions with a
 * CSRF token, bearer tokens (stored as SHA-256, each owned by a user and
 * never worth more than its owner), roles; login throttling is in
 * api_throttle.c, the password policy in api_passwd.c. The only includer
 * of argon2.h.
 *
 * Sessions and throttling state live in memory on the API thread (lost on
 * restart: users log in again). Tokens and users live in SQLite and are
 * not part of configuration revisions: restoring a configuration never
 * resurrects a revoked token or a deleted user.
 */
#include <sys/random.h>
#include <sys/stat.h>

#include <argon2.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api_int.h"
#include "check.h"
#include "json.h"
#include "log.h"
#include "stats.h"
#include "store.h"
#include "x509.h"

#define AUTH_COOKIE      "gatehouse_session"
#define AUTH_SESSIONS    256
#define AUTH_SESSION_TTL (12 * 3600)
#define AUTH_T_COST      2
#define AUTH_M_COST      19456 /* KiB */
#define AUTH_HASH_LEN    128

struct session {
	char id[65];   /* cookie value, hex */
	char csrf[65]; /* X-CSRF-Token value, hex */
	int64_t user_id;
	time_t expires;   /* 0: free slot */
	bool must_change; /* logged in with the generated first password */
};

static struct session sessions[AUTH_SESSIONS];
static char dummy_hash[AUTH_HASH_LEN]; /* verified when the user is unknown */

int
auth_rand_hex(char *out, size_t nbytes)
{
	unsigned char b[64];
	size_t i;

	ASSERT(nbytes <= sizeof(b));
	if (getrandom(b, nbytes, 0) != (ssize_t)nbytes)
		return -1;
	for (i = 0; i < nbytes; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	return 0;
}

static bool
str_ct_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	unsigned char d = la != lb;

	for (i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

/* Argon2 takes AUTH_M_COST KiB from malloc for each hash; once glibc's
 * mmap threshold has grown past that, the memory stays in the heap after
 * free (about 20 MiB resident for the daemon's life). Give it back.
 */
static void
auth_release_memory(void)
{
	(void)malloc_trim(0);
}

int
auth_hash_password(const char *pw, char *out, size_t len)
{
	unsigned char salt[16];
	int rc;

	if (getrandom(salt, sizeof(salt), 0) != (ssize_t)sizeof(salt))
		return -1;
	rc = argon2id_hash_encoded(AUTH_T_COST, AUTH_M_COST, 1, pw, strlen(pw),
	    salt, sizeof(salt), 32, out, len);
	auth_release_memory();
	return rc == ARGON2_OK ? 0 : -1;
}

static int
user_insert(struct store *st, const char *name, const char *pw,
    const char *role, struct err *e)
{
	char hash[AUTH_HASH_LEN];
	struct store_stmt *s;
	enum store_step_result r;

	if (auth_hash_password(pw, hash, sizeof(hash)) != 0)
		return err_set(e, "password", "cannot hash the password");
	s = store_prepare(st,
	    "INSERT INTO users (name, password_hash, role) VALUES (?1, ?2, ?3)",
	    e);
	if (s == NULL)
		return -1;
	store_bind_text(s, 1, name);
	store_bind_text(s, 2, hash);
	store_bind_text(s, 3, role);
	r = store_step(s, e);
	store_finalize(s);
	return r == STORE_DONE ? 0 : -1;
}

int
auth_init(struct store *st, const char *db_dir, struct err *e)
{
	struct store_stmt *s;
	char pw[33], path[4200], line[40];
	int64_t n = 0;
	int fd;

	if (auth_rand_hex(pw, 16) != 0 ||
	    auth_hash_password(pw, dummy_hash, sizeof(dummy_hash)) != 0)
		return err_set(e, "", "cannot hash a password");
	if ((s = store_prepare(st, "SELECT count(*) FROM users", e)) == NULL)
		return -1;
	if (store_step(s, e) == STORE_ROW)
		n = store_col_int64(s, 0);
	store_finalize(s);
	if (n > 0)
		return 0;
	if (auth_rand_hex(pw, 16) != 0)
		return err_set(e, "", "getrandom: %s", strerror(errno));
	if (user_insert(st, "admin", pw, "admin", e) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/admin-password", db_dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set(e, "", "%s: %s", path, strerror(errno));
	(void)fchmod(fd, 0600);
	snprintf(line, sizeof(line), "%s\n", pw);
	if (write(fd, line, strlen(line)) != (ssize_t)strlen(line) ||
	    fsync(fd) != 0) {
		close(fd);
		return err_set(e, "", "%s: write failed", path);
	}
	close(fd);
	log_info("first start: user admin, password in %s", path);
	return 0;
}

/* Reads the first line of <db dir>/admin-password into <line> (without its
 * end of line) and its path into <path>; returns the line's length, 0 when
 * the file is missing, unreadable or empty.
 */
static size_t
first_password_read(char *path, size_t pathsz, char *line, size_t linesz)
{
	size_t n = 0;
	FILE *f;

	snprintf(path, pathsz, "%s/admin-password", api_db_dir());
	line[0] = '\0';
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	if (fgets(line, (int)linesz, f) != NULL) {
		n = strcspn(line, "\r\n");
		line[n] = '\0';
	} else {
		line[0] = '\0';
	}
	fclose(f);
	return n;
}

/* True when <pw> is still the generated first password kept in
 * <db dir>/admin-password: the web UI then asks for a new one. Once it is
 * changed the file no longer matches and nothing more is asked.
 */
static bool
is_first_password(const char *pw)
{
	char path[4200], line[80];
	bool eq;
	size_t n;

	n = first_password_read(path, sizeof(path), line, sizeof(line));
	eq = n > 0 && str_ct_eq(line, pw);
	explicit_bzero(line, sizeof(line));
	return eq;
}

/* ---- sessions ---- */

static struct session *
session_find(const char *id)
{
	time_t now = time(NULL);
	size_t i;

	if (id == NULL || strlen(id) != 64)
		return NULL;
	for (i = 0; i < AUTH_SESSIONS; i++) {
		if (sessions[i].expires == 0)
			continue;
		if (sessions[i].expires <= now) {
			memset(&sessions[i], 0, sizeof(sessions[i]));
			continue;
		}
		if (str_ct_eq(sessions[i].id, id))
			return &sessions[i];
	}
	return NULL;
}

static struct session *
session_new(int64_t user_id)
{
	struct session *s = &sessions[0];
	size_t i;

	for (i = 0; i < AUTH_SESSIONS; i++) {
		if (sessions[i].expires <= time(NULL)) {
			s = &sessions[i];
			break;
		}
		if (sessions[i].expires < s->expires)
			s = &sessions[i];
	}
	if (auth_rand_hex(s->id, 32) != 0 || auth_rand_hex(s->csrf, 32) != 0)
		return NULL;
	s->user_id = user_id;
	s->expires = time(NULL) + AUTH_SESSION_TTL;
	return s;
}

void
auth_sessions_drop_user(int64_t user_id, struct api_req *keep)
{
	struct session *k = NULL;
	size_t i;

	if (keep != NULL && keep->via_cookie)
		k = session_find(api_req_cookie(keep, AUTH_COOKIE));
	for (i = 0; i < AUTH_SESSIONS; i++) {
		if (sessions[i].user_id != user_id)
			continue;
		if (&sessions[i] == k)
			sessions[i].must_change = false;
		else
			memset(&sessions[i], 0, sizeof(sessions[i]));
	}
}

bool
auth_password_ok(int64_t user_id, const char *pw, char *old_hash, size_t len)
{
	struct store_stmt *s;
	const char *hash = dummy_hash;
	bool found = false, ok;
	struct err e;

	s = store_prepare(api_store(),
	    "SELECT password_hash FROM users WHERE id = ?1", &e);
	if (s != NULL) {
		store_bind_int64(s, 1, user_id);
		if (store_step(s, &e) == STORE_ROW) {
			hash = store_col_text(s, 0);
			found = true;
		}
	}
	ok = pw != NULL && argon2id_verify(hash, pw, strlen(pw)) == ARGON2_OK &&
	    found;
	if (old_hash != NULL)
		snprintf(old_hash, len, "%s", found ? hash : "");
	store_finalize(s);
	return ok;
}

void
auth_first_password_forget(const char *old_hash)
{
	char path[4200], line[80];
	bool match;
	size_t n;

	if (old_hash == NULL || old_hash[0] == '\0')
		return;
	n = first_password_read(path, sizeof(path), line, sizeof(line));
	match = n > 0 && argon2id_verify(old_hash, line, n) == ARGON2_OK;
	explicit_bzero(line, sizeof(line));
	if (match && unlink(path) == 0)
		log_info("admin api: first-start password changed, removed %s",
		    path);
}

/* ---- authentication ---- */

static enum api_role
role_parse(const char *s)
{
	if (strcmp(s, "admin") == 0)
		return API_ROLE_ADMIN;
	if (strcmp(s, "viewer") == 0)
		return API_ROLE_VIEWER;
	return API_ROLE_NONE;
}

/* A token acts with the lower of its own role and its owner's current
 * one; a token without an owner (deleted with it, or unknown since before
 * owners were recorded) is not valid.
 */
static int
auth_bearer(struct api_req *r, const char *token)
{
	struct store_stmt *s;
	enum api_role own, owner;
	char hash[65];
	struct err e;
	int rc = -1;

	if (x509_sha256_hex(token, strlen(token), hash) != 0)
		return -1;
	s = store_prepare(api_store(),
	    "SELECT t.name, t.role, u.role, u.id FROM tokens t"
	    " JOIN users u ON u.id = t.owner_id WHERE t.token_hash = ?1"
	    " AND (t.expires_at IS NULL OR t.expires_at > unixepoch())",
	    &e);
	if (s == NULL)
		return -1;
	store_bind_text(s, 1, hash);
	if (store_step(s, &e) == STORE_ROW) {
		snprintf(r->actor, sizeof(r->actor), "token:%s",
		    store_col_text(s, 0));
		own = role_parse(store_col_text(s, 1));
		owner = role_parse(store_col_text(s, 2));
		r->role = own < owner ? own : owner;
		r->self_id = store_col_int64(s, 3);
		rc = 0;
	}
	store_finalize(s);
	return rc;
}

static int
auth_user(struct api_req *r, int64_t user_id)
{
	struct store_stmt *s;
	struct err e;
	int rc = -1;

	s = store_prepare(api_store(),
	    "SELECT name, role FROM users WHERE id = ?1", &e);
	if (s == NULL)
		return -1;
	store_bind_int64(s, 1, user_id);
	if (store_step(s, &e) == STORE_ROW) {
		snprintf(r->actor, sizeof(r->actor), "%s",
		    store_col_text(s, 0));
		r->role = role_parse(store_col_text(s, 1));
		r->user_id = user_id;
		r->self_id = user_id;
		rc = 0;
	}
	store_finalize(s);
	return rc;
}

int
auth_check(struct api_req *r, unsigned flags)
{
	const char *h = api_req_header(r, "Authorization"), *csrf;
	struct session *s = NULL;
	bool ok = false;

	if (h != NULL && strncasecmp(h, "Bearer ", 7) == 0)
		ok = auth_bearer(r, h + 7) == 0;
	else if (h == NULL &&
	    (s = session_find(api_req_cookie(r, AUTH_COOKIE))) != NULL) {
		ok = auth_user(r, s->user_id) == 0;
		r->via_cookie = ok;
	}
	if (flags & API_F_PUBLIC)
		return 0;
	if (!ok) {
		r->role = API_ROLE_NONE;
		api_add_header(r, "WWW-Authenticate",
		    "Bearer realm=\"gatehouse\"");
		api_reply_problem(r, 401,
		    h != NULL
		        ? "the bearer token is not valid"
		        : "authentication required: log in or send a bearer token",
		    NULL);
		return -1;
	}
	if (r->method == API_GET || r->method == API_HEAD)
		return 0;
	if (r->via_cookie) {
		csrf = api_req_header(r, "X-CSRF-Token");
		if (csrf == NULL || !str_ct_eq(csrf, s->csrf)) {
			api_reply_problem(r, 403,
			    "unsafe requests on a session need the X-CSRF-Token header returned at login",
			    NULL);
			return -1;
		}
	}
	if (r->role != API_ROLE_ADMIN && !(flags & API_F_VIEWER_OK)) {
		api_reply_problem(r, 403,
		    "the viewer role cannot change anything", NULL);
		return -1;
	}
	return 0;
}

/* ---- /session ---- */

static void
set_cookie(struct api_req *r, const char *value, long max_age)
{
	char c[256];

	snprintf(c, sizeof(c),
	    "%s=%s; Path=/; Max-Age=%ld; HttpOnly; SameSite=Strict%s",
	    AUTH_COOKIE, value, max_age, api_is_tls() ? "; Secure" : "");
	api_add_header(r, "Set-Cookie", c);
}

void
auth_session_login(struct api_req *r)
{
	static const char *const keys[] = { "username", "password", NULL };
	const char *user = NULL, *pw = NULL, *hash = dummy_hash;
	struct json *body, *out;
	struct store_stmt *s = NULL;
	struct session *ss;
	const struct json *u;
	int64_t uid = 0;
	struct err e;
	char retry[24], account[65];
	long wait;
	bool ok;

	err_clear(&e);
	if ((body = api_req_json(r)) == NULL)
		return;
	u = json_get(body, "username");
	snprintf(account, sizeof(account), "%s",
	    u != NULL && json_is_str(u) ? json_str(u) : "");
	if ((wait = throttle_wait(account, r->client)) > 0) {
		snprintf(retry, sizeof(retry), "%ld", wait);
		api_add_header(r, "Retry-After", retry);
		stats_inc(STAT_API_LOGIN_THROTTLED);
		json_unref(body);
		api_reply_problem(r, 429,
		    "too many failed logins for this account from this address; try again later",
		    NULL);
		return;
	}
	if (json_check_keys(body, "", keys, &e) != 0 ||
	    json_get_str(body, "", "username", &user, &e) < 0 ||
	    json_get_str(body, "", "password", &pw, &e) < 0 ||
	    (user == NULL && err_set(&e, "username", "is required")) ||
	    (pw == NULL && err_set(&e, "password", "is required"))) {
		api_reply_problem(r, 422, "the request body is not valid", &e);
		json_unref(body);
		return;
	}
	s = store_prepare(api_store(),
	    "SELECT id, password_hash FROM users WHERE name = ?1", &e);
	if (s != NULL) {
		store_bind_text(s, 1, user);
		if (store_step(s, &e) == STORE_ROW) {
			uid = store_col_int64(s, 0);
			hash = store_col_text(s, 1);
		}
	}
	ok = argon2id_verify(hash, pw, strlen(pw)) == ARGON2_OK && uid > 0;
	auth_release_memory();
	store_finalize(s);
	if (!ok) {
		throttle_fail(account, r->client);
		stats_inc(STAT_API_LOGIN_FAILED);
		log_warnx("admin api: failed login for \"%.64s\" from %s", user,
		    r->client);
		json_unref(body); /* <user> pointed into it */
		api_reply_problem(r, 401, "wrong user name or password", NULL);
		return;
	}
	throttle_ok(account, r->client);
	if ((ss = session_new(uid)) == NULL) {
		json_unref(body);
		api_reply_problem(r, 503, "cannot create a session", NULL);
		return;
	}
	ss->must_change = is_first_password(pw);
	json_unref(body); /* <user> and <pw> pointed into it */
	set_cookie(r, ss->id, AUTH_SESSION_TTL);
	auth_user(r, uid);
	out = json_new_obj();
	json_set(out, "csrf_token", json_new_str(ss->csrf));
	json_set(out, "user", json_new_str(r->actor));
	json_set(out, "role",
	    json_new_str(r->role == API_ROLE_ADMIN ? "admin" : "viewer"));
	json_set(out, "expires_at", json_new_int((int64_t)ss->expires));
	json_set(out, "must_change_password", json_new_bool(ss->must_change));
	api_reply_json(r, 200, out);
}

void
auth_session_logout(struct api_req *r)
{
	struct session *s = session_find(api_req_cookie(r, AUTH_COOKIE));

	if (s != NULL && r->via_cookie)
		memset(s, 0, sizeof(*s));
	set_cookie(r, "", 0);
	api_reply_empty(r, 204);
}

void
auth_session_get(struct api_req *r)
{
	struct session *s =
	    r->via_cookie ? session_find(api_req_cookie(r, AUTH_COOKIE)) : NULL;
	struct json *out = json_new_obj();

	json_set(out, "user", json_new_str(r->actor));
	json_set(out, "role",
	    json_new_str(r->role == API_ROLE_ADMIN ? "admin" : "viewer"));
	json_set(out, "via", json_new_str(r->via_cookie ? "session" : "token"));
	if (s != NULL) {
		/* A page reloaded by the web UI needs these again. */
		json_set(out, "csrf_token", json_new_str(s->csrf));
		json_set(out, "expires_at", json_new_int((int64_t)s->expires));
		json_set(out, "must_change_password",
		    json_new_bool(s->must_change));
	}
	api_reply_json(r, 200, out);
}
