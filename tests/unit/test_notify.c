/*
 * test_notify.c: the sd_notify protocol spoken by daemon/notify.c, checked
 * against a datagram socket this test binds itself, as systemd would: a
 * path socket and an abstract one, the messages of each state, the
 * watchdog interval from $WATCHDOG_USEC/$WATCHDOG_PID, and no-ops without
 * $NOTIFY_SOCKET.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* cmocka.h needs stdarg.h, stddef.h and setjmp.h first. */
#include <cmocka.h>

#include "notify.h"

/* Binds a datagram socket at <name> ("@x" abstract, else a path) and
 * points $NOTIFY_SOCKET at it.
 */
static int
listen_at(const char *name)
{
	struct sockaddr_un sa;
	socklen_t len;
	int fd;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	assert_true(strlen(name) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, name, strlen(name));
	len =
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name));
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	else
		len++;
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, len), 0);
	assert_int_equal(setenv("NOTIFY_SOCKET", name, 1), 0);
	return fd;
}

/* Receives one datagram (it must be there already) as a string. */
static void
recv_msg(int fd, char *buf, size_t size)
{
	ssize_t n;

	n = recv(fd, buf, size - 1, MSG_DONTWAIT);
	assert_true(n > 0);
	buf[n] = '\0';
}

static void
test_no_socket(void **state)
{
	unsetenv("NOTIFY_SOCKET");
	setenv("WATCHDOG_USEC", "1000000", 1);
	assert_int_equal(notify_init(), 0);
	assert_int_equal(notify_ready("up"), 0);
	assert_int_equal(notify_watchdog(), 0);
	assert_int_equal(notify_watchdog_usec(), 0);
	unsetenv("WATCHDOG_USEC");
	notify_close();
}

static void
test_bad_socket(void **state)
{
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	assert_int_equal(notify_init(), -1);
	assert_int_equal(notify_send("READY=1"), 0);
	unsetenv("NOTIFY_SOCKET");
	notify_close();
}

static void
test_path_socket(void **state)
{
	char dir[] = "/tmp/gh-notify-XXXXXX", path[128], buf[512];
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/notify", dir);
	fd = listen_at(path);
	assert_int_equal(notify_init(), 1);
	assert_int_equal(notify_ready("serving revision 3"), 0);
	recv_msg(fd, buf, sizeof(buf));
	assert_string_equal(buf, "READY=1\nSTATUS=serving revision 3");
	assert_int_equal(notify_stopping(), 0);
	recv_msg(fd, buf, sizeof(buf));
	assert_true(strncmp(buf, "STOPPING=1\n", 11) == 0);
	notify_close();
	close(fd);
	unlink(path);
	rmdir(dir);
	unsetenv("NOTIFY_SOCKET");
}

static void
test_abstract_socket(void **state)
{
	char name[64], buf[512], *p;
	unsigned long long usec;
	int fd;

	snprintf(name, sizeof(name), "@gh-notify-test-%ld", (long)getpid());
	fd = listen_at(name);
	assert_int_equal(notify_init(), 1);
	assert_int_equal(notify_reloading(), 0);
	recv_msg(fd, buf, sizeof(buf));
	assert_true(strncmp(buf, "RELOADING=1\n", 12) == 0);
	assert_non_null(p = strstr(buf, "\nMONOTONIC_USEC="));
	usec = strtoull(p + 16, NULL, 10);
	assert_true(usec > 0);
	assert_int_equal(notify_ready(NULL), 0);
	recv_msg(fd, buf, sizeof(buf));
	assert_string_equal(buf, "READY=1");
	assert_int_equal(notify_sendf("STATUS=%d listeners", 4), 0);
	recv_msg(fd, buf, sizeof(buf));
	assert_string_equal(buf, "STATUS=4 listeners");
	notify_close();
	close(fd);
	unsetenv("NOTIFY_SOCKET");
}

static void
test_watchdog(void **state)
{
	char name[64], pid[32], buf[64];
	int fd;

	snprintf(name, sizeof(name), "@gh-notify-wd-%ld", (long)getpid());
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	fd = listen_at(name);

	setenv("WATCHDOG_USEC", "30000000", 1);
	unsetenv("WATCHDOG_PID");
	assert_int_equal(notify_init(), 1);
	assert_int_equal(notify_watchdog_usec(), 30000000);
	assert_int_equal(notify_watchdog(), 0);
	recv_msg(fd, buf, sizeof(buf));
	assert_string_equal(buf, "WATCHDOG=1");

	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(notify_init(), 1);
	assert_int_equal(notify_watchdog_usec(), 30000000);

	/* Meant for another process, or nonsense: off. */
	setenv("WATCHDOG_PID", "1", 1);
	assert_int_equal(notify_init(), 1);
	assert_int_equal(notify_watchdog_usec(), 0);
	setenv("WATCHDOG_PID", pid, 1);
	setenv("WATCHDOG_USEC", "12x", 1);
	assert_int_equal(notify_init(), 1);
	assert_int_equal(notify_watchdog_usec(), 0);

	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	notify_close();
	close(fd);
	unsetenv("NOTIFY_SOCKET");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_socket),
		cmocka_unit_test(test_bad_socket),
		cmocka_unit_test(test_path_socket),
		cmocka_unit_test(test_abstract_socket),
		cmocka_unit_test(test_watchdog),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
