/*
 * access_log.h: one JSON line per finished request, to a file or stdout.
 *
 * Keys: time, client, method, host, path, status, bytes_in, bytes_out,
 * route, server, upstream_ms, total_ms. Each line is one write(2) on an
 * O_APPEND descriptor, so workers never interleave lines. Every request
 * also goes to the in-memory ring the admin API serves (log_ring.h),
 * whether or not a file is open, as a compact record that becomes the same
 * line when the API reads it.
 */
#ifndef GH_ACCESS_LOG_H
#define GH_ACCESS_LOG_H

#include <stdbool.h>
#include <stddef.h>

struct conn;

/* <path>: a file (created 0640, appended), "-" for stdout, or "off".
 * Returns 0, or -1 with errno. Thread: main, before workers start.
 */
int access_log_open(const char *path);
void access_log_close(void);
bool access_log_enabled(void);

/* Logs the request that just ended on <c>: a compact record to the ring,
 * and the line to the file if one is open. Thread: its worker.
 */
void access_log_request(const struct conn *c);

/* The JSON line of a record access_log_request() made (<len> bytes) into
 * <buf> (LOG_RING_LINE_MAX bytes), ending in a newline; returns its length
 * with the newline. Any thread (the ring's formatter).
 */
size_t access_log_format(const void *rec, size_t len, char *buf);

#endif
