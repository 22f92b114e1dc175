"""tls-passthrough listeners: the route is chosen by the ClientHello's
server name and every byte goes through untouched, so the client sees
each origin's own certificate (gatehoused holds no key for these names).
Certificates are made with certtool at test time."""

import socket
import ssl
import time

import pytest

from l4util import TcpServer, TlsServer, echo, peer_cn, tls_client_ctx


@pytest.fixture(scope="module")
def certdir(tmp_path_factory):
    from l4util import make_ca
    d = str(tmp_path_factory.mktemp("pki"))
    make_ca(d)
    return d


@pytest.fixture
def tls_origins(certdir):
    made = []

    def make(name):
        s = TlsServer(name, certdir)
        made.append(s)
        return s
    yield make
    for s in made:
        s.close()


def pt_setup(gh, routes, start=True):
    """routes: [(name, server, sni list or None)]"""
    gh.add_listener("pt", protocol="tls-passthrough")
    for name, srv, sni in routes:
        gh.add_origin("o-" + name, [(srv.host, srv.port)])
        cols = {}
        if sni is not None:
            cols["sni"] = '[%s]' % ", ".join('"%s"' % n for n in sni)
        gh.add_route(name, "pt", "o-" + name, **cols)
    if start:
        gh.start()
    return gh.ports["pt"]


def tls_get(port, certdir, sni, alpn=None, verify_name=None):
    ctx = tls_client_ctx(certdir, alpn)
    if sni is None:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    with ctx.wrap_socket(raw, server_hostname=sni) as t:
        t.sendall(b"ping")
        data = b""
        while True:
            b = t.recv(4096)
            if not b:
                break
            data += b
        return peer_cn(t) if sni is not None else None, data.decode()


def test_two_origins_by_sni_each_with_its_own_certificate(gh, tls_origins, certdir):
    a, b = tls_origins("a.test"), tls_origins("x.b.test")
    port = pt_setup(gh, [("ra", a, ["a.test"]), ("rb", b, ["*.b.test"])])
    cn, body = tls_get(port, certdir, "a.test")
    assert cn == "a.test" and body.startswith("hello from a.test")
    assert body.endswith("got=ping")
    cn, body = tls_get(port, certdir, "x.b.test")
    assert cn == "x.b.test" and body.startswith("hello from x.b.test")
    assert a.accepted == 1 and b.accepted == 1
    # The origins saw the client's own SNI: nothing was rewritten.
    assert a.snis == ["a.test"] and b.snis == ["x.b.test"]


def test_alpn_passes_through(gh, tls_origins, certdir):
    a = tls_origins("a.test")
    port = pt_setup(gh, [("ra", a, ["a.test"])])
    _, body = tls_get(port, certdir, "a.test", alpn=["h2"])
    assert "alpn=h2" in body


def test_no_sni_takes_the_default_route(gh, tls_origins, certdir):
    a, d = tls_origins("a.test"), tls_origins("default.test")
    port = pt_setup(gh, [("ra", a, ["a.test"]), ("dflt", d, None)])
    _, body = tls_get(port, certdir, None)
    assert body.startswith("hello from default.test")
    # An unknown name falls to the default route too.
    ctx = tls_client_ctx(certdir)
    ctx.check_hostname = False
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    with ctx.wrap_socket(raw, server_hostname="nope.test") as t:
        assert peer_cn(t) == "default.test"
    assert a.accepted == 0


def test_unknown_sni_without_default_is_closed(gh, tls_origins, certdir):
    a = tls_origins("a.test")
    port = pt_setup(gh, [("ra", a, ["a.test"])])
    ctx = tls_client_ctx(certdir)
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
        ctx.wrap_socket(raw, server_hostname="other.test")
    assert a.accepted == 0


def test_not_tls_goes_to_default_route_untouched(gh, tls_origins):
    e = TcpServer(echo)
    try:
        a = tls_origins("a.test")
        port = pt_setup(gh, [("ra", a, ["a.test"]), ("dflt", e, None)])
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        msg = b"GET / HTTP/1.0\r\n\r\n"
        s.sendall(msg)
        got = b""
        while len(got) < len(msg):
            got += s.recv(100)
        assert got == msg
        s.close()
    finally:
        e.close()


def chunks(b, n):
    return [b[i:i + n] for i in range(0, len(b), n)]


def test_hello_split_across_records_and_segments(gh, tls_origins, certdir):
    a, b = tls_origins("a.test"), tls_origins("b.test")
    port = pt_setup(gh, [("ra", a, ["a.test"]), ("rb", b, ["b.test"])])
    ctx = tls_client_ctx(certdir)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="b.test")
    with pytest.raises(ssl.SSLWantReadError):
        obj.do_handshake()
    hello = out.read()
    # Re-frame the hello into 40-byte records ...
    assert hello[0] == 22
    payload, i = b"", 0
    ver = hello[1:3]
    while i < len(hello):
        n = int.from_bytes(hello[i + 3:i + 5], "big")
        payload += hello[i + 5:i + 5 + n]
        i += 5 + n
    recs = b"".join(b"\x16" + ver + len(p).to_bytes(2, "big") + p
                    for p in chunks(payload, 40))
    # ... and send them 7 bytes at a time, as separate segments.
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for piece in chunks(recs, 7):
        s.sendall(piece)
        time.sleep(0.002)
    while True:
        try:
            obj.do_handshake()
            break
        except ssl.SSLWantReadError:
            if out.pending:
                s.sendall(out.read())
            data = s.recv(65536)
            assert data, "closed during the handshake"
            inc.write(data)
    obj.write(b"frag")
    s.sendall(out.read())
    body = b""
    while True:
        try:
            body += obj.read(4096)
        except ssl.SSLWantReadError:
            data = s.recv(65536)
            if not data:
                break
            inc.write(data)
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            break
    assert body.startswith(b"hello from b.test")
    assert body.endswith(b"got=frag")
    assert b.accepted == 1 and a.accepted == 0
    s.close()
