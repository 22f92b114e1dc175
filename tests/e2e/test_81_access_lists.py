"""Access lists (a kind) attached to routes with "access_list": addresses
allowed and denied (deny wins; overlapping blocks, IPv6), basic auth users
whose passwords are hashed on write and never returned, satisfy any/all,
401 with WWW-Authenticate, 403, 429 after repeated failures, the client
address behind trusted proxies, counters and the access log."""

import base64
import crypt
import json

import pytest

from apiclient import problem_fields, start_api, wait_port
from backends import parse_responses, raw_exchange
from test_31_access_log import read_log


@pytest.fixture
def api(gh):
    return start_api(gh)


def make_acl(api, origin, acl, listener=None):
    api.ok("POST", "/origins", {"name": "o", "servers": [
        {"address": "127.0.0.1", "port": origin.port}]}, status=201)
    api.ok("POST", "/listeners", dict({"name": "l", "address": "127.0.0.1", "port": 0},
                                      **(listener or {})), status=201)
    r = api.post("/access_lists", acl)
    assert r.status_code == 201, r.text
    api.ok("POST", "/routes", {"name": "r", "listener": "l", "origin": "o",
                               "match": {"hosts": ["app.test"]},
                               "access_list": acl["name"]}, status=201)
    return r.json()


def get(port, auth=None, xff=None, ka=False):
    head = b"GET /x HTTP/1.1\r\nHost: app.test\r\n"
    if auth is not None:
        head += b"Authorization: Basic " + base64.b64encode(auth.encode()) + b"\r\n"
    if xff is not None:
        head += b"X-Forwarded-For: " + xff.encode() + b"\r\n"
    if not ka:
        head += b"Connection: close\r\n"
    data, _ = raw_exchange(port, head + b"\r\n")
    return parse_responses(data)[0]


def counter(api, name):
    return api.get("/stats").json()["global"][name]


def test_passwords_hashed_never_returned(gh, api, origin):
    it = make_acl(api, origin, {"name": "office", "allow": ["10.0.0.0/8", "2001:db8::/32"],
                             "deny": ["10.9.0.0/16"], "default": "deny",
                             "basic_auth": {"realm": "Staff", "users": [
                                 {"username": "ann", "password": "s3cret"}]},
                             "satisfy": "any"})
    users = it["basic_auth"]["users"]
    assert [u["username"] for u in users] == ["ann"]
    text = json.dumps(api.get("/config").json()) + json.dumps(api.get("/access_lists").json())
    text += json.dumps(api.get("/revisions/%d" % api.revision()).json())
    assert "s3cret" not in text and "argon2" not in text and "password_hash" not in text
    stored = gh.sql("SELECT password_hash FROM access_list_users")[0][0]
    assert stored.startswith("$argon2id$")
    # GET then PUT /config keeps the password (nothing changes).
    doc = api.get("/config").json()
    r = api.put("/config", doc)
    assert r.status_code == 200 and r.json()["changes"] == [], r.text
    assert gh.sql("SELECT password_hash FROM access_list_users")[0][0] == stored
    port = wait_port(api, gh, "l")
    assert get(port, "ann:s3cret").status == 200
    # A new password is a change; the old one stops working.
    tag = users[0]["password_tag"]
    r = api.ok("PATCH", "/access_lists/office", {"basic_auth": {"realm": "Staff", "users": [
        {"username": "ann", "password": "n3w"}]}})
    assert r.json()["basic_auth"]["users"][0]["password_tag"] != tag
    assert get(port, "ann:s3cret").status == 401
    assert get(port, "ann:n3w").status == 200


def test_basic_auth_401_and_wrong_password(gh, api, origin):
    make_acl(api, origin, {"name": "staff", "basic_auth": {"realm": "Staff", "users": [
        {"username": "ann", "password": "s3cret"}]}})
    port = wait_port(api, gh, "l")
    r = get(port)
    assert r.status == 401
    assert r.header("www-authenticate") == 'Basic realm="Staff", charset="UTF-8"'
    assert get(port, "ann:wrong").status == 401
    assert get(port, "bob:s3cret").status == 401
    r = get(port, "ann:s3cret")
    assert r.status == 200
    # Keep-alive requests with the same credentials hash once per worker.
    before = counter(api, "access_auth_cached")
    for _ in range(3):
        assert get(port, "ann:s3cret").status == 200
    assert counter(api, "access_auth_cached") >= before + 3
    assert counter(api, "access_auth_failed") >= 2
    assert counter(api, "access_auth_required") >= 1
    recs = read_log(gh.access_log, 7)
    assert recs[0]["status"] == 401 and recs[0]["decision"] == "access_list:auth_required"
    assert recs[1]["decision"] == "access_list:auth_failed"
    assert recs[3]["status"] == 200 and recs[3]["user"] == "ann"


def test_address_rules(gh, api, origin):
    """Deny wins over allow, overlapping blocks, IPv6 (through trusted
    proxies, so the test can pick its client address)."""
    make_acl(api, origin, {"name": "office", "allow": ["10.0.0.0/8", "2001:db8::/32"],
                        "deny": ["10.9.0.0/16", "2001:db8:bad::/48"]},
          listener={"trusted_proxies": ["127.0.0.1"]})
    port = wait_port(api, gh, "l")
    assert get(port, xff="10.1.2.3").status == 200
    assert get(port, xff="10.9.2.3").status == 403          # deny inside allow
    assert get(port, xff="192.0.2.1").status == 403         # default deny
    assert get(port, xff="2001:db8::1").status == 200
    assert get(port, xff="2001:db8:bad::1").status == 403
    assert get(port, xff="2001:db9::1").status == 403
    # A forged entry left of the real client changes nothing.
    assert get(port, xff="10.1.2.3, 192.0.2.1").status == 403
    assert counter(api, "access_denied") >= 5
    recs = read_log(gh.access_log, 7)
    assert recs[1]["client"] == "10.9.2.3"
    assert recs[1]["decision"] == "access_list:address_denied"


def test_satisfy_any_and_all(gh, api, origin):
    make_acl(api, origin, {"name": "mix", "allow": ["10.0.0.0/8"], "satisfy": "any",
                        "basic_auth": {"users": [{"username": "ann", "password": "pw1"}]}},
          listener={"trusted_proxies": ["127.0.0.1"]})
    port = wait_port(api, gh, "l")
    assert get(port, xff="10.0.0.1").status == 200                # address enough
    r = get(port, xff="192.0.2.1")
    assert r.status == 401 and 'realm="Restricted"' in r.header("www-authenticate")
    assert get(port, "ann:pw1", xff="192.0.2.1").status == 200    # password enough
    assert get(port, "ann:pw1", xff="10.9.0.1").status == 200
    api.ok("PATCH", "/access_lists/mix", {"satisfy": "all", "deny": ["10.9.0.0/16"]})
    assert get(port, xff="10.0.0.1").status == 401                # both needed
    assert get(port, "ann:pw1", xff="10.0.0.1").status == 200
    assert get(port, "ann:pw1", xff="192.0.2.1").status == 403
    assert get(port, "ann:pw1", xff="10.9.0.1").status == 403     # deny wins


def test_imported_crypt_hashes(gh, api, origin):
    sha = crypt.crypt("pw-sha", crypt.mksalt(crypt.METHOD_SHA512))
    bcrypt = crypt.crypt("pw-bc", "$2b$05$" + "abcdefghijklmnopqrstuv")
    make_acl(api, origin, {"name": "imp", "basic_auth": {"users": [
        {"username": "s", "password_hash": sha},
        {"username": "b", "password_hash": bcrypt}]}})
    port = wait_port(api, gh, "l")
    assert get(port, "s:pw-sha").status == 200
    assert get(port, "s:pw-bc").status == 401
    if bcrypt and bcrypt.startswith("$2b$"):
        assert get(port, "b:pw-bc").status == 200


def test_failures_throttled(gh, api, origin):
    make_acl(api, origin, {"name": "t", "basic_auth": {"users": [
        {"username": "ann", "password": "right"}]}})
    port = wait_port(api, gh, "l")
    codes = [get(port, "ann:wrong%d" % i).status for i in range(12)]
    assert codes[:10] == [401] * 10, codes
    assert 429 in codes[10:], codes
    r = get(port, "ann:right")
    assert r.status == 429 and int(r.header("retry-after")) > 0
    assert counter(api, "access_throttled") >= 2


def test_validation_and_references(gh, api, origin):
    make_acl(api, origin, {"name": "a", "allow": ["10.0.0.0/8"]})
    bad = [
        ({"name": "b", "allow": ["10.0.0.0/33"]}, "allow[0]"),
        ({"name": "b", "deny": ["nope"]}, "deny[0]"),
        ({"name": "b", "default": "maybe"}, "default"),
        ({"name": "b", "satisfy": "some"}, "satisfy"),
        ({"name": "b", "basic_auth": {"realm": 'a"b'}}, "basic_auth.realm"),
        ({"name": "b", "basic_auth": {"users": [{"username": "a:b", "password": "x"}]}},
         "basic_auth.users[0].username"),
        ({"name": "b", "basic_auth": {"users": [{"username": "ann"}]}},
         "basic_auth.users[0].password"),
        ({"name": "b", "basic_auth": {"users": [{"username": "ann",
                                                 "password_hash": "plain"}]}},
         "basic_auth.users[0].password_hash"),
    ]
    for body, field in bad:
        r = api.post("/access_lists", body)
        assert r.status_code == 422, (body, r.text)
        assert problem_fields(r)[0][0] == field, (body, r.text)
    r = api.patch("/routes/r", {"access_list": "missing"})
    assert r.status_code == 422, r.text
    assert problem_fields(r)[0][0] == "access_list"
    r = api.delete("/access_lists/a")
    assert r.status_code == 409 and "routes/r" in r.text, r.text
    api.ok("PATCH", "/routes/r", {"access_list": None})
    assert api.delete("/access_lists/a").status_code == 204


def test_explain(gh, api, origin):
    """POST /explain: the route, its policies and the decision, nothing sent."""
    make_acl(api, origin, {"name": "office", "allow": ["10.0.0.0/8"], "deny": ["10.9.0.0/16"],
                           "basic_auth": {"realm": "Staff", "users": [
                               {"username": "ann", "password": "pw"}]}},
             listener={"trusted_proxies": ["192.0.2.1"]})
    api.ok("POST", "/rate_limits", {"name": "api", "rate": 1, "per": "hour", "burst": 1},
           status=201)
    api.ok("PATCH", "/routes/r", {"rate_limit": "api"})
    seen = len(origin.paths()) if hasattr(origin, "paths") else None

    def explain(**kw):
        body = dict({"listener": "l", "host": "app.test", "path": "/x"}, **kw)
        r = api.post("/explain", body)
        assert r.status_code == 200, r.text
        return r.json()

    e = explain(client_ip="10.1.1.1")
    assert (e["route"], e["origin"], e["decision"], e["status"]) == ("r", "o", "allowed", 200)
    assert e["policies"]["access_list"]["name"] == "office"
    assert e["policies"]["rate_limit"]["remaining"] == 1
    # Explaining takes no token: still allowed.
    assert explain(client_ip="10.1.1.1")["status"] == 200
    assert explain(client_ip="10.9.1.1")["status"] == 403
    e = explain(client_ip="192.0.2.7")
    assert (e["decision"], e["status"]) == ("unauthorized", 401)
    auth = "Basic " + base64.b64encode(b"ann:pw").decode()
    e = explain(client_ip="192.0.2.7", headers={"Authorization": auth})
    assert (e["status"], e["user"]) == (200, "ann")
    bad = "Basic " + base64.b64encode(b"ann:nope").decode()
    assert explain(client_ip="192.0.2.7", headers={"Authorization": bad})["status"] == 401
    # Behind the trusted proxy, the X-Forwarded-For client decides.
    e = explain(client_ip="192.0.2.1", headers={"X-Forwarded-For": "10.9.0.5"})
    assert (e["client_ip"], e["status"]) == ("10.9.0.5", 403)
    assert explain(host="other.test")["decision"] == "not_found"
    # A real request takes the only token; explain then says 429.
    port = wait_port(api, gh, "l")
    assert get(port, "ann:pw").status == 200
    e = explain(client_ip="127.0.0.1", headers={"Authorization": auth})
    assert (e["decision"], e["status"]) == ("rate_limited", 429)
    assert e["policies"]["rate_limit"]["retry_after"] > 0
    if seen is not None:
        assert len(origin.paths()) == seen + 1  # only the real request reached it
    r = api.post("/explain", {"listener": "nope"})
    assert r.status_code == 422 and problem_fields(r)[0][0] == "listener"
    r = api.post("/explain", {"listener": "l", "client_ip": "x"})
    assert r.status_code == 422 and problem_fields(r)[0][0] == "client_ip"


def test_every_listener_of_a_route_checked(gh, api, origin):
    """Policies of http routes are refused on a route that also serves a
    tcp listener, whichever of its listeners comes first; a redirect loop
    is found on any of them."""
    api.ok("POST", "/origins", {"name": "o", "servers": [
        {"address": "127.0.0.1", "port": origin.port}]}, status=201)
    api.ok("POST", "/listeners", {"name": "l", "address": "127.0.0.1", "port": 0},
           status=201)
    api.ok("POST", "/listeners", {"name": "t", "address": "127.0.0.1", "port": 0,
                                  "protocol": "tcp"}, status=201)
    api.ok("POST", "/access_lists", {"name": "a", "allow": ["127.0.0.1/32"]}, status=201)
    api.ok("POST", "/rate_limits", {"name": "rl", "rate": 10, "per": "second"}, status=201)
    api.ok("POST", "/routes", {"name": "r", "listeners": ["l", "t"], "origin": "o"},
           status=201)
    for patch, field in [({"access_list": "a"}, "access_list"),
                         ({"rate_limit": "rl"}, "rate_limit"),
                         ({"respond": {"status": 200}}, "respond"),
                         ({"rewrite": {"replace_prefix": "/v2/"}}, "rewrite")]:
        r = api.patch("/routes/r", patch)
        assert r.status_code == 422, (patch, r.text)
        (f, msg), = problem_fields(r)
        assert f.endswith(field) and '"t"' in msg, (patch, r.text)
        # The whole document is compiled in full: the same answer.
        doc = api.get("/config").json()
        route = [x for x in doc["routes"] if x["name"] == "r"][0]
        route.update(patch)
        r = api.put("/config", doc)
        assert r.status_code == 422, (patch, r.text)
        (f, msg), = problem_fields(r)
        assert f.endswith(field) and '"t"' in msg, (patch, r.text)
    # On http listeners only, they apply.
    api.ok("PATCH", "/routes/r", {"listeners": ["l"], "access_list": "a",
                                  "rate_limit": "rl"})
    # A redirect back to the second listener's port loops there only.
    with __import__("socket").socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    api.ok("POST", "/listeners", {"name": "l2", "address": "127.0.0.1", "port": free},
           status=201)
    r = api.patch("/routes/r", {"listeners": ["l", "l2"], "origin": None, "access_list": None,
                                "rate_limit": None,
                                "redirect": {"to": "http://app.test:%d/" % free}})
    assert r.status_code == 422, r.text
    (f, msg), = problem_fields(r)
    assert f.endswith("redirect.to") and '"l2"' in msg, r.text
