/*
 * api_res.c: /listeners, /origins, /routes and /config.
 *
 * Each handler reads the current document, builds the document the
 * request asks for (an item added, replaced, merged or removed; a whole
 * new document; a JSON Patch applied) and hands it to apply_doc(), so
 * item writes and whole-config writes share one validation and one
 * transaction path. Item errors name fields relative to the item
 * ("servers[2].port"); document errors relative to the document
 * ("origins[0].servers[2].port").
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "api_int.h"
#include "json.h"
#include "store.h"

static const char *const kind_one[CONF__KINDS] = { "listener", "origin",
	"route" };

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
	api_reply_json(r, 200,
	    json_ref(json_get(doc, conf_kind_names[r->arg])));
	json_unref(doc);
}

static struct json *
find_or_404(struct api_req *r, struct json *doc, size_t *idx)
{
	struct json *it = conf_find(doc, (enum conf_kind)r->arg, r->param, idx);
	char detail[160];

	if (it == NULL) {
		snprintf(detail, sizeof(detail), "no %s \"%.100s\"",
		    kind_one[r->arg], r->param);
		api_reply_problem(r, 404, detail, NULL);
	}
	return it;
}

void
res_get(struct api_req *r)
{
	struct json *doc = doc_load(r), *it;

	if (doc == NULL)
		return;
	if ((it = find_or_404(r, doc, NULL)) != NULL)
		api_reply_json(r, 200, json_ref(it));
	json_unref(doc);
}

/* Checks <item> as the new value of an item of kind r->arg; <self> is
 * the index it replaces (or SIZE_MAX). Replies and returns -1 on error.
 */
static int
item_check(struct api_req *r, const struct json *doc, const struct json *item,
    size_t self)
{
	enum conf_kind k = (enum conf_kind)r->arg;
	const char *name, *ref;
	char detail[200];
	struct err e;
	size_t idx;

	err_clear(&e);
	if (conf_check_item(k, item, "", &e) != 0) {
		api_reply_problem(r, 422, "the request body is not valid", &e);
		return -1;
	}
	name = json_str(json_get(item, "name"));
	if (conf_find(doc, k, name, &idx) != NULL && idx != self) {
		snprintf(detail, sizeof(detail),
		    "a %s named \"%s\" already exists", kind_one[k], name);
		err_set(&e, "name", "\"%s\" is already used", name);
		api_reply_problem(r, 409, detail, &e);
		return -1;
	}
	if (k != CONF_ROUTES)
		return 0;
	ref = json_str(json_get(item, "listener"));
	if (strspn(ref, "0123456789") == strlen(ref) ||
	    conf_find(doc, CONF_LISTENERS, ref, NULL) == NULL) {
		err_set(&e, "listener", "no listener named \"%.64s\"", ref);
		api_reply_problem(r, 422, "the request body is not valid", &e);
		return -1;
	}
	ref = json_str(json_get(item, "origin"));
	if (strspn(ref, "0123456789") == strlen(ref) ||
	    conf_find(doc, CONF_ORIGINS, ref, NULL) == NULL) {
		err_set(&e, "origin", "no origin named \"%.64s\"", ref);
		api_reply_problem(r, 422, "the request body is not valid", &e);
		return -1;
	}
	return 0;
}

void
res_create(struct api_req *r)
{
	struct json *doc = NULL, *body, *nd = NULL;
	char summary[160];
	struct err e;

	if ((body = api_req_json(r)) == NULL)
		return;
	if (json_is_obj(body) && json_get(body, "id") != NULL) {
		err_set(&e, "id", "is assigned by the server");
		api_reply_problem(r, 422, "the request body is not valid", &e);
		goto out;
	}
	if ((doc = doc_load(r)) == NULL || item_check(r, doc, body, SIZE_MAX))
		goto out;
	nd = json_clone(doc);
	json_append(json_get(nd, conf_kind_names[r->arg]), json_ref(body));
	snprintf(summary, sizeof(summary), "create %s/%s",
	    conf_kind_names[r->arg], json_str(json_get(body, "name")));
	apply_doc(r, nd, summary, r->arg, json_str(json_get(body, "name")),
	    201);
out:
	json_unref(nd);
	json_unref(doc);
	json_unref(body);
}

/* A renamed listener or origin: its routes follow the new name. */
static void
rename_refs(struct json *doc, enum conf_kind k, const char *from,
    const char *to)
{
	struct json *routes = json_get(doc, "routes"), *rt;
	const char *key = k == CONF_LISTENERS ? "listener" : "origin";
	size_t i;

	if (k == CONF_ROUTES || strcmp(from, to) == 0)
		return;
	for (i = 0; i < json_len(routes); i++) {
		rt = json_at(routes, i);
		if (json_str(json_get(rt, key)) != NULL &&
		    strcmp(json_str(json_get(rt, key)), from) == 0)
			json_set(rt, key, json_new_str(to));
	}
}

/* PUT and PATCH: <item> (stolen) replaces the addressed item. */
static void
replace(struct api_req *r, struct json *doc, size_t idx, struct json *item,
    const char *verb)
{
	struct json *old = json_at(json_get(doc, conf_kind_names[r->arg]), idx);
	struct json *nd = NULL;
	char summary[200];
	struct err e;

	if (!json_is_obj(item)) {
		err_set(&e, "", "must be an object");
		api_reply_problem(r, 422, "the request body is not valid", &e);
		goto out;
	}
	if (json_get(item, "id") != NULL &&
	    !json_same(json_get(item, "id"), json_get(old, "id"))) {
		err_set(&e, "id", "cannot be changed");
		api_reply_problem(r, 422, "the request body is not valid", &e);
		goto out;
	}
	if (item_check(r, doc, item, idx) != 0)
		goto out;
	json_set(item, "id", json_ref(json_get(old, "id")));
	nd = json_clone(doc);
	rename_refs(nd, (enum conf_kind)r->arg, json_str(json_get(old, "name")),
	    json_str(json_get(item, "name")));
	json_replace_at(json_get(nd, conf_kind_names[r->arg]), idx,
	    json_ref(item));
	snprintf(summary, sizeof(summary), "%s %s/%s", verb,
	    conf_kind_names[r->arg], json_str(json_get(item, "name")));
	apply_doc(r, nd, summary, r->arg, json_str(json_get(item, "name")),
	    200);
out:
	json_unref(nd);
	json_unref(item);
}

void
res_put(struct api_req *r)
{
	struct json *doc, *body;
	size_t idx;

	if ((doc = doc_load(r)) == NULL)
		return;
	if (find_or_404(r, doc, &idx) != NULL &&
	    (body = api_req_json(r)) != NULL)
		replace(r, doc, idx, body, "replace");
	json_unref(doc);
}

void
res_patch(struct api_req *r)
{
	struct json *doc, *body, *it, *merged;
	struct err e;
	size_t idx;

	if ((doc = doc_load(r)) == NULL)
		return;
	if ((it = find_or_404(r, doc, &idx)) == NULL ||
	    (body = api_req_json(r)) == NULL) {
		json_unref(doc);
		return;
	}
	if (!json_is_obj(body)) {
		err_set(&e, "", "a merge patch must be an object");
		api_reply_problem(r, 422, "the request body is not valid", &e);
	} else {
		merged = json_merge_patch(it, body);
		replace(r, doc, idx, merged, "update");
	}
	json_unref(body);
	json_unref(doc);
}

void
res_delete(struct api_req *r)
{
	struct json *doc, *it, *nd;
	char refs[512], detail[700], summary[160];
	struct err e;
	size_t idx;

	if ((doc = doc_load(r)) == NULL)
		return;
	if ((it = find_or_404(r, doc, &idx)) == NULL) {
		json_unref(doc);
		return;
	}
	conf_referrers(doc, (enum conf_kind)r->arg,
	    json_str(json_get(it, "name")), refs, sizeof(refs));
	if (refs[0] != '\0') {
		snprintf(detail, sizeof(detail), "%s \"%s\" is used by %s",
		    kind_one[r->arg], json_str(json_get(it, "name")), refs);
		err_set(&e, "", "referenced by %s", refs);
		api_reply_problem(r, 409, detail, &e);
		json_unref(doc);
		return;
	}
	snprintf(summary, sizeof(summary), "delete %s/%s",
	    conf_kind_names[r->arg], json_str(json_get(it, "name")));
	nd = json_clone(doc);
	json_remove_at(json_get(nd, conf_kind_names[r->arg]), idx);
	apply_doc(r, nd, summary, -1, NULL, 204);
	json_unref(nd);
	json_unref(doc);
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

/* The document a PATCH body (JSON Patch) makes of the current one. */
static struct json *
patched(struct api_req *r, const struct json *body)
{
	struct json *doc, *nd;
	struct err e;

	if ((doc = doc_load(r)) == NULL)
		return NULL;
	err_clear(&e);
	if ((nd = json_patch(doc, body, &e)) == NULL)
		api_reply_problem(r, 422, "the JSON Patch does not apply", &e);
	json_unref(doc);
	return nd;
}

void
res_config_patch(struct api_req *r)
{
	struct json *body, *nd;
	char summary[96];

	if ((body = api_req_json(r)) == NULL)
		return;
	if ((nd = patched(r, body)) != NULL) {
		snprintf(summary, sizeof(summary),
		    "patch the configuration (%zu operations)", json_len(body));
		apply_doc(r, nd, summary, -1, NULL, 200);
		json_unref(nd);
	}
	json_unref(body);
}

void
res_config_validate(struct api_req *r)
{
	struct json *body, *nd;

	if ((body = api_req_json(r)) == NULL)
		return;
	nd = json_is_arr(body) ? patched(r, body) : json_ref(body);
	if (nd != NULL)
		apply_validate(r, nd);
	json_unref(nd);
	json_unref(body);
}
