"""WebSocket upgrade: after 101 the client and origin connections are a
byte tunnel. Any other Upgrade token never reaches the origin: the request
is proxied as plain HTTP/1.1 and the connection stays HTTP (RFC 9110 7.8)."""

import base64
import json
import os
import socket

import pytest

from backends import (Conn, parse_responses, raw_exchange, read_head, ws_frame,
                      ws_handshake, ws_read_frame)
from conftest import wait_until


def test_websocket_tunnel(gh, origin):
    port = gh.simple(origin)
    conn, lines, accept = ws_handshake(port, "app.test")
    assert lines[0].split()[1] == "101", lines
    hdrs = {k.lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
    assert hdrs["sec-websocket-accept"] == accept
    assert hdrs["upgrade"].lower() == "websocket"
    assert "upgrade" in hdrs["connection"].lower()

    conn.sock.sendall(ws_frame(1, b"hello"))
    assert ws_read_frame(conn) == (1, b"hello")
    big = os.urandom(300000)
    conn.sock.sendall(ws_frame(2, big))
    assert ws_read_frame(conn) == (2, big)
    conn.sock.sendall(ws_frame(9, b"ping"))
    assert ws_read_frame(conn) == (10, b"ping")
    # Several frames in one write come back in order.
    conn.sock.sendall(b"".join(ws_frame(1, b"m%d" % i) for i in range(50)))
    for i in range(50):
        assert ws_read_frame(conn) == (1, b"m%d" % i)
    conn.sock.sendall(ws_frame(8, b"\x03\xe8"))
    assert ws_read_frame(conn)[0] == 8
    # The origin closed its side: the tunnel closes the client side too.
    conn.sock.settimeout(5)
    assert conn.sock.recv(10) == b""
    conn.sock.close()


def test_websocket_client_close_closes_origin(gh, origin):
    port = gh.simple(origin)
    conn, lines, _ = ws_handshake(port, "app.test")
    assert lines[0].split()[1] == "101"
    conn.sock.sendall(ws_frame(1, b"x"))
    assert ws_read_frame(conn) == (1, b"x")
    conn.sock.shutdown(socket.SHUT_RDWR)
    conn.sock.close()

    wait_until(lambda: not origin.open_conns, what="the origin side of the tunnel to close")


def test_websocket_tunnel_survives_reload(gh, origin):
    port = gh.simple(origin)
    conn, lines, _ = ws_handshake(port, "app.test")
    assert lines[0].split()[1] == "101"
    gh.sql("UPDATE routes SET path_prefix = '/other'")
    gh.reload()
    conn.sock.sendall(ws_frame(1, b"still here"))
    assert ws_read_frame(conn) == (1, b"still here")
    conn.sock.close()


def origin_view(r):
    assert r.status == 200, (r.status, r.body[:200])
    doc = json.loads(r.body)
    return doc, {k.lower(): v for k, v in doc["headers"]}


@pytest.mark.parametrize("upgrade", [b"h2c", b"TLS/1.2", b"foo, bar/2",
                                     b"websocketx", b"IRC/6.9"])
def test_unknown_upgrade_never_reaches_origin(gh, origin, upgrade):
    port = gh.simple(origin)
    # Pipelined: the second request proves the connection stayed HTTP.
    data, _ = raw_exchange(port,
                           b"GET /a HTTP/1.1\r\nHost: app.test\r\n"
                           b"Connection: Upgrade, HTTP2-Settings\r\n"
                           b"Upgrade: " + upgrade + b"\r\n"
                           b"HTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n"
                           b"GET /b HTTP/1.1\r\nHost: app.test\r\n"
                           b"Connection: close\r\n\r\n")
    rs = parse_responses(data)
    assert [r.status for r in rs] == [200, 200], data[:300]
    doc, hdrs = origin_view(rs[0])
    assert doc["path"] == "/a"
    assert "upgrade" not in hdrs and "http2-settings" not in hdrs, hdrs
    assert "upgrade" not in hdrs.get("connection", "").lower()
    assert origin_view(rs[1])[0]["path"] == "/b"


def test_unknown_upgrade_with_body(gh, origin):
    port = gh.simple(origin)
    data, _ = raw_exchange(port,
                           b"POST /p HTTP/1.1\r\nHost: app.test\r\n"
                           b"Connection: upgrade\r\nUpgrade: h2c\r\n"
                           b"Transfer-Encoding: chunked\r\n\r\n"
                           b"5\r\nhello\r\n0\r\n\r\n"
                           b"GET /b HTTP/1.1\r\nHost: app.test\r\n"
                           b"Connection: close\r\n\r\n")
    rs = parse_responses(data)
    assert [r.status for r in rs] == [200, 200], data[:300]
    doc, hdrs = origin_view(rs[0])
    assert doc["body_len"] == 5 and "upgrade" not in hdrs


def test_websocket_among_other_tokens_only_websocket_forwarded(gh, origin):
    """The origin's WebSocket side answers only "Upgrade: websocket"."""
    port = gh.simple(origin)
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    key = base64.b64encode(b"0123456789abcdef").decode()
    s.sendall(("GET /ws HTTP/1.1\r\nHost: app.test\r\n"
               "Upgrade: h2c, WebSocket\r\nConnection: keep-alive, Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
               % key).encode())
    conn = Conn(s)
    lines, _ = read_head(conn)
    assert lines[0].split()[1] == "101", lines
    conn.sock.sendall(ws_frame(1, b"hi"))
    assert ws_read_frame(conn) == (1, b"hi")
    s.close()


def test_websocket_upgrade_ignored_in_http10(gh, origin):
    port = gh.simple(origin)
    data, _ = raw_exchange(port, b"GET /x HTTP/1.0\r\nHost: app.test\r\n"
                           b"Connection: Upgrade\r\nUpgrade: websocket\r\n"
                           b"Sec-WebSocket-Key: MDEyMzQ1Njc4OWFiY2RlZg==\r\n\r\n")
    r = parse_responses(data)[0]
    doc, hdrs = origin_view(r)
    assert "upgrade" not in hdrs
