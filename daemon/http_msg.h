/*
 * http_msg.h: one parsed HTTP/1.x message head (request or response).
 *
 * The head owns one growable byte buffer; the request target, reason
 * phrase and every header name and value are (offset, length) spans into
 * it, so they stay valid when the buffer grows. Accessors return struct
 * str views, valid until the message is reset or freed. Header names keep
 * their case as received; lookups are case-insensitive.
 */
#ifndef GH_HTTP_MSG_H
#define GH_HTTP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "str.h"

#define HTTP_MSG_MAGIC 0x4d534721u /* "MSG!" */

enum http_msg_flag {
	HTTP_MSG_F_CHUNKED = 1u << 0,     /* Transfer-Encoding: chunked */
	HTTP_MSG_F_KEEPALIVE = 1u << 1,   /* connection may be reused after */
	HTTP_MSG_F_UPGRADE = 1u << 2,     /* Upgrade requested / 101 given;
	                                     also a CONNECT request */
	HTTP_MSG_F_EXPECT_100 = 1u << 3,  /* Expect: 100-continue */
	HTTP_MSG_F_HAS_LENGTH = 1u << 4,  /* Content-Length present */
	HTTP_MSG_F_NO_BODY = 1u << 5,     /* response framed without body
	                                     (HEAD, 1xx, 204, 304): wins over
	                                     CHUNKED and HAS_LENGTH */
	HTTP_MSG_F_CLOSE_DELIM = 1u << 6, /* response body ends at EOF */
};

struct http_span {
	uint32_t off;
	uint32_t len;
};

struct http_hdr {
	struct http_span name;
	struct http_span value;
};

struct http_msg {
	unsigned magic;
	unsigned flags; /* HTTP_MSG_F_* */
	uint8_t major, minor;
	uint16_t status;              /* responses */
	unsigned method;              /* requests: CFG_M_* bit (cfg.h) */
	struct http_span method_name; /* requests: method as sent */
	struct http_span target;      /* requests: request-target */
	struct http_span reason;      /* responses: reason phrase */
	uint64_t content_length;      /* valid with HTTP_MSG_F_HAS_LENGTH */
	struct http_hdr *hdrs;        /* owned array */
	size_t nhdrs, hcap;
	size_t host1; /* index + 1 of the first Host header; 0: none */
	char *buf;    /* owned */
	size_t len, cap;
};

void http_msg_init(struct http_msg *m);
void http_msg_fini(struct http_msg *m);
/* Forgets the head but keeps the allocations for the next message. */
void http_msg_reset(struct http_msg *m);

/* Appends bytes to the buffer; returns the offset or -1 (no memory). */
int64_t http_msg_append(struct http_msg *m, const char *p, size_t n);
/* Adds a header whose name and value are spans already in the buffer. */
int http_msg_add_header(struct http_msg *m, struct http_span name,
    struct http_span value);

static inline struct str
http_msg_str(const struct http_msg *m, struct http_span s)
{
	return str_make(m->buf + s.off, s.len);
}

static inline struct str
http_msg_hname(const struct http_msg *m, size_t i)
{
	return http_msg_str(m, m->hdrs[i].name);
}

static inline struct str
http_msg_hvalue(const struct http_msg *m, size_t i)
{
	return http_msg_str(m, m->hdrs[i].value);
}

/* Value of the first Host header, or STR_NULL (kept by
 * http_msg_add_header(): no search).
 */
static inline struct str
http_msg_host(const struct http_msg *m)
{
	return m->host1 != 0 ? http_msg_hvalue(m, m->host1 - 1) : STR_NULL;
}

/* First header named <name> (case-insensitive); returns its index or -1. */
int http_msg_find(const struct http_msg *m, const char *name, size_t from);
/* Value of the first header named <name>, or STR_NULL. */
struct str http_msg_get(const struct http_msg *m, const char *name);
/* How many headers are named <name>. */
size_t http_msg_count(const struct http_msg *m, const char *name);

/* True when a comma-separated header list named <name> holds <token>
 * (case-insensitive), as in "Connection: keep-alive, Upgrade".
 */
bool http_msg_has_token(const struct http_msg *m, const char *name,
    const char *token);

#endif
