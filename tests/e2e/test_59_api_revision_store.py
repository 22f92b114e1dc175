"""Revisions stored as deltas between checkpoints: every revision reads back
exactly as it was, diffs and restores work on deltas, the database grows
with the changes rather than with the configuration, and retention
(/settings/revisions) prunes old revisions but never the serving
revision's chain."""

import os

import pytest

from apiclient import problem_fields, restart_api, start_api

ROUTES = 300


@pytest.fixture
def api(gh):
    return start_api(gh)


def doc(origin_port, n=ROUTES):
    return {"listeners": [{"name": "public", "address": "127.0.0.1", "port": 0}],
            "origins": [{"name": "o%d" % i, "servers": [
                {"address": "127.0.0.1", "port": origin_port}]} for i in range(n // 10)],
            "routes": [{"name": "r%d" % i, "listener": "public", "origin": "o%d" % (i // 10),
                        "match": {"hosts": ["h%d.example" % i]}} for i in range(n)]}


def db_bytes(gh):
    c = gh.db()
    try:
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = c.execute("PRAGMA page_count").fetchone()[0]
        size = c.execute("PRAGMA page_size").fetchone()[0]
        free = c.execute("PRAGMA freelist_count").fetchone()[0]
        return (pages - free) * size
    finally:
        c.close()


def rows(gh):
    return gh.sql("SELECT id, checkpoint, bytes FROM revisions ORDER BY id")


def changes(api, n, seen, routes=ROUTES):
    """<n> one-route PATCHes; <seen>[revision] = GET /config after it."""
    for i in range(n):
        r = api.ok("PATCH", "/routes/r%d" % (i * 7 % routes), {"priority": i % 50 + 1})
        rev = int(r.headers["X-Config-Revision"])
        if i % 9 == 0 or i == n - 1:
            seen[rev] = api.get("/config").json()


def test_deltas_read_back_exactly(api, gh, origin):
    r = api.ok("PUT", "/config", doc(origin.port))
    first = int(r.headers["X-Config-Revision"])
    seen = {first: api.get("/config").json()}
    size0 = db_bytes(gh)
    changes(api, 120, seen)
    stored = rows(gh)
    deltas = [x for x in stored if x[1] is not None]
    # Checkpoints only when the chain would outweigh them; small deltas.
    assert len(deltas) >= 110, stored[-5:]
    assert max(x[2] for x in deltas) < 400
    full = [x for x in stored if x[1] is None and x[0] >= first]
    assert max(x[2] for x in full) > 20 * max(x[2] for x in deltas)
    assert db_bytes(gh) < 3 * size0
    for rev, cfg in seen.items():
        assert api.get("/revisions/%d" % rev).json()["config"] == cfg, rev
    # Diff between two deltas, and against an explicit older revision.
    last = max(seen)
    d = api.get("/revisions/%d/diff" % last).json()
    assert d["against"] == last - 1 and len(d["changes"]) == 1
    assert d["changes"][0]["path"].endswith("/priority")
    d = api.get("/revisions/%d/diff?against=%d" % (last, first)).json()
    assert d["against"] == first and 0 < len(d["changes"]) <= 120
    # Restoring a revision inside a chain brings its document back.
    mid = sorted(seen)[len(seen) // 2]
    r = api.ok("POST", "/revisions/%d/restore" % mid)
    new = int(r.headers["X-Config-Revision"])
    assert api.get("/config").json() == dict(seen[mid])
    assert api.get("/revisions/%d" % new).json()["config"] == seen[mid]

    # The history survives a restart (no cached documents) and legacy
    # whole-document rows (written before the delta schema) read back too.
    assert gh.stop() == 0
    gh.sql("UPDATE revisions SET digest = NULL WHERE checkpoint IS NULL")
    restart_api(gh, api)
    for rev, cfg in seen.items():
        assert api.get("/revisions/%d" % rev).json()["config"] == cfg, rev
    api.ok("PATCH", "/routes/r1", {"priority": 99})
    assert api.get("/revisions/%d" % api.revision()).json()["config"] == \
        api.get("/config").json()


def test_item_writes_build_the_next_document(api, gh, origin):
    """An item write builds its revision's document from the previous one
    in memory (api_apply.c): after every kind of item write, renames of
    referenced items and a restore included, the revision reads back as
    GET /config, and a one-route change stores a one-route delta."""
    api.ok("PUT", "/config", doc(origin.port, 40))

    def same():
        rev = api.revision()
        assert api.get("/revisions/%d" % rev).json()["config"] == api.get("/config").json()
        return gh.sql("SELECT checkpoint, bytes FROM revisions WHERE id = ?", (rev,))[0]

    cp, size = (api.ok("PATCH", "/routes/r7", {"priority": 5}), same())[1]
    assert cp is not None and size < 400
    api.ok("PUT", "/routes/r8", {"name": "r8", "listener": "public", "origin": "o1",
                                 "match": {"hosts": ["x8.example"]}})
    same()
    api.ok("PATCH", "/routes/r9", {"name": "r9b"})
    same()
    api.ok("DELETE", "/routes/r3", status=204)
    same()
    api.ok("POST", "/routes", {"name": "new", "listener": "public", "origin": "o2",
                               "match": {"hosts": ["new.example"]}})
    same()
    api.ok("DELETE", "/routes/r39", status=204)
    api.ok("POST", "/routes", {"name": "last", "listener": "public", "origin": "o2",
                               "match": {"hosts": ["last.example"]}})
    same()
    api.ok("PATCH", "/origins/o2", {"name": "o2b"})  # routes change too
    same()
    api.ok("PATCH", "/listeners/public", {"name": "pub"})
    same()
    api.ok("POST", "/origins", {"name": "spare", "servers": [
        {"address": "127.0.0.1", "port": origin.port}]})
    same()
    api.ok("PATCH", "/origins/spare", {"servers": [
        {"address": "127.0.0.1", "port": origin.port}, {"address": "127.0.0.2", "port": 1}]})
    same()
    api.ok("DELETE", "/origins/spare", status=204)
    same()
    back = api.revision() - 3
    api.ok("POST", "/revisions/%d/restore" % back)
    same()
    api.ok("PATCH", "/routes/r1", {"priority": 9})
    same()
    # The API thread's memory is gone after a restart: rebuilt from rows.
    assert gh.stop() == 0
    restart_api(gh, api)
    api.ok("PATCH", "/routes/r2", {"priority": 9})
    same()
    api.ok("PATCH", "/routes/r4", {"priority": 9})
    same()


def test_validate_does_not_confuse_the_store(api, gh, origin):
    """A dry run inserts and rolls back a revision; the next real change
    must not take the rolled-back document as its parent."""
    api.ok("PUT", "/config", doc(origin.port, 20))
    r = api.post("/config/validate", [{"op": "replace", "path": "/routes/0/priority",
                                       "value": 7}])
    assert r.status_code == 200 and r.json()["valid"], r.text
    api.ok("PATCH", "/routes/r5", {"priority": 3})
    cfg = api.get("/config").json()
    assert api.get("/revisions/%d" % api.revision()).json()["config"] == cfg
    assert [x["priority"] for x in cfg["routes"]][:1] != [7]


def test_retention(api, gh, origin):
    assert api.get("/settings/revisions").json() == {"keep": 10000, "keep_days": 365}
    api.ok("PUT", "/config", doc(origin.port, 20))
    seen = {}
    changes(api, 30, seen, 20)
    latest = api.revision()
    cp = gh.sql("SELECT coalesce(checkpoint, id) FROM revisions WHERE id = ?", (latest,))[0][0]
    r = api.ok("PUT", "/settings/revisions", {"keep": 5})
    assert r.json() == {"keep": 5, "keep_days": 365}
    revs = [x["revision"] for x in api.get("/revisions?limit=1000").json()]
    # The newest five, and never less than the serving revision's chain.
    assert revs[0] == latest and revs[-1] == min(latest - 4, cp)
    assert revs == list(range(latest, revs[-1] - 1, -1))
    assert gh.sql("SELECT checkpoint FROM revisions WHERE id = ?", (revs[-1],))[0][0] is None
    for rev, cfg in seen.items():
        got = api.get("/revisions/%d" % rev)
        assert got.status_code == (200 if rev >= revs[-1] else 404)
        if rev >= revs[-1]:
            assert got.json()["config"] == cfg
    assert api.get("/revisions/%d/diff" % revs[-1]).json()["against"] == 0

    # Further changes prune as they go; the serving chain stays whole.
    changes(api, 12, seen, 20)
    latest = api.revision()
    cp = gh.sql("SELECT coalesce(checkpoint, id) FROM revisions WHERE id = ?", (latest,))[0][0]
    left = [x[0] for x in rows(gh)]
    assert left[0] == min(latest - 4, cp) and left[-1] == latest
    assert api.get("/revisions/%d" % latest).json()["config"] == api.get("/config").json()

    # Age: revisions older than keep_days go (the serving chain stays).
    gh.sql("UPDATE revisions SET created_at = created_at - 3 * 86400 WHERE id < ?",
           (latest,))
    api.ok("PUT", "/settings/revisions", {"keep": 0, "keep_days": 2})
    left = [x[0] for x in rows(gh)]
    assert left[-1] == latest and left[0] == min(latest, cp)
    assert api.get("/settings/revisions").json() == {"keep": 0, "keep_days": 2}


@pytest.mark.parametrize("body,field", [
    ({"keep": -1}, "keep"),
    ({"keep": 100000001}, "keep"),
    ({"keep_days": "x"}, "keep_days"),
    ({"keep_days": 36501}, "keep_days"),
    ({"keeps": 3}, "keeps"),
])
def test_retention_validation(api, body, field):
    r = api.put("/settings/revisions", body)
    assert r.status_code == 422, r.text
    assert [f for f, _ in problem_fields(r)] == [field]
    assert api.get("/settings/revisions").json() == {"keep": 10000, "keep_days": 365}


def test_retention_needs_admin(api, gh):
    from apiclient import login, admin_password  # noqa: F401
    r = api.post("/tokens", {"name": "viewer-t", "role": "viewer"})
    viewer = api.with_token(r.json()["token"])
    assert viewer.get("/settings/revisions").status_code == 200
    assert viewer.put("/settings/revisions", {"keep": 1}).status_code == 403
    assert api.put("/settings/revisions", {"keep": 1}, auth=False).status_code == 401
