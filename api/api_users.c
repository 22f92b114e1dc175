/*
 * api_users.c: /users and /tokens.
 *
 * Users log in with a password (stored as an argon2id hash by
 * api_auth.c); tokens are for scripts: the token is shown once, at
 * creation, and only its SHA-256 is stored. Both are addressable by id or
 * name, and neither is part of a configuration revision. The last admin
 * user cannot be deleted or demoted.
 *
 * Rows are read and written by the field tables (cfg_field.c, CK_USER and
 * CK_TOKEN, doc/config-model.md): cf_select_sql() reads every field, and
 * the writable ones (a column, not read-only) are inserted or updated
 * from the request; this file adds only what is not a field (the
 * password's hash, the token's hash, who made it and its owner).
 *
 * A token belongs to the user who made it (or to the owner of the token
 * that made it) and is deleted with that user. New passwords follow
 * api_passwd.c; changing one's own asks for the current one, and any
 * change ends the user's other sessions.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_int.h"
#include "cfg_field.h"
#include "cfg_value.h"
#include "json.h"
#include "store.h"
#include "x509.h"

/* ---- rows by the tables (cfg_field.c: CK_USER, CK_TOKEN) ---- */

/* A field the code writes from a request: a column, not the id, not
 * read-only (created_at, created_by, owner are the code's own).
 */
static bool
col_writable(const struct cf_field *f)
{
	return f->column != NULL && f->type != F_ID &&
	    (f->flags & F_READONLY) == 0 && f->parent < 0;
}

/* One row of <k>, read with cf_select_sql() (column i is field i), as
 * JSON: every top-level field with a column that is not write-only, by
 * its type; NULL is null (a token that never expires, a token without
 * an owner).
 */
static struct json *
row_json(const struct cf_kind *k, struct store_stmt *s)
{
	struct json *o = json_new_obj(), *v;
	const struct cf_field *f;
	size_t i;

	for (i = 0; i < k->n; i++) {
		f = &k->f[i];
		if (f->column == NULL || f->parent >= 0 ||
		    (f->flags & F_WRITEONLY) != 0)
			continue;
		if (store_col_is_null(s, (int)i))
			v = json_new_null();
		else if (f->type == F_ID || f->type == F_INT)
			v = json_new_int(store_col_int64(s, (int)i));
		else if (f->type == F_BOOL)
			v = json_new_bool(store_col_int64(s, (int)i) != 0);
		else
			v = json_new_str(store_col_text(s, (int)i));
		json_set(o, f->key, v);
	}
	return o;
}

/* "SELECT <every field> FROM <table> t<tail>", F_REF columns as names. */
static struct store_stmt *
select_rows(const struct cf_kind *k, const char *tail, struct err *e)
{
	char sql[1024];
	size_t n;

	if (cf_select_sql(k, true, NULL, sql, sizeof(sql)) != 0) {
		err_set(e, "", "internal: select too long");
		return NULL;
	}
	n = strlen(sql);
	snprintf(sql + n, sizeof(sql) - n, "%s", tail);
	return store_prepare(api_store(), sql, e);
}

/* Binds the writable fields of <item> as ?1.. in table order: the value,
 * else the default, else NULL (a nullable field). Returns the number of
 * the next parameter.
 */
static int
bind_cols(const struct cf_kind *k, const struct json *item,
    struct store_stmt *s)
{
	const struct cf_field *f;
	const struct json *v;
	int p = 1;
	size_t i;

	for (i = 0; i < k->n; i++) {
		f = &k->f[i];
		if (!col_writable(f))
			continue;
		v = json_get(item, f->key);
		if (v != NULL && json_is_nil(v))
			v = NULL;
		if (v == NULL && (f->flags & F_NULLABLE) != 0)
			store_bind_null(s, p);
		else if (f->type == F_BOOL)
			store_bind_int64(s, p,
			    v == NULL ? f->def : (int64_t)json_bool(v));
		else if (f->type == F_INT)
			store_bind_int64(s, p,
			    v == NULL ? f->def : json_int(v));
		else
			store_bind_text(s, p,
			    v != NULL ? json_str(v) : f->def_str);
		p++;
	}
	return p;
}

/* A write of <item>'s writable fields: "INSERT INTO <table> (<columns>,
 * <extra>) VALUES (?1, .., <values>)", or with <update> "UPDATE
 * <table> SET <column> = ?1, .., <extra> WHERE id = ?", where <extra>
 * and <values> (may be NULL) number their parameters "?": the caller
 * binds them, and the id last, from the returned *<next> on.
 */
static struct store_stmt *
write_row(const struct cf_kind *k, const struct json *item, bool update,
    const char *extra, const char *values, int *next, struct err *e)
{
	char cols[512], vals[256], sql[1024];
	struct store_stmt *s;
	size_t i, ac = 0, av = 0;
	int p = 1;

	cols[0] = vals[0] = '\0';
	for (i = 0; i < k->n; i++) {
		if (!col_writable(&k->f[i]))
			continue;
		if (update)
			ac += (size_t)snprintf(cols + ac, sizeof(cols) - ac,
			    "%s%s = ?%d", p > 1 ? ", " : "", k->f[i].column, p);
		else {
			ac += (size_t)snprintf(cols + ac, sizeof(cols) - ac,
			    "%s%s", p > 1 ? ", " : "", k->f[i].column);
			av += (size_t)snprintf(vals + av, sizeof(vals) - av,
			    "%s?%d", p > 1 ? ", " : "", p);
		}
		p++;
		if (ac >= sizeof(cols) || av >= sizeof(vals)) {
			err_set(e, "", "internal: too many columns");
			return NULL;
		}
	}
	if (update)
		snprintf(sql, sizeof(sql), "UPDATE %s SET %s%s%s WHERE id = ?",
		    k->table, cols, extra != NULL ? ", " : "",
		    extra != NULL ? extra : "");
	else
		snprintf(sql, sizeof(sql),
		    "INSERT INTO %s (%s%s%s) VALUES (%s%s%s)", k->table, cols,
		    extra != NULL ? ", " : "", extra != NULL ? extra : "", vals,
		    values != NULL ? ", " : "", values != NULL ? values : "");
	if ((s = store_prepare(api_store(), sql, e)) != NULL)
		*next = bind_cols(k, item, s);
	return s;
}

static void
list(struct api_req *r, enum cf_kind_id kind)
{
	const struct cf_kind *k = &cf_kinds[kind];
	struct store_stmt *s;
	struct json *out;
	struct err e;

	if ((s = select_rows(k, " ORDER BY t.id", &e)) == NULL) {
		api_reply_problem(r, 500, e.msg, NULL);
		return;
	}
	out = json_new_arr();
	while (store_step(s, &e) == STORE_ROW)
		json_append(out, row_json(k, s));
	store_finalize(s);
	api_reply_json(r, 200, out);
}

/* The row addressed by r->param (id or name), or NULL after a 404. */
static struct json *
find(struct api_req *r, enum cf_kind_id kind)
{
	const struct cf_kind *k = &cf_kinds[kind];
	char *end;
	struct store_stmt *s;
	struct json *o = NULL;
	long long id = strtoll(r->param, &end, 10);
	bool by_id = *end == '\0';
	struct err e;

	s = select_rows(k, by_id ? " WHERE t.id = ?1" : " WHERE t.name = ?1",
	    &e);
	if (s == NULL) {
		api_reply_problem(r, 500, e.msg, NULL);
		return NULL;
	}
	if (by_id)
		store_bind_int64(s, 1, id);
	else
		store_bind_text(s, 1, r->param);
	if (store_step(s, &e) == STORE_ROW)
		o = row_json(k, s);
	store_finalize(s);
	if (o == NULL)
		api_reply_problem(r, 404,
		    kind == CK_TOKEN ? "no such token" : "no such user", NULL);
	return o;
}

/* Runs one write; 409 on a UNIQUE conflict. Returns 0 or -1 (replied). */
static int
write_one(struct api_req *r, struct store_stmt *s, struct err *e)
{
	enum store_step_result res = store_step(s, e);

	store_finalize(s);
	if (res == STORE_DONE)
		return 0;
	if (res == STORE_CONSTRAINT && strstr(e->msg, "UNIQUE") != NULL) {
		err_set(e, "name", "is already used");
		api_reply_problem(r, 409, "that name is already used", e);
	} else
		api_reply_problem(r, res == STORE_CONSTRAINT ? 422 : 500,
		    e->msg, NULL);
	return -1;
}

static int64_t
admins_other_than(int64_t id)
{
	struct store_stmt *s;
	struct err e;
	int64_t n = 0;

	s = store_prepare(api_store(),
	    "SELECT count(*) FROM users WHERE role = 'admin' AND id != ?1", &e);
	if (s == NULL)
		return 0;
	store_bind_int64(s, 1, id);
	if (store_step(s, &e) == STORE_ROW)
		n = store_col_int64(s, 0);
	store_finalize(s);
	return n;
}

/* ---- users ---- */

void
auth_users_list(struct api_req *r)
{
	list(r, CK_USER);
}

void
auth_users_get(struct api_req *r)
{
	struct json *o = find(r, CK_USER);

	if (o != NULL)
		api_reply_json(r, 200, o);
}

/* Checks a user body against the users' table (cfg_field.c); <need_pw>
 * for creation.
 */
static int
user_body(const struct json *b, bool need_pw, const char **name,
    const char **pw, const char **role, struct err *e)
{
	if (conf_check_kind(&cf_kinds[CK_USER], b, e) != 0 ||
	    json_get_str(b, "", "name", name, e) < 0 ||
	    json_get_str(b, "", "password", pw, e) < 0 ||
	    json_get_str(b, "", "role", role, e) < 0)
		return -1;
	if (*pw == NULL && need_pw)
		return err_set(e, "password", "is required");
	if (*pw != NULL)
		return passwd_check(*pw, *name, e);
	return 0;
}

void
auth_users_create(struct api_req *r)
{
	const char *name = NULL, *pw = NULL, *role = NULL;
	char hash[160];
	struct store_stmt *s;
	struct json *b;
	struct err e;
	int p;

	err_clear(&e);
	if ((b = api_req_json(r)) == NULL)
		return;
	if (json_get(b, "id") != NULL) {
		err_set(&e, "id", "is assigned by the server");
		goto invalid;
	}
	if (user_body(b, true, &name, &pw, &role, &e) != 0)
		goto invalid;
	if (auth_hash_password(pw, hash, sizeof(hash)) != 0) {
		api_reply_problem(r, 503, "cannot hash the password", NULL);
		goto out;
	}
	s = write_row(&cf_kinds[CK_USER], b, false, "password_hash", "?", &p,
	    &e);
	if (s == NULL) {
		api_reply_problem(r, 500, e.msg, NULL);
		goto out;
	}
	store_bind_text(s, p, hash);
	if (write_one(r, s, &e) == 0) {
		snprintf(r->param, sizeof(r->param), "%s", name);
		json_unref(b);
		if ((b = find(r, CK_USER)) != NULL)
			api_reply_json(r, 201, b);
		return;
	}
	goto out;
invalid:
	api_reply_problem(r, 422, "the request body is not valid", &e);
out:
	json_unref(b);
}

/* PUT (<merge> false) or PATCH (RFC 7396 onto the current user). */
static void
user_update(struct api_req *r, bool merge)
{
	const char *name = NULL, *pw = NULL, *role = NULL, *cpw = NULL;
	struct json *cur, *b, *m = NULL;
	struct store_stmt *s;
	char hash[160], old_hash[160] = "";
	int64_t id;
	struct err e;
	int p;

	err_clear(&e);
	if ((cur = find(r, CK_USER)) == NULL)
		return;
	id = json_int(json_get(cur, "id"));
	if ((b = api_req_json(r)) == NULL)
		goto out;
	if (!json_is_obj(b)) {
		err_set(&e, "", "must be an object");
		goto invalid;
	}
	m = merge ? json_merge_patch(cur, b) : json_ref(b);
	if (json_get(m, "id") != NULL && json_int(json_get(m, "id")) != id) {
		err_set(&e, "id", "cannot be changed");
		goto invalid;
	}
	if (user_body(m, false, &name, &pw, &role, &e) != 0)
		goto invalid;
	if (role == NULL)
		role = "admin";
	if (strcmp(role, "admin") != 0 && admins_other_than(id) == 0) {
		api_reply_problem(r, 409, "the last admin cannot be demoted",
		    NULL);
		goto out;
	}
	if (json_get_str(m, "", "current_password", &cpw, &e) < 0)
		goto invalid;
	if (pw != NULL && id == r->self_id && cpw == NULL) {
		err_set(&e, "current_password",
		    "is required to change your own password");
		goto invalid;
	}
	if (pw != NULL &&
	    !auth_password_ok(id, id == r->self_id ? cpw : NULL, old_hash,
	        sizeof(old_hash)) &&
	    id == r->self_id) {
		throttle_fail(json_str(json_get(cur, "name")), r->client);
		err_set(&e, "current_password", "is not your current password");
		api_reply_problem(r, 403, "the current password is wrong", &e);
		goto out;
	}
	if (pw != NULL && auth_hash_password(pw, hash, sizeof(hash)) != 0) {
		api_reply_problem(r, 503, "cannot hash the password", NULL);
		goto out;
	}
	s = write_row(&cf_kinds[CK_USER], m, true,
	    "password_hash = coalesce(?, password_hash)", NULL, &p, &e);
	if (s == NULL) {
		api_reply_problem(r, 500, e.msg, NULL);
		goto out;
	}
	store_bind_text(s, p, pw != NULL ? hash : NULL);
	store_bind_int64(s, p + 1, id);
	if (write_one(r, s, &e) == 0) {
		if (pw != NULL) {
			auth_sessions_drop_user(id, r);
			auth_first_password_forget(old_hash);
		}
		snprintf(r->param, sizeof(r->param), "%" PRId64, id);
		json_unref(cur);
		if ((cur = find(r, CK_USER)) != NULL)
			api_reply_json(r, 200, json_ref(cur));
	}
	goto out;
invalid:
	api_reply_problem(r, 422, "the request body is not valid", &e);
out:
	json_unref(m);
	json_unref(b);
	json_unref(cur);
}

void
auth_users_put(struct api_req *r)
{
	user_update(r, false);
}

void
auth_users_patch(struct api_req *r)
{
	user_update(r, true);
}

static void
delete_row(struct api_req *r, const char *table, int64_t id)
{
	char sql[64];
	struct store_stmt *s;
	struct err e;

	snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE id = ?1", table);
	if ((s = store_prepare(api_store(), sql, &e)) == NULL) {
		api_reply_problem(r, 500, e.msg, NULL);
		return;
	}
	store_bind_int64(s, 1, id);
	if (write_one(r, s, &e) == 0)
		api_reply_empty(r, 204);
}

void
auth_users_delete(struct api_req *r)
{
	struct json *cur = find(r, CK_USER);
	int64_t id;

	if (cur == NULL)
		return;
	id = json_int(json_get(cur, "id"));
	if (admins_other_than(id) == 0)
		api_reply_problem(r, 409, "the last admin cannot be deleted",
		    NULL);
	else {
		auth_sessions_drop_user(id, NULL);
		delete_row(r, "users", id);
	}
	json_unref(cur);
}

/* ---- tokens ---- */

void
auth_tokens_list(struct api_req *r)
{
	list(r, CK_TOKEN);
}

void
auth_tokens_get(struct api_req *r)
{
	struct json *o = find(r, CK_TOKEN);

	if (o != NULL)
		api_reply_json(r, 200, o);
}

static int
token_body(const struct json *b, bool create, const char **name,
    const char **role, int64_t *expires, bool *has_exp, struct err *e)
{
	const struct cf_field *tf = cf_kinds[CK_TOKEN].f;
	int64_t in = 0;
	int rc;

	/* Keys, types, ranges, the role and the name: the tokens' table. */
	if (conf_check_kind(&cf_kinds[CK_TOKEN], b, e) != 0)
		return -1;
	if (!create && json_get(b, tf[TF_EXPIRES_IN].key) != NULL)
		return err_set(e, tf[TF_EXPIRES_IN].key,
		    "only when creating a token; give expires_at");
	if (json_get_str(b, "", "name", name, e) < 0 ||
	    json_get_str(b, "", "role", role, e) < 0 ||
	    (rc = json_get_int(b, "", "expires_at", tf[TF_EXPIRES_AT].min,
	         tf[TF_EXPIRES_AT].max, expires, e)) < 0)
		return -1;
	*has_exp = rc == 1;
	if (create) {
		if ((rc = json_get_int(b, "", "expires_in",
		         tf[TF_EXPIRES_IN].min, tf[TF_EXPIRES_IN].max, &in,
		         e)) < 0)
			return -1;
		if (rc == 1 && *has_exp)
			return err_set(e, "expires_in",
			    "give expires_at or expires_in, not both");
		if (rc == 1) {
			*expires = (int64_t)time(NULL) + in;
			*has_exp = true;
		}
	}
	return 0;
}

void
auth_tokens_create(struct api_req *r)
{
	const char *name = NULL, *role = NULL;
	char raw[70], tok[80], hash[65];
	struct store_stmt *s;
	struct json *b, *o;
	int64_t exp = 0;
	bool has_exp = false;
	struct err e;
	int p;

	err_clear(&e);
	if ((b = api_req_json(r)) == NULL)
		return;
	if (token_body(b, true, &name, &role, &exp, &has_exp, &e) != 0) {
		api_reply_problem(r, 422, "the request body is not valid", &e);
		goto out;
	}
	if (auth_rand_hex(raw, 32) != 0) {
		api_reply_problem(r, 503, "no randomness", NULL);
		goto out;
	}
	snprintf(tok, sizeof(tok), "gh_%s", raw);
	x509_sha256_hex(tok, strlen(tok), hash);
	if (has_exp) /* expires_in, as the time it ends */
		json_set(b, "expires_at", json_new_int(exp));
	s = write_row(&cf_kinds[CK_TOKEN], b, false,
	    "token_hash, created_by, owner_id", "?, ?, ?", &p, &e);
	if (s == NULL) {
		api_reply_problem(r, 500, e.msg, NULL);
		goto out;
	}
	store_bind_text(s, p, hash);
	store_bind_text(s, p + 1, r->actor);
	store_bind_int64(s, p + 2, r->self_id);
	if (write_one(r, s, &e) != 0)
		goto out;
	snprintf(r->param, sizeof(r->param), "%s", name);
	if ((o = find(r, CK_TOKEN)) != NULL) {
		json_set(o, "token", json_new_str(tok));
		api_reply_json(r, 201, o);
	}
out:
	json_unref(b);
}

static void
token_update(struct api_req *r, bool merge)
{
	const char *name = NULL, *role = NULL;
	struct json *cur, *b, *m = NULL;
	struct store_stmt *s;
	int64_t id, exp = 0;
	bool has_exp = false;
	struct err e;
	int p;

	err_clear(&e);
	if ((cur = find(r, CK_TOKEN)) == NULL)
		return;
	id = json_int(json_get(cur, "id"));
	if ((b = api_req_json(r)) == NULL)
		goto out;
	if (!json_is_obj(b)) {
		err_set(&e, "", "must be an object");
		goto invalid;
	}
	m = merge ? json_merge_patch(cur, b) : json_ref(b);
	if (json_get(m, "id") != NULL && json_int(json_get(m, "id")) != id) {
		err_set(&e, "id", "cannot be changed");
		goto invalid;
	}
	if (token_body(m, false, &name, &role, &exp, &has_exp, &e) != 0)
		goto invalid;
	s = write_row(&cf_kinds[CK_TOKEN], m, true, NULL, NULL, &p, &e);
	if (s == NULL) {
		api_reply_problem(r, 500, e.msg, NULL);
		goto out;
	}
	store_bind_int64(s, p, id);
	if (write_one(r, s, &e) == 0) {
		snprintf(r->param, sizeof(r->param), "%" PRId64, id);
		json_unref(cur);
		if ((cur = find(r, CK_TOKEN)) != NULL)
			api_reply_json(r, 200, json_ref(cur));
	}
	goto out;
invalid:
	api_reply_problem(r, 422, "the request body is not valid", &e);
out:
	json_unref(m);
	json_unref(b);
	json_unref(cur);
}

void
auth_tokens_put(struct api_req *r)
{
	token_update(r, false);
}

void
auth_tokens_patch(struct api_req *r)
{
	token_update(r, true);
}

void
auth_tokens_delete(struct api_req *r)
{
	struct json *cur = find(r, CK_TOKEN);

	if (cur == NULL)
		return;
	delete_row(r, "tokens", json_int(json_get(cur, "id")));
	json_unref(cur);
}
