"""TLS client connections are read through sockread.c (doc/design.md): the
handshake runs inside the listener's header time, a request and the
client's close_notify that arrive together are answered before the
connection ends, pipelined requests in one record are all answered, a TLS
1.3 KeyUpdate keeps the connection serving, and a client that resets the
connection mid-request is closed cleanly."""

import socket
import ssl
import struct
import subprocess
import time

from test_40_tls_clients import start_tls

REQ = b"GET /x HTTP/1.1\r\nHost: a.test\r\n\r\n"


def test_handshake_inside_header_time(gh, origin, tmp_path):
    """A client that never finishes its ClientHello is closed after the
    listener's header time, as a slow request head is."""
    _, port, api = start_tls(gh, origin, tmp_path, header_timeout_ms=300)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"\x16\x03\x01\x02\x00")  # a record header, no body
        t0 = time.monotonic()
        assert s.recv(100) == b""
        assert 0.2 < time.monotonic() - t0 < 3


def memory_tls(port):
    """A TLS 1.3 client over memory BIOs: full control of what is sent
    together."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="a.test")
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    while True:
        try:
            obj.do_handshake()
            break
        except ssl.SSLWantReadError:
            sock.sendall(out.read())
            data = sock.recv(65536)
            assert data, "closed during the handshake"
            inc.write(data)
    sock.sendall(out.read())
    return sock, obj, inc, out


def read_all(sock, obj, inc):
    """Plaintext until the server's close_notify (or EOF)."""
    got = b""
    while True:
        try:
            chunk = obj.read(65536)
            if not chunk:
                return got, True
            got += chunk
            continue
        except ssl.SSLWantReadError:
            pass
        except ssl.SSLZeroReturnError:
            return got, True
        data = sock.recv(65536)
        if not data:
            return got, False
        inc.write(data)


def test_request_and_close_notify_together(gh, origin, tmp_path):
    _, port, api = start_tls(gh, origin, tmp_path)
    sock, obj, inc, out = memory_tls(port)
    with sock:
        obj.write(REQ)
        try:
            obj.unwrap()  # our close_notify, behind the request
        except ssl.SSLWantReadError:
            pass
        sock.sendall(out.read())  # one segment: request, then the alert
        got, notified = read_all(sock, obj, inc)
    assert got.startswith(b"HTTP/1.1 200"), got
    assert notified  # and the server's close_notify after the answer


def test_pipelined_in_one_record(gh, origin, tmp_path):
    """Three requests in one TLS record are answered in order, as three in
    one plain segment are."""
    _, port, api = start_tls(gh, origin, tmp_path)
    sock, obj, inc, out = memory_tls(port)
    with sock:
        obj.write(REQ + REQ + REQ.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
        sock.sendall(out.read())
        got, notified = read_all(sock, obj, inc)
    assert got.count(b"HTTP/1.1 200") == 3, got
    assert notified


def test_key_update(gh, origin, tmp_path):
    """openssl s_client sends a KeyUpdate (update_requested) on a line
    "K"; the server answers with its own and keeps serving."""
    _, port, api = start_tls(gh, origin, tmp_path)
    p = subprocess.Popen(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
                          "-servername", "a.test", "-tls1_3", "-crlf"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        for line in (b"GET /1 HTTP/1.1\nHost: a.test\n\n", b"K\n",
                     b"GET /2 HTTP/1.1\nHost: a.test\nConnection: close\n\n"):
            time.sleep(0.5)
            p.stdin.write(line)
            p.stdin.flush()
        # Not an EOF on stdin (s_client would quit at once): the server
        # closes after the second answer (Connection: close).
        p.wait(timeout=20)
        out, err = p.stdout.read(), p.stderr.read()
    finally:
        p.kill()
    assert b"KEYUPDATE" in err + out, err
    assert out.count(b"HTTP/1.1 200") == 2, (out, err)


def test_reset_mid_request(gh, origin, tmp_path):
    _, port, api = start_tls(gh, origin, tmp_path)
    for _ in range(3):
        sock, obj, inc, out = memory_tls(port)
        obj.write(b"POST /x HTTP/1.1\r\nHost: a.test\r\nContent-Length: 100000\r\n\r\n")
        sock.sendall(out.read())
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()  # RST
    # Still serving, and every one of those connections is gone.
    sock, obj, inc, out = memory_tls(port)
    with sock:
        obj.write(b"GET /x HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
        sock.sendall(out.read())
        got, _ = read_all(sock, obj, inc)
    assert got.startswith(b"HTTP/1.1 200"), got
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        g = api.get("/stats").json()["global"]
        if g["conn_closed"] == g["conn_accepted"]:
            break
        time.sleep(0.05)
    assert g["conn_closed"] == g["conn_accepted"], g
