/*
 * api_schema.c: the OpenAPI schemas of the configuration kinds, made from
 * their field tables (daemon/cfg_field.c).
 *
 * api/openapi.json holds everything but the schemas of the kinds in the
 * tables (Listener, Origin, Server, Route, the policies, User, Token);
 * GET /api/v1/openapi.json serves it with those schemas generated here (types,
 * ranges, enums, defaults, patterns, required fields, descriptions), built once
 * and kept. The web UI reads its defaults, ranges and enums from there.
 */
#include <stdio.h>
#include <string.h>

#include "api_int.h"
#include "cfg_field.h"
#include "json.h"

extern const char api_openapi_json[];

static struct json *schema_obj(const struct cf_kind *k, int parent);

static struct json *
str_list(const char *const *v)
{
	struct json *a = json_new_arr();

	for (; *v != NULL; v++)
		json_append(a, json_new_str(*v));
	return a;
}

/* The schema of a string of value type <vtype> or one of <enums>. */
static struct json *
schema_string(const struct cf_field *f)
{
	struct json *s = json_new_obj();

	json_set(s, "type", json_new_str("string"));
	if (f->enums != NULL)
		json_set(s, "enum", str_list(f->enums));
	if (f->enums == NULL && cv_pattern(f->vtype) != NULL)
		json_set(s, "pattern", json_new_str(cv_pattern(f->vtype)));
	if (f->type == F_STR && f->max > 0)
		json_set(s, "maxLength", json_new_int(f->max));
	return s;
}

static struct json *
schema_field(const struct cf_kind *k, int i)
{
	const struct cf_field *f = &k->f[i];
	struct json *s, *items;
	char doc[256];

	switch (f->type) {
	case F_OBJ:
		s = schema_obj(k, i);
		if ((f->flags & F_NULLABLE) != 0)
			json_set(s, "type",
			    str_list((const char *const[]){ "object", "null",
			        NULL }));
		break;
	case F_CHILDREN:
		s = json_new_obj();
		items = json_new_obj();
		snprintf(doc, sizeof(doc), "#/components/schemas/%s",
		    cf_kinds[f->ref].schema);
		json_set(items, "$ref", json_new_str(doc));
		json_set(s, "type", json_new_str("array"));
		json_set(s, "items", items);
		json_set(s, "minItems", json_new_int(f->min));
		json_set(s, "maxItems", json_new_int(f->max));
		break;
	case F_MAP:
		s = json_new_obj();
		json_set(s, "type", json_new_str("object"));
		items = schema_string(f);
		json_set(items, "maxLength",
		    json_new_int(f->min > 0 ? f->min : CF_MAP_VALUE_MAX));
		json_set(s, "additionalProperties", items);
		items = json_new_obj();
		json_set(items, "pattern", json_new_str(cv_pattern(f->ktype)));
		json_set(s, "propertyNames", items);
		json_set(s, "maxProperties", json_new_int(f->max));
		break;
	case F_LIST:
		s = json_new_obj();
		json_set(s, "type", json_new_str("array"));
		if ((f->flags & F_INTS) != 0) {
			items = json_new_obj();
			json_set(items, "type", json_new_str("integer"));
			json_set(items, "minimum", json_new_int(100));
			json_set(items, "maximum", json_new_int(599));
			json_set(s, "items", items);
		} else {
			json_set(s, "items", schema_string(f));
		}
		json_set(s, "uniqueItems", json_new_bool(true));
		json_set(s, "maxItems", json_new_int(f->max));
		break;
	case F_REFS:
		s = json_new_obj();
		items = json_new_obj();
		json_set(items, "type", json_new_str("string"));
		snprintf(doc, sizeof(doc), "name of a %s",
		    cf_kinds[f->ref].one);
		json_set(items, "description", json_new_str(doc));
		json_set(s, "type", json_new_str("array"));
		json_set(s, "items", items);
		json_set(s, "uniqueItems", json_new_bool(true));
		json_set(s, "minItems", json_new_int(f->min));
		json_set(s, "maxItems", json_new_int(f->max));
		break;
	case F_ID:
	case F_INT:
		s = json_new_obj();
		json_set(s, "type", json_new_str("integer"));
		json_set(s, "minimum", json_new_int(f->min));
		json_set(s, "maximum", json_new_int(f->max));
		if (f->type == F_ID || (f->flags & F_READONLY) != 0)
			json_set(s, "readOnly", json_new_bool(true));
		else if ((f->flags & (F_REQUIRED | F_WRITEONLY)) == 0 &&
		    f->def >= f->min) /* none outside the range */
			json_set(s, "default", json_new_int(f->def));
		if ((f->flags & F_WRITEONLY) != 0)
			json_set(s, "writeOnly", json_new_bool(true));
		break;
	case F_BOOL:
		s = json_new_obj();
		json_set(s, "type", json_new_str("boolean"));
		json_set(s, "default", json_new_bool(f->def != 0));
		break;
	case F_REF:
		s = json_new_obj();
		json_set(s, "type", json_new_str("string"));
		snprintf(doc, sizeof(doc), "name of a %s%s%s",
		    cf_kinds[f->ref].one, f->doc != NULL ? "; " : "",
		    f->doc != NULL ? f->doc : "");
		json_set(s, "description", json_new_str(doc));
		if ((f->flags & F_READONLY) != 0) /* a token's owner */
			json_set(s, "readOnly", json_new_bool(true));
		return s;
	default:
		s = schema_string(f);
		if (f->def_str != NULL)
			json_set(s, "default", json_new_str(f->def_str));
		if ((f->flags & F_WRITEONLY) != 0)
			json_set(s, "writeOnly", json_new_bool(true));
		if ((f->flags & F_READONLY) != 0)
			json_set(s, "readOnly", json_new_bool(true));
		if (f->doc == NULL && f->enums == NULL) {
			snprintf(doc, sizeof(doc), "%s", cv_describe(f->vtype));
			json_set(s, "description", json_new_str(doc));
		}
	}
	if (f->doc != NULL)
		json_set(s, "description", json_new_str(f->doc));
	return s;
}

/* The object of the fields of <k> under <parent> (-1: the kind). */
static struct json *
schema_obj(const struct cf_kind *k, int parent)
{
	struct json *s = json_new_obj(), *props = json_new_obj();
	struct json *req = json_new_arr();
	size_t i;

	json_set(s, "type", json_new_str("object"));
	json_set(s, "additionalProperties", json_new_bool(false));
	for (i = 0; i < k->n; i++) {
		if (k->f[i].parent != parent)
			continue;
		json_set(props, k->f[i].key, schema_field(k, (int)i));
		if ((k->f[i].flags & F_REQUIRED) != 0)
			json_append(req, json_new_str(k->f[i].key));
	}
	if (json_len(req) > 0)
		json_set(s, "required", req);
	else
		json_unref(req);
	json_set(s, "properties", props);
	return s;
}

struct json *
schema_kind(int kind)
{
	return schema_obj(&cf_kinds[kind], -1);
}

/* The served document: api/openapi.json with the kinds' schemas. */
static char *
schema_document(size_t *len)
{
	struct json *doc, *schemas;
	char *out = NULL;
	int k;

	doc = json_parse(api_openapi_json, strlen(api_openapi_json), NULL);
	schemas = json_get(json_get(doc, "components"), "schemas");
	if (schemas == NULL) {
		json_unref(doc);
		return NULL;
	}
	for (k = 0; k < CK__KINDS; k++)
		if (cf_kinds[k].api_writable || cf_kinds[k].schema_gen)
			json_set(schemas, cf_kinds[k].schema, schema_kind(k));
	out = json_dump(doc, len);
	json_unref(doc);
	return out;
}

void
sys_openapi(struct api_req *r)
{
	static char *doc;
	static size_t len;

	if (doc == NULL && (doc = schema_document(&len)) == NULL) {
		api_reply_problem(r, 500, "the OpenAPI document does not build",
		    NULL);
		return;
	}
	api_reply_raw(r, 200, "application/json", doc, len);
}
