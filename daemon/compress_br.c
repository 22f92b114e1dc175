/*
 * compress_br.c: the brotli codec of compress.h, on libbrotlienc (the
 * only brotli/encode.h user).
 *
 * Quality 3 with a 64 KiB window (lgwin 16), text mode, and the body
 * length as a size hint when known. The encoder allocates through the
 * stream's compress_mem, so its memory is counted, but never refused:
 * libbrotlienc 1.0.9 ends the process when an allocation fails. Its
 * bound is these settings': 657 KB at most whatever the body (quality 4
 * would take 986 KB, a 256 KiB window at quality 4 1.4 MB), BR_RESERVE.
 */
#include <stdint.h>
#include <string.h>

#include <brotli/encode.h>

#include "compress.h"

#define BR_QUALITY   3
#define BR_LGWIN     16
#define BR_OUT_BYTES 16384
#define BR_SLICE     16384
#define BR_RESERVE   (700u * 1024u) /* measured: 656953 bytes */

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

static void *
br_open(struct compress_mem *m, uint64_t size)
{
	BrotliEncoderState *s;

	m->cap = 0;
	if ((s = BrotliEncoderCreateInstance(br_alloc, br_free, m)) == NULL)
		return NULL;
	if (!BrotliEncoderSetParameter(s, BROTLI_PARAM_QUALITY, BR_QUALITY) ||
	    !BrotliEncoderSetParameter(s, BROTLI_PARAM_LGWIN, BR_LGWIN) ||
	    !BrotliEncoderSetParameter(s, BROTLI_PARAM_MODE,
	        BROTLI_MODE_TEXT) ||
	    (size > 0 && size <= UINT32_MAX &&
	        !BrotliEncoderSetParameter(s, BROTLI_PARAM_SIZE_HINT,
	            (uint32_t)size))) {
		BrotliEncoderDestroyInstance(s);
		return NULL;
	}
	return s;
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

/* The input goes in slices of BR_SLICE, each flushed: the encoder's
 * buffers grow with what one flush covers (64 KiB would take 883 KB).
 */
static int
br_run(void *st, const uint8_t *in, size_t n, enum compress_op op,
    compress_out_fn out, void *arg)
{
	size_t k;

	if (n == 0 && op == COMPRESS_OP_FLUSH)
		return 0; /* a flush of nothing would still add bytes */
	for (; n > BR_SLICE; in += k, n -= k) {
		k = BR_SLICE;
		if (br_step(st, in, k, BROTLI_OPERATION_FLUSH, out, arg) != 0)
			return -1;
	}
	return br_step(st, in, n,
	    op == COMPRESS_OP_FINISH ? BROTLI_OPERATION_FINISH
	                             : BROTLI_OPERATION_FLUSH,
	    out, arg);
}

static void
br_close(void *st)
{
	if (st != NULL)
		BrotliEncoderDestroyInstance(st);
}

const struct compress_codec compress_br = {
	.enc = COMPRESS_BR,
	.reserve = BR_RESERVE,
	.open = br_open,
	.run = br_run,
	.close = br_close,
};
