/*
 * compress_gzip.c: the gzip codec of compress.h, on zlib (the only zlib.h
 * user).
 *
 * deflate at the route's level (1-9, default 5) with a 16 KiB window
 * (windowBits 14) and memLevel 7: 134 KiB a stream at every level (zlib's
 * memory depends on the window and memLevel only; GZ_RESERVE, checked at
 * each level by tests/unit/test_compress.c), allocated at open through the
 * stream's
 * compress_mem, so nothing is allocated after the response head. The
 * gzip wrapper (windowBits + 16) writes the header and CRC trailer.
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "compress.h"

#define GZ_WBITS     14
#define GZ_MEMLEVEL  7
#define GZ_OUT_BYTES 16384
#define GZ_RESERVE   (140u * 1024u) /* measured: 137240 bytes */

struct gz {
	z_stream z;
	struct compress_mem *mem;
};

static voidpf
gz_alloc(voidpf opaque, uInt items, uInt size)
{
	struct gz *g = opaque;

	if (size != 0 && items > SIZE_MAX / size)
		return Z_NULL;
	return compress_mem_alloc(g->mem, (size_t)items * size);
}

static void
gz_free(voidpf opaque, voidpf p)
{
	struct gz *g = opaque;

	compress_mem_free(g->mem, p);
}

static size_t
gz_reserve(int level)
{
	(void)level;
	return GZ_RESERVE;
}

static void *
gz_open(struct compress_mem *m, uint64_t size, int level)
{
	struct gz *g;

	(void)size;
	if ((g = compress_mem_alloc(m, sizeof(*g))) == NULL)
		return NULL;
	memset(g, 0, sizeof(*g));
	m->cap = COMPRESS_MEM_MAX;
	g->mem = m;
	g->z.zalloc = gz_alloc;
	g->z.zfree = gz_free;
	g->z.opaque = g;
	if (deflateInit2(&g->z, level, Z_DEFLATED, GZ_WBITS + 16, GZ_MEMLEVEL,
	        Z_DEFAULT_STRATEGY) != Z_OK) {
		compress_mem_free(m, g);
		return NULL;
	}
	return g;
}

static int
gz_run(void *st, const uint8_t *in, size_t n, enum compress_op op,
    compress_out_fn out, void *arg)
{
	struct gz *g = st;
	uint8_t buf[GZ_OUT_BYTES];
	int flush = op == COMPRESS_OP_FINISH ? Z_FINISH
	    : op == COMPRESS_OP_FLUSH        ? Z_SYNC_FLUSH
	                                     : Z_NO_FLUSH;
	int rc;

	g->z.next_in = (Bytef *)(uintptr_t)in;
	g->z.avail_in = (uInt)n;
	for (;;) {
		g->z.next_out = buf;
		g->z.avail_out = sizeof(buf);
		rc = deflate(&g->z, flush);
		if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
			return -1;
		if (g->z.avail_out < sizeof(buf) &&
		    out(arg, buf, sizeof(buf) - g->z.avail_out) != 0)
			return -1;
		if (rc == Z_STREAM_END)
			return 0;
		/* Done when deflate left room: all input taken, flushed. */
		if (g->z.avail_out != 0 && g->z.avail_in == 0 &&
		    flush != Z_FINISH)
			return 0;
		if (rc == Z_BUF_ERROR && g->z.avail_out != 0)
			return -1; /* no progress possible */
	}
}

static void
gz_close(void *st)
{
	struct gz *g = st;
	struct compress_mem *m;

	if (g == NULL)
		return;
	m = g->mem;
	(void)deflateEnd(&g->z);
	compress_mem_free(m, g);
}

const struct compress_codec compress_gzip = {
	.enc = COMPRESS_GZIP,
	.min_level = 1,
	.max_level = 9,
	.reserve = gz_reserve,
	.open = gz_open,
	.run = gz_run,
	.close = gz_close,
};
