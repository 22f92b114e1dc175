"""ACME with HTTP-01 against Debian's pebble on loopback (acmeutil.py):
an account registered with a key the appliance makes (never returned);
a certificate requested through POST /certificates/acme, its challenge
answered by the http listener before routing (its only route redirects
to https), issued, stored as a revision and served on an https listener
to a client that trusts only pebble's chain; wildcards refused with a
clear error; a rejected challenge's problem document in the API."""

import subprocess
import time

import pytest

from acmeutil import Pebble, add_account, wait_acme
from apiclient import problem_fields, start_api, wait_port
from backends import Origin


@pytest.fixture
def env(gh, tmp_path):
    gh.extra_env["GATEHOUSE_ACME_RETRY_S"] = "1"
    api = start_api(gh)
    origin = Origin()
    api.ok("POST", "/origins", {"name": "web", "servers": [
        {"address": "127.0.0.1", "port": origin.port}]})
    api.ok("POST", "/listeners", {"name": "plain", "address": "127.0.0.1", "port": 0,
                                  "protocol": "http"})
    api.ok("POST", "/routes", {"name": "redirect", "listener": "plain",
                               "match": {"hosts": [], "path_prefix": "/"},
                               "origin": "web", "redirect_https": True})
    http_port = wait_port(api, gh, "plain")
    # tls-alpn-01 validation goes to a port nothing listens on: that
    # challenge is rejected.
    pebble = Pebble(tmp_path / "pebble", http_port, 1)
    yield api, pebble, origin
    pebble.close()
    origin.close()


def curl_https(port, name, cafile):
    p = subprocess.run(["curl", "-sS", "--max-time", "10", "--cacert", cafile,
                        "--resolve", "%s:%d:127.0.0.1" % (name, port),
                        "-o", "/dev/null", "-w", "%{http_code}",
                        "https://%s:%d/hello" % (name, port)],
                       capture_output=True, text=True, timeout=20)
    return p.stdout, p.stderr


def test_issue_http01_and_serve(env, gh):
    api, pebble, origin = env
    acct = add_account(api, pebble)
    assert acct["status"] == "pending" and "key_pem" not in acct
    r = api.post("/certificates/acme", {"name": "site",
                                        "names": ["app.example.test", "www.example.test"],
                                        "account": "pebble", "challenge": "http-01",
                                        "key_type": "ecdsa-p256"})
    assert r.status_code == 202, r.text
    assert r.json()["acme"]["status"] == "pending"
    c = wait_acme(api, "site", ("valid",))
    assert c["acme"]["last_error"] is None and c["acme"]["attempts"] == 0
    assert c["acme"]["next_renewal"] is not None
    assert "Pebble" in c["issuer"], c
    assert c["sans"] == ["app.example.test", "www.example.test"]
    assert c["chain_length"] >= 2
    # Pebble offers no renewalInfo (RFC 9773): the certificate's ARI id
    # is kept, the CA is asked once, and renewal stays at two thirds.
    assert c["acme"]["renewal_window"] is None
    gh.wait_for(r"acme: site: the CA offers no renewal information", timeout=20)
    rows = gh.sql("SELECT ari_id, ari_start, ari_check FROM acme_certs")
    assert rows[0][0] and "." in rows[0][0] and rows[0][1:] == (None, None), rows
    a = api.get("/acme_accounts/pebble").json()
    assert a["status"] == "valid" and a["account_url"].startswith("https://127.0.0.1:")
    assert a["used_by"] == ["site"]
    # The issue is a revision; the account and certificate keys never
    # leave the appliance.
    assert "ACME" in api.get("/revisions").text
    for path in ("/acme_accounts", "/acme_accounts/pebble", "/certificates",
                 "/certificates/site", "/config"):
        assert "PRIVATE KEY" not in api.get(path).text, path
    rows = gh.sql("SELECT key_pem FROM acme_accounts")
    assert rows[0][0] is not None and b"PRIVATE KEY" not in rows[0][0]
    rows = gh.sql("SELECT private_key_pem FROM certificates WHERE name = 'site'")
    assert b"PRIVATE KEY" not in rows[0][0]
    # Served on an https listener, checked by a client trusting pebble.
    api.ok("POST", "/listeners", {"name": "tls", "address": "127.0.0.1", "port": 0,
                                  "protocol": "https", "default_certificate": "site"})
    api.ok("POST", "/routes", {"name": "app", "listener": "tls",
                               "match": {"hosts": ["app.example.test"], "path_prefix": "/"},
                               "origin": "web"})
    port = wait_port(api, gh, "tls")
    root = pebble.root_file()
    code, err = curl_https(port, "app.example.test", root)
    assert code == "200", err
    # The challenge path is answered before routing, even on a listener
    # whose routes redirect: unknown tokens are a 404 from the proxy.
    p = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                        "http://127.0.0.1:%d/.well-known/acme-challenge/nope" %
                        gh.ports["plain"]], capture_output=True, text=True, timeout=10)
    assert p.stdout == "404"
    p = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                        "http://127.0.0.1:%d/other" % gh.ports["plain"]],
                       capture_output=True, text=True, timeout=10)
    assert p.stdout == "308"


def test_refusals(env):
    api, pebble, _ = env
    add_account(api, pebble)
    r = api.post("/certificates/acme", {"name": "wild", "names": ["*.example.test"],
                                        "account": "pebble"})
    assert r.status_code == 422
    msg = dict(problem_fields(r))["names"]
    assert "wildcard" in msg and "dns-01" in msg, msg
    r = api.post("/certificates/acme", {"name": "x", "names": ["a.example.test"],
                                        "account": "nobody"})
    assert r.status_code == 422 and "account" in dict(problem_fields(r))
    r = api.post("/certificates/acme", {"name": "x", "names": ["a.example.test"],
                                        "account": "pebble", "challenge": "dns-01"})
    assert r.status_code == 422 and "challenge" in dict(problem_fields(r))
    r = api.post("/certificates/acme", {"name": "x", "names": ["a.example.test"],
                                        "account": "pebble", "delay_s": 3601})
    assert r.status_code == 422 and "delay_s" in dict(problem_fields(r))
    r = api.post("/acme_accounts", {"name": "bad", "directory": "http://insecure/dir",
                                    "terms_agreed": True})
    assert r.status_code == 422 and "directory" in dict(problem_fields(r))
    r = api.post("/acme_accounts", {"name": "bad", "directory": pebble.directory,
                                    "terms_agreed": False})
    assert r.status_code == 422 and "terms_agreed" in dict(problem_fields(r))
    assert api.delete("/acme_accounts/pebble").status_code == 204


def test_rejected_challenge_problem(env, gh):
    api, pebble, _ = env
    add_account(api, pebble)
    r = api.post("/certificates/acme", {"name": "alpn", "names": ["alpn.example.test"],
                                        "account": "pebble", "challenge": "tls-alpn-01"})
    assert r.status_code == 202, r.text
    c = wait_acme(api, "alpn", ("failed",))
    err = c["acme"]["last_error"]
    assert err["type"].startswith("urn:ietf:params:acme:error:"), err
    assert err["step"] == "challenge" and err["identifier"] == "alpn.example.test"
    assert err["challenge"]["type"] == "tls-alpn-01" and err["challenge"]["status"] == "invalid"
    assert err["detail"], err
    assert c["acme"]["attempts"] >= 1
    assert gh.log_has(r"\[warn\] acme: alpn: challenge failed")
    # The placeholder still serves meanwhile; the account is in use.
    assert api.delete("/acme_accounts/pebble").status_code == 409


def test_held_order_starts_at_renew(env, gh):
    """delay_s holds the order back (the web UI's New site makes the
    listeners meanwhile); /renew starts it at once."""
    api, pebble, _ = env
    add_account(api, pebble)
    r = api.post("/certificates/acme", {"name": "held", "names": ["held.example.test"],
                                        "account": "pebble", "delay_s": 3600})
    assert r.status_code == 202, r.text
    a = r.json()["acme"]
    assert a["status"] == "pending" and a["next_attempt"] is not None, a
    time.sleep(2)
    a = api.get("/certificates/held").json()["acme"]
    assert a["status"] == "pending" and a["orders"] == 0 and a["attempts"] == 0, a
    assert "Issued certificate" not in pebble.log()
    assert api.post("/certificates/held/renew").status_code == 202
    c = wait_acme(api, "held", ("valid",))
    assert c["acme"]["orders"] == 1 and c["sans"] == ["held.example.test"]
