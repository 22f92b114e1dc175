/*
 * log_ring.c: bounded in-memory rings of recent log lines (log_ring.h).
 *
 * A ring is an array of slots indexed by seq % cap. The slots are
 * allocated on the first push, so a daemon that never logs a request
 * pays nothing. A slot holds a text line or, in a ring with a formatter,
 * a record (a small one in the slot itself); log_ring_since() copies them under
 * the lock and formats the copies after it.
 */
#include "log_ring.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct slot {
	uint64_t seq;
	char *text; /* a line (NUL terminated) or a record; may be <inl> */
	size_t len;
	/* A small record is copied here: no malloc and free per push. */
	char inl[LOG_RING_INLINE];
};

static struct ring {
	pthread_mutex_t mu;
	struct slot *slots;
	size_t cap;
	uint64_t last;
	log_ring_fmt fmt; /* NULL: the slots hold text */
} rings[LOG_RING__N] = {
	[LOG_RING_ACCESS] = { PTHREAD_MUTEX_INITIALIZER, NULL,
	    LOG_RING_ACCESS_CAP, 0, NULL },
	[LOG_RING_DAEMON] = { PTHREAD_MUTEX_INITIALIZER, NULL,
	    LOG_RING_DAEMON_CAP, 0, NULL },
};

/* Puts <data> (owned) in the next slot; frees it if out of memory. */
static void
ring_put(struct ring *rg, char *data, size_t len, log_ring_fmt fmt)
{
	struct slot *s;
	char *old;

	pthread_mutex_lock(&rg->mu);
	if (rg->slots == NULL &&
	    (rg->slots = calloc(rg->cap, sizeof(*rg->slots))) == NULL) {
		pthread_mutex_unlock(&rg->mu);
		free(data);
		return;
	}
	rg->fmt = fmt;
	rg->last++;
	s = &rg->slots[rg->last % rg->cap];
	old = s->text != s->inl ? s->text : NULL;
	s->seq = rg->last;
	s->text = data;
	s->len = len;
	pthread_mutex_unlock(&rg->mu);
	free(old);
}

/* Copies <rec> (<len> bytes, with a NUL after them if <nul>; at most
 * LOG_RING_INLINE in all) into the next slot.
 */
static void
ring_put_inline(struct ring *rg, const void *rec, size_t len, bool nul,
    log_ring_fmt fmt)
{
	struct slot *s;
	char *old;

	pthread_mutex_lock(&rg->mu);
	if (rg->slots == NULL &&
	    (rg->slots = calloc(rg->cap, sizeof(*rg->slots))) == NULL) {
		pthread_mutex_unlock(&rg->mu);
		return;
	}
	rg->fmt = fmt;
	rg->last++;
	s = &rg->slots[rg->last % rg->cap];
	old = s->text != s->inl ? s->text : NULL;
	s->seq = rg->last;
	memcpy(s->inl, rec, len);
	if (nul)
		s->inl[len] = '\0';
	s->text = s->inl;
	s->len = len;
	pthread_mutex_unlock(&rg->mu);
	free(old);
}

void
log_ring_push(enum log_ring_id id, const char *text, size_t len)
{
	char *copy;

	if (len + 1 <= LOG_RING_INLINE) {
		ring_put_inline(&rings[id], text, len, true, NULL);
		return;
	}
	if ((copy = malloc(len + 1)) == NULL)
		return;
	memcpy(copy, text, len);
	copy[len] = '\0';
	ring_put(&rings[id], copy, len, NULL);
}

void
log_ring_push_rec(enum log_ring_id id, void *rec, size_t len, log_ring_fmt fmt)
{
	ring_put(&rings[id], rec, len, fmt);
}

void
log_ring_push_rec_copy(enum log_ring_id id, const void *rec, size_t len,
    log_ring_fmt fmt)
{
	char *copy;

	if (len <= LOG_RING_INLINE) {
		ring_put_inline(&rings[id], rec, len, false, fmt);
		return;
	}
	if ((copy = malloc(len)) == NULL)
		return;
	memcpy(copy, rec, len);
	ring_put(&rings[id], copy, len, fmt);
}

/* Replaces the record copies in v[0..n) by their lines; a line that
 * cannot be allocated ends the list there. Returns how many are left.
 */
static size_t
lines_format(struct log_ring_line *v, size_t n, log_ring_fmt fmt)
{
	char buf[LOG_RING_LINE_MAX];
	size_t i, len; /* at the end: the lines left */
	char *text;

	for (i = 0; i < n; i++) {
		len = fmt(v[i].text, v[i].len, buf);
		if (len > 0 && buf[len - 1] == '\n')
			len--;
		if ((text = malloc(len + 1)) == NULL)
			break;
		memcpy(text, buf, len);
		text[len] = '\0';
		free(v[i].text);
		v[i].text = text;
		v[i].len = len;
	}
	len = i;
	for (; i < n; i++)
		free(v[i].text);
	return len;
}

struct log_ring_line *
log_ring_since(enum log_ring_id id, uint64_t after, size_t max, size_t *n)
{
	struct ring *rg = &rings[id];
	struct log_ring_line *v;
	log_ring_fmt fmt;
	uint64_t first, seq;
	size_t i = 0;

	*n = 0;
	if (max == 0)
		return NULL;
	pthread_mutex_lock(&rg->mu);
	first = rg->last >= rg->cap ? rg->last - rg->cap + 1 : 1;
	if (after + 1 > first)
		first = after + 1;
	if (rg->last >= first && rg->last - first + 1 > max)
		first = rg->last - max + 1;
	if (rg->slots == NULL || first > rg->last ||
	    (v = calloc((size_t)(rg->last - first + 1), sizeof(*v))) == NULL) {
		pthread_mutex_unlock(&rg->mu);
		return NULL;
	}
	/* Copies of the slots, so the lock is not held while they are read
	 * or formatted (a text line with its NUL).
	 */
	fmt = rg->fmt;
	for (seq = first; seq <= rg->last; seq++) {
		const struct slot *s = &rg->slots[seq % rg->cap];
		size_t len = s->len + (fmt == NULL);

		if ((v[i].text = malloc(len)) == NULL)
			break;
		memcpy(v[i].text, s->text, len);
		v[i].len = s->len;
		v[i].seq = s->seq;
		i++;
	}
	pthread_mutex_unlock(&rg->mu);
	if (fmt != NULL)
		i = lines_format(v, i, fmt);
	*n = i;
	return v;
}

void
log_ring_lines_free(struct log_ring_line *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].text);
	free(v);
}

uint64_t
log_ring_last(enum log_ring_id id)
{
	uint64_t last;

	pthread_mutex_lock(&rings[id].mu);
	last = rings[id].last;
	pthread_mutex_unlock(&rings[id].mu);
	return last;
}
