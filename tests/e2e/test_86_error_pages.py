"""Error pages (issue 12, item 7).

An error_pages item {"name","pages":{"404":...},"intercept"} referenced by a
route's error_pages field gives the answers the proxy makes itself (502
when no server answers, 503 in maintenance, 504, 413, ...) its page; an
origin's own error answer is passed on as it is unless intercept is true.
"""

import json

import pytest

from apiclient import problem_fields, start_api, wait_port
from backends import parse_responses, raw_exchange

PAGE502 = "<html><body>brand: the origin is down</body></html>"
PAGE503 = "<html><body>brand: back soon</body></html>"
PAGE404 = "<html><body>brand: not here</body></html>"


def get(port, target=b"/x", method=b"GET"):
    head = method + b" " + target + b" HTTP/1.1\r\nHost: app.test\r\n"
    data, _ = raw_exchange(port, head + b"Connection: close\r\n\r\n")
    return parse_responses(data, head_request=method == b"HEAD")[0]


@pytest.fixture
def api(gh):
    return start_api(gh)


def base(gh, api, origin, servers=None, intercept=False):
    api.ok("POST", "/listeners", {"name": "l", "address": "127.0.0.1",
                                  "port": 0}, status=201)
    api.ok("POST", "/origins", {"name": "o", "servers": servers or [
        {"address": "127.0.0.1", "port": origin.port}]}, status=201)
    r = api.ok("POST", "/error_pages", {
        "name": "brand", "intercept": intercept,
        "pages": {"502": PAGE502, "503": PAGE503, "404": PAGE404}},
        status=201)
    assert r.json()["pages"]["502"] == PAGE502
    api.ok("POST", "/routes", {"name": "r", "listener": "l", "origin": "o",
                               "error_pages": "brand"}, status=201)
    return wait_port(api, gh, "l")


def test_proxy_answers_get_the_page(gh, api, origin):
    dead = origin.port
    origin.close()
    port = base(gh, api, origin, servers=[{"address": "127.0.0.1", "port": dead}])
    r = get(port)
    assert r.status == 502 and r.body.decode() == PAGE502
    assert r.header("content-type") == "text/html; charset=utf-8"
    r = get(port, method=b"HEAD")
    assert r.status == 502 and r.header("content-length") == str(len(PAGE502))
    # maintenance answers with the 503 page and Retry-After
    api.ok("PATCH", "/routes/r", {"maintenance": {"enabled": True,
                                                  "retry_after_s": 60}})
    r = get(port)
    assert r.status == 503 and r.body.decode() == PAGE503
    assert r.header("retry-after") == "60"
    assert "req_error_page" in json.dumps(api.get("/stats").json())


def test_origin_errors_pass_unless_intercept(gh, api, origin):
    port = base(gh, api, origin)
    r = get(port, b"/_status?code=404")
    assert r.status == 404 and r.body == b"origin says 404"
    api.ok("PATCH", "/error_pages/brand", {"intercept": True})
    r = get(port, b"/_status?code=404")
    assert r.status == 404 and r.body.decode() == PAGE404
    # the connection stays usable after a replaced answer
    head = (b"GET /_status?code=404 HTTP/1.1\r\nHost: app.test\r\n\r\n"
            b"GET /ok HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n")
    data, _ = raw_exchange(port, head)
    two = parse_responses(data)
    assert [x.status for x in two] == [404, 200]
    assert two[0].body.decode() == PAGE404
    assert get(port, b"/ok").status == 200


@pytest.mark.parametrize("body,field", [
    ({"name": "x", "pages": {"200": "ok"}}, "pages.200"),
    ({"name": "x", "pages": {"abc": "ok"}}, "pages.abc"),
    ({"name": "x", "pages": {"404": 1}}, "pages.404"),
    ({"name": "x", "intercept": "yes"}, "intercept"),
])
def test_bad_error_pages_refused(gh, api, origin, body, field):
    r = api.post("/error_pages", body)
    assert r.status_code == 422, r.text
    assert problem_fields(r)[0][0].endswith(field), problem_fields(r)


def test_unknown_reference_and_delete_in_use(gh, api, origin):
    base(gh, api, origin)
    r = api.post("/routes", {"name": "r2", "listener": "l", "origin": "o",
                             "error_pages": "nope"})
    assert r.status_code == 422, r.text
    assert problem_fields(r)[0][0].endswith("error_pages")
    r = api.delete("/error_pages/brand")
    assert r.status_code in (409, 422), r.text
    doc = api.get("/config").json()
    assert [x["name"] for x in doc["error_pages"]] == ["brand"]
    r = api.put("/config", doc)
    assert r.status_code == 200 and r.json()["changes"] == []


def test_listener_error_pages_route_wins(gh, api, origin):
    """Listener field error_pages: its pages serve the listener's own
    answers (404 with no route, 400) and routes without pages of their
    own; a route's error_pages win."""
    api.ok("POST", "/error_pages", {"name": "site", "pages": {
        "404": "<p>site: no such page</p>", "400": "<p>site: bad</p>",
        "502": "<p>site: down</p>"}}, status=201)
    api.ok("POST", "/error_pages", {"name": "app", "pages": {"502": "<p>app: down</p>"}},
           status=201)
    r = api.ok("POST", "/listeners", {"name": "l", "address": "127.0.0.1", "port": 0,
                                      "error_pages": "site"}, status=201)
    assert r.json()["error_pages"] == "site"
    dead = origin.port
    origin.close()
    api.ok("POST", "/origins", {"name": "o", "servers": [
        {"address": "127.0.0.1", "port": dead}]}, status=201)
    api.ok("POST", "/routes", {"name": "r", "listener": "l", "origin": "o",
                               "match": {"hosts": ["app.test"]}}, status=201)
    port = wait_port(api, gh, "l")
    # no route for the host: the listener's 404 page
    data, _ = raw_exchange(port, b"GET / HTTP/1.1\r\nHost: other.test\r\n"
                                 b"Connection: close\r\n\r\n")
    resp = parse_responses(data)[0]
    assert resp.status == 404 and resp.body == b"<p>site: no such page</p>"
    # a bad request, refused before routing
    data, _ = raw_exchange(port, b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
    resp = parse_responses(data)[0]
    assert resp.status == 400 and resp.body == b"<p>site: bad</p>", resp
    # a route without pages of its own: the listener's
    assert get(port).body == b"<p>site: down</p>"
    # the route's own pages win
    api.ok("PATCH", "/routes/r", {"error_pages": "app"})
    r = get(port)
    assert r.status == 502 and r.body == b"<p>app: down</p>"
    # in use by the listener: not deleted
    api.ok("PATCH", "/routes/r", {"error_pages": None})
    r = api.delete("/error_pages/site")
    assert r.status_code == 409 and "listeners/l" in r.text, r.text
    api.ok("PATCH", "/listeners/l", {"error_pages": None})
    assert get(port).body != b"<p>site: down</p>"
    assert api.delete("/error_pages/site").status_code == 204
    # only http and https listeners take them
    r = api.post("/listeners", {"name": "t", "address": "127.0.0.1", "port": 0,
                                "protocol": "tcp", "error_pages": "app"})
    assert r.status_code == 422, r.text
    assert problem_fields(r)[0][0].endswith("error_pages"), r.text
