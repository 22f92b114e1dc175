"""Admin API validation: every field is checked, errors are RFC 9457
problems naming the field, and an invalid change changes nothing (same
revision, same behaviour)."""

import json

import pytest

from apiclient import problem_fields, start_api, wait_port


@pytest.fixture
def api(gh):
    return start_api(gh)


def base_setup(api, origin_a, origin_b=None):
    api.ok("POST", "/origins", {"name": "web", "servers": [
        {"address": "127.0.0.1", "port": origin_a.port}]}, status=201)
    if origin_b is not None:
        api.ok("POST", "/origins", {"name": "alt", "servers": [
            {"address": "127.0.0.1", "port": origin_b.port}]}, status=201)
    api.ok("POST", "/listeners", {"name": "public", "address": "127.0.0.1", "port": 0},
           status=201)
    api.ok("POST", "/routes", {"name": "app", "listener": "public", "origin": "web",
                               "match": {"hosts": ["app.test"]}}, status=201)


@pytest.mark.parametrize("coll,body,field,status", [
    ("origins", {"name": "o", "servers": [{"address": "127.0.0.1", "port": 1},
                                          {"address": "127.0.0.1", "port": 2},
                                          {"address": "127.0.0.1", "port": 70000}]},
     "servers[2].port", 422),
    ("origins", {"name": "o", "servers": [{"address": "localhost", "port": 1}]},
     "servers[0].address", 422),
    ("origins", {"name": "o", "servers": [{"address": "127.0.0.1", "port": 1, "weight": 0}]},
     "servers[0].weight", 422),
    ("origins", {"name": "o", "servers": []}, "servers", 422),
    ("origins", {"name": "o", "servers": [{"address": "127.0.0.1", "port": "80"}]},
     "servers[0].port", 422),
    ("origins", {"name": "o", "servers": [{"address": "::1", "port": 1, "wieght": 1}]},
     "servers[0].wieght", 422),
    ("origins", {"name": "bad name", "servers": [{"address": "::1", "port": 1}]}, "name", 422),
    ("origins", {"name": "123", "servers": [{"address": "::1", "port": 1}]}, "name", 422),
    ("origins", {"servers": [{"address": "::1", "port": 1}]}, "name", 422),
    ("listeners", {"name": "l", "address": "127.0.0.1", "port": 1, "protocol": "gopher"},
     "protocol", 422),
    ("listeners", {"name": "l", "address": "127.0.0.1", "port": -1}, "port", 422),
    ("listeners", {"name": "l", "address": "127.0.0.1", "port": 1, "timeouts": {"header_ms": 0}},
     "timeouts.header_ms", 422),
    ("listeners", {"name": "l", "address": "127.0.0.1", "port": 1, "timeouts": {"x": 1}},
     "timeouts.x", 422),
    ("listeners", {"name": "l", "address": "127.0.0.1", "port": 1, "trust_forwarded": "yes"},
     "trust_forwarded", 422),
    ("routes", {"name": "r", "listener": "public", "origin": "web",
                "match": {"hosts": ["ok.test", "bad host"]}}, "match.hosts[1]", 422),
    ("routes", {"name": "r", "listener": "public", "origin": "web",
                "match": {"hosts": ["*.ok.test", "-x.test"]}}, "match.hosts[1]", 422),
    ("routes", {"name": "r", "listener": "public", "origin": "web",
                "match": {"path_prefix": "nope"}}, "match.path_prefix", 422),
    ("routes", {"name": "r", "listener": "public", "origin": "web",
                "match": {"methods": ["GET", "FETCH"]}}, "match.methods[1]", 422),
    ("routes", {"name": "r", "listener": "public", "origin": "web",
                "timeouts": {"response_ms": 0}}, "timeouts.response_ms", 422),
    ("routes", {"name": "r", "listener": "public", "origin": "web", "max_body_bytes": -5},
     "max_body_bytes", 422),
    ("routes", {"name": "r", "listener": "nowhere", "origin": "web"}, "listener", 422),
    ("routes", {"name": "r", "listener": "public", "origin": "ghost"}, "origin", 422),
    ("routes", {"name": "app", "listener": "public", "origin": "web"}, "name", 409),
    ("routes", {"name": "r", "listener": "public", "origin": "web", "id": 5}, "id", 422),
])
def test_invalid_item_changes_nothing(gh, api, origin, coll, body, field, status):
    base_setup(api, origin)
    rev = api.revision()
    before = api.get("/config").json()
    r = api.post("/" + coll, body)
    assert r.status_code == status, r.text
    assert field in [f for f, _ in problem_fields(r)], r.text
    assert api.revision() == rev
    assert api.get("/config").json() == before
    assert api.status()["serving_revision"] == rev


def test_malformed_unsupported_too_large(gh, api, origin):
    base_setup(api, origin)
    rev = api.revision()
    r = api.post("/origins", raw='{"name": "x", "servers": [', ctype="application/json")
    assert r.status_code == 400 and problem_fields(r) == []
    assert "malformed JSON" in r.json()["detail"]
    r = api.post("/origins", raw='{"name":"x","name":"y"}')
    assert r.status_code == 400
    r = api.post("/origins", raw='{"name":"x"}', ctype="text/plain")
    assert r.status_code == 415
    r = api.post("/origins", raw='{"name":"x"}', ctype="application/x-www-form-urlencoded")
    assert r.status_code == 415
    big = json.dumps({"name": "x", "servers": [{"address": "127.0.0.1", "port": 1}] * 60000})
    assert len(big) > 1024 * 1024
    r = api.post("/origins", raw=big)
    assert r.status_code == 413
    r = api.post("/origins", raw="")
    assert r.status_code == 400
    # Well-formed JSON of the wrong shape is invalid content, not malformed.
    for raw in ("8080", '"x"', "[]", "null"):
        r = api.post("/origins", raw=raw)
        assert r.status_code == 422 and problem_fields(r)[0][1] == "must be an object", raw
        r = api.put("/config", raw=raw)
        assert r.status_code == 422, raw
    assert api.revision() == rev


def test_dangling_reference_in_config_changes_nothing(gh, api, origin, origin_factory):
    b = origin_factory("b")
    base_setup(api, origin, b)
    port = wait_port(api, gh, "public")
    from conftest import curl
    assert curl(port, "/", host="app.test").header("X-Backend") == "a"
    rev = api.revision()
    doc = api.get("/config").json()
    doc["routes"][0]["origin"] = "missing"
    r = api.put("/config", doc)
    assert r.status_code == 422, r.text
    assert problem_fields(r)[0][0] == "routes[0].origin"
    # Deleting an origin that a route uses: 409 naming the route.
    r = api.delete("/origins/web")
    assert r.status_code == 409
    assert "routes/app" in r.json()["detail"]
    assert api.revision() == rev
    assert curl(port, "/", host="app.test").header("X-Backend") == "a"


def test_json_patch_two_objects_one_invalid(gh, api, origin, origin_factory):
    b = origin_factory("b")
    base_setup(api, origin, b)
    port = wait_port(api, gh, "public")
    rev = api.revision()
    before = api.get("/config").json()
    patch = [
        {"op": "replace", "path": "/routes/0/origin", "value": "alt"},
        {"op": "replace", "path": "/origins/0/servers/0/port", "value": 0},
    ]
    r = api.patch("/config", patch)
    assert r.status_code == 422, r.text
    assert problem_fields(r)[0][0] == "origins[0].servers[0].port"
    assert api.revision() == rev and api.get("/config").json() == before
    from conftest import curl
    assert curl(port, "/", host="app.test").header("X-Backend") == "a"
    # A patch whose path does not exist: 422 naming the operation.
    r = api.patch("/config", [{"op": "remove", "path": "/routes/7"}])
    assert r.status_code == 422 and problem_fields(r)[0][0] == "[0].path"
    # Both edits valid: one new revision, both applied.
    patch[1]["value"] = b.port
    r = api.patch("/config", patch, ctype="application/json-patch+json")
    assert r.status_code == 200, r.text
    assert int(r.headers["X-Config-Revision"]) == rev + 1
    # A server with a new address:port is a new server (new id): the
    # change list shows the servers array replaced.
    assert {c["path"] for c in r.json()["changes"]} == {
        "/routes/app/origin", "/origins/web/servers"}
    assert curl(port, "/", host="app.test").header("X-Backend") == "b"


def test_validate_dry_run_and_if_match(gh, api, origin, origin_factory):
    b = origin_factory("b")
    base_setup(api, origin, b)
    rev = api.revision()
    r = api.post("/config/validate", [{"op": "replace", "path": "/routes/0/origin",
                                       "value": "alt"}])
    assert r.status_code == 200, r.text
    assert r.json()["valid"] is True
    assert r.json()["changes"] == [{"op": "replace", "path": "/routes/app/origin",
                                    "old": "web", "new": "alt"}]
    r = api.post("/config/validate", {"listeners": [], "origins": [], "routes": [
        {"name": "x", "listener": "l", "origin": "o"}]})
    assert r.status_code == 422 and problem_fields(r)[0][0] == "routes[0].listener"
    assert api.revision() == rev

    # If-Match: stale -> 412 and nothing changes; current -> applied.
    r = api.patch("/routes/app", {"origin": "alt"}, headers={"If-Match": '"%d"' % (rev - 1)})
    assert r.status_code == 412
    assert api.revision() == rev
    r = api.patch("/routes/app", {"origin": "alt"}, headers={"If-Match": '"%d"' % rev})
    assert r.status_code == 200 and r.headers["X-Config-Revision"] == str(rev + 1)
    r = api.put("/config", api.get("/config").json(), headers={"If-Match": '"%d"' % rev})
    assert r.status_code == 412

    # GET /config round-trips through PUT /config without a new revision.
    doc = api.get("/config")
    r = api.put("/config", doc.json(), headers={"If-Match": doc.headers["ETag"]})
    assert r.status_code == 200 and r.json()["changes"] == []
    assert api.revision() == rev + 1


def test_put_patch_delete_by_id_and_name(gh, api, origin, origin_factory):
    b = origin_factory("b")
    base_setup(api, origin, b)
    web = api.get("/origins/web").json()
    assert api.get("/origins/%d" % web["id"]).json() == web
    assert api.get("/origins/nope").status_code == 404
    # Rename keeps the id (the key of counters and health).
    r = api.patch("/origins/%d" % web["id"], {"name": "web2"})
    assert r.status_code == 200 and r.json()["id"] == web["id"], r.text
    assert api.get("/routes/app").json()["origin"] == "web2"
    # Merge patch: null removes an optional field.
    api.ok("PATCH", "/routes/app", {"timeouts": {"connect_ms": 100}, "max_body_bytes": 10})
    r = api.ok("PATCH", "/routes/app", {"timeouts": {"connect_ms": None}, "max_body_bytes": None})
    assert r.json()["timeouts"] == {} and "max_body_bytes" not in r.json()
    # PUT replaces the whole item; servers keep ids when address:port stays.
    srv_id = api.get("/origins/alt").json()["servers"][0]["id"]
    r = api.ok("PUT", "/origins/alt", {"name": "alt", "servers": [
        {"address": "127.0.0.1", "port": origin.port, "weight": 3},
        {"address": "127.0.0.1", "port": b.port, "weight": 2}]})
    servers = r.json()["servers"]
    assert servers[1]["id"] == srv_id and servers[1]["weight"] == 2
    r = api.put("/origins/alt", {"name": "alt", "id": 999, "servers": [
        {"address": "127.0.0.1", "port": 1}]})
    assert r.status_code == 422 and problem_fields(r)[0][0] == "id"
    # Delete: route first, then what it used.
    assert api.delete("/routes/app").status_code == 204
    assert api.delete("/origins/web2").status_code == 204
    assert api.delete("/listeners/public").status_code == 204
    assert api.get("/routes").json() == []
    assert [o["name"] for o in api.get("/origins").json()] == ["alt"]


def test_refused_bind_is_state_not_failure(gh, api, origin):
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    taken = s.getsockname()[1]
    try:
        r = api.post("/listeners", {"name": "busy", "address": "127.0.0.1", "port": taken})
        assert r.status_code == 201, r.text
        st = api.status()
        busy = [ls for ls in st["listeners"] if ls["name"] == "busy"]
        assert busy and busy[0]["state"] == "error" and not busy[0]["bound"], st
        assert "in use" in busy[0]["error"]
        assert st["in_sync"]
        assert gh.proc.poll() is None
    finally:
        s.close()


def test_every_field_error_in_one_answer(gh, api, origin):
    base_setup(api, origin)
    rev = api.revision()
    before = api.get("/config").json()
    # Three bad fields: all three named in one 422, in field order.
    r = api.post("/routes", {"name": "r", "listener": "public", "origin": "web",
                             "match": {"hosts": ["a..b"]}, "priority": 1000001,
                             "timeouts": {"idle_ms": 0}})
    assert r.status_code == 422, r.text
    assert [f for f, _ in problem_fields(r)] == [
        "match.hosts[0]", "priority", "timeouts.idle_ms"]
    # The same through a whole document, with the items' paths; and a
    # PATCH of one item reports each of its errors too.
    doc = api.get("/config").json()
    doc["origins"][0]["servers"][0]["port"] = 0
    doc["listeners"][0]["protocol"] = "gopher"
    doc["routes"][0]["match"]["methods"] = ["GET", "GET"]
    r = api.put("/config", doc)
    assert r.status_code == 422, r.text
    assert sorted(f for f, _ in problem_fields(r)) == [
        "listeners[0].protocol", "origins[0].servers[0].port",
        "routes[0].match.methods[1]"]
    r = api.patch("/listeners/public", {"port": -1, "address": "nowhere", "x": 1})
    assert r.status_code == 422, r.text
    assert {f for f, _ in problem_fields(r)} == {"x", "address", "port"}
    assert api.revision() == rev
    assert api.get("/config").json() == before
