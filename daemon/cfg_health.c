/*
 * cfg_health.c: compiling an origin's health-check settings (schema 0005).
 *
 * Called by cfg_compile() for each origin row (columns by field,
 * cfg_field.h). The numbers are checked against the field table's
 * ranges, the path and Host with the value types the API uses
 * (cfg_value.h), and the timeout must be shorter than the interval
 * (checks of one server never overlap).
 */
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "cfg.h"
#include "cfg_field.h"
#include "store.h"

static int
hc_fail(const struct cfg_origin *o, int col, struct err *e, const char *msg)
{
	char field[160];

	snprintf(field, sizeof(field), "origins[%s].health_check.%s", o->name,
	    cf_kinds[CK_ORIGIN].f[col].key);
	return err_set(e, field, "%s", msg);
}

/* A text field checked by its value type, into the arena (NULL: none). */
static int
hc_text(struct cfg *c, const struct cfg_origin *o, struct store_stmt *s,
    int col, const char **out, struct err *e)
{
	char msg[256];

	*out = NULL;
	if (store_col_is_null(s, col) || store_col_text(s, col)[0] == '\0')
		return 0;
	if (cv_check(cf_kinds[CK_ORIGIN].f[col].vtype, store_col_text(s, col),
	        msg, sizeof(msg)) != 0)
		return hc_fail(o, col, e, msg);
	if ((*out = arena_strdup(c->arena, store_col_text(s, col))) == NULL)
		return err_set(e, "",
		    "out of memory while compiling the configuration");
	return 0;
}

/* An enum field: one of its values (static strings), its default when
 * NULL.
 */
static int
hc_enum(const struct cfg_origin *o, struct store_stmt *s, int col,
    const char **out, struct err *e)
{
	const struct cf_field *f = &cf_kinds[CK_ORIGIN].f[col];
	const char *v =
	    store_col_is_null(s, col) ? f->def_str : store_col_text(s, col);
	char msg[96];
	int i = cf_enum_index(f, v);

	if (i < 0) {
		snprintf(msg, sizeof(msg), "\"%.32s\" is not allowed", v);
		return hc_fail(o, col, e, msg);
	}
	*out = f->enums[i];
	return 0;
}

/* A number within its field's range. */
static int
hc_int(const struct cfg_origin *o, struct store_stmt *s, int col, unsigned *out,
    struct err *e)
{
	const struct cf_field *f = &cf_kinds[CK_ORIGIN].f[col];
	int64_t v =
	    store_col_is_null(s, col) ? f->def : store_col_int64(s, col);
	char msg[96];

	if (v < f->min || v > f->max) {
		snprintf(msg, sizeof(msg), "%lld is out of range (%lld..%lld)",
		    (long long)v, (long long)f->min, (long long)f->max);
		return hc_fail(o, col, e, msg);
	}
	*out = (unsigned)v;
	return 0;
}

int
cfg_health_origin(struct cfg *c, struct cfg_origin *o, struct store_stmt *s,
    struct err *e)
{
	struct cfg_health *h = &o->health;
	char msg[128];

	if (store_col_is_null(s, OF_HC_PATH))
		return 0;
	if (hc_text(c, o, s, OF_HC_PATH, &h->path, e) != 0 ||
	    hc_enum(o, s, OF_HC_METHOD, &h->method, e) != 0 ||
	    hc_text(c, o, s, OF_HC_HOST, &h->host, e) != 0 ||
	    hc_int(o, s, OF_HC_INTERVAL_MS, &h->interval_ms, e) != 0 ||
	    hc_int(o, s, OF_HC_TIMEOUT_MS, &h->timeout_ms, e) != 0 ||
	    hc_int(o, s, OF_HC_RISE, &h->rise, e) != 0 ||
	    hc_int(o, s, OF_HC_FALL, &h->fall, e) != 0 ||
	    hc_int(o, s, OF_HC_STATUS_MIN, &h->status_min, e) != 0 ||
	    hc_int(o, s, OF_HC_STATUS_MAX, &h->status_max, e) != 0)
		return -1;
	if (h->path == NULL)
		return hc_fail(o, OF_HC_PATH, e, "\"\" is not a request path");
	if (h->timeout_ms >= h->interval_ms) {
		snprintf(msg, sizeof(msg),
		    "%u must be shorter than interval_ms (%u)", h->timeout_ms,
		    h->interval_ms);
		return hc_fail(o, OF_HC_TIMEOUT_MS, e, msg);
	}
	if (h->status_max < h->status_min) {
		snprintf(msg, sizeof(msg), "%u is below status_min (%u)",
		    h->status_max, h->status_min);
		return hc_fail(o, OF_HC_STATUS_MAX, e, msg);
	}
	h->enabled = true;
	return 0;
}
