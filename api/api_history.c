/*
 * api_history.c: GET /api/v1/stats/history, the daemon's per-minute
 * counts of the last 24 hours (daemon/history.h), so the dashboard's
 * charts are full when it opens.
 *
 * The answer is columnar: one array per counter and series, one value per
 * minute, oldest first, null for a minute without data (before the daemon
 * started, or one its clock skipped); a status class that counted nothing
 * in the window has no array. Series: "total" (every listener),
 * then the listeners and the routes that counted anything in the window,
 * busiest first, at most HISTORY_API_SERIES of each kind; the rest of a
 * kind (and what a minute's slot had no room for) is one series with
 * "other": true.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_int.h"
#include "cfg.h"
#include "history.h"
#include "json.h"
#include "publish.h"

#define HISTORY_API_SERIES 20

enum series_mode {
	SERIES_ONE,   /* one object */
	SERIES_OTHER, /* a kind's objects not shown on their own */
	SERIES_TOTAL, /* every object of a kind */
};

/* An object seen in the window, with its requests over the window. */
struct seen {
	enum history_kind kind;
	int64_t id;
	uint64_t weight;
};

struct hwin {
	const struct history_slot *s;
	unsigned n;
	struct seen *shown[HISTORY__KINDS]; /* sorted by id */
	size_t nshown[HISTORY__KINDS];
};

static int
seen_cmp_key(const void *a, const void *b)
{
	const struct seen *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int
seen_cmp_weight(const void *a, const void *b)
{
	const struct seen *x = a, *y = b;

	if (x->weight != y->weight)
		return x->weight > y->weight ? -1 : 1;
	return seen_cmp_key(a, b);
}

static int
is_shown(const struct hwin *w, enum history_kind k, int64_t id)
{
	struct seen key = { .kind = k, .id = id };

	return bsearch(&key, w->shown[k], w->nshown[k], sizeof(key),
	           seen_cmp_key) != NULL;
}

/* Minute <i>'s counts for a series; false for a minute without data. */
static bool
minute_counts(const struct hwin *w, unsigned i, enum series_mode mode,
    enum history_kind k, int64_t id, struct history_counts *c)
{
	const struct history_slot *s = &w->s[i];
	uint32_t j;

	memset(c, 0, sizeof(*c));
	if (s->minute < 0)
		return false;
	for (j = 0; j < s->n; j++) {
		const struct history_entry *e = &s->e[j];

		if (e->kind != k)
			continue;
		if ((mode == SERIES_ONE && e->id == id) ||
		    mode == SERIES_TOTAL ||
		    (mode == SERIES_OTHER && !is_shown(w, k, e->id)))
			history_counts_add(c, &e->n);
	}
	if (mode != SERIES_ONE)
		history_counts_add(c, &s->other[k]);
	return true;
}

static struct json *
num_or_null(bool have, uint64_t v)
{
	return have ? json_new_int((int64_t)v) : json_new_null();
}

/* Fills <o> with the series' arrays. */
static void
series_arrays(struct json *o, const struct hwin *w, enum series_mode mode,
    enum history_kind k, int64_t id)
{
	static const char *const cls[6] = { "none", "1xx", "2xx", "3xx", "4xx",
		"5xx" };
	struct json *req = json_new_arr(), *resp = json_new_obj(), *st[6];
	struct json *bin = json_new_arr(), *bout = json_new_arr();
	struct json *lat = json_new_arr(), *um = NULL, *conns = NULL;
	struct history_counts c;
	uint64_t answered, total = 0, cls_total[6] = { 0 };
	unsigned i, j;
	bool have;

	for (j = 0; j < 6; j++)
		st[j] = json_new_arr();
	if (k == HISTORY_LISTENER) {
		um = json_new_arr();
		conns = json_new_arr();
	}
	for (i = 0; i < w->n; i++) {
		have = minute_counts(w, i, mode, k, id, &c);
		answered = 0;
		for (j = 0; j < 6; j++) {
			answered += c.status[j];
			cls_total[j] += c.status[j];
			json_append(st[j], num_or_null(have, c.status[j]));
		}
		total += answered;
		json_append(req, num_or_null(have, answered));
		json_append(bin, num_or_null(have, c.bytes_in));
		json_append(bout, num_or_null(have, c.bytes_out));
		/* the mean time of the requests answered that minute */
		json_append(lat,
		    num_or_null(have && answered > 0,
		        answered > 0 ? c.time_us / answered : 0));
		if (um != NULL) {
			json_append(um, num_or_null(have, c.unmatched));
			json_append(conns, num_or_null(have, c.conns));
		}
	}
	json_set(o, "total_requests", json_new_int((int64_t)total));
	json_set(o, "requests", req);
	for (j = 0; j < 6; j++) /* a class that counted nothing: left out */
		if (cls_total[j] > 0)
			json_set(resp, cls[j], st[j]);
		else
			json_unref(st[j]);
	json_set(o, "responses", resp);
	json_set(o, "bytes_in", bin);
	json_set(o, "bytes_out", bout);
	json_set(o, "latency_us", lat);
	if (um != NULL) {
		json_set(o, "unmatched", um);
		json_set(o, "connections", conns);
	}
}

static const char *
object_name(const struct cfg *c, enum history_kind k, int64_t id)
{
	const struct cfg_listener *l;
	const struct cfg_route *r;

	if (c == NULL)
		return NULL;
	if (k == HISTORY_LISTENER) {
		l = cfg_listener_by_id(c, id);
		return l != NULL ? l->name : NULL;
	}
	r = cfg_route_by_id(c, id);
	return r != NULL ? r->name : NULL;
}

/* Every object of the window with its weight, one entry each, by key. */
static struct seen *
window_objects(const struct hwin *w, size_t *np)
{
	struct seen *all;
	size_t n = 0, max = 0, i, j;
	uint32_t e;

	for (i = 0; i < w->n; i++)
		max += w->s[i].n;
	if ((all = calloc(max > 0 ? max : 1, sizeof(*all))) == NULL)
		return NULL;
	for (i = 0; i < w->n; i++)
		for (e = 0; e < w->s[i].n; e++) {
			all[n].kind = w->s[i].e[e].kind;
			all[n].id = w->s[i].e[e].id;
			all[n].weight = history_weight(&w->s[i].e[e].n);
			n++;
		}
	qsort(all, n, sizeof(*all), seen_cmp_key);
	for (i = 0, j = 0; i < n; i++) {
		if (j > 0 && seen_cmp_key(&all[j - 1], &all[i]) == 0)
			all[j - 1].weight += all[i].weight;
		else
			all[j++] = all[i];
	}
	*np = j;
	return all;
}

/* The list of one kind: the busiest objects, then "other" if it counted. */
static struct json *
kind_list(struct hwin *w, struct seen *all, size_t n, enum history_kind k,
    const struct cfg *c)
{
	struct json *arr = json_new_arr(), *o;
	struct seen *mine;
	size_t nk = 0, i, shown;
	struct history_counts cnt;
	bool other = false;

	for (i = 0; i < n; i++)
		if (all[i].kind == k)
			all[nk++] = all[i]; /* in place: later kinds follow */
	mine = all;
	qsort(mine, nk, sizeof(*mine), seen_cmp_weight);
	shown = nk < HISTORY_API_SERIES ? nk : HISTORY_API_SERIES;
	for (i = 0; i < shown; i++) {
		const char *name = object_name(c, k, mine[i].id);

		o = json_new_obj();
		json_set(o, "id", json_new_int(mine[i].id));
		json_set(o, "name",
		    name != NULL ? json_new_str(name) : json_new_null());
		series_arrays(o, w, SERIES_ONE, k, mine[i].id);
		json_append(arr, o);
	}
	/* what is left of the kind, if anything */
	w->shown[k] = mine;
	w->nshown[k] = shown;
	qsort(w->shown[k], shown, sizeof(*mine), seen_cmp_key);
	for (i = 0; i < w->n && !other; i++)
		if (minute_counts(w, (unsigned)i, SERIES_OTHER, k, 0, &cnt))
			other = history_weight(&cnt) != 0 ||
			    cnt.bytes_in != 0 || cnt.bytes_out != 0;
	if (other) {
		o = json_new_obj();
		json_set(o, "id", json_new_null());
		json_set(o, "name", json_new_null());
		json_set(o, "other", json_new_bool(true));
		series_arrays(o, w, SERIES_OTHER, k, 0);
		json_append(arr, o);
	}
	w->shown[k] = NULL;
	w->nshown[k] = 0;
	return arr;
}

static int
read_minutes(struct api_req *r, unsigned *nmin)
{
	const char *s = api_req_query(r, "minutes");
	struct err e;
	char *end;
	long v;

	*nmin = HISTORY_MINUTES;
	if (s == NULL || s[0] == '\0')
		return 0;
	v = strtol(s, &end, 10);
	if (*end == '\0' && v >= 1 && v <= HISTORY_MINUTES) {
		*nmin = (unsigned)v;
		return 0;
	}
	err_clear(&e);
	err_set(&e, "minutes", "1 to %d", HISTORY_MINUTES);
	api_reply_problem(r, 400, "the query is not valid", &e);
	return -1;
}

void
sys_stats_history(struct api_req *r)
{
	struct history *h = history_main();
	struct history_slot *slots = NULL;
	struct hwin w = { 0 };
	struct seen *all = NULL, *copy = NULL;
	struct json *o, *tot;
	struct cfg *c = NULL;
	int64_t cur, since;
	unsigned nmin;
	size_t n = 0;
	time_t now;

	if (read_minutes(r, &nmin) == -1)
		return;
	if (h == NULL) {
		api_reply_problem(r, 503, "the history is not kept yet", NULL);
		return;
	}
	if ((slots = calloc(nmin, sizeof(*slots))) == NULL)
		goto oom;
	now = time(NULL);
	if ((cur = history_read(h, now, nmin, slots, &since)) < 0)
		goto oom;
	w.s = slots;
	w.n = nmin;
	if ((all = window_objects(&w, &n)) == NULL ||
	    (copy = calloc(n > 0 ? n : 1, sizeof(*copy))) == NULL)
		goto oom;
	c = publish_current();
	o = json_new_obj();
	json_set(o, "step_s", json_new_int(60));
	json_set(o, "minutes", json_new_int(nmin));
	json_set(o, "start", json_new_int((cur - (int64_t)nmin + 1) * 60));
	json_set(o, "now", json_new_int((int64_t)now));
	json_set(o, "since", json_new_int(since * 60));
	tot = json_new_obj();
	series_arrays(tot, &w, SERIES_TOTAL, HISTORY_LISTENER, 0);
	json_set(o, "total", tot);
	memcpy(copy, all, n * sizeof(*all));
	json_set(o, "listeners", kind_list(&w, all, n, HISTORY_LISTENER, c));
	json_set(o, "routes", kind_list(&w, copy, n, HISTORY_ROUTE, c));
	cfg_unref(c);
	free(copy);
	free(all);
	free(slots);
	api_reply_json(r, 200, o);
	return;
oom:
	free(copy);
	free(all);
	free(slots);
	api_reply_problem(r, 503, "out of memory", NULL);
}
