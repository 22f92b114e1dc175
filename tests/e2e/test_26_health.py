"""Active health checks: a server failing its check gets no traffic, comes
back when it passes again, and when every server fails they are all
tried. Settings through the admin API, with field errors."""

import time

import pytest

from apiclient import problem_fields, start_api, wait_port
from backends import StatusOrigin
from conftest import curl


class Switchable(StatusOrigin):
    """An origin whose /hc answers 200 or 503 at the test's will."""

    def __init__(self, name):
        self.healthy = True
        self.methods = []  # of the checks
        super().__init__(name)

    def status(self, method, path):
        if path == "/hc":
            self.methods.append(method)
            return 200 if self.healthy else 503
        self.hits += 1
        return 200


@pytest.fixture
def pair():
    a, b = Switchable("a"), Switchable("b")
    yield a, b
    a.close()
    b.close()


def backends(port, n=12):
    seen = []
    for _ in range(n):
        r = curl(port, "/", "hc.test")
        assert r.status == 200, r
        seen.append(r.header("x-backend"))
    return seen


# Generous timeout: CI machines are busy, and a slow answer must not be
# mistaken for the 503 the test asks for.
HC = {"path": "/hc", "interval_ms": 400, "timeout_ms": 350, "rise": 1, "fall": 1}


def test_down_server_gets_no_traffic_then_returns(gh, pair):
    a, b = pair
    api = start_api(gh)
    api.ok("POST", "/origins", {"name": "o", "health_check": HC, "servers": [
        {"address": "127.0.0.1", "port": a.port},
        {"address": "127.0.0.1", "port": b.port}]})
    api.ok("POST", "/listeners", {"name": "l", "address": "127.0.0.1", "port": 0})
    api.ok("POST", "/routes", {"name": "r", "listener": "l", "origin": "o",
                               "match": {"hosts": ["hc.test"]}})
    port = wait_port(api, gh, "l")
    assert set(backends(port)) == {"a", "b"}

    b.healthy = False
    gh.wait_for(r"origin o server 127\.0\.0\.1:%d is down: status 503" % b.port,
                timeout=15)
    assert set(backends(port)) == {"a"}
    health = {h["server"]: h for h in api.get("/stats").json()["health"]}
    hb = health["127.0.0.1:%d" % b.port]
    assert hb["state"] == "down" and hb["last_error"] == "status 503", hb
    assert health["127.0.0.1:%d" % a.port]["state"] == "up"

    # State is keyed by server id: an unrelated change keeps b down.
    api.ok("POST", "/routes", {"name": "other", "listener": "l", "origin": "o",
                               "match": {"hosts": ["other.test"]}})
    assert set(backends(port)) == {"a"}

    b.healthy = True
    gh.wait_for(r"origin o server 127\.0\.0\.1:%d is up" % b.port, timeout=15)
    assert set(backends(port)) == {"a", "b"}


def test_all_down_still_tries_everyone(gh, pair):
    a, b = pair
    api = start_api(gh)
    api.ok("POST", "/origins", {"name": "o", "health_check": HC, "servers": [
        {"address": "127.0.0.1", "port": a.port},
        {"address": "127.0.0.1", "port": b.port}]})
    api.ok("POST", "/listeners", {"name": "l", "address": "127.0.0.1", "port": 0})
    api.ok("POST", "/routes", {"name": "r", "listener": "l", "origin": "o",
                               "match": {"hosts": ["hc.test"]}})
    port = wait_port(api, gh, "l")
    a.healthy = b.healthy = False
    gh.wait_for(r"server 127\.0\.0\.1:%d is down" % a.port)
    gh.wait_for(r"server 127\.0\.0\.1:%d is down" % b.port)
    assert set(backends(port)) == {"a", "b"}


def test_refused_connect_marks_down_and_check_is_optional(gh, pair):
    a, b = pair
    api = start_api(gh)
    api.ok("POST", "/origins", {"name": "o", "health_check": HC, "servers": [
        {"address": "127.0.0.1", "port": a.port},
        {"address": "127.0.0.1", "port": b.port}]})
    doc = api.get("/origins/o").json()
    assert doc["health_check"]["path"] == "/hc" and doc["health_check"]["fall"] == 1
    b.close()
    gh.wait_for(r"server 127\.0\.0\.1:%d is down: " % b.port)
    # Removing the check makes the server usable (unchecked) again.
    api.ok("PATCH", "/origins/o", {"health_check": None})
    assert api.get("/origins/o").json()["health_check"] is None
    health = {h["server"]: h["state"] for h in api.get("/stats").json()["health"]}
    assert health["127.0.0.1:%d" % b.port] == "unchecked"


@pytest.mark.parametrize("hc,field", [
    ({"interval_ms": 1000}, "health_check.path"),
    ({"path": "nope"}, "health_check.path"),
    ({"path": "/", "interval_ms": 50}, "health_check.interval_ms"),
    ({"path": "/", "interval_ms": 1000, "timeout_ms": 1000}, "health_check.timeout_ms"),
    ({"path": "/", "status_min": 300, "status_max": 200}, "health_check.status_max"),
    ({"path": "/", "rise": 0}, "health_check.rise"),
    ({"path": "/", "host": "a b"}, "health_check.host"),
    ({"path": "/", "every": 1}, "health_check.every"),
    ({"path": "/", "method": "POST"}, "health_check.method"),
])
def test_bad_health_check_is_422(gh, hc, field):
    api = start_api(gh)
    rev = api.revision()
    r = api.post("/origins", {"name": "o", "health_check": hc,
                              "servers": [{"address": "127.0.0.1", "port": 1}]})
    assert r.status_code == 422, r.text
    assert field in [f for f, _ in problem_fields(r)], r.text
    assert api.revision() == rev


def test_check_method(gh, pair):
    """GET by default; HEAD or OPTIONS when the origin asks (schema 0007)."""
    a, _ = pair
    api = start_api(gh)
    api.ok("POST", "/origins", {"name": "o", "health_check": HC, "servers": [
        {"address": "127.0.0.1", "port": a.port}]})
    assert api.get("/origins/o").json()["health_check"]["method"] == "GET"
    deadline = time.monotonic() + 20
    while "GET" not in a.methods and time.monotonic() < deadline:
        time.sleep(0.05)
    assert a.methods and set(a.methods) == {"GET"}, a.methods
    for method in ("HEAD", "OPTIONS"):
        api.ok("PATCH", "/origins/o", {"health_check": {"method": method}})
        assert api.get("/origins/o").json()["health_check"]["method"] == method
        deadline = time.monotonic() + 20
        while method not in a.methods and time.monotonic() < deadline:
            time.sleep(0.05)
        assert a.methods[-1] == method, a.methods
