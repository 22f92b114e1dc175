/*
 * fuzz_json_patch.c: RFC 6902 JSON Patch (api/json.c) and the delta that
 * revisions are stored as (api/json_delta.c), on documents and patches
 * both from the input.
 *
 * Input: a JSON document, a NUL byte, a JSON Patch (without the NUL, the
 * patch applies to a fixed configuration document). Checked: a refusal
 * says why; neither input is changed; the result round-trips through the
 * serializer; json_delta(doc, result) applied to doc gives the result
 * back exactly (how revisions are stored), and json_diff(doc, result) is
 * empty exactly when nothing changed.
 */
#include <string.h>

#include "fuzz.h"
#include "json.h"

static const char fz_doc[] =
    "{\"listeners\":[{\"id\":1,\"name\":\"public\",\"port\":8080}],"
    "\"origins\":[{\"name\":\"web\",\"servers\":[{\"address\":\"127.0.0.1\","
    "\"port\":8081},{\"address\":\"::1\",\"port\":8082}]}],\"routes\":[],"
    "\"a~b\":{\"c/d\":[1,2,3]}}";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	struct json *doc, *patch, *out, *d, *back, *doc0, *patch0;
	struct err e;
	char *s;
	size_t n;

	err_clear(&e);
	if (nul != NULL)
		doc = json_parse((const char *)data, (size_t)(nul - data), &e);
	else
		doc = json_parse(fz_doc, sizeof(fz_doc) - 1, &e);
	if (doc == NULL)
		return 0;
	patch = nul != NULL ? json_parse((const char *)nul + 1,
	                          size - (size_t)(nul - data) - 1, &e)
	                    : json_parse((const char *)data, size, &e);
	if (patch == NULL) {
		FUZZ_CHECK(e.msg[0] != '\0');
		json_unref(doc);
		return 0;
	}
	doc0 = json_clone(doc);
	patch0 = json_clone(patch);
	err_clear(&e);
	out = json_patch(doc, patch, &e);
	if (out == NULL)
		FUZZ_CHECK(e.msg[0] != '\0');
	else {
		s = json_dump(out, &n);
		FUZZ_CHECK(s != NULL);
		back = json_parse(s, n, &e);
		FUZZ_CHECK(back != NULL && json_same(back, out));
		json_unref(back);
		free(s);
		d = json_diff(doc, out);
		FUZZ_CHECK(d != NULL);
		FUZZ_CHECK((json_len(d) == 0) == json_same(doc, out));
		json_unref(d);
		d = json_delta(doc, out);
		FUZZ_CHECK(d != NULL);
		back = json_patch(doc, d, &e);
		FUZZ_CHECK(back != NULL && json_same(back, out));
		json_unref(back);
		json_unref(d);
	}
	FUZZ_CHECK(json_same(doc, doc0) && json_same(patch, patch0));
	json_unref(out);
	json_unref(doc0);
	json_unref(patch0);
	json_unref(patch);
	json_unref(doc);
	return 0;
}
