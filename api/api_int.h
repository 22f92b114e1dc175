/*
 * api_int.h: what the files of api/ share (not for the daemon).
 *
 * A struct api_req is one HTTP request on the admin listener, owned by
 * api.c from the first byte to the completion callback. Handlers run on
 * the libmicrohttpd thread, one at a time, read the request through the
 * api_req_*() accessors and answer with exactly one api_reply_*() call.
 * Nothing here exposes libmicrohttpd or jansson types.
 */
#ifndef GH_API_INT_H
#define GH_API_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct json;
struct store;
struct cf_kind;

#define API_REQ_MAGIC 0x41504952u /* "APIR" */
#define API_BODY_MAX  (1024u * 1024u)
/* PUT /config and POST /config/validate (api_opts.config_body_max). */
#define API_CONFIG_BODY_MAX_DEF (64u * 1024u * 1024u)

enum api_method {
	API_GET = 0,
	API_POST,
	API_PUT,
	API_PATCH,
	API_DELETE,
	API_HEAD,
	API_OTHER,
};

enum api_role {
	API_ROLE_NONE = 0,
	API_ROLE_VIEWER,
	API_ROLE_ADMIN,
};

/* Endpoint flags. */
#define API_F_PUBLIC    0x1u /* answers without authentication */
#define API_F_VIEWER_OK 0x2u /* an unsafe method a viewer may call */
#define API_F_OCTET     0x4u /* the body may be application/octet-stream */

struct api_hdr {
	char name[40];
	char value[320];
};

struct api_req {
	unsigned magic;
	enum api_method method;
	char method_str[16];
	char *path;      /* owned: decoded path, no query */
	char param[128]; /* the ":x" segment of the endpoint's pattern */
	int arg;         /* the endpoint's argument (a conf_kind) */
	char *body;      /* owned, NUL terminated */
	size_t body_len, body_cap;
	size_t body_max; /* API_BODY_MAX, or the whole-document limit */
	bool too_big;
	char client[64]; /* peer address, no port */
	void *conn;      /* the library's connection (api.c only) */

	/* Filled by authentication. */
	enum api_role role;
	char actor[80]; /* "admin" (user) or "token:ci" */
	bool via_cookie;
	int64_t user_id; /* 0 for tokens */
	int64_t self_id; /* the session's user or the token's owner */

	/* The answer. */
	unsigned status;
	char *resp; /* owned */
	size_t resp_len;
	char ctype[64];
	struct api_hdr hdrs[6];
	size_t nhdrs;
	bool replied;
};

/* ---- api.c ---- */
struct store *api_store(void);
bool api_is_tls(void);
const char *api_db_dir(void);
const char *api_webui_dir(void);
double api_uptime(void);
/* Header/cookie/query value, or NULL. */
const char *api_req_header(struct api_req *r, const char *name);
const char *api_req_cookie(struct api_req *r, const char *name);
const char *api_req_query(struct api_req *r, const char *name);
/* The body as JSON. NULL after replying 400 (empty or malformed). */
struct json *api_req_json(struct api_req *r);
void api_add_header(struct api_req *r, const char *name, const char *value);
/* Steals <j>. */
void api_reply_json(struct api_req *r, unsigned status, struct json *j);
/* Copies <len> bytes. */
void api_reply_raw(struct api_req *r, unsigned status, const char *ctype,
    const void *p, size_t len);
/* application/problem+json; <e> (may be NULL) adds errors[{field,msg}]. */
void api_reply_problem(struct api_req *r, unsigned status, const char *detail,
    const struct err *e);
/* The same with every error of <l> (may be NULL) in errors[]. */
void api_reply_problems(struct api_req *r, unsigned status, const char *detail,
    const struct errs *l);
/* 204 No Content. */
void api_reply_empty(struct api_req *r, unsigned status);

/* The dispatch table, for the OpenAPI check. */
size_t api_endpoint_count(void);
void api_endpoint_at(size_t i, const char **method, const char **pattern,
    unsigned *flags);

/* ---- api_static.c ---- */
/* Adds the web UI's Content-Security-Policy and framing/referrer headers
 * to <r> (4 header slots). Call before replying with a static file.
 */
void static_headers(struct api_req *r);

/* ---- api_auth.c ---- */
int auth_init(struct store *st, const char *db_dir, struct err *e);
/* <nbytes> random bytes as hex into <out> (2 * nbytes + 1). 0 or -1. */
int auth_rand_hex(char *out, size_t nbytes);
/* argon2id encoded hash of <pw> into <out>. 0 or -1. */
int auth_hash_password(const char *pw, char *out, size_t len);
/* Ends every session of <user_id> but the one <keep> (may be NULL) came
 * on, which no longer needs a password change.
 */
void auth_sessions_drop_user(int64_t user_id, struct api_req *keep);
/* True when <pw> (NULL: not checked) is the password of <user_id>; its
 * hash (before any change) into <old_hash> when not NULL.
 */
bool auth_password_ok(int64_t user_id, const char *pw, char *old_hash,
    size_t len);
/* Removes <db dir>/admin-password when it held the password whose hash
 * was <old_hash> (the first-start password was just changed).
 */
void auth_first_password_forget(const char *old_hash);
/* 0 with r->role/actor filled, or -1 after replying 401/403. */
int auth_check(struct api_req *r, unsigned flags);
void auth_session_login(struct api_req *r);
void auth_session_logout(struct api_req *r);
void auth_session_get(struct api_req *r);
void auth_users_list(struct api_req *r);
void auth_users_create(struct api_req *r);
void auth_users_get(struct api_req *r);
void auth_users_put(struct api_req *r);
void auth_users_patch(struct api_req *r);
void auth_users_delete(struct api_req *r);
void auth_tokens_list(struct api_req *r);
void auth_tokens_create(struct api_req *r);
void auth_tokens_get(struct api_req *r);
void auth_tokens_put(struct api_req *r);
void auth_tokens_patch(struct api_req *r);
void auth_tokens_delete(struct api_req *r);

/* ---- api_conns.c: the listener's connections under a flood ---- */
#define API_MAX_CONNS_DEF  512
#define API_MAX_PER_IP_DEF 64
#define API_HEADER_MS_DEF  10000
#define API_BODY_MS_DEF    60000
struct api_conn_limits;
struct MHD_Connection;
enum aconn_state {
	AC_HEAD = 0, /* waiting for a request head (or a TLS handshake) */
	AC_BODY,     /* receiving a request body */
	AC_ANSWER,   /* being answered: never shed */
};
/* Starts the deadline thread; 0s in <l> take the defaults. */
int conns_start(const struct api_conn_limits *l, struct err *e);
void conns_stop(void);
/* The limits in force (after defaults). */
const struct api_conn_limits *conns_limits(void);
/* MHD_OPTION_NOTIFY_CONNECTION callback (int: the library's enum). */
void conns_notify(void *cls, struct MHD_Connection *c, void **sctx, int code);
/* The request on <c> moved to <st>. */
void conns_state(struct MHD_Connection *c, enum aconn_state st);
/* False when libmicrohttpd's messages are being suppressed (a flood). */
bool conns_log_ok(void);

/* ---- api_throttle.c: login throttling ---- */
/* Seconds a login for <account> (may be "") from <addr> must wait. */
long throttle_wait(const char *account, const char *addr);
void throttle_fail(const char *account, const char *addr);
void throttle_ok(const char *account, const char *addr);
void throttle_list(struct api_req *r);
void throttle_clear(struct api_req *r);

/* ---- api_access.c: access list users ---- */
struct store_stmt;
/* Binds the password_hash and password_tag of access list user <user>
 * (row <id>, 0: new) into the upsert <s>: a "password" hashed, a
 * "password_hash" as given, or the row's own. 0, or -1 with <e> (field
 * under <path>).
 */
int access_user_bind(struct store *st, struct store_stmt *s,
    const struct json *user, int64_t id, const char *path, struct err *e);

/* ---- api_explain.c: POST /explain ---- */
void sys_explain(struct api_req *r);

/* ---- api_passwd.c: the password policy ---- */
/* 0, or -1 with <e> on field "password" saying which rule <pw> breaks. */
int passwd_check(const char *pw, const char *user, struct err *e);

/* ---- api_config.c: the configuration document ---- */
enum conf_kind {
	CONF_LISTENERS = 0,
	CONF_ORIGINS,
	CONF_ACCESS_LISTS, /* before routes: they refer to these */
	CONF_RATE_LIMITS,
	CONF_ERROR_PAGES,
	CONF_ROUTES,
	CONF__KINDS,
};
extern const char *const conf_kind_names[CONF__KINDS];
/* The whole configuration as {"listeners":[],"origins":[],"routes":[]},
 * items with their "id". New reference or NULL with <e>.
 */
struct json *conf_load(struct store *st, struct err *e);

/* Records revision <summary> with config <doc>, actor and client from <r>,
 * inside the caller's transaction, as a delta against the previous
 * revision or a checkpoint, then applies retention (rev_store.c). Keeps
 * a reference to <doc>: the caller must not change it afterwards. The
 * new revision number, or -1 + <e>.
 */
int64_t api_revision_insert(struct api_req *r, struct store *st,
    const char *summary, struct json *doc, struct err *e);
/* Records the revision after a write of item <id> of collection <coll>
 * (<now>: the item, NULL: deleted) as api_revision_insert() does, without
 * building the next document from every item: the newest revision's
 * document in memory becomes the next one, changed in place, and the
 * delta is the one operation on that item. 0 when it cannot (that
 * document is not in memory or is shared: the caller builds the next
 * document), the revision number, or -1 + <e>.
 */
int64_t rev_insert_item(struct api_req *r, struct store *st,
    const char *summary, const char *coll, int64_t id, struct json *now,
    struct err *e);
/* The newest revision's document when rev_store.c still holds it (the
 * API thread wrote it), a new reference that must not be changed; NULL
 * when it does not (then rebuild it with conf_load()).
 */
struct json *rev_latest_cached(struct store *st);
/* Revision <n>'s whole document (new reference); NULL with e->msg empty
 * when there is no such revision, else with <e>.
 */
struct json *rev_doc(struct store *st, int64_t n, struct err *e);
/* Retention settings (defaults below) and pruning; see rev_store.c. */
#define REV_KEEP_DEF      10000
#define REV_KEEP_DAYS_DEF 365
#define REV_KEEP_MAX      100000000
#define REV_DAYS_MAX      36500
int rev_retention_get(struct store *st, int64_t *keep, int64_t *days,
    struct err *e);
int rev_retention_set(struct store *st, int64_t keep, int64_t days,
    struct err *e);
int rev_prune(struct store *st, struct err *e);
/* Drops the documents rev_store.c keeps in memory (api_stop()). */
void rev_cache_clear(void);
/* rev_store.c's statements that read revisions' heads (checkpoint,
 * digest, bytes) without their documents, NULL-terminated: each goes
 * through the covering index revisions_head (test_rev_store checks).
 */
extern const char *const rev_head_sql[];
/* The field table of <kind> (daemon/cfg_field.h). */
const struct cf_kind *conf_kind(enum conf_kind kind);
/* One item of <kind> (named, or numbered when all digits), or NULL with
 * <e> empty when there is none (<e> filled on a store error).
 */
struct json *conf_load_item(struct store *st, enum conf_kind kind,
    const char *key, struct err *e);
/* Checks one item of <kind> alone (no references) against its field
 * table and adds every error to <l>; <path> prefixes the error fields
 * ("" for item endpoints, "routes[2]" for documents). 0 or -1.
 */
int conf_check_item_all(enum conf_kind kind, const struct json *item,
    const char *path, struct errs *l);
/* The same, keeping only the first error. */
int conf_check_item(enum conf_kind kind, const struct json *item,
    const char *path, struct err *e);
/* An item checked against the table of <k> alone (users, tokens): keys,
 * types, ranges, enums, value types, required fields; F_READONLY fields
 * are ignored. 0, or -1 with the first error in <e>.
 */
struct cf_kind;
int conf_check_kind(const struct cf_kind *k, const struct json *item,
    struct err *e);
/* Checks a whole document: items, unique names, references; every
 * error into <l>. 0 or -1.
 */
int conf_check_all(const struct json *doc, struct errs *l);
/* The same, keeping only the first error. */
int conf_check(const struct json *doc, struct err *e);
/* After a merge <patch> of an item of <kind> into <merged>: a list of
 * references the patch leaves out goes when the patch gives its one-item
 * form, and the other way round ("listener" replaces "listeners").
 */
void conf_merge_refs(enum conf_kind kind, const struct json *patch,
    struct json *merged);
/* Makes the rows say what <doc> says, keeping the ids of kept objects
 * (matched by "id", then by name); <old> is conf_load() of the rows
 * before, and items equal to theirs are not written. Inside the caller's
 * transaction.
 */
int conf_sync(struct store *st, const struct json *old, const struct json *doc,
    struct err *e);
/* Writes one item of <kind> as row <id> (0: a new row) with its children;
 * <old> is the item as it was (NULL when new). References must name
 * existing items (else -1 with <e>). The row id, or -1 + <e>.
 */
int64_t conf_write_item(struct store *st, enum conf_kind kind,
    const struct json *old, const struct json *item, int64_t id, struct err *e);
/* The JSON value of field <i> of kind <k> in <item>, NULL when it or
 * the object holding it is absent or null; borrowed.
 */
const struct json *conf_field_value(const struct cf_kind *k, int i,
    const struct json *item);
/* Deletes row <id> of <kind> (and its children). 0 or -1 + <e>. */
int conf_delete_item(struct store *st, enum conf_kind kind, int64_t id,
    struct err *e);
/* The item of <kind> named or numbered <key> in <doc>; borrowed. */
struct json *conf_find(const struct json *doc, enum conf_kind kind,
    const char *key, size_t *idx);

/* ---- api_apply.c: the live-apply pipeline ---- */
/* Validates <doc> (borrowed), writes it in one transaction with a
 * revision row, compiles, commits, publishes, and answers: with <item>
 * (kind, name) the stored item, else the revision. On any failure it
 * answers the error and nothing changes. <status> is the success code.
 */
void apply_doc(struct api_req *r, const struct json *doc, const char *summary,
    int kind, const char *item_name, unsigned status);
/* One item write in one transaction, at a cost that grows with the item:
 * checks <item> (every error), its name and references by index (for a
 * delete, <item> NULL: that no route uses it), writes its rows only,
 * records the revision, compiles, commits, publishes and answers with
 * the stored item (<status>) or 204. <old> is the item as stored, NULL
 * for a create.
 */
void apply_item(struct api_req *r, enum conf_kind kind, const struct json *old,
    const struct json *item, const char *summary, unsigned status);
/* Dry run of apply_doc: answers {"valid":true,"changes":[...]} or 422. */
void apply_validate(struct api_req *r, const struct json *doc);
/* Rows a document write adds before the document's own, in the same
 * transaction (certificates a patch adds, api_config_certs.c): <write>
 * returns 0, or -1 with <e> and the status to answer in <*status>;
 * <changes> (an array, owned) joins the answer's changes and makes the
 * write a revision even when the document does not change.
 */
struct apply_pre {
	int (*write)(struct store *st, void *arg, struct err *e,
	    unsigned *status);
	void *arg;
	struct json *changes;
};
/* apply_doc() and apply_validate() answering the revision, with <pre>. */
void apply_doc_pre(struct api_req *r, const struct json *doc,
    const struct apply_pre *pre, const char *summary);
void apply_validate_pre(struct api_req *r, const struct json *doc,
    const struct apply_pre *pre);

/* ---- api_config_certs.c: certificates a configuration patch adds ---- */
struct config_certs;
/* Gives <doc> the empty "certificates" array a patch may add to. */
void config_certs_prepare(struct json *doc);
/* Takes the "certificates" array out of patched <doc>, checks every item
 * and makes the self-signed ones: 0 with <*out> (NULL when none), or -1
 * after answering 422 with every error, the document's too.
 */
int config_certs_take(struct api_req *r, struct json *doc,
    struct config_certs **out);
size_t config_certs_count(const struct config_certs *cc);
/* Whether one of them is an ACME certificate (the ACME thread is woken
 * after the write).
 */
bool config_certs_acme(const struct config_certs *cc);
/* <pre> to write them; appends their names to <summary>. */
void config_certs_pre(struct config_certs *cc, struct apply_pre *pre,
    char *summary, size_t len);
void config_certs_free(struct config_certs *cc); /* NULL-safe */
/* 0 when If-Match is absent or names the current revision; else -1
 * after replying 412.
 */
int apply_if_match(struct api_req *r, int64_t current);

/* ---- api_res.c: listeners, origins, routes ---- */
void res_list(struct api_req *r);
void res_create(struct api_req *r);
void res_get(struct api_req *r);
void res_put(struct api_req *r);
void res_patch(struct api_req *r);
void res_delete(struct api_req *r);
/* api_servers.c: PATCH one server of an origin. */
void res_server_patch(struct api_req *r);
/* api_balance.c: servers' live state, as JSON (/stats) and as
 * Prometheus text (/metrics, malloc'ed, NULL when there is none).
 */
struct cfg;
struct json *balance_live_json(const struct cfg *c);
char *balance_live_metrics(const struct cfg *c);
void res_config_get(struct api_req *r);
void res_config_put(struct api_req *r);
void res_config_patch(struct api_req *r);
void res_config_validate(struct api_req *r);

/* ---- api_schema.c: OpenAPI schemas from the field tables ---- */
/* The JSON Schema of kind <kind> (an enum cf_kind_id); new reference. */
struct json *schema_kind(int kind);

/* ---- api_list.c ---- */
/* Answers a collection list <items> (stolen) named <coll>, paged and
 * filtered by ?limit=, ?after= and ?q= when given; 400 on bad ones.
 */
void api_list_reply(struct api_req *r, const char *coll, struct json *items);

/* ---- api_revisions.c ---- */
void rev_list(struct api_req *r);
void rev_get(struct api_req *r);
void rev_diff(struct api_req *r);
void rev_restore(struct api_req *r);
void rev_settings_get(struct api_req *r);
void rev_settings_put(struct api_req *r);
/* api_compress.c: GET, PUT /settings/compression. */
void compress_settings_ep_get(struct api_req *r);
void compress_settings_ep_put(struct api_req *r);

/* ---- api_certs.c: certificates (never their keys) and TLS posture ---- */
void certs_list(struct api_req *r);
void certs_create(struct api_req *r);
void certs_selfsigned(struct api_req *r);
void certs_get(struct api_req *r);
void certs_put(struct api_req *r);
void certs_delete(struct api_req *r);
void posture_get(struct api_req *r);

/* ---- cert_store.c: storing a certificate (api_certs.c, ACME) ---- */
/* <t> as "2026-12-03T12:00:00Z". */
void cert_iso_time(int64_t t, char *buf, size_t len);
/* Column <i> as JSON: its text parsed (a string when it is not JSON),
 * null when NULL. cert_col_time(): an epoch column as ISO time, null
 * when NULL or 0.
 */
struct store_stmt;
struct json *cert_col_json(struct store_stmt *s, int i);
struct json *cert_col_time(struct store_stmt *s, int i);
/* One write of the certificates table: <sql> binds ?1 name, ?2 kind,
 * ?3 certificate PEM, ?4 the key PEM sealed with the KEK (NULL when
 * <key> is), ?5 id.
 */
struct cert_row {
	const char *sql;
	const char *name, *kind, *cert, *key;
	int64_t id; /* set to the new row's id after an INSERT */
};
/* Seals the key and steps the statement: 0; -1 with <e> and <*status>
 * (409: the name exists or the row is referenced; 503: no KEK; 500).
 */
int cert_store_row(struct store *st, struct cert_row *w, struct err *e,
    unsigned *status);
/* The rows of one change, written by <write> inside the transaction: 0,
 * or -1 with <e> and the status to answer in <*status>.
 */
typedef int (*cert_store_fn)(struct store *st, void *arg, struct err *e,
    unsigned *status);
/* On <st>: BEGIN, If-Match (when <request>), <write>, a revision by <r> named
 * <summary>, compile, COMMIT, publish; on a <request> the revision's
 * X-Config-Revision and ETag headers. The revision, or -1 with <e> and
 * <*status> (0: already answered).
 */
int64_t cert_store_apply(struct api_req *r, struct store *st, bool request,
    const char *summary, cert_store_fn write, void *arg, struct err *e,
    unsigned *status);
/* Answers the failure of cert_store_apply(). */
void cert_store_reply_error(struct api_req *r, unsigned status,
    const struct err *e);

/* ---- api_acme_accounts.c, api_acme_certs.c, api_acme_metrics.c ---- */
void acme_accounts_list(struct api_req *r);
void acme_accounts_create(struct api_req *r);
void acme_accounts_get(struct api_req *r);
void acme_accounts_delete(struct api_req *r);
void acme_certs_request(struct api_req *r);
/* An ACME certificate's request, checked (api_acme_certs.c): the body of
 * POST /certificates/acme without "name", or the "acme" member of a
 * certificate a configuration patch adds.
 */
#define ACME_MAX_NAMES 32
struct acme_req {
	const char *names[ACME_MAX_NAMES]; /* borrowed from the body */
	size_t n;
	const char *challenge, *account; /* borrowed */
	int64_t account_id;
	int64_t start;    /* first attempt, epoch seconds (0: at once) */
	char *names_json; /* owned: the names as a JSON array */
	char *cert, *key; /* owned: the placeholder's PEM, once made */
};
/* Checks {"names","account","challenge","key_type","delay_s"} of <j>
 * (not its other keys) and looks the account up: 0, or -1 with <e> at
 * the field ("names", "account", …; "" for a store error).
 */
int acme_req_check(struct store *st, const struct json *j, struct acme_req *q,
    struct err *e);
/* The self-signed placeholder for the names, into <q->cert>, <q->key>. */
int acme_req_placeholder(struct acme_req *q, struct err *e);
/* The acme_certs row of certificate <cert_id>, inside a transaction. */
int acme_req_write(struct store *st, int64_t cert_id, const struct acme_req *q,
    struct err *e);
void acme_req_free(struct acme_req *q);
void acme_certs_renew(struct api_req *r);
/* The "acme" member of certificate <id>, or NULL when the ACME client
 * does not manage it.
 */
struct json *acme_cert_json(struct store *st, int64_t id);
/* The /metrics lines of certificates: expiry of every leaf, ACME
 * certificates by status and their failures in a row (free()).
 */
char *acme_metrics(struct store *st);

/* ---- api_logs.c: recent log lines (admins only) ---- */
void logs_access(struct api_req *r);
void logs_access_stream(struct api_req *r);
void logs_daemon(struct api_req *r);

/* ---- api_backup.c: encrypted backups of the whole state ---- */
void backup_get(struct api_req *r);
void backup_post(struct api_req *r);
void restore_post(struct api_req *r);

/* ---- api_system.c ---- */
void sys_healthz(struct api_req *r);
void sys_status(struct api_req *r);
void sys_stats(struct api_req *r);
void sys_metrics(struct api_req *r);

/* ---- api_history.c ---- */
void sys_stats_history(struct api_req *r);
void sys_openapi(struct api_req *r);
void sys_static(struct api_req *r);

#endif
