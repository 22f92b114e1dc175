/*
 * notify.h: the systemd service notification protocol (sd_notify(3)),
 * spoken by hand: one datagram per message to the AF_UNIX socket named by
 * $NOTIFY_SOCKET (a path, or "@name" in the abstract namespace). No
 * libsystemd. Without $NOTIFY_SOCKET every call is a no-op, so the
 * daemon behaves the same outside systemd.
 *
 * The messages gatehoused sends: READY=1 once the listeners and the admin
 * API are up; RELOADING=1 + MONOTONIC_USEC on SIGHUP, READY=1 when the
 * store has been read again; STOPPING=1 on SIGTERM; STATUS= lines along
 * the way; WATCHDOG=1 every notify_watchdog_usec() / 2 from the main loop.
 */
#ifndef GH_NOTIFY_H
#define GH_NOTIFY_H

#include <stdint.h>

/* Reads $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID and opens the
 * socket. Returns 1 when notifications go somewhere, 0 when there is no
 * $NOTIFY_SOCKET, -1 when it is set but unusable (logged; later calls are
 * no-ops). Thread: main, before other threads start. Calling it again
 * re-reads the environment (tests).
 */
int notify_init(void);

/* Sends <msg> (newline-separated VAR=value lines) as one datagram.
 * Returns 0 when sent or when there is no socket, -1 on a send error.
 * Safe from any thread.
 */
int notify_send(const char *msg);

/* notify_send() with a printf format; the text is cut at 1 KiB. */
int notify_sendf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The helpers for the protocol's states. */
int notify_ready(const char *status);
int notify_reloading(void);
int notify_stopping(void);
int notify_watchdog(void);

/* The watchdog interval systemd expects (WatchdogSec=), in microseconds,
 * or 0 when it is off or meant for another process ($WATCHDOG_PID).
 */
uint64_t notify_watchdog_usec(void);

/* Closes the socket. */
void notify_close(void);

#endif
