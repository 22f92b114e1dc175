/*
 * test_compress.c: response compression (daemon/compress.c and its
 * codecs): Accept-Encoding parsing and the choice, the decision for a
 * response head, type patterns, the head lines, the media range check,
 * each codec's memory within its reserve at every level, whatever the
 * body, with gzip output that inflates back, a higher level giving a
 * smaller output, and a coding the route does not offer never chosen.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* cmocka.h needs stdarg.h, stddef.h and setjmp.h first. */
#include <cmocka.h>
#include <zlib.h>

#include "cfg.h"
#include "cfg_value.h"
#include "compress.h"
#include "http_msg.h"
#include "msg_build.h"

static enum compress_enc
choose(const char *v)
{
	struct compress_accept a;

	compress_accept_init(&a);
	compress_accept_parse(&a, v, strlen(v));
	return compress_accept_choose(&a);
}

static void
test_accept_choice(void **state)
{
	(void)state;
	assert_int_equal(choose("gzip"), COMPRESS_GZIP);
	assert_int_equal(choose("br"), COMPRESS_BR);
	assert_int_equal(choose("gzip, br"), COMPRESS_BR); /* tie: br */
	assert_int_equal(choose("br, gzip"), COMPRESS_BR);
	assert_int_equal(choose("gzip;q=1.0, br;q=0.999"), COMPRESS_GZIP);
	assert_int_equal(choose("gzip;q=0.5, br;q=0.6"), COMPRESS_BR);
	assert_int_equal(choose("GZip;Q=0.5"), COMPRESS_GZIP);
	assert_int_equal(choose("x-gzip"), COMPRESS_GZIP);
	assert_int_equal(choose("*"), COMPRESS_BR);
	assert_int_equal(choose("*;q=0.2, br;q=0"), COMPRESS_GZIP);
	assert_int_equal(choose("*;q=0"), COMPRESS_IDENTITY);
	assert_int_equal(choose("gzip;q=0"), COMPRESS_IDENTITY);
	assert_int_equal(choose("gzip;q=0, br;q=0.000"), COMPRESS_IDENTITY);
	assert_int_equal(choose("identity"), COMPRESS_IDENTITY);
	assert_int_equal(choose("gzip;q=0.5, identity"), COMPRESS_IDENTITY);
	assert_int_equal(choose("gzip, identity;q=0.5"), COMPRESS_GZIP);
	assert_int_equal(choose("gzip, identity"), COMPRESS_GZIP); /* tie */
	assert_int_equal(choose(""), COMPRESS_IDENTITY);
	assert_int_equal(choose(" , ,"), COMPRESS_IDENTITY);
	assert_int_equal(choose("deflate, compress, zstd"), COMPRESS_IDENTITY);
	/* Optional whitespace and other parameters. */
	assert_int_equal(choose("  gzip ;  q=0.3 , br ; x=y ; q=0.2 "),
	    COMPRESS_GZIP);
	assert_int_equal(choose("gzip\t;\tq=1"), COMPRESS_GZIP);
	/* Named twice: the higher q. */
	assert_int_equal(choose("gzip;q=0, gzip;q=0.4, br;q=0.3"),
	    COMPRESS_GZIP);
}

static void
test_accept_bad_members_skipped(void **state)
{
	(void)state;
	/* Bad q-values: the member is skipped, the rest counts. */
	assert_int_equal(choose("gzip;q=2"), COMPRESS_IDENTITY);
	assert_int_equal(choose("gzip;q=1.5, br;q=0.1"), COMPRESS_BR);
	assert_int_equal(choose("gzip;q=0.1234"), COMPRESS_IDENTITY);
	assert_int_equal(choose("gzip;q=.5"), COMPRESS_IDENTITY);
	assert_int_equal(choose("gzip;q=-1"), COMPRESS_IDENTITY);
	assert_int_equal(choose("gzip;q="), COMPRESS_IDENTITY);
	assert_int_equal(choose("gzip;q"), COMPRESS_IDENTITY);
	assert_int_equal(choose("gzip;q=1.001"), COMPRESS_IDENTITY);
	assert_int_equal(choose("gzip;q=1.000"), COMPRESS_GZIP);
	assert_int_equal(choose("gzip;q=0.5x"), COMPRESS_IDENTITY);
	assert_int_equal(choose("gzip br"), COMPRESS_IDENTITY);
	assert_int_equal(choose(";q=1"), COMPRESS_IDENTITY);
	assert_int_equal(choose("gzip;;q=1"), COMPRESS_IDENTITY);
	/* Several header lines add up. */
	{
		struct compress_accept a;

		compress_accept_init(&a);
		compress_accept_parse(&a, "gzip;q=0.5", 10);
		compress_accept_parse(&a, "br;q=0.4", 8);
		assert_int_equal(a.gzip, 500);
		assert_int_equal(a.br, 400);
		assert_int_equal(a.identity, -1);
		assert_int_equal(compress_accept_choose(&a), COMPRESS_GZIP);
		/* Not NUL-terminated: only len bytes are read. */
		compress_accept_init(&a);
		compress_accept_parse(&a, "br;q=0.9garbage", 8);
		assert_int_equal(a.br, 900);
	}
}

/* ---- responses ---- */

static const char *types[] = { "text/", "application/json" };
#define BOTH \
	(CFG_COMPRESS_OFFER(COMPRESS_GZIP) | CFG_COMPRESS_OFFER(COMPRESS_BR))
static const struct cfg_compress cz = { types, 2, 1024, BOTH, 5, 3 };

/* A 200 response of <ct> with Content-Length <len> (0: chunked). */
static void
resp(struct http_msg *m, const char *ct, uint64_t len)
{
	http_msg_init(m);
	m->status = 200;
	if (ct != NULL)
		add(m, "Content-Type", ct);
	if (len > 0) {
		m->flags |= HTTP_MSG_F_HAS_LENGTH;
		m->content_length = len;
	} else {
		m->flags |= HTTP_MSG_F_CHUNKED;
	}
}

static enum compress_enc
decide(const struct http_msg *m, const char *ae, bool head, bool *vary)
{
	struct compress_accept a;

	compress_accept_init(&a);
	compress_accept_parse(&a, ae, strlen(ae));
	return compress_decide(&cz, &a, head, m, vary);
}

static void
test_decision(void **state)
{
	struct http_msg m;
	bool vary;

	(void)state;
	resp(&m, "text/html; charset=utf-8", 5000);
	assert_int_equal(decide(&m, "gzip, br", false, &vary), COMPRESS_BR);
	assert_true(vary);
	/* Not acceptable: identity, but still Vary (caches). */
	assert_int_equal(decide(&m, "gzip;q=0", false, &vary),
	    COMPRESS_IDENTITY);
	assert_true(vary);
	/* HEAD: never. */
	assert_int_equal(decide(&m, "gzip", true, &vary), COMPRESS_IDENTITY);
	assert_false(vary);
	/* Already encoded, ranged, no-transform. */
	add(&m, "Content-Encoding", "identity");
	assert_int_equal(decide(&m, "gzip", false, &vary), COMPRESS_IDENTITY);
	assert_false(vary);
	http_msg_fini(&m);
	resp(&m, "text/html", 5000);
	add(&m, "Content-Range", "bytes 0-99/5000");
	assert_int_equal(decide(&m, "gzip", false, &vary), COMPRESS_IDENTITY);
	http_msg_fini(&m);
	resp(&m, "text/html", 5000);
	m.status = 206;
	assert_int_equal(decide(&m, "gzip", false, &vary), COMPRESS_IDENTITY);
	http_msg_fini(&m);
	resp(&m, "text/html", 5000);
	add(&m, "Cache-Control", "max-age=60, No-Transform");
	assert_int_equal(decide(&m, "gzip", false, &vary), COMPRESS_IDENTITY);
	assert_false(vary);
	http_msg_fini(&m);
	/* Small known length; unknown length compressed. */
	resp(&m, "application/json", 1023);
	assert_int_equal(decide(&m, "gzip", false, &vary), COMPRESS_IDENTITY);
	assert_false(vary);
	m.content_length = 1024;
	assert_int_equal(decide(&m, "gzip", false, &vary), COMPRESS_GZIP);
	http_msg_fini(&m);
	resp(&m, "application/json", 0);
	assert_int_equal(decide(&m, "gzip", false, &vary), COMPRESS_GZIP);
	http_msg_fini(&m);
	/* Types. */
	resp(&m, "image/png", 5000);
	assert_int_equal(decide(&m, "gzip", false, &vary), COMPRESS_IDENTITY);
	assert_false(vary);
	http_msg_fini(&m);
	resp(&m, NULL, 5000);
	assert_int_equal(decide(&m, "gzip", false, &vary), COMPRESS_IDENTITY);
	http_msg_fini(&m);
	/* No body: 204, 304, 1xx, NO_BODY. */
	resp(&m, "text/html", 5000);
	m.status = 304;
	assert_int_equal(decide(&m, "gzip", false, &vary), COMPRESS_IDENTITY);
	m.status = 204;
	assert_int_equal(decide(&m, "gzip", false, &vary), COMPRESS_IDENTITY);
	m.status = 200;
	m.flags |= HTTP_MSG_F_NO_BODY;
	assert_int_equal(decide(&m, "gzip", false, &vary), COMPRESS_IDENTITY);
	http_msg_fini(&m);
	/* An error page of a listed type is compressed too. */
	resp(&m, "text/html", 5000);
	m.status = 404;
	assert_int_equal(decide(&m, "gzip", false, &vary), COMPRESS_GZIP);
	http_msg_fini(&m);
}

static void
test_type_patterns(void **state)
{
	(void)state;
	assert_true(compress_type_matches(&cz, STR_LIT("text/html")));
	assert_true(compress_type_matches(&cz, STR_LIT("TEXT/CSS")));
	assert_true(compress_type_matches(&cz, STR_LIT(" text/plain ;a=b")));
	assert_true(compress_type_matches(&cz, STR_LIT("Application/JSON")));
	assert_true(compress_type_matches(&cz,
	    STR_LIT("application/json; charset=utf-8")));
	assert_false(compress_type_matches(&cz, STR_LIT("text/")));
	assert_false(compress_type_matches(&cz, STR_LIT("text")));
	assert_false(compress_type_matches(&cz, STR_LIT("textual/html")));
	assert_false(compress_type_matches(&cz, STR_LIT("application/jsonx")));
	assert_false(compress_type_matches(&cz,
	    STR_LIT("application/problem+json")));
	assert_false(compress_type_matches(&cz, STR_LIT("")));
	assert_false(compress_type_matches(&cz, STR_LIT("; charset=x")));
}

static void
test_media_range_values(void **state)
{
	char msg[160];

	(void)state;
	assert_int_equal(cv_check(CV_MEDIA_RANGE, "text/*", msg, sizeof(msg)),
	    0);
	assert_int_equal(cv_check(CV_MEDIA_RANGE, "application/vnd.api+json",
	                     msg, sizeof(msg)),
	    0);
	assert_int_equal(cv_check(CV_MEDIA_RANGE, "*/*", msg, sizeof(msg)), -1);
	assert_int_equal(cv_check(CV_MEDIA_RANGE, "*/html", msg, sizeof(msg)),
	    -1);
	assert_int_equal(cv_check(CV_MEDIA_RANGE, "text", msg, sizeof(msg)),
	    -1);
	assert_int_equal(cv_check(CV_MEDIA_RANGE, "text/", msg, sizeof(msg)),
	    -1);
	assert_int_equal(cv_check(CV_MEDIA_RANGE, "text/h*", msg, sizeof(msg)),
	    -1);
	assert_int_equal(cv_check(CV_MEDIA_RANGE, "text/html;q=1", msg,
	                     sizeof(msg)),
	    -1);
	assert_int_equal(cv_check(CV_MEDIA_RANGE, "text/html/x", msg,
	                     sizeof(msg)),
	    -1);
	assert_int_equal(cv_check(CV_MEDIA_RANGE, "te xt/html", msg,
	                     sizeof(msg)),
	    -1);
	assert_non_null(strstr(msg, "media type"));
}

/* ---- codecs ---- */

struct sink {
	uint8_t *p;
	size_t len, cap;
	int calls;
};

static int
sink_out(void *arg, const uint8_t *p, size_t n)
{
	struct sink *s = arg;

	if (s->len + n > s->cap) {
		s->cap = (s->len + n) * 2;
		s->p = realloc(s->p, s->cap);
		assert_non_null(s->p);
	}
	memcpy(s->p + s->len, p, n);
	s->len += n;
	s->calls++;
	return 0;
}

/* Text that compresses like a page: words, numbers, some noise. */
static uint8_t *
body(size_t n)
{
	static const char *words[] = { "<div class=\"row\">", "gatehouse",
		"the", "quick", "brown", "fox", "</div>\n", "route", "origin",
		"listener" };
	uint8_t *p = malloc(n);
	uint32_t x = 12345;
	size_t i = 0, w;

	assert_non_null(p);
	while (i < n) {
		x = x * 1103515245u + 12345u;
		w = (x >> 16) % 12;
		if (w >= 10) {
			p[i++] = (uint8_t)('0' + (x >> 8) % 10);
			continue;
		}
		for (const char *s = words[w]; *s != '\0' && i < n; s++)
			p[i++] = (uint8_t)*s;
		if (i < n)
			p[i++] = ' ';
	}
	return p;
}

/* <n> bytes of body() through <c> in pieces of <piece>, flushed after
 * every <every> pieces (as compress_flush() after a callback's pieces).
 */
static int level_gz = 5, level_br = 3; /* the defaults */

static int
level_of(const struct compress_codec *c)
{
	return c == &compress_gzip ? level_gz : level_br;
}

static void
run_codec_every(const struct compress_codec *c, size_t n, size_t piece,
    size_t every, struct sink *out, struct compress_mem *m)
{
	uint8_t *in = body(n);
	void *st;
	size_t i, k = 0;

	memset(m, 0, sizeof(*m));
	memset(out, 0, sizeof(*out));
	st = c->open(m, 0, level_of(c));
	assert_non_null(st);
	for (i = 0; i < n; i += piece) {
		assert_int_equal(c->run(st, in + i,
		                     i + piece > n ? n - i : piece,
		                     COMPRESS_OP_NONE, sink_out, out),
		    0);
		if (++k % every == 0)
			assert_int_equal(c->run(st, NULL, 0, COMPRESS_OP_FLUSH,
			                     sink_out, out),
			    0);
	}
	assert_int_equal(c->run(st, NULL, 0, COMPRESS_OP_FINISH, sink_out, out),
	    0);
	c->close(st);
	assert_int_equal(m->used, 0); /* everything given back */
	assert_true(m->peak <= c->reserve(level_of(c)));
	/* Compressed, unless every byte was flushed on its own. */
	assert_true(out->len > 0 && (piece * every == 1 || out->len < n / 2));
	free(in);
}

static void
run_codec(const struct compress_codec *c, size_t n, size_t piece,
    struct sink *out, struct compress_mem *m)
{
	run_codec_every(c, n, piece, 1, out, m);
}

static void
test_gzip_roundtrip_and_memory(void **state)
{
	struct compress_mem m;
	struct sink out;
	uint8_t *want = body(3000000), *got = malloc(3000000);
	uLongf got_len;
	z_stream z;

	(void)state;
	run_codec(&compress_gzip, 3000000, 16000, &out, &m);
	memset(&z, 0, sizeof(z));
	assert_int_equal(inflateInit2(&z, 16 + MAX_WBITS), Z_OK);
	z.next_in = out.p;
	z.avail_in = (uInt)out.len;
	z.next_out = got;
	z.avail_out = 3000000;
	assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
	got_len = z.total_out;
	inflateEnd(&z);
	assert_int_equal(got_len, 3000000);
	assert_memory_equal(got, want, 3000000);
	/* Tiny pieces, one byte at a time: still within the reserve. */
	free(out.p);
	run_codec(&compress_gzip, 20000, 1, &out, &m);
	free(out.p);
	run_codec_every(&compress_gzip, 3000000, 1000, 100, &out, &m);
	free(out.p);
	free(want);
	free(got);
}

static void
test_brotli_memory(void **state)
{
	struct compress_mem m;
	struct sink out;
	static const size_t pieces[] = { 1, 1000, 16384, 65536, 1 << 20 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		run_codec(&compress_br, pieces[i] == 1 ? 30000 : 4000000,
		    pieces[i], &out, &m);
		free(out.p);
	}
	/* Many pieces between flushes (one callback's worth): the bound
	 * holds, and the output is smaller than flushing each.
	 */
	{
		struct sink each;
		static const size_t every[] = { 4, 64, 1000 };

		run_codec(&compress_br, 200000, 100, &each, &m);
		for (i = 0; i < sizeof(every) / sizeof(every[0]); i++) {
			run_codec_every(&compress_br, 200000, 100, every[i],
			    &out, &m);
			assert_true(out.len < each.len);
			free(out.p);
			run_codec_every(&compress_br, 4000000, 16384, every[i],
			    &out, &m);
			free(out.p);
		}
		free(each.p);
	}
	/* An empty body: a valid, tiny stream. */
	memset(&m, 0, sizeof(m));
	memset(&out, 0, sizeof(out));
	{
		void *st = compress_br.open(&m, 0, 3);

		assert_int_equal(compress_br.run(st, NULL, 0, COMPRESS_OP_FLUSH,
		                     sink_out, &out),
		    0);
		assert_int_equal(out.len, 0); /* a flush of nothing: nothing */
		assert_int_equal(compress_br.run(st, NULL, 0,
		                     COMPRESS_OP_FINISH, sink_out, &out),
		    0);
		assert_true(out.len > 0 && out.len < 8);
		compress_br.close(st);
	}
	free(out.p);
}

static void
test_gzip_cap_refuses(void **state)
{
	struct compress_mem m = { 0, 0, 0 };

	(void)state;
	assert_null(compress_mem_alloc(&(struct compress_mem){ 0, 0, 100 },
	    200));
	m.cap = 1000;
	{
		void *a = compress_mem_alloc(&m, 500);

		assert_non_null(a);
		assert_null(compress_mem_alloc(&m, 500)); /* 500 + headers */
		compress_mem_free(&m, a);
		assert_int_equal(m.used, 0);
		assert_true(m.peak >= 500);
	}
}

/* The choice among the codings a route offers. */
static void
test_offered_only(void **state)
{
	static const struct {
		const char *ae;
		unsigned offer;
		enum compress_enc want;
	} cases[] = {
		{ "gzip, br", BOTH, COMPRESS_BR },
		{ "gzip, br", CFG_COMPRESS_OFFER(COMPRESS_GZIP),
		    COMPRESS_GZIP },
		{ "gzip, br", CFG_COMPRESS_OFFER(COMPRESS_BR), COMPRESS_BR },
		{ "br", CFG_COMPRESS_OFFER(COMPRESS_GZIP), COMPRESS_IDENTITY },
		{ "gzip", CFG_COMPRESS_OFFER(COMPRESS_BR), COMPRESS_IDENTITY },
		{ "*", CFG_COMPRESS_OFFER(COMPRESS_GZIP), COMPRESS_GZIP },
		{ "br;q=1, gzip;q=0.1", CFG_COMPRESS_OFFER(COMPRESS_GZIP),
		    COMPRESS_GZIP },
		{ "br, gzip;q=0", CFG_COMPRESS_OFFER(COMPRESS_GZIP),
		    COMPRESS_IDENTITY },
	};
	struct compress_accept a;
	struct cfg_compress only = cz;
	struct http_msg m;
	size_t i;
	bool vary;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		compress_accept_init(&a);
		compress_accept_parse(&a, cases[i].ae, strlen(cases[i].ae));
		assert_int_equal(compress_accept_choose_offered(&a,
		                     cases[i].offer),
		    cases[i].want);
		/* and through the decision, which varies either way */
		only.offer = cases[i].offer;
		resp(&m, "text/html", 5000);
		assert_int_equal(compress_decide(&only, &a, false, &m, &vary),
		    cases[i].want);
		assert_true(vary);
		http_msg_fini(&m);
	}
}

/* Every level of both codecs: memory within its reserve, whatever the
 * body; the lowest level's output larger than the highest's.
 */
static void
test_levels(void **state)
{
	const struct compress_codec *codecs[] = { &compress_gzip,
		&compress_br };
	struct compress_mem m;
	struct sink out;
	size_t c, lo = 0, hi = 0, n;
	int l;

	(void)state;
	for (c = 0; c < 2; c++) {
		for (l = codecs[c]->min_level; l <= codecs[c]->max_level; l++) {
			if (codecs[c] == &compress_gzip)
				level_gz = l;
			else
				level_br = l;
			n = l >= 10 ? 300000 : 1000000;
			run_codec(codecs[c], n, 16384, &out, &m);
			free(out.p);
			run_codec_every(codecs[c], n, 1000, 64, &out, &m);
			free(out.p);
			run_codec(codecs[c], 200000, 65536, &out, &m);
			if (l == codecs[c]->min_level)
				lo = out.len;
			if (l == codecs[c]->max_level)
				hi = out.len;
			free(out.p);
		}
		assert_true(hi < lo);
	}
	level_gz = 5;
	level_br = 3;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accept_choice),
		cmocka_unit_test(test_accept_bad_members_skipped),
		cmocka_unit_test(test_decision),
		cmocka_unit_test(test_type_patterns),
		cmocka_unit_test(test_media_range_values),
		cmocka_unit_test(test_gzip_roundtrip_and_memory),
		cmocka_unit_test(test_brotli_memory),
		cmocka_unit_test(test_gzip_cap_refuses),
		cmocka_unit_test(test_offered_only),
		cmocka_unit_test(test_levels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
