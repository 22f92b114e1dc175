/*
 * api_throttle.c: login throttling by account and address, with
 * exponential back-off, that an administrator can see and clear.
 *
 * Two kinds of entry share one table: a pair (account, address) and an
 * address alone (account ""). A failed login counts on both. After
 * THR_PAIR_FREE failures of one account from one address, that account
 * waits THR_BASE seconds from that address, doubling with each further
 * failure up to THR_MAX; other accounts from the address and the same
 * account from other addresses are not held back, so someone behind a
 * shared (NAT) address cannot lock an administrator out everywhere. An
 * address that fails THR_ADDR_FREE times, over any accounts (spraying),
 * waits the same way for every account. A successful login clears its
 * pair. An entry is forgotten after THR_FORGET quiet seconds.
 *
 * The table lives in memory on the API thread (a restart clears it); when
 * full, the entry with the oldest failure is reused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_int.h"
#include "json.h"

#define THR_SLOTS     1024
#define THR_PAIR_FREE 5
#define THR_ADDR_FREE 100
#define THR_BASE      15   /* seconds, the first wait */
#define THR_MAX       900  /* seconds, the longest wait */
#define THR_FORGET    3600 /* seconds without a failure */

struct throttle {
	char account[65]; /* "": the address alone */
	char addr[64];
	unsigned fails;
	time_t last;  /* the newest failure; 0: free slot */
	time_t until; /* logins wait until then */
};

static struct throttle slots[THR_SLOTS];

static void
throttle_expire(struct throttle *t, time_t now)
{
	if (t->last != 0 && now - t->last >= THR_FORGET && now >= t->until)
		memset(t, 0, sizeof(*t));
}

static struct throttle *
throttle_find(const char *account, const char *addr, bool create)
{
	struct throttle *t, *victim = NULL;
	time_t now = time(NULL);
	size_t i;

	for (i = 0; i < THR_SLOTS; i++) {
		t = &slots[i];
		throttle_expire(t, now);
		if (t->last != 0 && strcmp(t->addr, addr) == 0 &&
		    strcmp(t->account, account) == 0)
			return t;
		if (victim == NULL || t->last < victim->last)
			victim = t;
	}
	if (!create)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	snprintf(victim->account, sizeof(victim->account), "%s", account);
	snprintf(victim->addr, sizeof(victim->addr), "%s", addr);
	return victim;
}

static time_t
backoff(unsigned fails, unsigned free)
{
	unsigned n;

	if (fails < free)
		return 0;
	n = fails - free;
	return n >= 6                   ? THR_MAX
	    : (THR_BASE << n) < THR_MAX ? THR_BASE << n
	                                : THR_MAX;
}

long
throttle_wait(const char *account, const char *addr)
{
	struct throttle *t;
	time_t now = time(NULL), until = 0;

	if ((t = throttle_find("", addr, false)) != NULL)
		until = t->until;
	if (account != NULL && account[0] != '\0' &&
	    (t = throttle_find(account, addr, false)) != NULL &&
	    t->until > until)
		until = t->until;
	return until > now ? (long)(until - now) : 0;
}

static void
throttle_count(struct throttle *t, unsigned free, time_t now)
{
	t->fails++;
	t->last = now;
	t->until = now + backoff(t->fails, free);
}

void
throttle_fail(const char *account, const char *addr)
{
	time_t now = time(NULL);

	throttle_count(throttle_find("", addr, true), THR_ADDR_FREE, now);
	if (account != NULL && account[0] != '\0')
		throttle_count(throttle_find(account, addr, true),
		    THR_PAIR_FREE, now);
}

void
throttle_ok(const char *account, const char *addr)
{
	struct throttle *t = throttle_find(account, addr, false);

	if (t != NULL)
		memset(t, 0, sizeof(*t));
}

/* GET /login-throttles: every entry with failures. */
void
throttle_list(struct api_req *r)
{
	struct json *out = json_new_arr(), *o;
	time_t now = time(NULL);
	size_t i;

	for (i = 0; i < THR_SLOTS; i++) {
		throttle_expire(&slots[i], now);
		if (slots[i].last == 0)
			continue;
		o = json_new_obj();
		json_set(o, "account",
		    slots[i].account[0] != '\0' ? json_new_str(slots[i].account)
		                                : json_new_null());
		json_set(o, "address", json_new_str(slots[i].addr));
		json_set(o, "failures", json_new_int(slots[i].fails));
		json_set(o, "last_failure",
		    json_new_int((int64_t)slots[i].last));
		json_set(o, "retry_after",
		    json_new_int(slots[i].until > now
		            ? (int64_t)(slots[i].until - now)
		            : 0));
		json_append(out, o);
	}
	api_reply_json(r, 200, out);
}

/* DELETE /login-throttles[?account=NAME][&address=ADDR]: clears the
 * entries that match (all of them without a filter). Clearing an account
 * clears its pairs; clearing an address clears it and its pairs.
 */
void
throttle_clear(struct api_req *r)
{
	const char *acc = api_req_query(r, "account");
	const char *addr = api_req_query(r, "address");
	struct json *out;
	int64_t n = 0;
	size_t i;

	for (i = 0; i < THR_SLOTS; i++) {
		if (slots[i].last == 0 ||
		    (acc != NULL && strcmp(slots[i].account, acc) != 0) ||
		    (addr != NULL && strcmp(slots[i].addr, addr) != 0))
			continue;
		memset(&slots[i], 0, sizeof(slots[i]));
		n++;
	}
	out = json_new_obj();
	json_set(out, "cleared", json_new_int(n));
	api_reply_json(r, 200, out);
}
