/*
 * api_conns.c: the admin listener's connections, kept answerable under a
 * flood. libmicrohttpd refuses a client address's connections beyond
 * --admin-max-conns-per-ip itself (MHD_OPTION_PER_IP_CONNECTION_LIMIT);
 * this file adds what it lacks:
 *
 * - a bounded total (--admin-max-conns): a new connection beyond it
 *   sheds the connection idle for longest (waiting for a request head,
 *   then receiving a body), never one being answered, so a flood
 *   cannot keep a newcomer out;
 * - deadlines: a request head must be complete within --admin-max-header-ms
 *   of the connection's start or of the previous answer, and a body
 *   within --admin-max-body-ms of its head, however slowly the bytes
 *   trickle in (libmicrohttpd's own timeout is only for silence).
 *
 * A connection is closed by shutdown(2) on its socket; libmicrohttpd then
 * sees the end of the stream and closes and frees it in its own thread.
 * This is safe from the sweeper thread because libmicrohttpd tells us
 * (MHD_CONNECTION_NOTIFY_CLOSED, under our lock) before it closes the
 * socket, so we never touch a descriptor it has let go.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "api_int.h"
#include "log.h"
#include "stats.h"

#define CONNS_SWEEP_MS 100

struct aconn {
	struct aconn *prev, *next;
	int fd;
	enum aconn_state state;
	int64_t since; /* ms, when the state began */
	bool shed;     /* shut down, waiting for the library to close it */
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct aconn *head;
	size_t n; /* not shed */
	struct api_conn_limits lim;
	pthread_t sweeper;
	bool running, stopping;
} cs = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Under cs.mu. */
static void
conn_shed(struct aconn *a)
{
	a->shed = true;
	cs.n--;
	(void)shutdown(a->fd, SHUT_RDWR);
}

/* The connection to shed for a newcomer: the one waiting for a head the
 * longest, else the one receiving a body the longest; NULL when all are
 * being answered. Under cs.mu.
 */
static struct aconn *
conn_victim(const struct aconn *except)
{
	struct aconn *a, *best = NULL;

	for (a = cs.head; a != NULL; a = a->next) {
		if (a == except || a->shed || a->state == AC_ANSWER)
			continue;
		if (best == NULL || a->state < best->state ||
		    (a->state == best->state && a->since < best->since))
			best = a;
	}
	return best;
}

void
conns_notify(void *cls, struct MHD_Connection *c, void **sctx, int code)
{
	const union MHD_ConnectionInfo *ci;
	struct aconn *a = *sctx, *v;

	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (a == NULL)
			return;
		pthread_mutex_lock(&cs.mu);
		if (a->prev != NULL)
			a->prev->next = a->next;
		else
			cs.head = a->next;
		if (a->next != NULL)
			a->next->prev = a->prev;
		if (!a->shed)
			cs.n--;
		pthread_mutex_unlock(&cs.mu);
		free(a);
		*sctx = NULL;
		return;
	}
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci == NULL || (a = calloc(1, sizeof(*a))) == NULL)
		return; /* untracked: only libmicrohttpd's limits apply */
	a->fd = ci->connect_fd;
	a->state = AC_HEAD;
	a->since = now_ms();
	pthread_mutex_lock(&cs.mu);
	a->next = cs.head;
	if (cs.head != NULL)
		cs.head->prev = a;
	cs.head = a;
	cs.n++;
	while (cs.n > cs.lim.max_conns) {
		if ((v = conn_victim(a)) == NULL)
			v = a; /* everyone is being answered: refuse the
			          newcomer */
		conn_shed(v);
		stats_inc(STAT_API_CONNS_SHED);
		if (v == a)
			break;
	}
	pthread_mutex_unlock(&cs.mu);
	*sctx = a;
}

void
conns_state(struct MHD_Connection *c, enum aconn_state st)
{
	const union MHD_ConnectionInfo *ci;
	struct aconn *a;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (ci == NULL || (a = ci->socket_context) == NULL)
		return;
	pthread_mutex_lock(&cs.mu);
	a->state = st;
	a->since = now_ms();
	pthread_mutex_unlock(&cs.mu);
}

static void *
conns_sweep(void *arg)
{
	struct timespec until;
	struct aconn *a;
	int64_t now, limit;

	pthread_mutex_lock(&cs.mu);
	while (!cs.stopping) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += CONNS_SWEEP_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		(void)pthread_cond_timedwait(&cs.cv, &cs.mu, &until);
		now = now_ms();
		for (a = cs.head; a != NULL; a = a->next) {
			if (a->shed || a->state == AC_ANSWER)
				continue;
			limit = a->state == AC_HEAD ? cs.lim.header_ms
			                            : cs.lim.body_ms;
			if (now - a->since < limit)
				continue;
			conn_shed(a);
			stats_inc(STAT_API_CONNS_TIMED_OUT);
		}
	}
	pthread_mutex_unlock(&cs.mu);
	return NULL;
}

int
conns_start(const struct api_conn_limits *l, struct err *e)
{
	sigset_t all, old;
	int rc;

	cs.lim = *l;
	if (cs.lim.max_conns == 0)
		cs.lim.max_conns = API_MAX_CONNS_DEF;
	if (cs.lim.max_per_ip == 0)
		cs.lim.max_per_ip = API_MAX_PER_IP_DEF;
	if (cs.lim.header_ms == 0)
		cs.lim.header_ms = API_HEADER_MS_DEF;
	if (cs.lim.body_ms == 0)
		cs.lim.body_ms = API_BODY_MS_DEF;
	cs.stopping = false;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&cs.sweeper, NULL, conns_sweep, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return err_set(e, "", "admin api: cannot start a thread: %s",
		    strerror(rc));
	cs.running = true;
	return 0;
}

const struct api_conn_limits *
conns_limits(void)
{
	return &cs.lim;
}

void
conns_stop(void)
{
	if (!cs.running)
		return;
	pthread_mutex_lock(&cs.mu);
	cs.stopping = true;
	pthread_cond_signal(&cs.cv);
	pthread_mutex_unlock(&cs.mu);
	pthread_join(cs.sweeper, NULL);
	cs.running = false;
}

/* libmicrohttpd logs every refused connection; under a flood that is
 * thousands of lines. At most 10 lines per 10 s, then a count.
 */
bool
conns_log_ok(void)
{
	static int64_t window;
	static unsigned lines, dropped;
	int64_t now = now_ms();
	bool ok = true;

	pthread_mutex_lock(&cs.mu);
	if (now - window >= 10000) {
		if (dropped > 0)
			log_warnx("admin api: %u more messages suppressed",
			    dropped);
		window = now;
		lines = dropped = 0;
	}
	if (lines < 10)
		lines++;
	else {
		dropped++;
		ok = false;
	}
	pthread_mutex_unlock(&cs.mu);
	return ok;
}
