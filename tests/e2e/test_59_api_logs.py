"""Logs in the admin API: the recent access-log entries and the daemon's
own lines, kept in memory, served to admins with filters (route, status
class, client, text, limit) and a live tail by Server-Sent Events that
sees a new request within 2 s; viewers get 403 (issue 14)."""

import time

import pytest
import requests

from apiclient import start_api, wait_port
from conftest import curl


@pytest.fixture
def api(gh):
    return start_api(gh)


def make_site(api, gh, origin):
    api.ok("POST", "/origins", {"name": "web", "servers": [{"address": origin.host,
                                                            "port": origin.port}]})
    api.ok("POST", "/listeners", {"name": "pub", "address": "127.0.0.1", "port": 0})
    api.ok("POST", "/routes", {"name": "app", "listener": "pub", "origin": "web",
                               "match": {"hosts": ["app.test"]}})
    api.ok("POST", "/routes", {"name": "other", "listener": "pub", "origin": "web",
                               "match": {"hosts": ["other.test"]}})
    return wait_port(api, gh, "pub")


def entries(api, query=""):
    r = api.get("/logs/access" + query)
    assert r.status_code == 200, r.text
    return r.json()


def test_access_filters_and_limit(api, gh, origin):
    port = make_site(api, gh, origin)
    for i in range(5):
        assert curl(port, "/a/%d" % i, host="app.test").status == 200
    for i in range(3):
        assert curl(port, "/b/%d" % i, host="other.test").status == 200
    assert curl(port, "/nowhere", host="none.test").status == 404
    doc = entries(api)
    assert len(doc["entries"]) == 9 and doc["last"] >= 9
    assert doc["entries"][0]["path"] == "/nowhere", "newest first"
    seqs = [e["seq"] for e in doc["entries"]]
    assert seqs == sorted(seqs, reverse=True)
    assert [e["path"] for e in entries(api, "?route=app")["entries"]] == \
        ["/a/4", "/a/3", "/a/2", "/a/1", "/a/0"]
    four = entries(api, "?status=4xx")["entries"]
    assert [(e["path"], e["status"], e.get("route", "")) for e in four] == [("/nowhere", 404, "")]
    assert len(entries(api, "?status=200")["entries"]) == 8
    assert len(entries(api, "?client=127.0.0.1")["entries"]) == 9
    assert entries(api, "?client=192.0.2.1")["entries"] == []
    assert [e["path"] for e in entries(api, "?q=/b/1")["entries"]] == ["/b/1"]
    assert [e["path"] for e in entries(api, "?route=app&limit=2")["entries"]] == ["/a/4", "/a/3"]
    for bad in ("?status=6xx", "?limit=-1", "?limit=x", "?limit=10001"):
        assert api.get("/logs/access" + bad).status_code == 400, bad


def test_daemon_log(api, gh, origin):
    make_site(api, gh, origin)
    doc = api.get("/logs/daemon").json()
    msgs = [e["message"] for e in doc["entries"]]
    assert any("admin API listening" in m for m in msgs), msgs
    assert any("config generation" in m for m in msgs), msgs
    assert all(e["level"] in ("crit", "warn", "info", "debug") for e in doc["entries"])
    info = api.get("/logs/daemon?level=warn").json()["entries"]
    assert all(e["level"] == "warn" for e in info)
    assert [e["message"] for e in api.get("/logs/daemon?q=admin%20API%20listening").json()["entries"]]


def sse_events(api, query="", last_id=None):
    h = {"Authorization": "Bearer " + api.token}
    if last_id is not None:
        h["Last-Event-ID"] = str(last_id)
    r = requests.get(api.url("/logs/access/stream" + query), headers=h, timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/event-stream")
    events, cur, last = [], {}, None
    for line in r.text.split("\n"):
        if line == "":
            if "data" in cur:
                events.append(cur)
            cur = {}
            continue
        k, _, v = line.partition(": ")
        cur[k] = v
        if k == "id":
            last = int(v)
    assert "retry: " in r.text
    return events, last


def test_sse_tail_sees_a_new_request_within_2s(api, gh, origin):
    import json
    port = make_site(api, gh, origin)
    assert curl(port, "/before", host="app.test").status == 200
    events, last = sse_events(api, "?route=app")  # from now on: nothing old
    assert events == [] and last >= 1
    t0 = time.monotonic()
    assert curl(port, "/live", host="app.test").status == 200
    assert curl(port, "/skip", host="other.test").status == 200
    got = []
    while not got and time.monotonic() - t0 < 2:
        # what EventSource does: reconnect with Last-Event-ID after "retry"
        evs, last2 = sse_events(api, "?route=app", last_id=last)
        got = [json.loads(e["data"]) for e in evs]
        last = last2
        if not got:
            time.sleep(0.2)
    assert [e["path"] for e in got] == ["/live"], got
    assert time.monotonic() - t0 < 2
    evs, last3 = sse_events(api, "?route=app", last_id=last)
    assert evs == [] and last3 == last, "the filtered-out request moved the cursor"


def test_viewer_gets_403(api, gh, origin):
    r = api.post("/tokens", {"name": "ro", "role": "viewer"})
    viewer = api.with_token(r.json()["token"])
    for p in ("/logs/access", "/logs/daemon", "/logs/access/stream"):
        r = viewer.get(p)
        assert r.status_code == 403, (p, r.text)
        assert "admins only" in r.text
    assert api.get("/logs/access", auth=False).status_code == 401
