/*
 * api_config_certs.c: certificates added by a configuration patch.
 *
 * The configuration document has no certificates (they carry private keys
 * and revisions must not), yet a new site needs its certificate in the
 * same change as the listener that serves it (issue 14: one site, one
 * revision). So PATCH /config, and POST /config/validate with a patch,
 * apply the JSON Patch to the document with an empty "certificates"
 * array, and every item the patch puts there is a certificate to add:
 *
 *   {"op":"add","path":"/certificates/-","value":
 *     {"name":"shop","self_signed":{"names":["shop.test"],"days":90}}}
 *   {"op":"add","path":"/certificates/-","value":
 *     {"name":"site","certificate":"-----BEGIN…","private_key":"-----BEGIN…"}}
 *   {"op":"add","path":"/certificates/-","value":
 *     {"name":"shop","acme":{"names":["shop.test"],"account":"le"}}}
 *
 * An ACME item is what POST /certificates/acme makes (api_acme_certs.c):
 * its self-signed placeholder, and the acme_certs row the ACME thread
 * orders from (held back by its delay_s), in the same transaction.
 * They are checked (and generated) before the transaction, with the
 * document's own errors in the same answer; inside it their rows go in
 * before the document's, so a listener of the same patch can name one as
 * its default_certificate, and the compile loads them with the rest. The
 * revision's document is unchanged by them; its summary names them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "cfg_value.h"
#include "json.h"
#include "x509.h"

#define CC_KEY "certificates"

struct config_cert {
	const char *name; /* borrowed from the items */
	char *cert, *key; /* owned (PEM); key NULL for a CA certificate */
	bool self_signed;
	bool acme;
	struct acme_req q; /* when acme */
	char path[48];     /* "certificates[i]" */
};

struct config_certs {
	struct json *items; /* ref held */
	struct config_cert *v;
	size_t n;
};

void
config_certs_free(struct config_certs *cc)
{
	size_t i;

	if (cc == NULL)
		return;
	for (i = 0; i < cc->n; i++) {
		acme_req_free(&cc->v[i].q);
		free(cc->v[i].cert);
		if (cc->v[i].key != NULL) {
			memset(cc->v[i].key, 0, strlen(cc->v[i].key));
			free(cc->v[i].key);
		}
	}
	free(cc->v);
	json_unref(cc->items);
	free(cc);
}

void
config_certs_prepare(struct json *doc)
{
	json_set(doc, CC_KEY, json_new_arr());
}

/* {"names", "days", "key_type"} of one self-signed item into <c>. */
static void
cc_self_signed(struct config_cert *c, const struct json *ss, struct errs *l)
{
	static const char *const keys[] = { "names", "days", "key_type", NULL };
	const char *names[X509_MAX_NAMES], *kt = NULL;
	struct json *arr = NULL;
	char p[200];
	int64_t days = 90;
	size_t i, n;
	struct err e;

	err_clear(&e);
	snprintf(p, sizeof(p), "%s.self_signed", c->path);
	if (!json_is_obj(ss)) {
		errs_add(l, p, "must be an object: {names, days, key_type}");
		return;
	}
	if (json_check_keys(ss, p, keys, &e) != 0 ||
	    json_get_arr(ss, p, "names", &arr, &e) < 0 ||
	    json_get_int(ss, p, "days", 1, 3650, &days, &e) < 0 ||
	    json_get_str(ss, p, "key_type", &kt, &e) < 0) {
		errs_add(l, e.field, "%s", e.msg);
		return;
	}
	n = arr != NULL ? json_len(arr) : 0;
	snprintf(p, sizeof(p), "%s.self_signed.names", c->path);
	if (n == 0 || n > X509_MAX_NAMES) {
		errs_add(l, p, "must list 1 to %d names", X509_MAX_NAMES);
		return;
	}
	for (i = 0; i < n; i++)
		if ((names[i] = json_str(json_at(arr, i))) == NULL) {
			errs_add(l, p, "[%zu] must be a string", i);
			return;
		}
	if (x509_selfsigned_pem(names, n, (unsigned)days, kt, &c->cert, &c->key,
	        &e) != 0) {
		snprintf(p, sizeof(p), "%s.self_signed%s%s", c->path,
		    e.field[0] ? "." : "", e.field);
		errs_add(l, p, "%s", e.msg);
		return;
	}
	c->self_signed = true;
}

/* {"names", "account", "challenge", "key_type", "delay_s"} of one ACME
 * item into <c>: the request checked, its placeholder made.
 */
static void
cc_acme(struct config_cert *c, const struct json *a, struct errs *l)
{
	static const char *const keys[] = { "names", "account", "challenge",
		"key_type", "delay_s", NULL };
	char p[200];
	struct err e;

	err_clear(&e);
	snprintf(p, sizeof(p), "%s.acme", c->path);
	if (!json_is_obj(a)) {
		errs_add(l, p,
		    "must be an object: {names, account, challenge, "
		    "key_type, delay_s}");
		return;
	}
	if (json_check_keys(a, p, keys, &e) != 0) {
		errs_add(l, e.field, "%s", e.msg);
		return;
	}
	if (acme_req_check(api_store(), a, &c->q, &e) != 0 ||
	    acme_req_placeholder(&c->q, &e) != 0) {
		snprintf(p, sizeof(p), "%s.acme%s%s", c->path,
		    e.field[0] ? "." : "", e.field);
		errs_add(l, p, "%s", e.msg);
		return;
	}
	/* The placeholder's PEM moves to the item; the row is a leaf. */
	c->cert = c->q.cert;
	c->key = c->q.key;
	c->q.cert = c->q.key = NULL;
	c->acme = true;
}

/* {"certificate", "private_key"} of one uploaded item into <c>. */
static void
cc_upload(struct config_cert *c, const struct json *item, struct errs *l)
{
	const char *cert = NULL, *key = NULL;
	struct x509_info *in;
	struct err e;
	char p[200];

	err_clear(&e);
	if (json_get_str(item, c->path, "certificate", &cert, &e) < 0 ||
	    json_get_str(item, c->path, "private_key", &key, &e) < 0) {
		errs_add(l, e.field, "%s", e.msg);
		return;
	}
	if (cert == NULL) {
		snprintf(p, sizeof(p), "%s.certificate", c->path);
		errs_add(l, p,
		    "is required (PEM), or self_signed: {names} to make one");
		return;
	}
	if ((in = calloc(1, sizeof(*in))) == NULL) {
		errs_add(l, c->path, "out of memory");
		return;
	}
	if (x509_check(cert, key, in, &e) != 0) {
		snprintf(p, sizeof(p), "%s.%s", c->path,
		    e.field[0] ? e.field : "certificate");
		errs_add(l, p, "%s", e.msg);
	} else if ((c->cert = strdup(cert)) == NULL ||
	    (key != NULL && (c->key = strdup(key)) == NULL)) {
		errs_add(l, c->path, "out of memory");
	}
	free(in);
}

/* One item: its name, then one of its two shapes. */
static void
cc_item(struct config_cert *c, const struct json *item, struct errs *l,
    const struct config_certs *cc, size_t i)
{
	static const char *const keys[] = { "name", "self_signed", "acme",
		"certificate", "private_key", NULL };
	const struct json *ss, *a;
	char msg[256], p[200];
	struct err e;
	size_t j;

	err_clear(&e);
	json_path_idx(c->path, sizeof(c->path), CC_KEY, i);
	if (!json_is_obj(item)) {
		errs_add(l, c->path, "must be an object");
		return;
	}
	if (json_check_keys(item, c->path, keys, &e) != 0 ||
	    json_get_str(item, c->path, "name", &c->name, &e) < 0) {
		errs_add(l, e.field, "%s", e.msg);
		return;
	}
	snprintf(p, sizeof(p), "%s.name", c->path);
	if (c->name == NULL)
		errs_add(l, p, "is required");
	else if (cv_check(CV_NAME, c->name, msg, sizeof(msg)) != 0)
		errs_add(l, p, "%s", msg);
	for (j = 0; c->name != NULL && j < i; j++)
		if (cc->v[j].name != NULL &&
		    strcmp(cc->v[j].name, c->name) == 0)
			errs_add(l, p, "\"%.64s\" is added twice", c->name);
	ss = json_get(item, "self_signed");
	a = json_get(item, "acme");
	if ((ss != NULL) + (a != NULL) +
	        (json_get(item, "certificate") != NULL ||
	            json_get(item, "private_key") != NULL) >
	    1) {
		errs_add(l, c->path,
		    "self_signed, acme, or certificate and private_key: "
		    "only one");
		return;
	}
	if (ss != NULL) {
		cc_self_signed(c, ss, l);
	} else if (a != NULL) {
		cc_acme(c, a, l);
	} else {
		cc_upload(c, item, l);
	}
}

/* Appends the document's own errors to <l>. */
static void
cc_doc_errors(const struct json *doc, struct errs *l)
{
	struct errs *dl = calloc(1, sizeof(*dl));
	size_t i;

	if (dl == NULL)
		return;
	(void)conf_check_all(doc, dl);
	for (i = 0; i < dl->n && i < ERRS_MAX; i++)
		errs_add(l, dl->v[i].field, "%s", dl->v[i].msg);
	free(dl);
}

int
config_certs_take(struct api_req *r, struct json *doc,
    struct config_certs **out)
{
	struct config_certs *cc;
	struct errs *l;
	struct json *items = json_get(doc, CC_KEY);
	size_t i;

	*out = NULL;
	if (items == NULL || (json_is_arr(items) && json_len(items) == 0)) {
		json_del(doc, CC_KEY);
		return 0;
	}
	if ((cc = calloc(1, sizeof(*cc))) == NULL ||
	    (l = calloc(1, sizeof(*l))) == NULL) {
		free(cc);
		api_reply_problem(r, 503, "out of memory", NULL);
		return -1;
	}
	cc->items = json_ref(items);
	json_del(doc, CC_KEY);
	if (!json_is_arr(cc->items)) {
		errs_add(l, CC_KEY, "must be an array of certificates to add");
	} else if ((cc->v = calloc(json_len(cc->items), sizeof(*cc->v))) ==
	    NULL) {
		errs_add(l, CC_KEY, "out of memory");
	} else {
		for (i = 0; i < json_len(cc->items); i++) {
			cc_item(&cc->v[i], json_at(cc->items, i), l, cc, i);
			cc->n = i + 1;
		}
	}
	if (l->n > 0) {
		cc_doc_errors(doc, l); /* in the same answer */
		api_reply_problems(r, 422, "the configuration is not valid", l);
		free(l);
		config_certs_free(cc);
		return -1;
	}
	free(l);
	*out = cc;
	return 0;
}

size_t
config_certs_count(const struct config_certs *cc)
{
	return cc != NULL ? cc->n : 0;
}

bool
config_certs_acme(const struct config_certs *cc)
{
	size_t i;

	for (i = 0; cc != NULL && i < cc->n; i++)
		if (cc->v[i].acme)
			return true;
	return false;
}

/* The rows, inside the write's transaction (an apply_pre write). */
static int
config_certs_write(struct store *st, void *arg, struct err *e, unsigned *status)
{
	struct config_certs *cc = arg;
	struct cert_row w;
	char p[200];
	size_t i;

	for (i = 0; i < cc->n; i++) {
		memset(&w, 0, sizeof(w));
		w.sql = "INSERT INTO certificates (name, kind, certificate_pem,"
		        " private_key_pem) VALUES (?1, ?2, ?3, ?4)";
		w.name = cc->v[i].name;
		w.kind = cc->v[i].key != NULL ? "leaf" : "ca";
		w.cert = cc->v[i].cert;
		w.key = cc->v[i].key;
		if (cert_store_row(st, &w, e, status) != 0) {
			if (*status == 409) {
				snprintf(p, sizeof(p), "%s.name",
				    cc->v[i].path);
				err_set(e, p,
				    "a certificate named \"%.64s\" "
				    "exists",
				    cc->v[i].name);
			}
			return -1;
		}
		if (cc->v[i].acme &&
		    acme_req_write(st, w.id, &cc->v[i].q, e) != 0) {
			*status = 500;
			return -1;
		}
	}
	return 0;
}

void
config_certs_pre(struct config_certs *cc, struct apply_pre *pre, char *summary,
    size_t len)
{
	const struct config_cert *c;
	struct json *ch, *nv, *a;
	struct err e;
	char path[160];
	size_t i, used;

	memset(pre, 0, sizeof(*pre));
	if (cc == NULL || cc->n == 0)
		return;
	pre->write = config_certs_write;
	pre->arg = cc;
	pre->changes = json_new_arr();
	for (i = 0; i < cc->n; i++) {
		c = &cc->v[i];
		used = strlen(summary);
		if (c->acme)
			snprintf(summary + used, len - used,
			    "%s certificate %s (ACME %s from %s, placeholder "
			    "until issued)",
			    i == 0 ? ";" : ",", c->name, c->q.challenge,
			    c->q.account);
		else
			snprintf(summary + used, len - used,
			    "%s certificate %s (%s)", i == 0 ? ";" : ",",
			    c->name,
			    c->self_signed       ? "self-signed"
			        : c->key != NULL ? "leaf"
			                         : "ca");
		snprintf(path, sizeof(path), "/certificates/%s", c->name);
		nv = json_new_obj();
		json_set(nv, "name", json_new_str(c->name));
		json_set(nv, "kind",
		    json_new_str(c->key != NULL ? "leaf" : "ca"));
		if (c->self_signed)
			json_set(nv, "self_signed", json_new_bool(true));
		if (c->acme) {
			a = json_new_obj();
			json_set(a, "account", json_new_str(c->q.account));
			json_set(a, "challenge", json_new_str(c->q.challenge));
			json_set(a, "names",
			    json_parse(c->q.names_json, strlen(c->q.names_json),
			        &e));
			json_set(nv, "acme", a);
		}
		ch = json_new_obj();
		json_set(ch, "op", json_new_str("add"));
		json_set(ch, "path", json_new_str(path));
		json_set(ch, "new", nv);
		json_append(pre->changes, ch);
	}
}
