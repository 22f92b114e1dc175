/*
 * test_http1.c: the HTTP/1.x parsing glue, table-driven.
 *
 * Every case runs whole, split in two at every byte offset, and byte by
 * byte. A driver plays the proxy's part (http1_next() after each message,
 * tunnel bytes after an upgrade, http1_finish() at EOF) and writes what the
 * callbacks saw into a log string; every way of cutting the input must give
 * the same log, and that log must be the one in the table:
 *
 *   {GET(1) /t 1.1 KL5}   a head: method (CFG_M_* bit), target, version,
 *                         flags C chunked, K keep-alive, U upgrade,
 *                         E expect-100, L<n> length, N no body, D close-
 *                         delimited; responses show status and reason
 *   hello                 body bytes, de-chunked
 *   |                     message complete
 *   MORE / END / FIN      fed everything: wants more / clean EOF / EOF
 *                         completed the message (finish() was PAUSED)
 *   E<status>             HTTP1_ERROR and http1_error_status()
 *   UPG[bytes]            HTTP1_UPGRADE and the bytes left for the tunnel
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cmocka.h needs stdarg.h, stddef.h and setjmp.h first. */
#include <cmocka.h>

#include "cfg.h"
#include "check.h"
#include "http1.h"
#include "http_msg.h"

struct log {
	char s[8192];
	size_t len;
	int show_hdrs;
};

static void
log_add(struct log *l, const char *p, size_t n)
{
	assert_true(l->len + n < sizeof(l->s));
	memcpy(l->s + l->len, p, n);
	l->len += n;
	l->s[l->len] = '\0';
}

static void __attribute__((format(printf, 2, 3)))
log_printf(struct log *l, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof(tmp));
	log_add(l, tmp, (size_t)n);
}

static void
log_str(struct log *l, struct str s)
{
	log_add(l, s.p != NULL ? s.p : "", s.len);
}

static int
cb_head(void *arg, struct http_msg *m)
{
	struct log *l = arg;
	size_t i;

	log_add(l, "{", 1);
	if (m->method != 0) {
		log_str(l, http_msg_str(m, m->method_name));
		log_printf(l, "(%x) ", m->method);
		log_str(l, http_msg_str(m, m->target));
	} else {
		log_printf(l, "%u ", m->status);
		log_str(l, http_msg_str(m, m->reason));
	}
	log_printf(l, " %u.%u ", m->major, m->minor);
	if (m->flags & HTTP_MSG_F_CHUNKED)
		log_add(l, "C", 1);
	if (m->flags & HTTP_MSG_F_KEEPALIVE)
		log_add(l, "K", 1);
	if (m->flags & HTTP_MSG_F_UPGRADE)
		log_add(l, "U", 1);
	if (m->flags & HTTP_MSG_F_EXPECT_100)
		log_add(l, "E", 1);
	if (m->flags & HTTP_MSG_F_HAS_LENGTH)
		log_printf(l, "L%llu", (unsigned long long)m->content_length);
	if (m->flags & HTTP_MSG_F_NO_BODY)
		log_add(l, "N", 1);
	if (m->flags & HTTP_MSG_F_CLOSE_DELIM)
		log_add(l, "D", 1);
	for (i = 0; l->show_hdrs && i < m->nhdrs; i++) {
		log_add(l, i == 0 ? " " : ";", 1);
		log_str(l, http_msg_hname(m, i));
		log_add(l, "=", 1);
		log_str(l, http_msg_hvalue(m, i));
	}
	log_add(l, "}", 1);
	return 0;
}

static int
cb_body(void *arg, const char *p, size_t n)
{
	log_add(arg, p, n);
	return 0;
}

static int
cb_complete(void *arg)
{
	log_add(arg, "|", 1);
	return 0;
}

static const struct http1_callbacks log_cb = { cb_head, cb_body, cb_complete };

struct tcase {
	const char *name;
	enum http1_kind kind;
	const char *raw;
	const char *want;
	int eof;       /* call http1_finish() after the input */
	int head;      /* responses: the request was HEAD */
	int show_hdrs; /* log the header list too */
	struct http1_limits lim;
	size_t len; /* of raw, when it holds a NUL (0: strlen) */
};

/* Feeds <raw> cut at the offsets in <cuts> (ascending, ncuts of them) and
 * returns the log in <l>.
 */
static void
drive(const struct tcase *tc, const size_t *cuts, size_t ncuts, struct log *l)
{
	const char *raw = tc->raw;
	size_t n = tc->len != 0 ? tc->len : strlen(raw), pos = 0, c;
	struct http_msg m;
	struct http1_parser *p;
	enum http1_status st = HTTP1_OK;

	memset(l, 0, sizeof(*l));
	l->show_hdrs = tc->show_hdrs;
	http_msg_init(&m);
	p = http1_new(tc->kind, &tc->lim, &log_cb, l, &m);
	assert_non_null(p);
	if (tc->head)
		http1_set_head_response(p, 1);
	for (c = 0; c <= ncuts && st != HTTP1_ERROR && st != HTTP1_UPGRADE;
	     c++) {
		size_t end = c < ncuts ? cuts[c] : n;

		while (pos < end) {
			size_t used = 0;

			st = http1_feed(p, raw + pos, end - pos, &used);
			assert_true(used <= end - pos);
			pos += used;
			if (st == HTTP1_PAUSED) {
				http1_next(p);
				continue;
			}
			if (st == HTTP1_OK)
				assert_int_equal(pos, end);
			break;
		}
	}
	if (st == HTTP1_ERROR) {
		assert_true(http1_error_reason(p)[0] != '\0');
		log_printf(l, " E%d", http1_error_status(p));
	} else if (st == HTTP1_UPGRADE) {
		log_printf(l, " UPG[");
		log_add(l, raw + pos, n - pos);
		log_printf(l, "]");
	} else if (!tc->eof) {
		log_printf(l, " MORE");
	} else {
		st = http1_finish(p);
		if (st == HTTP1_PAUSED)
			log_printf(l, " FIN");
		else if (st == HTTP1_OK)
			log_printf(l, " END");
		else
			log_printf(l, " E%d", http1_error_status(p));
	}
	http1_free(p);
	http_msg_fini(&m);
}

static void
run_case(void **state)
{
	const struct tcase *tc = *state;
	size_t n = tc->len != 0 ? tc->len : strlen(tc->raw), k, *all;
	struct log whole, split;

	drive(tc, NULL, 0, &whole);
	if (strcmp(whole.s, tc->want) != 0)
		fail_msg("%s: got \"%s\", want \"%s\"", tc->name, whole.s,
		    tc->want);
	for (k = 1; k < n; k++) {
		drive(tc, &k, 1, &split);
		if (strcmp(split.s, whole.s) != 0)
			fail_msg("%s split at %zu: got \"%s\", want \"%s\"",
			    tc->name, k, split.s, whole.s);
	}
	all = calloc(n + 1, sizeof(*all));
	assert_non_null(all);
	for (k = 1; k < n; k++)
		all[k - 1] = k;
	drive(tc, all, n > 0 ? n - 1 : 0, &split);
	free(all);
	if (strcmp(split.s, whole.s) != 0)
		fail_msg("%s byte by byte: got \"%s\", want \"%s\"", tc->name,
		    split.s, whole.s);
}

#define Q    HTTP1_REQUEST
#define R    HTTP1_RESPONSE
#define H11  "GET / HTTP/1.1\r\nHost: a\r\n"
#define P11  "POST /p HTTP/1.1\r\nHost: a\r\n"
#define OK11 "HTTP/1.1 200 OK\r\n"
#define X16  "xxxxxxxxxxxxxxxx"
#define X256 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16

/* Trailing fields default to zero: the table stays one case a line. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
/* clang-format off */
static const struct tcase cases[] = {
	/* requests that parse */
	{ "get", Q, H11 "\r\n", "{GET(1) / 1.1 K}| MORE" },
	{ "get-headers", Q, "GET /x?y=1 HTTP/1.1\r\nHost:  a.test  \r\nX-Empty:\r\nx-case: MiXed \t\r\nObs: \x80\xff\r\n\r\n",
	  "{GET(1) /x?y=1 1.1 K Host=a.test;X-Empty=;x-case=MiXed;Obs=\x80\xff}| MORE", 0, 0, 1 },
	{ "get-1.0", Q, "GET / HTTP/1.0\r\n\r\n", "{GET(1) / 1.0 }| MORE" },
	{ "get-1.0-keepalive", Q, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", "{GET(1) / 1.0 K}| MORE" },
	{ "get-close", Q, H11 "Connection: close\r\n\r\n", "{GET(1) / 1.1 }| MORE" },
	{ "head", Q, "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n", "{HEAD(2) / 1.1 K}| MORE" },
	{ "methods", Q, "DELETE / HTTP/1.1\r\nHost: a\r\n\r\nPUT / HTTP/1.1\r\nHost: a\r\n\r\n"
	  "PATCH / HTTP/1.1\r\nHost: a\r\n\r\nOPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"
	  "TRACE / HTTP/1.1\r\nHost: a\r\n\r\nPROPFIND / HTTP/1.1\r\nHost: a\r\n\r\n",
	  "{DELETE(10) / 1.1 K}|{PUT(8) / 1.1 K}|{PATCH(20) / 1.1 K}|{OPTIONS(40) * 1.1 K}|{TRACE(100) / 1.1 K}|{PROPFIND(200) / 1.1 K}| MORE" },
	{ "leading-crlf", Q, "\r\n\r\n" H11 "\r\n", "{GET(1) / 1.1 K}| MORE" },
	{ "post-length", Q, P11 "Content-Length: 5\r\n\r\nhello", "{POST(4) /p 1.1 KL5}hello| MORE" },
	{ "post-length-zero", Q, P11 "Content-Length: 0\r\n\r\n", "{POST(4) /p 1.1 KL0}| MORE" },
	{ "post-length-ows", Q, P11 "Content-Length:\t 3  \r\n\r\nabc", "{POST(4) /p 1.1 KL3}abc| MORE" },
	{ "post-partial", Q, P11 "Content-Length: 5\r\n\r\nhel", "{POST(4) /p 1.1 KL5}hel MORE" },
	{ "post-chunked", Q, P11 "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
	  "{POST(4) /p 1.1 CK}hello world| MORE" },
	{ "post-chunked-ext-trailer", Q, P11 "Transfer-Encoding: Chunked\r\n\r\n5;c\r\nhello\r\nA;x=1\r\n0123456789\r\n0;last\r\nT1: x\r\nT2: y\r\n\r\n",
	  "{POST(4) /p 1.1 CK}hello0123456789| MORE" },
	{ "post-chunked-hex", Q, P11 "Transfer-Encoding: chunked\r\n\r\n0000a\r\nabcdefghij\r\n0\r\n\r\n",
	  "{POST(4) /p 1.1 CK}abcdefghij| MORE" },
	{ "expect-100", Q, P11 "Expect: 100-Continue\r\nContent-Length: 3\r\n\r\nabc", "{POST(4) /p 1.1 KEL3}abc| MORE" },
	{ "expect-100-http10", Q, "POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx", "{POST(4) / 1.0 L1}x| MORE" },
	{ "pipeline", Q, H11 "\r\n" P11 "Content-Length: 3\r\n\r\nabc" "GET /2 HTTP/1.1\r\nHost: a\r\n\r\n" "GET /3 HT",
	  "{GET(1) / 1.1 K}|{POST(4) /p 1.1 KL3}abc|{GET(1) /2 1.1 K}| MORE" },
	{ "pipeline-chunked", Q, P11 "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" H11 "\r\n",
	  "{POST(4) /p 1.1 CK}abc|{GET(1) / 1.1 K}| MORE" },
	{ "upgrade", Q, "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x05hello",
	  "{GET(1) /ws 1.1 KU}| UPG[\x81\x05hello]" },
	{ "upgrade-with-body", Q, P11 "Connection: upgrade\r\nUpgrade: websocket\r\nContent-Length: 3\r\n\r\nabcPRI",
	  "{POST(4) /p 1.1 KUL3}abc| UPG[PRI]" },
	/* Only WebSocket makes a tunnel: h2c and others stay HTTP/1 */
	{ "upgrade-h2c-plain", Q, P11 "Connection: upgrade\r\nUpgrade: h2c\r\nContent-Length: 3\r\n\r\nabc" H11 "\r\n",
	  "{POST(4) /p 1.1 KL3}abc|{GET(1) / 1.1 K}| MORE" },
	{ "upgrade-unknown-plain", Q, "GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: foo/2, websocketx\r\n\r\n",
	  "{GET(1) / 1.1 K}| MORE" },
	{ "upgrade-websocket-http10", Q, "GET / HTTP/1.0\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
	  "{GET(1) / 1.0 }| MORE" },
	{ "upgrade-no-connection", Q, H11 "Upgrade: websocket\r\n\r\n", "{GET(1) / 1.1 K}| MORE" },
	{ "connect", Q, "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\nTLS", "{CONNECT(80) a:443 1.1 KU}| UPG[TLS]" },
	{ "eof-idle", Q, "", " END", 1 },
	{ "eof-after-message", Q, H11 "\r\n", "{GET(1) / 1.1 K}| END", 1 },
	{ "eof-leading-crlf", Q, "\r\n", " END", 1 },

	/* requests that are refused: framing */
	{ "cl-and-te", Q, P11 "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", " E400" },
	{ "te-and-cl", Q, P11 "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", " E400" },
	{ "cl-dup-same", Q, P11 "Content-Length: 1\r\nContent-Length: 1\r\n\r\nx", " E400" },
	{ "cl-dup-diff", Q, P11 "Content-Length: 1\r\nContent-Length: 2\r\n\r\nxx", " E400" },
	{ "cl-list", Q, P11 "Content-Length: 1,1\r\n\r\nx", " E400" },
	{ "cl-plus", Q, P11 "Content-Length: +5\r\n\r\nhello", " E400" },
	{ "cl-minus", Q, P11 "Content-Length: -1\r\n\r\n", " E400" },
	{ "cl-inner-space", Q, P11 "Content-Length: 5 5\r\n\r\nhello", " E400" },
	{ "cl-empty", Q, P11 "Content-Length: \r\n\r\n", " E400" },
	{ "cl-hex", Q, P11 "Content-Length: 0x5\r\n\r\nhello", " E400" },
	{ "cl-overflow", Q, P11 "Content-Length: 18446744073709551616\r\n\r\n", " E400" },
	{ "cl-huge", Q, P11 "Content-Length: 99999999999999999999999\r\n\r\n", " E400" },
	{ "te-gzip", Q, P11 "Transfer-Encoding: gzip\r\n\r\n", " E400" },
	{ "te-chunked-gzip", Q, P11 "Transfer-Encoding: chunked, gzip\r\n\r\n", " E400" },
	{ "te-gzip-chunked", Q, P11 "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", " E501" },
	{ "te-chunked-twice", Q, P11 "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", " E400" },
	{ "te-two-lines", Q, P11 "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", " E400" },
	{ "te-params", Q, P11 "Transfer-Encoding: chunked;q=1\r\n\r\n0\r\n\r\n", " E400" },
	{ "te-empty-element", Q, P11 "Transfer-Encoding: ,chunked\r\n\r\n0\r\n\r\n", " E400" },
	{ "te-xchunked", Q, P11 "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", " E400" },
	{ "te-trailing-tab", Q, P11 "Transfer-Encoding: chunked\t\r\n\r\n0\r\n\r\n", " E400" },
	{ "te-http10", Q, "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", " E400" },
	{ "chunk-size-bad", Q, P11 "Transfer-Encoding: chunked\r\n\r\nxyz\r\n", "{POST(4) /p 1.1 CK} E400" },
	{ "chunk-size-space", Q, P11 "Transfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n", "{POST(4) /p 1.1 CK} E400" },
	{ "chunk-size-neg", Q, P11 "Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n", "{POST(4) /p 1.1 CK} E400" },
	{ "chunk-size-overflow", Q, P11 "Transfer-Encoding: chunked\r\n\r\n10000000000000000\r\n", "{POST(4) /p 1.1 CK} E400" },
	{ "chunk-no-crlf", Q, P11 "Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n", "{POST(4) /p 1.1 CK}hello E400" },
	{ "chunk-bare-lf", Q, P11 "Transfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n", "{POST(4) /p 1.1 CK} E400" },
	{ "chunk-ext-quoted", Q, P11 "Transfer-Encoding: chunked\r\n\r\n5;a=\"b;c\"\r\nhello\r\n0\r\n\r\n", "{POST(4) /p 1.1 CK}hello| MORE" },
	/* llhttp 8.1 refuses a second extension after one with a value. */
	{ "chunk-ext-multi", Q, P11 "Transfer-Encoding: chunked\r\n\r\n5;a=b;c\r\nhello\r\n0\r\n\r\n", "{POST(4) /p 1.1 CK} E400" },
	{ "chunk-ext-too-long", Q, P11 "Transfer-Encoding: chunked\r\n\r\n1;" X256 X256 X256 X256 X256 X256 X256 X256 X256 X256 X256 X256 X256 X256 X256 X256 X256 "\r\nx\r\n0\r\n\r\n", "{POST(4) /p 1.1 CK} E400" },
	{ "trailer-obs-fold", Q, P11 "Transfer-Encoding: chunked\r\n\r\n0\r\nT: a\r\n b\r\n\r\n", "{POST(4) /p 1.1 CK} E400" },
	{ "trailer-bare-lf", Q, P11 "Transfer-Encoding: chunked\r\n\r\n0\r\nT: a\nU: b\r\n\r\n", "{POST(4) /p 1.1 CK} E400" },
	{ "trailer-ctl", Q, P11 "Transfer-Encoding: chunked\r\n\r\n0\r\nT: a\x01\r\n\r\n", "{POST(4) /p 1.1 CK} E400" },
	{ "eof-in-head", Q, "GET / HTTP/1.1\r\nHost: a\r\n", " E400", 1 },
	{ "eof-in-body", Q, P11 "Content-Length: 5\r\n\r\nhel", "{POST(4) /p 1.1 KL5}hel E400", 1 },
	{ "eof-in-chunked", Q, P11 "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", "{POST(4) /p 1.1 CK}hello E400", 1 },

	/* requests that are refused: syntax */
	{ "obs-fold", Q, H11 "X: a\r\n b\r\n\r\n", " E400" },
	{ "obs-fold-tab", Q, H11 "X: a\r\n\tb\r\n\r\n", " E400" },
	{ "space-first-header", Q, "GET / HTTP/1.1\r\n Host: a\r\n\r\n", " E400" },
	{ "bare-lf-request-line", Q, "GET / HTTP/1.1\nHost: a\r\n\r\n", " E400" },
	{ "bare-lf-header", Q, H11 "X: a\nY: b\r\n\r\n", " E400" },
	{ "bare-lf-end", Q, H11 "\n", " E400" },
	{ "bare-lf-only", Q, "GET / HTTP/1.1\nHost: a\n\n", " E400" },
	{ "bare-cr", Q, H11 "X: a\rY: b\r\n\r\n", " E400" },
	{ "name-space-colon", Q, H11 "X : a\r\n\r\n", " E400" },
	{ "name-ctl", Q, H11 "X\x01: a\r\n\r\n", " E400" },
	{ "name-paren", Q, H11 "(x): a\r\n\r\n", " E400" },
	{ "name-empty", Q, H11 ": a\r\n\r\n", " E400" },
	{ "value-nul", Q, H11 "X: a\x00" "b\r\n\r\n", " E400", 0, 0, 0, { 0, 0, 0 }, sizeof(H11) + 9 },
	{ "value-ctl", Q, H11 "X: a\x01" "b\r\n\r\n", " E400" },
	{ "value-del", Q, H11 "X: a\x7f" "b\r\n\r\n", " E400" },
	{ "value-esc", Q, H11 "X: \x1b[31m\r\n\r\n", " E400" },
	{ "target-space", Q, "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", " E400" },
	{ "target-utf8", Q, "GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", " E400" },
	{ "target-ctl", Q, "GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n", " E400" },
	{ "method-lower", Q, "get / HTTP/1.1\r\nHost: a\r\n\r\n", " E400" },
	{ "method-unknown", Q, "FOO / HTTP/1.1\r\nHost: a\r\n\r\n", " E400" },
	{ "no-host", Q, "GET / HTTP/1.1\r\n\r\n", " E400" },
	{ "two-hosts", Q, H11 "Host: b\r\n\r\n", " E400" },
	{ "two-hosts-http10", Q, "GET / HTTP/1.0\r\nHost: a\r\nHOST: a\r\n\r\n", " E400" },
	{ "version-2.0", Q, "GET / HTTP/2.0\r\nHost: a\r\n\r\n", " E505" },
	{ "version-0.9", Q, "GET / HTTP/0.9\r\nHost: a\r\n\r\n", " E505" },
	{ "version-0.9-short", Q, "GET /\r\n\r\n", " E505" },
	{ "version-1.2", Q, "GET / HTTP/1.2\r\nHost: a\r\n\r\n", " E400" },
	{ "version-trailing-space", Q, "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", " E400" },
	{ "version-lower", Q, "GET / http/1.1\r\nHost: a\r\n\r\n", " E400" },
	{ "too-many-crlf", Q, "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n" H11 "\r\n", " E400" },
	{ "data-after-close", Q, H11 "Connection: close\r\n\r\n" H11 "\r\n", "{GET(1) / 1.1 }| E400" },
	{ "pipeline-then-bad", Q, H11 "\r\n" H11 "X: a\r\n b\r\n\r\n", "{GET(1) / 1.1 K}| E400" },
	{ "smuggle-cl-te-pipeline", Q, P11 "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\nHost: a\r\n\r\n", " E400" },
	{ "smuggle-te-space-colon", Q, P11 "Transfer-Encoding : chunked\r\nContent-Length: 4\r\n\r\n", " E400" },
	{ "smuggle-te-vtab", Q, P11 "Transfer-Encoding:\x0b" "chunked\r\n\r\n0\r\n\r\n", " E400" },

	/* limits */
	{ "line-at-limit", Q, "GET /12345 HTTP/1.1\r\nHost: a\r\n\r\n", "{GET(1) /12345 1.1 K}| MORE", 0, 0, 0, { 19, 0, 0 } },
	{ "line-414", Q, "GET /123456 HTTP/1.1\r\nHost: a\r\n\r\n", " E414", 0, 0, 0, { 19, 0, 0 } },
	{ "line-414-partial", Q, "GET /123456789012345678901234567890", " E414", 0, 0, 0, { 19, 0, 0 } },
	{ "hdr-bytes-at-limit", Q, H11 "X: 12\r\n\r\n", "{GET(1) / 1.1 K}| MORE", 0, 0, 0, { 0, 18, 0 } },
	{ "hdr-bytes-431", Q, H11 "X: 123\r\n\r\n", " E431", 0, 0, 0, { 0, 18, 0 } },
	{ "hdr-count-at-limit", Q, H11 "A: 1\r\nB: 2\r\n\r\n", "{GET(1) / 1.1 K}| MORE", 0, 0, 0, { 0, 0, 3 } },
	{ "hdr-count-431", Q, H11 "A: 1\r\nB: 2\r\nC: 3\r\n\r\n", " E431", 0, 0, 0, { 0, 0, 3 } },
	{ "trailer-count-431", Q, P11 "Transfer-Encoding: chunked\r\n\r\n0\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", "{POST(4) /p 1.1 CK} E431", 0, 0, 0, { 0, 0, 3 } },
	{ "trailer-bytes-431", Q, P11 "Transfer-Encoding: chunked\r\n\r\n0\r\nA: 1234567890123456789012345678901234567890\r\n\r\n", "{POST(4) /p 1.1 CK} E431", 0, 0, 0, { 0, 40, 0 } },

	/* responses */
	{ "resp-length", R, OK11 "Content-Length: 2\r\n\r\nhi", "{200 OK 1.1 KL2}hi| MORE" },
	{ "resp-headers", R, "HTTP/1.1 404 Not  Found\r\nContent-Length: 0\r\nSet-Cookie: a=b\r\nSet-Cookie: c=d\r\n\r\n",
	  "{404 Not  Found 1.1 KL0 Content-Length=0;Set-Cookie=a=b;Set-Cookie=c=d}| MORE", 0, 0, 1 },
	{ "resp-no-reason", R, "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", "{200  1.1 KL0}| MORE" },
	{ "resp-chunked", R, OK11 "Transfer-Encoding: chunked\r\n\r\n2;x=y\r\nhi\r\n1\r\n!\r\n0\r\n\r\n", "{200 OK 1.1 CK}hi!| MORE" },
	{ "resp-1.0-close", R, "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi", "{200 OK 1.0 L2}hi| MORE" },
	{ "resp-1.0-keepalive", R, "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhi", "{200 OK 1.0 KL2}hi| MORE" },
	{ "resp-conn-close", R, OK11 "Connection: close\r\nContent-Length: 2\r\n\r\nhi", "{200 OK 1.1 L2}hi| MORE" },
	{ "resp-close-delim", R, OK11 "\r\nabc", "{200 OK 1.1 D}abc| FIN", 1 },
	{ "resp-close-delim-empty", R, OK11 "\r\n", "{200 OK 1.1 D}| FIN", 1 },
	{ "resp-close-delim-10", R, "HTTP/1.0 200 OK\r\n\r\nabc", "{200 OK 1.0 D}abc| FIN", 1 },
	{ "resp-close-delim-more", R, OK11 "\r\nabc", "{200 OK 1.1 D}abc MORE" },
	{ "resp-te-gzip", R, OK11 "Transfer-Encoding: gzip\r\n\r\nabc", "{200 OK 1.1 D}abc| FIN", 1 },
	{ "resp-te-gzip-chunked", R, OK11 "Transfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", "{200 OK 1.1 CK}abc| MORE" },
	{ "resp-head", R, OK11 "Content-Length: 5\r\n\r\n" OK11 "Content-Length: 2\r\n\r\nhi",
	  "{200 OK 1.1 KL5N}|{200 OK 1.1 KL2}hi| MORE", 0, 1 },
	{ "resp-head-chunked", R, OK11 "Transfer-Encoding: chunked\r\n\r\n", "{200 OK 1.1 CKN}| MORE", 0, 1 },
	{ "resp-head-no-length", R, OK11 "\r\n", "{200 OK 1.1 KN}| MORE", 0, 1 },
	{ "resp-204", R, "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n" OK11 "Content-Length: 2\r\n\r\nhi",
	  "{204 No Content 1.1 KL5N}|{200 OK 1.1 KL2}hi| MORE" },
	{ "resp-304", R, "HTTP/1.1 304 Not Modified\r\nContent-Length: 500\r\n\r\n" OK11 "Content-Length: 0\r\n\r\n",
	  "{304 Not Modified 1.1 KL500N}|{200 OK 1.1 KL0}| MORE" },
	{ "resp-100", R, "HTTP/1.1 100 Continue\r\n\r\n" OK11 "Content-Length: 2\r\n\r\nhi", "{100 Continue 1.1 KN}|{200 OK 1.1 KL2}hi| MORE" },
	{ "resp-103-100", R, "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n" OK11 "Content-Length: 1\r\n\r\nx",
	  "{103 Early Hints 1.1 KN}|{100 Continue 1.1 KN}|{200 OK 1.1 KL1}x| MORE" },
	{ "resp-head-after-100", R, "HTTP/1.1 100 Continue\r\n\r\n" OK11 "Content-Length: 2\r\n\r\n",
	  "{100 Continue 1.1 KN}|{200 OK 1.1 KL2N}| MORE", 0, 1 },
	{ "resp-101", R, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x01",
	  "{101 Switching Protocols 1.1 KUN}| UPG[\x81\x01]" },
	{ "resp-101-bare", R, "HTTP/1.1 101 Switching Protocols\r\n\r\nTUNNEL", "{101 Switching Protocols 1.1 KUN}| UPG[TUNNEL]" },
	{ "resp-101-length", R, "HTTP/1.1 101 Switching Protocols\r\nContent-Length: 3\r\n\r\nabc", "{101 Switching Protocols 1.1 KUL3N}| UPG[abc]" },
	{ "resp-leading-crlf", R, "\r\n" OK11 "Content-Length: 0\r\n\r\n", "{200 OK 1.1 KL0}| MORE" },
	{ "resp-eof-idle", R, "", " END", 1 },
	{ "resp-eof-in-body", R, OK11 "Content-Length: 5\r\n\r\nhi", "{200 OK 1.1 KL5}hi E400", 1 },
	{ "resp-eof-in-head", R, OK11 "Content-Length: 5\r\n", " E400", 1 },
	{ "resp-eof-in-chunk", R, OK11 "Transfer-Encoding: chunked\r\n\r\n5\r\nhi", "{200 OK 1.1 CK}hi E400", 1 },
	{ "resp-cl-and-te", R, OK11 "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n", " E400" },
	{ "resp-cl-dup", R, OK11 "Content-Length: 2\r\nContent-Length: 2\r\n\r\nhi", " E400" },
	{ "resp-cl-list", R, OK11 "Content-Length: 2, 2\r\n\r\nhi", " E400" },
	{ "resp-cl-plus", R, OK11 "Content-Length: +2\r\n\r\nhi", " E400" },
	{ "resp-te-chunked-gzip", R, OK11 "Transfer-Encoding: chunked, gzip\r\n\r\nabc", " E400" },
	{ "resp-te-chunked-twice", R, OK11 "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", " E400" },
	{ "resp-te-http10", R, "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", " E400" },
	{ "resp-te-bad-token", R, OK11 "Transfer-Encoding: chunked;x=1\r\n\r\n", " E400" },
	{ "resp-obs-fold", R, OK11 "X: a\r\n b\r\nContent-Length: 0\r\n\r\n", " E400" },
	{ "resp-bare-lf", R, "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", " E400" },
	{ "resp-value-ctl", R, OK11 "X: \x01\r\nContent-Length: 0\r\n\r\n", " E400" },
	{ "resp-version-2", R, "HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n", " E400" },
	{ "resp-status-short", R, "HTTP/1.1 20 OK\r\n\r\n", " E400" },
	{ "resp-status-long", R, "HTTP/1.1 2000 OK\r\n\r\n", " E400" },
	{ "resp-chunk-bad", R, OK11 "Transfer-Encoding: chunked\r\n\r\nzz\r\n", "{200 OK 1.1 CK} E400" },
	{ "resp-status-line-limit", R, "HTTP/1.1 200 OKOKOKOK\r\n\r\n", " E400", 0, 0, 0, { 16, 0, 0 } },
	{ "resp-hdr-count-431", R, OK11 "A: 1\r\nB: 2\r\n\r\n", " E431", 0, 0, 0, { 0, 0, 1 } },
};
/* clang-format on */
#pragma GCC diagnostic pop

/* ---- tests that look beyond the log ----------------------------------- */

struct counter {
	int heads, completes, refuse_head;
	size_t body;
};

static int
count_head(void *arg, struct http_msg *m)
{
	struct counter *c = arg;

	c->heads++;
	return c->refuse_head ? -1 : 0;
}

static int
count_body(void *arg, const char *p, size_t n)
{
	((struct counter *)arg)->body += n;
	return 0;
}

static int
count_complete(void *arg)
{
	((struct counter *)arg)->completes++;
	return 0;
}

static const struct http1_callbacks count_cb = { count_head, count_body,
	count_complete };

/* Keep-alive messages reuse the message's buffers: no allocation once the
 * first message sized them.
 */
static void
test_reuse(void **state)
{
	static const char req[] = "GET /a/fairly/long/path HTTP/1.1\r\n"
	                          "Host: example.test\r\nAccept: */*\r\n"
	                          "User-Agent: test\r\n\r\n";
	struct counter c = { 0 };
	struct http_msg m;
	struct http1_parser *p;
	char *buf0;
	struct http_hdr *hdrs0;
	size_t used;
	int i;

	http_msg_init(&m);
	assert_non_null(p = http1_new(HTTP1_REQUEST, NULL, &count_cb, &c, &m));
	assert_int_equal(http1_in_message(p), 0);
	assert_int_equal(http1_feed(p, req, sizeof(req) - 1, &used),
	    HTTP1_PAUSED);
	assert_int_equal(used, sizeof(req) - 1);
	buf0 = m.buf;
	hdrs0 = m.hdrs;
	assert_int_equal(m.nhdrs, 3);
	for (i = 0; i < 100; i++) {
		http1_next(p);
		assert_int_equal(m.nhdrs, 0);
		assert_int_equal(m.len, 0);
		assert_int_equal(http1_feed(p, req, sizeof(req) - 1, &used),
		    HTTP1_PAUSED);
		assert_int_equal(used, sizeof(req) - 1);
		assert_ptr_equal(m.buf, buf0);
		assert_ptr_equal(m.hdrs, hdrs0);
	}
	assert_int_equal(c.heads, 101);
	assert_int_equal(c.completes, 101);
	assert_true(str_eq(http_msg_get(&m, "host"), STR_LIT("example.test")));
	http1_free(p);
	http_msg_fini(&m);
}

static void
test_in_message(void **state)
{
	static const char rest[] = "ET / HTTP/1.1\r\nHost: a\r\n"
	                           "Content-Length: 2\r\n\r\nx";
	struct counter c = { 0 };
	struct http_msg m;
	struct http1_parser *p;
	size_t used;

	http_msg_init(&m);
	assert_non_null(p = http1_new(HTTP1_REQUEST, NULL, &count_cb, &c, &m));
	assert_int_equal(http1_feed(p, "\r\n", 2, &used), HTTP1_OK);
	assert_int_equal(http1_in_message(p), 0); /* a stray CRLF only */
	assert_int_equal(http1_feed(p, "G", 1, &used), HTTP1_OK);
	assert_int_equal(http1_in_message(p), 1);
	assert_int_equal(http1_feed(p, rest, strlen(rest), &used), HTTP1_OK);
	assert_int_equal(http1_in_message(p), 1); /* inside the body */
	assert_int_equal(http1_feed(p, "yGET", 4, &used), HTTP1_PAUSED);
	assert_int_equal(used, 1);
	assert_int_equal(c.body, 2);
	assert_int_equal(http1_in_message(p), 0);
	assert_int_equal(http1_finish(p), HTTP1_OK);
	http1_next(p);
	assert_int_equal(http1_in_message(p), 0);
	http1_free(p);
	http_msg_fini(&m);
}

static void
test_callback_refuses(void **state)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
	struct counter c = { .refuse_head = 1 };
	struct http_msg m;
	struct http1_parser *p;
	size_t used;

	http_msg_init(&m);
	assert_non_null(p = http1_new(HTTP1_REQUEST, NULL, &count_cb, &c, &m));
	assert_int_equal(http1_feed(p, req, sizeof(req) - 1, &used),
	    HTTP1_ERROR);
	assert_int_equal(c.heads, 1);
	assert_int_equal(c.completes, 0);
	/* Errors are sticky. */
	assert_int_equal(http1_feed(p, req, sizeof(req) - 1, &used),
	    HTTP1_ERROR);
	assert_int_equal(used, 0);
	assert_int_equal(http1_finish(p), HTTP1_ERROR);
	http1_free(p);
	http_msg_fini(&m);
}

/* A refused upgrade (the origin answered 200, not 101): HTTP/1 goes on
 * with the bytes after the upgrade request.
 */
static void
test_upgrade_refused(void **state)
{
	static const char req[] =
	    "GET /ws HTTP/1.1\r\nHost: a\r\n"
	    "Connection: upgrade\r\nUpgrade: websocket\r\n\r\n"
	    "GET /next HTTP/1.1\r\nHost: a\r\n\r\n";
	struct counter c = { 0 };
	struct http_msg m;
	struct http1_parser *p;
	size_t used, off;

	http_msg_init(&m);
	assert_non_null(p = http1_new(HTTP1_REQUEST, NULL, &count_cb, &c, &m));
	assert_int_equal(http1_feed(p, req, sizeof(req) - 1, &used),
	    HTTP1_UPGRADE);
	off = used;
	assert_int_equal(off, 70); /* the end of the upgrade head */
	assert_true(m.flags & HTTP_MSG_F_UPGRADE);
	http1_next(p);
	assert_int_equal(http1_feed(p, req + off, sizeof(req) - 1 - off, &used),
	    HTTP1_PAUSED);
	assert_int_equal(off + used, sizeof(req) - 1);
	assert_true(str_eq(http_msg_str(&m, m.target), STR_LIT("/next")));
	assert_false(m.flags & HTTP_MSG_F_UPGRADE);
	assert_int_equal(c.heads, 2);
	assert_int_equal(c.completes, 2);
	http1_free(p);
	http_msg_fini(&m);
}

/* The defaults apply when no limits are given. */
static void
test_default_limits(void **state)
{
	struct counter c = { 0 };
	struct http_msg m;
	struct http1_parser *p;
	size_t used, n = HTTP1_DEF_MAX_REQUEST_LINE + 16;
	char *req = malloc(n);

	assert_non_null(req);
	memcpy(req, "GET /", 5);
	memset(req + 5, 'a', n - 5);
	http_msg_init(&m);
	assert_non_null(p = http1_new(HTTP1_REQUEST, NULL, &count_cb, &c, &m));
	assert_int_equal(http1_feed(p, req, n, &used), HTTP1_ERROR);
	assert_int_equal(http1_error_status(p), 414);
	http1_free(p);
	http_msg_fini(&m);
	free(req);
}

/* The reason strings are log output: check a few exactly. */
static void
test_reasons(void **state)
{
	static const struct {
		const char *raw;
		int status;
		const char *reason;
	} t[] = {
		{ "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 400,
		    "obs-fold or whitespace before header name" },
		{ "GET / HTTP/1.1\nHost: a\r\n\r\n", 400,
		    "bare LF in message head" },
		{ "GET / HTTP/1.1\r\n\r\n", 400, "missing Host" },
		{ "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400,
		    "repeated Host" },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, "
		  "chunked\r\n\r\n",
		    501, "unsupported transfer coding" },
	};
	size_t i;

	for (i = 0; i < NELEM(t); i++) {
		struct counter c = { 0 };
		struct http_msg m;
		struct http1_parser *p;
		size_t used;

		http_msg_init(&m);
		p = http1_new(HTTP1_REQUEST, NULL, &count_cb, &c, &m);
		assert_non_null(p);
		assert_int_equal(http1_feed(p, t[i].raw, strlen(t[i].raw),
		                     &used),
		    HTTP1_ERROR);
		assert_int_equal(http1_error_status(p), t[i].status);
		assert_string_equal(http1_error_reason(p), t[i].reason);
		http1_free(p);
		http_msg_fini(&m);
	}
}

/* Every byte value inside a header name: accepted exactly when it is a
 * tchar (RFC 9110 5.6.2), refused with 400 otherwise (the name check is a
 * byte table: each of its 256 entries is looked at here).
 */
static void
test_header_name_bytes(void **state)
{
	static const char tchars[] = "!#$%&'*+-.^_`|~0123456789"
	                             "abcdefghijklmnopqrstuvwxyz"
	                             "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	unsigned b;

	(void)state;
	for (b = 0; b < 256; b++) {
		struct counter c = { 0 };
		struct http_msg m;
		struct http1_parser *p;
		char raw[64];
		size_t used, n;
		/* ':' ends the name: "X" with the value "Y: v". */
		bool tchar =
		    b == ':' || (b != 0 && strchr(tchars, (int)b) != NULL);
		enum http1_status st;

		n = (size_t)snprintf(raw, sizeof(raw),
		    "GET / HTTP/1.1\r\nHost: a\r\nXZY: v\r\n\r\n");
		*strchr(raw, 'Z') = (char)b;
		http_msg_init(&m);
		p = http1_new(HTTP1_REQUEST, NULL, &count_cb, &c, &m);
		assert_non_null(p);
		st = http1_feed(p, raw, n, &used);
		if (tchar) {
			assert_true(st == HTTP1_PAUSED || st == HTTP1_OK);
			assert_int_equal(m.nhdrs, 2);
		} else {
			if (st != HTTP1_ERROR)
				fail_msg("byte 0x%02x accepted in a name", b);
			assert_int_equal(http1_error_status(p), 400);
		}
		http1_free(p);
		http_msg_fini(&m);
	}
}

int
main(void)
{
	struct CMUnitTest *tests;
	static const struct CMUnitTest extra[] = {
		cmocka_unit_test(test_reuse),
		cmocka_unit_test(test_in_message),
		cmocka_unit_test(test_callback_refuses),
		cmocka_unit_test(test_reasons),
		cmocka_unit_test(test_upgrade_refused),
		cmocka_unit_test(test_default_limits),
		cmocka_unit_test(test_header_name_bytes),
	};
	size_t ncases = NELEM(cases), i;
	int rc;

	tests = calloc(ncases + NELEM(extra), sizeof(*tests));
	if (tests == NULL)
		return 1;
	for (i = 0; i < ncases; i++) {
		tests[i].name = cases[i].name;
		tests[i].test_func = run_case;
		tests[i].initial_state = (void *)(uintptr_t)&cases[i];
	}
	for (i = 0; i < NELEM(extra); i++)
		tests[ncases + i] = extra[i];
	rc = _cmocka_run_group_tests("http1", tests, ncases + NELEM(extra),
	    NULL, NULL);
	free(tests);
	return rc;
}
