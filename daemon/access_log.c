/*
 * access_log.c: the per-request log line.
 *
 * The line is built in a stack buffer with JSON string escaping (jansson
 * lives only in the API; this is the one hand-made JSON in the daemon, a
 * flat object of known keys) and written with a single write(2).
 */
#include "access_log.h"

#include <sys/time.h>

#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "conn.h"
#include "http_msg.h"
#include "log_ring.h"

#define ACCESS_LINE_MAX 4096

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
	char buf[ACCESS_LINE_MAX];
	size_t len;
};

static void
line_raw(struct line *l, const char *p, size_t n)
{
	if (l->len + n > sizeof(l->buf) - 2)
		n = sizeof(l->buf) - 2 - l->len;
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
	while (i < s.len && l->len < sizeof(l->buf) - 16) {
		/* Runs of plain bytes go in with one copy. */
		room = sizeof(l->buf) - 16 - l->len;
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
 * thread (gmtime_r and strftime cost more than the rest of the line).
 */
static size_t
line_time(char *ts)
{
	static __thread time_t sec = -1;
	static __thread char base[24];
	static __thread size_t base_len;
	struct timeval tv;
	struct tm tm;
	unsigned ms;

	gettimeofday(&tv, NULL);
	if (tv.tv_sec != sec) {
		gmtime_r(&tv.tv_sec, &tm);
		base_len =
		    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
		sec = tv.tv_sec;
	}
	memcpy(ts, base, base_len);
	ms = (unsigned)(tv.tv_usec / 1000);
	ts[base_len] = '.';
	ts[base_len + 1] = (char)('0' + ms / 100);
	ts[base_len + 2] = (char)('0' + ms / 10 % 10);
	ts[base_len + 3] = (char)('0' + ms % 10);
	ts[base_len + 4] = 'Z';
	return base_len + 5;
}

void
access_log_request(const struct conn *c)
{
	const struct req *r = c->req;
	const struct http_msg *m = &c->req->msg;
	struct line l;
	struct str target = STR_NULL, path;
	size_t i;
	char ts[40];

	l.len = 0;
	line_raw(&l, "{\"time\":\"", 9);
	line_raw(&l, ts, line_time(ts));
	line_raw(&l, "\"", 1);
	line_str(&l, "client",
	    str_cstr(r->client.text[0] != '\0' ? r->client.text : c->peer));
	if (r->client.from_xff)
		line_str(&l, "peer", str_cstr(c->peer));
	if (m->buf != NULL && m->method_name.len > 0) {
		line_str(&l, "method", http_msg_str(m, m->method_name));
		target = http_msg_str(m, m->target);
	} else {
		line_str(&l, "method", STR_NULL);
	}
	line_str(&l, "host",
	    m->buf != NULL ? http_msg_get(m, "host") : STR_NULL);
	for (i = 0; i < target.len && target.p[i] != '?'; i++)
		;
	path = str_make(target.p, i);
	line_str(&l, "path", path);
	line_num(&l, "status", r->status);
	line_num(&l, "bytes_in", (int64_t)r->bytes_in);
	line_num(&l, "bytes_out", (int64_t)r->bytes_out);
	line_str(&l, "route",
	    r->route != NULL ? str_cstr(r->route->name) : STR_NULL);
	if (r->decision != NULL)
		line_str(&l, "decision", str_cstr(r->decision));
	if (r->user != NULL)
		line_str(&l, "user", str_cstr(r->user));
	if (r->encoding != NULL)
		line_str(&l, "encoding", str_cstr(r->encoding));
	line_str(&l, "server",
	    r->server != NULL ? str_cstr(r->server->label) : STR_NULL);
	if (r->request_id.len > 0)
		line_str(&l, "request_id", r->request_id);
	line_num(&l, "upstream_ms", r->upstream_ms);
	line_num(&l, "total_ms", ms_since(&r->t_start));
	line_raw(&l, "}\n", 2);
	if (l.buf[l.len - 1] != '\n') {
		l.buf[l.len - 2] = '}';
		l.buf[l.len - 1] = '\n';
	}
	log_ring_push(LOG_RING_ACCESS, l.buf, l.len - 1); /* for the API */
	if (access_fd != -1)
		(void)!write(access_fd, l.buf, l.len);
}
