"""Requests: paths and hosts that mean one thing (issue 16).

Routes match the RFC 3986-normalised path (unreserved escapes decoded, dot
segments removed), and path_normalization (listener, overridden by route)
says what is forwarded: the normalised path, the client's bytes, or 400
for any path normalisation changes. Encoded slashes, backslashes, encoded
NUL and bad escapes are 400; so are Host values and authorities that are
not host[:port]. "Connection: close, Host" keeps Host; TRACE is 405 unless
a route lists it; an Expect other than 100-continue is 417."""

import json

import pytest

from apiclient import problem_fields, start_api
from backends import parse_responses, raw_exchange

DOTS = [b"/public/../admin", b"/public/%2e%2e/admin", b"/public/%2E%2E/admin",
        b"/public/.%2e/admin"]
REFUSED = [b"/public/a%2Fb", b"/public/a%2fb", b"/public/a\\b", b"/public/a%5Cb",
           b"/public/a%5cb", b"/public/a%00b", b"/public/a%zz", b"/public/a%4"]


def exchange(port, target, host=b"app.test", method=b"GET", extra=b""):
    head = method + b" " + target + b" HTTP/1.1\r\n"
    if host is not None:
        head += b"Host: " + host + b"\r\n"
    data, _ = raw_exchange(port, head + extra + b"Connection: close\r\n\r\n")
    return parse_responses(data)[0]


def seen(r):
    """The origin's view: (request-target, Host values)."""
    assert r.status == 200, (r.status, r.body[:200])
    doc = json.loads(r.body)
    return doc["path"], [v for k, v in doc["headers"] if k.lower() == "host"]


def start(gh, origin, listener_mode=None, route_mode=None, admin=False,
          trace=False):
    """A listener "l", route "pub" (/public/, GET only, or GET and TRACE)
    and, with <admin>, a route "adm" for /admin; answers the port."""
    cols = {} if listener_mode is None else {"path_normalization": listener_mode}
    gh.add_listener("l", **cols)
    gh.add_origin("o", [(origin.host, origin.port)])
    rcols = {} if route_mode is None else {"path_normalization": route_mode}
    gh.add_route("pub", "l", "o", path_prefix="/public/",
                 methods=("GET", "TRACE") if trace else ("GET",), **rcols)
    if admin:
        gh.add_route("adm", "l", "o", path_prefix="/admin", methods=("GET",))
    gh.start()
    return gh.ports["l"]


@pytest.mark.parametrize("target", DOTS)
def test_forward_normalized_routes_dots_as_what_they_mean(gh, origin, target):
    port = start(gh, origin)
    # /public/../admin is /admin: no route takes it
    assert exchange(port, target).status == 404
    assert exchange(port, b"/admin").status == 404


def test_forward_normalized_sends_the_normal_form(gh, origin):
    port = start(gh, origin, admin=True)
    assert seen(exchange(port, b"/public/../admin?x=%2e"))[0] == "/admin?x=%2e"
    assert seen(exchange(port, b"/public/./a/../b"))[0] == "/public/b"
    assert seen(exchange(port, b"/public/%7euser/%41%3f"))[0] == "/public/~user/A%3F"
    assert seen(exchange(port, b"/public/x"))[0] == "/public/x"


@pytest.mark.parametrize("target", DOTS)
def test_reject_refuses_paths_that_normalisation_changes(gh, origin, target):
    port = start(gh, origin, listener_mode="reject", admin=True)
    assert exchange(port, target).status == 400
    assert exchange(port, b"/public/./x").status == 400
    assert exchange(port, b"/public/%7ex").status == 400
    assert seen(exchange(port, b"/public/x"))[0] == "/public/x"
    assert seen(exchange(port, b"/admin"))[0] == "/admin"


@pytest.mark.parametrize("target", DOTS)
def test_forward_as_received_matches_normalised_sends_raw(gh, origin, target):
    port = start(gh, origin, listener_mode="forward_as_received")
    assert exchange(port, target).status == 404  # matched as /admin
    raw = target.replace(b"/admin", b"/public/x")
    r = exchange(port, raw)                      # matched as /public/x
    assert seen(r)[0] == raw.decode()


def test_route_overrides_listener(gh, origin):
    port = start(gh, origin, listener_mode="reject",
                 route_mode="forward_as_received")
    assert seen(exchange(port, b"/public/a/../b"))[0] == "/public/a/../b"
    # no route matched: the listener's "reject" applies
    assert exchange(port, b"/x/../y").status == 400


def test_route_reject_on_forwarding_listener(gh, origin):
    port = start(gh, origin, route_mode="reject")
    assert exchange(port, b"/public/./x").status == 400
    assert exchange(port, b"/public/%2e%2e/public/x").status == 400
    assert seen(exchange(port, b"/public/x"))[0] == "/public/x"
    assert exchange(port, b"/x/../y").status == 404


@pytest.mark.parametrize("mode", ["forward_normalized", "forward_as_received", "reject"])
@pytest.mark.parametrize("target", REFUSED)
def test_encoded_slash_backslash_nul_refused(gh, origin, mode, target):
    port = start(gh, origin, listener_mode=mode)
    assert exchange(port, target).status == 400


@pytest.mark.parametrize("head", [
    b"GET /public/x HTTP/1.1\r\nHost: a b\r\n",
    b"GET /public/x HTTP/1.1\r\nHost: a@b/c?d\r\n",
    b"GET /public/x HTTP/1.1\r\nHost: user@app.test\r\n",
    b"GET /public/x HTTP/1.1\r\nHost: app.test/x\r\n",
    b"GET /public/x HTTP/1.1\r\nHost: app.test:8x\r\n",
    b"GET /public/x HTTP/1.1\r\nHost: [::1\r\n",
    b"GET /public/x HTTP/1.1\r\nHost: \r\n",
    b"GET http://user@app.test/public/x HTTP/1.1\r\nHost: app.test\r\n",
    b"GET http://user:pw@app.test/public/x HTTP/1.1\r\nHost: app.test\r\n",
    # the authority wins, but a bad Host is still refused (as nginx does)
    b"GET http://app.test/public/x HTTP/1.1\r\nHost: a b\r\n",
])
def test_bad_hosts_refused(gh, origin, head):
    port = start(gh, origin)
    data, _ = raw_exchange(port, head + b"Connection: close\r\n\r\n")
    assert parse_responses(data)[0].status == 400


def test_good_hosts_forwarded(gh, origin):
    port = start(gh, origin)
    for h in [b"App.Test", b"app.test:8080", b"127.0.0.1:1", b"[::1]:80",
              b"under_score.test"]:
        assert seen(exchange(port, b"/public/x", host=h))[1] == [h.decode()]
    # absolute-form: the authority is sent as Host
    r = exchange(port, b"http://other.test/public/x", host=b"app.test")
    assert seen(r)[1] == ["other.test"]


@pytest.mark.parametrize("conn", [b"close, Host", b"Host", b"host, close",
                                  b"Content-Length, Transfer-Encoding, Host"])
def test_connection_tokens_keep_host(gh, origin, conn):
    port = start(gh, origin)
    data, _ = raw_exchange(port, b"GET /public/x HTTP/1.1\r\nHost: app.test\r\n"
                           b"Connection: " + conn + b"\r\n\r\n")
    assert seen(parse_responses(data)[0])[1] == ["app.test"]


def test_connection_tokens_keep_body_framing(gh, origin):
    gh.add_listener("l")
    gh.add_origin("o", [(origin.host, origin.port)])
    gh.add_route("any", "l", "o")
    gh.start()
    data, _ = raw_exchange(gh.ports["l"],
                           b"POST /p HTTP/1.1\r\nHost: app.test\r\n"
                           b"Connection: close, Content-Length\r\n"
                           b"Content-Length: 5\r\n\r\nhello")
    r = parse_responses(data)[0]
    assert r.status == 200
    assert json.loads(r.body)["body_len"] == 5


def test_trace_405_unless_route_lists_it(gh, origin):
    port = start(gh, origin)
    assert exchange(port, b"/public/x", method=b"TRACE").status == 405
    assert exchange(port, b"/nothing", method=b"TRACE").status == 405


def test_trace_allowed_when_listed(gh, origin):
    port = start(gh, origin, trace=True)
    assert seen(exchange(port, b"/public/x", method=b"TRACE"))[0] == "/public/x"


def test_unknown_expect_417(gh, origin):
    port = start(gh, origin)
    assert exchange(port, b"/public/x", extra=b"Expect: foo\r\n").status == 417
    assert exchange(port, b"/public/x", extra=b"Expect: 100-continue, foo\r\n").status == 417
    r = exchange(port, b"/public/x", extra=b"Expect: 100-Continue\r\n")
    assert seen(r)[0] == "/public/x"


def test_path_normalization_through_the_api(gh, origin):
    api = start_api(gh)
    api.ok("POST", "/origins", {"name": "o", "servers": [
        {"address": "127.0.0.1", "port": origin.port}]}, status=201)
    r = api.post("/listeners", {"name": "l", "address": "127.0.0.1", "port": 0})
    assert r.status_code == 201, r.text
    assert r.json()["path_normalization"] == "forward_normalized"
    r = api.post("/listeners", {"name": "m", "address": "127.0.0.1", "port": 0,
                                "path_normalization": "sometimes"})
    assert r.status_code == 422
    assert problem_fields(r)[0][0] == "path_normalization"
    r = api.post("/routes", {"name": "r", "listener": "l", "origin": "o",
                             "path_normalization": "reject"})
    assert r.status_code == 201, r.text
    assert r.json()["path_normalization"] == "reject"
    r = api.ok("PATCH", "/routes/r", {"path_normalization": None})
    assert "path_normalization" not in r.json()
    schema = api.get("/openapi.json").json()
    props = schema["components"]["schemas"]["Route"]["properties"]
    assert props["path_normalization"]["enum"] == [
        "forward_normalized", "forward_as_received", "reject"]
