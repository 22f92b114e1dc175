/*
 * compress.c: Accept-Encoding, the decision, and one response's
 * compressed stream (compress.h).
 */
#include "compress.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfg.h"
#include "conn.h"
#include "http_msg.h"
#include "stats.h"

struct compress_stream {
	const struct compress_codec *codec;
	size_t reserve; /* the codec's at the route's level */
	void *st;
	struct compress_mem mem;
	bool dirty; /* input taken since the last flush */
	bool finished;
};

static void
count(enum stat_id id, uint64_t n)
{
	if (stats_self != NULL)
		stats_add(&stats_self->g[id], n);
	else
		stats_inc_slow(id, n);
}

const char *
compress_enc_name(enum compress_enc enc)
{
	switch (enc) {
	case COMPRESS_GZIP:
		return "gzip";
	case COMPRESS_BR:
		return "br";
	default:
		return "identity";
	}
}

/* ---- Accept-Encoding ---- */

void
compress_accept_init(struct compress_accept *a)
{
	a->gzip = a->br = a->identity = a->star = -1;
}

static bool
is_ows(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in
 * thousandths; -1 when <p> is not one.
 */
static int
parse_qvalue(const char *p, size_t n)
{
	int q, scale = 100;
	size_t i;

	if (n == 0 || (p[0] != '0' && p[0] != '1'))
		return -1;
	q = (p[0] - '0') * 1000;
	if (n == 1)
		return q;
	if (p[1] != '.' || n > 5)
		return -1;
	for (i = 2; i < n; i++, scale /= 10) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		q += (p[i] - '0') * scale;
	}
	return q > 1000 ? -1 : q;
}

/* One member "coding *( OWS ; OWS name=value )": its q, or -1 when it
 * does not parse. <name> gets the coding.
 */
static int
parse_member(const char *p, size_t n, struct str *name)
{
	size_t i = 0, s, e, eq;
	int q = 1000;

	while (i < n && p[i] != ';' && !is_ows(p[i]))
		i++;
	*name = str_make(p, i);
	if (i == 0)
		return -1;
	while (i < n) {
		while (i < n && is_ows(p[i]))
			i++;
		if (i == n)
			break;
		if (p[i] != ';')
			return -1;
		i++;
		while (i < n && is_ows(p[i]))
			i++;
		s = i;
		while (i < n && p[i] != ';')
			i++;
		e = i;
		while (e > s && is_ows(p[e - 1]))
			e--;
		for (eq = s; eq < e && p[eq] != '='; eq++)
			;
		if (eq == e)
			return -1; /* a parameter without a value */
		if (eq - s == 1 && (p[s] == 'q' || p[s] == 'Q') &&
		    (q = parse_qvalue(p + eq + 1, e - eq - 1)) < 0)
			return -1;
	}
	return q;
}

static void
accept_set(int *slot, int q)
{
	if (q > *slot)
		*slot = q;
}

void
compress_accept_parse(struct compress_accept *a, const char *p, size_t len)
{
	size_t s = 0, e;
	struct str name;
	int q;

	while (s < len) {
		for (e = s; e < len && p[e] != ','; e++)
			;
		while (s < e && is_ows(p[s]))
			s++;
		if (s < e && (q = parse_member(p + s, e - s, &name)) >= 0) {
			if (str_caseeq_cstr(name, "gzip") ||
			    str_caseeq_cstr(name, "x-gzip"))
				accept_set(&a->gzip, q);
			else if (str_caseeq_cstr(name, "br"))
				accept_set(&a->br, q);
			else if (str_caseeq_cstr(name, "identity"))
				accept_set(&a->identity, q);
			else if (name.len == 1 && name.p[0] == '*')
				accept_set(&a->star, q);
		}
		s = e + 1;
	}
}

enum compress_enc
compress_accept_choose(const struct compress_accept *a)
{
	return compress_accept_choose_offered(a,
	    CFG_COMPRESS_OFFER(COMPRESS_GZIP) |
	        CFG_COMPRESS_OFFER(COMPRESS_BR));
}

enum compress_enc
compress_accept_choose_offered(const struct compress_accept *a, unsigned offer)
{
	int star = a->star < 0 ? 0 : a->star;
	int gz = a->gzip >= 0 ? a->gzip : star;
	int br = a->br >= 0 ? a->br : star;
	int best;

	if (!(offer & CFG_COMPRESS_OFFER(COMPRESS_GZIP)))
		gz = 0;
	if (!(offer & CFG_COMPRESS_OFFER(COMPRESS_BR)))
		br = 0;
	best = gz > br ? gz : br;

	if (best <= 0 || a->identity > best)
		return COMPRESS_IDENTITY;
	return br >= gz ? COMPRESS_BR : COMPRESS_GZIP;
}

/* ---- the decision ---- */

bool
compress_type_matches(const struct cfg_compress *cz, struct str ct)
{
	size_t i, n, plen;
	const char *t;

	for (n = 0; n < ct.len && ct.p[n] != ';'; n++)
		;
	ct = str_trim(str_make(ct.p, n));
	if (ct.len == 0)
		return false;
	for (i = 0; i < cz->ntypes; i++) {
		t = cz->types[i];
		plen = strlen(t);
		if (t[plen - 1] == '/') {
			if (ct.len > plen && strncasecmp(ct.p, t, plen) == 0)
				return true;
		} else if (ct.len == plen && strncasecmp(ct.p, t, plen) == 0) {
			return true;
		}
	}
	return false;
}

enum compress_enc
compress_decide(const struct cfg_compress *cz,
    const struct compress_accept *acc, bool head, const struct http_msg *resp,
    bool *vary)
{
	struct str ct;

	*vary = false;
	if (cz == NULL || head || (resp->flags & HTTP_MSG_F_NO_BODY) ||
	    resp->status < 200 || resp->status == 204 || resp->status == 206 ||
	    resp->status == 304)
		return COMPRESS_IDENTITY;
	if (http_msg_find(resp, "content-encoding", 0) >= 0 ||
	    http_msg_find(resp, "content-range", 0) >= 0 ||
	    http_msg_has_token(resp, "cache-control", "no-transform"))
		return COMPRESS_IDENTITY;
	ct = http_msg_get(resp, "content-type");
	if (ct.p == NULL || !compress_type_matches(cz, ct))
		return COMPRESS_IDENTITY;
	if ((resp->flags & HTTP_MSG_F_HAS_LENGTH) &&
	    !(resp->flags & HTTP_MSG_F_CHUNKED) &&
	    resp->content_length < cz->min_bytes)
		return COMPRESS_IDENTITY;
	*vary = true;
	return compress_accept_choose_offered(acc, cz->offer);
}

/* ---- memory ---- */

/* Each block carries its size in front (16 bytes, for alignment). */
#define MEM_HDR 16u

void *
compress_mem_alloc(struct compress_mem *m, size_t n)
{
	unsigned char *p;

	if (m->cap != 0 && (n > m->cap || m->used + n + MEM_HDR > m->cap))
		return NULL;
	if ((p = malloc(n + MEM_HDR)) == NULL)
		return NULL;
	memcpy(p, &n, sizeof(n));
	m->used += n + MEM_HDR;
	if (m->used > m->peak)
		m->peak = m->used;
	return p + MEM_HDR;
}

void
compress_mem_free(struct compress_mem *m, void *q)
{
	unsigned char *p = q;
	size_t n;

	if (p == NULL)
		return;
	p -= MEM_HDR;
	memcpy(&n, p, sizeof(n));
	m->used -= n + MEM_HDR;
	free(p);
}

/* ---- the data plane ---- */

/* The reserve of this worker's open streams, and the most it may be
 * (set by the admin thread, read by every worker).
 */
static _Thread_local size_t worker_reserved;
static _Thread_local size_t worker_peak; /* its high-water mark */
static _Atomic size_t worker_budget = COMPRESS_WORKER_BUDGET;

void
compress_set_worker_budget(size_t bytes)
{
	atomic_store_explicit(&worker_budget, bytes, memory_order_relaxed);
}

size_t
compress_worker_budget(void)
{
	return atomic_load_explicit(&worker_budget, memory_order_relaxed);
}

unsigned
compress_response_head(struct conn *c, const struct http_msg *m)
{
	struct req *r = c->req;
	const struct http_msg *q = &r->msg;
	struct compress_accept acc;
	const struct compress_codec *codec;
	const struct cfg_compress *cz = r->route->compress;
	struct compress_stream *z;
	enum compress_enc enc;
	size_t reserve;
	bool vary;
	int i = -1, level;

	compress_accept_init(&acc);
	while ((i = http_msg_find(q, "accept-encoding", (size_t)(i + 1))) >=
	    0) {
		struct str v = http_msg_hvalue(q, (size_t)i);

		compress_accept_parse(&acc, v.p, v.len);
	}
	enc = compress_decide(cz, &acc, (r->flags & REQ_F_HEAD_METHOD) != 0, m,
	    &vary);
	if (enc == COMPRESS_IDENTITY || r->discard || r->comp != NULL)
		return vary ? COMPRESS_HEAD_VARY : 0;
	codec = enc == COMPRESS_GZIP ? &compress_gzip : &compress_br;
	level = enc == COMPRESS_GZIP ? cz->gzip_level : cz->br_level;
	reserve = codec->reserve(level);
	if (worker_reserved + reserve > compress_worker_budget()) {
		stats_inc(STAT_COMPRESS_OVER_BUDGET);
		return COMPRESS_HEAD_VARY;
	}
	if ((z = calloc(1, sizeof(*z))) == NULL) {
		stats_inc(STAT_COMPRESS_NO_MEMORY);
		return COMPRESS_HEAD_VARY;
	}
	z->codec = codec;
	z->reserve = reserve;
	z->st = z->codec->open(&z->mem,
	    (m->flags & HTTP_MSG_F_HAS_LENGTH) ? m->content_length : 0, level);
	if (z->st == NULL) {
		free(z);
		stats_inc(STAT_COMPRESS_NO_MEMORY);
		return COMPRESS_HEAD_VARY;
	}
	worker_reserved += reserve;
	if (worker_reserved > worker_peak) {
		/* stat compress_reserved_peak: what the budget guarantees */
		count(STAT_COMPRESS_RESERVED_PEAK,
		    worker_reserved - worker_peak);
		worker_peak = worker_reserved;
	}
	r->comp = z;
	r->encoding = compress_enc_name(enc);
	stats_inc(enc == COMPRESS_GZIP ? STAT_COMPRESS_GZIP : STAT_COMPRESS_BR);
	return COMPRESS_HEAD_VARY | COMPRESS_HEAD_ON;
}

bool
compress_drops(struct str name)
{
	return (name.len == 4 && str_caseeq_cstr(name, "etag")) ||
	    (name.len == 14 && str_caseeq_cstr(name, "content-length"));
}

/* Appends to <buf> within <len>; counts what it needs in <*at>. */
static void
lines_add(char *buf, size_t len, size_t *at, const char *p, size_t n)
{
	if (*at < len)
		memcpy(buf + *at, p, *at + n <= len ? n : len - *at);
	*at += n;
}

size_t
compress_head_lines(const struct conn *c, const struct http_msg *m,
    unsigned how, char *buf, size_t len)
{
	size_t at = 0;
	struct str etag;
	const char *enc;

	if ((how & COMPRESS_HEAD_ON) && c->req->encoding != NULL) {
		enc = c->req->encoding;
		lines_add(buf, len, &at, "Content-Encoding: ", 18);
		lines_add(buf, len, &at, enc, strlen(enc));
		lines_add(buf, len, &at, "\r\n", 2);
		etag = http_msg_get(m, "etag");
		if (etag.p != NULL) {
			lines_add(buf, len, &at, "ETag: ", 6);
			if (etag.len < 2 || etag.p[0] != 'W' ||
			    etag.p[1] != '/')
				lines_add(buf, len, &at, "W/", 2);
			lines_add(buf, len, &at, etag.p, etag.len);
			lines_add(buf, len, &at, "\r\n", 2);
		}
	}
	if ((how & COMPRESS_HEAD_VARY) &&
	    !http_msg_has_token(m, "vary", "accept-encoding") &&
	    !http_msg_has_token(m, "vary", "*"))
		lines_add(buf, len, &at, "Vary: Accept-Encoding\r\n", 23);
	return at;
}

/* A piece of compressed output to the client, chunked when the response
 * is.
 */
static int
stream_out(void *arg, const uint8_t *p, size_t n)
{
	struct conn *c = arg;
	struct req *r = c->req;
	char line[24];
	int len;

	count(STAT_COMPRESS_BYTES_OUT, n);
	if (r->flags & REQ_F_CHUNK_OUT) {
		len = snprintf(line, sizeof(line), "%zx\r\n", n);
		if (conn_write(c, line, (size_t)len) == -1 ||
		    conn_write(c, p, n) == -1 || conn_write(c, "\r\n", 2) == -1)
			r->flags |= REQ_F_CLOSE;
		r->bytes_out += (size_t)len + n + 2;
	} else {
		if (conn_write(c, p, n) == -1)
			r->flags |= REQ_F_CLOSE;
		r->bytes_out += n;
	}
	return 0;
}

int
compress_body(struct conn *c, const char *p, size_t n)
{
	struct compress_stream *z = c->req->comp;

	count(STAT_COMPRESS_BYTES_IN, n);
	z->dirty = true;
	if (z->codec->run(z->st, (const uint8_t *)p, n, COMPRESS_OP_NONE,
	        stream_out, c) != 0) {
		/* The connection closes (the caller's bad body); what went
		 * out is a truncated stream the client will see as one.
		 */
		stats_inc(STAT_COMPRESS_FAILED);
		c->req->flags |= REQ_F_CLOSE;
		return -1;
	}
	return 0;
}

void
compress_flush(struct conn *c)
{
	struct compress_stream *z = c->req->comp;

	if (!z->dirty)
		return;
	z->dirty = false;
	if (z->codec->run(z->st, NULL, 0, COMPRESS_OP_FLUSH, stream_out, c) !=
	    0) {
		stats_inc(STAT_COMPRESS_FAILED);
		c->req->flags |= REQ_F_CLOSE;
		conn_finish(c);
	}
}

void
compress_finish(struct conn *c)
{
	struct req *r = c->req;
	struct compress_stream *z = r->comp;

	if (z->codec->run(z->st, NULL, 0, COMPRESS_OP_FINISH, stream_out, c) !=
	    0) {
		stats_inc(STAT_COMPRESS_FAILED);
		r->flags |= REQ_F_CLOSE;
	}
	z->finished = true;
	compress_free(z);
	r->comp = NULL;
}

void
compress_free(struct compress_stream *z)
{
	if (z == NULL)
		return;
	if (!z->finished)
		stats_inc(STAT_COMPRESS_ABORTED);
	z->codec->close(z->st);
	worker_reserved -= z->reserve;
	free(z);
}
