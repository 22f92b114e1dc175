"""One route on several listeners (issue 14): "listeners": ["web", "web-tls"]
serves the same route over http and https; "listener" stays accepted and
means a list of one, and GET shows a route of one listener exactly as
before ("listener", no "listeners"). A listener a route still uses cannot
be deleted (409 naming the route), whether it is the route's first
listener or another one."""

import pytest

from apiclient import problem_fields, start_api, wait_port
from conftest import curl
from tlsutil import https_curl


@pytest.fixture
def api(gh):
    # every snapshot built from the previous one is checked against a
    # full compile (cfg_incr.c); a difference is logged
    gh.extra_env["GATEHOUSED_COMPILE_VERIFY"] = "1"
    yield start_api(gh)
    assert not gh.log_has("differs from a full compile"), gh.log_tail()
    assert gh.log_has("built from the previous one equals a full compile")


def make_site(api, gh, origin):
    api.ok("POST", "/certificates/self-signed", {"name": "site", "names": ["a.test"]},
           status=201)
    api.ok("POST", "/origins", {"name": "o", "servers": [
        {"address": "127.0.0.1", "port": origin.port}]})
    api.ok("POST", "/listeners", {"name": "web", "address": "127.0.0.1", "port": 0})
    api.ok("POST", "/listeners", {"name": "web-tls", "address": "127.0.0.1", "port": 0,
                                  "protocol": "https", "default_certificate": "site"})
    return wait_port(api, gh, "web"), wait_port(api, gh, "web-tls")


def serves(http_port, https_port, host="a.test"):
    status, _, err = https_curl(https_port, host, "/x", args=["-k"])
    return curl(http_port, "/x", host).status, status


def test_one_route_two_listeners(api, gh, origin):
    http_port, https_port = make_site(api, gh, origin)
    r = api.ok("POST", "/routes", {"name": "app", "listeners": ["web", "web-tls"],
                                   "match": {"hosts": ["a.test"]}, "origin": "o"})
    assert r.json()["listeners"] == ["web", "web-tls"]
    assert "listener" not in r.json()
    assert serves(http_port, https_port) == (200, 200)
    assert len(origin.paths()) == 2

    # the old shape: one listener, shown as before
    r = api.ok("POST", "/routes", {"name": "old", "listener": "web",
                                   "match": {"hosts": ["b.test"]}, "origin": "o"})
    assert r.json()["listener"] == "web" and "listeners" not in r.json()
    assert api.get("/routes/old").json()["listener"] == "web"
    assert serves(http_port, https_port, "b.test") == (200, 404)
    # a list of one is the same thing, shown the old way
    api.ok("PATCH", "/routes/old", {"listeners": ["web-tls"]})
    got = api.get("/routes/old").json()
    assert got["listener"] == "web-tls" and "listeners" not in got, got
    assert serves(http_port, https_port, "b.test") == (404, 200)
    # merge patch: "listener" replaces "listeners" and the other way round
    api.ok("PATCH", "/routes/app", {"listener": "web-tls"})
    got = api.get("/routes/app").json()
    assert got["listener"] == "web-tls" and "listeners" not in got, got
    assert serves(http_port, https_port) == (404, 200)
    api.ok("PATCH", "/routes/app", {"listeners": ["web-tls", "web"]})
    assert api.get("/routes/app").json()["listeners"] == ["web-tls", "web"]
    assert serves(http_port, https_port) == (200, 200)


def test_delete_listener_in_use_refused(api, gh, origin):
    make_site(api, gh, origin)
    api.ok("POST", "/routes", {"name": "app", "listeners": ["web", "web-tls"],
                               "origin": "o"})
    api.ok("POST", "/routes", {"name": "old", "listener": "web", "origin": "o"})
    for name, users in (("web-tls", "routes/app"), ("web", "routes/app, routes/old")):
        r = api.delete("/listeners/" + name)
        assert r.status_code == 409, r.text
        assert users in r.json()["detail"], r.text
    assert len(api.get("/listeners").json()) == 2
    # the whole document too: a route naming a listener that goes is refused
    doc = api.get("/config").json()
    doc["listeners"] = [ls for ls in doc["listeners"] if ls["name"] != "web-tls"]
    r = api.put("/config", doc)
    assert r.status_code == 422
    assert [f for f, _ in problem_fields(r)] == ["routes[0].listeners[1]"], r.text
    # once no route uses it, it goes
    api.ok("PATCH", "/routes/app", {"listener": "web"})
    assert api.delete("/listeners/web-tls").status_code == 204


def test_config_document_and_errors(api, gh, origin):
    http_port, https_port = make_site(api, gh, origin)
    rev = api.revision()
    # JSON Patch on /config: one revision adds a route on both listeners
    r = api.patch("/config", [{"op": "add", "path": "/routes/-", "value": {
        "name": "app", "listeners": ["web", "web-tls"], "match": {"hosts": ["a.test"]},
        "origin": "o"}}])
    assert r.status_code == 200, r.text
    assert api.revision() == rev + 1
    assert serves(http_port, https_port) == (200, 200)
    doc = api.get("/config").json()
    assert doc["routes"][0]["listeners"] == ["web", "web-tls"]
    # the document as read is taken back unchanged: no new revision
    api.ok("PUT", "/config", doc)
    assert api.revision() == rev + 1

    bad = [
        ({"name": "x", "origin": "o"}, ["listener"]),
        ({"name": "x", "origin": "o", "listeners": []}, ["listeners"]),
        ({"name": "x", "origin": "o", "listeners": ["web", "web"]}, ["listeners[1]"]),
        ({"name": "x", "origin": "o", "listener": "web", "listeners": ["web-tls", "web"]},
         ["listener"]),
        ({"name": "x", "origin": "o", "listeners": ["web", "nope"]}, ["listeners[1]"]),
    ]
    for body, fields in bad:
        r = api.post("/routes", body)
        assert r.status_code == 422, (body, r.text)
        assert [f for f, _ in problem_fields(r)] == fields, (body, r.text)
    # both given and agreeing is fine
    api.ok("POST", "/routes", {"name": "y", "origin": "o", "listener": "web",
                               "listeners": ["web", "web-tls"], "match": {"hosts": ["y.test"]}})
    assert api.get("/routes/y").json()["listeners"] == ["web", "web-tls"]
    # a route on a tcp listener and an http one is checked on each
    api.ok("POST", "/listeners", {"name": "raw", "address": "127.0.0.1", "port": 0,
                                  "protocol": "tcp"})
    r = api.patch("/routes/y", {"listeners": ["web", "raw"]})
    assert r.status_code == 422, r.text
    assert "raw" in r.text and "hosts" in r.text, r.text
