/*
 * cfg.h: the immutable configuration snapshot.
 *
 * A struct cfg is compiled from the store by cfg_compile() (cfg_compile.c),
 * published with cfg_publish() (cfg.c) and never edited afterwards. All its
 * memory lives in one arena, freed by the last cfg_unref(). Pointers into a
 * snapshot are valid while the holder keeps a reference. Runtime state that
 * must outlive a swap (health, counters, idle upstream connections) is kept
 * elsewhere, keyed by the stable ids below (SQLite row ids).
 */
#ifndef GH_CFG_H
#define GH_CFG_H

#include <sys/socket.h>

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cfg_field.h"
#include "cfg_rseq.h"
#include "err.h"

#define CFG_MAGIC 0x43464721u /* "CFG!" */

/* Defaults where a column is NULL: the field tables' (cfg_field.c). */
#define CFG_DEF_(kind, field) ((unsigned)cf_kinds[kind].f[field].def)
#define CFG_DEF_HEADER_MS     CFG_DEF_(CK_LISTENER, LF_HEADER_MS)
#define CFG_DEF_KEEPALIVE_MS  CFG_DEF_(CK_LISTENER, LF_KEEPALIVE_MS)
#define CFG_DEF_CONNECT_MS    CFG_DEF_(CK_ROUTE, RF_CONNECT_MS)
#define CFG_DEF_RESPONSE_MS   CFG_DEF_(CK_ROUTE, RF_RESPONSE_MS)
#define CFG_DEF_IDLE_MS       CFG_DEF_(CK_ROUTE, RF_IDLE_MS)

enum cfg_proto {
	CFG_PROTO_HTTP = 0,
	CFG_PROTO_HTTPS,
	CFG_PROTO_TCP,
	CFG_PROTO_UDP,
	CFG_PROTO_TLS_PASSTHROUGH,
};

/* Route method bits; a route with methods == 0 matches every method. */
enum cfg_method {
	CFG_M_GET = 1u << 0,
	CFG_M_HEAD = 1u << 1,
	CFG_M_POST = 1u << 2,
	CFG_M_PUT = 1u << 3,
	CFG_M_DELETE = 1u << 4,
	CFG_M_PATCH = 1u << 5,
	CFG_M_OPTIONS = 1u << 6,
	CFG_M_CONNECT = 1u << 7,
	CFG_M_TRACE = 1u << 8,
	CFG_M_OTHER = 1u << 9, /* any method not listed above */
};

struct cfg_origin;
struct cfg_listener;
struct tls_server;
struct tls_client;
struct route_index;
struct rl_table;

enum cfg_client_auth {
	CFG_CLIENT_AUTH_NONE = 0,
	CFG_CLIENT_AUTH_OPTIONAL,
	CFG_CLIENT_AUTH_REQUIRED,
};

/* What an HTTP request's path becomes when normalisation (normalize.h)
 * changes it; routes always match the normalised path. The order is the
 * field table's enum (cfg_field.c).
 */
enum cfg_pathnorm {
	CFG_PATHNORM_FORWARD_NORMALIZED = 0, /* forward the normalised path */
	CFG_PATHNORM_FORWARD_AS_RECEIVED,    /* forward the client's bytes */
	CFG_PATHNORM_REJECT,                 /* answer 400 */
};

/* A stored certificate: a leaf (with key) or a CA (without). */
struct cfg_cert {
	int64_t id;
	const char *name;
	bool is_ca;
	const char *cert_pem;
	const char *key_pem; /* NULL for a CA */
};

/* An address block "10.0.0.0/8", "2001:db8::/32" or one address. */
struct cfg_cidr {
	int family;       /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network order, host bits zero */
	unsigned prefix;  /* 0..32 or 0..128 */
};

/* A server's administrative state; the order is the field table's. */
enum cfg_server_state {
	CFG_SERVER_ACTIVE = 0,
	CFG_SERVER_DRAIN,    /* no new requests; in-flight ones finish */
	CFG_SERVER_DISABLED, /* no requests */
};

struct cfg_server {
	int64_t id;          /* servers.id: key for health and pools */
	const char *address; /* numeric IPv4/IPv6 literal, as configured */
	uint16_t port;
	unsigned weight;            /* 1..1000 */
	struct sockaddr_storage sa; /* resolved at compile time */
	socklen_t salen;
	const char *label; /* "127.0.0.1:8081" / "[::1]:8081" for logs */
	const struct cfg_origin *origin; /* back pointer */
	uint64_t hash; /* of its label: rendezvous hashing (balance.c) */
	unsigned char sticky[16]; /* sticky origins: its cookie's value */
	enum cfg_server_state state;
	unsigned slow_start_s;    /* 0: full weight at once */
	unsigned max_connections; /* in flight; 0: no limit */
};

/* An active health check (health.c); enabled == false: none. */
struct cfg_health {
	bool enabled;
	const char *path;   /* "/healthz" */
	const char *method; /* "GET", "HEAD" or "OPTIONS" (static) */
	const char *host;   /* Host header; NULL: the server's address */
	unsigned interval_ms, timeout_ms;
	unsigned rise, fall; /* passes to go up, failures to go down */
	unsigned status_min, status_max; /* passing statuses */
};

/* How an origin chooses a server (balance.h); the order is the field
 * table's enum (cfg_field.c).
 */
enum cfg_balance {
	CFG_BALANCE_ROUND_ROBIN = 0,
	CFG_BALANCE_LEAST_CONN,
	CFG_BALANCE_P2C,
	CFG_BALANCE_HASH,
	CFG_BALANCE_RANDOM,
};

/* What the hash of balance "hash" is taken over. */
enum cfg_hash_on {
	CFG_HASH_CLIENT_IP = 0,
	CFG_HASH_HEADER, /* "header:NAME" */
	CFG_HASH_COOKIE, /* "cookie:NAME" */
	CFG_HASH_PATH,
};

struct cfg_origin {
	int64_t id;
	const char *name;
	struct cfg_server *servers; /* array of nservers */
	size_t nservers;
	unsigned total_weight;
	unsigned proxy_protocol; /* 0, or PROXY header version sent (L4) */
	/* TLS to the servers (cfg_tls.c); tls == NULL: plain TCP. */
	bool tls_enabled, tls_verify;
	const char *tls_sni;                    /* NULL: none sent */
	const struct cfg_cert *tls_ca;          /* NULL: system trust */
	const struct cfg_cert *tls_client_cert; /* NULL: none presented */
	struct tls_client *tls;                 /* freed with the arena */
	struct cfg_health health;
	enum cfg_balance balance;
	enum cfg_hash_on hash_on;
	const char *hash_name; /* header or cookie name; NULL otherwise */
	unsigned queue_max;    /* 0: no queue */
	unsigned queue_timeout_ms;
	const char *sticky_cookie; /* NULL: no sticky sessions */
	unsigned sticky_ttl_s;     /* 0: a session cookie */
	bool sticky_secure;
	/* Passive health (balance_passive.c); ph_failures 0: off. */
	unsigned ph_failures, ph_eject_s, ph_max_ejected_percent;
	uint64_t ph_statuses[10]; /* bit s: status s counts as a failure */
};

enum cfg_host_kind {
	CFG_HOST_EXACT = 0, /* "app.example" */
	CFG_HOST_WILDCARD,  /* "*.example": any name ending ".example" */
};

struct cfg_host {
	enum cfg_host_kind kind;
	const char *name; /* lowercased; for WILDCARD the suffix ".example" */
	size_t len;
};

/* An access list (access.c); users' passwords as hashes only. */
struct cfg_access_user {
	const char *name;
	size_t len;
	const char *hash; /* "$argon2id$...", or crypt(3) */
};

struct cfg_access_list {
	int64_t id;
	const char *name;
	struct cfg_cidr *allow, *deny;
	size_t nallow, ndeny, room_allow, room_deny;
	bool default_allow; /* addresses in neither list */
	bool satisfy_all;   /* address and user; else either */
	const char *realm;
	struct cfg_access_user *users;
	size_t nusers, room_users;
};

/* A rate limit (ratelimit.c): a token bucket per key. */
enum cfg_rl_key {
	CFG_RL_KEY_CLIENT_IP = 0,
	CFG_RL_KEY_HEADER,
	CFG_RL_KEY_ROUTE,
};

struct cfg_rate_limit {
	int64_t id;
	const char *name;
	unsigned rate;     /* tokens per <per_s> */
	unsigned per_s;    /* 1, 60 or 3600 */
	unsigned burst;    /* bucket size */
	unsigned max_keys; /* table room */
	enum cfg_rl_key key;
	const char *header;     /* CFG_RL_KEY_HEADER: its name */
	struct rl_table *table; /* shared, outlives the snapshot */
};

/* What a route's retries are for; bit order as the field table's. */
enum cfg_retry_on {
	CFG_RETRY_CONNECT_ERROR = 1u << 0,
	CFG_RETRY_TIMEOUT = 1u << 1,
	CFG_RETRY_RESET = 1u << 2,
	CFG_RETRY_502 = 1u << 3, /* failures answered 502; a 502 answer */
	CFG_RETRY_503 = 1u << 4, /* a 503 answer */
	CFG_RETRY_504 = 1u << 5, /* failures answered 504; a 504 answer */
	CFG_RETRY_500 = 1u << 6, /* the server's own answers from here on */
	CFG_RETRY_501 = 1u << 7,
	CFG_RETRY_404 = 1u << 8,
	CFG_RETRY_408 = 1u << 9,
	CFG_RETRY_425 = 1u << 10,
	CFG_RETRY_429 = 1u << 11,
};

/* Maintenance mode (respond.c): 503 for every client but allow. */
struct cfg_maint {
	int retry_after_s;      /* Retry-After; -1: none */
	struct cfg_cidr *allow; /* array of nallow */
	size_t nallow;
};

struct hdr_rules;

/* Error pages (a kind, respond.c): the page of each status it has. */
struct cfg_error_page {
	unsigned status;
	const char *body;
	size_t len;
};

struct cfg_error_pages {
	int64_t id;
	const char *name;
	bool intercept; /* the origin's own error answers too */
	struct cfg_error_page *pages;
	size_t npages;
};

/* A route's own answer (respond.c): a redirect or a fixed response. */
struct cfg_redirect {
	const char *to; /* template (tmpl.h) */
	unsigned status;
	bool drop_query;
};

struct cfg_respond {
	unsigned status;
	const char *content_type;
	const char *body;
	size_t body_len;
};

/* Response compression (compress.h): Content-Type patterns, each
 * "type/subtype", or "type/" for a whole type (configured with a star
 * after the slash), lower case.
 */
struct cfg_compress {
	const char **types; /* array of ntypes */
	size_t ntypes;
	uint64_t min_bytes; /* known lengths below it are sent as they are */
	unsigned offer;     /* CFG_COMPRESS_OFFER() of the codings offered */
	int gzip_level;     /* 1..9 */
	int br_level;       /* brotli's quality, 0..11 */
};
/* The bit of enum compress_enc <enc> (compress.h) in cfg_compress.offer. */
#define CFG_COMPRESS_OFFER(enc) (1u << (unsigned)(enc))

struct cfg_route {
	int64_t id;
	const char *name;
	int priority;                          /* higher is tried first */
	const struct cfg_listener *listener;   /* the first of listeners[] */
	const struct cfg_listener **listeners; /* every one it serves */
	size_t nlisteners;
	struct cfg_host *hosts; /* array of nhosts; none: any host */
	size_t nhosts;
	const char *path_prefix; /* starts with '/'; "/" matches all */
	size_t path_prefix_len;
	unsigned methods;                /* CFG_M_* bits; 0: any */
	const struct cfg_origin *origin; /* NULL with redirect or respond */
	bool forwarded;                  /* add RFC 7239 Forwarded */
	uint64_t max_body_bytes;         /* 0: unlimited */
	unsigned connect_ms, response_ms, idle_ms;
	struct cfg_host *snis; /* array of nsnis (tls-passthrough) */
	size_t nsnis;
	struct cfg_cidr *sources; /* array of nsources; none: any client */
	size_t nsources;
	bool redirect_https;        /* on http listeners: 308 to https:// */
	unsigned hsts_max_age;      /* on https listeners; 0: no HSTS header */
	enum cfg_pathnorm pathnorm; /* the listener's when not set */
	unsigned retry_attempts;    /* 0: no "retries" */
	unsigned retry_on;          /* CFG_RETRY_* bits */
	unsigned retry_budget_percent;
	bool pathnorm_set; /* pathnorm is the route's own */
	const struct cfg_access_list *access_list; /* NULL: none */
	const struct cfg_rate_limit *rate_limit;   /* NULL: none */
	/* Route policies (cfg_policy.c); NULL: none. */
	const struct cfg_redirect *redirect;
	const struct cfg_respond *respond;
	const char *rewrite_prefix; /* replaces path_prefix upstream */
	size_t rewrite_prefix_len;
	const struct hdr_rules *req_hdrs, *resp_hdrs; /* hdr_rules.h */
	bool request_id;               /* keep or add X-Request-ID */
	const struct cfg_maint *maint; /* NULL: not in maintenance */
	const struct cfg_error_pages *error_pages;   /* NULL: none */
	const struct cfg_compress *compress;         /* NULL: none */
	const struct cfg_forward_auth *forward_auth; /* NULL: none */
};

/* Route forward_auth (cfg_policy.c, fwdauth.h). */
struct cfg_forward_auth {
	const struct cfg_origin *origin; /* the auth service */
	const char *path;                /* "/api/verify" */
	size_t path_len;
	const char *const *copy; /* header names copied from its 2xx */
	size_t ncopy;
};

struct cfg_listener {
	int64_t id;
	const char *name;
	const char *address; /* numeric literal, as configured */
	uint16_t port;       /* 0: kernel-chosen (tests) */
	enum cfg_proto proto;
	struct sockaddr_storage sa;
	socklen_t salen;
	unsigned header_ms, keepalive_ms;
	bool trust_forwarded; /* keep client X-Forwarded-* and append */
	enum cfg_pathnorm pathnorm;
	/* NULL: none (a route's own win) */
	const struct cfg_error_pages *error_pages;
	struct cfg_rseq routes;                /* match order, see route.h */
	const struct route_index *route_index; /* route.c, over routes[] */
	unsigned max_connections;    /* L4 connections/sessions; 0: no limit */
	struct cfg_cidr *proxy_from; /* PROXY header required from these */
	size_t nproxy_from;
	/* http, https: proxies whose X-Forwarded-For is believed
	 * (client_addr.c).
	 */
	struct cfg_cidr *trusted_proxies;
	size_t ntrusted_proxies, trusted_room;
	unsigned max_conns_per_client; /* ratelimit.c; 0: no limit */
	/* https: routes with sni names pass TLS through (l4.c); they are
	 * not in routes[] (match order as routes[]).
	 */
	struct cfg_rseq sni_routes;
	/* https (cfg_tls.c): certificates by SNI, client certificates. */
	const struct cfg_cert *default_cert;
	enum cfg_client_auth client_auth;
	const struct cfg_cert *client_ca;
	struct tls_server *tls; /* freed with the arena */
};

/* What route <r> does on listener <l> with a path normalisation changes. */
static inline enum cfg_pathnorm
cfg_route_pathnorm(const struct cfg_route *r, const struct cfg_listener *l)
{
	return r->pathnorm_set ? r->pathnorm : l->pathnorm;
}

struct cfg {
	unsigned magic;
	_Atomic unsigned refs;
	uint64_t revision;   /* newest revisions.id when compiled; 0: none */
	struct arena *arena; /* owned: everything below lives here */
	struct cfg_listener *listeners;
	size_t nlisteners;
	struct cfg_rseq routes; /* id order */
	/* The routes a full compile compiled, in id order (cfg_compile.c,
	 * access.c and ratelimit.c fill them in); NULL in a snapshot built
	 * by cfg_compile_route(). Read routes, not these.
	 */
	struct cfg_route *route_arr;
	size_t nroute_arr;
	struct cfg_origin *origins;
	size_t norigins;
	struct cfg_cert *certs; /* the certificate store (cfg_tls.c) */
	size_t ncerts;
	/* A snapshot built by cfg_compile_route() shares the certificates,
	 * origins and listeners' TLS with the full compile <base>, and the
	 * unchanged routes and the chunks of its route sequences and host
	 * indexes with <prev>, the snapshot it was built from; it holds a
	 * reference to both. <chain> counts the snapshots since <base> and
	 * <chain_bytes> their arenas' bytes (cfg_incr.c rebases on a full
	 * compile when they grow). NULL and 0 in a full compile.
	 */
	struct cfg *base, *prev;
	unsigned chain;
	size_t chain_bytes;
	struct cfg_access_list *access_lists; /* id order (access.c) */
	size_t naccess_lists;
	struct cfg_rate_limit *rate_limits; /* id order (ratelimit.c) */
	size_t nrate_limits;
	struct cfg_error_pages *error_pages; /* id order (cfg_policy.c) */
	size_t nerror_pages;
};

/* Takes a reference; returns <c> for chaining. NULL-safe. */
struct cfg *cfg_ref(struct cfg *c);
/* Drops a reference; the last one frees the snapshot. NULL-safe. */
void cfg_unref(struct cfg *c);

/* An empty snapshot (no listeners) with one reference, or NULL. */
struct cfg *cfg_new(void);

struct store;
/* Reads the whole configuration through <st> (inside whatever transaction
 * the caller holds) and compiles a snapshot with one reference. On failure
 * returns NULL and fills <e> with a field path such as
 * "routes[app].origin" and a message. Thread: any; touches no global state.
 */
struct cfg *cfg_compile(struct store *st, struct err *e);

/* The snapshot after a write of route <id> (created, changed or deleted,
 * rows already written inside the caller's transaction), from <prev>, the
 * snapshot of the rows before that write: reads only that route's rows
 * (cfg_incr.c). 0 with <*out> (one reference); -1 with <e> set when the
 * route does not compile (the message a full compile gives); 1 when it
 * cannot be built this way (the caller runs cfg_compile()).
 */
int cfg_compile_route(struct store *st, struct cfg *prev, int64_t id,
    struct cfg **out, struct err *e);

/* cfg_compile_route() answers 1 (compile in full) once <prev> is this
 * many snapshots from its full compile, or when the snapshots since hold
 * more bytes than that compile (cfg_incr.c). Tests lower it.
 */
extern unsigned cfg_incr_chain_max;

/* cfg_compile.c, for cfg_compile_route(): compiles route <id>'s row into
 * <r> (in c's arena, its listener and origin found in <c>) with every
 * check of a full compile. 0, 1 when there is no such row, or -1.
 */
int cfg_compile_route_row(struct store *st, struct cfg *c, int64_t id,
    struct cfg_route *r, struct err *e);

/* Every compiled value of <c> in a fixed text form (malloc'd into <*buf>,
 * <*len> bytes), so that two snapshots of the same rows compare equal
 * byte for byte however they were built (cfg_incr.c). 0 or -1.
 */
int cfg_dump(const struct cfg *c, char **buf, size_t *len);

/* Parses "10.0.0.0/8", "2001:db8::/32" or a bare address (a full-length
 * prefix) into <out>; host bits are cleared. Returns 0 or -1.
 */
int cfg_cidr_parse(const char *s, struct cfg_cidr *out);

struct store_stmt;
/* TLS part of cfg_compile() (cfg_tls.c): cfg_tls_certs() reads the
 * certificate store into <c>; cfg_tls_listener() and cfg_tls_origin()
 * read the TLS fields of the listener or origin row <s> (columns by
 * field, cfg_field.h) and build its credentials, owned by c's arena.
 * 0, or -1 with <e> naming the field.
 */
int cfg_tls_certs(struct store *st, struct cfg *c, struct err *e);
int cfg_tls_listener(struct cfg *c, struct cfg_listener *l,
    struct store_stmt *s, struct err *e);
int cfg_tls_origin(struct cfg *c, struct cfg_origin *o, struct store_stmt *s,
    struct err *e);

/* Health-check settings of the origin row <s> (cfg_health.c). 0 or -1. */
int cfg_health_origin(struct cfg *c, struct cfg_origin *o, struct store_stmt *s,
    struct err *e);

/* Route policies of the route row <s> (cfg_policy.c): redirect, respond,
 * rewrite. cfg_policy_route() reads them (before the route's lists),
 * cfg_policy_route_check() checks them against the compiled route (after).
 * 0, or -1 with <e> naming the field ("routes[app].redirect.to").
 */
struct store;
int cfg_policy_route(struct store *st, struct cfg *c, struct cfg_route *r,
    struct store_stmt *s, struct err *e);
int cfg_policy_route_check(const struct cfg_route *r, struct err *e);
/* The error pages kind (cfg_policy.c), compiled before the routes that
 * refer to it. 0, or -1 with <e> naming the field.
 */
int cfg_policy_error_pages(struct store *st, struct cfg *c, struct err *e);
/* Copies the policies of <r> into <a> (cfg_incr.c). 0 or -1. */
struct arena;
int cfg_policy_route_own(struct arena *a, struct cfg_route *r);
/* Writes the policies of <r> for cfg_dump(). */
void cfg_policy_route_dump(FILE *f, const struct cfg_route *r);
/* The compress field of the route row <s> (cfg_compress.c), its copy
 * into <a> (cfg_incr.c) and its line for cfg_dump(). 0 or -1.
 */
int cfg_compress_route(struct store *st, struct cfg *c, struct cfg_route *r,
    struct store_stmt *s, struct err *e);
int cfg_compress_own(struct arena *a, struct cfg_route *r);
void cfg_compress_dump(FILE *f, const struct cfg_route *r);
/* Balancing settings of the origin row <s> (cfg_balance.c). 0 or -1. */
int cfg_balance_origin(struct cfg *c, struct cfg_origin *o,
    struct store_stmt *s, struct err *e);

/* State and limits of the server row <s> (cfg_balance.c); <path> names
 * it in errors ("origins[web].servers[1]"). 0 or -1.
 */
int cfg_balance_server(struct cfg_server *sv, struct store_stmt *s,
    const char *path, struct err *e);

/* Retry settings of the route row <s> (cfg_balance.c); <path> names it
 * ("routes[app]"). 0 or -1.
 */
int cfg_balance_route(struct cfg_route *r, struct store_stmt *s,
    const char *path, struct err *e);

/* Lookups by stable id; NULL when absent. */
const struct cfg_listener *cfg_listener_by_id(const struct cfg *c, int64_t id);
const struct cfg_route *cfg_route_by_id(const struct cfg *c, int64_t id);
const struct cfg_origin *cfg_origin_by_id(const struct cfg *c, int64_t id);

#endif
