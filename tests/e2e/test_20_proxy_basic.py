"""Routing (host, wildcard, path prefix, method, priority), 404, weighted
round-robin and upstream keep-alive."""

import subprocess

import pytest

from backends import parse_responses, raw_exchange


@pytest.fixture
def three(gh, origin_factory):
    """Origins a, b, c, each with one server, on listener "l"."""
    gh.add_listener("l")
    made = {}
    for name in "abc":
        o = origin_factory(name)
        gh.add_origin(name, [(o.host, o.port)])
        made[name] = o
    return made


def backend(gh, host, path="/", **kw):
    r = gh.curl(path, host=host, **kw)
    assert r.status == 200, (host, path, r.status, r.body[:200])
    return r.header("x-backend")


def test_route_by_exact_host(gh, three):
    gh.add_route("ra", "l", "a", hosts=["a.test"])
    gh.add_route("rb", "l", "b", hosts=["b.test", "other.test"])
    gh.start()
    assert backend(gh, "a.test") == "a"
    assert backend(gh, "b.test") == "b"
    assert backend(gh, "other.test") == "b"
    # Case-insensitive, and a port in Host does not matter.
    assert backend(gh, "A.Test") == "a"
    assert backend(gh, "b.test:8080") == "b"
    # The request reaches the origin with path, query and Host unchanged.
    r = gh.curl("/some/path?x=1&y=%20", host="a.test")
    doc = r.json()
    assert doc["path"] == "/some/path?x=1&y=%20"
    assert [v for k, v in doc["headers"] if k.lower() == "host"] == ["a.test"]
    assert doc["method"] == "GET"


def test_no_route_is_404(gh, three):
    gh.add_route("ra", "l", "a", hosts=["a.test"], path_prefix="/app")
    gh.start()
    assert gh.curl("/", host="a.test").status == 404
    assert gh.curl("/app", host="nope.test").status == 404
    assert gh.curl("/app/x", host="a.test").status == 200
    # A missing Host on HTTP/1.0 cannot match a host route either.
    data, _ = raw_exchange(gh.ports["l"], b"GET /app HTTP/1.0\r\n\r\n")
    assert parse_responses(data)[0].status == 404
    assert three["a"].paths() == ["/app/x"]


def test_wildcard_host(gh, three):
    gh.add_route("exact", "l", "a", hosts=["x.wild.test"])
    gh.add_route("wild", "l", "b", hosts=["*.wild.test"])
    gh.start()
    assert backend(gh, "x.wild.test") == "a"
    assert backend(gh, "y.wild.test") == "b"
    assert backend(gh, "deep.y.wild.test") == "b"
    assert gh.curl("/", host="wild.test").status == 404
    assert gh.curl("/", host="xwild.test").status == 404


def test_route_without_hosts_matches_any_host(gh, three):
    gh.add_route("ra", "l", "a", hosts=["a.test"])
    gh.add_route("any", "l", "b")
    gh.start()
    assert backend(gh, "a.test") == "a"
    assert backend(gh, "whatever.test") == "b"


def test_longest_path_prefix(gh, three):
    gh.add_route("root", "l", "a", hosts=["p.test"], path_prefix="/")
    gh.add_route("api", "l", "b", hosts=["p.test"], path_prefix="/api/")
    gh.add_route("v2", "l", "c", hosts=["p.test"], path_prefix="/api/v2/")
    gh.start()
    assert backend(gh, "p.test", "/") == "a"
    assert backend(gh, "p.test", "/index.html") == "a"
    assert backend(gh, "p.test", "/api/x") == "b"
    assert backend(gh, "p.test", "/api/v2/y") == "c"
    assert backend(gh, "p.test", "/api/v3/y") == "b"


def test_method_match(gh, three):
    gh.add_route("posts", "l", "b", hosts=["m.test"], methods=["POST", "PUT"])
    gh.add_route("rest", "l", "a", hosts=["m.test"])
    gh.start()
    assert backend(gh, "m.test") == "a"
    assert backend(gh, "m.test", args=["-X", "POST", "-d", "x=1"]) == "b"
    assert backend(gh, "m.test", args=["-X", "PUT", "-d", "x=1"]) == "b"
    assert backend(gh, "m.test", args=["-X", "DELETE"]) == "a"


def test_method_only_route_404_for_other_methods(gh, three):
    gh.add_route("posts", "l", "b", hosts=["m.test"], methods=["POST"])
    gh.start()
    assert gh.curl("/", host="m.test").status == 404
    assert backend(gh, "m.test", args=["-d", "x=1"]) == "b"


def test_priority_wins(gh, three):
    gh.add_route("low", "l", "a", hosts=["pr.test"], priority=0)
    gh.add_route("high", "l", "b", hosts=["pr.test"], priority=10)
    gh.start()
    assert backend(gh, "pr.test") == "b"


def test_weighted_round_robin(gh, origin_factory):
    a, b = origin_factory("a"), origin_factory("b")
    gh.add_listener("l")
    gh.add_origin("o", [(a.host, a.port, 3), (b.host, b.port, 1)])
    gh.add_route("r", "l", "o", hosts=["wrr.test"])
    gh.start()
    seen = [backend(gh, "wrr.test") for _ in range(40)]
    assert seen.count("a") == 30, seen
    assert seen.count("b") == 10, seen
    # Smooth: b never waits more than 4 requests.
    assert max(len(run) for run in "".join(seen).split("b")) <= 3


def test_keepalive_reuse(gh, origin):
    port = gh.simple(origin)
    url = "http://127.0.0.1:%d/ka" % port
    # -o applies to one URL: give each URL its own.
    p = subprocess.run(["curl", "-sS", "-H", "Host: app.test",
                        "-w", "%{http_code} %{num_connects}\\n"]
                       + ["-o", "/dev/null", url] * 100,
                       capture_output=True, timeout=60)
    out = p.stdout.decode().split("\n")
    rows = [line.split() for line in out if line]
    assert len(rows) == 100 and all(r[0] == "200" for r in rows), p.stderr
    # curl itself used one client connection...
    assert sum(int(r[1]) for r in rows) == 1
    # ...and the proxy reused its upstream connection.
    assert len(origin.requests) == 100
    assert origin.accepted <= 3, origin.accepted


def test_upstream_reuse_across_client_connections(gh, origin):
    gh.simple(origin)
    for _ in range(20):
        assert gh.curl("/x").status == 200
    assert origin.accepted <= 3, origin.accepted


def test_two_workers_serve_and_reload(gh, origin_factory):
    """With 2 workers (SO_REUSEPORT), every worker serves, and every worker
    takes the new snapshot on reload."""
    a, b = origin_factory("a"), origin_factory("b")
    gh.add_listener("l")
    gh.add_origin("a", [(a.host, a.port)])
    gh.add_origin("b", [(b.host, b.port)])
    gh.add_route("r", "l", "a", hosts=["app.test"])
    gh.start(workers=2)
    # Fresh connections spread over both workers' sockets.
    assert {backend(gh, "app.test") for _ in range(20)} == {"a"}
    gh.sql("UPDATE routes SET origin_id = (SELECT id FROM origins WHERE name = 'b')")
    gh.reload()
    assert {backend(gh, "app.test") for _ in range(20)} == {"b"}


def test_origin_connection_close_is_not_reused(gh, origin):
    gh.simple(origin)
    url = "http://127.0.0.1:%d/c?_close=1" % gh.ports["l"]
    p = subprocess.run(["curl", "-sS", "-H", "Host: app.test", "-w", "%{http_code}\\n"]
                       + ["-o", "/dev/null", url] * 5, capture_output=True, timeout=30)
    assert p.stdout.decode().split() == ["200"] * 5, p.stderr
    assert origin.accepted == 5


def test_pooled_connection_closed_by_origin(gh, origin_factory):
    """The origin closes idle keep-alive connections after 0.2 s: the proxy
    must notice and not answer the next request with an error."""
    import time
    o = origin_factory("a")
    o.idle_close = 0.2
    gh.simple(o)
    for i in range(3):
        r = gh.curl("/n%d" % i)
        assert r.status == 200, (i, r.status)
        time.sleep(0.5)
    assert o.paths() == ["/n0", "/n1", "/n2"]
    assert o.accepted == 3
