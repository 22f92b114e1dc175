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


def test_users_and_tokens_read_and_written_by_their_tables(gh, api):
    """Users and tokens are read and written from the field tables
    (api_users.c): every property of the served User and Token schemas
    but the write-only ones is in an answer (null when a nullable one is
    unset), defaults fill what a PUT leaves out, a PATCH keeps the rest."""
    schemas = api.get("/openapi.json").json()["components"]["schemas"]

    def shown(name):
        return {k for k, v in schemas[name]["properties"].items() if not v.get("writeOnly")}

    t = api.ok("POST", "/tokens", {"name": "ci", "expires_in": 600}, status=201).json()
    assert set(t) == shown("Token") | {"token"}, t
    assert t["role"] == schemas["Token"]["properties"]["role"]["default"] == "viewer"
    assert t["owner"] == "admin" and t["created_by"], t
    assert t["expires_at"] > 0
    p = api.ok("PATCH", "/tokens/ci", {"role": "admin"}).json()
    assert (p["role"], p["expires_at"]) == ("admin", t["expires_at"]), p
    p = api.ok("PUT", "/tokens/ci", {"name": "ci2", "owner": "nobody", "created_at": 1}).json()
    assert (p["name"], p["role"], p["expires_at"]) == ("ci2", "viewer", None), p
    assert (p["owner"], p["created_at"]) == ("admin", t["created_at"]), p  # read-only
    assert [x for x in api.get("/tokens").json() if x["name"] == "ci2"] == [p]

    u = api.ok("POST", "/users", {"name": "bob", "password": "bob-password-1234",
                                  "role": "viewer"}, status=201).json()
    assert set(u) == shown("User"), u
    u = api.ok("PATCH", "/users/bob", {"name": "bobby"}).json()
    assert (u["name"], u["role"]) == ("bobby", "viewer"), u
    u = api.ok("PUT", "/users/bobby", {"name": "bobby"}).json()
    assert u["role"] == schemas["User"]["properties"]["role"]["default"] == "admin", u
    assert api.get("/users/%d" % u["id"]).json() == u
    r = api.post("/users", {"name": "bobby", "password": "bob-password-1234"})
    assert r.status_code == 409 and problem_fields(r) == [("name", "is already used")], r.text
