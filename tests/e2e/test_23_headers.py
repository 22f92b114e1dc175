"""Header rewriting: hop-by-hop headers removed, X-Forwarded-* and RFC 7239
Forwarded added, Host kept."""

import json

from backends import parse_responses, raw_exchange


def sent(port, extra, path="/h", host=b"app.test"):
    """Sends one request with <extra> header lines; returns the origin's view
    as a list of (lowercased name, value)."""
    data, _ = raw_exchange(port, b"GET " + path.encode() + b" HTTP/1.1\r\nHost: " + host
                           + b"\r\n" + extra + b"Connection: close\r\n\r\n")
    r = parse_responses(data)[0]
    assert r.status == 200, data[:300]
    return [(k.lower(), v) for k, v in json.loads(r.body)["headers"]]


def values(hdrs, name):
    return [v for k, v in hdrs if k == name]


def test_hop_by_hop_removed(gh, origin):
    port = gh.simple(origin)
    hdrs = sent(port, b"Connection: X-Private, keep-alive\r\n"
                b"X-Private: secret\r\n"
                b"Keep-Alive: timeout=5\r\n"
                b"Proxy-Connection: keep-alive\r\n"
                b"TE: trailers\r\n"
                b"Trailer: X-T\r\n"
                b"Upgrade: h2c\r\n"
                b"Proxy-Authorization: Basic dXNlcjpwYXNz\r\n"
                b"X-Kept: yes\r\n"
                b"Authorization: Bearer keep-me\r\n")
    names = {k for k, _ in hdrs}
    for gone in ("x-private", "keep-alive", "proxy-connection", "te", "trailer",
                 "upgrade", "proxy-authorization"):
        assert gone not in names, (gone, hdrs)
    # A Connection header may be sent upstream, but only with proxy tokens.
    for v in values(hdrs, "connection"):
        assert "x-private" not in v.lower()
    assert values(hdrs, "x-kept") == ["yes"]
    assert values(hdrs, "authorization") == ["Bearer keep-me"]
    assert values(hdrs, "host") == ["app.test"]


def test_hop_by_hop_removed_from_response(gh, origin):
    port = gh.simple(origin)
    data, _ = raw_exchange(port, b"GET /_hop HTTP/1.1\r\nHost: app.test\r\n\r\n"
                           b"GET /x HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n")
    rs = parse_responses(data)
    assert [r.status for r in rs] == [200, 200]
    names = {k.lower() for k, _ in rs[0].headers}
    for gone in ("x-hop-private", "keep-alive", "proxy-connection", "upgrade", "trailer"):
        assert gone not in names, (gone, rs[0].headers)
    assert rs[0].header("x-end-to-end") == "kept"
    assert rs[0].body == b"hop"


def test_x_forwarded_untrusted(gh, origin):
    port = gh.simple(origin)
    hdrs = sent(port, b"X-Forwarded-For: 203.0.113.9\r\n"
                b"X-Forwarded-Proto: https\r\n"
                b"X-Forwarded-Host: evil.test\r\n")
    assert values(hdrs, "x-forwarded-for") == ["127.0.0.1"]
    assert values(hdrs, "x-forwarded-proto") == ["http"]
    assert values(hdrs, "x-forwarded-host") == ["app.test"]
    assert values(hdrs, "forwarded") == []


def test_x_forwarded_without_client_values(gh, origin):
    port = gh.simple(origin)
    hdrs = sent(port, b"", host=b"app.test:8080")
    assert values(hdrs, "x-forwarded-for") == ["127.0.0.1"]
    assert values(hdrs, "x-forwarded-proto") == ["http"]
    assert values(hdrs, "x-forwarded-host") == ["app.test:8080"]
    assert values(hdrs, "host") == ["app.test:8080"]


def test_x_forwarded_trusted(gh, origin):
    port = gh.simple(origin, listener_cols={"trust_forwarded": 1})
    hdrs = sent(port, b"X-Forwarded-For: 203.0.113.9\r\n"
                b"X-Forwarded-Proto: https\r\n"
                b"X-Forwarded-Host: front.test\r\n")
    xff = ",".join(values(hdrs, "x-forwarded-for")).replace(" ", "")
    assert xff == "203.0.113.9,127.0.0.1"
    assert values(hdrs, "x-forwarded-proto") == ["https"]
    assert values(hdrs, "x-forwarded-host") == ["front.test"]


def test_forwarded_rfc7239(gh, origin):
    port = gh.simple(origin, route_cols={"forwarded": 1})
    hdrs = sent(port, b"Forwarded: for=198.51.100.1\r\n")
    fwd = values(hdrs, "forwarded")
    assert len(fwd) == 1, fwd
    last = fwd[0].split(",")[-1].strip().lower()
    params = dict(p.strip().split("=", 1) for p in last.split(";"))
    assert params["for"].strip('"') == "127.0.0.1"
    assert params["proto"] == "http"
    assert params["host"].strip('"') == "app.test"
    # Untrusted listener: the client's own Forwarded element is not kept.
    assert "198.51.100.1" not in fwd[0]


def test_forwarded_off_by_default(gh, origin):
    port = gh.simple(origin)
    assert values(sent(port, b""), "forwarded") == []
