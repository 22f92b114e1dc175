/*
 * http_msg.c: one parsed HTTP/1.x message head.
 *
 * Every byte of the head (method, target, reason, header names and values)
 * lives in one growable buffer, and the message refers to it by spans, so
 * growing the buffer never invalidates what was parsed before. A keep-alive
 * connection resets its message between requests and keeps both arrays:
 * after the first few requests the data path allocates nothing here.
 */
#include "http_msg.h"

#include <stdlib.h>
#include <string.h>

#include "check.h"

#define HTTP_MSG_BUF_MIN  1024
#define HTTP_MSG_HDRS_MIN 16

void
http_msg_init(struct http_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->magic = HTTP_MSG_MAGIC;
}

void
http_msg_fini(struct http_msg *m)
{
	CHECK_OBJ(m, HTTP_MSG_MAGIC);
	free(m->hdrs);
	free(m->buf);
	memset(m, 0, sizeof(*m));
}

void
http_msg_reset(struct http_msg *m)
{
	CHECK_OBJ(m, HTTP_MSG_MAGIC);
	m->flags = 0;
	m->major = m->minor = 0;
	m->status = 0;
	m->method = 0;
	memset(&m->method_name, 0, sizeof(m->method_name));
	memset(&m->target, 0, sizeof(m->target));
	memset(&m->reason, 0, sizeof(m->reason));
	m->content_length = 0;
	m->nhdrs = 0;
	m->host1 = 0;
	m->len = 0;
}

int64_t
http_msg_append(struct http_msg *m, const char *p, size_t n)
{
	size_t off = m->len;

	if (n > UINT32_MAX - m->len)
		return -1; /* spans are 32-bit */
	if (m->len + n > m->cap) {
		size_t ncap = m->cap != 0 ? m->cap : HTTP_MSG_BUF_MIN;
		char *nb;

		while (ncap < m->len + n)
			ncap *= 2;
		if ((nb = realloc(m->buf, ncap)) == NULL)
			return -1;
		m->buf = nb;
		m->cap = ncap;
	}
	if (n > 0)
		memcpy(m->buf + m->len, p, n);
	m->len += n;
	return (int64_t)off;
}

int
http_msg_add_header(struct http_msg *m, struct http_span name,
    struct http_span value)
{
	ASSERT((size_t)name.off + name.len <= m->len);
	ASSERT((size_t)value.off + value.len <= m->len);
	if (m->nhdrs == m->hcap) {
		size_t ncap = m->hcap != 0 ? m->hcap * 2 : HTTP_MSG_HDRS_MIN;
		struct http_hdr *nh;

		if ((nh = realloc(m->hdrs, ncap * sizeof(*nh))) == NULL)
			return -1;
		m->hdrs = nh;
		m->hcap = ncap;
	}
	m->hdrs[m->nhdrs].name = name;
	m->hdrs[m->nhdrs].value = value;
	m->nhdrs++;
	if (m->host1 == 0 && name.len == 4 &&
	    str_caseeq(http_msg_str(m, name), STR_LIT("host")))
		m->host1 = m->nhdrs;
	return 0;
}

int
http_msg_find(const struct http_msg *m, const char *name, size_t from)
{
	struct str n = str_cstr(name);
	size_t i;

	for (i = from; i < m->nhdrs; i++) {
		if (str_caseeq(http_msg_hname(m, i), n))
			return (int)i;
	}
	return -1;
}

struct str
http_msg_get(const struct http_msg *m, const char *name)
{
	int i = http_msg_find(m, name, 0);

	return i >= 0 ? http_msg_hvalue(m, (size_t)i) : STR_NULL;
}

size_t
http_msg_count(const struct http_msg *m, const char *name)
{
	size_t n = 0;
	int i = -1;

	while ((i = http_msg_find(m, name, (size_t)(i + 1))) >= 0)
		n++;
	return n;
}

/* True when the comma-separated list <v> holds <tok> (case-insensitive). */
static bool
list_has_token(struct str v, struct str tok)
{
	while (v.len > 0) {
		const char *comma = memchr(v.p, ',', v.len);
		size_t elen = comma != NULL ? (size_t)(comma - v.p) : v.len;

		if (str_caseeq(str_trim(str_make(v.p, elen)), tok))
			return true;
		if (comma == NULL)
			break;
		v.p += elen + 1;
		v.len -= elen + 1;
	}
	return false;
}

bool
http_msg_has_token(const struct http_msg *m, const char *name,
    const char *token)
{
	struct str tok = str_cstr(token);
	int i = -1;

	while ((i = http_msg_find(m, name, (size_t)(i + 1))) >= 0) {
		if (list_has_token(http_msg_hvalue(m, (size_t)i), tok))
			return true;
	}
	return false;
}
