/*
 * api_servers.c: PATCH /api/v1/origins/{id}/servers/{sid}.
 *
 * One server of an origin (its state, weight, limits) changed by a merge
 * patch, as an ordinary change of the origin: the same checks, a
 * revision, a compile, the whole origin as the answer. {sid} is the
 * server's id or its "address:port" ("[::1]:8080" for IPv6).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "json.h"
#include "store.h"

#define SRV_PREFIX "/api/v1/origins/"

static void
srv_problem(struct api_req *r, unsigned status, const char *field,
    const char *msg)
{
	struct err e;

	err_set(&e, field, "%s", msg);
	api_reply_problem(r, status,
	    status == 404 ? msg : "the request body is not valid",
	    status == 404 ? NULL : &e);
}

/* Does server <sv> answer to <sid> (its id or "address:port")? */
static bool
srv_is(const struct json *sv, const char *sid)
{
	const char *addr = json_str(json_get(sv, "address"));
	char label[128], *end;
	long long id;

	id = strtoll(sid, &end, 10);
	if (*sid != '\0' && *end == '\0')
		return json_int(json_get(sv, "id")) == id;
	if (addr == NULL)
		return false;
	snprintf(label, sizeof(label),
	    strchr(addr, ':') != NULL ? "[%s]:%" PRId64 : "%s:%" PRId64, addr,
	    json_int(json_get(sv, "port")));
	return strcmp(label, sid) == 0;
}

void
res_server_patch(struct api_req *r)
{
	char origin[128], msg[200], summary[200];
	const char *p = r->path + strlen(SRV_PREFIX), *slash;
	struct json *old = NULL, *body = NULL, *item = NULL, *sv, *merged;
	struct json *servers;
	size_t i, n;
	struct err e;

	if (strncmp(r->path, SRV_PREFIX, strlen(SRV_PREFIX)) != 0 ||
	    (slash = strchr(p, '/')) == NULL ||
	    (size_t)(slash - p) >= sizeof(origin)) {
		api_reply_problem(r, 404, "no such origin", NULL);
		return;
	}
	memcpy(origin, p, (size_t)(slash - p));
	origin[slash - p] = '\0';
	err_clear(&e);
	old = conf_load_item(api_store(), CONF_ORIGINS, origin, &e);
	if (old == NULL) {
		if (e.msg[0] != '\0') {
			api_reply_problem(r, 500, e.msg, NULL);
		} else {
			snprintf(msg, sizeof(msg), "no origin \"%.100s\"",
			    origin);
			api_reply_problem(r, 404, msg, NULL);
		}
		return;
	}
	servers = json_get(old, "servers");
	n = json_len(servers);
	for (i = 0; i < n; i++)
		if (srv_is(json_at(servers, i), r->param))
			break;
	if (i == n) {
		snprintf(msg, sizeof(msg),
		    "origin \"%.60s\" has no server \"%.60s\"", origin,
		    r->param);
		api_reply_problem(r, 404, msg, NULL);
		goto out;
	}
	if ((body = api_req_json(r)) == NULL)
		goto out;
	if (!json_is_obj(body)) {
		srv_problem(r, 422, "", "a merge patch must be an object");
		goto out;
	}
	sv = json_at(servers, i);
	if (json_get(body, "id") != NULL &&
	    !json_same(json_get(body, "id"), json_get(sv, "id"))) {
		srv_problem(r, 422, "id", "cannot be changed");
		goto out;
	}
	if ((item = json_clone(old)) == NULL ||
	    (merged = json_merge_patch(sv, body)) == NULL ||
	    json_replace_at(json_get(item, "servers"), i, merged) != 0) {
		api_reply_problem(r, 503, "out of memory", NULL);
		goto out;
	}
	snprintf(summary, sizeof(summary), "update origins/%s server %s",
	    json_str(json_get(old, "name")), r->param);
	apply_item(r, CONF_ORIGINS, old, item, summary, 200);
out:
	json_unref(item);
	json_unref(body);
	json_unref(old);
}
