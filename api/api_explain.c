/*
 * api_explain.c: POST /api/v1/explain, what the data plane would do with
 * a request, without sending anything anywhere.
 *
 * {"listener","method","host","path","client_ip","headers":{...}} is
 * routed on the serving snapshot exactly as a worker routes it (the
 * client behind trusted proxies from the X-Forwarded-For given, the
 * normalised path, route_match()), then the route's policies are asked
 * in the data plane's order: the redirect to https, the access list
 * (passwords verified, no failure recorded), the rate limit (its bucket
 * looked at, no token taken). The answer names the route, the origin,
 * each policy and the decision with the status a client would get.
 */
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "access.h"
#include "api_int.h"
#include "cfg.h"
#include "client_addr.h"
#include "compress.h"
#include "http_msg.h"
#include "json.h"
#include "normalize.h"
#include "publish.h"
#include "ratelimit.h"
#include "respond.h"
#include "route.h"

static const struct {
	const char *name;
	unsigned bit;
} ex_methods[] = {
	{ "GET", CFG_M_GET },
	{ "HEAD", CFG_M_HEAD },
	{ "POST", CFG_M_POST },
	{ "PUT", CFG_M_PUT },
	{ "DELETE", CFG_M_DELETE },
	{ "PATCH", CFG_M_PATCH },
	{ "OPTIONS", CFG_M_OPTIONS },
	{ "CONNECT", CFG_M_CONNECT },
	{ "TRACE", CFG_M_TRACE },
};

static void
ex_bad(struct api_req *r, const char *field, const char *msg)
{
	struct err e;

	err_set(&e, field, "%s", msg);
	api_reply_problem(r, 422, "the request body is not valid", &e);
}

static int
ex_add(struct http_msg *m, const char *name, const char *value)
{
	int64_t n = http_msg_append(m, name, strlen(name));
	int64_t v = http_msg_append(m, value, strlen(value));
	struct http_span sn, sv;

	if (n < 0 || v < 0)
		return -1;
	sn.off = (uint32_t)n;
	sn.len = (uint32_t)strlen(name);
	sv.off = (uint32_t)v;
	sv.len = (uint32_t)strlen(value);
	return http_msg_add_header(m, sn, sv);
}

static void
ex_decide(struct json *out, int status, const char *decision, const char *why)
{
	json_set(out, "decision", json_new_str(decision));
	json_set(out, "status", json_new_int(status));
	json_set(out, "reason", json_new_str(why));
}

static const char *const verdicts[] = {
	[ACCESS_PASS] = "allowed: the address is allowed",
	[ACCESS_PASS_USER] = "allowed: the user's password is right",
	[ACCESS_DENIED_ADDR] = "the address is in the deny list",
	[ACCESS_NOT_ALLOWED] = "the address is not allowed",
	[ACCESS_AUTH_REQUIRED] = "no credentials: a user and password are "
	                         "needed",
	[ACCESS_THROTTLED] = "too many failed passwords from this address",
	[ACCESS_AUTH_FAILED] = "wrong user or password",
};

/* Maintenance, redirect or respond (respond.c), after the access list and
 * the rate limit as in the data plane; true when one answers.
 */
static bool
ex_route_answers(struct json *out, struct json *pol, const struct cfg_route *rt,
    const struct client_addr *ca)
{
	struct json *p;
	bool allowed;

	if (rt->maint != NULL) {
		allowed = respond_maint_allows(rt->maint,
		    (const struct sockaddr *)&ca->sa);
		p = json_new_obj();
		json_set(pol, "maintenance", p);
		json_set(p, "allowed", json_new_bool(allowed));
		if (!allowed) {
			ex_decide(out, 503, "maintenance",
			    "the route is in maintenance and the client is not "
			    "in maintenance.allow");
			return true;
		}
	}
	if (rt->redirect != NULL) {
		p = json_new_obj();
		json_set(pol, "redirect", p);
		json_set(p, "to", json_new_str(rt->redirect->to));
		ex_decide(out, (int)rt->redirect->status, "redirect",
		    "the route answers with a redirect");
		return true;
	}
	if (rt->respond != NULL) {
		json_set(pol, "respond", json_new_bool(true));
		ex_decide(out, (int)rt->respond->status, "respond",
		    "the route answers with its fixed response");
		return true;
	}
	return false;
}

/* Compression (compress.h): the coding the request's Accept-Encoding
 * gets for a response the route compresses (a listed type, not encoded,
 * ranged or no-transform, at least min_bytes).
 */
static void
ex_compress(struct json *pol, const struct cfg_compress *cz,
    const struct http_msg *m)
{
	struct compress_accept acc;
	struct json *p = json_new_obj();
	struct str v;
	int i = -1;

	compress_accept_init(&acc);
	while ((i = http_msg_find(m, "accept-encoding", (size_t)(i + 1))) >=
	    0) {
		v = http_msg_hvalue(m, (size_t)i);
		compress_accept_parse(&acc, v.p, v.len);
	}
	json_set(pol, "compress", p);
	json_set(p, "encoding",
	    json_new_str(compress_enc_name(compress_accept_choose_offered(&acc,
	        cz->offer))));
	json_set(p, "min_bytes", json_new_int((int64_t)cz->min_bytes));
}

/* The route's policies, in the data plane's order, into <out>. */
static void
ex_policies(struct json *out, const struct cfg_listener *l,
    const struct cfg_route *rt, const struct http_msg *m,
    const struct client_addr *ca, struct str host)
{
	struct json *pol = json_new_obj(), *p;
	const struct cfg_access_user *who;
	enum access_verdict v;
	unsigned remaining, retry;
	char buf[24];
	struct str key;
	long wait;
	bool ok;

	json_set(out, "policies", pol);
	if (rt->redirect_https && l->proto == CFG_PROTO_HTTP && host.len > 0) {
		json_set(pol, "redirect_https", json_new_bool(true));
		ex_decide(out, 308, "redirect", "redirect_https: to https://");
		return;
	}
	if (rt->access_list != NULL) {
		p = json_new_obj();
		json_set(pol, "access_list", p);
		json_set(p, "name", json_new_str(rt->access_list->name));
		v = access_decide(rt->access_list, &ca->sa,
		    http_msg_get(m, "authorization"), &who, &wait);
		json_set(p, "result", json_new_str(verdicts[v]));
		if (who != NULL)
			json_set(out, "user", json_new_str(who->name));
		switch (v) {
		case ACCESS_PASS:
		case ACCESS_PASS_USER:
			break;
		case ACCESS_DENIED_ADDR:
		case ACCESS_NOT_ALLOWED:
			ex_decide(out, 403, "forbidden", verdicts[v]);
			return;
		case ACCESS_THROTTLED:
			json_set(p, "retry_after", json_new_int(wait));
			ex_decide(out, 429, "throttled", verdicts[v]);
			return;
		case ACCESS_AUTH_REQUIRED:
		case ACCESS_AUTH_FAILED:
			ex_decide(out, 401, "unauthorized", verdicts[v]);
			return;
		}
	}
	if (rt->rate_limit != NULL) {
		p = json_new_obj();
		json_set(pol, "rate_limit", p);
		json_set(p, "name", json_new_str(rt->rate_limit->name));
		key = ratelimit_key(rt->rate_limit, m, rt, ca->text, buf);
		json_set(p, "key",
		    json_new_strn(key.p != NULL ? key.p : "", key.len));
		ok = ratelimit_peek(rt->rate_limit, key.p != NULL ? key.p : "",
		    key.len, ratelimit_now_ms(), &remaining, &retry);
		json_set(p, "remaining", json_new_int(remaining));
		if (!ok) {
			json_set(p, "retry_after", json_new_int(retry));
			ex_decide(out, 429, "rate_limited",
			    "the key's bucket is empty");
			return;
		}
	}
	if (ex_route_answers(out, pol, rt, ca))
		return;
	if (rt->compress != NULL)
		ex_compress(pol, rt->compress, m);
	if (rt->forward_auth != NULL) {
		const struct cfg_forward_auth *fa = rt->forward_auth;
		struct json *hl = json_new_arr();
		size_t i;

		p = json_new_obj();
		json_set(pol, "forward_auth", p);
		json_set(p, "origin", json_new_str(fa->origin->name));
		json_set(p, "path", json_new_str(fa->path));
		for (i = 0; i < fa->ncopy; i++)
			json_append(hl, json_new_str(fa->copy[i]));
		json_set(p, "copy_headers", hl);
		/* Explaining sends nothing anywhere: the service is not
		 * asked. The status is the one of a 2xx from it.
		 */
		ex_decide(out, 200, "forward_auth",
		    "the auth service decides: a 2xx sends the request to the "
		    "origin, any other answer goes to the client (not asked "
		    "here)");
		return;
	}
	ex_decide(out, 200, "allowed", "proxied to the origin");
}

void
sys_explain(struct api_req *r)
{
	static const char *const keys[] = { "listener", "method", "host",
		"path", "client_ip", "headers", NULL };
	struct json *body, *hdrs = NULL, *out = NULL;
	const char *lname = NULL, *method = "GET", *host = "", *path = "/";
	const char *client = "127.0.0.1", *k, *v;
	struct sockaddr_storage peer;
	struct client_addr ca;
	const struct cfg_listener *l = NULL;
	const struct cfg_route *rt;
	struct http_msg m;
	struct cfg *c = NULL;
	char npath[2048];
	unsigned bit = CFG_M_OTHER;
	size_t i, n;
	struct err e;

	err_clear(&e);
	http_msg_init(&m);
	if ((body = api_req_json(r)) == NULL)
		return;
	if (json_check_keys(body, "", keys, &e) != 0 ||
	    json_get_str(body, "", "listener", &lname, &e) < 0 ||
	    json_get_str(body, "", "method", &method, &e) < 0 ||
	    json_get_str(body, "", "host", &host, &e) < 0 ||
	    json_get_str(body, "", "path", &path, &e) < 0 ||
	    json_get_str(body, "", "client_ip", &client, &e) < 0 ||
	    json_get_obj(body, "", "headers", &hdrs, &e) < 0) {
		api_reply_problem(r, 422, "the request body is not valid", &e);
		goto out;
	}
	if (lname == NULL) {
		ex_bad(r, "listener", "is required");
		goto out;
	}
	if (client_addr_parse(str_cstr(client), &peer) != 0) {
		ex_bad(r, "client_ip", "is not an IPv4 or IPv6 address");
		goto out;
	}
	if (path[0] != '/' ||
	    norm_path(str_cstr(path), npath, sizeof(npath), &n) != NORM_OK) {
		ex_bad(r, "path", "is not a request path this proxy accepts");
		goto out;
	}
	for (i = 0; i < sizeof(ex_methods) / sizeof(ex_methods[0]); i++)
		if (strcmp(ex_methods[i].name, method) == 0)
			bit = ex_methods[i].bit;
	if (host[0] != '\0' && ex_add(&m, "Host", host) != 0)
		goto oom;
	for (i = 0; hdrs != NULL && (k = json_key_at(hdrs, i)) != NULL; i++) {
		if ((v = json_str(json_get(hdrs, k))) == NULL) {
			char p[160];

			snprintf(p, sizeof(p), "headers.%.100s", k);
			ex_bad(r, p, "must be a string");
			goto out;
		}
		if (ex_add(&m, k, v) != 0)
			goto oom;
	}
	if ((c = publish_current()) != NULL)
		for (i = 0; i < c->nlisteners; i++)
			if (strcmp(c->listeners[i].name, lname) == 0)
				l = &c->listeners[i];
	if (l == NULL) {
		ex_bad(r, "listener", "no such listener is serving");
		goto out;
	}
	out = json_new_obj();
	json_set(out, "listener", json_new_str(l->name));
	json_set(out, "revision", json_new_int((int64_t)c->revision));
	client_addr_resolve(l, &m, &peer, client, &ca);
	json_set(out, "client_ip", json_new_str(ca.text));
	if (l->proto != CFG_PROTO_HTTP && l->proto != CFG_PROTO_HTTPS) {
		ex_bad(r, "listener", "is not an http or https listener");
		goto out;
	}
	rt = route_match(l, str_cstr(host), str_make(npath, n), bit);
	if (rt == NULL) {
		json_set(out, "route", json_new_null());
		ex_decide(out, 404, "not_found", "no route matches");
	} else {
		json_set(out, "route", json_new_str(rt->name));
		json_set(out, "origin",
		    rt->origin != NULL ? json_new_str(rt->origin->name)
		                       : json_new_null());
		ex_policies(out, l, rt, &m, &ca, str_cstr(host));
	}
	api_reply_json(r, 200, out);
	out = NULL;
	goto out;
oom:
	api_reply_problem(r, 503, "out of memory", NULL);
out:
	json_unref(out);
	json_unref(body);
	http_msg_fini(&m);
	cfg_unref(c);
}
