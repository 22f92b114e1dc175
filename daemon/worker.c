/*
 * worker.c: data-plane threads and the snapshot handoff (publish.h).
 *
 * The publisher (main thread on SIGHUP, the admin thread on an API write)
 * stores the newest snapshot under pub_mu and pokes every worker (an
 * eventfd: the worker's event base has no lock, so no other thread may
 * touch its events). Each worker takes a reference to it, swaps its own `cur`,
 * reconciles its listener wrappers (new sockets first, then the removed
 * ones) and acknowledges the generation. publish_cfg() waits for every
 * acknowledgement before it closes retired sockets and returns, so the
 * admin API can answer "live" truthfully. Requests already running keep
 * the snapshot they started with until they end.
 */
#include "worker.h"

#include <sys/eventfd.h>
#include <sys/socket.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "accept.h"
#include "cfg.h"
#include "check.h"
#include "conn.h"
#include "health.h"
#include "l4.h"
#include "listener.h"
#include "log.h"
#include "publish.h"
#include "req.h"
#include "server_live.h"
#include "sockread.h"
#include "stats.h"
#include "upstream.h"

static struct worker *workers;
static unsigned nworkers;
static bool workers_started;

static pthread_mutex_t pub_serial = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t pub_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pub_cond = PTHREAD_COND_INITIALIZER;
static struct cfg *pub_cfg; /* ref held: newest published */
static int64_t pub_gen;

static void
wlistener_free(struct wlistener *wl)
{
	accept_listener_free(wl);
}

static bool
worker_wants(const struct worker *w, const struct wlistener *wl)
{
	size_t i;

	if (w->draining || w->cur == NULL)
		return false;
	for (i = 0; i < w->cur->nlisteners; i++) {
		const struct cfg_listener *l = &w->cur->listeners[i];

		if (l->id == wl->id && accept_serves(l->proto) &&
		    listener_fd_for(l, w->idx) == wl->fd)
			return true;
	}
	return false;
}

static void
worker_reconcile(struct worker *w)
{
	struct wlistener **pp, *wl;
	size_t i;
	int fd;

	/* Open new wrappers first ... */
	for (i = 0; w->cur != NULL && !w->draining && i < w->cur->nlisteners;
	     i++) {
		const struct cfg_listener *l = &w->cur->listeners[i];

		if (!accept_serves(l->proto))
			continue;
		if ((fd = listener_fd_for(l, w->idx)) == -1)
			continue;
		for (wl = w->listeners; wl != NULL; wl = wl->next)
			if (wl->id == l->id && wl->fd == fd)
				break;
		if (wl != NULL)
			continue;
		if ((wl = accept_listener_new(w, l, fd)) == NULL)
			continue;
		wl->next = w->listeners;
		w->listeners = wl;
	}
	/* ... then stop accepting on the ones that went away; their
	 * connections run to completion.
	 */
	for (pp = &w->listeners; (wl = *pp) != NULL;) {
		if (worker_wants(w, wl)) {
			pp = &wl->next;
			continue;
		}
		*pp = wl->next;
		wlistener_free(wl);
	}
}

static void
worker_handoff(struct worker *w)
{
	struct cfg *new = NULL, *old;
	int64_t gen = 0;

	CHECK_OBJ(w, WORKER_MAGIC);
	pthread_mutex_lock(&pub_mu);
	if (pub_gen > w->cur_gen && pub_cfg != NULL) {
		new = cfg_ref(pub_cfg);
		gen = pub_gen;
	}
	pthread_mutex_unlock(&pub_mu);
	if (new != NULL) {
		old = w->cur;
		w->cur = new;
		w->cur_gen = gen;
		worker_reconcile(w);
		/* A snapshot built after a route write shares its origins
		 * with the one before (cfg_incr.c): the pools still match.
		 */
		if (old == NULL || new->origins != old->origins ||
		    new->norigins != old->norigins)
			upstream_pools_reconcile(w->pools, new);
		cfg_unref(old);
		stats_inc(STAT_CFG_SWAPS);
	}
	pthread_mutex_lock(&pub_mu);
	atomic_store(&w->acked_gen, w->cur_gen);
	pthread_cond_broadcast(&pub_cond);
	pthread_mutex_unlock(&pub_mu);
}

static void
worker_stop_loop(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	event_base_loopbreak(w->base);
}

static void
worker_begin_drain(struct worker *w)
{
	struct timeval tv = { w->drain_ms / 1000, (w->drain_ms % 1000) * 1000 };
	struct conn *c, *next;

	event_add(w->deadline_ev, &tv);
	w->draining = true;
	worker_reconcile(w); /* stops accepting everywhere */
	upstream_pools_free_idle(w->pools);
	for (c = TAILQ_FIRST(&w->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, link);
		conn_drain(c);
	}
	if (w->nconns == 0)
		event_base_loopbreak(w->base);
}

/* Another thread asked for <what> (WORKER_POKE_*). */
static void
worker_poke(struct worker *w, unsigned what)
{
	uint64_t one = 1;

	atomic_fetch_or(&w->pokes, what);
	if (write(w->poke_fd, &one, sizeof(one)) == -1 && errno != EAGAIN)
		log_warn("worker %u: eventfd write", w->idx);
}

static void
worker_poked(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	uint64_t n;
	unsigned asked;

	CHECK_OBJ(w, WORKER_MAGIC);
	/* Read before taking the bits: a poke after the exchange then
	 * leaves the eventfd readable, and comes back next turn.
	 */
	if (read(fd, &n, sizeof(n)) == -1 && errno != EAGAIN)
		log_warn("worker %u: eventfd read", w->idx);
	asked = atomic_exchange(&w->pokes, 0);
	if (asked & WORKER_POKE_HANDOFF)
		worker_handoff(w);
	if ((asked & WORKER_POKE_DRAIN) && !w->draining)
		worker_begin_drain(w);
}

void
worker_conn_gone(struct worker *w, struct conn *c)
{
	TAILQ_REMOVE(&w->conns, c, link);
}

int
worker_scratch(struct worker *w, size_t n)
{
	char *p;
	size_t cap;

	if (n <= w->scratch_cap)
		return 0;
	cap = w->scratch_cap ? w->scratch_cap : 4096;
	while (cap < n)
		cap *= 2;
	if ((p = realloc(w->scratch, cap)) == NULL)
		return -1;
	w->scratch = p;
	w->scratch_cap = cap;
	return 0;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct conn *c;
	struct wlistener *wl;

	worker_handoff(w);
	event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);
	while ((c = TAILQ_FIRST(&w->conns)) != NULL)
		conn_abort(c);
	/* A freed bufferevent whose deferred callback was still queued (the
	 * loop broke when the last connection went) is only released when
	 * that callback runs: run what is queued once, or event_base_free()
	 * drops it unrun and the TLS filter chain leaks.
	 */
	event_base_loop(w->base, EVLOOP_NONBLOCK);
	while ((wl = w->listeners) != NULL) {
		w->listeners = wl->next;
		wlistener_free(wl);
	}
	l4_worker_free(w->l4);
	w->l4 = NULL;
	upstream_pools_free(w->pools);
	w->pools = NULL;
	sockread_thread_fini();
	cfg_unref(w->cur);
	w->cur = NULL;
	return NULL;
}

/* epoll with libevent's change list: an event added and removed within
 * one loop turn costs no epoll_ctl at all. Safe because no fd is ever
 * dup()ed here. No lock: only the worker's thread touches its base (other
 * threads poke its eventfd), so event_add, event_del and each loop turn
 * skip a mutex pair, and libevent adds no notification fd of its own.
 */
static struct event_base *
worker_base_new(void)
{
	struct event_config *ec;
	struct event_base *b;

	if ((ec = event_config_new()) == NULL)
		return NULL;
	(void)event_config_set_flag(ec,
	    EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST | EVENT_BASE_FLAG_NOLOCK);
	b = event_base_new_with_config(ec);
	event_config_free(ec);
	return b;
}

void
workers_init(unsigned n)
{
	unsigned i;
	struct worker *w;

	ASSERT(n > 0 && workers == NULL);
	if ((workers = calloc(n, sizeof(*workers))) == NULL)
		fatal("workers: calloc");
	nworkers = n;
	for (i = 0; i < n; i++) {
		w = &workers[i];
		w->magic = WORKER_MAGIC;
		w->idx = i;
		TAILQ_INIT(&w->conns);
		if ((w->base = worker_base_new()) == NULL)
			fatalx("worker %u: event_base_new failed", i);
		if ((w->poke_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
			fatal("worker %u: eventfd", i);
		w->poke_ev = event_new(w->base, w->poke_fd,
		    EV_READ | EV_PERSIST, worker_poked, w);
		w->deadline_ev = evtimer_new(w->base, worker_stop_loop, w);
		if (w->poke_ev == NULL || w->deadline_ev == NULL)
			fatalx("worker %u: event_new failed", i);
		event_add(w->poke_ev, NULL);
		if ((w->pools = upstream_pools_new(w)) == NULL)
			fatalx("worker %u: upstream pools", i);
		if ((w->l4 = l4_worker_new(w)) == NULL)
			fatalx("worker %u: l4 state", i);
	}
}

unsigned
workers_count(void)
{
	return nworkers;
}

void
workers_start(void)
{
	unsigned i;
	sigset_t all, old;

	/* Workers get no signals: the main thread handles them. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (i = 0; i < nworkers; i++)
		if (pthread_create(&workers[i].thread, NULL, worker_main,
		        &workers[i]) != 0)
			fatalx("worker %u: pthread_create failed", i);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	workers_started = true;
}

void
workers_shutdown(unsigned timeout_ms)
{
	unsigned i;

	for (i = 0; i < nworkers; i++) {
		workers[i].drain_ms = timeout_ms; /* before the poke */
		worker_poke(&workers[i], WORKER_POKE_DRAIN);
	}
	for (i = 0; i < nworkers; i++)
		pthread_join(workers[i].thread, NULL);
	for (i = 0; i < nworkers; i++) {
		event_free(workers[i].poke_ev);
		close(workers[i].poke_fd);
		event_free(workers[i].deadline_ev);
		event_base_free(workers[i].base);
		free(workers[i].scratch);
		req_cache_free(&workers[i]);
		conn_stage_spare_free(&workers[i]);
	}
	listener_close_all();
	pthread_mutex_lock(&pub_mu);
	cfg_unref(pub_cfg);
	pub_cfg = NULL;
	pthread_mutex_unlock(&pub_mu);
	free(workers);
	workers = NULL;
	workers_started = false;
}

static bool
publish_all_acked(int64_t gen)
{
	unsigned i;

	for (i = 0; i < nworkers; i++)
		if (atomic_load(&workers[i].acked_gen) < gen)
			return false;
	return true;
}

int64_t
publish_cfg(struct cfg *c, unsigned timeout_ms)
{
	struct cfg *old;
	struct timespec ts;
	int64_t gen;
	unsigned i;
	bool ok = true;
	uint64_t rev = c->revision;
	bool same_origins;

	CHECK_OBJ(c, CFG_MAGIC);
	pthread_mutex_lock(&pub_serial);
	/* Revision order, whoever publishes: a SIGHUP compile that read
	 * revision N may get here after the API published N+1, and must not
	 * roll traffic back. The newer snapshot holds every change of the
	 * older one (revisions are cumulative), so the caller is told that
	 * the newest generation is live. An equal revision replaces (a
	 * SIGHUP after an edit outside the API, a certificate reload).
	 */
	if (pub_cfg != NULL && rev < pub_cfg->revision) {
		gen = pub_gen;
		log_info("config revision %llu not published: revision %llu "
		         "is newer and live (generation %lld)",
		    (unsigned long long)rev,
		    (unsigned long long)pub_cfg->revision, (long long)gen);
		pthread_mutex_unlock(&pub_serial);
		cfg_unref(c);
		return gen;
	}
	listener_prepare(c, nworkers);
	server_live_prepare(c);
	pthread_mutex_lock(&pub_mu);
	old = pub_cfg;
	pub_cfg = c;
	gen = ++pub_gen;
	pthread_mutex_unlock(&pub_mu);
	/* A route write shares the origins (cfg_incr.c): their servers'
	 * states are already in the live table.
	 */
	same_origins = old != NULL && old->origins == c->origins &&
	    old->norigins == c->norigins;
	cfg_unref(old);
	if (workers_started) {
		for (i = 0; i < nworkers; i++)
			worker_poke(&workers[i], WORKER_POKE_HANDOFF);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += timeout_ms / 1000;
		ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&pub_mu);
		while (!publish_all_acked(gen))
			if (pthread_cond_timedwait(&pub_cond, &pub_mu, &ts) ==
			    ETIMEDOUT) {
				ok = publish_all_acked(gen);
				break;
			}
		pthread_mutex_unlock(&pub_mu);
	}
	if (ok) {
		pthread_mutex_lock(&pub_mu);
		listener_retire(pub_cfg);
		pthread_mutex_unlock(&pub_mu);
		health_reconcile(c);
		if (!same_origins)
			server_live_reconcile(c);
		log_info("config generation %lld (revision %llu) active",
		    (long long)gen, (unsigned long long)rev);
	} else {
		log_warnx(
		    "config generation %lld: not every worker took it within %u ms",
		    (long long)gen, timeout_ms);
	}
	pthread_mutex_unlock(&pub_serial);
	return ok ? gen : -1;
}

struct cfg *
publish_current(void)
{
	struct cfg *c;

	pthread_mutex_lock(&pub_mu);
	c = cfg_ref(pub_cfg);
	pthread_mutex_unlock(&pub_mu);
	return c;
}

int64_t
publish_generation(void)
{
	int64_t g;

	pthread_mutex_lock(&pub_mu);
	g = pub_gen;
	pthread_mutex_unlock(&pub_mu);
	return g;
}
