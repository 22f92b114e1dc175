"""PROXY protocol: sent to origins that ask for it (v1 and v2), so they see
the real client address and port; read from clients a listener trusts
(tcp, tls-passthrough and http), refused when such a client sends none,
and left alone (forwarded as data) from clients it does not trust."""

import json
import socket
import struct

import pytest

from backends import Origin, parse_responses
from conftest import wait_until
from l4util import PP2_SIG, TcpServer, echo, proxy_reader, read_all


@pytest.fixture
def pp_origin():
    s = TcpServer(proxy_reader)
    yield s
    s.close()


def pp_setup(gh, srv, version, listener_cols=None, protocol="tcp"):
    gh.add_listener("t", protocol=protocol, **(listener_cols or {}))
    gh.add_origin("o", [(srv.host, srv.port)], proxy_protocol=version)
    gh.add_route("r", "t", "o")
    gh.start()
    return gh.ports["t"]


def bound_client(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    return s, s.getsockname()


def read_line(s):
    line = b""
    while not line.endswith(b"\n"):
        b = s.recv(1)
        if not b:
            break
        line += b
    return line.decode()


@pytest.mark.parametrize("version", [1, 2])
def test_origin_sees_real_client(gh, pp_origin, version):
    port = pp_setup(gh, pp_origin, version)
    s, (addr, cport) = bound_client(port)
    s.sendall(b"after the header")
    assert read_line(s) == "%s %d\n" % (addr, cport)
    got = b""
    while len(got) < 16:
        got += s.recv(100)
    assert got == b"after the header"
    s.close()


def pp2(src, sport, dst, dport):
    body = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!HH", sport, dport)
    return PP2_SIG + bytes([0x21, 0x11]) + struct.pack("!H", len(body)) + body


def test_trusted_client_header_is_read_and_passed_on(gh, pp_origin):
    port = pp_setup(gh, pp_origin, 1, {"proxy_protocol_from": '["127.0.0.0/8"]'})
    s, _ = bound_client(port)
    # The header and the first data in one segment.
    s.sendall(pp2("192.0.2.7", 5555, "198.51.100.1", 443) + b"data")
    assert read_line(s) == "192.0.2.7 5555\n"
    got = b""
    while len(got) < 4:
        got += s.recv(100)
    assert got == b"data"
    s.close()
    # v1 from the same trusted client, byte by byte.
    s, _ = bound_client(port)
    for ch in b"PROXY TCP4 203.0.113.9 198.51.100.1 4242 443\r\n":
        s.sendall(bytes([ch]))
    assert read_line(s) == "203.0.113.9 4242\n"
    s.close()


def test_trusted_client_without_header_is_closed(gh, pp_origin):
    port = pp_setup(gh, pp_origin, 2, {"proxy_protocol_from": '["127.0.0.1"]'})
    s, _ = bound_client(port)
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    assert read_all(s) == b""
    assert pp_origin.accepted == 0


def test_untrusted_client_header_is_just_data(gh):
    e = TcpServer(echo)
    try:
        gh.add_listener("t", protocol="tcp", proxy_protocol_from='["10.0.0.0/8"]')
        gh.add_origin("o", [(e.host, e.port)])
        gh.add_route("r", "t", "o")
        gh.start()
        s, _ = bound_client(gh.ports["t"])
        hdr = b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n"
        s.sendall(hdr)
        got = b""
        while len(got) < len(hdr):
            got += s.recv(100)
        assert got == hdr
        s.close()
    finally:
        e.close()


def test_http_listener_reads_trusted_header(gh):
    o = Origin("a")
    try:
        gh.add_listener("l", proxy_protocol_from='["127.0.0.0/8"]')
        gh.add_origin("o", [(o.host, o.port)])
        gh.add_route("r", "l", "o", hosts=["app.test"])
        gh.start()
        s, _ = bound_client(gh.ports["l"])
        s.sendall(b"PROXY TCP4 192.0.2.55 127.0.0.1 6000 80\r\n"
                  b"GET /x HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n")
        resps = parse_responses(read_all(s))
        assert resps[0].status == 200
        doc = json.loads(resps[0].body)
        xff = [v for k, v in doc["headers"] if k.lower() == "x-forwarded-for"]
        assert xff == ["192.0.2.55"]
        s.close()
        # Without the header the trusted client is refused.
        s, _ = bound_client(gh.ports["l"])
        s.sendall(b"GET /x HTTP/1.1\r\nHost: app.test\r\n\r\n")
        assert read_all(s) == b""
        wait_until(lambda: len(o.requests) == 1, what="one request only")
    finally:
        o.close()


def test_passthrough_with_trusted_header(gh, pp_origin):
    """The PROXY header comes before the ClientHello; SNI routing still
    works and the origin gets a header of our own."""
    gh.add_listener("pt", protocol="tls-passthrough",
                    proxy_protocol_from='["127.0.0.0/8"]')
    gh.add_origin("o", [(pp_origin.host, pp_origin.port)], proxy_protocol=2)
    gh.add_route("r", "pt", "o", sni='["db.test"]')
    gh.start()
    import ssl
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    ctx = ssl.create_default_context()
    obj = ctx.wrap_bio(inc, out, server_hostname="db.test")
    with pytest.raises(ssl.SSLWantReadError):
        obj.do_handshake()
    hello = out.read()
    s, _ = bound_client(gh.ports["pt"])
    s.sendall(pp2("192.0.2.99", 7777, "127.0.0.1", 443) + hello)
    assert read_line(s) == "192.0.2.99 7777\n"
    got = b""
    while len(got) < len(hello):
        got += s.recv(65536)
    assert got == hello  # echoed: it went through untouched
    s.close()
