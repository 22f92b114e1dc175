"""Listener field trusted_proxies: behind a CDN or load balancer the client is
the right-most X-Forwarded-For entry not in the list; a forged
X-Forwarded-For from an untrusted address is ignored. The access log and the
X-Forwarded-For sent to the origin use the client found."""

import json

from apiclient import problem_fields, start_api
from backends import parse_responses, raw_exchange
from test_31_access_log import read_log


def sent(port, extra):
    data, _ = raw_exchange(port, b"GET /h HTTP/1.1\r\nHost: app.test\r\n" + extra
                           + b"Connection: close\r\n\r\n")
    r = parse_responses(data)[0]
    assert r.status == 200, data[:300]
    hdrs = [(k.lower(), v) for k, v in json.loads(r.body)["headers"]]
    return ",".join(v for k, v in hdrs if k == "x-forwarded-for").replace(" ", "")


def test_client_behind_trusted_proxies(gh, origin):
    port = gh.simple(origin, listener_cols={
        "trusted_proxies": json.dumps(["127.0.0.0/8", "198.51.100.0/24",
                                       "2001:db8::/32"])})
    # The right-most untrusted entry; what the client wrote left of it goes.
    assert sent(port, b"X-Forwarded-For: 6.6.6.6, 203.0.113.9, 198.51.100.7\r\n") \
        == "203.0.113.9,198.51.100.7,127.0.0.1"
    # Several headers, IPv6 with a port, overlapping blocks.
    assert sent(port, b"X-Forwarded-For: 2001:db9::5\r\n"
                b"X-Forwarded-For: [2001:db8::1]:443\r\n") \
        == "2001:db9::5,[2001:db8::1]:443,127.0.0.1"
    # A trusted peer that sends none: the peer is the client.
    assert sent(port, b"") == "127.0.0.1"
    recs = read_log(gh.access_log, 3)
    assert [r["client"] for r in recs] == ["203.0.113.9", "2001:db9::5", "127.0.0.1"]
    assert recs[0]["peer"] == "127.0.0.1"
    assert "peer" not in recs[2]


def test_forged_xff_from_untrusted_is_ignored(gh, origin):
    port = gh.simple(origin, listener_cols={
        "trusted_proxies": json.dumps(["10.0.0.0/8"]), "trust_forwarded": 1})
    assert sent(port, b"X-Forwarded-For: 203.0.113.9\r\n") == "127.0.0.1"
    recs = read_log(gh.access_log, 1)
    assert recs[0]["client"] == "127.0.0.1"


def test_trusted_proxies_api(gh, origin):
    api = start_api(gh)
    r = api.post("/listeners", {"name": "web", "address": "127.0.0.1", "port": 0,
                                "trusted_proxies": ["10.0.0.0/8", "2001:db8::/32"]})
    assert r.status_code == 201, r.text
    assert r.json()["trusted_proxies"] == ["10.0.0.0/8", "2001:db8::/32"]
    r = api.patch("/listeners/web", {"trusted_proxies": ["10.0.0.0/33"]})
    assert r.status_code == 422, r.text
    assert problem_fields(r)[0][0] == "trusted_proxies[0]"
    # Layer 4 listeners read no X-Forwarded-For.
    rev = api.revision()
    r = api.post("/listeners", {"name": "t", "address": "127.0.0.1", "port": 0,
                                "protocol": "tcp", "trusted_proxies": ["10.0.0.0/8"]})
    assert r.status_code == 422, r.text
    assert problem_fields(r)[0][0] == "listeners[t].trusted_proxies"
    assert api.revision() == rev
