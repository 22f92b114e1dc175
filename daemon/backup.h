/*
 * backup.h: the encrypted backup file (backup.c, a GnuTLS user like
 * x509.c and tls.c).
 *
 * A backup is a SQLite database image sealed with a passphrase:
 *
 *   offset size
 *   0      8    magic "GHBACKUP"
 *   8      1    format version (1)
 *   9      1    KDF (1 = PBKDF2-HMAC-SHA256)
 *   10     2    reserved, zero
 *   12     4    KDF iterations, big endian
 *   16     16   salt (random)
 *   32     12   AES-GCM nonce (random)
 *   44     n    AES-256-GCM ciphertext of the image
 *   44+n   16   GCM tag
 *
 * The 44-byte header is the GCM associated data, so changing any byte of
 * the file (header, ciphertext or tag) makes backup_open() refuse it, as
 * does a wrong passphrase; the two cannot be told apart by design.
 */
#ifndef GH_BACKUP_H
#define GH_BACKUP_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define BACKUP_HDR_LEN    44u
#define BACKUP_TAG_LEN    16u
#define BACKUP_ITERATIONS 600000u   /* PBKDF2-SHA256, OWASP 2023 */
#define BACKUP_ITER_MIN   100000u   /* refused below: a weakened file */
#define BACKUP_ITER_MAX   10000000u /* refused above: a decrypt bomb */
#define BACKUP_PASS_MIN   8u        /* shortest passphrase accepted */
#define BACKUP_PASS_MAX   1024u

/* Checks a passphrase's length (BACKUP_PASS_MIN..MAX bytes). 0 or -1. */
int backup_pass_check(const char *pass, struct err *e);

/* Seals <len> bytes of <plain> with <pass> using <iterations> (0 means
 * BACKUP_ITERATIONS). On success *out (malloc'd) holds the file and
 * *outlen its length. 0 or -1 with <e>.
 */
int backup_seal(const void *plain, size_t len, const char *pass,
    uint32_t iterations, uint8_t **out, size_t *outlen, struct err *e);

/* Opens a sealed file: checks the header, derives the key, decrypts and
 * authenticates. On success *out (malloc'd) holds the image. 0, or -1 with
 * <e> ("not a Gatehouse backup", "wrong passphrase or damaged file", ...).
 */
int backup_open(const void *file, size_t len, const char *pass, uint8_t **out,
    size_t *outlen, struct err *e);

#endif
