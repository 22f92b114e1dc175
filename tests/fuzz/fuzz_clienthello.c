/*
 * fuzz_clienthello.c: clienthello_parse() on what a client sends first.
 *
 * Input: the bytes of a tls-passthrough connection. Checked: the answer
 * is one of OK/MORE/BAD, and BAD carries a reason; an OK hello ends
 * within the input, its server name is 1..255 name bytes and NUL-free,
 * its ALPN names lie inside the result and are at most eight; the bytes
 * up to hello_len alone give the same answer and the same values, and
 * one byte less asks for more (the parser needs exactly what it claims);
 * a MORE input's every shorter prefix is MORE too; BAD stays BAD however
 * many bytes follow (more data never makes a broken hello whole).
 */
#include <string.h>

#include "clienthello.h"
#include "fuzz.h"

static int
fz_namechar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

static void
fz_check_result(const struct clienthello *ch, size_t size)
{
	size_t i;

	FUZZ_CHECK(ch->hello_len >= 5 + 4 + 41 && ch->hello_len <= size);
	if (ch->has_sni) {
		FUZZ_CHECK(ch->sni_len >= 1 && ch->sni_len <= 255);
		FUZZ_CHECK(strlen(ch->sni) == ch->sni_len);
		for (i = 0; i < ch->sni_len; i++)
			FUZZ_CHECK(fz_namechar(ch->sni[i]));
	} else {
		FUZZ_CHECK(ch->sni_len == 0);
	}
	FUZZ_CHECK(ch->nalpn <= CLIENTHELLO_ALPN_MAX);
	for (i = 0; i < ch->nalpn; i++) {
		FUZZ_CHECK(ch->alpn[i] >= ch->alpn_buf &&
		    ch->alpn[i] < ch->alpn_buf + sizeof(ch->alpn_buf));
		FUZZ_CHECK(memchr(ch->alpn[i], '\0',
		               (size_t)(ch->alpn_buf + sizeof(ch->alpn_buf) -
		                   ch->alpn[i])) != NULL);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct clienthello a, b;
	static uint8_t more[CLIENTHELLO_MAX_BYTES + 64];
	enum clienthello_status st, st2;
	size_t i;

	st = clienthello_parse(data, size, &a);
	FUZZ_CHECK(st == CLIENTHELLO_OK || st == CLIENTHELLO_MORE ||
	    st == CLIENTHELLO_BAD);
	switch (st) {
	case CLIENTHELLO_OK:
		fz_check_result(&a, size);
		st2 = clienthello_parse(data, a.hello_len, &b);
		FUZZ_CHECK(st2 == CLIENTHELLO_OK);
		FUZZ_CHECK(b.hello_len == a.hello_len);
		FUZZ_CHECK(b.has_sni == a.has_sni);
		FUZZ_CHECK(strcmp(b.sni, a.sni) == 0);
		FUZZ_CHECK(b.nalpn == a.nalpn);
		for (i = 0; i < a.nalpn; i++)
			FUZZ_CHECK(strcmp(a.alpn[i], b.alpn[i]) == 0);
		FUZZ_CHECK(clienthello_parse(data, a.hello_len - 1, &b) ==
		    CLIENTHELLO_MORE);
		break;
	case CLIENTHELLO_MORE:
		FUZZ_CHECK(clienthello_parse(data, size / 2, &b) ==
		    CLIENTHELLO_MORE);
		FUZZ_CHECK(size == 0 ||
		    clienthello_parse(data, size - 1, &b) == CLIENTHELLO_MORE);
		break;
	case CLIENTHELLO_BAD:
		FUZZ_CHECK(a.error != NULL && a.error[0] != '\0');
		if (size + 64 <= sizeof(more)) {
			memcpy(more, data, size);
			memset(more + size, size & 0xff, 64);
			FUZZ_CHECK(clienthello_parse(more, size + 64, &b) ==
			    CLIENTHELLO_BAD);
		}
		break;
	}
	return 0;
}
