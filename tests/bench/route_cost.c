/*
 * route_cost.c: the cost of one route_match() with N routes on a listener,
 * for tests/bench/routes.sh (built there, not by make).
 *
 * Usage: route_cost N M [linear]: N routes with hosts h0.example ..
 * h<N-1>.example (the last is last in match order), then M matches of
 * Host h<N-1>.example; prints "N ns_per_match". With "linear", the same
 * matches by walking the listener's routes in order (what route_match()
 * did before the host index), for comparison. Run under callgrind with
 * --toggle-collect=route_match (or bench_linear) for an exact instruction
 * count per match.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "route.h"

/* The old linear walk (exact hosts only, as built here). */
__attribute__((noinline)) static const struct cfg_route *
bench_linear(const struct cfg_listener *l, struct str host)
{
	char buf[ROUTE_HOST_MAX];
	struct str h = route_host_normalize(host, buf);
	struct cfg_rseq_it it = cfg_rseq_begin(&l->routes);
	const struct cfg_route *r;
	size_t j;

	while ((r = cfg_rseq_next(&it)) != NULL) {
		if (r->nhosts == 0)
			return r;
		for (j = 0; j < r->nhosts; j++)
			if (r->hosts[j].len == h.len &&
			    memcmp(r->hosts[j].name, h.p, h.len) == 0)
				return r;
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 0, i;
	long m = argc > 2 ? strtol(argv[2], NULL, 10) : 0, k;
	int linear = argc > 3 && strcmp(argv[3], "linear") == 0;
	struct arena *a = arena_new(1 << 20, 0);
	struct cfg_listener l = { .name = "bench" };
	struct cfg_route *routes;
	struct cfg_host *hosts;
	const struct cfg_route **order, *r = NULL;
	struct timespec t0, t1;
	char host[32];
	struct str h;

	if (n == 0 || m <= 0 || a == NULL) {
		fprintf(stderr, "usage: route_cost N M [linear]\n");
		return 2;
	}
	routes = arena_calloc(a, n, sizeof(*routes));
	hosts = arena_calloc(a, n, sizeof(*hosts));
	order = arena_calloc(a, n, sizeof(*order));
	if (routes == NULL || hosts == NULL || order == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		snprintf(host, sizeof(host), "h%zu.example", i);
		hosts[i].kind = CFG_HOST_EXACT;
		hosts[i].name = arena_strdup(a, host);
		hosts[i].len = strlen(host);
		routes[i].id = (int64_t)i + 1;
		routes[i].name = hosts[i].name;
		routes[i].listener = &l;
		routes[i].path_prefix = "/";
		routes[i].path_prefix_len = 1;
		routes[i].hosts = &hosts[i];
		routes[i].nhosts = 1;
		order[i] = &routes[i];
	}
	route_sort(order, n);
	if (cfg_rseq_from(a, &l.routes, order, n) != 0 ||
	    route_index_listener(a, &l) != 0)
		return 1;
	snprintf(host, sizeof(host), "h%zu.example", n - 1);
	h = str_cstr(host);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (k = 0; k < m; k++)
		r = linear ? bench_linear(&l, h)
		           : route_match(&l, h, STR_LIT("/"), CFG_M_GET);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (r != &routes[n - 1]) {
		fprintf(stderr, "route_cost: wrong route\n");
		return 1;
	}
	printf("%zu %.1f\n", n,
	    ((double)(t1.tv_sec - t0.tv_sec) * 1e9 +
	        (double)(t1.tv_nsec - t0.tv_nsec)) /
	        (double)m);
	arena_free(a);
	return 0;
}
