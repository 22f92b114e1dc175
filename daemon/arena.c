/*
 * arena.c: chunked bump allocation with cleanup callbacks.
 *
 * Chunks form a list; a request larger than the chunk size gets a chunk of
 * its own. The first chunk is kept across arena_reset() so a keep-alive
 * request cycle does not go back to malloc.
 */
#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN 16

struct arena_chunk {
	struct arena_chunk *next;
	size_t size;
	size_t used;
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

struct arena_cleanup {
	struct arena_cleanup *next;
	void (*fn)(void *);
	void *arg;
};

struct arena {
	struct arena_chunk *head; /* owned list, newest first */
	struct arena_cleanup *cleanups;
	size_t chunk;
	size_t limit;
	size_t total;
};

struct arena *
arena_new(size_t chunk, size_t limit)
{
	struct arena *a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->chunk = chunk < 256 ? 256 : chunk;
	a->limit = limit;
	return a;
}

static void
arena_run_cleanups(struct arena *a)
{
	struct arena_cleanup *c;

	while ((c = a->cleanups) != NULL) {
		a->cleanups = c->next;
		c->fn(c->arg);
	}
}

void
arena_free(struct arena *a)
{
	struct arena_chunk *c, *next;

	if (a == NULL)
		return;
	arena_run_cleanups(a);
	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(a);
}

void
arena_reset(struct arena *a)
{
	struct arena_chunk *c, *next, *last = NULL;

	arena_run_cleanups(a);
	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		if (next == NULL)
			last = c;
		else
			free(c);
	}
	a->head = last;
	if (last != NULL)
		last->used = 0;
	a->total = 0;
}

void *
arena_alloc(struct arena *a, size_t n)
{
	struct arena_chunk *c = a->head;
	size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	size_t size;
	void *p;

	if (need < n || (a->limit != 0 && a->total + need > a->limit))
		return NULL;
	if (c == NULL || c->size - c->used < need) {
		size = need > a->chunk ? need : a->chunk;
		if ((c = malloc(sizeof(*c) + size)) == NULL)
			return NULL;
		c->size = size;
		c->used = 0;
		c->next = a->head;
		a->head = c;
	}
	p = c->data + c->used;
	c->used += need;
	a->total += need;
	return p;
}

void *
arena_calloc(struct arena *a, size_t nmemb, size_t size)
{
	void *p;

	if (size != 0 && nmemb > SIZE_MAX / size)
		return NULL;
	if ((p = arena_alloc(a, nmemb * size)) != NULL)
		memset(p, 0, nmemb * size);
	return p;
}

char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p;

	if ((p = arena_alloc(a, n + 1)) == NULL)
		return NULL;
	if (n > 0)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

int
arena_cleanup_add(struct arena *a, void (*fn)(void *), void *arg)
{
	struct arena_cleanup *c;

	if ((c = arena_alloc(a, sizeof(*c))) == NULL)
		return -1;
	c->fn = fn;
	c->arg = arg;
	c->next = a->cleanups;
	a->cleanups = c;
	return 0;
}

size_t
arena_used(const struct arena *a)
{
	return a->total;
}
