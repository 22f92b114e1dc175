/*
 * test_cfg_compile.c: store rows -> snapshot, on in-memory SQLite with the
 * real migrations and the fixtures in tests/unit/fixtures/. Each
 * validation rule is checked against its exact error path and message,
 * since both are API output.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cmocka.h needs stdarg.h, stddef.h and setjmp.h first. */
#include <cmocka.h>

#include "cfg.h"
#include "log.h"
#include "route.h"
#include "store.h"

#ifndef FIXTURES_DIR
#error "FIXTURES_DIR must name tests/unit/fixtures"
#endif

/* An in-memory store, migrated, with fixture <name> (NULL: none) and then
 * <sql> (NULL: none) applied.
 */
static struct store *
db_with(const char *name, const char *sql)
{
	char path[512], *buf;
	struct store *st;
	struct err e;
	size_t len;
	FILE *f;

	st = store_open(":memory:", 0, &e);
	assert_non_null(st);
	assert_int_equal(store_migrate(st, &e), 0);
	if (name != NULL) {
		snprintf(path, sizeof(path), "%s/%s", FIXTURES_DIR, name);
		f = fopen(path, "rb");
		assert_non_null(f);
		buf = malloc(1 << 16);
		assert_non_null(buf);
		len = fread(buf, 1, (1 << 16) - 1, f);
		fclose(f);
		buf[len] = '\0';
		if (store_exec(st, buf, &e) == -1)
			fail_msg("%s: %s", name, e.msg);
		free(buf);
	}
	if (sql != NULL && store_exec(st, sql, &e) == -1)
		fail_msg("%s: %s", sql, e.msg);
	return st;
}

static struct cfg *
compile_ok(struct store *st)
{
	struct cfg *c;
	struct err e;

	c = cfg_compile(st, &e);
	if (c == NULL)
		fail_msg("compile failed: %s: %s", e.field, e.msg);
	assert_int_equal(c->magic, CFG_MAGIC);
	assert_int_equal(atomic_load(&c->refs), 1);
	return c;
}

static void
test_empty(void **state)
{
	struct store *st = db_with(NULL, NULL);
	struct cfg *c = compile_ok(st);

	(void)state;
	assert_int_equal(c->nlisteners, 0);
	assert_int_equal(c->routes.n, 0);
	assert_int_equal(c->norigins, 0);
	assert_int_equal(c->revision, 0);
	assert_null(cfg_listener_by_id(c, 1));
	assert_null(cfg_origin_by_id(c, 1));
	cfg_unref(c);
	store_close(st);
}

static void
check_base_listeners(const struct cfg *c)
{
	const struct cfg_listener *l;
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;

	assert_int_equal(c->nlisteners, 3);
	l = &c->listeners[0];
	assert_int_equal(l->id, 1);
	assert_string_equal(l->name, "public");
	assert_string_equal(l->address, "0.0.0.0");
	assert_int_equal(l->port, 8080);
	assert_int_equal(l->proto, CFG_PROTO_HTTP);
	sin = (const struct sockaddr_in *)&l->sa;
	assert_int_equal(l->salen, sizeof(*sin));
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(sin->sin_port, htons(8080));
	assert_int_equal(sin->sin_addr.s_addr, htonl(INADDR_ANY));
	assert_int_equal(l->header_ms, CFG_DEF_HEADER_MS);
	assert_int_equal(l->keepalive_ms, CFG_DEF_KEEPALIVE_MS);
	assert_false(l->trust_forwarded);
	assert_int_equal(l->routes.n, 2);
	/* Priority beats host and prefix: "app" (0) before "api" (-3). */
	assert_string_equal(cfg_rseq_at(&l->routes, 0)->name, "app");
	assert_string_equal(cfg_rseq_at(&l->routes, 1)->name, "api");

	l = &c->listeners[1];
	assert_int_equal(l->id, 2);
	assert_string_equal(l->name, "v6");
	assert_int_equal(l->proto, CFG_PROTO_HTTPS);
	sin6 = (const struct sockaddr_in6 *)&l->sa;
	assert_int_equal(l->salen, sizeof(*sin6));
	assert_int_equal(sin6->sin6_family, AF_INET6);
	assert_int_equal(sin6->sin6_port, htons(8443));
	assert_true(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
	assert_int_equal(l->header_ms, 2000);
	assert_int_equal(l->keepalive_ms, 0);
	assert_true(l->trust_forwarded);
	assert_int_equal(l->routes.n, 1);
	assert_string_equal(cfg_rseq_at(&l->routes, 0)->name, "tls");

	l = &c->listeners[2];
	assert_int_equal(l->id, 5);
	assert_string_equal(l->name, "idle");
	assert_int_equal(l->proto, CFG_PROTO_TCP);
	assert_int_equal(l->port, 0);
	assert_int_equal(l->routes.n, 0);
	assert_ptr_equal(cfg_listener_by_id(c, 5), l);
	assert_ptr_equal(cfg_listener_by_id(c, 1), &c->listeners[0]);
	assert_null(cfg_listener_by_id(c, 3));
}

static void
check_base_origins(const struct cfg *c)
{
	const struct cfg_origin *o;

	assert_int_equal(c->norigins, 3);
	o = cfg_origin_by_id(c, 1);
	assert_ptr_equal(o, &c->origins[0]);
	assert_string_equal(o->name, "web");
	assert_int_equal(o->nservers, 2);
	assert_int_equal(o->total_weight, 4);
	assert_int_equal(o->servers[0].id, 11);
	assert_string_equal(o->servers[0].label, "[::1]:8082");
	assert_string_equal(o->servers[0].address, "::1");
	assert_int_equal(o->servers[0].weight, 3);
	assert_int_equal(o->servers[0].sa.ss_family, AF_INET6);
	assert_int_equal(o->servers[0].salen, sizeof(struct sockaddr_in6));
	assert_ptr_equal(o->servers[0].origin, o);
	assert_int_equal(o->servers[1].id, 10);
	assert_string_equal(o->servers[1].label, "127.0.0.1:8081");
	assert_int_equal(o->servers[1].port, 8081);
	assert_int_equal(((const struct sockaddr_in *)&o->servers[1].sa)
	                     ->sin_port,
	    htons(8081));

	o = cfg_origin_by_id(c, 2);
	assert_string_equal(o->name, "api");
	assert_int_equal(o->nservers, 1);
	assert_int_equal(o->total_weight, 5);
	assert_string_equal(o->servers[0].label, "10.0.0.2:9000");

	o = cfg_origin_by_id(c, 3);
	assert_string_equal(o->name, "empty");
	assert_int_equal(o->nservers, 0);
	assert_int_equal(o->total_weight, 0);
	assert_null(cfg_origin_by_id(c, 4));
	assert_null(cfg_origin_by_id(c, 0));
}

static void
check_base_routes(const struct cfg *c)
{
	const struct cfg_route *r;

	assert_int_equal(c->routes.n, 3);
	r = cfg_rseq_at(&c->routes, 0);
	assert_string_equal(r->name, "app");
	assert_int_equal(r->priority, 0);
	assert_ptr_equal(r->listener, &c->listeners[0]);
	assert_ptr_equal(r->origin, &c->origins[0]);
	assert_int_equal(r->nhosts, 4);
	assert_int_equal(r->hosts[0].kind, CFG_HOST_EXACT);
	assert_string_equal(r->hosts[0].name, "app.example");
	assert_int_equal(r->hosts[0].len, 11);
	assert_int_equal(r->hosts[1].kind, CFG_HOST_WILDCARD);
	assert_string_equal(r->hosts[1].name, ".apps.example");
	assert_int_equal(r->hosts[1].len, 13);
	assert_int_equal(r->hosts[2].kind, CFG_HOST_EXACT);
	assert_string_equal(r->hosts[2].name, "::1");
	assert_string_equal(r->hosts[3].name, "b.example");
	assert_int_equal(r->hosts[3].len, 9);
	assert_string_equal(r->path_prefix, "/");
	assert_int_equal(r->path_prefix_len, 1);
	assert_int_equal(r->methods, 0);
	assert_false(r->forwarded);
	assert_int_equal(r->max_body_bytes, 0);
	assert_int_equal(r->connect_ms, CFG_DEF_CONNECT_MS);
	assert_int_equal(r->response_ms, CFG_DEF_RESPONSE_MS);
	assert_int_equal(r->idle_ms, CFG_DEF_IDLE_MS);

	r = cfg_rseq_at(&c->routes, 1);
	assert_string_equal(r->name, "api");
	assert_int_equal(r->priority, -3);
	assert_ptr_equal(r->origin, &c->origins[1]);
	assert_int_equal(r->nhosts, 1);
	assert_string_equal(r->path_prefix, "/api/");
	assert_int_equal(r->path_prefix_len, 5);
	assert_int_equal(r->methods, CFG_M_GET | CFG_M_POST);
	assert_true(r->forwarded);
	assert_int_equal(r->max_body_bytes, 1048576);
	assert_int_equal(r->connect_ms, 1000);
	assert_int_equal(r->response_ms, 2000);
	assert_int_equal(r->idle_ms, 3000);

	r = cfg_rseq_at(&c->routes, 2);
	assert_string_equal(r->name, "tls");
	assert_int_equal(r->nhosts, 0);
	assert_null(r->hosts);
	assert_ptr_equal(r->listener, &c->listeners[1]);
}

static void
test_base(void **state)
{
	struct store *st = db_with("base.sql", NULL);
	struct cfg *c = compile_ok(st);

	(void)state;
	assert_int_equal(c->revision, 2);
	check_base_listeners(c);
	check_base_origins(c);
	check_base_routes(c);
	assert_ptr_equal(route_match(&c->listeners[0], STR_LIT("B.Example:80"),
	                     STR_LIT("/x"), CFG_M_GET),
	    cfg_rseq_at(&c->routes, 0));
	assert_null(route_match(&c->listeners[0], STR_LIT("other.example"),
	    STR_LIT("/"), CFG_M_GET));
	cfg_unref(c);
	store_close(st);
}

static void
test_order(void **state)
{
	static const char *const want[] = { "prio", "exact-api", "exact-get",
		"exact-first", "exact-dup", "mixed", "wild-long-api",
		"wild-long", "wild-short", "any-api", "any-root", "neg" };
	struct store *st = db_with("order.sql", NULL);
	struct cfg *c = compile_ok(st);
	const struct cfg_listener *l = &c->listeners[0];
	size_t i;

	(void)state;
	assert_int_equal(l->routes.n, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < l->routes.n; i++)
		assert_string_equal(cfg_rseq_at(&l->routes, i)->name, want[i]);
	/* c->routes stays in id order. */
	assert_string_equal(cfg_rseq_at(&c->routes, 0)->name, "exact-first");
	assert_string_equal(cfg_rseq_at(&c->routes, 11)->name, "wild-long-api");
	cfg_unref(c);
	store_close(st);
}

/* clang-format off */
#define METHODS "(GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, CONNECT, TRACE)"
static const struct {
	const char *sql;   /* applied on top of base.sql */
	const char *field; /* expected error path; NULL: compiles */
	const char *msg;
} cases[] = {
	/* Listener addresses are numeric literals. */
	{ "UPDATE listeners SET address = 'localhost' WHERE name = 'public'",
	  "listeners[public].address", "\"localhost\" is not a numeric IPv4 or IPv6 address" },
	{ "UPDATE listeners SET address = '[::1]' WHERE name = 'v6'",
	  "listeners[v6].address", "\"[::1]\" is not a numeric IPv4 or IPv6 address" },
	{ "UPDATE listeners SET address = '' WHERE name = 'idle'",
	  "listeners[idle].address", "\"\" is not a numeric IPv4 or IPv6 address" },
	{ "UPDATE listeners SET address = '10.1' WHERE name = 'idle'",
	  "listeners[idle].address", "\"10.1\" is not a numeric IPv4 or IPv6 address" },
	/* Server addresses too; the index follows position. */
	{ "UPDATE servers SET address = 'web1.local' WHERE id = 10",
	  "origins[web].servers[1].address", "\"web1.local\" is not a numeric IPv4 or IPv6 address" },
	{ "UPDATE servers SET address = '1.2.3' WHERE id = 11",
	  "origins[web].servers[0].address", "\"1.2.3\" is not a numeric IPv4 or IPv6 address" },
	/* Duplicate listen addresses. */
	{ "INSERT INTO listeners (name, address, port) VALUES ('dup', '0.0.0.0', 8080)",
	  "listeners[dup].port", "0.0.0.0:8080 is already used by listener \"public\"" },
	{ "INSERT INTO listeners (name, address, port) VALUES ('dup6', '::1', 8443)",
	  "listeners[dup6].port", "[::1]:8443 is already used by listener \"v6\"" },
	{ "INSERT INTO listeners (name, address, port, protocol)"
	  " VALUES ('dup6', '0:0::0:1', 8443, 'tcp')",
	  "listeners[dup6].port", "[0:0::0:1]:8443 is already used by listener \"v6\"" },
	{ "INSERT INTO listeners (name, address, port) VALUES ('zero', '127.0.0.1', 0)",
	  NULL, NULL },
	{ "INSERT INTO listeners (name, address, port, protocol)"
	  " VALUES ('dns', '0.0.0.0', 8080, 'udp')", NULL, NULL },
	{ "INSERT INTO listeners (name, address, port) VALUES ('lo', '127.0.0.1', 8080)",
	  NULL, NULL },
	{ "INSERT INTO listeners (name, address, port) VALUES ('any6', '::', 8080)",
	  NULL, NULL },
	/* An origin without servers only matters when a route uses it. */
	{ "UPDATE routes SET origin_id = 3 WHERE name = 'tls'",
	  "routes[tls].origin", "origin \"empty\" has no servers" },
	{ "DELETE FROM servers WHERE origin_id = 2",
	  "routes[api].origin", "origin \"api\" has no servers" },
	{ "DELETE FROM routes", NULL, NULL },
	/* Hosts. */
	{ "UPDATE routes SET hosts = '[\"ok.example\", \"a b\"]' WHERE name = 'app'",
	  "routes[app].hosts[1]", "\"a b\" is not a host name" },
	{ "UPDATE routes SET hosts = '[\"-a.example\"]' WHERE name = 'app'",
	  "routes[app].hosts[0]", "\"-a.example\" is not a host name" },
	{ "UPDATE routes SET hosts = '[\"a-.example\"]' WHERE name = 'app'",
	  "routes[app].hosts[0]", "\"a-.example\" is not a host name" },
	{ "UPDATE routes SET hosts = '[\"a..example\"]' WHERE name = 'app'",
	  "routes[app].hosts[0]", "\"a..example\" is not a host name" },
	{ "UPDATE routes SET hosts = '[\".example\"]' WHERE name = 'app'",
	  "routes[app].hosts[0]", "\".example\" is not a host name" },
	{ "UPDATE routes SET hosts = '[\"a_b.example\"]' WHERE name = 'app'",
	  "routes[app].hosts[0]", "\"a_b.example\" is not a host name" },
	{ "UPDATE routes SET hosts = '[\"\"]' WHERE name = 'app'",
	  "routes[app].hosts[0]", "\"\" is not a host name" },
	{ "UPDATE routes SET hosts = '[\".\"]' WHERE name = 'app'",
	  "routes[app].hosts[0]", "\".\" is not a host name" },
	{ "UPDATE routes SET hosts = '[\"*\"]' WHERE name = 'app'",
	  "routes[app].hosts[0]", "\"*\" is not a host name" },
	{ "UPDATE routes SET hosts = '[\"*.\"]' WHERE name = 'app'",
	  "routes[app].hosts[0]", "\"*.\" is not a host name" },
	{ "UPDATE routes SET hosts = '[\"a.*.example\"]' WHERE name = 'app'",
	  "routes[app].hosts[0]", "\"a.*.example\" is not a host name" },
	{ "UPDATE routes SET hosts = '[\"*.*.example\"]' WHERE name = 'app'",
	  "routes[app].hosts[0]", "\"*.*.example\" is not a host name" },
	{ "UPDATE routes SET hosts = '[\"*example\"]' WHERE name = 'app'",
	  "routes[app].hosts[0]", "\"*example\" is not a host name" },
	{ "UPDATE routes SET hosts = '[\"app.example:8080\"]' WHERE name = 'app'",
	  "routes[app].hosts[0]", "\"app.example:8080\" is not a host name" },
	{ "UPDATE routes SET hosts = '[\"[app.example]\"]' WHERE name = 'app'",
	  "routes[app].hosts[0]", "\"[app.example]\" is not a host name" },
	{ "UPDATE routes SET hosts = '[\"::g\"]' WHERE name = 'app'",
	  "routes[app].hosts[0]", "\"::g\" is not a host name" },
	{ "UPDATE routes SET hosts = '[\"a.example\\u0000.evil\"]' WHERE name = 'app'",
	  "routes[app].hosts", "must not contain NUL characters" },
	{ "UPDATE routes SET methods = '[\"GET\\u0000\"]' WHERE name = 'app'",
	  "routes[app].methods", "must not contain NUL characters" },
	{ "UPDATE routes SET hosts = json_array(printf('%.64c.example', 'a'))"
	  " WHERE name = 'app'",
	  "routes[app].hosts[0]", "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example\" is not a host name" },
	{ "UPDATE routes SET hosts = '[5]' WHERE name = 'api'",
	  "routes[api].hosts[0]", "must be a string" },
	{ "UPDATE routes SET hosts = '[\"a.example\", null]' WHERE name = 'api'",
	  "routes[api].hosts[1]", "must be a string" },
	{ "UPDATE routes SET hosts = '[[\"a.example\"]]' WHERE name = 'api'",
	  "routes[api].hosts[0]", "must be a string" },
	{ "UPDATE routes SET hosts = json_array(printf('%.63c.example', 'a'),"
	  " '*.a', '1.2.3.4', 'xn--bcher-kva.example', '::ffff:1.2.3.4')"
	  " WHERE name = 'app'", NULL, NULL },
	/* Methods. */
	{ "UPDATE routes SET methods = '[\"GET\", \"get\"]' WHERE name = 'api'",
	  "routes[api].methods[1]", "\"get\" is not a known method " METHODS },
	{ "UPDATE routes SET methods = '[\"PURGE\"]' WHERE name = 'app'",
	  "routes[app].methods[0]", "\"PURGE\" is not a known method " METHODS },
	{ "UPDATE routes SET methods = '[\"\"]' WHERE name = 'app'",
	  "routes[app].methods[0]", "\"\" is not a known method " METHODS },
	{ "UPDATE routes SET methods = '[1]' WHERE name = 'app'",
	  "routes[app].methods[0]", "must be a string" },
	{ "UPDATE routes SET methods = '[\"HEAD\", \"PUT\", \"DELETE\", \"PATCH\","
	  " \"OPTIONS\", \"CONNECT\", \"TRACE\"]' WHERE name = 'app'", NULL, NULL },
	/* Path prefixes. */
	{ "UPDATE routes SET path_prefix = '/a b' WHERE name = 'app'",
	  "routes[app].path_prefix", "must not contain whitespace, control characters, '?' or '#'" },
	{ "UPDATE routes SET path_prefix = '/a' || char(9) WHERE name = 'app'",
	  "routes[app].path_prefix", "must not contain whitespace, control characters, '?' or '#'" },
	{ "UPDATE routes SET path_prefix = '/a' || char(127) WHERE name = 'app'",
	  "routes[app].path_prefix", "must not contain whitespace, control characters, '?' or '#'" },
	{ "UPDATE routes SET path_prefix = '/a' || char(10) || 'b' WHERE name = 'tls'",
	  "routes[tls].path_prefix", "must not contain whitespace, control characters, '?' or '#'" },
	{ "UPDATE routes SET path_prefix = CAST(x'2f610062' AS TEXT) WHERE name = 'tls'",
	  "routes[tls].path_prefix", "must not contain NUL characters" },
	{ "UPDATE routes SET path_prefix = '/caf%C3%A9/ü' WHERE name = 'tls'", NULL, NULL },
	/* Ranges the schema leaves open. */
	{ "UPDATE listeners SET header_timeout_ms = 86400001 WHERE name = 'public'",
	  "listeners[public].timeouts.header_ms", "86400001 is out of range (1..86400000)" },
	{ "UPDATE listeners SET keepalive_timeout_ms = 86400001 WHERE name = 'public'",
	  "listeners[public].timeouts.keepalive_ms", "86400001 is out of range (0..86400000)" },
	{ "UPDATE routes SET connect_timeout_ms = 90000000 WHERE name = 'api'",
	  "routes[api].timeouts.connect_ms", "90000000 is out of range (1..86400000)" },
	{ "UPDATE routes SET response_timeout_ms = 86400001 WHERE name = 'api'",
	  "routes[api].timeouts.response_ms", "86400001 is out of range (1..86400000)" },
	{ "UPDATE routes SET idle_timeout_ms = 86400001 WHERE name = 'api'",
	  "routes[api].timeouts.idle_ms", "86400001 is out of range (1..86400000)" },
	{ "UPDATE routes SET priority = 3000000000 WHERE name = 'app'",
	  "routes[app].priority", "3000000000 is out of range (-1000000..1000000)" },
	{ "UPDATE routes SET priority = 1000001 WHERE name = 'app'",
	  "routes[app].priority", "1000001 is out of range (-1000000..1000000)" },
	{ "UPDATE routes SET priority = -1000000, connect_timeout_ms = 86400000"
	  " WHERE name = 'app'", NULL, NULL },
	/* Layer 4 listeners have nothing to match on. */
	{ "INSERT INTO routes (name, listener_id, origin_id, hosts)"
	  " VALUES ('db', 5, 1, '[\"db.example\"]')",
	  "routes[db].hosts", "must be empty: listener \"idle\" is tcp" },
	{ "INSERT INTO routes (name, listener_id, origin_id, path_prefix)"
	  " VALUES ('db', 5, 1, '/x')",
	  "routes[db].path_prefix", "must be \"/\": listener \"idle\" is tcp" },
	{ "UPDATE listeners SET protocol = 'udp' WHERE id = 5;"
	  "INSERT INTO routes (name, listener_id, origin_id, methods)"
	  " VALUES ('dns', 5, 1, '[\"GET\"]')",
	  "routes[dns].methods", "must be empty: listener \"idle\" is udp" },
	{ "UPDATE listeners SET protocol = 'tls-passthrough' WHERE id = 5;"
	  "INSERT INTO routes (name, listener_id, origin_id, hosts)"
	  " VALUES ('pt', 5, 1, '[\"db.example\"]')", NULL, NULL },
	{ "INSERT INTO routes (name, listener_id, origin_id) VALUES ('db', 5, 1)",
	  NULL, NULL },
	/* The first error wins: listeners, then origins, then routes. */
	{ "UPDATE routes SET hosts = '[\"a b\"]';"
	  "UPDATE servers SET address = 'x' WHERE id = 12;"
	  "UPDATE listeners SET address = 'y' WHERE id = 5",
	  "listeners[idle].address", "\"y\" is not a numeric IPv4 or IPv6 address" },
	{ "UPDATE routes SET hosts = '[\"a b\"]', methods = '[\"x\"]'",
	  "routes[app].hosts[0]", "\"a b\" is not a host name" },
};
/* clang-format on */

static void
test_validation(void **state)
{
	struct store *st;
	struct cfg *c;
	struct err e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		st = db_with("base.sql", cases[i].sql);
		strcpy(e.field, "unset");
		strcpy(e.msg, "unset");
		c = cfg_compile(st, &e);
		if (cases[i].field == NULL) {
			if (c == NULL)
				fail_msg("case %zu: %s: %s", i, e.field, e.msg);
			assert_string_equal(e.field, "");
			assert_string_equal(e.msg, "");
			cfg_unref(c);
		} else {
			if (c != NULL)
				fail_msg("case %zu compiled: %s", i,
				    cases[i].sql);
			if (strcmp(e.field, cases[i].field) ||
			    strcmp(e.msg, cases[i].msg))
				print_message("case %zu: got %s: %s\n", i,
				    e.field, e.msg);
			assert_string_equal(e.field, cases[i].field);
			assert_string_equal(e.msg, cases[i].msg);
		}
		/* A failed compile leaves no transaction behind. */
		assert_int_equal(store_exec(st, "BEGIN; COMMIT", &e), 0);
		store_close(st);
	}
}

static void
test_hosts_normalized(void **state)
{
	struct store *st = db_with("base.sql",
	    "UPDATE routes SET hosts = '[\"WWW.Example.COM.\", \"*.EXAMPLE.org.\","
	    " \"[::FFFF:1.2.3.4]\", \"FE80::1\"]' WHERE name = 'app'");
	struct cfg *c = compile_ok(st);
	const struct cfg_route *r = cfg_rseq_at(&c->routes, 0);

	(void)state;
	assert_int_equal(r->nhosts, 4);
	assert_string_equal(r->hosts[0].name, "www.example.com");
	assert_int_equal(r->hosts[0].len, 15);
	assert_int_equal(r->hosts[1].kind, CFG_HOST_WILDCARD);
	assert_string_equal(r->hosts[1].name, ".example.org");
	assert_int_equal(r->hosts[1].len, 12);
	assert_string_equal(r->hosts[2].name, "::ffff:1.2.3.4");
	assert_int_equal(r->hosts[2].kind, CFG_HOST_EXACT);
	assert_string_equal(r->hosts[3].name, "fe80::1");
	cfg_unref(c);
	store_close(st);
}

/* Compiling inside the caller's transaction sees its uncommitted rows; a
 * failed compile leaves that transaction for the caller to roll back.
 */
static void
test_in_transaction(void **state)
{
	struct store *st = db_with("base.sql", NULL);
	struct cfg *c;
	struct err e;

	(void)state;
	assert_int_equal(store_begin(st, &e), 0);
	assert_int_equal(store_exec(st,
	                     "INSERT INTO revisions (actor) VALUES ('t');"
	                     "INSERT INTO routes (name, listener_id, origin_id)"
	                     " VALUES ('new', 5, 2)",
	                     &e),
	    0);
	c = compile_ok(st);
	assert_int_equal(c->revision, 3);
	assert_int_equal(c->routes.n, 4);
	assert_int_equal(c->listeners[2].routes.n, 1);
	assert_string_equal(cfg_rseq_at(&c->listeners[2].routes, 0)->name,
	    "new");
	cfg_unref(c);
	assert_int_equal(
	    store_exec(st, "UPDATE routes SET origin_id = 3 WHERE name = 'new'",
	        &e),
	    0);
	assert_null(cfg_compile(st, &e));
	assert_string_equal(e.field, "routes[new].origin");
	assert_int_equal(store_rollback(st), 0);
	c = compile_ok(st);
	assert_int_equal(c->revision, 2);
	assert_int_equal(c->routes.n, 3);
	cfg_unref(c);
	/* NULL <e> is allowed. */
	assert_int_equal(store_exec(st,
	                     "UPDATE listeners SET address = 'x' WHERE id = 1",
	                     &e),
	    0);
	assert_null(cfg_compile(st, NULL));
	store_close(st);
}

static void
test_refs(void **state)
{
	struct cfg *c = cfg_new();

	(void)state;
	assert_non_null(c);
	assert_int_equal(c->magic, CFG_MAGIC);
	assert_int_equal(atomic_load(&c->refs), 1);
	assert_int_equal(c->nlisteners, 0);
	assert_ptr_equal(cfg_ref(c), c);
	assert_int_equal(atomic_load(&c->refs), 2);
	cfg_unref(c);
	assert_int_equal(atomic_load(&c->refs), 1);
	cfg_unref(c); /* frees; LeakSanitizer checks the arena went too */
	assert_null(cfg_ref(NULL));
	cfg_unref(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_base),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_validation),
		cmocka_unit_test(test_hosts_normalized),
		cmocka_unit_test(test_in_transaction),
		cmocka_unit_test(test_refs),
	};

	log_set_level(LOG_LVL_WARN);
	return cmocka_run_group_tests_name("cfg_compile", tests, NULL, NULL);
}
