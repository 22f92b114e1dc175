"""Header rules and request ids (issue 12, item 5).

A route's request_headers / response_headers {"set","add","remove"} change
the request the origin gets and the response the client gets, with
{variables} in values; values with CR or LF are refused (422, with the
field path), NUL cannot even be sent (the JSON is refused), and the names
the proxy owns (hop-by-hop, framing, Host, X-Forwarded-*) cannot be set.
request_id: true keeps the client's X-Request-ID or adds one, and the
access log has it."""

import json

import pytest

from apiclient import problem_fields, start_api, wait_port
from backends import parse_responses, raw_exchange


def exchange(port, target=b"/", host=b"app.test", extra=b""):
    head = b"GET " + target + b" HTTP/1.1\r\nHost: " + host + b"\r\n" + extra
    data, _ = raw_exchange(port, head + b"Connection: close\r\n\r\n")
    return parse_responses(data)[0]


def seen(r):
    """The headers the origin saw, as a list of (name, value)."""
    assert r.status == 200, (r.status, r.body[:200])
    return [(k, v) for k, v in json.loads(r.body)["headers"]]


@pytest.fixture
def api(gh):
    return start_api(gh)


def base(api, origin, **route):
    api.ok("POST", "/listeners", {"name": "l", "address": "127.0.0.1",
                                  "port": 0}, status=201)
    api.ok("POST", "/origins", {"name": "o", "servers": [
        {"address": "127.0.0.1", "port": origin.port}]}, status=201)
    body = {"name": "r", "listener": "l", "origin": "o"}
    body.update(route)
    return api.post("/routes", body)


def test_request_rules_set_add_remove(gh, api, origin):
    r = base(api, origin, request_headers={
        "set": {"X-Env": "prod", "X-Who": "{client_ip} via {scheme}"},
        "add": {"Via-Gate": "{host}{path} {route}"},
        "remove": ["X-Debug"]})
    assert r.status_code == 201, r.text
    assert r.json()["request_headers"]["remove"] == ["X-Debug"]
    port = wait_port(api, gh, "l")
    h = seen(exchange(port, b"/a?b=1", extra=b"X-Debug: 1\r\nx-env: dev\r\n"
                      b"X-Env: test\r\nVia-Gate: client\r\n"))
    names = [k.lower() for k, _ in h]
    assert "x-debug" not in names
    assert [v for k, v in h if k.lower() == "x-env"] == ["prod"]
    assert [v for k, v in h if k.lower() == "x-who"] == ["127.0.0.1 via http"]
    assert [v for k, v in h if k.lower() == "via-gate"] == ["client", "app.test/a r"]
    st = api.get("/stats").json()
    assert "req_header_rules" in json.dumps(st)


def test_response_rules(gh, api, origin):
    r = base(api, origin, response_headers={
        "set": {"Server": "gate", "X-Frame-Options": "DENY"},
        "add": {"X-Route": "{route}"}, "remove": ["X-Backend"]})
    assert r.status_code == 201, r.text
    port = wait_port(api, gh, "l")
    resp = exchange(port)
    assert resp.status == 200
    assert resp.header("x-backend") is None
    assert resp.header("server") == "gate"
    assert resp.header("x-frame-options") == "DENY"
    assert resp.header("x-route") == "r"


def test_rules_live_without_restart(gh, api, origin):
    assert base(api, origin).status_code == 201
    port = wait_port(api, gh, "l")
    assert "x-env" not in [k.lower() for k, _ in seen(exchange(port))]
    api.ok("PATCH", "/routes/r", {"request_headers": {"set": {"X-Env": "on"}}})
    assert ("X-Env", "on") in seen(exchange(port))
    api.ok("PATCH", "/routes/r", {"request_headers": {"set": None}})
    assert "x-env" not in [k.lower() for k, _ in seen(exchange(port))]


@pytest.mark.parametrize("rules,field", [
    ({"request_headers": {"set": {"X-A": "a\r\nX-Injected: 1"}}},
     "request_headers.set.X-A"),
    ({"request_headers": {"add": {"X-A": "line\nbreak"}}},
     "request_headers.add.X-A"),
    ({"response_headers": {"set": {"X-A": "cr\r"}}},
     "response_headers.set.X-A"),
    ({"request_headers": {"set": {"Connection": "close"}}},
     "request_headers.set.Connection"),
    ({"request_headers": {"set": {"Transfer-Encoding": "chunked"}}},
     "request_headers.set.Transfer-Encoding"),
    ({"response_headers": {"add": {"Content-Length": "1"}}},
     "response_headers.add.Content-Length"),
    ({"request_headers": {"add": {"X-Forwarded-For": "1.2.3.4"}}},
     "request_headers.add.X-Forwarded-For"),
    ({"request_headers": {"set": {"Bad Name": "x"}}},
     "request_headers.set.Bad Name"),
    ({"request_headers": {"set": {"X-A": "{nope}"}}},
     "request_headers.set.X-A"),
    ({"request_headers": {"remove": ["a b"]}}, "request_headers.remove[0]"),
    ({"request_headers": {"set": {"X-A": 1}}}, "request_headers.set.X-A"),
])
def test_bad_rules_refused_with_path(gh, api, origin, rules, field):
    rev = api.revision()
    r = base(api, origin, **rules)
    assert r.status_code == 422, r.text
    assert problem_fields(r)[0][0].endswith(field), problem_fields(r)
    assert api.revision() == rev + 2  # the listener and origin only


def test_nul_in_a_value_is_refused(gh, api, origin):
    base(api, origin)
    r = api.req("PATCH", "/routes/r", raw=b'{"request_headers":{"set":'
                b'{"X-A":"a\\u0000b"}}}',
                headers={"Content-Type": "application/merge-patch+json"})
    assert r.status_code in (400, 422), r.text
    assert "x-a" not in [k.lower() for k, _ in
                         seen(exchange(wait_port(api, gh, "l")))]


def test_request_id_kept_or_added_and_logged(gh, origin, tmp_path):
    log = tmp_path / "access.log"
    gh.add_listener("l")
    gh.add_origin("o", [(origin.host, origin.port)])
    gh.add_route("r", "l", "o", request_id=1,
                 request_headers_add='{"X-Trace":"{request_id}"}')
    gh.start(access_log=str(log))
    port = gh.ports["l"]
    h = seen(exchange(port, extra=b"X-Request-ID: abc-123\r\n"))
    assert [v for k, v in h if k.lower() == "x-request-id"] == ["abc-123"]
    assert [v for k, v in h if k.lower() == "x-trace"] == ["abc-123"]
    h = seen(exchange(port))
    ids = [v for k, v in h if k.lower() == "x-request-id"]
    assert len(ids) == 1 and len(ids[0]) == 32
    assert [v for k, v in h if k.lower() == "x-trace"] == ids
    gh.stop()
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    assert [x.get("request_id") for x in lines[-2:]] == ["abc-123", ids[0]]


def test_rules_survive_later_writes_of_other_routes(gh, api, origin):
    """A route written through the API keeps its rules in later snapshots
    built from it (cfg_incr.c copies them along)."""
    assert base(api, origin, request_headers={"set": {"X-Env": "{route}"}},
                response_headers={"add": {"X-Seen": "yes"}}, request_id=True,
                match={"hosts": ["app.test"]}).status_code == 201
    port = wait_port(api, gh, "l")
    for i in range(3):
        api.ok("POST", "/routes", {"name": "o%d" % i, "listener": "l",
                                   "origin": "o",
                                   "match": {"hosts": ["o%d.test" % i]}},
               status=201)
        api.ok("PATCH", "/routes/o%d" % i, {"priority": 5})
    resp = exchange(port)
    assert ("X-Env", "r") in seen(resp)
    assert resp.header("x-seen") == "yes"
    assert len([v for k, v in seen(resp) if k.lower() == "x-request-id"]) == 1
