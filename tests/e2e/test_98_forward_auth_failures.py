"""Forward auth failures and validation (issue 12, item 3): an auth service
that is down answers 502, one too slow 504 (the route's timeouts), never a
pass-through; forward_auth is validated with field paths, its origin
cannot be deleted while used, and it applies to http routes only."""

import pytest

from apiclient import problem_fields, start_api, wait_port
from authsvc import AuthService
from backends import closed_port
from test_97_forward_auth import FA, make_route, request, stat


@pytest.fixture
def api(gh):
    return start_api(gh)


@pytest.fixture
def authsvc():
    s = AuthService()
    yield s
    s.close()


def test_auth_down_is_502(gh, api, origin, authsvc):
    port = make_route(gh, api, origin, authsvc)
    api.ok("PATCH", "/origins/auth", {"servers": [
        {"address": "127.0.0.1", "port": closed_port()}]})
    before = len(origin.requests)
    resp = request(port, headers=[("Cookie", "session=good")])
    assert resp.status == 502, resp
    assert len(origin.requests) == before
    assert stat(api, "fwdauth_errors") == 1


def test_auth_slow_is_504(gh, api, origin, authsvc):
    port = make_route(gh, api, origin, authsvc, fa=dict(FA, path="/slow?ms=1500"),
                 timeouts={"response_ms": 300})
    before = len(origin.requests)
    resp = request(port, headers=[("Cookie", "session=good")])
    assert resp.status == 504, resp
    assert len(origin.requests) == before
    assert stat(api, "fwdauth_errors") == 1
    # A POST whose body waits for the check gets the 504 too.
    resp = request(port, method="POST", body=b"y" * 200000,
                   headers=[("Cookie", "session=good")])
    assert resp.status == 504, resp
    assert len(origin.requests) == before


def test_validation(gh, api, origin, authsvc):
    make_route(gh, api, origin, authsvc)
    bad = [
        ({"origin": "nope", "path": "/v"}, "forward_auth.origin"),
        ({"origin": "auth", "path": "api/verify"}, "forward_auth.path"),
        ({"origin": "auth", "path": "/a b"}, "forward_auth.path"),
        ({"origin": "auth", "path": "/v", "copy_headers": ["Bad Header"]},
         "forward_auth.copy_headers[0]"),
        ({"origin": "auth", "path": "/v", "copy_headers": ["X-Forwarded-For"]},
         "forward_auth.copy_headers[0]"),
        ({"origin": "auth", "path": "/v", "copy_headers": ["Remote-User", "remote-user"]},
         "forward_auth.copy_headers[1]"),
    ]
    for fa, field in bad:
        r = api.patch("/routes/r", {"forward_auth": fa})
        assert r.status_code == 422, (fa, r.text)
        assert problem_fields(r)[0][0].endswith(field), (fa, r.text)
    # Required members (a PATCH merges into the route's forward_auth).
    for fa, field in [({"path": "/v"}, "forward_auth.origin"),
                      ({"origin": "auth"}, "forward_auth.path")]:
        r = api.post("/routes", {"name": "r2", "listener": "l", "origin": "o",
                                 "forward_auth": fa})
        assert r.status_code == 422, (fa, r.text)
        assert problem_fields(r)[0][0].endswith(field), (fa, r.text)
    # The auth origin is in use.
    r = api.delete("/origins/auth")
    assert r.status_code == 409 and "routes/r" in r.text, r.text
    api.ok("PATCH", "/routes/r", {"forward_auth": None})
    assert api.get("/routes/r").json()["forward_auth"] is None
    assert api.delete("/origins/auth").status_code == 204


def test_http_routes_only(gh, api, origin, authsvc):
    make_route(gh, api, origin, authsvc)
    api.ok("POST", "/listeners", {"name": "t", "address": "127.0.0.1", "port": 0,
                                  "protocol": "tcp"}, status=201)
    r = api.post("/routes", {"name": "tr", "listeners": ["l", "t"], "origin": "o",
                             "forward_auth": FA})
    assert r.status_code == 422, r.text
    (f, msg), = problem_fields(r)
    assert f.endswith("forward_auth") and '"t"' in msg, r.text
    r = api.patch("/routes/r", {"respond": {"status": 200}})
    assert r.status_code == 422, r.text
    assert problem_fields(r)[0][0].endswith("forward_auth"), r.text


def test_client_gone_while_asking(gh, api, origin, authsvc):
    """A client that leaves while its check runs ends the check; the
    service's late answer finds nothing (and nothing breaks)."""
    import socket
    import struct
    import time
    port = make_route(gh, api, origin, authsvc, fa=dict(FA, path="/slow?ms=600"))
    for _ in range(3):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET /x HTTP/1.1\r\nHost: app.test\r\nCookie: session=good\r\n\r\n")
        time.sleep(0.1)  # the check is on its way
        # a reset (an EOF alone is a half-close: the answer is still due)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    time.sleep(1.0)
    before = len(origin.requests)
    assert request(port, headers=[("Cookie", "session=good")], timeout=5).status == 200
    assert len(origin.requests) == before + 1
    st = api.get("/stats").json()["global"]
    assert st["fwdauth_allowed"] == 1 and st["fwdauth_errors"] == 0
