"""Sticky sessions, passive health (issue 13).

The cookie names the server opaquely; a client that sends it back stays
on that server across 1,000 requests and across a configuration change;
a drained, disabled or down server breaks stickiness and the next answer
names another server. Passive health ejects a server answering 503
within consecutive_failures requests, brings it back after eject_s (then
twice as long on a repeat) and never ejects more than
max_ejected_percent of the servers.
"""

import http.client
import threading
import time

from apiclient import problem_fields, start_api, wait_port
from backends import StatusOrigin, closed_port, status_of


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


def passive_setup(gh, servers, **ph):
    api = start_api(gh)
    api.ok("POST", "/origins", {"name": "o", "passive_health": dict({
        "consecutive_failures": 3, "failure_statuses": [502, 503, 504],
        "eject_s": 2, "max_ejected_percent": 50}, **ph),
        "servers": [{"address": "127.0.0.1", "port": s.port} for s in servers]})
    api.ok("POST", "/listeners", {"name": "l", "address": "127.0.0.1", "port": 0})
    api.ok("POST", "/routes", {"name": "r", "listener": "l", "origin": "o",
                               "match": {"hosts": ["s.test"]}})
    return api, wait_port(api, gh, "l")


def test_passive_health_ejects_and_backs_off(gh):
    servers = [StatusOrigin("a"), StatusOrigin("b"), StatusOrigin("bad", 503)]
    try:
        api, port = passive_setup(gh, servers)
        assert api.get("/origins/o").json()["passive_health"]["failure_statuses"] == [502, 503, 504]
        got = [status_of(port) for _ in range(30)]
        # ejected within consecutive_failures of its answers
        assert [g for g in got if g[0] != 200] == [(503, "bad")] * 3, got
        assert servers[2].hits == 3
        gh.wait_for(r"origin o server 127\.0\.0\.1:%d ejected for 2s after 3 failures"
                    % servers[2].port, timeout=5)
        live = {b["server"]: b for b in api.get("/stats").json()["balance"]}
        bad = live["127.0.0.1:%d" % servers[2].port]
        assert bad["ejections"] == 1 and 0 < bad["ejected_ms"] <= 2000, bad
        assert "gatehouse_server_ejected{server_id=\"%d\"" % bad["id"] in api.get("/metrics").text
        # back after eject_s: it fails again, and is out twice as long
        time.sleep(2.2)
        got = [status_of(port) for _ in range(30)]
        assert [g for g in got if g[0] != 200] == [(503, "bad")] * 3, got
        gh.wait_for(r"server 127\.0\.0\.1:%d ejected for 4s" % servers[2].port,
                    timeout=5)
        # healthy again: after its ejection it serves, and stays
        servers[2].code = 200
        time.sleep(4.2)
        got = {status_of(port) for _ in range(30)}
        assert got == {(200, "a"), (200, "b"), (200, "bad")}, got
    finally:
        for s in servers:
            s.close()


def test_passive_health_max_ejected_percent(gh):
    servers = [StatusOrigin("a", 503), StatusOrigin("b", 503), StatusOrigin("c", 503)]
    try:
        api, port = passive_setup(gh, servers, eject_s=60)
        got = [status_of(port) for _ in range(40)]
        assert all(s == 503 for s, _ in got)
        # 50% of 3: one server out at most; the other two keep serving
        ejected = [ln for ln in gh.log_tail(2000).split("\n") if "ejected for 60s" in ln]
        assert len(ejected) == 1, ejected
        assert len({b for _, b in got[-10:]}) == 2, got
        # bad values are refused with their paths
        r = api.patch("/origins/o", {"passive_health": {"consecutive_failures": 0,
                                                        "failure_statuses": [99, "x"]}})
        assert r.status_code == 422, r.text
        fields = sorted(f for f, _ in problem_fields(r))
        assert fields == ["passive_health.consecutive_failures",
                          "passive_health.failure_statuses[0]",
                          "passive_health.failure_statuses[1]"], fields
    finally:
        for s in servers:
            s.close()


class Flaky:
    """An origin that resets a share of its requests: it reads the
    request, then closes with an RST instead of answering."""

    def __init__(self, name, reset_share, seed=89):
        import random
        import socket
        import struct
        self.name, self.share = name, reset_share
        self.rnd = random.Random(seed)
        self.lock = threading.Lock()
        self.accepted = self.requests = self.resets = 0
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(128)
        self.port = self.ls.getsockname()[1]
        self.linger = struct.pack("ii", 1, 0)
        self.socket = socket
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def accept_loop(self):
        while True:
            try:
                s, _ = self.ls.accept()
            except OSError:
                return
            with self.lock:
                self.accepted += 1
            threading.Thread(target=self.serve, args=(s,), daemon=True).start()

    def serve(self, s):
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    d = s.recv(65536)
                    if not d:
                        return
                    buf += d
                head, buf = buf.split(b"\r\n\r\n", 1)
                n = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        n = int(line.split(b":")[1])
                while len(buf) < n:
                    d = s.recv(65536)
                    if not d:
                        return
                    buf += d
                buf = buf[n:]
                with self.lock:
                    self.requests += 1
                    reset = self.rnd.random() < self.share
                    if reset:
                        self.resets += 1
                if reset:
                    s.setsockopt(self.socket.SOL_SOCKET, self.socket.SO_LINGER,
                                 self.linger)
                    return
                s.sendall(b"HTTP/1.1 200 OK\r\nX-Backend: %s\r\n"
                          b"Content-Length: 0\r\n\r\n" % self.name.encode())
        except OSError:
            pass
        finally:
            s.close()

    def close(self):
        self.ls.close()


def retry_setup(gh, servers, retries):
    api = start_api(gh)
    api.ok("POST", "/origins", {"name": "o", "servers": [
        {"address": "127.0.0.1", "port": s.port} for s in servers]})
    api.ok("POST", "/listeners", {"name": "l", "address": "127.0.0.1", "port": 0})
    api.ok("POST", "/routes", {"name": "r", "listener": "l", "origin": "o",
                               "match": {"hosts": ["s.test"]},
                               "retries": retries})
    return api, wait_port(api, gh, "l")


def request(port, method="GET", body=None, stream=False):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        h = {"Host": "s.test"}
        if stream:
            c.putrequest(method, "/", skip_host=True)
            c.putheader("Host", "s.test")
            c.putheader("Content-Length", str(len(body)))
            c.endheaders()
            for i in range(0, len(body), 16384):
                c.send(body[i:i + 16384])
                time.sleep(0.01)
        else:
            c.request(method, "/", body=body, headers=h)
        r = c.getresponse()
        r.read()
        return r.status
    except (OSError, http.client.HTTPException):
        return "reset"
    finally:
        c.close()


def test_retries_hide_resets_for_get(gh):
    servers = [Flaky("a", 0), Flaky("b", 0), Flaky("flaky", 0.3)]
    try:
        api, port = retry_setup(gh, servers, {
            "attempts": 2, "on": ["connect_error", "reset"], "budget_percent": 50})
        assert api.get("/routes/r").json()["retries"] == {
            "attempts": 2, "on": ["connect_error", "reset"], "budget_percent": 50}
        got = [request(port) for _ in range(300)]
        errors = [g for g in got if g != 200]
        print("retries: %d requests, %d resets on the flaky server, %d errors"
              % (len(got), servers[2].resets, len(errors)))
        assert servers[2].resets > 10
        assert errors == []
    finally:
        for s in servers:
            s.close()


def test_post_and_streamed_bodies_are_not_retried(gh):
    bad = Flaky("bad", 1.0)
    try:
        api, port = retry_setup(gh, [bad], {"attempts": 3})
        # GET: the first try and three more, on the only server there is
        assert request(port) == 502
        assert bad.requests == 4
        # POST is not idempotent: one try
        assert request(port, "POST", b"x" * 100) == 502
        assert bad.requests == 5
        # PUT is, but a body larger than what is held back streams: one try
        assert request(port, "PUT", b"y" * 300000, stream=True) in (502, "reset")
        time.sleep(0.3)
        assert bad.requests == 6, bad.requests
        # a small PUT is held whole: retried
        assert request(port, "PUT", b"z" * 100) == 502
        assert bad.requests == 10
    finally:
        bad.close()


def test_retry_budget_under_total_outage(gh):
    servers = [Flaky("a", 1.0, 1), Flaky("b", 1.0, 2), Flaky("c", 1.0, 3)]
    try:
        api, port = retry_setup(gh, servers, {"attempts": 3, "budget_percent": 20})
        got = [request(port) for _ in range(100)]
        assert set(got) == {502}, got
        tries = sum(s.requests for s in servers)
        print("outage: 100 requests, %d tries (no budget: 400)" % tries)
        # 20% of 100 and the reserve of 10
        assert 100 < tries <= 130, tries
        r = api.patch("/routes/r", {"retries": {"attempts": 11, "on": ["sometimes"]}})
        assert r.status_code == 422, r.text
        assert sorted(f for f, _ in problem_fields(r)) == [
            "retries.attempts", "retries.on[0]"], r.text
    finally:
        for s in servers:
            s.close()
