/*
 * api_list.c: paging and filtering of the collection lists (GET
 * /listeners, /origins, /routes; hooked in res_list()).
 *
 * Items keep their order, by id. Query parameters, each optional:
 *   q=TEXT      items whose name, or one of their host names or
 *               addresses (a route's match.hosts and match.sni, a
 *               listener's address, an origin's servers' addresses),
 *               contains TEXT, ASCII case ignored;
 *   after=C     items after C: an id, or the name of an existing item;
 *   limit=N     at most N items (1..1000).
 * The body stays the plain array a client without parameters gets. The
 * headers say the rest: X-Total-Count (items matching q), and when
 * items remain after this page X-Next-After (the id to pass as after=)
 * and Link: <...>; rel="next".
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "json.h"

#define LIST_LIMIT_MAX 1000
#define LIST_Q_MAX     64

struct list_query {
	const char *q; /* NULL: no filter */
	int64_t after; /* 0: from the start */
	size_t limit;  /* 0: no limit */
};

static char
list_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Whether <s> contains <q> (lowercase), ASCII case ignored. */
static bool
list_contains(const char *s, const char *q)
{
	size_t n = strlen(q), i;

	if (s == NULL)
		return false;
	for (; *s != '\0'; s++) {
		for (i = 0; i < n && s[i] != '\0'; i++)
			if (list_lower(s[i]) != q[i])
				break;
		if (i == n)
			return true;
	}
	return false;
}

static bool
list_any(const struct json *arr, const char *key, const char *q)
{
	size_t i;

	for (i = 0; i < json_len(arr); i++)
		if (list_contains(key != NULL
		            ? json_str(json_get(json_at(arr, i), key))
		            : json_str(json_at(arr, i)),
		        q))
			return true;
	return false;
}

static bool
list_match(const struct json *it, const char *q)
{
	const struct json *m = json_get(it, "match");

	return list_contains(json_str(json_get(it, "name")), q) ||
	    list_contains(json_str(json_get(it, "address")), q) ||
	    list_any(json_get(m, "hosts"), NULL, q) ||
	    list_any(json_get(m, "sni"), NULL, q) ||
	    list_any(json_get(it, "servers"), "address", q);
}

static bool
list_named(const struct json *it, const char *name)
{
	const char *n = json_str(json_get(it, "name"));

	return n != NULL && strcmp(n, name) == 0;
}

/* Reads the query; replies 400 and returns -1 on bad input. */
static int
list_query(struct api_req *r, const struct json *items, struct list_query *lq,
    char *qbuf)
{
	const char *v;
	char *end;
	size_t i;
	long long n;

	memset(lq, 0, sizeof(*lq));
	if ((v = api_req_query(r, "limit")) != NULL) {
		n = strtoll(v, &end, 10);
		if (*v < '0' || *v > '9' || *end != '\0' || n < 1 ||
		    n > LIST_LIMIT_MAX) {
			api_reply_problem(r, 400,
			    "limit must be a number from 1 to 1000", NULL);
			return -1;
		}
		lq->limit = (size_t)n;
	}
	if ((v = api_req_query(r, "q")) != NULL && *v != '\0') {
		if (strlen(v) > LIST_Q_MAX) {
			api_reply_problem(r, 400,
			    "q must be at most 64 characters", NULL);
			return -1;
		}
		for (i = 0; v[i] != '\0'; i++)
			qbuf[i] = list_lower(v[i]);
		qbuf[i] = '\0';
		lq->q = qbuf;
	}
	if ((v = api_req_query(r, "after")) != NULL && *v != '\0') {
		n = strtoll(v, &end, 10);
		if (*v >= '0' && *v <= '9' && *end == '\0' && n >= 0) {
			lq->after = n;
		} else {
			for (i = 0; i < json_len(items); i++)
				if (list_named(json_at(items, i), v))
					break;
			if (i == json_len(items)) {
				api_reply_problem(r, 400,
				    "after names no item: pass the id from "
				    "X-Next-After",
				    NULL);
				return -1;
			}
			lq->after = json_int(json_get(json_at(items, i), "id"));
		}
	}
	return 0;
}

/* Percent-encodes <s> (RFC 3986 unreserved kept) into <out>. */
static void
list_encode(const char *s, char *out, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;
	unsigned char c;

	for (; *s != '\0' && n + 4 < len; s++) {
		c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~') {
			out[n++] = (char)c;
		} else {
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	out[n] = '\0';
}

static void
list_next_headers(struct api_req *r, const char *coll,
    const struct list_query *lq, int64_t next)
{
	char v[320], q[LIST_Q_MAX * 3 + 1] = "";
	const char *raw = api_req_query(r, "q");

	snprintf(v, sizeof(v), "%" PRId64, next);
	api_add_header(r, "X-Next-After", v);
	if (raw != NULL && *raw != '\0')
		list_encode(raw, q, sizeof(q));
	snprintf(v, sizeof(v),
	    "</api/v1/%s?limit=%zu&after=%" PRId64 "%s%s>;"
	    " rel=\"next\"",
	    coll, lq->limit, next, q[0] != '\0' ? "&q=" : "", q);
	api_add_header(r, "Link", v);
}

void
api_list_reply(struct api_req *r, const char *coll, struct json *items)
{
	struct list_query lq;
	struct json *out, *it;
	char qbuf[LIST_Q_MAX + 1], total[24];
	size_t i, matched = 0;
	int64_t last = 0;
	bool more = false;

	if (list_query(r, items, &lq, qbuf) != 0) {
		json_unref(items);
		return;
	}
	if (lq.q == NULL && lq.after == 0 && lq.limit == 0) {
		api_reply_json(r, 200, items);
		return;
	}
	out = json_new_arr();
	for (i = 0; i < json_len(items); i++) {
		it = json_at(items, i);
		if (lq.q != NULL && !list_match(it, lq.q))
			continue;
		matched++;
		if (json_int(json_get(it, "id")) <= lq.after)
			continue;
		if (lq.limit > 0 && json_len(out) == lq.limit) {
			more = true;
			continue;
		}
		last = json_int(json_get(it, "id"));
		json_append(out, json_ref(it));
	}
	snprintf(total, sizeof(total), "%zu", matched);
	api_add_header(r, "X-Total-Count", total);
	if (more)
		list_next_headers(r, coll, &lq, last);
	json_unref(items);
	api_reply_json(r, 200, out);
}
