/*
 * arena.h: a bump allocator tied to one lifetime (a snapshot, a request).
 *
 * Memory from an arena is never freed piece by piece: arena_free() (or
 * arena_reset()) releases everything at once and runs the cleanup
 * callbacks registered with arena_cleanup_add(), newest first. Allocation
 * failure returns NULL; the caller treats it as a normal error.
 */
#ifndef GH_ARENA_H
#define GH_ARENA_H

#include <stddef.h>

struct arena;

/* <limit> caps the total bytes handed out (0: no cap). */
struct arena *arena_new(size_t chunk, size_t limit);
void arena_free(struct arena *a);
void arena_reset(struct arena *a);

void *arena_alloc(struct arena *a, size_t n); /* 16-byte aligned */
void *arena_calloc(struct arena *a, size_t nmemb, size_t size);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);

/* Registers <fn>(<arg>) to run when the arena is reset or freed. */
int arena_cleanup_add(struct arena *a, void (*fn)(void *), void *arg);

size_t arena_used(const struct arena *a);

#endif
