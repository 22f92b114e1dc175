"""apiclient.py: the admin API from the tests' side.

start_api(gh) starts the daemon of the conftest `gh` fixture with its admin
listener on 127.0.0.1:0, reads the real port from the "admin API listening
on" line and returns an Api logged in as the first-start admin (password
from <db dir>/admin-password) through a bearer token it creates. Api wraps
python3-requests; every write sends Content-Type: application/json.
"""

import json
import os
import re

import requests

ADMIN_RE = r"\[info\] admin API listening on (https?)://([^ ]+):(\d+)/"


class Api:
    def __init__(self, base, token=None, session=None, csrf=None):
        self.base = base
        self.token = token
        self.s = session or requests.Session()
        self.csrf = csrf

    def url(self, path):
        return self.base + ("/api/v1" + path if not path.startswith("/api/") else path)

    def req(self, method, path, body=None, headers=None, raw=None, auth=True,
            ctype="application/json", timeout=30):
        h = {}
        if self.token and auth:
            h["Authorization"] = "Bearer " + self.token
        if self.csrf and auth:
            h["X-CSRF-Token"] = self.csrf
        data = raw
        if body is not None:
            data = json.dumps(body)
        if data is not None and ctype:
            h["Content-Type"] = ctype
        h.update(headers or {})
        return self.s.request(method, self.url(path), data=data, headers=h,
                              timeout=timeout)

    def get(self, path, **kw):
        return self.req("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.req("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.req("PUT", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.req("PATCH", path, body, **kw)

    def delete(self, path, **kw):
        return self.req("DELETE", path, **kw)

    def ok(self, method, path, body=None, status=None, **kw):
        r = self.req(method, path, body, **kw)
        want = status or (201 if method == "POST" and path.count("/") == 1 else 200)
        assert r.status_code == want, "%s %s -> %d %s" % (method, path, r.status_code, r.text)
        return r

    def revision(self):
        return int(self.get("/config").headers["ETag"].strip('"'))

    def status(self):
        r = self.get("/status")
        assert r.status_code == 200, r.text
        return r.json()

    def bound_port(self, listener):
        for ls in self.status()["listeners"]:
            if ls["name"] == listener and ls["bound"]:
                return ls["port"]
        return None

    def with_token(self, token):
        return Api(self.base, token=token)


def admin_password(gh):
    with open(os.path.join(os.path.dirname(gh.db_path), "admin-password")) as f:
        return f.read().strip()


def login(base, user, password):
    """A cookie session: returns (Api without token, csrf_token)."""
    s = requests.Session()
    r = s.post(base + "/api/v1/session", data=json.dumps({"username": user, "password": password}),
               headers={"Content-Type": "application/json"}, timeout=30)
    assert r.status_code == 200, r.text
    csrf = r.json()["csrf_token"]
    return Api(base, session=s, csrf=csrf), csrf


def admin_base(gh, since=0):
    m = gh.wait_for(ADMIN_RE, since=since)
    return "%s://127.0.0.1:%s" % (m.group(1), m.group(3))


def start_api(gh, args=(), role="admin"):
    """Starts gh with the admin API on port 0; returns an Api with a token."""
    gh.start(args=["--admin-listen", "127.0.0.1:0"] + list(args))
    base = admin_base(gh)  # start() begins a new log
    sess, _ = login(base, "admin", admin_password(gh))
    r = sess.post("/tokens", {"name": "t-%s-%d" % (role, os.getpid()), "role": role})
    assert r.status_code == 201, r.text
    return Api(base, token=r.json()["token"])


def restart_api(gh, api, args=()):
    """Starts gh again (same database) and points <api> at the new port."""
    gh.start(args=["--admin-listen", "127.0.0.1:0"] + list(args))
    api.base = admin_base(gh)
    return api


def wait_port(api, gh, listener, timeout=5):
    """The bound port of <listener>, from /status."""
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        p = api.bound_port(listener)
        if p:
            return p
        time.sleep(0.05)
    raise AssertionError("listener %s not bound: %s" % (listener, api.status()))


def problem_fields(r):
    assert r.headers.get("Content-Type", "").startswith("application/problem+json"), r.headers
    doc = r.json()
    assert doc["status"] == r.status_code
    return [(e["field"], e["message"]) for e in doc.get("errors", [])]


def valid_name(s):
    return re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", s) is not None
