/*
 * compress_br.c: the brotli codec of compress.h, on libbrotlienc (the
 * only brotli/encode.h user).
 *
 * The route's quality (0-11, default 3) with a 64 KiB window (lgwin 16),
 * text mode, and the body length as a size hint when known. The encoder
 * allocates through the stream's compress_mem, so its memory is counted,
 * but never refused: libbrotlienc 1.0.9 ends the process when an
 * allocation fails. Its bound is these settings': at quality 3 657 KB at
 * most whatever the body, and br_reserves[] has every quality's (a
 * 256 KiB window at quality 4 would take 1.4 MB).
 */
#include <stdint.h>
#include <string.h>

#include <brotli/encode.h>

#include "compress.h"

#define BR_QUALITY   3
#define BR_LGWIN     16
#define BR_OUT_BYTES 16384
#define BR_SLICE     16384
/* The most one stream allocates at each quality, whatever the body:
 * measured peaks (tests/unit/test_compress.c checks them) rounded up.
 */
static const size_t br_reserves[12] = {
	180u * 1024u,  /* 0: 175 111 */
	200u * 1024u,  /* 1: 191 527 */
	680u * 1024u,  /* 2: 652 240 */
	700u * 1024u,  /* 3: 657 728 */
	4800u * 1024u, /* 4: 4 681 871 (a 1 MiB-bucket hash for large hints) */
	1040u * 1024u, /* 5: 1 011 855 */
	1040u * 1024u, /* 6: 1 011 855 */
	1040u * 1024u, /* 7: 1 011 855 */
	1040u * 1024u, /* 8: 1 011 855 */
	1850u * 1024u, /* 9: 1 798 287 */
	2000u * 1024u, /* 10: 1 810 032 */
	2640u * 1024u, /* 11: 2 399 888 */
};

static void *
br_alloc(void *opaque, size_t n)
{
	return compress_mem_alloc(opaque, n);
}

static void
br_free(void *opaque, void *p)
{
	compress_mem_free(opaque, p);
}

struct br {
	BrotliEncoderState *s;
	struct compress_mem *mem;
	size_t pending; /* input taken since the last flush */
};

static size_t
br_reserve(int level)
{
	if (level < 0 || level > 11)
		level = BR_QUALITY;
	return br_reserves[level];
}

static void *
br_open(struct compress_mem *m, uint64_t size, int level)
{
	struct br *b;

	m->cap = 0;
	if ((b = compress_mem_alloc(m, sizeof(*b))) == NULL)
		return NULL;
	b->mem = m;
	b->pending = 0;
	if ((b->s = BrotliEncoderCreateInstance(br_alloc, br_free, m)) ==
	    NULL) {
		compress_mem_free(m, b);
		return NULL;
	}
	if (!BrotliEncoderSetParameter(b->s, BROTLI_PARAM_QUALITY,
	        (uint32_t)level) ||
	    !BrotliEncoderSetParameter(b->s, BROTLI_PARAM_LGWIN, BR_LGWIN) ||
	    !BrotliEncoderSetParameter(b->s, BROTLI_PARAM_MODE,
	        BROTLI_MODE_TEXT) ||
	    (size > 0 && size <= UINT32_MAX &&
	        !BrotliEncoderSetParameter(b->s, BROTLI_PARAM_SIZE_HINT,
	            (uint32_t)size))) {
		BrotliEncoderDestroyInstance(b->s);
		compress_mem_free(m, b);
		return NULL;
	}
	return b;
}

/* One CompressStream loop over <n> bytes, then <bop>. */
static int
br_step(BrotliEncoderState *s, const uint8_t *in, size_t n,
    BrotliEncoderOperation bop, compress_out_fn out, void *arg)
{
	uint8_t buf[BR_OUT_BYTES], *next_out;
	size_t avail_out;

	for (;;) {
		next_out = buf;
		avail_out = sizeof(buf);
		if (!BrotliEncoderCompressStream(s, bop, &n, &in, &avail_out,
		        &next_out, NULL))
			return -1;
		if (avail_out < sizeof(buf) &&
		    out(arg, buf, sizeof(buf) - avail_out) != 0)
			return -1;
		if (n == 0 && !BrotliEncoderHasMoreOutput(s) &&
		    (bop != BROTLI_OPERATION_FINISH ||
		        BrotliEncoderIsFinished(s)))
			return 0;
	}
}

/* The encoder is flushed every BR_SLICE bytes of input, whatever the
 * caller asks: its buffers grow with what one flush covers (64 KiB
 * would take 883 KB, and so would leaving it to the encoder).
 */
static int
br_run(void *st, const uint8_t *in, size_t n, enum compress_op op,
    compress_out_fn out, void *arg)
{
	struct br *b = st;
	size_t k;

	while (n > 0) {
		k = BR_SLICE - b->pending;
		if (k > n)
			k = n;
		if (br_step(b->s, in, k, BROTLI_OPERATION_PROCESS, out, arg) !=
		    0)
			return -1;
		in += k;
		n -= k;
		if ((b->pending += k) == BR_SLICE) {
			if (br_step(b->s, NULL, 0, BROTLI_OPERATION_FLUSH, out,
			        arg) != 0)
				return -1;
			b->pending = 0;
		}
	}
	if (op == COMPRESS_OP_FINISH)
		return br_step(b->s, NULL, 0, BROTLI_OPERATION_FINISH, out,
		    arg);
	if (op == COMPRESS_OP_FLUSH && b->pending > 0) {
		b->pending = 0; /* a flush of nothing would still add bytes */
		return br_step(b->s, NULL, 0, BROTLI_OPERATION_FLUSH, out, arg);
	}
	return 0;
}

static void
br_close(void *st)
{
	struct br *b = st;

	if (b == NULL)
		return;
	BrotliEncoderDestroyInstance(b->s);
	compress_mem_free(b->mem, b);
}

const struct compress_codec compress_br = {
	.enc = COMPRESS_BR,
	.min_level = 0,
	.max_level = 11,
	.reserve = br_reserve,
	.open = br_open,
	.run = br_run,
	.close = br_close,
};
