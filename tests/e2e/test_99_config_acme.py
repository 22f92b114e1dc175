"""A new site with an ACME certificate in one revision: PATCH /config may
add {"name","acme":{"names","account","challenge","key_type","delay_s"}}
on /certificates/- (the body of POST /certificates/acme without "name")
beside the listeners, origin and route that serve it. The placeholder and
the ACME row are written in the same transaction as the document's rows:
one revision, or nothing at all (a bad account, a wildcard, a missing
origin leave no certificate and no ACME row). The order then starts at
once, or after delay_s / POST /renew, against Debian's pebble on loopback
(acmeutil.py), whose http-01 validation reaches the listener the same
patch made."""

import time

import pytest

from acmeutil import Pebble, add_account, free_port, wait_acme
from apiclient import problem_fields, start_api, wait_port
from tlsutil import https_curl


@pytest.fixture
def env(gh, tmp_path, origin):
    gh.extra_env["GATEHOUSE_ACME_RETRY_S"] = "1"
    api = start_api(gh)
    http_port = free_port()
    # tls-alpn-01 goes to a port nothing listens on: only http-01 works.
    pebble = Pebble(tmp_path / "pebble", http_port, 1)
    add_account(api, pebble)
    yield api, pebble, http_port
    pebble.close()


def site_ops(origin, http_port, acme, cert="shop"):
    return [
        {"op": "add", "path": "/certificates/-", "value": {"name": cert, "acme": acme}},
        {"op": "add", "path": "/origins/-", "value": {
            "name": "shop", "servers": [{"address": "127.0.0.1", "port": origin.port}]}},
        {"op": "add", "path": "/listeners/-", "value": {
            "name": "plain", "address": "127.0.0.1", "port": http_port, "protocol": "http"}},
        {"op": "add", "path": "/listeners/-", "value": {
            "name": "tls", "address": "127.0.0.1", "port": 0, "protocol": "https",
            "default_certificate": cert}},
        {"op": "add", "path": "/routes/-", "value": {
            "name": "shop", "listeners": ["plain", "tls"], "origin": "shop",
            "match": {"hosts": ["shop.example.test", "www.shop.example.test"]}}},
    ]


NAMES = ["shop.example.test", "www.shop.example.test"]


def issued(pebble):
    return pebble.log().count("Issued certificate serial")


def test_acme_site_is_one_revision_and_is_issued(env, gh, origin):
    api, pebble, http_port = env
    before = api.revision()
    r = api.patch("/config", site_ops(origin, http_port, {
        "names": NAMES, "account": "pebble", "challenge": "http-01",
        "key_type": "ecdsa-p256"}))
    assert r.status_code == 200, r.text
    assert r.json()["revision"] == before + 1
    added = [c for c in r.json()["changes"] if c["path"] == "/certificates/shop"]
    assert added == [{"op": "add", "path": "/certificates/shop", "new": {
        "name": "shop", "kind": "leaf", "acme": {
            "account": "pebble", "challenge": "http-01", "names": NAMES}}}], added
    revs = api.get("/revisions").json()
    summary = [x["summary"] for x in revs if x["revision"] == before + 1][0]
    assert "patch the configuration (5 operations)" in summary, summary
    assert "certificate shop (ACME http-01 from pebble, placeholder until issued)" in summary
    # The placeholder serves at once on the listener of the same patch.
    port = wait_port(api, gh, "tls")
    status, _, _ = https_curl(port, "shop.example.test", "/x", args=["-k"])
    assert status == 200
    # The order starts at once (no delay_s): the CA validates http-01 at
    # the plain listener the same patch made, issues, and the chain
    # replaces the placeholder as the next revision.
    c = wait_acme(api, "shop", ("valid",))
    assert "Pebble" in c["issuer"], c
    assert c["sans"] == NAMES
    assert c["acme"]["account"] == "pebble" and c["acme"]["issued"] == 1
    assert api.revision() == before + 2, [x["summary"] for x in api.get("/revisions").json()]
    assert issued(pebble) == 1
    root = pebble.root_file()
    for name in NAMES:
        status, _, err = https_curl(port, name, "/over-acme", args=["--cacert", root])
        assert status == 200, err
    assert api.get("/acme_accounts/pebble").json()["used_by"] == ["shop"]


def test_delay_s_holds_the_order_until_renew(env, gh, origin):
    api, pebble, http_port = env
    before = api.revision()
    r = api.patch("/config", site_ops(origin, http_port, {
        "names": NAMES, "account": "pebble", "delay_s": 3600}))
    assert r.status_code == 200, r.text
    assert api.revision() == before + 1
    wait_port(api, gh, "tls")
    time.sleep(1.5)
    c = api.get("/certificates/shop").json()
    assert c["acme"]["status"] == "pending" and not c["acme"]["order_in_progress"], c
    assert c["acme"]["next_attempt"] is not None and c["acme"]["orders"] == 0, c
    assert issued(pebble) == 0
    # The web UI's New site starts it once the PATCH answered.
    assert api.post("/certificates/shop/renew", {}).status_code == 202
    wait_acme(api, "shop", ("valid",))
    assert issued(pebble) == 1


def nothing_changed(api, gh, before):
    assert api.revision() == before
    assert api.get("/certificates").json() == []
    assert api.get("/listeners").json() == []
    assert gh.sql("SELECT COUNT(*) FROM acme_certs") == [(0,)]


def test_a_bad_part_leaves_nothing(env, gh, origin):
    api, pebble, http_port = env
    before = api.revision()
    # Every error at once, at its field: the account, and the document's.
    ops = site_ops(origin, http_port, {"names": NAMES, "account": "nobody"})
    ops[2]["value"]["port"] = 70000
    r = api.patch("/config", ops)
    assert r.status_code == 422, r.text
    fields = problem_fields(r)
    assert ("certificates[0].acme.account", 'no ACME account "nobody"') in fields, fields
    assert "listeners[0].port" in [f for f, _ in fields], fields
    nothing_changed(api, gh, before)
    # What POST /certificates/acme refuses, refused at the item.
    for acme, field, msg in [
            ({"names": ["*.example.test"], "account": "pebble"}, "certificates[0].acme.names",
             "wildcard names need the dns-01"),
            ({"names": [], "account": "pebble"}, "certificates[0].acme.names",
             "must list 1 to 32 DNS names"),
            ({"names": NAMES}, "certificates[0].acme.account", "is required"),
            ({"names": NAMES, "account": "pebble", "challenge": "dns-01"},
             "certificates[0].acme.challenge", "must be http-01 or tls-alpn-01"),
            ({"names": NAMES, "account": "pebble", "delay_s": 3601},
             "certificates[0].acme.delay_s", ""),
            ({"names": NAMES, "account": "pebble", "bogus": 1},
             "certificates[0].acme.bogus", ""),
            ("pebble", "certificates[0].acme", "must be an object")]:
        r = api.patch("/config", site_ops(origin, http_port, acme))
        assert r.status_code == 422, r.text
        got = problem_fields(r)
        assert len(got) == 1 and got[0][0] == field and msg in got[0][1], (acme, got)
    # One shape per item.
    r = api.patch("/config", [{"op": "add", "path": "/certificates/-", "value": {
        "name": "x", "acme": {"names": NAMES, "account": "pebble"},
        "self_signed": {"names": NAMES}}}])
    assert problem_fields(r) == [("certificates[0]",
                                  "self_signed, acme, or certificate and private_key: only one")]
    nothing_changed(api, gh, before)
    # A failure found only when the rows are written takes the
    # placeholder and its ACME row back with the rest.
    ops = site_ops(origin, http_port, {"names": NAMES, "account": "pebble"})
    ops[4]["value"]["origin"] = "missing"
    r = api.patch("/config", ops)
    assert r.status_code == 422, r.text
    nothing_changed(api, gh, before)
    # A certificate name that is taken: 409 at the item.
    api.ok("POST", "/certificates/self-signed", {"name": "shop", "names": ["a.test"]},
           status=201)
    taken = api.revision()
    r = api.patch("/config", site_ops(origin, http_port, {"names": NAMES, "account": "pebble"}))
    assert r.status_code == 409, r.text
    assert problem_fields(r) == [("certificates[0].name", 'a certificate named "shop" exists')]
    assert api.revision() == taken
    assert gh.sql("SELECT COUNT(*) FROM acme_certs") == [(0,)]
    assert api.get("/listeners").json() == []
    assert issued(pebble) == 0


def test_validate_stores_nothing(env, gh, origin):
    api, pebble, http_port = env
    before = api.revision()
    r = api.post("/config/validate", site_ops(origin, http_port, {
        "names": NAMES, "account": "pebble"}))
    assert r.status_code == 200, r.text
    assert r.json()["valid"] is True
    paths = [c["path"] for c in r.json()["changes"]]
    assert "/certificates/shop" in paths and "/listeners/plain" in paths, paths
    nothing_changed(api, gh, before)
