"""Renewal at two thirds of a short lifetime, and a restart in the middle
of an ACME order (pebble on loopback). The
order's URL and key are in the database before the order is placed, so
after a crash (SIGKILL) or a stop (SIGTERM) in the middle of it the next
start resumes that order with the same key (or, when the CA has given up
on it, places one new order) and pebble issues exactly one certificate."""

import re
import signal

import pytest

from acmeutil import Pebble, add_account, free_port, wait_acme
from apiclient import restart_api, start_api
from backends import Origin


@pytest.fixture
def env(gh, tmp_path):
    gh.extra_env["GATEHOUSE_ACME_RETRY_S"] = "1"
    api = start_api(gh)
    origin = Origin()
    http_port = free_port()
    api.ok("POST", "/origins", {"name": "web", "servers": [
        {"address": "127.0.0.1", "port": origin.port}]})
    api.ok("POST", "/listeners", {"name": "plain", "address": "127.0.0.1",
                                  "port": http_port, "protocol": "http"})
    pebble = Pebble(tmp_path / "pebble", http_port, 1)
    add_account(api, pebble)
    yield api, pebble
    pebble.close()
    origin.close()


def issued(pebble):
    return pebble.log().count("Issued certificate serial")


@pytest.mark.parametrize("how", ["kill", "term"])
def test_restart_mid_order(env, gh, how):
    api, pebble = env
    r = api.post("/certificates/acme", {"name": "site",
                                        "names": ["a.example.test", "b.example.test",
                                                  "c.example.test"],
                                        "account": "pebble"})
    assert r.status_code == 202, r.text
    gh.wait_for(r"acme: site: answering http-01 for", timeout=30)
    if how == "kill":
        gh.proc.kill()
        gh.proc.wait()
    else:
        gh.proc.send_signal(signal.SIGTERM)
        assert gh.proc.wait(30) == 0
    # What survives the stop: the order and its key.
    rows = gh.sql("SELECT order_url, order_key, status, issued FROM acme_certs")
    url, key, status, n = rows[0]
    assert url is not None and key is not None and n == 0, rows
    assert b"PRIVATE KEY" not in key
    assert issued(pebble) == 0
    restart_api(gh, api)
    c = wait_acme(api, "site", ("valid",), timeout=90)
    # Resumed, or (when the CA validated a challenge while the daemon was
    # down and found no answer) that one order given up and one new one.
    resumed = gh.log_has(r"acme: site: resuming order " + re.escape(url))
    assert resumed or gh.log_has(r"acme: site: order " + re.escape(url) +
                                 r" cannot be resumed")
    assert c["acme"]["issued"] == 1, c["acme"]
    assert c["acme"]["orders"] == (1 if resumed else 2), c["acme"]
    assert c["sans"] == ["a.example.test", "b.example.test", "c.example.test"]
    assert issued(pebble) == 1
    rows = gh.sql("SELECT order_url, order_key FROM acme_certs")
    assert rows[0] == (None, None)


def test_renews_at_two_thirds_of_lifetime(gh, tmp_path):
    """Pebble issues 45-second certificates: the client renews each by
    itself 30 s after its start, and the new one is live."""
    gh.extra_env["GATEHOUSE_ACME_RETRY_S"] = "1"
    api = start_api(gh)
    http_port = free_port()
    api.ok("POST", "/listeners", {"name": "plain", "address": "127.0.0.1",
                                  "port": http_port, "protocol": "http"})
    pebble = Pebble(tmp_path / "pebble", http_port, 1, validity=45)
    try:
        add_account(api, pebble)
        r = api.post("/certificates/acme", {"name": "short", "names": ["short.example.test"],
                                            "account": "pebble"})
        assert r.status_code == 202, r.text
        first = wait_acme(api, "short", ("valid",))
        renewal = first["acme"]["next_renewal"]
        assert renewal is not None and renewal < first["not_after"], first
        c = wait_acme(api, "short", ("valid",), timeout=90,
                      pred=lambda c: c["acme"]["issued"] >= 2)
        assert c["fingerprint_sha256"] != first["fingerprint_sha256"]
        assert c["not_after"] > first["not_after"]
        assert gh.log_has(r"acme: short: renewal due")
    finally:
        pebble.close()
