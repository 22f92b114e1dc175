/*
 * backup.c: sealing and opening backup files (format in backup.h).
 *
 * Key: PBKDF2-HMAC-SHA256(passphrase, 16-byte random salt, iterations)
 * -> 32 bytes. Cipher: AES-256-GCM with a random 96-bit nonce (one key per
 * file, since the salt is fresh), the header as associated data. The key
 * is wiped after use. Iteration counts outside BACKUP_ITER_MIN..MAX are
 * refused before any work, so a crafted header cannot make us spin.
 */
#include "backup.h"

#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#define BACKUP_MAGIC      "GHBACKUP"
#define BACKUP_VERSION    1u
#define BACKUP_KDF_PBKDF2 1u
#define BACKUP_SALT_LEN   16u
#define BACKUP_NONCE_LEN  12u
#define BACKUP_KEY_LEN    32u
/* Largest image sealed or opened (the size field of GnuTLS is fine far
 * beyond, this bounds memory).
 */
#define BACKUP_IMAGE_MAX (1024u * 1024u * 1024u)

int
backup_pass_check(const char *pass, struct err *e)
{
	size_t n = pass != NULL ? strlen(pass) : 0;

	if (n == 0)
		return err_set(e, "passphrase", "a passphrase is required");
	if (n < BACKUP_PASS_MIN || n > BACKUP_PASS_MAX)
		return err_set(e, "passphrase",
		    "must be %u to %u bytes long (got %zu)", BACKUP_PASS_MIN,
		    BACKUP_PASS_MAX, n);
	return 0;
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Derives the key from <pass> and the header's salt and iterations, and
 * opens an AES-256-GCM handle with it. 0 or -1 with <e>.
 */
static int
backup_cipher(const uint8_t *hdr, const char *pass, gnutls_aead_cipher_hd_t *h,
    struct err *e)
{
	uint8_t key[BACKUP_KEY_LEN];
	gnutls_datum_t pd, sd, kd;
	int rc;

	pd.data = (unsigned char *)(uintptr_t)pass;
	pd.size = (unsigned)strlen(pass);
	sd.data = (unsigned char *)(uintptr_t)(hdr + 16);
	sd.size = BACKUP_SALT_LEN;
	rc = gnutls_pbkdf2(GNUTLS_MAC_SHA256, &pd, &sd, get_be32(hdr + 12), key,
	    sizeof(key));
	if (rc < 0) {
		gnutls_memset(key, 0, sizeof(key));
		return err_set(e, "", "key derivation failed: %s",
		    gnutls_strerror(rc));
	}
	kd.data = key;
	kd.size = sizeof(key);
	rc = gnutls_aead_cipher_init(h, GNUTLS_CIPHER_AES_256_GCM, &kd);
	gnutls_memset(key, 0, sizeof(key));
	if (rc < 0)
		return err_set(e, "", "AES-256-GCM unavailable: %s",
		    gnutls_strerror(rc));
	return 0;
}

int
backup_seal(const void *plain, size_t len, const char *pass,
    uint32_t iterations, uint8_t **out, size_t *outlen, struct err *e)
{
	gnutls_aead_cipher_hd_t h;
	uint8_t *buf;
	size_t clen;
	int rc;

	*out = NULL;
	*outlen = 0;
	if (backup_pass_check(pass, e) != 0)
		return -1;
	if (len > BACKUP_IMAGE_MAX)
		return err_set(e, "", "database too large to back up");
	if (iterations == 0)
		iterations = BACKUP_ITERATIONS;
	if ((buf = malloc(BACKUP_HDR_LEN + len + BACKUP_TAG_LEN)) == NULL)
		return err_set(e, "", "out of memory");
	memcpy(buf, BACKUP_MAGIC, 8);
	buf[8] = BACKUP_VERSION;
	buf[9] = BACKUP_KDF_PBKDF2;
	buf[10] = buf[11] = 0;
	put_be32(buf + 12, iterations);
	if (gnutls_rnd(GNUTLS_RND_KEY, buf + 16,
	        BACKUP_SALT_LEN + BACKUP_NONCE_LEN) != 0) {
		free(buf);
		return err_set(e, "", "no random bytes");
	}
	if (backup_cipher(buf, pass, &h, e) != 0) {
		free(buf);
		return -1;
	}
	clen = len + BACKUP_TAG_LEN;
	rc = gnutls_aead_cipher_encrypt(h, buf + 32, BACKUP_NONCE_LEN, buf,
	    BACKUP_HDR_LEN, BACKUP_TAG_LEN, plain, len, buf + BACKUP_HDR_LEN,
	    &clen);
	gnutls_aead_cipher_deinit(h);
	if (rc < 0 || clen != len + BACKUP_TAG_LEN) {
		free(buf);
		return err_set(e, "", "encryption failed: %s",
		    gnutls_strerror(rc));
	}
	*out = buf;
	*outlen = BACKUP_HDR_LEN + clen;
	return 0;
}

/* Checks the fixed header fields. 0 or -1 with <e>. */
static int
backup_header_check(const uint8_t *p, size_t len, struct err *e)
{
	uint32_t iter;

	if (len < BACKUP_HDR_LEN + BACKUP_TAG_LEN ||
	    memcmp(p, BACKUP_MAGIC, 8) != 0)
		return err_set(e, "", "not a Gatehouse backup file");
	if (p[8] != BACKUP_VERSION)
		return err_set(e, "",
		    "backup format version %u is not one this gatehoused "
		    "reads (%u)",
		    p[8], BACKUP_VERSION);
	if (p[9] != BACKUP_KDF_PBKDF2 || p[10] != 0 || p[11] != 0)
		return err_set(e, "", "backup header names an unknown KDF");
	iter = get_be32(p + 12);
	if (iter < BACKUP_ITER_MIN || iter > BACKUP_ITER_MAX)
		return err_set(e, "", "backup KDF iterations %u outside %u..%u",
		    iter, BACKUP_ITER_MIN, BACKUP_ITER_MAX);
	if (len - BACKUP_HDR_LEN - BACKUP_TAG_LEN > BACKUP_IMAGE_MAX)
		return err_set(e, "", "backup too large");
	return 0;
}

int
backup_open(const void *file, size_t len, const char *pass, uint8_t **out,
    size_t *outlen, struct err *e)
{
	const uint8_t *p = file;
	gnutls_aead_cipher_hd_t h;
	uint8_t *buf;
	size_t plen;
	int rc;

	*out = NULL;
	*outlen = 0;
	if (backup_pass_check(pass, e) != 0)
		return -1;
	if (backup_header_check(p, len, e) != 0)
		return -1;
	plen = len - BACKUP_HDR_LEN - BACKUP_TAG_LEN;
	/* One spare byte: GnuTLS wants room even for an empty image. */
	if ((buf = malloc(plen + 1)) == NULL)
		return err_set(e, "", "out of memory");
	if (backup_cipher(p, pass, &h, e) != 0) {
		free(buf);
		return -1;
	}
	rc = gnutls_aead_cipher_decrypt(h, p + 32, BACKUP_NONCE_LEN, p,
	    BACKUP_HDR_LEN, BACKUP_TAG_LEN, p + BACKUP_HDR_LEN,
	    len - BACKUP_HDR_LEN, buf, &plen);
	gnutls_aead_cipher_deinit(h);
	if (rc < 0) {
		free(buf);
		return err_set(e, "",
		    "the backup cannot be decrypted: wrong passphrase or "
		    "damaged file");
	}
	*out = buf;
	*outlen = plen;
	return 0;
}
