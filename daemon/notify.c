/*
 * notify.c: sd_notify(3) without libsystemd; see notify.h.
 *
 * The socket is a connectionless AF_UNIX SOCK_DGRAM socket opened once;
 * each message is one sendto() to the address in $NOTIFY_SOCKET. A
 * leading '@' names the abstract namespace: sun_path starts with a NUL
 * and the address length counts only the bytes of the name.
 */
#include "notify.h"

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static struct {
	int fd;
	struct sockaddr_un addr;
	socklen_t addrlen;
	uint64_t watchdog_usec;
} notify = { .fd = -1 };

/* Parses a decimal uint64 (the whole string); -1 when it is not one. */
static int
parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

static void
read_watchdog(void)
{
	uint64_t usec, pid;
	const char *p;

	notify.watchdog_usec = 0;
	if (parse_u64(getenv("WATCHDOG_USEC"), &usec) == -1 || usec == 0)
		return;
	/* $WATCHDOG_PID, when set, names the process that must feed it. */
	if ((p = getenv("WATCHDOG_PID")) != NULL &&
	    (parse_u64(p, &pid) == -1 || pid != (uint64_t)getpid()))
		return;
	notify.watchdog_usec = usec;
}

int
notify_init(void)
{
	const char *path;
	size_t len;

	notify_close();
	read_watchdog();
	if ((path = getenv("NOTIFY_SOCKET")) == NULL || *path == '\0')
		return 0;
	len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') ||
	    len >= sizeof(notify.addr.sun_path)) {
		log_warnx("NOTIFY_SOCKET %s: not an absolute path or @name",
		    path);
		return -1;
	}
	memset(&notify.addr, 0, sizeof(notify.addr));
	notify.addr.sun_family = AF_UNIX;
	memcpy(notify.addr.sun_path, path, len);
	if (path[0] == '@') {
		notify.addr.sun_path[0] = '\0';
		notify.addrlen =
		    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	} else {
		notify.addrlen =
		    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
		        1);
	}
	notify.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (notify.fd == -1) {
		log_warn("NOTIFY_SOCKET: socket");
		return -1;
	}
	return 1;
}

int
notify_send(const char *msg)
{
	ssize_t n;
	size_t len = strlen(msg);

	if (notify.fd == -1)
		return 0;
	do {
		n = sendto(notify.fd, msg, len, MSG_NOSIGNAL,
		    (const struct sockaddr *)&notify.addr, notify.addrlen);
	} while (n == -1 && errno == EINTR);
	if (n == -1) {
		log_warn("NOTIFY_SOCKET: send");
		return -1;
	}
	return 0;
}

int
notify_sendf(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (notify.fd == -1)
		return 0;
	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return notify_send(buf);
}

int
notify_ready(const char *status)
{
	if (status == NULL)
		return notify_send("READY=1");
	return notify_sendf("READY=1\nSTATUS=%s", status);
}

int
notify_reloading(void)
{
	struct timespec ts;
	uint64_t usec;

	/* systemd >= 253 wants the CLOCK_MONOTONIC time of the request. */
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	usec = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	return notify_sendf(
	    "RELOADING=1\nSTATUS=reading the configuration again\nMONOTONIC_USEC=%llu",
	    (unsigned long long)usec);
}

int
notify_stopping(void)
{
	return notify_send("STOPPING=1\nSTATUS=stopping: draining connections");
}

int
notify_watchdog(void)
{
	return notify_send("WATCHDOG=1");
}

uint64_t
notify_watchdog_usec(void)
{
	return notify.fd == -1 ? 0 : notify.watchdog_usec;
}

void
notify_close(void)
{
	if (notify.fd != -1)
		(void)close(notify.fd);
	notify.fd = -1;
	notify.watchdog_usec = 0;
}
