/*
 * test_balance.c: server choice (daemon/balance.c): smooth weighted
 * round-robin shares and order, health, avoided servers; least_conn,
 * p2c, hash (how many keys move when a server leaves, of request keys
 * and of L4 client addresses) and random.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* cmocka.h needs stdarg.h, stddef.h and setjmp.h first. */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "balance.h"
#include "server_live.h"
#include "upstream.h"

static bool down[4];

static bool
usable(int64_t id)
{
	return !down[id];
}

static void
origin3(struct cfg_origin *o, struct cfg_server *sv, unsigned w0, unsigned w1,
    unsigned w2)
{
	memset(o, 0, sizeof(*o));
	memset(sv, 0, 3 * sizeof(*sv));
	sv[0].id = 0;
	sv[0].weight = w0;
	sv[1].id = 1;
	sv[1].weight = w1;
	sv[2].id = 2;
	sv[2].weight = w2;
	o->servers = sv;
	o->nservers = 3;
	memset(down, 0, sizeof(down));
}

static void
test_smooth_order(void **state)
{
	struct cfg_origin o;
	struct cfg_server sv[3];
	long cw[3] = { 0 };
	char seq[15];
	int i;

	(void)state;
	origin3(&o, sv, 5, 1, 1);
	for (i = 0; i < 14; i++)
		seq[i] = (char)('a' + balance_pick(&o, cw, usable, NULL, 0));
	seq[14] = '\0';
	/* nginx's interleaving: never five of "a" in a row */
	assert_string_equal(seq, "aabacaaaabacaa");
}

static void
test_shares(void **state)
{
	struct cfg_origin o;
	struct cfg_server sv[3];
	long cw[3] = { 0 };
	int n[3] = { 0 }, i;

	(void)state;
	origin3(&o, sv, 3, 2, 1);
	for (i = 0; i < 600; i++)
		n[balance_pick(&o, cw, usable, NULL, 0)]++;
	assert_int_equal(n[0], 300);
	assert_int_equal(n[1], 200);
	assert_int_equal(n[2], 100);
}

static void
test_health_and_avoid(void **state)
{
	struct cfg_origin o;
	struct cfg_server sv[3];
	long cw[3] = { 0 };
	int64_t avoid[2];
	int i;

	(void)state;
	origin3(&o, sv, 1, 1, 1);
	o.health.enabled = true;
	down[1] = true;
	for (i = 0; i < 30; i++)
		assert_int_not_equal(balance_pick(&o, cw, usable, NULL, 0), 1);
	/* all down: everyone is tried */
	down[0] = down[2] = true;
	for (i = 0; i < 3; i++)
		(void)balance_pick(&o, cw, usable, NULL, 0);
	memset(cw, 0, sizeof(cw));
	down[0] = down[2] = false;
	/* the healthy ones avoided: an unhealthy one rather than none */
	avoid[0] = 0;
	avoid[1] = 2;
	assert_int_equal(balance_pick(&o, cw, usable, avoid, 2), 1);
	/* without health checks, health does not count */
	o.health.enabled = false;
	avoid[0] = 0;
	assert_int_equal(balance_pick(&o, cw, usable, avoid, 1), 1);
	avoid[0] = 1;
	assert_int_equal(balance_pick(&o, cw, NULL, avoid, 1) != 1, true);
	{
		int64_t all[3] = { 0, 1, 2 };

		assert_int_equal(balance_pick(&o, cw, usable, all, 3), -1);
	}
}

/* Servers with ids base+0.. (server_live is global: each test its own
 * ids), weight 1, a label hash as the compile makes it.
 */
static void
originN(struct cfg_origin *o, struct cfg_server *sv, size_t n, int64_t base,
    enum cfg_balance b)
{
	char label[32];
	size_t i;

	memset(o, 0, sizeof(*o));
	memset(sv, 0, n * sizeof(*sv));
	for (i = 0; i < n; i++) {
		sv[i].id = base + (int64_t)i;
		sv[i].weight = 1;
		snprintf(label, sizeof(label), "10.0.0.%zu:80", i + 1);
		sv[i].hash = balance_hash(label, strlen(label), 0);
	}
	o->servers = sv;
	o->nservers = n;
	o->balance = b;
}

static void
test_least_conn(void **state)
{
	struct cfg_origin o;
	struct cfg_server sv[3];
	long cw[3] = { 0 };
	int n[3] = { 0 }, i;

	(void)state;
	originN(&o, sv, 3, 100, CFG_BALANCE_LEAST_CONN);
	server_live_begin(100);
	server_live_begin(100);
	server_live_begin(101);
	/* 2, 1, 0 in flight: the idle one */
	assert_int_equal(balance_choose(&o, cw, NULL, NULL), 2);
	server_live_begin(102);
	server_live_begin(102);
	/* 2, 1, 2 */
	assert_int_equal(balance_choose(&o, cw, NULL, NULL), 1);
	/* all equal: the tied ones take turns */
	server_live_begin(101);
	for (i = 0; i < 30; i++)
		n[balance_choose(&o, cw, NULL, NULL)]++;
	assert_int_equal(n[0], 10);
	assert_int_equal(n[1], 10);
	assert_int_equal(n[2], 10);
	/* weight 2 takes twice the in-flight requests */
	sv[0].weight = 2;
	server_live_begin(100);
	server_live_begin(100); /* 4/2 against 2/1, 2/1: tied */
	server_live_begin(101);
	assert_int_not_equal(balance_choose(&o, cw, NULL, NULL), 1);
	server_live_end(100);
	/* 3/2 is the least */
	assert_int_equal(balance_choose(&o, cw, NULL, NULL), 0);
	/* an avoided server is never chosen, however idle */
	{
		int64_t avoid[1] = { 100 };
		struct balance_req br = { .avoid = avoid, .navoid = 1 };

		for (i = 0; i < 10; i++)
			assert_int_not_equal(balance_choose(&o, cw, NULL, &br),
			    0);
	}
	/* ends never go below zero */
	for (i = 0; i < 10; i++)
		server_live_end(102);
	assert_int_equal(server_live_inflight(102), 0);
}

static void
test_p2c(void **state)
{
	struct cfg_origin o;
	struct cfg_server sv[3];
	long cw[3] = { 0 };
	int n[3] = { 0 }, i;

	(void)state;
	originN(&o, sv, 3, 200, CFG_BALANCE_P2C);
	/* nothing known: in flight decides, every server gets some */
	for (i = 0; i < 300; i++)
		n[balance_choose(&o, cw, NULL, NULL)]++;
	assert_true(n[0] > 50 && n[1] > 50 && n[2] > 50);
	/* one server 10x slower: it loses every pair while idle */
	for (i = 0; i < 8; i++) {
		server_live_latency(200, 10000);
		server_live_latency(201, 10000);
		server_live_latency(202, 100000);
	}
	assert_true(server_live_ewma(202) > 9 * server_live_ewma(200));
	memset(n, 0, sizeof(n));
	for (i = 0; i < 1000; i++)
		n[balance_choose(&o, cw, NULL, NULL)]++;
	assert_int_equal(n[2], 0);
	assert_true(n[0] > 300 && n[1] > 300);
	/* ... until the fast ones have ten times its queue */
	for (i = 0; i < 10; i++) {
		server_live_begin(200);
		server_live_begin(201);
	}
	memset(n, 0, sizeof(n));
	for (i = 0; i < 300; i++)
		n[balance_choose(&o, cw, NULL, NULL)]++;
	assert_true(n[2] > 100);
	for (i = 0; i < 10; i++) {
		server_live_end(200);
		server_live_end(201);
	}
	/* one candidate left */
	{
		int64_t avoid[2] = { 200, 201 };
		struct balance_req br = { .avoid = avoid, .navoid = 2 };

		assert_int_equal(balance_choose(&o, cw, NULL, &br), 2);
	}
}

#define NKEYS 10000

static void
hash_owners(const struct cfg_origin *o, long *cw, int64_t *owner)
{
	struct balance_req br = { .has_key = true };
	char key[32];
	long i;
	int k;

	for (k = 0; k < NKEYS; k++) {
		snprintf(key, sizeof(key), "client-%d", k);
		br.key = balance_hash(key, strlen(key), 0);
		i = balance_choose(o, cw, NULL, &br);
		assert_true(i >= 0);
		owner[k] = o->servers[i].id;
	}
}

static void
test_hash_moves_few_keys(void **state)
{
	static int64_t before[NKEYS], after[NKEYS];
	struct cfg_origin o;
	struct cfg_server sv[5];
	long cw[5] = { 0 };
	int per[5] = { 0 }, moved = 0, k;

	(void)state;
	originN(&o, sv, 5, 300, CFG_BALANCE_HASH);
	hash_owners(&o, cw, before);
	for (k = 0; k < NKEYS; k++)
		per[before[k] - 300]++;
	for (k = 0; k < 5; k++) /* about 2000 each */
		assert_true(per[k] > 1700 && per[k] < 2300);
	/* the same keys, the same servers */
	hash_owners(&o, cw, after);
	assert_memory_equal(before, after, sizeof(before));
	/* server 2 leaves (the configuration no longer has it) */
	memmove(&sv[2], &sv[3], 2 * sizeof(sv[0]));
	o.nservers = 4;
	hash_owners(&o, cw, after);
	for (k = 0; k < NKEYS; k++) {
		if (before[k] != after[k]) {
			moved++;
			/* only the keys of the server that left move */
			assert_int_equal(before[k], 302);
		}
	}
	print_message("hash: %d of %d keys moved removing 1 of 5 servers "
	              "(bound 1.3/N: %d)\n",
	    moved, NKEYS, NKEYS * 13 / 50);
	assert_true(moved <= NKEYS * 13 / 50);
	assert_int_equal(moved, per[2]);
	/* it comes back: every key goes home */
	originN(&o, sv, 5, 300, CFG_BALANCE_HASH);
	hash_owners(&o, cw, after);
	assert_memory_equal(before, after, sizeof(before));
}

/* The owner of every one of NKEYS IPv4 clients (10.x.y.z, any port) on
 * an L4 listener: balance_l4_server() hashes the address.
 */
static void
l4_owners(struct upstream_pools *p, const struct cfg_origin *o,
    unsigned short port, int64_t *owner)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	const struct cfg_server *sv;
	int k;

	for (k = 0; k < NKEYS; k++) {
		memset(&ss, 0, sizeof(ss));
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		s4->sin_addr.s_addr = htonl(0x0a000000u | (unsigned)k * 7919u);
		sv = balance_l4_server(p, o, &ss, NULL, 0);
		assert_non_null(sv);
		owner[k] = sv->id;
	}
}

static void
test_l4_hash_by_client_address(void **state)
{
	static int64_t before[NKEYS], after[NKEYS];
	struct upstream_pools *p = upstream_pools_new(NULL);
	struct cfg_origin o;
	struct cfg_server sv[5];
	struct sockaddr_storage ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	const struct cfg_server *first;
	int per[5] = { 0 }, moved = 0, k;

	(void)state;
	assert_non_null(p);
	originN(&o, sv, 5, 900, CFG_BALANCE_HASH);
	o.id = 9;
	l4_owners(p, &o, 40000, before);
	for (k = 0; k < NKEYS; k++)
		per[before[k] - 900]++;
	for (k = 0; k < 5; k++) /* about 2000 each */
		assert_true(per[k] > 1700 && per[k] < 2300);
	/* a client's every connection (another source port) lands on its
	 * server
	 */
	l4_owners(p, &o, 51234, after);
	assert_memory_equal(before, after, sizeof(before));
	memset(&ss, 0, sizeof(ss));
	s6->sin6_family = AF_INET6;
	s6->sin6_addr.s6_addr[0] = 0xfd;
	s6->sin6_addr.s6_addr[15] = 7;
	first = balance_l4_server(p, &o, &ss, NULL, 0);
	for (k = 0; k < 20; k++) {
		s6->sin6_port = htons((unsigned short)(30000 + k));
		assert_ptr_equal(balance_l4_server(p, &o, &ss, NULL, 0), first);
	}
	/* a connect that failed avoids its server: the next choice */
	assert_ptr_not_equal(balance_l4_server(p, &o, &ss, &first->id, 1),
	    first);
	/* server 2 leaves: only its clients move */
	memmove(&sv[2], &sv[3], 2 * sizeof(sv[0]));
	o.nservers = 4;
	l4_owners(p, &o, 40000, after);
	for (k = 0; k < NKEYS; k++) {
		if (before[k] != after[k]) {
			moved++;
			assert_int_equal(before[k], 902);
		}
	}
	print_message("l4 hash: %d of %d client addresses moved removing 1 "
	              "of 5 servers (bound 1.3/N: %d)\n",
	    moved, NKEYS, NKEYS * 13 / 50);
	assert_true(moved <= NKEYS * 13 / 50);
	assert_int_equal(moved, per[2]);
	/* not "hash": the balance chooses, whatever the address */
	originN(&o, sv, 5, 900, CFG_BALANCE_ROUND_ROBIN);
	l4_owners(p, &o, 40000, after);
	for (k = 0; k < 5; k++)
		assert_int_equal(after[k], 900 + k);
	upstream_pools_free(p);
}

static void
test_hash_down_and_weights(void **state)
{
	static int64_t before[NKEYS], after[NKEYS];
	struct cfg_origin o;
	struct cfg_server sv[3];
	long cw[3] = { 0 };
	int per[3] = { 0 }, k;

	(void)state;
	originN(&o, sv, 3, 400, CFG_BALANCE_HASH);
	o.health.enabled = true;
	memset(down, 0, sizeof(down));
	hash_owners(&o, cw, before);
	/* ids 400..402 are never "down" in usable(): avoid one instead,
	 * as a retry does; only its keys go elsewhere
	 */
	{
		struct balance_req br = { .has_key = true };
		int64_t avoid[1] = { 401 };
		char key[32];

		br.avoid = avoid;
		br.navoid = 1;
		for (k = 0; k < NKEYS; k++) {
			snprintf(key, sizeof(key), "client-%d", k);
			br.key = balance_hash(key, strlen(key), 0);
			after[k] = sv[balance_choose(&o, cw, NULL, &br)].id;
			if (before[k] != 401)
				assert_int_equal(after[k], before[k]);
			else
				assert_int_not_equal(after[k], 401);
		}
	}
	/* weight 3 against 1 and 1: about 3/5 of the keys */
	sv[0].weight = 3;
	hash_owners(&o, cw, after);
	for (k = 0; k < NKEYS; k++)
		per[after[k] - 400]++;
	assert_true(per[0] > 5600 && per[0] < 6400);
	/* no key: round-robin */
	memset(per, 0, sizeof(per));
	sv[0].weight = 1;
	for (k = 0; k < 30; k++)
		per[balance_choose(&o, cw, NULL, NULL)]++;
	assert_int_equal(per[0], 10);
	assert_int_equal(per[1], 10);
}

static void
test_random(void **state)
{
	struct cfg_origin o;
	struct cfg_server sv[3];
	long cw[3] = { 0 };
	int n[3] = { 0 }, i;

	(void)state;
	originN(&o, sv, 3, 500, CFG_BALANCE_RANDOM);
	sv[2].weight = 2;
	for (i = 0; i < 4000; i++)
		n[balance_choose(&o, cw, NULL, NULL)]++;
	/* 1000, 1000, 2000 expected */
	assert_true(n[0] > 850 && n[0] < 1150);
	assert_true(n[1] > 850 && n[1] < 1150);
	assert_true(n[2] > 1800 && n[2] < 2200);
}

static void
test_live_ewma(void **state)
{
	struct server_live_info li;

	(void)state;
	assert_int_equal(server_live_ewma(600), 0);
	assert_false(server_live_get(600, &li));
	server_live_latency(600, 1000);
	assert_int_equal(server_live_ewma(600), 1000);
	server_live_latency(600, 5000); /* 1/4 of the way */
	assert_int_equal(server_live_ewma(600), 2000);
	server_live_begin(600);
	assert_true(server_live_get(600, &li));
	assert_int_equal(li.inflight, 1);
	assert_int_equal(li.picks, 1);
	assert_int_equal(li.ewma_us, 2000);
	server_live_end(600);
	assert_int_equal(server_live_inflight(600), 0);
}

static void
test_states_limits_slow_start(void **state)
{
	struct cfg_origin o;
	struct cfg_server sv[3];
	long cw[3] = { 0 };
	int n[3] = { 0 }, i, b;

	(void)state;
	for (b = CFG_BALANCE_ROUND_ROBIN; b <= CFG_BALANCE_RANDOM; b++) {
		struct balance_req br = { .has_key = true, .key = 42 };

		originN(&o, sv, 3, 700, (enum cfg_balance)b);
		sv[0].state = CFG_SERVER_DRAIN;
		sv[1].state = CFG_SERVER_DISABLED;
		for (i = 0; i < 20; i++)
			assert_int_equal(balance_choose(&o, cw, NULL, &br), 2);
		/* none left: no server, never a drained one */
		sv[2].state = CFG_SERVER_DRAIN;
		assert_int_equal(balance_choose(&o, cw, NULL, &br), -1);
	}
	/* max_connections: a full server is skipped */
	originN(&o, sv, 3, 710, CFG_BALANCE_ROUND_ROBIN);
	sv[0].max_connections = 2;
	server_live_begin(710);
	assert_int_not_equal(balance_choose(&o, cw, NULL, NULL), -1);
	server_live_begin(710);
	for (i = 0; i < 20; i++)
		assert_int_not_equal(balance_choose(&o, cw, NULL, NULL), 0);
	sv[1].max_connections = sv[2].max_connections = 1;
	server_live_begin(711);
	server_live_begin(712);
	assert_int_equal(balance_choose(&o, cw, NULL, NULL), -1);
	server_live_end(710);
	assert_int_equal(balance_choose(&o, cw, NULL, NULL), 0);
	/* slow start: just restarted, a tenth of its weight */
	originN(&o, sv, 2, 720, CFG_BALANCE_ROUND_ROBIN);
	memset(cw, 0, sizeof(cw));
	sv[1].slow_start_s = 100;
	server_live_restart(721);
	for (i = 0; i < 110; i++)
		n[balance_choose(&o, cw, NULL, NULL)]++;
	assert_int_equal(n[0], 100);
	assert_int_equal(n[1], 10);
	/* never made usable (no since): full weight */
	sv[1].id = 729;
	memset(n, 0, sizeof(n));
	for (i = 0; i < 20; i++)
		n[balance_choose(&o, cw, NULL, NULL)]++;
	assert_int_equal(n[1], 10);
}

static void
test_passive_eject(void **state)
{
	struct cfg_origin o;
	struct cfg_server sv[3];
	long cw[3] = { 0 };
	uint64_t now = server_live_now_us();
	int i;

	(void)state;
	originN(&o, sv, 3, 800, CFG_BALANCE_ROUND_ROBIN);
	for (i = 0; i < 3; i++)
		sv[i].origin = &o;
	o.name = "o";
	o.ph_failures = 2;
	o.ph_eject_s = 10;
	o.ph_max_ejected_percent = 50;
	o.ph_statuses[503 / 64] |= 1ull << (503 % 64);
	/* a success between failures resets the run */
	balance_passive_status(&sv[0], 503);
	balance_passive_status(&sv[0], 200);
	balance_passive_status(&sv[0], 503);
	assert_false(server_live_ejected(800, server_live_now_us()));
	balance_passive_failure(&sv[0]); /* a connect error: the 2nd */
	assert_true(server_live_ejected(800, server_live_now_us()));
	for (i = 0; i < 20; i++)
		assert_int_not_equal(balance_choose(&o, cw, NULL, NULL), 0);
	/* a second server would be 2 of 3, above 50%: not ejected */
	balance_passive_status(&sv[1], 503);
	balance_passive_status(&sv[1], 503);
	balance_passive_status(&sv[1], 503);
	assert_false(server_live_ejected(801, server_live_now_us()));
	/* backoff: ejected again soon after the end, twice as long */
	assert_int_equal(server_live_eject(802, 10, now), 10);
	assert_int_equal(server_live_eject(802, 10, now + 11000000), 20);
	assert_int_equal(server_live_eject(802, 10, now + 32000000), 40);
	/* long after the last one: from the start */
	assert_int_equal(server_live_eject(802, 10, now + 500000000), 10);
	/* off without passive_health */
	o.ph_failures = 0;
	for (i = 0; i < 10; i++)
		balance_passive_status(&sv[2], 503);
	assert_false(server_live_ejected(802, now + 600000000));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smooth_order),
		cmocka_unit_test(test_shares),
		cmocka_unit_test(test_health_and_avoid),
		cmocka_unit_test(test_least_conn),
		cmocka_unit_test(test_p2c),
		cmocka_unit_test(test_hash_moves_few_keys),
		cmocka_unit_test(test_hash_down_and_weights),
		cmocka_unit_test(test_l4_hash_by_client_address),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_live_ewma),
		cmocka_unit_test(test_states_limits_slow_start),
		cmocka_unit_test(test_passive_eject),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
