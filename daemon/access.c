/*
 * access.c: access lists (access.h).
 */
#include "access.h"

#include <sys/socket.h>

#include <argon2.h>
#include <crypt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/crypto.h>

#include "arena.h"
#include "cfg_route_ref.h"
#include "conn.h"
#include "l4_route.h"
#include "proxy.h"
#include "stats.h"
#include "store.h"

/* Longest "user:password" read from an Authorization header. */
#define ACC_CRED_MAX 1024
/* Longest stored hash (the field's limit, cfg_field.c). */
#define ACC_HASH_MAX 1024
/* Successful checks kept per worker, and for how long. */
#define ACC_CACHE_SLOTS 256
#define ACC_CACHE_S     300
/* Failed passwords from one address: free ones, then a wait that
 * doubles from ACC_THR_BASE to ACC_THR_MAX seconds; forgotten after
 * ACC_THR_FORGET seconds without a failure.
 */
#define ACC_THR_SLOTS   4096
#define ACC_THR_STRIPES 16
#define ACC_THR_FREE    10
#define ACC_THR_BASE    15
#define ACC_THR_MAX     900
#define ACC_THR_FORGET  3600

/* ---- base64 ---- */

static int
b64_val(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

ssize_t
access_b64_decode(const char *in, size_t n, char *out, size_t cap)
{
	uint32_t acc = 0;
	size_t i, o = 0, bits = 0;
	int v;

	while (n > 0 && in[n - 1] == '=')
		n--;
	if (n % 4 == 1)
		return -1;
	for (i = 0; i < n; i++) {
		if ((v = b64_val((unsigned char)in[i])) < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == cap)
				return -1;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	return (ssize_t)o;
}

/* ---- verification and its cache ---- */

bool
access_verify(const char *hash, const char *pw, size_t pwlen)
{
	static _Thread_local struct crypt_data cd;
	char buf[ACC_CRED_MAX + 1];
	const char *out;
	size_t n;

	if (strncmp(hash, "$argon2id$", 10) == 0)
		return argon2id_verify(hash, pw, pwlen) == ARGON2_OK;
	/* crypt(3) wants a C string: a password with a NUL cannot match. */
	if (pwlen > ACC_CRED_MAX || memchr(pw, '\0', pwlen) != NULL)
		return false;
	memcpy(buf, pw, pwlen);
	buf[pwlen] = '\0';
	memset(&cd, 0, sizeof(cd));
	out = crypt_r(buf, hash, &cd);
	explicit_bzero(buf, sizeof(buf));
	if (out == NULL || out[0] == '*')
		return false;
	n = strlen(hash);
	return strlen(out) == n && gnutls_memcmp(out, hash, n) == 0;
}

struct acc_cache_slot {
	unsigned char key[32]; /* SHA-256 of hash NUL password */
	time_t until;
};

static _Thread_local struct acc_cache_slot acc_cache[ACC_CACHE_SLOTS];

/* SHA-256 of <hash> NUL <pw> into <key>, in one call (no context to
 * allocate). False when it cannot be made: then nothing is cached.
 */
static bool
cache_key(const char *hash, const char *pw, size_t pwlen, unsigned char *key)
{
	char buf[ACC_HASH_MAX + 1 + ACC_CRED_MAX];
	size_t hl = strlen(hash);
	bool ok;

	if (hl > ACC_HASH_MAX || pwlen > ACC_CRED_MAX)
		return false;
	memcpy(buf, hash, hl + 1);
	memcpy(buf + hl + 1, pw, pwlen);
	ok = gnutls_hash_fast(GNUTLS_DIG_SHA256, buf, hl + 1 + pwlen, key) == 0;
	explicit_bzero(buf + hl + 1, pwlen);
	return ok;
}

/* Whether <pw> is the password of <u>: from the cache, else hashed. */
static bool
check_password(const struct cfg_access_user *u, const char *pw, size_t pwlen)
{
	unsigned char key[32];
	struct acc_cache_slot *s;
	time_t now = time(NULL);

	if (!cache_key(u->hash, pw, pwlen, key))
		return access_verify(u->hash, pw, pwlen);
	s = &acc_cache[(key[0] | (unsigned)key[1] << 8) % ACC_CACHE_SLOTS];
	if (s->until > now && gnutls_memcmp(s->key, key, sizeof(key)) == 0) {
		stats_inc(STAT_ACCESS_AUTH_CACHED);
		return true;
	}
	if (!access_verify(u->hash, pw, pwlen))
		return false;
	memcpy(s->key, key, sizeof(key));
	s->until = now + ACC_CACHE_S;
	return true;
}

/* ---- throttling failed passwords, shared by the workers ---- */

struct acc_thr_slot {
	uint8_t addr[16];
	int family;
	unsigned fails;
	time_t last, until;
};

static struct acc_thr_slot acc_thr[ACC_THR_SLOTS];
static pthread_mutex_t acc_thr_mu[ACC_THR_STRIPES] = {
	[0 ... ACC_THR_STRIPES - 1] = PTHREAD_MUTEX_INITIALIZER
};

static size_t
thr_addr(const struct sockaddr_storage *sa, uint8_t *addr, int *family)
{
	memset(addr, 0, 16);
	*family = sa->ss_family;
	if (sa->ss_family == AF_INET6) {
		memcpy(addr,
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		    16);
		/* One client per /64: an address of it is cheap to change. */
		memset(addr + 8, 0, 8);
	} else {
		memcpy(addr,
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
		    4);
	}
	return 0;
}

static struct acc_thr_slot *
thr_slot(const uint8_t *addr, int family, pthread_mutex_t **mu)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < 16; i++)
		h = (h ^ addr[i]) * 16777619u;
	h ^= (uint32_t)family;
	*mu = &acc_thr_mu[h % ACC_THR_STRIPES];
	return &acc_thr[h % ACC_THR_SLOTS];
}

/* Seconds the client at <sa> must wait before trying a password. */
static long
thr_wait(const struct sockaddr_storage *sa)
{
	uint8_t addr[16];
	int family;
	pthread_mutex_t *mu;
	struct acc_thr_slot *s;
	time_t now = time(NULL);
	long wait = 0;

	thr_addr(sa, addr, &family);
	s = thr_slot(addr, family, &mu);
	pthread_mutex_lock(mu);
	if (s->family == family && memcmp(s->addr, addr, 16) == 0 &&
	    s->until > now)
		wait = (long)(s->until - now);
	pthread_mutex_unlock(mu);
	return wait;
}

static void
thr_fail(const struct sockaddr_storage *sa)
{
	uint8_t addr[16];
	int family;
	pthread_mutex_t *mu;
	struct acc_thr_slot *s;
	time_t now = time(NULL);
	unsigned over, i;
	long wait;

	thr_addr(sa, addr, &family);
	s = thr_slot(addr, family, &mu);
	pthread_mutex_lock(mu);
	if (s->family != family || memcmp(s->addr, addr, 16) != 0 ||
	    now - s->last > ACC_THR_FORGET) {
		/* A collision takes the slot over: the table stays bounded. */
		memset(s, 0, sizeof(*s));
		memcpy(s->addr, addr, 16);
		s->family = family;
	}
	s->fails++;
	s->last = now;
	if (s->fails >= ACC_THR_FREE) {
		over = s->fails - ACC_THR_FREE;
		for (wait = ACC_THR_BASE, i = 0; i < over && wait < ACC_THR_MAX;
		     i++)
			wait *= 2;
		if (wait > ACC_THR_MAX)
			wait = ACC_THR_MAX;
		s->until = now + wait;
	}
	pthread_mutex_unlock(mu);
}

/* ---- answers ---- */

void
access_answer(struct conn *c, int status, const char *extra,
    const char *decision)
{
	struct req *r = c->req;
	char buf[512];
	const char *reason = proxy_reason(status);
	int body, n;

	if (r->flags & REQ_F_HAS_BODY)
		r->flags |= REQ_F_CLOSE; /* the body is not read on */
	body = (int)strlen(reason) + 5;
	n = snprintf(buf, sizeof(buf),
	    "HTTP/1.1 %d %s\r\n"
	    "Server: gatehouse\r\n"
	    "%s"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: %d\r\n"
	    "%s"
	    "\r\n"
	    "%d %s\n",
	    status, reason, extra, body,
	    (r->flags & REQ_F_CLOSE) ? "Connection: close\r\n" : "", status,
	    reason);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		proxy_write_local(c, status, true);
		r->flags |= REQ_F_CLOSE;
	} else {
		if (r->flags & REQ_F_HEAD_METHOD)
			n -= body;
		if (conn_write(c, buf, (size_t)n) == -1)
			r->flags |= REQ_F_CLOSE;
		r->bytes_out += (uint64_t)n;
		r->status = (uint16_t)status;
	}
	r->decision = decision;
}

static void
answer_401(struct conn *c, const struct cfg_access_list *a,
    const char *decision)
{
	char hdr[200];

	snprintf(hdr, sizeof(hdr),
	    "WWW-Authenticate: Basic realm=\"%s\", charset=\"UTF-8\"\r\n",
	    a->realm);
	access_answer(c, 401, hdr, decision);
}

/* ---- the check ---- */

static bool
addr_in(const struct cfg_cidr *v, size_t n, const struct sockaddr_storage *sa)
{
	return n > 0 && l4_cidr_any(v, n, (const struct sockaddr *)sa);
}

/* The basic auth user of the request, or NULL: 0 none given, 1 good,
 * -1 wrong.
 */
static int
basic_auth(struct str v, const struct cfg_access_list *a,
    const struct cfg_access_user **who)
{
	char cred[ACC_CRED_MAX];
	const char *colon;
	ssize_t n;
	size_t i, ulen;
	int rc = -1;

	*who = NULL;
	v = str_trim(v);
	if (v.len == 0)
		return 0;
	if (v.len < 6 || strncasecmp(v.p, "basic ", 6) != 0)
		return -1;
	v = str_trim(str_make(v.p + 6, v.len - 6));
	if ((n = access_b64_decode(v.p, v.len, cred, sizeof(cred))) < 0 ||
	    (colon = memchr(cred, ':', (size_t)n)) == NULL)
		return -1;
	ulen = (size_t)(colon - cred);
	for (i = 0; i < a->nusers; i++) {
		if (a->users[i].len != ulen ||
		    memcmp(a->users[i].name, cred, ulen) != 0)
			continue;
		if (check_password(&a->users[i], colon + 1,
		        (size_t)n - ulen - 1)) {
			*who = &a->users[i];
			rc = 1;
		}
		break;
	}
	explicit_bzero(cred, sizeof(cred));
	return rc;
}

enum access_verdict
access_decide(const struct cfg_access_list *a,
    const struct sockaddr_storage *sa, struct str authorization,
    const struct cfg_access_user **who, long *wait)
{
	bool addr_ok;

	*who = NULL;
	*wait = 0;
	if (addr_in(a->deny, a->ndeny, sa))
		return ACCESS_DENIED_ADDR;
	addr_ok = addr_in(a->allow, a->nallow, sa) || a->default_allow;
	if (addr_ok && (!a->satisfy_all || a->nusers == 0))
		return ACCESS_PASS;
	if (a->nusers == 0 || (!addr_ok && a->satisfy_all))
		return ACCESS_NOT_ALLOWED;
	if (str_trim(authorization).len == 0)
		return ACCESS_AUTH_REQUIRED;
	if ((*wait = thr_wait(sa)) > 0)
		return ACCESS_THROTTLED;
	return basic_auth(authorization, a, who) == 1 ? ACCESS_PASS_USER
	                                              : ACCESS_AUTH_FAILED;
}

bool
access_admit(struct conn *c)
{
	struct req *r = c->req;
	const struct cfg_access_list *a = r->route->access_list;
	const struct cfg_access_user *who;
	char hdr[64];
	long wait;

	if (a == NULL)
		return false;
	switch (access_decide(a, &r->client.sa,
	    http_msg_get(&c->req->msg, "authorization"), &who, &wait)) {
	case ACCESS_PASS:
		return false;
	case ACCESS_PASS_USER:
		stats_inc(STAT_ACCESS_AUTH_OK);
		r->user = who->name;
		return false;
	case ACCESS_DENIED_ADDR:
		stats_inc(STAT_ACCESS_DENIED);
		access_answer(c, 403, "", "access_list:address_denied");
		return true;
	case ACCESS_NOT_ALLOWED:
		stats_inc(STAT_ACCESS_DENIED);
		access_answer(c, 403, "", "access_list:address_not_allowed");
		return true;
	case ACCESS_AUTH_REQUIRED:
		stats_inc(STAT_ACCESS_AUTH_REQUIRED);
		answer_401(c, a, "access_list:auth_required");
		return true;
	case ACCESS_THROTTLED:
		stats_inc(STAT_ACCESS_THROTTLED);
		snprintf(hdr, sizeof(hdr), "Retry-After: %ld\r\n", wait);
		access_answer(c, 429, hdr, "access_list:throttled");
		return true;
	case ACCESS_AUTH_FAILED:
		break;
	}
	thr_fail(&r->client.sa);
	stats_inc(STAT_ACCESS_AUTH_FAILED);
	answer_401(c, a, "access_list:auth_failed");
	return true;
}

/* ---- compile ---- */

static struct cfg_access_list *
acl_by_id(struct cfg *c, int64_t id)
{
	size_t lo = 0, hi = c->naccess_lists, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (c->access_lists[mid].id == id)
			return &c->access_lists[mid];
		if (c->access_lists[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int
oom(struct err *e)
{
	return err_set(e, "",
	    "out of memory while compiling the configuration");
}

static int
acl_rows(struct store *st, struct cfg *c, struct err *e)
{
	struct store_stmt *s;
	enum store_step_result r;
	struct cfg_access_list *a;
	size_t n = 0;
	int rc = 0;

	if ((s = store_prepare(st, "SELECT count(*) FROM access_lists", e)) ==
	    NULL)
		return -1;
	if (store_step(s, e) == STORE_ROW)
		n = (size_t)store_col_int64(s, 0);
	store_finalize(s);
	if (n == 0)
		return 0;
	if ((c->access_lists = arena_calloc(c->arena, n, sizeof(*a))) == NULL)
		return oom(e);
	s = store_prepare(st,
	    "SELECT t.id, t.name, t.default_action, t.realm, t.satisfy,"
	    " json_array_length(t.allow), json_array_length(t.deny),"
	    " (SELECT count(*) FROM access_list_users u"
	    "  WHERE u.access_list_id = t.id)"
	    " FROM access_lists t ORDER BY t.id",
	    e);
	if (s == NULL)
		return -1;
	while ((r = store_step(s, e)) == STORE_ROW) {
		if (c->naccess_lists == n) {
			rc = err_set(e, "",
			    "access lists changed while "
			    "compiling");
			break;
		}
		a = &c->access_lists[c->naccess_lists++];
		a->id = store_col_int64(s, 0);
		a->name = arena_strdup(c->arena, store_col_text(s, 1));
		a->default_allow = strcmp(store_col_text(s, 2), "allow") == 0;
		a->realm = arena_strdup(c->arena, store_col_text(s, 3));
		a->satisfy_all = strcmp(store_col_text(s, 4), "all") == 0;
		a->room_allow = (size_t)store_col_int64(s, 5);
		a->room_deny = (size_t)store_col_int64(s, 6);
		a->room_users = (size_t)store_col_int64(s, 7);
		if (a->name == NULL || a->realm == NULL ||
		    (a->room_allow > 0 &&
		        (a->allow = arena_calloc(c->arena, a->room_allow,
		             sizeof(*a->allow))) == NULL) ||
		    (a->room_deny > 0 &&
		        (a->deny = arena_calloc(c->arena, a->room_deny,
		             sizeof(*a->deny))) == NULL) ||
		    (a->room_users > 0 &&
		        (a->users = arena_calloc(c->arena, a->room_users,
		             sizeof(*a->users))) == NULL)) {
			rc = oom(e);
			break;
		}
	}
	if (rc == 0 && r != STORE_DONE)
		rc = -1;
	store_finalize(s);
	return rc;
}

static int
acl_cidrs(struct store *st, struct cfg *c, struct err *e)
{
	struct store_stmt *s;
	enum store_step_result r = STORE_ERROR;
	struct cfg_access_list *a;
	struct cfg_cidr *v;
	size_t *nv, room;
	bool deny;
	char path[160];
	int rc = 0;

	s = store_prepare(st,
	    "SELECT t.id, 0, j.key, j.type, j.value FROM access_lists t,"
	    " json_each(t.allow) j WHERE t.allow <> '[]'"
	    " UNION ALL "
	    "SELECT t.id, 1, j.key, j.type, j.value FROM access_lists t,"
	    " json_each(t.deny) j WHERE t.deny <> '[]'",
	    e);
	if (s == NULL)
		return -1;
	while (rc == 0 && (r = store_step(s, e)) == STORE_ROW) {
		if ((a = acl_by_id(c, store_col_int64(s, 0))) == NULL) {
			rc = err_set(e, "",
			    "access lists changed while "
			    "compiling");
			break;
		}
		deny = store_col_int64(s, 1) != 0;
		v = deny ? a->deny : a->allow;
		nv = deny ? &a->ndeny : &a->nallow;
		room = deny ? a->room_deny : a->room_allow;
		snprintf(path, sizeof(path), "access_lists[%s].%s[%lld]",
		    a->name, deny ? "deny" : "allow",
		    (long long)store_col_int64(s, 2));
		if (*nv == room || strcmp(store_col_text(s, 3), "text") != 0 ||
		    cfg_cidr_parse(store_col_text(s, 4), &v[*nv]) == -1) {
			rc = err_set(e, path,
			    "\"%.64s\" is not an address or CIDR block",
			    store_col_text(s, 4));
			break;
		}
		(*nv)++;
	}
	if (rc == 0 && r != STORE_DONE)
		rc = -1;
	store_finalize(s);
	return rc;
}

static int
acl_users(struct store *st, struct cfg *c, struct err *e)
{
	struct store_stmt *s;
	enum store_step_result r = STORE_ERROR;
	struct cfg_access_list *a;
	struct cfg_access_user *u;
	int rc = 0;

	s = store_prepare(st,
	    "SELECT access_list_id, username, password_hash"
	    " FROM access_list_users ORDER BY access_list_id, position, id",
	    e);
	if (s == NULL)
		return -1;
	while (rc == 0 && (r = store_step(s, e)) == STORE_ROW) {
		if ((a = acl_by_id(c, store_col_int64(s, 0))) == NULL ||
		    a->nusers == a->room_users) {
			rc = err_set(e, "",
			    "access lists changed while "
			    "compiling");
			break;
		}
		u = &a->users[a->nusers++];
		u->name = arena_strdup(c->arena, store_col_text(s, 1));
		u->hash = arena_strdup(c->arena, store_col_text(s, 2));
		if (u->name == NULL || u->hash == NULL) {
			rc = oom(e);
			break;
		}
		u->len = strlen(u->name);
	}
	if (rc == 0 && r != STORE_DONE)
		rc = -1;
	store_finalize(s);
	return rc;
}

static bool
acl_set(struct cfg *c, struct cfg_route *r, int64_t id)
{
	r->access_list = id != 0 ? acl_by_id(c, id) : NULL;
	return id == 0 || r->access_list != NULL;
}

static const struct cfg_route_ref acl_ref = { "access_list_id", "access_list",
	"access list", acl_set };

int
access_route(struct store *st, struct cfg *c, struct cfg_route *r,
    struct err *e)
{
	return cfg_route_ref(st, c, r, &acl_ref, e);
}

int
access_compile(struct store *st, struct cfg *c, struct err *e)
{
	if (acl_rows(st, c, e) != 0 || acl_cidrs(st, c, e) != 0 ||
	    acl_users(st, c, e) != 0 || cfg_route_refs(st, c, &acl_ref, e) != 0)
		return -1;
	return 0;
}
