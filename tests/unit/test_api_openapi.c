/*
 * test_api_openapi.c: the OpenAPI document served at /api/v1/openapi.json
 * describes exactly the endpoints of the real dispatch table in api.c: same
 * paths (":x" there is "{x}" here), same methods, and the unauthenticated
 * ones are the ones marked "security": []. And the schemas of the
 * configuration kinds it serves say, field by field, what the field
 * tables (daemon/cfg_field.c) say: type, range, enum, default, required.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cmocka.h needs stdarg.h, stddef.h and setjmp.h first. */
#include <cmocka.h>

#include "api_int.h"
#include "cfg_field.h"
#include "json.h"

extern const char api_openapi_json[];

/* "/api/v1/routes/:id" -> "/api/v1/routes/{id}" */
static void
to_openapi(const char *pat, char *out, size_t len)
{
	size_t n = 0;

	while (*pat != '\0' && n + 3 < len) {
		if (*pat == ':') {
			out[n++] = '{';
			pat++;
			while (*pat != '\0' && *pat != '/' && n + 2 < len)
				out[n++] = *pat++;
			out[n++] = '}';
			continue;
		}
		out[n++] = *pat++;
	}
	out[n] = '\0';
}

static void
lower(const char *m, char *out)
{
	size_t i;

	for (i = 0; m[i] != '\0' && i < 15; i++)
		out[i] = (char)(m[i] | 0x20);
	out[i] = '\0';
}

static void
test_table_matches_document(void **state)
{
	struct json *doc, *paths, *ops, *op, *sec;
	const char *method, *pattern, *p, *m;
	char path[128], lm[16];
	size_t i, j, k, ndoc = 0;
	unsigned flags;
	struct err e;

	doc = json_parse(api_openapi_json, strlen(api_openapi_json), &e);
	assert_non_null(doc);
	assert_string_equal(json_str(json_get(doc, "openapi")), "3.1.0");
	paths = json_get(doc, "paths");
	assert_true(json_is_obj(paths));

	for (i = 0; i < api_endpoint_count(); i++) {
		api_endpoint_at(i, &method, &pattern, &flags);
		to_openapi(pattern, path, sizeof(path));
		lower(method, lm);
		ops = json_get(paths, path);
		if (ops == NULL)
			fail_msg("%s %s is not in openapi.json", method, path);
		op = json_get(ops, lm);
		if (op == NULL)
			fail_msg("%s %s is not in openapi.json", method, path);
		sec = json_get(op, "security");
		if (((flags & API_F_PUBLIC) != 0) !=
		    (sec != NULL && json_len(sec) == 0))
			fail_msg("%s %s: public in one place only", method,
			    path);
	}
	for (j = 0; j < json_len(paths); j++) {
		p = json_key_at(paths, j);
		ops = json_get(paths, p);
		for (k = 0; k < json_len(ops); k++) {
			m = json_key_at(ops, k);
			ndoc++;
			for (i = 0; i < api_endpoint_count(); i++) {
				api_endpoint_at(i, &method, &pattern, &flags);
				to_openapi(pattern, path, sizeof(path));
				lower(method, lm);
				if (strcmp(path, p) == 0 && strcmp(lm, m) == 0)
					break;
			}
			if (i == api_endpoint_count())
				fail_msg(
				    "openapi.json has %s %s, the table does not",
				    m, p);
		}
	}
	assert_int_equal(ndoc, api_endpoint_count());
	json_unref(doc);
}

/* The document GET /api/v1/openapi.json answers with. */
static struct json *
served(void)
{
	struct api_req r;
	struct json *doc;
	struct err e;

	memset(&r, 0, sizeof(r));
	r.magic = API_REQ_MAGIC;
	sys_openapi(&r);
	assert_int_equal(r.status, 200);
	doc = json_parse(r.resp, r.resp_len, &e);
	assert_non_null(doc);
	free(r.resp);
	return doc;
}

static const char *const types[] = { [F_ID] = "integer",
	[F_INT] = "integer",
	[F_BOOL] = "boolean",
	[F_STR] = "string",
	[F_ENUM] = "string",
	[F_REF] = "string",
	[F_LIST] = "array",
	[F_OBJ] = "object",
	[F_CHILDREN] = "array",
	[F_MAP] = "object",
	[F_REFS] = "array" };

/* Field <i> of <k> against its property schema <p>. */
static void
check_field(const struct cf_kind *k, int i, const struct json *p)
{
	const struct cf_field *f = &k->f[i];
	const struct json *t = json_get(p, "type"), *en;
	size_t j;

	if (json_is_arr(t))
		t = json_at(t, 0);
	if (t == NULL || strcmp(json_str(t), types[f->type]) != 0)
		fail_msg("%s.%s: type %s", k->schema, f->key,
		    t != NULL ? json_str(t) : "(none)");
	if (f->type == F_INT || f->type == F_ID) {
		assert_int_equal(json_int(json_get(p, "minimum")), f->min);
		assert_int_equal(json_int(json_get(p, "maximum")), f->max);
	}
	if (f->type == F_INT && (f->flags & F_REQUIRED) == 0)
		assert_int_equal(json_int(json_get(p, "default")), f->def);
	if (f->type == F_BOOL)
		assert_int_equal(json_bool(json_get(p, "default")),
		    f->def != 0);
	if (f->def_str != NULL)
		assert_string_equal(json_str(json_get(p, "default")),
		    f->def_str);
	if (f->type == F_LIST || f->type == F_CHILDREN || f->type == F_REFS)
		assert_int_equal(json_int(json_get(p, "maxItems")), f->max);
	en = f->type == F_LIST ? json_get(json_get(p, "items"), "enum")
	                       : json_get(p, "enum");
	for (j = 0; f->enums != NULL && f->enums[j] != NULL; j++)
		assert_string_equal(json_str(json_at(en, j)), f->enums[j]);
	if (f->enums != NULL)
		assert_int_equal(json_len(en), j);
}

/* Every field of <k> under <parent>, and nothing else, in <obj>. */
static void
check_obj(const struct cf_kind *k, int parent, const struct json *obj)
{
	const struct json *props = json_get(obj, "properties");
	const struct json *req = json_get(obj, "required");
	size_t i, n = 0, nreq = 0, j;

	assert_false(json_bool(json_get(obj, "additionalProperties")));
	for (i = 0; i < k->n; i++) {
		if (k->f[i].parent != parent)
			continue;
		n++;
		if (json_get(props, k->f[i].key) == NULL)
			fail_msg("%s: no property %s", k->schema, k->f[i].key);
		check_field(k, (int)i, json_get(props, k->f[i].key));
		if (k->f[i].type == F_OBJ)
			check_obj(k, (int)i, json_get(props, k->f[i].key));
		if ((k->f[i].flags & F_REQUIRED) == 0)
			continue;
		nreq++;
		for (j = 0; j < json_len(req); j++)
			if (strcmp(json_str(json_at(req, j)), k->f[i].key) == 0)
				break;
		if (j == json_len(req))
			fail_msg("%s.%s is not required", k->schema,
			    k->f[i].key);
	}
	assert_int_equal(json_len(props), n);
	assert_int_equal(json_len(req), nreq);
}

static void
test_schemas_match_field_tables(void **state)
{
	struct json *doc = served(), *schemas, *routes;
	size_t k;

	(void)state;
	schemas = json_get(json_get(doc, "components"), "schemas");
	for (k = 0; k < CK__KINDS; k++) {
		if (!cf_kinds[k].api_writable && !cf_kinds[k].schema_gen)
			continue;
		if (json_get(schemas, cf_kinds[k].schema) == NULL)
			fail_msg("no schema %s", cf_kinds[k].schema);
		check_obj(&cf_kinds[k], -1,
		    json_get(schemas, cf_kinds[k].schema));
	}
	/* The document's own references to them resolve. */
	routes = json_get(json_get(json_get(schemas, "Config"), "properties"),
	    "routes");
	assert_string_equal(json_str(json_get(json_get(routes, "items"),
	                        "$ref")),
	    "#/components/schemas/Route");
	json_unref(doc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_matches_document),
		cmocka_unit_test(test_schemas_match_field_tables),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
