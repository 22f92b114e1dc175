/*
 * compress_settings.c: the daemon's compression setting, the compressor
 * memory one worker may hold at once (compress.h,
 * compress_set_worker_budget()), kept in the one row of
 * compress_settings (schema/0040_compress_settings.sql).
 *
 * main.c loads it before the workers serve; the API's PUT
 * /settings/compression (api/api_compress.c) stores a new value and sets
 * it, and every worker uses it from its next decision. It is not part of
 * the configuration document, so changing it records no revision.
 */
#include <stdio.h>

#include "compress.h"
#include "err.h"
#include "store.h"

int
compress_settings_get(struct store *st, int64_t *budget, struct err *e)
{
	struct store_stmt *s;
	enum store_step_result rc;

	s = store_prepare(st,
	    "SELECT worker_budget_bytes FROM compress_settings WHERE id = 1",
	    e);
	if (s == NULL)
		return -1;
	*budget = COMPRESS_WORKER_BUDGET;
	rc = store_step(s, e);
	if (rc == STORE_ROW)
		*budget = store_col_int64(s, 0);
	store_finalize(s);
	return rc == STORE_ROW || rc == STORE_DONE ? 0 : -1;
}

int
compress_settings_set(struct store *st, int64_t budget, struct err *e)
{
	struct store_stmt *s;
	enum store_step_result rc;

	if (budget < COMPRESS_BUDGET_MIN || budget > COMPRESS_BUDGET_MAX)
		return err_set(e, "worker_budget_bytes", "must be %lld to %lld",
		    (long long)COMPRESS_BUDGET_MIN,
		    (long long)COMPRESS_BUDGET_MAX);
	s = store_prepare(st,
	    "INSERT INTO compress_settings (id, worker_budget_bytes)"
	    " VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET"
	    " worker_budget_bytes = excluded.worker_budget_bytes",
	    e);
	if (s == NULL)
		return -1;
	store_bind_int64(s, 1, budget);
	rc = store_step(s, e);
	store_finalize(s);
	if (rc != STORE_DONE)
		return -1;
	compress_set_worker_budget((size_t)budget);
	return 0;
}

int
compress_settings_load(struct store *st, struct err *e)
{
	int64_t budget;

	if (compress_settings_get(st, &budget, e) != 0)
		return -1;
	compress_set_worker_budget((size_t)budget);
	return 0;
}
