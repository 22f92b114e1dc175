/*
 * test_api_config.c: the configuration document of the admin API:
 * field-path errors from conf_check_item()/conf_check(), and
 * conf_sync()/conf_load() round trips on an in-memory store that keep the
 * ids of objects that stay (renames and name swaps included), feeding a
 * snapshot that cfg_compile() accepts.
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
#include "cfg.h"
#include "cfg_field.h"
#include "json.h"
#include "store.h"

static struct json *
P(const char *s)
{
	struct err e;
	struct json *j = json_parse(s, strlen(s), &e);

	if (j == NULL)
		fail_msg("parse %s: %s", s, e.msg);
	return j;
}

static void
item_err(enum conf_kind k, const char *item, const char *field, const char *msg)
{
	struct json *j = P(item);
	struct err e;

	err_clear(&e);
	assert_int_equal(conf_check_item(k, j, "", &e), -1);
	assert_string_equal(e.field, field);
	if (msg != NULL)
		assert_string_equal(e.msg, msg);
	json_unref(j);
}

static void
item_ok(enum conf_kind k, const char *item)
{
	struct json *j = P(item);
	struct err e;

	err_clear(&e);
	if (conf_check_item(k, j, "", &e) != 0)
		fail_msg("%s: %s: %s", item, e.field, e.msg);
	json_unref(j);
}

static void
test_items(void **state)
{
	item_ok(CONF_ORIGINS,
	    "{\"name\":\"web\",\"servers\":[{\"address\":\"127.0.0.1\","
	    "\"port\":8081,\"weight\":1},{\"address\":\"::1\",\"port\":1}]}");
	item_err(CONF_ORIGINS,
	    "{\"name\":\"web\",\"servers\":[{\"address\":\"127.0.0.1\","
	    "\"port\":1},{\"address\":\"127.0.0.1\",\"port\":2},"
	    "{\"address\":\"127.0.0.1\",\"port\":65536}]}",
	    "servers[2].port", "65536 is out of range 1..65535");
	item_err(CONF_ORIGINS, "{\"name\":\"web\",\"servers\":[]}", "servers",
	    "needs at least one server");
	item_err(CONF_ORIGINS,
	    "{\"name\":\"web\",\"servers\":[{\"address\":\"example.com\",\"port\":1}]}",
	    "servers[0].address", NULL);
	item_err(CONF_ORIGINS, "{\"name\":\"w\",\"servers\":[],\"x\":1}", "x",
	    "unknown field");
	item_ok(CONF_LISTENERS,
	    "{\"name\":\"public\",\"address\":\"0.0.0.0\",\"port\":8080,"
	    "\"protocol\":\"http\",\"timeouts\":{\"header_ms\":1,\"keepalive_ms\":0},"
	    "\"trust_forwarded\":true}");
	item_err(CONF_LISTENERS, "{\"name\":\"p\",\"address\":\"0.0.0.0\"}",
	    "port", "is required");
	item_err(CONF_LISTENERS,
	    "{\"name\":\"p\",\"address\":\"0.0.0.0\",\"port\":1,"
	    "\"timeouts\":{\"keepalive_ms\":-1}}",
	    "timeouts.keepalive_ms", NULL);
	item_ok(CONF_ROUTES,
	    "{\"name\":\"app\",\"listener\":\"public\",\"match\":{\"hosts\":"
	    "[\"app.example\",\"*.app.example\",\"[::1]\",\"APP2.example.\"],"
	    "\"path_prefix\":\"/\",\"methods\":[\"GET\",\"POST\"]},\"origin\":\"web\","
	    "\"forwarded\":true,\"max_body_bytes\":16777216,"
	    "\"timeouts\":{\"response_ms\":5000}}");
	item_err(CONF_ROUTES,
	    "{\"name\":\"a\",\"listener\":\"l\",\"origin\":\"o\",\"match\":"
	    "{\"hosts\":[\"ok.example\",\"a..b\"]}}",
	    "match.hosts[1]", "\"a..b\" is not a host name");
	item_err(CONF_ROUTES,
	    "{\"name\":\"a\",\"listener\":\"l\",\"origin\":\"o\",\"match\":"
	    "{\"hosts\":[\"x.example\",\"X.example\"]}}",
	    "match.hosts[1]", NULL);
	item_err(CONF_ROUTES,
	    "{\"name\":\"a\",\"listener\":\"l\",\"origin\":\"o\",\"match\":"
	    "{\"path_prefix\":\"/a b\"}}",
	    "match.path_prefix", NULL);
	item_err(CONF_ROUTES, "{\"name\":\"a\",\"origin\":\"o\"}", "listener",
	    "is required");
	item_err(CONF_ROUTES,
	    "{\"name\":\"a\",\"listener\":\"l\",\"origin\":\"o\",\"priority\":1.5}",
	    "priority", "must be an integer");
	item_err(CONF_ROUTES, "[]", "", "must be an object");
}

static const char *doc1 =
    "{\"listeners\":[{\"name\":\"public\",\"address\":\"127.0.0.1\",\"port\":0}],"
    "\"origins\":[{\"name\":\"web\",\"servers\":[{\"address\":\"127.0.0.1\","
    "\"port\":8081},{\"address\":\"127.0.0.1\",\"port\":8082,\"weight\":3}]},"
    "{\"name\":\"alt\",\"servers\":[{\"address\":\"::1\",\"port\":9000}]}],"
    "\"routes\":[{\"name\":\"app\",\"listener\":\"public\",\"origin\":\"web\","
    "\"match\":{\"hosts\":[\"app.example\"]}}]}";

static void
test_doc_check(void **state)
{
	struct json *d = P(doc1), *bad;
	struct err e;

	err_clear(&e);
	assert_int_equal(conf_check(d, &e), 0);
	bad = json_clone(d);
	json_set(json_at(json_get(bad, "routes"), 0), "origin",
	    json_new_str("nope"));
	assert_int_equal(conf_check(bad, &e), -1);
	assert_string_equal(e.field, "routes[0].origin");
	assert_string_equal(e.msg, "no origin named \"nope\"");
	json_unref(bad);
	bad = json_clone(d);
	json_append(json_get(bad, "origins"),
	    json_clone(json_at(json_get(bad, "origins"), 0)));
	assert_int_equal(conf_check(bad, &e), -1);
	assert_string_equal(e.field, "origins[2].name");
	json_unref(bad);
	bad = P("{\"listeners\":[],\"extra\":[]}");
	assert_int_equal(conf_check(bad, &e), -1);
	assert_string_equal(e.field, "extra");
	json_unref(bad);
	json_unref(d);
}

static struct store *
mem_store(void)
{
	struct err e;
	struct store *st = store_open(":memory:", STORE_F_CREATE, &e);

	assert_non_null(st);
	assert_int_equal(store_migrate(st, &e), 0);
	return st;
}

static struct json *
sync_load(struct store *st, struct json *doc)
{
	struct err e;
	struct json *out, *old;

	err_clear(&e);
	old = conf_load(st, &e);
	assert_non_null(old);
	if (conf_sync(st, old, doc, &e) != 0)
		fail_msg("sync: %s: %s", e.field, e.msg);
	json_unref(old);
	out = conf_load(st, &e);
	assert_non_null(out);
	return out;
}

static int64_t
id_of(struct json *doc, enum conf_kind k, const char *name)
{
	struct json *it = conf_find(doc, k, name, NULL);

	assert_non_null(it);
	return json_int(json_get(it, "id"));
}

static void
test_sync_roundtrip(void **state)
{
	struct store *st = mem_store();
	struct json *d = P(doc1), *got, *again, *sw;
	struct cfg *c;
	struct err e;
	int64_t web, alt, srv;

	got = sync_load(st, d);
	assert_int_equal(json_len(json_get(got, "origins")), 2);
	web = id_of(got, CONF_ORIGINS, "web");
	alt = id_of(got, CONF_ORIGINS, "alt");
	srv = json_int(json_get(json_at(json_get(conf_find(got, CONF_ORIGINS,
	                                             "web", NULL),
	                                    "servers"),
	                            1),
	    "id"));
	assert_int_equal(json_int(json_get(json_at(json_get(conf_find(got,
	                                                        CONF_ORIGINS,
	                                                        "web", NULL),
	                                               "servers"),
	                                       1),
	                     "weight")),
	    3);
	/* Loading and syncing what was loaded changes nothing. */
	again = sync_load(st, got);
	assert_true(json_same(again, got));
	json_unref(again);

	/* Swap the origin names (ids given): ids follow the objects. */
	sw = json_clone(got);
	json_set(json_at(json_get(sw, "origins"), 0), "name",
	    json_new_str("alt"));
	json_set(json_at(json_get(sw, "origins"), 1), "name",
	    json_new_str("web"));
	json_set(json_at(json_get(sw, "routes"), 0), "origin",
	    json_new_str("alt"));
	again = sync_load(st, sw);
	assert_int_equal(id_of(again, CONF_ORIGINS, "alt"), web);
	assert_int_equal(id_of(again, CONF_ORIGINS, "web"), alt);
	assert_string_equal(json_str(json_get(json_at(json_get(again, "routes"),
	                                          0),
	                        "origin")),
	    "alt");
	/* The server on 8082 kept its id through the rename. */
	assert_int_equal(json_int(json_get(json_at(json_get(conf_find(again,
	                                                        CONF_ORIGINS,
	                                                        "alt", NULL),
	                                               "servers"),
	                                       1),
	                     "id")),
	    srv);
	err_clear(&e);
	c = cfg_compile(st, &e);
	if (c == NULL)
		fail_msg("compile: %s: %s", e.field, e.msg);
	assert_int_equal(c->norigins, 2);
	assert_int_equal(c->routes.n, 1);
	assert_int_equal(cfg_rseq_at(&c->routes, 0)->origin->id, web);
	cfg_unref(c);
	json_unref(again);
	json_unref(sw);

	/* Everything removed. */
	json_unref(d);
	d = P("{\"listeners\":[],\"origins\":[],\"access_lists\":[],"
	      "\"rate_limits\":[],\"error_pages\":[],\"routes\":[]}");
	again = sync_load(st, d);
	assert_true(json_same(again, d));
	json_unref(again);
	json_unref(got);
	json_unref(d);
	store_close(st);
}

/* ---- every range of the field tables, at both bounds ---- */

static const char *const minimal[CONF__KINDS] = {
	[CONF_ACCESS_LISTS] = "{\"name\":\"a\"}",
	[CONF_RATE_LIMITS] = "{\"name\":\"r\",\"rate\":1}",
	[CONF_ERROR_PAGES] = "{\"name\":\"e\"}",
	[CONF_LISTENERS] = "{\"name\":\"l\",\"address\":\"127.0.0.1\","
	                   "\"port\":1}",
	[CONF_ORIGINS] = "{\"name\":\"o\",\"servers\":[{\"address\":"
	                 "\"127.0.0.1\",\"port\":1}],\"health_check\":"
	                 "{\"path\":\"/\",\"interval_ms\":3600000,"
	                 "\"timeout_ms\":10,\"status_min\":100,"
	                 "\"status_max\":599},\"queue\":{\"max\":1},"
	                 "\"sticky\":{\"cookie\":\"c\"},\"passive_health\":"
	                 "{\"consecutive_failures\":1}}",
	[CONF_ROUTES] = "{\"name\":\"r\",\"listener\":\"l\","
	                "\"origin\":\"o\",\"redirect\":{\"to\":\"/x\"},"
	                "\"retries\":{\"attempts\":1},"
	                "\"compress\":{\"types\":[]}}",
};

/* <item> with field <i> of <k> set to <v> (objects made as needed);
 * <obj> is where the field's object is, <field> its path.
 */
static void
set_field(struct json *obj, const struct cf_kind *k, int i, int64_t v)
{
	struct json *o = obj;

	if (k->f[i].parent >= 0) {
		o = json_get(obj, k->f[k->f[i].parent].key);
		if (!json_is_obj(o)) {
			o = json_new_obj();
			json_set(obj, k->f[k->f[i].parent].key, o);
		}
	}
	json_set(o, k->f[i].key, json_new_int(v));
}

/* Item of <kind> with field <i> (of <k>, the kind or its servers) = <v>:
 * accepted, or refused naming exactly that field.
 */
static void
bound(enum conf_kind kind, const struct cf_kind *k, int i, int64_t v, bool ok)
{
	struct json *it = P(minimal[kind]), *target = it;
	char want[128], path[96];
	struct errs *l = calloc(1, sizeof(*l));
	int rc;

	assert_non_null(l);
	cf_path(k, i, path, sizeof(path));
	snprintf(want, sizeof(want), "%s%s",
	    k != conf_kind(kind) ? "servers[0]." : "", path);
	if (k != conf_kind(kind))
		target = json_at(json_get(it, "servers"), 0);
	set_field(target, k, i, v);
	rc = conf_check_item_all(kind, it, "", l);
	if (ok && rc != 0)
		fail_msg("%s.%s = %lld refused: %s: %s", k->coll, want,
		    (long long)v, l->v[0].field, l->v[0].msg);
	if (!ok) {
		if (rc == 0)
			fail_msg("%s.%s = %lld accepted", k->coll, want,
			    (long long)v);
		assert_int_equal(l->n, 1);
		assert_string_equal(l->v[0].field, want);
	}
	json_unref(it);
	free(l);
}

static void
test_every_range_at_its_bounds(void **state)
{
	const struct cf_kind *k;
	const struct cf_field *f;
	size_t n = 0, i;
	int kind, sub;

	(void)state;
	for (kind = 0; kind < CONF__KINDS; kind++) {
		for (sub = 0; sub < 2; sub++) {
			k = sub == 0 ? conf_kind((enum conf_kind)kind)
			             : &cf_kinds[CK_SERVER];
			if (sub == 1 && kind != CONF_ORIGINS)
				continue;
			for (i = 0; i < k->n; i++) {
				f = &k->f[i];
				if (f->type != F_INT && f->type != F_ID)
					continue;
				bound((enum conf_kind)kind, k, (int)i, f->min,
				    true);
				bound((enum conf_kind)kind, k, (int)i, f->max,
				    true);
				bound((enum conf_kind)kind, k, (int)i,
				    f->min - 1, false);
				if (f->max < INT64_MAX)
					bound((enum conf_kind)kind, k, (int)i,
					    f->max + 1, false);
				n++;
			}
		}
	}
	/* Every kind has ranges, so a table walk that saw none is broken. */
	assert_true(n >= 20);
}

/* A user or token {"name": "alice"} with field <i> of <k> set to <v>:
 * accepted, or refused naming that field.
 */
static void
kind_bound(const struct cf_kind *k, int i, struct json *v, bool ok)
{
	struct json *it = json_new_obj();
	struct err e;
	int rc;

	json_set(it, "name", json_new_str("alice"));
	json_set(it, k->f[i].key, v);
	err_clear(&e);
	rc = conf_check_kind(k, it, &e);
	if (ok && rc != 0)
		fail_msg("%s.%s refused: %s: %s", k->coll, k->f[i].key, e.field,
		    e.msg);
	if (!ok) {
		if (rc == 0)
			fail_msg("%s.%s accepted", k->coll, k->f[i].key);
		assert_string_equal(e.field, k->f[i].key);
	}
	json_unref(it);
}

static struct json *
str_of(size_t n)
{
	char buf[2048];

	assert_true(n < sizeof(buf));
	memset(buf, 'a', n);
	buf[n] = '\0';
	return json_new_str(buf);
}

/* Users and tokens (api_users.c): every field of their tables at its
 * bounds; read-only fields are ignored whatever they hold.
 */
static void
test_users_tokens_at_bounds(void **state)
{
	static const enum cf_kind_id kinds[] = { CK_USER, CK_TOKEN };
	const struct cf_kind *k;
	const struct cf_field *f;
	struct json *it;
	struct err e;
	size_t i, j, n = 0;

	(void)state;
	for (j = 0; j < sizeof(kinds) / sizeof(kinds[0]); j++) {
		k = &cf_kinds[kinds[j]];
		for (i = 0; i < k->n; i++) {
			f = &k->f[i];
			n++;
			if ((f->flags & F_READONLY) != 0) {
				kind_bound(k, (int)i, json_new_int(-1), true);
				kind_bound(k, (int)i, str_of(2000), true);
				continue;
			}
			switch (f->type) {
			case F_ID:
			case F_INT:
				kind_bound(k, (int)i, json_new_int(f->min),
				    true);
				kind_bound(k, (int)i, json_new_int(f->max),
				    true);
				kind_bound(k, (int)i, json_new_int(f->min - 1),
				    false);
				if (f->max < INT64_MAX)
					kind_bound(k, (int)i,
					    json_new_int(f->max + 1), false);
				kind_bound(k, (int)i, json_new_str("1"), false);
				break;
			case F_STR:
				kind_bound(k, (int)i, str_of((size_t)f->max),
				    true);
				kind_bound(k, (int)i,
				    str_of((size_t)f->max + 1), false);
				kind_bound(k, (int)i, json_new_int(1), false);
				break;
			case F_ENUM:
				kind_bound(k, (int)i, json_new_str(f->enums[0]),
				    true);
				kind_bound(k, (int)i, json_new_str(f->enums[1]),
				    true);
				kind_bound(k, (int)i, json_new_str("root"),
				    false);
				break;
			default:
				fail_msg("%s.%s: no bound test", k->coll,
				    f->key);
			}
		}
		/* The name is required; unknown keys are refused. */
		it = P("{}");
		assert_int_equal(conf_check_kind(k, it, &e), -1);
		assert_string_equal(e.field, "name");
		json_unref(it);
		it = P("{\"name\":\"a\",\"x\":1}");
		assert_int_equal(conf_check_kind(k, it, &e), -1);
		assert_string_equal(e.field, "x");
		json_unref(it);
	}
	assert_int_equal(n, UF__N + TF__N);
}

/* Every error of an item in one answer, each with its path. */
static void
test_every_error_at_once(void **state)
{
	struct json *it =
	    P("{\"name\":\"9\",\"listener\":\"l\","
	      "\"origin\":\"o\",\"priority\":1000001,\"match\":{\"hosts\":"
	      "[\"a..b\"],\"methods\":[\"GET\",\"GET\"]},\"x\":1}");
	struct errs *l = calloc(1, sizeof(*l));

	(void)state;
	assert_non_null(l);
	assert_int_equal(conf_check_item_all(CONF_ROUTES, it, "routes[3]", l),
	    -1);
	assert_int_equal(l->n, 5);
	assert_string_equal(l->v[0].field, "routes[3].x");
	assert_string_equal(l->v[1].field, "routes[3].name");
	assert_string_equal(l->v[2].field, "routes[3].match.hosts[0]");
	assert_string_equal(l->v[3].field, "routes[3].match.methods[1]");
	assert_string_equal(l->v[3].msg, "\"GET\" is listed twice");
	assert_string_equal(l->v[4].field, "routes[3].priority");
	json_unref(it);
	free(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_items),
		cmocka_unit_test(test_doc_check),
		cmocka_unit_test(test_every_range_at_its_bounds),
		cmocka_unit_test(test_users_tokens_at_bounds),
		cmocka_unit_test(test_every_error_at_once),
		cmocka_unit_test(test_sync_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
