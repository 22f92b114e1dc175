/*
 * api.c: the libmicrohttpd shim (the only includer of microhttpd.h).
 *
 * One MHD daemon with its internal epoll thread; every handler runs on
 * that thread, one request at a time, which makes it the process's only
 * SQLite writer without a lock. This file owns struct api_req: it
 * collects the body (up to API_BODY_MAX, or api_opts.config_body_max for
 * PUT /config and POST /config/validate, else 413), finds the endpoint in
 * the table below, authenticates, checks the content type (415), calls
 * the handler and sends what it replied. Errors are RFC 9457
 * application/problem+json everywhere.
 */
#include "api.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "api_int.h"
#include "check.h"
#include "json.h"
#include "log.h"
#include "stats.h"
#include "store.h"
#include "x509.h"

struct api_endpoint {
	const char *method;
	const char *pattern;
	void (*fn)(struct api_req *r);
	unsigned flags;
	int arg;
};

#define L CONF_LISTENERS
#define O CONF_ORIGINS
#define R CONF_ROUTES
#define A CONF_ACCESS_LISTS
#define M CONF_RATE_LIMITS /* metered */
#define E CONF_ERROR_PAGES
/* clang-format off */
static const struct api_endpoint endpoints[] = {
	{ "POST",   "/api/v1/session",              auth_session_login,  API_F_PUBLIC, 0 },
	{ "GET",    "/api/v1/session",              auth_session_get,    0, 0 },
	{ "DELETE", "/api/v1/session",              auth_session_logout, API_F_VIEWER_OK, 0 },
	{ "GET",    "/api/v1/healthz",              sys_healthz,         API_F_PUBLIC, 0 },
	{ "GET",    "/api/v1/status",               sys_status,          0, 0 },
	{ "GET",    "/api/v1/stats",                sys_stats,           0, 0 },
	{ "GET",    "/api/v1/stats/history",        sys_stats_history,   0, 0 },
	{ "GET",    "/api/v1/metrics",              sys_metrics,         0, 0 },
	{ "GET",    "/api/v1/openapi.json",         sys_openapi,         0, 0 },
	{ "GET",    "/api/v1/config",               res_config_get,      0, 0 },
	{ "PUT",    "/api/v1/config",               res_config_put,      0, 0 },
	{ "PATCH",  "/api/v1/config",               res_config_patch,    0, 0 },
	{ "POST",   "/api/v1/config/validate",      res_config_validate, API_F_VIEWER_OK, 0 },
	{ "POST",   "/api/v1/explain",              sys_explain,         API_F_VIEWER_OK, 0 },
	{ "GET",    "/api/v1/revisions",            rev_list,            0, 0 },
	{ "GET",    "/api/v1/revisions/:n",         rev_get,             0, 0 },
	{ "GET",    "/api/v1/revisions/:n/diff",    rev_diff,            0, 0 },
	{ "POST",   "/api/v1/revisions/:n/restore", rev_restore,         0, 0 },
	{ "GET",    "/api/v1/settings/revisions",   rev_settings_get,    0, 0 },
	{ "PUT",    "/api/v1/settings/revisions",   rev_settings_put,    0, 0 },
	{ "GET",    "/api/v1/settings/compression", compress_settings_ep_get, 0, 0 },
	{ "PUT",    "/api/v1/settings/compression", compress_settings_ep_put, 0, 0 },
	{ "GET",    "/api/v1/listeners",            res_list,            0, L },
	{ "POST",   "/api/v1/listeners",            res_create,          0, L },
	{ "GET",    "/api/v1/listeners/:id",        res_get,             0, L },
	{ "PUT",    "/api/v1/listeners/:id",        res_put,             0, L },
	{ "PATCH",  "/api/v1/listeners/:id",        res_patch,           0, L },
	{ "DELETE", "/api/v1/listeners/:id",        res_delete,          0, L },
	{ "GET",    "/api/v1/origins",              res_list,            0, O },
	{ "POST",   "/api/v1/origins",              res_create,          0, O },
	{ "GET",    "/api/v1/origins/:id",          res_get,             0, O },
	{ "PUT",    "/api/v1/origins/:id",          res_put,             0, O },
	{ "PATCH",  "/api/v1/origins/:id",          res_patch,           0, O },
	{ "DELETE", "/api/v1/origins/:id",          res_delete,          0, O },
	{ "PATCH",  "/api/v1/origins/:id/servers/:sid", res_server_patch, 0, O },
	{ "GET",    "/api/v1/routes",               res_list,            0, R },
	{ "POST",   "/api/v1/routes",               res_create,          0, R },
	{ "GET",    "/api/v1/routes/:id",           res_get,             0, R },
	{ "PUT",    "/api/v1/routes/:id",           res_put,             0, R },
	{ "PATCH",  "/api/v1/routes/:id",           res_patch,           0, R },
	{ "DELETE", "/api/v1/routes/:id",           res_delete,          0, R },
	{ "GET",    "/api/v1/access_lists",         res_list,            0, A },
	{ "POST",   "/api/v1/access_lists",         res_create,          0, A },
	{ "GET",    "/api/v1/access_lists/:id",     res_get,             0, A },
	{ "PUT",    "/api/v1/access_lists/:id",     res_put,             0, A },
	{ "PATCH",  "/api/v1/access_lists/:id",     res_patch,           0, A },
	{ "DELETE", "/api/v1/access_lists/:id",     res_delete,          0, A },
	{ "GET",    "/api/v1/rate_limits",          res_list,            0, M },
	{ "POST",   "/api/v1/rate_limits",          res_create,          0, M },
	{ "GET",    "/api/v1/rate_limits/:id",      res_get,             0, M },
	{ "PUT",    "/api/v1/rate_limits/:id",      res_put,             0, M },
	{ "PATCH",  "/api/v1/rate_limits/:id",      res_patch,           0, M },
	{ "DELETE", "/api/v1/rate_limits/:id",      res_delete,          0, M },
	{ "GET",    "/api/v1/error_pages",          res_list,            0, E },
	{ "POST",   "/api/v1/error_pages",          res_create,          0, E },
	{ "GET",    "/api/v1/error_pages/:id",      res_get,             0, E },
	{ "PUT",    "/api/v1/error_pages/:id",      res_put,             0, E },
	{ "PATCH",  "/api/v1/error_pages/:id",      res_patch,           0, E },
	{ "DELETE", "/api/v1/error_pages/:id",      res_delete,          0, E },
	{ "GET",    "/api/v1/users",                auth_users_list,     0, 0 },
	{ "POST",   "/api/v1/users",                auth_users_create,   0, 0 },
	{ "GET",    "/api/v1/users/:id",            auth_users_get,      0, 0 },
	{ "PUT",    "/api/v1/users/:id",            auth_users_put,      0, 0 },
	{ "PATCH",  "/api/v1/users/:id",            auth_users_patch,    0, 0 },
	{ "DELETE", "/api/v1/users/:id",            auth_users_delete,   0, 0 },
	{ "GET",    "/api/v1/tokens",               auth_tokens_list,    0, 0 },
	{ "POST",   "/api/v1/tokens",               auth_tokens_create,  0, 0 },
	{ "GET",    "/api/v1/tokens/:id",           auth_tokens_get,     0, 0 },
	{ "PUT",    "/api/v1/tokens/:id",           auth_tokens_put,     0, 0 },
	{ "PATCH",  "/api/v1/tokens/:id",           auth_tokens_patch,   0, 0 },
	{ "DELETE", "/api/v1/tokens/:id",           auth_tokens_delete,  0, 0 },
	{ "GET",    "/api/v1/login-throttles",      throttle_list,       0, 0 },
	{ "DELETE", "/api/v1/login-throttles",      throttle_clear,      0, 0 },
	/* TLS (api_certs.c) */
	{ "GET",    "/api/v1/certificates",         certs_list,          0, 0 },
	{ "POST",   "/api/v1/certificates",         certs_create,        0, 0 },
	{ "POST",   "/api/v1/certificates/self-signed", certs_selfsigned, 0, 0 },
	{ "GET",    "/api/v1/certificates/:id",     certs_get,           0, 0 },
	{ "PUT",    "/api/v1/certificates/:id",     certs_put,           0, 0 },
	{ "DELETE", "/api/v1/certificates/:id",     certs_delete,        0, 0 },
	{ "GET",    "/api/v1/acme_accounts",        acme_accounts_list,  0, 0 },
	{ "POST",   "/api/v1/acme_accounts",        acme_accounts_create, 0, 0 },
	{ "GET",    "/api/v1/acme_accounts/:id",    acme_accounts_get,   0, 0 },
	{ "DELETE", "/api/v1/acme_accounts/:id",    acme_accounts_delete, 0, 0 },
	{ "POST",   "/api/v1/certificates/acme",    acme_certs_request,  0, 0 },
	{ "POST",   "/api/v1/certificates/:id/renew", acme_certs_renew,  0, 0 },
	{ "GET",    "/api/v1/posture",              posture_get,         0, 0 },
	/* recent log lines in memory (api_logs.c) */
	{ "GET",    "/api/v1/logs/access",          logs_access,         0, 0 },
	{ "GET",    "/api/v1/logs/access/stream",   logs_access_stream,  0, 0 },
	{ "GET",    "/api/v1/logs/daemon",          logs_daemon,         0, 0 },
	{ "GET",    "/api/v1/backup",               backup_get,          0, 0 },
	{ "POST",   "/api/v1/backup",               backup_post,         0, 0 },
	{ "POST",   "/api/v1/restore",              restore_post,        API_F_OCTET, 0 },
};
/* clang-format on */
#undef L
#undef O
#undef R
#undef A
#undef M
#undef E

static struct {
	struct MHD_Daemon *d;
	struct store *st;
	char db_dir[PATH_MAX];
	char webui[PATH_MAX];
	bool tls;
	uint16_t port;
	struct timespec start;
	char *cert_pem, *key_pem;
	size_t config_body_max;
} api;

size_t
api_endpoint_count(void)
{
	return NELEM(endpoints);
}

void
api_endpoint_at(size_t i, const char **method, const char **pattern,
    unsigned *flags)
{
	ASSERT(i < NELEM(endpoints));
	*method = endpoints[i].method;
	*pattern = endpoints[i].pattern;
	*flags = endpoints[i].flags;
}

struct store *
api_store(void)
{
	return api.st;
}

bool
api_is_tls(void)
{
	return api.tls;
}

const char *
api_db_dir(void)
{
	return api.db_dir;
}

const char *
api_webui_dir(void)
{
	return api.webui[0] != '\0' ? api.webui : NULL;
}

double
api_uptime(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - api.start.tv_sec) +
	    (double)(now.tv_nsec - api.start.tv_nsec) / 1e9;
}

uint16_t
api_bound_port(void)
{
	return api.port;
}

/* ---- request accessors and replies ---- */

const char *
api_req_header(struct api_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *
api_req_cookie(struct api_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);
}

const char *
api_req_query(struct api_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
	    name);
}

struct json *
api_req_json(struct api_req *r)
{
	struct json *j;
	struct err e;

	if (r->body_len == 0) {
		api_reply_problem(r, 400, "a JSON request body is required",
		    NULL);
		return NULL;
	}
	err_clear(&e);
	if ((j = json_parse(r->body, r->body_len, &e)) == NULL) {
		api_reply_problem(r, 400, e.msg, NULL);
		return NULL;
	}
	return j;
}

void
api_add_header(struct api_req *r, const char *name, const char *value)
{
	if (r->nhdrs >= NELEM(r->hdrs))
		return;
	snprintf(r->hdrs[r->nhdrs].name, sizeof(r->hdrs[0].name), "%s", name);
	snprintf(r->hdrs[r->nhdrs].value, sizeof(r->hdrs[0].value), "%s",
	    value);
	r->nhdrs++;
}

void
api_reply_raw(struct api_req *r, unsigned status, const char *ctype,
    const void *p, size_t len)
{
	ASSERT(!r->replied);
	r->replied = true;
	r->status = status;
	snprintf(r->ctype, sizeof(r->ctype), "%s", ctype);
	r->resp = malloc(len + 1);
	if (r->resp == NULL) {
		r->status = 503;
		r->resp_len = 0;
		return;
	}
	if (len > 0)
		memcpy(r->resp, p, len);
	r->resp_len = len;
}

void
api_reply_json(struct api_req *r, unsigned status, struct json *j)
{
	char *s;
	size_t n = 0;

	ASSERT(!r->replied);
	s = j != NULL ? json_dump(j, &n) : NULL;
	json_unref(j);
	if (s == NULL) {
		api_reply_raw(r, 503, "text/plain", "out of memory\n", 14);
		return;
	}
	r->replied = true;
	r->status = status;
	snprintf(r->ctype, sizeof(r->ctype), "application/json");
	r->resp = s;
	r->resp_len = n;
}

static const char *
status_title(unsigned status)
{
	switch (status) {
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 412:
		return "Precondition Failed";
	case 413:
		return "Content Too Large";
	case 415:
		return "Unsupported Media Type";
	case 422:
		return "Unprocessable Content";
	case 429:
		return "Too Many Requests";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	default:
		return "Error";
	}
}

/* Problem details with errors[] from the <n> errors of <e>. */
static void
reply_problem(struct api_req *r, unsigned status, const char *detail,
    const struct err *e, size_t n)
{
	struct json *p, *errs, *one;
	char *s;
	size_t i, len = 0;

	ASSERT(!r->replied);
	p = json_new_obj();
	json_set(p, "type", json_new_str("about:blank"));
	json_set(p, "title", json_new_str(status_title(status)));
	json_set(p, "status", json_new_int(status));
	json_set(p, "detail", json_new_str(detail));
	errs = json_new_arr();
	for (i = 0; i < n; i++) {
		if (e[i].msg[0] == '\0')
			continue;
		one = json_new_obj();
		json_set(one, "field", json_new_str(e[i].field));
		json_set(one, "message", json_new_str(e[i].msg));
		json_append(errs, one);
	}
	json_set(p, "errors", errs);
	s = json_dump(p, &len);
	json_unref(p);
	if (s == NULL) {
		api_reply_raw(r, 503, "text/plain", "out of memory\n", 14);
		return;
	}
	r->replied = true;
	r->status = status;
	snprintf(r->ctype, sizeof(r->ctype), "application/problem+json");
	r->resp = s;
	r->resp_len = len;
}

void
api_reply_problem(struct api_req *r, unsigned status, const char *detail,
    const struct err *e)
{
	reply_problem(r, status, detail, e, e != NULL ? 1 : 0);
}

void
api_reply_problems(struct api_req *r, unsigned status, const char *detail,
    const struct errs *l)
{
	size_t n = l == NULL ? 0 : l->n < ERRS_MAX ? l->n : ERRS_MAX;

	reply_problem(r, status, detail, l != NULL ? l->v : NULL, n);
}

void
api_reply_empty(struct api_req *r, unsigned status)
{
	api_reply_raw(r, status, "application/json", "", 0);
}

/* ---- dispatch ---- */

static enum api_method
method_parse(const char *m)
{
	static const char *const names[] = { "GET", "POST", "PUT", "PATCH",
		"DELETE", "HEAD" };
	size_t i;

	for (i = 0; i < NELEM(names); i++)
		if (strcmp(m, names[i]) == 0)
			return (enum api_method)i;
	return API_OTHER;
}

/* Matches <path> against <pat>; a ":x" segment captures into <param>. */
static bool
path_match(const char *pat, const char *path, char *param, size_t plen)
{
	const char *pe, *se;
	size_t n;

	for (;;) {
		if (*pat == '\0' || *path == '\0')
			return *pat == '\0' && *path == '\0';
		if (*pat == ':') {
			pe = strchr(pat, '/');
			se = strchr(path, '/');
			n = se != NULL ? (size_t)(se - path) : strlen(path);
			if (n == 0 || n >= plen)
				return false;
			memcpy(param, path, n);
			param[n] = '\0';
			if (pe == NULL)
				return se == NULL;
			if (se == NULL)
				return false;
			pat = pe;
			path = se;
			continue;
		}
		if (*pat != *path)
			return false;
		pat++;
		path++;
	}
}

static bool
ctype_is_json(const char *ct)
{
	static const char *const ok[] = { "application/json",
		"application/merge-patch+json", "application/json-patch+json" };
	size_t i, n;

	if (ct == NULL)
		return false;
	for (i = 0; i < NELEM(ok); i++) {
		n = strlen(ok[i]);
		if (strncasecmp(ct, ok[i], n) == 0 &&
		    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' '))
			return true;
	}
	return false;
}

static bool
ctype_is_octet(const char *ct)
{
	static const char ok[] = "application/octet-stream";

	return ct != NULL && strncasecmp(ct, ok, sizeof(ok) - 1) == 0 &&
	    (ct[sizeof(ok) - 1] == '\0' || ct[sizeof(ok) - 1] == ';');
}

static void
dispatch(struct api_req *r)
{
	const struct api_endpoint *ep = NULL;
	enum api_method m = r->method == API_HEAD ? API_GET : r->method;
	char allow[64] = "", param[128];
	const char *ct;
	size_t i;

	for (i = 0; i < NELEM(endpoints); i++) {
		if (!path_match(endpoints[i].pattern, r->path, param,
		        sizeof(param)))
			continue;
		if (method_parse(endpoints[i].method) == m) {
			ep = &endpoints[i];
			memcpy(r->param, param, sizeof(r->param));
			break;
		}
		if (strlen(allow) + 10 < sizeof(allow)) {
			if (allow[0] != '\0')
				strcat(allow, ", ");
			strcat(allow, endpoints[i].method);
		}
	}
	if (ep == NULL) {
		if (allow[0] != '\0') {
			api_add_header(r, "Allow", allow);
			api_reply_problem(r, 405,
			    "this resource does not support that method", NULL);
		} else if (strncmp(r->path, "/api/", 5) != 0 &&
		    (m == API_GET) && api_webui_dir() != NULL)
			sys_static(r);
		else
			api_reply_problem(r, 404, "no such resource", NULL);
		return;
	}
	if (auth_check(r, ep->flags) != 0)
		return;
	if (r->too_big) {
		api_reply_problem(r, 413, "the request body is too large",
		    NULL);
		return;
	}
	ct = api_req_header(r, "Content-Type");
	if ((m == API_POST || m == API_PUT || m == API_PATCH) &&
	    (r->body_len > 0 || ct != NULL) && !ctype_is_json(ct) &&
	    !((ep->flags & API_F_OCTET) && ctype_is_octet(ct))) {
		api_reply_problem(r, 415,
		    "request bodies must be Content-Type: application/json",
		    NULL);
		return;
	}
	r->arg = ep->arg;
	ep->fn(r);
	if (!r->replied)
		api_reply_problem(r, 500, "the handler gave no answer", NULL);
}

/* Whole documents may be large (PUT /config, POST /config/validate);
 * every other body is kept to API_BODY_MAX.
 */
static size_t
req_body_max(const struct api_req *r)
{
	if ((r->method == API_PUT && strcmp(r->path, "/api/v1/config") == 0) ||
	    (r->method == API_POST &&
	        strcmp(r->path, "/api/v1/config/validate") == 0))
		return api.config_body_max;
	return API_BODY_MAX;
}

/* A large body is read only from a client allowed to send it: anyone
 * else is answered (401, 403) before the body arrives.
 */
static bool
req_refused_early(struct api_req *r)
{
	if (r->body_max <= API_BODY_MAX)
		return false;
	return auth_check(r, r->method == API_POST ? API_F_VIEWER_OK : 0) != 0;
}

static struct api_req *
req_new(struct MHD_Connection *c, const char *url, const char *method)
{
	const union MHD_ConnectionInfo *ci;
	struct api_req *r;
	size_t n;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->magic = API_REQ_MAGIC;
	r->conn = c;
	r->method = method_parse(method);
	snprintf(r->method_str, sizeof(r->method_str), "%s", method);
	if ((r->path = strdup(url)) == NULL) {
		free(r);
		return NULL;
	}
	n = strlen(r->path);
	while (n > 1 && r->path[n - 1] == '/')
		r->path[--n] = '\0';
	r->body_max = req_body_max(r);
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci != NULL && ci->client_addr != NULL) {
		const struct sockaddr *sa = ci->client_addr;
		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET,
			    &((const struct sockaddr_in *)(const void *)sa)
			         ->sin_addr,
			    r->client, sizeof(r->client));
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6,
			    &((const struct sockaddr_in6 *)(const void *)sa)
			         ->sin6_addr,
			    r->client, sizeof(r->client));
	}
	return r;
}

static void
req_free(struct api_req *r)
{
	if (r == NULL)
		return;
	CHECK_OBJ(r, API_REQ_MAGIC);
	r->magic = 0;
	free(r->path);
	free(r->body);
	free(r->resp);
	free(r);
}

static int
body_append(struct api_req *r, const char *p, size_t n)
{
	size_t cap;
	char *nb;

	if (r->too_big || r->body_len + n > r->body_max) {
		r->too_big = true;
		return 0;
	}
	if (r->body_len + n + 1 > r->body_cap) {
		cap = r->body_cap != 0 ? r->body_cap : 4096;
		while (cap < r->body_len + n + 1)
			cap *= 2;
		if ((nb = realloc(r->body, cap)) == NULL)
			return -1;
		r->body = nb;
		r->body_cap = cap;
	}
	memcpy(r->body + r->body_len, p, n);
	r->body_len += n;
	r->body[r->body_len] = '\0';
	return 0;
}

/* Every answer is counted; refusals by kind. */
static void
stats_count(unsigned status)
{
	stats_inc(STAT_API_REQUESTS);
	switch (status) {
	case 401:
		stats_inc(STAT_API_UNAUTHORIZED);
		break;
	case 403:
		stats_inc(STAT_API_FORBIDDEN);
		break;
	case 400:
	case 413:
	case 415:
	case 422:
		stats_inc(STAT_API_INVALID);
		break;
	case 409:
	case 412:
		stats_inc(STAT_API_CONFLICT);
		break;
	default:
		break;
	}
}

static enum MHD_Result
req_send(struct api_req *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	size_t i;

	if (r->resp_len > 0) {
		resp = MHD_create_response_from_buffer(r->resp_len, r->resp,
		    MHD_RESPMEM_MUST_FREE);
		if (resp != NULL)
			r->resp = NULL;
	} else
		resp = MHD_create_response_from_buffer(0,
		    (void *)(uintptr_t) "", MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	stats_count(r->status);
	if (r->status != 204 && r->ctype[0] != '\0')
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
		    r->ctype);
	if (strncmp(r->path, "/api/", 5) == 0)
		MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	for (i = 0; i < r->nhdrs; i++)
		MHD_add_response_header(resp, r->hdrs[i].name,
		    r->hdrs[i].value);
	ret = MHD_queue_response(r->conn, r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* Held while a request is handled, and by api_with_store(). */
static pthread_mutex_t api_mu = PTHREAD_MUTEX_INITIALIZER;

int
api_with_store(int (*fn)(struct store *st, void *arg), void *arg)
{
	int rc;

	pthread_mutex_lock(&api_mu);
	rc = api.st != NULL ? fn(api.st, arg) : -2;
	pthread_mutex_unlock(&api_mu);
	return rc;
}

static enum MHD_Result on_request_locked(void *cls, struct MHD_Connection *c,
    const char *url, const char *method, const char *version,
    const char *upload, size_t *upload_size, void **ctx);

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **ctx)
{
	enum MHD_Result rc;

	pthread_mutex_lock(&api_mu);
	rc = on_request_locked(cls, c, url, method, version, upload,
	    upload_size, ctx);
	pthread_mutex_unlock(&api_mu);
	return rc;
}

static enum MHD_Result
on_request_locked(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **ctx)
{
	struct api_req *r = *ctx;
	const char *cl;

	if (r == NULL) {
		if ((r = req_new(c, url, method)) == NULL)
			return MHD_NO;
		*ctx = r;
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL && strtoull(cl, NULL, 10) > r->body_max) {
			r->too_big = true;
			dispatch(r);
			return req_send(r);
		}
		if (req_refused_early(r))
			return req_send(r);
		conns_state(c, AC_BODY);
		return MHD_YES;
	}
	if (r->replied)
		return MHD_YES; /* answered early; discard the rest */
	if (*upload_size > 0) {
		if (body_append(r, upload, *upload_size) != 0)
			return MHD_NO;
		*upload_size = 0;
		return MHD_YES;
	}
	conns_state(c, AC_ANSWER);
	dispatch(r);
	return req_send(r);
}

static void
conns_notify_mhd(void *cls, struct MHD_Connection *c, void **sctx,
    enum MHD_ConnectionNotificationCode code)
{
	conns_notify(cls, c, sctx, (int)code);
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **ctx,
    enum MHD_RequestTerminationCode toe)
{
	conns_state(c, AC_HEAD);
	req_free(*ctx);
	*ctx = NULL;
}

__attribute__((format(printf, 2, 0))) static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];
	size_t n;

	if (!conns_log_ok())
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	log_warnx("admin api: %s", buf);
}

/* ---- start and stop ---- */

/* "ADDR:PORT" or "[ADDR]:PORT" into <ss>; loopback reported. */
static int
listen_parse(const char *s, struct sockaddr_storage *ss, bool *loopback,
    struct err *e)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon;
	unsigned long port;
	char *end;
	size_t n;

	memset(ss, 0, sizeof(*ss));
	colon = strrchr(s, ':');
	if (colon == NULL)
		return err_set(e, "admin-listen", "\"%s\" is not ADDR:PORT", s);
	n = (size_t)(colon - s);
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof(host))
		return err_set(e, "admin-listen", "bad address in \"%s\"", s);
	memcpy(host, s, n);
	host[n] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || port > 65535)
		return err_set(e, "admin-listen", "bad port in \"%s\"", s);
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	if (strchr(host, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
			return err_set(e, "admin-listen",
			    "\"%s\" is not an IP address", host);
		*loopback = IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			return err_set(e, "admin-listen",
			    "\"%s\" is not an IP address", host);
		*loopback = (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	}
	return 0;
}

static char *
file_read(const char *path, struct err *e)
{
	char *buf;
	ssize_t n;
	size_t len = 0, cap = 8192;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		err_set(e, "", "%s: %s", path, strerror(errno));
		return NULL;
	}
	if ((buf = malloc(cap)) == NULL) {
		close(fd);
		err_set(e, "", "out of memory");
		return NULL;
	}
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (len + 1 == cap) {
			char *nb =
			    cap < (1u << 20) ? realloc(buf, cap * 2) : NULL;
			if (nb == NULL) {
				free(buf);
				close(fd);
				err_set(e, "", "%s: too large", path);
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
	}
	close(fd);
	if (n < 0) {
		free(buf);
		err_set(e, "", "%s: %s", path, strerror(errno));
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

/* Loads the configured admin certificate, or the self-signed one next to
 * the database (generated on first start).
 */
static int
tls_load(const struct api_opts *o, const char *host, struct err *e)
{
	char cpath[PATH_MAX + 32], kpath[PATH_MAX + 32];

	if (o->cert_file != NULL && o->key_file != NULL) {
		snprintf(cpath, sizeof(cpath), "%s", o->cert_file);
		snprintf(kpath, sizeof(kpath), "%s", o->key_file);
	} else {
		snprintf(cpath, sizeof(cpath), "%s/admin-cert.pem", api.db_dir);
		snprintf(kpath, sizeof(kpath), "%s/admin-key.pem", api.db_dir);
		if (access(cpath, R_OK) != 0 || access(kpath, R_OK) != 0) {
			if (x509_selfsigned_files(cpath, kpath, host, e) != 0)
				return -1;
			log_info(
			    "admin api: generated a self-signed certificate in %s",
			    cpath);
		}
	}
	if ((api.cert_pem = file_read(cpath, e)) == NULL)
		return -1;
	if ((api.key_pem = file_read(kpath, e)) == NULL)
		return -1;
	return 0;
}

int
api_start(const struct api_opts *o, struct err *e)
{
	struct sockaddr_storage ss;
	const union MHD_DaemonInfo *di;
	const struct api_conn_limits *lim;
	unsigned flags;
	sigset_t all, old;
	bool loopback = false;
	char host[INET6_ADDRSTRLEN + 2], *slash;

	ASSERT(api.d == NULL);
	memset(&api, 0, sizeof(api));
	clock_gettime(CLOCK_MONOTONIC, &api.start);
	if (listen_parse(o->listen != NULL ? o->listen : "127.0.0.1:9080", &ss,
	        &loopback, e) != 0)
		return -1;
	snprintf(api.db_dir, sizeof(api.db_dir), "%s", o->db_path);
	if ((slash = strrchr(api.db_dir, '/')) != NULL)
		*(slash == api.db_dir ? slash + 1 : slash) = '\0';
	else
		snprintf(api.db_dir, sizeof(api.db_dir), ".");
	if (o->webui_dir != NULL)
		snprintf(api.webui, sizeof(api.webui), "%s", o->webui_dir);
	api.config_body_max = o->config_body_max != 0 ? o->config_body_max
	                                              : API_CONFIG_BODY_MAX_DEF;
	if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
		    host, sizeof(host));
	else
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host,
		    sizeof(host));

	if ((api.st = store_open(o->db_path, 0, e)) == NULL)
		goto fail;
	if (auth_init(api.st, api.db_dir, e) != 0)
		goto fail;
	api.tls = !loopback || (o->cert_file != NULL && o->key_file != NULL);
	if (api.tls && tls_load(o, host, e) != 0)
		goto fail;

	flags =
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (api.tls)
		flags |= MHD_USE_TLS;
	/* The MHD thread inherits this mask: signals go to main. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (conns_start(&o->conns, e) != 0)
		goto fail;
	lim = conns_limits();
	/* The library's own total is above ours: we shed first (the margin
	 * covers shed connections not yet closed).
	 */
	if (api.tls)
		api.d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL,
		    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
		    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		    MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
		    MHD_OPTION_NOTIFY_CONNECTION, conns_notify_mhd, NULL,
		    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
		    MHD_OPTION_CONNECTION_LIMIT, lim->max_conns + 64,
		    MHD_OPTION_PER_IP_CONNECTION_LIMIT, lim->max_per_ip,
		    MHD_OPTION_HTTPS_MEM_CERT, api.cert_pem,
		    MHD_OPTION_HTTPS_MEM_KEY, api.key_pem, MHD_OPTION_END);
	else
		api.d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL,
		    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
		    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		    MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
		    MHD_OPTION_NOTIFY_CONNECTION, conns_notify_mhd, NULL,
		    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
		    MHD_OPTION_CONNECTION_LIMIT, lim->max_conns + 64,
		    MHD_OPTION_PER_IP_CONNECTION_LIMIT, lim->max_per_ip,
		    MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (api.d == NULL) {
		err_set(e, "admin-listen", "cannot listen on %s", o->listen);
		goto fail;
	}
	di = MHD_get_daemon_info(api.d, MHD_DAEMON_INFO_BIND_PORT);
	api.port = di != NULL ? di->port : 0;
	log_info("admin API listening on %s://%s%s%s:%u/",
	    api.tls ? "https" : "http", ss.ss_family == AF_INET6 ? "[" : "",
	    host, ss.ss_family == AF_INET6 ? "]" : "", api.port);
	return 0;
fail:
	conns_stop();
	if (api.st != NULL)
		store_close(api.st);
	api.st = NULL;
	rev_cache_clear();
	free(api.cert_pem);
	free(api.key_pem);
	api.cert_pem = api.key_pem = NULL;
	return -1;
}

void
api_stop(void)
{
	if (api.d != NULL) {
		MHD_stop_daemon(api.d);
		api.d = NULL;
	}
	conns_stop();
	if (api.st != NULL)
		store_close(api.st);
	api.st = NULL;
	rev_cache_clear();
	free(api.cert_pem);
	free(api.key_pem);
	api.cert_pem = api.key_pem = NULL;
	api.port = 0;
}
