/*
 * json_delta.c: the RFC 6902 JSON Patch that turns one document into
 * another, for storing revisions as deltas (api_revisions.c).
 *
 * Unlike json_diff() (names in paths, old and new values, for people),
 * the patch uses plain JSON Pointers with array indices so that any RFC
 * 6902 implementation, json_patch() included, rebuilds the new document
 * exactly. Arrays whose members are all objects with a distinct string
 * "name" (listeners, origins, routes, certificates) are compared by name
 * through a hash table, so the cost is linear in the document and the
 * patch grows with the change: removals (highest index first), then, in
 * the new order, additions and the changes inside kept members. When the
 * kept members changed their relative order, the array is replaced whole.
 * Other arrays are compared member by member when their lengths agree,
 * else replaced.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* Deeper paths than this are replaced at their parent instead. */
#define DELTA_PATH_MAX 1024

struct delta {
	struct json *ops;
	char path[DELTA_PATH_MAX];
	int failed; /* out of memory */
};

/* Name -> member index of a named array; open addressing. */
struct delta_names {
	const char **name;
	size_t *idx;
	size_t mask;
};

static uint64_t
delta_hash(const char *s)
{
	uint64_t h = 14695981039346656037ull;

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static const char *
delta_name(const struct json *v)
{
	return json_is_obj(v) ? json_str(json_get(v, "name")) : NULL;
}

static void
delta_names_free(struct delta_names *t)
{
	free(t->name);
	free(t->idx);
}

/* Slot of <name>: its own, or the empty one where it would go. */
static size_t
delta_names_slot(const struct delta_names *t, const char *name)
{
	size_t i = (size_t)delta_hash(name) & t->mask;

	while (t->name[i] != NULL && strcmp(t->name[i], name) != 0)
		i = (i + 1) & t->mask;
	return i;
}

/* Indexes <arr> by name. Returns 1 when every member is an object with
 * a distinct string "name", 0 when not (a plain array), -1 when out of
 * memory.
 */
static int
delta_names_build(struct delta_names *t, const struct json *arr)
{
	size_t n = json_len(arr), cap = 8, i, s;
	const char *name;

	memset(t, 0, sizeof(*t));
	while (cap < 2 * n)
		cap *= 2;
	t->name = calloc(cap, sizeof(*t->name));
	t->idx = calloc(cap, sizeof(*t->idx));
	if (t->name == NULL || t->idx == NULL)
		return -1;
	t->mask = cap - 1;
	for (i = 0; i < n; i++) {
		if ((name = delta_name(json_at(arr, i))) == NULL)
			return 0;
		s = delta_names_slot(t, name);
		if (t->name[s] != NULL)
			return 0;
		t->name[s] = name;
		t->idx[s] = i;
	}
	return 1;
}

/* Index of <name> in the indexed array, or SIZE_MAX. */
static size_t
delta_names_find(const struct delta_names *t, const char *name)
{
	size_t s = delta_names_slot(t, name);

	return t->name[s] != NULL ? t->idx[s] : SIZE_MAX;
}

static void
delta_op(struct delta *d, const char *op, const struct json *value)
{
	struct json *o = json_new_obj();

	if (o == NULL) {
		d->failed = 1;
		return;
	}
	json_set(o, "op", json_new_str(op));
	json_set(o, "path", json_new_str(d->path));
	if (value != NULL)
		json_set(o, "value", json_clone(value));
	if (json_append(d->ops, o) != 0)
		d->failed = 1;
}

/* Appends "/<tok>" (escaped) to the path; returns the old length, or
 * SIZE_MAX when it does not fit (the path is left as it was).
 */
static size_t
delta_push(struct delta *d, const char *tok)
{
	size_t len = strlen(d->path), n = len;

	if (n + 1 >= sizeof(d->path))
		return SIZE_MAX;
	d->path[n++] = '/';
	for (; *tok != '\0'; tok++) {
		if (n + 3 >= sizeof(d->path)) {
			d->path[len] = '\0';
			return SIZE_MAX;
		}
		if (*tok == '~' || *tok == '/') {
			d->path[n++] = '~';
			d->path[n++] = *tok == '~' ? '0' : '1';
		} else {
			d->path[n++] = *tok;
		}
	}
	d->path[n] = '\0';
	return len;
}

static size_t
delta_push_idx(struct delta *d, size_t i)
{
	char tok[24];
	size_t n = 0, j;
	char rev[24];

	do {
		rev[n++] = (char)('0' + i % 10);
		i /= 10;
	} while (i > 0);
	for (j = 0; j < n; j++)
		tok[j] = rev[n - 1 - j];
	tok[n] = '\0';
	return delta_push(d, tok);
}

static void delta_value(struct delta *d, const struct json *a,
    const struct json *b);

/* The member at "<path>/<tok>" (or <i>) changed from <a> to <b>. */
static void
delta_child(struct delta *d, const char *tok, size_t i, const struct json *a,
    const struct json *b)
{
	size_t len = tok != NULL ? delta_push(d, tok) : delta_push_idx(d, i);

	if (len == SIZE_MAX) {
		d->failed = 1;
		return;
	}
	delta_value(d, a, b);
	d->path[len] = '\0';
}

static void
delta_obj(struct delta *d, const struct json *a, const struct json *b)
{
	size_t i, n = json_len(a), len;
	const char *k;
	struct json *av;

	for (i = 0; i < n; i++) {
		k = json_key_at(a, i);
		if (json_get(b, k) != NULL)
			continue;
		if ((len = delta_push(d, k)) == SIZE_MAX) {
			d->failed = 1;
			return;
		}
		delta_op(d, "remove", NULL);
		d->path[len] = '\0';
	}
	n = json_len(b);
	for (i = 0; i < n; i++) {
		k = json_key_at(b, i);
		if ((av = json_get(a, k)) == NULL) {
			if ((len = delta_push(d, k)) == SIZE_MAX) {
				d->failed = 1;
				return;
			}
			delta_op(d, "add", json_get(b, k));
			d->path[len] = '\0';
		} else if (!json_same(av, json_get(b, k))) {
			delta_child(d, k, 0, av, json_get(b, k));
		}
	}
}

/* Whether the members of <a> that <b> keeps are in the same order there. */
static bool
delta_order_kept(const struct json *a, const struct delta_names *tb)
{
	size_t i, j, last = 0;
	bool first = true;

	for (i = 0; i < json_len(a); i++) {
		j = delta_names_find(tb, delta_name(json_at(a, i)));
		if (j == SIZE_MAX)
			continue;
		if (!first && j <= last)
			return false;
		last = j;
		first = false;
	}
	return true;
}

static void
delta_named(struct delta *d, const struct json *a, const struct json *b,
    const struct delta_names *ta, const struct delta_names *tb)
{
	size_t i, j, len;

	if (!delta_order_kept(a, tb)) {
		delta_op(d, "replace", b);
		return;
	}
	for (i = json_len(a); i > 0; i--) {
		if (delta_names_find(tb, delta_name(json_at(a, i - 1))) !=
		    SIZE_MAX)
			continue;
		if ((len = delta_push_idx(d, i - 1)) == SIZE_MAX) {
			d->failed = 1;
			return;
		}
		delta_op(d, "remove", NULL);
		d->path[len] = '\0';
	}
	for (j = 0; j < json_len(b); j++) {
		i = delta_names_find(ta, delta_name(json_at(b, j)));
		if (i == SIZE_MAX) {
			if ((len = delta_push_idx(d, j)) == SIZE_MAX) {
				d->failed = 1;
				return;
			}
			delta_op(d, "add", json_at(b, j));
			d->path[len] = '\0';
		} else if (!json_same(json_at(a, i), json_at(b, j))) {
			delta_child(d, NULL, j, json_at(a, i), json_at(b, j));
		}
	}
}

/* The usual change of a whole document after one item's write: the two
 * arrays hold the same values (shared pointers) but for at most one item
 * on each side, at the same index. Writes what delta_named() would (the
 * item's own delta, its remove, or its add) without indexing every name,
 * and returns true; false when it is not that case (a rename, unnamed
 * items, several changes).
 */
static bool
delta_arr_one(struct delta *d, const struct json *a, const struct json *b)
{
	size_t na = json_len(a), nb = json_len(b), p = 0, s = 0, len;
	const char *x, *y;

	while (p < na && p < nb && json_at(a, p) == json_at(b, p))
		p++;
	while (s < na - p && s < nb - p &&
	    json_at(a, na - 1 - s) == json_at(b, nb - 1 - s))
		s++;
	na -= p + s;
	nb -= p + s;
	if (na > 1 || nb > 1)
		return false;
	x = na == 1 ? delta_name(json_at(a, p)) : NULL;
	y = nb == 1 ? delta_name(json_at(b, p)) : NULL;
	if (na == 1 && nb == 1) {
		if (x == NULL || y == NULL || strcmp(x, y) != 0)
			return false;
		delta_child(d, NULL, p, json_at(a, p), json_at(b, p));
		return true;
	}
	if ((na == 1 && x == NULL) || (nb == 1 && y == NULL))
		return false;
	if (na + nb == 0)
		return true;
	if ((len = delta_push_idx(d, p)) == SIZE_MAX) {
		d->failed = 1;
		return true;
	}
	delta_op(d, na == 1 ? "remove" : "add", na == 1 ? NULL : json_at(b, p));
	d->path[len] = '\0';
	return true;
}

static void
delta_arr(struct delta *d, const struct json *a, const struct json *b)
{
	struct delta_names ta, tb;
	int ra, rb;
	size_t i;

	if (delta_arr_one(d, a, b))
		return;

	ra = delta_names_build(&ta, a);
	rb = ra == 1 ? delta_names_build(&tb, b) : 0;
	if (ra == -1 || rb == -1)
		d->failed = 1;
	else if (ra == 1 && rb == 1)
		delta_named(d, a, b, &ta, &tb);
	else if (json_len(a) != json_len(b))
		delta_op(d, "replace", b);
	else
		for (i = 0; i < json_len(a) && !d->failed; i++)
			if (!json_same(json_at(a, i), json_at(b, i)))
				delta_child(d, NULL, i, json_at(a, i),
				    json_at(b, i));
	delta_names_free(&ta);
	if (ra == 1)
		delta_names_free(&tb);
}

static void
delta_value(struct delta *d, const struct json *a, const struct json *b)
{
	if (d->failed)
		return;
	if (json_is_obj(a) && json_is_obj(b))
		delta_obj(d, a, b);
	else if (json_is_arr(a) && json_is_arr(b))
		delta_arr(d, a, b);
	else if (!json_same(a, b))
		delta_op(d, "replace", b);
}

struct json *
json_delta(const struct json *a, const struct json *b)
{
	struct delta *d = calloc(1, sizeof(*d));
	struct json *ops;

	if (d == NULL || (d->ops = json_new_arr()) == NULL) {
		free(d);
		return NULL;
	}
	if (!json_same(a, b))
		delta_value(d, a, b);
	ops = d->ops;
	if (d->failed) {
		json_unref(ops);
		ops = NULL;
	}
	free(d);
	return ops;
}
