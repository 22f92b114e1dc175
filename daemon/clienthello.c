/*
 * clienthello.c: SNI and ALPN from the first bytes of a TLS connection.
 *
 * A reader walks the input as the handshake layer sees it: a byte
 * stream made of the payloads of consecutive handshake records, record
 * headers skipped. So a ClientHello split over several records, or over
 * several TCP segments (the caller simply calls again with more bytes),
 * parses the same as one in a single record. Running off the end of the
 * input is "more", anything inconsistent is "bad"; the two never mix,
 * because every length is checked against the message length before the
 * bytes it covers are read.
 */
#include "clienthello.h"

#include <string.h>

#define CH_REC_HANDSHAKE   22
#define CH_REC_MAX         16384 /* TLSPlaintext.length limit (2^14) */
#define CH_HS_CLIENT_HELLO 1
#define CH_EXT_SNI         0
#define CH_EXT_ALPN        16

struct ch_reader {
	const uint8_t *buf;
	size_t len;
	size_t pos;      /* next input byte */
	size_t rec_left; /* payload bytes left in the current record */
	size_t msg_left; /* handshake message bytes left */
	bool first;      /* no record header seen yet */
	bool more;       /* stopped at the end of the input */
	const char *err; /* stopped on malformed input */
	struct clienthello *ch;
};

static int
ch_bad(struct ch_reader *r, const char *why)
{
	if (r->err == NULL && !r->more)
		r->err = why;
	return -1;
}

/* The next handshake-layer byte, crossing record headers. */
static int
ch_byte(struct ch_reader *r, uint8_t *out)
{
	const uint8_t *h;
	size_t rlen;

	if (r->msg_left == 0)
		return ch_bad(r, "length field runs past the hello");
	if (r->rec_left == 0) {
		if (r->len - r->pos < 5) {
			r->more = true;
			return -1;
		}
		h = r->buf + r->pos;
		if (h[0] != CH_REC_HANDSHAKE)
			return ch_bad(r, "not a TLS handshake record");
		if (h[1] != 3)
			return ch_bad(r, "unknown TLS record version");
		rlen = (size_t)h[3] << 8 | h[4];
		if (rlen == 0 || rlen > CH_REC_MAX)
			return ch_bad(r, "bad TLS record length");
		if (r->first)
			r->ch->record_version = (uint16_t)(h[1] << 8 | h[2]);
		r->first = false;
		r->pos += 5;
		r->rec_left = rlen;
		if (r->pos + rlen > CLIENTHELLO_MAX_BYTES + 5)
			return ch_bad(r, "hello too large");
	}
	if (r->pos >= r->len) {
		r->more = true;
		return -1;
	}
	*out = r->buf[r->pos++];
	r->rec_left--;
	r->msg_left--;
	return 0;
}

static int
ch_u8(struct ch_reader *r, size_t *v)
{
	uint8_t b = 0; /* quiets the analyzer: ch_byte() sets it on 0 */

	if (ch_byte(r, &b) == -1)
		return -1;
	*v = b;
	return 0;
}

static int
ch_u16(struct ch_reader *r, size_t *v)
{
	size_t a, b;

	if (ch_u8(r, &a) == -1 || ch_u8(r, &b) == -1)
		return -1;
	*v = a << 8 | b;
	return 0;
}

static int
ch_skip(struct ch_reader *r, size_t n)
{
	uint8_t b;

	if (n > r->msg_left)
		return ch_bad(r, "length field runs past the hello");
	while (n-- > 0)
		if (ch_byte(r, &b) == -1)
			return -1;
	return 0;
}

static bool
ch_namechar(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

/* server_name extension body of <n> bytes (RFC 6066, 3). */
static int
ch_sni(struct ch_reader *r, size_t n)
{
	struct clienthello *ch = r->ch;
	size_t list, type, nlen, i, used = 2;
	uint8_t b;

	if (ch->has_sni)
		return ch_bad(r, "server_name extension repeated");
	if (n < 2 || ch_u16(r, &list) == -1)
		return n < 2 ? ch_bad(r, "server_name extension too short")
		             : -1;
	if (list != n - 2 || list == 0)
		return ch_bad(r, "server_name list length mismatch");
	while (used < n) {
		if (n - used < 3)
			return ch_bad(r, "server_name entry truncated");
		if (ch_u8(r, &type) == -1 || ch_u16(r, &nlen) == -1)
			return -1;
		used += 3;
		if (nlen > n - used)
			return ch_bad(r, "server_name entry truncated");
		if (type != 0 || ch->has_sni) {
			/* Unknown name types are skipped; one host_name. */
			if (type == 0)
				return ch_bad(r, "two host names");
			if (ch_skip(r, nlen) == -1)
				return -1;
			used += nlen;
			continue;
		}
		if (nlen == 0 || nlen > CLIENTHELLO_SNI_MAX)
			return ch_bad(r, "bad host name length");
		for (i = 0; i < nlen; i++) {
			if (ch_byte(r, &b) == -1)
				return -1;
			if (!ch_namechar(b))
				return ch_bad(r, "bad byte in host name");
			ch->sni[i] = (char)b;
		}
		ch->sni[nlen] = '\0';
		ch->sni_len = nlen;
		ch->has_sni = true;
		used += nlen;
	}
	return 0;
}

/* application_layer_protocol_negotiation body of <n> bytes (RFC 7301). */
static int
ch_alpn(struct ch_reader *r, size_t n, bool *seen)
{
	struct clienthello *ch = r->ch;
	size_t list, plen, used = 2, off = 0, i;
	uint8_t b;
	bool keep;

	if (*seen)
		return ch_bad(r, "ALPN extension repeated");
	*seen = true;
	if (n < 2)
		return ch_bad(r, "ALPN extension too short");
	if (ch_u16(r, &list) == -1)
		return -1;
	if (list != n - 2 || list < 2)
		return ch_bad(r, "ALPN list length mismatch");
	while (used < n) {
		if (ch_u8(r, &plen) == -1)
			return -1;
		used++;
		if (plen == 0 || plen > n - used)
			return ch_bad(r, "bad ALPN protocol length");
		keep = ch->nalpn < CLIENTHELLO_ALPN_MAX &&
		    off + plen + 1 <= sizeof(ch->alpn_buf);
		if (keep)
			ch->alpn[ch->nalpn] = ch->alpn_buf + off;
		for (i = 0; i < plen; i++) {
			if (ch_byte(r, &b) == -1)
				return -1;
			if (keep)
				ch->alpn_buf[off + i] = (char)b;
		}
		if (keep) {
			/* A NUL inside a name makes it shorter, never
			 * longer: it stays a C string in the buffer.
			 */
			ch->alpn_buf[off + plen] = '\0';
			off += plen + 1;
			ch->nalpn++;
		}
		used += plen;
	}
	return 0;
}

static int
ch_extensions(struct ch_reader *r)
{
	size_t total, type, n, used = 0;
	bool alpn_seen = false;

	if (r->msg_left == 0)
		return 0; /* no extensions at all: allowed */
	if (ch_u16(r, &total) == -1)
		return -1;
	if (total != r->msg_left)
		return ch_bad(r, "extensions length mismatch");
	while (used < total) {
		if (total - used < 4)
			return ch_bad(r, "extension header truncated");
		if (ch_u16(r, &type) == -1 || ch_u16(r, &n) == -1)
			return -1;
		used += 4;
		if (n > total - used)
			return ch_bad(r, "extension runs past the hello");
		if (type == CH_EXT_SNI) {
			if (ch_sni(r, n) == -1)
				return -1;
		} else if (type == CH_EXT_ALPN) {
			if (ch_alpn(r, n, &alpn_seen) == -1)
				return -1;
		} else if (ch_skip(r, n) == -1) {
			return -1;
		}
		used += n;
	}
	return 0;
}

static int
ch_hello(struct ch_reader *r)
{
	size_t type, a, b, c, n;

	/* The 4-byte handshake header, read under a fake message length. */
	r->msg_left = 4;
	if (ch_u8(r, &type) == -1 || ch_u8(r, &a) == -1 || ch_u8(r, &b) == -1 ||
	    ch_u8(r, &c) == -1)
		return -1;
	if (type != CH_HS_CLIENT_HELLO)
		return ch_bad(r,
		    "first handshake message is not a ClientHello");
	n = a << 16 | b << 8 | c;
	if (n > CLIENTHELLO_MAX_BYTES)
		return ch_bad(r, "hello too large");
	if (n < 2 + 32 + 1 + 2 + 2 + 1 + 1)
		return ch_bad(r, "hello too short");
	r->msg_left = n;
	if (ch_u16(r, &a) == -1)
		return -1;
	r->ch->client_version = (uint16_t)a;
	if ((a >> 8) != 3)
		return ch_bad(r, "unknown hello version");
	if (ch_skip(r, 32) == -1 || ch_u8(r, &n) == -1) /* random, sid len */
		return -1;
	if (n > 32)
		return ch_bad(r, "session id too long");
	if (ch_skip(r, n) == -1 || ch_u16(r, &n) == -1)
		return -1;
	if (n < 2 || (n & 1) != 0)
		return ch_bad(r, "bad cipher suite list length");
	if (ch_skip(r, n) == -1 || ch_u8(r, &n) == -1)
		return -1;
	if (n < 1)
		return ch_bad(r, "no compression methods");
	if (ch_skip(r, n) == -1)
		return -1;
	return ch_extensions(r);
}

enum clienthello_status
clienthello_parse(const uint8_t *buf, size_t len, struct clienthello *ch)
{
	struct ch_reader r = { .buf = buf,
		.len = len,
		.first = true,
		.ch = ch };

	memset(ch, 0, sizeof(*ch));
	if (ch_hello(&r) == 0) {
		ch->hello_len = r.pos;
		return CLIENTHELLO_OK;
	}
	if (r.err == NULL && r.more) {
		if (len >= CLIENTHELLO_MAX_BYTES + 5) {
			ch->error = "hello too large";
			return CLIENTHELLO_BAD;
		}
		return CLIENTHELLO_MORE;
	}
	ch->error = r.err != NULL ? r.err : "malformed hello";
	return CLIENTHELLO_BAD;
}
