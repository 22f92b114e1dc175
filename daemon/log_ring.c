/*
 * log_ring.c: bounded in-memory rings of recent log lines (log_ring.h).
 *
 * A ring is an array of slots indexed by seq % cap. The slots are
 * allocated on the first push, so a daemon that never logs a request
 * pays nothing.
 */
#include "log_ring.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct slot {
	uint64_t seq;
	char *text;
	size_t len;
};

static struct ring {
	pthread_mutex_t mu;
	struct slot *slots;
	size_t cap;
	uint64_t last;
} rings[LOG_RING__N] = {
	[LOG_RING_ACCESS] = { PTHREAD_MUTEX_INITIALIZER, NULL,
	    LOG_RING_ACCESS_CAP, 0 },
	[LOG_RING_DAEMON] = { PTHREAD_MUTEX_INITIALIZER, NULL,
	    LOG_RING_DAEMON_CAP, 0 },
};

void
log_ring_push(enum log_ring_id id, const char *text, size_t len)
{
	struct ring *rg = &rings[id];
	struct slot *s;
	char *copy, *old = NULL;

	if ((copy = malloc(len + 1)) == NULL)
		return;
	memcpy(copy, text, len);
	copy[len] = '\0';
	pthread_mutex_lock(&rg->mu);
	if (rg->slots == NULL &&
	    (rg->slots = calloc(rg->cap, sizeof(*rg->slots))) == NULL) {
		pthread_mutex_unlock(&rg->mu);
		free(copy);
		return;
	}
	rg->last++;
	s = &rg->slots[rg->last % rg->cap];
	old = s->text;
	s->seq = rg->last;
	s->text = copy;
	s->len = len;
	pthread_mutex_unlock(&rg->mu);
	free(old);
}

struct log_ring_line *
log_ring_since(enum log_ring_id id, uint64_t after, size_t max, size_t *n)
{
	struct ring *rg = &rings[id];
	struct log_ring_line *v;
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
	/* Copies of the lines, so the lock is not held while they are read. */
	for (seq = first; seq <= rg->last; seq++) {
		const struct slot *s = &rg->slots[seq % rg->cap];

		if ((v[i].text = malloc(s->len + 1)) == NULL)
			break;
		memcpy(v[i].text, s->text, s->len + 1);
		v[i].len = s->len;
		v[i].seq = s->seq;
		i++;
	}
	pthread_mutex_unlock(&rg->mu);
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
