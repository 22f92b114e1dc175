/*
 * test_l4_route.c: cfg_cidr_parse(), l4_cidr_contains() and
 * l4_route_match() on hand-built listeners: exact names over wildcards
 * over routes without names, the longest wildcard, priority first,
 * sources, the default route, case and a trailing dot in the SNI.
 */
#include <sys/socket.h>

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

#include "arena.h"
#include "cfg.h"
#include "l4_route.h"

static struct sockaddr_storage
sa(const char *addr)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
	} else {
		assert_int_equal(inet_pton(AF_INET6, addr, &s6->sin6_addr), 1);
		s6->sin6_family = AF_INET6;
	}
	return ss;
}

/* clang-format off */
static const struct {
	const char *cidr;
	const char *addr;
	int want; /* 1 inside, 0 outside, -1 the CIDR does not parse */
} cidrs[] = {
	{ "10.0.0.0/8",       "10.255.1.2",         1 },
	{ "10.0.0.0/8",       "11.0.0.1",           0 },
	{ "10.1.2.3/8",       "10.9.9.9",           1 }, /* host bits cleared */
	{ "192.0.2.128/25",   "192.0.2.200",        1 },
	{ "192.0.2.128/25",   "192.0.2.127",        0 },
	{ "192.0.2.7",        "192.0.2.7",          1 },
	{ "192.0.2.7",        "192.0.2.8",          0 },
	{ "0.0.0.0/0",        "203.0.113.1",        1 },
	{ "0.0.0.0/0",        "2001:db8::1",        0 },
	{ "10.0.0.0/8",       "::ffff:10.1.1.1",    1 }, /* mapped */
	{ "2001:db8::/32",    "2001:db8:ffff::1",   1 },
	{ "2001:db8::/33",    "2001:db8:8000::1",   0 },
	{ "::/0",             "::1",                1 },
	{ "::1",              "::1",                1 },
	{ "2001:db8::/32",    "10.0.0.1",           0 },
	{ "10.0.0.0/33",      NULL,                -1 },
	{ "10.0.0.0/",        NULL,                -1 },
	{ "10.0.0.0/08",      NULL,                -1 },
	{ "10.0.0.0/-1",      NULL,                -1 },
	{ "::/129",           NULL,                -1 },
	{ "example.com/8",    NULL,                -1 },
	{ "",                 NULL,                -1 },
	{ "/8",               NULL,                -1 },
};
/* clang-format on */

static void
test_cidr(void **state)
{
	struct cfg_cidr c;
	struct sockaddr_storage ss;
	size_t i;

	for (i = 0; i < sizeof(cidrs) / sizeof(cidrs[0]); i++) {
		if (cidrs[i].want == -1) {
			if (cfg_cidr_parse(cidrs[i].cidr, &c) != -1) {
				print_error("case %zu accepted\n", i);
				fail();
			}
			continue;
		}
		assert_int_equal(cfg_cidr_parse(cidrs[i].cidr, &c), 0);
		ss = sa(cidrs[i].addr);
		if (l4_cidr_contains(&c, (struct sockaddr *)&ss) !=
		    (cidrs[i].want == 1)) {
			print_error("case %zu: %s in %s\n", i, cidrs[i].addr,
			    cidrs[i].cidr);
			fail();
		}
	}
}

#define MAXR 8

struct rdef {
	const char *name;
	int priority;
	const char *snis[3];    /* "a.example", "*.example"; NULL ends */
	const char *sources[3]; /* CIDRs; NULL ends */
};

struct fix {
	struct cfg_listener l;
	struct cfg_route r[MAXR];
	struct cfg_host h[MAXR][3];
	struct cfg_cidr c[MAXR][3];
	const struct cfg_route *order[MAXR];
};

static void
build(struct fix *f, enum cfg_proto proto, const struct rdef *d, size_t n)
{
	static struct arena *a;
	size_t i, j;

	memset(f, 0, sizeof(*f));
	f->l.proto = proto;
	for (i = 0; i < n; i++) {
		struct cfg_route *r = &f->r[i];

		r->id = (int64_t)i + 1;
		r->name = d[i].name;
		r->priority = d[i].priority;
		r->snis = f->h[i];
		for (j = 0; d[i].snis[j] != NULL; j++) {
			struct cfg_host *h = &f->h[i][j];
			const char *s = d[i].snis[j];

			h->kind =
			    s[0] == '*' ? CFG_HOST_WILDCARD : CFG_HOST_EXACT;
			h->name = s[0] == '*' ? s + 1 : s;
			h->len = strlen(h->name);
			r->nsnis++;
		}
		r->sources = f->c[i];
		for (j = 0; d[i].sources[j] != NULL; j++)
			assert_int_equal(cfg_cidr_parse(d[i].sources[j],
			                     &f->c[i][r->nsources++]),
			    0);
		f->order[i] = r;
	}
	if (a == NULL)
		a = arena_new(4096, 0);
	else
		arena_reset(a);
	assert_non_null(a);
	assert_int_equal(cfg_rseq_from(a, &f->l.routes, f->order, n), 0);
}

static const char *
match(const struct fix *f, const char *peer, const char *sni)
{
	struct sockaddr_storage ss = sa(peer);
	const struct cfg_route *r;

	r = l4_route_match(&f->l, (struct sockaddr *)&ss, sni,
	    sni != NULL ? strlen(sni) : 0);
	return r != NULL ? r->name : "(none)";
}

static void
test_sni(void **state)
{
	/* clang-format off */
	static const struct rdef d[] = {
		{ "wild",     0, { "*.example", NULL },      { NULL } },
		{ "exact",    0, { "db.example", NULL },     { NULL } },
		{ "longer",   0, { "*.eu.example", NULL },   { NULL } },
		{ "default",  0, { NULL },                   { NULL } },
		{ "internal", 0, { "db.example", NULL },     { "10.0.0.0/8", NULL } },
		{ "prio",     5, { "*.prio.example", NULL }, { NULL } },
	};
	/* clang-format on */
	struct fix f;

	build(&f, CFG_PROTO_TLS_PASSTHROUGH, d, sizeof(d) / sizeof(d[0]));
	assert_string_equal(match(&f, "192.0.2.1", "db.example"), "exact");
	assert_string_equal(match(&f, "192.0.2.1", "DB.Example."), "exact");
	assert_string_equal(match(&f, "10.1.1.1", "db.example"), "internal");
	assert_string_equal(match(&f, "192.0.2.1", "x.example"), "wild");
	assert_string_equal(match(&f, "192.0.2.1", "a.eu.example"), "longer");
	assert_string_equal(match(&f, "192.0.2.1", "example"), "default");
	assert_string_equal(match(&f, "192.0.2.1", "other.test"), "default");
	assert_string_equal(match(&f, "192.0.2.1", NULL), "default");
	assert_string_equal(match(&f, "192.0.2.1", "a.prio.example"), "prio");
	/* Without the default route, no name or an unknown one: none. */
	build(&f, CFG_PROTO_TLS_PASSTHROUGH, d, 3);
	assert_string_equal(match(&f, "192.0.2.1", NULL), "(none)");
	assert_string_equal(match(&f, "192.0.2.1", "other.test"), "(none)");
}

static void
test_sources(void **state)
{
	/* clang-format off */
	static const struct rdef d[] = {
		{ "any",   0, { NULL }, { NULL } },
		{ "lan",   0, { NULL }, { "192.168.0.0/16", "fd00::/8" } },
		{ "admin", 1, { NULL }, { "192.168.1.10", NULL } },
	};
	/* clang-format on */
	struct fix f;

	build(&f, CFG_PROTO_TCP, d, 3);
	assert_string_equal(match(&f, "192.168.1.10", NULL), "admin");
	assert_string_equal(match(&f, "192.168.1.11", NULL), "lan");
	assert_string_equal(match(&f, "fd12::1", NULL), "lan");
	assert_string_equal(match(&f, "203.0.113.5", NULL), "any");
	build(&f, CFG_PROTO_TCP, d + 1, 2);
	assert_string_equal(match(&f, "203.0.113.5", NULL), "(none)");
	/* A name offered to routes without names changes nothing. */
	build(&f, CFG_PROTO_UDP, d, 1);
	assert_string_equal(match(&f, "203.0.113.5", "x.example"), "any");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cidr),
		cmocka_unit_test(test_sni),
		cmocka_unit_test(test_sources),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
