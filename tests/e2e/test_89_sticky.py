"""Sticky sessions (origin "sticky", issue 13).

The cookie names the server opaquely; a client that sends it back stays
on that server across 1,000 requests and across a configuration change;
a drained, disabled or down server breaks stickiness and the next answer
names another server.
"""

import http.client

from apiclient import start_api, wait_port
from backends import closed_port


def get(conn, cookie=None):
    h = {"Host": "s.test"}
    if cookie:
        h["Cookie"] = "other=1; %s" % cookie
    conn.request("GET", "/", headers=h)
    r = conn.getresponse()
    r.read()
    assert r.status == 200, r.status
    return r.getheader("X-Backend"), r.getheader("Set-Cookie")


def test_sticky_sessions(gh, origin_factory):
    backends = [origin_factory(n) for n in ("a", "b", "c")]
    api = start_api(gh)
    api.ok("POST", "/origins", {"name": "o", "balance": "round_robin",
                                "sticky": {"cookie": "gh_srv", "ttl_s": 3600},
                                "servers": [{"address": "127.0.0.1", "port": b.port}
                                            for b in backends]})
    assert api.get("/origins/o").json()["sticky"] == {
        "cookie": "gh_srv", "ttl_s": 3600, "secure": False}
    api.ok("POST", "/listeners", {"name": "l", "address": "127.0.0.1", "port": 0})
    api.ok("POST", "/routes", {"name": "r", "listener": "l", "origin": "o",
                               "match": {"hosts": ["s.test"]}})
    port = wait_port(api, gh, "l")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    first, setc = get(conn)
    assert setc is not None and setc.startswith("gh_srv="), setc
    assert "Max-Age=3600" in setc and "HttpOnly" in setc and "Path=/" in setc
    cookie = setc.split(";")[0]
    value = cookie.split("=", 1)[1]
    # opaque: not the address or port
    for b in backends:
        assert str(b.port) not in value and "127" not in value

    # without the cookie: round-robin; with it: always the same server
    assert {get(conn)[0] for _ in range(3)} == {"a", "b", "c"}
    seen = set()
    for _ in range(1000):
        backend, setc = get(conn, cookie)
        seen.add(backend)
        assert setc is None  # already names it
    assert seen == {first}

    # a configuration change (weights, another server) keeps it
    api.ok("PATCH", "/origins/o", {"servers": [
        {"address": "127.0.0.1", "port": b.port, "weight": 3} for b in backends]
        + [{"address": "127.0.0.1", "port": closed_port()}]})
    assert {get(conn, cookie)[0] for _ in range(20)} == {first}
    # so does a restart-free reload of the same state; and drain breaks it
    sid = "127.0.0.1:%d" % {b.name: b for b in backends}[first].port
    api.ok("PATCH", "/origins/o/servers/%s" % sid, {"state": "drain"})
    backend, setc = get(conn, cookie)
    assert backend != first and setc is not None
    cookie2 = setc.split(";")[0]
    assert cookie2 != cookie
    assert {get(conn, cookie2)[0] for _ in range(20)} == {backend}
    # back to active: the old cookie works again
    api.ok("PATCH", "/origins/o/servers/%s" % sid, {"state": "active"})
    assert get(conn, cookie)[0] == first
    conn.close()


def test_sticky_breaks_on_down_server(gh, origin_factory):
    a, b = origin_factory("a"), origin_factory("b")
    api = start_api(gh)
    api.ok("POST", "/origins", {"name": "o",
                                "sticky": {"cookie": "s", "secure": True},
                                "health_check": {"path": "/", "interval_ms": 200,
                                                 "timeout_ms": 150, "rise": 1, "fall": 1},
                                "servers": [{"address": "127.0.0.1", "port": a.port},
                                            {"address": "127.0.0.1", "port": b.port}]})
    api.ok("POST", "/listeners", {"name": "l", "address": "127.0.0.1", "port": 0})
    api.ok("POST", "/routes", {"name": "r", "listener": "l", "origin": "o",
                               "match": {"hosts": ["s.test"]}})
    port = wait_port(api, gh, "l")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    first, setc = get(conn)
    assert "Secure" in setc and "Max-Age" not in setc
    cookie = setc.split(";")[0]
    down = a if first == "a" else b
    down.close()
    gh.wait_for(r"server 127\.0\.0\.1:%d is down" % down.port, timeout=10)
    conn.close()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    backend, setc = get(conn, cookie)
    assert backend != first and setc is not None
    conn.close()
