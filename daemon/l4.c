/*
 * l4.c: the TCP pump for tcp and tls-passthrough listeners (see l4.h).
 *
 * Why not bufferevents: a bufferevent copies every byte into user space
 * and back. Here each direction owns a pipe and moves bytes socket ->
 * pipe -> socket with splice(2), so payload never leaves the kernel; when
 * pipes cannot be had (descriptor limit) the same loop copies through a
 * 64 KiB buffer instead. Events are plain level-triggered libevent events,
 * one read and one write per socket: a direction reads only while its
 * pipe is empty enough and waits for the destination to drain otherwise,
 * which is the whole of the back-pressure. Bytes read before the origin
 * was chosen (ClientHello, bytes after a PROXY header) sit in a "prefix"
 * buffer that is written before the first splice, so they go out first
 * and untouched.
 */
#include "l4.h"

#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "balance.h"
#include "cfg.h"
#include "check.h"
#include "clienthello.h"
#include "conn.h"
#include "l4_route.h"
#include "log.h"
#include "proxy_proto.h"
#include "ratelimit.h"
#include "stats.h"
#include "upstream.h"
#include "worker.h"

#define L4_MAGIC     0x4c34434eu /* "L4CN" */
#define L4_PIPE_SIZE (256 * 1024)
#define L4_COPY_SIZE (64 * 1024)
#define L4_PRE_MAX   (CLIENTHELLO_MAX_BYTES + 5 + PROXY_PROTO_V2_MAX)
#define L4_ROUNDS    8  /* reads per direction per wakeup */
#define L4_TRIES_MAX 8  /* servers tried per connection */
#define L4_POOL_MAX  64 /* empty pipes a worker keeps for reuse */

enum l4_state {
	L4_S_PREAMBLE = 0, /* reading a PROXY header or the ClientHello */
	L4_S_CONNECT,      /* connecting to a server */
	L4_S_PUMP,         /* bytes both ways */
};

/* Bytes flowing from one socket to the other. */
struct l4_dir {
	int src, dst;      /* borrowed from the connection */
	struct event *rev; /* borrowed: src readable */
	struct event *wev; /* borrowed: dst writable */
	int pipe[2];       /* owned; -1 in copy mode */
	size_t inpipe;     /* bytes in the pipe */
	uint8_t *buf;      /* owned: prefix, or the copy buffer */
	size_t off, len, cap;
	bool copy;      /* buf is the copy buffer (no pipe) */
	bool eof;       /* src reached EOF */
	bool shut;      /* dst shut down for writing */
	uint64_t bytes; /* moved src -> dst */
};

struct l4_conn {
	unsigned magic;
	struct l4_worker *lw;
	struct worker *w;
	struct cfg *cfg;                     /* ref held: snapshot at accept */
	const struct cfg_listener *l;        /* borrowed from cfg */
	const struct cfg_route *route;       /* borrowed from cfg */
	const struct cfg_server *server;     /* borrowed from cfg */
	struct stats_obj *ls, *rs, *os, *ss; /* borrowed, global */
	enum l4_state state;
	int cfd, ofd;                                  /* owned */
	struct event *crev, *cwev, *orev, *owev, *tmr; /* owned */
	struct sockaddr_storage peer, local; /* client as seen (or PROXY'd) */
	uint8_t *pre;                        /* owned: bytes before connect */
	size_t pre_len, pre_off, pre_cap;
	bool need_pp;    /* a PROXY header must come */
	bool need_hello; /* a ClientHello must come */
	bool peek;       /* https shared port: the hello
	                    stays in the kernel */
	socklen_t peerlen;
	struct accept_ref acc; /* the listener slot (accept.c) */
	int climit;            /* 1: counted per client (ratelimit.c) */
	struct sockaddr_storage climit_sa;
	int64_t tried[L4_TRIES_MAX];
	size_t ntried;
	struct l4_dir up, down; /* client->origin, back */
	struct timeval last;    /* last byte moved */
	unsigned idle_ms;
	TAILQ_ENTRY(l4_conn) link;
};

TAILQ_HEAD(l4_list, l4_conn);

struct l4_worker {
	struct worker *w;
	struct l4_list conns;
	bool no_splice; /* GATEHOUSED_L4_COPY=1: copy mode (benchmarks) */
	int pool[L4_POOL_MAX][2]; /* empty pipes, ready for a direction */
	size_t npool;
};

static void l4_cli_read_cb(evutil_socket_t fd, short what, void *arg);
static void l4_cli_write_cb(evutil_socket_t fd, short what, void *arg);
static void l4_org_read_cb(evutil_socket_t fd, short what, void *arg);
static void l4_org_write_cb(evutil_socket_t fd, short what, void *arg);
static void l4_timer_cb(evutil_socket_t fd, short what, void *arg);
static void l4_connect_next(struct l4_conn *c);
static int l4_dir_copy(struct l4_dir *d);

struct l4_worker *
l4_worker_new(struct worker *w)
{
	struct l4_worker *lw;
	const char *e = getenv("GATEHOUSED_L4_COPY");

	if ((lw = calloc(1, sizeof(*lw))) == NULL)
		return NULL;
	lw->w = w;
	TAILQ_INIT(&lw->conns);
	lw->no_splice = e != NULL && strcmp(e, "1") == 0;
	return lw;
}

static void
ms_tv(unsigned ms, struct timeval *tv)
{
	tv->tv_sec = ms / 1000;
	tv->tv_usec = (ms % 1000) * 1000;
}

static void
l4_arm(struct l4_conn *c, unsigned ms)
{
	struct timeval tv;

	ms_tv(ms, &tv);
	evtimer_add(c->tmr, &tv);
}

/* A pipe for a direction about to splice: an empty one from the
 * worker's pool, or a new one. A direction holds a pipe only while bytes
 * move, so an idle connection costs no pipe descriptors.
 */
static int
l4_pipe_get(struct l4_worker *lw, int p[2])
{
	if (lw->npool > 0) {
		lw->npool--;
		p[0] = lw->pool[lw->npool][0];
		p[1] = lw->pool[lw->npool][1];
		return 0;
	}
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) == -1)
		return -1;
	(void)fcntl(p[1], F_SETPIPE_SZ, L4_PIPE_SIZE);
	return 0;
}

/* Gives <d>'s pipe back: to the pool when empty, else closed. */
static void
l4_pipe_put(struct l4_worker *lw, struct l4_dir *d)
{
	if (d->pipe[0] == -1)
		return;
	if (d->inpipe == 0 && lw->npool < L4_POOL_MAX) {
		lw->pool[lw->npool][0] = d->pipe[0];
		lw->pool[lw->npool][1] = d->pipe[1];
		lw->npool++;
	} else {
		(void)close(d->pipe[0]);
		(void)close(d->pipe[1]);
	}
	d->pipe[0] = d->pipe[1] = -1;
	d->inpipe = 0;
}

static void
l4_dir_fini(struct l4_worker *lw, struct l4_dir *d)
{
	l4_pipe_put(lw, d);
	free(d->buf);
	d->buf = NULL;
}

static void
l4_ev_free(struct event **ev)
{
	if (*ev != NULL)
		event_free(*ev);
	*ev = NULL;
}

static void
l4_origin_close(struct l4_conn *c)
{
	l4_ev_free(&c->orev);
	l4_ev_free(&c->owev);
	if (c->ofd != -1)
		(void)close(c->ofd);
	c->ofd = -1;
}

/* The one close path. */
static void
l4_close(struct l4_conn *c)
{
	CHECK_OBJ(c, L4_MAGIC);
	if (c->rs != NULL) {
		stats_add(&c->rs->bytes_in, c->up.bytes);
		stats_add(&c->rs->bytes_out, c->down.bytes);
		stats_sub(&c->rs->active, 1);
	}
	if (c->ls != NULL) {
		stats_add(&c->ls->bytes_in, c->up.bytes);
		stats_add(&c->ls->bytes_out, c->down.bytes);
	}
	if (c->ss != NULL) {
		stats_add(&c->ss->bytes_in, c->up.bytes);
		stats_add(&c->ss->bytes_out, c->down.bytes);
	}
	log_debug("l4 %s: closed, %llu bytes in, %llu out",
	    c->l != NULL ? c->l->name : "?", (unsigned long long)c->up.bytes,
	    (unsigned long long)c->down.bytes);
	if (c->climit == 1)
		connlimit_release(&c->climit_sa);
	l4_origin_close(c);
	l4_ev_free(&c->crev);
	l4_ev_free(&c->cwev);
	l4_ev_free(&c->tmr);
	if (c->cfd != -1)
		(void)close(c->cfd);
	l4_dir_fini(c->lw, &c->up);
	l4_dir_fini(c->lw, &c->down);
	free(c->pre);
	cfg_unref(c->cfg);
	TAILQ_REMOVE(&c->lw->conns, c, link);
	accept_release(c->w, &c->acc);
	c->magic = 0;
	free(c);
}

void
l4_worker_free(struct l4_worker *lw)
{
	struct l4_conn *c;

	if (lw == NULL)
		return;
	while ((c = TAILQ_FIRST(&lw->conns)) != NULL)
		l4_close(c);
	while (lw->npool > 0) {
		lw->npool--;
		(void)close(lw->pool[lw->npool][0]);
		(void)close(lw->pool[lw->npool][1]);
	}
	free(lw);
}

static void
l4_touch(struct l4_conn *c)
{
	event_base_gettimeofday_cached(c->w->base, &c->last);
}

/* A socket error or reset on either side ends both. */
static void
l4_fail(struct l4_conn *c, int err)
{
	stats_inc(STAT_L4_RESET);
	log_debug("l4 %s: %s", c->l->name, strerror(err));
	l4_close(c);
}

static bool
l4_again(int err)
{
	return err == EAGAIN || err == EWOULDBLOCK;
}

/* Both directions are shut: the connection is over. */
static bool
l4_done(struct l4_conn *c)
{
	if (c->up.shut && c->down.shut) {
		l4_close(c);
		return true;
	}
	return false;
}

/* Writes what <d> holds to its destination. Returns 1 when all is out,
 * 0 when the destination is full, -1 when the connection was closed.
 */
static int
l4_flush(struct l4_conn *c, struct l4_dir *d)
{
	ssize_t n;

	while (d->len > d->off) {
		n = write(d->dst, d->buf + d->off, d->len - d->off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (l4_again(errno))
				return 0;
			l4_fail(c, errno);
			return -1;
		}
		d->off += (size_t)n;
		l4_touch(c);
	}
	if (!d->copy && d->buf != NULL) {
		free(d->buf); /* the prefix is out */
		d->buf = NULL;
		d->cap = 0;
	}
	d->off = d->len = 0;
	while (d->inpipe > 0) {
		n = splice(d->pipe[0], NULL, d->dst, NULL, d->inpipe,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (l4_again(errno))
				return 0;
			l4_fail(c, errno);
			return -1;
		}
		d->inpipe -= (size_t)n;
		l4_touch(c);
	}
	return 1;
}

/* Moves what is available in direction <d>. Returns -1 when the
 * connection was closed.
 */
static int
l4_pump(struct l4_conn *c, struct l4_dir *d)
{
	ssize_t n;
	int rounds, r;

	for (rounds = 0; rounds < L4_ROUNDS; rounds++) {
		if ((r = l4_flush(c, d)) == -1)
			return -1;
		if (r == 0) {
			/* The destination is full: stop reading. */
			event_del(d->rev);
			event_add(d->wev, NULL);
			return 0;
		}
		if (d->eof) {
			event_del(d->rev);
			event_del(d->wev);
			l4_pipe_put(c->lw, d);
			if (!d->shut) {
				d->shut = true;
				if (shutdown(d->dst, SHUT_WR) == -1 &&
				    errno != ENOTCONN) {
					l4_fail(c, errno);
					return -1;
				}
			}
			return l4_done(c) ? -1 : 0;
		}
		if (!d->copy && d->pipe[0] == -1 &&
		    l4_pipe_get(c->lw, d->pipe) == -1 && l4_dir_copy(d) == -1) {
			stats_inc(STAT_L4_NO_MEMORY);
			l4_close(c);
			return -1;
		}
		if (d->copy) {
			n = read(d->src, d->buf, d->cap);
			if (n > 0)
				d->len = (size_t)n;
		} else {
			n = splice(d->src, NULL, d->pipe[1], NULL, L4_PIPE_SIZE,
			    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0)
				d->inpipe = (size_t)n;
		}
		if (n == 0) {
			d->eof = true;
			continue;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (l4_again(errno)) {
				/* Drained and flushed: the pipe is empty. */
				l4_pipe_put(c->lw, d);
				event_add(d->rev, NULL);
				event_del(d->wev);
				return 0;
			}
			l4_fail(c, errno);
			return -1;
		}
		d->bytes += (uint64_t)n;
		l4_touch(c);
	}
	/* Enough for one wakeup: flush what was read when the destination
	 * allows, read more after.
	 */
	event_del(d->rev);
	event_add(d->wev, NULL);
	return 0;
}

static void
l4_cli_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct l4_conn *c = arg;

	CHECK_OBJ(c, L4_MAGIC);
	(void)l4_pump(c, &c->down);
}

static void
l4_org_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct l4_conn *c = arg;

	CHECK_OBJ(c, L4_MAGIC);
	(void)l4_pump(c, &c->down);
}

/* Copy mode for <d>: its buffer (after the prefix it may hold) instead
 * of a pipe. -1 on no memory.
 */
static int
l4_dir_copy(struct l4_dir *d)
{
	stats_inc(STAT_L4_COPY);
	if (d->buf != NULL) {
		/* A prefix waits: the copy buffer takes over after it. */
		uint8_t *p;
		size_t need = d->len > L4_COPY_SIZE ? d->len : L4_COPY_SIZE;

		if ((p = realloc(d->buf, need)) == NULL)
			return -1;
		d->buf = p;
		d->cap = need;
	} else if ((d->buf = malloc(L4_COPY_SIZE)) == NULL) {
		return -1;
	} else {
		d->cap = L4_COPY_SIZE;
	}
	d->copy = true;
	return 0;
}

/* Splice mode takes its pipe when bytes first move (l4_pump()); copy
 * mode sets up its buffer now.
 */
static int
l4_dir_setup(struct l4_conn *c, struct l4_dir *d, bool splice_ok)
{
	d->pipe[0] = d->pipe[1] = -1;
	return splice_ok ? 0 : l4_dir_copy(d);
}

/* The origin accepted: start pumping. */
static void
l4_connected(struct l4_conn *c)
{
	uint8_t hdr[PROXY_PROTO_ENC_MAX];
	size_t hlen = 0, rest = c->pre_len - c->pre_off;
	bool splice_ok = !c->lw->no_splice;
	int one = 1;

	evtimer_del(c->tmr);
	(void)setsockopt(c->ofd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (c->route->origin->proxy_protocol != 0) {
		hlen = proxy_proto_encode(c->route->origin->proxy_protocol,
		    (const struct sockaddr *)&c->peer,
		    (const struct sockaddr *)&c->local, hdr);
		stats_inc(STAT_PROXY_HDR_SENT);
	}
	if (hlen + rest > 0) {
		if ((c->up.buf = malloc(hlen + rest)) == NULL)
			goto oom;
		memcpy(c->up.buf, hdr, hlen);
		if (rest > 0)
			memcpy(c->up.buf + hlen, c->pre + c->pre_off, rest);
		c->up.len = c->up.cap = hlen + rest;
	}
	free(c->pre);
	c->pre = NULL;
	c->pre_len = c->pre_off = c->pre_cap = 0;
	c->up.src = c->cfd;
	c->up.dst = c->ofd;
	c->up.rev = c->crev;
	c->up.wev = c->owev;
	c->down.src = c->ofd;
	c->down.dst = c->cfd;
	c->down.rev = c->orev;
	c->down.wev = c->cwev;
	if (l4_dir_setup(c, &c->up, splice_ok) == -1 ||
	    l4_dir_setup(c, &c->down, splice_ok) == -1)
		goto oom;
	if (splice_ok)
		stats_inc(STAT_L4_SPLICE);
	c->state = L4_S_PUMP;
	l4_touch(c);
	l4_arm(c, c->idle_ms);
	event_del(c->owev);
	if (l4_pump(c, &c->up) == -1)
		return;
	(void)l4_pump(c, &c->down);
	return;
oom:
	stats_inc(STAT_L4_NO_MEMORY);
	l4_close(c);
}

static void
l4_connect_failed(struct l4_conn *c, bool timeout)
{
	stats_inc(timeout ? STAT_L4_CONNECT_TIMEOUT : STAT_L4_CONNECT_FAILED);
	if (c->ss != NULL)
		stats_add(&c->ss->errors, 1);
	if (c->os != NULL)
		stats_add(&c->os->errors, 1);
	log_debug("l4 %s: origin %s: %s", c->l->name, c->server->label,
	    timeout ? "connect timed out" : "connect failed");
	l4_origin_close(c);
	l4_connect_next(c);
}

static void
l4_org_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct l4_conn *c = arg;
	socklen_t len;
	int err = 0;

	CHECK_OBJ(c, L4_MAGIC);
	if (c->state == L4_S_PUMP) {
		(void)l4_pump(c, &c->up);
		return;
	}
	len = sizeof(err);
	if (getsockopt(c->ofd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		l4_connect_failed(c, false);
		return;
	}
	l4_connected(c);
}

/* Connects to the next server of the route's origin, or gives up. */
static void
l4_connect_next(struct l4_conn *c)
{
	const struct cfg_server *s;
	struct worker *w = c->w;

	for (;;) {
		s = NULL;
		if (c->ntried < L4_TRIES_MAX)
			s = balance_l4_server(w->pools, c->route->origin,
			    &c->peer, c->tried, c->ntried);
		if (s == NULL) {
			if (c->rs != NULL)
				stats_add(&c->rs->errors, 1);
			l4_close(c);
			return;
		}
		c->server = s;
		c->tried[c->ntried++] = s->id;
		c->ss = stats_obj_cached(STATS_SERVER, s->id);
		if (c->ss != NULL)
			stats_add(&c->ss->requests, 1);
		c->ofd = socket(s->sa.ss_family,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (c->ofd == -1) {
			stats_inc(STAT_L4_NO_MEMORY);
			l4_close(c);
			return;
		}
		if (connect(c->ofd, (const struct sockaddr *)&s->sa,
		        s->salen) == -1 &&
		    errno != EINPROGRESS) {
			stats_inc(STAT_L4_CONNECT_FAILED);
			if (c->ss != NULL)
				stats_add(&c->ss->errors, 1);
			(void)close(c->ofd);
			c->ofd = -1;
			continue;
		}
		c->orev = event_new(w->base, c->ofd, EV_READ | EV_PERSIST,
		    l4_org_read_cb, c);
		c->owev = event_new(w->base, c->ofd, EV_WRITE | EV_PERSIST,
		    l4_org_write_cb, c);
		if (c->orev == NULL || c->owev == NULL) {
			stats_inc(STAT_L4_NO_MEMORY);
			l4_close(c);
			return;
		}
		c->state = L4_S_CONNECT;
		event_add(c->owev, NULL);
		l4_arm(c, c->route->connect_ms);
		return;
	}
}

/* A route is chosen: count it and connect. */
static void
l4_start(struct l4_conn *c)
{
	event_del(c->crev); /* client bytes wait in the kernel meanwhile */
	evtimer_del(c->tmr);
	c->idle_ms = c->route->idle_ms;
	c->rs = stats_obj_cached(STATS_ROUTE, c->route->id);
	c->os = stats_obj_cached(STATS_ORIGIN, c->route->origin->id);
	if (c->rs != NULL) {
		stats_add(&c->rs->requests, 1);
		stats_add(&c->rs->active, 1);
	}
	if (c->os != NULL)
		stats_add(&c->os->requests, 1);
	l4_connect_next(c);
}

/* Acts on the bytes read so far before the origin is chosen. */
static void
l4_advance(struct l4_conn *c)
{
	struct proxy_proto_info pi;
	struct clienthello ch;
	enum proxy_proto_status ps;
	enum clienthello_status hs;
	const char *sni = NULL;
	size_t sni_len = 0;

	if (c->need_pp) {
		ps = proxy_proto_decode(c->pre, c->pre_len, &pi);
		if (ps == PROXY_PROTO_MORE)
			return;
		if (ps == PROXY_PROTO_BAD) {
			stats_inc(STAT_PROXY_HDR_BAD);
			log_debug("l4 %s: %s", c->l->name, pi.error);
			l4_close(c);
			return;
		}
		stats_inc(STAT_PROXY_HDR_ACCEPTED);
		if (!pi.local) {
			c->peer = pi.src;
			c->local = pi.dst;
		}
		c->pre_off = pi.len;
		c->need_pp = false;
	}
	if (c->need_hello) {
		hs = clienthello_parse(c->pre + c->pre_off,
		    c->pre_len - c->pre_off, &ch);
		if (hs == CLIENTHELLO_MORE)
			return;
		c->need_hello = false;
		if (hs == CLIENTHELLO_BAD) {
			stats_inc(STAT_TLS_HELLO_BAD);
			log_debug("l4 %s: ClientHello: %s", c->l->name,
			    ch.error);
		} else if (!ch.has_sni) {
			stats_inc(STAT_TLS_HELLO_NO_SNI);
		} else {
			sni = ch.sni;
			sni_len = ch.sni_len;
		}
	}
	c->route = l4_route_match(c->l, (const struct sockaddr *)&c->peer, sni,
	    sni_len);
	if (c->route == NULL) {
		stats_inc(STAT_L4_NO_ROUTE);
		stats_unmatched(c->l->id);
		log_debug("l4 %s: no route for %.*s", c->l->name,
		    (int)(sni_len < 64 ? sni_len : 64), sni != NULL ? sni : "");
		l4_close(c);
		return;
	}
	l4_start(c);
}

static void
l4_preamble_read(struct l4_conn *c)
{
	ssize_t n;
	uint8_t *p;
	size_t cap;

	if (c->pre_len == c->pre_cap) {
		if (c->pre_cap >= L4_PRE_MAX) {
			/* The parsers said "more" up to the limit. */
			stats_inc(c->need_pp ? STAT_PROXY_HDR_BAD
			                     : STAT_TLS_HELLO_BAD);
			l4_close(c);
			return;
		}
		cap = c->pre_cap ? c->pre_cap * 2 : 4096;
		if (cap > L4_PRE_MAX)
			cap = L4_PRE_MAX;
		if ((p = realloc(c->pre, cap)) == NULL) {
			stats_inc(STAT_L4_NO_MEMORY);
			l4_close(c);
			return;
		}
		c->pre = p;
		c->pre_cap = cap;
	}
	/* Whatever follows a PROXY header or the hello stays in <pre> and
	 * goes to the origin first.
	 */
	n = read(c->cfd, c->pre + c->pre_len, c->pre_cap - c->pre_len);
	if (n < 0 && (errno == EINTR || l4_again(errno)))
		return;
	if (n <= 0) {
		/* Gone (or broken) before it said enough to be routed. */
		if (c->need_pp)
			stats_inc(STAT_PROXY_HDR_BAD);
		else
			stats_inc(STAT_TLS_HELLO_BAD);
		l4_close(c);
		return;
	}
	c->pre_len += (size_t)n;
	l4_advance(c);
}

static void
l4_rcvlowat(struct l4_conn *c, int n)
{
	(void)setsockopt(c->cfd, SOL_SOCKET, SO_RCVLOWAT, &n, sizeof(n));
}

/* The https listener terminates this one after all: conn.c takes the
 * socket, with the ClientHello still unread in it.
 */
static void
l4_handoff(struct l4_conn *c)
{
	struct worker *w = c->w;
	struct sockaddr_storage peer = c->peer;
	socklen_t peerlen = c->peerlen;
	struct accept_ref ref = c->acc;
	int fd = c->cfd;

	l4_rcvlowat(c, 1);
	c->cfd = -1;
	c->acc.held = false; /* the slot moves with the socket */
	l4_close(c);
	conn_new(w, &ref, fd, (const struct sockaddr *)&peer, peerlen);
}

/* Shared port: peeks at the ClientHello; a name that a passthrough route
 * of the https listener accepts is passed through, anything else goes to
 * the TLS terminator untouched.
 */
static void
l4_peek(struct l4_conn *c)
{
	struct clienthello ch;
	enum clienthello_status hs;
	ssize_t n;
	uint8_t *p;
	size_t cap;

	for (;;) {
		n = recv(c->cfd, c->pre, c->pre_cap, MSG_PEEK);
		if (n < 0 && (errno == EINTR || l4_again(errno)))
			return;
		if (n <= 0) {
			l4_close(c); /* gone before its hello */
			return;
		}
		if ((size_t)n < c->pre_cap || c->pre_cap >= L4_PRE_MAX)
			break;
		cap = c->pre_cap * 2 > L4_PRE_MAX ? L4_PRE_MAX : c->pre_cap * 2;
		if ((p = realloc(c->pre, cap)) == NULL) {
			stats_inc(STAT_L4_NO_MEMORY);
			l4_close(c);
			return;
		}
		c->pre = p;
		c->pre_cap = cap;
	}
	hs = clienthello_parse(c->pre, (size_t)n, &ch);
	if (hs == CLIENTHELLO_MORE && (size_t)n < L4_PRE_MAX) {
		/* Wake up only when more than this has arrived. */
		l4_rcvlowat(c, (int)n + 1);
		return;
	}
	if (hs == CLIENTHELLO_OK && ch.has_sni)
		c->route = l4_route_match(c->l,
		    (const struct sockaddr *)&c->peer, ch.sni, ch.sni_len);
	if (c->route == NULL) {
		l4_handoff(c);
		return;
	}
	stats_inc(STAT_L4_ACCEPTED);
	l4_rcvlowat(c, 1);
	free(c->pre);
	c->pre = NULL;
	c->pre_len = c->pre_cap = 0;
	c->peek = c->need_hello = false;
	l4_start(c);
}

static void
l4_cli_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct l4_conn *c = arg;

	CHECK_OBJ(c, L4_MAGIC);
	if (c->state == L4_S_PREAMBLE && c->peek)
		l4_peek(c);
	else if (c->state == L4_S_PREAMBLE)
		l4_preamble_read(c);
	else if (c->state == L4_S_PUMP)
		(void)l4_pump(c, &c->up);
}

static void
l4_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct l4_conn *c = arg;
	struct timeval now, idle;
	long long ms;

	CHECK_OBJ(c, L4_MAGIC);
	switch (c->state) {
	case L4_S_PREAMBLE:
		stats_inc(c->need_pp ? STAT_PROXY_HDR_BAD
		                     : STAT_TLS_HELLO_TIMEOUT);
		l4_close(c);
		return;
	case L4_S_CONNECT:
		l4_connect_failed(c, true);
		return;
	case L4_S_PUMP:
		event_base_gettimeofday_cached(c->w->base, &now);
		timersub(&now, &c->last, &idle);
		ms = (long long)idle.tv_sec * 1000 + idle.tv_usec / 1000;
		if (ms >= (long long)c->idle_ms) {
			stats_inc(STAT_L4_IDLE_TIMEOUT);
			l4_close(c);
			return;
		}
		l4_arm(c, c->idle_ms - (unsigned)ms);
		return;
	}
}

/* A connection object for <fd> with its events, in PREAMBLE, or NULL
 * (the fd is closed and the failure counted).
 */
static struct l4_conn *
l4_conn_new(struct worker *w, struct accept_ref *ref, int fd,
    const struct sockaddr *sa, socklen_t salen, bool shared)
{
	struct l4_worker *lw = w->l4;
	struct l4_conn *c;
	socklen_t len;
	int64_t lid = ref->lid;

	if (lw == NULL || (c = calloc(1, sizeof(*c))) == NULL) {
		stats_inc(STAT_L4_NO_MEMORY);
		accept_release(w, ref);
		(void)close(fd);
		return NULL;
	}
	c->magic = L4_MAGIC;
	c->lw = lw;
	c->w = w;
	c->cfd = fd;
	c->ofd = -1;
	c->up.pipe[0] = c->up.pipe[1] = c->down.pipe[0] = c->down.pipe[1] = -1;
	c->cfg = cfg_ref(w->cur);
	TAILQ_INSERT_TAIL(&lw->conns, c, link);
	c->acc = *ref;
	ref->held = false;
	if (salen > 0 && (size_t)salen <= sizeof(c->peer)) {
		memcpy(&c->peer, sa, salen);
		c->peerlen = salen;
	}
	len = sizeof(c->local);
	if (getsockname(fd, (struct sockaddr *)&c->local, &len) == -1)
		c->local.ss_family = AF_UNSPEC;
	if (c->cfg == NULL ||
	    (c->l = cfg_listener_by_id(c->cfg, lid)) == NULL) {
		l4_close(c);
		return NULL;
	}
	if (!shared) /* bytes (connections: accept.c) */
		c->ls = stats_obj_cached(STATS_LISTENER, lid);
	c->crev =
	    event_new(w->base, fd, EV_READ | EV_PERSIST, l4_cli_read_cb, c);
	c->cwev =
	    event_new(w->base, fd, EV_WRITE | EV_PERSIST, l4_cli_write_cb, c);
	c->tmr = evtimer_new(w->base, l4_timer_cb, c);
	if (c->crev == NULL || c->cwev == NULL || c->tmr == NULL) {
		stats_inc(STAT_L4_NO_MEMORY);
		l4_close(c);
		return NULL;
	}
	c->state = L4_S_PREAMBLE;
	return c;
}

void
l4_accept_shared(struct worker *w, struct accept_ref *ref, int fd,
    const struct sockaddr *sa, socklen_t salen)
{
	struct l4_conn *c;

	if ((c = l4_conn_new(w, ref, fd, sa, salen, true)) == NULL)
		return;
	if ((c->pre = malloc(4096)) == NULL) {
		stats_inc(STAT_L4_NO_MEMORY);
		l4_close(c);
		return;
	}
	c->pre_cap = 4096;
	c->peek = c->need_hello = true;
	event_add(c->crev, NULL);
	l4_arm(c, c->l->header_ms);
}

void
l4_accept(struct worker *w, struct accept_ref *ref, int fd,
    const struct sockaddr *sa, socklen_t salen)
{
	struct l4_conn *c;

	if ((c = l4_conn_new(w, ref, fd, sa, salen, false)) == NULL)
		return;
	if (c->l->max_conns_per_client > 0 && salen <= sizeof(c->climit_sa)) {
		memcpy(&c->climit_sa, sa, salen);
		if ((c->climit = connlimit_take(&c->climit_sa,
		         c->l->max_conns_per_client)) == 0) {
			l4_close(c);
			return;
		}
	}
	c->need_pp = c->l->nproxy_from > 0 &&
	    l4_cidr_any(c->l->proxy_from, c->l->nproxy_from, sa);
	c->need_hello = c->l->proto == CFG_PROTO_TLS_PASSTHROUGH;
	if (c->need_pp || c->need_hello) {
		event_add(c->crev, NULL);
		l4_arm(c, c->l->header_ms);
		return;
	}
	l4_advance(c);
}
