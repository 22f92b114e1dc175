"""Strict request parsing: every ambiguous or malformed request is refused
with 400/414/431, the connection is closed, and nothing reaches the origin."""

import pytest

from backends import Origin, parse_responses, raw_exchange
from conftest import Gatehouse

H = b"Host: app.test\r\n"


def req(head, body=b""):
    return b"POST / HTTP/1.1\r\n" + H + head + b"\r\n" + body


# (id, raw request, expected status, head_only): head_only cases are refused
# before any body, so not even a connection to the origin may be opened.
# clang-format would not apply here, but the table is still kept as a grid.
CASES = [
    ("cl-and-te", req(b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\n"), 400, True),
    ("te-and-cl", req(b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", b"0\r\n\r\n"), 400, True),
    ("dup-cl-same", req(b"Content-Length: 5\r\nContent-Length: 5\r\n", b"hello"), 400, True),
    ("dup-cl-diff", req(b"Content-Length: 5\r\nContent-Length: 6\r\n", b"hello!"), 400, True),
    ("cl-list", req(b"Content-Length: 5, 5\r\n", b"hello"), 400, True),
    ("cl-alpha", req(b"Content-Length: abc\r\n"), 400, True),
    ("cl-negative", req(b"Content-Length: -1\r\n"), 400, True),
    ("cl-plus", req(b"Content-Length: +5\r\n", b"hello"), 400, True),
    ("cl-inner-space", req(b"Content-Length: 1 2\r\n", b"x" * 12), 400, True),
    ("cl-overflow", req(b"Content-Length: 99999999999999999999999\r\n"), 400, True),
    ("te-gzip", req(b"Transfer-Encoding: gzip\r\n", b"hello"), 400, True),
    ("te-chunked-gzip", req(b"Transfer-Encoding: chunked, gzip\r\n", b"0\r\n\r\n"), 400, True),
    ("te-unknown", req(b"Transfer-Encoding: foo\r\n", b"0\r\n\r\n"), 400, True),
    ("obs-fold", req(b"X-A: one\r\n two\r\nContent-Length: 0\r\n"), 400, True),
    ("obs-fold-tab", req(b"X-A: one\r\n\ttwo\r\nContent-Length: 0\r\n"), 400, True),
    ("bare-lf-all", b"GET / HTTP/1.1\nHost: app.test\n\n", 400, True),
    ("bare-lf-header", b"GET / HTTP/1.1\r\nHost: app.test\nX-A: b\r\n\r\n", 400, True),
    ("bare-cr-value", b"GET / HTTP/1.1\r\nHost: app.test\r\nX-A: a\rb\r\n\r\n", 400, True),
    ("space-in-name", b"GET / HTTP/1.1\r\nHost: app.test\r\nBad Name: x\r\n\r\n", 400, True),
    ("space-before-colon", b"GET / HTTP/1.1\r\nHost: app.test\r\nX-A : x\r\n\r\n", 400, True),
    ("bad-name-char", b"GET / HTTP/1.1\r\nHost: app.test\r\nBad(Name): x\r\n\r\n", 400, True),
    ("empty-name", b"GET / HTTP/1.1\r\nHost: app.test\r\n: x\r\n\r\n", 400, True),
    ("nul-in-value", b"GET / HTTP/1.1\r\nHost: app.test\r\nX-A: a\x00b\r\n\r\n", 400, True),
    ("ctl-in-value", b"GET / HTTP/1.1\r\nHost: app.test\r\nX-A: a\x01b\r\n\r\n", 400, True),
    ("nul-in-target", b"GET /a\x00b HTTP/1.1\r\nHost: app.test\r\n\r\n", 400, True),
    ("space-in-target", b"GET /a b HTTP/1.1\r\nHost: app.test\r\n\r\n", 400, True),
    ("bad-version", b"GET / HTTP/1.x\r\nHost: app.test\r\n\r\n", 400, True),
    ("no-host-1.1", b"GET / HTTP/1.1\r\nX-A: b\r\n\r\n", 400, True),
    ("two-hosts", b"GET / HTTP/1.1\r\nHost: app.test\r\nHost: app.test\r\n\r\n", 400, True),
    ("chunk-size-alpha", req(b"Transfer-Encoding: chunked\r\n", b"zz\r\nhello\r\n0\r\n\r\n"), 400, False),
    ("chunk-size-empty", req(b"Transfer-Encoding: chunked\r\n", b"\r\nhello\r\n0\r\n\r\n"), 400, False),
    ("chunk-size-overflow", req(b"Transfer-Encoding: chunked\r\n", b"fffffffffffffffffff\r\nhello\r\n0\r\n\r\n"), 400, False),
    ("chunk-size-negative", req(b"Transfer-Encoding: chunked\r\n", b"-5\r\nhello\r\n0\r\n\r\n"), 400, False),
    ("chunk-no-crlf", req(b"Transfer-Encoding: chunked\r\n", b"5\r\nhelloXX0\r\n\r\n"), 400, False),
    ("chunk-bare-lf", req(b"Transfer-Encoding: chunked\r\n", b"5\nhello\n0\n\n"), 400, False),
    ("uri-too-long", b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: app.test\r\n\r\n", 414, True),
    ("header-too-big", b"GET / HTTP/1.1\r\nHost: app.test\r\nX-Big: " + b"b" * 33000 + b"\r\n\r\n", 431, True),
    ("headers-total-too-big", b"GET / HTTP/1.1\r\nHost: app.test\r\n"
     + b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 1000) for i in range(40)) + b"\r\n", 431, True),
    ("too-many-headers", b"GET / HTTP/1.1\r\nHost: app.test\r\n"
     + b"".join(b"X-H%d: v\r\n" % i for i in range(101)) + b"\r\n", 431, True),
]


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    d = tmp_path_factory.mktemp("strict")
    d.chmod(0o755)
    o = Origin("strict")
    g = Gatehouse(d)
    port = g.simple(o)
    yield g, port, o
    o.close()
    g.finish()


@pytest.mark.parametrize("raw,status,head_only", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_refused(daemon, raw, status, head_only):
    g, port, o = daemon
    before_acc, before_req = o.accepted, len(o.requests)
    data, closed = raw_exchange(port, raw, timeout=5)
    assert data, "no response at all (connection %s)" % ("closed" if closed else "open")
    rs = parse_responses(data, complete=False)
    assert rs[0].status == status, data[:300]
    assert len(rs) == 1, "more than one response: %r" % rs
    assert closed, "connection not closed after %d" % status
    assert len(o.requests) == before_req, "request reached the origin: %r" % o.requests[-1].raw_head
    if head_only:
        assert o.accepted == before_acc, "origin connection opened for a refused head"


def test_limits_are_not_too_tight(daemon):
    """Just under the limits is still served (so the limits are the ones asked)."""
    g, port, o = daemon
    line = b"GET /" + b"a" * 7000 + b" HTTP/1.1\r\n"
    hdrs = b"Host: app.test\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(90))
    big = b"X-Big: " + b"b" * 20000 + b"\r\n"
    data, _ = raw_exchange(port, line + hdrs + big + b"Connection: close\r\n\r\n")
    assert parse_responses(data)[0].status == 200


def test_valid_chunked_after_refusals(daemon):
    g, port, o = daemon
    body = b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"
    data, _ = raw_exchange(port, req(b"Transfer-Encoding: chunked\r\nConnection: close\r\n", body))
    r = parse_responses(data)[0]
    assert r.status == 200
    assert b'"body_len": 11' in r.body
