/*
 * test_backup.c: the sealed backup file: a round trip; every refusal
 * (wrong passphrase, any byte changed, truncation, foreign header, KDF
 * iterations out of bounds, passphrase length) with its message; and
 * that two seals of the same image differ (fresh salt and nonce).
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

#include "backup.h"

#define PASS "a good passphrase"
#define ITER BACKUP_ITER_MIN /* fast; the default is tested once */

static const char image[] = "SQLite format 3\0 pretend this is a database";

static uint8_t *
seal(size_t *len, uint32_t iter)
{
	uint8_t *out;
	struct err e;

	assert_int_equal(backup_seal(image, sizeof(image), PASS, iter, &out,
	                     len, &e),
	    0);
	assert_int_equal(*len, BACKUP_HDR_LEN + sizeof(image) + BACKUP_TAG_LEN);
	return out;
}

static void
expect_refused(const uint8_t *f, size_t len, const char *pass, const char *msg)
{
	uint8_t *out = (uint8_t *)1;
	size_t olen = 1;
	struct err e;

	err_clear(&e);
	assert_int_equal(backup_open(f, len, pass, &out, &olen, &e), -1);
	assert_null(out);
	assert_int_equal(olen, 0);
	assert_string_equal(e.msg, msg);
}

static void
test_round_trip(void **state)
{
	uint8_t *f, *out, *g;
	size_t len, olen, glen;
	struct err e;

	(void)state;
	f = seal(&len, 0); /* default iterations */
	assert_memory_equal(f, "GHBACKUP\x01\x01\x00\x00", 12);
	assert_int_equal((f[12] << 24 | f[13] << 16 | f[14] << 8 | f[15]),
	    BACKUP_ITERATIONS);
	assert_int_equal(backup_open(f, len, PASS, &out, &olen, &e), 0);
	assert_int_equal(olen, sizeof(image));
	assert_memory_equal(out, image, sizeof(image));
	assert_null(memmem(f, len, "pretend", 7)); /* encrypted */
	g = seal(&glen, ITER);
	assert_memory_not_equal(f + 16, g + 16, 28); /* salt and nonce */
	free(out);
	free(f);
	free(g);
}

static void
test_wrong_or_damaged(void **state)
{
	const char *bad = "the backup cannot be decrypted: wrong passphrase "
	                  "or damaged file";
	uint8_t *f;
	size_t len, i;

	(void)state;
	f = seal(&len, ITER);
	expect_refused(f, len, "a good passphrasf", bad);
	/* every byte after the fixed fields is authenticated */
	for (i = 16; i < len; i++) {
		f[i] ^= 0x80;
		expect_refused(f, len, PASS, bad);
		f[i] ^= 0x80;
	}
	expect_refused(f, len - 1, PASS, bad);
	expect_refused(f, BACKUP_HDR_LEN + BACKUP_TAG_LEN - 1, PASS,
	    "not a Gatehouse backup file");
	f[0] = 'X';
	expect_refused(f, len, PASS, "not a Gatehouse backup file");
	f[0] = 'G';
	f[8] = 2;
	expect_refused(f, len, PASS,
	    "backup format version 2 is not one this gatehoused reads (1)");
	f[8] = 1;
	f[9] = 7;
	expect_refused(f, len, PASS, "backup header names an unknown KDF");
	f[9] = 1;
	f[12] = 0xff; /* iterations: a decrypt bomb */
	expect_refused(f, len, PASS,
	    "backup KDF iterations 4278290080 outside 100000..10000000");
	f[12] = 0;
	f[13] = 0; /* 0x000086a0: below the minimum */
	expect_refused(f, len, PASS,
	    "backup KDF iterations 34464 outside 100000..10000000");
	free(f);
}

static void
test_passphrase_length(void **state)
{
	char longpass[BACKUP_PASS_MAX + 2];
	uint8_t *out;
	size_t len;
	struct err e;

	(void)state;
	assert_int_equal(backup_seal(image, sizeof(image), "", ITER, &out, &len,
	                     &e),
	    -1);
	assert_string_equal(e.field, "passphrase");
	assert_string_equal(e.msg, "a passphrase is required");
	assert_int_equal(backup_seal(image, sizeof(image), "1234567", ITER,
	                     &out, &len, &e),
	    -1);
	assert_string_equal(e.msg, "must be 8 to 1024 bytes long (got 7)");
	memset(longpass, 'p', sizeof(longpass) - 1);
	longpass[sizeof(longpass) - 1] = '\0';
	assert_int_equal(backup_pass_check(longpass, &e), -1);
	longpass[BACKUP_PASS_MAX] = '\0';
	assert_int_equal(backup_pass_check(longpass, &e), 0);
	assert_int_equal(backup_pass_check(NULL, &e), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_wrong_or_damaged),
		cmocka_unit_test(test_passphrase_length),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
