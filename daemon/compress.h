/*
 * compress.h: a route's response compression (route field "compress",
 * cfg.h struct cfg_compress; doc/compression.md).
 *
 * At the response head, compress_response_head() decides from the
 * client's Accept-Encoding (q-values; br preferred over gzip at equal q;
 * identity when nothing else is acceptable) and the response (never one
 * already encoded, ranged, Cache-Control: no-transform, to HEAD, 1xx, 204,
 * 304, of a type the route does not list, or of a known length below
 * min_bytes). A compressed body streams: what the origin sent is
 * compressed and flushed at the end of each callback that read it
 * (compress_flush() from conn_leave()), chunked to the client (close-delimited
 * to an HTTP/1.0 one), Content-Length dropped, ETag made weak, and
 * "Vary: Accept-Encoding" added to every response the route could have
 * compressed. One stream per request, its memory counted and capped
 * (COMPRESS_MEM_MAX); freed at the response's end, or with the request
 * when the client goes away first.
 *
 * Each library has its shim behind struct compress_codec: zlib in
 * compress_gzip.c, libbrotlienc in compress_br.c. The parsing and the
 * decision are pure functions, for tests/unit/test_compress.c and the
 * fuzz target.
 */
#ifndef GH_COMPRESS_H
#define GH_COMPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "str.h"

struct conn;
struct http_msg;
struct cfg_compress;

enum compress_enc {
	COMPRESS_IDENTITY = 0,
	COMPRESS_GZIP,
	COMPRESS_BR,
};

/* The name of <enc> in Content-Encoding and the log: "gzip", "br". */
const char *compress_enc_name(enum compress_enc enc);

/* ---- Accept-Encoding (RFC 9110 12.5.3) ---- */

/* The q-value, in thousandths, each coding was given; -1: not named. */
struct compress_accept {
	int gzip, br, identity, star;
};

void compress_accept_init(struct compress_accept *a);
/* Adds one Accept-Encoding field value (a list: several headers are fed
 * one after the other). Members that do not parse are skipped; a coding
 * named twice keeps the higher q.
 */
void compress_accept_parse(struct compress_accept *a, const char *p,
    size_t len);
/* The coding to send: the acceptable one (q > 0, named or by "*") with
 * the highest q, br on a tie; identity when none is, or when identity
 * itself is named with a higher q.
 */
enum compress_enc compress_accept_choose(const struct compress_accept *a);
/* The same among the codings of <offer> (CFG_COMPRESS_OFFER() bits, cfg.h)
 * only: a coding not offered is never chosen.
 */
enum compress_enc
compress_accept_choose_offered(const struct compress_accept *a, unsigned offer);

/* ---- the decision ---- */

/* Does the response <resp> to a request with Accept-Encoding <acc> and
 * method HEAD when <head> get compressed under <cz>? Returns the coding
 * (identity: no); *<vary> is set when the response is one the route
 * compresses for some clients (so caches must key on Accept-Encoding).
 */
enum compress_enc compress_decide(const struct cfg_compress *cz,
    const struct compress_accept *acc, bool head, const struct http_msg *resp,
    bool *vary);

/* Does media type <ct> (a Content-Type value, parameters allowed) match
 * one of the patterns of <cz>?
 */
bool compress_type_matches(const struct cfg_compress *cz, struct str ct);

/* ---- the data plane (proxy.c) ---- */

#define COMPRESS_HEAD_VARY 0x1u /* add Vary: Accept-Encoding */
#define COMPRESS_HEAD_ON   0x2u /* body compressed: c->req->comp is set */

/* Decides for the response head <m> of the request of <c> (whose route
 * has compress) and, when it compresses, starts the stream. Returns
 * COMPRESS_HEAD_* bits for write_response_head().
 */
unsigned compress_response_head(struct conn *c, const struct http_msg *m);
/* A header of the origin's response left out when its body is compressed
 * (the length, and ETag: compress_head_lines() sends it weak).
 */
bool compress_drops(struct str name);
/* The header lines <how> (COMPRESS_HEAD_*) adds to the head of <m>:
 * Content-Encoding, Vary, the weak ETag. Writes at most <len> bytes to
 * <buf> and returns the length they need (call with len 0 to size).
 */
size_t compress_head_lines(const struct conn *c, const struct http_msg *m,
    unsigned how, char *buf, size_t len);
/* Compresses <n> bytes of the body and sends what the codec gives. 0,
 * or -1 when the stream failed (the connection closes).
 */
int compress_body(struct conn *c, const char *p, size_t n);
/* Flushes what the body pieces of this callback left in the codec, so
 * the client can decode everything the origin has sent (conn_leave(),
 * once per callback, while the connection is still held).
 */
void compress_flush(struct conn *c);
/* Ends the stream: its last bytes are sent and its memory freed. */
void compress_finish(struct conn *c);
/* Frees a stream the response did not finish (the client went away, or
 * the origin failed mid-body). NULL is fine.
 */
struct compress_stream;
void compress_free(struct compress_stream *z);

/* ---- the codecs (compress_gzip.c, compress_br.c) ---- */

/* The most one gzip stream may allocate; beyond it an allocation fails
 * (zlib copes). libbrotlienc 1.0.9 ends the process when an allocation
 * fails, so brotli's are never refused: its bound is its settings'
 * (compress_br.reserve, checked by tests/unit/test_compress.c).
 */
#define COMPRESS_MEM_MAX (1024u * 1024u)

/* The compressor memory one worker may hold at once, counted by the
 * codecs' reserve: a response that would go over it is sent as it is
 * (stat compress_over_budget; stat compress_reserved_peak is the most it
 * held). This is its default; the user sets it (PUT
 * /settings/compression, api/api_compress.c), and every worker reads the
 * new value at its next decision.
 */
#define COMPRESS_WORKER_BUDGET (64u * 1024u * 1024u)
#define COMPRESS_BUDGET_MIN    (1024ll * 1024ll)
#define COMPRESS_BUDGET_MAX    (16ll * 1024ll * 1024ll * 1024ll)
void compress_set_worker_budget(size_t bytes);
size_t compress_worker_budget(void);

/* compress_settings.c: the budget in the store. get: the stored value
 * (the default when the row is missing); set: checks it (-1 with <e> at
 * "worker_budget_bytes" when out of range), stores it inside the caller's
 * transaction or on its own, and sets it; load: get, then set it.
 */
struct store;
struct err;
int compress_settings_get(struct store *st, int64_t *budget, struct err *e);
int compress_settings_set(struct store *st, int64_t budget, struct err *e);
int compress_settings_load(struct store *st, struct err *e);

/* What one stream's codec has allocated. */
struct compress_mem {
	size_t used, peak;
	size_t cap; /* allocations past it fail; 0: none refused */
};

void *compress_mem_alloc(struct compress_mem *m, size_t n);
void compress_mem_free(struct compress_mem *m, void *p);

enum compress_op {
	COMPRESS_OP_NONE,   /* input taken; output when the codec likes */
	COMPRESS_OP_FLUSH,  /* all input out, the output decodable so far */
	COMPRESS_OP_FINISH, /* all input out, and the stream's end */
};

/* Takes <n> bytes of output; returns 0 or -1 (stop). */
typedef int (*compress_out_fn)(void *arg, const uint8_t *p, size_t n);

struct compress_codec {
	enum compress_enc enc;
	int min_level, max_level; /* the levels it takes */
	/* The most one stream at <level> allocates, whatever the body. */
	size_t (*reserve)(int level);
	/* A new state at <level> whose allocations go through <m>; <size> is
	 * the body length when known (else 0). NULL: out of memory.
	 */
	void *(*open)(struct compress_mem *m, uint64_t size, int level);
	/* Compresses <n> bytes of <in> then does <op>, handing every output
	 * piece to <out>. 0, or -1 (codec error, memory, or <out> said so).
	 */
	int (*run)(void *st, const uint8_t *in, size_t n, enum compress_op op,
	    compress_out_fn out, void *arg);
	void (*close)(void *st);
};

extern const struct compress_codec compress_gzip;
extern const struct compress_codec compress_br;

#endif
