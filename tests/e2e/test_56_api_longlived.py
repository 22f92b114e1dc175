"""A slow in-flight request and an open WebSocket both survive a change to
an unrelated route and a change to their own route."""

import socket
import threading

from apiclient import start_api, wait_port
from backends import parse_responses, ws_frame, ws_handshake, ws_read_frame


def slow_get(port, out):
    s = socket.create_connection(("127.0.0.1", port), timeout=15)
    s.sendall(b"GET /_slow?ms=2500 HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    out.extend(parse_responses(data))


def test_slow_request_and_websocket_survive_changes(gh, origin, origin_factory):
    b = origin_factory("b")
    api = start_api(gh)
    api.ok("POST", "/origins", {"name": "web", "servers": [
        {"address": "127.0.0.1", "port": origin.port}]}, status=201)
    api.ok("POST", "/origins", {"name": "alt", "servers": [
        {"address": "127.0.0.1", "port": b.port}]}, status=201)
    api.ok("POST", "/listeners", {"name": "public", "address": "127.0.0.1", "port": 0},
           status=201)
    api.ok("POST", "/routes", {"name": "app", "listener": "public", "origin": "web",
                               "match": {"hosts": ["app.test"]}}, status=201)
    api.ok("POST", "/routes", {"name": "other", "listener": "public", "origin": "web",
                               "match": {"hosts": ["other.test"]}}, status=201)
    port = wait_port(api, gh, "public")

    conn, lines, _ = ws_handshake(port, "app.test")
    assert lines[0].split()[1] == "101", lines
    out = []
    t = threading.Thread(target=slow_get, args=(port, out))
    t.start()

    # An unrelated route, then their own route (new origin, new limits).
    api.ok("PATCH", "/routes/other", {"origin": "alt", "match": {"path_prefix": "/o"}})
    api.ok("POST", "/routes", {"name": "extra", "listener": "public", "origin": "alt",
                               "match": {"hosts": ["extra.test"]}}, status=201)
    conn.sock.sendall(ws_frame(1, b"after unrelated"))
    assert ws_read_frame(conn) == (1, b"after unrelated")
    api.ok("PATCH", "/routes/app", {"origin": "alt", "forwarded": True,
                                    "timeouts": {"response_ms": 60000}})
    conn.sock.sendall(ws_frame(1, b"after own"))
    assert ws_read_frame(conn) == (1, b"after own")
    api.ok("DELETE", "/routes/extra", status=204)

    t.join(20)
    assert len(out) == 1 and out[0].status == 200, out
    assert out[0].header("X-Backend") == "a"  # the origin it started with
    conn.sock.sendall(ws_frame(1, b"still"))
    assert ws_read_frame(conn) == (1, b"still")
    conn.sock.sendall(ws_frame(8, b"\x03\xe8"))
    assert ws_read_frame(conn)[0] == 8
    conn.sock.close()
