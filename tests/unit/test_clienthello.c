/*
 * test_clienthello.c: clienthello_parse() on hellos built here: SNI and
 * ALPN out; every proper prefix is "more"; the same hello framed into
 * records of every size from 1 byte up parses the same; and a table of
 * malformed hellos, each refused with its reason.
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

#include "clienthello.h"

#define BUF 8192

struct hb {
	uint8_t b[BUF];
	size_t n;
};

static void
put8(struct hb *h, unsigned v)
{
	h->b[h->n++] = (uint8_t)v;
}

static void
put16(struct hb *h, unsigned v)
{
	put8(h, v >> 8);
	put8(h, v & 0xff);
}

static void
putmem(struct hb *h, const void *p, size_t n)
{
	memcpy(h->b + h->n, p, n);
	h->n += n;
}

/* Back-patches a 16-bit length at <at> covering everything after it. */
static void
patch16(struct hb *h, size_t at)
{
	size_t len = h->n - at - 2;

	h->b[at] = (uint8_t)(len >> 8);
	h->b[at + 1] = (uint8_t)len;
}

struct spec {
	const char *sni;     /* NULL: no server_name extension */
	const char *alpn[4]; /* NULL-terminated */
	bool no_extensions;  /* stop after compression methods */
	bool grease;         /* unknown extensions around the known ones */
};

/* A handshake message (type, 24-bit length, body) per <s>. */
static void
build_msg(struct hb *h, const struct spec *s)
{
	size_t len_at, ext_at, e_at, l_at, i;
	uint8_t random[32];

	memset(random, 0xab, sizeof(random));
	put8(h, 1); /* ClientHello */
	len_at = h->n;
	put8(h, 0);
	put16(h, 0);
	put16(h, 0x0303);
	putmem(h, random, 32);
	put8(h, 32); /* session id */
	putmem(h, random, 32);
	put16(h, 4); /* two cipher suites */
	put16(h, 0x1301);
	put16(h, 0xc02b);
	put8(h, 1); /* null compression */
	put8(h, 0);
	if (!s->no_extensions) {
		ext_at = h->n;
		put16(h, 0);
		if (s->grease) {
			put16(h, 0x0a0a);
			put16(h, 0);
		}
		if (s->sni != NULL) {
			put16(h, 0);
			e_at = h->n;
			put16(h, 0);
			l_at = h->n;
			put16(h, 0);
			put8(h, 0);
			put16(h, (unsigned)strlen(s->sni));
			putmem(h, s->sni, strlen(s->sni));
			patch16(h, l_at);
			patch16(h, e_at);
		}
		if (s->alpn[0] != NULL) {
			put16(h, 16);
			e_at = h->n;
			put16(h, 0);
			l_at = h->n;
			put16(h, 0);
			for (i = 0; s->alpn[i] != NULL; i++) {
				put8(h, (unsigned)strlen(s->alpn[i]));
				putmem(h, s->alpn[i], strlen(s->alpn[i]));
			}
			patch16(h, l_at);
			patch16(h, e_at);
		}
		if (s->grease) {
			put16(h, 43); /* supported_versions */
			put16(h, 3);
			put8(h, 2);
			put16(h, 0x0304);
		}
		patch16(h, ext_at);
	}
	/* The 24-bit message length covers what follows it. */
	i = h->n - len_at - 3;
	h->b[len_at] = (uint8_t)(i >> 16);
	h->b[len_at + 1] = (uint8_t)(i >> 8);
	h->b[len_at + 2] = (uint8_t)i;
}

/* Frames <msg> into handshake records of at most <rec> bytes. */
static void
frame(struct hb *out, const struct hb *msg, size_t rec)
{
	size_t off = 0, n;

	out->n = 0;
	while (off < msg->n) {
		n = msg->n - off < rec ? msg->n - off : rec;
		put8(out, 22);
		put16(out, 0x0301);
		put16(out, (unsigned)n);
		putmem(out, msg->b + off, n);
		off += n;
	}
}

static void
check_ok(const struct hb *h, const struct spec *s)
{
	struct clienthello ch;
	size_t i;

	assert_int_equal(clienthello_parse(h->b, h->n, &ch), CLIENTHELLO_OK);
	assert_int_equal(ch.hello_len, h->n);
	assert_int_equal(ch.has_sni, s->sni != NULL);
	if (s->sni != NULL) {
		assert_string_equal(ch.sni, s->sni);
		assert_int_equal(ch.sni_len, strlen(s->sni));
	}
	for (i = 0; s->alpn[i] != NULL; i++) {
		assert_true(i < ch.nalpn);
		assert_string_equal(ch.alpn[i], s->alpn[i]);
	}
	assert_int_equal(ch.nalpn, i);
}

/* clang-format off */
static const struct spec good[] = {
	{ "db.example",      { NULL },                  false, false },
	{ "A.Example.",      { "h2", "http/1.1", NULL }, false, true },
	{ NULL,              { "postgresql", NULL },     false, false },
	{ NULL,              { NULL },                  true,  false },
	{ "x",               { NULL },                  false, true },
	{ "a-b_c.d0.example", { "acme-tls/1", NULL },   false, true },
};
/* clang-format on */

static void
test_good(void **state)
{
	struct hb msg, rec;
	struct clienthello ch;
	size_t i, cut, size;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		msg.n = 0;
		build_msg(&msg, &good[i]);
		frame(&rec, &msg, 16384);
		check_ok(&rec, &good[i]);
		/* Every proper prefix asks for more. */
		for (cut = 0; cut < rec.n; cut++)
			assert_int_equal(clienthello_parse(rec.b, cut, &ch),
			    CLIENTHELLO_MORE);
		/* Bytes after the hello are not its business. */
		rec.b[rec.n] = 0x17;
		assert_int_equal(clienthello_parse(rec.b, rec.n + 1, &ch),
		    CLIENTHELLO_OK);
		assert_int_equal(ch.hello_len, rec.n);
		/* Split over records of every size: same answer, and every
		 * prefix of those still asks for more.
		 */
		for (size = 1; size <= msg.n; size++) {
			frame(&rec, &msg, size);
			check_ok(&rec, &good[i]);
			if (size <= 8)
				for (cut = 0; cut < rec.n; cut++)
					assert_int_equal(
					    clienthello_parse(rec.b, cut, &ch),
					    CLIENTHELLO_MORE);
		}
	}
}

/* A mutation of a good hello (SNI "db.example", ALPN h2) and its reason. */
struct bad {
	const char *what;
	size_t at; /* byte offset in the framed hello */
	int value; /* new byte value; -1: truncate the record there */
	const char *err;
};

/* Offsets: record header 0..4, handshake header 5..8, version 9..10,
 * random 11..42, session id length 43, id 44..75, suites length 76..77,
 * suites 78..81, compression 82..83, extensions length 84..85, SNI
 * extension type 86..87, its length 88..89, list length 90..91, name
 * type 92, name length 93..94, name 95...
 */
/* clang-format off */
static const struct bad bads[] = {
	{ "application data record", 0, 23, "not a TLS handshake record" },
	{ "SSLv2-style header",      0, 0x80, "not a TLS handshake record" },
	{ "record version 2",        1, 2, "unknown TLS record version" },
	{ "not a ClientHello",       5, 2, "first handshake message is not a ClientHello" },
	{ "hello version 2.x",       9, 2, "unknown hello version" },
	{ "session id too long",     43, 33, "session id too long" },
	{ "odd suites length",       77, 3, "bad cipher suite list length" },
	{ "no compression methods",  82, 0, "no compression methods" },
	{ "extensions too long",     85, 0xff, "extensions length mismatch" },
	{ "SNI list mismatch",       91, 0x20, "server_name list length mismatch" },
	{ "SNI name too long",       94, 0x40, "server_name entry truncated" },
	{ "empty host name",         94, 0, "bad host name length" },
	{ "space in host name",      97, ' ', "bad byte in host name" },
	{ "NUL in host name",        95, 0, "bad byte in host name" },
	{ "empty record",            3, -2, "bad TLS record length" },
	{ "record too long",         3, 0x41, "bad TLS record length" },
};
/* clang-format on */

static void
test_bad(void **state)
{
	static const struct spec s = { "db.example", { "h2", NULL }, false,
		false };
	struct hb msg, rec;
	struct clienthello ch;
	size_t i;

	msg.n = 0;
	build_msg(&msg, &s);
	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		frame(&rec, &msg, 16384);
		if (bads[i].value == -2) {
			rec.b[3] = rec.b[4] = 0;
		} else {
			rec.b[bads[i].at] = (uint8_t)bads[i].value;
		}
		if (clienthello_parse(rec.b, rec.n, &ch) != CLIENTHELLO_BAD ||
		    strcmp(ch.error, bads[i].err) != 0) {
			print_error("case %zu (%s): got \"%s\"\n", i,
			    bads[i].what, ch.error ? ch.error : "(none)");
			fail();
		}
	}
}

static void
test_duplicates_and_limits(void **state)
{
	struct spec s = { "db.example", { "h2", NULL }, false, false };
	struct hb msg, rec, two;
	struct clienthello ch;
	char longname[300];
	size_t ext, n;

	/* Two server_name extensions. */
	msg.n = 0;
	build_msg(&msg, &s);
	/* Duplicate the SNI extension: 86 - 5 = 81 is its offset in msg. */
	n = 4 + 2 + 1 + 2 + strlen(s.sni);
	two.n = 0;
	putmem(&two, msg.b, msg.n);
	memmove(two.b + 81 + n, two.b + 81, two.n - 81);
	memcpy(two.b + 81, msg.b + 81, n);
	two.n += n;
	ext = ((size_t)two.b[79] << 8 | two.b[80]) + n;
	two.b[79] = (uint8_t)(ext >> 8);
	two.b[80] = (uint8_t)ext;
	n = two.n - 4;
	two.b[1] = (uint8_t)(n >> 16);
	two.b[2] = (uint8_t)(n >> 8);
	two.b[3] = (uint8_t)n;
	frame(&rec, &two, 16384);
	assert_int_equal(clienthello_parse(rec.b, rec.n, &ch), CLIENTHELLO_BAD);
	assert_string_equal(ch.error, "server_name extension repeated");

	/* A 255-byte name is fine, 256 is not. */
	memset(longname, 'a', sizeof(longname));
	longname[255] = '\0';
	s.sni = longname;
	msg.n = 0;
	build_msg(&msg, &s);
	frame(&rec, &msg, 16384);
	assert_int_equal(clienthello_parse(rec.b, rec.n, &ch), CLIENTHELLO_OK);
	assert_int_equal(ch.sni_len, 255);
	longname[255] = 'a';
	longname[256] = '\0';
	msg.n = 0;
	build_msg(&msg, &s);
	frame(&rec, &msg, 16384);
	assert_int_equal(clienthello_parse(rec.b, rec.n, &ch), CLIENTHELLO_BAD);
	assert_string_equal(ch.error, "bad host name length");

	/* Nothing at all yet, and an empty first record header. */
	assert_int_equal(clienthello_parse(rec.b, 0, &ch), CLIENTHELLO_MORE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_duplicates_and_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
