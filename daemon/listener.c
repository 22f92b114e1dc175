/*
 * listener.c: the process-wide registry of listening sockets.
 *
 * An entry is one configured listener at one bind address: its id, what
 * it binds (address, port, protocol) and one SO_REUSEPORT socket per
 * worker. listener_prepare() runs on the publishing thread before a
 * snapshot is handed to the workers and opens what is new ("open before
 * close"); listener_retire() runs after every worker took the snapshot and
 * closes what no longer appears in it. An unchanged listener keeps its
 * sockets across any number of swaps, so no connection is dropped. A bind
 * the kernel refuses leaves the entry unbound with the error text: that is
 * runtime state shown by the API, never a failed change.
 */
#include "listener.h"

#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "check.h"
#include "log.h"
#include "stats.h"

#define LISTENER_BACKLOG 511

struct lentry {
	int64_t id;
	enum cfg_proto proto;
	struct sockaddr_storage sa; /* as configured (port may be 0) */
	socklen_t salen;
	struct listener_state st;
	int *fds; /* nfds sockets, -1 when not open */
	unsigned nfds;
	struct lentry *next;
};

static pthread_mutex_t listener_mu = PTHREAD_MUTEX_INITIALIZER;
static struct lentry *listener_list;

static bool
lentry_matches(const struct lentry *e, const struct cfg_listener *l)
{
	return e->id == l->id && e->proto == l->proto && e->salen == l->salen &&
	    memcmp(&e->sa, &l->sa, l->salen) == 0;
}

static void
lentry_close(struct lentry *e)
{
	unsigned i;

	for (i = 0; i < e->nfds; i++)
		if (e->fds[i] != -1)
			(void)close(e->fds[i]);
	free(e->fds);
	free(e);
}

static int
listener_socket(const struct sockaddr_storage *sa, socklen_t salen,
    enum cfg_proto proto, char *err, size_t errlen)
{
	int fd, one = 1, type;
	const char *what;

	type = proto == CFG_PROTO_UDP ? SOCK_DGRAM : SOCK_STREAM;
	if ((fd = socket(sa->ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC,
	         0)) == -1) {
		what = "socket";
		goto fail;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) == -1) {
		what = "setsockopt";
		goto fail;
	}
	if (sa->ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		    sizeof(one));
	/* Listen on an address this host does not hold yet (a VIP). */
	(void)setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)sa, salen) == -1) {
		what = "bind";
		goto fail;
	}
	if (type == SOCK_STREAM && listen(fd, LISTENER_BACKLOG) == -1) {
		what = "listen";
		goto fail;
	}
	return fd;
fail:
	snprintf(err, errlen, "%s: %s", what, strerror(errno));
	if (fd != -1)
		(void)close(fd);
	return -1;
}

static uint16_t
sa_port(const struct sockaddr_storage *sa)
{
	if (sa->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return ntohs(((const struct sockaddr_in *)sa)->sin_port);
}

static void
sa_set_port(struct sockaddr_storage *sa, uint16_t port)
{
	if (sa->ss_family == AF_INET6)
		((struct sockaddr_in6 *)sa)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)sa)->sin_port = htons(port);
}

/* Opens the nworkers sockets of <e>; the first one decides the port when
 * the configuration says 0, and the others bind that same port.
 */
static void
lentry_open(struct lentry *e, const struct cfg_listener *l, unsigned nworkers)
{
	struct sockaddr_storage sa = e->sa, got;
	socklen_t len;
	unsigned i;
	char err[160];

	if ((e->fds = malloc(nworkers * sizeof(*e->fds))) == NULL)
		fatal("listener %s: malloc", l->name);
	e->nfds = nworkers;
	for (i = 0; i < nworkers; i++)
		e->fds[i] = -1;
	for (i = 0; i < nworkers; i++) {
		e->fds[i] =
		    listener_socket(&sa, e->salen, e->proto, err, sizeof(err));
		if (e->fds[i] == -1)
			goto fail;
		if (i == 0) {
			len = sizeof(got);
			if (getsockname(e->fds[0], (struct sockaddr *)&got,
			        &len) == -1) {
				snprintf(err, sizeof(err), "getsockname: %s",
				    strerror(errno));
				goto fail;
			}
			sa_set_port(&sa, sa_port(&got));
		}
	}
	e->st.bound = true;
	e->st.port = sa_port(&sa);
	e->st.error[0] = '\0';
	log_info("listener %s listening on %s%s%s:%u", l->name,
	    e->sa.ss_family == AF_INET6 ? "[" : "", l->address,
	    e->sa.ss_family == AF_INET6 ? "]" : "", e->st.port);
	return;
fail:
	for (i = 0; i < nworkers; i++) {
		if (e->fds[i] != -1)
			(void)close(e->fds[i]);
		e->fds[i] = -1;
	}
	e->st.bound = false;
	e->st.port = 0;
	snprintf(e->st.error, sizeof(e->st.error), "%s", err);
	stats_inc(STAT_LISTENER_BIND_FAILED);
	log_warnx("listener %s on %s:%u: %s", l->name, l->address, l->port,
	    err);
}

void
listener_prepare(const struct cfg *c, unsigned nworkers)
{
	struct lentry *e;
	size_t i;

	pthread_mutex_lock(&listener_mu);
	for (i = 0; i < c->nlisteners; i++) {
		const struct cfg_listener *l = &c->listeners[i];

		for (e = listener_list; e != NULL; e = e->next)
			if (lentry_matches(e, l))
				break;
		if (e != NULL) {
			/* Kept: only the name may have changed. A bind
			 * refused earlier is tried again.
			 */
			snprintf(e->st.name, sizeof(e->st.name), "%s", l->name);
			if (!e->st.bound) {
				free(e->fds);
				lentry_open(e, l, nworkers);
			}
			continue;
		}
		if ((e = calloc(1, sizeof(*e))) == NULL)
			fatal("listener %s: calloc", l->name);
		e->id = l->id;
		e->proto = l->proto;
		e->sa = l->sa;
		e->salen = l->salen;
		e->st.id = l->id;
		snprintf(e->st.name, sizeof(e->st.name), "%s", l->name);
		snprintf(e->st.address, sizeof(e->st.address), "%s",
		    l->address);
		lentry_open(e, l, nworkers);
		e->next = listener_list;
		listener_list = e;
	}
	pthread_mutex_unlock(&listener_mu);
}

void
listener_retire(const struct cfg *c)
{
	struct lentry **pp, *e;
	size_t i;
	bool keep;

	pthread_mutex_lock(&listener_mu);
	for (pp = &listener_list; (e = *pp) != NULL;) {
		keep = false;
		for (i = 0; i < c->nlisteners && !keep; i++)
			keep = lentry_matches(e, &c->listeners[i]);
		if (keep) {
			pp = &e->next;
			continue;
		}
		*pp = e->next;
		if (e->st.bound)
			log_info("listener %s on %s:%u closed", e->st.name,
			    e->st.address, e->st.port);
		lentry_close(e);
	}
	pthread_mutex_unlock(&listener_mu);
}

/* The entry serving <l> in the newest preparation (matching address). */
int
listener_fd_for(const struct cfg_listener *l, unsigned w)
{
	struct lentry *e;
	int fd = -1;

	pthread_mutex_lock(&listener_mu);
	for (e = listener_list; e != NULL; e = e->next)
		if (lentry_matches(e, l)) {
			if (e->st.bound && w < e->nfds)
				fd = e->fds[w];
			break;
		}
	pthread_mutex_unlock(&listener_mu);
	return fd;
}

int
listener_fd(int64_t id, unsigned w)
{
	struct lentry *e;
	int fd = -1;

	pthread_mutex_lock(&listener_mu);
	for (e = listener_list; e != NULL; e = e->next)
		if (e->id == id && e->st.bound && w < e->nfds) {
			fd = e->fds[w];
			break;
		}
	pthread_mutex_unlock(&listener_mu);
	return fd;
}

size_t
listener_states(struct listener_state *out, size_t max)
{
	struct lentry *e;
	size_t n = 0;

	pthread_mutex_lock(&listener_mu);
	for (e = listener_list; e != NULL; e = e->next) {
		if (n < max)
			out[n] = e->st;
		n++;
	}
	pthread_mutex_unlock(&listener_mu);
	return n;
}

uint16_t
listener_bound_port(int64_t id)
{
	struct lentry *e;
	uint16_t port = 0;

	pthread_mutex_lock(&listener_mu);
	for (e = listener_list; e != NULL; e = e->next)
		if (e->id == id && e->st.bound) {
			port = e->st.port;
			break;
		}
	pthread_mutex_unlock(&listener_mu);
	return port;
}

void
listener_close_all(void)
{
	struct lentry *e;

	pthread_mutex_lock(&listener_mu);
	while ((e = listener_list) != NULL) {
		listener_list = e->next;
		lentry_close(e);
	}
	pthread_mutex_unlock(&listener_mu);
}
