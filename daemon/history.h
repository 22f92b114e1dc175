/*
 * history.h: the dashboard's memory. Per minute, for the last 24 hours,
 * what each listener and route answered: requests by status class, bytes
 * both ways, summed request time, requests no route took and connections.
 * It lives in memory only, in a ring of HISTORY_MINUTES slots allocated
 * once (about 3.5 MB of address space, touched as minutes fill), so a
 * restart starts it afresh.
 *
 * Nothing is added to the request path: history_tick() reads stats.c's
 * cumulative counters and keeps, for the current minute, the difference
 * from what they were when that minute began. A minute is closed by the
 * first tick of a later minute, which is where anything counted between
 * the two ticks goes (the daemon ticks within 50 ms of each minute's
 * start, history_timer_start()). The API ticks before it reads, so the
 * current minute is up to date when asked.
 *
 * A slot holds at most HISTORY_SLOT_OBJS objects, those with the most
 * requests that minute; the rest of a kind is summed in the slot's
 * other[kind]. A minute in which nothing was counted holds zeros; minutes
 * no tick saw (before the first one, or skipped because the main loop was
 * held up or the wall clock jumped forward; what was counted meanwhile
 * went to the minute before) are gaps: history_read() gives minute -1.
 * The clock is the caller's (<now>, Unix seconds), so tests drive it.
 */
#ifndef GH_HISTORY_H
#define GH_HISTORY_H

#include <stdint.h>
#include <time.h>

#define HISTORY_MINUTES   1440 /* 24 hours */
#define HISTORY_SLOT_OBJS 32

struct event_base;

enum history_kind {
	HISTORY_LISTENER = 0,
	HISTORY_ROUTE,
	HISTORY__KINDS,
};

/* One object's counts in one minute. */
struct history_counts {
	uint32_t status[6]; /* [1..5]: 1xx..5xx answered; [0]: no response */
	uint32_t unmatched; /* listeners: requests no route took */
	uint32_t conns;     /* listeners: connections (UDP: sessions) */
	uint64_t bytes_in, bytes_out;
	uint64_t time_us; /* the answered requests' durations, summed */
};

struct history_entry {
	int64_t id;
	enum history_kind kind;
	struct history_counts n;
};

struct history_slot {
	int64_t minute; /* Unix time / 60 of its data; -1: a gap */
	uint32_t n;     /* entries used */
	struct history_counts other[HISTORY__KINDS]; /* beyond the cap */
	struct history_entry e[HISTORY_SLOT_OBJS];
};

struct history;

/* A new, empty history; NULL when memory runs out. */
struct history *history_new(void);
void history_free(struct history *h); /* NULL-safe */

/* Brings the history up to <now>: the current minute's counts become what
 * was counted since it began; a new minute closes the one before and
 * clears the slots of the minutes in between. The first tick only notes
 * where the counters stand. A clock that went back counts in the current
 * minute. -1 when memory runs out (nothing changed).
 */
int history_tick(struct history *h, time_t now);

/* Ticks, then copies the <nmin> minutes that end with <now>'s (oldest
 * first, 1 to HISTORY_MINUTES) into <out>; a minute without data has
 * minute -1 and no counts. *<since> is the first minute ticked (Unix
 * time / 60). Returns <now>'s minute, or -1 when memory runs out.
 */
int64_t history_read(struct history *h, time_t now, unsigned nmin,
    struct history_slot *out, int64_t *since);

/* Total requests (answered, unmatched, connections) of <c>: the order in
 * which a slot keeps objects.
 */
uint64_t history_weight(const struct history_counts *c);

/* <c> added to <into>, field by field. */
void history_counts_add(struct history_counts *into,
    const struct history_counts *c);

/* The daemon's history, ticked on <base> (the main loop) at the start of
 * every minute. history_main() is NULL before history_timer_start() and
 * after history_timer_stop().
 */
int history_timer_start(struct event_base *base);
void history_timer_stop(void);
struct history *history_main(void);

#endif
