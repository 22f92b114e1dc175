"""Bodies both ways (Content-Length, chunked, close-delimited), HEAD, 1xx,
204, 304, Expect: 100-continue, and pipelining order."""

import json
import os
import socket
import time

import pytest

from backends import Conn, gen_bytes, parse_responses, raw_exchange, read_head, sha256

MIB10 = 10 * 1024 * 1024


@pytest.fixture
def port(gh, origin):
    return gh.simple(origin)


@pytest.fixture(scope="module")
def bigfile(tmp_path_factory):
    p = tmp_path_factory.mktemp("body") / "big.bin"
    data = os.urandom(MIB10)
    p.write_bytes(data)
    return str(p), sha256(data)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_upload_10mib(gh, port, bigfile, chunked):
    path, digest = bigfile
    args = ["-X", "POST", "-H", "Content-Type: application/octet-stream"]
    if chunked:
        args += ["-H", "Transfer-Encoding: chunked"]
    r = gh.curl("/upload", args=args, data_file=path, timeout=60)
    assert r.status == 200, r
    doc = r.json()
    assert doc["body_len"] == MIB10
    assert doc["body_sha256"] == digest


@pytest.mark.parametrize("mode", ["cl", "chunked", "close"])
def test_download_10mib(gh, port, mode):
    r = gh.curl("/_gen?n=%d&mode=%s" % (MIB10, mode), timeout=60)
    assert r.status == 200 and r.rc == 0, r
    assert len(r.body) == MIB10
    assert sha256(r.body) == r.header("x-body-sha256")
    if mode == "chunked":
        assert r.header("transfer-encoding") == "chunked" or r.header("content-length")


def test_head_is_framed_without_body(port):
    req = (b"HEAD /_gen?n=5000 HTTP/1.1\r\nHost: app.test\r\n\r\n"
           b"GET /after HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n")
    data, closed = raw_exchange(port, req)
    head_end = data.index(b"\r\n\r\n") + 4
    first = parse_responses(data[:head_end], head_request=True)[0]
    assert first.status == 200
    assert first.header("content-length") == "5000"
    rest = parse_responses(data[head_end:])
    assert len(rest) == 1 and rest[0].status == 200
    assert json.loads(rest[0].body)["path"] == "/after"


@pytest.mark.parametrize("code", [204, 304])
def test_bodyless_statuses(port, code):
    req = (b"GET /_status?code=%d HTTP/1.1\r\nHost: app.test\r\n\r\n" % code +
           b"GET /after HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n")
    data, closed = raw_exchange(port, req)
    rs = parse_responses(data)
    assert [r.status for r in rs] == [code, 200]
    assert rs[0].body == b""
    assert rs[0].header("transfer-encoding") is None
    assert json.loads(rs[1].body)["path"] == "/after"


def test_interim_1xx_then_final(port):
    req = (b"GET /_early HTTP/1.1\r\nHost: app.test\r\n\r\n"
           b"GET /after HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n")
    data, closed = raw_exchange(port, req)
    rs = parse_responses(data)
    finals = [r for r in rs if r.status >= 200]
    assert [r.status for r in finals] == [200, 200]
    assert all(100 <= r.status < 200 for r in rs[:len(rs) - 2])
    assert json.loads(finals[0].body)["path"] == "/_early"
    assert json.loads(finals[1].body)["path"] == "/after"


def test_expect_100_continue(port):
    body = gen_bytes(200000)
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"PUT /put HTTP/1.1\r\nHost: app.test\r\nExpect: 100-continue\r\n"
              b"Content-Length: %d\r\n\r\n" % len(body))
    conn = Conn(s)
    lines, _ = read_head(conn)  # must come before we send the body
    assert lines[0].split()[1] == "100", lines
    s.sendall(body)
    lines, _ = read_head(conn)
    assert lines[0].split()[1] == "200", lines
    n = int([v for k, v in (ln.split(": ", 1) for ln in lines[1:])
             if k.lower() == "content-length"][0])
    doc = json.loads(conn.read(n))
    assert doc["body_sha256"] == sha256(body)
    s.close()


def test_expect_100_continue_curl(gh, port, bigfile):
    path, digest = bigfile
    r = gh.curl("/put", args=["-T", path, "-H", "Expect: 100-continue"], timeout=60)
    assert r.status == 200
    assert r.json()["body_sha256"] == digest


def test_pipelined_answered_in_order(port, origin):
    paths = ["/_slow?ms=300", "/p1", "/_slow?ms=100", "/p3", "/p4"]
    req = b"".join(b"GET %s HTTP/1.1\r\nHost: app.test\r\n\r\n" % p.encode() for p in paths)
    req += (b"POST /p5 HTTP/1.1\r\nHost: app.test\r\nContent-Length: 5\r\n\r\nhello"
            b"GET /last HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n")
    data, closed = raw_exchange(port, req, timeout=10)
    rs = parse_responses(data)
    got = [json.loads(r.body)["path"] for r in rs]
    assert got == paths + ["/p5", "/last"]
    assert json.loads(rs[5].body)["body_sha256"] == sha256(b"hello")
    assert closed


def test_slow_body_streams(port):
    """The first bytes of a slowly sent body arrive before the origin is done."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET /_slowbody?parts=5&ms=300 HTTP/1.1\r\nHost: app.test\r\n\r\n")
    conn = Conn(s)
    t0 = time.monotonic()
    lines, _ = read_head(conn)
    assert lines[0].split()[1] == "200"
    first = conn.read(1)
    t_first = time.monotonic() - t0
    rest = conn.read(4)
    assert first + rest == b"xxxxx"
    assert t_first < 1.0, "body was buffered: first byte after %.2fs" % t_first
    s.close()


def test_max_body_bytes_content_length(gh, origin):
    port = gh.simple(origin, route_cols={"max_body_bytes": 1000})
    ok = gh.curl("/small", args=["--data-binary", "x" * 1000])
    assert ok.status == 200 and ok.json()["body_len"] == 1000
    before = len(origin.requests)
    data, closed = raw_exchange(port, b"POST /big HTTP/1.1\r\nHost: app.test\r\n"
                                b"Content-Length: 1001\r\n\r\n" + b"x" * 1001)
    assert parse_responses(data, complete=False)[0].status == 413
    assert len(origin.requests) == before, "an oversized body reached the origin"


def test_max_body_bytes_chunked(gh, origin):
    port = gh.simple(origin, route_cols={"max_body_bytes": 1000})
    body = b"".join(b"200\r\n" + b"y" * 512 + b"\r\n" for _ in range(4)) + b"0\r\n\r\n"
    data, closed = raw_exchange(port, b"POST /big HTTP/1.1\r\nHost: app.test\r\n"
                                b"Transfer-Encoding: chunked\r\n\r\n" + body)
    rs = parse_responses(data, complete=False)
    # Streaming: the refusal may come before or after the origin saw the head,
    # but the client never gets the origin's 200 for a body over the limit.
    assert rs and rs[0].status == 413, data[:200]
    assert closed
