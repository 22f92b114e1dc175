/*
 * clienthello.h: reading a TLS ClientHello without consuming it.
 *
 * clienthello_parse() is a pure function over the bytes a client sent so
 * far: it walks TLS records (content type 22), reassembling the handshake
 * message across records, and pulls the server name (SNI, RFC 6066) and
 * the ALPN protocol list (RFC 7301) out of the ClientHello. It copies the
 * values into the result, allocates nothing, and never changes the input:
 * the caller forwards every byte untouched whatever the outcome.
 */
#ifndef GH_CLIENTHELLO_H
#define GH_CLIENTHELLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLIENTHELLO_SNI_MAX    255   /* longest host name accepted */
#define CLIENTHELLO_ALPN_MAX   8     /* protocols kept (the first ones) */
#define CLIENTHELLO_ALPN_BYTES 512   /* their names, NUL-separated */
#define CLIENTHELLO_MAX_BYTES  65536 /* a longer hello is refused */

enum clienthello_status {
	CLIENTHELLO_OK = 0,   /* a complete hello; see the result */
	CLIENTHELLO_MORE = 1, /* a prefix of a valid hello: read more */
	CLIENTHELLO_BAD = -1, /* not a TLS ClientHello, or malformed */
};

struct clienthello {
	uint16_t record_version; /* of the first record */
	uint16_t client_version; /* legacy_version of the hello */
	size_t hello_len; /* input bytes up to the hello's last byte (OK) */
	bool has_sni;
	char sni[CLIENTHELLO_SNI_MAX + 1]; /* NUL-terminated, as sent */
	size_t sni_len;
	size_t nalpn;                           /* protocols in alpn[] */
	const char *alpn[CLIENTHELLO_ALPN_MAX]; /* point into alpn_buf */
	char alpn_buf[CLIENTHELLO_ALPN_BYTES];
	const char *error; /* static text when BAD */
};

/* Parses the first <len> bytes a client sent. Returns CLIENTHELLO_OK and
 * fills <ch> when they hold a whole ClientHello (bytes after it are
 * ignored), CLIENTHELLO_MORE when they are a proper prefix of one, and
 * CLIENTHELLO_BAD with ch->error otherwise. A host name that is empty,
 * longer than CLIENTHELLO_SNI_MAX or holds bytes other than letters,
 * digits, '-', '_' and '.' makes the hello BAD. A hello that would need
 * more than CLIENTHELLO_MAX_BYTES is BAD. Thread: any; pure.
 */
enum clienthello_status clienthello_parse(const uint8_t *buf, size_t len,
    struct clienthello *ch);

#endif
