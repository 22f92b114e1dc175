"""Rate limits (a kind) attached to routes with "rate_limit": a token bucket
per key (client address, a header, the route), burst then steady rate
measured, 429 with Retry-After and RateLimit-Policy / RateLimit, bounded
memory with least-recently-used keys dropped and counted; listener field
max_connections_per_client on http and tcp listeners."""

import socket
import time

import pytest
import requests

from apiclient import problem_fields, start_api, wait_port
from backends import parse_responses
from test_31_access_log import read_log


@pytest.fixture
def api(gh):
    return start_api(gh)


def make(api, origin, limit, listener=None, protocol="http"):
    api.ok("POST", "/origins", {"name": "o", "servers": [
        {"address": "127.0.0.1", "port": origin.port}]}, status=201)
    api.ok("POST", "/listeners", dict({"name": "l", "address": "127.0.0.1", "port": 0,
                                       "protocol": protocol}, **(listener or {})), status=201)
    route = {"name": "r", "listener": "l", "origin": "o"}
    if limit is not None:
        r = api.post("/rate_limits", limit)
        assert r.status_code == 201, r.text
        route["rate_limit"] = limit["name"]
    if protocol == "http":
        route["match"] = {"hosts": ["app.test"]}
    api.ok("POST", "/routes", route, status=201)


def glob(api, name):
    return api.get("/stats").json()["global"][name]


def test_burst_then_steady_rate(gh, api, origin):
    # A rate well below what one client sends even on a loaded machine.
    rate, burst, secs = 10, 5, 3.0
    make(api, origin, {"name": "api", "rate": rate, "per": "second", "burst": burst})
    port = wait_port(api, gh, "l")
    s = requests.Session()
    url = "http://127.0.0.1:%d/x" % port
    codes = []
    first = None
    t0 = time.monotonic()
    while time.monotonic() - t0 < secs:
        r = s.get(url, headers={"Host": "app.test"}, timeout=5)
        codes.append(r.status_code)
        if r.status_code == 429 and first is None:
            first = r
    elapsed = time.monotonic() - t0
    ok, limited = codes.count(200), codes.count(429)
    assert len(codes) > 3 * (burst + rate * elapsed), "the client was too slow to measure"
    assert ok + limited == len(codes), set(codes)
    # The burst goes through at once, then the steady rate.
    assert codes[:burst] == [200] * burst, codes[:burst + 5]
    want_ok = burst + rate * elapsed
    want_limited = len(codes) - want_ok
    assert abs(ok - want_ok) <= 0.1 * want_ok, (ok, want_ok, len(codes), elapsed)
    assert abs(limited - want_limited) <= 0.1 * want_limited, (limited, want_limited)
    assert int(first.headers["Retry-After"]) >= 1
    assert first.headers["RateLimit-Policy"] == '"api";q=5;w=1'
    assert first.headers["RateLimit"].startswith('"api";r=0;t=')
    assert glob(api, "rate_limited") == limited
    recs = read_log(gh.access_log, len(codes))
    assert any(r.get("decision") == "rate_limit:exceeded" and r["status"] == 429 for r in recs)
    print("burst %d, rate %d/s over %.2f s: %d allowed (expected %.1f), %d limited "
          "(expected %.1f)" % (burst, rate, elapsed, ok, want_ok, limited, want_limited))


def test_keys_header_and_route(gh, api, origin):
    make(api, origin, {"name": "h", "rate": 1, "per": "hour", "burst": 2, "key": "header:X-Key"})
    port = wait_port(api, gh, "l")
    url = "http://127.0.0.1:%d/x" % port

    def get(k):
        return requests.get(url, headers={"Host": "app.test", "X-Key": k}, timeout=5).status_code

    assert [get("a"), get("a"), get("a")] == [200, 200, 429]
    assert [get("b"), get("b"), get("b")] == [200, 200, 429]
    r = requests.get(url, headers={"Host": "app.test", "X-Key": "a"}, timeout=5)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 1000
    # One bucket for the route, whoever asks.
    api.ok("PATCH", "/rate_limits/h", {"key": "route", "burst": 3})
    codes = [get(k) for k in "xyzw"]
    assert codes == [200, 200, 200, 429], codes


def test_memory_bound_with_10000_keys(gh, api, origin):
    make(api, origin, {"name": "many", "rate": 100, "per": "second", "key": "header:X-Key",
                       "max_keys": 1000})
    port = wait_port(api, gh, "l")
    rss = lambda: int([ln for ln in open("/proc/%d/status" % gh.pid)
                       if ln.startswith("VmRSS:")][0].split()[1])
    before_drop = glob(api, "rate_limit_dropped")
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    rss0 = rss()
    n, batch = 10000, 500
    for b in range(0, n, batch):
        reqs = b"".join(b"GET /k HTTP/1.1\r\nHost: app.test\r\nX-Key: k%d\r\n\r\n" % i
                        for i in range(b, b + batch))
        s.sendall(reqs)
        data = b""
        while data.count(b"HTTP/1.1 ") < batch or not data.endswith(b"\n"):
            chunk = s.recv(1 << 20)
            assert chunk, "connection closed"
            data += chunk
            try:
                if len(parse_responses(data)) >= batch:
                    break
            except Exception:
                continue
        assert all(r.status == 200 for r in parse_responses(data))
    s.close()
    grew_kb = rss() - rss0
    dropped = glob(api, "rate_limit_dropped") - before_drop
    # 64 stripes of 16 keys: at most 1024 kept, the rest dropped.
    assert dropped >= n - 1024, dropped
    # 1024 buckets of 48 bytes: the table cannot grow; allow for the rest.
    # (A sanitizer build keeps freed memory in quarantine: RSS says
    # nothing there.)
    with open(gh.binary, "rb") as f:
        sanitized = b"__asan_init" in f.read()
    if not sanitized:
        assert grew_kb < 8 * 1024, grew_kb
    print("10000 keys into max_keys 1000: %d dropped, RSS grew %d KiB" % (dropped, grew_kb))


def test_max_connections_per_client(gh, api, origin):
    make(api, origin, None, listener={"max_connections_per_client": 2})
    port = wait_port(api, gh, "l")

    def ask(sock):
        sock.sendall(b"GET /x HTTP/1.1\r\nHost: app.test\r\n\r\n")
        return sock.recv(65536)

    a = socket.create_connection(("127.0.0.1", port), timeout=5)
    b = socket.create_connection(("127.0.0.1", port), timeout=5)
    assert ask(a).startswith(b"HTTP/1.1 200") and ask(b).startswith(b"HTTP/1.1 200")
    c = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        got = ask(c)
    except (ConnectionResetError, BrokenPipeError):
        got = b""
    assert got == b"", got
    c.close()
    a.close()
    deadline = time.monotonic() + 5
    while True:
        d = socket.create_connection(("127.0.0.1", port), timeout=5)
        try:
            if ask(d).startswith(b"HTTP/1.1 200"):
                break
        except (ConnectionResetError, BrokenPipeError):
            pass
        d.close()
        assert time.monotonic() < deadline, "a freed slot was not given back"
        time.sleep(0.05)
    d.close()
    b.close()
    assert glob(api, "conn_per_client_limit") >= 1


def test_max_connections_per_client_tcp(gh, api, origin):
    make(api, origin, None, listener={"max_connections_per_client": 1}, protocol="tcp")
    port = wait_port(api, gh, "l")
    a = socket.create_connection(("127.0.0.1", port), timeout=5)
    a.sendall(b"GET /x HTTP/1.1\r\nHost: app.test\r\n\r\n")
    assert a.recv(65536).startswith(b"HTTP/1.1 200")
    b = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        b.sendall(b"GET /x HTTP/1.1\r\nHost: app.test\r\n\r\n")
        got = b.recv(65536)
    except (ConnectionResetError, BrokenPipeError):
        got = b""
    assert got == b""
    a.close()
    b.close()


def test_validation(gh, api, origin):
    make(api, origin, {"name": "ok", "rate": 10})
    got = api.get("/rate_limits/ok").json()
    assert (got["per"], got["key"], got["max_keys"]) == ("second", "client_ip", 100000)
    for body, field in [({"name": "b"}, "rate"),
                        ({"name": "b", "rate": 0}, "rate"),
                        ({"name": "b", "rate": 1, "per": "day"}, "per"),
                        ({"name": "b", "rate": 1, "burst": 0}, "burst"),
                        ({"name": "b", "rate": 1, "key": "cookie"}, "key"),
                        ({"name": "b", "rate": 1, "key": "header:"}, "key"),
                        ({"name": "b", "rate": 1, "key": "header:a b"}, "key"),
                        ({"name": "b", "rate": 1, "max_keys": 10}, "max_keys")]:
        r = api.post("/rate_limits", body)
        assert r.status_code == 422, (body, r.text)
        assert problem_fields(r)[0][0] == field, (body, r.text)
    r = api.delete("/rate_limits/ok")
    assert r.status_code == 409 and "routes/r" in r.text
    r = api.post("/listeners", {"name": "u", "address": "127.0.0.1", "port": 0,
                                "protocol": "udp", "max_connections_per_client": 3})
    assert r.status_code == 422
    assert problem_fields(r)[0][0] == "listeners[u].max_connections_per_client"


def test_headers_on_allowed_answers(gh, api, origin):
    """Answers a rate limit let through carry RateLimit-Policy and RateLimit
    too: the requests left, and the seconds until the bucket is full."""
    make(api, origin, {"name": "api", "rate": 1, "per": "minute", "burst": 3})
    port = wait_port(api, gh, "l")
    s = requests.Session()
    url = "http://127.0.0.1:%d/x" % port
    seen = []
    for _ in range(4):
        r = s.get(url, headers={"Host": "app.test"}, timeout=5)
        seen.append((r.status_code, r.headers.get("RateLimit-Policy"),
                     r.headers.get("RateLimit")))
    pol = '"api";q=3;w=180'
    assert seen[0] == (200, pol, '"api";r=2;t=60'), seen
    assert seen[1] == (200, pol, '"api";r=1;t=120'), seen
    assert seen[2] == (200, pol, '"api";r=0;t=180'), seen
    assert seen[3][0] == 429 and seen[3][1] == pol, seen
    # a route without a rate limit says nothing
    api.ok("PATCH", "/routes/r", {"rate_limit": None})
    r = s.get(url, headers={"Host": "app.test"}, timeout=5)
    assert r.status_code == 200 and "RateLimit" not in r.headers


def test_max_connections_per_client_real_client(gh, api, origin):
    """Behind a PROXY protocol sender the limit counts the address of the
    PROXY header, not the sender; connections from a trusted proxy
    (X-Forwarded-For: clients known only per request) are not counted."""
    make(api, origin, None, listener={"max_connections_per_client": 1,
                                      "proxy_protocol_from": ["127.0.0.1"]})
    port = wait_port(api, gh, "l")

    def conn(src):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(("PROXY TCP4 %s 127.0.0.1 4000 %d\r\n" % (src, port)).encode())
        return s

    def ask(sock, extra=b""):
        try:
            sock.sendall(b"GET /x HTTP/1.1\r\nHost: app.test\r\n" + extra + b"\r\n")
            return sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            return b""

    a, b = conn("192.0.2.1"), conn("192.0.2.2")
    assert ask(a).startswith(b"HTTP/1.1 200") and ask(b).startswith(b"HTTP/1.1 200")
    c = conn("192.0.2.1")  # the second from one client
    assert ask(c) == b""
    for s in (a, b, c):
        s.close()
    assert glob(api, "conn_per_client_limit") >= 1
    # A trusted proxy's connections are not capped by the per-client limit.
    api.ok("PATCH", "/listeners/l", {"proxy_protocol_from": [],
                                     "trusted_proxies": ["127.0.0.1"]})
    deadline = time.monotonic() + 5
    while True:  # the new snapshot reaches the worker
        socks = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(3)]
        got = [ask(s, b"X-Forwarded-For: 198.51.100.%d\r\n" % i) for i, s in enumerate(socks)]
        for s in socks:
            s.close()
        if all(g.startswith(b"HTTP/1.1 200") for g in got):
            break
        assert time.monotonic() < deadline, got
        time.sleep(0.1)
    assert glob(api, "conn_per_client_proxy") >= 3
