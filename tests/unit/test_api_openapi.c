/*
 * test_api_openapi.c: the OpenAPI document served at /api/v1/openapi.json
 * describes exactly the endpoints of the real dispatch table in api.c: same
 * paths (":x" there is "{x}" here), same methods, and the unauthenticated
 * ones are the ones marked "security": [].
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_matches_document),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
