"""Forward auth (issue 12, item 3): route field "forward_auth" asks an auth
service (authsvc.py, Authelia's convention) before each request goes to
its origin. A 2xx lets the request on with the copy_headers copied (the
client's own values of those headers removed first); any other answer goes
back to the client as the service gave it; a request body waits and then
reaches the origin whole."""

import http.client
import json

import pytest

from apiclient import start_api, wait_port
from authsvc import AuthService
from backends import gen_bytes, parse_responses, raw_exchange, sha256
from test_31_access_log import read_log

FA = {"origin": "auth", "path": "/api/verify",
      "copy_headers": ["Remote-User", "Remote-Groups"]}


@pytest.fixture
def api(gh):
    return start_api(gh)


@pytest.fixture
def authsvc():
    s = AuthService()
    yield s
    s.close()


def make_route(gh, api, origin, authsvc, fa=FA, timeouts=None):
    api.ok("POST", "/listeners", {"name": "l", "address": "127.0.0.1", "port": 0},
           status=201)
    api.ok("POST", "/origins", {"name": "o", "servers": [
        {"address": "127.0.0.1", "port": origin.port}]}, status=201)
    api.ok("POST", "/origins", {"name": "auth", "servers": [
        {"address": "127.0.0.1", "port": authsvc.port}]}, status=201)
    route = {"name": "r", "listener": "l", "origin": "o",
             "match": {"hosts": ["app.test"]}, "forward_auth": fa}
    if timeouts:
        route["timeouts"] = timeouts
    r = api.ok("POST", "/routes", route, status=201)
    assert r.json()["forward_auth"] == dict(fa), r.text
    return wait_port(api, gh, "l")


def request(port, path="/x?q=1", headers=(), method="GET", body=None, timeout=5):
    head = "%s %s HTTP/1.1\r\nHost: app.test\r\n" % (method, path)
    for k, v in headers:
        head += "%s: %s\r\n" % (k, v)
    if body is not None:
        head += "Content-Length: %d\r\n" % len(body)
    data, _ = raw_exchange(port, head.encode() + b"Connection: close\r\n\r\n" +
                           (body or b""), timeout=timeout)
    return parse_responses(data)[0]


def stat(api, name):
    return api.get("/stats").json()["global"][name]


def test_allowed_copies_headers_and_strips_forged(gh, api, origin, authsvc):
    port = make_route(gh, api, origin, authsvc)
    resp = request(port, headers=[("Cookie", "session=good; x=1"),
                                  ("Remote-User", "mallory"),
                                  ("remote-groups", "root"),
                                  ("X-Forwarded-Host", "forged.test")])
    assert resp.status == 200, resp
    seen = json.loads(resp.body)["headers"]
    lower = {}
    for k, v in (seen.items() if isinstance(seen, dict) else seen):
        lower.setdefault(k.lower(), []).append(v)
    assert lower["remote-user"] == ["ann"], seen
    assert lower["remote-groups"] == ["admins"], seen
    assert "x-other" not in lower  # only copy_headers are copied
    # What the auth service was sent.
    a = authsvc.requests[-1]
    assert a["_method"] == "GET" and a["_path"] == "/api/verify"
    assert a["x-forwarded-method"] == "GET"
    assert a["x-forwarded-proto"] == "http"
    assert a["x-forwarded-host"] == "app.test"
    assert a["x-forwarded-uri"] == "/x?q=1"
    assert a["x-forwarded-for"] == "127.0.0.1"
    assert a["cookie"] == "session=good; x=1"
    assert a["_remote_user_count"] == 0 and "remote-groups" not in a
    assert "content-length" not in a
    assert stat(api, "fwdauth_allowed") == 1
    text = api.get("/metrics").text
    assert "fwdauth_allowed" in text and "fwdauth_denied" in text


def test_denied_answers_pass_through(gh, api, origin, authsvc):
    port = make_route(gh, api, origin, authsvc)
    before = len(origin.requests)
    resp = request(port, headers=[("Authorization", "Bearer bad")])
    assert resp.status == 401
    assert resp.header("www-authenticate") == 'Bearer realm="gate"'
    assert resp.body == b"who are you?\n"
    resp = request(port, headers=[("Cookie", "session=banned")])
    assert resp.status == 403 and resp.body == b"banned\n"
    resp = request(port, path="/app/page?a=b")
    assert resp.status == 302
    assert resp.header("location") == \
        "https://login.test/?rd=http%3A%2F%2Fapp.test%2Fapp%2Fpage%3Fa%3Db"
    cookies = [v for k, v in resp.headers if k.lower() == "set-cookie"]
    assert cookies == ["flow=abc; Path=/; HttpOnly", "csrf=xyz; Path=/"]
    assert len(origin.requests) == before  # nothing reached the origin
    assert stat(api, "fwdauth_denied") == 3
    # A POST that is refused: its body never reaches the origin.
    resp = request(port, method="POST", body=b"x" * 1000)
    assert resp.status == 302
    assert len(origin.requests) == before


def test_body_reaches_origin_after_auth(gh, api, origin, authsvc):
    port = make_route(gh, api, origin, authsvc)
    for n in (10, 300 * 1024):  # held whole, and past the held part
        body = gen_bytes(n)
        resp = request(port, path="/up", method="POST", body=body,
                       headers=[("Cookie", "session=good")], timeout=10)
        assert resp.status == 200, resp
        doc = json.loads(resp.body)
        assert doc["method"] == "POST"
        assert (doc["body_len"], doc["body_sha256"]) == (n, sha256(body))
    a = authsvc.requests[-1]
    assert a["_method"] == "GET" and a["x-forwarded-method"] == "POST"
    assert "content-length" not in a and "transfer-encoding" not in a


def test_keepalive_each_request_asked(gh, api, origin, authsvc):
    port = make_route(gh, api, origin, authsvc)
    one = b"GET /k HTTP/1.1\r\nHost: app.test\r\nCookie: session=good\r\n\r\n"
    data, _ = raw_exchange(port, one + one + one.replace(b"session=good", b"no") +
                           b"GET /k HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n"
                           b"Cookie: session=good\r\n\r\n")
    got = [r.status for r in parse_responses(data)]
    assert got == [200, 200, 302, 200], got
    assert len(authsvc.requests) == 4
    assert authsvc.connections == 1  # a denial keeps the connection too


def checks(port, n, cookie="session=good"):
    """<n> sequential requests on one client connection: their statuses."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    got = []
    for i in range(n):
        conn.request("GET", "/seq/%d" % i,
                     headers={"Host": "app.test", "Cookie": cookie})
        r = conn.getresponse()
        r.read()
        got.append(r.status)
    conn.close()
    return got


def test_checks_share_one_pooled_connection(gh, api, origin, authsvc):
    port = make_route(gh, api, origin, authsvc)
    assert checks(port, 20) == [200] * 20
    assert len(authsvc.requests) == 20
    assert authsvc.connections == 1
    a = authsvc.requests[-1]
    assert "connection" not in a  # keep-alive: HTTP/1.1's default
    assert stat(api, "fwdauth_allowed") == 20
    assert stat(api, "req_bad_transition") == 0


def test_connection_close_answer_not_reused(gh, api, origin, authsvc):
    authsvc.close_answers = True
    port = make_route(gh, api, origin, authsvc)
    assert checks(port, 5) == [200] * 5
    assert authsvc.connections == 5
    assert stat(api, "fwdauth_errors") == 0


def test_closed_pooled_connection_retried(gh, api, origin, authsvc):
    """The service closes a kept connection when the next check comes on
    it: that check goes again on a new connection, and the client never
    sees it."""
    authsvc.drop_reused = True
    port = make_route(gh, api, origin, authsvc)
    before = len(origin.requests)
    assert checks(port, 5) == [200] * 5
    assert authsvc.connections == 5
    assert len(authsvc.requests) == 9  # 4 dropped on a reused connection
    assert len(origin.requests) == before + 5
    assert stat(api, "fwdauth_errors") == 0
    assert stat(api, "fwdauth_allowed") == 5
    assert stat(api, "req_bad_transition") == 0


def test_access_log_user_and_decision(gh, api, origin, authsvc):
    port = make_route(gh, api, origin, authsvc)
    assert request(port, headers=[("Cookie", "session=good")]).status == 200
    assert request(port).status == 302
    recs = [x for x in read_log(gh.access_log, 2) if x.get("route") == "r"]
    assert recs[0].get("user") == "ann", recs
    assert recs[1]["status"] == 302 and recs[1].get("decision") == "forward_auth", recs


def test_explain_says_forward_auth(gh, api, origin, authsvc):
    make_route(gh, api, origin, authsvc)
    r = api.post("/explain", {"listener": "l", "host": "app.test", "path": "/x"})
    assert r.status_code == 200, r.text
    e = r.json()
    fa = e["policies"]["forward_auth"]
    assert fa["origin"] == "auth" and fa["path"] == "/api/verify"
    assert fa["copy_headers"] == ["Remote-User", "Remote-Groups"]
    assert e["decision"] == "forward_auth" and len(authsvc.requests) == 0
