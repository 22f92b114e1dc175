"""The Layer 4 and TLS fields of listeners, origins and routes through the
API: DESIGN.md's passthrough bodies work as written, every field round
trips through GET, PUT /config and revisions, and bad values are refused
with their field path."""

import pytest

from apiclient import problem_fields, start_api


@pytest.fixture
def api(gh):
    return start_api(gh)


def test_passthrough_bodies_as_written(gh, api, origin):
    api.ok("POST", "/origins", {"name": "pg", "servers": [
        {"address": "127.0.0.1", "port": origin.port}]}, status=201)
    r = api.post("/listeners", {"name": "pt", "address": "127.0.0.1", "port": 0,
                                "protocol": "tls-passthrough"})
    assert r.status_code == 201, r.text
    r = api.post("/routes", {"name": "db", "listener": "pt",
                             "match": {"sni": ["db.example"]}, "origin": "pg"})
    assert r.status_code == 201, r.text
    assert r.json()["match"]["sni"] == ["db.example"]
    # Server names are for tls-passthrough listeners only (compile check).
    api.ok("POST", "/listeners", {"name": "web", "address": "127.0.0.1", "port": 0},
           status=201)
    rev = api.revision()
    r = api.post("/routes", {"name": "x", "listener": "web", "origin": "pg",
                             "match": {"sni": ["a.example"]}})
    assert r.status_code == 422, r.text
    assert problem_fields(r)[0][0] == "routes[x].sni"
    assert api.revision() == rev


def test_l4_and_tls_fields_round_trip(gh, api, origin):
    r = api.post("/origins", {"name": "sec", "servers": [
        {"address": "127.0.0.1", "port": origin.port}],
        "tls": {"enabled": True, "verify": False, "sni": "up.example"}})
    assert r.status_code == 201, r.text
    assert r.json()["tls"] == {"enabled": True, "verify": False, "sni": "up.example"}
    r = api.post("/origins", {"name": "up", "proxy_protocol": 2, "servers": [
        {"address": "127.0.0.1", "port": origin.port}]})
    assert r.status_code == 201, r.text
    assert r.json()["proxy_protocol"] == 2
    r = api.post("/listeners", {"name": "l4", "address": "127.0.0.1", "port": 0,
                                "protocol": "tcp", "max_connections": 100,
                                "proxy_protocol_from": ["10.0.0.0/8", "::1"]})
    assert r.status_code == 201, r.text
    assert r.json()["max_connections"] == 100
    r = api.post("/routes", {"name": "t", "listener": "l4", "origin": "up",
                             "match": {"sources": ["127.0.0.0/8"]}})
    assert r.status_code == 201, r.text
    doc = api.get("/config").json()
    r = api.put("/config", doc)
    assert r.status_code == 200 and r.json()["changes"] == []
    r = api.ok("PATCH", "/origins/sec", {"tls": {"verify": None}})
    assert r.json()["tls"]["verify"] is True
    r = api.ok("PATCH", "/origins/up", {"proxy_protocol": 0})
    assert r.json()["proxy_protocol"] == 0
    r = api.ok("POST", "/revisions/%d/restore" % (api.revision() - 1))
    assert api.get("/origins/up").json()["proxy_protocol"] == 2


@pytest.mark.parametrize("coll,body,field", [
    ("listeners", {"name": "l", "address": "127.0.0.1", "port": 1,
                   "proxy_protocol_from": ["10.0.0.0/33"]}, "proxy_protocol_from[0]"),
    ("listeners", {"name": "l", "address": "127.0.0.1", "port": 1,
                   "client_auth": "sometimes"}, "client_auth"),
    ("listeners", {"name": "l", "address": "127.0.0.1", "port": 1,
                   "max_connections": 0}, "max_connections"),
    ("origins", {"name": "o", "servers": [{"address": "::1", "port": 1}],
                 "tls": {"enabled": True, "sni": "*.x"}}, "tls.sni"),
    ("origins", {"name": "o", "servers": [{"address": "::1", "port": 1}],
                 "tls": {"enabled": "yes"}}, "tls.enabled"),
    ("origins", {"name": "o", "servers": [{"address": "::1", "port": 1}],
                 "tls": {"ciphers": "all"}}, "tls.ciphers"),
    ("origins", {"name": "o", "servers": [{"address": "::1", "port": 1}],
                 "proxy_protocol": 3}, "proxy_protocol"),
    ("routes", {"name": "r", "listener": "l0", "origin": "o0",
                "match": {"sources": ["nope"]}}, "match.sources[0]"),
    ("routes", {"name": "r", "listener": "l0", "origin": "o0", "hsts_max_age": -1},
     "hsts_max_age"),
])
def test_bad_l4_tls_fields(gh, api, origin, coll, body, field):
    api.ok("POST", "/origins", {"name": "o0", "servers": [
        {"address": "127.0.0.1", "port": origin.port}]}, status=201)
    api.ok("POST", "/listeners", {"name": "l0", "address": "127.0.0.1", "port": 0},
           status=201)
    rev = api.revision()
    r = api.post("/" + coll, body)
    assert r.status_code == 422, r.text
    assert problem_fields(r)[0][0] == field
    assert api.revision() == rev


def test_unknown_certificate_reference(gh, api, origin):
    rev = api.revision()
    r = api.post("/origins", {"name": "o", "servers": [{"address": "::1", "port": 1}],
                              "tls": {"enabled": True, "ca": "nope"}})
    assert r.status_code == 422
    assert problem_fields(r)[0] == ("tls.ca", 'no certificate named "nope"')
    r = api.post("/listeners", {"name": "s", "address": "127.0.0.1", "port": 0,
                                "protocol": "https", "default_certificate": "nope"})
    assert r.status_code == 422
    assert problem_fields(r)[0][0] == "default_certificate"
    assert api.revision() == rev
