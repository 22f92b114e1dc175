"""Admin API authentication and authorization: every route but login and
healthz refuses unauthenticated access; a viewer cannot write; a cookie
session cannot write without its CSRF token; failed logins are throttled;
tokens are revocable and expire."""

import json
import re
import time

import pytest
import requests

from apiclient import Api, admin_password, login, problem_fields, start_api

PUBLIC = {("POST", "/api/v1/session"), ("GET", "/api/v1/healthz")}


def concrete(path):
    return re.sub(r"\{[^}]+\}", "1", path)


@pytest.fixture
def api(gh):
    return start_api(gh)


def test_every_route_refuses_unauthenticated(gh, api):
    doc = api.get("/openapi.json").json()
    routes = [(m.upper(), p) for p, ops in doc["paths"].items() for m in ops]
    assert len(routes) >= 45
    anon = Api(api.base)
    for method, path in routes:
        body = {} if method in ("POST", "PUT", "PATCH") else None
        r = anon.req(method, concrete(path), body)
        if (method, path) in PUBLIC:
            assert r.status_code != 401, (method, path)
            continue
        assert r.status_code == 401, (method, path, r.status_code, r.text)
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
        problem_fields(r)
        # A wrong token is no better.
        r = Api(api.base, token="gh_" + "0" * 64).req(method, concrete(path), body)
        assert r.status_code == 401, (method, path)
    assert anon.get("/healthz").json() == {"status": "ok"}
    # Unknown paths are 404, known paths with another method 405.
    assert api.get("/nothing-here").status_code == 404
    r = api.req("DELETE", "/config")
    assert r.status_code == 405 and "GET" in r.headers["Allow"]


def test_viewer_cannot_write(gh, api, origin):
    r = api.post("/tokens", {"name": "ro", "role": "viewer"})
    assert r.status_code == 201
    viewer = api.with_token(r.json()["token"])
    assert viewer.get("/config").status_code == 200
    assert viewer.get("/status").status_code == 200
    assert viewer.get("/metrics").status_code == 200
    rev = api.revision()
    writes = [
        ("POST", "/origins", {"name": "o", "servers": [{"address": "127.0.0.1",
                                                       "port": origin.port}]}),
        ("PUT", "/config", {"listeners": [], "origins": [], "routes": []}),
        ("PATCH", "/config", []),
        ("POST", "/tokens", {"name": "evil", "role": "admin"}),
        ("POST", "/users", {"name": "evil", "password": "password123"}),
        ("DELETE", "/tokens/ro", None),
        ("POST", "/revisions/1/restore", None),
    ]
    for method, path, body in writes:
        r = viewer.req(method, path, body)
        assert r.status_code == 403, (method, path, r.text)
    assert api.revision() == rev
    # The dry run is allowed: it changes nothing.
    assert viewer.post("/config/validate", []).status_code == 200


def test_cookie_session_needs_csrf(gh, api, origin):
    sess, csrf = login(api.base, "admin", admin_password(gh))
    cookie = [c for c in sess.s.cookies][0]
    assert cookie.name == "gatehouse_session"
    assert cookie.has_nonstandard_attr("HttpOnly")
    body = {"name": "o", "servers": [{"address": "127.0.0.1", "port": origin.port}]}
    sess.csrf = None
    assert sess.post("/origins", body).status_code == 403
    sess.csrf = "x" * 64
    assert sess.post("/origins", body).status_code == 403
    assert api.get("/origins").json() == []
    sess.csrf = csrf
    assert sess.get("/session").json()["via"] == "session"
    r = sess.post("/origins", body)
    assert r.status_code == 201, r.text
    assert api.get("/revisions").json()[0]["actor"] == "admin"
    # Logout ends the session.
    assert sess.delete("/session").status_code == 204
    assert sess.get("/config").status_code == 401


def test_login_set_cookie_attributes(gh, api):
    r = requests.post(api.base + "/api/v1/session", timeout=10,
                      headers={"Content-Type": "application/json"},
                      data=json.dumps({"username": "admin", "password": admin_password(gh)}))
    sc = r.headers["Set-Cookie"]
    assert "HttpOnly" in sc and "SameSite=Strict" in sc and "Path=/" in sc
    assert "Secure" not in sc  # plain HTTP on loopback


def test_failed_logins_are_throttled(gh, api):
    anon = Api(api.base)
    for _ in range(5):
        r = anon.post("/session", {"username": "admin", "password": "wrong-password"})
        assert r.status_code == 401
    r = anon.post("/session", {"username": "admin", "password": admin_password(gh)})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    r = anon.post("/session", {"username": "admin", "pasword": "x"})
    assert r.status_code == 429
    # Tokens are unaffected; the refusals are counted.
    assert api.get("/config").status_code == 200
    g = api.get("/stats").json()["global"]
    assert g["api_login_failed"] == 5 and g["api_login_throttled"] == 2
    assert g["api_invalid"] == 0 and g["api_requests"] >= 9


def test_login_validation(gh, api):
    anon = Api(api.base)
    r = anon.post("/session", {"username": "admin"})
    assert r.status_code == 422 and problem_fields(r)[0][0] == "password"
    r = anon.post("/session", {"username": "admin", "password": "x", "remember": True})
    assert r.status_code == 422 and problem_fields(r)[0][0] == "remember"
    r = anon.post("/session", {"username": "nobody", "password": "whatever1"})
    assert r.status_code == 401


def test_tokens_revocable_and_expiring(gh, api):
    # Long enough to be used first on a loaded machine; then polled.
    r = api.post("/tokens", {"name": "short", "role": "admin", "expires_in": 4})
    assert r.status_code == 201
    tok = r.json()["token"]
    assert r.json()["expires_at"] > time.time()
    short = api.with_token(tok)
    assert short.get("/config").status_code == 200
    # Listed without the secret.
    listed = api.get("/tokens").json()
    assert all("token" not in t for t in listed)
    assert "short" in [t["name"] for t in listed]
    deadline = time.monotonic() + 20
    while short.get("/config").status_code != 401:
        assert time.monotonic() < deadline, "the token did not expire"
        time.sleep(0.25)
    assert time.time() >= r.json()["expires_at"]
    r = api.post("/tokens", {"name": "rev", "role": "viewer"})
    rev = api.with_token(r.json()["token"])
    assert rev.get("/config").status_code == 200
    assert api.delete("/tokens/rev").status_code == 204
    assert rev.get("/config").status_code == 401
    r = api.post("/tokens", {"name": "bad", "role": "root"})
    assert r.status_code == 422 and problem_fields(r)[0][0] == "role"
    r = api.post("/tokens", {"name": "short", "role": "viewer"})
    assert r.status_code == 409


def test_users(gh, api):
    r = api.post("/users", {"name": "alice", "password": "alice-pass-1", "role": "viewer"})
    assert r.status_code == 201, r.text
    assert "password" not in r.json() and r.json()["role"] == "viewer"
    alice, _ = login(api.base, "alice", "alice-pass-1")
    assert alice.get("/config").status_code == 200
    assert alice.post("/config/validate", []).status_code == 200
    assert alice.put("/config", {}).status_code == 403
    r = api.post("/users", {"name": "bob", "password": "short"})
    assert r.status_code == 422 and problem_fields(r)[0][0] == "password"
    # Promote alice, change her password: old sessions end.
    assert api.patch("/users/alice", {"role": "admin", "password": "alice-pass-2"}).status_code == 200
    assert alice.get("/config").status_code == 401
    alice, _ = login(api.base, "alice", "alice-pass-2")
    assert alice.get("/session").json()["role"] == "admin"
    # The last admin cannot go.
    assert api.delete("/users/alice").status_code == 204
    assert api.delete("/users/admin").status_code == 409
    assert api.patch("/users/admin", {"role": "viewer"}).status_code == 409
    # Users are stored with argon2id hashes.
    rows = gh.sql("SELECT password_hash FROM users")
    assert rows and all(h.startswith("$argon2id$") for (h,) in rows)
