/*
 * test_route.c: route_sort() order and route_match() on hand-built
 * listeners (no store involved): priority, host specificity, wildcards,
 * port and bracket stripping, trailing dots, case, methods and the
 * longest path prefix, through the host index (also at 10,000 routes).
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

#include "arena.h"
#include "cfg.h"
#include "route.h"

#define MAXR 16
#define MAXH 4

/* A route table as a test writes it. */
struct rdef {
	const char *name;
	int priority;
	const char *hosts[MAXH]; /* "a.example", "*.example"; NULL ends */
	const char *prefix;
	unsigned methods;
};

struct fixture {
	struct cfg_listener l;
	struct cfg_route routes[MAXR];
	struct cfg_host hosts[MAXR][MAXH];
	const struct cfg_route *order[MAXR];
};

/* The listener's routes (<order>, sorted) and host index, in one arena
 * reused by every build().
 */
static void
index_build(struct cfg_listener *l, const struct cfg_route *const *order,
    size_t n)
{
	static struct arena *a;

	if (a == NULL)
		a = arena_new(4096, 0);
	else
		arena_reset(a);
	assert_non_null(a);
	assert_int_equal(cfg_rseq_from(a, &l->routes, order, n), 0);
	assert_int_equal(route_index_listener(a, l), 0);
}

static void
build(struct fixture *f, const struct rdef *defs, size_t n)
{
	struct cfg_route *r;
	struct cfg_host *h;
	size_t i, j;

	assert_true(n <= MAXR);
	memset(f, 0, sizeof(*f));
	for (i = 0; i < n; i++) {
		r = &f->routes[i];
		r->id = (int64_t)i + 1;
		r->name = defs[i].name;
		r->priority = defs[i].priority;
		r->listener = &f->l;
		r->path_prefix = defs[i].prefix;
		r->path_prefix_len = strlen(defs[i].prefix);
		r->methods = defs[i].methods;
		r->hosts = f->hosts[i];
		for (j = 0; j < MAXH && defs[i].hosts[j] != NULL; j++) {
			h = &f->hosts[i][j];
			if (defs[i].hosts[j][0] == '*') {
				h->kind = CFG_HOST_WILDCARD;
				h->name = defs[i].hosts[j] + 1;
			} else {
				h->kind = CFG_HOST_EXACT;
				h->name = defs[i].hosts[j];
			}
			h->len = strlen(h->name);
		}
		r->nhosts = j;
		f->order[i] = r;
	}
	route_sort(f->order, n);
	index_build(&f->l, f->order, n);
}

/* clang-format off */
static const struct rdef table[] = {
	{ "any",       0,  { NULL },                        "/",        0 },
	{ "any-api",   0,  { NULL },                        "/api/",    0 },
	{ "app",       0,  { "app.example", NULL },         "/",        0 },
	{ "app-v1",    0,  { "app.example", NULL },         "/api/v1/", 0 },
	{ "app-v1w",   0,  { "app.example", NULL },         "/api/v1/", CFG_M_PUT | CFG_M_DELETE },
	{ "app-post",  0,  { "app.example", NULL },         "/",        CFG_M_POST },
	{ "wild",      0,  { "*.example", NULL },           "/",        0 },
	{ "wild-deep", 0,  { "*.eu.example", NULL },        "/",        0 },
	{ "v6",        0,  { "::1", "127.0.0.1", NULL },    "/",        0 },
	{ "vip",       5,  { "vip.example", NULL },         "/",        0 },
	{ "maint",     9,  { NULL },                        "/maintenance", 0 },
	{ "low",      -1,  { "low.example", NULL },         "/",        0 },
};

static const char *const want_order[] = {
	"maint", "vip", "app-v1w", "app-v1", "app-post", "app", "v6",
	"wild-deep", "wild", "any-api", "any", "low",
};

static const struct {
	const char *host;   /* raw Host value; NULL: none sent */
	const char *path;
	unsigned method;
	const char *want;   /* route name; NULL: no match */
} cases[] = {
	{ "app.example",          "/",              CFG_M_GET,    "app" },
	{ "APP.Example",          "/x",             CFG_M_GET,    "app" },
	{ "app.example:8080",     "/",              CFG_M_GET,    "app" },
	{ "app.example.",         "/",              CFG_M_GET,    "app" },
	{ "app.example.:443",     "/",              CFG_M_HEAD,   "app" },
	{ "app.example:",         "/",              CFG_M_GET,    "app" },
	{ " app.example ",        "/",              CFG_M_GET,    "app" },
	{ "app.example..",        "/",              CFG_M_GET,    "any" },
	{ "app.example",          "/api/v1/users",  CFG_M_GET,    "app-v1" },
	{ "app.example",          "/api/v1/users",  CFG_M_DELETE, "app-v1w" },
	{ "app.example",          "/api/v1",        CFG_M_DELETE, "app" },
	{ "app.example",          "/api/v2",        CFG_M_GET,    "app" },
	{ "app.example",          "/form",          CFG_M_POST,   "app-post" },
	{ "app.example",          "/form",          CFG_M_OTHER,  "app" },
	{ "app.example",          "/maintenance/x", CFG_M_GET,    "maint" },
	{ "app.example",          "/maintenance",   CFG_M_GET,    "maint" },
	{ "app.example",          "/maintenanc",    CFG_M_GET,    "app" },
	{ "vip.example",          "/",              CFG_M_GET,    "vip" },
	{ "low.example",          "/",              CFG_M_GET,    "wild" },
	{ "low.example",          "/api/",          CFG_M_GET,    "wild" },
	{ "www.example",          "/",              CFG_M_GET,    "wild" },
	{ "a.b.example",          "/",              CFG_M_GET,    "wild" },
	{ "x.eu.example",         "/",              CFG_M_GET,    "wild-deep" },
	{ "X.EU.EXAMPLE:1",       "/",              CFG_M_GET,    "wild-deep" },
	{ "eu.example",           "/",              CFG_M_GET,    "wild" },
	{ "example",              "/",              CFG_M_GET,    "any" },
	{ ".example",             "/",              CFG_M_GET,    "any" },
	{ "xexample",             "/",              CFG_M_GET,    "any" },
	{ "example.com",          "/api/",          CFG_M_GET,    "any-api" },
	{ "[::1]",                "/",              CFG_M_GET,    "v6" },
	{ "[::1]:8080",           "/",              CFG_M_GET,    "v6" },
	{ "127.0.0.1:8080",       "/",              CFG_M_GET,    "v6" },
	{ "::1",                  "/",              CFG_M_GET,    "any" },
	{ "[::1",                 "/",              CFG_M_GET,    "any" },
	{ "[::1]x",               "/",              CFG_M_GET,    "any" },
	{ "[::1]:80:80",          "/",              CFG_M_GET,    "any" },
	{ "[app.example]",        "/",              CFG_M_GET,    "any" },
	{ "app.example:80x",      "/",              CFG_M_GET,    "any" },
	{ "app.example:80:80",    "/",              CFG_M_GET,    "any" },
	{ "app.example/x",        "/",              CFG_M_GET,    "any" },
	{ "app\x01.example",      "/",              CFG_M_GET,    "any" },
	{ "",                     "/",              CFG_M_GET,    "any" },
	{ NULL,                   "/",              CFG_M_GET,    "any" },
	{ ":8080",                "/",              CFG_M_GET,    "any" },
	{ "app.example",          "",               CFG_M_GET,    NULL },
	{ "app.example",          "api",            CFG_M_GET,    NULL },
};
/* clang-format on */

static void
test_sort(void **state)
{
	struct fixture *f = malloc(sizeof(*f));
	size_t i, n = sizeof(table) / sizeof(table[0]);

	(void)state;
	assert_non_null(f);
	assert_int_equal(n, sizeof(want_order) / sizeof(want_order[0]));
	build(f, table, n);
	for (i = 0; i < n; i++)
		assert_string_equal(f->order[i]->name, want_order[i]);
	/* Sorting is deterministic whatever the input order. */
	for (i = 0; i < n / 2; i++) {
		const struct cfg_route *t = f->order[i];

		f->order[i] = f->order[n - 1 - i];
		f->order[n - 1 - i] = t;
	}
	route_sort(f->order, n);
	for (i = 0; i < n; i++)
		assert_string_equal(f->order[i]->name, want_order[i]);
	route_sort(f->order, 0);
	free(f);
}

static void
test_sort_ties(void **state)
{
	/* clang-format off */
	static const struct rdef defs[] = {
		{ "b-wild-short", 0, { "*.b.example", NULL },              "/", 0 },
		{ "a-mixed",      0, { "*.b.example", "a.example", NULL }, "/", 0 },
		{ "c-wild-long",  0, { "*.c.b.example", NULL },            "/", 0 },
		{ "d-exact",      0, { "d.example", NULL },                "/", 0 },
		{ "e-exact-long", 0, { "e.example", NULL },                "/e", 0 },
		{ "f-any-m",      0, { NULL },                             "/", CFG_M_GET },
		{ "g-any",        0, { NULL },                             "/", 0 },
	};
	static const char *const want[] = {
		"e-exact-long", "a-mixed", "d-exact", "c-wild-long",
		"b-wild-short", "f-any-m", "g-any",
	};
	/* clang-format on */
	struct fixture *f = malloc(sizeof(*f));
	size_t i;

	(void)state;
	assert_non_null(f);
	build(f, defs, sizeof(defs) / sizeof(defs[0]));
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_string_equal(f->order[i]->name, want[i]);
	free(f);
}

static void
test_match(void **state)
{
	struct fixture *f = malloc(sizeof(*f));
	const struct cfg_route *r;
	struct str host;
	size_t i;

	(void)state;
	assert_non_null(f);
	build(f, table, sizeof(table) / sizeof(table[0]));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		host =
		    cases[i].host != NULL ? str_cstr(cases[i].host) : STR_NULL;
		r = route_match(&f->l, host, str_cstr(cases[i].path),
		    cases[i].method);
		if (cases[i].want == NULL && r != NULL)
			fail_msg("case %zu (%s %s): got %s, want none", i,
			    cases[i].host, cases[i].path, r->name);
		if (cases[i].want != NULL &&
		    (r == NULL || strcmp(r->name, cases[i].want) != 0))
			fail_msg("case %zu (%s %s): got %s, want %s", i,
			    cases[i].host, cases[i].path,
			    r != NULL ? r->name : "none", cases[i].want);
	}
	free(f);
}

static void
test_no_routes(void **state)
{
	struct fixture *f = malloc(sizeof(*f));
	/* clang-format off */
	static const struct rdef only_hosts[] = {
		{ "a", 0, { "a.example", NULL }, "/", 0 },
		{ "b", 0, { "*.b.example", NULL }, "/", CFG_M_GET },
	};
	/* clang-format on */

	(void)state;
	assert_non_null(f);
	build(f, NULL, 0);
	assert_null(route_match(&f->l, STR_LIT("a.example"), STR_LIT("/"),
	    CFG_M_GET));
	build(f, only_hosts, 2);
	assert_null(route_match(&f->l, STR_LIT("c.example"), STR_LIT("/"),
	    CFG_M_GET));
	assert_null(route_match(&f->l, STR_NULL, STR_LIT("/"), CFG_M_GET));
	assert_null(route_match(&f->l, STR_LIT("x.b.example"), STR_LIT("/"),
	    CFG_M_POST));
	assert_null(route_match(&f->l, STR_LIT("x.b.example"), STR_LIT("/"),
	    0));
	assert_string_equal(route_match(&f->l, STR_LIT("x.b.example"),
	                        STR_LIT("/"), CFG_M_GET)
	                        ->name,
	    "b");
	free(f);
}

/* Host values need no NUL and are read only within their length. */
static void
test_host_not_terminated(void **state)
{
	struct fixture *f = malloc(sizeof(*f));
	static const char raw[] = "app.example:80GARBAGE";
	static const struct rdef defs[] = {
		{ "app", 0, { "app.example", NULL }, "/", 0 },
	};
	char buf[ROUTE_HOST_MAX];
	char big[ROUTE_HOST_MAX + 2];
	struct str h;

	(void)state;
	assert_non_null(f);
	build(f, defs, 1);
	assert_non_null(route_match(&f->l, str_make(raw, 14),
	    str_make("/xyz", 1), CFG_M_GET));
	assert_null(route_match(&f->l, str_make(raw, 15), STR_LIT("/"),
	    CFG_M_GET));

	h = route_host_normalize(STR_LIT("[FE80::1]:443"), buf);
	assert_int_equal(h.len, 7);
	assert_memory_equal(h.p, "fe80::1", 7);
	/* 255 bytes fit, 256 do not. */
	memset(big, 'a', sizeof(big));
	h = route_host_normalize(str_make(big, ROUTE_HOST_MAX), buf);
	assert_int_equal(h.len, ROUTE_HOST_MAX);
	h = route_host_normalize(str_make(big, ROUTE_HOST_MAX + 1), buf);
	assert_int_equal(h.len, 0);
	big[ROUTE_HOST_MAX] = '.';
	h = route_host_normalize(str_make(big, ROUTE_HOST_MAX + 1), buf);
	assert_int_equal(h.len, ROUTE_HOST_MAX);
	free(f);
}

/* 10,000 routes, each its own host, plus a wildcard and a catch-all:
 * every host finds its route through the index, in match order.
 */
#define SCALE_N 10000

struct scale {
	struct cfg_listener l;
	struct cfg_route r[SCALE_N + 3];
	struct cfg_host h[SCALE_N + 3];
	char names[SCALE_N][16];
	const struct cfg_route *order[SCALE_N + 3];
};

static void
scale_route(struct scale *s, size_t i, const char *host, const char *prefix,
    int prio)
{
	struct cfg_route *r = &s->r[i];

	r->id = (int64_t)i + 1;
	r->name = host != NULL ? host : "any";
	r->priority = prio;
	r->listener = &s->l;
	r->path_prefix = prefix;
	r->path_prefix_len = strlen(prefix);
	if (host != NULL) {
		s->h[i].kind =
		    host[0] == '*' ? CFG_HOST_WILDCARD : CFG_HOST_EXACT;
		s->h[i].name = host[0] == '*' ? host + 1 : host;
		s->h[i].len = strlen(s->h[i].name);
		r->hosts = &s->h[i];
		r->nhosts = 1;
	}
	s->order[i] = r;
}

static void
test_scale(void **state)
{
	struct scale *s = calloc(1, sizeof(*s));
	const struct cfg_route *r;
	char host[32];
	size_t i;

	(void)state;
	assert_non_null(s);
	for (i = 0; i < SCALE_N; i++) {
		snprintf(s->names[i], sizeof(s->names[i]), "h%zu.example", i);
		scale_route(s, i, s->names[i], "/", 0);
	}
	scale_route(s, SCALE_N, "*.w.example", "/", 0);
	scale_route(s, SCALE_N + 1, NULL, "/", 0);
	/* Above every host route, but only for its own path. */
	scale_route(s, SCALE_N + 2, NULL, "/maintenance", 1);
	route_sort(s->order, SCALE_N + 3);
	index_build(&s->l, s->order, SCALE_N + 3);
	for (i = 0; i < SCALE_N; i++) {
		snprintf(host, sizeof(host), "H%zu.Example:8080", i);
		r = route_match(&s->l, str_cstr(host), STR_LIT("/x"),
		    CFG_M_GET);
		assert_non_null(r);
		assert_ptr_equal(r, &s->r[i]);
		r = route_match(&s->l, str_cstr(host), STR_LIT("/maintenance"),
		    CFG_M_GET);
		assert_ptr_equal(r, &s->r[SCALE_N + 2]);
	}
	r = route_match(&s->l, STR_LIT("a.b.w.example"), STR_LIT("/"),
	    CFG_M_GET);
	assert_ptr_equal(r, &s->r[SCALE_N]);
	r = route_match(&s->l, STR_LIT("h10000.example"), STR_LIT("/"),
	    CFG_M_GET);
	assert_ptr_equal(r, &s->r[SCALE_N + 1]);
	r = route_match(&s->l, STR_NULL, STR_LIT("/"), CFG_M_GET);
	assert_ptr_equal(r, &s->r[SCALE_N + 1]);
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sort),
		cmocka_unit_test(test_sort_ties),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_no_routes),
		cmocka_unit_test(test_host_not_terminated),
		cmocka_unit_test(test_scale),
	};

	return cmocka_run_group_tests_name("route", tests, NULL, NULL);
}
