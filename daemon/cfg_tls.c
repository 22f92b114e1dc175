/*
 * cfg_tls.c: the TLS part of a snapshot compile.
 *
 * Reads the certificate store, then, from the rows cfg_compile() reads
 * (columns by field, cfg_field.h), the TLS fields of each listener and
 * origin (schema/0003_tls.sql), and builds the
 * GnuTLS credentials through tls.c: one struct tls_server per https
 * listener (every leaf certificate is an SNI candidate), one struct
 * tls_client per TLS origin. The credentials are registered as cleanups
 * of the snapshot's arena, so they live exactly as long as the last
 * connection or request holding the snapshot. A certificate that does not
 * load makes the compile fail, naming the object that uses it: the old
 * snapshot keeps serving.
 */
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "cfg.h"
#include "cfg_field.h"
#include "kek.h"
#include "store.h"
#include "tls.h"

/* Certificates are read in id order: a binary search. */
static const struct cfg_cert *
cert_by_id(const struct cfg *c, int64_t id)
{
	size_t lo = 0, hi = c->ncerts, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (c->certs[mid].id == id)
			return &c->certs[mid];
		if (c->certs[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int
cfg_tls_certs(struct store *st, struct cfg *c, struct err *e)
{
	struct store_stmt *s;
	enum store_step_result r;
	struct cfg_cert *ct;
	const void *key;
	size_t n = 0;
	int klen;
	char *pem;
	size_t plen;

	if ((s = store_prepare(st, "SELECT count(*) FROM certificates", e)) ==
	    NULL)
		return -1;
	if (store_step(s, e) == STORE_ROW)
		n = (size_t)store_col_int64(s, 0);
	store_finalize(s);
	if (n > 0 &&
	    (c->certs = arena_calloc(c->arena, n, sizeof(*c->certs))) == NULL)
		return err_set(e, "", "out of memory");
	s = store_prepare(st,
	    "SELECT id, name, kind, certificate_pem, private_key_pem"
	    " FROM certificates ORDER BY id",
	    e);
	if (s == NULL)
		return -1;
	while ((r = store_step(s, e)) == STORE_ROW && c->ncerts < n) {
		ct = &c->certs[c->ncerts];
		ct->id = store_col_int64(s, 0);
		ct->is_ca = strcmp(store_col_text(s, 2), "ca") == 0;
		if ((ct->name = arena_strdup(c->arena, store_col_text(s, 1))) ==
		        NULL ||
		    (ct->cert_pem = arena_strdup(c->arena,
		         store_col_text(s, 3))) == NULL) {
			r = STORE_ERROR;
			err_set(e, "", "out of memory");
			break;
		}
		if (!store_col_is_null(s, 4) &&
		    (key = store_col_blob(s, 4, &klen)) != NULL && klen > 0) {
			if (kek_open(key, (size_t)klen, &pem, &plen, e) != 0) {
				r = STORE_ERROR;
				char why[sizeof(e->msg)];

				snprintf(why, sizeof(why), "%s", e->msg);
				err_set(e, "", "certificate \"%s\": %s",
				    ct->name, why);
				break;
			}
			ct->key_pem = arena_strndup(c->arena, pem, plen);
			kek_wipe_free(pem, plen);
			if (ct->key_pem == NULL) {
				r = STORE_ERROR;
				err_set(e, "", "out of memory");
				break;
			}
		}
		c->ncerts++;
	}
	store_finalize(s);
	return r == STORE_DONE ? 0 : -1;
}

static int
tls_listener(struct cfg *c, struct cfg_listener *l, int64_t def_id,
    const char *auth, int64_t ca_id, struct err *e)
{
	struct tls_cert_src *src;
	char field[sizeof(((struct err *)0)->field) + 160];
	size_t i, n = 0, def = 0;

	snprintf(field, sizeof(field), "listeners[%s].default_certificate",
	    l->name);
	if (def_id != 0 && (l->default_cert = cert_by_id(c, def_id)) == NULL)
		return err_set(e, field, "no certificate with id %lld",
		    (long long)def_id);
	if (ca_id != 0 && (l->client_ca = cert_by_id(c, ca_id)) == NULL)
		return err_set(e, "",
		    "listeners[%s].client_ca: no certificate with id %lld",
		    l->name, (long long)ca_id);
	l->client_auth = strcmp(auth, "required") == 0
	    ? CFG_CLIENT_AUTH_REQUIRED
	    : strcmp(auth, "optional") == 0 ? CFG_CLIENT_AUTH_OPTIONAL
	                                    : CFG_CLIENT_AUTH_NONE;
	if (l->proto != CFG_PROTO_HTTPS || l->default_cert == NULL)
		return 0; /* the API requires one; nothing to serve without */
	if (l->default_cert->key_pem == NULL)
		return err_set(e, field,
		    "certificate \"%s\" is a CA certificate without a private key",
		    l->default_cert->name);
	if (l->client_auth != CFG_CLIENT_AUTH_NONE && l->client_ca == NULL) {
		snprintf(field, sizeof(field), "listeners[%s].client_ca",
		    l->name);
		return err_set(e, field, "required when client_auth is \"%s\"",
		    auth);
	}
	if ((src = arena_calloc(c->arena, c->ncerts, sizeof(*src))) == NULL)
		return err_set(e, "", "out of memory");
	for (i = 0; i < c->ncerts; i++) {
		if (c->certs[i].key_pem == NULL)
			continue;
		if (&c->certs[i] == l->default_cert)
			def = n;
		src[n].name = c->certs[i].name;
		src[n].cert_pem = c->certs[i].cert_pem;
		src[n].key_pem = c->certs[i].key_pem;
		n++;
	}
	l->tls =
	    tls_server_new(src, n, def, (enum tls_client_auth)l->client_auth,
	        l->client_ca != NULL ? l->client_ca->cert_pem : NULL, e);
	if (l->tls == NULL) {
		char msg[sizeof(e->msg)];

		snprintf(msg, sizeof(msg), "%s", e->msg);
		snprintf(field, sizeof(field), "listeners[%s]", l->name);
		return err_set(e, field, "%s", msg);
	}
	if (arena_cleanup_add(c->arena, tls_server_free, l->tls) != 0) {
		tls_server_free(l->tls);
		l->tls = NULL;
		return err_set(e, "", "out of memory");
	}
	return 0;
}

int
cfg_tls_listener(struct cfg *c, struct cfg_listener *l, struct store_stmt *s,
    struct err *e)
{
	return tls_listener(c, l, store_col_int64(s, LF_DEFAULT_CERTIFICATE),
	    store_col_text(s, LF_CLIENT_AUTH), store_col_int64(s, LF_CLIENT_CA),
	    e);
}

int
cfg_tls_origin(struct cfg *c, struct cfg_origin *o, struct store_stmt *s,
    struct err *e)
{
	char field[sizeof(((struct err *)0)->field) + 160];
	struct err te;

	o->tls_enabled = store_col_int64(s, OF_TLS_ENABLED) != 0;
	o->tls_verify = store_col_int64(s, OF_TLS_VERIFY) != 0;
	if (!store_col_is_null(s, OF_TLS_SNI) &&
	    store_col_text(s, OF_TLS_SNI)[0] != '\0' &&
	    (o->tls_sni = arena_strdup(c->arena,
	         store_col_text(s, OF_TLS_SNI))) == NULL)
		return err_set(e, "", "out of memory");
	if (!store_col_is_null(s, OF_TLS_CA) &&
	    (o->tls_ca = cert_by_id(c, store_col_int64(s, OF_TLS_CA))) == NULL)
		return err_set(e, "", "origins[%s].tls.ca: no such certificate",
		    o->name);
	if (!store_col_is_null(s, OF_TLS_CLIENT_CERTIFICATE) &&
	    (o->tls_client_cert = cert_by_id(c,
	         store_col_int64(s, OF_TLS_CLIENT_CERTIFICATE))) == NULL)
		return err_set(e, "",
		    "origins[%s].tls.client_certificate: no such certificate",
		    o->name);
	if (!o->tls_enabled)
		return 0;
	if (o->tls_client_cert != NULL && o->tls_client_cert->key_pem == NULL) {
		snprintf(field, sizeof(field),
		    "origins[%s].tls.client_certificate", o->name);
		return err_set(e, field,
		    "certificate \"%s\" has no private key",
		    o->tls_client_cert->name);
	}
	err_clear(&te);
	o->tls = tls_client_new(o->tls_ca != NULL ? o->tls_ca->cert_pem : NULL,
	    o->tls_verify, o->tls_sni,
	    o->tls_client_cert != NULL ? o->tls_client_cert->cert_pem : NULL,
	    o->tls_client_cert != NULL ? o->tls_client_cert->key_pem : NULL,
	    &te);
	if (o->tls == NULL) {
		snprintf(field, sizeof(field), "origins[%s]%s%s", o->name,
		    te.field[0] != '\0' ? "." : "", te.field);
		return err_set(e, field, "%s", te.msg);
	}
	if (arena_cleanup_add(c->arena, tls_client_free, o->tls) != 0) {
		tls_client_free(o->tls);
		o->tls = NULL;
		return err_set(e, "", "out of memory");
	}
	return 0;
}
