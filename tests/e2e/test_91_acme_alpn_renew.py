"""ACME with TLS-ALPN-01 and renewals against pebble on loopback: the
challenge certificate is presented in the handshake of the https listener
to a client offering only "acme-tls/1" (other clients get the normal
certificate); a forced renewal swaps the new certificate in live without
a failed request under load; pebble down for a while (the certificate
fails with its transport problem, retried with backoff) then up again,
with a fresh state that forgot the account: the client registers again
and the certificate is issued; /metrics counts certificates by status."""

import http.client
import ssl
import threading
import time

import pytest

from acmeutil import Pebble, add_account, wait_acme
from apiclient import start_api, wait_port
from backends import Origin


@pytest.fixture
def env(gh, tmp_path):
    gh.extra_env["GATEHOUSE_ACME_RETRY_S"] = "1"
    api = start_api(gh)
    origin = Origin()
    api.ok("POST", "/origins", {"name": "web", "servers": [
        {"address": "127.0.0.1", "port": origin.port}]})
    api.ok("POST", "/certificates/self-signed", {"name": "boot", "names": ["boot.test"]},
           status=201)
    api.ok("POST", "/listeners", {"name": "plain", "address": "127.0.0.1", "port": 0,
                                  "protocol": "http"})
    api.ok("POST", "/listeners", {"name": "tls", "address": "127.0.0.1", "port": 0,
                                  "protocol": "https", "default_certificate": "boot"})
    api.ok("POST", "/routes", {"name": "app", "listener": "tls",
                               "match": {"hosts": [], "path_prefix": "/"}, "origin": "web"})
    http_port = wait_port(api, gh, "plain")
    tls_port = wait_port(api, gh, "tls")
    pebble = Pebble(tmp_path / "pebble", http_port, tls_port)
    add_account(api, pebble)
    yield api, pebble, tls_port
    pebble.close()
    origin.close()


def get(port, name, cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
    c.sock = ctx.wrap_socket(__import__("socket").create_connection(("127.0.0.1", port), 10),
                             server_hostname=name)
    c.request("GET", "/hello", headers={"Host": name})
    r = c.getresponse()
    r.read()
    fp = c.sock.getpeercert(binary_form=True)
    c.close()
    return r.status, fp


def test_issue_tls_alpn01(env, gh):
    api, pebble, port = env
    r = api.post("/certificates/acme", {"name": "site", "names": ["alpn.example.test"],
                                        "account": "pebble", "challenge": "tls-alpn-01"})
    assert r.status_code == 202, r.text
    c = wait_acme(api, "site", ("valid",))
    assert c["acme"]["challenge"] == "tls-alpn-01" and "Pebble" in c["issuer"]
    assert gh.log_has(r"acme: site: answering tls-alpn-01 for alpn.example.test")
    api.ok("PATCH", "/listeners/tls", {"default_certificate": "site"})
    status, _ = get(port, "alpn.example.test", pebble.root_file())
    assert status == 200
    # A client offering acme-tls/1 with no challenge pending gets the
    # normal certificate; a normal client negotiates http/1.1.
    ctx = ssl.create_default_context(cafile=pebble.root_file())
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    s = ctx.wrap_socket(__import__("socket").create_connection(("127.0.0.1", port), 10),
                        server_hostname="alpn.example.test")
    assert s.selected_alpn_protocol() == "http/1.1"
    s.close()


def test_forced_renew_under_load(env, gh):
    api, pebble, port = env
    api.ok("POST", "/routes", {"name": "plain-app", "listener": "plain",
                               "match": {"hosts": [], "path_prefix": "/"}, "origin": "web"})
    r = api.post("/certificates/acme", {"name": "site", "names": ["load.example.test"],
                                        "account": "pebble"})
    assert r.status_code == 202, r.text
    first = wait_acme(api, "site", ("valid",))
    api.ok("PATCH", "/listeners/tls", {"default_certificate": "site"})
    root = pebble.root_file()
    assert get(port, "load.example.test", root)[0] == 200
    stop = threading.Event()
    results = {"ok": 0, "fail": [], "fps": set()}
    lock = threading.Lock()

    def load():
        while not stop.is_set():
            try:
                st, fp = get(port, "load.example.test", root)
                with lock:
                    if st == 200:
                        results["ok"] += 1
                        results["fps"].add(fp)
                    else:
                        results["fail"].append(st)
            except Exception as e:  # noqa: BLE001 - every failure counts
                with lock:
                    results["fail"].append(repr(e))

    threads = [threading.Thread(target=load) for _ in range(3)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    r = api.post("/certificates/site/renew")
    assert r.status_code == 202, r.text
    assert r.json()["acme"]["status"] == "renewing"
    c = wait_acme(api, "site", ("valid",),
                  pred=lambda c: c["acme"]["issued"] == 2)
    time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join()
    assert c["fingerprint_sha256"] != first["fingerprint_sha256"]
    assert results["fail"] == [], results["fail"][:5]
    assert results["ok"] > 20 and len(results["fps"]) == 2, (results["ok"], len(results["fps"]))
    assert api.post("/certificates/boot/renew").status_code == 404


def test_pebble_down_then_recovered(env, gh):
    api, pebble, port = env
    wait_until_valid = time.monotonic() + 20
    while api.get("/acme_accounts/pebble").json()["status"] != "valid":
        assert time.monotonic() < wait_until_valid
        time.sleep(0.2)
    pebble.stop()
    r = api.post("/certificates/acme", {"name": "site", "names": ["down.example.test"],
                                        "account": "pebble"})
    assert r.status_code == 202, r.text
    c = wait_acme(api, "site", ("failed",), pred=lambda c: c["acme"]["attempts"] >= 2)
    err = c["acme"]["last_error"]
    assert err["step"] == "directory" and "127.0.0.1" in err["detail"], err
    assert c["acme"]["next_attempt"] is not None
    m = api.get("/metrics").text
    assert 'gatehouse_acme_certificates{status="failed"} 1' in m, m
    # Back, with a fresh state that forgot the account.
    pebble.start()
    c = wait_acme(api, "site", ("valid",), timeout=90)
    assert c["acme"]["last_error"] is None and c["acme"]["attempts"] == 0
    assert gh.log_has(r"registering again")
    m = api.get("/metrics").text
    assert 'gatehouse_acme_certificates{status="valid"} 1' in m, m
    assert 'gatehouse_certificate_expiry_seconds{certificate="site"}' in m
