/*
 * cfg_field.c: the field tables of every configuration kind (cfg_field.h).
 *
 * One row per field. Ranges, enums and defaults are stated here and
 * nowhere else: the API's validator, conf_load(), conf_sync(), the
 * OpenAPI schemas, the web UI (through GET /api/v1/schema) and
 * cfg_compile() all read them from these rows.
 */
#include "cfg_field.h"

#include <stdio.h>
#include <string.h>

#include "check.h"

static const char *const protocols[] = { "http", "https", "tcp", "udp",
	"tls-passthrough", NULL };
static const char *const client_auths[] = { "none", "optional", "required",
	NULL };
/* Order as enum cfg_pathnorm (cfg.h). */
static const char *const path_normalizations[] = { "forward_normalized",
	"forward_as_received", "reject", NULL };
/* Order as enum cfg_balance (cfg.h). */
static const char *const balances[] = { "round_robin", "least_conn", "p2c",
	"hash", "random", NULL };
/* Bit i of cfg_route.retry_on (cfg.h CFG_RETRY_*). */
static const char *const retry_ons[] = { "connect_error", "timeout", "reset",
	"502", "503", "504", "500", "501", "404", "408", "425", "429", NULL };
/* Order as enum cfg_server_state (cfg.h). */
static const char *const server_states[] = { "active", "drain", "disabled",
	NULL };
/* Order as enum compress_enc - 1 (compress.h). */
static const char *const compress_codings[] = { "gzip", "br", NULL };
static const char *const hc_methods[] = { "GET", "HEAD", "OPTIONS", NULL };
static const char *const acl_defaults[] = { "deny", "allow", NULL };
static const char *const acl_satisfy[] = { "any", "all", NULL };
static const char *const rl_pers[] = { "second", "minute", "hour", NULL };
static const char *const methods[] = { "GET", "HEAD", "POST", "PUT", "DELETE",
	"PATCH", "OPTIONS", "CONNECT", "TRACE", NULL };

#define ID                                                               \
	{                                                                \
		.key = "id", .column = "id", .type = F_ID, .parent = -1, \
		.flags = F_NULLABLE, .min = 1, .max = INT64_MAX,         \
		.doc = "assigned by the server; stable across renames"   \
	}
#define NAME                                                                  \
	{                                                                     \
		.key = "name", .column = "name", .type = F_STR, .parent = -1, \
		.flags = F_REQUIRED, .max = CV_NAME_MAX, .vtype = CV_NAME,    \
		.doc = "unique within its kind; not all digits"               \
	}
#define MS(k, c, p, lo, d, text)                                            \
	{                                                                   \
		.key = k, .column = c, .type = F_INT, .parent = p,          \
		.flags = F_NULLABLE, .min = lo, .max = CF_MAX_MS, .def = d, \
		.doc = text                                                 \
	}

/* Header rules (hdr_rules.h): an object of set, add and remove. */
#define HDRS(k, c, text)                                                 \
	{                                                                \
		.key = k, .type = F_OBJ, .parent = -1, .flags = F_NOCOL, \
		.doc = text                                              \
	}
#define HSET(k, c, p)                                                          \
	{                                                                      \
		.key = k, .column = c, .type = F_MAP, .parent = p, .max = 100, \
		.vtype = CV_TEMPLATE, .ktype = CV_HEADER_SETTABLE,             \
		.doc = "name: value (with {variables}); replaces the "         \
		       "message's own"                                         \
	}
#define HADD(k, c, p)                                                          \
	{                                                                      \
		.key = k, .column = c, .type = F_MAP, .parent = p, .max = 100, \
		.vtype = CV_TEMPLATE, .ktype = CV_HEADER_SETTABLE,             \
		.doc = "name: value (with {variables}); added to the "         \
		       "message's own"                                         \
	}
#define HREM(c, p)                                                         \
	{                                                                  \
		.key = "remove", .column = c, .type = F_LIST, .parent = p, \
		.max = 100, .vtype = CV_HEADER_NAME,                       \
		.doc = "header names taken out"                            \
	}

/* clang-format off */
static const struct cf_field listener_f[LF__N] = {
	[LF_ID] = ID,
	[LF_NAME] = NAME,
	[LF_ADDRESS] = { .key = "address", .column = "address", .type = F_STR,
		.parent = -1, .flags = F_REQUIRED, .vtype = CV_ADDRESS,
		.doc = "numeric IPv4 or IPv6 address to listen on" },
	[LF_PORT] = { .key = "port", .column = "port", .type = F_INT,
		.parent = -1, .flags = F_REQUIRED, .min = 0, .max = 65535,
		.doc = "0: a port chosen by the kernel" },
	[LF_PROTOCOL] = { .key = "protocol", .column = "protocol",
		.type = F_ENUM, .parent = -1, .enums = protocols,
		.def_str = "http" },
	[LF_TIMEOUTS] = { .key = "timeouts", .type = F_OBJ, .parent = -1,
		.flags = F_NOCOL },
	[LF_HEADER_MS] = MS("header_ms", "header_timeout_ms", LF_TIMEOUTS, 1,
		10000, "longest wait for a request head, ms"),
	[LF_KEEPALIVE_MS] = MS("keepalive_ms", "keepalive_timeout_ms",
		LF_TIMEOUTS, 0, 75000,
		"idle keep-alive connections close after this, ms"),
	[LF_TRUST_FORWARDED] = { .key = "trust_forwarded",
		.column = "trust_forwarded", .type = F_BOOL, .parent = -1,
		.max = 1, .doc = "keep the client's X-Forwarded-* headers" },
	[LF_DEFAULT_CERTIFICATE] = { .key = "default_certificate",
		.column = "default_certificate_id", .type = F_REF,
		.parent = -1, .flags = F_NULLABLE, .ref = CK_CERTIFICATE,
		.doc = "https: certificate served when no SNI name matches" },
	[LF_CLIENT_AUTH] = { .key = "client_auth", .column = "client_auth",
		.type = F_ENUM, .parent = -1, .enums = client_auths,
		.def_str = "none", .doc = "https: client certificates" },
	[LF_CLIENT_CA] = { .key = "client_ca", .column = "client_ca_id",
		.type = F_REF, .parent = -1, .flags = F_NULLABLE,
		.ref = CK_CERTIFICATE,
		.doc = "CA certificate that verifies client certificates" },
	[LF_MAX_CONNECTIONS] = { .key = "max_connections",
		.column = "max_connections", .type = F_INT, .parent = -1,
		.flags = F_NULLABLE, .min = 1, .max = 1000000,
		.doc = "most open connections (udp: sessions) across workers; "
		       "absent: no limit" },
	[LF_PROXY_PROTOCOL_FROM] = { .key = "proxy_protocol_from",
		.column = "proxy_protocol_from", .type = F_LIST, .parent = -1,
		.max = 1000, .vtype = CV_CIDR,
		.doc = "clients that must send a PROXY protocol header" },
	[LF_PATH_NORMALIZATION] = { .key = "path_normalization",
		.column = "path_normalization", .type = F_ENUM, .parent = -1,
		.enums = path_normalizations, .def_str = "forward_normalized",
		.doc = "http, https: routes match the normalised path; "
		       "forward it, forward the path as received, or reject "
		       "a path that normalisation changes (400)" },
	[LF_TRUSTED_PROXIES] = { .key = "trusted_proxies",
		.column = "trusted_proxies", .type = F_LIST, .parent = -1,
		.max = 1000, .vtype = CV_CIDR,
		.doc = "http, https: proxies in front (CDN, load balancer); "
		       "from them the client is the right-most "
		       "X-Forwarded-For entry not listed here" },
	[LF_MAX_CONNS_PER_CLIENT] = { .key = "max_connections_per_client",
		.column = "max_connections_per_client", .type = F_INT,
		.parent = -1, .flags = F_NULLABLE, .min = 1, .max = 1000000,
		.doc = "http, https, tcp, tls-passthrough: most connections open "
		       "at once from one address; absent: no limit" },
	[LF_ERROR_PAGES] = { .key = "error_pages", .column = "error_pages_id",
		.type = F_REF, .parent = -1, .flags = F_NULLABLE,
		.ref = CK_ERROR_PAGES,
		.doc = "http, https: pages for the answers the proxy makes "
		       "itself (404 with no route too); a route's own win" },
};

static const struct cf_field origin_f[OF__N] = {
	[OF_ID] = ID,
	[OF_NAME] = NAME,
	[OF_BALANCE] = { .key = "balance", .column = "balance_algorithm",
		.type = F_ENUM, .parent = -1, .enums = balances,
		.def_str = "round_robin",
		.doc = "server choice: smooth weighted round-robin, fewest "
		       "requests in flight, power of two choices on in-flight "
		       "and latency, consistent hash of hash_key, random" },
	[OF_HASH_KEY] = { .key = "hash_key", .column = "hash_key",
		.type = F_STR, .parent = -1, .flags = F_NULLABLE, .max = 128,
		.vtype = CV_HASH_KEY,
		.doc = "balance hash: client_ip (absent), header:NAME, "
		       "cookie:NAME or path; tcp and udp listeners always "
		       "hash the client address" },
	[OF_TLS] = { .key = "tls", .type = F_OBJ, .parent = -1,
		.flags = F_NOCOL, .doc = "TLS towards the servers" },
	[OF_TLS_ENABLED] = { .key = "enabled", .column = "tls_enabled",
		.type = F_BOOL, .parent = OF_TLS, .max = 1 },
	[OF_TLS_VERIFY] = { .key = "verify", .column = "tls_verify",
		.type = F_BOOL, .parent = OF_TLS, .max = 1, .def = 1 },
	[OF_TLS_CA] = { .key = "ca", .column = "tls_ca_id", .type = F_REF,
		.parent = OF_TLS, .flags = F_NULLABLE, .ref = CK_CERTIFICATE,
		.doc = "absent: the system trust store" },
	[OF_TLS_SNI] = { .key = "sni", .column = "tls_sni", .type = F_STR,
		.parent = OF_TLS, .flags = F_NULLABLE, .max = CV_HOST_MAX + 1,
		.vtype = CV_SERVER_NAME,
		.doc = "server name sent and verified" },
	[OF_TLS_CLIENT_CERTIFICATE] = { .key = "client_certificate",
		.column = "tls_client_certificate_id", .type = F_REF,
		.parent = OF_TLS, .flags = F_NULLABLE, .ref = CK_CERTIFICATE },
	[OF_PROXY_PROTOCOL] = { .key = "proxy_protocol",
		.column = "proxy_protocol", .type = F_INT, .parent = -1,
		.min = 0, .max = 2,
		.doc = "PROXY header sent to the servers: 0 none, 1 v1, 2 v2" },
	[OF_HEALTH] = { .key = "health_check", .type = F_OBJ, .parent = -1,
		.flags = F_NOCOL | F_NULLABLE,
		.doc = "active health checks; null: none" },
	[OF_HC_PATH] = { .key = "path", .column = "hc_path", .type = F_STR,
		.parent = OF_HEALTH, .flags = F_REQUIRED, .max = CV_PATH_MAX,
		.vtype = CV_REQUEST_PATH },
	[OF_HC_METHOD] = { .key = "method", .column = "hc_method",
		.type = F_ENUM, .parent = OF_HEALTH, .enums = hc_methods,
		.def_str = "GET", .doc = "the request method of the check" },
	[OF_HC_HOST] = { .key = "host", .column = "hc_host", .type = F_STR,
		.parent = OF_HEALTH, .flags = F_NULLABLE,
		.max = CV_HOST_MAX + 2, .vtype = CV_HOST_HEADER,
		.doc = "Host header; absent: the server's address" },
	[OF_HC_INTERVAL_MS] = { .key = "interval_ms",
		.column = "hc_interval_ms", .type = F_INT,
		.parent = OF_HEALTH, .min = 100, .max = 3600000,
		.def = 5000 },
	[OF_HC_TIMEOUT_MS] = { .key = "timeout_ms", .column = "hc_timeout_ms",
		.type = F_INT, .parent = OF_HEALTH, .min = 10, .max = 600000,
		.def = 2000, .doc = "shorter than interval_ms" },
	[OF_HC_RISE] = { .key = "rise", .column = "hc_rise", .type = F_INT,
		.parent = OF_HEALTH, .min = 1, .max = 100, .def = 2,
		.doc = "passes in a row to go up" },
	[OF_HC_FALL] = { .key = "fall", .column = "hc_fall", .type = F_INT,
		.parent = OF_HEALTH, .min = 1, .max = 100, .def = 3,
		.doc = "failures in a row to go down" },
	[OF_HC_STATUS_MIN] = { .key = "status_min", .column = "hc_status_min",
		.type = F_INT, .parent = OF_HEALTH, .min = 100, .max = 599,
		.def = 200 },
	[OF_HC_STATUS_MAX] = { .key = "status_max", .column = "hc_status_max",
		.type = F_INT, .parent = OF_HEALTH, .min = 100, .max = 599,
		.def = 399, .doc = "at least status_min" },
	[OF_QUEUE] = { .key = "queue", .type = F_OBJ, .parent = -1,
		.flags = F_NOCOL | F_NULLABLE,
		.doc = "requests wait for a server below its max_connections; "
		       "null: none (503 at once)" },
	[OF_QUEUE_MAX] = { .key = "max", .column = "queue_max", .type = F_INT,
		.parent = OF_QUEUE, .flags = F_REQUIRED | F_NULLABLE, .min = 1,
		.max = 100000, .doc = "most requests waiting; more get 503" },
	[OF_QUEUE_TIMEOUT_MS] = MS("timeout_ms", "queue_timeout_ms", OF_QUEUE,
		1, 5000, "longest wait, ms; then 503"),
	[OF_STICKY] = { .key = "sticky", .type = F_OBJ, .parent = -1,
		.flags = F_NOCOL | F_NULLABLE,
		.doc = "sticky sessions: a cookie names the server; null: none" },
	[OF_STICKY_COOKIE] = { .key = "cookie", .column = "sticky_cookie",
		.type = F_STR, .parent = OF_STICKY, .flags = F_REQUIRED,
		.max = CV_NAME_MAX, .vtype = CV_NAME,
		.doc = "the cookie's name" },
	[OF_STICKY_TTL_S] = { .key = "ttl_s", .column = "sticky_ttl_s",
		.type = F_INT, .parent = OF_STICKY, .min = 0, .max = 31536000,
		.def = 0, .doc = "its Max-Age, s; 0: a session cookie" },
	[OF_STICKY_SECURE] = { .key = "secure", .column = "sticky_secure",
		.type = F_BOOL, .parent = OF_STICKY, .max = 1,
		.doc = "sent with the Secure attribute (HTTPS only)" },
	[OF_PASSIVE] = { .key = "passive_health", .type = F_OBJ, .parent = -1,
		.flags = F_NOCOL | F_NULLABLE,
		.doc = "servers that fail requests are ejected for a while; "
		       "null: none" },
	[OF_PH_FAILURES] = { .key = "consecutive_failures",
		.column = "ph_consecutive_failures", .type = F_INT,
		.parent = OF_PASSIVE, .flags = F_REQUIRED | F_NULLABLE,
		.min = 1, .max = 1000,
		.doc = "failures in a row that eject a server" },
	[OF_PH_STATUSES] = { .key = "failure_statuses",
		.column = "ph_failure_statuses", .type = F_LIST,
		.parent = OF_PASSIVE, .flags = F_INTS, .max = 100,
		.doc = "response statuses that count as failures, besides "
		       "connect errors, timeouts and resets" },
	[OF_PH_EJECT_S] = { .key = "eject_s", .column = "ph_eject_s",
		.type = F_INT, .parent = OF_PASSIVE, .min = 1, .max = 86400,
		.def = 30,
		.doc = "first ejection, s; doubled on each repeat" },
	[OF_PH_MAX_EJECTED] = { .key = "max_ejected_percent",
		.column = "ph_max_ejected_percent", .type = F_INT,
		.parent = OF_PASSIVE, .min = 0, .max = 100, .def = 50,
		.doc = "never more of the origin's servers ejected at once" },
	[OF_SERVERS] = { .key = "servers", .type = F_CHILDREN, .parent = -1,
		.flags = F_NOCOL | F_REQUIRED, .min = 1, .max = 1000,
		.ref = CK_SERVER },
};

static const struct cf_field server_f[SF__N] = {
	[SF_ID] = ID,
	[SF_ADDRESS] = { .key = "address", .column = "address", .type = F_STR,
		.parent = -1, .flags = F_REQUIRED, .vtype = CV_ADDRESS,
		.doc = "numeric IPv4 or IPv6 address" },
	[SF_PORT] = { .key = "port", .column = "port", .type = F_INT,
		.parent = -1, .flags = F_REQUIRED, .min = 1, .max = 65535 },
	[SF_WEIGHT] = { .key = "weight", .column = "weight", .type = F_INT,
		.parent = -1, .min = 1, .max = 1000, .def = 1 },
	[SF_STATE] = { .key = "state", .column = "state", .type = F_ENUM,
		.parent = -1, .enums = server_states, .def_str = "active",
		.doc = "drain: no new requests, in-flight ones and tunnels "
		       "finish; disabled: no requests" },
	[SF_SLOW_START_S] = { .key = "slow_start_s", .column = "slow_start_s",
		.type = F_INT, .parent = -1, .min = 0, .max = 3600, .def = 0,
		.doc = "its weight ramps up over this long after it becomes "
		       "usable; 0: at once" },
	[SF_MAX_CONNECTIONS] = { .key = "max_connections",
		.column = "max_connections", .type = F_INT, .parent = -1,
		.flags = F_NULLABLE, .min = 1, .max = 1000000,
		.doc = "most requests in flight at once; absent: no limit" },
};

static const struct cf_field route_f[RF__N] = {
	[RF_ID] = ID,
	[RF_NAME] = NAME,
	[RF_LISTENER] = { .key = "listener", .column = "listener_id",
		.type = F_REF, .parent = -1, .ref = CK_LISTENER,
		.doc = "the listener it serves: \"listeners\" of one; one of "
		       "the two is required" },
	[RF_LISTENERS] = { .key = "listeners", .type = F_REFS, .parent = -1,
		.flags = F_NOCOL, .min = 1, .max = 64, .ref = CK_LISTENER,
		.join = "route_listeners", .single = RF_LISTENER,
		.doc = "the listeners it serves, several (one is shown as "
		       "\"listener\")" },
	[RF_MATCH] = { .key = "match", .type = F_OBJ, .parent = -1,
		.flags = F_NOCOL },
	[RF_HOSTS] = { .key = "hosts", .column = "hosts", .type = F_LIST,
		.parent = RF_MATCH, .max = 1000, .vtype = CV_HOST,
		.doc = "exact names, \"*.suffix\" or IPv6 literals; "
		       "empty: any host" },
	[RF_PATH_PREFIX] = { .key = "path_prefix", .column = "path_prefix",
		.type = F_STR, .parent = RF_MATCH, .max = CV_PATH_MAX,
		.vtype = CV_PATH_PREFIX, .def_str = "/" },
	[RF_METHODS] = { .key = "methods", .column = "methods",
		.type = F_LIST, .parent = RF_MATCH, .max = 9,
		.enums = methods, .doc = "empty: any method" },
	[RF_SNI] = { .key = "sni", .column = "sni", .type = F_LIST,
		.parent = RF_MATCH, .max = 1000, .vtype = CV_SNI_PATTERN,
		.doc = "TLS server names passed through (tls-passthrough, "
		       "https)" },
	[RF_SOURCES] = { .key = "sources", .column = "sources",
		.type = F_LIST, .parent = RF_MATCH, .max = 1000,
		.vtype = CV_CIDR,
		.doc = "client address blocks (L4); empty: any" },
	[RF_ORIGIN] = { .key = "origin", .column = "origin_id", .type = F_REF,
		.parent = -1, .flags = F_NULLABLE, .ref = CK_ORIGIN,
		.doc = "required unless the route has redirect or respond" },
	[RF_PRIORITY] = { .key = "priority", .column = "priority",
		.type = F_INT, .parent = -1, .min = -1000000, .max = 1000000,
		.doc = "higher is tried first" },
	[RF_FORWARDED] = { .key = "forwarded", .column = "forwarded",
		.type = F_BOOL, .parent = -1, .max = 1,
		.doc = "add an RFC 7239 Forwarded header" },
	[RF_MAX_BODY_BYTES] = { .key = "max_body_bytes",
		.column = "max_body_bytes", .type = F_INT, .parent = -1,
		.flags = F_NULLABLE, .min = 0, .max = INT64_C(1) << 53,
		.doc = "largest request body; absent or 0: no limit" },
	[RF_TIMEOUTS] = { .key = "timeouts", .type = F_OBJ, .parent = -1,
		.flags = F_NOCOL },
	[RF_CONNECT_MS] = MS("connect_ms", "connect_timeout_ms", RF_TIMEOUTS,
		1, 5000, "connecting to a server, ms"),
	[RF_RESPONSE_MS] = MS("response_ms", "response_timeout_ms",
		RF_TIMEOUTS, 1, 60000, "waiting for the response head, ms"),
	[RF_IDLE_MS] = MS("idle_ms", "idle_timeout_ms", RF_TIMEOUTS, 1, 60000,
		"silence on an open exchange, ms"),
	[RF_REDIRECT_HTTPS] = { .key = "redirect_https",
		.column = "redirect_https", .type = F_BOOL, .parent = -1,
		.max = 1, .doc = "http listeners: answer 308 to https://" },
	[RF_HSTS_MAX_AGE] = { .key = "hsts_max_age", .column = "hsts_max_age",
		.type = F_INT, .parent = -1, .flags = F_NULLABLE, .min = 0,
		.max = 2147483647,
		.doc = "https: Strict-Transport-Security max-age, s; absent: "
		       "no header" },
	[RF_PATH_NORMALIZATION] = { .key = "path_normalization",
		.column = "path_normalization", .type = F_ENUM, .parent = -1,
		.flags = F_NULLABLE, .enums = path_normalizations,
		.doc = "overrides the listener's; absent: the listener's" },
	[RF_ACCESS_LIST] = { .key = "access_list", .column = "access_list_id",
		.type = F_REF, .parent = -1, .flags = F_NULLABLE,
		.ref = CK_ACCESS_LIST,
		.doc = "who may use the route: addresses and basic auth users" },
	[RF_RATE_LIMIT] = { .key = "rate_limit", .column = "rate_limit_id",
		.type = F_REF, .parent = -1, .flags = F_NULLABLE,
		.ref = CK_RATE_LIMIT,
		.doc = "requests over the limit get 429" },
	[RF_REDIRECT] = { .key = "redirect", .type = F_OBJ, .parent = -1,
		.flags = F_NOCOL | F_NULLABLE,
		.doc = "answer with a redirect instead of an origin; null: "
		       "none" },
	[RF_REDIRECT_TO] = { .key = "to", .column = "redirect_to",
		.type = F_STR, .parent = RF_REDIRECT, .flags = F_REQUIRED,
		.max = 2048, .vtype = CV_TEMPLATE,
		.doc = "Location, with {host}, {path}, {scheme}, ... "
		       "(\"https://{host}{path}\")" },
	[RF_REDIRECT_STATUS] = { .key = "status", .column = "redirect_status",
		.type = F_INT, .parent = RF_REDIRECT, .min = 301, .max = 308,
		.def = 308, .doc = "301, 302, 303, 307 or 308" },
	[RF_REDIRECT_DROP_QUERY] = { .key = "drop_query",
		.column = "redirect_drop_query", .type = F_BOOL,
		.parent = RF_REDIRECT, .max = 1,
		.doc = "leave the request's query out of Location" },
	[RF_RESPOND] = { .key = "respond", .type = F_OBJ, .parent = -1,
		.flags = F_NOCOL | F_NULLABLE,
		.doc = "answer with a fixed response instead of an origin; "
		       "null: none" },
	[RF_RESPOND_STATUS] = { .key = "status", .column = "respond_status",
		.type = F_INT, .parent = RF_RESPOND,
		.flags = F_REQUIRED | F_NULLABLE, .min = 200, .max = 599 },
	[RF_RESPOND_CONTENT_TYPE] = { .key = "content_type",
		.column = "respond_content_type", .type = F_STR,
		.parent = RF_RESPOND, .max = 256, .vtype = CV_LINE,
		.def_str = "text/plain; charset=utf-8" },
	[RF_RESPOND_BODY] = { .key = "body", .column = "respond_body",
		.type = F_STR, .parent = RF_RESPOND, .max = 65536,
		.def_str = "", .doc = "sent as is (not for HEAD, 204, 304)" },
	[RF_REWRITE] = { .key = "rewrite", .type = F_OBJ, .parent = -1,
		.flags = F_NOCOL | F_NULLABLE,
		.doc = "the path sent to the origin; null: as received" },
	[RF_REWRITE_PREFIX] = { .key = "replace_prefix",
		.column = "rewrite_replace_prefix", .type = F_STR,
		.parent = RF_REWRITE, .flags = F_REQUIRED, .max = CV_PATH_MAX,
		.vtype = CV_PATH_PREFIX,
		.doc = "replaces the matched match.path_prefix" },
	[RF_REQUEST_HEADERS] = HDRS("request_headers", "request_headers",
		"headers of the request sent to the origin"),
	[RF_REQH_SET] = HSET("set", "request_headers_set", RF_REQUEST_HEADERS),
	[RF_REQH_ADD] = HADD("add", "request_headers_add", RF_REQUEST_HEADERS),
	[RF_REQH_REMOVE] = HREM("request_headers_remove", RF_REQUEST_HEADERS),
	[RF_RESPONSE_HEADERS] = HDRS("response_headers", "response_headers",
		"headers of the origin's response sent to the client"),
	[RF_RESPH_SET] = HSET("set", "response_headers_set",
		RF_RESPONSE_HEADERS),
	[RF_RESPH_ADD] = HADD("add", "response_headers_add",
		RF_RESPONSE_HEADERS),
	[RF_RESPH_REMOVE] = HREM("response_headers_remove",
		RF_RESPONSE_HEADERS),
	[RF_REQUEST_ID] = { .key = "request_id", .column = "request_id",
		.type = F_BOOL, .parent = -1, .max = 1,
		.doc = "keep the client's X-Request-ID or add one; logged" },
	[RF_MAINTENANCE] = { .key = "maintenance", .type = F_OBJ,
		.parent = -1, .flags = F_NOCOL,
		.doc = "answer 503 to every client but allow" },
	[RF_MAINT_ENABLED] = { .key = "enabled",
		.column = "maintenance_enabled", .type = F_BOOL,
		.parent = RF_MAINTENANCE, .max = 1 },
	[RF_MAINT_RETRY_AFTER_S] = { .key = "retry_after_s",
		.column = "maintenance_retry_after_s", .type = F_INT,
		.parent = RF_MAINTENANCE, .flags = F_NULLABLE, .min = 0,
		.max = 604800, .doc = "Retry-After, s; absent: no header" },
	[RF_ERROR_PAGES] = { .key = "error_pages", .column = "error_pages_id",
		.type = F_REF, .parent = -1, .flags = F_NULLABLE,
		.ref = CK_ERROR_PAGES,
		.doc = "pages for the answers the proxy makes itself" },
	[RF_MAINT_ALLOW] = { .key = "allow", .column = "maintenance_allow",
		.type = F_LIST, .parent = RF_MAINTENANCE, .max = 1000,
		.vtype = CV_CIDR,
		.doc = "clients still served: addresses or CIDR blocks" },
	[RF_RETRIES] = { .key = "retries", .type = F_OBJ, .parent = -1,
		.flags = F_NOCOL | F_NULLABLE,
		.doc = "requests safe to repeat are tried again on another "
		       "server; null: only a stale keep-alive connection or a "
		       "refused connect is, once" },
	[RF_RETRY_ATTEMPTS] = { .key = "attempts", .column = "retry_attempts",
		.type = F_INT, .parent = RF_RETRIES,
		.flags = F_REQUIRED | F_NULLABLE, .min = 1, .max = 10,
		.doc = "most tries after the first" },
	[RF_RETRY_ON] = { .key = "on", .column = "retry_on", .type = F_LIST,
		.parent = RF_RETRIES, .max = 12, .enums = retry_ons,
		.doc = "what is retried: failures, and statuses the server "
		       "answered (tried again on another server); empty: "
		       "connect_error and reset" },
	[RF_RETRY_BUDGET] = { .key = "budget_percent",
		.column = "retry_budget_percent", .type = F_INT,
		.parent = RF_RETRIES, .min = 0, .max = 100, .def = 20,
		.doc = "retries stay below this share of the route's requests "
		       "(with a reserve of 10)" },
	[RF_COMPRESS] = { .key = "compress", .type = F_OBJ, .parent = -1,
		.flags = F_NOCOL | F_NULLABLE,
		.doc = "responses sent gzip or br as the client's "
		       "Accept-Encoding asks (doc/compression.md); null: none" },
	[RF_COMPRESS_TYPES] = { .key = "types", .column = "compress_types",
		.type = F_LIST, .parent = RF_COMPRESS,
		.flags = F_REQUIRED | F_NULLABLE,
		.max = 100, .vtype = CV_MEDIA_RANGE,
		.doc = "Content-Type patterns compressed: \"text/*\", "
		       "\"application/json\"" },
	[RF_COMPRESS_MIN_BYTES] = { .key = "min_bytes",
		.column = "compress_min_bytes", .type = F_INT,
		.parent = RF_COMPRESS, .min = 0, .max = 1073741824, .def = 1024,
		.doc = "responses of a known length below this are sent as "
		       "they are" },
	[RF_FORWARD_AUTH] = { .key = "forward_auth", .type = F_OBJ,
		.parent = -1, .flags = F_NOCOL | F_NULLABLE,
		.doc = "an auth service's subrequest decides each request "
		       "first; null: none" },
	[RF_FA_ORIGIN] = { .key = "origin", .column = "forward_auth_origin_id",
		.type = F_REF, .parent = RF_FORWARD_AUTH,
		.flags = F_REQUIRED, .ref = CK_ORIGIN,
		.doc = "the auth service: an origin (its servers, balancing, "
		       "TLS and health)" },
	[RF_FA_PATH] = { .key = "path", .column = "forward_auth_path",
		.type = F_STR, .parent = RF_FORWARD_AUTH,
		.flags = F_REQUIRED, .max = CV_PATH_MAX,
		.vtype = CV_REQUEST_PATH,
		.doc = "the subrequest's path (\"/api/verify\")" },
	[RF_FA_COPY_HEADERS] = { .key = "copy_headers",
		.column = "forward_auth_copy_headers", .type = F_LIST,
		.parent = RF_FORWARD_AUTH, .max = 32,
		.vtype = CV_HEADER_SETTABLE,
		.doc = "headers of its 2xx answer copied to the request "
		       "(first removed from the client's)" },
	[RF_COMPRESS_CODINGS] = { .key = "codings",
		.column = "compress_codings", .type = F_LIST,
		.parent = RF_COMPRESS, .max = 2, .enums = compress_codings,
		.doc = "the codings offered, of the client's Accept-Encoding: "
		       "\"gzip\", \"br\"; empty: both" },
	[RF_COMPRESS_GZIP_LEVEL] = { .key = "gzip_level",
		.column = "compress_gzip_level", .type = F_INT,
		.parent = RF_COMPRESS, .min = 1, .max = 9, .def = 5,
		.doc = "gzip's level: 1 fastest, 9 smallest" },
	[RF_COMPRESS_BR_LEVEL] = { .key = "br_level",
		.column = "compress_br_level", .type = F_INT,
		.parent = RF_COMPRESS, .min = 0, .max = 11, .def = 3,
		.doc = "brotli's quality: 0 fastest, 11 smallest (10 and 11 "
		       "are slow and use several MB a stream)" },
};

static const struct cf_field certificate_f[CEF__N] = {
	[CEF_ID] = ID,
	[CEF_NAME] = NAME,
};

static const struct cf_field access_list_f[ALF__N] = {
	[ALF_ID] = ID,
	[ALF_NAME] = NAME,
	[ALF_ALLOW] = { .key = "allow", .column = "allow", .type = F_LIST,
		.parent = -1, .max = 1000, .vtype = CV_CIDR,
		.doc = "client addresses allowed" },
	[ALF_DENY] = { .key = "deny", .column = "deny", .type = F_LIST,
		.parent = -1, .max = 1000, .vtype = CV_CIDR,
		.doc = "client addresses denied (403); deny wins over allow" },
	[ALF_DEFAULT] = { .key = "default", .column = "default_action",
		.type = F_ENUM, .parent = -1, .enums = acl_defaults,
		.def_str = "deny",
		.doc = "addresses in neither list" },
	[ALF_BASIC_AUTH] = { .key = "basic_auth", .type = F_OBJ,
		.parent = -1, .flags = F_NOCOL,
		.doc = "users who may pass with a password (HTTP basic auth)" },
	[ALF_REALM] = { .key = "realm", .column = "realm", .type = F_STR,
		.parent = ALF_BASIC_AUTH, .max = 128, .vtype = CV_REALM,
		.def_str = "Restricted" },
	[ALF_USERS] = { .key = "users", .type = F_CHILDREN,
		.parent = ALF_BASIC_AUTH, .flags = F_NOCOL, .min = 0,
		.max = 1000, .ref = CK_ACCESS_USER },
	[ALF_SATISFY] = { .key = "satisfy", .column = "satisfy",
		.type = F_ENUM, .parent = -1, .enums = acl_satisfy,
		.def_str = "any",
		.doc = "any: an allowed address or a user passes; all: both are "
		       "needed" },
};

static const struct cf_field access_user_f[AUF__N] = {
	[AUF_ID] = ID,
	[AUF_USERNAME] = { .key = "username", .column = "username",
		.type = F_STR, .parent = -1, .flags = F_REQUIRED,
		.max = CV_NAME_MAX, .vtype = CV_USER_NAME },
	[AUF_PASSWORD] = { .key = "password", .type = F_STR, .parent = -1,
		.flags = F_NULLABLE | F_NOCOL | F_WRITEONLY, .max = 1024,
		.doc = "hashed (argon2id) when written, never returned; absent: "
		       "the user keeps the password it has" },
	[AUF_PASSWORD_HASH] = { .key = "password_hash",
		.column = "password_hash", .type = F_STR, .parent = -1,
		.flags = F_NULLABLE | F_WRITEONLY, .max = 1024,
		.vtype = CV_CRYPT_HASH,
		.doc = "instead of password: an argon2id or crypt(3) hash "
		       "($2b$, $6$, $y$), as in an htpasswd file; never "
		       "returned" },
	[AUF_PASSWORD_TAG] = { .key = "password_tag",
		.column = "password_tag", .type = F_STR, .parent = -1,
		.flags = F_NULLABLE, .max = 64,
		.doc = "read-only: changes whenever the password does" },
};

static const struct cf_field error_pages_f[EPF__N] = {
	[EPF_ID] = ID,
	[EPF_NAME] = NAME,
	[EPF_PAGES] = { .key = "pages", .column = "pages", .type = F_MAP,
		.parent = -1, .min = 262144, .max = 200, .vtype = CV_ANY,
		.ktype = CV_ERROR_STATUS,
		.doc = "status code (400 to 599): the page, sent as text/html" },
	[EPF_INTERCEPT] = { .key = "intercept", .column = "intercept",
		.type = F_BOOL, .parent = -1, .max = 1,
		.doc = "replace the origin's own error answers too" },
};

static const struct cf_field rate_limit_f[RLF__N] = {
	[RLF_ID] = ID,
	[RLF_NAME] = NAME,
	[RLF_RATE] = { .key = "rate", .column = "rate", .type = F_INT,
		.parent = -1, .flags = F_REQUIRED, .min = 1, .max = 1000000,
		.doc = "requests per <per>, on average" },
	[RLF_PER] = { .key = "per", .column = "per", .type = F_ENUM,
		.parent = -1, .enums = rl_pers, .def_str = "second" },
	[RLF_BURST] = { .key = "burst", .column = "burst", .type = F_INT,
		.parent = -1, .flags = F_NULLABLE, .min = 1, .max = 1000000,
		.doc = "requests at once above the rate; absent: rate" },
	[RLF_KEY] = { .key = "key", .column = "key", .type = F_STR,
		.parent = -1, .max = 80, .vtype = CV_RATE_KEY,
		.def_str = "client_ip",
		.doc = "what gets its own bucket: client_ip, header:NAME or "
		       "route" },
	[RLF_MAX_KEYS] = { .key = "max_keys", .column = "max_keys",
		.type = F_INT, .parent = -1, .min = 64, .max = 10000000,
		.def = 100000,
		.doc = "keys kept at once (memory: about 48 bytes each); the "
		       "least recently used goes first" },
};

static const char *const roles[] = { "admin", "viewer", NULL };

/* Admin API users and tokens (api_users.c): checked and documented from
 * these rows; their own code writes them (passwords hashed, tokens made).
 */
static const struct cf_field user_f[UF__N] = {
	[UF_ID] = ID,
	[UF_NAME] = { .key = "name", .column = "name", .type = F_STR,
		.parent = -1, .flags = F_REQUIRED, .max = CV_NAME_MAX,
		.vtype = CV_USER_NAME },
	[UF_PASSWORD] = { .key = "password", .type = F_STR, .parent = -1,
		.flags = F_NULLABLE | F_NOCOL | F_WRITEONLY, .max = 1024,
		.doc = "required to create; 12 characters or more (or a "
		       "passphrase of 3 or more words), at least 5 different "
		       "characters, not digits only, not the user name, not a "
		       "common password" },
	[UF_CURRENT_PASSWORD] = { .key = "current_password", .type = F_STR,
		.parent = -1, .flags = F_NULLABLE | F_NOCOL | F_WRITEONLY,
		.max = 1024,
		.doc = "required when changing your own password" },
	[UF_ROLE] = { .key = "role", .column = "role", .type = F_ENUM,
		.parent = -1, .enums = roles, .def_str = "admin" },
	[UF_CREATED_AT] = { .key = "created_at", .column = "created_at",
		.type = F_INT, .parent = -1, .flags = F_READONLY, .min = 0,
		.max = INT64_MAX, .doc = "Unix time" },
};

static const struct cf_field token_f[TF__N] = {
	[TF_ID] = ID,
	[TF_NAME] = { .key = "name", .column = "name", .type = F_STR,
		.parent = -1, .flags = F_REQUIRED, .max = CV_NAME_MAX,
		.vtype = CV_USER_NAME },
	[TF_ROLE] = { .key = "role", .column = "role", .type = F_ENUM,
		.parent = -1, .enums = roles, .def_str = "viewer",
		.doc = "the token acts with the lower of this and its owner's "
		       "role" },
	[TF_EXPIRES_AT] = { .key = "expires_at", .column = "expires_at",
		.type = F_INT, .parent = -1, .flags = F_NULLABLE, .min = 1,
		.max = INT64_C(1) << 40,
		.doc = "Unix time; absent or null: never" },
	[TF_EXPIRES_IN] = { .key = "expires_in", .type = F_INT,
		.parent = -1, .flags = F_NULLABLE | F_NOCOL | F_WRITEONLY,
		.min = 1, .max = INT64_C(1) << 32,
		.doc = "seconds from now, instead of expires_at; on creation "
		       "only" },
	[TF_CREATED_AT] = { .key = "created_at", .column = "created_at",
		.type = F_INT, .parent = -1, .flags = F_READONLY, .min = 0,
		.max = INT64_MAX, .doc = "Unix time" },
	[TF_CREATED_BY] = { .key = "created_by", .column = "created_by",
		.type = F_STR, .parent = -1, .flags = F_READONLY,
		.max = 128, .doc = "who made it" },
	[TF_OWNER] = { .key = "owner", .column = "owner_id", .type = F_REF,
		.parent = -1, .flags = F_READONLY | F_NULLABLE,
		.max = CV_NAME_MAX, .ref = CK_USER,
		.doc = "the user the token belongs to: it acts with the lower "
		       "of its own role and the owner's, and is deleted with "
		       "the owner" },
};

const struct cf_kind cf_kinds[CK__KINDS] = {
	[CK_LISTENER] = { "listeners", "listener", "listeners", "Listener",
		listener_f, LF__N, NULL, NULL, true },
	[CK_ORIGIN] = { "origins", "origin", "origins", "Origin",
		origin_f, OF__N, NULL, NULL, true },
	[CK_SERVER] = { "servers", "server", "servers", "Server",
		server_f, SF__N, "origin_id", "position", true },
	[CK_ROUTE] = { "routes", "route", "routes", "Route",
		route_f, RF__N, NULL, NULL, true },
	[CK_CERTIFICATE] = { "certificates", "certificate", "certificates",
		"CertificateRef", certificate_f, CEF__N, NULL, NULL, false },
	[CK_ACCESS_LIST] = { "access_lists", "access list", "access_lists",
		"AccessList", access_list_f, ALF__N, NULL, NULL, true },
	[CK_ACCESS_USER] = { "users", "user", "access_list_users",
		"AccessListUser", access_user_f, AUF__N, "access_list_id",
		"position", true },
	[CK_RATE_LIMIT] = { "rate_limits", "rate limit", "rate_limits",
		"RateLimit", rate_limit_f, RLF__N, NULL, NULL, true },
	[CK_ERROR_PAGES] = { "error_pages", "error pages", "error_pages",
		"ErrorPages", error_pages_f, EPF__N, NULL, NULL, true },
	[CK_USER] = { "users", "user", "users", "User", user_f, UF__N, NULL,
		NULL, false, true },
	[CK_TOKEN] = { "tokens", "token", "tokens", "Token", token_f, TF__N,
		NULL, NULL, false, true },
};
/* clang-format on */

int
cf_find(const struct cf_kind *k, int parent, const char *key)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		if (k->f[i].parent == parent && strcmp(k->f[i].key, key) == 0)
			return (int)i;
	return -1;
}

void
cf_path(const struct cf_kind *k, int i, char *buf, size_t len)
{
	char tmp[128];

	if (k->f[i].parent < 0) {
		snprintf(buf, len, "%s", k->f[i].key);
		return;
	}
	cf_path(k, k->f[i].parent, tmp, sizeof(tmp));
	snprintf(buf, len, "%s.%s", tmp, k->f[i].key);
}

int
cf_select_sql(const struct cf_kind *k, bool names, const char *extra, char *buf,
    size_t len)
{
	const struct cf_field *f;
	size_t i, n;

	n = (size_t)snprintf(buf, len, "SELECT ");
	for (i = 0; i < k->n && n < len; i++) {
		f = &k->f[i];
		if (f->type == F_REFS && names)
			n += (size_t)snprintf(buf + n, len - n,
			    "%s(SELECT json_group_array(x.v) FROM (SELECT r.name"
			    " AS v FROM %s j JOIN %s r ON r.id = j.%s_id WHERE"
			    " j.%s_id = t.id ORDER BY j.position) x)",
			    i > 0 ? ", " : "", f->join, cf_kinds[f->ref].table,
			    cf_kinds[f->ref].one, k->one);
		else if (f->type == F_REFS)
			n += (size_t)snprintf(buf + n, len - n,
			    "%s(SELECT json_group_array(x.v) FROM (SELECT j.%s_id"
			    " AS v FROM %s j WHERE j.%s_id = t.id ORDER BY"
			    " j.position) x)",
			    i > 0 ? ", " : "", cf_kinds[f->ref].one, f->join,
			    k->one);
		else if (f->column == NULL)
			n += (size_t)snprintf(buf + n, len - n, "%sNULL",
			    i > 0 ? ", " : "");
		else if (f->type == F_REF && names)
			n += (size_t)snprintf(buf + n, len - n,
			    "%s(SELECT name FROM %s WHERE id = t.%s)",
			    i > 0 ? ", " : "", cf_kinds[f->ref].table,
			    f->column);
		else
			n += (size_t)snprintf(buf + n, len - n, "%st.%s",
			    i > 0 ? ", " : "", f->column);
	}
	if (n < len && extra != NULL)
		n += (size_t)snprintf(buf + n, len - n, ", %s", extra);
	if (n < len)
		n += (size_t)snprintf(buf + n, len - n, " FROM %s t", k->table);
	return n < len ? 0 : -1;
}

int
cf_refs_of(const struct cf_kind *k, int i)
{
	size_t j;

	for (j = 0; j < k->n; j++)
		if (k->f[j].type == F_REFS && k->f[j].single == i)
			return (int)j;
	return -1;
}

int
cf_enum_index(const struct cf_field *f, const char *v)
{
	int i;

	for (i = 0; f->enums != NULL && f->enums[i] != NULL; i++)
		if (strcmp(f->enums[i], v) == 0)
			return i;
	return -1;
}
