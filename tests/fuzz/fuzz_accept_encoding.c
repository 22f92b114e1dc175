/*
 * fuzz_accept_encoding.c: compress_accept_parse() and the choice on
 * arbitrary bytes (daemon/compress.c).
 *
 * The input is read only within its length (it is copied to a buffer of
 * exactly that size, so ASan sees any overread). Checked: every q-value
 * is -1 (not named) or within 0..1000; the choice is a known coding and
 * agrees with the q-values (a coding chosen is acceptable and at least
 * as wanted as the other; identity when neither is acceptable); feeding
 * the input as two header lines split at any comma gives the same
 * q-values as one line.
 */
#include <stdbool.h>
#include <string.h>

#include "compress.h"
#include "fuzz.h"

static int
fz_q(int named, int star)
{
	return named >= 0 ? named : (star > 0 ? star : 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct compress_accept a, b;
	enum compress_enc e;
	char *p;
	const char *comma;
	int gz, br;

	if ((p = malloc(size > 0 ? size : 1)) == NULL)
		return 0;
	memcpy(p, data, size);
	compress_accept_init(&a);
	compress_accept_parse(&a, p, size);
	FUZZ_CHECK(a.gzip >= -1 && a.gzip <= 1000);
	FUZZ_CHECK(a.br >= -1 && a.br <= 1000);
	FUZZ_CHECK(a.identity >= -1 && a.identity <= 1000);
	FUZZ_CHECK(a.star >= -1 && a.star <= 1000);
	e = compress_accept_choose(&a);
	gz = fz_q(a.gzip, a.star);
	br = fz_q(a.br, a.star);
	switch (e) {
	case COMPRESS_GZIP:
		FUZZ_CHECK(gz > 0 && gz > br && a.identity <= gz);
		break;
	case COMPRESS_BR:
		FUZZ_CHECK(br > 0 && br >= gz && a.identity <= br);
		break;
	case COMPRESS_IDENTITY:
		FUZZ_CHECK((gz <= 0 && br <= 0) ||
		    a.identity > (gz > br ? gz : br));
		break;
	default:
		FUZZ_CHECK(false);
	}
	comma = memchr(p, ',', size);
	if (comma != NULL) {
		size_t k = (size_t)(comma - p);

		compress_accept_init(&b);
		compress_accept_parse(&b, p, k);
		compress_accept_parse(&b, comma + 1, size - k - 1);
		FUZZ_CHECK(memcmp(&a, &b, sizeof(a)) == 0);
	}
	free(p);
	return 0;
}
