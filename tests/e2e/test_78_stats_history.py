"""The dashboard's history (issue 14): GET /api/v1/stats/history gives, per
minute for the last 24 hours, what each listener and route answered
(requests by status class, bytes, mean time taken; for a listener also
the requests no route took and its connections), kept by the daemon in
memory, so a page opened now sees the requests made before it. A listener
counts its own unmatched requests in /stats and /metrics too. The ring
itself (rollover, idle minutes, gaps, the wrap after 24 hours, the cap
per minute) is unit-tested on its own clock: tests/unit/test_history.c."""

import time

import pytest

from apiclient import login, admin_password, problem_fields, start_api, wait_port
from conftest import curl


@pytest.fixture
def api(gh):
    return start_api(gh)


def make_site(api, gh, origin):
    api.ok("POST", "/origins", {"name": "web", "servers": [{"address": origin.host,
                                                            "port": origin.port}]})
    api.ok("POST", "/listeners", {"name": "pub", "address": "127.0.0.1", "port": 0})
    api.ok("POST", "/listeners", {"name": "side", "address": "127.0.0.1", "port": 0})
    api.ok("POST", "/routes", {"name": "app", "listener": "pub", "origin": "web",
                               "match": {"hosts": ["app.test"]}})
    api.ok("POST", "/routes", {"name": "shop", "listeners": ["pub", "side"],
                               "origin": "web", "match": {"hosts": ["shop.test"]}})
    return wait_port(api, gh, "pub"), wait_port(api, gh, "side")


def history(api, query=""):
    r = api.get("/stats/history" + query)
    assert r.status_code == 200, r.text
    return r.json()


def total(series, key="requests"):
    return sum(v for v in series[key] if v is not None)


def by_name(lst, name):
    found = [s for s in lst if s["name"] == name]
    assert len(found) == 1, (name, lst)
    return found[0]


def test_counts_per_listener_and_route(api, gh, origin):
    pub, side = make_site(api, gh, origin)
    for i in range(5):
        assert curl(pub, "/a/%d" % i, host="app.test").status == 200
    for i in range(3):
        assert curl(side, "/s/%d" % i, host="shop.test").status == 200
    assert curl(pub, "/s", host="shop.test").status == 200
    for i in range(2):
        assert curl(pub, "/none", host="nobody.test").status == 404
    assert curl(side, "/none", host="nobody.test").status == 404

    doc = history(api)
    assert doc["step_s"] == 60 and doc["minutes"] == 1440
    now = time.time()
    assert abs(doc["now"] - now) < 30
    # the window ends with the current minute
    assert doc["start"] == (int(doc["now"]) // 60 - 1439) * 60
    assert doc["since"] <= doc["now"] and doc["since"] % 60 == 0
    for s in [doc["total"]] + doc["listeners"] + doc["routes"]:
        assert len(s["requests"]) == 1440
        # a class that counted nothing in the window has no array
        assert set(s["responses"]) <= {"2xx", "4xx"}, s["responses"].keys()
        for arr in s["responses"].values():
            assert len(arr) == 1440 and any(arr)
    assert set(doc["total"]["responses"]) == {"2xx", "4xx"}
    # minutes before the daemon started are gaps (null), not zeros
    first_seen = (doc["since"] - doc["start"]) // 60
    assert first_seen >= 1439 - 2 and first_seen <= 1439
    assert all(v is None for v in doc["total"]["requests"][:first_seen])
    assert all(v is not None for v in doc["total"]["requests"][first_seen:])

    # listeners: what each answered, its unmatched requests, connections
    p, s = by_name(doc["listeners"], "pub"), by_name(doc["listeners"], "side")
    assert total(p) == 8 and total(s) == 4
    assert total(p["responses"], "2xx") == 6 and total(p["responses"], "4xx") == 2
    assert total(p, "unmatched") == 2 and total(s, "unmatched") == 1
    assert total(p, "connections") == 8 and total(s, "connections") == 4
    assert total(p, "bytes_in") > 0 and total(p, "bytes_out") > 0
    assert p["total_requests"] == 8
    # routes: answered requests over every listener they serve
    a, sh = by_name(doc["routes"], "app"), by_name(doc["routes"], "shop")
    assert total(a) == 5 and total(sh) == 4
    assert "unmatched" not in a and "connections" not in a
    assert total(doc["total"]) == 12 and total(doc["total"], "unmatched") == 3
    # the mean time per minute: a number where requests were answered,
    # null where none were
    for v, n in zip(a["latency_us"], a["requests"]):
        assert (v is None) == (not n), (v, n)
        if n:
            assert 0 < v < 5_000_000
    # busiest first
    assert [x["name"] for x in doc["routes"]] == ["app", "shop"]

    # a shorter window ends at the same minute
    short = history(api, "?minutes=5")
    assert short["minutes"] == 5 and len(short["total"]["requests"]) == 5
    assert short["start"] == (int(short["now"]) // 60 - 4) * 60
    assert total(by_name(short["routes"], "app")) == 5


def test_unmatched_per_listener_in_stats_and_metrics(api, gh, origin):
    pub, side = make_site(api, gh, origin)
    for _ in range(3):
        assert curl(pub, "/x", host="nobody.test").status == 404
    assert curl(side, "/x", host="nobody.test").status == 404
    assert curl(side, "/x", host="shop.test").status == 200
    st = api.get("/stats").json()
    um = {l["name"]: l["unmatched"] for l in st["listeners"]}
    assert um == {"pub": 3, "side": 1}, st["listeners"]
    assert st["global"]["req_no_route"] == 4
    assert all("unmatched" not in r for r in st["routes"])
    text = api.get("/metrics").text
    assert 'gatehouse_listener_unmatched_total{listener_id="' in text
    lines = [l for l in text.splitlines() if l.startswith("gatehouse_listener_unmatched_total{")]
    got = {l.split('listener="')[1].split('"')[0]: int(l.rsplit(" ", 1)[1]) for l in lines}
    assert got == {"pub": 3, "side": 1}
    assert "gatehouse_route_unmatched_total" not in text


def test_history_survives_config_changes_and_viewers_read_it(api, gh, origin):
    pub, _ = make_site(api, gh, origin)
    assert curl(pub, "/a", host="app.test").status == 200
    # a change of configuration does not lose the counts (kept by id)
    api.ok("PATCH", "/routes/app", {"match": {"hosts": ["app.test", "www.app.test"]}})
    assert curl(pub, "/b", host="www.app.test").status == 200
    assert total(by_name(history(api)["routes"], "app")) == 2
    # a deleted route's minutes stay, without a name
    rid = api.get("/routes/app").json()["id"]
    api.ok("DELETE", "/routes/app", status=204)
    gone = [r for r in history(api)["routes"] if r["id"] == rid]
    assert len(gone) == 1 and gone[0]["name"] is None and total(gone[0]) == 2
    # viewers read it too
    base = api.base
    sess, csrf = login(base, "admin", admin_password(gh))
    r = sess.post("/users", {"name": "watcher", "password": "watcher-password-9",
                             "role": "viewer"})
    assert r.status_code == 201, r.text
    viewer, _ = login(base, "watcher", "watcher-password-9")
    r = viewer.get("/stats/history?minutes=1")
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("q", ["?minutes=0", "?minutes=1441", "?minutes=x", "?minutes=-5"])
def test_bad_window_is_400(api, q):
    r = api.get("/stats/history" + q)
    assert r.status_code == 400
    assert problem_fields(r) == [("minutes", "1 to 1440")]


def test_needs_auth(api):
    r = api.get("/stats/history", auth=False)
    assert r.status_code == 401
