/*
 * str.h: strings as (pointer, length), never assuming a NUL.
 */
#ifndef GH_STR_H
#define GH_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

struct str {
	const char *p;
	size_t len;
};

#define STR_LIT(s) ((struct str){ (s), sizeof(s) - 1 })
#define STR_NULL   ((struct str){ NULL, 0 })

static inline struct str
str_make(const char *p, size_t len)
{
	struct str s = { p, len };
	return s;
}

static inline struct str
str_cstr(const char *p)
{
	return str_make(p, p != NULL ? strlen(p) : 0);
}

static inline bool
str_eq(struct str a, struct str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

/* ASCII case-insensitive equality (header names, host names): bytes are
 * equal, or the same ASCII letter in the other case; all <len> of them
 * count, a NUL too. Inline, and not strncasecmp(): the names compared on
 * a request's path are short, and the library call (its locale table,
 * its vector set-up) cost more than the loop.
 */
static inline bool
str_caseeq(struct str a, struct str b)
{
	size_t i;

	if (a.len != b.len)
		return false;
	for (i = 0; i < a.len; i++) {
		unsigned char x = (unsigned char)a.p[i];
		unsigned char y = (unsigned char)b.p[i];

		if (x != y &&
		    ((x ^ y) != 0x20 || (x | 0x20) < 'a' || (x | 0x20) > 'z'))
			return false;
	}
	return true;
}

static inline bool
str_caseeq_cstr(struct str a, const char *b)
{
	return str_caseeq(a, str_cstr(b));
}

static inline bool
str_has_prefix(struct str s, struct str prefix)
{
	return s.len >= prefix.len &&
	    (prefix.len == 0 || memcmp(s.p, prefix.p, prefix.len) == 0);
}

/* Strips optional whitespace (SP, HTAB) from both ends. */
static inline struct str
str_trim(struct str s)
{
	while (s.len > 0 && (s.p[0] == ' ' || s.p[0] == '\t')) {
		s.p++;
		s.len--;
	}
	while (s.len > 0 && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t'))
		s.len--;
	return s;
}

#endif
