/*
 * balance_secret.c: the appliance's secret that signs sticky cookies.
 *
 * A sticky cookie names its server by 16 bytes (32 hex digits):
 *   id  = HMAC-SHA256(K, "gh-sticky-server" 0 origin-id label)[0..8)
 *   mac = HMAC-SHA256(K, "gh-sticky-check" 0 id)[0..8)
 * where origin-id is the origin's row id (8 bytes, big-endian) and label
 * the server's "address:port". Without K nobody can make the value of a
 * server, nor alter one into another: a value whose mac does not check
 * was forged or altered (counted, then ignored); one that checks but
 * names no server of the origin is a server since removed. Both depend
 * only on K and what identifies the server, so they hold across restarts
 * and configuration changes that keep the server.
 *
 * K is 32 random bytes made at the first start and kept in the secrets
 * table (schema 0038) as 64 hex digits, sealed with the key-encryption
 * key (kek.c) like private keys. balance_secret_load() runs in main
 * before the first snapshot is compiled, and again on the admin thread
 * after a restore (api_backup.c) replaced the row, before the restored
 * snapshot is published. A value that does not open (the database moved
 * without its KEK) stops the start, as a private key does; deleting the
 * row makes a new K (the cookies issued before then no longer check).
 *
 * Workers read K while the admin thread may load another: each K is its
 * own allocation, published with one atomic pointer store (release) and
 * read with one load (acquire), so a worker signs with the old K or the
 * new one, never half of each. A K replaced stays allocated (a worker
 * may still be hashing with it), chained to the new one: 40 bytes per
 * restore, for the process's lifetime.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "balance.h"
#include "kek.h"
#include "log.h"
#include "store.h"

#define SECRET_NAME "sticky_cookie"
#define SECRET_LEN  32

struct sticky_key {
	unsigned char k[SECRET_LEN];
	struct sticky_key *prev; /* the one it replaced, kept */
};

/* Before the first load (unit tests): all zero bytes. */
static struct sticky_key sticky_none;
static _Atomic(struct sticky_key *) sticky_cur = &sticky_none;

/* Makes <k> the live secret; the one before stays allocated. */
static void
sticky_publish(struct sticky_key *k)
{
	k->prev = atomic_load_explicit(&sticky_cur, memory_order_relaxed);
	atomic_store_explicit(&sticky_cur, k, memory_order_release);
}

static int
hexdigit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
balance_unhex(const char *p, size_t n, unsigned char *out, size_t outn)
{
	size_t i;
	int hi, lo;

	if (n != outn * 2)
		return -1;
	for (i = 0; i < outn; i++) {
		if ((hi = hexdigit(p[2 * i])) < 0 ||
		    (lo = hexdigit(p[2 * i + 1])) < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

static void
tohex(const unsigned char *p, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* The stored secret opened into <key>: 1 when there is one, 0 when
 * there is none, -1 + <e> (also when it does not open).
 */
static int
secret_read(struct store *st, unsigned char *key, struct err *e)
{
	struct store_stmt *s;
	const void *blob;
	char *plain = NULL;
	size_t pn = 0;
	struct err oe;
	int n, got = 0;
	bool bad;

	s = store_prepare(st, "SELECT value FROM secrets WHERE name = ?1", e);
	if (s == NULL)
		return -1;
	store_bind_text(s, 1, SECRET_NAME);
	if (store_step(s, e) == STORE_ROW &&
	    (blob = store_col_blob(s, 0, &n)) != NULL && n > 0) {
		err_clear(&oe);
		bad = kek_open(blob, (size_t)n, &plain, &pn, &oe) != 0;
		if (!bad && balance_unhex(plain, pn, key, SECRET_LEN) != 0) {
			bad = true;
			snprintf(oe.msg, sizeof(oe.msg), "not 64 hex digits");
		}
		kek_wipe_free(plain, pn);
		if (bad) {
			store_finalize(s);
			return err_set(e, "secrets",
			    "%s (delete its row for a new one)", oe.msg);
		}
		got = 1;
	}
	store_finalize(s);
	return e->msg[0] != '\0' ? -1 : got;
}

int
balance_secret_load(struct store *st, struct err *e)
{
	struct store_stmt *s;
	struct sticky_key *k;
	unsigned char *sealed = NULL;
	size_t sn = 0;
	char hex[2 * SECRET_LEN + 1];
	int r;

	err_clear(e);
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return err_set(e, "", "out of memory");
	if ((r = secret_read(st, k->k, e)) != 0) {
		if (r < 0) {
			gnutls_memset(k->k, 0, SECRET_LEN);
			free(k);
			return -1;
		}
		sticky_publish(k);
		return 0;
	}
	if (gnutls_rnd(GNUTLS_RND_KEY, k->k, SECRET_LEN) != 0) {
		free(k);
		return err_set(e, "", "no random bytes for the sticky secret");
	}
	tohex(k->k, SECRET_LEN, hex);
	r = kek_seal(hex, strlen(hex), &sealed, &sn, e);
	gnutls_memset(hex, 0, sizeof(hex));
	if (r != 0)
		goto fail;
	s = store_prepare(st,
	    "INSERT INTO secrets (name, value) VALUES (?1, ?2)"
	    " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
	    e);
	if (s == NULL)
		goto fail;
	store_bind_text(s, 1, SECRET_NAME);
	store_bind_blob(s, 2, sealed, (int)sn);
	r = store_step(s, e) == STORE_DONE ? 0 : -1;
	store_finalize(s);
	if (r != 0)
		goto fail;
	free(sealed);
	sticky_publish(k);
	log_info("made the sticky cookie secret");
	return 0;
fail:
	free(sealed);
	gnutls_memset(k->k, 0, SECRET_LEN);
	free(k);
	return -1;
}

static void
sticky_mac(const char *what, const void *p, size_t n, unsigned char out[8])
{
	const struct sticky_key *k =
	    atomic_load_explicit(&sticky_cur, memory_order_acquire);
	unsigned char in[96], d[32];
	size_t ln = strlen(what) + 1;

	/* Inputs are short: <what>, 8 bytes and at most 64 more. */
	if (ln + n > sizeof(in))
		n = sizeof(in) - ln;
	memcpy(in, what, ln);
	memcpy(in + ln, p, n);
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, k->k, SECRET_LEN, in, ln + n,
	        d) != 0)
		memset(d, 0, sizeof(d)); /* never: SHA-256 is always there */
	memcpy(out, d, 8);
}

void
balance_sticky_tag(int64_t origin_id, const char *label,
    unsigned char out[BALANCE_STICKY_LEN])
{
	unsigned char in[8 + 64];
	size_t n = strlen(label);
	int i;

	if (n > 64)
		n = 64;
	for (i = 0; i < 8; i++)
		in[i] = (unsigned char)((uint64_t)origin_id >> (56 - 8 * i));
	memcpy(in + 8, label, n);
	sticky_mac("gh-sticky-server", in, 8 + n, out);
	sticky_mac("gh-sticky-check", out, 8, out + 8);
}

bool
balance_sticky_signed(const unsigned char v[BALANCE_STICKY_LEN])
{
	unsigned char mac[8], diff = 0;
	int i;

	sticky_mac("gh-sticky-check", v, 8, mac);
	for (i = 0; i < 8; i++)
		diff |= (unsigned char)(mac[i] ^ v[8 + i]);
	return diff == 0;
}
