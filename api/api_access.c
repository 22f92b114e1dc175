/*
 * api_access.c: access list users' passwords, hashed on write.
 *
 * A user's "password" is hashed with argon2id (parameters lighter than
 * the admin users': a worker verifies it, once per password and worker,
 * access.c) and stored as password_hash; "password_hash" stores an
 * imported hash as given; a user with neither keeps the hash its row has.
 * Neither is ever returned: "password_tag" (a digest of the hash) shows
 * that a password changed, so the write is a change and a revision.
 */
#include <sys/random.h>

#include <argon2.h>
#include <stdio.h>
#include <string.h>

#include "api_int.h"
#include "cfg_field.h"
#include "json.h"
#include "store.h"
#include "x509.h"

/* 2 passes over 4 MiB: a few milliseconds per verification. */
#define ACCESS_T_COST   2
#define ACCESS_M_COST   4096
#define ACCESS_HASH_LEN 128

static int
hash_password(const char *pw, char *out, size_t len)
{
	unsigned char salt[16];

	if (getrandom(salt, sizeof(salt), 0) != (ssize_t)sizeof(salt))
		return -1;
	return argon2id_hash_encoded(ACCESS_T_COST, ACCESS_M_COST, 1, pw,
	           strlen(pw), salt, sizeof(salt), 32, out, len) == ARGON2_OK
	    ? 0
	    : -1;
}

int
access_user_bind(struct store *st, struct store_stmt *s,
    const struct json *user, int64_t id, const char *path, struct err *e)
{
	const char *pw = json_str(json_get(user, "password"));
	const char *ph = json_str(json_get(user, "password_hash"));
	char hash[1100], hex[65], p[160];
	struct store_stmt *q;
	int rc;

	hash[0] = '\0';
	if (pw != NULL) {
		if (hash_password(pw, hash, ACCESS_HASH_LEN) != 0)
			return err_set(e, "",
			    "out of memory hashing a password");
	} else if (ph != NULL) {
		snprintf(hash, sizeof(hash), "%s", ph);
	} else if (id > 0) {
		q = store_prepare(st,
		    "SELECT password_hash FROM access_list_users WHERE id = ?1",
		    e);
		if (q == NULL)
			return -1;
		store_bind_int64(q, 1, id);
		if (store_step(q, e) == STORE_ROW)
			snprintf(hash, sizeof(hash), "%s",
			    store_col_text(q, 0));
		store_finalize(q);
	}
	if (hash[0] == '\0') {
		json_path_key(p, sizeof(p), path, "password");
		return err_set(e, p, "is required for a new user");
	}
	if (x509_sha256_hex(hash, strlen(hash), hex) != 0)
		return err_set(e, "", "cannot digest a password hash");
	hex[16] = '\0';
	rc = store_bind_text(s, AUF_PASSWORD_HASH + 1, hash);
	if (rc == 0)
		rc = store_bind_text(s, AUF_PASSWORD_TAG + 1, hex);
	explicit_bzero(hash, sizeof(hash));
	return rc;
}
