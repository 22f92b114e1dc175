"""Upstream failures (502, 504) and timeouts on both sides."""

import socket
import time

from backends import BlackHole, Conn, closed_port, parse_responses, raw_exchange, read_head


def start_with_server(gh, address, port, route_cols=None, listener_cols=None):
    gh.add_listener("l", **(listener_cols or {}))
    gh.add_origin("o", [(address, port)])
    gh.add_route("r", "l", "o", hosts=["app.test"], **(route_cols or {}))
    gh.start()


def test_origin_refused_is_502(gh):
    start_with_server(gh, "127.0.0.1", closed_port())
    r = gh.curl("/")
    assert r.status == 502
    # The daemon keeps serving afterwards.
    assert gh.curl("/").status == 502
    assert gh.proc.poll() is None


def test_connect_timeout_is_504(gh):
    bh = BlackHole()
    try:
        start_with_server(gh, "127.0.0.1", bh.port, route_cols={"connect_timeout_ms": 300})
        t0 = time.monotonic()
        r = gh.curl("/")
        took = time.monotonic() - t0
        assert r.status == 504, r
        assert 0.25 < took < 3, took
    finally:
        bh.close()


def test_response_timeout_is_504(gh, origin):
    gh.simple(origin, route_cols={"response_timeout_ms": 400})
    t0 = time.monotonic()
    r = gh.curl("/_slow?ms=3000")
    took = time.monotonic() - t0
    assert r.status == 504, r
    assert 0.35 < took < 2.5, took
    # A fast request on the same route is fine.
    assert gh.curl("/fast").status == 200


def test_origin_close_mid_response_content_length(gh, origin):
    port = gh.simple(origin)
    data, closed = raw_exchange(port, b"GET /_close_mid?n=100000 HTTP/1.1\r\nHost: app.test\r\n\r\n")
    assert closed, "client connection left open after a truncated response"
    rs = parse_responses(data, complete=False)
    assert len(rs) == 1 and rs[0].status == 200
    assert rs[0].body is None, "a truncated response was presented as complete"
    # curl sees the transfer end short (exit 18: partial file).
    r = gh.curl("/_close_mid?n=100000")
    assert r.rc == 18, r


def test_origin_close_mid_response_chunked(gh, origin):
    port = gh.simple(origin)
    data, closed = raw_exchange(port, b"GET /_close_mid?mode=chunked HTTP/1.1\r\nHost: app.test\r\n\r\n")
    assert closed
    rs = parse_responses(data, complete=False)
    assert len(rs) == 1 and rs[0].status == 200
    assert rs[0].body is None, "the proxy invented the last chunk"
    assert not data.endswith(b"0\r\n\r\n")


def test_idle_timeout_cuts_stalled_body(gh, origin):
    gh.simple(origin, route_cols={"idle_timeout_ms": 400})
    t0 = time.monotonic()
    r = gh.curl("/_slowbody?parts=3&ms=2000")
    took = time.monotonic() - t0
    assert r.rc == 18 or r.status == 504, r
    assert took < 3, took


def test_header_timeout_closes_slow_client(gh, origin):
    port = gh.simple(origin, listener_cols={"header_timeout_ms": 300})
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET / HTTP/1.1\r\nHost: app.te")
    t0 = time.monotonic()
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    took = time.monotonic() - t0
    s.close()
    assert 0.2 < took < 2.5, took
    if data:
        assert parse_responses(data)[0].status == 408
    assert origin.accepted == 0


def test_keepalive_timeout_closes_idle_client(gh, origin):
    port = gh.simple(origin, listener_cols={"keepalive_timeout_ms": 300})
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET / HTTP/1.1\r\nHost: app.test\r\n\r\n")
    conn = Conn(s)
    lines, _ = read_head(conn)
    assert lines[0].split()[1] == "200"
    n = int([ln.split(":", 1)[1] for ln in lines if ln.lower().startswith("content-length")][0])
    conn.read(n)
    t0 = time.monotonic()
    assert s.recv(10) == b""
    took = time.monotonic() - t0
    assert 0.2 < took < 2.5, took
    s.close()


def test_errors_do_not_poison_keepalive(gh, origin_factory):
    good = origin_factory("good")
    gh.add_listener("l")
    gh.add_origin("bad", [("127.0.0.1", closed_port())])
    gh.add_origin("good", [(good.host, good.port)])
    gh.add_route("b", "l", "bad", hosts=["bad.test"])
    gh.add_route("g", "l", "good", hosts=["good.test"])
    gh.start()
    data, _ = raw_exchange(gh.ports["l"], b"GET / HTTP/1.1\r\nHost: bad.test\r\n\r\n"
                           b"GET / HTTP/1.1\r\nHost: good.test\r\nConnection: close\r\n\r\n")
    rs = parse_responses(data)
    assert [r.status for r in rs] == [502, 200]
