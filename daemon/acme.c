/*
 * acme.c: the ACME client thread (acme.h).
 *
 * One job at a time, most overdue first. A certificate job goes:
 * directory, account (registered once, key kept), order (resumed when
 * one is recorded, else placed and recorded), each pending authorization
 * answered with the chosen challenge (provisioned in acme_chal.c before
 * the CA is told to validate, withdrawn after), finalize with a CSR of
 * the order's key, poll, download the chain, store it (a revision, live
 * at once). Every failure becomes a problem document: the CA's own
 * (type, detail, status) with the step, the failing challenge and what
 * the CA saw, or ours (type "about:blank", the transport error).
 */
#include "acme.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>

#include "acme_ari.h"
#include "acme_chal.h"
#include "acme_crypto.h"
#include "acme_http.h"
#include "json.h"
#include "log.h"
#include "stats.h"

#define ACME_POLL_TRIES 90 /* ~1 s apart: authorization and order polls */
#define ACME_IDLE_S     600

static struct {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool started, stop, kicked;
} acme = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

/* One session with a CA: its directory, the account key, a nonce. */
struct sess {
	struct acme_job *j;
	char ca_file[64];
	char new_nonce[512], new_account[512], new_order[512];
	char renewal_info[512]; /* RFC 9773, "" when not offered */
	char nonce[256];
	struct acme_key *key;
	char thumb[64];
	char kid[1024];
	/* The failure, once known. */
	struct json *problem;
	long retry_after;
};

int64_t
acme_backoff(int64_t attempts)
{
	const char *env = getenv("GATEHOUSE_ACME_RETRY_S");
	int64_t base = env != NULL ? strtoll(env, NULL, 10) : 60, d;

	if (base < 1)
		base = 1;
	if (attempts < 1)
		attempts = 1;
	d = base << (attempts > 12 ? 11 : attempts - 1);
	return d > 6 * 3600 ? 6 * 3600 : d;
}

void
acme_job_free(struct acme_job *j)
{
	free(j->directory);
	free(j->directory_ca);
	free(j->email);
	free(j->eab_kid);
	acme_pem_free(j->eab_hmac_key);
	acme_pem_free(j->account_key);
	free(j->account_url);
	free(j->names);
	free(j->order_url);
	acme_pem_free(j->order_key);
	free(j->ari_id);
	memset(j, 0, sizeof(*j));
}

/* Records our own problem (no CA document): "<step>: <detail>". */
static int
fail(struct sess *s, const char *step, const char *fmt, ...)
{
	char detail[512];
	va_list ap;

	if (s->problem != NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	s->problem = json_new_obj();
	json_set(s->problem, "type", json_new_str("about:blank"));
	json_set(s->problem, "detail", json_new_str(detail));
	json_set(s->problem, "step", json_new_str(step));
	return -1;
}

/* Records the CA's problem document <doc> (a reference is taken). */
static int
fail_doc(struct sess *s, const char *step, struct json *doc, long status)
{
	if (s->problem != NULL)
		return -1;
	s->problem = json_is_obj(doc) ? json_clone(doc) : json_new_obj();
	if (json_get(s->problem, "type") == NULL)
		json_set(s->problem, "type", json_new_str("about:blank"));
	if (json_get(s->problem, "status") == NULL && status > 0)
		json_set(s->problem, "status", json_new_int(status));
	json_set(s->problem, "step", json_new_str(step));
	return -1;
}

static struct json *
resp_json(const struct acme_resp *r)
{
	struct err e;

	if (r->body == NULL)
		return NULL;
	return json_parse(r->body, r->len, &e);
}

static int
get_nonce(struct sess *s)
{
	struct acme_resp r;
	struct err e;

	if (acme_http("HEAD", s->new_nonce, s->ca_file[0] ? s->ca_file : NULL,
	        NULL, &r, &e) != 0)
		return fail(s, "newNonce", "%s", e.msg);
	acme_resp_free(&r);
	if (r.nonce[0] == '\0')
		return fail(s, "newNonce", "no Replay-Nonce (HTTP %ld)",
		    r.status);
	snprintf(s->nonce, sizeof(s->nonce), "%s", r.nonce);
	return 0;
}

/* POST <payload> (NULL: POST-as-GET) to <url>, signed with the account
 * key (kid, or jwk while registering); retries a badNonce. On an error
 * status records the CA's problem and returns -1; <out> is filled on 0.
 */
static int
post(struct sess *s, const char *step, const char *url, const char *payload,
    struct acme_resp *out)
{
	char prot[2048], jwk[256];
	struct json *doc;
	struct err e;
	char *jws;
	int tries, n;

	for (tries = 0; tries < 3; tries++) {
		if (s->nonce[0] == '\0' && get_nonce(s) != 0)
			return -1;
		if (s->kid[0] != '\0') {
			n = snprintf(prot, sizeof(prot),
			    "{\"alg\":\"ES256\",\"kid\":\"%s\",\"nonce\":\"%s\","
			    "\"url\":\"%s\"}",
			    s->kid, s->nonce, url);
		} else {
			if (acme_key_jwk(s->key, jwk, sizeof(jwk)) != 0)
				return fail(s, step, "cannot export the JWK");
			n = snprintf(prot, sizeof(prot),
			    "{\"alg\":\"ES256\",\"jwk\":%s,\"nonce\":\"%s\","
			    "\"url\":\"%s\"}",
			    jwk, s->nonce, url);
		}
		if (n < 0 || (size_t)n >= sizeof(prot))
			return fail(s, step, "URL too long");
		s->nonce[0] = '\0';
		if ((jws = acme_jws(s->key, prot, payload, &e)) == NULL)
			return fail(s, step, "%s", e.msg);
		n = acme_http("POST", url, s->ca_file[0] ? s->ca_file : NULL,
		    jws, out, &e);
		free(jws);
		if (n != 0)
			return fail(s, step, "%s", e.msg);
		snprintf(s->nonce, sizeof(s->nonce), "%s", out->nonce);
		if (out->status < 400)
			return 0;
		doc = resp_json(out);
		if (out->status == 400 && doc != NULL &&
		    json_str(json_get(doc, "type")) != NULL &&
		    strcmp(json_str(json_get(doc, "type")),
		        "urn:ietf:params:acme:error:badNonce") == 0 &&
		    tries < 2) {
			json_unref(doc);
			acme_resp_free(out);
			continue;
		}
		s->retry_after = out->retry_after;
		fail_doc(s, step, doc, out->status);
		json_unref(doc);
		acme_resp_free(out);
		return -1;
	}
	return -1;
}

/* POST and parse: a new JSON reference, or NULL (problem recorded). */
static struct json *
post_json(struct sess *s, const char *step, const char *url,
    const char *payload, char *location, size_t loclen)
{
	struct acme_resp r;
	struct json *j;

	if (post(s, step, url, payload, &r) != 0)
		return NULL;
	if (location != NULL)
		snprintf(location, loclen, "%s", r.location);
	j = resp_json(&r);
	acme_resp_free(&r);
	if (j == NULL)
		fail(s, step, "the CA's answer is not JSON");
	return j;
}

static int
directory(struct sess *s)
{
	struct acme_resp r;
	struct json *d;
	struct err e;
	const char *nn, *na, *no;

	if (acme_http("GET", s->j->directory, s->ca_file[0] ? s->ca_file : NULL,
	        NULL, &r, &e) != 0)
		return fail(s, "directory", "%s", e.msg);
	d = resp_json(&r);
	acme_resp_free(&r);
	if (r.status != 200 || d == NULL) {
		json_unref(d);
		return fail(s, "directory", "HTTP %ld from %s", r.status,
		    s->j->directory);
	}
	nn = json_str(json_get(d, "newNonce"));
	na = json_str(json_get(d, "newAccount"));
	no = json_str(json_get(d, "newOrder"));
	if (nn == NULL || na == NULL || no == NULL) {
		json_unref(d);
		return fail(s, "directory", "not an ACME directory: %s",
		    s->j->directory);
	}
	snprintf(s->new_nonce, sizeof(s->new_nonce), "%s", nn);
	snprintf(s->new_account, sizeof(s->new_account), "%s", na);
	snprintf(s->new_order, sizeof(s->new_order), "%s", no);
	snprintf(s->renewal_info, sizeof(s->renewal_info), "%s",
	    json_str(json_get(d, "renewalInfo")) != NULL
	        ? json_str(json_get(d, "renewalInfo"))
	        : "");
	json_unref(d);
	return 0;
}

static int
eab_binding(struct sess *s, struct json *payload)
{
	unsigned char mac[256];
	char prot[1024], jwk[256], *jws;
	struct json *b;
	struct err e;
	int n;

	if ((n = acme_b64url_dec(s->j->eab_hmac_key, mac, sizeof(mac))) <= 0)
		return fail(s, "newAccount", "eab.hmac_key is not base64url");
	if (acme_key_jwk(s->key, jwk, sizeof(jwk)) != 0)
		return fail(s, "newAccount", "cannot export the JWK");
	snprintf(prot, sizeof(prot),
	    "{\"alg\":\"HS256\",\"kid\":\"%s\",\"url\":\"%s\"}", s->j->eab_kid,
	    s->new_account);
	jws = acme_jws_hs256(mac, (size_t)n, prot, jwk, &e);
	memset(mac, 0, sizeof(mac));
	if (jws == NULL)
		return fail(s, "newAccount", "%s", e.msg);
	b = json_parse(jws, strlen(jws), &e);
	free(jws);
	if (b == NULL)
		return fail(s, "newAccount", "EAB: %s", e.msg);
	json_set(payload, "externalAccountBinding", b);
	return 0;
}

/* Loads or makes the account key and registers the account when it has
 * no URL yet.
 */
static int
account(struct sess *s)
{
	struct acme_job *j = s->j;
	struct json *p, *a, *contact;
	struct err e;
	char loc[1024], mail[300], *text;

	if (j->account_key != NULL &&
	    (s->key = acme_key_load(j->account_key, &e)) == NULL) {
		log_warnx("acme: account %s: its key cannot be read (%s); a "
		          "new key and registration",
		    j->account, e.msg);
		acme_pem_free(j->account_key);
		j->account_key = NULL;
		free(j->account_url);
		j->account_url = NULL;
	}
	if (j->account_key == NULL) {
		if (acme_key_generate(&j->account_key, &e) != 0 ||
		    acme_db_account_key(j->account_id, j->account_key, &e) != 0)
			return fail(s, "newAccount", "%s", e.msg);
		if ((s->key = acme_key_load(j->account_key, &e)) == NULL)
			return fail(s, "newAccount", "%s", e.msg);
		free(j->account_url);
		j->account_url = NULL;
	}
	if (acme_key_thumbprint(s->key, s->thumb) != 0)
		return fail(s, "newAccount", "cannot compute the thumbprint");
	if (j->account_url != NULL) {
		snprintf(s->kid, sizeof(s->kid), "%s", j->account_url);
		return 0;
	}
	p = json_new_obj();
	json_set(p, "termsOfServiceAgreed", json_new_bool(j->terms_agreed));
	if (j->email != NULL && j->email[0] != '\0') {
		contact = json_new_arr();
		snprintf(mail, sizeof(mail), "mailto:%s", j->email);
		json_append(contact, json_new_str(mail));
		json_set(p, "contact", contact);
	}
	if (j->eab_kid != NULL && j->eab_hmac_key != NULL &&
	    eab_binding(s, p) != 0) {
		json_unref(p);
		return -1;
	}
	text = json_dump(p, NULL);
	json_unref(p);
	a = text != NULL
	    ? post_json(s, "newAccount", s->new_account, text, loc, sizeof(loc))
	    : NULL;
	free(text);
	if (a == NULL)
		return -1;
	json_unref(a);
	if (loc[0] == '\0')
		return fail(s, "newAccount", "no account URL (Location)");
	snprintf(s->kid, sizeof(s->kid), "%s", loc);
	j->account_url = strdup(loc);
	if (acme_db_account_done(j->account_id, loc, NULL, &e) != 0)
		return fail(s, "newAccount", "%s", e.msg);
	log_info("acme: account %s registered at %s", j->account, loc);
	return 0;
}

static struct json *
find_challenge(struct json *authz, const char *type)
{
	struct json *cs = json_get(authz, "challenges");
	const char *t;
	size_t i;

	for (i = 0; i < json_len(cs); i++) {
		t = json_str(json_get(json_at(cs, i), "type"));
		if (t != NULL && strcmp(t, type) == 0)
			return json_at(cs, i);
	}
	return NULL;
}

/* The challenge's failure, or the authorization's: the CA's problem with
 * which identifier, challenge and what it saw.
 */
static int
challenge_failed(struct sess *s, struct json *authz, const char *ident)
{
	struct json *ch = find_challenge(authz, s->j->challenge), *c;
	struct json *err = ch != NULL ? json_get(ch, "error") : NULL;

	fail_doc(s, "challenge", err, 0);
	if (err == NULL)
		json_set(s->problem, "detail",
		    json_new_str("the authorization is invalid"));
	c = json_new_obj();
	json_set(c, "type", json_new_str(s->j->challenge));
	if (ch != NULL) {
		json_set(c, "url", json_ref(json_get(ch, "url")));
		json_set(c, "token", json_ref(json_get(ch, "token")));
		json_set(c, "status", json_ref(json_get(ch, "status")));
		if (json_get(ch, "validationRecord") != NULL)
			json_set(c, "seen",
			    json_ref(json_get(ch, "validationRecord")));
	}
	json_set(s->problem, "challenge", c);
	json_set(s->problem, "identifier", json_new_str(ident));
	return -1;
}

static bool
stopping(void)
{
	bool r;

	pthread_mutex_lock(&acme.mu);
	r = acme.stop;
	pthread_mutex_unlock(&acme.mu);
	return r;
}

/* Waits <s> seconds (1..10) unless the daemon stops: then records that
 * and returns -1.
 */
static int
pause_s(struct sess *sess, long s)
{
	struct timespec ts;
	bool stop;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += s < 1 ? 1 : s > 10 ? 10 : s;
	pthread_mutex_lock(&acme.mu);
	if (!acme.stop)
		pthread_cond_timedwait(&acme.cv, &acme.mu, &ts);
	stop = acme.stop;
	pthread_mutex_unlock(&acme.mu);
	if (stop)
		return fail(sess, "shutdown", "the daemon is stopping");
	return 0;
}

/* Answers one authorization. */
static int
authorize(struct sess *s, const char *url)
{
	struct json *a, *ch;
	struct err e;
	const char *st, *token, *curl, *ident;
	char keyauth[512], id[256];
	int i, rc = -1;
	bool http;

	if ((a = post_json(s, "authorization", url, NULL, NULL, 0)) == NULL)
		return -1;
	st = json_str(json_get(a, "status"));
	ident = json_str(json_get(json_get(a, "identifier"), "value"));
	snprintf(id, sizeof(id), "%s", ident != NULL ? ident : "?");
	if (st != NULL && strcmp(st, "valid") == 0) {
		json_unref(a);
		return 0;
	}
	if (st == NULL || strcmp(st, "pending") != 0) {
		rc = challenge_failed(s, a, id);
		json_unref(a);
		return rc;
	}
	http = strcmp(s->j->challenge, "http-01") == 0;
	if ((ch = find_challenge(a, s->j->challenge)) == NULL ||
	    (token = json_str(json_get(ch, "token"))) == NULL ||
	    (curl = json_str(json_get(ch, "url"))) == NULL) {
		json_unref(a);
		return fail(s, "authorization",
		    "the CA offers no %s challenge for %s", s->j->challenge,
		    id);
	}
	snprintf(keyauth, sizeof(keyauth), "%s.%s", token, s->thumb);
	if ((http ? acme_chal_http_add(token, keyauth, &e)
	          : acme_chal_alpn_add(id, keyauth, &e)) != 0) {
		json_unref(a);
		return fail(s, "challenge", "%s", e.msg);
	}
	log_info("acme: %s: answering %s for %s", s->j->cert, s->j->challenge,
	    id);
	json_unref(post_json(s, "challenge", curl, "{}", NULL, 0));
	for (i = 0; s->problem == NULL && i < ACME_POLL_TRIES; i++) {
		struct json *b;

		if (pause_s(s, 1) != 0)
			break;
		if ((b = post_json(s, "authorization", url, NULL, NULL, 0)) ==
		    NULL)
			break;
		st = json_str(json_get(b, "status"));
		if (st != NULL && strcmp(st, "valid") == 0) {
			json_unref(b);
			rc = 0;
			break;
		}
		if (st != NULL && strcmp(st, "pending") != 0 &&
		    strcmp(st, "processing") != 0) {
			challenge_failed(s, b, id);
			json_unref(b);
			break;
		}
		json_unref(b);
	}
	if (rc != 0 && s->problem == NULL)
		fail(s, "challenge", "%s for %s still pending after %d s",
		    s->j->challenge, id, ACME_POLL_TRIES);
	if (http)
		acme_chal_http_del(token);
	else
		acme_chal_alpn_del(id);
	json_unref(a);
	return rc;
}

/* The names of the certificate as a C array into <v> (at most 32). */
static size_t
names_of(struct json *arr, const char **v)
{
	size_t i, n = 0;

	for (i = 0; i < json_len(arr) && n < 32; i++)
		if (json_str(json_at(arr, i)) != NULL)
			v[n++] = json_str(json_at(arr, i));
	return n;
}

static struct json *
order_post(struct sess *s, struct json *names, bool replaces, char *url,
    size_t urllen)
{
	struct json *p = json_new_obj(), *ids = json_new_arr(), *id, *o;
	char *text;
	size_t i;

	for (i = 0; i < json_len(names); i++) {
		id = json_new_obj();
		json_set(id, "type", json_new_str("dns"));
		json_set(id, "value", json_ref(json_at(names, i)));
		json_append(ids, id);
	}
	json_set(p, "identifiers", ids);
	/* RFC 9773 section 5: a renewal names the certificate it replaces,
	 * to a CA that offers renewal information.
	 */
	if (replaces)
		json_set(p, "replaces", json_new_str(s->j->ari_id));
	text = json_dump(p, NULL);
	json_unref(p);
	o = text != NULL
	    ? post_json(s, "newOrder", s->new_order, text, url, urllen)
	    : NULL;
	free(text);
	return o;
}

static struct json *
new_order(struct sess *s, struct json *names, char *url, size_t urllen)
{
	bool replaces = s->renewal_info[0] != '\0' && s->j->ari_id != NULL;
	const char *type;
	struct json *o;
	struct err e;

	o = order_post(s, names, replaces, url, urllen);
	type = json_str(json_get(s->problem, "type"));
	if (o == NULL && replaces && type != NULL &&
	    strcmp(type, "urn:ietf:params:acme:error:alreadyReplaced") == 0) {
		/* Replaced by an order this client lost track of: a plain
		 * order then.
		 */
		log_info("acme: %s: the CA says %s was already replaced; "
		         "ordering without \"replaces\"",
		    s->j->cert, s->j->ari_id);
		json_unref(s->problem);
		s->problem = NULL;
		o = order_post(s, names, false, url, urllen);
	}
	if (o != NULL && url[0] == '\0') {
		json_unref(o);
		fail(s, "newOrder", "no order URL (Location)");
		return NULL;
	}
	if (o != NULL && acme_db_order(s->j->cert_id, NULL, url, &e) != 0) {
		json_unref(o);
		fail(s, "newOrder", "%s", e.msg);
		return NULL;
	}
	if (o != NULL)
		log_info("acme: %s: order %s", s->j->cert, url);
	return o;
}

static int
download(struct sess *s, const char *url, char **chain)
{
	struct acme_resp r;

	if (post(s, "certificate", url, NULL, &r) != 0)
		return -1;
	if (r.body == NULL ||
	    strstr(r.body, "-----BEGIN CERTIFICATE") == NULL) {
		acme_resp_free(&r);
		return fail(s, "certificate", "the answer is not a PEM chain");
	}
	*chain = r.body;
	return 0;
}

static int
certificate(struct sess *s)
{
	struct acme_job *j = s->j;
	struct json *names, *o = NULL, *authz;
	struct err e;
	const char *v[32], *st;
	char url[1024], *csr = NULL, *chain = NULL, *text;
	size_t i, n;
	int tries, rc = -1;

	if ((names = json_parse(j->names, strlen(j->names), &e)) == NULL ||
	    (n = names_of(names, v)) == 0) {
		json_unref(names);
		return fail(s, "order", "no names");
	}
	if (j->order_key == NULL) {
		if (acme_key_generate(&j->order_key, &e) != 0 ||
		    acme_db_order(j->cert_id, j->order_key, NULL, &e) != 0) {
			json_unref(names);
			return fail(s, "order", "%s", e.msg);
		}
		free(j->order_url);
		j->order_url = NULL;
	}
	url[0] = '\0';
	if (j->order_url != NULL) {
		snprintf(url, sizeof(url), "%s", j->order_url);
		o = post_json(s, "order", url, NULL, NULL, 0);
		st = json_str(json_get(o, "status"));
		if (o == NULL || st == NULL || strcmp(st, "invalid") == 0) {
			log_info("acme: %s: order %s cannot be resumed; a new "
			         "one",
			    j->cert, url);
			json_unref(o);
			o = NULL;
			json_unref(s->problem);
			s->problem = NULL;
			url[0] = '\0';
		} else {
			log_info("acme: %s: resuming order %s (%s)", j->cert,
			    url, st);
		}
	}
	if (o == NULL && (o = new_order(s, names, url, sizeof(url))) == NULL)
		goto done;
	for (tries = 0; tries < ACME_POLL_TRIES; tries++) {
		st = json_str(json_get(o, "status"));
		if (st == NULL) {
			fail(s, "order", "the order has no status");
			goto done;
		}
		if (strcmp(st, "pending") == 0) {
			authz = json_get(o, "authorizations");
			for (i = 0; i < json_len(authz); i++)
				if (json_str(json_at(authz, i)) == NULL ||
				    authorize(s, json_str(json_at(authz, i))) !=
				        0)
					goto done;
		} else if (strcmp(st, "ready") == 0) {
			if (csr == NULL &&
			    (csr = acme_csr(j->order_key, v, n, &e)) == NULL) {
				fail(s, "finalize", "%s", e.msg);
				goto done;
			}
			if ((text = malloc(strlen(csr) + 16)) == NULL)
				goto done;
			sprintf(text, "{\"csr\":\"%s\"}", csr);
			json_unref(post_json(s, "finalize",
			    json_str(json_get(o, "finalize")), text, NULL, 0));
			free(text);
			if (s->problem != NULL)
				goto done;
		} else if (strcmp(st, "valid") == 0) {
			if (json_str(json_get(o, "certificate")) == NULL) {
				fail(s, "order",
				    "a valid order without a "
				    "certificate URL");
				goto done;
			}
			if (download(s, json_str(json_get(o, "certificate")),
			        &chain) != 0)
				goto done;
			if (acme_db_cert_issued(j->cert_id, chain, j->order_key,
			        &e) != 0) {
				fail(s, "store", "%s", e.msg);
				goto done;
			}
			rc = 0;
			goto done;
		} else if (strcmp(st, "processing") != 0) {
			fail_doc(s, "order", json_get(o, "error"), 0);
			if (json_get(s->problem, "detail") == NULL)
				json_set(s->problem, "detail",
				    json_new_str("the order is invalid"));
			goto done;
		} else if (pause_s(s, 1) != 0) {
			goto done;
		}
		json_unref(o);
		if ((o = post_json(s, "order", url, NULL, NULL, 0)) == NULL)
			goto done;
	}
	fail(s, "order", "the order did not complete");
done:
	free(chain);
	free(csr);
	json_unref(o);
	json_unref(names);
	return rc;
}

/* RFC 9773: asks the CA for the renewal window of a valid certificate
 * and records it (acme_db_ari()). Never a failure of the certificate:
 * when the CA offers no renewalInfo, or its answer is unusable, the
 * renewal stays where it was (two thirds of the lifetime, or the last
 * window) and the question is asked again later.
 */
static void
ari_poll(struct sess *s, int dir_rc)
{
	struct acme_job *j = s->j;
	struct acme_resp r = { 0 };
	int64_t now = (int64_t)time(NULL), start = 0, end = 0, renew;
	uint64_t rnd = 0;
	char url[1024], why[600];
	struct err e;
	size_t n;

	if (dir_rc != 0) {
		snprintf(why, sizeof(why), "renewal information not asked: %s",
		    json_str(json_get(s->problem, "detail")) != NULL
		        ? json_str(json_get(s->problem, "detail"))
		        : "the directory failed");
		goto later;
	}
	if (s->renewal_info[0] == '\0') {
		if (acme_db_ari(j->cert_id, 0, 0, 0, 0, &e) != 0)
			log_warnx("acme: %s: %s", j->cert, e.msg);
		else
			log_info("acme: %s: the CA offers no renewal "
			         "information; renewal at two thirds of the "
			         "lifetime",
			    j->cert);
		return;
	}
	n = strlen(s->renewal_info);
	snprintf(url, sizeof(url), "%s%s%s", s->renewal_info,
	    n > 0 && s->renewal_info[n - 1] == '/' ? "" : "/", j->ari_id);
	if (acme_http("GET", url, s->ca_file[0] ? s->ca_file : NULL, NULL, &r,
	        &e) != 0) {
		snprintf(why, sizeof(why), "renewalInfo: %s", e.msg);
		goto later;
	}
	if (r.status != 200) {
		snprintf(why, sizeof(why), "renewalInfo: HTTP %ld from %.400s",
		    r.status, url);
		goto later;
	}
	if (acme_ari_parse(r.body, r.len, &start, &end, &e) != 0) {
		snprintf(why, sizeof(why), "renewalInfo: %s", e.msg);
		goto later;
	}
	if (gnutls_rnd(GNUTLS_RND_NONCE, &rnd, sizeof(rnd)) != 0)
		rnd = (uint64_t)now * 2654435761u;
	renew = acme_ari_choose(start, end, now, rnd);
	if (acme_db_ari(j->cert_id, start, end, renew,
	        acme_ari_recheck(now, r.retry_after), &e) != 0)
		log_warnx("acme: %s: %s", j->cert, e.msg);
	else
		log_info("acme: %s: the CA's renewal window is %" PRId64
		         " .. %" PRId64 " (renewal inside it)",
		    j->cert, start, end);
	acme_resp_free(&r);
	return;
later:
	/* Keep the window, ask again after Retry-After or an hour; the
	 * line is logged once that is recorded.
	 */
	stats_inc(STAT_ACME_ARI_FAILED);
	if (acme_db_ari(j->cert_id, -1, -1, 0,
	        acme_ari_recheck(now, r.retry_after > 0 ? r.retry_after : 3600),
	        &e) != 0)
		log_warnx("acme: %s: %s", j->cert, e.msg);
	log_warnx("acme: %s: %s", j->cert, why);
	acme_resp_free(&r);
	json_unref(s->problem);
	s->problem = NULL;
}

static int
sess_ca_file(struct sess *s)
{
	const char *tmp = getenv("TMPDIR");
	size_t n;
	int fd;

	if (s->j->directory_ca == NULL || s->j->directory_ca[0] == '\0')
		return 0;
	snprintf(s->ca_file, sizeof(s->ca_file), "%s/gh-acme-ca-XXXXXX",
	    tmp != NULL && strlen(tmp) < 40 ? tmp : "/tmp");
	if ((fd = mkstemp(s->ca_file)) < 0) {
		s->ca_file[0] = '\0';
		return fail(s, "directory", "cannot write the directory CA");
	}
	n = strlen(s->j->directory_ca);
	if (write(fd, s->j->directory_ca, n) != (ssize_t)n) {
		close(fd);
		unlink(s->ca_file);
		s->ca_file[0] = '\0';
		return fail(s, "directory", "cannot write the directory CA");
	}
	close(fd);
	return 0;
}

static void
run_job(struct acme_job *j)
{
	struct sess s;
	struct err e;
	const char *type;
	char *text;
	int rc;

	memset(&s, 0, sizeof(s));
	s.j = j;
	rc = sess_ca_file(&s);
	if (rc == 0)
		rc = directory(&s);
	if (j->ari_only) {
		ari_poll(&s, rc);
		if (s.ca_file[0] != '\0')
			unlink(s.ca_file);
		return;
	}
	if (rc == 0)
		rc = account(&s);
	if (rc == 0 && j->is_cert)
		rc = certificate(&s);
	if (s.ca_file[0] != '\0')
		unlink(s.ca_file);
	acme_key_free(s.key);
	if (rc == 0) {
		if (j->is_cert)
			log_info("acme: %s: certificate issued and live",
			    j->cert);
		return;
	}
	if (stopping()) {
		/* The order (URL and key) is recorded: the next start
		 * resumes it.
		 */
		log_info("acme: stopping in the middle of a job; it resumes "
		         "at the next start");
		json_unref(s.problem);
		return;
	}
	if (s.problem == NULL)
		fail(&s, "acme", "failed");
	text = json_dump(s.problem, NULL);
	type = json_str(json_get(s.problem, "type"));
	if (type != NULL &&
	    strcmp(type, "urn:ietf:params:acme:error:accountDoesNotExist") ==
	        0) {
		/* The CA forgot the account (a test CA restarted, or the
		 * account was deactivated): register again next time.
		 */
		log_warnx("acme: account %s: the CA does not know it any "
		          "more; registering again",
		    j->account);
		if (acme_db_account_reset(j->account_id, &e) != 0)
			log_warnx("acme: account %s: %s", j->account, e.msg);
	}
	if (j->is_cert) {
		log_warnx("acme: %s: %s failed (attempt %" PRId64 "): %s",
		    j->cert, json_str(json_get(s.problem, "step")),
		    j->attempts + 1, text != NULL ? text : "?");
		if (acme_db_cert_failed(j->cert_id, text, s.retry_after, &e) !=
		    0)
			log_warnx("acme: %s: %s", j->cert, e.msg);
	} else {
		log_warnx("acme: account %s: registration failed: %s",
		    j->account, text != NULL ? text : "?");
		if (acme_db_account_done(j->account_id, NULL, text, &e) != 0)
			log_warnx("acme: account %s: %s", j->account, e.msg);
	}
	free(text);
	json_unref(s.problem);
}

static void *
acme_main(void *arg)
{
	struct acme_job j;
	struct timespec ts;
	struct err e;
	time_t next, now;
	int r;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&acme.mu);
		acme.kicked = false;
		pthread_mutex_unlock(&acme.mu);
		memset(&j, 0, sizeof(j));
		next = 0;
		if ((r = acme_db_next(&j, &next, &e)) < 0)
			log_warnx("acme: %s", e.msg);
		if (r == 1) {
			run_job(&j);
			acme_job_free(&j);
		}
		acme_chal_gc(false);
		pthread_mutex_lock(&acme.mu);
		if (acme.stop) {
			pthread_mutex_unlock(&acme.mu);
			break;
		}
		if (r != 1 && !acme.kicked) {
			now = time(NULL);
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += next == 0 || next - now > ACME_IDLE_S
			    ? ACME_IDLE_S
			    : next > now ? next - now
			                 : 1;
			pthread_cond_timedwait(&acme.cv, &acme.mu, &ts);
		}
		r = acme.stop;
		pthread_mutex_unlock(&acme.mu);
		if (r)
			break;
	}
	return NULL;
}

void
acme_start(void)
{
	if (acme_http_init() != 0) {
		log_warnx("acme: libcurl did not start: no ACME client");
		return;
	}
	if (pthread_create(&acme.thread, NULL, acme_main, NULL) != 0) {
		log_warnx("acme: cannot start the thread");
		return;
	}
	acme.started = true;
}

void
acme_stop(void)
{
	if (!acme.started)
		return;
	pthread_mutex_lock(&acme.mu);
	acme.stop = true;
	pthread_cond_signal(&acme.cv);
	pthread_mutex_unlock(&acme.mu);
	pthread_join(acme.thread, NULL);
	acme.started = false;
	acme_chal_gc(true);
}

void
acme_kick(void)
{
	pthread_mutex_lock(&acme.mu);
	acme.kicked = true;
	pthread_cond_signal(&acme.cv);
	pthread_mutex_unlock(&acme.mu);
}
