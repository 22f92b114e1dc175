/*
 * fuzz_api_json.c: admin API request bodies -> validated change (no DB).
 *
 * Input: byte 0 picks what the rest is: a whole configuration document
 * (conf_check), an item of one kind (conf_check_item), a JSON Patch or a
 * merge patch over a fixed document, the way the API would see a request
 * body; a first byte of 0xf0 or more makes the rest a JSON string given
 * to the password policy (api_passwd.c). Checked: parsing never crashes and
 * what parses re-serializes to an equal value; a refusal always says why;
 * patches never change their input; a value's diff with itself is empty, and
 * the diff between two values is empty exactly when they are equal; a password
 * refusal names the field and the rule, an accepted password is 1024 bytes at
 * most and has at least 5 different characters, and the verdict never depends
 * on anything but the password and the user name.
 */
#include <string.h>

#include "api_int.h"
#include "fuzz.h"
#include "json.h"

static const char fz_doc[] =
    "{\"listeners\":[{\"id\":1,\"name\":\"public\",\"address\":\"127.0.0.1\","
    "\"port\":8080}],\"origins\":[{\"id\":1,\"name\":\"web\",\"servers\":"
    "[{\"address\":\"127.0.0.1\",\"port\":8081}]}],\"routes\":[{\"id\":1,"
    "\"name\":\"app\",\"listener\":\"public\",\"origin\":\"web\",\"match\":"
    "{\"hosts\":[\"app.example\"],\"path_prefix\":\"/\"}}]}";

static void
fz_roundtrip(const struct json *j)
{
	struct json *again;
	struct err e;
	size_t n;
	char *s = json_dump(j, &n);

	FUZZ_CHECK(s != NULL);
	again = json_parse(s, n, &e);
	FUZZ_CHECK(again != NULL);
	FUZZ_CHECK(json_same(j, again));
	json_unref(again);
	free(s);
}

static void
fz_password(const struct json *j)
{
	const char *pw = json_str(j);
	bool seen[256] = { false };
	unsigned distinct = 0;
	struct err e, e2;
	size_t i;
	int rc;

	if (pw == NULL)
		return;
	err_clear(&e);
	err_clear(&e2);
	rc = passwd_check(pw, "admin", &e);
	FUZZ_CHECK(rc == passwd_check(pw, "admin", &e2));
	if (rc != 0) {
		FUZZ_CHECK(strcmp(e.field, "password") == 0 &&
		    e.msg[0] != '\0');
		FUZZ_CHECK(strcmp(e.msg, e2.msg) == 0);
		return;
	}
	FUZZ_CHECK(strlen(pw) <= 1024 && strcmp(pw, "admin") != 0);
	for (i = 0; pw[i] != '\0'; i++) {
		distinct += !seen[(unsigned char)pw[i]];
		seen[(unsigned char)pw[i]] = true;
	}
	FUZZ_CHECK(distinct >= 5);
}

static void
fz_diff(const struct json *a, const struct json *b)
{
	struct json *d = json_diff(a, a);

	FUZZ_CHECK(d != NULL && json_len(d) == 0);
	json_unref(d);
	d = json_diff(a, b);
	FUZZ_CHECK(d != NULL);
	FUZZ_CHECK((json_len(d) == 0) == json_same(a, b));
	json_unref(d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json *j, *doc, *pristine, *out;
	struct err e;
	unsigned mode;
	int rc;

	if (size < 1)
		return 0;
	mode = data[0] % 6;
	err_clear(&e);
	j = json_parse((const char *)data + 1, size - 1, &e);
	if (j == NULL) {
		FUZZ_CHECK(e.msg[0] != '\0');
		return 0;
	}
	fz_roundtrip(j);
	if (data[0] >= 0xf0) {
		fz_password(j);
		json_unref(j);
		return 0;
	}
	doc = json_parse(fz_doc, sizeof(fz_doc) - 1, &e);
	FUZZ_CHECK(doc != NULL && conf_check(doc, &e) == 0);
	pristine = json_clone(doc);
	switch (mode) {
	case 0:
		rc = conf_check(j, &e);
		FUZZ_CHECK(rc == 0 || (rc == -1 && e.msg[0] != '\0'));
		break;
	case 1:
	case 2:
	case 3:
		rc = conf_check_item((enum conf_kind)(mode - 1), j, "", &e);
		FUZZ_CHECK(rc == 0 || (rc == -1 && e.msg[0] != '\0'));
		break;
	case 4:
		out = json_patch(doc, j, &e);
		FUZZ_CHECK(out != NULL || e.msg[0] != '\0');
		if (out != NULL) {
			fz_roundtrip(out);
			fz_diff(doc, out);
			rc = conf_check(out, &e);
			FUZZ_CHECK(rc == 0 || e.msg[0] != '\0');
		}
		json_unref(out);
		break;
	default:
		out = json_merge_patch(doc, j);
		FUZZ_CHECK(out != NULL);
		fz_diff(doc, out);
		json_unref(out);
		break;
	}
	FUZZ_CHECK(json_same(doc, pristine)); /* inputs never change */
	json_unref(pristine);
	json_unref(doc);
	json_unref(j);
	return 0;
}
