/*
 * udp.c: UDP sessions (see udp.h).
 *
 * The listener's read event drains up to UDP_BATCH datagrams per wakeup
 * into one 64 KiB buffer (larger than any UDP payload, so nothing is ever
 * truncated), finds or creates the client's session in a chained hash and
 * send()s the datagram on the session's connected socket. The session's
 * read event does the reverse with sendto() on the listener socket. A
 * full socket buffer drops the datagram, as the network would, and
 * counts it. The route is chosen once, when the session is created, with
 * the worker's newest snapshot; the session keeps that snapshot.
 */
#include "udp.h"

#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "accept.h"
#include "balance.h"
#include "cfg.h"
#include "check.h"
#include "l4.h"
#include "l4_route.h"
#include "log.h"
#include "stats.h"
#include "upstream.h"
#include "worker.h"

#define UDP_MAGIC   0x55445053u /* "UDPS" */
#define UDP_BUF     65536
#define UDP_BATCH   64
#define UDP_BUCKETS 1024

struct udp_sess {
	unsigned magic;
	struct udp_listener *ul;
	struct sockaddr_storage client;
	socklen_t clen;
	int fd;                 /* owned: connected to the server */
	struct event *ev, *tmr; /* owned */
	struct cfg *cfg;        /* ref held */
	const struct cfg_route *route;
	const struct cfg_server *server;
	struct stats_obj *rs, *ss; /* borrowed, global */
	struct accept_ref acc;     /* the listener slot (accept.c) */
	struct timeval last;
	uint64_t bytes_in, bytes_out;
	struct udp_sess *next; /* hash chain */
};

struct udp_listener {
	struct worker *w;
	int64_t lid;
	int fd;                     /* borrowed from listener.c */
	struct event *ev;           /* owned */
	uint8_t *buf;               /* owned: UDP_BUF bytes */
	struct stats_obj *ls;       /* borrowed, global: bytes */
	struct accept_gauge *gauge; /* borrowed: open sessions */
	struct udp_sess *buckets[UDP_BUCKETS];
};

static size_t
udp_hash(const struct sockaddr_storage *sa)
{
	const uint8_t *p;
	size_t n, i;
	uint64_t h = 1469598103934665603ull;

	if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)sa;

		p = (const uint8_t *)&s->sin6_addr;
		n = 16;
		h = (h ^ s->sin6_port) * 1099511628211ull;
	} else {
		const struct sockaddr_in *s = (const void *)sa;

		p = (const uint8_t *)&s->sin_addr;
		n = 4;
		h = (h ^ s->sin_port) * 1099511628211ull;
	}
	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return (size_t)(h % UDP_BUCKETS);
}

static bool
udp_same(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a;
		const struct sockaddr_in6 *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		    memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
	}
	return ((const struct sockaddr_in *)(const void *)a)->sin_port ==
	    ((const struct sockaddr_in *)(const void *)b)->sin_port &&
	    ((const struct sockaddr_in *)(const void *)a)->sin_addr.s_addr ==
	    ((const struct sockaddr_in *)(const void *)b)->sin_addr.s_addr;
}

static void
udp_sess_free(struct udp_sess *s)
{
	struct udp_listener *ul = s->ul;
	struct udp_sess **pp;

	CHECK_OBJ(s, UDP_MAGIC);
	for (pp = &ul->buckets[udp_hash(&s->client)]; *pp != NULL;
	     pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	if (s->rs != NULL) {
		stats_add(&s->rs->bytes_in, s->bytes_in);
		stats_add(&s->rs->bytes_out, s->bytes_out);
		stats_sub(&s->rs->active, 1);
	}
	if (s->ss != NULL) {
		stats_add(&s->ss->bytes_in, s->bytes_in);
		stats_add(&s->ss->bytes_out, s->bytes_out);
	}
	if (ul->ls != NULL) {
		stats_add(&ul->ls->bytes_in, s->bytes_in);
		stats_add(&ul->ls->bytes_out, s->bytes_out);
	}
	accept_release(ul->w, &s->acc);
	if (s->ev != NULL)
		event_free(s->ev);
	if (s->tmr != NULL)
		event_free(s->tmr);
	if (s->fd != -1)
		(void)close(s->fd);
	cfg_unref(s->cfg);
	s->magic = 0;
	free(s);
}

static void
udp_arm(struct udp_sess *s, unsigned ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(s->tmr, &tv);
}

static void
udp_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct udp_sess *s = arg;
	struct timeval now, idle;
	long long ms;

	CHECK_OBJ(s, UDP_MAGIC);
	event_base_gettimeofday_cached(s->ul->w->base, &now);
	timersub(&now, &s->last, &idle);
	ms = (long long)idle.tv_sec * 1000 + idle.tv_usec / 1000;
	if (ms >= (long long)s->route->idle_ms) {
		stats_inc(STAT_UDP_IDLE_TIMEOUT);
		udp_sess_free(s);
		return;
	}
	udp_arm(s, s->route->idle_ms - (unsigned)ms);
}

/* Datagrams from the origin, back to the client. */
static void
udp_sess_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct udp_sess *s = arg;
	struct udp_listener *ul = s->ul;
	ssize_t n;
	int i;

	CHECK_OBJ(s, UDP_MAGIC);
	for (i = 0; i < UDP_BATCH; i++) {
		n = recv(s->fd, ul->buf, UDP_BUF, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				/* ECONNREFUSED: an ICMP for an earlier
				 * datagram; the session stays.
				 */
				stats_inc(STAT_UDP_DROPPED);
				if (s->ss != NULL)
					stats_add(&s->ss->errors, 1);
				continue;
			}
			return;
		}
		event_base_gettimeofday_cached(ul->w->base, &s->last);
		if (sendto(ul->fd, ul->buf, (size_t)n, 0,
		        (const struct sockaddr *)&s->client, s->clen) < 0) {
			stats_inc(STAT_UDP_DROPPED);
			continue;
		}
		s->bytes_out += (uint64_t)n;
		stats_inc(STAT_UDP_DGRAMS_OUT);
	}
}

/* A new session for <client>, or NULL (counted). */
static struct udp_sess *
udp_sess_new(struct udp_listener *ul, const struct sockaddr_storage *client,
    socklen_t clen)
{
	struct worker *w = ul->w;
	const struct cfg_listener *l;
	const struct cfg_route *r;
	const struct cfg_server *sv;
	struct udp_sess *s;
	struct accept_ref ref;
	size_t h;

	if (w->cur == NULL || (l = cfg_listener_by_id(w->cur, ul->lid)) == NULL)
		return NULL;
	r = l4_route_match(l, (const struct sockaddr *)client, NULL, 0);
	if (r == NULL) {
		stats_inc(STAT_UDP_NO_ROUTE);
		stats_unmatched(l->id);
		return NULL;
	}
	if ((sv = balance_l4_server(w->pools, r->origin, client, NULL, 0)) ==
	    NULL)
		return NULL;
	if (!accept_admit(w, l, ul->gauge, false, &ref))
		return NULL; /* max_connections */
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		accept_release(w, &ref);
		stats_inc(STAT_L4_NO_MEMORY);
		return NULL;
	}
	s->magic = UDP_MAGIC;
	s->acc = ref;
	s->ul = ul;
	s->client = *client;
	s->clen = clen;
	s->cfg = cfg_ref(w->cur);
	s->route = r;
	s->server = sv;
	h = udp_hash(client);
	s->next = ul->buckets[h];
	ul->buckets[h] = s;
	s->rs = stats_obj_cached(STATS_ROUTE, r->id);
	s->ss = stats_obj_cached(STATS_SERVER, sv->id);
	if (s->rs != NULL) {
		stats_add(&s->rs->requests, 1);
		stats_add(&s->rs->active, 1);
	}
	if (s->ss != NULL)
		stats_add(&s->ss->requests, 1);
	if ((s->fd = socket(sv->sa.ss_family,
	         SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(s->fd, (const struct sockaddr *)&sv->sa, sv->salen) == -1 ||
	    (s->ev = event_new(w->base, s->fd, EV_READ | EV_PERSIST,
	         udp_sess_read_cb, s)) == NULL ||
	    (s->tmr = evtimer_new(w->base, udp_timer_cb, s)) == NULL) {
		stats_inc(STAT_L4_NO_MEMORY);
		if (s->ss != NULL)
			stats_add(&s->ss->errors, 1);
		udp_sess_free(s);
		return NULL;
	}
	event_add(s->ev, NULL);
	event_base_gettimeofday_cached(w->base, &s->last);
	udp_arm(s, r->idle_ms);
	stats_inc(STAT_UDP_SESSIONS);
	log_debug("udp %s: session for a client to %s", l->name, sv->label);
	return s;
}

/* Datagrams from clients. */
static void
udp_listener_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct udp_listener *ul = arg;
	struct sockaddr_storage client;
	struct udp_sess *s;
	socklen_t clen;
	ssize_t n;
	int i;

	for (i = 0; i < UDP_BATCH; i++) {
		clen = sizeof(client);
		n = recvfrom(ul->fd, ul->buf, UDP_BUF, 0,
		    (struct sockaddr *)&client, &clen);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return; /* EAGAIN, or an error the next read sees */
		}
		for (s = ul->buckets[udp_hash(&client)]; s != NULL; s = s->next)
			if (udp_same(&s->client, &client))
				break;
		if (s == NULL &&
		    (s = udp_sess_new(ul, &client, clen)) == NULL) {
			stats_inc(STAT_UDP_DROPPED);
			continue;
		}
		event_base_gettimeofday_cached(ul->w->base, &s->last);
		if (send(s->fd, ul->buf, (size_t)n, 0) < 0) {
			stats_inc(STAT_UDP_DROPPED);
			if (s->ss != NULL)
				stats_add(&s->ss->errors, 1);
			continue;
		}
		s->bytes_in += (uint64_t)n;
		stats_inc(STAT_UDP_DGRAMS_IN);
	}
}

struct udp_listener *
udp_listener_new(struct worker *w, int64_t lid, int fd)
{
	struct udp_listener *ul;

	if ((ul = calloc(1, sizeof(*ul))) == NULL)
		return NULL;
	ul->w = w;
	ul->lid = lid;
	ul->fd = fd;
	ul->ls = stats_obj_cached(STATS_LISTENER, lid);
	ul->gauge = accept_gauge(lid);
	ul->buf = malloc(UDP_BUF);
	ul->ev = event_new(w->base, fd, EV_READ | EV_PERSIST,
	    udp_listener_read_cb, ul);
	if (ul->buf == NULL || ul->ev == NULL) {
		udp_listener_free(ul);
		return NULL;
	}
	event_add(ul->ev, NULL);
	return ul;
}

void
udp_listener_free(struct udp_listener *ul)
{
	size_t i;

	if (ul == NULL)
		return;
	for (i = 0; i < UDP_BUCKETS; i++)
		while (ul->buckets[i] != NULL)
			udp_sess_free(ul->buckets[i]);
	if (ul->ev != NULL)
		event_free(ul->ev);
	free(ul->buf);
	free(ul);
}
