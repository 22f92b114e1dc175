/*
 * rev_store.c: how revisions are stored: deltas between checkpoints, the
 * document of any revision rebuilt from them, and retention.
 *
 * A row of `revisions` (schema/0006_revision_deltas.sql) holds either the
 * whole document (checkpoint IS NULL) or an RFC 6902 patch against the
 * previous revision (json_delta()), with `checkpoint` naming the whole
 * row its chain starts from. A revision's document is its checkpoint
 * with the chain's patches up to it applied in one json_patch() call.
 * A new checkpoint is written when the patches since the last one would
 * add up to more bytes than it has, or after REV_CHAIN_MAX of them, so
 * storage grows with the changes and a rebuild reads at most about two
 * documents' worth of text.
 *
 * Writing a delta needs the previous revision's document: the last two
 * written are kept in memory (the API thread is the only writer), each
 * with the row's digest (FNV-1a of its stored text, continuing the
 * parent's for a delta) so that a row rolled
 * back and then replaced under the same number is never mistaken for it.
 *
 * A row's head (checkpoint, digest, bytes) comes after its document in
 * the table, so every statement that reads it without the document goes
 * through the covering index revisions_head (schema/0030_revision_head.sql,
 * rev_head_sql[]); otherwise SQLite walks a checkpoint's overflow pages
 * to reach it (10 MB at 100,000 routes).
 *
 * Retention (revision_retention: keep the newest `keep` revisions and
 * those younger than `keep_days`, 0: no limit) deletes older rows after
 * each insert and when the setting changes, but never the serving
 * (newest) revision's checkpoint or deltas; when the oldest kept row is a
 * delta whose checkpoint goes, it is rewritten as a checkpoint first.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_int.h"
#include "json.h"
#include "store.h"

#define REV_CHAIN_MAX 1000 /* deltas after one checkpoint */

struct rev_cached {
	int64_t id;
	int64_t digest;
	struct json *doc; /* NULL: empty slot */
};

static struct rev_cached rev_cache[2];

/* The statements that read revisions' heads (see above). */
enum rev_head_q {
	RQ_LAST,  /* the newest revision's head */
	RQ_CHAIN, /* a checkpoint's bytes, its deltas' count and bytes */
	RQ_HEAD,  /* one revision's checkpoint and digest */
	RQ_SCP,   /* the checkpoint serving revision <id> starts from */
	RQ_CP,    /* one revision's checkpoint (NULL: it is one) */
};

const char *const rev_head_sql[] = {
	[RQ_LAST] = "SELECT id, coalesce(digest, -1), coalesce(checkpoint, id)"
	            " FROM revisions INDEXED BY revisions_head"
	            " ORDER BY id DESC LIMIT 1",
	[RQ_CHAIN] = "SELECT c.bytes, count(d.id), coalesce(sum(d.bytes), 0)"
	             " FROM revisions c INDEXED BY revisions_head"
	             " LEFT JOIN revisions d ON d.checkpoint = c.id"
	             " WHERE c.id = ?1 GROUP BY c.id",
	[RQ_HEAD] = "SELECT checkpoint, coalesce(digest, -1)"
	            " FROM revisions INDEXED BY revisions_head WHERE id = ?1",
	[RQ_SCP] = "SELECT coalesce(checkpoint, id)"
	           " FROM revisions INDEXED BY revisions_head WHERE id = ?1",
	[RQ_CP] = "SELECT checkpoint FROM revisions INDEXED BY revisions_head"
	          " WHERE id = ?1",
	NULL,
};

/* The newest chain's weight (rev_want_checkpoint()): its checkpoint <cp>
 * of <cp_bytes>, and <n> deltas of <sum> bytes after it, while the newest
 * revision is <last> with <digest> (a rolled-back write leaves another
 * newest revision, and the sums are read again, from revisions_head).
 */
static struct {
	int64_t last, digest, cp, cp_bytes, n, sum;
} rev_chain;

/* FNV-1a of <text>, continuing from <seed> (0: a fresh hash). A delta's
 * digest continues its parent's, so that it names the document and not
 * only the patch (a restored history may hold the same patch text under
 * the same number on another parent).
 */
static int64_t
rev_digest(int64_t seed, const char *text, size_t len)
{
	uint64_t h = 14695981039346656037ull ^ (uint64_t)seed;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)text[i]) * 1099511628211ull;
	return (int64_t)(h >> 1);
}

void
rev_cache_clear(void)
{
	size_t i;

	for (i = 0; i < 2; i++) {
		json_unref(rev_cache[i].doc);
		memset(&rev_cache[i], 0, sizeof(rev_cache[i]));
	}
	memset(&rev_chain, 0, sizeof(rev_chain));
}

static struct json *
rev_cache_get(int64_t id, int64_t digest)
{
	size_t i;

	for (i = 0; i < 2; i++)
		if (rev_cache[i].doc != NULL && rev_cache[i].id == id &&
		    rev_cache[i].digest == digest)
			return rev_cache[i].doc;
	return NULL;
}

/* Keeps <doc> as revision <id>, replacing the slot that is not <keep>. */
static void
rev_cache_put(int64_t id, int64_t digest, struct json *doc,
    const struct json *keep)
{
	struct rev_cached *c;

	c = rev_cache[0].doc == keep && keep != NULL ? &rev_cache[1]
	                                             : &rev_cache[0];
	json_unref(c->doc);
	c->id = id;
	c->digest = digest;
	c->doc = json_ref(doc);
}

/* One integer from <sql> with ?1 = <a>; <dflt> when no row or NULL. */
static int
rev_int(struct store *st, const char *sql, int64_t a, int64_t dflt,
    int64_t *out, struct err *e)
{
	struct store_stmt *s = store_prepare(st, sql, e);
	enum store_step_result rc;

	if (s == NULL)
		return -1;
	store_bind_int64(s, 1, a);
	*out = dflt;
	rc = store_step(s, e);
	if (rc == STORE_ROW && !store_col_is_null(s, 0))
		*out = store_col_int64(s, 0);
	store_finalize(s);
	return rc == STORE_ERROR ? -1 : 0;
}

static struct json *
rev_parse(struct store_stmt *s, int col, struct err *e)
{
	const char *text = store_col_text(s, col);
	struct json *j;

	if ((j = json_parse(text, strlen(text), e)) == NULL)
		err_set(e, "", "a stored revision is not valid JSON");
	return j;
}

/* Appends the operations of the chain of <cp> up to <n> to <ops>. */
static int
rev_chain_ops(struct store *st, int64_t cp, int64_t n, struct json *ops,
    struct err *e)
{
	struct store_stmt *s;
	struct json *p;
	enum store_step_result rc;
	size_t i;

	s = store_prepare(st,
	    "SELECT config FROM revisions WHERE checkpoint = ?1 AND id <= ?2"
	    " ORDER BY id",
	    e);
	if (s == NULL)
		return -1;
	store_bind_int64(s, 1, cp);
	store_bind_int64(s, 2, n);
	while ((rc = store_step(s, e)) == STORE_ROW) {
		if ((p = rev_parse(s, 0, e)) == NULL) {
			rc = STORE_ERROR;
			break;
		}
		for (i = 0; i < json_len(p); i++)
			json_append(ops, json_ref(json_at(p, i)));
		json_unref(p);
	}
	store_finalize(s);
	return rc == STORE_DONE ? 0 : -1;
}

/* The document of revision <n> rebuilt from its checkpoint; NULL with
 * e->msg empty when there is no such revision.
 */
struct json *
rev_doc(struct store *st, int64_t n, struct err *e)
{
	struct store_stmt *s;
	struct json *doc = NULL, *ops, *out;
	int64_t cp = 0;
	bool chain = false, found = false;

	err_clear(e);
	/* The head first: a document still in memory needs no text. */
	if ((s = store_prepare(st, rev_head_sql[RQ_HEAD], e)) == NULL)
		return NULL;
	store_bind_int64(s, 1, n);
	if (store_step(s, e) == STORE_ROW) {
		if ((doc = rev_cache_get(n, store_col_int64(s, 1))) != NULL)
			doc = json_ref(doc);
		chain = !store_col_is_null(s, 0);
		cp = chain ? store_col_int64(s, 0) : n;
		found = true;
	}
	store_finalize(s);
	if (doc != NULL || !found)
		return doc;
	if ((s = store_prepare(st, "SELECT config FROM revisions WHERE id = ?1",
	         e)) == NULL)
		return NULL;
	store_bind_int64(s, 1, cp);
	if (store_step(s, e) == STORE_ROW)
		doc = rev_parse(s, 0, e);
	else if (e->msg[0] == '\0')
		err_set(e, "",
		    "the checkpoint of revision %" PRId64 " is missing", n);
	store_finalize(s);
	if (doc == NULL || !chain)
		return doc;
	if ((ops = json_new_arr()) == NULL ||
	    rev_chain_ops(st, cp, n, ops, e) != 0) {
		json_unref(ops);
		json_unref(doc);
		return NULL;
	}
	out = json_patch(doc, ops, e);
	json_unref(ops);
	json_unref(doc);
	return out;
}

/* Whether a delta of <dlen> bytes after checkpoint <cp> should rather be
 * a new checkpoint: the chain would outweigh the checkpoint, or be too
 * long.
 */
static int
rev_want_checkpoint(struct store *st, int64_t pid, int64_t pdigest, int64_t cp,
    size_t dlen, bool *full, struct err *e)
{
	struct store_stmt *s;
	int rc = -1;

	if (rev_chain.last == pid && rev_chain.digest == pdigest &&
	    rev_chain.cp == cp && pid > 0) {
		*full = rev_chain.n + 1 > REV_CHAIN_MAX ||
		    rev_chain.sum + (int64_t)dlen > rev_chain.cp_bytes;
		return 0;
	}
	memset(&rev_chain, 0, sizeof(rev_chain));
	s = store_prepare(st, rev_head_sql[RQ_CHAIN], e);
	if (s == NULL)
		return -1;
	store_bind_int64(s, 1, cp);
	*full = true;
	if (store_step(s, e) == STORE_ROW) {
		*full = store_col_int64(s, 1) + 1 > REV_CHAIN_MAX ||
		    store_col_int64(s, 2) + (int64_t)dlen >
		        store_col_int64(s, 0);
		rev_chain.last = pid;
		rev_chain.digest = pdigest;
		rev_chain.cp = cp;
		rev_chain.cp_bytes = store_col_int64(s, 0);
		rev_chain.n = store_col_int64(s, 1);
		rev_chain.sum = store_col_int64(s, 2);
		rc = 0;
	} else if (e->msg[0] == '\0') {
		rc = 0;
	}
	store_finalize(s);
	return rc;
}

/* The newest revision: its number (0: none), digest and checkpoint. */
static int
rev_last(struct store *st, int64_t *id, int64_t *digest, int64_t *cp,
    struct err *e)
{
	struct store_stmt *s;
	enum store_step_result rc;

	*id = *cp = 0;
	*digest = -1;
	s = store_prepare(st, rev_head_sql[RQ_LAST], e);
	if (s == NULL)
		return -1;
	if ((rc = store_step(s, e)) == STORE_ROW) {
		*id = store_col_int64(s, 0);
		*digest = store_col_int64(s, 1);
		*cp = store_col_int64(s, 2);
	}
	store_finalize(s);
	return rc == STORE_ERROR ? -1 : 0;
}

/* The text to store for the revision after <pid> (0: none): a delta
 * against <parent>, or the whole <doc>. Sets <*cp> (0: a checkpoint).
 */
static char *
rev_text(struct store *st, const struct json *parent, const struct json *doc,
    int64_t pid, int64_t pdigest, int64_t pcp, int64_t *cp, size_t *len,
    struct err *e)
{
	struct json *delta = NULL;
	char *text = NULL;
	bool full = true;

	*cp = 0;
	if (parent != NULL && (delta = json_delta(parent, doc)) != NULL &&
	    (text = json_dump(delta, len)) != NULL &&
	    rev_want_checkpoint(st, pid, pdigest, pcp, *len, &full, e) != 0) {
		json_unref(delta);
		free(text);
		return NULL;
	}
	json_unref(delta);
	if (!full && text != NULL) {
		*cp = pcp;
		return text;
	}
	free(text);
	if ((text = json_dump(doc, len)) == NULL)
		err_set(e, "", "out of memory");
	return text;
}

static int64_t
rev_insert_row(struct api_req *r, struct store *st, const char *summary,
    const char *text, size_t len, int64_t cp, int64_t digest, struct err *e)
{
	struct store_stmt *s;
	int rc;

	s = store_prepare(st,
	    "INSERT INTO revisions"
	    " (actor, client, summary, config, checkpoint, bytes, digest)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	    e);
	if (s == NULL)
		return -1;
	store_bind_text(s, 1, r->actor[0] != '\0' ? r->actor : "system");
	store_bind_text(s, 2, r->client);
	store_bind_text(s, 3, summary);
	store_bind_text(s, 4, text);
	if (cp > 0)
		store_bind_int64(s, 5, cp);
	else
		store_bind_null(s, 5);
	store_bind_int64(s, 6, (int64_t)len);
	store_bind_int64(s, 7, digest);
	rc = store_step(s, e) == STORE_DONE ? 0 : -1;
	store_finalize(s);
	return rc == 0 ? store_last_insert_id(st) : -1;
}

/* Revision <id> (<digest>) recorded: the chain's weight and the newest
 * row (rev_want_checkpoint()), and retention.
 */
static int
rev_inserted(struct store *st, int64_t id, int64_t digest, int64_t pid,
    int64_t pdigest, int64_t cp, size_t len, struct err *e)
{
	if (cp == 0) { /* a checkpoint: a new chain */
		rev_chain.cp = id;
		rev_chain.cp_bytes = (int64_t)len;
		rev_chain.n = rev_chain.sum = 0;
	} else if (rev_chain.last == pid && rev_chain.digest == pdigest &&
	    rev_chain.cp == cp) {
		rev_chain.n++;
		rev_chain.sum += (int64_t)len;
	} else {
		memset(&rev_chain, 0, sizeof(rev_chain));
	}
	if (rev_chain.cp != 0) {
		rev_chain.last = id;
		rev_chain.digest = digest;
	}
	return rev_prune(st, e);
}

int64_t
rev_insert_item(struct api_req *r, struct store *st, const char *summary,
    const char *coll, int64_t id, struct json *now, struct err *e)
{
	struct rev_cached *slot = NULL;
	struct json *arr, *ops, *op;
	int64_t pid, pdigest, pcp, cp, iid, nid = -1, digest;
	size_t i, lo, hi, mid, len = 0;
	char path[96], sub[1024], *text = NULL;
	bool found, full = true;

	if (rev_last(st, &pid, &pdigest, &pcp, e) != 0)
		return -1;
	for (i = 0; pid > 0 && i < 2; i++)
		if (rev_cache[i].doc != NULL && rev_cache[i].id == pid &&
		    rev_cache[i].digest == pdigest)
			slot = &rev_cache[i];
	/* The document and the list are changed in place: nothing else
	 * may hold them (the other cached revision shares a list it did
	 * not change).
	 */
	if (slot == NULL || json_shared(slot->doc) ||
	    (arr = json_get(slot->doc, coll)) == NULL || !json_is_arr(arr) ||
	    json_shared(arr))
		return 0;
	for (lo = 0, hi = json_len(arr); lo < hi;) { /* items in id order */
		mid = lo + (hi - lo) / 2;
		iid = json_int(json_get(json_at(arr, mid), "id"));
		if (iid < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	found = lo < json_len(arr) &&
	    json_int(json_get(json_at(arr, lo), "id")) == id;
	if (!found && now == NULL)
		return 0;
	/* The delta: the item's own (json_delta() of the old and new item,
	 * its paths under the item's), or one add or remove.
	 */
	snprintf(path, sizeof(path), "/%s/%zu", coll, lo);
	if (found && now != NULL) {
		if ((ops = json_delta(json_at(arr, lo), now)) == NULL)
			return err_set(e, "", "out of memory");
		for (i = 0; i < json_len(ops); i++) {
			op = json_at(ops, i);
			snprintf(sub, sizeof(sub), "%s%s", path,
			    json_str(json_get(op, "path")));
			json_set(op, "path", json_new_str(sub));
		}
	} else {
		ops = json_new_arr();
		op = json_new_obj();
		json_set(op, "op",
		    json_new_str(now == NULL ? "remove" : "add"));
		json_set(op, "path", json_new_str(path));
		if (now != NULL)
			json_set(op, "value", json_ref(now));
		json_append(ops, op);
	}
	text = json_dump(ops, &len);
	json_unref(ops);
	if (text == NULL)
		return err_set(e, "", "out of memory");
	if (rev_want_checkpoint(st, pid, pdigest, pcp, len, &full, e) != 0) {
		free(text);
		return -1;
	}
	/* From here the cached document is the next one: it leaves the
	 * cache unless the row is written.
	 */
	if ((now == NULL    ? json_remove_at(arr, lo)
	            : found ? json_replace_at(arr, lo, json_ref(now))
	                    : json_insert_at(arr, lo, json_ref(now))) != 0)
		goto drop;
	cp = full ? 0 : pcp;
	if (full) {
		free(text);
		if ((text = json_dump(slot->doc, &len)) == NULL) {
			err_set(e, "", "out of memory");
			goto drop;
		}
	}
	digest = rev_digest(cp > 0 ? pdigest : 0, text, len);
	if ((nid = rev_insert_row(r, st, summary, text, len, cp, digest, e)) <
	    0)
		goto drop;
	free(text);
	slot->id = nid;
	slot->digest = digest;
	return rev_inserted(st, nid, digest, pid, pdigest, cp, len, e) != 0
	    ? -1
	    : nid;
drop:
	free(text);
	json_unref(slot->doc);
	memset(slot, 0, sizeof(*slot));
	return -1;
}

struct json *
rev_latest_cached(struct store *st)
{
	int64_t id, digest, cp;
	struct json *doc;
	struct err e;

	err_clear(&e);
	if (rev_last(st, &id, &digest, &cp, &e) != 0 || id == 0 ||
	    (doc = rev_cache_get(id, digest)) == NULL)
		return NULL;
	return json_ref(doc);
}

int64_t
api_revision_insert(struct api_req *r, struct store *st, const char *summary,
    struct json *doc, struct err *e)
{
	struct json *parent = NULL;
	int64_t pid, pdigest, pcp, cp, id = -1, digest = 0;
	size_t len = 0;
	char *text;

	if (rev_last(st, &pid, &pdigest, &pcp, e) != 0)
		return -1;
	if (pid > 0 && (parent = rev_cache_get(pid, pdigest)) != NULL) {
		json_ref(parent);
	} else if (pid > 0) {
		if ((parent = rev_doc(st, pid, e)) == NULL)
			return e->msg[0] != '\0'
			    ? -1
			    : err_set(e, "", "revision %" PRId64 " vanished",
			          pid);
		if (pdigest != -1) /* not a row from before digests */
			rev_cache_put(pid, pdigest, parent, NULL);
	}
	if ((text = rev_text(st, parent, doc, pid, pdigest, pcp, &cp, &len,
	         e)) != NULL) {
		digest = rev_digest(cp > 0 ? pdigest : 0, text, len);
		id = rev_insert_row(r, st, summary, text, len, cp, digest, e);
	}
	if (id > 0 && cp == 0) { /* a checkpoint: a new chain */
		rev_chain.cp = id;
		rev_chain.cp_bytes = (int64_t)len;
		rev_chain.n = rev_chain.sum = 0;
	} else if (id > 0 && rev_chain.last == pid &&
	    rev_chain.digest == pdigest && rev_chain.cp == cp) {
		rev_chain.n++;
		rev_chain.sum += (int64_t)len;
	} else if (id > 0) {
		memset(&rev_chain, 0, sizeof(rev_chain));
	}
	if (id > 0 && rev_chain.cp != 0) {
		rev_chain.last = id;
		rev_chain.digest = digest;
	}
	if (id > 0) {
		rev_cache_put(id, digest, doc, parent);
		if (rev_prune(st, e) != 0)
			id = -1;
	}
	free(text);
	json_unref(parent);
	return id;
}

/* ---- retention ---- */

int
rev_retention_get(struct store *st, int64_t *keep, int64_t *days, struct err *e)
{
	struct store_stmt *s;
	enum store_step_result rc;

	*keep = REV_KEEP_DEF;
	*days = REV_KEEP_DAYS_DEF;
	s = store_prepare(st,
	    "SELECT keep, keep_days FROM revision_retention WHERE id = 1", e);
	if (s == NULL)
		return -1;
	if ((rc = store_step(s, e)) == STORE_ROW) {
		*keep = store_col_int64(s, 0);
		*days = store_col_int64(s, 1);
	}
	store_finalize(s);
	return rc == STORE_ERROR ? -1 : 0;
}

int
rev_retention_set(struct store *st, int64_t keep, int64_t days, struct err *e)
{
	struct store_stmt *s;
	int rc;

	s = store_prepare(st,
	    "INSERT INTO revision_retention (id, keep, keep_days)"
	    " VALUES (1, ?1, ?2) ON CONFLICT (id) DO UPDATE"
	    " SET keep = excluded.keep, keep_days = excluded.keep_days",
	    e);
	if (s == NULL)
		return -1;
	store_bind_int64(s, 1, keep);
	store_bind_int64(s, 2, days);
	rc = store_step(s, e) == STORE_DONE ? 0 : -1;
	store_finalize(s);
	return rc;
}

/* The oldest revision retention keeps: after the newest <keep>, and not
 * older than <days>; never past the newest.
 */
static int
rev_first_kept(struct store *st, int64_t latest, int64_t oldest, int64_t keep,
    int64_t days, int64_t *first, struct err *e)
{
	int64_t since = (int64_t)time(NULL) - days * 86400, t, young;

	*first = oldest;
	if (keep > 0 && latest - keep + 1 > *first)
		*first = latest - keep + 1;
	if (days <= 0)
		return 0;
	if (rev_int(st, "SELECT created_at FROM revisions WHERE id = ?1",
	        oldest, 0, &t, e) != 0)
		return -1;
	if (t >= since)
		return 0;
	if (rev_int(st, "SELECT min(id) FROM revisions WHERE created_at >= ?1",
	        since, latest, &young, e) != 0)
		return -1;
	if (young > *first)
		*first = young;
	return 0;
}

/* Makes revision <id>, a delta of the chain from <cp>, a checkpoint, and
 * the rest of that chain start from it.
 */
static int
rev_make_checkpoint(struct store *st, int64_t id, int64_t cp, struct err *e)
{
	struct store_stmt *s;
	struct json *doc;
	char sql[128];
	size_t len;
	char *text;
	int rc = -1;

	if ((doc = rev_doc(st, id, e)) == NULL)
		return -1;
	text = json_dump(doc, &len);
	json_unref(doc);
	if (text == NULL)
		return err_set(e, "", "out of memory");
	s = store_prepare(st,
	    "UPDATE revisions SET config = ?2, checkpoint = NULL, bytes = ?3,"
	    " digest = ?4 WHERE id = ?1",
	    e);
	if (s != NULL) {
		store_bind_int64(s, 1, id);
		store_bind_text(s, 2, text);
		store_bind_int64(s, 3, (int64_t)len);
		store_bind_int64(s, 4, rev_digest(0, text, len));
		rc = store_step(s, e) == STORE_DONE ? 0 : -1;
		store_finalize(s);
	}
	free(text);
	if (rc != 0)
		return -1;
	snprintf(sql, sizeof(sql),
	    "UPDATE revisions SET checkpoint = %" PRId64
	    " WHERE checkpoint = %" PRId64 " AND id > %" PRId64,
	    id, cp, id);
	return store_exec(st, sql, e);
}

int
rev_prune(struct store *st, struct err *e)
{
	int64_t keep, days, latest, oldest, scp, first, cp;
	char sql[96];

	if (rev_retention_get(st, &keep, &days, e) != 0)
		return -1;
	if ((latest = store_revision(st)) == 0)
		return 0;
	if (rev_int(st, "SELECT min(id) FROM revisions WHERE id >= ?1", 0,
	        latest, &oldest, e) != 0)
		return -1;
	if (rev_int(st, rev_head_sql[RQ_SCP], latest, latest, &scp, e) != 0 ||
	    rev_first_kept(st, latest, oldest, keep, days, &first, e) != 0)
		return -1;
	if (first > scp) /* never the serving revision's chain */
		first = scp;
	if (first <= oldest)
		return 0;
	if (rev_int(st, rev_head_sql[RQ_CP], first, 0, &cp, e) != 0)
		return -1;
	if (cp > 0 && rev_make_checkpoint(st, first, cp, e) != 0)
		return -1;
	snprintf(sql, sizeof(sql), "DELETE FROM revisions WHERE id < %" PRId64,
	    first);
	return store_exec(st, sql, e);
}
