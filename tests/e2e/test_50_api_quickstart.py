"""The admin API as a new user meets it: curl and doc/api.md only.

Log in, make a token, create an origin with two servers, a listener and a
route, reach the origin through gatehoused, then move the route to another
origin and see the very next request go there, all without a restart.
"""

import json
import os
import subprocess

from apiclient import ADMIN_RE
from conftest import curl


def api_curl(base, method, path, body=None, jar=None, headers=(), save_jar=False):
    cmd = ["curl", "-sS", "--max-time", "20", "-w", "\n%{http_code}", "-X", method]
    if jar:
        cmd += ["-c" if save_jar else "-b", jar]
    for h in headers:
        cmd += ["-H", h]
    if body is not None:
        cmd += ["-H", "Content-Type: application/json", "-d", json.dumps(body)]
    cmd.append(base + path)
    out = subprocess.run(cmd, capture_output=True, check=True, text=True).stdout
    text, _, code = out.rpartition("\n")
    return int(code), (json.loads(text) if text.strip() else None)


def test_quickstart_live_change(gh, origin_factory, tmp_path):
    a1, a2, b = origin_factory("a1"), origin_factory("a2"), origin_factory("b")
    gh.start(args=["--admin-listen", "127.0.0.1:0"])
    m = gh.wait_for(ADMIN_RE)
    base = "http://127.0.0.1:%s/api/v1" % m.group(3)
    pid = gh.proc.pid
    with open(os.path.join(gh.dir, "admin-password")) as f:
        password = f.read().strip()
    assert os.stat(os.path.join(gh.dir, "admin-password")).st_mode & 0o777 == 0o600
    assert gh.log_has(r"\[info\] first start: user admin, password in .*admin-password")

    jar = str(tmp_path / "jar")
    code, doc = api_curl(base, "POST", "/session", {"username": "admin", "password": password},
                         jar=jar, save_jar=True)
    assert code == 200 and doc["csrf_token"]
    csrf = doc["csrf_token"]
    code, doc = api_curl(base, "POST", "/tokens", {"name": "ci", "role": "admin"}, jar=jar,
                         headers=["X-CSRF-Token: " + csrf])
    assert code == 201, doc
    auth = "Authorization: Bearer " + doc["token"]

    code, doc = api_curl(base, "POST", "/origins", {"name": "web", "servers": [
        {"address": "127.0.0.1", "port": a1.port, "weight": 1},
        {"address": "127.0.0.1", "port": a2.port, "weight": 1}]}, headers=[auth])
    assert code == 201, doc
    assert [s["port"] for s in doc["servers"]] == [a1.port, a2.port]
    code, doc = api_curl(base, "POST", "/origins", {"name": "other", "servers": [
        {"address": "127.0.0.1", "port": b.port}]}, headers=[auth])
    assert code == 201, doc
    code, doc = api_curl(base, "POST", "/listeners", {"name": "public", "address": "127.0.0.1",
                                                      "port": 0, "protocol": "http"},
                         headers=[auth])
    assert code == 201, doc
    code, doc = api_curl(base, "POST", "/routes", {
        "name": "app", "listener": "public",
        "match": {"hosts": ["app.example"], "path_prefix": "/"}, "origin": "web"},
        headers=[auth])
    assert code == 201, doc

    code, st = api_curl(base, "GET", "/status", headers=[auth])
    assert code == 200 and st["in_sync"], st
    port = [ls["port"] for ls in st["listeners"] if ls["name"] == "public"][0]
    seen = set()
    for _ in range(4):
        r = curl(port, "/", host="app.example")
        assert r.status == 200, r
        seen.add(r.header("X-Backend"))
    assert seen == {"a1", "a2"}

    code, doc = api_curl(base, "PATCH", "/routes/app", {"origin": "other"}, headers=[auth])
    assert code == 200 and doc["origin"] == "other", doc
    r = curl(port, "/", host="app.example")
    assert r.status == 200 and r.header("X-Backend") == "b", r

    # The documented PATCH example works as written.
    code, doc = api_curl(base, "PATCH", "/routes/app", {
        "forwarded": True, "max_body_bytes": 16777216, "timeouts": {"response_ms": 5000}},
        headers=[auth])
    assert code == 200, doc
    assert doc["forwarded"] is True and doc["timeouts"] == {"response_ms": 5000}
    r = curl(port, "/", host="app.example")
    assert r.status == 200, r
    assert "Forwarded" in [k for k, _ in r.json()["headers"]], r.body
    assert gh.proc.pid == pid and gh.proc.poll() is None
