"""A whole site in one revision (issue 14): PATCH /config may add
certificates with "add" operations on /certificates/- (self-signed:
{"name","self_signed":{"names","days"}}, or uploaded: {"name",
"certificate","private_key"}); they are written in the same transaction as
the document's rows, so an https listener of the same patch serves one at
once, the change is one revision, and any failure (the certificate's, the
document's, a name taken, a reference missing) changes nothing. POST
/config/validate says what such a patch would do. The configuration
document itself still has no certificates."""

import pytest

from apiclient import problem_fields, start_api, wait_port
from tlsutil import https_curl, make_leaf, peer_cn


@pytest.fixture
def api(gh):
    return start_api(gh)


def site_ops(origin, cert_value, name="shop", cert="shop-cert"):
    return [
        {"op": "add", "path": "/certificates/-", "value": cert_value},
        {"op": "add", "path": "/origins/-", "value": {
            "name": name, "servers": [{"address": "127.0.0.1", "port": origin.port}]}},
        {"op": "add", "path": "/listeners/-", "value": {
            "name": "tls", "address": "127.0.0.1", "port": 0, "protocol": "https",
            "default_certificate": cert}},
        {"op": "add", "path": "/routes/-", "value": {
            "name": name, "listeners": ["tls"], "origin": name,
            "match": {"hosts": ["shop.test", "www.shop.test"]}}},
    ]


def revision(api):
    return api.revision()


def test_self_signed_site_is_one_revision(api, gh, origin):
    before = revision(api)
    ops = site_ops(origin, {"name": "shop-cert", "self_signed": {
        "names": ["shop.test", "www.shop.test"], "days": 30}})
    r = api.patch("/config", ops)
    assert r.status_code == 200, r.text
    assert revision(api) == before + 1, "one revision for the whole site"
    assert int(r.headers["X-Config-Revision"]) == before + 1
    body = r.json()
    assert body["revision"] == before + 1
    added = [c for c in body["changes"] if c["path"] == "/certificates/shop-cert"]
    assert added == [{"op": "add", "path": "/certificates/shop-cert",
                      "new": {"name": "shop-cert", "kind": "leaf", "self_signed": True}}]
    revs = api.get("/revisions").json()
    assert revs[0]["revision"] == before + 1
    assert "certificate shop-cert (self-signed)" in revs[0]["summary"], revs[0]
    cert = api.get("/certificates/shop-cert").json()
    assert sorted(cert["sans"]) == ["shop.test", "www.shop.test"], cert
    assert "private_key" not in cert
    # served at once, by the listener the same patch made
    port = wait_port(api, gh, "tls")
    assert peer_cn(port, "www.shop.test") == "shop.test"
    status, _, _ = https_curl(port, "shop.test", "/x", args=["-k"])
    assert status == 200
    # the document still has no certificates; GET /config is as before
    assert "certificates" not in api.get("/config").json()


def test_uploaded_certificate_in_the_same_patch(api, gh, origin, tmp_path):
    pair = make_leaf(tmp_path, "up.test", dns=["shop.test"])
    before = revision(api)
    ops = site_ops(origin, {"name": "shop-cert", "certificate": pair.cert_pem,
                            "private_key": pair.key_pem})
    r = api.patch("/config", ops)
    assert r.status_code == 200, r.text
    assert revision(api) == before + 1
    assert "certificate shop-cert (leaf)" in api.get("/revisions").json()[0]["summary"]
    port = wait_port(api, gh, "tls")
    assert peer_cn(port, "shop.test") == "up.test"


def test_every_error_at_once_and_nothing_changes(api, gh, origin):
    before = revision(api)
    ops = site_ops(origin, {"name": "shop-cert", "self_signed": {"names": []}})
    ops[2]["value"]["port"] = 70000
    r = api.patch("/config", ops)
    assert r.status_code == 422, r.text
    fields = [f for f, _ in problem_fields(r)]
    assert "certificates[0].self_signed.names" in fields, fields
    assert "listeners[0].port" in fields, fields
    # a certificate item of neither shape, and a bad name
    r = api.patch("/config", [{"op": "add", "path": "/certificates/-",
                               "value": {"name": "bad name!"}}])
    assert r.status_code == 422
    fields = [f for f, _ in problem_fields(r)]
    assert fields == ["certificates[0].name", "certificates[0].certificate"], fields
    r = api.patch("/config", [{"op": "add", "path": "/certificates/-", "value": {
        "name": "x", "self_signed": {"names": ["a.test"]}, "certificate": "pem"}}])
    assert problem_fields(r) == [("certificates[0]",
                                  "self_signed, acme, or certificate and private_key: only one")]
    r = api.patch("/config", [{"op": "add", "path": "/certificates/-", "value": {
        "name": "x", "certificate": "not a certificate"}}])
    assert r.status_code == 422
    assert [f for f, _ in problem_fields(r)] == ["certificates[0].certificate"]
    # two certificates of one name in one patch
    two = {"name": "same", "self_signed": {"names": ["a.test"]}}
    r = api.patch("/config", [{"op": "add", "path": "/certificates/-", "value": two},
                              {"op": "add", "path": "/certificates/-", "value": two}])
    assert problem_fields(r) == [("certificates[1].name", '"same" is added twice')]
    # only additions: there is nothing to remove or replace there
    r = api.patch("/config", [{"op": "remove", "path": "/certificates/0"}])
    assert r.status_code == 422
    assert revision(api) == before
    assert api.get("/certificates").json() == []
    assert api.get("/listeners").json() == []


def test_a_failure_after_the_certificate_rolls_it_back(api, gh, origin):
    before = revision(api)
    ops = site_ops(origin, {"name": "shop-cert", "self_signed": {"names": ["shop.test"]}})
    ops[3]["value"]["origin"] = "missing"  # found only when the rows are written
    r = api.patch("/config", ops)
    assert r.status_code == 422, r.text
    assert any(f.endswith("origin") for f, _ in problem_fields(r)), r.text
    assert revision(api) == before
    assert api.get("/certificates").json() == [], "the certificate went with the rest"
    # a certificate name that is taken: 409 at the item, nothing changes
    api.ok("POST", "/certificates/self-signed", {"name": "shop-cert", "names": ["a.test"]},
           status=201)
    taken = revision(api)
    r = api.patch("/config", site_ops(origin, {"name": "shop-cert", "self_signed": {
        "names": ["shop.test"]}}))
    assert r.status_code == 409, r.text
    assert problem_fields(r) == [("certificates[0].name",
                                  'a certificate named "shop-cert" exists')]
    assert revision(api) == taken
    assert api.get("/listeners").json() == []


def test_validate_says_what_it_would_do(api, gh, origin):
    before = revision(api)
    ops = site_ops(origin, {"name": "shop-cert", "self_signed": {"names": ["shop.test"]}})
    r = api.post("/config/validate", ops)
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["valid"] is True
    paths = [c["path"] for c in doc["changes"]]
    assert "/certificates/shop-cert" in paths and "/listeners/tls" in paths, paths
    assert revision(api) == before
    assert api.get("/certificates").json() == []
    # a certificate alone is a change too
    r = api.patch("/config", [{"op": "add", "path": "/certificates/-", "value": {
        "name": "lone", "self_signed": {"names": ["lone.test"]}}}])
    assert r.status_code == 200, r.text
    assert revision(api) == before + 1
    assert api.get("/certificates/lone").status_code == 200
