/*
 * json.h: our JSON vocabulary (json.c is the only includer of jansson.h).
 *
 * A struct json is an opaque, reference-counted JSON value. Constructors
 * return a new reference; json_set()/json_append() steal the reference to
 * the value they are given; getters return borrowed pointers valid while
 * the container lives. Typed field getters fill struct err with the field
 * path as the user wrote it ("servers[2].port"), so API errors name the
 * offending field. Also here: RFC 6902 JSON Patch, RFC 7396 merge patch
 * and a structural diff, all on whole values.
 */
#ifndef GH_JSON_H
#define GH_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct json;

/* Parses <len> bytes of any JSON value (a bare scalar too: callers check
 * types). Duplicate object keys are refused. NULL + <e>
 * ("line 1, column 7: ...") when malformed.
 */
struct json *json_parse(const char *buf, size_t len, struct err *e);
/* Serializes compactly (keys in insertion order); malloc'ed, NUL
 * terminated, <*lenp> set when not NULL. NULL on memory exhaustion.
 */
char *json_dump(const struct json *j, size_t *lenp);

struct json *json_ref(struct json *j);
void json_unref(struct json *j);               /* NULL-safe */
struct json *json_clone(const struct json *j); /* deep */
bool json_same(const struct json *a, const struct json *b);

struct json *json_new_obj(void);
struct json *json_new_arr(void);
struct json *json_new_str(const char *s);
struct json *json_new_strn(const char *s, size_t n);
struct json *json_new_int(int64_t v);
struct json *json_new_bool(bool v);
struct json *json_new_null(void);

/* Steal <v>; 0 or -1 (and <v> is released). */
int json_set(struct json *obj, const char *key, struct json *v);
int json_append(struct json *arr, struct json *v);
int json_del(struct json *obj, const char *key);
int json_remove_at(struct json *arr, size_t i);
/* Replaces member <i>; steals <v>. */
int json_replace_at(struct json *arr, size_t i, struct json *v);
/* Inserts <v> (stolen) before index <i> (json_len(): at the end). */
int json_insert_at(struct json *arr, size_t i, struct json *v);
/* Whether <j> has another reference than its holder's. */
bool json_shared(const struct json *j);

bool json_is_obj(const struct json *j);
bool json_is_arr(const struct json *j);
bool json_is_str(const struct json *j);
bool json_is_int(const struct json *j);
bool json_is_bool(const struct json *j);
bool json_is_nil(const struct json *j);

/* Borrowed member, or NULL when absent or <obj> is not an object. */
struct json *json_get(const struct json *obj, const char *key);
size_t json_len(const struct json *arr_or_obj);
struct json *json_at(const struct json *arr, size_t i);
/* The <i>th key of an object in insertion order, or NULL. */
const char *json_key_at(const struct json *obj, size_t i);
const char *json_str(const struct json *j); /* NULL unless a string */
int64_t json_int(const struct json *j);     /* 0 unless an integer */
bool json_bool(const struct json *j);       /* false unless true */

/* Field paths: "prefix.key" (or "key") and "prefix[i]". */
void json_path_key(char *buf, size_t len, const char *prefix, const char *key);
void json_path_idx(char *buf, size_t len, const char *prefix, size_t i);

/* Typed getters. Return 1 when the field is present and valid (<*out>
 * set), 0 when absent or null (untouched), -1 when invalid, with <e>
 * naming "<path>.<key>".
 */
int json_get_str(const struct json *obj, const char *path, const char *key,
    const char **out, struct err *e);
int json_get_int(const struct json *obj, const char *path, const char *key,
    int64_t min, int64_t max, int64_t *out, struct err *e);
int json_get_bool(const struct json *obj, const char *path, const char *key,
    bool *out, struct err *e);
/* Borrowed object/array member; 0 absent/null, 1 ok, -1 wrong type. */
int json_get_obj(const struct json *obj, const char *path, const char *key,
    struct json **out, struct err *e);
int json_get_arr(const struct json *obj, const char *path, const char *key,
    struct json **out, struct err *e);

/* -1 with "<path>.<key>: unknown field" for any key not in the
 * NULL-terminated <allowed>; -1 with "<path>: must be an object" when
 * <obj> is not one; else 0.
 */
int json_check_keys(const struct json *obj, const char *path,
    const char *const *allowed, struct err *e);

/* RFC 6902: applies <patch> (an array of operations) to a copy of <doc>.
 * New reference, or NULL with <e> naming the operation ("[2].path").
 */
struct json *json_patch(const struct json *doc, const struct json *patch,
    struct err *e);
/* RFC 7396 merge patch onto a copy of <doc>; new reference or NULL. */
struct json *json_merge_patch(const struct json *doc, const struct json *patch);

/* The changes from <a> to <b> as an array of
 * {"op":"add"|"remove"|"replace","path":...,"old":...,"new":...}. Paths
 * are JSON Pointers, except that array members which are objects with a
 * "name" are matched, and addressed, by that name: "/routes/app/origin".
 */
struct json *json_diff(const struct json *a, const struct json *b);

/* The RFC 6902 JSON Patch (plain pointers, array indices) that
 * json_patch() applies to <a> to give <b>; [] when equal. Arrays of
 * objects with distinct "name"s are matched by name in linear time, so
 * the patch grows with the change (json_delta.c). NULL when out of
 * memory or a path would be too long.
 */
struct json *json_delta(const struct json *a, const struct json *b);

#endif
