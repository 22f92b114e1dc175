"""Response compression (issue 12, item 9).

A route with "compress": {"types": [...], "min_bytes": N} sends responses
of those types gzip or br, as the client's Accept-Encoding asks (q-values,
br on a tie), chunked and streamed, with Vary: Accept-Encoding and a weak
ETag; never already-encoded, ranged, no-transform, HEAD, 204/304 or short
responses. The codings offered ("codings"), gzip's level and brotli's
quality are the route's: a level changes the output's size, a coding not
offered is never sent, and the bounds are refused with the field. Every
compressed body here is checked by decompressing it."""

import json
import socket
import time
import urllib.parse
import zlib

import brotli
import pytest

from apiclient import problem_fields, start_api, wait_port
from backends import gen_text, parse_responses, raw_exchange, sha256

TYPES = ["text/*", "application/json"]
DEFAULTS = {"min_bytes": 1024, "codings": [], "gzip_level": 5, "br_level": 3}


def fetch(port, path, ae=None, method="GET", version="1.1", extra=b""):
    path = urllib.parse.quote(path, safe="/?=&:_-.\"")
    head = b"%s %s HTTP/%s\r\nHost: app.test\r\n" % (
        method.encode(), path.encode(), version.encode())
    if ae is not None:
        head += b"Accept-Encoding: " + ae.encode() + b"\r\n"
    data, _ = raw_exchange(port, head + extra + b"Connection: close\r\n\r\n")
    return parse_responses(data, head_request=method == "HEAD")[0]


def decode(resp):
    enc = resp.header("content-encoding")
    if enc == "gzip":
        return zlib.decompress(resp.body, 16 + zlib.MAX_WBITS)
    if enc == "br":
        return brotli.decompress(resp.body)
    assert enc is None, enc
    return resp.body


def stat(api, name):
    return api.get("/stats").json()["global"][name]


@pytest.fixture
def api(gh):
    return start_api(gh)


def base(api, origin, compress={"types": TYPES}):
    api.ok("POST", "/listeners", {"name": "l", "address": "127.0.0.1",
                                  "port": 0}, status=201)
    api.ok("POST", "/origins", {"name": "o", "servers": [
        {"address": "127.0.0.1", "port": origin.port}]}, status=201)
    api.ok("POST", "/routes", {"name": "r", "listener": "l", "origin": "o",
                               "compress": compress}, status=201)
    return wait_port(api, None, "l")


def test_api_shape_default_and_off(gh, api, origin):
    base(api, origin)
    r = api.get("/routes/r").json()
    assert r["compress"] == dict(DEFAULTS, types=TYPES)
    r = api.ok("PATCH", "/routes/r", {"compress": {"min_bytes": 10}}).json()
    assert r["compress"] == dict(DEFAULTS, types=TYPES, min_bytes=10)
    r = api.ok("PATCH", "/routes/r", {"compress": {
        "codings": ["gzip"], "gzip_level": 9, "br_level": 11}}).json()
    assert r["compress"] == dict(DEFAULTS, types=TYPES, min_bytes=10,
                                 codings=["gzip"], gzip_level=9, br_level=11)
    r = api.ok("PATCH", "/routes/r", {"compress": None}).json()
    assert r["compress"] is None
    cfg = api.get("/config").json()
    assert cfg["routes"][0]["compress"] is None


@pytest.mark.parametrize("bad,field", [
    ({"types": ["text"]}, "compress.types[0]"),
    ({"types": ["*/*"]}, "compress.types[0]"),
    ({"types": ["text/html; charset=utf-8"]}, "compress.types[0]"),
    ({"types": ["te*t/html"]}, "compress.types[0]"),
    ({"types": ["text/*", "text/*"]}, "compress.types[1]"),
    ({"types": "text/*"}, "compress.types"),
    ({"types": ["text/*"], "min_bytes": -1}, "compress.min_bytes"),
    ({"types": ["text/*"], "min_bytes": 1 << 31}, "compress.min_bytes"),
    ({"min_bytes": 10}, "compress.types"),
    ({"types": ["text/*"], "gzip_level": 0}, "compress.gzip_level"),
    ({"types": ["text/*"], "gzip_level": 10}, "compress.gzip_level"),
    ({"types": ["text/*"], "gzip_level": "9"}, "compress.gzip_level"),
    ({"types": ["text/*"], "br_level": -1}, "compress.br_level"),
    ({"types": ["text/*"], "br_level": 12}, "compress.br_level"),
    ({"types": ["text/*"], "codings": ["deflate"]}, "compress.codings[0]"),
    ({"types": ["text/*"], "codings": ["gzip", "br", "gzip"]}, "compress.codings"),
    ({"types": ["text/*"], "codings": "gzip"}, "compress.codings"),
])
def test_bad_values_refused(gh, api, origin, bad, field):
    api.ok("POST", "/listeners", {"name": "l", "address": "127.0.0.1",
                                  "port": 0}, status=201)
    api.ok("POST", "/origins", {"name": "o", "servers": [
        {"address": "127.0.0.1", "port": origin.port}]}, status=201)
    r = api.post("/routes", {"name": "r", "listener": "l", "origin": "o",
                             "compress": bad})
    assert r.status_code == 422, r.text
    assert problem_fields(r)[0][0].endswith(field), r.text


@pytest.mark.parametrize("field,lo,hi", [("gzip_level", 1, 9), ("br_level", 0, 11)])
def test_level_bounds(gh, api, origin, field, lo, hi):
    """The bounds are taken, one past them refused with the field and its
    range, and nothing changes."""
    base(api, origin)
    for v in (lo, hi):
        r = api.ok("PATCH", "/routes/r", {"compress": {"types": TYPES, field: v}}).json()
        assert r["compress"][field] == v
    rev = api.revision()
    for v in (lo - 1, hi + 1):
        r = api.patch("/routes/r", {"compress": {"types": TYPES, field: v}})
        assert r.status_code == 422, r.text
        got = problem_fields(r)
        assert len(got) == 1 and got[0][0].endswith("compress." + field), got
        assert got[0][1] == "%d is out of range %d..%d" % (v, lo, hi), got
    assert api.revision() == rev
    assert api.get("/routes/r").json()["compress"][field] == hi


@pytest.mark.parametrize("ae,field,levels", [
    ("gzip", "gzip_level", (1, 9)),
    ("br", "br_level", (0, 11)),
])
def test_level_changes_the_output(gh, api, origin, ae, field, levels):
    """The same body at the lowest and highest level: both decode to the
    origin's bytes, the highest is smaller."""
    port = base(api, origin)
    sizes = []
    for level in levels:
        api.ok("PATCH", "/routes/r", {"compress": {"types": TYPES, field: level}})
        resp = fetch(port, "/_text?n=200000", ae)
        assert resp.header("content-encoding") == ae
        assert decode(resp) == gen_text(200000)
        sizes.append(len(resp.body))
    assert sizes[1] < sizes[0] * 0.97, sizes  # 9537 -> 8988 (gzip)


@pytest.mark.parametrize("codings,ae,want", [
    (["gzip"], "gzip, br", "gzip"),
    (["gzip"], "br", None),
    (["gzip"], "*", "gzip"),
    (["br"], "gzip", None),
    (["br"], "gzip;q=1, br;q=0.1", "br"),
    (["br", "gzip"], "gzip, br", "br"),
    ([], "gzip;q=1, br;q=0.5", "gzip"),
])
def test_coding_not_offered_never_used(gh, api, origin, codings, ae, want):
    port = base(api, origin, {"types": TYPES, "codings": codings})
    resp = fetch(port, "/_text?n=5000", ae)
    assert resp.header("content-encoding") == want, (codings, ae, resp.headers)
    assert resp.header("vary") == "Accept-Encoding"
    assert decode(resp) == gen_text(5000)
    ex = api.ok("POST", "/explain", {"listener": "l", "host": "app.test", "path": "/x",
                                     "headers": {"Accept-Encoding": ae}}, status=200)
    assert ex.json()["policies"]["compress"]["encoding"] == (want or "identity")
    g = api.get("/stats").json()["global"]
    if want != "br":
        assert g["compress_br"] == 0
    if want != "gzip":
        assert g["compress_gzip"] == 0


def test_gzip_content_length_origin(gh, api, origin):
    port = base(api, origin)
    resp = fetch(port, "/_text?n=20000&hdr=ETag:\"abc\"", "gzip")
    assert resp.status == 200
    assert resp.header("content-encoding") == "gzip"
    assert resp.header("content-length") is None
    assert resp.header("transfer-encoding") == "chunked"
    assert resp.header("vary") == "Accept-Encoding"
    assert resp.header("etag") == 'W/"abc"'
    body = decode(resp)
    assert body == gen_text(20000)
    assert sha256(body) == resp.header("x-body-sha256")
    assert len(resp.body) < 20000 // 4
    g = api.get("/stats").json()["global"]
    assert g["compress_gzip"] == 1 and g["compress_bytes_in"] == 20000
    assert 0 < g["compress_bytes_out"] <= len(resp.body)
    metrics = api.get("/metrics").text
    assert "gatehouse_compress_gzip_total 1" in metrics
    assert "gatehouse_compress_bytes_in_total 20000" in metrics


@pytest.mark.parametrize("ae,want", [
    ("gzip, br", "br"),                      # equal q: br
    ("br;q=0.5, gzip", "gzip"),
    ("gzip;q=0.8, br;q=0.9", "br"),
    ("GZIP", "gzip"),
    ("x-gzip", "gzip"),
    ("*", "br"),
    ("*;q=0.5, br;q=0", "gzip"),             # q=0 refuses br
    ("gzip;q=0, br;q=0", None),              # nothing acceptable: identity
    ("identity", None),
    ("deflate, compress", None),
    ("gzip;q=0.5, identity", None),          # identity asked for more
    ("", None),
    ("gzip;q=2", None),                      # a bad q-value is skipped
    ("gzip ; q=0.001", "gzip"),
])
def test_accept_encoding_choice(gh, api, origin, ae, want):
    port = base(api, origin)
    resp = fetch(port, "/_text?n=5000", ae)
    assert resp.header("content-encoding") == want, (ae, resp.headers)
    assert resp.header("vary") == "Accept-Encoding"  # every time: caches
    assert decode(resp) == gen_text(5000)
    if want is None:
        assert resp.header("content-length") == "5000"


def test_explain_says_the_coding(gh, api, origin):
    base(api, origin)
    ex = api.ok("POST", "/explain", {
        "listener": "l", "host": "app.test", "path": "/x",
        "headers": {"Accept-Encoding": "gzip;q=0.5, br;q=0.4"}}, status=200)
    assert ex.json()["policies"]["compress"] == {"encoding": "gzip",
                                                 "min_bytes": 1024}
    ex = api.ok("POST", "/explain", {"listener": "l", "host": "app.test",
                                     "path": "/x"}, status=200)
    assert ex.json()["policies"]["compress"]["encoding"] == "identity"


def test_no_header_is_identity(gh, api, origin):
    port = base(api, origin)
    resp = fetch(port, "/_text?n=5000")
    assert resp.header("content-encoding") is None
    assert resp.body == gen_text(5000)


def test_streamed_chunked_response(gh, api, origin):
    """A chunked origin sending 4 parts 400 ms apart: the first part
    arrives (and inflates) long before the last is sent."""
    port = base(api, origin)
    n = 40000
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    t0 = time.monotonic()
    s.sendall(b"GET /_text?n=%d&mode=chunked&parts=4&ms=400 HTTP/1.1\r\n"
              b"Host: app.test\r\nAccept-Encoding: gzip\r\n"
              b"Connection: close\r\n\r\n" % n)
    data = b""
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    plain, at, first = b"", None, None
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
        if at is None and b"\r\n\r\n" in data:
            at = data.find(b"\r\n\r\n") + 4
        # inflate every whole chunk that has come so far
        while at is not None and first is None:
            i = data.find(b"\r\n", at)
            if i < 0:
                break
            size = int(data[at:i], 16)
            if size == 0 or len(data) < i + 2 + size + 2:
                break
            plain += d.decompress(data[i + 2:i + 2 + size])
            at = i + 2 + size + 2
            if len(plain) >= n // 4:
                first = (time.monotonic() - t0, plain)
    s.close()
    total = time.monotonic() - t0
    resp = parse_responses(data)[0]
    assert resp.header("content-encoding") == "gzip"
    assert resp.header("transfer-encoding") == "chunked"
    assert decode(resp) == gen_text(n)
    # the whole first part, inflated, about three parts (1.2 s) before
    # the end: not held back until the body was complete
    assert first is not None and total > 1.2 and \
        first[0] < total - 0.8, (first, total)
    assert gen_text(n).startswith(first[1])


def test_streamed_chunked_brotli(gh, api, origin):
    port = base(api, origin)
    resp = fetch(port, "/_text?n=300000&mode=chunked&parts=7&ms=20", "br")
    assert resp.header("content-encoding") == "br"
    assert decode(resp) == gen_text(300000)


def test_http10_client_close_delimited(gh, api, origin):
    port = base(api, origin)
    resp = fetch(port, "/_text?n=8000", "gzip", version="1.0")
    assert resp.header("content-encoding") == "gzip"
    assert resp.header("transfer-encoding") is None
    assert resp.header("content-length") is None
    assert decode(resp) == gen_text(8000)


def test_keepalive_two_compressed_responses(gh, api, origin):
    port = base(api, origin)
    req = (b"GET /_text?n=3000 HTTP/1.1\r\nHost: app.test\r\n"
           b"Accept-Encoding: br\r\n\r\n"
           b"GET /_text?n=6000&mode=chunked HTTP/1.1\r\nHost: app.test\r\n"
           b"Accept-Encoding: gzip\r\nConnection: close\r\n\r\n")
    data, _ = raw_exchange(port, req)
    a, b = parse_responses(data)
    assert a.header("content-encoding") == "br" and decode(a) == gen_text(3000)
    assert b.header("content-encoding") == "gzip" and decode(b) == gen_text(6000)


@pytest.mark.parametrize("path,why", [
    ("/_text?n=5000&hdr=Content-Encoding:gzip", "already encoded"),
    ("/_text?n=5000&status=206&hdr=Content-Range:bytes 0-4999/9999",
     "ranged"),
    ("/_text?n=5000&hdr=Content-Range:bytes 0-4999/9999", "content-range"),
    ("/_text?n=5000&hdr=Cache-Control:public, no-transform", "no-transform"),
    ("/_text?n=1000", "below min_bytes"),
    ("/_text?n=5000&ct=image/png", "type not listed"),
    ("/_text?n=5000&ct=-", "no type"),
])
def test_not_compressed(gh, api, origin, path, why):
    port = base(api, origin)
    resp = fetch(port, path, "gzip, br")
    assert resp.header("content-encoding") in (None, "gzip") and \
        resp.body == gen_text(5000 if "5000" in path else 1000), why
    assert resp.header("content-length") is not None, why
    assert resp.header("vary") is None, why
    assert stat(api, "compress_gzip") + stat(api, "compress_br") == 0, why


def test_small_chunked_is_compressed(gh, api, origin):
    """min_bytes applies to a known length only: a chunked body of unknown
    length is compressed however short it turns out."""
    port = base(api, origin)
    resp = fetch(port, "/_text?n=100&mode=chunked&parts=1", "gzip")
    assert resp.header("content-encoding") == "gzip"
    assert decode(resp) == gen_text(100)


def test_head_204_304_untouched(gh, api, origin):
    port = base(api, origin)
    resp = fetch(port, "/_text?n=5000", "gzip", method="HEAD")
    assert resp.header("content-encoding") is None
    assert resp.header("content-length") == "5000"
    resp = fetch(port, "/_status?code=204", "gzip")
    assert resp.status == 204 and resp.header("content-encoding") is None
    resp = fetch(port, "/_status?code=304", "gzip")
    assert resp.status == 304 and resp.header("content-encoding") is None
    assert resp.header("etag") == '"v1"'
    assert stat(api, "compress_gzip") == 0


def test_origin_vary_kept_and_merged(gh, api, origin):
    port = base(api, origin)
    resp = fetch(port, "/_text?n=5000&hdr=Vary:Origin", "gzip")
    vary = [v for k, v in resp.headers if k.lower() == "vary"]
    assert vary == ["Origin", "Accept-Encoding"]
    resp = fetch(port, "/_text?n=5000&hdr=Vary:accept-encoding, Origin",
                 "gzip")
    vary = [v for k, v in resp.headers if k.lower() == "vary"]
    assert vary == ["accept-encoding, Origin"]
    assert decode(resp) == gen_text(5000)


def test_live_change_without_restart(gh, api, origin):
    port = base(api, origin)
    assert fetch(port, "/_text?n=5000", "gzip").header(
        "content-encoding") == "gzip"
    api.ok("PATCH", "/routes/r", {"compress": {"types": ["application/json"]}})
    resp = fetch(port, "/_text?n=5000", "gzip")
    assert resp.header("content-encoding") is None
    assert resp.header("vary") is None
    api.ok("PATCH", "/routes/r", {"compress": {"types": ["text/plain"],
                                               "min_bytes": 6000}})
    assert fetch(port, "/_text?n=5000", "gzip").header(
        "content-encoding") is None
    assert fetch(port, "/_text?n=7000", "gzip").header(
        "content-encoding") == "gzip"


def test_client_gone_mid_stream_frees_state(gh, api, origin):
    port = base(api, origin)
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"GET /_text?n=100000&mode=chunked&parts=10&ms=200 HTTP/1.1\r\n"
              b"Host: app.test\r\nAccept-Encoding: br\r\n\r\n")
    assert b"Content-Encoding: br" in s.recv(65536)
    s.close()
    deadline = time.monotonic() + 5
    while stat(api, "compress_aborted") != 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stat(api, "compress_aborted") == 1
    assert stat(api, "compress_br") == 1


def test_access_log_says_encoding(gh, origin, tmp_path):
    log = tmp_path / "access.log"
    gh.add_listener("l")
    gh.add_origin("o", [(origin.host, origin.port)])
    gh.add_route("r", "l", "o", compress_types=json.dumps(TYPES),
                 compress_min_bytes=1024)
    gh.start(access_log=str(log))
    port = gh.ports["l"]
    assert decode(fetch(port, "/_text?n=4000", "br")) == gen_text(4000)
    assert decode(fetch(port, "/_text?n=4000", "gzip;q=0")) == gen_text(4000)
    gh.stop()
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    assert lines[-2]["encoding"] == "br"
    assert "encoding" not in lines[-1]
