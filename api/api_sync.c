/*
 * api_sync.c: making the rows say what a configuration document says.
 *
 * conf_sync() runs inside the caller's write transaction. Each item of the
 * document becomes the row with its "id", else the row with its name,
 * else a new row (with its "id" when that is free), so every object that
 * stays keeps its row id: counters, health and pools are keyed by it.
 * Servers keep their ids when their address and port stay. Order: routes
 * that go away are deleted first, names that move are parked ("~id") so
 * UNIQUE never trips, then listeners, origins (with servers) and routes
 * are upserted, and finally listeners and origins that go away are
 * deleted (no route refers to them by then).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "json.h"
#include "store.h"

static int sync_fail(struct err *e, const char *path, const char *key,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Fills <e> with field "<path>.<key>". */
static int
sync_fail(struct err *e, const char *path, const char *key, const char *fmt,
    ...)
{
	char p[128], msg[384];
	va_list ap;

	json_path_key(p, sizeof(p), path, key);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(e, p, "%s", msg);
}

struct sync_row {
	int64_t id;
	bool claimed;
};

struct sync_kind {
	struct sync_row *rows;
	size_t nrows;
	int64_t *ids; /* per doc item: existing row id, explicit new id, 0 */
	bool *exists; /* per doc item: ids[i] is an existing row */
	size_t nitems;
};

static void
sync_kind_free(struct sync_kind *k)
{
	free(k->rows);
	free(k->ids);
	free(k->exists);
}

static int
step_done(struct store_stmt *s, struct err *e)
{
	enum store_step_result r = store_step(s, e);

	store_reset(s);
	return r == STORE_DONE || r == STORE_ROW ? 0 : -1;
}

/* Loads the row ids and names of <table> and decides which row each item
 * of <arr> becomes: the row with its "id", else the row with its name,
 * else a new row (with its "id" when it gives one).
 */
static int
sync_plan(struct store *st, const char *table, const struct json *arr,
    struct sync_kind *k, struct err *e)
{
	char sql[128];
	struct store_stmt *s;
	char **names = NULL;
	size_t cap = 16, i, j;
	enum store_step_result r;
	const struct json *it;
	int rc = -1;

	memset(k, 0, sizeof(*k));
	k->nitems = json_len(arr);
	k->ids = calloc(k->nitems + 1, sizeof(*k->ids));
	k->exists = calloc(k->nitems + 1, sizeof(*k->exists));
	k->rows = calloc(cap, sizeof(*k->rows));
	names = calloc(cap, sizeof(*names));
	if (k->ids == NULL || k->exists == NULL || k->rows == NULL ||
	    names == NULL)
		goto oom;
	snprintf(sql, sizeof(sql), "SELECT id, name FROM %s ORDER BY id",
	    table);
	if ((s = store_prepare(st, sql, e)) == NULL)
		goto out;
	while ((r = store_step(s, e)) == STORE_ROW) {
		if (k->nrows == cap) {
			void *nr = realloc(k->rows, 2 * cap * sizeof(*k->rows));
			void *nn = nr != NULL
			    ? realloc(names, 2 * cap * sizeof(*names))
			    : NULL;
			if (nr != NULL)
				k->rows = nr;
			if (nn == NULL) {
				store_finalize(s);
				goto oom;
			}
			names = nn;
			cap *= 2;
		}
		k->rows[k->nrows].id = store_col_int64(s, 0);
		k->rows[k->nrows].claimed = false;
		if ((names[k->nrows] = strdup(store_col_text(s, 1))) == NULL) {
			store_finalize(s);
			goto oom;
		}
		k->nrows++;
	}
	store_finalize(s);
	if (r != STORE_DONE)
		goto out;
	for (i = 0; i < k->nitems; i++) {
		it = json_at(arr, i);
		int64_t want = json_int(json_get(it, "id"));
		const char *name = json_str(json_get(it, "name"));
		for (j = 0; want > 0 && j < k->nrows; j++)
			if (k->rows[j].id == want && !k->rows[j].claimed)
				break;
		if (want <= 0 || j == k->nrows)
			for (j = 0; j < k->nrows; j++)
				if (!k->rows[j].claimed &&
				    strcmp(names[j], name) == 0)
					break;
		if (j < k->nrows) {
			k->rows[j].claimed = true;
			k->ids[i] = k->rows[j].id;
			k->exists[i] = true;
		} else
			k->ids[i] = want > 0 ? want : 0;
	}
	/* An explicit new id that an existing row has is not free. */
	for (i = 0; i < k->nitems; i++)
		for (j = 0; !k->exists[i] && k->ids[i] != 0 && j < k->nrows;
		     j++)
			if (k->rows[j].id == k->ids[i])
				k->ids[i] = 0;
	rc = 0;
	goto out;
oom:
	err_set(e, "", "out of memory");
out:
	for (i = 0; names != NULL && i < k->nrows; i++)
		free(names[i]);
	free(names);
	return rc;
}

/* Parks the name of every row that changes name or goes away, so that
 * names can move between rows without tripping UNIQUE.
 */
static int
sync_park(struct store *st, const char *table, const struct sync_kind *k,
    struct err *e)
{
	char sql[128];
	struct store_stmt *s;
	size_t j;
	int rc = 0;

	snprintf(sql, sizeof(sql),
	    "UPDATE %s SET name = '~' || id WHERE id = ?1", table);
	if ((s = store_prepare(st, sql, e)) == NULL)
		return -1;
	for (j = 0; rc == 0 && j < k->nrows; j++) {
		store_bind_int64(s, 1, k->rows[j].id);
		rc = step_done(s, e);
	}
	store_finalize(s);
	return rc;
}

static int
sync_delete(struct store *st, const char *table, const struct sync_kind *k,
    struct err *e)
{
	char sql[128];
	struct store_stmt *s;
	size_t j;
	int rc = 0;

	snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE id = ?1", table);
	if ((s = store_prepare(st, sql, e)) == NULL)
		return -1;
	for (j = 0; rc == 0 && j < k->nrows; j++) {
		if (k->rows[j].claimed)
			continue;
		store_bind_int64(s, 1, k->rows[j].id);
		rc = step_done(s, e);
	}
	store_finalize(s);
	return rc;
}

static void
bind_id(struct store_stmt *s, int i, int64_t id)
{
	if (id > 0)
		store_bind_int64(s, i, id);
	else
		store_bind_null(s, i);
}

static void
bind_opt_int(struct store_stmt *s, int i, const struct json *obj,
    const char *key)
{
	const struct json *v = json_get(obj, key);

	if (json_is_int(v))
		store_bind_int64(s, i, json_int(v));
	else
		store_bind_null(s, i);
}

static void
bind_str(struct store_stmt *s, int i, const struct json *obj, const char *key,
    const char *def)
{
	const char *v = json_str(json_get(obj, key));

	store_bind_text(s, i, v != NULL ? v : def);
}

/* Binds the id of the certificate named <obj>.<key> (NULL when absent);
 * -1 with "<path>.<key>: no certificate named ..." when there is none.
 */
static int
bind_cert(struct store *st, struct store_stmt *s, int idx,
    const struct json *obj, const char *path, const char *key, struct err *e)
{
	const char *name = json_str(json_get(obj, key));
	struct store_stmt *cs;
	int rc = 0;

	if (name == NULL)
		return store_bind_null(s, idx);
	cs =
	    store_prepare(st, "SELECT id FROM certificates WHERE name = ?1", e);
	if (cs == NULL)
		return -1;
	store_bind_text(cs, 1, name);
	if (store_step(cs, e) == STORE_ROW)
		store_bind_int64(s, idx, store_col_int64(cs, 0));
	else
		rc = sync_fail(e, path, key, "no certificate named \"%.64s\"",
		    name);
	store_finalize(cs);
	return rc;
}

/* Binds <obj>.<key> (an array) as JSON text, "[]" when absent. */
static int
bind_list(struct store_stmt *s, int idx, const struct json *obj,
    const char *key, struct err *e)
{
	const struct json *v = json_get(obj, key);
	char *text = json_is_arr(v) ? json_dump(v, NULL) : strdup("[]");
	int rc;

	if (text == NULL)
		return err_set(e, "", "out of memory");
	rc = store_bind_text(s, idx, text);
	free(text);
	return rc;
}

static int
sync_listeners(struct store *st, const struct json *arr,
    const struct sync_kind *k, struct err *e)
{
	struct store_stmt *s;
	const struct json *it, *to;
	char p[64];
	size_t i;
	int rc = 0;

	s = store_prepare(st,
	    "INSERT INTO listeners (id, name, address, port, protocol,"
	    " header_timeout_ms, keepalive_timeout_ms, trust_forwarded,"
	    " default_certificate_id, client_auth, client_ca_id,"
	    " max_connections, proxy_protocol_from) VALUES (?1, ?2, ?3, ?4,"
	    " ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
	    " ON CONFLICT (id) DO UPDATE SET name = excluded.name,"
	    " address = excluded.address, port = excluded.port,"
	    " protocol = excluded.protocol,"
	    " header_timeout_ms = excluded.header_timeout_ms,"
	    " keepalive_timeout_ms = excluded.keepalive_timeout_ms,"
	    " trust_forwarded = excluded.trust_forwarded,"
	    " default_certificate_id = excluded.default_certificate_id,"
	    " client_auth = excluded.client_auth,"
	    " client_ca_id = excluded.client_ca_id,"
	    " max_connections = excluded.max_connections,"
	    " proxy_protocol_from = excluded.proxy_protocol_from",
	    e);
	if (s == NULL)
		return -1;
	for (i = 0; rc == 0 && i < json_len(arr); i++) {
		it = json_at(arr, i);
		to = json_get(it, "timeouts");
		snprintf(p, sizeof(p), "listeners[%zu]", i);
		bind_id(s, 1, k->ids[i]);
		bind_str(s, 2, it, "name", "");
		bind_str(s, 3, it, "address", "");
		store_bind_int64(s, 4, json_int(json_get(it, "port")));
		bind_str(s, 5, it, "protocol", "http");
		bind_opt_int(s, 6, to, "header_ms");
		bind_opt_int(s, 7, to, "keepalive_ms");
		store_bind_int64(s, 8,
		    json_bool(json_get(it, "trust_forwarded")) ? 1 : 0);
		bind_str(s, 10, it, "client_auth", "none");
		bind_opt_int(s, 12, it, "max_connections");
		if (bind_cert(st, s, 9, it, p, "default_certificate", e) != 0 ||
		    bind_cert(st, s, 11, it, p, "client_ca", e) != 0 ||
		    bind_list(s, 13, it, "proxy_protocol_from", e) != 0) {
			rc = -1;
			break;
		}
		rc = step_done(s, e);
	}
	store_finalize(s);
	return rc;
}

/* Writes the servers of origin <oid> in order, keeping the ids of the
 * servers that stay (same id, else same address and port).
 */
static int
sync_servers(struct store *st, int64_t oid, const struct json *servers,
    struct err *e)
{
	struct store_stmt *sel, *up, *del;
	struct {
		int64_t id;
		char addr[64];
		int64_t port;
		bool kept;
	} *old = NULL;
	size_t nold = 0, cap = 0, i, j;
	const struct json *sv;
	int64_t want;
	int rc = -1;

	sel = store_prepare(st,
	    "SELECT id, address, port FROM servers WHERE origin_id = ?1"
	    " ORDER BY position, id",
	    e);
	up = store_prepare(st,
	    "INSERT INTO servers (id, origin_id, address, port, weight, position)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO UPDATE SET"
	    " origin_id = excluded.origin_id, address = excluded.address,"
	    " port = excluded.port, weight = excluded.weight,"
	    " position = excluded.position",
	    e);
	del = store_prepare(st, "DELETE FROM servers WHERE id = ?1", e);
	if (sel == NULL || up == NULL || del == NULL)
		goto out;
	store_bind_int64(sel, 1, oid);
	while (store_step(sel, e) == STORE_ROW) {
		if (nold == cap) {
			void *n = realloc(old, (cap + 16) * sizeof(*old));
			if (n == NULL)
				goto out;
			old = n;
			cap += 16;
		}
		old[nold].id = store_col_int64(sel, 0);
		snprintf(old[nold].addr, sizeof(old[nold].addr), "%s",
		    store_col_text(sel, 1));
		old[nold].port = store_col_int64(sel, 2);
		old[nold].kept = false;
		nold++;
	}
	for (i = 0; i < json_len(servers); i++) {
		sv = json_at(servers, i);
		want = json_int(json_get(sv, "id"));
		for (j = 0; j < nold; j++)
			if (!old[j].kept && want > 0 && old[j].id == want)
				break;
		if (j == nold)
			for (j = 0; j < nold; j++)
				if (!old[j].kept &&
				    json_int(json_get(sv, "port")) ==
				        old[j].port &&
				    strcmp(json_str(json_get(sv, "address")),
				        old[j].addr) == 0)
					break;
		if (j < nold) {
			old[j].kept = true;
			store_bind_int64(up, 1, old[j].id);
		} else
			store_bind_null(up, 1);
		store_bind_int64(up, 2, oid);
		bind_str(up, 3, sv, "address", "");
		store_bind_int64(up, 4, json_int(json_get(sv, "port")));
		store_bind_int64(up, 5,
		    json_is_int(json_get(sv, "weight"))
		        ? json_int(json_get(sv, "weight"))
		        : 1);
		store_bind_int64(up, 6, (int64_t)i);
		if (step_done(up, e) != 0)
			goto out;
	}
	for (j = 0; j < nold; j++) {
		if (old[j].kept)
			continue;
		store_bind_int64(del, 1, old[j].id);
		if (step_done(del, e) != 0)
			goto out;
	}
	rc = 0;
out:
	free(old);
	store_finalize(sel);
	store_finalize(up);
	store_finalize(del);
	return rc;
}

/* Binds the eight hc_* columns from "health_check" (absent or null: no
 * check, defaults kept for the numbers).
 */
static void
bind_health(struct store_stmt *s, int i, const struct json *h)
{
	static const struct {
		const char *key;
		int64_t def;
	} ints[] = { { "interval_ms", 5000 }, { "timeout_ms", 2000 },
		{ "rise", 2 }, { "fall", 3 }, { "status_min", 200 },
		{ "status_max", 399 } };
	const struct json *v;
	size_t k;

	store_bind_text(s, i, json_str(json_get(h, "path")));
	store_bind_text(s, i + 1, json_str(json_get(h, "host")));
	for (k = 0; k < sizeof(ints) / sizeof(ints[0]); k++) {
		v = json_get(h, ints[k].key);
		store_bind_int64(s, i + 2 + (int)k,
		    v != NULL && json_str(v) == NULL && json_int(v) != 0
		        ? json_int(v)
		        : ints[k].def);
	}
}

static int
sync_origins(struct store *st, const struct json *arr,
    const struct sync_kind *k, struct err *e)
{
	struct store_stmt *s;
	const struct json *it, *t;
	const struct json *v;
	char p[64];
	int64_t oid;
	size_t i;
	int rc = 0;

	s = store_prepare(st,
	    "INSERT INTO origins (id, name, balance, tls_enabled, tls_verify,"
	    " tls_ca_id, tls_sni, tls_client_certificate_id, proxy_protocol,"
	    " hc_path, hc_host, hc_interval_ms, hc_timeout_ms, hc_rise,"
	    " hc_fall, hc_status_min, hc_status_max)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
	    " ?14, ?15, ?16, ?17)"
	    " ON CONFLICT (id) DO UPDATE SET name = excluded.name,"
	    " balance = excluded.balance, tls_enabled = excluded.tls_enabled,"
	    " tls_verify = excluded.tls_verify, tls_ca_id = excluded.tls_ca_id,"
	    " tls_sni = excluded.tls_sni,"
	    " tls_client_certificate_id = excluded.tls_client_certificate_id,"
	    " proxy_protocol = excluded.proxy_protocol,"
	    " hc_path = excluded.hc_path, hc_host = excluded.hc_host,"
	    " hc_interval_ms = excluded.hc_interval_ms,"
	    " hc_timeout_ms = excluded.hc_timeout_ms, hc_rise = excluded.hc_rise,"
	    " hc_fall = excluded.hc_fall, hc_status_min = excluded.hc_status_min,"
	    " hc_status_max = excluded.hc_status_max",
	    e);
	if (s == NULL)
		return -1;
	for (i = 0; rc == 0 && i < json_len(arr); i++) {
		it = json_at(arr, i);
		t = json_get(it, "tls");
		snprintf(p, sizeof(p), "origins[%zu].tls", i);
		bind_id(s, 1, k->ids[i]);
		bind_str(s, 2, it, "name", "");
		bind_str(s, 3, it, "balance", "round_robin");
		store_bind_int64(s, 4,
		    json_bool(json_get(t, "enabled")) ? 1 : 0);
		v = json_get(t, "verify");
		store_bind_int64(s, 5,
		    json_is_bool(v) && !json_bool(v) ? 0 : 1);
		store_bind_text(s, 7, json_str(json_get(t, "sni")));
		store_bind_int64(s, 9,
		    json_int(json_get(it, "proxy_protocol")));
		bind_health(s, 10, json_get(it, "health_check"));
		if (bind_cert(st, s, 6, t, p, "ca", e) != 0 ||
		    bind_cert(st, s, 8, t, p, "client_certificate", e) != 0 ||
		    (rc = step_done(s, e)) != 0) {
			rc = -1;
			break;
		}
		oid = k->exists[i] || k->ids[i] > 0 ? k->ids[i]
		                                    : store_last_insert_id(st);
		rc = sync_servers(st, oid, json_get(it, "servers"), e);
	}
	store_finalize(s);
	return rc;
}

static int
sync_routes(struct store *st, const struct json *arr, const struct sync_kind *k,
    struct err *e)
{
	struct store_stmt *s;
	const struct json *it, *m, *to;
	size_t i;
	int rc = 0;

	s = store_prepare(st,
	    "INSERT INTO routes (id, name, listener_id, origin_id, priority,"
	    " hosts, path_prefix, methods, forwarded, max_body_bytes,"
	    " connect_timeout_ms, response_timeout_ms, idle_timeout_ms,"
	    " sni, sources, redirect_https, hsts_max_age)"
	    " VALUES (?1, ?2, (SELECT id FROM listeners WHERE name = ?3),"
	    " (SELECT id FROM origins WHERE name = ?4), ?5, ?6, ?7, ?8, ?9,"
	    " ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"
	    " ON CONFLICT (id) DO UPDATE SET"
	    " name = excluded.name, listener_id = excluded.listener_id,"
	    " origin_id = excluded.origin_id, priority = excluded.priority,"
	    " hosts = excluded.hosts, path_prefix = excluded.path_prefix,"
	    " methods = excluded.methods, forwarded = excluded.forwarded,"
	    " max_body_bytes = excluded.max_body_bytes,"
	    " connect_timeout_ms = excluded.connect_timeout_ms,"
	    " response_timeout_ms = excluded.response_timeout_ms,"
	    " idle_timeout_ms = excluded.idle_timeout_ms, sni = excluded.sni,"
	    " sources = excluded.sources,"
	    " redirect_https = excluded.redirect_https,"
	    " hsts_max_age = excluded.hsts_max_age",
	    e);
	if (s == NULL)
		return -1;
	for (i = 0; rc == 0 && i < json_len(arr); i++) {
		it = json_at(arr, i);
		m = json_get(it, "match");
		to = json_get(it, "timeouts");
		bind_id(s, 1, k->ids[i]);
		bind_str(s, 2, it, "name", "");
		bind_str(s, 3, it, "listener", "");
		bind_str(s, 4, it, "origin", "");
		store_bind_int64(s, 5, json_int(json_get(it, "priority")));
		bind_str(s, 7, m, "path_prefix", "/");
		store_bind_int64(s, 9,
		    json_bool(json_get(it, "forwarded")) ? 1 : 0);
		bind_opt_int(s, 10, it, "max_body_bytes");
		bind_opt_int(s, 11, to, "connect_ms");
		bind_opt_int(s, 12, to, "response_ms");
		bind_opt_int(s, 13, to, "idle_ms");
		store_bind_int64(s, 16,
		    json_bool(json_get(it, "redirect_https")) ? 1 : 0);
		bind_opt_int(s, 17, it, "hsts_max_age");
		if (bind_list(s, 6, m, "hosts", e) != 0 ||
		    bind_list(s, 8, m, "methods", e) != 0 ||
		    bind_list(s, 14, m, "sni", e) != 0 ||
		    bind_list(s, 15, m, "sources", e) != 0) {
			rc = -1;
			break;
		}
		rc = step_done(s, e);
	}
	store_finalize(s);
	return rc;
}

int
conf_sync(struct store *st, const struct json *doc, struct err *e)
{
	struct sync_kind k[CONF__KINDS];
	const struct json *arr[CONF__KINDS];
	int i, rc = -1;

	memset(k, 0, sizeof(k));
	for (i = 0; i < CONF__KINDS; i++) {
		arr[i] = json_get(doc, conf_kind_names[i]);
		if (sync_plan(st, conf_kind_names[i], arr[i], &k[i], e) != 0)
			goto out;
	}
	if (sync_delete(st, "routes", &k[CONF_ROUTES], e) != 0)
		goto out;
	for (i = 0; i < CONF__KINDS; i++)
		if (sync_park(st, conf_kind_names[i], &k[i], e) != 0)
			goto out;
	if (sync_listeners(st, arr[CONF_LISTENERS], &k[CONF_LISTENERS], e) !=
	        0 ||
	    sync_origins(st, arr[CONF_ORIGINS], &k[CONF_ORIGINS], e) != 0 ||
	    sync_routes(st, arr[CONF_ROUTES], &k[CONF_ROUTES], e) != 0 ||
	    sync_delete(st, "listeners", &k[CONF_LISTENERS], e) != 0 ||
	    sync_delete(st, "origins", &k[CONF_ORIGINS], e) != 0)
		goto out;
	rc = 0;
out:
	for (i = 0; i < CONF__KINDS; i++)
		sync_kind_free(&k[i]);
	return rc;
}
