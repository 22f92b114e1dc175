/*
 * test_balance.c: server choice (daemon/balance.c): smooth weighted
 * round-robin shares and order, health, avoided servers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* cmocka.h needs stdarg.h, stddef.h and setjmp.h first. */
#include <cmocka.h>

#include "balance.h"

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smooth_order),
		cmocka_unit_test(test_shares),
		cmocka_unit_test(test_health_and_avoid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
