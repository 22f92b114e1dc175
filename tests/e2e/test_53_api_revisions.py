"""Revisions: every committed change is recorded (actor, client, time,
summary, whole config); diffs; restoring one restores behaviour and is
itself a new revision."""

import pytest

from apiclient import start_api, wait_port
from conftest import curl


@pytest.fixture
def api(gh):
    return start_api(gh)


def test_restore_revision(gh, api, origin, origin_factory):
    b = origin_factory("b")
    api.ok("POST", "/origins", {"name": "web", "servers": [
        {"address": "127.0.0.1", "port": origin.port}]}, status=201)
    api.ok("POST", "/origins", {"name": "alt", "servers": [
        {"address": "127.0.0.1", "port": b.port}]}, status=201)
    api.ok("POST", "/listeners", {"name": "public", "address": "127.0.0.1", "port": 0},
           status=201)
    r = api.ok("POST", "/routes", {"name": "app", "listener": "public", "origin": "web",
                                   "match": {"hosts": ["app.test"]}}, status=201)
    good = int(r.headers["X-Config-Revision"])
    port = wait_port(api, gh, "public")
    assert curl(port, "/", host="app.test").header("X-Backend") == "a"

    api.ok("PATCH", "/routes/app", {"origin": "alt", "match": {"path_prefix": "/x"}})
    assert curl(port, "/x", host="app.test").header("X-Backend") == "b"
    assert curl(port, "/", host="app.test").status == 404
    bad = api.revision()
    assert bad == good + 1

    revs = api.get("/revisions").json()
    assert [x["revision"] for x in revs][:2] == [bad, good]
    assert revs[0]["actor"].startswith("token:") and revs[0]["client"] == "127.0.0.1"
    assert revs[0]["summary"] == "update routes/app"
    assert api.get("/revisions?limit=1").json()[0]["revision"] == bad
    one = api.get("/revisions/%d" % good).json()
    assert one["config"]["routes"][0]["origin"] == "web"
    d = api.get("/revisions/%d/diff" % bad).json()
    assert {c["path"] for c in d["changes"]} == {"/routes/app/origin",
                                                 "/routes/app/match/path_prefix"}
    d1 = api.get("/revisions/1/diff").json()
    assert d1["against"] == 0 and d1["changes"][0]["op"] == "add"
    assert api.get("/revisions/999").status_code == 404
    assert api.get("/revisions/abc").status_code == 404

    r = api.post("/revisions/%d/restore" % good)
    assert r.status_code == 200, r.text
    new = int(r.headers["X-Config-Revision"])
    assert new == bad + 1
    assert api.get("/revisions").json()[0]["summary"] == "restore revision %d" % good
    assert curl(port, "/", host="app.test").header("X-Backend") == "a"
    cfg = api.get("/config").json()
    assert cfg == api.get("/revisions/%d" % new).json()["config"]
    assert cfg["routes"] == one["config"]["routes"]
    st = api.status()
    assert st["serving_revision"] == new == st["latest_revision"] and st["in_sync"]

    # Restoring a state with deleted objects brings them back with their ids.
    api.ok("DELETE", "/routes/app", status=204)
    api.ok("DELETE", "/origins/web", status=204)
    r = api.ok("POST", "/revisions/%d/restore" % new)
    assert api.get("/origins/web").json()["id"] == one["config"]["origins"][0]["id"]
    assert curl(port, "/", host="app.test").header("X-Backend") == "a"
    # Restoring the serving revision changes nothing and records nothing.
    cur = api.revision()
    r = api.ok("POST", "/revisions/%d/restore" % cur)
    assert r.json()["changes"] == [] and api.revision() == cur
