/*
 * fuzz_normalize.c: norm_path() and norm_host() on arbitrary bytes.
 *
 * Checked for paths: the output is an absolute path no longer than
 * max(input, 1); it contains no "." or ".." segment, no '\', no escape of
 * an unreserved character or of '/', '\' or NUL, and no lowercase hex
 * digit in an escape; and normalising it again gives it back unchanged
 * (idempotence). For hosts: the output is the trimmed input lowercased,
 * and normalising it again gives it back unchanged.
 */
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "normalize.h"

static bool
fz_unreserved(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

static int
fz_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1; /* lowercase is a failure here */
}

static void
fz_check_path(const char *p, size_t n)
{
	size_t i, j, seg;
	int c;

	FUZZ_CHECK(n > 0 && p[0] == '/');
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && p[j] != '/'; j++)
			;
		seg = j - i - 1;
		FUZZ_CHECK(!(seg == 1 && p[i + 1] == '.'));
		FUZZ_CHECK(!(seg == 2 && p[i + 1] == '.' && p[i + 2] == '.'));
	}
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(p[i] != '\\' && p[i] != '\0');
		if (p[i] != '%')
			continue;
		FUZZ_CHECK(i + 2 < n);
		FUZZ_CHECK(fz_hex(p[i + 1]) >= 0 && fz_hex(p[i + 2]) >= 0);
		c = fz_hex(p[i + 1]) * 16 + fz_hex(p[i + 2]);
		FUZZ_CHECK(!fz_unreserved(c) && c != '/' && c != '\\' &&
		    c != 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[65536], again[65536];
	struct str in = str_make((const char *)data, size), t;
	size_t n, n2;

	if (size >= sizeof(out))
		return 0;
	if (norm_path(in, out, sizeof(out), &n) == NORM_OK) {
		FUZZ_CHECK(n <= (size > 0 ? size : 1));
		fz_check_path(out, n);
		FUZZ_CHECK(norm_path(str_make(out, n), again, sizeof(again),
		               &n2) == NORM_OK);
		FUZZ_CHECK(n2 == n && memcmp(again, out, n) == 0);
	} else {
		FUZZ_CHECK(n == 0);
	}

	if (norm_host(in, out, sizeof(out), &n) == NORM_OK) {
		t = str_trim(in);
		FUZZ_CHECK(n == t.len && n <= NORM_HOST_MAX);
		FUZZ_CHECK(strncasecmp(out, t.p, n) == 0);
		FUZZ_CHECK(norm_host(str_make(out, n), again, sizeof(again),
		               &n2) == NORM_OK);
		FUZZ_CHECK(n2 == n && memcmp(again, out, n) == 0);
		for (size_t i = 0; i < n; i++)
			FUZZ_CHECK(!(out[i] >= 'A' && out[i] <= 'Z'));
	}
	return 0;
}
