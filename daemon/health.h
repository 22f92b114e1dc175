/*
 * health.h: active health checks of origin servers, and the table of
 * their states.
 *
 * The checker runs on a thread of its own with its own event_base, so a
 * slow or dead server never delays traffic. States live in a fixed table
 * keyed by the server's stable id and outlive every snapshot: a server
 * marked down stays down across an unrelated change. Workers read states
 * with one atomic load (health_usable()).
 */
#ifndef GH_HEALTH_H
#define GH_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cfg;

enum health_state {
	HEALTH_UNCHECKED = 0, /* no check configured: always usable */
	HEALTH_UP,
	HEALTH_DOWN,
};

struct health_info {
	enum health_state state;
	uint64_t checks, failures; /* totals since start */
	int64_t changed_at;        /* unix seconds of the last transition */
	char last_error[96];       /* "" after a passing check */
};

/* Starts the checker thread. Thread: main, once. */
void health_start(void);
/* Stops it and joins. Safe when never started. */
void health_stop(void);

/* Schedules checks for the servers of every origin of <c> that has a
 * health check, and forgets the others (their state goes back to
 * UNCHECKED). Takes its own reference to <c>. Thread: any (the
 * publisher).
 */
void health_reconcile(struct cfg *c);

/* May traffic go to server <id>? False only when it is checked and down.
 * Thread: any; lock-free.
 */
bool health_usable(int64_t id);

/* Fills <out> for server <id>; false when the id was never seen. */
bool health_get(int64_t id, struct health_info *out);

/* Parses an HTTP status line; returns the status or -1 (exposed for the
 * unit test).
 */
int health_parse_status(const char *line, size_t len);

#endif
