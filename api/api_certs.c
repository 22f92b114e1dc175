/*
 * api_certs.c: /api/v1/certificates and /api/v1/posture.
 *
 * Certificates live in their own table, outside the configuration
 * document: a leaf (PEM chain and private key, served by https listeners
 * by SNI, or presented to origins) or a CA (no key: verifies origins and
 * client certificates). Every write checks the PEM through the X.509 shim
 * (x509_check(): 422 naming the problem, nothing stored), then stores it
 * through cert_store.c, the pipeline of configuration writes (a revision
 * without key material, compile, COMMIT, publish). New handshakes
 * use the new snapshot; open connections keep the one they started with.
 * The private key column is never read here except to store it.
 *
 * /posture reads the configuration document and says, per route, whether
 * the client->proxy and proxy->origin legs are encrypted and whether a
 * cleartext leg leaves the host.
 */
#include <arpa/inet.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_int.h"
#include "cfg.h"
#include "cfg_value.h"
#include "json.h"
#include "log.h"
#include "store.h"
#include "x509.h"

static const char cert_cols[] = "id, name, kind, certificate_pem";

/* "listeners/tls", "origins/web" using certificate <id>. */
static struct json *
cert_used_by(struct store *st, int64_t id)
{
	static const char sql[] =
	    "SELECT 'listeners/' || name FROM listeners"
	    " WHERE default_certificate_id = ?1 OR client_ca_id = ?1"
	    " UNION ALL SELECT 'origins/' || name FROM origins"
	    " WHERE tls_ca_id = ?1 OR tls_client_certificate_id = ?1";
	struct json *arr = json_new_arr();
	struct store_stmt *s;
	struct err e;

	if ((s = store_prepare(st, sql, &e)) == NULL)
		return arr;
	store_bind_int64(s, 1, id);
	while (store_step(s, &e) == STORE_ROW)
		json_append(arr, json_new_str(store_col_text(s, 0)));
	store_finalize(s);
	return arr;
}

/* The API view of one row (columns: cert_cols). Never the key. */
static struct json *
cert_json(struct store *st, struct store_stmt *s)
{
	struct x509_info *in;
	struct json *o = json_new_obj(), *sans, *acme;
	struct err e;
	char t[40];
	size_t i;

	json_set(o, "id", json_new_int(store_col_int64(s, 0)));
	json_set(o, "name", json_new_str(store_col_text(s, 1)));
	json_set(o, "kind", json_new_str(store_col_text(s, 2)));
	if ((in = calloc(1, sizeof(*in))) == NULL)
		return o;
	if (x509_check(store_col_text(s, 3), NULL, in, &e) == 0) {
		json_set(o, "subject", json_new_str(in->subject));
		sans = json_new_arr();
		for (i = 0; i < in->nsans; i++)
			json_append(sans, json_new_str(in->sans[i]));
		json_set(o, "sans", sans);
		json_set(o, "issuer", json_new_str(in->issuer));
		cert_iso_time(in->not_before, t, sizeof(t));
		json_set(o, "not_before", json_new_str(t));
		cert_iso_time(in->not_after, t, sizeof(t));
		json_set(o, "not_after", json_new_str(t));
		json_set(o, "fingerprint_sha256",
		    json_new_str(in->fingerprint));
		json_set(o, "key_type", json_new_str(in->key_type));
		json_set(o, "is_ca", json_new_bool(in->is_ca));
		json_set(o, "chain_length", json_new_int((int64_t)in->nchain));
		json_set(o, "expired",
		    json_new_bool(in->not_after < (int64_t)time(NULL)));
		if (in->not_after < (int64_t)time(NULL)) {
			char w[96];

			cert_iso_time(in->not_after, t, sizeof(t));
			snprintf(w, sizeof(w), "the certificate expired on %s",
			    t);
			json_set(o, "warning", json_new_str(w));
		}
	} else {
		json_set(o, "warning", json_new_str(e.msg));
	}
	free(in);
	json_set(o, "used_by", cert_used_by(st, store_col_int64(s, 0)));
	if ((acme = acme_cert_json(st, store_col_int64(s, 0))) != NULL)
		json_set(o, "acme", acme);
	return o;
}

/* The row named or numbered <key> as JSON, or NULL. */
static struct json *
cert_find(struct store *st, const char *key, int64_t *id)
{
	char sql[160];
	struct store_stmt *s;
	struct json *o = NULL;
	struct err e;

	snprintf(sql, sizeof(sql),
	    "SELECT %s FROM certificates WHERE name = ?1 OR"
	    " (CAST(?1 AS INTEGER) = id AND ?1 GLOB '[0-9]*')",
	    cert_cols);
	if ((s = store_prepare(st, sql, &e)) == NULL)
		return NULL;
	store_bind_text(s, 1, key);
	if (store_step(s, &e) == STORE_ROW) {
		if (id != NULL)
			*id = store_col_int64(s, 0);
		o = cert_json(st, s);
	}
	store_finalize(s);
	return o;
}

void
certs_list(struct api_req *r)
{
	struct store *st = api_store();
	struct json *arr = json_new_arr();
	struct store_stmt *s;
	char sql[96];
	struct err e;

	snprintf(sql, sizeof(sql), "SELECT %s FROM certificates ORDER BY id",
	    cert_cols);
	if ((s = store_prepare(st, sql, &e)) == NULL) {
		json_unref(arr);
		api_reply_problem(r, 500, e.msg, NULL);
		return;
	}
	while (store_step(s, &e) == STORE_ROW)
		json_append(arr, cert_json(st, s));
	store_finalize(s);
	api_reply_json(r, 200, arr);
}

void
certs_get(struct api_req *r)
{
	struct json *o = cert_find(api_store(), r->param, NULL);
	char detail[160];

	if (o == NULL) {
		snprintf(detail, sizeof(detail), "no certificate \"%.100s\"",
		    r->param);
		api_reply_problem(r, 404, detail, NULL);
		return;
	}
	api_reply_json(r, 200, o);
}

/* Certificate names: the CV_NAME value type of every configuration
 * object (cfg_value.h).
 */
static int
cert_name_check(const char *n, struct err *e)
{
	char msg[256];

	if (n == NULL)
		return err_set(e, "name", "is required");
	if (cv_check(CV_NAME, n, msg, sizeof(msg)) != 0)
		return err_set(e, "name", "%s", msg);
	return 0;
}

static int
cert_write(struct store *st, void *arg, struct err *e, unsigned *status)
{
	return cert_store_row(st, arg, e, status);
}

/* Writes <w> through the live-apply pipeline and answers <status> with
 * the certificate named w->name (or 204).
 */
static void
cert_apply(struct api_req *r, struct cert_row *w, const char *summary,
    unsigned status)
{
	struct json *o;
	unsigned fail;
	struct err e;

	if (cert_store_apply(r, api_store(), true, summary, cert_write, w, &e,
	        &fail) < 0) {
		cert_store_reply_error(r, fail, &e);
		return;
	}
	if (status == 204 ||
	    (o = cert_find(api_store(), w->name, NULL)) == NULL) {
		api_reply_empty(r, 204);
		return;
	}
	api_reply_json(r, status, o);
}

/* Reads {certificate, private_key} (and name unless <name>): 0, or -1
 * after answering.
 */
static int
cert_body(struct api_req *r, struct json *j, bool with_name, const char **name,
    const char **cert, const char **key, struct x509_info *in)
{
	static const char *const keys[] = { "name", "certificate",
		"private_key", NULL };
	struct err e;
	int rc;

	err_clear(&e);
	*key = NULL;
	if (json_check_keys(j, "", keys, &e) != 0 ||
	    (with_name && json_get_str(j, "", "name", name, &e) < 0) ||
	    (rc = json_get_str(j, "", "certificate", cert, &e)) < 0 ||
	    json_get_str(j, "", "private_key", key, &e) < 0) {
		api_reply_problem(r, 422, "the certificate was refused", &e);
		return -1;
	}
	if (with_name && cert_name_check(*name, &e) != 0) {
		api_reply_problem(r, 422, "the certificate was refused", &e);
		return -1;
	}
	if (rc == 0) {
		err_set(&e, "certificate", "is required (PEM)");
		api_reply_problem(r, 422, "the certificate was refused", &e);
		return -1;
	}
	if (x509_check(*cert, *key, in, &e) != 0) {
		api_reply_problem(r, 422, "the certificate was refused", &e);
		return -1;
	}
	return 0;
}

void
certs_create(struct api_req *r)
{
	struct json *j;
	struct x509_info *in;
	struct cert_row w = { 0 };
	char summary[128];

	if ((j = api_req_json(r)) == NULL)
		return;
	if ((in = calloc(1, sizeof(*in))) == NULL) {
		json_unref(j);
		api_reply_problem(r, 503, "out of memory", NULL);
		return;
	}
	if (cert_body(r, j, true, &w.name, &w.cert, &w.key, in) == 0) {
		w.kind = w.key != NULL ? "leaf" : "ca";
		w.sql = "INSERT INTO certificates (name, kind, certificate_pem,"
		        " private_key_pem) VALUES (?1, ?2, ?3, ?4)";
		snprintf(summary, sizeof(summary), "certificates: add %s (%s)",
		    w.name, w.kind);
		cert_apply(r, &w, summary, 201);
	}
	free(in);
	json_unref(j);
}

void
certs_put(struct api_req *r)
{
	struct json *j, *old;
	struct x509_info *in;
	struct cert_row w = { 0 };
	char summary[128], detail[160];
	const char *ignored = NULL, *oldkind;

	if ((old = cert_find(api_store(), r->param, &w.id)) == NULL) {
		snprintf(detail, sizeof(detail), "no certificate \"%.100s\"",
		    r->param);
		api_reply_problem(r, 404, detail, NULL);
		return;
	}
	if ((j = api_req_json(r)) == NULL) {
		json_unref(old);
		return;
	}
	if ((in = calloc(1, sizeof(*in))) == NULL) {
		json_unref(j);
		json_unref(old);
		api_reply_problem(r, 503, "out of memory", NULL);
		return;
	}
	w.name = json_str(json_get(old, "name"));
	oldkind = json_str(json_get(old, "kind"));
	if (cert_body(r, j, false, &ignored, &w.cert, &w.key, in) == 0) {
		const char *newname = json_str(json_get(j, "name"));

		if (newname != NULL && strcmp(newname, w.name) != 0) {
			struct err e;

			err_set(&e, "name", "cannot be changed");
			api_reply_problem(r, 422, "the certificate was refused",
			    &e);
		} else {
			w.kind = w.key != NULL ? "leaf" : "ca";
			w.sql = "UPDATE certificates SET kind = ?2,"
			        " certificate_pem = ?3, private_key_pem = ?4"
			        " WHERE id = ?5 AND ?1 IS NOT NULL";
			snprintf(summary, sizeof(summary),
			    "certificates: replace %s (%s, was %s)", w.name,
			    w.kind, oldkind != NULL ? oldkind : "?");
			cert_apply(r, &w, summary, 200);
		}
	}
	free(in);
	json_unref(j);
	json_unref(old);
}

void
certs_delete(struct api_req *r)
{
	struct json *old, *used;
	struct cert_row w = { 0 };
	char summary[128], detail[400], *list;

	if ((old = cert_find(api_store(), r->param, &w.id)) == NULL) {
		snprintf(detail, sizeof(detail), "no certificate \"%.100s\"",
		    r->param);
		api_reply_problem(r, 404, detail, NULL);
		return;
	}
	used = json_get(old, "used_by");
	if (json_len(used) > 0) {
		list = json_dump(used, NULL);
		snprintf(detail, sizeof(detail),
		    "certificate \"%s\" is used by %s",
		    json_str(json_get(old, "name")), list != NULL ? list : "?");
		free(list);
		json_unref(old);
		api_reply_problem(r, 409, detail, NULL);
		return;
	}
	w.name = json_str(json_get(old, "name"));
	w.sql = "DELETE FROM certificates WHERE id = ?5 AND ?1 IS NOT NULL"
	        " AND (?2 IS NULL OR 1) AND (?3 IS NULL OR 1)"
	        " AND (?4 IS NULL OR 1)";
	snprintf(summary, sizeof(summary), "certificates: delete %s", w.name);
	cert_apply(r, &w, summary, 204);
	json_unref(old);
}

void
certs_selfsigned(struct api_req *r)
{
	static const char *const keys[] = { "name", "names", "days", "key_type",
		NULL };
	const char *names[X509_MAX_NAMES], *kt = NULL;
	struct json *j, *arr = NULL;
	struct cert_row w = { 0 };
	char *cert = NULL, *key = NULL, summary[128];
	struct err e;
	int64_t days = 90;
	size_t i, n;
	int rc;

	if ((j = api_req_json(r)) == NULL)
		return;
	err_clear(&e);
	if (json_check_keys(j, "", keys, &e) != 0 ||
	    json_get_str(j, "", "name", &w.name, &e) < 0 ||
	    (rc = json_get_arr(j, "", "names", &arr, &e)) < 0 ||
	    json_get_int(j, "", "days", 1, 3650, &days, &e) < 0 ||
	    json_get_str(j, "", "key_type", &kt, &e) < 0)
		goto refuse;
	if (cert_name_check(w.name, &e) != 0)
		goto refuse;
	n = arr != NULL ? json_len(arr) : 0;
	if (n == 0 || n > X509_MAX_NAMES) {
		err_set(&e, "names", "must list 1 to %d names", X509_MAX_NAMES);
		goto refuse;
	}
	for (i = 0; i < n; i++)
		if ((names[i] = json_str(json_at(arr, i))) == NULL) {
			err_set(&e, "names", "[%zu] must be a string", i);
			goto refuse;
		}
	if (x509_selfsigned_pem(names, n, (unsigned)days, kt, &cert, &key,
	        &e) != 0)
		goto refuse;
	w.kind = "leaf";
	w.cert = cert;
	w.key = key;
	w.sql = "INSERT INTO certificates (name, kind, certificate_pem,"
	        " private_key_pem) VALUES (?1, ?2, ?3, ?4)";
	snprintf(summary, sizeof(summary), "certificates: add %s (self-signed)",
	    w.name);
	cert_apply(r, &w, summary, 201);
	free(cert);
	if (key != NULL) {
		memset(key, 0, strlen(key));
		free(key);
	}
	json_unref(j);
	return;
refuse:
	api_reply_problem(r, 422, "the certificate was refused", &e);
	json_unref(j);
}

/* ---- posture ---- */

static bool
addr_is_loopback(const char *a)
{
	unsigned char b[16];

	if (a == NULL)
		return false;
	if (inet_pton(AF_INET, a, b) == 1)
		return b[0] == 127;
	if (inet_pton(AF_INET6, a, b) == 1) {
		static const unsigned char lo6[16] = { [15] = 1 };
		static const unsigned char
		    v4m[12] = { [10] = 0xff, [11] = 0xff };

		return memcmp(b, lo6, 16) == 0 ||
		    (memcmp(b, v4m, 12) == 0 && b[12] == 127);
	}
	return false;
}

static struct json *
find_named(const struct json *arr, const char *name)
{
	size_t i;
	const char *n;

	for (i = 0; i < json_len(arr); i++)
		if ((n = json_str(json_get(json_at(arr, i), "name"))) != NULL &&
		    name != NULL && strcmp(n, name) == 0)
			return json_at(arr, i);
	return NULL;
}

/* The names of the listeners of the route item <rt>, as an array. */
static struct json *
route_listener_names(const struct json *rt)
{
	struct json *a = json_get(rt, "listeners");

	if (json_is_arr(a))
		return json_ref(a);
	a = json_new_arr();
	if (json_str(json_get(rt, "listener")) != NULL)
		json_append(a, json_ref(json_get(rt, "listener")));
	return a;
}

void
posture_get(struct api_req *r)
{
	struct json *doc, *out, *routes, *plain, *rt, *l, *o, *srv, *p, *off;
	struct json *names;
	const char *proto;
	struct err e;
	bool cenc, oenc, leaves, pass, lpass, lenc, lplain;
	size_t i, j;

	err_clear(&e);
	if ((doc = conf_load(api_store(), &e)) == NULL) {
		api_reply_problem(r, 500, e.msg, NULL);
		return;
	}
	out = json_new_obj();
	routes = json_new_arr();
	plain = json_new_arr();
	for (i = 0; i < json_len(json_get(doc, "routes")); i++) {
		rt = json_at(json_get(doc, "routes"), i);
		o = find_named(json_get(doc, "origins"),
		    json_str(json_get(rt, "origin")));
		names = route_listener_names(rt);
		/* Several listeners: encrypted when each one is (an http
		 * listener that only redirects to https counts as one).
		 */
		pass = cenc = json_len(names) > 0;
		lplain = false;
		for (j = 0; j < json_len(names); j++) {
			l = find_named(json_get(doc, "listeners"),
			    json_str(json_at(names, j)));
			proto = json_str(json_get(l, "protocol"));
			lpass = proto != NULL &&
			    strcmp(proto, "tls-passthrough") == 0;
			/* L4: an https route with match.sni passes TLS
			 * through too.
			 */
			lpass = lpass ||
			    (proto != NULL && strcmp(proto, "https") == 0 &&
			        json_len(json_get(json_get(rt, "match"),
			            "sni")) > 0);
			lenc = lpass ||
			    (proto != NULL && strcmp(proto, "https") == 0) ||
			    (json_len(names) > 1 && proto != NULL &&
			        strcmp(proto, "http") == 0 &&
			        json_bool(json_get(rt, "redirect_https")));
			pass = pass && lpass;
			cenc = cenc && lenc;
			if (!lenc &&
			    !addr_is_loopback(json_str(json_get(l, "address"))))
				lplain = true;
		}
		oenc =
		    pass || json_bool(json_get(json_get(o, "tls"), "enabled"));
		off = json_new_arr();
		for (j = 0; !oenc && j < json_len(json_get(o, "servers"));
		     j++) {
			srv = json_at(json_get(o, "servers"), j);
			if (!addr_is_loopback(json_str(json_get(srv,
			        "address"))))
				json_append(off,
				    json_new_str(json_str(json_get(srv,
				        "address"))));
		}
		leaves = json_len(off) > 0 || lplain;
		p = json_new_obj();
		json_set(p, "route", json_ref(json_get(rt, "name")));
		json_set(p, "listener", json_ref(json_at(names, 0)));
		json_set(p, "listeners", names);
		json_set(p, "origin", json_ref(json_get(rt, "origin")));
		json_set(p, "client_to_proxy",
		    json_new_str(pass ? "passthrough"
		            : cenc    ? "encrypted"
		                      : "plaintext"));
		json_set(p, "proxy_to_origin",
		    json_new_str(pass ? "passthrough"
		            : oenc    ? "encrypted"
		                      : "plaintext"));
		json_set(p, "client_encrypted", json_new_bool(cenc));
		json_set(p, "origin_encrypted", json_new_bool(oenc));
		json_set(p, "origin_verified",
		    json_new_bool(oenc && !pass &&
		        json_bool(json_get(json_get(o, "tls"), "verify"))));
		json_set(p, "cleartext_leaves_host", json_new_bool(leaves));
		json_set(p, "plaintext_servers_off_host", json_ref(off));
		json_append(routes, p);
		if (json_len(off) > 0)
			json_append(plain, json_ref(json_get(rt, "name")));
		json_unref(off);
	}
	json_set(out, "routes", routes);
	json_set(out, "plaintext_off_host", plain);
	json_unref(doc);
	api_reply_json(r, 200, out);
}
