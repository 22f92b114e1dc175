"""Maintenance mode (issue 12, item 8).

A route with maintenance.enabled answers 503 with Retry-After (when
retry_after_s is set) to every client outside maintenance.allow, without
asking its origin; turned on and off live, counted and logged."""

import json

import pytest

from apiclient import problem_fields, start_api, wait_port
from backends import parse_responses, raw_exchange


def get(port, host="127.0.0.1", xff=None):
    head = b"GET /x HTTP/1.1\r\nHost: app.test\r\n"
    if xff:
        head += b"X-Forwarded-For: " + xff.encode() + b"\r\n"
    data, _ = raw_exchange(port, head + b"Connection: close\r\n\r\n", host=host)
    return parse_responses(data)[0]


@pytest.fixture
def api(gh):
    return start_api(gh)


def base(gh, api, origin):
    api.ok("POST", "/listeners", {"name": "l", "address": "127.0.0.1",
                                  "port": 0}, status=201)
    api.ok("POST", "/origins", {"name": "o", "servers": [
        {"address": "127.0.0.1", "port": origin.port}]}, status=201)
    api.ok("POST", "/routes", {"name": "r", "listener": "l", "origin": "o"},
           status=201)
    return wait_port(api, gh, "l")


def test_toggle_live_with_retry_after(gh, api, origin):
    port = base(gh, api, origin)
    assert get(port).status == 200
    r = api.ok("PATCH", "/routes/r", {"maintenance": {"enabled": True,
                                                      "retry_after_s": 600}})
    assert r.json()["maintenance"] == {"enabled": True, "retry_after_s": 600,
                                       "allow": []}
    before = len(origin.requests)
    resp = get(port)
    assert resp.status == 503 and resp.header("retry-after") == "600"
    assert b"maintenance" in resp.body
    assert len(origin.requests) == before  # the origin was not asked
    st = json.dumps(api.get("/stats").json())
    assert "req_route_maintenance" in st
    api.ok("PATCH", "/routes/r", {"maintenance": {"enabled": False}})
    assert get(port).status == 200


def test_allow_list_still_served(gh, api, origin):
    port = base(gh, api, origin)
    api.ok("PATCH", "/routes/r", {"maintenance": {
        "enabled": True, "allow": ["127.0.0.0/8", "2001:db8::/32"]}})
    assert get(port).status == 200
    ex = api.ok("POST", "/explain", {"listener": "l", "host": "app.test",
                                     "path": "/x", "client_ip": "10.1.2.3"}, status=200)
    assert ex.json()["status"] == 503 and ex.json()["decision"] == "maintenance"
    ex = api.ok("POST", "/explain", {"listener": "l", "host": "app.test",
                                     "path": "/x", "client_ip": "127.0.0.1"}, status=200)
    assert ex.json()["status"] == 200
    api.ok("PATCH", "/routes/r", {"maintenance": {"allow": ["10.0.0.0/8"]}})
    resp = get(port)
    assert resp.status == 503 and resp.header("retry-after") is None


def test_bad_values_refused(gh, api, origin):
    base(gh, api, origin)
    r = api.patch("/routes/r", {"maintenance": {"allow": ["10.0.0.0/33"]}})
    assert r.status_code == 422
    assert problem_fields(r)[0][0].endswith("maintenance.allow[0]")
    r = api.patch("/routes/r", {"maintenance": {"retry_after_s": -1}})
    assert r.status_code == 422
    assert problem_fields(r)[0][0].endswith("maintenance.retry_after_s")


def test_access_log_says_maintenance(gh, origin, tmp_path):
    log = tmp_path / "access.log"
    gh.add_listener("l")
    gh.add_origin("o", [(origin.host, origin.port)])
    gh.add_route("r", "l", "o", maintenance_enabled=1,
                 maintenance_retry_after_s=30)
    gh.start(access_log=str(log))
    resp = get(gh.ports["l"])
    assert resp.status == 503 and resp.header("retry-after") == "30"
    gh.stop()
    line = json.loads(log.read_text().splitlines()[-1])
    assert line["decision"] == "maintenance" and line["status"] == 503
