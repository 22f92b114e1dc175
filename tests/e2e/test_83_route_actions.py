"""Routes that answer by themselves and path rewrites (issue 12, item 6).

A route with "redirect" answers 301/302/303/307/308 with a Location built
from its template ({host}, {path}, ...) plus the request's query (unless
drop_query); one with "respond" answers its fixed status, type and body.
Neither needs an origin. "rewrite.replace_prefix" replaces the matched
path_prefix in the path sent to the origin. A redirect that would send the
client back to the same route is refused at validation (422, field path);
so are bad statuses, unknown template variables and control characters."""

import json

import pytest

from apiclient import problem_fields, start_api, wait_port
from backends import parse_responses, raw_exchange


def exchange(port, target, host=b"app.test", method=b"GET"):
    head = method + b" " + target + b" HTTP/1.1\r\nHost: " + host + b"\r\n"
    data, _ = raw_exchange(port, head + b"Connection: close\r\n\r\n")
    return parse_responses(data, head_request=method == b"HEAD")[0]


@pytest.fixture
def api(gh):
    return start_api(gh)


def make_config(api, origin, listener="l", protocol="http"):
    api.ok("POST", "/listeners", {"name": listener, "address": "127.0.0.1",
                                  "port": 0, "protocol": protocol}, status=201)
    api.ok("POST", "/origins", {"name": "o", "servers": [
        {"address": "127.0.0.1", "port": origin.port}]}, status=201)


def test_redirect_keeps_query_and_needs_no_origin(gh, api, origin):
    make_config(api, origin)
    r = api.ok("POST", "/routes", {
        "name": "old", "listener": "l", "match": {"hosts": ["old.test"]},
        "redirect": {"to": "https://new.test{path}", "status": 301}},
        status=201)
    assert "origin" not in r.json()
    assert r.json()["redirect"] == {"to": "https://new.test{path}",
                                    "status": 301, "drop_query": False}
    api.ok("POST", "/routes", {
        "name": "moved", "listener": "l", "match": {"hosts": ["app.test"],
                                                     "path_prefix": "/moved"},
        "redirect": {"to": "/new?from=old", "drop_query": False}},
        status=201)
    api.ok("POST", "/routes", {
        "name": "gone", "listener": "l", "match": {"hosts": ["app.test"],
                                                    "path_prefix": "/gone"},
        "redirect": {"to": "http://{host}/home", "status": 302,
                     "drop_query": True}}, status=201)
    port = wait_port(api, gh, "l")
    r = exchange(port, b"/a/b?x=1&y=2", host=b"old.test")
    assert r.status == 301 and r.header("location") == "https://new.test/a/b?x=1&y=2"
    assert r.header("content-length") == "0"
    r = exchange(port, b"/moved?q=1")
    assert r.status == 308 and r.header("location") == "/new?from=old&q=1"
    r = exchange(port, b"/gone/x?q=1")
    assert r.status == 302 and r.header("location") == "http://app.test/home"
    st = api.get("/stats").json()
    flat = json.dumps(st)
    assert "req_route_redirect" in flat
    ex = api.ok("POST", "/explain", {"listener": "l", "host": "old.test",
                                     "path": "/a"}, status=200).json()
    assert (ex["decision"], ex["status"], ex["origin"]) == ("redirect", 301, None)


def test_respond_fixed_answer(gh, api, origin):
    make_config(api, origin)
    api.ok("POST", "/routes", {
        "name": "health", "listener": "l",
        "match": {"hosts": ["app.test"], "path_prefix": "/healthz"},
        "respond": {"status": 200, "body": "ok"}}, status=201)
    api.ok("POST", "/routes", {
        "name": "teapot", "listener": "l",
        "match": {"hosts": ["app.test"], "path_prefix": "/tea"},
        "respond": {"status": 418, "content_type": "application/json",
                    "body": "{\"short\":\"stout\"}"}}, status=201)
    api.ok("POST", "/routes", {
        "name": "empty", "listener": "l",
        "match": {"hosts": ["app.test"], "path_prefix": "/empty"},
        "respond": {"status": 204}}, status=201)
    port = wait_port(api, gh, "l")
    r = exchange(port, b"/healthz")
    assert (r.status, r.body) == (200, b"ok")
    assert r.header("content-type") == "text/plain; charset=utf-8"
    r = exchange(port, b"/tea")
    assert r.status == 418 and json.loads(r.body) == {"short": "stout"}
    assert r.header("content-type") == "application/json"
    r = exchange(port, b"/healthz", method=b"HEAD")
    assert r.status == 200 and r.header("content-length") == "2"
    r = exchange(port, b"/empty")
    assert r.status == 204 and r.header("content-length") is None
    # live: a PATCH changes the answer without a restart
    api.ok("PATCH", "/routes/health", {"respond": {"status": 503, "body": "no"}})
    r = exchange(port, b"/healthz")
    assert (r.status, r.body) == (503, b"no")
    # turned back into a proxied route
    api.ok("PATCH", "/routes/health", {"respond": None, "origin": "o"})
    r = exchange(port, b"/healthz")
    assert r.status == 200 and json.loads(r.body)["path"] == "/healthz"


def test_access_log_names_the_action(gh, origin, tmp_path):
    log = tmp_path / "access.log"
    gh.add_listener("l")
    gh.add_origin("o", [(origin.host, origin.port)])
    gh.sql("INSERT INTO routes (name, listener_id, origin_id, redirect_to)"
           " VALUES ('r', (SELECT id FROM listeners WHERE name = 'l'), NULL,"
           " 'https://other.test/elsewhere')")
    gh.start(access_log=str(log))
    r = exchange(gh.ports["l"], b"/x")
    assert r.status == 308
    assert r.header("location") == "https://other.test/elsewhere"
    gh.stop()
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    assert lines[-1]["decision"] == "redirect" and lines[-1]["status"] == 308


@pytest.mark.parametrize("prefix,replace,path,sent", [
    ("/v1/", "/v2/", b"/v1/users?id=3", "/v2/users?id=3"),
    ("/api", "/", b"/api/x", "/x"),
    ("/api", "/", b"/api", "/"),
    ("/old/", "/new/deeper/", b"/old/a/b", "/new/deeper/a/b"),
])
def test_rewrite_replaces_the_matched_prefix(gh, api, origin, prefix, replace,
                                             path, sent):
    make_config(api, origin)
    api.ok("POST", "/routes", {
        "name": "r", "listener": "l", "origin": "o",
        "match": {"path_prefix": prefix},
        "rewrite": {"replace_prefix": replace}}, status=201)
    r = exchange(wait_port(api, gh, "l"), path)
    assert r.status == 200 and json.loads(r.body)["path"] == sent


@pytest.mark.parametrize("route,field", [
    # the same scheme, host and path: the client would come straight back
    ({"redirect": {"to": "http://{host}{path}"}}, "routes[r].redirect.to"),
    ({"redirect": {"to": "{scheme}://{host}{path}"}}, "routes[r].redirect.to"),
    ({"redirect": {"to": "/{path}"}}, None),  # "//x": another path
    ({"redirect": {"to": "/here/again"}, "match": {"path_prefix": "/here"}},
     "routes[r].redirect.to"),
    ({"redirect": {"to": "https://{host}{path}"}}, None),  # http -> https
    ({"redirect": {"to": "http://{host}{path}"},
      "match": {"hosts": ["a.test"]}}, "routes[r].redirect.to"),
    ({"redirect": {"to": "/x", "status": 304}}, "routes[r].redirect.status"),
    ({"redirect": {"to": "/x", "status": 200}}, "redirect.status"),
    ({"redirect": {"to": "/{nope}"}}, "redirect.to"),
    ({"redirect": {"to": "/a\r\nSet-Cookie: x=1"}}, "redirect.to"),
    ({"redirect": {"status": 301}}, "redirect.to"),
    ({"respond": {"status": 99}}, "respond.status"),
    ({"respond": {"status": 200, "content_type": "text/plain\nX: y"}},
     "respond.content_type"),
    ({"respond": {"status": 200}, "redirect": {"to": "/x"}}, "routes[r].respond"),
    ({}, "routes[r].origin"),
    ({"rewrite": {"replace_prefix": "v2"}}, "rewrite.replace_prefix"),
])
def test_refused_at_validation(gh, api, origin, route, field):
    make_config(api, origin)
    rev = api.revision()
    body = {"name": "r", "listener": "l"}
    body.update(route)
    r = api.post("/routes", body)
    if field is None:
        assert r.status_code == 201, r.text
        return
    assert r.status_code == 422, r.text
    assert problem_fields(r)[0][0].endswith(field), problem_fields(r)
    assert api.revision() == rev


def test_l4_route_needs_its_origin(gh, api, origin):
    make_config(api, origin, listener="t", protocol="tcp")
    r = api.post("/routes", {"name": "r", "listener": "t",
                             "respond": {"status": 200}})
    assert r.status_code == 422, r.text
    assert problem_fields(r)[0][0] == "routes[r].respond"


def test_config_document_round_trips(gh, api, origin):
    make_config(api, origin)
    api.ok("POST", "/routes", {"name": "r", "listener": "l",
                               "redirect": {"to": "https://{host}{path}"}},
           status=201)
    api.ok("POST", "/routes", {"name": "p", "listener": "l", "origin": "o",
                               "match": {"path_prefix": "/a/"},
                               "rewrite": {"replace_prefix": "/b/"}},
           status=201)
    doc = api.get("/config").json()
    r = api.put("/config", doc)
    assert r.status_code == 200 and r.json()["changes"] == []
    routes = {x["name"]: x for x in doc["routes"]}
    assert routes["r"]["respond"] is None and routes["r"]["rewrite"] is None
    assert routes["p"]["rewrite"] == {"replace_prefix": "/b/"}
    spec = api.get("/openapi.json").json()
    props = spec["components"]["schemas"]["Route"]["properties"]
    assert props["redirect"]["properties"]["status"]["default"] == 308
    assert "origin" not in spec["components"]["schemas"]["Route"].get("required", [])
