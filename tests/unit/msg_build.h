/*
 * msg_build.h: building a struct http_msg by hand in unit tests. Include
 * after cmocka.h and a header that declares http_msg (http_msg.h).
 */
#ifndef GATEHOUSE_TESTS_MSG_BUILD_H
#define GATEHOUSE_TESTS_MSG_BUILD_H

#include <stdint.h>
#include <string.h>

#include "http_msg.h"

/* <s> appended to <m>'s buffer, as a span of it. */
static inline struct http_span
span(struct http_msg *m, const char *s)
{
	int64_t off = http_msg_append(m, s, strlen(s));
	struct http_span sp;

	assert_true(off >= 0);
	sp.off = (uint32_t)off;
	sp.len = (uint32_t)strlen(s);
	return sp;
}

/* The header <name>: <value> added to <m>. */
static inline void
add(struct http_msg *m, const char *name, const char *value)
{
	struct http_span n = span(m, name), v = span(m, value);

	assert_int_equal(http_msg_add_header(m, n, v), 0);
}

#endif
