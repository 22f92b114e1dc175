"""Collection paging and filtering: ?limit=&after= walk a list in id order
with X-Next-After / Link: rel="next" and X-Total-Count; ?q= keeps items
whose name or host contains the text; without parameters the list is the
plain array it always was; bad parameters get 400."""

import urllib.parse

import pytest

from apiclient import start_api


@pytest.fixture
def api(gh):
    return start_api(gh)


def load(api, port, n=25):
    doc = {"listeners": [{"name": "public", "address": "127.0.0.1", "port": 0},
                         {"name": "v6", "address": "::1", "port": 0}],
           "origins": [{"name": "web", "servers": [{"address": "127.0.0.1", "port": port}]},
                       {"name": "db-pool", "servers": [{"address": "127.0.0.9", "port": port}]}],
           "routes": [{"name": "r%02d" % i, "listener": "public", "origin": "web",
                       "match": {"hosts": ["site%d.example" % i] + (["Shop.Test"] if i % 5 == 0 else [])}}
                      for i in range(n)]}
    api.ok("PUT", "/config", doc)


def walk(api, path, limit, q=None):
    """Follows X-Next-After; returns (names, pages, totals)."""
    names, pages, totals = [], 0, set()
    params = {"limit": limit}
    if q is not None:
        params["q"] = q
    while True:
        r = api.get(path + "?" + urllib.parse.urlencode(params))
        assert r.status_code == 200, r.text
        body = r.json()
        assert isinstance(body, list) and len(body) <= limit
        names += [x["name"] for x in body]
        totals.add(int(r.headers["X-Total-Count"]))
        pages += 1
        nxt = r.headers.get("X-Next-After")
        if nxt is None:
            assert "Link" not in r.headers
            return names, pages, totals
        link = r.headers["Link"]
        assert link.endswith('>; rel="next"')
        target = urllib.parse.urlsplit(link[1:link.index(">")])
        assert target.path == "/api/v1" + path
        assert urllib.parse.parse_qs(target.query)["after"] == [nxt]
        params["after"] = nxt
        assert pages < 50


def test_paging_walks_everything_once(api, origin):
    load(api, origin.port)
    plain = api.get("/routes")
    assert "X-Total-Count" not in plain.headers and "Link" not in plain.headers
    everything = [x["name"] for x in plain.json()]
    assert len(everything) == 25
    ids = [x["id"] for x in plain.json()]
    assert ids == sorted(ids)
    for limit in (1, 7, 25, 1000):
        names, pages, totals = walk(api, "/routes", limit)
        assert names == everything and totals == {25}
        assert pages == max(1, -(-25 // limit))
    # after= also takes a name, and an id.
    r = api.get("/routes?limit=3&after=r09")
    assert [x["name"] for x in r.json()] == ["r10", "r11", "r12"]
    r = api.get("/routes?after=%d" % ids[20])
    assert [x["name"] for x in r.json()] == everything[21:]
    assert r.headers["X-Total-Count"] == "25" and "X-Next-After" not in r.headers
    # Items are the same objects as the plain list's.
    assert api.get("/routes?limit=2").json() == plain.json()[:2]


def test_paging_is_stable_across_changes(api, origin):
    load(api, origin.port)
    first = api.get("/routes?limit=10")
    nxt = first.headers["X-Next-After"]
    api.ok("DELETE", "/routes/r05", status=204)
    api.ok("DELETE", "/routes/r10", status=204)
    api.ok("POST", "/routes", {"name": "a-new", "listener": "public", "origin": "web",
                               "match": {"hosts": ["new.example"]}}, status=201)
    rest = api.get("/routes?after=%s" % nxt).json()
    names = [x["name"] for x in first.json()] + [x["name"] for x in rest]
    # Nothing seen twice; the deleted route after the cursor is gone and
    # the new one (the highest id) comes last.
    assert len(names) == len(set(names))
    assert names[-1] == "a-new" and "r10" not in names


def test_filter(api, origin):
    load(api, origin.port)
    names, _, totals = walk(api, "/routes", 2, q="shop.TEST")
    assert names == ["r00", "r05", "r10", "r15", "r20"] and totals == {5}
    r = api.get("/routes?q=site1")
    assert [x["name"] for x in r.json()] == ["r01"] + ["r%02d" % i for i in range(10, 20)]
    assert r.headers["X-Total-Count"] == "11"
    assert [x["name"] for x in api.get("/routes?q=R2").json()] == \
        ["r%02d" % i for i in range(20, 25)]
    assert api.get("/routes?q=nothing-like-this").json() == []
    assert [x["name"] for x in api.get("/listeners?q=::1").json()] == ["v6"]
    assert [x["name"] for x in api.get("/origins?q=127.0.0.9").json()] == ["db-pool"]
    assert [x["name"] for x in api.get("/origins?q=WEB").json()] == ["web"]
    # Text with characters that need encoding comes back in the Link.
    r = api.get("/routes?limit=1&q=" + urllib.parse.quote("site1 "))
    assert r.json() == []
    r = api.get("/routes?limit=1&q=" + urllib.parse.quote("0.ex"))
    assert "q=0.ex" in r.headers["Link"]


@pytest.mark.parametrize("query", ["limit=0", "limit=1001", "limit=x", "limit=-1", "limit=",
                                   "after=no-such-route", "q=" + "x" * 65])
def test_bad_parameters(api, origin, query):
    load(api, origin.port, 3)
    r = api.get("/routes?" + query)
    assert r.status_code == 400, (query, r.text)
    assert r.headers["Content-Type"].startswith("application/problem+json")
