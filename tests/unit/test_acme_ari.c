/*
 * test_acme_ari.c: ACME Renewal Information (RFC 9773) without a CA:
 * the certificate identifier (the RFC's own example), RFC 3339 times,
 * the suggestedWindow answer and each refusal, the moment chosen in the
 * window (always inside it, never in the past, at once when the window
 * is past) and the re-check bounds. Debian's pebble (2.4) offers no
 * renewalInfo, so these are what tests the ARI path (doc/tls.md).
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

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "acme_ari.h"

/* A self-signed certificate with serial <serial> and, unless <aki> is
 * NULL, that authority key identifier; PEM, free().
 */
static char *
make_cert(const unsigned char *serial, size_t slen, const unsigned char *aki,
    size_t akilen)
{
	gnutls_x509_privkey_t key;
	gnutls_x509_crt_t crt;
	gnutls_datum_t out = { NULL, 0 };
	char *pem;

	assert_int_equal(gnutls_x509_privkey_init(&key), 0);
	assert_int_equal(gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
	                     GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1),
	                     0),
	    0);
	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	assert_int_equal(gnutls_x509_crt_set_version(crt, 3), 0);
	assert_int_equal(gnutls_x509_crt_set_serial(crt, serial, slen), 0);
	assert_int_equal(gnutls_x509_crt_set_dn_by_oid(crt,
	                     GNUTLS_OID_X520_COMMON_NAME, 0, "ari.test", 8),
	    0);
	assert_int_equal(gnutls_x509_crt_set_activation_time(crt, 1700000000),
	    0);
	assert_int_equal(gnutls_x509_crt_set_expiration_time(crt, 1800000000),
	    0);
	assert_int_equal(gnutls_x509_crt_set_key(crt, key), 0);
	if (aki != NULL)
		assert_int_equal(gnutls_x509_crt_set_authority_key_id(crt, aki,
		                     akilen),
		    0);
	assert_int_equal(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256,
	                     0),
	    0);
	assert_int_equal(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM,
	                     &out),
	    0);
	pem = calloc(1, out.size + 1);
	assert_non_null(pem);
	memcpy(pem, out.data, out.size);
	gnutls_free(out.data);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	return pem;
}

/* RFC 9773 section 4.1: key id 69:88:5B:..:D4, serial 00:87:65:43:21. */
static void
test_cert_id_rfc_example(void **state)
{
	static const unsigned char aki[] = { 0x69, 0x88, 0x5B, 0x6B, 0x87, 0x46,
		0x40, 0x41, 0xE1, 0xB3, 0x7B, 0x84, 0x7B, 0xA0, 0xAE, 0x2C,
		0xDE, 0x01, 0xC8, 0xD4 };
	static const unsigned char serial[] = { 0x00, 0x87, 0x65, 0x43, 0x21 };
	char id[ACME_ARI_ID_MAX], *pem;
	struct err e;

	(void)state;
	pem = make_cert(serial, sizeof(serial), aki, sizeof(aki));
	assert_int_equal(acme_ari_cert_id(pem, id, sizeof(id), &e), 0);
	assert_string_equal(id, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
	/* Too small a buffer is a refusal, not a truncation. */
	assert_int_equal(acme_ari_cert_id(pem, id, 20, &e), -1);
	assert_string_equal(e.msg, "the ARI identifier is too long");
	free(pem);
}

static void
test_cert_id_refusals(void **state)
{
	static const unsigned char serial[] = { 0x01, 0x02 };
	char id[ACME_ARI_ID_MAX], *pem;
	struct err e;

	(void)state;
	pem = make_cert(serial, sizeof(serial), NULL, 0);
	assert_int_equal(acme_ari_cert_id(pem, id, sizeof(id), &e), -1);
	assert_string_equal(e.msg,
	    "the certificate has no authority key identifier");
	free(pem);
	assert_int_equal(acme_ari_cert_id("-----BEGIN CERTIFICATE-----\nAA\n"
	                                  "-----END CERTIFICATE-----\n",
	                     id, sizeof(id), &e),
	    -1);
	assert_string_equal(e.msg, "the certificate does not parse");
	assert_int_equal(acme_ari_cert_id(NULL, id, sizeof(id), &e), -1);
}

static void
test_times(void **state)
{
	static const struct {
		const char *s;
		int ok;
		int64_t t;
	} cases[] = {
		{ "1970-01-01T00:00:00Z", 1, 0 },
		{ "2025-01-02T04:00:00Z", 1, 1735790400 },
		{ "2025-01-02T04:00:00.123456Z", 1, 1735790400 },
		{ "2025-01-02t04:00:00z", 1, 1735790400 },
		{ "2025-01-02T05:30:00+01:30", 1, 1735790400 },
		{ "2025-01-01T22:00:00-06:00", 1, 1735790400 },
		{ "2024-02-29T00:00:00Z", 1, 1709164800 },
		{ "2016-12-31T23:59:60Z", 1, 1483228799 },
		{ "2025-13-01T00:00:00Z", 0, 0 },
		{ "2025-01-32T00:00:00Z", 0, 0 },
		{ "2025-01-02 04:00:00Z", 0, 0 },
		{ "2025-01-02T04:00:00", 0, 0 },
		{ "2025-01-02T04:00:00Zjunk", 0, 0 },
		{ "2025-01-02T04:00:00.Z", 0, 0 },
		{ "2025-01-02T24:00:00Z", 0, 0 },
		{ "2025-01-02T04:00:00+1:00", 0, 0 },
		{ "", 0, 0 },
	};
	size_t i;
	int64_t t;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		t = -7;
		if (cases[i].ok) {
			assert_int_equal(acme_ari_time(cases[i].s, &t), 0);
			assert_int_equal(t, cases[i].t);
		} else {
			assert_int_equal(acme_ari_time(cases[i].s, &t), -1);
		}
	}
	assert_int_equal(acme_ari_time(NULL, &t), -1);
}

static int
parse(const char *body, int64_t *a, int64_t *b, struct err *e)
{
	return acme_ari_parse(body, strlen(body), a, b, e);
}

static void
test_window_parse(void **state)
{
	int64_t a = 0, b = 0;
	struct err e;

	(void)state;
	/* RFC 9773 section 4.2's example answer. */
	assert_int_equal(parse("{\"suggestedWindow\":{\"start\":"
	                       "\"2025-01-02T04:00:00Z\",\"end\":"
	                       "\"2025-01-03T04:00:00Z\"},\"explanationURL\":"
	                       "\"https://acme.example.com/docs/ari\"}",
	                     &a, &b, &e),
	    0);
	assert_int_equal(a, 1735790400);
	assert_int_equal(b, 1735790400 + 86400);
	assert_int_equal(parse("not json", &a, &b, &e), -1);
	assert_string_equal(e.msg, "the renewal information is not JSON");
	assert_int_equal(parse("{\"explanationURL\":\"x\"}", &a, &b, &e), -1);
	assert_string_equal(e.msg,
	    "the renewal information has no suggestedWindow start and end");
	assert_int_equal(parse("{\"suggestedWindow\":{\"start\":"
	                       "\"2025-01-02T04:00:00Z\"}}",
	                     &a, &b, &e),
	    -1);
	assert_int_equal(parse("{\"suggestedWindow\":{\"start\":1,\"end\":2}}",
	                     &a, &b, &e),
	    -1);
	assert_int_equal(parse("{\"suggestedWindow\":{\"start\":\"soon\","
	                       "\"end\":\"2025-01-03T04:00:00Z\"}}",
	                     &a, &b, &e),
	    -1);
	assert_string_equal(e.msg,
	    "suggestedWindow.start \"soon\" is not an RFC 3339 time");
	assert_int_equal(parse("{\"suggestedWindow\":{\"start\":"
	                       "\"2025-01-02T04:00:00Z\",\"end\":\"later\"}}",
	                     &a, &b, &e),
	    -1);
	assert_string_equal(e.msg,
	    "suggestedWindow.end \"later\" is not an RFC 3339 time");
	assert_int_equal(parse("{\"suggestedWindow\":{\"start\":"
	                       "\"2025-01-03T04:00:00Z\",\"end\":"
	                       "\"2025-01-02T04:00:00Z\"}}",
	                     &a, &b, &e),
	    -1);
	assert_string_equal(e.msg,
	    "suggestedWindow ends (2025-01-02T04:00:00Z) before it starts "
	    "(2025-01-03T04:00:00Z)");
	assert_int_equal(parse("{\"suggestedWindow\":{\"start\":"
	                       "\"2025-01-02T04:00:00Z\",\"end\":"
	                       "\"2025-01-02T04:00:00Z\"}}",
	                     &a, &b, &e),
	    -1);
}

static void
test_choose(void **state)
{
	const int64_t s = 1000000, end = s + 86400;
	uint64_t r = 0x9e3779b97f4a7c15ull;
	int64_t t, lo = end, hi = s;
	int i;

	(void)state;
	/* A future window: anywhere in it, from start to end - 1. */
	assert_int_equal(acme_ari_choose(s, end, s - 500, 0), s);
	assert_int_equal(acme_ari_choose(s, end, s - 500, UINT64_MAX),
	    s + (int64_t)(UINT64_MAX % 86400));
	assert_int_equal(acme_ari_choose(s, end, s - 500, 86399), end - 1);
	for (i = 0; i < 10000; i++) {
		r = r * 6364136223846793005ull + 1442695040888963407ull;
		t = acme_ari_choose(s, end, s - 500, r);
		assert_true(t >= s && t < end);
		lo = t < lo ? t : lo;
		hi = t > hi ? t : hi;
	}
	/* Spread over the window, not bunched at one end. */
	assert_true(lo < s + 3600);
	assert_true(hi > end - 3600);
	/* Inside the window: never before now. */
	for (i = 0; i < 1000; i++) {
		r = r * 6364136223846793005ull + 1442695040888963407ull;
		t = acme_ari_choose(s, end, s + 80000, r);
		assert_true(t >= s + 80000 && t < end);
	}
	/* Past (or ending now): at once. */
	assert_int_equal(acme_ari_choose(s, end, end, r), end);
	assert_int_equal(acme_ari_choose(s, end, end + 99, r), end + 99);
}

static void
test_recheck(void **state)
{
	(void)state;
	assert_int_equal(acme_ari_recheck(100, 0), 100 + 6 * 3600);
	assert_int_equal(acme_ari_recheck(100, 5), 100 + 3600);
	assert_int_equal(acme_ari_recheck(100, 7200), 100 + 7200);
	assert_int_equal(acme_ari_recheck(100, 999999), 100 + 86400);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cert_id_rfc_example),
		cmocka_unit_test(test_cert_id_refusals),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_window_parse),
		cmocka_unit_test(test_choose),
		cmocka_unit_test(test_recheck),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
