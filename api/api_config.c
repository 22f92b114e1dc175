/*
 * api_config.c: the configuration as one JSON document.
 *
 * Every configuration write in the API, whether on one item or on the
 * whole document, becomes "this is the new document": conf_check()
 * validates it field by field, conf_sync() (api_sync.c) makes the rows
 * say the same thing while keeping the row ids (the stable keys of runtime
 * state) of every object that stays, and conf_load() reads it back. The
 * document is
 * {"listeners":[...],"origins":[...],"routes":[...]}; items reference one
 * another by name.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "check.h"
#include "json.h"
#include "store.h"

#define CONF_MAX_MS    86400000LL
#define CONF_MAX_ITEMS 10000

const char *const conf_kind_names[CONF__KINDS] = { "listeners", "origins",
	"routes" };

/* ---- load ---- */

static struct json *load_list(const char *text);

static int
load_listeners(struct store *st, struct json *out, struct err *e)
{
	struct store_stmt *s;
	struct json *it, *to;
	enum store_step_result r;

	s = store_prepare(st,
	    "SELECT l.id, l.name, l.address, l.port, l.protocol,"
	    " l.header_timeout_ms, l.keepalive_timeout_ms, l.trust_forwarded,"
	    " c.name, l.client_auth, cc.name, l.max_connections,"
	    " l.proxy_protocol_from FROM listeners l"
	    " LEFT JOIN certificates c ON c.id = l.default_certificate_id"
	    " LEFT JOIN certificates cc ON cc.id = l.client_ca_id ORDER BY l.id",
	    e);
	if (s == NULL)
		return -1;
	while ((r = store_step(s, e)) == STORE_ROW) {
		it = json_new_obj();
		json_set(it, "id", json_new_int(store_col_int64(s, 0)));
		json_set(it, "name", json_new_str(store_col_text(s, 1)));
		json_set(it, "address", json_new_str(store_col_text(s, 2)));
		json_set(it, "port", json_new_int(store_col_int64(s, 3)));
		json_set(it, "protocol", json_new_str(store_col_text(s, 4)));
		to = json_new_obj();
		if (!store_col_is_null(s, 5))
			json_set(to, "header_ms",
			    json_new_int(store_col_int64(s, 5)));
		if (!store_col_is_null(s, 6))
			json_set(to, "keepalive_ms",
			    json_new_int(store_col_int64(s, 6)));
		json_set(it, "timeouts", to);
		json_set(it, "trust_forwarded",
		    json_new_bool(store_col_int64(s, 7) != 0));
		if (!store_col_is_null(s, 8))
			json_set(it, "default_certificate",
			    json_new_str(store_col_text(s, 8)));
		json_set(it, "client_auth", json_new_str(store_col_text(s, 9)));
		if (!store_col_is_null(s, 10))
			json_set(it, "client_ca",
			    json_new_str(store_col_text(s, 10)));
		if (!store_col_is_null(s, 11))
			json_set(it, "max_connections",
			    json_new_int(store_col_int64(s, 11)));
		json_set(it, "proxy_protocol_from",
		    load_list(store_col_text(s, 12)));
		json_append(out, it);
	}
	store_finalize(s);
	return r == STORE_DONE ? 0 : -1;
}

/* Columns 3..7 of the SELECT in load_origins(). */
static struct json *
load_origin_tls(struct store_stmt *s)
{
	struct json *t = json_new_obj();

	json_set(t, "enabled", json_new_bool(store_col_int64(s, 3) != 0));
	json_set(t, "verify", json_new_bool(store_col_int64(s, 4) != 0));
	if (!store_col_is_null(s, 5))
		json_set(t, "ca", json_new_str(store_col_text(s, 5)));
	if (!store_col_is_null(s, 6))
		json_set(t, "sni", json_new_str(store_col_text(s, 6)));
	if (!store_col_is_null(s, 7))
		json_set(t, "client_certificate",
		    json_new_str(store_col_text(s, 7)));
	return t;
}

/* "health_check" from columns <c>.. (hc_path first), or null. */
static struct json *
load_origin_health(struct store_stmt *s, int c)
{
	static const char *const ints[] = { "interval_ms", "timeout_ms", "rise",
		"fall", "status_min", "status_max" };
	struct json *h;
	size_t i;

	if (store_col_is_null(s, c))
		return json_new_null();
	h = json_new_obj();
	json_set(h, "path", json_new_str(store_col_text(s, c)));
	if (!store_col_is_null(s, c + 1))
		json_set(h, "host", json_new_str(store_col_text(s, c + 1)));
	for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		json_set(h, ints[i],
		    json_new_int(store_col_int64(s, c + 2 + (int)i)));
	return h;
}

static int
load_origins(struct store *st, struct json *out, struct err *e)
{
	struct store_stmt *s, *sv;
	struct json *it, *servers, *one;
	enum store_step_result r, rv = STORE_DONE;

	s = store_prepare(st,
	    "SELECT o.id, o.name, o.balance, o.tls_enabled, o.tls_verify,"
	    " ca.name, o.tls_sni, cc.name, o.proxy_protocol, o.hc_path,"
	    " o.hc_host, o.hc_interval_ms, o.hc_timeout_ms, o.hc_rise,"
	    " o.hc_fall, o.hc_status_min, o.hc_status_max FROM origins o"
	    " LEFT JOIN certificates ca ON ca.id = o.tls_ca_id"
	    " LEFT JOIN certificates cc ON cc.id = o.tls_client_certificate_id"
	    " ORDER BY o.id",
	    e);
	if (s == NULL)
		return -1;
	sv = store_prepare(st,
	    "SELECT id, address, port, weight FROM servers WHERE origin_id = ?1"
	    " ORDER BY position, id",
	    e);
	if (sv == NULL) {
		store_finalize(s);
		return -1;
	}
	while ((r = store_step(s, e)) == STORE_ROW) {
		it = json_new_obj();
		json_set(it, "id", json_new_int(store_col_int64(s, 0)));
		json_set(it, "name", json_new_str(store_col_text(s, 1)));
		json_set(it, "balance", json_new_str(store_col_text(s, 2)));
		json_set(it, "tls", load_origin_tls(s));
		json_set(it, "proxy_protocol",
		    json_new_int(store_col_int64(s, 8)));
		json_set(it, "health_check", load_origin_health(s, 9));
		servers = json_new_arr();
		store_bind_int64(sv, 1, store_col_int64(s, 0));
		while ((rv = store_step(sv, e)) == STORE_ROW) {
			one = json_new_obj();
			json_set(one, "id",
			    json_new_int(store_col_int64(sv, 0)));
			json_set(one, "address",
			    json_new_str(store_col_text(sv, 1)));
			json_set(one, "port",
			    json_new_int(store_col_int64(sv, 2)));
			json_set(one, "weight",
			    json_new_int(store_col_int64(sv, 3)));
			json_append(servers, one);
		}
		store_reset(sv);
		json_set(it, "servers", servers);
		json_append(out, it);
		if (rv != STORE_DONE)
			break;
	}
	store_finalize(sv);
	store_finalize(s);
	return r == STORE_DONE && rv == STORE_DONE ? 0 : -1;
}

static struct json *
load_list(const char *text)
{
	struct json *j = json_parse(text, strlen(text), NULL);

	if (j == NULL || !json_is_arr(j)) {
		json_unref(j);
		return json_new_arr();
	}
	return j;
}

static int
load_routes(struct store *st, struct json *out, struct err *e)
{
	struct store_stmt *s;
	struct json *it, *m, *to;
	enum store_step_result r;
	static const char *const tk[] = { "connect_ms", "response_ms",
		"idle_ms" };
	int i;

	s = store_prepare(st,
	    "SELECT r.id, r.name, l.name, o.name, r.priority, r.hosts,"
	    " r.path_prefix, r.methods, r.forwarded, r.max_body_bytes,"
	    " r.connect_timeout_ms, r.response_timeout_ms, r.idle_timeout_ms,"
	    " r.sni, r.sources, r.redirect_https, r.hsts_max_age"
	    " FROM routes r JOIN listeners l ON l.id = r.listener_id"
	    " JOIN origins o ON o.id = r.origin_id ORDER BY r.id",
	    e);
	if (s == NULL)
		return -1;
	while ((r = store_step(s, e)) == STORE_ROW) {
		it = json_new_obj();
		json_set(it, "id", json_new_int(store_col_int64(s, 0)));
		json_set(it, "name", json_new_str(store_col_text(s, 1)));
		json_set(it, "listener", json_new_str(store_col_text(s, 2)));
		m = json_new_obj();
		json_set(m, "hosts", load_list(store_col_text(s, 5)));
		json_set(m, "path_prefix", json_new_str(store_col_text(s, 6)));
		json_set(m, "methods", load_list(store_col_text(s, 7)));
		json_set(m, "sni", load_list(store_col_text(s, 13)));
		json_set(m, "sources", load_list(store_col_text(s, 14)));
		json_set(it, "match", m);
		json_set(it, "origin", json_new_str(store_col_text(s, 3)));
		json_set(it, "priority", json_new_int(store_col_int64(s, 4)));
		json_set(it, "forwarded",
		    json_new_bool(store_col_int64(s, 8) != 0));
		if (!store_col_is_null(s, 9))
			json_set(it, "max_body_bytes",
			    json_new_int(store_col_int64(s, 9)));
		to = json_new_obj();
		for (i = 0; i < 3; i++)
			if (!store_col_is_null(s, 10 + i))
				json_set(to, tk[i],
				    json_new_int(store_col_int64(s, 10 + i)));
		json_set(it, "timeouts", to);
		json_set(it, "redirect_https",
		    json_new_bool(store_col_int64(s, 15) != 0));
		if (!store_col_is_null(s, 16))
			json_set(it, "hsts_max_age",
			    json_new_int(store_col_int64(s, 16)));
		json_append(out, it);
	}
	store_finalize(s);
	return r == STORE_DONE ? 0 : -1;
}

struct json *
conf_load(struct store *st, struct err *e)
{
	struct json *doc = json_new_obj(), *l, *o, *r;

	l = json_new_arr();
	o = json_new_arr();
	r = json_new_arr();
	json_set(doc, "listeners", l);
	json_set(doc, "origins", o);
	json_set(doc, "routes", r);
	if (load_listeners(st, l, e) != 0 || load_origins(st, o, e) != 0 ||
	    load_routes(st, r, e) != 0) {
		json_unref(doc);
		return NULL;
	}
	return doc;
}

/* ---- check ---- */

static int fail(struct err *e, const char *path, const char *key,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Fills <e> with field "<path>.<key>". */
static int
fail(struct err *e, const char *path, const char *key, const char *fmt, ...)
{
	char p[128], msg[384];
	va_list ap;

	json_path_key(p, sizeof(p), path, key);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(e, p, "%s", msg);
}

/* 1..64 of [A-Za-z0-9._-], starting with a letter or digit, not all
 * digits (those address items by id).
 */
static int
check_name(const struct json *it, const char *path, struct err *e)
{
	const char *n = NULL, *p;
	bool digits = true;
	int rc;

	if ((rc = json_get_str(it, path, "name", &n, e)) < 0)
		return -1;
	if (rc == 0)
		return fail(e, path, "name", "%sis required", "");
	if (n[0] == '\0' || strlen(n) > 64)
		return fail(e, path, "name", "%smust be 1 to 64 characters",
		    "");
	for (p = n; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		        (*p >= '0' && *p <= '9') ||
		        (p != n && (*p == '.' || *p == '_' || *p == '-'))))
			return fail(e, path, "name",
			    "\"%.64s\": use letters, digits, '.', '_', '-', starting with a letter or digit",
			    n);
		if (*p < '0' || *p > '9')
			digits = false;
	}
	if (digits)
		return fail(e, path, "name",
		    "\"%.64s\" must not be all digits (ids are)", n);
	return 0;
}

static int
check_addr(const struct json *it, const char *path, struct err *e)
{
	unsigned char buf[16];
	const char *a = NULL;
	int rc;

	if ((rc = json_get_str(it, path, "address", &a, e)) < 0)
		return -1;
	if (rc == 0)
		return fail(e, path, "address", "%sis required", "");
	if (inet_pton(AF_INET, a, buf) != 1 && inet_pton(AF_INET6, a, buf) != 1)
		return fail(e, path, "address",
		    "\"%.64s\" is not a numeric IPv4 or IPv6 address", a);
	return 0;
}

static int
check_port(const struct json *it, const char *path, int64_t min, struct err *e)
{
	int64_t v;
	int rc;

	if ((rc = json_get_int(it, path, "port", min, 65535, &v, e)) < 0)
		return -1;
	if (rc == 0)
		return fail(e, path, "port", "%sis required", "");
	return 0;
}

static int
check_id(const struct json *it, const char *path, struct err *e)
{
	int64_t v;

	return json_get_int(it, path, "id", 1, INT64_MAX, &v, e) < 0 ? -1 : 0;
}

/* Checks the "timeouts" object against its allowed keys. */
static int
check_timeouts(const struct json *it, const char *path, const char *const *keys,
    const int64_t *mins, struct err *e)
{
	struct json *to = NULL;
	char p[128];
	int64_t v;
	size_t i;
	int rc;

	if ((rc = json_get_obj(it, path, "timeouts", &to, e)) <= 0)
		return rc;
	json_path_key(p, sizeof(p), path, "timeouts");
	if (json_check_keys(to, p, keys, e) != 0)
		return -1;
	for (i = 0; keys[i] != NULL; i++)
		if (json_get_int(to, p, keys[i], mins[i], CONF_MAX_MS, &v, e) <
		    0)
			return -1;
	return 0;
}

/* "10.0.0.0/8", "192.0.2.7", "2001:db8::/32". */
static bool
cidr_is_valid(const char *v)
{
	unsigned char buf[16];
	char addr[64], *end;
	const char *slash = strchr(v, '/');
	size_t n = slash != NULL ? (size_t)(slash - v) : strlen(v);
	unsigned long bits;
	int max;

	if (n == 0 || n >= sizeof(addr))
		return false;
	memcpy(addr, v, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET, addr, buf) == 1)
		max = 32;
	else if (inet_pton(AF_INET6, addr, buf) == 1)
		max = 128;
	else
		return false;
	if (slash == NULL)
		return true;
	bits = strtoul(slash + 1, &end, 10);
	return slash[1] >= '0' && slash[1] <= '9' && *end == '\0' &&
	    bits <= (unsigned long)max;
}

static bool host_is_valid(const char *h);

/* An optional array of unique strings each accepted by <ok>. */
static int
check_list(const struct json *obj, const char *path, const char *key,
    bool (*ok)(const char *), const char *what, struct err *e)
{
	struct json *arr = NULL;
	char lp[128], p[160];
	const char *v;
	size_t i, j;
	int rc;

	if ((rc = json_get_arr(obj, path, key, &arr, e)) <= 0)
		return rc;
	json_path_key(lp, sizeof(lp), path, key);
	for (i = 0; i < json_len(arr); i++) {
		json_path_idx(p, sizeof(p), lp, i);
		if ((v = json_str(json_at(arr, i))) == NULL)
			return err_set(e, p, "must be a string");
		if (!ok(v))
			return err_set(e, p, "\"%.100s\" is not %s", v, what);
		for (j = 0; j < i; j++)
			if (strcasecmp(v, json_str(json_at(arr, j))) == 0)
				return err_set(e, p,
				    "\"%.100s\" is listed twice", v);
	}
	return 0;
}

/* An optional string field that must be one of <vals>. */
static int
check_enum(const struct json *obj, const char *path, const char *key,
    const char *const *vals, const char *list, struct err *e)
{
	const char *v = NULL;
	size_t i;
	int rc;

	if ((rc = json_get_str(obj, path, key, &v, e)) <= 0)
		return rc;
	for (i = 0; vals[i] != NULL; i++)
		if (strcmp(v, vals[i]) == 0)
			return 0;
	return fail(e, path, key, "\"%.32s\" is not one of %s", v, list);
}

static int
check_listener(const struct json *it, const char *path, struct err *e)
{
	static const char *const keys[] = { "id", "name", "address", "port",
		"protocol", "timeouts", "trust_forwarded",
		"default_certificate", "client_auth", "client_ca",
		"max_connections", "proxy_protocol_from", NULL };
	static const char *const auths[] = { "none", "optional", "required",
		NULL };
	static const char *const tkeys[] = { "header_ms", "keepalive_ms",
		NULL };
	static const int64_t tmins[] = { 1, 0 };
	static const char *const protos[] = { "http", "https", "tcp", "udp",
		"tls-passthrough", NULL };
	const char *proto = NULL, *cert = NULL;
	int64_t mc;
	bool b;
	size_t i;

	if (json_check_keys(it, path, keys, e) != 0 ||
	    check_id(it, path, e) != 0 || check_name(it, path, e) != 0 ||
	    check_addr(it, path, e) != 0 || check_port(it, path, 0, e) != 0 ||
	    json_get_str(it, path, "protocol", &proto, e) < 0 ||
	    check_timeouts(it, path, tkeys, tmins, e) != 0 ||
	    json_get_bool(it, path, "trust_forwarded", &b, e) < 0 ||
	    json_get_str(it, path, "default_certificate", &cert, e) < 0 ||
	    check_enum(it, path, "client_auth", auths,
	        "none, optional, required", e) != 0 ||
	    json_get_str(it, path, "client_ca", &cert, e) < 0 ||
	    json_get_int(it, path, "max_connections", 1, 10000000, &mc, e) <
	        0 ||
	    check_list(it, path, "proxy_protocol_from", cidr_is_valid,
	        "an address or CIDR block", e) != 0)
		return -1;
	if (proto != NULL) {
		for (i = 0; protos[i] != NULL; i++)
			if (strcmp(proto, protos[i]) == 0)
				break;
		if (protos[i] == NULL)
			return fail(e, path, "protocol",
			    "\"%.32s\" is not one of http, https, tcp, udp, tls-passthrough",
			    proto);
	}
	return 0;
}

static int
check_server(const struct json *it, const char *path, struct err *e)
{
	static const char *const keys[] = { "id", "address", "port", "weight",
		NULL };
	int64_t w;

	if (json_check_keys(it, path, keys, e) != 0 ||
	    check_id(it, path, e) != 0 || check_addr(it, path, e) != 0 ||
	    check_port(it, path, 1, e) != 0 ||
	    json_get_int(it, path, "weight", 1, 1000, &w, e) < 0)
		return -1;
	return 0;
}

static bool
sni_is_valid(const char *v)
{
	return v[0] != '*' && v[0] != '[' && strchr(v, ':') == NULL &&
	    host_is_valid(v);
}

/* "health_check": {"path","host","interval_ms","timeout_ms","rise","fall",
 * "status_min","status_max"}, or null for none.
 */
static int
check_origin_health(const struct json *it, const char *path, struct err *e)
{
	static const char *const keys[] = { "path", "host", "interval_ms",
		"timeout_ms", "rise", "fall", "status_min", "status_max",
		NULL };
	struct json *h = NULL;
	const char *v = NULL;
	char p[128];
	int64_t n, lo = 200, hi = 399, iv = 5000, to = 2000;
	int rc;

	if ((rc = json_get_obj(it, path, "health_check", &h, e)) <= 0)
		return rc;
	json_path_key(p, sizeof(p), path, "health_check");
	if (json_check_keys(h, p, keys, e) != 0 ||
	    (rc = json_get_str(h, p, "path", &v, e)) < 0)
		return -1;
	if (rc == 0)
		return fail(e, p, "path", "%sis required", "");
	if (v[0] != '/' || strlen(v) > 1024 || strpbrk(v, " \t\r\n") != NULL)
		return fail(e, p, "path", "\"%.100s\" is not a request path",
		    v);
	v = NULL;
	if (json_get_str(h, p, "host", &v, e) < 0 ||
	    json_get_int(h, p, "interval_ms", 100, 3600000, &iv, e) < 0 ||
	    json_get_int(h, p, "timeout_ms", 10, 600000, &to, e) < 0 ||
	    json_get_int(h, p, "rise", 1, 100, &n, e) < 0 ||
	    json_get_int(h, p, "fall", 1, 100, &n, e) < 0 ||
	    json_get_int(h, p, "status_min", 100, 599, &lo, e) < 0 ||
	    json_get_int(h, p, "status_max", 100, 599, &hi, e) < 0)
		return -1;
	if (v != NULL && !host_is_valid(v))
		return fail(e, p, "host", "\"%.100s\" is not a host name", v);
	if (hi < lo)
		return fail(e, p, "status_max", "%lld is below status_min",
		    (long long)hi);
	if (to >= iv)
		return fail(e, p, "timeout_ms",
		    "%lld must be shorter than interval_ms", (long long)to);
	return 0;
}

/* "tls": {"enabled","verify","ca","sni","client_certificate"}. */
static int
check_origin_tls(const struct json *it, const char *path, struct err *e)
{
	static const char *const keys[] = { "enabled", "verify", "ca", "sni",
		"client_certificate", NULL };
	struct json *t = NULL;
	const char *v = NULL;
	char p[128];
	bool b;
	int rc;

	if ((rc = json_get_obj(it, path, "tls", &t, e)) <= 0)
		return rc;
	json_path_key(p, sizeof(p), path, "tls");
	if (json_check_keys(t, p, keys, e) != 0 ||
	    json_get_bool(t, p, "enabled", &b, e) < 0 ||
	    json_get_bool(t, p, "verify", &b, e) < 0 ||
	    json_get_str(t, p, "ca", &v, e) < 0 ||
	    json_get_str(t, p, "client_certificate", &v, e) < 0)
		return -1;
	v = NULL;
	if (json_get_str(t, p, "sni", &v, e) < 0)
		return -1;
	if (v != NULL && !sni_is_valid(v))
		return fail(e, p, "sni", "\"%.100s\" is not a host name", v);
	return 0;
}

static int
check_origin(const struct json *it, const char *path, struct err *e)
{
	static const char *const keys[] = { "id", "name", "balance", "servers",
		"tls", "proxy_protocol", "health_check", NULL };
	struct json *servers = NULL;
	const char *bal = NULL;
	char sp[128], p[128];
	int64_t pp;
	size_t i;
	int rc;

	if (json_check_keys(it, path, keys, e) != 0 ||
	    check_id(it, path, e) != 0 || check_name(it, path, e) != 0 ||
	    json_get_str(it, path, "balance", &bal, e) < 0 ||
	    json_get_int(it, path, "proxy_protocol", 0, 2, &pp, e) < 0 ||
	    check_origin_tls(it, path, e) != 0 ||
	    check_origin_health(it, path, e) != 0)
		return -1;
	if (bal != NULL && strcmp(bal, "round_robin") != 0)
		return fail(e, path, "balance",
		    "\"%.32s\" is not a balancing method (round_robin)", bal);
	if ((rc = json_get_arr(it, path, "servers", &servers, e)) < 0)
		return -1;
	if (rc == 0 || json_len(servers) == 0)
		return fail(e, path, "servers", "%sneeds at least one server",
		    "");
	if (json_len(servers) > 1000)
		return fail(e, path, "servers", "%sat most 1000 servers", "");
	json_path_key(sp, sizeof(sp), path, "servers");
	for (i = 0; i < json_len(servers); i++) {
		json_path_idx(p, sizeof(p), sp, i);
		if (check_server(json_at(servers, i), p, e) != 0)
			return -1;
	}
	return 0;
}

/* A host name ("app.example", with an optional trailing dot), a wildcard
 * ("*.example"), or an IPv6 literal with or without brackets.
 */
static bool
host_is_valid(const char *h)
{
	unsigned char a6[16];
	char v6[64];
	size_t len = strlen(h), label = 0, i;

	if (len == 0 || len > 253)
		return false;
	if (h[0] == '[' || strchr(h, ':') != NULL) {
		if (h[0] == '[') {
			if (len < 3 || h[len - 1] != ']' ||
			    len - 2 >= sizeof(v6))
				return false;
			memcpy(v6, h + 1, len - 2);
			v6[len - 2] = '\0';
		} else if (len < sizeof(v6))
			memcpy(v6, h, len + 1);
		else
			return false;
		return inet_pton(AF_INET6, v6, a6) == 1;
	}
	if (len > 2 && h[0] == '*' && h[1] == '.') {
		h += 2;
		len -= 2;
	}
	if (h[len - 1] == '.')
		len--;
	for (i = 0; i < len; i++) {
		if (h[i] == '.') {
			if (label == 0 || h[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!((h[i] >= 'a' && h[i] <= 'z') ||
		        (h[i] >= 'A' && h[i] <= 'Z') ||
		        (h[i] >= '0' && h[i] <= '9') || h[i] == '-'))
			return false;
		if ((h[i] == '-' && label == 0) || ++label > 63)
			return false;
	}
	return label > 0 && h[len - 1] != '-';
}

static int
check_match(const struct json *m, const char *path, struct err *e)
{
	static const char *const keys[] = { "hosts", "path_prefix", "methods",
		"sni", "sources", NULL };
	static const char *const methods[] = { "GET", "HEAD", "POST", "PUT",
		"DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE", NULL };
	struct json *hosts = NULL, *ms = NULL;
	const char *pp = NULL, *v;
	char lp[128], p[160];
	size_t i, j;

	if (json_check_keys(m, path, keys, e) != 0 ||
	    check_list(m, path, "sni", host_is_valid, "a host name", e) != 0 ||
	    check_list(m, path, "sources", cidr_is_valid,
	        "an address or CIDR block", e) != 0 ||
	    json_get_arr(m, path, "hosts", &hosts, e) < 0 ||
	    json_get_str(m, path, "path_prefix", &pp, e) < 0 ||
	    json_get_arr(m, path, "methods", &ms, e) < 0)
		return -1;
	json_path_key(lp, sizeof(lp), path, "hosts");
	for (i = 0; i < json_len(hosts); i++) {
		json_path_idx(p, sizeof(p), lp, i);
		v = json_str(json_at(hosts, i));
		if (v == NULL)
			return err_set(e, p, "must be a string");
		if (!host_is_valid(v))
			return err_set(e, p, "\"%.100s\" is not a host name",
			    v);
		for (j = 0; j < i; j++)
			if (strcasecmp(v, json_str(json_at(hosts, j))) == 0)
				return err_set(e, p,
				    "\"%.100s\" is listed twice", v);
	}
	if (pp != NULL) {
		if (pp[0] != '/' || strlen(pp) > 1024)
			return fail(e, path, "path_prefix",
			    "\"%.100s\" must start with '/' (at most 1024 characters)",
			    pp);
		for (v = pp; *v != '\0'; v++)
			if ((unsigned char)*v <= ' ' || *v == 0x7f ||
			    *v == '?' || *v == '#')
				return fail(e, path, "path_prefix",
				    "\"%.100s\" must not contain spaces, controls, '?' or '#'",
				    pp);
	}
	json_path_key(lp, sizeof(lp), path, "methods");
	for (i = 0; i < json_len(ms); i++) {
		json_path_idx(p, sizeof(p), lp, i);
		v = json_str(json_at(ms, i));
		if (v == NULL)
			return err_set(e, p, "must be a string");
		for (j = 0; methods[j] != NULL; j++)
			if (strcmp(v, methods[j]) == 0)
				break;
		if (methods[j] == NULL)
			return err_set(e, p,
			    "\"%.32s\" is not a known method (GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, CONNECT, TRACE)",
			    v);
		for (j = 0; j < i; j++)
			if (strcmp(v, json_str(json_at(ms, j))) == 0)
				return err_set(e, p,
				    "\"%.32s\" is listed twice", v);
	}
	return 0;
}

static int
check_route(const struct json *it, const char *path, struct err *e)
{
	static const char *const keys[] = { "id", "name", "listener", "match",
		"origin", "priority", "forwarded", "max_body_bytes", "timeouts",
		"redirect_https", "hsts_max_age", NULL };
	static const char *const tkeys[] = { "connect_ms", "response_ms",
		"idle_ms", NULL };
	static const int64_t tmins[] = { 1, 1, 1 };
	const char *l = NULL, *o = NULL;
	struct json *m = NULL;
	char p[128];
	int64_t v;
	bool b;
	int rl, ro;

	if (json_check_keys(it, path, keys, e) != 0 ||
	    check_id(it, path, e) != 0 || check_name(it, path, e) != 0 ||
	    (rl = json_get_str(it, path, "listener", &l, e)) < 0 ||
	    json_get_obj(it, path, "match", &m, e) < 0 ||
	    (ro = json_get_str(it, path, "origin", &o, e)) < 0 ||
	    json_get_int(it, path, "priority", -1000000, 1000000, &v, e) < 0 ||
	    json_get_bool(it, path, "forwarded", &b, e) < 0 ||
	    json_get_int(it, path, "max_body_bytes", 0, INT64_C(1) << 53, &v,
	        e) < 0 ||
	    check_timeouts(it, path, tkeys, tmins, e) != 0 ||
	    json_get_bool(it, path, "redirect_https", &b, e) < 0 ||
	    json_get_int(it, path, "hsts_max_age", 0, INT64_C(1) << 31, &v, e) <
	        0)
		return -1;
	if (rl == 0)
		return fail(e, path, "listener", "%sis required", "");
	if (ro == 0)
		return fail(e, path, "origin", "%sis required", "");
	json_path_key(p, sizeof(p), path, "match");
	if (m != NULL && check_match(m, p, e) != 0)
		return -1;
	return 0;
}

int
conf_check_item(enum conf_kind kind, const struct json *item, const char *path,
    struct err *e)
{
	if (!json_is_obj(item))
		return err_set(e, path, "must be an object");
	switch (kind) {
	case CONF_LISTENERS:
		return check_listener(item, path, e);
	case CONF_ORIGINS:
		return check_origin(item, path, e);
	case CONF_ROUTES:
		return check_route(item, path, e);
	default:
		return err_set(e, path, "unknown kind");
	}
}

struct json *
conf_find(const struct json *doc, enum conf_kind kind, const char *key,
    size_t *idx)
{
	struct json *arr = json_get(doc, conf_kind_names[kind]), *it;
	char *end;
	long long id = strtoll(key, &end, 10);
	bool by_id = key[0] != '\0' && *end == '\0';
	const char *n;
	size_t i;

	for (i = 0; i < json_len(arr); i++) {
		it = json_at(arr, i);
		n = json_str(json_get(it, "name"));
		if (by_id ? json_int(json_get(it, "id")) == id
		          : (n != NULL && strcmp(n, key) == 0)) {
			if (idx != NULL)
				*idx = i;
			return it;
		}
	}
	return NULL;
}

void
conf_referrers(const struct json *doc, enum conf_kind kind, const char *name,
    char *buf, size_t len)
{
	struct json *routes = json_get(doc, "routes"), *it;
	const char *key = kind == CONF_LISTENERS ? "listener" : "origin";
	const char *v;
	size_t i, n = 0;

	buf[0] = '\0';
	if (kind == CONF_ROUTES)
		return;
	for (i = 0; i < json_len(routes); i++) {
		it = json_at(routes, i);
		v = json_str(json_get(it, key));
		if (v == NULL || strcmp(v, name) != 0)
			continue;
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0,
		    "%sroutes/%s", n > 0 ? ", " : "",
		    json_str(json_get(it, "name")));
		if (n >= len)
			break;
	}
}

/* Unique names and ids within <arr>; <what> names the collection. */
static int
check_unique(const struct json *arr, const char *what, struct err *e)
{
	const struct json *a, *b;
	char p[128];
	size_t i, j;

	for (i = 0; i < json_len(arr); i++) {
		a = json_at(arr, i);
		for (j = 0; j < i; j++) {
			b = json_at(arr, j);
			snprintf(p, sizeof(p), "%s[%zu]", what, i);
			if (strcmp(json_str(json_get(a, "name")),
			        json_str(json_get(b, "name"))) == 0)
				return fail(e, p, "name",
				    "\"%.64s\" is already used",
				    json_str(json_get(a, "name")));
			if (json_get(a, "id") != NULL &&
			    json_same(json_get(a, "id"), json_get(b, "id")))
				return fail(e, p, "id", "%sis already used",
				    "");
		}
	}
	return 0;
}

int
conf_check(const struct json *doc, struct err *e)
{
	static const char *const keys[] = { "listeners", "origins", "routes",
		NULL };
	struct json *arr[CONF__KINDS], *it;
	const char *ref;
	char p[128];
	size_t i;
	int k;

	if (json_check_keys(doc, "", keys, e) != 0)
		return -1;
	for (k = 0; k < CONF__KINDS; k++) {
		arr[k] = NULL;
		if (json_get_arr(doc, "", conf_kind_names[k], &arr[k], e) < 0)
			return -1;
		if (json_len(arr[k]) > CONF_MAX_ITEMS)
			return err_set(e, conf_kind_names[k],
			    "at most %d items", CONF_MAX_ITEMS);
		for (i = 0; i < json_len(arr[k]); i++) {
			json_path_idx(p, sizeof(p), conf_kind_names[k], i);
			if (conf_check_item((enum conf_kind)k,
			        json_at(arr[k], i), p, e) != 0)
				return -1;
		}
		if (check_unique(arr[k], conf_kind_names[k], e) != 0)
			return -1;
	}
	for (i = 0; i < json_len(arr[CONF_ROUTES]); i++) {
		it = json_at(arr[CONF_ROUTES], i);
		json_path_idx(p, sizeof(p), "routes", i);
		ref = json_str(json_get(it, "listener"));
		if (conf_find(doc, CONF_LISTENERS, ref, NULL) == NULL ||
		    strspn(ref, "0123456789") == strlen(ref))
			return fail(e, p, "listener",
			    "no listener named \"%.64s\"", ref);
		ref = json_str(json_get(it, "origin"));
		if (conf_find(doc, CONF_ORIGINS, ref, NULL) == NULL ||
		    strspn(ref, "0123456789") == strlen(ref))
			return fail(e, p, "origin", "no origin named \"%.64s\"",
			    ref);
	}
	return 0;
}
