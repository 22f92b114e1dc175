/*
 * test_tls.c: a server session and a client session, each read through
 * sockread.c (tls_conn_recv() as its decoder, tls_conn_send() to write),
 * over a socketpair inside one event loop: handshake and data both ways (a
 * megabyte, written by the client before the handshake, with back-pressure
 * on the reader), SNI selection (exact over wildcard, default for unknown
 * names and none), origin verification failures (wrong CA, wrong name)
 * reported as an error event and counted, client certificates required,
 * optional and forwarded, the peer's close as EOF, either side's
 * close_notify as EOF, and credential refusals.
 */
#include <sys/socket.h>

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

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "sockread.h"
#include "stats.h"
#include "tls.h"
#include "x509.h"

/* A server or a client: the fd, a sockread that decrypts, a socket
 * bufferevent for what the socket does not take; a client keeps what it
 * writes before the handshake is done in <pending>.
 */
struct side {
	struct bufferevent *bev;
	struct evbuffer *got;
	struct evbuffer *pending; /* clients */
	struct tls_conn *tc;
	struct sockread rd;
	int fd;
	bool eof, err;
	size_t pause_at; /* stop reading at this many bytes (0: never) */
};

struct pair {
	char *cert, *key;
};

static struct event_base *base;
static struct pair cert_a, cert_w, cert_d, cert_client, cert_other_client;

static struct pair
gen(const char *n1, const char *n2)
{
	const char *names[2] = { n1, n2 };
	struct pair p;
	struct err e;

	assert_int_equal(x509_selfsigned_pem(names, n2 != NULL ? 2 : 1, 5, NULL,
	                     &p.cert, &p.key, &e),
	    0);
	return p;
}

static int
group_setup(void **state)
{
	base = event_base_new();
	cert_a = gen("a.test", NULL);
	cert_w = gen("wild", "*.w.test");
	cert_d = gen("default.test", NULL);
	cert_client = gen("alice", NULL);
	cert_other_client = gen("mallory", NULL);
	return base == NULL;
}

static int
group_teardown(void **state)
{
	struct pair *ps[] = { &cert_a, &cert_w, &cert_d, &cert_client,
		&cert_other_client };
	size_t i;

	for (i = 0; i < 5; i++) {
		free(ps[i]->cert);
		free(ps[i]->key);
	}
	event_base_free(base);
	return 0;
}

static void
side_event(struct bufferevent *bev, short what, void *arg)
{
	struct side *s = arg;

	if (what & BEV_EVENT_EOF)
		s->eof = true;
	if (what & BEV_EVENT_ERROR)
		s->err = true;
}

static void
srv_read(void *arg)
{
	struct side *s = arg;

	evbuffer_add_buffer(s->got, sockread_input(&s->rd));
	if (s->pause_at != 0 && evbuffer_get_length(s->got) >= s->pause_at)
		sockread_disable(&s->rd);
}

static void
srv_event(void *arg, short what)
{
	side_event(NULL, what, arg);
}

static short
srv_decode(void *arg, struct evbuffer *raw, const char *p, size_t n,
    size_t *used, struct evbuffer *in)
{
	struct side *s = arg;

	return tls_conn_recv(s->tc, raw, p, n, used, in);
}

/* A client sends what it kept once the handshake is done. */
static short
cli_decode(void *arg, struct evbuffer *raw, const char *p, size_t n,
    size_t *used, struct evbuffer *in)
{
	struct side *s = arg;
	short end = tls_conn_recv(s->tc, raw, p, n, used, in);

	if (end == 0 && evbuffer_get_length(s->pending) > 0 &&
	    tls_conn_established(s->tc) &&
	    tls_conn_send(s->tc, s->pending) == -1)
		end = BEV_EVENT_ERROR;
	return end;
}

/* <ts>: a server; else a client of <tc> checking <verify_name>. */
static void
side_init(struct side *s, int fd, const struct tls_server *ts,
    const struct tls_client *tc, const char *verify_name)
{
	s->fd = fd;
	s->got = evbuffer_new();
	s->bev = bufferevent_socket_new(base, fd, 0);
	assert_non_null(s->bev);
	bufferevent_setcb(s->bev, NULL, NULL, side_event, s);
	if (ts != NULL) {
		s->tc = tls_server_conn_new(ts, fd,
		    bufferevent_get_output(s->bev), "test");
	} else {
		s->pending = evbuffer_new();
		s->tc =
		    tls_client_conn_new(tc, fd, bufferevent_get_output(s->bev),
		        verify_name, "origin t server x");
	}
	assert_non_null(s->tc);
	assert_int_equal(sockread_init(&s->rd, base, fd, NULL, 16 * 1024,
	                     srv_read, srv_event, s),
	    0);
	sockread_set_decoder(&s->rd, ts != NULL ? srv_decode : cli_decode);
	sockread_enable(&s->rd);
}

/* A client's bytes wait for the handshake: the first write starts it. */
static void
side_write(struct side *s, const void *p, size_t n)
{
	struct evbuffer *b = s->pending != NULL ? s->pending : evbuffer_new();

	evbuffer_add(b, p, n);
	assert_int_equal(tls_conn_send(s->tc, b), 0);
	if (s->pending == NULL) {
		assert_int_equal(evbuffer_get_length(b), 0);
		evbuffer_free(b);
	}
}

static void
side_fini(struct side *s)
{
	sockread_fini(&s->rd);
	tls_conn_free(s->tc);
	if (s->bev != NULL)
		bufferevent_free(s->bev);
	if (s->fd > 0)
		close(s->fd);
	evbuffer_free(s->got);
	if (s->pending != NULL)
		evbuffer_free(s->pending);
	memset(s, 0, sizeof(*s));
}

/* Runs the loop until <done>(<a>, <b>) or 5 s. */
static bool
run_until(bool (*done)(struct side *, struct side *, size_t), struct side *a,
    struct side *b, size_t n)
{
	int i;

	for (i = 0; i < 5000 && !done(a, b, n); i++) {
		struct timeval tv = { 0, 1000 };

		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
	return done(a, b, n);
}

static bool
got_n(struct side *a, struct side *b, size_t n)
{
	return evbuffer_get_length(a->got) >= n || a->err || b->err;
}

static bool
any_error(struct side *a, struct side *b, size_t n)
{
	return a->err || b->err || a->eof || b->eof;
}

static bool
got_eof(struct side *a, struct side *b, size_t n)
{
	return a->eof || a->err;
}

/* A connected server/client pair. */
static void
connect_pair(struct side *srv, struct side *cli, const struct tls_server *ts,
    const struct tls_client *tc, const char *verify_name)
{
	int sv[2];

	memset(srv, 0, sizeof(*srv));
	memset(cli, 0, sizeof(*cli));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	evutil_make_socket_nonblocking(sv[0]);
	evutil_make_socket_nonblocking(sv[1]);
	side_init(srv, sv[0], ts, NULL, NULL);
	side_init(cli, sv[1], NULL, tc, verify_name);
}

static struct tls_server *
server3(enum tls_client_auth auth, const char *ca)
{
	struct tls_cert_src src[3] = {
		{ "a", cert_a.cert, cert_a.key },
		{ "w", cert_w.cert, cert_w.key },
		{ "d", cert_d.cert, cert_d.key },
	};
	struct err e;
	struct tls_server *ts = tls_server_new(src, 3, 2, auth, ca, &e);

	assert_non_null(ts);
	return ts;
}

static void
test_data_both_ways(void **state)
{
	struct tls_server *ts = server3(TLS_CLIENT_AUTH_NONE, NULL);
	struct err e;
	struct tls_client *tc =
	    tls_client_new(cert_a.cert, true, "a.test", NULL, NULL, &e);
	struct side srv, cli;
	size_t n = 1 << 20, i;
	char *big = malloc(n);
	unsigned char *p;

	assert_non_null(tc);
	for (i = 0; i < n; i++)
		big[i] = (char)(i * 7 + i / 251);
	connect_pair(&srv, &cli, ts, tc, "a.test");
	/* the client writes first: that starts its handshake */
	side_write(&cli, big, n);
	srv.pause_at = n / 3; /* back-pressure: stop reading for a while */
	assert_true(run_until(got_n, &srv, &cli, n / 3));
	assert_false(srv.err || cli.err);
	sockread_enable(&srv.rd);
	srv.pause_at = 0;
	assert_true(run_until(got_n, &srv, &cli, n));
	assert_int_equal(evbuffer_get_length(srv.got), n);
	p = evbuffer_pullup(srv.got, -1);
	assert_memory_equal(p, big, n);
	side_write(&srv, big, n);
	assert_true(run_until(got_n, &cli, &srv, n));
	assert_int_equal(evbuffer_get_length(cli.got), n);
	assert_memory_equal(evbuffer_pullup(cli.got, -1), big, n);
	assert_null(tls_conn_peer_subject(srv.tc));
	side_fini(&cli);
	/* the server sees the client go away */
	assert_true(run_until(got_eof, &srv, &cli, 0));
	side_fini(&srv);
	free(big);
	tls_client_free(tc);
	tls_server_free(ts);
}

/* Does a client trusting only <trust> and checking <verify_name> get
 * through when it sends <sni>?
 */
static bool
handshake_ok(struct tls_server *ts, const char *trust, const char *sni,
    const char *verify_name)
{
	struct err e;
	struct tls_client *tc =
	    tls_client_new(trust, true, sni, NULL, NULL, &e);
	struct side srv, cli;
	bool ok;

	assert_non_null(tc);
	connect_pair(&srv, &cli, ts, tc, verify_name);
	side_write(&cli, "ping", 4);
	run_until(got_n, &srv, &cli, 4);
	ok = !srv.err && !cli.err && evbuffer_get_length(srv.got) == 4;
	side_fini(&cli);
	side_fini(&srv);
	tls_client_free(tc);
	return ok;
}

static void
test_sni(void **state)
{
	struct tls_server *ts = server3(TLS_CLIENT_AUTH_NONE, NULL);

	assert_true(handshake_ok(ts, cert_a.cert, "a.test", "a.test"));
	assert_true(handshake_ok(ts, cert_a.cert, "A.TEST", "a.test"));
	assert_true(handshake_ok(ts, cert_w.cert, "x.w.test", "x.w.test"));
	/* a wildcard covers one label only: the default answers */
	assert_true(handshake_ok(ts, cert_d.cert, "y.x.w.test",
	    "default.test"));
	assert_true(handshake_ok(ts, cert_d.cert, "unknown.test",
	    "default.test"));
	assert_true(handshake_ok(ts, cert_d.cert, NULL, "default.test"));
	/* and the negative: the certificate served is not a's */
	assert_false(handshake_ok(ts, cert_a.cert, "x.w.test", "x.w.test"));
	tls_server_free(ts);
}

static void
test_verify_failures_counted(void **state)
{
	struct tls_server *ts = server3(TLS_CLIENT_AUTH_NONE, NULL);
	uint64_t before = stats_get(STAT_UP_TLS_VERIFY_FAILED);
	struct err e;
	struct tls_client *off, *on;

	/* wrong CA */
	assert_false(handshake_ok(ts, cert_d.cert, "a.test", "a.test"));
	assert_int_equal(stats_get(STAT_UP_TLS_VERIFY_FAILED), before + 1);
	/* wrong name */
	assert_false(handshake_ok(ts, cert_a.cert, "a.test", "b.test"));
	assert_int_equal(stats_get(STAT_UP_TLS_VERIFY_FAILED), before + 2);
	/* verification off */
	off = tls_client_new(cert_d.cert, false, "a.test", NULL, NULL, &e);
	on = tls_client_new(cert_d.cert, true, "a.test", NULL, NULL, &e);
	assert_non_null(off);
	assert_non_null(on);
	/* pooled connections never cross settings */
	assert_int_not_equal(tls_client_key(off), tls_client_key(on));
	tls_client_free(on);
	tls_client_free(off);
	tls_server_free(ts);
}

static bool
client_auth_ok(struct tls_server *ts, const struct pair *cc, char *subject,
    size_t len)
{
	struct err e;
	struct tls_client *tc = tls_client_new(cert_a.cert, true, "a.test",
	    cc != NULL ? cc->cert : NULL, cc != NULL ? cc->key : NULL, &e);
	struct side srv, cli;
	bool ok;

	assert_non_null(tc);
	connect_pair(&srv, &cli, ts, tc, "a.test");
	side_write(&cli, "ping", 4);
	run_until(got_n, &srv, &cli, 4);
	ok = !srv.err && !cli.err && evbuffer_get_length(srv.got) == 4;
	snprintf(subject, len, "%s",
	    tls_conn_peer_subject(srv.tc) != NULL
	        ? tls_conn_peer_subject(srv.tc)
	        : "-");
	if (ok)
		assert_int_equal(strlen(tls_conn_peer_fingerprint(srv.tc) !=
		                             NULL
		                         ? tls_conn_peer_fingerprint(srv.tc)
		                         : ""),
		    strcmp(subject, "-") == 0 ? 0 : 64);
	side_fini(&cli);
	side_fini(&srv);
	tls_client_free(tc);
	return ok;
}

static void
test_client_auth(void **state)
{
	struct tls_server *req =
	    server3(TLS_CLIENT_AUTH_REQUIRED, cert_client.cert);
	struct tls_server *opt =
	    server3(TLS_CLIENT_AUTH_OPTIONAL, cert_client.cert);
	uint64_t before = stats_get(STAT_TLS_CLIENT_CERT_REFUSED);
	char subj[512];

	assert_false(client_auth_ok(req, NULL, subj, sizeof(subj)));
	assert_false(client_auth_ok(req, &cert_other_client, subj,
	    sizeof(subj)));
	assert_true(stats_get(STAT_TLS_CLIENT_CERT_REFUSED) >= before + 2);
	assert_true(client_auth_ok(req, &cert_client, subj, sizeof(subj)));
	assert_string_equal(subj, "CN=alice");
	assert_true(client_auth_ok(opt, NULL, subj, sizeof(subj)));
	assert_string_equal(subj, "-");
	assert_true(client_auth_ok(opt, &cert_client, subj, sizeof(subj)));
	assert_string_equal(subj, "CN=alice");
	/* GnuTLS clients send only a certificate the server's CA list names:
	 * mallory's goes unsent, so mallory is let in, as nobody.
	 */
	assert_true(client_auth_ok(opt, &cert_other_client, subj,
	    sizeof(subj)));
	assert_string_equal(subj, "-");
	tls_server_free(req);
	tls_server_free(opt);
}

static void
test_credential_refusals(void **state)
{
	struct tls_cert_src nokey = { "ca-only", cert_a.cert, NULL };
	struct tls_cert_src mismatch = { "mixed", cert_a.cert, cert_d.key };
	struct tls_cert_src good = { "a", cert_a.cert, cert_a.key };
	struct err e;

	assert_null(tls_server_new(&good, 1, 1, TLS_CLIENT_AUTH_NONE, NULL,
	    &e));
	assert_string_equal(e.msg, "no default certificate");
	assert_null(tls_server_new(&nokey, 1, 0, TLS_CLIENT_AUTH_NONE, NULL,
	    &e));
	assert_string_equal(e.msg,
	    "certificate \"ca-only\" has no private key");
	assert_null(tls_server_new(&mismatch, 1, 0, TLS_CLIENT_AUTH_NONE, NULL,
	    &e));
	assert_non_null(strstr(e.msg, "certificate \"mixed\": does not match"));
	assert_null(tls_server_new(&good, 1, 0, TLS_CLIENT_AUTH_REQUIRED, NULL,
	    &e));
	assert_string_equal(e.msg, "client_auth needs a client CA");
	assert_null(tls_client_new("junk", true, NULL, NULL, NULL, &e));
	assert_string_equal(e.field, "tls.ca");
}

static void
test_peer_close_is_eof(void **state)
{
	struct tls_server *ts = server3(TLS_CLIENT_AUTH_NONE, NULL);
	struct err e;
	struct tls_client *tc =
	    tls_client_new(cert_a.cert, true, "a.test", NULL, NULL, &e);
	struct side srv, cli;

	connect_pair(&srv, &cli, ts, tc, "a.test");
	side_write(&cli, "hello", 5);
	assert_true(run_until(got_n, &srv, &cli, 5));
	side_write(&srv, "bye", 3);
	assert_true(run_until(got_n, &cli, &srv, 3));
	assert_false(any_error(&srv, &cli, 0));
	side_fini(&srv);
	assert_true(run_until(got_eof, &cli, &srv, 0));
	side_fini(&cli);
	tls_client_free(tc);
	tls_server_free(ts);
}

/* The server's close_notify ends the client's stream after the bytes
 * before it, while the socket stays open.
 */
static void
test_close_notify_is_eof(void **state)
{
	struct tls_server *ts = server3(TLS_CLIENT_AUTH_NONE, NULL);
	struct err e;
	struct tls_client *tc =
	    tls_client_new(cert_a.cert, true, "a.test", NULL, NULL, &e);
	struct side srv, cli;
	uint64_t before = stats_get(STAT_TLS_CLOSE_NOTIFY);

	connect_pair(&srv, &cli, ts, tc, "a.test");
	side_write(&cli, "hello", 5);
	assert_true(run_until(got_n, &srv, &cli, 5));
	side_write(&srv, "bye", 3);
	tls_conn_close_notify(srv.tc);
	tls_conn_close_notify(srv.tc); /* once */
	assert_int_equal(stats_get(STAT_TLS_CLOSE_NOTIFY), before + 1);
	assert_true(run_until(got_eof, &cli, &srv, 0));
	assert_false(cli.err);
	assert_int_equal(evbuffer_get_length(cli.got), 3);
	side_fini(&cli);
	side_fini(&srv);
	tls_client_free(tc);
	tls_server_free(ts);
}

/* A client's bytes wait for its handshake, and its close_notify ends the
 * server's stream after them while the socket stays open.
 */
static void
test_client_waits_then_close_notify(void **state)
{
	struct tls_server *ts = server3(TLS_CLIENT_AUTH_NONE, NULL);
	struct err e;
	struct tls_client *tc =
	    tls_client_new(cert_a.cert, true, "a.test", NULL, NULL, &e);
	struct side srv, cli;

	connect_pair(&srv, &cli, ts, tc, "a.test");
	assert_false(tls_conn_established(cli.tc));
	side_write(&cli, "early", 5);
	assert_int_equal(evbuffer_get_length(cli.pending), 5); /* kept */
	assert_true(run_until(got_n, &srv, &cli, 5));
	assert_true(tls_conn_established(cli.tc));
	assert_int_equal(evbuffer_get_length(cli.pending), 0);
	side_write(&cli, "late", 4); /* at once now */
	assert_int_equal(evbuffer_get_length(cli.pending), 0);
	tls_conn_close_notify(cli.tc);
	assert_true(run_until(got_eof, &srv, &cli, 0));
	assert_false(srv.err);
	assert_int_equal(evbuffer_get_length(srv.got), 9);
	assert_memory_equal(evbuffer_pullup(srv.got, -1), "earlylate", 9);
	side_fini(&cli);
	side_fini(&srv);
	tls_client_free(tc);
	tls_server_free(ts);
}

/* A client whose handshake failed refuses to send, and is not
 * established; nothing it kept reached the server.
 */
static void
test_client_failed_refuses(void **state)
{
	struct tls_server *ts = server3(TLS_CLIENT_AUTH_NONE, NULL);
	struct err e;
	struct tls_client *tc =
	    tls_client_new(cert_d.cert, true, "a.test", NULL, NULL, &e);
	struct side srv, cli;
	struct evbuffer *b = evbuffer_new();

	connect_pair(&srv, &cli, ts, tc, "a.test");
	side_write(&cli, "secret", 6);
	assert_true(run_until(got_eof, &cli, &srv, 0));
	assert_true(cli.err);
	assert_false(tls_conn_established(cli.tc));
	evbuffer_add(b, "x", 1);
	assert_int_equal(tls_conn_send(cli.tc, b), -1);
	assert_int_equal(evbuffer_get_length(srv.got), 0);
	evbuffer_free(b);
	side_fini(&cli);
	side_fini(&srv);
	tls_client_free(tc);
	tls_server_free(ts);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_data_both_ways),
		cmocka_unit_test(test_sni),
		cmocka_unit_test(test_verify_failures_counted),
		cmocka_unit_test(test_client_auth),
		cmocka_unit_test(test_credential_refusals),
		cmocka_unit_test(test_peer_close_is_eof),
		cmocka_unit_test(test_close_notify_is_eof),
		cmocka_unit_test(test_client_waits_then_close_notify),
		cmocka_unit_test(test_client_failed_refuses),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
