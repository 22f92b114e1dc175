/*
 * sockread.h: reading a plain socket into an evbuffer, our way.
 *
 * libevent 2.1's socket bufferevent asks the kernel how much is waiting
 * (ioctl(FIONREAD)) before every read and then reads at most 4 KiB: two
 * system calls per read and several turns of the loop for a 16 KiB
 * answer. A sockread is one persistent EV_READ event on the fd whose
 * callback reads up to <chunk> bytes with one system call, then calls the
 * owner: into an empty evbuffer, with read(2) into a block of the
 * thread's that the evbuffer then refers to (the block comes back to the
 * thread when libevent lets go of its bytes); after bytes that wait,
 * with readv(2) into space reserved at the end of the evbuffer. A thread
 * that reads through sockreads calls sockread_thread_fini() at its end.
 *
 * The owner keeps its bufferevent for writing (and connecting); the
 * bufferevent's own reading is never enabled. EOF, errors and the read
 * timeout come as BEV_EVENT_READING | BEV_EVENT_EOF / _ERROR / _TIMEOUT
 * to on_event(), after reading has been disabled, as a bufferevent does.
 * Both callbacks may free the owner (and with it the sockread).
 *
 * With a decoder (sockread_set_decoder(), TLS), one read(2) per readiness
 * fills a scratch buffer of the thread (SOCKREAD_SCRATCH at most), and
 * the decoder turns those bytes, after the ones <raw> kept from earlier
 * reads, into bytes of <in> (decrypted records); what it leaves (the
 * start of a record) is kept in <raw>, which exists only while it holds
 * some. on_read() runs when <in> grew, and the high mark looks at <in>.
 * An end the decoder finds (a close_notify, a TLS error) reaches
 * on_event() on the next turn of the loop, after the owner has had the
 * bytes that came before it, or when reading is enabled again.
 */
#ifndef GH_SOCKREAD_H
#define GH_SOCKREAD_H

#include <sys/time.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The read event lives inside the sockread (one allocation less per
 * connection, and the owner's memory in one place).
 */
#include <event2/event_struct.h>

struct event_base;
struct evbuffer;

#define SOCKREAD_SCRATCH (64 * 1024)

/* Turns bytes into bytes of <in>: first those of <raw> (NULL: none),
 * which it drains as it uses them, then the <n> just read at <p>, of
 * which it uses the first <*used> (the rest goes to the end of <raw>).
 * 0, or BEV_EVENT_EOF (the peer ended the stream) or BEV_EVENT_ERROR.
 */
typedef short (*sockread_decode_fn)(void *arg, struct evbuffer *raw,
    const char *p, size_t n, size_t *used, struct evbuffer *in);

struct sockread {
	struct event ev;      /* EV_READ | EV_PERSIST on the fd, when has_ev */
	struct evbuffer *in;  /* where the bytes go: borrowed, or owned */
	struct evbuffer *raw; /* owned: read, not yet decoded; NULL: none */
	sockread_decode_fn decode; /* NULL: bytes go straight to <in> */
	short ended;       /* BEV_EVENT_EOF/ERROR the decoder found, not told */
	uint32_t chunk;    /* at least this much space for one read */
	uint32_t high;     /* stop reading while <in> holds this; 0: never */
	uint32_t tmo_ms;   /* read timeout when has_tmo */
	uint32_t armed_ms; /* interval of the pending timer; 0: none */
	uint64_t last_ms;  /* monotonic ms: last read or timeout set */
	bool has_ev;       /* set up by sockread_init(), until fini */
	bool own_in;       /* created at a read, freed by sockread_trim() */
	bool has_tmo;
	bool enabled;   /* the owner wants bytes */
	bool suspended; /* <in> reached <high> */
	void (*on_read)(void *arg);
	void (*on_event)(void *arg, short what);
	void *arg;
};

/* Sets <r> up on <fd> (not enabled yet). With <in> NULL the sockread
 * owns its input buffer: created when bytes arrive, freed by
 * sockread_trim() while empty (an idle connection holds none).
 * 0, or -1 (no memory).
 */
int sockread_init(struct sockread *r, struct event_base *base, int fd,
    struct evbuffer *in, size_t chunk, void (*on_read)(void *),
    void (*on_event)(void *, short), void *arg);
/* Reads through <decode> from now on (see the top). */
void sockread_set_decoder(struct sockread *r, sockread_decode_fn decode);
/* Frees the event; the fd and the evbuffer are the owner's. NULL-safe,
 * and safe on a zeroed struct.
 */
void sockread_fini(struct sockread *r);

void sockread_enable(struct sockread *r);
void sockread_disable(struct sockread *r);
/* Read timeout, restarted by every read: <ms>, or none when <ms> is 0.
 * The timer is moved lazily: a call arms it only when nothing is armed or
 * the armed interval is longer than <ms>; otherwise the pending timer
 * fires no later than the new deadline, and when it fires early (the
 * deadline moved, or the timeout was removed) it is re-armed for what is
 * left, or dropped. So a keep-alive connection switching between its
 * request and idle timeouts costs no timer work per request. A timeout
 * is reported when less than SOCKREAD_TMO_SLACK_MS of it is left.
 */
void sockread_set_timeout(struct sockread *r, unsigned ms);
#define SOCKREAD_TMO_SLACK_MS 10
/* Stop reading while the evbuffer holds <high> bytes or more (0: never). */
void sockread_set_high(struct sockread *r, size_t high);
/* The owner consumed input: read again if <high> had suspended it. */
void sockread_drained(struct sockread *r);
/* The input buffer; NULL when owned and nothing was read since a trim. */
struct evbuffer *sockread_input(const struct sockread *r);
size_t sockread_pending(const struct sockread *r);
/* Lets go of an owned input buffer that is empty (the thread keeps one
 * for the next owned sockread that reads, and frees the others), and
 * frees <raw> when it is empty.
 */
void sockread_trim(struct sockread *r);
/* Frees the buffer the calling thread kept (at the thread's exit). */
void sockread_thread_fini(void);
/* Is the event set up (a plain socket), as opposed to zeroed? */
bool sockread_active(const struct sockread *r);

#endif
