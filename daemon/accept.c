/*
 * accept.c: the listener types and the one accept path (see accept.h).
 *
 * accept_types[] is the whole surface: one row per listener protocol.
 * A stream listener is an evconnlistener whose callback does the same for
 * every type: count the accept, admit it against max_connections (one
 * shared atomic per listener, touched when a connection opens and when it
 * ends, never per request), then hand the socket to the type's taker.
 * A refused connection is accepted and closed at once: the listener stays
 * armed but every wakeup consumes a connection, so nothing spins. UDP
 * sessions are admitted the same way by udp.c when a new client appears.
 *
 * When accept(2) itself fails for want of descriptors or memory (EMFILE,
 * ENFILE, ENOBUFS, ENOMEM) the pending connection stays queued and the
 * socket stays readable: accepting again at once would spin and log in a
 * loop. The listener is paused for ACCEPT_PAUSE_MS (one log line per
 * pause, counted accept_paused) while open connections finish and give
 * descriptors back; the kernel keeps queueing up to the backlog.
 */
#include "accept.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "check.h"
#include "conn.h"
#include "l4.h"
#include "log.h"
#include "stats.h"
#include "udp.h"
#include "worker.h"

#define ACCEPT_PAUSE_MS 500

struct accept_gauge {
	int64_t lid;
	_Atomic uint64_t open; /* admitted and not released, all workers */
	struct accept_gauge *next;
};

typedef void accept_take_fn(struct worker *w, const struct cfg_listener *l,
    int fd, const struct sockaddr *sa, socklen_t salen, struct accept_ref *ref);

struct accept_type {
	enum cfg_proto proto;
	bool datagram;         /* udp.c watches the socket itself */
	enum stat_id accepted; /* every accept (udp: udp.c, per session) */
	enum stat_id limited;  /* refused by max_connections */
	accept_take_fn *take;  /* stream types: takes fd and ref */
};

static accept_take_fn accept_take_http, accept_take_https, accept_take_l4;

/* clang-format off */
static const struct accept_type accept_types[] = {
	{ CFG_PROTO_HTTP,            false, STAT_CONN_ACCEPTED, STAT_CONN_LIMIT, accept_take_http },
	{ CFG_PROTO_HTTPS,           false, STAT_CONN_ACCEPTED, STAT_CONN_LIMIT, accept_take_https },
	{ CFG_PROTO_TCP,             false, STAT_L4_ACCEPTED,   STAT_L4_LIMIT,   accept_take_l4 },
	{ CFG_PROTO_TLS_PASSTHROUGH, false, STAT_L4_ACCEPTED,   STAT_L4_LIMIT,   accept_take_l4 },
	{ CFG_PROTO_UDP,             true,  STAT_UDP_SESSIONS,  STAT_L4_LIMIT,   NULL },
};
/* clang-format on */

static pthread_mutex_t accept_mu = PTHREAD_MUTEX_INITIALIZER;
static struct accept_gauge *accept_gauges;

static const struct accept_type *
accept_type(enum cfg_proto proto)
{
	size_t i;

	for (i = 0; i < sizeof(accept_types) / sizeof(accept_types[0]); i++)
		if (accept_types[i].proto == proto)
			return &accept_types[i];
	return NULL;
}

bool
accept_serves(enum cfg_proto proto)
{
	return accept_type(proto) != NULL;
}

static void
accept_take_http(struct worker *w, const struct cfg_listener *l, int fd,
    const struct sockaddr *sa, socklen_t salen, struct accept_ref *ref)
{
	conn_new(w, ref, fd, sa, salen);
}

/* An https listener with passthrough routes (sni names) first peeks at
 * the ClientHello (l4.c), which hands the rest back to conn.c.
 */
static void
accept_take_https(struct worker *w, const struct cfg_listener *l, int fd,
    const struct sockaddr *sa, socklen_t salen, struct accept_ref *ref)
{
	if (l->sni_routes.n > 0)
		l4_accept_shared(w, ref, fd, sa, salen);
	else
		conn_new(w, ref, fd, sa, salen);
}

static void
accept_take_l4(struct worker *w, const struct cfg_listener *l, int fd,
    const struct sockaddr *sa, socklen_t salen, struct accept_ref *ref)
{
	l4_accept(w, ref, fd, sa, salen);
}

struct accept_gauge *
accept_gauge(int64_t lid)
{
	struct accept_gauge *g;

	pthread_mutex_lock(&accept_mu);
	for (g = accept_gauges; g != NULL; g = g->next)
		if (g->lid == lid)
			break;
	if (g == NULL && (g = calloc(1, sizeof(*g))) != NULL) {
		g->lid = lid;
		g->next = accept_gauges;
		accept_gauges = g;
	}
	pthread_mutex_unlock(&accept_mu);
	return g;
}

uint64_t
accept_open(int64_t lid)
{
	struct accept_gauge *g;
	uint64_t n = 0;

	pthread_mutex_lock(&accept_mu);
	for (g = accept_gauges; g != NULL; g = g->next)
		if (g->lid == lid)
			n = atomic_load_explicit(&g->open,
			    memory_order_relaxed);
	pthread_mutex_unlock(&accept_mu);
	return n;
}

bool
accept_admit(struct worker *w, const struct cfg_listener *l,
    struct accept_gauge *g, bool conn, struct accept_ref *ref)
{
	const struct accept_type *t = accept_type(l->proto);
	struct stats_obj *ls = stats_obj_cached(STATS_LISTENER, l->id);
	uint64_t was;

	*ref = (struct accept_ref){ .lid = l->id };
	if (g != NULL) { /* NULL: no memory for the gauge, not limited */
		was = atomic_fetch_add_explicit(&g->open, 1,
		    memory_order_relaxed);
		if (l->max_connections != 0 && was >= l->max_connections) {
			atomic_fetch_sub_explicit(&g->open, 1,
			    memory_order_relaxed);
			if (t != NULL)
				stats_inc(t->limited);
			if (ls != NULL)
				stats_add(&ls->errors, 1);
			return false;
		}
	}
	if (ls != NULL) {
		stats_add(&ls->requests, 1);
		stats_add(&ls->active, 1);
	}
	ref->g = g;
	ref->held = true;
	ref->conn = conn;
	if (conn)
		w->nconns++;
	return true;
}

void
accept_release(struct worker *w, struct accept_ref *ref)
{
	struct stats_obj *ls;

	if (!ref->held)
		return;
	if (ref->g != NULL)
		atomic_fetch_sub_explicit(&ref->g->open, 1,
		    memory_order_relaxed);
	if ((ls = stats_obj_cached(STATS_LISTENER, ref->lid)) != NULL)
		stats_sub(&ls->active, 1);
	ref->g = NULL;
	ref->held = false;
	if (ref->conn) {
		ref->conn = false;
		ASSERT(w->nconns > 0);
		w->nconns--;
		if (w->draining && w->nconns == 0)
			event_base_loopbreak(w->base);
	}
}

static void
accept_cb(struct evconnlistener *evl, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct wlistener *wl = arg;
	struct worker *w = wl->w;
	const struct cfg_listener *l;
	const struct accept_type *t;
	struct accept_ref ref;

	if (w->cur == NULL ||
	    (l = cfg_listener_by_id(w->cur, wl->id)) == NULL ||
	    (t = accept_type(l->proto)) == NULL || t->take == NULL) {
		(void)close(fd); /* gone with the last snapshot */
		return;
	}
	stats_inc(t->accepted);
	if (!accept_admit(w, l, wl->gauge, true, &ref)) {
		(void)close(fd);
		return;
	}
	t->take(w, l, fd, sa, (socklen_t)salen, &ref);
}

static void
accept_resume(evutil_socket_t fd, short what, void *arg)
{
	struct wlistener *wl = arg;

	if (wl->evl != NULL)
		evconnlistener_enable(wl->evl);
}

/* accept(2) failed: out of descriptors or memory, pause (see the top of
 * the file); other errors (a connection reset before accept) are the
 * client's: counted.
 */
static void
accept_error_cb(struct evconnlistener *evl, void *arg)
{
	struct wlistener *wl = arg;
	int e = EVUTIL_SOCKET_ERROR();
	struct timeval tv = { 0, ACCEPT_PAUSE_MS * 1000 };

	stats_inc(STAT_CONN_ACCEPT_FAILED);
	if (e != EMFILE && e != ENFILE && e != ENOBUFS && e != ENOMEM) {
		log_debug("worker %u: accept on listener %lld: %s", wl->w->idx,
		    (long long)wl->id, strerror(e));
		return;
	}
	if (wl->pause_ev == NULL &&
	    (wl->pause_ev = evtimer_new(wl->w->base, accept_resume, wl)) ==
	        NULL)
		return; /* the next error tries again */
	evconnlistener_disable(evl);
	evtimer_add(wl->pause_ev, &tv);
	stats_inc(STAT_ACCEPT_PAUSED);
	log_msg(LOG_LVL_WARN,
	    "worker %u: accept on listener %lld: %s; paused %d ms", wl->w->idx,
	    (long long)wl->id, strerror(e), ACCEPT_PAUSE_MS);
}

struct wlistener *
accept_listener_new(struct worker *w, const struct cfg_listener *l, int fd)
{
	const struct accept_type *t = accept_type(l->proto);
	struct wlistener *wl;

	if (t == NULL)
		return NULL;
	if ((wl = calloc(1, sizeof(*wl))) == NULL) {
		log_warn("worker %u: listener %s", w->idx, l->name);
		return NULL;
	}
	wl->id = l->id;
	wl->fd = fd;
	wl->w = w;
	wl->gauge = accept_gauge(l->id);
	if (t->datagram)
		wl->udp = udp_listener_new(w, l->id, fd);
	else if ((wl->evl = evconnlistener_new(w->base, accept_cb, wl,
	              LEV_OPT_CLOSE_ON_EXEC, 0, fd)) != NULL)
		evconnlistener_set_error_cb(wl->evl, accept_error_cb);
	if (wl->evl == NULL && wl->udp == NULL) {
		log_warnx("worker %u: listener %s: cannot watch socket", w->idx,
		    l->name);
		free(wl);
		return NULL;
	}
	return wl;
}

void
accept_listener_free(struct wlistener *wl)
{
	if (wl == NULL)
		return;
	if (wl->evl != NULL)
		evconnlistener_free(wl->evl);
	if (wl->pause_ev != NULL)
		event_free(wl->pause_ev);
	udp_listener_free(wl->udp);
	free(wl);
}
