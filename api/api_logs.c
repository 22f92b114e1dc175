/*
 * api_logs.c: GET /api/v1/logs/access, /logs/daemon and
 * /logs/access/stream, the recent log lines kept in memory
 * (daemon/log_ring.h), filtered, to admins only: access lines name
 * clients and paths, daemon lines name files and addresses.
 *
 * The stream is Server-Sent Events in batches: one answer carries every
 * matching line newer than Last-Event-ID (or ?after=; none: only lines
 * logged from now on), an "id:" for the newest line looked at, and
 * "retry: 1000"; then it ends, and EventSource reconnects a second later
 * with Last-Event-ID. A new line reaches a browser within about a second,
 * and no admin connection is ever held open waiting.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api_int.h"
#include "json.h"
#include "log_ring.h"

#define LOGS_LIMIT_DEFAULT 100u
#define LOGS_STREAM_MAX    1000u

struct logs_filter {
	const char *route, *client, *q, *level;
	int status_lo, status_hi; /* 0: any */
};

static int
admins_only(struct api_req *r)
{
	if (r->role == API_ROLE_ADMIN)
		return 0;
	api_reply_problem(r, 403,
	    "logs name clients, paths and addresses: admins only", NULL);
	return -1;
}

/* "4xx", "404", "" -> a status range; -1 when it is none of those. */
static int
parse_status(const char *s, struct logs_filter *f)
{
	char *end;
	long v;

	f->status_lo = f->status_hi = 0;
	if (s == NULL || s[0] == '\0')
		return 0;
	if (strlen(s) == 3 && s[0] >= '1' && s[0] <= '5' &&
	    (s[1] == 'x' || s[1] == 'X') && (s[2] == 'x' || s[2] == 'X')) {
		f->status_lo = (s[0] - '0') * 100;
		f->status_hi = f->status_lo + 99;
		return 0;
	}
	v = strtol(s, &end, 10);
	if (*end != '\0' || v < 100 || v > 599)
		return -1;
	f->status_lo = f->status_hi = (int)v;
	return 0;
}

static int
parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL || s[0] == '\0')
		return 0;
	if (s[0] == '-' || (v = strtoull(s, &end, 10), *end != '\0') || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
read_filter(struct api_req *r, struct logs_filter *f, uint64_t *limit,
    uint64_t *after)
{
	struct err e;

	memset(f, 0, sizeof(*f));
	err_clear(&e);
	f->route = api_req_query(r, "route");
	f->client = api_req_query(r, "client");
	f->q = api_req_query(r, "q");
	f->level = api_req_query(r, "level");
	if (parse_status(api_req_query(r, "status"), f) != 0)
		err_set(&e, "status", "a status (404) or a class (4xx)");
	else if (limit != NULL &&
	    parse_u64(api_req_query(r, "limit"), LOG_RING_ACCESS_CAP, limit) !=
	        0)
		err_set(&e, "limit", "0 to %u", LOG_RING_ACCESS_CAP);
	else if (parse_u64(api_req_query(r, "after"), UINT64_MAX, after) != 0)
		err_set(&e, "after", "a sequence number");
	if (e.msg[0] == '\0')
		return 0;
	api_reply_problem(r, 400, "the query is not valid", &e);
	return -1;
}

static bool
empty(const char *s)
{
	return s == NULL || s[0] == '\0';
}

/* One access line as an object with its "seq", or NULL when it does not
 * pass <f>. */
static struct json *
access_entry(const struct log_ring_line *ln, const struct logs_filter *f)
{
	struct json *j = json_parse(ln->text, ln->len, NULL);
	const char *route, *client;
	int64_t status;

	if (j == NULL || !json_is_obj(j))
		goto drop;
	route = json_str(json_get(j, "route"));
	client = json_str(json_get(j, "client"));
	status = json_int(json_get(j, "status"));
	if (!empty(f->route) && (route == NULL || strcmp(route, f->route) != 0))
		goto drop;
	if (!empty(f->client) &&
	    (client == NULL || strcmp(client, f->client) != 0))
		goto drop;
	if (f->status_lo != 0 &&
	    (status < f->status_lo || status > f->status_hi))
		goto drop;
	if (!empty(f->q) && strcasestr(ln->text, f->q) == NULL)
		goto drop;
	if (json_set(j, "seq", json_new_int((int64_t)ln->seq)) != 0)
		goto drop;
	return j;
drop:
	json_unref(j);
	return NULL;
}

/* "2026-12-03T05:47:53.557Z [info] message" -> {seq, time, level,
 * message}, or NULL when it does not pass <f>. */
static struct json *
daemon_entry(const struct log_ring_line *ln, const struct logs_filter *f)
{
	const char *sp = strchr(ln->text, ' '), *lb, *rb;
	struct json *j;

	if (sp == NULL || (lb = strchr(sp, '[')) == NULL ||
	    (rb = strchr(lb, ']')) == NULL)
		return NULL;
	if (!empty(f->level) &&
	    ((size_t)(rb - lb - 1) != strlen(f->level) ||
	        strncmp(lb + 1, f->level, (size_t)(rb - lb - 1)) != 0))
		return NULL;
	if (!empty(f->q) && strcasestr(ln->text, f->q) == NULL)
		return NULL;
	if ((j = json_new_obj()) == NULL)
		return NULL;
	json_set(j, "seq", json_new_int((int64_t)ln->seq));
	json_set(j, "time", json_new_strn(ln->text, (size_t)(sp - ln->text)));
	json_set(j, "level", json_new_strn(lb + 1, (size_t)(rb - lb - 1)));
	json_set(j, "message", json_new_str(rb[1] == ' ' ? rb + 2 : rb + 1));
	return j;
}

/* {"entries": [...newest first...], "last": seq}. */
static void
logs_list(struct api_req *r, enum log_ring_id id)
{
	struct logs_filter f;
	struct log_ring_line *v;
	struct json *out, *arr, *j;
	uint64_t limit = LOGS_LIMIT_DEFAULT, after = 0, last;
	size_t n, i, got = 0;

	if (admins_only(r) != 0 || read_filter(r, &f, &limit, &after) != 0)
		return;
	last = log_ring_last(id);
	v = log_ring_since(id, after, (size_t)-1, &n);
	out = json_new_obj();
	arr = json_new_arr();
	for (i = n; i > 0 && got < limit; i--) {
		j = id == LOG_RING_ACCESS ? access_entry(&v[i - 1], &f)
		                          : daemon_entry(&v[i - 1], &f);
		if (j != NULL && json_append(arr, j) == 0)
			got++;
	}
	log_ring_lines_free(v, n);
	json_set(out, "entries", arr);
	json_set(out, "last", json_new_int((int64_t)last));
	api_reply_json(r, 200, out);
}

void
logs_access(struct api_req *r)
{
	logs_list(r, LOG_RING_ACCESS);
}

void
logs_daemon(struct api_req *r)
{
	logs_list(r, LOG_RING_DAEMON);
}

/* GET /api/v1/logs/access/stream: one batch of Server-Sent Events. */
void
logs_access_stream(struct api_req *r)
{
	struct logs_filter f;
	struct log_ring_line *v;
	struct json *j;
	uint64_t after = 0, last;
	const char *lei = api_req_header(r, "Last-Event-ID");
	size_t n, i, len = 0, cap = 4096;
	char *buf, *s, head[64];
	bool from_now;

	if (admins_only(r) != 0 || read_filter(r, &f, NULL, &after) != 0)
		return;
	from_now = empty(api_req_query(r, "after"));
	if (!empty(lei) && parse_u64(lei, UINT64_MAX, &after) == 0)
		from_now = false;
	last = log_ring_last(LOG_RING_ACCESS);
	if (from_now)
		after = last;
	v = log_ring_since(LOG_RING_ACCESS, after, LOGS_STREAM_MAX, &n);
	if ((buf = malloc(cap)) == NULL) {
		log_ring_lines_free(v, n);
		api_reply_problem(r, 503, "out of memory", NULL);
		return;
	}
	len = (size_t)snprintf(buf, cap, "retry: 1000\n\n");
	for (i = 0; i < n; i++) {
		if (v[i].seq > last)
			last = v[i].seq;
		if ((j = access_entry(&v[i], &f)) == NULL)
			continue;
		s = json_dump(j, NULL);
		json_unref(j);
		if (s == NULL)
			continue;
		snprintf(head, sizeof(head),
		    "id: %" PRIu64 "\ndata: ", v[i].seq);
		if (len + strlen(head) + strlen(s) + 4 > cap) {
			char *nb;

			cap = (len + strlen(head) + strlen(s) + 4) * 2;
			if ((nb = realloc(buf, cap)) == NULL) {
				free(s);
				break;
			}
			buf = nb;
		}
		len +=
		    (size_t)snprintf(buf + len, cap - len, "%s%s\n\n", head, s);
		free(s);
	}
	log_ring_lines_free(v, n);
	/* the cursor moves past lines the filter dropped too */
	if (len + 32 < cap)
		len += (size_t)snprintf(buf + len, cap - len,
		    "id: %" PRIu64 "\n\n", last);
	api_add_header(r, "Cache-Control", "no-cache");
	api_reply_raw(r, 200, "text/event-stream", buf, len);
	free(buf);
}
