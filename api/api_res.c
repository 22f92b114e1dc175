/*
 * api_res.c: /listeners, /origins, /routes and /config.
 *
 * An item handler reads the one item it addresses (by name or id, through
 * the UNIQUE name index or the primary key), builds the item the request
 * asks for (new, replaced, merged) and hands it to apply_item(), whose
 * cost grows with the item, not with the configuration. Document
 * handlers build the whole new document (given, or a JSON Patch applied)
 * and hand it to apply_doc(). Item errors name fields relative to the
 * item ("servers[2].port"); document errors relative to the document
 * ("origins[0].servers[2].port").
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "acme.h"
#include "api_int.h"
#include "json.h"
#include "store.h"

static const char *const kind_one[CONF__KINDS] = { "listener", "origin",
	"access list", "rate limit", "error pages", "route" };

static struct json *
doc_load(struct api_req *r)
{
	struct json *doc;
	struct err e;

	err_clear(&e);
	if ((doc = conf_load(api_store(), &e)) == NULL)
		api_reply_problem(r, 500, e.msg, NULL);
	return doc;
}

void
res_list(struct api_req *r)
{
	struct json *doc = doc_load(r);

	if (doc == NULL)
		return;
	api_list_reply(r, conf_kind_names[r->arg], /* api_list.c */
	    json_ref(json_get(doc, conf_kind_names[r->arg])));
	json_unref(doc);
}

/* The item addressed by r->param, or NULL after replying 404 (or 500). */
static struct json *
item_or_404(struct api_req *r)
{
	struct json *it;
	char detail[160];
	struct err e;

	err_clear(&e);
	it = conf_load_item(api_store(), (enum conf_kind)r->arg, r->param, &e);
	if (it == NULL && e.msg[0] != '\0') {
		api_reply_problem(r, 500, e.msg, NULL);
	} else if (it == NULL) {
		snprintf(detail, sizeof(detail), "no %s \"%.100s\"",
		    kind_one[r->arg], r->param);
		api_reply_problem(r, 404, detail, NULL);
	}
	return it;
}

void
res_get(struct api_req *r)
{
	struct json *it;

	if ((it = item_or_404(r)) != NULL)
		api_reply_json(r, 200, it);
}

static void
reply_invalid(struct api_req *r, const char *field, const char *msg)
{
	struct err e;

	err_set(&e, field, "%s", msg);
	api_reply_problem(r, 422, "the request body is not valid", &e);
}

void
res_create(struct api_req *r)
{
	struct json *body;
	char summary[160];

	if ((body = api_req_json(r)) == NULL)
		return;
	if (json_is_obj(body) && json_get(body, "id") != NULL) {
		reply_invalid(r, "id", "is assigned by the server");
	} else {
		snprintf(summary, sizeof(summary), "create %s/%s",
		    conf_kind_names[r->arg],
		    json_is_obj(body) && json_str(json_get(body, "name"))
		        ? json_str(json_get(body, "name"))
		        : "");
		apply_item(r, (enum conf_kind)r->arg, NULL, body, summary, 201);
	}
	json_unref(body);
}

/* PUT and PATCH: <item> replaces <old>. */
static void
replace(struct api_req *r, const struct json *old, struct json *item,
    const char *verb)
{
	char summary[200];

	if (!json_is_obj(item)) {
		reply_invalid(r, "", "must be an object");
		return;
	}
	if (json_get(item, "id") != NULL &&
	    !json_same(json_get(item, "id"), json_get(old, "id"))) {
		reply_invalid(r, "id", "cannot be changed");
		return;
	}
	json_set(item, "id", json_ref(json_get(old, "id")));
	snprintf(summary, sizeof(summary), "%s %s/%s", verb,
	    conf_kind_names[r->arg],
	    json_str(json_get(item, "name")) != NULL
	        ? json_str(json_get(item, "name"))
	        : "");
	apply_item(r, (enum conf_kind)r->arg, old, item, summary, 200);
}

void
res_put(struct api_req *r)
{
	struct json *old, *body;

	if ((old = item_or_404(r)) == NULL)
		return;
	if ((body = api_req_json(r)) != NULL)
		replace(r, old, body, "replace");
	json_unref(body);
	json_unref(old);
}

void
res_patch(struct api_req *r)
{
	struct json *old, *body, *merged;

	if ((old = item_or_404(r)) == NULL)
		return;
	if ((body = api_req_json(r)) == NULL) {
		json_unref(old);
		return;
	}
	if (!json_is_obj(body)) {
		reply_invalid(r, "", "a merge patch must be an object");
	} else {
		merged = json_merge_patch(old, body);
		conf_merge_refs((enum conf_kind)r->arg, body, merged);
		replace(r, old, merged, "update");
		json_unref(merged);
	}
	json_unref(body);
	json_unref(old);
}

void
res_delete(struct api_req *r)
{
	struct json *old;
	char summary[160];

	if ((old = item_or_404(r)) == NULL)
		return;
	snprintf(summary, sizeof(summary), "delete %s/%s",
	    conf_kind_names[r->arg], json_str(json_get(old, "name")));
	apply_item(r, (enum conf_kind)r->arg, old, NULL, summary, 204);
	json_unref(old);
}

void
res_config_get(struct api_req *r)
{
	struct json *doc = doc_load(r);
	char etag[32], rev[24];
	int64_t n;

	if (doc == NULL)
		return;
	n = store_revision(api_store());
	snprintf(etag, sizeof(etag), "\"%" PRId64 "\"", n);
	snprintf(rev, sizeof(rev), "%" PRId64, n);
	api_add_header(r, "ETag", etag);
	api_add_header(r, "X-Config-Revision", rev);
	api_reply_json(r, 200, doc);
}

void
res_config_put(struct api_req *r)
{
	struct json *body;

	if ((body = api_req_json(r)) == NULL)
		return;
	apply_doc(r, body, "replace the configuration", -1, NULL, 200);
	json_unref(body);
}

/* The document a PATCH body (JSON Patch) makes of the current one, and
 * the certificates it adds (api_config_certs.c): NULL after answering.
 */
static struct json *
patched(struct api_req *r, const struct json *body, struct config_certs **cc)
{
	struct json *doc, *nd;
	struct err e;

	*cc = NULL;
	if ((doc = doc_load(r)) == NULL)
		return NULL;
	config_certs_prepare(doc);
	err_clear(&e);
	if ((nd = json_patch(doc, body, &e)) == NULL)
		api_reply_problem(r, 422, "the JSON Patch does not apply", &e);
	json_unref(doc);
	if (nd != NULL && config_certs_take(r, nd, cc) != 0) {
		json_unref(nd);
		return NULL;
	}
	return nd;
}

void
res_config_patch(struct api_req *r)
{
	struct config_certs *cc = NULL;
	struct apply_pre pre;
	struct json *body, *nd;
	char summary[256];

	if ((body = api_req_json(r)) == NULL)
		return;
	if ((nd = patched(r, body, &cc)) != NULL) {
		snprintf(summary, sizeof(summary),
		    "patch the configuration (%zu operations)", json_len(body));
		if (config_certs_count(cc) > 0) {
			config_certs_pre(cc, &pre, summary, sizeof(summary));
			apply_doc_pre(r, nd, &pre, summary);
			json_unref(pre.changes);
			/* An ACME certificate's order may start now. */
			if (r->status == 200 && config_certs_acme(cc))
				acme_kick();
		} else {
			apply_doc(r, nd, summary, -1, NULL, 200);
		}
		json_unref(nd);
	}
	config_certs_free(cc);
	json_unref(body);
}

void
res_config_validate(struct api_req *r)
{
	struct config_certs *cc = NULL;
	struct apply_pre pre;
	struct json *body, *nd;
	char summary[256] = "validate";

	if ((body = api_req_json(r)) == NULL)
		return;
	nd = json_is_arr(body) ? patched(r, body, &cc) : json_ref(body);
	if (nd != NULL && config_certs_count(cc) > 0) {
		config_certs_pre(cc, &pre, summary, sizeof(summary));
		apply_validate_pre(r, nd, &pre);
		json_unref(pre.changes);
	} else if (nd != NULL) {
		apply_validate(r, nd);
	}
	config_certs_free(cc);
	json_unref(nd);
	json_unref(body);
}
