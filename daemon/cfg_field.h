/*
 * cfg_field.h: every configuration kind and field, declared once.
 *
 * Each kind (listener, origin, server, route, ...) is a flat table of
 * fields, indexed by an enum (LF_*, OF_*, SF_*, RF_*). A field has its
 * JSON key, its SQL column, its type, its range or enum, its default,
 * whether it may be absent or null, and for references the kind it
 * names. A field whose parent is an object field (F_OBJ) sits inside
 * that object in JSON ("match": {"hosts": ...}) but has a column of the
 * kind's own table, like every other field. The admin API validates,
 * loads and writes items from these tables, the OpenAPI schemas are
 * generated from them, and cfg_compile() reads rows with
 * cf_select_sql(): column i of that SELECT is field i, so compile code
 * reads `store_col_int64(s, RF_PRIORITY)`, never a position written by
 * hand. doc/config-model.md says how to add a field or a kind.
 */
#ifndef GH_CFG_FIELD_H
#define GH_CFG_FIELD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg_value.h"

enum cf_type {
	F_ID,       /* row id: integer, read-only through the API */
	F_INT,      /* integer within [min, max] */
	F_BOOL,     /* true / false, column 0 / 1 */
	F_STR,      /* string of value type <vtype>, at most <max> bytes */
	F_ENUM,     /* one of <enums> */
	F_REF,      /* name of an item of kind <ref>; the column is its id */
	F_LIST,     /* array of unique strings of <vtype> (or <enums>); the
	             * column holds it as JSON text */
	F_OBJ,      /* an object of the fields whose parent this is */
	F_CHILDREN, /* array of items of kind <ref> in their own table */
	F_MAP,      /* object of unique <ktype> keys (compared without case)
	             * to strings of <vtype>, at most <max> members, each at
	             * most <min> bytes (0: CF_MAP_VALUE_MAX); the column
	             * holds it as JSON text */
	F_REFS,     /* array of names of items of kind <ref>, in order: rows
	             * (<one>_id, <ref one>_id, position) of the table <join>;
	             * <single> is the F_REF field that is its first item */
};

/* Field flags. */
#define F_REQUIRED  0x1u  /* must be given */
#define F_NULLABLE  0x2u  /* may be absent; absent is NULL, left out on load */
#define F_NOCOL     0x4u  /* no column (objects, children) */
#define F_WRITEONLY 0x8u  /* accepted, stored, never returned (hashes) */
#define F_INTS      0x10u /* F_LIST of integers in [100, 599] (HTTP statuses) */
#define F_READONLY  0x20u /* returned, ignored when given (created_at) */

struct cf_field {
	const char *key;    /* JSON key within its parent */
	const char *column; /* column of the kind's table, or NULL */
	enum cf_type type;
	int parent; /* index of the F_OBJ holding it; -1: top level */
	unsigned flags;
	int64_t min, max;         /* F_INT range; F_STR/F_LIST/F_CHILDREN:
	                           * max is the longest length / most items,
	                           * min the fewest items */
	int64_t def;              /* F_INT/F_BOOL default (when not NULLABLE) */
	const char *def_str;      /* F_STR/F_ENUM default */
	enum cv_type vtype;       /* F_STR, F_LIST elements */
	const char *const *enums; /* F_ENUM, F_LIST of enum values */
	int ref;                  /* F_REF, F_CHILDREN: an enum cf_kind_id */
	const char *doc;          /* one line for the OpenAPI description */
	enum cv_type ktype;       /* F_MAP keys */
	const char *join;         /* F_REFS: the table of its rows */
	int single;               /* F_REFS: index of its one-item F_REF */
};

enum cf_kind_id {
	CK_LISTENER = 0,
	CK_ORIGIN,
	CK_SERVER,
	CK_ROUTE,
	CK_CERTIFICATE,
	CK_ACCESS_LIST,
	CK_ACCESS_USER,
	CK_RATE_LIMIT,
	CK_ERROR_PAGES,
	CK_USER,  /* admin API users (api_users.c), not configuration */
	CK_TOKEN, /* admin API tokens (api_users.c) */
	CK__KINDS,
};

struct cf_kind {
	const char *coll;   /* "routes": the API collection and doc key */
	const char *one;    /* "route" */
	const char *table;  /* SQL table */
	const char *schema; /* OpenAPI schema name "Route" */
	const struct cf_field *f;
	size_t n;
	/* Children (servers): the column naming the parent row and the one
	 * keeping the array order.
	 */
	const char *parent_col, *order_col;
	bool api_writable; /* written through conf_sync (not certificates) */
	/* Not written through conf_sync, but checked against the table and
	 * its OpenAPI schema generated from it (users, tokens).
	 */
	bool schema_gen;
};

extern const struct cf_kind cf_kinds[CK__KINDS];

/* clang-format off */
enum { LF_ID, LF_NAME, LF_ADDRESS, LF_PORT, LF_PROTOCOL, LF_TIMEOUTS,
	LF_HEADER_MS, LF_KEEPALIVE_MS, LF_TRUST_FORWARDED,
	LF_DEFAULT_CERTIFICATE, LF_CLIENT_AUTH, LF_CLIENT_CA,
	LF_MAX_CONNECTIONS, LF_PROXY_PROTOCOL_FROM, LF_PATH_NORMALIZATION,
	LF_TRUSTED_PROXIES, LF_MAX_CONNS_PER_CLIENT, LF_ERROR_PAGES,
	LF__N };
enum { OF_ID, OF_NAME, OF_BALANCE, OF_HASH_KEY, OF_TLS, OF_TLS_ENABLED, OF_TLS_VERIFY,
	OF_TLS_CA, OF_TLS_SNI, OF_TLS_CLIENT_CERTIFICATE, OF_PROXY_PROTOCOL,
	OF_HEALTH, OF_HC_PATH, OF_HC_METHOD, OF_HC_HOST, OF_HC_INTERVAL_MS, OF_HC_TIMEOUT_MS,
	OF_HC_RISE, OF_HC_FALL, OF_HC_STATUS_MIN, OF_HC_STATUS_MAX,
	OF_QUEUE, OF_QUEUE_MAX, OF_QUEUE_TIMEOUT_MS,
	OF_STICKY, OF_STICKY_COOKIE, OF_STICKY_TTL_S, OF_STICKY_SECURE,
	OF_PASSIVE, OF_PH_FAILURES, OF_PH_STATUSES, OF_PH_EJECT_S,
	OF_PH_MAX_EJECTED,
	OF_SERVERS, OF__N };
enum { SF_ID, SF_ADDRESS, SF_PORT, SF_WEIGHT, SF_STATE, SF_SLOW_START_S,
	SF_MAX_CONNECTIONS, SF__N };
enum { RF_ID, RF_NAME, RF_LISTENER, RF_LISTENERS, RF_MATCH, RF_HOSTS, RF_PATH_PREFIX,
	RF_METHODS, RF_SNI, RF_SOURCES, RF_ORIGIN, RF_PRIORITY, RF_FORWARDED,
	RF_MAX_BODY_BYTES, RF_TIMEOUTS, RF_CONNECT_MS, RF_RESPONSE_MS,
	RF_IDLE_MS, RF_REDIRECT_HTTPS, RF_HSTS_MAX_AGE, RF_PATH_NORMALIZATION,
	RF_ACCESS_LIST, RF_RATE_LIMIT,
	RF_REDIRECT, RF_REDIRECT_TO, RF_REDIRECT_STATUS, RF_REDIRECT_DROP_QUERY,
	RF_RESPOND, RF_RESPOND_STATUS, RF_RESPOND_CONTENT_TYPE, RF_RESPOND_BODY,
	RF_REWRITE, RF_REWRITE_PREFIX,
	RF_REQUEST_HEADERS, RF_REQH_SET, RF_REQH_ADD, RF_REQH_REMOVE,
	RF_RESPONSE_HEADERS, RF_RESPH_SET, RF_RESPH_ADD, RF_RESPH_REMOVE,
	RF_REQUEST_ID, RF_MAINTENANCE, RF_MAINT_ENABLED, RF_MAINT_RETRY_AFTER_S,
	RF_MAINT_ALLOW,
	RF_RETRIES, RF_RETRY_ATTEMPTS, RF_RETRY_ON, RF_RETRY_BUDGET, RF_ERROR_PAGES,
	RF_COMPRESS, RF_COMPRESS_TYPES, RF_COMPRESS_MIN_BYTES,
	RF_FORWARD_AUTH, RF_FA_ORIGIN, RF_FA_PATH, RF_FA_COPY_HEADERS,
	RF_COMPRESS_CODINGS, RF_COMPRESS_GZIP_LEVEL, RF_COMPRESS_BR_LEVEL,
	RF__N };
enum { CEF_ID, CEF_NAME, CEF__N };
enum { ALF_ID, ALF_NAME, ALF_ALLOW, ALF_DENY, ALF_DEFAULT, ALF_BASIC_AUTH,
	ALF_REALM, ALF_USERS, ALF_SATISFY, ALF__N };
enum { RLF_ID, RLF_NAME, RLF_RATE, RLF_PER, RLF_BURST, RLF_KEY,
	RLF_MAX_KEYS, RLF__N };
enum { EPF_ID, EPF_NAME, EPF_PAGES, EPF_INTERCEPT, EPF__N };
enum { AUF_ID, AUF_USERNAME, AUF_PASSWORD, AUF_PASSWORD_HASH,
	AUF_PASSWORD_TAG, AUF__N };
enum { UF_ID, UF_NAME, UF_PASSWORD, UF_CURRENT_PASSWORD, UF_ROLE,
	UF_CREATED_AT, UF__N };
enum { TF_ID, TF_NAME, TF_ROLE, TF_EXPIRES_AT, TF_EXPIRES_IN, TF_CREATED_AT,
	TF_CREATED_BY, TF_OWNER, TF__N };
/* clang-format on */

/* The longest value of an F_MAP member. */
#define CF_MAP_VALUE_MAX 4096

/* The longest timeout, in ms, of any "*_ms" duration field (24 h). */
#define CF_MAX_MS 86400000LL

/* Index of the field of kind <k> whose JSON key is <key> under <parent>,
 * or -1.
 */
int cf_find(const struct cf_kind *k, int parent, const char *key);

/* The dotted JSON path of field <i> ("match.hosts") into <buf>. */
void cf_path(const struct cf_kind *k, int i, char *buf, size_t len);

/* "SELECT <col 0>, ..., <col n-1>[, <extra>] FROM <table> t" into <buf>:
 * column i is field i (NULL for fields without a column), then <extra>
 * (may be NULL). With <names>, F_REF columns read the referenced item's
 * name instead of its id. Returns 0, or -1 when <buf> is too small.
 * Callers append WHERE/ORDER BY.
 */
int cf_select_sql(const struct cf_kind *k, bool names, const char *extra,
    char *buf, size_t len);

/* The F_REFS field of <k> whose one-item form is field <i>, or -1. */
int cf_refs_of(const struct cf_kind *k, int i);

/* The index in <f>->enums of <v>, or -1. */
int cf_enum_index(const struct cf_field *f, const char *v);

#endif
