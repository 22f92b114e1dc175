/*
 * smap.h: a set of strings, each with a size_t value (open addressing).
 *
 * Used where a configuration is checked or compiled and names must be
 * found in constant time: the keys are borrowed (they must outlive the
 * map), compared exactly or without case.
 */
#ifndef GH_SMAP_H
#define GH_SMAP_H

#include <stdbool.h>
#include <stddef.h>

struct smap {
	struct smap_slot {
		const char *key; /* borrowed; NULL: free */
		size_t val;
	} * slots;
	size_t cap, n;
	bool nocase;
};

/* Room for <n> keys. 0, or -1 when out of memory. */
int smap_init(struct smap *m, size_t n, bool nocase);
void smap_free(struct smap *m);
/* Adds <key> with <val>; 1 when it was already there (<*old> set when
 * not NULL, the value kept), 0 when added, -1 when full.
 */
int smap_add(struct smap *m, const char *key, size_t val, size_t *old);
/* true with <*val> when <key> is in the map. */
bool smap_get(const struct smap *m, const char *key, size_t *val);

#endif
