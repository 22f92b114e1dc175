"""Large documents: PUT /config and POST /config/validate take bodies up to
--admin-config-max-mb (64 MiB by default), every other endpoint 1 MiB; a
larger body gets 413 and changes nothing, and an unauthenticated client is
refused before a large body is read."""

import json

import pytest
import requests

from apiclient import restart_api, start_api

MIB = 1024 * 1024


@pytest.fixture
def api(gh):
    return start_api(gh)


def doc(origin_port):
    return {"listeners": [{"name": "public", "address": "127.0.0.1", "port": 0}],
            "origins": [{"name": "web", "servers": [
                {"address": "127.0.0.1", "port": origin_port}]}],
            "routes": [{"name": "app", "listener": "public", "origin": "web",
                        "match": {"hosts": ["app.test"]}}]}


def padded(body, size):
    """<body> as JSON followed by whitespace up to <size> bytes."""
    raw = json.dumps(body)
    return raw + " " * (size - len(raw))


def test_config_takes_large_bodies(api, gh, origin):
    raw = padded(doc(origin.port), 3 * MIB)
    r = api.post("/config/validate", raw=raw)
    assert r.status_code == 200 and r.json()["valid"] is True, r.text
    rev = api.revision()
    r = api.put("/config", raw=raw)
    assert r.status_code == 200, r.text
    assert api.revision() == rev + 1
    assert [x["name"] for x in api.get("/routes").json()] == ["app"]
    # Every other endpoint keeps 1 MiB, the whole-document PATCH too.
    big = padded({"name": "x", "servers": [{"address": "127.0.0.1", "port": 1}]},
                 MIB + 1)
    assert api.post("/origins", raw=big).status_code == 413
    assert api.patch("/config", raw=padded([], MIB + 1)).status_code == 413
    assert api.revision() == rev + 1


def test_config_limit_is_configurable(api, gh, origin):
    assert gh.stop() == 0
    restart_api(gh, api, args=["--admin-config-max-mb", "2"])
    rev = api.revision()
    ok = padded(doc(origin.port), 2 * MIB)
    assert api.post("/config/validate", raw=ok).status_code == 200
    over = padded(doc(origin.port), 2 * MIB + 1)
    r = api.put("/config", raw=over)
    assert r.status_code == 413, r.text
    assert r.json()["status"] == 413
    assert api.post("/config/validate", raw=over).status_code == 413
    assert api.revision() == rev
    # A chunked body (no Content-Length) is cut at the same limit.
    chunks = (over[i:i + 65536].encode() for i in range(0, len(over), 65536))
    r = requests.put(api.url("/config"), data=chunks, timeout=30,
                     headers={"Authorization": "Bearer " + api.token,
                              "Content-Type": "application/json"})
    assert r.status_code == 413
    assert api.revision() == rev
    assert api.put("/config", raw=ok).status_code == 200


def test_large_body_needs_authentication(api, gh, origin):
    raw = padded(doc(origin.port), 3 * MIB)
    r = api.put("/config", raw=raw, auth=False)
    assert r.status_code == 401
    r = api.put("/config", raw=raw, headers={"Authorization": "Bearer nope"},
                auth=False)
    assert r.status_code == 401


@pytest.mark.parametrize("value", ["0", "4097", "x"])
def test_bad_limit_option(gh, value):
    gh.allow_crit = True
    gh.expect_exit = "failure"
    gh.start(args=["--admin-config-max-mb", value], wait_ready=False)
    assert gh.proc.wait(timeout=10) != 0
