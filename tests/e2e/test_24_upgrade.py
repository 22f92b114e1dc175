"""WebSocket upgrade: after 101 the client and origin connections are a
byte tunnel."""

import os
import socket

from backends import ws_frame, ws_handshake, ws_read_frame
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
