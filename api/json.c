/*
 * json.c: the jansson shim (the only includer of jansson.h).
 *
 * struct json is jansson's json_t under another name: the casts below are
 * the whole trick. Typed getters turn type errors into field paths, and the
 * patch functions (RFC 6902, RFC 7396) and the diff work on deep copies so
 * callers' values never change under them.
 */
#include "json.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define J(x)  ((json_t *)(uintptr_t)(x))
#define CJ(x) ((const json_t *)(x))
#define W(x)  ((struct json *)(x))

struct json *
json_parse(const char *buf, size_t len, struct err *e)
{
	json_error_t je;
	json_t *j;

	j = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	if (j == NULL) {
		err_set(e, "", "malformed JSON: line %d, column %d: %s",
		    je.line, je.column, je.text);
		return NULL;
	}
	return W(j);
}

char *
json_dump(const struct json *j, size_t *lenp)
{
	char *s;

	s = json_dumps(CJ(j),
	    JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	if (s != NULL && lenp != NULL)
		*lenp = strlen(s);
	return s;
}

struct json *
json_ref(struct json *j)
{
	return W(json_incref(J(j)));
}

void
json_unref(struct json *j)
{
	if (j != NULL)
		json_decref(J(j));
}

struct json *
json_clone(const struct json *j)
{
	return W(json_deep_copy(CJ(j)));
}

bool
json_same(const struct json *a, const struct json *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return json_equal(CJ(a), CJ(b)) != 0;
}

struct json *
json_new_obj(void)
{
	return W(json_object());
}

struct json *
json_new_arr(void)
{
	return W(json_array());
}

struct json *
json_new_str(const char *s)
{
	return W(json_string(s != NULL ? s : ""));
}

struct json *
json_new_strn(const char *s, size_t n)
{
	return W(json_stringn(s, n));
}

struct json *
json_new_int(int64_t v)
{
	return W(json_integer((json_int_t)v));
}

struct json *
json_new_bool(bool v)
{
	return W(json_boolean(v));
}

struct json *
json_new_null(void)
{
	return W(json_null());
}

int
json_set(struct json *obj, const char *key, struct json *v)
{
	if (v == NULL)
		return -1;
	return json_object_set_new(J(obj), key, J(v)) == 0 ? 0 : -1;
}

int
json_append(struct json *arr, struct json *v)
{
	if (v == NULL)
		return -1;
	return json_array_append_new(J(arr), J(v)) == 0 ? 0 : -1;
}

int
json_del(struct json *obj, const char *key)
{
	return json_object_del(J(obj), key) == 0 ? 0 : -1;
}

int
json_remove_at(struct json *arr, size_t i)
{
	return json_array_remove(J(arr), i) == 0 ? 0 : -1;
}

int
json_insert_at(struct json *arr, size_t i, struct json *v)
{
	if (v == NULL)
		return -1;
	return json_array_insert_new(J(arr), i, J(v)) == 0 ? 0 : -1;
}

bool
json_shared(const struct json *j)
{
	return j != NULL && CJ(j)->refcount != 1;
}

int
json_replace_at(struct json *arr, size_t i, struct json *v)
{
	if (v == NULL)
		return -1;
	return json_array_set_new(J(arr), i, J(v)) == 0 ? 0 : -1;
}

bool
json_is_obj(const struct json *j)
{
	return j != NULL && json_is_object(CJ(j));
}

bool
json_is_arr(const struct json *j)
{
	return j != NULL && json_is_array(CJ(j));
}

bool
json_is_str(const struct json *j)
{
	return j != NULL && json_is_string(CJ(j));
}

bool
json_is_int(const struct json *j)
{
	return j != NULL && json_is_integer(CJ(j));
}

bool
json_is_bool(const struct json *j)
{
	return j != NULL && json_is_boolean(CJ(j));
}

bool
json_is_nil(const struct json *j)
{
	return j == NULL || json_is_null(CJ(j));
}

struct json *
json_get(const struct json *obj, const char *key)
{
	if (obj == NULL || !json_is_object(CJ(obj)))
		return NULL;
	return W(json_object_get(CJ(obj), key));
}

size_t
json_len(const struct json *j)
{
	if (j == NULL)
		return 0;
	if (json_is_array(CJ(j)))
		return json_array_size(CJ(j));
	if (json_is_object(CJ(j)))
		return json_object_size(CJ(j));
	return 0;
}

struct json *
json_at(const struct json *arr, size_t i)
{
	if (arr == NULL || !json_is_array(CJ(arr)))
		return NULL;
	return W(json_array_get(CJ(arr), i));
}

const char *
json_key_at(const struct json *obj, size_t i)
{
	void *it;

	if (obj == NULL || !json_is_object(CJ(obj)))
		return NULL;
	for (it = json_object_iter(J(obj)); it != NULL && i > 0; i--)
		it = json_object_iter_next(J(obj), it);
	return it != NULL ? json_object_iter_key(it) : NULL;
}

const char *
json_str(const struct json *j)
{
	return j != NULL && json_is_string(CJ(j)) ? json_string_value(CJ(j))
	                                          : NULL;
}

int64_t
json_int(const struct json *j)
{
	return j != NULL && json_is_integer(CJ(j))
	    ? (int64_t)json_integer_value(CJ(j))
	    : 0;
}

bool
json_bool(const struct json *j)
{
	return j != NULL && json_is_true(CJ(j));
}

void
json_path_key(char *buf, size_t len, const char *prefix, const char *key)
{
	if (prefix == NULL || prefix[0] == '\0')
		snprintf(buf, len, "%s", key);
	else
		snprintf(buf, len, "%s.%s", prefix, key);
}

void
json_path_idx(char *buf, size_t len, const char *prefix, size_t i)
{
	snprintf(buf, len, "%s[%zu]", prefix != NULL ? prefix : "", i);
}

static int
field_err(struct err *e, const char *path, const char *key, const char *msg)
{
	char p[128];

	json_path_key(p, sizeof(p), path, key);
	return err_set(e, p, "%s", msg);
}

int
json_get_str(const struct json *obj, const char *path, const char *key,
    const char **out, struct err *e)
{
	const json_t *v = json_object_get(CJ(obj), key);

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return field_err(e, path, key, "must be a string");
	if (strlen(json_string_value(v)) != json_string_length(v))
		return field_err(e, path, key, "must not contain NUL");
	*out = json_string_value(v);
	return 1;
}

int
json_get_int(const struct json *obj, const char *path, const char *key,
    int64_t min, int64_t max, int64_t *out, struct err *e)
{
	const json_t *v = json_object_get(CJ(obj), key);
	char p[128];
	json_int_t n;

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_integer(v))
		return field_err(e, path, key, "must be an integer");
	n = json_integer_value(v);
	if (n < min || n > max) {
		json_path_key(p, sizeof(p), path, key);
		return err_set(e, p,
		    "%" PRId64 " is out of range %" PRId64 "..%" PRId64,
		    (int64_t)n, min, max);
	}
	*out = (int64_t)n;
	return 1;
}

int
json_get_bool(const struct json *obj, const char *path, const char *key,
    bool *out, struct err *e)
{
	const json_t *v = json_object_get(CJ(obj), key);

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return field_err(e, path, key, "must be true or false");
	*out = json_is_true(v);
	return 1;
}

int
json_get_obj(const struct json *obj, const char *path, const char *key,
    struct json **out, struct err *e)
{
	json_t *v = json_object_get(CJ(obj), key);

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return field_err(e, path, key, "must be an object");
	*out = W(v);
	return 1;
}

int
json_get_arr(const struct json *obj, const char *path, const char *key,
    struct json **out, struct err *e)
{
	json_t *v = json_object_get(CJ(obj), key);

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return field_err(e, path, key, "must be an array");
	*out = W(v);
	return 1;
}

int
json_check_keys(const struct json *obj, const char *path,
    const char *const *allowed, struct err *e)
{
	const char *key;
	json_t *v;
	size_t i;

	if (obj == NULL || !json_is_object(CJ(obj)))
		return err_set(e, path, "must be an object");
	json_object_foreach(J(obj), key, v)
	{
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(allowed[i], key) == 0)
				break;
		if (allowed[i] == NULL)
			return field_err(e, path, key, "unknown field");
	}
	return 0;
}

/* ---- RFC 6901 pointers and RFC 6902 patch ---- */

/* Splits the last token off pointer <ptr>: the parent is resolved in
 * <doc>, the unescaped last token copied to <tok>. NULL when the parent
 * does not exist.
 */
static json_t *
ptr_parent(json_t *doc, const char *ptr, char *tok, size_t toklen,
    struct err *e, const char *field)
{
	const char *p = ptr, *end;
	json_t *cur = doc, *next;
	size_t n;

	if (*p != '/') {
		err_set(e, field, "\"%s\" is not a JSON Pointer", ptr);
		return NULL;
	}
	for (;;) {
		p++;
		end = strchr(p, '/');
		n = 0;
		for (const char *q = p; q < (end != NULL ? end : p + strlen(p));
		     q++) {
			char c = *q;
			if (c == '~') {
				if (q[1] == '0')
					c = '~';
				else if (q[1] == '1')
					c = '/';
				else {
					err_set(e, field,
					    "bad escape in \"%s\"", ptr);
					return NULL;
				}
				q++;
			}
			if (n + 1 >= toklen) {
				err_set(e, field, "pointer too long");
				return NULL;
			}
			tok[n++] = c;
		}
		tok[n] = '\0';
		if (end == NULL)
			return cur;
		if (json_is_object(cur))
			next = json_object_get(cur, tok);
		else if (json_is_array(cur)) {
			char *ep;
			unsigned long i = strtoul(tok, &ep, 10);
			next = (*tok != '\0' && *ep == '\0' &&
			           (tok[0] != '0' || tok[1] == '\0'))
			    ? json_array_get(cur, i)
			    : NULL;
		} else
			next = NULL;
		if (next == NULL) {
			err_set(e, field, "\"%s\" does not exist", ptr);
			return NULL;
		}
		cur = next;
		p = end;
	}
}

/* Array index for <tok> in <arr>; -1 when invalid. "-" is the end when
 * <allow_end>.
 */
static long
ptr_index(json_t *arr, const char *tok, bool allow_end)
{
	size_t n = json_array_size(arr);
	unsigned long i;
	char *ep;

	if (strcmp(tok, "-") == 0)
		return allow_end ? (long)n : -1;
	if (*tok == '\0' || (tok[0] == '0' && tok[1] != '\0'))
		return -1;
	i = strtoul(tok, &ep, 10);
	if (*ep != '\0' || i > n || (!allow_end && i == n))
		return -1;
	return (long)i;
}

static json_t *
ptr_get(json_t *doc, const char *ptr, struct err *e, const char *field)
{
	char tok[256];
	json_t *parent, *v = NULL;
	long i;

	if (*ptr == '\0')
		return doc;
	if ((parent = ptr_parent(doc, ptr, tok, sizeof(tok), e, field)) == NULL)
		return NULL;
	if (json_is_object(parent))
		v = json_object_get(parent, tok);
	else if (json_is_array(parent) &&
	    (i = ptr_index(parent, tok, false)) >= 0)
		v = json_array_get(parent, (size_t)i);
	if (v == NULL)
		err_set(e, field, "\"%s\" does not exist", ptr);
	return v;
}

/* Removes and returns (new reference) the value at <ptr>. */
static json_t *
ptr_remove(json_t *doc, const char *ptr, struct err *e, const char *field)
{
	char tok[256];
	json_t *parent, *v;
	long i;

	if (*ptr == '\0') {
		err_set(e, field, "cannot remove the whole document");
		return NULL;
	}
	if ((parent = ptr_parent(doc, ptr, tok, sizeof(tok), e, field)) == NULL)
		return NULL;
	if (json_is_object(parent) &&
	    (v = json_object_get(parent, tok)) != NULL) {
		json_incref(v);
		json_object_del(parent, tok);
		return v;
	}
	if (json_is_array(parent) && (i = ptr_index(parent, tok, false)) >= 0) {
		v = json_incref(json_array_get(parent, (size_t)i));
		json_array_remove(parent, (size_t)i);
		return v;
	}
	err_set(e, field, "\"%s\" does not exist", ptr);
	return NULL;
}

/* Adds <v> (stolen) at <ptr>; <*docp> changes when <ptr> is "". */
static int
ptr_add(json_t **docp, const char *ptr, json_t *v, bool replace, struct err *e,
    const char *field)
{
	char tok[256];
	json_t *parent;
	long i;

	if (*ptr == '\0') {
		json_decref(*docp);
		*docp = v;
		return 0;
	}
	if ((parent = ptr_parent(*docp, ptr, tok, sizeof(tok), e, field)) ==
	    NULL)
		goto fail;
	if (json_is_object(parent)) {
		if (replace && json_object_get(parent, tok) == NULL) {
			err_set(e, field, "\"%s\" does not exist", ptr);
			goto fail;
		}
		return json_object_set_new(parent, tok, v) == 0 ? 0 : -1;
	}
	if (json_is_array(parent)) {
		i = ptr_index(parent, tok, !replace);
		if (i < 0) {
			err_set(e, field, "\"%s\": bad array index", ptr);
			goto fail;
		}
		if (replace)
			return json_array_set_new(parent, (size_t)i, v) == 0
			    ? 0
			    : -1;
		return json_array_insert_new(parent, (size_t)i, v) == 0 ? 0
		                                                        : -1;
	}
	err_set(e, field, "\"%s\": parent is not a container", ptr);
fail:
	json_decref(v);
	return -1;
}

static int
patch_one(json_t **docp, json_t *op, size_t idx, struct err *e)
{
	char field[64], ffrom[64];
	const char *name, *path, *from;
	json_t *v, *val;

	snprintf(field, sizeof(field), "[%zu].path", idx);
	snprintf(ffrom, sizeof(ffrom), "[%zu].from", idx);
	if (!json_is_object(op)) {
		snprintf(field, sizeof(field), "[%zu]", idx);
		return err_set(e, field, "must be an object");
	}
	name = json_string_value(json_object_get(op, "op"));
	path = json_string_value(json_object_get(op, "path"));
	from = json_string_value(json_object_get(op, "from"));
	val = json_object_get(op, "value");
	if (name == NULL) {
		snprintf(field, sizeof(field), "[%zu].op", idx);
		return err_set(e, field, "must be a string");
	}
	if (path == NULL)
		return err_set(e, field, "must be a string");
	if (strcmp(name, "add") == 0 || strcmp(name, "replace") == 0) {
		if (val == NULL) {
			snprintf(field, sizeof(field), "[%zu].value", idx);
			return err_set(e, field, "is required");
		}
		return ptr_add(docp, path, json_deep_copy(val), name[0] == 'r',
		    e, field);
	}
	if (strcmp(name, "remove") == 0) {
		if ((v = ptr_remove(*docp, path, e, field)) == NULL)
			return -1;
		json_decref(v);
		return 0;
	}
	if (strcmp(name, "move") == 0 || strcmp(name, "copy") == 0) {
		if (from == NULL)
			return err_set(e, ffrom, "must be a string");
		if (name[0] == 'm') {
			size_t fl = strlen(from);
			if (strncmp(path, from, fl) == 0 && path[fl] == '/')
				return err_set(e, ffrom,
				    "cannot move a value into itself");
			v = ptr_remove(*docp, from, e, ffrom);
		} else {
			v = ptr_get(*docp, from, e, ffrom);
			v = v != NULL ? json_deep_copy(v) : NULL;
		}
		if (v == NULL)
			return -1;
		return ptr_add(docp, path, v, false, e, field);
	}
	if (strcmp(name, "test") == 0) {
		if ((v = ptr_get(*docp, path, e, field)) == NULL)
			return -1;
		if (val == NULL || !json_equal(v, val))
			return err_set(e, field, "test failed at \"%s\"", path);
		return 0;
	}
	snprintf(field, sizeof(field), "[%zu].op", idx);
	return err_set(e, field, "unknown operation \"%s\"", name);
}

struct json *
json_patch(const struct json *doc, const struct json *patch, struct err *e)
{
	json_t *d, *op;
	size_t i;

	if (!json_is_array(CJ(patch))) {
		err_set(e, "", "a JSON Patch must be an array of operations");
		return NULL;
	}
	if ((d = json_deep_copy(CJ(doc))) == NULL) {
		err_set(e, "", "out of memory");
		return NULL;
	}
	json_array_foreach(CJ(patch), i, op)
	{
		if (patch_one(&d, op, i, e) != 0) {
			json_decref(d);
			return NULL;
		}
	}
	return W(d);
}

static json_t *
merge(const json_t *target, const json_t *patch)
{
	json_t *out, *v, *m;
	const char *key;

	if (!json_is_object(patch))
		return json_deep_copy(patch);
	out = json_is_object(target) ? json_deep_copy(target) : json_object();
	if (out == NULL)
		return NULL;
	json_object_foreach(J(patch), key, v)
	{
		if (json_is_null(v)) {
			json_object_del(out, key);
			continue;
		}
		m = merge(json_object_get(out, key), v);
		if (m == NULL || json_object_set_new(out, key, m) != 0) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

struct json *
json_merge_patch(const struct json *doc, const struct json *patch)
{
	return W(merge(CJ(doc), CJ(patch)));
}

/* ---- diff ---- */

static void
diff_add(json_t *out, const char *op, const char *path, const json_t *a,
    const json_t *b)
{
	json_t *d = json_object();

	json_object_set_new(d, "op", json_string(op));
	json_object_set_new(d, "path", json_string(path[0] ? path : "/"));
	if (a != NULL)
		json_object_set_new(d, "old", json_deep_copy(a));
	if (b != NULL)
		json_object_set_new(d, "new", json_deep_copy(b));
	json_array_append_new(out, d);
}

static void
ptr_join(char *buf, size_t len, const char *base, const char *tok)
{
	size_t n = (size_t)snprintf(buf, len, "%s/", base);

	for (; *tok != '\0' && n + 3 < len; tok++) {
		if (*tok == '~' || *tok == '/') {
			buf[n++] = '~';
			buf[n++] = *tok == '~' ? '0' : '1';
		} else
			buf[n++] = *tok;
	}
	buf[n < len ? n : len - 1] = '\0';
}

static bool
arr_is_named(const json_t *a)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v) if (json_string_value(json_object_get(v,
	                                    "name")) == NULL) return false;
	return true;
}

static json_t *
arr_find_name(const json_t *arr, const char *name)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
	{
		const char *n = json_string_value(json_object_get(v, "name"));
		if (n != NULL && strcmp(n, name) == 0)
			return v;
	}
	return NULL;
}

static void
diff_rec(json_t *out, const char *path, const json_t *a, const json_t *b)
{
	char sub[512];
	const char *key;
	json_t *v, *w;
	size_t i;

	if (json_equal(a, b))
		return;
	if (json_is_object(a) && json_is_object(b)) {
		json_object_foreach(J(a), key, v)
		{
			ptr_join(sub, sizeof(sub), path, key);
			if ((w = json_object_get(b, key)) == NULL)
				diff_add(out, "remove", sub, v, NULL);
			else
				diff_rec(out, sub, v, w);
		}
		json_object_foreach(J(b), key, w)
		{
			if (json_object_get(a, key) != NULL)
				continue;
			ptr_join(sub, sizeof(sub), path, key);
			diff_add(out, "add", sub, NULL, w);
		}
		return;
	}
	if (json_is_array(a) && json_is_array(b) && arr_is_named(a) &&
	    arr_is_named(b) && json_array_size(a) + json_array_size(b) > 0) {
		json_array_foreach(a, i, v)
		{
			key = json_string_value(json_object_get(v, "name"));
			ptr_join(sub, sizeof(sub), path, key);
			if ((w = arr_find_name(b, key)) == NULL)
				diff_add(out, "remove", sub, v, NULL);
			else
				diff_rec(out, sub, v, w);
		}
		json_array_foreach(b, i, w)
		{
			key = json_string_value(json_object_get(w, "name"));
			if (arr_find_name(a, key) != NULL)
				continue;
			ptr_join(sub, sizeof(sub), path, key);
			diff_add(out, "add", sub, NULL, w);
		}
		return;
	}
	diff_add(out, "replace", path, a, b);
}

struct json *
json_diff(const struct json *a, const struct json *b)
{
	json_t *out = json_array();

	if (out != NULL)
		diff_rec(out, "", CJ(a), CJ(b));
	return W(out);
}
