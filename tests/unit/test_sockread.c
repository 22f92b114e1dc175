/*
 * test_sockread.c: reading a socket pair into an evbuffer: one readv per
 * readiness, EOF, the read timeout and the high-water suspension.
 */
#include <sys/socket.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

/* cmocka.h needs stdarg.h, stddef.h and setjmp.h first. */
#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "sockread.h"

struct fix {
	struct event_base *base;
	struct evbuffer *in;
	struct sockread rd;
	int sv[2];
	int reads;
	short what;
};

static void
on_read(void *arg)
{
	((struct fix *)arg)->reads++;
}

static void
on_event(void *arg, short what)
{
	((struct fix *)arg)->what = what;
}

static int
setup(void **state)
{
	static struct fix f;

	memset(&f, 0, sizeof(f));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, f.sv), 0);
	assert_int_equal(evutil_make_socket_nonblocking(f.sv[0]), 0);
	f.base = event_base_new();
	f.in = evbuffer_new();
	assert_int_equal(sockread_init(&f.rd, f.base, f.sv[0], f.in, 4096,
	                     on_read, on_event, &f),
	    0);
	assert_true(sockread_active(&f.rd));
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fix *f = *state;

	sockread_fini(&f->rd);
	assert_false(sockread_active(&f->rd));
	evbuffer_free(f->in);
	event_base_free(f->base);
	close(f->sv[0]);
	if (f->sv[1] != -1)
		close(f->sv[1]);
	return 0;
}

static void
loop_once(struct fix *f)
{
	event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
}

static void
test_reads_and_eof(void **state)
{
	struct fix *f = *state;
	char buf[40000];

	memset(buf, 'x', sizeof(buf));
	loop_once(f);
	assert_int_equal(f->reads, 0); /* not enabled yet */
	sockread_enable(&f->rd);
	assert_int_equal(write(f->sv[1], buf, sizeof(buf)), sizeof(buf));
	loop_once(f);
	assert_int_equal(f->reads, 1);
	/* One readv into at least the chunk (the chain may be larger). */
	assert_true(evbuffer_get_length(f->in) >= 4096);
	assert_true(evbuffer_get_length(f->in) < sizeof(buf));
	while (evbuffer_get_length(f->in) < sizeof(buf) && f->reads < 20)
		loop_once(f);
	assert_int_equal(evbuffer_get_length(f->in), sizeof(buf));
	close(f->sv[1]);
	f->sv[1] = -1;
	loop_once(f);
	assert_int_equal(f->what, BEV_EVENT_READING | BEV_EVENT_EOF);
	assert_false(f->rd.enabled);
}

static void
test_disable_and_high_water(void **state)
{
	struct fix *f = *state;
	char buf[100];

	memset(buf, 'y', sizeof(buf));
	sockread_set_high(&f->rd, 50);
	sockread_enable(&f->rd);
	sockread_disable(&f->rd);
	assert_int_equal(write(f->sv[1], buf, sizeof(buf)), sizeof(buf));
	loop_once(f);
	assert_int_equal(f->reads, 0);
	sockread_enable(&f->rd);
	loop_once(f);
	assert_int_equal(f->reads, 1);
	assert_true(f->rd.suspended);
	assert_int_equal(write(f->sv[1], buf, sizeof(buf)), sizeof(buf));
	loop_once(f);
	assert_int_equal(f->reads, 1); /* suspended: above high water */
	evbuffer_drain(f->in, evbuffer_get_length(f->in));
	sockread_drained(&f->rd);
	loop_once(f);
	assert_int_equal(f->reads, 2);
}

static void
test_timeout(void **state)
{
	struct fix *f = *state;

	sockread_set_timeout(&f->rd, 10);
	sockread_enable(&f->rd);
	event_base_loop(f->base, EVLOOP_ONCE);
	assert_int_equal(f->what, BEV_EVENT_READING | BEV_EVENT_TIMEOUT);
	assert_false(f->rd.enabled);
	/* Removing the timeout keeps the event reading, without a timer. */
	f->what = 0;
	sockread_set_timeout(&f->rd, 10);
	sockread_enable(&f->rd);
	sockread_set_timeout(&f->rd, 0);
	assert_true(event_pending(&f->rd.ev, EV_READ, NULL));
	assert_false(event_pending(&f->rd.ev, EV_TIMEOUT, NULL));
}

/* An owned input buffer exists only while bytes wait. */
static void
test_owned_input(void **state)
{
	struct fix *f = *state;
	struct sockread rd;

	assert_int_equal(sockread_init(&rd, f->base, f->sv[0], NULL, 4096,
	                     on_read, on_event, f),
	    0);
	assert_null(sockread_input(&rd));
	sockread_enable(&rd);
	assert_int_equal(write(f->sv[1], "abc", 3), 3);
	loop_once(f);
	assert_int_equal(f->reads, 1);
	assert_non_null(sockread_input(&rd));
	assert_int_equal(sockread_pending(&rd), 3);
	sockread_trim(&rd); /* not empty: kept */
	assert_non_null(sockread_input(&rd));
	evbuffer_drain(sockread_input(&rd), 3);
	sockread_trim(&rd);
	assert_null(sockread_input(&rd));
	assert_int_equal(sockread_pending(&rd), 0);
	sockread_fini(&rd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reads_and_eof, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_disable_and_high_water,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_owned_input, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
