/*
 * idtab.h: state kept per stable id (a server, an origin, a route) and
 * shared by threads: any thread reads it without a lock, the table grows
 * with the configuration.
 *
 * A table maps an id (> 0) to a slot of <slot_size> zeroed bytes that
 * lives as long as the table, at the same address: callers keep atomics
 * in it. idtab_get() is lock-free (one acquire load of the index, a
 * linear probe of {id, slot} pairs). idtab_add() takes the table's
 * mutex: it makes the slot, and when the index would be more than half
 * full it builds one twice the size, publishes it with one release
 * store and keeps the old one (a reader may still be probing it; the
 * index arrays ever made add up to less than twice the newest one).
 * Slots and ids are never removed.
 *
 * At <max> ids, or when memory runs out, idtab_add() refuses: NULL,
 * counted in the global counter live_state_refused and logged once per
 * table (the caller goes on without that id's state).
 */
#ifndef GH_IDTAB_H
#define GH_IDTAB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Ids a table holds unless told otherwise: more than any configuration
 * has (servers, origins, routes), so it is reached only by ids ever
 * seen over a long life of changes.
 */
#define IDTAB_MAX_DEFAULT (1u << 22)

struct idtab_arr;

struct idtab {
	const char *name; /* in the log line of a refusal */
	size_t slot_size;
	size_t max; /* most ids; 0: IDTAB_MAX_DEFAULT */
	_Atomic(struct idtab_arr *) arr;
	pthread_mutex_t mu; /* adders */
	size_t n;           /* ids held; under mu */
	_Atomic uint64_t refused;
	int warned; /* under mu */
};

#define IDTAB_INIT(nm, size)                       \
	{                                          \
		.name = (nm), .slot_size = (size), \
		.mu = PTHREAD_MUTEX_INITIALIZER    \
	}

/* The slot of <id>, or NULL when it has none. Thread: any, no lock. */
void *idtab_get(struct idtab *t, int64_t id);

/* The slot of <id>, made (zeroed) if it has none; NULL when <id> <= 0 or
 * refused (counted, logged once). Thread: any; takes the mutex.
 */
void *idtab_add(struct idtab *t, int64_t id);

/* Ids held, and the size of the index (for tests and /stats). */
size_t idtab_count(struct idtab *t);
size_t idtab_capacity(struct idtab *t);

/* Frees every slot and index: only when no other thread can use <t>
 * (tests). It is empty and usable again afterwards.
 */
void idtab_destroy(struct idtab *t);

#endif
