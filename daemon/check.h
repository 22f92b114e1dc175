/*
 * check.h: invariants that stay on in production.
 *
 * ASSERT() is for our own invariants, never for input: bytes from the
 * network, the API or the database are validated, not asserted. A failed
 * assertion names its file and line and aborts. CHECK_OBJ() compares a
 * core object's magic number, catching use-after-free and type confusion
 * the first time they happen.
 */
#ifndef GH_CHECK_H
#define GH_CHECK_H

#include <stddef.h>

void check_fail(const char *file, int line, const char *expr)
    __attribute__((noreturn));

#define ASSERT(e)                                           \
	do {                                                \
		if (__builtin_expect(!(e), 0))              \
			check_fail(__FILE__, __LINE__, #e); \
	} while (0)

#define CHECK_OBJ(o, m)                    \
	do {                               \
		ASSERT((o) != NULL);       \
		ASSERT((o)->magic == (m)); \
	} while (0)

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#endif
