/*
 * http1.h: HTTP/1.x parsing glue (http1.c is the only includer of llhttp.h).
 *
 * A parser turns bytes into events on a caller's struct http_msg: the head
 * once it is complete (on_head), body data already de-chunked (on_body),
 * and the end of the message (on_complete). After on_complete the parser
 * stops, so pipelined requests are taken one at a time: the caller keeps
 * the unconsumed bytes and calls http1_next() when it is ready for the
 * next message.
 *
 * Strictness (requests and responses alike): both Content-Length and
 * Transfer-Encoding, duplicate or malformed Content-Length, a
 * Transfer-Encoding whose last coding is not chunked, obs-fold, bare LF,
 * invalid header names or values (CTLs, NUL), malformed or overflowing
 * chunk sizes, a missing or repeated Host in an HTTP/1.1 request: all are
 * HTTP1_ERROR with http1_error_status() 400. An oversized request line is
 * 414, oversized or too many headers 431. Nothing is ever lenient.
 *
 * Details (http1.c has the reasons):
 * - Transfer-Encoding: every coding a bare token, "chunked" at most once
 *   and only last, never in an HTTP/1.0 message (400). A request whose
 *   codings are not exactly "chunked" but end in it ("gzip, chunked") is
 *   501. A response whose last coding is not chunked is close-delimited
 *   (RFC 9112 6.3): HTTP_MSG_F_CLOSE_DELIM and never keep-alive.
 * - Versions: requests other than HTTP/1.0 and 1.1 are 505 when llhttp
 *   could read the version (HTTP/2.0, 0.9), 400 otherwise.
 * - Trailers are checked and counted against the header limits like the
 *   head, then dropped.
 * - Responses use the same statuses (the proxy answers 502 for any); their
 *   status line is held to max_request_line (400 when longer).
 * - 500 only when memory runs out.
 */
#ifndef GH_HTTP1_H
#define GH_HTTP1_H

#include <stddef.h>
#include <stdint.h>

#include "http_msg.h"

enum http1_kind {
	HTTP1_REQUEST = 0,
	HTTP1_RESPONSE,
};

enum http1_status {
	HTTP1_OK = 0,  /* all input consumed, need more */
	HTTP1_PAUSED,  /* stopped after on_complete; see *used */
	HTTP1_UPGRADE, /* head of an upgrade done; the rest is tunnel bytes */
	HTTP1_ERROR,   /* see http1_error_status()/http1_error_reason() */
};

struct http1_limits {
	size_t max_request_line; /* bytes of method SP target SP version */
	size_t max_header_bytes; /* all header lines together */
	size_t max_headers;      /* header count */
};

#define HTTP1_DEF_MAX_REQUEST_LINE 8192
#define HTTP1_DEF_MAX_HEADER_BYTES 32768
#define HTTP1_DEF_MAX_HEADERS      100

struct http1_callbacks {
	/* The head is complete in <m>. Return 0 to go on, -1 to stop with
	 * HTTP1_ERROR (the caller has already decided what to answer).
	 */
	int (*on_head)(void *arg, struct http_msg *m);
	/* <n> bytes of body, de-chunked. Return 0, or -1 to stop. */
	int (*on_body)(void *arg, const char *p, size_t n);
	/* The message is complete; the parser pauses after this returns.
	 * Return 0, or -1 to stop with HTTP1_ERROR.
	 */
	int (*on_complete)(void *arg);
};

struct http1_parser;

/* <m> is borrowed and must outlive the parser; it is reset by
 * http1_next() (and by http1_new()). <lim> may be NULL, and a zero field
 * takes its HTTP1_DEF_* default; <cb> is copied, any callback may be NULL.
 * Returns NULL on allocation failure.
 */
struct http1_parser *http1_new(enum http1_kind kind,
    const struct http1_limits *lim, const struct http1_callbacks *cb, void *arg,
    struct http_msg *m);
void http1_free(struct http1_parser *p);

/* Feeds <n> bytes. *used says how many were consumed: all of them on
 * HTTP1_OK; up to and including the end of the message on HTTP1_PAUSED;
 * up to the end of the head on HTTP1_UPGRADE (on_head and on_complete
 * have been called; if an upgrade request carried a body, after the end
 * of that body). Upgrades: a request with "Connection: upgrade" and
 * Upgrade, a CONNECT request, any 101 response. A 1xx other than 101 is a
 * message of its own (HTTP_MSG_F_NO_BODY): PAUSED, then http1_next() and
 * the final response follows. After HTTP1_ERROR every call returns
 * HTTP1_ERROR with *used 0. Not to be called while paused.
 */
enum http1_status http1_feed(struct http1_parser *p, const char *buf, size_t n,
    size_t *used);

/* The peer closed. Completes a close-delimited response body (calling
 * on_complete) and returns HTTP1_PAUSED; HTTP1_OK when no message had
 * started; HTTP1_ERROR for a truncated message.
 */
enum http1_status http1_finish(struct http1_parser *p);

/* Ready for the next message after HTTP1_PAUSED (or after HTTP1_UPGRADE
 * when the upgrade was refused and HTTP/1 goes on): resets the msg. The
 * head-response setting is cleared too, except after a 1xx interim
 * response (the final response answers the same HEAD); set it again per
 * request.
 */
void http1_next(struct http1_parser *p);

/* The <arg> the callbacks get from now on (a parser between messages
 * handed to another owner).
 */
void http1_set_arg(struct http1_parser *p, void *arg);

/* Responses: the request was HEAD, so the response has no body even if
 * it carries Content-Length. Set before feeding the response.
 */
void http1_set_head_response(struct http1_parser *p, int is_head);

/* True once a message head has started arriving (for 408 vs silent
 * close on idle timeout).
 */
int http1_in_message(const struct http1_parser *p);

/* After HTTP1_ERROR: the status to answer (400, 414, 431, 500, 501, 505)
 * and a short reason for logs (static strings, e.g. "bare LF in message
 * head"). A callback returning -1 also gives 400 ("refused by on_head").
 */
int http1_error_status(const struct http1_parser *p);
const char *http1_error_reason(const struct http1_parser *p);

#endif
