/*
 * balance_cost.c: the cost of one server choice per balance algorithm,
 * for tests/bench/balance.sh (built there, not by make).
 *
 * Usage: balance_cost N M [A]: an origin of N servers of weight 1, then
 * M choices with each algorithm (or only algorithm number A), each with the
 * live-state bookkeeping a request does (in flight up and down, one latency
 * sample); prints "algorithm ns_per_request". Run under callgrind with
 * --toggle-collect=bench_one for an exact instruction count per request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "balance.h"
#include "server_live.h"

static const char *const names[] = { "round_robin", "least_conn", "p2c", "hash",
	"random" };

/* One request's share of balancing: the choice, in flight up, the
 * latency sample, in flight down (upstream.c, proxy.c).
 */
__attribute__((noinline)) static long
bench_one(const struct cfg_origin *o, long *cw, struct balance_req *br)
{
	long i = balance_choose(o, cw, NULL, br);

	server_live_begin(o->servers[i].id);
	server_live_latency(o->servers[i].id, 1000);
	server_live_end(o->servers[i].id);
	return i;
}

int
main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 3;
	long m = argc > 2 ? strtol(argv[2], NULL, 10) : 1000000, k, sink = 0;
	struct cfg_origin o;
	struct cfg_server *sv = calloc(n, sizeof(*sv));
	long *cw = calloc(n, sizeof(*cw));
	struct balance_req br = { .has_key = true };
	struct timespec a, b;
	char label[32];
	size_t i;
	int alg, only = argc > 3 ? atoi(argv[3]) : -1;

	if (sv == NULL || cw == NULL)
		return 1;
	memset(&o, 0, sizeof(o));
	for (i = 0; i < n; i++) {
		sv[i].id = (int64_t)i + 1;
		sv[i].weight = 1;
		sv[i].origin = &o;
		snprintf(label, sizeof(label), "10.0.0.%zu:80", i + 1);
		sv[i].hash = balance_hash(label, strlen(label), 0);
	}
	o.servers = sv;
	o.nservers = n;
	for (alg = 0; alg < 5; alg++) {
		if (only >= 0 && alg != only)
			continue;
		o.balance = (enum cfg_balance)alg;
		clock_gettime(CLOCK_MONOTONIC, &a);
		for (k = 0; k < m; k++) {
			br.key = (uint64_t)k * 0x9e3779b97f4a7c15ull;
			sink += bench_one(&o, cw, &br);
		}
		clock_gettime(CLOCK_MONOTONIC, &b);
		printf("%s %.1f\n", names[alg],
		    ((double)(b.tv_sec - a.tv_sec) * 1e9 +
		        (double)(b.tv_nsec - a.tv_nsec)) /
		        (double)m);
	}
	free(sv);
	free(cw);
	return sink == -1;
}
