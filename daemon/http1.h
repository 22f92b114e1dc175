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
	HTTP1_OK = 0,   /* all input consumed, need more */
	HTTP1_PAUSED,   /* stopped after on_complete; see *used */
	HTTP1_UPGRADE,  /* head of an upgrade done; the rest is tunnel bytes */
	HTTP1_ERROR,    /* see http1_error_status()/http1_error_reason() */
};

struct http1_limits {
	size_t max_request_line; /* bytes of method SP target SP version */
	size_t max_header_bytes; /* all header lines together */
	size_t max_headers;      /* header count */
};

#define HTTP1_DEF_MAX_REQUEST_LINE 8192
#define HTTP1_DEF_MAX_HEADER_BYTES 32768
#define HTTP1_DEF_MAX_HEADERS 100

struct http1_callbacks {
	/* The head is complete in <m>. Return 0 to go on, -1 to stop with
	 * HTTP1_ERROR (the caller has already decided what to answer).
	 */
	int (*on_head)(void *arg, struct http_msg *m);
	/* <n> bytes of body, de-chunked. Return 0, or -1 to stop. */
	int (*on_body)(void *arg, const char *p, size_t n);
	/* The message is complete; the parser pauses after this returns. */
	int (*on_complete)(void *arg);
};

struct http1_parser;

/* <m> is borrowed and must outlive the parser; it is reset by
 * http1_next(). Returns NULL on allocation failure.
 */
struct http1_parser *http1_new(enum http1_kind kind,
    const struct http1_limits *lim, const struct http1_callbacks *cb,
    void *arg, struct http_msg *m);
void http1_free(struct http1_parser *p);

/* Feeds <n> bytes. *used says how many were consumed: all of them on
 * HTTP1_OK; up to and including the end of the message on HTTP1_PAUSED;
 * up to the end of the head on HTTP1_UPGRADE.
 */
enum http1_status http1_feed(struct http1_parser *p, const char *buf,
    size_t n, size_t *used);

/* The peer closed. Completes a close-delimited response body (calling
 * on_complete) and returns HTTP1_PAUSED; HTTP1_OK when no message had
 * started; HTTP1_ERROR for a truncated message.
 */
enum http1_status http1_finish(struct http1_parser *p);

/* Ready for the next message after HTTP1_PAUSED: resets the msg. The
 * head-response setting is cleared too; set it again per request.
 */
void http1_next(struct http1_parser *p);

/* Responses: the request was HEAD, so the response has no body even if
 * it carries Content-Length. Set before feeding the response.
 */
void http1_set_head_response(struct http1_parser *p, int is_head);

/* True once a message head has started arriving (for 408 vs silent
 * close on idle timeout).
 */
int http1_in_message(const struct http1_parser *p);

/* After HTTP1_ERROR: the status to answer (400, 413, 414, 431, 501) and a
 * short reason for logs.
 */
int http1_error_status(const struct http1_parser *p);
const char *http1_error_reason(const struct http1_parser *p);

#endif
