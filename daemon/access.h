/*
 * access.h: access lists, the admission check of a routed request.
 *
 * An access list (a kind, reused by routes through "access_list") allows
 * and denies client addresses (client_addr.h: behind trusted proxies, the
 * real client) and names basic auth users. A denied address gets 403
 * whatever else holds; with satisfy "any" an allowed address or a good
 * password lets the request through, with "all" both are needed. A
 * request without good credentials gets 401 with WWW-Authenticate; an
 * address that keeps failing gets 429 with Retry-After for a while
 * (doubling, like the admin login). Passwords are checked against their
 * argon2id or crypt(3) hash once: a success is kept per worker under a
 * SHA-256 of the stored hash and the password, so keep-alive requests do
 * not hash again.
 */
#ifndef GH_ACCESS_H
#define GH_ACCESS_H

#include <sys/socket.h>
#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "str.h"

struct conn;
struct store;

/* What an access list says of a request from <sa> with the Authorization
 * value <authorization> (may be empty). Pure but for the password cache
 * and reading the failure table; <*who> the user let in, <*wait> the
 * seconds of a throttled address.
 */
enum access_verdict {
	ACCESS_PASS,          /* the address is enough */
	ACCESS_PASS_USER,     /* a good password */
	ACCESS_DENIED_ADDR,   /* deny list: 403 */
	ACCESS_NOT_ALLOWED,   /* not allowed, no password can help: 403 */
	ACCESS_AUTH_REQUIRED, /* no credentials: 401 */
	ACCESS_THROTTLED,     /* too many failures: 429 */
	ACCESS_AUTH_FAILED,   /* wrong user or password: 401 */
};
enum access_verdict access_decide(const struct cfg_access_list *a,
    const struct sockaddr_storage *sa, struct str authorization,
    const struct cfg_access_user **who, long *wait);

/* Runs the route's access list on the request of <c> (its head parsed
 * and routed). Returns false to go on; true when it answered (401, 403
 * or 429, recorded in the request for the access log and counted).
 */
bool access_admit(struct conn *c);

/* The compile's part (cfg_compile() calls it after the routes): the
 * access lists, their users, and the routes' references to them.
 * 0, or -1 with <e> naming the object and field.
 */
int access_compile(struct store *st, struct cfg *c, struct err *e);

/* The same for the one route <r> a route write compiled (cfg_incr.c),
 * with the access lists of <c> taken from the previous snapshot.
 */
int access_route(struct store *st, struct cfg *c, struct cfg_route *r,
    struct err *e);

/* Answers the request of <c> with <status> and a short text body, the
 * header lines <extra> ("Name: value\r\n"..., may be ""), and records
 * <decision> (static) for the access log.
 */
void access_answer(struct conn *c, int status, const char *extra,
    const char *decision);

/* Whether <pw> matches <hash> (argon2id, or crypt(3) "$2b$", "$6$",
 * "$y$"); no cache. Exposed for tests.
 */
bool access_verify(const char *hash, const char *pw, size_t pwlen);

/* Decodes standard base64 <in> (padding optional) into <out>, at most
 * <cap> bytes; the length, or -1 when it is not base64 or does not fit.
 */
ssize_t access_b64_decode(const char *in, size_t n, char *out, size_t cap);

#endif
