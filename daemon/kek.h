/*
 * kek.h: private keys sealed at rest with a key-encryption key kept
 * outside the database (kek.c). The KEK is loaded once, by main, before
 * the privilege drop; sealing and opening are then safe from any thread.
 */
#ifndef GH_KEK_H
#define GH_KEK_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

struct store;

#define KEK_LEN      32
#define KEK_DEF_PATH "/etc/gatehouse/kek"

/* Loads the KEK from <path> (NULL: $CREDENTIALS_DIRECTORY/gatehouse-kek
 * when that exists, else KEK_DEF_PATH), creating it (mode 0400) when
 * missing and <create>. 0 or -1 + <e>.
 */
int kek_load(const char *path, bool create, struct err *e);
/* True when <p> is a sealed key (not plain PEM). */
bool kek_is_sealed(const void *p, size_t n);
/* Seals <n> bytes into a new blob <*out> (free()). 0 or -1 + <e>. */
int kek_seal(const void *pt, size_t n, unsigned char **out, size_t *outn,
    struct err *e);
/* Opens a sealed blob (or copies plain PEM) into a new NUL-terminated
 * <*out>; free it with kek_wipe_free(). 0 or -1 + <e>.
 */
int kek_open(const void *blob, size_t n, char **out, size_t *outn,
    struct err *e);
void kek_wipe_free(char *p, size_t n);
/* Seals every plain private key in the database (one transaction, with
 * secure_delete on). The number sealed, or -1 + <e> (a key sealed under
 * another KEK names its certificate).
 */
int kek_seal_all(struct store *st, struct err *e);
/* Opens every sealed key into plain PEM inside the caller's transaction
 * (for a backup image, itself encrypted). The number, or -1 + <e>.
 */
int kek_unseal_all(struct store *st, struct err *e);
/* gatehoused --rotate-kek: a new KEK at <path>.new, every key re-sealed
 * with it in one transaction, then renamed over <path>. The number of
 * keys, or -1 + <e>.
 */
int kek_rotate(const char *path, struct store *st, struct err *e);

#endif
