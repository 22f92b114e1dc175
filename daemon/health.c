/*
 * health.c: active HTTP health checks on a thread of their own.
 *
 * For every server of an origin that has a check, a timer fires every
 * interval: connect, send "GET <path>", read the status line, compare it
 * with the expected range, all within the timeout. <fall> failures in a
 * row mark the server down, <rise> successes mark it up again; a newly
 * checked server starts up, so a change never holds traffic back. Each
 * transition is logged once. States sit in a table keyed by server id
 * that grows with the configuration and is never emptied (idtab.h), so
 * workers read it with a lock-free probe and atomic loads; a slot also
 * points to its server's check (the checker thread's own), so applying a
 * snapshot finds each server's check without a walk of the list.
 */
#include "health.h"

#include <sys/socket.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "cfg.h"
#include "check.h"
#include "idtab.h"
#include "log.h"
#include "server_live.h"
#include "sockread.h"
#include "stats.h"
#include "tls.h"

#define HEALTH_MAX_LINE 512
#define HEALTH_READ     (16 * 1024) /* a read; TLS: a record */

struct hcheck;

struct hslot {
	_Atomic int state; /* enum health_state */
	_Atomic uint64_t checks, failures;
	_Atomic int64_t changed_at;
	char last_error[96];  /* under health_mu */
	struct hcheck *check; /* the checker thread's; NULL: none */
};

struct hcheck {
	int64_t id;
	char *label;   /* owned: "127.0.0.1:8081" */
	char *origin;  /* owned: origin name */
	char *request; /* owned: the whole request */
	struct sockaddr_storage sa;
	socklen_t salen;
	unsigned interval_ms, timeout_ms, rise, fall;
	unsigned status_min, status_max;
	unsigned ok_run, fail_run;
	struct event *tick;           /* owned: next check */
	struct event *deadline;       /* owned: timeout of a running check */
	struct bufferevent *bev;      /* owned while a check runs: connects,
	                               * writes (TLS: records) */
	struct sockread rd;           /* reads while a check runs */
	struct tls_conn *sess;        /* owned while a TLS check runs */
	bool sent;                    /* TLS: the request went */
	struct cfg *cfg;              /* ref held when the origin uses TLS */
	struct cfg *run_cfg;          /* ref held by a running TLS check */
	const struct tls_client *tls; /* borrowed from cfg; NULL: plain */
	char *verify_name;            /* owned: SNI name or server address */
	bool seen;
	struct hcheck *next;
};

static struct idtab health_tab =
    IDTAB_INIT("health states", sizeof(struct hslot));
static pthread_mutex_t health_mu = PTHREAD_MUTEX_INITIALIZER;
static struct cfg *health_pending; /* ref held; under health_mu */
static struct event_base *health_base;
static struct event *health_reconcile_ev, *health_stop_ev;
static pthread_t health_thread;
static bool health_running;
static struct hcheck *health_checks; /* checker thread only */

static struct hslot *
slot_find(int64_t id, bool create)
{
	struct hslot *s = idtab_get(&health_tab, id);

	if (s == NULL && create)
		s = idtab_add(&health_tab, id);
	return s;
}

bool
health_usable(int64_t id)
{
	struct hslot *s = slot_find(id, false);

	return s == NULL ||
	    atomic_load_explicit(&s->state, memory_order_relaxed) !=
	    HEALTH_DOWN;
}

bool
health_get(int64_t id, struct health_info *out)
{
	struct hslot *s = slot_find(id, false);

	if (s == NULL)
		return false;
	out->state = (enum health_state)atomic_load(&s->state);
	out->checks = atomic_load(&s->checks);
	out->failures = atomic_load(&s->failures);
	out->changed_at = atomic_load(&s->changed_at);
	pthread_mutex_lock(&health_mu);
	memcpy(out->last_error, s->last_error, sizeof(out->last_error));
	pthread_mutex_unlock(&health_mu);
	return true;
}

int
health_parse_status(const char *line, size_t len)
{
	int status = 0, i;

	/* "HTTP/1.x NNN" at the least */
	if (len < 12 || memcmp(line, "HTTP/1.", 7) != 0 ||
	    (line[7] != '0' && line[7] != '1') || line[8] != ' ')
		return -1;
	for (i = 9; i < 12; i++) {
		if (line[i] < '0' || line[i] > '9')
			return -1;
		status = status * 10 + (line[i] - '0');
	}
	if (len > 12 && line[12] != ' ' && line[12] != '\r')
		return -1;
	return status >= 100 ? status : -1;
}

static void
set_state(struct hcheck *k, enum health_state st, const char *why)
{
	struct hslot *s = slot_find(k->id, true);

	if (s == NULL)
		return;
	if (atomic_exchange(&s->state, (int)st) == (int)st)
		return;
	atomic_store(&s->changed_at, (int64_t)time(NULL));
	if (st == HEALTH_DOWN)
		log_warnx("origin %s server %s is down: %s", k->origin,
		    k->label, why);
	else if (st == HEALTH_UP) {
		log_info("origin %s server %s is up", k->origin, k->label);
		server_live_restart(k->id); /* slow start again */
	}
}

/* Ends the connection of a check (TLS: with a close_notify). */
static void
check_close(struct hcheck *k)
{
	sockread_fini(&k->rd); /* before the bufferevent closes the fd */
	if (k->sess != NULL) {
		tls_conn_close_notify(k->sess);
		tls_conn_free(k->sess); /* before the queue it writes to */
		k->sess = NULL;
	}
	if (k->bev != NULL) {
		bufferevent_free(k->bev);
		k->bev = NULL;
	}
}

static void
check_end(struct hcheck *k, const char *error)
{
	struct hslot *s = slot_find(k->id, true);
	struct timeval tv;

	check_close(k);
	event_del(k->deadline);
	cfg_unref(k->run_cfg);
	k->run_cfg = NULL;
	if (s != NULL) {
		atomic_fetch_add(&s->checks, 1);
		if (error != NULL)
			atomic_fetch_add(&s->failures, 1);
		pthread_mutex_lock(&health_mu);
		snprintf(s->last_error, sizeof(s->last_error), "%s",
		    error != NULL ? error : "");
		pthread_mutex_unlock(&health_mu);
	}
	if (error == NULL) {
		k->fail_run = 0;
		if (++k->ok_run >= k->rise)
			set_state(k, HEALTH_UP, NULL);
	} else {
		stats_inc(STAT_HEALTH_CHECK_FAILED);
		k->ok_run = 0;
		if (++k->fail_run >= k->fall)
			set_state(k, HEALTH_DOWN, error);
	}
	tv.tv_sec = k->interval_ms / 1000;
	tv.tv_usec = (k->interval_ms % 1000) * 1000;
	event_add(k->tick, &tv);
}

static void
check_read(struct bufferevent *bev, void *arg)
{
	struct hcheck *k = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_ptr eol;
	char line[HEALTH_MAX_LINE], why[64];
	size_t n;
	int status;

	eol = evbuffer_search(in, "\r\n", 2, NULL);
	if (eol.pos < 0) {
		if (evbuffer_get_length(in) >= HEALTH_MAX_LINE)
			check_end(k, "status line too long");
		return;
	}
	n = (size_t)eol.pos < sizeof(line) ? (size_t)eol.pos : sizeof(line);
	evbuffer_copyout(in, line, n);
	if ((status = health_parse_status(line, n)) == -1) {
		check_end(k, "not an HTTP response");
		return;
	}
	if ((unsigned)status < k->status_min ||
	    (unsigned)status > k->status_max) {
		snprintf(why, sizeof(why), "status %d", status);
		check_end(k, why);
		return;
	}
	check_end(k, NULL);
}

/* TLS: the first call sends the ClientHello, the one after the
 * handshake the request. -1: a TLS error (logged and counted).
 */
static int
check_tls_send(struct hcheck *k)
{
	struct evbuffer *b;
	int r = -1;

	if (k->sent)
		return 0;
	if ((b = evbuffer_new()) == NULL)
		return -1;
	if (evbuffer_add(b, k->request, strlen(k->request)) == 0 &&
	    (r = tls_conn_send(k->sess, b)) == 0 && evbuffer_get_length(b) == 0)
		k->sent = true;
	evbuffer_free(b);
	return r;
}

static short
check_decode(void *arg, struct evbuffer *raw, const char *p, size_t n,
    size_t *used, struct evbuffer *in)
{
	struct hcheck *k = arg;
	short end = tls_conn_recv(k->sess, raw, p, n, used, in);

	if (end == 0 && !k->sent && tls_conn_established(k->sess) &&
	    check_tls_send(k) == -1)
		end = BEV_EVENT_ERROR;
	return end;
}

static void
check_event(struct bufferevent *bev, short what, void *arg)
{
	struct hcheck *k = arg;
	char why[96];

	if (what & BEV_EVENT_CONNECTED) {
		sockread_enable(&k->rd);
		if (k->sess != NULL && check_tls_send(k) == -1)
			check_end(k, "TLS handshake failed");
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		/* A TLS error leaves no errno worth showing. */
		snprintf(why, sizeof(why), "%s",
		    (what & BEV_EVENT_READING) && k->sess != NULL &&
		            !tls_conn_established(k->sess)
		        ? "TLS handshake failed"
		        : evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		check_end(k, why);
		return;
	}
	check_end(k, "connection closed before the status line");
}

static void
check_timeout(evutil_socket_t fd, short what, void *arg)
{
	check_end(arg, "timed out");
}

static void
check_sock_read(void *arg)
{
	struct hcheck *k = arg;

	check_read(k->bev, k);
}

static void
check_sock_event(void *arg, short what)
{
	struct hcheck *k = arg;

	check_event(k->bev, what, k);
}

static void
check_start(evutil_socket_t fd, short what, void *arg)
{
	struct hcheck *k = arg;
	struct timeval tv;

	k->bev = bufferevent_socket_new(health_base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (k->bev == NULL) {
		check_end(k, "out of memory");
		return;
	}
	bufferevent_setcb(k->bev, NULL, NULL, check_event, k);
	tv.tv_sec = k->timeout_ms / 1000;
	tv.tv_usec = (k->timeout_ms % 1000) * 1000;
	event_add(k->deadline, &tv);
	/* Read by a sockread, enabled once connected (TLS: decrypted). */
	if (bufferevent_socket_connect(k->bev, (struct sockaddr *)&k->sa,
	        (int)k->salen) == -1 ||
	    sockread_init(&k->rd, health_base, bufferevent_getfd(k->bev),
	        bufferevent_get_input(k->bev), HEALTH_READ, check_sock_read,
	        check_sock_event, k) == -1) {
		check_end(k, "connect failed");
		return;
	}
	if (k->tls != NULL) {
		char label[160];

		/* The same TLS settings, and verification, as traffic. */
		snprintf(label, sizeof(label),
		    "health check of origin %s server %s", k->origin, k->label);
		k->run_cfg = cfg_ref(k->cfg);
		k->sent = false;
		k->sess = tls_client_conn_new(k->tls, bufferevent_getfd(k->bev),
		    bufferevent_get_output(k->bev), k->verify_name, label);
		if (k->sess == NULL) {
			check_end(k, "TLS setup failed");
			return;
		}
		sockread_set_decoder(&k->rd, check_decode);
	} else {
		bufferevent_write(k->bev, k->request, strlen(k->request));
	}
	bufferevent_enable(k->bev, EV_WRITE);
}

static void
hcheck_free(struct hcheck *k)
{
	check_close(k);
	event_free(k->tick);
	event_free(k->deadline);
	free(k->label);
	free(k->origin);
	free(k->request);
	free(k->verify_name);
	cfg_unref(k->run_cfg);
	cfg_unref(k->cfg);
	free(k);
}

static bool
hcheck_set(struct hcheck *k, struct cfg *c, const struct cfg_origin *o,
    const struct cfg_server *s)
{
	const struct cfg_health *h = &o->health;
	char *req = NULL, *label, *origin, *vname = NULL;

	if (asprintf(&req,
	        "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: gatehouse-health\r\n"
	        "Connection: close\r\n\r\n",
	        h->method != NULL ? h->method : "GET", h->path,
	        h->host != NULL && h->host[0] != '\0' ? h->host : s->label) ==
	    -1)
		return false;
	label = strdup(s->label);
	origin = strdup(o->name);
	if (o->tls_enabled && o->tls != NULL)
		vname = strdup(o->tls_sni != NULL ? o->tls_sni : s->address);
	if (label == NULL || origin == NULL ||
	    (o->tls_enabled && o->tls != NULL && vname == NULL)) {
		free(req);
		free(label);
		free(origin);
		free(vname);
		return false;
	}
	free(k->request);
	free(k->label);
	free(k->origin);
	free(k->verify_name);
	k->request = req;
	k->label = label;
	k->origin = origin;
	k->verify_name = vname;
	/* A running check keeps its own reference (run_cfg). */
	cfg_unref(k->cfg);
	k->cfg = vname != NULL ? cfg_ref(c) : NULL;
	k->tls = vname != NULL ? o->tls : NULL;
	if (k->salen != s->salen || memcmp(&k->sa, &s->sa, s->salen) != 0) {
		/* A new address is a new server as far as health goes. */
		k->ok_run = k->fail_run = 0;
		k->sa = s->sa;
		k->salen = s->salen;
	}
	k->interval_ms = h->interval_ms;
	k->timeout_ms = h->timeout_ms;
	k->rise = h->rise;
	k->fall = h->fall;
	k->status_min = h->status_min;
	k->status_max = h->status_max;
	return true;
}

static void
health_apply(evutil_socket_t fd, short what, void *arg)
{
	struct cfg *c;
	struct hcheck *k, **pp;
	struct hslot *slot;
	struct timeval tv;
	size_t i, j;

	pthread_mutex_lock(&health_mu);
	c = health_pending;
	health_pending = NULL;
	pthread_mutex_unlock(&health_mu);
	if (c == NULL)
		return;
	for (k = health_checks; k != NULL; k = k->next)
		k->seen = false;
	for (i = 0; i < c->norigins; i++) {
		const struct cfg_origin *o = &c->origins[i];

		if (!o->health.enabled)
			continue;
		for (j = 0; j < o->nservers; j++) {
			const struct cfg_server *s = &o->servers[j];

			/* No slot (refused, counted): no check either. */
			if ((slot = slot_find(s->id, true)) == NULL)
				continue;
			if ((k = slot->check) == NULL) {
				if ((k = calloc(1, sizeof(*k))) == NULL)
					continue;
				k->id = s->id;
				k->tick =
				    evtimer_new(health_base, check_start, k);
				k->deadline =
				    evtimer_new(health_base, check_timeout, k);
				if (k->tick == NULL || k->deadline == NULL ||
				    !hcheck_set(k, c, o, s)) {
					hcheck_free(k);
					continue;
				}
				k->next = health_checks;
				health_checks = k;
				slot->check = k;
				atomic_store(&slot->state, HEALTH_UP);
				/* Spread the first checks over 100 ms. */
				tv.tv_sec = 0;
				tv.tv_usec = (suseconds_t)(k->id % 100) * 1000;
				event_add(k->tick, &tv);
			} else {
				(void)hcheck_set(k, c, o, s);
			}
			k->seen = true;
		}
	}
	for (pp = &health_checks; (k = *pp) != NULL;) {
		if (k->seen) {
			pp = &k->next;
			continue;
		}
		*pp = k->next;
		if ((slot = slot_find(k->id, false)) != NULL) {
			atomic_store(&slot->state, HEALTH_UNCHECKED);
			slot->check = NULL;
		}
		hcheck_free(k);
	}
	cfg_unref(c);
}

static void
health_exit(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(health_base);
}

static void *
health_main(void *arg)
{
	struct hcheck *k;
	struct hslot *slot;

	event_base_loop(health_base, EVLOOP_NO_EXIT_ON_EMPTY);
	while ((k = health_checks) != NULL) {
		health_checks = k->next;
		if ((slot = slot_find(k->id, false)) != NULL)
			slot->check = NULL;
		hcheck_free(k);
	}
	sockread_thread_fini(); /* checks read through sockreads */
	return NULL;
}

void
health_start(void)
{
	sigset_t all, old;

	if ((health_base = event_base_new()) == NULL)
		fatalx("health: event_base_new failed");
	health_reconcile_ev =
	    event_new(health_base, -1, EV_PERSIST, health_apply, NULL);
	health_stop_ev = event_new(health_base, -1, 0, health_exit, NULL);
	if (health_reconcile_ev == NULL || health_stop_ev == NULL)
		fatalx("health: event_new failed");
	event_add(health_reconcile_ev, NULL);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (pthread_create(&health_thread, NULL, health_main, NULL) != 0)
		fatalx("health: pthread_create failed");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	health_running = true;
}

void
health_stop(void)
{
	if (!health_running)
		return;
	event_active(health_stop_ev, EV_READ, 0);
	pthread_join(health_thread, NULL);
	event_free(health_reconcile_ev);
	event_free(health_stop_ev);
	event_base_free(health_base);
	pthread_mutex_lock(&health_mu);
	cfg_unref(health_pending);
	health_pending = NULL;
	pthread_mutex_unlock(&health_mu);
	health_running = false;
}

void
health_reconcile(struct cfg *c)
{
	struct cfg *stale;

	if (!health_running)
		return;
	pthread_mutex_lock(&health_mu);
	stale = health_pending;
	health_pending = cfg_ref(c);
	pthread_mutex_unlock(&health_mu);
	cfg_unref(stale);
	event_active(health_reconcile_ev, EV_READ, 0);
}
