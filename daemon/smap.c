/*
 * smap.c: string set with values, open addressing, FNV-1a (smap.h).
 */
#include "smap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static size_t
smap_hash(const struct smap *m, const char *k)
{
	uint64_t h = 1469598103934665603ull;
	unsigned char c;

	for (; *k != '\0'; k++) {
		c = (unsigned char)*k;
		if (m->nocase && c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		h = (h ^ c) * 1099511628211ull;
	}
	return (size_t)h;
}

int
smap_init(struct smap *m, size_t n, bool nocase)
{
	m->cap = 16;
	while (m->cap < 2 * n + 1)
		m->cap *= 2;
	m->n = 0;
	m->nocase = nocase;
	m->slots = calloc(m->cap, sizeof(*m->slots));
	return m->slots != NULL ? 0 : -1;
}

void
smap_free(struct smap *m)
{
	free(m->slots);
	m->slots = NULL;
	m->cap = m->n = 0;
}

static struct smap_slot *
smap_slot(const struct smap *m, const char *key)
{
	size_t i = smap_hash(m, key) & (m->cap - 1);

	while (m->slots[i].key != NULL &&
	    (m->nocase ? strcasecmp(m->slots[i].key, key)
	               : strcmp(m->slots[i].key, key)) != 0)
		i = (i + 1) & (m->cap - 1);
	return &m->slots[i];
}

int
smap_add(struct smap *m, const char *key, size_t val, size_t *old)
{
	struct smap_slot *s;

	if (m->slots == NULL || 2 * (m->n + 1) > m->cap)
		return -1;
	s = smap_slot(m, key);
	if (s->key != NULL) {
		if (old != NULL)
			*old = s->val;
		return 1;
	}
	s->key = key;
	s->val = val;
	m->n++;
	return 0;
}

bool
smap_get(const struct smap *m, const char *key, size_t *val)
{
	const struct smap_slot *s;

	if (m->slots == NULL)
		return false;
	s = smap_slot(m, key);
	if (s->key == NULL)
		return false;
	if (val != NULL)
		*val = s->val;
	return true;
}
