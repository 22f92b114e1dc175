/*
 * http1_fuzz.h: the body of the HTTP/1 fuzz targets (request, response).
 *
 * One input is one connection's bytes. They are fed whole, then in chunks
 * whose sizes come from the input itself, then (for short inputs) byte by
 * byte, driving the parser the way the proxy does: http1_next() after each
 * message, stop at an upgrade or an error, http1_finish() at EOF. Each run
 * checks properties as events arrive (spans inside the head buffer, body
 * slices inside the input and within Content-Length, one head per message,
 * consistent framing flags, headers that are tokens and clean values) and
 * writes a summary log; every way of cutting the input must give the same
 * log. Only the error status may differ between cuts (a 414 found by the
 * raw scan before llhttp's 400 on an earlier byte of the same chunk).
 */
#ifndef GH_HTTP1_FUZZ_H
#define GH_HTTP1_FUZZ_H

#include <string.h>

#include "cfg.h"
#include "fuzz.h"
#include "http1.h"
#include "http_msg.h"

#define FZ_LOG_MAX          65536
#define FZ_BYTE_BY_BYTE_MAX 1024

struct fz {
	enum http1_kind kind;
	const uint8_t *data;
	size_t size;
	struct http_msg *m;
	char log[FZ_LOG_MAX];
	size_t loglen;
	size_t body_total; /* all body bytes of the run */
	size_t msg_body;   /* body bytes of the current message */
	int in_msg;        /* on_head seen, on_complete not yet */
	int completed;     /* on_complete calls since the last feed */
	unsigned flags;
	uint64_t cl;
	uint16_t status;
};

static const struct http1_limits fz_limits = { 200, 1024, 20 };

static void
fz_log(struct fz *f, const char *s)
{
	size_t n = strlen(s);

	if (f->loglen + n < sizeof(f->log)) {
		memcpy(f->log + f->loglen, s, n);
		f->loglen += n;
		f->log[f->loglen] = '\0';
	}
}

static int
fz_is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static void
fz_check_span(const struct http_msg *m, struct http_span s)
{
	FUZZ_CHECK((size_t)s.off + s.len <= m->len);
}

static void
fz_check_headers(struct fz *f, const struct http_msg *m)
{
	size_t i, j;

	FUZZ_CHECK(m->nhdrs <= fz_limits.max_headers);
	for (i = 0; i < m->nhdrs; i++) {
		struct str n = http_msg_hname(m, i), v = http_msg_hvalue(m, i);

		fz_check_span(m, m->hdrs[i].name);
		fz_check_span(m, m->hdrs[i].value);
		FUZZ_CHECK(n.len > 0);
		for (j = 0; j < n.len; j++)
			FUZZ_CHECK(fz_is_tchar((unsigned char)n.p[j]));
		for (j = 0; j < v.len; j++) {
			unsigned char c = (unsigned char)v.p[j];

			FUZZ_CHECK(c == '\t' || (c >= 0x20 && c != 0x7f));
		}
		if (v.len > 0) {
			FUZZ_CHECK(v.p[0] != ' ' && v.p[0] != '\t');
			FUZZ_CHECK(v.p[v.len - 1] != ' ' &&
			    v.p[v.len - 1] != '\t');
		}
	}
}

static int
fz_on_head(void *arg, struct http_msg *m)
{
	struct fz *f = arg;
	char buf[128];
	size_t spans, i;

	FUZZ_CHECK(m == f->m);
	FUZZ_CHECK(!f->in_msg);
	FUZZ_CHECK(m->len <= f->size); /* the head is a copy of input */
	FUZZ_CHECK(m->major == 1 && m->minor <= 1);
	fz_check_headers(f, m);
	FUZZ_CHECK((m->flags & HTTP_MSG_F_CHUNKED) == 0 ||
	    (m->flags & HTTP_MSG_F_HAS_LENGTH) == 0);
	if (m->flags & HTTP_MSG_F_HAS_LENGTH)
		FUZZ_CHECK(http_msg_count(m, "content-length") == 1);
	else
		FUZZ_CHECK(http_msg_count(m, "content-length") == 0);
	if (m->flags & HTTP_MSG_F_CHUNKED) {
		FUZZ_CHECK(http_msg_count(m, "transfer-encoding") >= 1);
		FUZZ_CHECK(m->minor == 1);
	}
	if (m->flags & HTTP_MSG_F_CLOSE_DELIM) {
		FUZZ_CHECK(f->kind == HTTP1_RESPONSE);
		FUZZ_CHECK((m->flags &
		               (HTTP_MSG_F_KEEPALIVE | HTTP_MSG_F_CHUNKED |
		                   HTTP_MSG_F_HAS_LENGTH |
		                   HTTP_MSG_F_NO_BODY)) == 0);
	}
	if (f->kind == HTTP1_REQUEST) {
		fz_check_span(m, m->method_name);
		fz_check_span(m, m->target);
		FUZZ_CHECK(m->method != 0 &&
		    (m->method & (m->method - 1)) == 0);
		FUZZ_CHECK(m->method <= CFG_M_OTHER);
		FUZZ_CHECK(m->method_name.len > 0 && m->target.len > 0);
		FUZZ_CHECK((m->flags &
		               (HTTP_MSG_F_NO_BODY | HTTP_MSG_F_CLOSE_DELIM)) ==
		    0);
		if (m->minor == 1)
			FUZZ_CHECK(http_msg_count(m, "host") == 1);
		else
			FUZZ_CHECK(http_msg_count(m, "host") <= 1);
	} else {
		fz_check_span(m, m->reason);
		FUZZ_CHECK(m->status >= 100 && m->status <= 999);
		FUZZ_CHECK(m->method == 0);
		if (m->status / 100 == 1 || m->status == 204 ||
		    m->status == 304)
			FUZZ_CHECK(m->flags & HTTP_MSG_F_NO_BODY);
		if (m->status == 101)
			FUZZ_CHECK(m->flags & HTTP_MSG_F_UPGRADE);
	}
	f->in_msg = 1;
	f->msg_body = 0;
	f->flags = m->flags;
	f->cl = m->content_length;
	f->status = m->status;
	/* The bytes the spans cover, not the buffer's length: a head that
	 * came whole is copied with its separators, a head cut over reads
	 * span by span (http1.c), and both must log alike.
	 */
	spans = m->method_name.len + m->target.len + m->reason.len;
	for (i = 0; i < m->nhdrs; i++)
		spans += m->hdrs[i].name.len + m->hdrs[i].value.len;
	snprintf(buf, sizeof(buf), "H%x,%u,%x,%zu,%zu;", m->flags, m->status,
	    m->method, m->nhdrs, spans);
	fz_log(f, buf);
	return 0;
}

static int
fz_on_body(void *arg, const char *p, size_t n)
{
	struct fz *f = arg;

	FUZZ_CHECK(f->in_msg);
	FUZZ_CHECK((f->flags & HTTP_MSG_F_NO_BODY) == 0);
	/* De-chunked body data is a slice of the input itself. */
	FUZZ_CHECK((const uint8_t *)p >= f->data &&
	    (const uint8_t *)p + n <= f->data + f->size);
	f->msg_body += n;
	f->body_total += n;
	FUZZ_CHECK(f->body_total <= f->size);
	if (f->flags & HTTP_MSG_F_HAS_LENGTH)
		FUZZ_CHECK(f->msg_body <= f->cl);
	return 0;
}

static int
fz_on_complete(void *arg)
{
	struct fz *f = arg;
	char buf[64];

	FUZZ_CHECK(f->in_msg);
	if ((f->flags & HTTP_MSG_F_HAS_LENGTH) &&
	    !(f->flags & HTTP_MSG_F_NO_BODY))
		FUZZ_CHECK(f->msg_body == f->cl);
	f->in_msg = 0;
	f->completed++;
	snprintf(buf, sizeof(buf), "C%zu;", f->msg_body);
	fz_log(f, buf);
	return 0;
}

static const struct http1_callbacks fz_cb = { fz_on_head, fz_on_body,
	fz_on_complete };

static void
fz_check_error(struct http1_parser *p)
{
	int st = http1_error_status(p);

	FUZZ_CHECK(st == 400 || st == 414 || st == 431 || st == 500 ||
	    st == 501 || st == 505);
	FUZZ_CHECK(http1_error_reason(p)[0] != '\0');
}

/* One run over the input, fed in chunks of at most <chunk> bytes, or of
 * sizes drawn from the input when <chunk> is 0. The log ends up in <f>.
 */
static void
fz_run(struct fz *f, enum http1_kind kind, int head, const uint8_t *data,
    size_t size, size_t chunk)
{
	struct http_msg m;
	struct http1_parser *p;
	enum http1_status st = HTTP1_OK;
	size_t pos = 0, k = 0;
	char buf[64];

	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->data = data;
	f->size = size;
	f->m = &m;
	http_msg_init(&m);
	p = http1_new(kind, &fz_limits, &fz_cb, f, &m);
	FUZZ_CHECK(p != NULL);
	http1_set_head_response(p, head);
	while (pos < size) {
		size_t n =
		    chunk != 0 ? chunk : 1 + (size_t)data[k++ % size] % 97;
		size_t end = pos + n < size ? pos + n : size;

		while (pos < end) {
			size_t used = 0;

			f->completed = 0;
			st = http1_feed(p, (const char *)data + pos, end - pos,
			    &used);
			FUZZ_CHECK(used <= end - pos);
			pos += used;
			if (st == HTTP1_OK) {
				FUZZ_CHECK(pos == end);
				FUZZ_CHECK(f->completed == 0);
			} else if (st == HTTP1_PAUSED) {
				FUZZ_CHECK(f->completed == 1 && !f->in_msg);
				FUZZ_CHECK(!http1_in_message(p));
				http1_next(p);
				if (head)
					http1_set_head_response(p, head);
			} else {
				break;
			}
		}
		if (st == HTTP1_ERROR || st == HTTP1_UPGRADE)
			break;
	}
	if (st == HTTP1_ERROR) {
		fz_check_error(p);
		fz_log(f, "E");
	} else if (st == HTTP1_UPGRADE) {
		FUZZ_CHECK(f->completed == 1 && !f->in_msg);
		FUZZ_CHECK(f->flags & HTTP_MSG_F_UPGRADE);
		snprintf(buf, sizeof(buf), "U%zu", pos);
		fz_log(f, buf);
	} else {
		st = http1_finish(p);
		if (st == HTTP1_PAUSED) {
			FUZZ_CHECK(f->flags & HTTP_MSG_F_CLOSE_DELIM);
			FUZZ_CHECK(!f->in_msg);
			fz_log(f, "F");
		} else if (st == HTTP1_OK) {
			FUZZ_CHECK(!f->in_msg);
			fz_log(f, "O");
		} else {
			fz_check_error(p);
			fz_log(f, "E");
		}
	}
	http1_free(p);
	http_msg_fini(&m);
}

static void
fz_http1(enum http1_kind kind, int head, const uint8_t *data, size_t size)
{
	static struct fz whole, cut;

	fz_run(&whole, kind, head, data, size, size > 0 ? size : 1);
	fz_run(&cut, kind, head, data, size, 0);
	FUZZ_CHECK(strcmp(whole.log, cut.log) == 0);
	if (size <= FZ_BYTE_BY_BYTE_MAX) {
		fz_run(&cut, kind, head, data, size, 1);
		FUZZ_CHECK(strcmp(whole.log, cut.log) == 0);
	}
}

#endif
