/*
 * cfg_compress.c: the compile of a route's "compress" field (cfg.h struct
 * cfg_compress; compress.h acts on it).
 *
 * The object is there when its types column is not NULL. Each pattern is
 * checked again (cv_check(CV_MEDIA_RANGE)), lower-cased, and a whole
 * type ("text/" and a star) is kept as "text/", so that compress.c
 * matches it with one prefix comparison. An empty list compresses nothing: no
 * struct at all. The codings offered (NULL or empty: both), gzip's level
 * and brotli's quality (NULL: their defaults) are checked again too.
 * Errors name the route and field: "routes[app].compress.types[1]",
 * "routes[app].compress.gzip_level".
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "cfg.h"
#include "cfg_field.h"
#include "cfg_value.h"
#include "compress.h"
#include "err.h"
#include "store.h"

/* Column <f> of route row <s>: its default when NULL; -1 with <e> when
 * out of its range.
 */
static int
cz_int(struct store_stmt *s, int f, const char *route, int *out, struct err *e)
{
	const struct cf_field *d = &cf_kinds[CK_ROUTE].f[f];
	char path[sizeof(e->field)];
	int64_t v;

	v = store_col_is_null(s, f) ? d->def : store_col_int64(s, f);
	if (v < d->min || v > d->max) {
		snprintf(path, sizeof(path), "routes[%s].compress.%s", route,
		    d->key);
		return err_set(e, path, "must be %lld to %lld",
		    (long long)d->min, (long long)d->max);
	}
	*out = (int)v;
	return 0;
}

/* The codings offered, from the JSON array of route row <s>. */
static int
cz_offer(struct store *st, struct store_stmt *s, const char *route,
    unsigned *offer, struct err *e)
{
	const struct cf_field *f = &cf_kinds[CK_ROUTE].f[RF_COMPRESS_CODINGS];
	char path[sizeof(e->field)];
	struct store_stmt *q;
	enum store_step_result rc;
	int i;

	*offer = 0;
	if (!store_col_is_null(s, RF_COMPRESS_CODINGS)) {
		if ((q = store_prepare(st, "SELECT value FROM json_each(?1)",
		         e)) == NULL)
			return -1;
		store_bind_text(q, 1, store_col_text(s, RF_COMPRESS_CODINGS));
		while ((rc = store_step(q, e)) == STORE_ROW) {
			if ((i = cf_enum_index(f, store_col_text(q, 0))) < 0) {
				store_finalize(q);
				snprintf(path, sizeof(path),
				    "routes[%s].compress.codings", route);
				return err_set(e, path,
				    "must list \"gzip\", \"br\" or both");
			}
			*offer |= CFG_COMPRESS_OFFER(COMPRESS_GZIP + i);
		}
		store_finalize(q);
		if (rc != STORE_DONE)
			return -1;
	}
	if (*offer == 0)
		*offer = CFG_COMPRESS_OFFER(COMPRESS_GZIP) |
		    CFG_COMPRESS_OFFER(COMPRESS_BR);
	return 0;
}

int
cfg_compress_route(struct store *st, struct cfg *c, struct cfg_route *r,
    struct store_stmt *s, struct err *e)
{
	struct cfg_compress *cz;
	struct store_stmt *q;
	enum store_step_result rc;
	const char *json, *v;
	char msg[160], field[48], path[sizeof(e->field)];
	size_t cap, i;
	char *t;

	r->compress = NULL;
	if (store_col_is_null(s, RF_COMPRESS_TYPES))
		return 0;
	json = store_col_text(s, RF_COMPRESS_TYPES);
	if (json == NULL || strcmp(json, "[]") == 0)
		return 0;
	cap = (size_t)cf_kinds[CK_ROUTE].f[RF_COMPRESS_TYPES].max;
	if ((cz = arena_calloc(c->arena, 1, sizeof(*cz))) == NULL ||
	    (cz->types = arena_calloc(c->arena, cap, sizeof(*cz->types))) ==
	        NULL)
		return err_set(e, "", "out of memory");
	cz->min_bytes = store_col_is_null(s, RF_COMPRESS_MIN_BYTES)
	    ? (uint64_t)cf_kinds[CK_ROUTE].f[RF_COMPRESS_MIN_BYTES].def
	    : (uint64_t)store_col_int64(s, RF_COMPRESS_MIN_BYTES);
	if (cz_int(s, RF_COMPRESS_GZIP_LEVEL, r->name, &cz->gzip_level, e) !=
	        0 ||
	    cz_int(s, RF_COMPRESS_BR_LEVEL, r->name, &cz->br_level, e) != 0 ||
	    cz_offer(st, s, r->name, &cz->offer, e) != 0)
		return -1;
	if ((q = store_prepare(st, "SELECT value, type FROM json_each(?1)",
	         e)) == NULL)
		return -1;
	store_bind_text(q, 1, json);
	while ((rc = store_step(q, e)) == STORE_ROW) {
		v = store_col_text(q, 0);
		snprintf(field, sizeof(field), "types[%zu]", cz->ntypes);
		if (strcmp(store_col_text(q, 1), "text") != 0 ||
		    cz->ntypes == cap ||
		    cv_check(CV_MEDIA_RANGE, v, msg, sizeof(msg)) != 0) {
			store_finalize(q);
			snprintf(path, sizeof(path), "routes[%s].compress.%s",
			    r->name, field);
			return err_set(e, path, "is not a media type or range");
		}
		if ((t = arena_strdup(c->arena, v)) == NULL) {
			store_finalize(q);
			return err_set(e, "", "out of memory");
		}
		for (i = 0; t[i] != '\0'; i++)
			t[i] = (char)tolower((unsigned char)t[i]);
		if (i >= 2 && strcmp(t + i - 2, "/*") == 0)
			t[i - 1] = '\0'; /* the star goes */
		cz->types[cz->ntypes++] = t;
	}
	store_finalize(q);
	if (rc != STORE_DONE)
		return -1;
	if (cz->ntypes > 0)
		r->compress = cz;
	return 0;
}

int
cfg_compress_own(struct arena *a, struct cfg_route *r)
{
	struct cfg_compress *cz;
	size_t i;

	if (r->compress == NULL)
		return 0;
	if ((cz = arena_alloc(a, sizeof(*cz))) == NULL)
		return -1;
	*cz = *r->compress;
	if ((cz->types = arena_calloc(a, cz->ntypes, sizeof(*cz->types))) ==
	    NULL)
		return -1;
	for (i = 0; i < cz->ntypes; i++)
		if ((cz->types[i] = arena_strdup(a, r->compress->types[i])) ==
		    NULL)
			return -1;
	r->compress = cz;
	return 0;
}

void
cfg_compress_dump(FILE *f, const struct cfg_route *r)
{
	size_t i;

	if (r->compress == NULL)
		return;
	fprintf(f, " compress=%llu,offer=%u,gzip=%d,br=%d",
	    (unsigned long long)r->compress->min_bytes, r->compress->offer,
	    r->compress->gzip_level, r->compress->br_level);
	for (i = 0; i < r->compress->ntypes; i++)
		fprintf(f, ",%s", r->compress->types[i]);
}
