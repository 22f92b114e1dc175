/*
 * test_x509.c: the X.509 shim: self-signed generation for every key
 * type, what x509_check() reports about a certificate, and the exact
 * field and message of each refusal (bad PEM, key mismatch, chain order,
 * sizes, unsupported parameters), which are API output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* cmocka.h needs stdarg.h, stddef.h and setjmp.h first. */
#include <cmocka.h>

#include "x509.h"

struct pair {
	char *cert, *key;
};

static struct pair
gen(const char *name, const char *key_type)
{
	const char *names[] = { name, "*.wild.test", "192.0.2.7" };
	struct pair p = { NULL, NULL };
	struct err e;

	err_clear(&e);
	assert_int_equal(x509_selfsigned_pem(names, 3, 30, key_type, &p.cert,
	                     &p.key, &e),
	    0);
	assert_non_null(p.cert);
	assert_non_null(p.key);
	return p;
}

static void
pair_free(struct pair *p)
{
	free(p->cert);
	free(p->key);
}

static void
test_selfsigned_types(void **state)
{
	/* clang-format off */
	static const struct {
		const char *type;
		const char *want;
	} cases[] = {
		{ NULL,         "ECDSA-P256" },
		{ "ecdsa-p256", "ECDSA-P256" },
		{ "ECDSA-P384", "ECDSA-P384" },
		{ "rsa-2048",   "RSA-2048" },
		{ "ed25519",    "Ed25519" },
	};
	/* clang-format on */
	struct x509_info in;
	struct err e;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pair p = gen("site.test", cases[i].type);

		err_clear(&e);
		assert_int_equal(x509_check(p.cert, p.key, &in, &e), 0);
		assert_string_equal(in.key_type, cases[i].want);
		assert_string_equal(in.subject, "CN=site.test");
		assert_string_equal(in.issuer, "CN=site.test");
		assert_int_equal(in.nsans, 3);
		assert_string_equal(in.sans[0], "site.test");
		assert_string_equal(in.sans[1], "*.wild.test");
		assert_string_equal(in.sans[2], "192.0.2.7");
		assert_true(in.self_signed);
		assert_false(in.is_ca);
		assert_int_equal(in.nchain, 1);
		assert_int_equal(strlen(in.fingerprint), 64);
		/* 30 days from an hour ago */
		assert_int_equal(in.not_after - in.not_before,
		    30 * 86400 + 3600);
		assert_true(in.not_before <= (int64_t)time(NULL));
		/* a CA upload: the certificate alone */
		assert_int_equal(x509_check(p.cert, NULL, &in, &e), 0);
		pair_free(&p);
	}
}

static void
expect_refusal(const char *cert, const char *key, const char *field,
    const char *msg_part)
{
	struct x509_info in;
	struct err e;

	err_clear(&e);
	assert_int_equal(x509_check(cert, key, &in, &e), -1);
	assert_string_equal(e.field, field);
	if (strstr(e.msg, msg_part) == NULL)
		fail_msg("\"%s\" does not contain \"%s\"", e.msg, msg_part);
}

static void
test_refusals(void **state)
{
	struct pair a = gen("a.test", NULL), b = gen("b.test", "rsa-2048");
	size_t big = X509_PEM_MAX + 1;
	char *huge = malloc(big + 1), *chain;

	assert_non_null(huge);
	memset(huge, 'A', big);
	huge[big] = '\0';
	expect_refusal("", a.key, "certificate", "is empty");
	expect_refusal("hello", a.key, "certificate",
	    "is not PEM: no \"-----BEGIN CERTIFICATE-----\" block");
	expect_refusal(
	    "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
	    a.key, "certificate", "is not a valid PEM chain");
	expect_refusal(huge, a.key, "certificate",
	    "more than the limit of 65536");
	expect_refusal(a.cert, "nope", "private_key",
	    "is not PEM: no \"-----BEGIN\" block");
	expect_refusal(a.cert,
	    "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
	    "private_key", "is not a valid PEM private key");
	expect_refusal(a.cert,
	    "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
	    "private_key", "is encrypted");
	expect_refusal(a.cert, b.key, "private_key",
	    "does not match the certificate (a RSA-2048 key for a ECDSA-P256 certificate)");
	/* two unrelated certificates: b did not issue a */
	chain = malloc(strlen(a.cert) + strlen(b.cert) + 1);
	assert_non_null(chain);
	strcpy(chain, a.cert);
	strcat(chain, b.cert);
	expect_refusal(chain, a.key, "certificate",
	    "chain is out of order: certificate 1 was not issued by certificate 2");
	free(chain);
	free(huge);
	pair_free(&a);
	pair_free(&b);
}

static void
test_selfsigned_refusals(void **state)
{
	const char *ok[] = { "a.test" }, *bad[] = { "a b" },
	           *badwild[] = { "*a.test" };
	char *c = NULL, *k = NULL;
	struct err e;

	assert_int_equal(x509_selfsigned_pem(ok, 1, 30, "dsa", &c, &k, &e), -1);
	assert_string_equal(e.field, "key_type");
	assert_int_equal(x509_selfsigned_pem(bad, 1, 30, NULL, &c, &k, &e), -1);
	assert_string_equal(e.field, "names");
	assert_string_equal(e.msg,
	    "\"a b\" is not a host name, wildcard or IP address");
	assert_int_equal(x509_selfsigned_pem(badwild, 1, 30, NULL, &c, &k, &e),
	    -1);
	assert_string_equal(e.field, "names");
	assert_int_equal(x509_selfsigned_pem(ok, 0, 30, NULL, &c, &k, &e), -1);
	assert_string_equal(e.field, "names");
	assert_int_equal(x509_selfsigned_pem(ok, 1, 0, NULL, &c, &k, &e), -1);
	assert_string_equal(e.field, "days");
	assert_int_equal(x509_selfsigned_pem(ok, 1, 3651, NULL, &c, &k, &e),
	    -1);
	assert_string_equal(e.msg, "3651 is out of range (1..3650)");
	assert_null(c);
	assert_null(k);
}

static void
test_sha256(void **state)
{
	char out[65];

	assert_int_equal(x509_sha256_hex("abc", 3, out), 0);
	assert_string_equal(out,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_selfsigned_types),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_selfsigned_refusals),
		cmocka_unit_test(test_sha256),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
