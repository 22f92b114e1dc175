/*
 * cfg_balance.c: compiling an origin's balancing settings (schemas 0026, 0027).
 *
 * Called by cfg_compile() for each origin row (columns by field,
 * cfg_field.h): the algorithm and, for "hash", what the hash is taken
 * over ("client_ip" when absent), checked with the value type the API
 * uses (cfg_value.h).
 */
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "balance.h"
#include "cfg.h"
#include "cfg_field.h"
#include "store.h"

static int
bal_fail(const struct cfg_origin *o, int col, struct err *e, const char *msg)
{
	char field[160], path[64];

	cf_path(&cf_kinds[CK_ORIGIN], col, path, sizeof(path));
	snprintf(field, sizeof(field), "origins[%s].%s", o->name, path);
	return err_set(e, field, "%s", msg);
}

/* An integer column within its field's range (its default when NULL). */
static int
bal_int(struct store_stmt *s, enum cf_kind_id kind, int col, unsigned *out,
    char *msg, size_t len)
{
	const struct cf_field *f = &cf_kinds[kind].f[col];
	int64_t v =
	    store_col_is_null(s, col) ? f->def : store_col_int64(s, col);

	if (v < f->min || v > f->max) {
		snprintf(msg, len, "%lld is out of range (%lld..%lld)",
		    (long long)v, (long long)f->min, (long long)f->max);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

static int
bal_sfail(const char *path, int col, struct err *e, const char *msg)
{
	char field[200];

	snprintf(field, sizeof(field), "%s.%s", path,
	    cf_kinds[CK_SERVER].f[col].key);
	return err_set(e, field, "%s", msg);
}

int
cfg_balance_server(struct cfg_server *sv, struct store_stmt *s,
    const char *path, struct err *e)
{
	const struct cf_field *f = &cf_kinds[CK_SERVER].f[SF_STATE];
	const char *v = store_col_is_null(s, SF_STATE)
	    ? f->def_str
	    : store_col_text(s, SF_STATE);
	char msg[160];
	int i = cf_enum_index(f, v);

	if (i < 0) {
		snprintf(msg, sizeof(msg), "\"%.32s\" is not allowed", v);
		return bal_sfail(path, SF_STATE, e, msg);
	}
	sv->state = (enum cfg_server_state)i;
	if (bal_int(s, CK_SERVER, SF_SLOW_START_S, &sv->slow_start_s, msg,
	        sizeof(msg)) != 0)
		return bal_sfail(path, SF_SLOW_START_S, e, msg);
	sv->max_connections = 0;
	if (!store_col_is_null(s, SF_MAX_CONNECTIONS) &&
	    bal_int(s, CK_SERVER, SF_MAX_CONNECTIONS, &sv->max_connections, msg,
	        sizeof(msg)) != 0)
		return bal_sfail(path, SF_MAX_CONNECTIONS, e, msg);
	if (sv->origin->sticky_cookie != NULL)
		balance_sticky_tag(sv->origin->id, sv->label, sv->sticky);
	return 0;
}

/* passive_health: the numbers, and the JSON list of statuses as bits. */
static int
bal_passive(struct cfg_origin *o, struct store_stmt *s, struct err *e)
{
	const char *p;
	char msg[160];
	long v;

	o->ph_failures = 0;
	memset(o->ph_statuses, 0, sizeof(o->ph_statuses));
	if (store_col_is_null(s, OF_PH_FAILURES))
		return 0;
	if (bal_int(s, CK_ORIGIN, OF_PH_FAILURES, &o->ph_failures, msg,
	        sizeof(msg)) != 0)
		return bal_fail(o, OF_PH_FAILURES, e, msg);
	if (bal_int(s, CK_ORIGIN, OF_PH_EJECT_S, &o->ph_eject_s, msg,
	        sizeof(msg)) != 0)
		return bal_fail(o, OF_PH_EJECT_S, e, msg);
	if (bal_int(s, CK_ORIGIN, OF_PH_MAX_EJECTED, &o->ph_max_ejected_percent,
	        msg, sizeof(msg)) != 0)
		return bal_fail(o, OF_PH_MAX_EJECTED, e, msg);
	p = store_col_is_null(s, OF_PH_STATUSES)
	    ? "[]"
	    : store_col_text(s, OF_PH_STATUSES);
	while (*p != '\0') {
		if (*p < '0' || *p > '9') {
			p++;
			continue;
		}
		for (v = 0; *p >= '0' && *p <= '9' && v < 1000; p++)
			v = v * 10 + (*p - '0');
		if (v < 100 || v > 599)
			return bal_fail(o, OF_PH_STATUSES, e,
			    "must list HTTP statuses (100..599)");
		o->ph_statuses[v / 64] |= 1ull << (v % 64);
	}
	return 0;
}

int
cfg_balance_origin(struct cfg *c, struct cfg_origin *o, struct store_stmt *s,
    struct err *e)
{
	const struct cf_field *f = &cf_kinds[CK_ORIGIN].f[OF_BALANCE];
	const char *v = store_col_is_null(s, OF_BALANCE)
	    ? f->def_str
	    : store_col_text(s, OF_BALANCE);
	char msg[160];
	int i = cf_enum_index(f, v);

	if (i < 0) {
		snprintf(msg, sizeof(msg), "\"%.32s\" is not allowed", v);
		return bal_fail(o, OF_BALANCE, e, msg);
	}
	o->balance = (enum cfg_balance)i;
	o->queue_max = 0;
	if (!store_col_is_null(s, OF_QUEUE_MAX)) {
		if (bal_int(s, CK_ORIGIN, OF_QUEUE_MAX, &o->queue_max, msg,
		        sizeof(msg)) != 0)
			return bal_fail(o, OF_QUEUE_MAX, e, msg);
		if (bal_int(s, CK_ORIGIN, OF_QUEUE_TIMEOUT_MS,
		        &o->queue_timeout_ms, msg, sizeof(msg)) != 0)
			return bal_fail(o, OF_QUEUE_TIMEOUT_MS, e, msg);
	}
	o->sticky_cookie = NULL;
	if (!store_col_is_null(s, OF_STICKY_COOKIE)) {
		v = store_col_text(s, OF_STICKY_COOKIE);
		if (cv_check(CV_NAME, v, msg, sizeof(msg)) != 0)
			return bal_fail(o, OF_STICKY_COOKIE, e, msg);
		if (bal_int(s, CK_ORIGIN, OF_STICKY_TTL_S, &o->sticky_ttl_s,
		        msg, sizeof(msg)) != 0)
			return bal_fail(o, OF_STICKY_TTL_S, e, msg);
		o->sticky_secure = !store_col_is_null(s, OF_STICKY_SECURE) &&
		    store_col_int64(s, OF_STICKY_SECURE) != 0;
		if ((o->sticky_cookie = arena_strdup(c->arena, v)) == NULL)
			return err_set(e, "",
			    "out of memory while compiling the configuration");
	}
	if (bal_passive(o, s, e) != 0)
		return -1;
	o->hash_on = CFG_HASH_CLIENT_IP;
	o->hash_name = NULL;
	if (store_col_is_null(s, OF_HASH_KEY))
		return 0;
	v = store_col_text(s, OF_HASH_KEY);
	if (cv_check(CV_HASH_KEY, v, msg, sizeof(msg)) != 0)
		return bal_fail(o, OF_HASH_KEY, e, msg);
	if (strcmp(v, "path") == 0)
		o->hash_on = CFG_HASH_PATH;
	else if (strncmp(v, "header:", 7) == 0)
		o->hash_on = CFG_HASH_HEADER;
	else if (strncmp(v, "cookie:", 7) == 0)
		o->hash_on = CFG_HASH_COOKIE;
	if (o->hash_on == CFG_HASH_HEADER || o->hash_on == CFG_HASH_COOKIE) {
		if ((o->hash_name = arena_strdup(c->arena, v + 7)) == NULL)
			return err_set(e, "",
			    "out of memory while compiling the configuration");
	}
	return 0;
}

int
cfg_balance_route(struct cfg_route *r, struct store_stmt *s, const char *path,
    struct err *e)
{
	const struct cf_field *f = &cf_kinds[CK_ROUTE].f[RF_RETRY_ON];
	char msg[160], field[200], word[32];
	const char *p, *q;
	size_t n;
	int i;

	r->retry_attempts = r->retry_on = r->retry_budget_percent = 0;
	if (store_col_is_null(s, RF_RETRY_ATTEMPTS))
		return 0;
	if (bal_int(s, CK_ROUTE, RF_RETRY_ATTEMPTS, &r->retry_attempts, msg,
	        sizeof(msg)) != 0 ||
	    bal_int(s, CK_ROUTE, RF_RETRY_BUDGET, &r->retry_budget_percent, msg,
	        sizeof(msg)) != 0) {
		snprintf(field, sizeof(field), "%s.retries", path);
		return err_set(e, field, "%s", msg);
	}
	/* ["connect_error","502"]: each quoted word is one of the enums */
	p = store_col_is_null(s, RF_RETRY_ON) ? "[]"
	                                      : store_col_text(s, RF_RETRY_ON);
	while ((p = strchr(p, '"')) != NULL) {
		if ((q = strchr(p + 1, '"')) == NULL)
			break;
		n = (size_t)(q - p - 1);
		snprintf(word, sizeof(word), "%.*s", (int)(n < 31 ? n : 31),
		    p + 1);
		if ((i = cf_enum_index(f, word)) < 0) {
			snprintf(field, sizeof(field), "%s.retries.on", path);
			return err_set(e, field, "\"%s\" is not allowed", word);
		}
		r->retry_on |= 1u << i;
		p = q + 1;
	}
	if (r->retry_on == 0)
		r->retry_on = CFG_RETRY_CONNECT_ERROR | CFG_RETRY_RESET;
	return 0;
}
