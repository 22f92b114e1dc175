/*
 * access_log.c: the per-request log line.
 *
 * A finished request becomes a compact record (struct access_rec: the
 * time, the numbers, and the raw strings one after another) that goes to
 * the admin API's ring as it is; the JSON line is made from the record
 * only when someone reads it: log_ring_since() for the API, or right away
 * when a log file is open. So a daemon running with --access-log off pays
 * for a few copies per request, not for the escaping and number
 * formatting of a line nobody may ever read. The line is built in a stack
 * buffer with JSON string escaping (jansson lives only in the API; this is
 * the one hand-made JSON in the daemon, a flat object of known keys) and
 * written with a single write(2).
 */
#include "access_log.h"

#include <sys/time.h>

#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "conn.h"
#include "http_msg.h"
#include "log_ring.h"

#define ACCESS_LINE_MAX LOG_RING_LINE_MAX

/* The string fields of a record, in the order of the line's keys. */
enum {
	AR_CLIENT,
	AR_PEER,
	AR_METHOD,
	AR_HOST,
	AR_PATH,
	AR_ROUTE,
	AR_DECISION,
	AR_USER,
	AR_ENCODING,
	AR_SERVER,
	AR_REQUEST_ID,
	AR__N,
};

/* Keys written only when the request has them. */
#define AR_OPTIONAL                                                \
	((1u << AR_PEER) | (1u << AR_DECISION) | (1u << AR_USER) | \
	    (1u << AR_ENCODING) | (1u << AR_REQUEST_ID))

/* One finished request, followed by its strings (len[i] bytes each, in
 * field order). A string is kept up to ACCESS_LINE_MAX bytes:
 * the line cannot hold more of it, so the line is the same.
 */
struct access_rec {
	struct timeval tv;
	int64_t upstream_ms, total_ms;
	uint64_t bytes_in, bytes_out;
	uint32_t present; /* 1 << AR_x: an optional key is written */
	uint16_t status;
	uint16_t len[AR__N];
};

static int access_fd = -1;

int
access_log_open(const char *path)
{
	int fd;

	access_log_close();
	if (path == NULL || strcmp(path, "off") == 0)
		return 0;
	if (strcmp(path, "-") == 0) {
		access_fd = STDOUT_FILENO;
		return 0;
	}
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	         0640)) == -1)
		return -1;
	access_fd = fd;
	return 0;
}

void
access_log_close(void)
{
	if (access_fd > STDERR_FILENO)
		(void)close(access_fd);
	access_fd = -1;
}

bool
access_log_enabled(void)
{
	return access_fd != -1;
}

struct line {
	char *buf; /* ACCESS_LINE_MAX bytes */
	size_t len;
};

static void
line_raw(struct line *l, const char *p, size_t n)
{
	if (l->len + n > ACCESS_LINE_MAX - 2)
		n = ACCESS_LINE_MAX - 2 - l->len;
	memcpy(l->buf + l->len, p, n);
	l->len += n;
}

/* Bytes a JSON string cannot hold as they are: '"', '\\', controls and
 * everything outside printable ASCII (escaped one by one, so the line
 * stays valid JSON whatever a client sent).
 */
static bool
needs_escape(unsigned char ch)
{
	return ch == '"' || ch == '\\' || ch < 0x20 || ch >= 0x7f;
}

static void
line_str(struct line *l, const char *key, struct str s)
{
	static const char hex[] = "0123456789abcdef";
	char esc[6];
	size_t i = 0, run, room;
	unsigned char ch;

	line_raw(l, ",\"", 2);
	line_raw(l, key, strlen(key));
	line_raw(l, "\":\"", 3);
	while (i < s.len && l->len < ACCESS_LINE_MAX - 16) {
		/* Runs of plain bytes go in with one copy. */
		room = ACCESS_LINE_MAX - 16 - l->len;
		for (run = 0; i + run < s.len && run < room &&
		     !needs_escape((unsigned char)s.p[i + run]);
		     run++)
			;
		if (run > 0) {
			line_raw(l, s.p + i, run);
			i += run;
			continue;
		}
		ch = (unsigned char)s.p[i++];
		esc[0] = '\\';
		if (ch == '"' || ch == '\\') {
			esc[1] = (char)ch;
			line_raw(l, esc, 2);
		} else {
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[ch >> 4];
			esc[5] = hex[ch & 15];
			line_raw(l, esc, 6);
		}
	}
	line_raw(l, "\"", 1);
}

/* Decimal digits of <v> at the end of <end>; returns where they start
 * (snprintf costs ten times more, and a line has six numbers).
 */
static char *
fmt_u64(char *end, uint64_t v)
{
	char *p = end;

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return p;
}

static void
line_num(struct line *l, const char *key, int64_t v)
{
	char num[24], *end = num + sizeof(num), *p;

	line_raw(l, ",\"", 2);
	line_raw(l, key, strlen(key));
	line_raw(l, "\":", 2);
	p = fmt_u64(end, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
	if (v < 0)
		*--p = '-';
	line_raw(l, p, (size_t)(end - p));
}

static int64_t
ms_since(const struct timespec *t)
{
	struct timespec now;

	if (t->tv_sec == 0)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->tv_sec) * 1000 +
	    (now.tv_nsec - t->tv_nsec) / 1000000;
}

/* "2026-12-03T12:00:00.123Z" into <ts> (at least 25 bytes); returns its
 * length. The part up to the seconds is formatted once per second per
 * thread (gmtime_r and strftime cost more than the rest of the line); the
 * API thread formatting a ring of lines in time order hits the same cache.
 */
static size_t
line_time(char *ts, const struct timeval *tv)
{
	static __thread time_t sec = -1;
	static __thread char base[24];
	static __thread size_t base_len;
	struct tm tm;
	unsigned ms;

	if (tv->tv_sec != sec) {
		gmtime_r(&tv->tv_sec, &tm);
		base_len =
		    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
		sec = tv->tv_sec;
	}
	memcpy(ts, base, base_len);
	ms = (unsigned)(tv->tv_usec / 1000);
	ts[base_len] = '.';
	ts[base_len + 1] = (char)('0' + ms / 100);
	ts[base_len + 2] = (char)('0' + ms / 10 % 10);
	ts[base_len + 3] = (char)('0' + ms % 10);
	ts[base_len + 4] = 'Z';
	return base_len + 5;
}

size_t
access_log_format(const void *rec, size_t len, char *buf)
{
	static const char *const key[AR__N] = {
		[AR_CLIENT] = "client",
		[AR_PEER] = "peer",
		[AR_METHOD] = "method",
		[AR_HOST] = "host",
		[AR_PATH] = "path",
		[AR_ROUTE] = "route",
		[AR_DECISION] = "decision",
		[AR_USER] = "user",
		[AR_ENCODING] = "encoding",
		[AR_SERVER] = "server",
		[AR_REQUEST_ID] = "request_id",
	};
	const struct access_rec *ar = rec;
	struct str f[AR__N];
	const char *p = (const char *)(ar + 1);
	struct line line = { buf, 0 }, *l = &line;
	int i;

	(void)len;
	for (i = 0; i < AR__N; i++) {
		f[i] = str_make(p, ar->len[i]);
		p += ar->len[i];
	}
	line_raw(l, "{\"time\":\"", 9);
	l->len += line_time(l->buf + l->len, &ar->tv); /* room: line start */
	line_raw(l, "\"", 1);
	for (i = AR_CLIENT; i <= AR_PATH; i++)
		if (!(AR_OPTIONAL & (1u << i)) || (ar->present & (1u << i)))
			line_str(l, key[i], f[i]);
	line_num(l, "status", ar->status);
	line_num(l, "bytes_in", (int64_t)ar->bytes_in);
	line_num(l, "bytes_out", (int64_t)ar->bytes_out);
	for (i = AR_ROUTE; i < AR__N; i++)
		if (!(AR_OPTIONAL & (1u << i)) || (ar->present & (1u << i)))
			line_str(l, key[i], f[i]);
	line_num(l, "upstream_ms", ar->upstream_ms);
	line_num(l, "total_ms", ar->total_ms);
	line_raw(l, "}\n", 2);
	if (l->buf[l->len - 1] != '\n') {
		l->buf[l->len - 2] = '}';
		l->buf[l->len - 1] = '\n';
	}
	return l->len;
}

void
access_log_request(const struct conn *c)
{
	const struct req *r = c->req;
	const struct http_msg *m = &c->req->msg;
	union {
		struct access_rec ar;
		char b[LOG_RING_INLINE];
	} small;
	struct access_rec *ar;
	struct str f[AR__N], target = STR_NULL;
	uint32_t present = 0;
	size_t i, total = 0, size;
	char *p;

	memset(f, 0, sizeof(f));
	f[AR_CLIENT] =
	    str_cstr(r->client.text[0] != '\0' ? r->client.text : c->peer);
	if (r->client.from_xff) {
		f[AR_PEER] = str_cstr(c->peer);
		present |= 1u << AR_PEER;
	}
	if (m->buf != NULL && m->method_name.len > 0) {
		f[AR_METHOD] = http_msg_str(m, m->method_name);
		target = http_msg_str(m, m->target);
	}
	if (m->buf != NULL)
		f[AR_HOST] = http_msg_host(m);
	for (i = 0; i < target.len && target.p[i] != '?'; i++)
		;
	f[AR_PATH] = str_make(target.p, i);
	if (r->route != NULL)
		f[AR_ROUTE] = str_cstr(r->route->name);
	if (r->decision != NULL) {
		f[AR_DECISION] = str_cstr(r->decision);
		present |= 1u << AR_DECISION;
	}
	if (r->user != NULL) {
		f[AR_USER] = str_cstr(r->user);
		present |= 1u << AR_USER;
	}
	if (r->encoding != NULL) {
		f[AR_ENCODING] = str_cstr(r->encoding);
		present |= 1u << AR_ENCODING;
	}
	if (r->server != NULL)
		f[AR_SERVER] = str_cstr(r->server->label);
	if (r->request_id.len > 0) {
		f[AR_REQUEST_ID] = r->request_id;
		present |= 1u << AR_REQUEST_ID;
	}
	for (i = 0; i < AR__N; i++) {
		if (f[i].len > ACCESS_LINE_MAX)
			f[i].len = ACCESS_LINE_MAX;
		total += f[i].len;
	}
	size = sizeof(*ar) + total;
	if (size <= sizeof(small))
		ar = &small.ar; /* the ring copies it into its slot */
	else if ((ar = malloc(size)) == NULL)
		return;
	gettimeofday(&ar->tv, NULL);
	ar->upstream_ms = r->upstream_ms;
	ar->total_ms = ms_since(&r->t_start);
	ar->bytes_in = r->bytes_in;
	ar->bytes_out = r->bytes_out;
	ar->present = present;
	ar->status = r->status;
	p = (char *)(ar + 1);
	for (i = 0; i < AR__N; i++) {
		ar->len[i] = (uint16_t)f[i].len;
		if (f[i].len > 0)
			memcpy(p, f[i].p, f[i].len);
		p += f[i].len;
	}
	if (access_fd != -1) {
		char line[ACCESS_LINE_MAX];
		size_t n = access_log_format(ar, size, line);

		(void)!write(access_fd, line, n);
	}
	/* The ring keeps the record; the API formats it when read. */
	if (ar == &small.ar)
		log_ring_push_rec_copy(LOG_RING_ACCESS, ar, size,
		    access_log_format);
	else
		log_ring_push_rec(LOG_RING_ACCESS, ar, size, access_log_format);
}
