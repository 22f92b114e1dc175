/*
 * cfg_health.c: compiling origins' health-check settings (schema 0005).
 *
 * The schema's CHECK constraints bound every number; this adds what SQL
 * cannot say: the path must be a request path a server can be asked for,
 * the Host a plausible host name, and the timeout shorter than the
 * interval (checks of one server never overlap).
 */
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "cfg.h"
#include "store.h"

static bool
hc_path_ok(const char *p)
{
	const unsigned char *s = (const unsigned char *)p;

	if (*s != '/')
		return false;
	for (; *s != '\0'; s++)
		if (*s <= 0x20 || *s >= 0x7f)
			return false;
	return strlen(p) <= 1024;
}

static bool
hc_host_ok(const char *h)
{
	const unsigned char *s = (const unsigned char *)h;

	if (*s == '\0' || strlen(h) > 255)
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		        (*s >= '0' && *s <= '9') || *s == '-' || *s == '.' ||
		        *s == ':' || *s == '[' || *s == ']'))
			return false;
	return true;
}

int
cfg_compile_health(struct store *st, struct cfg *c, struct err *e)
{
	struct store_stmt *s;
	enum store_step_result r;
	struct cfg_origin *o;
	struct cfg_health *h;
	char field[160];
	size_t i;
	int rc = 0;

	s = store_prepare(st,
	    "SELECT id, hc_path, hc_host, hc_interval_ms, hc_timeout_ms,"
	    " hc_rise, hc_fall, hc_status_min, hc_status_max FROM origins"
	    " WHERE hc_path IS NOT NULL",
	    e);
	if (s == NULL)
		return -1;
	while (rc == 0 && (r = store_step(s, e)) == STORE_ROW) {
		o = NULL;
		for (i = 0; i < c->norigins; i++)
			if (c->origins[i].id == store_col_int64(s, 0))
				o = &c->origins[i];
		if (o == NULL) {
			rc = err_set(e, "", "origins changed while compiling");
			break;
		}
		h = &o->health;
		snprintf(field, sizeof(field), "origins[%s].health_check.path",
		    o->name);
		if (!hc_path_ok(store_col_text(s, 1))) {
			rc = err_set(e, field, "\"%s\" is not a request path",
			    store_col_text(s, 1));
			break;
		}
		h->path = arena_strdup(c->arena, store_col_text(s, 1));
		if (!store_col_is_null(s, 2) &&
		    store_col_text(s, 2)[0] != '\0') {
			snprintf(field, sizeof(field),
			    "origins[%s].health_check.host", o->name);
			if (!hc_host_ok(store_col_text(s, 2))) {
				rc = err_set(e, field,
				    "\"%s\" is not a host name",
				    store_col_text(s, 2));
				break;
			}
			h->host = arena_strdup(c->arena, store_col_text(s, 2));
			if (h->host == NULL)
				h->path = NULL;
		}
		if (h->path == NULL) {
			rc = err_set(e, "",
			    "out of memory while compiling the configuration");
			break;
		}
		h->interval_ms = (unsigned)store_col_int64(s, 3);
		h->timeout_ms = (unsigned)store_col_int64(s, 4);
		h->rise = (unsigned)store_col_int64(s, 5);
		h->fall = (unsigned)store_col_int64(s, 6);
		h->status_min = (unsigned)store_col_int64(s, 7);
		h->status_max = (unsigned)store_col_int64(s, 8);
		if (h->timeout_ms >= h->interval_ms) {
			snprintf(field, sizeof(field),
			    "origins[%s].health_check.timeout_ms", o->name);
			rc = err_set(e, field,
			    "%u must be shorter than interval_ms (%u)",
			    h->timeout_ms, h->interval_ms);
			break;
		}
		h->enabled = true;
	}
	if (rc == 0 && r != STORE_DONE)
		rc = -1;
	store_finalize(s);
	return rc;
}
