/*
 * sockread.c: one read(2) per readiness into a block of the thread's that
 * the input buffer then refers to (or a readv(2) into reserved evbuffer
 * space when the input holds bytes); for TLS: one read(2) into a scratch
 * buffer, and one decoder call on what it read.
 */
#include "sockread.h"

#include <sys/uio.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "clock.h"

/* The event pending with a timer of <ms> from now, which reads do not
 * restart. libevent 2.1 keeps the interval of a persistent event's
 * timeout (ev_io_timeout in struct event) and, when it is set, adds the
 * timer again at every activation: an event_add() per read. Cleared, the
 * timer stays at its deadline whatever is read; sockread_expired() then
 * finds the deadline the reads moved (last_ms) and re-arms for the rest.
 * When the timer fires libevent takes the whole event out, and the
 * callback puts it back (test_sockread checks both).
 */
static void
sockread_arm(struct sockread *r, uint32_t ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_add(&r->ev, &tv);
	r->ev.ev_.ev_io.ev_timeout.tv_sec = 0;
	r->ev.ev_.ev_io.ev_timeout.tv_usec = 0;
	r->armed_ms = ms;
}

/* An empty owned input buffer the thread's last trim kept for the next
 * connection that reads (evbuffer_new and _free per request cost more
 * than the read). Freed by sockread_thread_fini().
 */
static __thread struct evbuffer *spare_in;

/* Read blocks, in two sizes (a client's reads, an origin's): a read into
 * an empty input buffer lands in a block that the buffer then refers to
 * (evbuffer_add_reference), and the block comes back here when libevent
 * lets go of the bytes, wherever they went (drained, or moved to an output
 * buffer and written). An evbuffer chain of 16 or 64 KiB reserved and
 * freed per read cost more in malloc() and free() than the read's own
 * work; a block from here costs a pointer, and a reference chain one small
 * allocation. Blocks never leave the thread that read into them (a
 * worker's buffers are its own).
 */
#define SOCKREAD_BLK_KEEP 2 /* kept per size, per thread */

static const size_t blk_size[2] = { 16 * 1024, 64 * 1024 };

static __thread void *blk_free[2][SOCKREAD_BLK_KEEP];
static __thread unsigned blk_nfree[2];
static __thread bool blk_done; /* sockread_thread_fini() ran */

/* The size class for reads of <chunk> bytes, or -1: too large. */
static int
blk_class(uint32_t chunk)
{
	return chunk <= blk_size[0] ? 0 : chunk <= blk_size[1] ? 1 : -1;
}

static void *
blk_get(int cls)
{
	if (blk_nfree[cls] > 0)
		return blk_free[cls][--blk_nfree[cls]];
	return malloc(blk_size[cls]);
}

static void
blk_put(void *b, int cls)
{
	if (!blk_done && blk_nfree[cls] < SOCKREAD_BLK_KEEP)
		blk_free[cls][blk_nfree[cls]++] = b;
	else
		free(b);
}

/* libevent's cleanup of a reference chain: the bytes are let go of. */
static void
blk_unref(const void *data, size_t len, void *extra)
{
	blk_put((void *)(uintptr_t)data, (int)(uintptr_t)extra);
}

static void
sockread_update(struct sockread *r)
{
	bool want = r->enabled && !r->suspended;

	if (!r->has_ev)
		return;
	if (want && r->has_tmo) {
		r->last_ms = clock_coarse_ms();
		sockread_arm(r, r->tmo_ms);
	} else if (want) {
		/* Keeps a pending timer: it is dropped when it fires. */
		event_add(&r->ev, NULL);
	} else {
		event_del(&r->ev);
		r->armed_ms = 0;
	}
	/* An end the decoder found waits for reading to be wanted. */
	if (want && r->ended != 0)
		event_active(&r->ev, EV_READ, 1);
}

/* The timer fired (libevent took the event out): the timeout, or an
 * early wake-up of a lazily moved deadline, after which reading goes on.
 * Returns true when it is the timeout.
 */
static bool
sockread_expired(struct sockread *r)
{
	uint64_t now, deadline;

	r->armed_ms = 0;
	if (!r->has_tmo) {
		event_add(&r->ev, NULL); /* reading, without a timer */
		return false;
	}
	now = clock_coarse_ms();
	deadline = r->last_ms + r->tmo_ms;
	if (now + SOCKREAD_TMO_SLACK_MS >= deadline)
		return true;
	sockread_arm(r, (uint32_t)(deadline - now));
	return false;
}

static void
sockread_fail(struct sockread *r, short what)
{
	r->enabled = false;
	sockread_update(r);
	r->on_event(r->arg, (short)(BEV_EVENT_READING | what));
}

/* The end of a read: suspend at the high mark, then tell the owner. */
static void
sockread_got(struct sockread *r)
{
	if (r->high != 0 && evbuffer_get_length(r->in) >= r->high) {
		r->suspended = true;
		sockread_update(r);
	}
	r->on_read(r->arg);
}

/* After a read(2) or readv(2) that returned <n>: false when there is
 * nothing to hand on (no bytes yet, or the end or an error, told to the
 * owner); true with bytes, the read timeout's start moved.
 */
static bool
sockread_took(struct sockread *r, ssize_t n)
{
	if (n == -1 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return false;
	if (n <= 0) {
		sockread_fail(r, n == 0 ? BEV_EVENT_EOF : BEV_EVENT_ERROR);
		return false;
	}
	if (r->has_tmo) /* libevent restarted the timer too */
		r->last_ms = clock_coarse_ms();
	return true;
}

/* With a decoder: one read into the thread's scratch buffer, handed to
 * the decoder as it is (after what <raw> kept from before); only what it
 * leaves, the start of a record, is copied to <raw>. A connection thus
 * allocates nothing for its ciphertext between records.
 */
static void
sockread_decode(struct sockread *r, int fd)
{
	static _Thread_local char scratch[SOCKREAD_SCRATCH];
	size_t before, used = 0;
	ssize_t n;
	short end;

	n = read(fd, scratch,
	    r->chunk < sizeof(scratch) ? r->chunk : sizeof(scratch));
	if (!sockread_took(r, n))
		return;
	before = evbuffer_get_length(r->in);
	end = r->decode(r->arg, r->raw, scratch, (size_t)n, &used, r->in);
	if (end == 0 && used < (size_t)n &&
	    ((r->raw == NULL && (r->raw = evbuffer_new()) == NULL) ||
	        evbuffer_add(r->raw, scratch + used, (size_t)n - used) != 0))
		end = BEV_EVENT_ERROR;
	if (evbuffer_get_length(r->in) == before) {
		if (end != 0)
			sockread_fail(r, end);
		return; /* a handshake, or a partial record */
	}
	if (end != 0) {
		/* After the owner has had what came before it. */
		r->ended = end;
		event_active(&r->ev, EV_READ, 1);
	}
	sockread_got(r);
}

/* One read into a block of the thread's, which the empty input buffer
 * then refers to: nothing allocated for the bytes, none copied.
 */
static void
sockread_block(struct sockread *r, int fd, int cls)
{
	void *b;
	ssize_t n;

	if ((b = blk_get(cls)) == NULL) {
		sockread_fail(r, BEV_EVENT_ERROR);
		return;
	}
	n = read(fd, b, r->chunk);
	if (n <= 0)
		blk_put(b, cls);
	if (!sockread_took(r, n))
		return;
	if (evbuffer_add_reference(r->in, b, (size_t)n, blk_unref,
	        (void *)(uintptr_t)cls) != 0) {
		blk_put(b, cls);
		sockread_fail(r, BEV_EVENT_ERROR);
		return;
	}
	sockread_got(r);
}

static void
sockread_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sockread *r = arg;
	struct evbuffer_iovec v[2];
	struct iovec iov[2];
	ssize_t n;
	size_t left;
	int nv, i, cls;
	short end;

	if (r->ended != 0) {
		end = r->ended;
		r->ended = 0;
		sockread_fail(r, end);
		return;
	}
	if (!(what & EV_READ)) {
		if (sockread_expired(r))
			sockread_fail(r, BEV_EVENT_TIMEOUT);
		return;
	}
	if (what & EV_TIMEOUT) {
		/* Bytes with the timer in one call (libevent 2.1 drops a
		 * read activation when the timer fires, so this is for a
		 * libevent that does not): the event is out; wait again as
		 * after any read.
		 */
		r->armed_ms = 0;
		sockread_update(r);
	}
	if (r->in == NULL) {
		r->in = spare_in;
		spare_in = NULL;
		if (r->in == NULL && (r->in = evbuffer_new()) == NULL) {
			sockread_fail(r, BEV_EVENT_ERROR);
			return;
		}
	}
	if (r->decode != NULL) {
		sockread_decode(r, fd);
		return;
	}
	if (evbuffer_get_length(r->in) == 0 &&
	    (cls = blk_class(r->chunk)) >= 0) {
		sockread_block(r, fd, cls);
		return;
	}
	/* Bytes wait in the input: append after them, in place. */
	if ((nv = evbuffer_reserve_space(r->in, (ev_ssize_t)r->chunk, v, 2)) <
	    1) {
		sockread_fail(r, BEV_EVENT_ERROR);
		return;
	}
	for (i = 0; i < nv; i++) {
		iov[i].iov_base = v[i].iov_base;
		iov[i].iov_len = v[i].iov_len;
	}
	n = readv(fd, iov, nv);
	if (!sockread_took(r, n))
		return;
	left = (size_t)n;
	for (i = 0; i < nv && left > 0; i++) {
		if (v[i].iov_len > left)
			v[i].iov_len = left;
		left -= v[i].iov_len;
	}
	(void)evbuffer_commit_space(r->in, v, i);
	sockread_got(r);
}

int
sockread_init(struct sockread *r, struct event_base *base, int fd,
    struct evbuffer *in, size_t chunk, void (*on_read)(void *),
    void (*on_event)(void *, short), void *arg)
{
	memset(r, 0, sizeof(*r));
	r->in = in;
	r->own_in = in == NULL;
	r->chunk = chunk > UINT32_MAX ? UINT32_MAX : (uint32_t)chunk;
	r->on_read = on_read;
	r->on_event = on_event;
	r->arg = arg;
	if (event_assign(&r->ev, base, fd, EV_READ | EV_PERSIST, sockread_cb,
	        r) != 0)
		return -1;
	r->has_ev = true;
	/* A socket bufferevent keeps its input's end frozen except while it
	 * reads itself; here we are the reader.
	 */
	if (in != NULL)
		(void)evbuffer_unfreeze(in, 0);
	return 0;
}

void
sockread_fini(struct sockread *r)
{
	if (r == NULL || !r->has_ev)
		return;
	event_del(&r->ev);
	r->has_ev = false;
	r->enabled = false;
	if (r->own_in && r->in != NULL)
		evbuffer_free(r->in);
	r->in = NULL;
	if (r->raw != NULL)
		evbuffer_free(r->raw);
	r->raw = NULL;
}

void
sockread_set_decoder(struct sockread *r, sockread_decode_fn decode)
{
	r->decode = decode;
}

struct evbuffer *
sockread_input(const struct sockread *r)
{
	return r->in;
}

size_t
sockread_pending(const struct sockread *r)
{
	return r->in != NULL ? evbuffer_get_length(r->in) : 0;
}

void
sockread_trim(struct sockread *r)
{
	if (r->own_in && r->in != NULL && evbuffer_get_length(r->in) == 0) {
		if (spare_in == NULL)
			spare_in = r->in;
		else
			evbuffer_free(r->in);
		r->in = NULL;
	}
	if (r->raw != NULL && evbuffer_get_length(r->raw) == 0) {
		evbuffer_free(r->raw);
		r->raw = NULL;
	}
}

void
sockread_thread_fini(void)
{
	int cls;

	if (spare_in != NULL) {
		evbuffer_free(spare_in);
		spare_in = NULL;
	}
	/* A block let go of after this is freed at once. */
	blk_done = true;
	for (cls = 0; cls < 2; cls++) {
		while (blk_nfree[cls] > 0)
			free(blk_free[cls][--blk_nfree[cls]]);
	}
}

bool
sockread_active(const struct sockread *r)
{
	return r->has_ev;
}

void
sockread_enable(struct sockread *r)
{
	if (r->enabled)
		return;
	r->enabled = true;
	sockread_update(r);
}

void
sockread_disable(struct sockread *r)
{
	if (!r->enabled)
		return;
	r->enabled = false;
	sockread_update(r);
}

void
sockread_set_timeout(struct sockread *r, unsigned ms)
{
	r->has_tmo = ms != 0;
	r->tmo_ms = ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
	if (!r->has_tmo)
		return; /* a pending timer is dropped when it fires */
	r->last_ms = clock_coarse_ms();
	/* A pending timer of at most <ms> fires no later than the new
	 * deadline, and sockread_expired() then re-arms it for the rest.
	 */
	if (!r->has_ev || !r->enabled || r->suspended ||
	    (r->armed_ms != 0 && r->armed_ms <= r->tmo_ms))
		return;
	sockread_arm(r, r->tmo_ms);
}

void
sockread_set_high(struct sockread *r, size_t high)
{
	r->high = high > UINT32_MAX ? UINT32_MAX : (uint32_t)high;
	sockread_drained(r);
}

void
sockread_drained(struct sockread *r)
{
	if (r->suspended && (r->high == 0 || sockread_pending(r) < r->high)) {
		r->suspended = false;
		sockread_update(r);
	}
}
