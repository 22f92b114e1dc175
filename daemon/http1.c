/*
 * http1.c: HTTP/1.x parsing glue around llhttp (the only llhttp.h user).
 *
 * llhttp (built with LLHTTP_STRICT_MODE, no lenient flag ever set) does the
 * tokenising and the body framing. On top of it this file refuses what
 * llhttp 8.1 still lets through or leaves to its user:
 *
 * - a raw scan of the head bytes, run before llhttp sees them, refuses bare
 *   LF, bare CR and obs-fold (llhttp accepts "X: a\r\n b" and an LF-only
 *   request line), and enforces the request-line, header-bytes and
 *   header-count limits (414, 431) before anything is stored;
 * - header names and values are checked byte by byte (token names; values
 *   without NUL, CR, LF, DEL or other CTLs except HTAB);
 * - Content-Length and Transfer-Encoding are read a second time here and
 *   compared with what llhttp decided: any disagreement is an error, so the
 *   framing we report can never differ from the framing llhttp applies;
 * - version (1.0 and 1.1 only) and Host (exactly one in HTTP/1.1) checks.
 *
 * Transfer-Encoding, both directions: every coding must be a bare token,
 * "chunked" may appear once and only last, and an HTTP/1.0 message with
 * Transfer-Encoding is refused (RFC 9112 6.1 calls its framing faulty). A
 * request whose codings end in chunked but hold another coding is 501 (we
 * only implement chunked). A response whose last coding is not chunked is
 * close-delimited, as RFC 9112 6.3 rule 4 says: HTTP_MSG_F_CLOSE_DELIM,
 * never keep-alive, so the connection it came on is never reused.
 *
 * Trailers of a chunked body are validated and counted against the header
 * limits like the head, then dropped: the head was already handed over.
 *
 * The parser pauses after every message (llhttp's HPE_PAUSED from our
 * on_message_complete), which is what makes pipelining one-at-a-time.
 */
#include "http1.h"

#include <llhttp.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "check.h"

#define HTTP1_MAGIC 0x31505448u /* "HTP1" */

/* Empty lines tolerated before a start line (RFC 9112 2.2 says at least
 * one); more is noise, refused rather than read forever.
 */
#define HTTP1_MAX_LEADING_CRLF 8
/* Bytes of chunk extensions tolerated on one chunk-size line. */
#define HTTP1_MAX_CHUNK_EXT 4096

enum scan_state {
	SC_LINE_START = 0,
	SC_IN_LINE,
	SC_CR,
	SC_DONE, /* head complete: the rest is body, llhttp's job */
};

enum run_state {
	RS_RUN = 0,
	RS_PAUSED,
	RS_UPGRADE,
	RS_ERROR,
};

enum hdr_state {
	HS_NONE = 0,
	HS_NAME,
	HS_VALUE,
};

struct http1_parser {
	unsigned magic;
	llhttp_t ll;
	enum http1_kind kind;
	struct http1_limits lim;
	struct http1_callbacks cb;
	void *arg;
	struct http_msg *m; /* borrowed */
	enum run_state rs;

	/* Raw head scan, reset per message. */
	enum scan_state sc;
	bool sc_first_done; /* start line complete */
	bool started;       /* a byte other than a leading CRLF was seen */
	size_t sc_line;     /* bytes of the current line, CRLF excluded */
	size_t sc_hbytes;   /* bytes of the header section */
	size_t sc_nlines;   /* header lines */
	unsigned sc_empty;  /* leading empty lines */

	/* A head that lies whole in the buffer being fed is copied into the
	 * message at once, and its spans become offsets from <hbase>, the
	 * buffer's start (<hlen> bytes copied); NULL: each span is appended.
	 */
	const char *hbase;
	size_t hlen;

	/* The header being assembled from llhttp's partial spans. */
	enum hdr_state hs;
	struct http_span name, value;
	bool value_started;
	const char *vexpect;  /* where the next span of this value must start */
	const char *feed_end; /* end of the buffer being fed */
	bool v_at_end;        /* the last value span ended the previous feed */
	bool in_body;         /* head done: header callbacks are trailers */
	size_t trailer_bytes, ntrailers;
	size_t ext_bytes;

	/* Framing as we read it, compared with llhttp's. */
	unsigned ncl, nhost;
	uint64_t cl;
	bool te_seen, te_last_chunked, te_other, te_bad;
	unsigned te_nchunked;
	bool expect_100;
	bool head_response;

	int err_status;
	const char *err_reason;
};

static int
fail(struct http1_parser *p, int status, const char *reason)
{
	if (p->err_status == 0) {
		p->err_status = status;
		p->err_reason = reason;
	}
	return -1;
}

static inline struct http1_parser *
parser_of(llhttp_t *ll)
{
	return ll->data;
}

/* tchar (RFC 9110 5.6.2): 1 for ALPHA, DIGIT and !#$%&'*+-.^_`|~. A byte
 * table: header names are checked a byte at a time, and one load per byte
 * costs half of a bitmap's shifts.
 */
/* clang-format off */
static const uint8_t tchar_tab[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1, 0,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0,
	0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};
/* clang-format on */

static inline bool
is_tchar(unsigned char c)
{
	return tchar_tab[c] != 0;
}

/* field-vchar, SP or HTAB: no NUL, CR, LF, DEL or other CTL. */
static inline bool
is_value_char(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* True when all <n> bytes at <p> are value bytes. Eight at a time: a word
 * with no byte below 0x20 and none equal to 0x7f is clean (bytes >= 0x80
 * are obs-text, allowed); only a flagged word (usually a HTAB) is looked
 * at byte by byte.
 */
static bool
value_bytes_ok(const char *p, size_t n)
{
	const uint64_t ones = 0x0101010101010101ull;
	const uint64_t highs = 0x8080808080808080ull;
	size_t i = 0, j;

	for (; i + 8 <= n; i += 8) {
		uint64_t x, d;

		memcpy(&x, p + i, 8);
		d = x ^ (ones * 0x7f);
		if ((((x - ones * 0x20) & ~x) | ((d - ones) & ~d)) & highs) {
			for (j = i; j < i + 8; j++) {
				if (!is_value_char((unsigned char)p[j]))
					return false;
			}
		}
	}
	for (; i < n; i++) {
		if (!is_value_char((unsigned char)p[i]))
			return false;
	}
	return true;
}

static inline bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* ---- the raw head scan ------------------------------------------------ */

static int
scan_eol(struct http1_parser *p)
{
	if (p->sc_line == 0) {
		if (p->sc_first_done) {
			p->sc = SC_DONE;
			return 0;
		}
		if (++p->sc_empty > HTTP1_MAX_LEADING_CRLF)
			return fail(p, 400,
			    "too many empty lines before message");
		p->sc = SC_LINE_START;
		return 0;
	}
	if (!p->sc_first_done)
		p->sc_first_done = true;
	else if (++p->sc_nlines > p->lim.max_headers)
		return fail(p, 431, "too many header fields");
	p->sc_line = 0;
	p->sc = SC_LINE_START;
	return 0;
}

/* Adds <n> bytes of line content to the counts; -1 past a limit. */
static int
scan_count(struct http1_parser *p, size_t n)
{
	if (n == 0)
		return 0;
	p->started = true;
	p->sc = SC_IN_LINE;
	p->sc_line += n;
	if (!p->sc_first_done) {
		if (p->sc_line > p->lim.max_request_line)
			return fail(p, p->kind == HTTP1_REQUEST ? 414 : 400,
			    p->kind == HTTP1_REQUEST ? "request line too long"
			                             : "status line too long");
	} else if ((p->sc_hbytes += n) > p->lim.max_header_bytes) {
		return fail(p, 431, "header section too large");
	}
	return 0;
}

/* Scans the head bytes in <buf> (stopping at the end of the head) for what
 * llhttp would accept but we refuse, and for the size limits. Line content
 * is skipped with memchr(), so a head costs little more than a copy.
 * Returns 0 with <*end> the bytes scanned (up to the head's last LF when
 * it ends here), or -1 with the error set.
 */
static int
scan_head(struct http1_parser *p, const char *buf, size_t n, size_t *end)
{
	size_t i = 0;

	while (i < n && p->sc != SC_DONE) {
		const char *cr, *lf;
		size_t seg;

		if (p->sc == SC_CR) {
			if (p->sc_first_done &&
			    ++p->sc_hbytes > p->lim.max_header_bytes)
				return fail(p, 431, "header section too large");
			if (buf[i++] != '\n')
				return fail(p, 400, "bare CR in message head");
			if (scan_eol(p) < 0)
				return -1;
			continue;
		}
		if (p->sc == SC_LINE_START && p->sc_first_done &&
		    (buf[i] == ' ' || buf[i] == '\t'))
			return fail(p, 400,
			    "obs-fold or whitespace before header name");
		cr = memchr(buf + i, '\r', n - i);
		seg = cr != NULL ? (size_t)(cr - (buf + i)) : n - i;
		if ((lf = memchr(buf + i, '\n', seg)) != NULL) {
			if (scan_count(p, (size_t)(lf - (buf + i))) < 0)
				return -1;
			return fail(p, 400, "bare LF in message head");
		}
		if (scan_count(p, seg) < 0)
			return -1;
		i += seg;
		if (cr != NULL) {
			if (p->sc_first_done &&
			    ++p->sc_hbytes > p->lim.max_header_bytes)
				return fail(p, 431, "header section too large");
			p->sc = SC_CR;
			i++;
		}
	}
	*end = i;
	return 0;
}

/* ---- llhttp callbacks ------------------------------------------------- */

static inline int
span_add(struct http1_parser *p, struct http_span *s, const char *at,
    size_t len)
{
	int64_t off;

	if (p->hbase != NULL && at >= p->hbase &&
	    (size_t)(at - p->hbase) + len <= p->hlen) {
		/* Already copied with the whole head. llhttp reports one
		 * span of a buffer once (a value broken by a line is
		 * refused before), so a span goes on where it stopped.
		 */
		off = at - p->hbase;
		if (s->len != 0 && (int64_t)s->off + s->len != off)
			return fail(p, 400, "broken span in message head");
	} else if ((off = http_msg_append(p->m, at, len)) < 0) {
		return fail(p, 500, "out of memory");
	}
	if (s->len == 0)
		s->off = (uint32_t)off;
	s->len += (uint32_t)len;
	return 0;
}

static int
on_method(llhttp_t *ll, const char *at, size_t len)
{
	struct http1_parser *p = parser_of(ll);

	return span_add(p, &p->m->method_name, at, len);
}

static int
on_url(llhttp_t *ll, const char *at, size_t len)
{
	struct http1_parser *p = parser_of(ll);
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)at[i];

		if (c <= 0x20 || c >= 0x7f)
			return fail(p, 400, "invalid byte in request target");
	}
	return span_add(p, &p->m->target, at, len);
}

static int
on_status(llhttp_t *ll, const char *at, size_t len)
{
	struct http1_parser *p = parser_of(ll);
	size_t i;

	for (i = 0; i < len; i++) {
		if (!is_value_char((unsigned char)at[i]))
			return fail(p, 400, "invalid byte in reason phrase");
	}
	return span_add(p, &p->m->reason, at, len);
}

static int
on_header_field(llhttp_t *ll, const char *at, size_t len)
{
	struct http1_parser *p = parser_of(ll);
	size_t i;

	for (i = 0; i < len; i++) {
		if (!is_tchar((unsigned char)at[i]))
			return fail(p, 400, "invalid byte in header name");
	}
	if (p->hs != HS_NAME) {
		p->hs = HS_NAME;
		p->name.off = p->name.len = 0;
	}
	if (p->in_body) {
		p->trailer_bytes += len;
		if (p->trailer_bytes > p->lim.max_header_bytes)
			return fail(p, 431, "trailer section too large");
		p->name.len += (uint32_t)len;
		return 0;
	}
	return span_add(p, &p->name, at, len);
}

static int
on_header_field_complete(llhttp_t *ll)
{
	struct http1_parser *p = parser_of(ll);

	if (p->hs != HS_NAME || p->name.len == 0)
		return fail(p, 400, "empty header name");
	p->hs = HS_VALUE;
	p->value.off = (uint32_t)p->m->len;
	p->value.len = 0;
	p->value_started = false;
	return 0;
}

static int
on_header_value(llhttp_t *ll, const char *at, size_t len)
{
	struct http1_parser *p = parser_of(ll);

	if (p->hs != HS_VALUE)
		return fail(p, 400, "header value without name");
	/* Spans of one value are contiguous unless llhttp skipped a line
	 * break between them: that is obs-fold (also in trailers, which the
	 * raw head scan does not see).
	 */
	if (p->value_started && at != p->vexpect)
		return fail(p, 400, "obs-fold in header value");
	p->value_started = true;
	p->vexpect = at + len;
	p->v_at_end = p->vexpect == p->feed_end;
	if (!value_bytes_ok(at, len))
		return fail(p, 400, "invalid byte in header value");
	if (p->in_body) {
		p->trailer_bytes += len;
		if (p->trailer_bytes > p->lim.max_header_bytes)
			return fail(p, 431, "trailer section too large");
		return 0;
	}
	if (span_add(p, &p->value, at, len) < 0)
		return -1;
	return 0;
}

static int
parse_content_length(struct http1_parser *p, struct str v)
{
	uint64_t n = 0;
	size_t i;

	if (++p->ncl > 1)
		return fail(p, 400, "duplicate Content-Length");
	if (v.len == 0)
		return fail(p, 400, "empty Content-Length");
	for (i = 0; i < v.len; i++) {
		unsigned d;

		if (!is_digit(v.p[i]))
			return fail(p, 400, "malformed Content-Length");
		d = (unsigned)(v.p[i] - '0');
		if (n > (UINT64_MAX - d) / 10)
			return fail(p, 400, "Content-Length overflow");
		n = n * 10 + d;
	}
	p->cl = n;
	return 0;
}

/* One Transfer-Encoding field line; several lines make one list. */
static int
parse_transfer_encoding(struct http1_parser *p, struct str v)
{
	p->te_seen = true;
	for (;;) {
		const char *comma = memchr(v.p, ',', v.len);
		size_t elen = comma != NULL ? (size_t)(comma - v.p) : v.len;
		struct str e = str_trim(str_make(v.p, elen));
		size_t i;

		if (e.len == 0)
			p->te_bad = true;
		for (i = 0; i < e.len; i++) {
			if (!is_tchar((unsigned char)e.p[i]))
				p->te_bad = true;
		}
		if (str_caseeq_cstr(e, "chunked")) {
			p->te_nchunked++;
			p->te_last_chunked = true;
		} else {
			p->te_last_chunked = false;
			p->te_other = true;
		}
		if (comma == NULL)
			break;
		v.p += elen + 1;
		v.len -= elen + 1;
	}
	return 0;
}

static int
header_interpret(struct http1_parser *p, struct str n, struct str v)
{
	switch (n.len) {
	case 4:
		if (str_caseeq_cstr(n, "host"))
			p->nhost++;
		break;
	case 6:
		if (str_caseeq_cstr(n, "expect") &&
		    str_caseeq_cstr(v, "100-continue"))
			p->expect_100 = true;
		break;
	case 14:
		if (str_caseeq_cstr(n, "content-length"))
			return parse_content_length(p, v);
		break;
	case 17:
		if (str_caseeq_cstr(n, "transfer-encoding"))
			return parse_transfer_encoding(p, v);
		break;
	default:
		break;
	}
	return 0;
}

static int
on_header_value_complete(llhttp_t *ll)
{
	struct http1_parser *p = parser_of(ll);
	struct http_msg *m = p->m;

	if (p->hs != HS_VALUE)
		return fail(p, 400, "header value without name");
	p->hs = HS_NONE;
	if (p->in_body) {
		if (++p->ntrailers > p->lim.max_headers)
			return fail(p, 431, "too many trailer fields");
		return 0;
	}
	/* llhttp strips leading OWS only. */
	while (p->value.len > 0) {
		char c = m->buf[p->value.off + p->value.len - 1];

		if (c != ' ' && c != '\t')
			break;
		p->value.len--;
	}
	if (http_msg_add_header(m, p->name, p->value) < 0)
		return fail(p, 500, "out of memory");
	return header_interpret(p, http_msg_str(m, p->name),
	    http_msg_str(m, p->value));
}

static unsigned
method_bit(uint8_t method)
{
	switch (method) {
	case HTTP_GET:
		return CFG_M_GET;
	case HTTP_HEAD:
		return CFG_M_HEAD;
	case HTTP_POST:
		return CFG_M_POST;
	case HTTP_PUT:
		return CFG_M_PUT;
	case HTTP_DELETE:
		return CFG_M_DELETE;
	case HTTP_PATCH:
		return CFG_M_PATCH;
	case HTTP_OPTIONS:
		return CFG_M_OPTIONS;
	case HTTP_CONNECT:
		return CFG_M_CONNECT;
	case HTTP_TRACE:
		return CFG_M_TRACE;
	default:
		return CFG_M_OTHER;
	}
}

/* Checks the framing headers and sets HTTP_MSG_F_CHUNKED/HAS_LENGTH/
 * CLOSE_DELIM. Returns 0 or -1.
 */
static int
head_framing(struct http1_parser *p)
{
	struct http_msg *m = p->m;
	bool ll_chunked = (p->ll.flags & F_CHUNKED) != 0;

	if (p->te_seen) {
		if (p->ncl > 0)
			return fail(p, 400,
			    "both Content-Length and Transfer-Encoding");
		if (m->minor == 0)
			return fail(p, 400,
			    "Transfer-Encoding in an HTTP/1.0 message");
		if (p->te_bad)
			return fail(p, 400, "malformed Transfer-Encoding");
		if (p->te_nchunked > 1 ||
		    (p->te_nchunked == 1 && !p->te_last_chunked))
			return fail(p, 400,
			    "chunked is not the final transfer coding");
		if (p->kind == HTTP1_REQUEST && !p->te_last_chunked)
			return fail(p, 400,
			    "request Transfer-Encoding does not end in chunked");
		if (p->kind == HTTP1_REQUEST && p->te_other)
			return fail(p, 501, "unsupported transfer coding");
		if (ll_chunked != p->te_last_chunked)
			return fail(p, 400, "ambiguous Transfer-Encoding");
		if (p->te_last_chunked)
			m->flags |= HTTP_MSG_F_CHUNKED;
		else
			m->flags |= HTTP_MSG_F_CLOSE_DELIM;
	} else if (ll_chunked) {
		return fail(p, 400, "ambiguous Transfer-Encoding");
	}
	if (p->ncl > 0) {
		if ((p->ll.flags & F_CONTENT_LENGTH) == 0 ||
		    p->ll.content_length != p->cl)
			return fail(p, 400, "ambiguous Content-Length");
		m->flags |= HTTP_MSG_F_HAS_LENGTH;
		m->content_length = p->cl;
	}
	return 0;
}

static int
head_request(struct http1_parser *p)
{
	struct http_msg *m = p->m;

	if (m->major != 1 || m->minor > 1)
		return fail(p, 505, "unsupported HTTP version");
	m->method = method_bit(p->ll.method);
	if (m->minor == 1 && p->nhost == 0)
		return fail(p, 400, "missing Host");
	if (p->nhost > 1)
		return fail(p, 400, "repeated Host");
	if (head_framing(p) < 0)
		return -1;
	if (p->expect_100 && m->minor == 1)
		m->flags |= HTTP_MSG_F_EXPECT_100;
	/* Only an upgrade the proxy can carry (WebSocket, HTTP/1.1) makes a
	 * tunnel; any other Upgrade is a plain request whose Upgrade header
	 * goes with the hop-by-hop ones (RFC 9110 7.8). Clearing llhttp's
	 * flag here, before it acts on it, keeps parsing HTTP after.
	 */
	if (p->ll.upgrade && p->ll.method != HTTP_CONNECT &&
	    (m->minor == 0 || !http_msg_has_token(m, "upgrade", "websocket")))
		p->ll.upgrade = 0;
	if (p->ll.upgrade)
		m->flags |= HTTP_MSG_F_UPGRADE;
	return 0;
}

static int
head_response(struct http1_parser *p)
{
	struct http_msg *m = p->m;

	if (m->major != 1 || m->minor > 1)
		return fail(p, 400, "unsupported HTTP version in response");
	m->status = p->ll.status_code;
	if (m->status < 100 || m->status > 999)
		return fail(p, 400, "invalid status code");
	if (head_framing(p) < 0)
		return -1;
	if (m->status == 101) {
		m->flags |= HTTP_MSG_F_UPGRADE | HTTP_MSG_F_NO_BODY;
		m->flags &= ~(unsigned)HTTP_MSG_F_CLOSE_DELIM;
	} else if (p->head_response || m->status / 100 == 1 ||
	    m->status == 204 || m->status == 304) {
		m->flags |= HTTP_MSG_F_NO_BODY;
		m->flags &= ~(unsigned)HTTP_MSG_F_CLOSE_DELIM;
	} else if ((m->flags & (HTTP_MSG_F_CHUNKED | HTTP_MSG_F_HAS_LENGTH)) ==
	    0) {
		m->flags |= HTTP_MSG_F_CLOSE_DELIM;
	}
	return 0;
}

static int
on_headers_complete(llhttp_t *ll)
{
	struct http1_parser *p = parser_of(ll);
	struct http_msg *m = p->m;
	bool ka;

	if (p->hs != HS_NONE)
		return fail(p, 400, "incomplete header field");
	m->major = ll->http_major;
	m->minor = ll->http_minor;
	if ((p->kind == HTTP1_REQUEST ? head_request(p) : head_response(p)) < 0)
		return -1;
	/* llhttp_should_keep_alive(), with our view of the body framing. */
	if (m->minor == 1)
		ka = (ll->flags & F_CONNECTION_CLOSE) == 0;
	else
		ka = (ll->flags & F_CONNECTION_KEEP_ALIVE) != 0;
	if (m->flags & HTTP_MSG_F_CLOSE_DELIM)
		ka = false;
	if (ka)
		m->flags |= HTTP_MSG_F_KEEPALIVE;
	p->in_body = true;
	if (p->cb.on_head != NULL && p->cb.on_head(p->arg, m) != 0)
		return fail(p, 400, "refused by on_head");
	if (p->kind == HTTP1_RESPONSE) {
		if (m->status == 101)
			return 2; /* no body, then HPE_PAUSED_UPGRADE */
		if (m->flags & HTTP_MSG_F_NO_BODY)
			return 1; /* skip the body llhttp would read */
	}
	return 0;
}

static int
on_body(llhttp_t *ll, const char *at, size_t len)
{
	struct http1_parser *p = parser_of(ll);

	if (p->cb.on_body != NULL && p->cb.on_body(p->arg, at, len) != 0)
		return fail(p, 400, "refused by on_body");
	return 0;
}

static int
on_chunk_header(llhttp_t *ll)
{
	parser_of(ll)->ext_bytes = 0;
	return 0;
}

static int
on_chunk_ext(llhttp_t *ll, const char *at, size_t len)
{
	struct http1_parser *p = parser_of(ll);

	p->ext_bytes += len;
	if (p->ext_bytes > HTTP1_MAX_CHUNK_EXT)
		return fail(p, 400, "chunk extensions too long");
	return 0;
}

static int
on_message_complete(llhttp_t *ll)
{
	struct http1_parser *p = parser_of(ll);

	if (p->cb.on_complete != NULL && p->cb.on_complete(p->arg) != 0)
		return fail(p, 400, "refused by on_complete");
	/* An upgrade makes llhttp return HPE_PAUSED_UPGRADE by itself. */
	return ll->upgrade ? 0 : HPE_PAUSED;
}

static const llhttp_settings_t http1_settings = {
	.on_method = on_method,
	.on_url = on_url,
	.on_status = on_status,
	.on_header_field = on_header_field,
	.on_header_field_complete = on_header_field_complete,
	.on_header_value = on_header_value,
	.on_header_value_complete = on_header_value_complete,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
	.on_chunk_header = on_chunk_header,
	.on_chunk_extension_name = on_chunk_ext,
	.on_chunk_extension_value = on_chunk_ext,
};

/* ---- the interface ---------------------------------------------------- */

/* Forgets everything about the previous message (not llhttp's state). */
static void
parser_rewind(struct http1_parser *p)
{
	http_msg_reset(p->m);
	p->rs = RS_RUN;
	p->hbase = NULL;
	p->hlen = 0;
	p->sc = SC_LINE_START;
	p->sc_first_done = p->started = false;
	p->sc_line = p->sc_hbytes = p->sc_nlines = 0;
	p->sc_empty = 0;
	p->hs = HS_NONE;
	p->value_started = false;
	p->vexpect = p->feed_end = NULL;
	p->v_at_end = false;
	p->in_body = false;
	p->trailer_bytes = p->ntrailers = p->ext_bytes = 0;
	p->ncl = p->nhost = 0;
	p->cl = 0;
	p->te_seen = p->te_last_chunked = p->te_other = p->te_bad = false;
	p->te_nchunked = 0;
	p->expect_100 = false;
	p->head_response = false;
	p->err_status = 0;
	p->err_reason = NULL;
}

struct http1_parser *
http1_new(enum http1_kind kind, const struct http1_limits *lim,
    const struct http1_callbacks *cb, void *arg, struct http_msg *m)
{
	struct http1_parser *p;

	CHECK_OBJ(m, HTTP_MSG_MAGIC);
	ASSERT(cb != NULL);
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->magic = HTTP1_MAGIC;
	p->kind = kind;
	if (lim != NULL)
		p->lim = *lim;
	if (p->lim.max_request_line == 0)
		p->lim.max_request_line = HTTP1_DEF_MAX_REQUEST_LINE;
	if (p->lim.max_header_bytes == 0)
		p->lim.max_header_bytes = HTTP1_DEF_MAX_HEADER_BYTES;
	if (p->lim.max_headers == 0)
		p->lim.max_headers = HTTP1_DEF_MAX_HEADERS;
	p->cb = *cb;
	p->arg = arg;
	p->m = m;
	llhttp_init(&p->ll,
	    kind == HTTP1_REQUEST ? HTTP_REQUEST : HTTP_RESPONSE,
	    &http1_settings);
	p->ll.data = p;
	parser_rewind(p);
	return p;
}

void
http1_free(struct http1_parser *p)
{
	if (p == NULL)
		return;
	CHECK_OBJ(p, HTTP1_MAGIC);
	p->magic = 0;
	free(p);
}

static enum http1_status
feed_error(struct http1_parser *p, llhttp_errno_t e)
{
	if (p->err_status == 0) {
		const char *r = llhttp_get_error_reason(&p->ll);

		p->err_status = 400;
		p->err_reason =
		    r != NULL && r[0] != '\0' ? r : llhttp_errno_name(e);
	}
	p->rs = RS_ERROR;
	return HTTP1_ERROR;
}

enum http1_status
http1_feed(struct http1_parser *p, const char *buf, size_t n, size_t *used)
{
	llhttp_errno_t e;
	const char *pos;
	size_t hend;
	bool fresh;

	CHECK_OBJ(p, HTTP1_MAGIC);
	*used = 0;
	if (p->rs == RS_ERROR)
		return HTTP1_ERROR;
	ASSERT(p->rs == RS_RUN); /* http1_next() after PAUSED/UPGRADE */
	if (n == 0)
		return HTTP1_OK;
	if (p->sc != SC_DONE) {
		/* No span of this message was taken from an earlier buffer. */
		fresh = p->m->len == 0;
		if (scan_head(p, buf, n, &hend) < 0) {
			p->rs = RS_ERROR;
			return HTTP1_ERROR;
		}
		/* The whole head is here (the usual case): one copy instead
		 * of one per span.
		 */
		if (fresh && p->sc == SC_DONE) {
			if (http_msg_append(p->m, buf, hend) < 0) {
				fail(p, 500, "out of memory");
				p->rs = RS_ERROR;
				return HTTP1_ERROR;
			}
			p->hbase = buf;
			p->hlen = hend;
		}
	}
	/* A value may go on at the start of this buffer only if the last
	 * span stopped at the end of the previous one.
	 */
	p->vexpect = p->v_at_end ? buf : NULL;
	p->v_at_end = false;
	p->feed_end = buf + n;
	e = llhttp_execute(&p->ll, buf, n);
	p->hbase = NULL; /* <buf> is the caller's again */
	switch (e) {
	case HPE_OK:
		*used = n;
		return HTTP1_OK;
	case HPE_PAUSED:
	case HPE_PAUSED_UPGRADE:
		pos = llhttp_get_error_pos(&p->ll);
		ASSERT(pos >= buf && pos <= buf + n);
		*used = (size_t)(pos - buf);
		p->rs = e == HPE_PAUSED ? RS_PAUSED : RS_UPGRADE;
		return e == HPE_PAUSED ? HTTP1_PAUSED : HTTP1_UPGRADE;
	default:
		return feed_error(p, e);
	}
}

enum http1_status
http1_finish(struct http1_parser *p)
{
	llhttp_errno_t e;

	CHECK_OBJ(p, HTTP1_MAGIC);
	switch (p->rs) {
	case RS_ERROR:
		return HTTP1_ERROR;
	case RS_PAUSED:
	case RS_UPGRADE:
		return HTTP1_OK;
	case RS_RUN:
		break;
	}
	if (!p->started && !p->in_body)
		return HTTP1_OK; /* at most stray CRLFs: a clean close */
	if (p->sc != SC_DONE) {
		fail(p, 400, "connection closed inside the message head");
		p->rs = RS_ERROR;
		return HTTP1_ERROR;
	}
	e = llhttp_finish(&p->ll);
	switch (e) {
	case HPE_OK:
		if (p->in_body) {
			fail(p, 400, "connection closed inside the message");
			p->rs = RS_ERROR;
			return HTTP1_ERROR;
		}
		return HTTP1_OK;
	case HPE_PAUSED:
		p->rs = RS_PAUSED;
		return HTTP1_PAUSED;
	default:
		fail(p, 400, "connection closed inside the message");
		return feed_error(p, e);
	}
}

void
http1_next(struct http1_parser *p)
{
	bool interim;

	CHECK_OBJ(p, HTTP1_MAGIC);
	ASSERT(p->rs == RS_PAUSED || p->rs == RS_UPGRADE);
	/* A 1xx belongs to the same request: a HEAD stays a HEAD. */
	interim = p->kind == HTTP1_RESPONSE && p->m->status / 100 == 1 &&
	    p->head_response;
	if (p->rs == RS_PAUSED)
		llhttp_resume(&p->ll);
	else
		llhttp_resume_after_upgrade(&p->ll);
	parser_rewind(p);
	p->head_response = interim;
}

void
http1_set_arg(struct http1_parser *p, void *arg)
{
	CHECK_OBJ(p, HTTP1_MAGIC);
	p->arg = arg;
}

void
http1_set_head_response(struct http1_parser *p, int is_head)
{
	CHECK_OBJ(p, HTTP1_MAGIC);
	p->head_response = is_head != 0;
}

int
http1_in_message(const struct http1_parser *p)
{
	CHECK_OBJ(p, HTTP1_MAGIC);
	return p->rs == RS_RUN && (p->started || p->in_body);
}

int
http1_error_status(const struct http1_parser *p)
{
	CHECK_OBJ(p, HTTP1_MAGIC);
	return p->err_status;
}

const char *
http1_error_reason(const struct http1_parser *p)
{
	CHECK_OBJ(p, HTTP1_MAGIC);
	return p->err_reason != NULL ? p->err_reason : "";
}
