/*
 * kek.c: private keys sealed at rest with a key-encryption key (KEK) kept
 * outside the database.
 *
 * The KEK is 32 random bytes, kept as 64 hex digits in a file of its own
 * (--kek, default /etc/gatehouse/kek, mode 0400, made on first start) or
 * read from a systemd credential ($CREDENTIALS_DIRECTORY/gatehouse-kek).
 * It is read once, at start, before the privilege drop, and kept in
 * memory. Every private key in the database is a sealed blob:
 *
 *   "GHK1" | key id (8: SHA-256 of the KEK, first bytes) | nonce (12)
 *   | AES-256-GCM ciphertext | tag (16)
 *
 * with the first 12 bytes as associated data. The key id tells a key
 * sealed under another KEK from a damaged one. Keys stored before this
 * (plain PEM) are sealed on start (kek_seal_all()), with secure_delete on
 * so the freed pages are overwritten.
 */
#include "kek.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "log.h"
#include "store.h"

#define KEK_MAGIC    "GHK1"
#define KEK_KID_LEN  8
#define KEK_HDR_LEN  (4 + KEK_KID_LEN)
#define KEK_NONCE    12
#define KEK_TAG      16
#define KEK_OVERHEAD (KEK_HDR_LEN + KEK_NONCE + KEK_TAG)

struct kek {
	unsigned char key[KEK_LEN];
	unsigned char kid[KEK_KID_LEN];
	bool set;
};

static struct kek cur;

static int
kek_from_hex(const char *s, struct kek *k)
{
	unsigned char kid[32];
	size_t i;
	unsigned v;

	for (i = 0; i < KEK_LEN; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		k->key[i] = (unsigned char)v;
	}
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, k->key, KEK_LEN, kid) != 0)
		return -1;
	memcpy(k->kid, kid, KEK_KID_LEN);
	k->set = true;
	return 0;
}

static int
kek_read(const char *path, struct kek *k, struct err *e)
{
	char buf[160];
	ssize_t n;
	size_t len;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return err_set(e, "kek", "%s: %s", path, strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return err_set(e, "kek", "%s: %s", path, strerror(errno));
	buf[n] = '\0';
	len = strspn(buf, "0123456789abcdefABCDEF");
	if (len != 2 * KEK_LEN || strspn(buf + len, "\r\n") != (size_t)n - len)
		return err_set(e, "kek",
		    "%s: not a key-encryption key (64 hex digits)", path);
	if (kek_from_hex(buf, k) != 0)
		return err_set(e, "kek", "%s: cannot read the key", path);
	gnutls_memset(buf, 0, sizeof(buf));
	return 0;
}

/* Writes a new random KEK to <path> (mode 0400, never over a file). */
static int
kek_create(const char *path, struct kek *k, struct err *e)
{
	unsigned char key[KEK_LEN];
	char hex[2 * KEK_LEN + 2], dir[4096], *slash;
	size_t i;
	int fd;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return err_set(e, "kek", "%s: %s", dir,
			    strerror(errno));
	}
	if (gnutls_rnd(GNUTLS_RND_KEY, key, sizeof(key)) != 0)
		return err_set(e, "kek", "no randomness for a new key");
	for (i = 0; i < KEK_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", key[i]);
	hex[2 * KEK_LEN] = '\n';
	hex[2 * KEK_LEN + 1] = '\0';
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0400);
	if (fd < 0)
		return err_set(e, "kek", "%s: %s", path, strerror(errno));
	if (write(fd, hex, 2 * KEK_LEN + 1) != 2 * KEK_LEN + 1 ||
	    fsync(fd) != 0) {
		close(fd);
		unlink(path);
		return err_set(e, "kek", "%s: write failed", path);
	}
	close(fd);
	kek_from_hex(hex, k);
	gnutls_memset(hex, 0, sizeof(hex));
	gnutls_memset(key, 0, sizeof(key));
	return 0;
}

int
kek_load(const char *path, bool create, struct err *e)
{
	char cred[4096];
	const char *dir;
	struct stat sb;

	if (path == NULL && (dir = getenv("CREDENTIALS_DIRECTORY")) != NULL) {
		snprintf(cred, sizeof(cred), "%s/gatehouse-kek", dir);
		if (stat(cred, &sb) == 0) {
			if (kek_read(cred, &cur, e) != 0)
				return -1;
			log_info("key-encryption key from credential %s", cred);
			return 0;
		}
	}
	if (path == NULL)
		path = KEK_DEF_PATH;
	if (stat(path, &sb) != 0 && errno == ENOENT && create) {
		if (kek_create(path, &cur, e) != 0)
			return -1;
		log_info("new key-encryption key in %s", path);
		return 0;
	}
	if (kek_read(path, &cur, e) != 0)
		return -1;
	if ((sb.st_mode & 0077) != 0)
		log_warnx("%s: the key-encryption key is readable by others "
		          "(mode %03o); chmod 0400",
		    path, (unsigned)(sb.st_mode & 0777));
	return 0;
}

bool
kek_is_sealed(const void *p, size_t n)
{
	return n >= KEK_OVERHEAD && memcmp(p, KEK_MAGIC, 4) == 0;
}

static int
seal_with(const struct kek *k, const void *pt, size_t n, unsigned char **out,
    size_t *outn, struct err *e)
{
	gnutls_aead_cipher_hd_t h;
	gnutls_datum_t kd = { (unsigned char *)(uintptr_t)k->key, KEK_LEN };
	unsigned char *b;
	size_t clen = n + KEK_TAG;

	if (!k->set)
		return err_set(e, "kek", "no key-encryption key");
	if ((b = malloc(KEK_HDR_LEN + KEK_NONCE + clen)) == NULL)
		return err_set(e, "kek", "out of memory");
	memcpy(b, KEK_MAGIC, 4);
	memcpy(b + 4, k->kid, KEK_KID_LEN);
	if (gnutls_rnd(GNUTLS_RND_NONCE, b + KEK_HDR_LEN, KEK_NONCE) != 0 ||
	    gnutls_aead_cipher_init(&h, GNUTLS_CIPHER_AES_256_GCM, &kd) != 0) {
		free(b);
		return err_set(e, "kek", "cannot set up AES-256-GCM");
	}
	if (gnutls_aead_cipher_encrypt(h, b + KEK_HDR_LEN, KEK_NONCE, b,
	        KEK_HDR_LEN, KEK_TAG, pt, n, b + KEK_HDR_LEN + KEK_NONCE,
	        &clen) != 0) {
		gnutls_aead_cipher_deinit(h);
		free(b);
		return err_set(e, "kek", "cannot seal the key");
	}
	gnutls_aead_cipher_deinit(h);
	*out = b;
	*outn = KEK_HDR_LEN + KEK_NONCE + clen;
	return 0;
}

int
kek_seal(const void *pt, size_t n, unsigned char **out, size_t *outn,
    struct err *e)
{
	return seal_with(&cur, pt, n, out, outn, e);
}

static int
open_with(const struct kek *k, const void *blob, size_t n, char **out,
    size_t *outn, struct err *e)
{
	const unsigned char *b = blob;
	gnutls_aead_cipher_hd_t h;
	gnutls_datum_t kd = { (unsigned char *)(uintptr_t)k->key, KEK_LEN };
	size_t plen;
	char *p;

	if (!kek_is_sealed(blob, n)) {
		/* Plain PEM from before keys were sealed. */
		if ((p = malloc(n + 1)) == NULL)
			return err_set(e, "kek", "out of memory");
		memcpy(p, blob, n);
		p[n] = '\0';
		*out = p;
		*outn = n;
		return 0;
	}
	if (!k->set)
		return err_set(e, "kek",
		    "the private key is sealed and no key-encryption key is loaded");
	if (memcmp(b + 4, k->kid, KEK_KID_LEN) != 0)
		return err_set(e, "kek",
		    "the private key is sealed under another key-encryption key");
	plen = n - KEK_OVERHEAD;
	if ((p = malloc(plen + 1)) == NULL)
		return err_set(e, "kek", "out of memory");
	if (gnutls_aead_cipher_init(&h, GNUTLS_CIPHER_AES_256_GCM, &kd) != 0) {
		free(p);
		return err_set(e, "kek", "cannot set up AES-256-GCM");
	}
	if (gnutls_aead_cipher_decrypt(h, b + KEK_HDR_LEN, KEK_NONCE, b,
	        KEK_HDR_LEN, KEK_TAG, b + KEK_HDR_LEN + KEK_NONCE,
	        n - KEK_HDR_LEN - KEK_NONCE, p, &plen) != 0) {
		gnutls_aead_cipher_deinit(h);
		free(p);
		return err_set(e, "kek",
		    "the sealed private key is damaged (authentication failed)");
	}
	gnutls_aead_cipher_deinit(h);
	p[plen] = '\0';
	*out = p;
	*outn = plen;
	return 0;
}

int
kek_open(const void *blob, size_t n, char **out, size_t *outn, struct err *e)
{
	return open_with(&cur, blob, n, out, outn, e);
}

void
kek_wipe_free(char *p, size_t n)
{
	if (p == NULL)
		return;
	gnutls_memset(p, 0, n);
	free(p);
}

/* Every sealed column: certificate keys, ACME account keys and EAB MAC
 * keys, the keys of ACME orders in flight, and the appliance's own
 * secrets (balance_secret.c).
 */
static const struct sealed_col {
	const char *table, *id, *name, *col, *what;
} sealed_cols[] = {
	{ "certificates", "id", "name", "private_key_pem", "certificate" },
	{ "acme_accounts", "id", "name", "key_pem", "ACME account" },
	{ "acme_accounts", "id", "name", "eab_hmac_key",
	    "ACME account (EAB key)" },
	{ "acme_certs", "certificate_id",
	    "(SELECT name FROM certificates WHERE id = certificate_id)",
	    "order_key", "ACME order of certificate" },
	{ "secrets", "id", "name", "value", "appliance secret" },
};

/* Rewrites every sealed value of column <c> with <to>: values open with
 * <from> (or plain), or are left when <to> is NULL (then they are opened
 * into plain PEM, for a backup image). Inside the caller's transaction.
 * The number rewritten, or -1 + <e>.
 */
static int
reseal_col(struct store *st, const struct sealed_col *c, const struct kek *from,
    const struct kek *to, bool only_plain, struct err *e)
{
	struct store_stmt *s, *u;
	const void *blob;
	unsigned char *sealed;
	size_t pn, sn;
	char *pem, name[80], sql[320];
	int64_t id;
	int n, count = 0;

	/* A database without the table (older, or not Gatehouse's: refused
	 * later).
	 */
	s = store_prepare(st,
	    "SELECT count(*) FROM sqlite_master"
	    " WHERE type = 'table' AND name = ?1",
	    e);
	if (s == NULL)
		return -1;
	store_bind_text(s, 1, c->table);
	n = store_step(s, e) == STORE_ROW ? (int)store_col_int64(s, 0) : 0;
	store_finalize(s);
	if (n == 0)
		return 0;
	snprintf(sql, sizeof(sql),
	    "SELECT %s, %s, %s FROM %s WHERE %s IS NOT NULL ORDER BY 1", c->id,
	    c->name, c->col, c->table, c->col);
	if ((s = store_prepare(st, sql, e)) == NULL)
		return -1;
	snprintf(sql, sizeof(sql), "UPDATE %s SET %s = ?2 WHERE %s = ?1",
	    c->table, c->col, c->id);
	while (store_step(s, e) == STORE_ROW) {
		id = store_col_int64(s, 0);
		snprintf(name, sizeof(name), "%s", store_col_text(s, 1));
		blob = store_col_blob(s, 2, &n);
		if (blob == NULL || n <= 0)
			continue;
		if (only_plain && kek_is_sealed(blob, (size_t)n))
			continue;
		if (open_with(from, blob, (size_t)n, &pem, &pn, e) != 0) {
			char why[sizeof(e->msg)];

			snprintf(why, sizeof(why), "%s", e->msg);
			store_finalize(s);
			return err_set(e, "kek", "%s \"%s\": %s", c->what, name,
			    why);
		}
		sealed = NULL;
		sn = pn;
		if (to != NULL &&
		    seal_with(to, pem, pn, &sealed, &sn, e) != 0) {
			kek_wipe_free(pem, pn);
			store_finalize(s);
			return -1;
		}
		u = store_prepare(st, sql, e);
		if (u == NULL) {
			kek_wipe_free(pem, pn);
			free(sealed);
			store_finalize(s);
			return -1;
		}
		store_bind_int64(u, 1, id);
		store_bind_blob(u, 2, to != NULL ? (void *)sealed : (void *)pem,
		    (int)sn);
		if (store_step(u, e) != STORE_DONE) {
			store_finalize(u);
			kek_wipe_free(pem, pn);
			free(sealed);
			store_finalize(s);
			return -1;
		}
		store_finalize(u);
		kek_wipe_free(pem, pn);
		free(sealed);
		count++;
	}
	store_finalize(s);
	return e->msg[0] != '\0' ? -1 : count;
}

/* reseal_col() over every sealed column. */
static int
reseal(struct store *st, const struct kek *from, const struct kek *to,
    bool only_plain, struct err *e)
{
	size_t i;
	int n, count = 0;

	for (i = 0; i < sizeof(sealed_cols) / sizeof(sealed_cols[0]); i++) {
		if ((n = reseal_col(st, &sealed_cols[i], from, to, only_plain,
		         e)) < 0)
			return -1;
		count += n;
	}
	return count;
}

int
kek_seal_all(struct store *st, struct err *e)
{
	int n;

	err_clear(e);
	if (store_exec(st, "PRAGMA secure_delete = ON", e) != 0 ||
	    store_begin(st, e) != 0)
		return -1;
	if ((n = reseal(st, &cur, &cur, true, e)) < 0) {
		store_rollback(st);
		return -1;
	}
	if (store_commit(st, e) != 0)
		return -1;
	if (n > 0) {
		(void)store_exec(st, "PRAGMA wal_checkpoint(TRUNCATE)", e);
		err_clear(e);
		log_info("sealed %d private key%s with the key-encryption key",
		    n, n == 1 ? "" : "s");
	}
	return n;
}

int
kek_unseal_all(struct store *st, struct err *e)
{
	err_clear(e);
	return reseal(st, &cur, NULL, false, e);
}

int
kek_rotate(const char *path, struct store *st, struct err *e)
{
	char tmp[4200];
	struct kek next = { 0 };
	int n;

	if (path == NULL && getenv("CREDENTIALS_DIRECTORY") != NULL)
		return err_set(e, "kek",
		    "a systemd credential is not rotated in place: give --kek FILE (the current key), then install FILE as the credential");
	if (path == NULL)
		path = KEK_DEF_PATH;
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	(void)unlink(tmp);
	if (kek_create(tmp, &next, e) != 0)
		return -1;
	err_clear(e);
	if (store_exec(st, "PRAGMA secure_delete = ON", e) != 0 ||
	    store_begin(st, e) != 0)
		goto fail;
	if ((n = reseal(st, &cur, &next, false, e)) < 0) {
		store_rollback(st);
		goto fail;
	}
	if (store_commit(st, e) != 0)
		goto fail;
	if (rename(tmp, path) != 0) {
		err_set(e, "kek", "%s: %s (the keys are sealed with %s now)",
		    path, strerror(errno), tmp);
		return -1;
	}
	(void)store_exec(st, "PRAGMA wal_checkpoint(TRUNCATE)", e);
	err_clear(e);
	cur = next;
	gnutls_memset(&next, 0, sizeof(next));
	return n;
fail:
	unlink(tmp);
	gnutls_memset(&next, 0, sizeof(next));
	return -1;
}
