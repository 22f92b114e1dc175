/*
 * api_compress.c: GET, PUT /api/v1/settings/compression, the daemon's
 * compression setting (daemon/compress_settings.c):
 *
 *   {"worker_budget_bytes": 67108864}
 *
 * the compressor memory one worker may hold at once (1 MiB to 16 GiB,
 * default 64 MiB), counted by the codecs' reserves at the routes' levels.
 * A PUT (admin only) stores it and the workers use it from their next
 * response; a response that would go over it is sent as it is (stat
 * compress_over_budget). It records no revision.
 */
#include <stdio.h>

#include "api_int.h"
#include "compress.h"
#include "json.h"
#include "log.h"
#include "store.h"

static struct json *
settings_json(int64_t budget)
{
	struct json *o = json_new_obj();

	json_set(o, "worker_budget_bytes", json_new_int(budget));
	return o;
}

void
compress_settings_ep_get(struct api_req *r)
{
	int64_t budget;
	struct err e;

	err_clear(&e);
	if (compress_settings_get(api_store(), &budget, &e) != 0) {
		api_reply_problem(r, 500, e.msg, NULL);
		return;
	}
	api_reply_json(r, 200, settings_json(budget));
}

/* {"worker_budget_bytes": N}; left out, it keeps its value. */
void
compress_settings_ep_put(struct api_req *r)
{
	static const char *const keys[] = { "worker_budget_bytes", NULL };
	struct store *st = api_store();
	struct json *body;
	int64_t budget;
	struct err e;

	err_clear(&e);
	if ((body = api_req_json(r)) == NULL)
		return;
	if (compress_settings_get(st, &budget, &e) != 0) {
		api_reply_problem(r, 500, e.msg, NULL);
	} else if (json_check_keys(body, "", keys, &e) != 0 ||
	    json_get_int(body, "", "worker_budget_bytes", COMPRESS_BUDGET_MIN,
	        COMPRESS_BUDGET_MAX, &budget, &e) < 0) {
		api_reply_problem(r, 422, "the settings are not valid", &e);
	} else if (compress_settings_set(st, budget, &e) != 0) {
		api_reply_problem(r, 503, e.msg, NULL);
	} else {
		log_info("admin api: %s from %s: compressor budget per worker "
		         "%lld bytes",
		    r->actor, r->client, (long long)budget);
		api_reply_json(r, 200, settings_json(budget));
	}
	json_unref(body);
}
