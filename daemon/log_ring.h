/*
 * log_ring.h: the most recent log lines, in memory, for the admin API.
 *
 * Two bounded rings: the access log (one JSON object per finished request,
 * the line access_log.c writes, default LOG_RING_ACCESS_CAP entries) and
 * the daemon's own log (log.c's lines, LOG_RING_DAEMON_CAP entries). Each
 * line gets a sequence number, 1, 2, 3, ... per ring; the oldest line
 * drops out when a ring is full. A ring holds either text lines
 * (log_ring_push) or records that a formatter turns into lines when they
 * are read (log_ring_push_rec: the access log, so a request pays for a
 * compact copy, not for the JSON). A push copies or allocates outside the
 * lock and holds a mutex only to swap one slot, so a worker waits at most
 * for another slot swap or for a reader's copy of the slots (never for
 * I/O or for JSON work; readers format after unlocking). Safe from any
 * thread.
 */
#ifndef GH_LOG_RING_H
#define GH_LOG_RING_H

#include <stddef.h>
#include <stdint.h>

#define LOG_RING_ACCESS_CAP 10000u
#define LOG_RING_DAEMON_CAP 2000u
/* The longest line a formatter may produce, newline included. */
#define LOG_RING_LINE_MAX 4096u
/* Records and lines (with their NUL) up to this size are copied into the
 * ring's slot itself: no malloc and free per push.
 */
#define LOG_RING_INLINE 160u

enum log_ring_id {
	LOG_RING_ACCESS = 0,
	LOG_RING_DAEMON,
	LOG_RING__N,
};

struct log_ring_line {
	uint64_t seq;
	char *text; /* NUL terminated, owned by the snapshot */
	size_t len;
};

/* Appends a copy of <text> (<len> bytes, no newline). */
void log_ring_push(enum log_ring_id id, const char *text, size_t len);

/* Writes the line of record <rec> (<len> bytes) into <buf>
 * (LOG_RING_LINE_MAX bytes), ending in a newline; returns its length with
 * the newline. Called from any thread, outside the ring's lock.
 */
typedef size_t (*log_ring_fmt)(const void *rec, size_t len, char *buf);

/* Appends record <rec> (<len> bytes, malloc'ed: the ring frees it when
 * it drops out), read back as the line <fmt> makes of it. A ring takes
 * either records of one formatter or text lines, not both.
 */
void log_ring_push_rec(enum log_ring_id id, void *rec, size_t len,
    log_ring_fmt fmt);
/* The same with a copy of <rec>: into the slot itself when it is at most
 * LOG_RING_INLINE bytes (no allocation per push), else malloc'ed.
 */
void log_ring_push_rec_copy(enum log_ring_id id, const void *rec, size_t len,
    log_ring_fmt fmt);

/* The lines with seq > <after>, oldest first, at most the <max> newest
 * of them (records formatted into their lines); *n their count. Free with
 * log_ring_lines_free(). NULL with *n == 0 when there are none (or out of
 * memory).
 */
struct log_ring_line *log_ring_since(enum log_ring_id id, uint64_t after,
    size_t max, size_t *n);
void log_ring_lines_free(struct log_ring_line *v, size_t n);

/* The sequence number of the newest line (0: none yet). */
uint64_t log_ring_last(enum log_ring_id id);

#endif
