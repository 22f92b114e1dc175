"""One port for both: an https listener terminates TLS for its own names
and passes chosen server names (routes with sni) through untouched to
their origins, which present their own certificates."""

import json
import socket
import ssl

import pytest

from l4util import TlsServer, make_ca as l4_make_ca, peer_cn as l4_peer_cn, tls_client_ctx
from tlsutil import add_cert, https_curl, make_ca, make_leaf, peer_cn


@pytest.fixture
def pt_pki(tmp_path):
    d = tmp_path / "pt-pki"
    d.mkdir()
    l4_make_ca(str(d))
    return str(d)


def shared_setup(gh, origin, tmp_path, pt_server, extra_sni=()):
    ca = make_ca(tmp_path)
    term = make_leaf(tmp_path, "term.test", ca, dns=["term.test"])
    cid = add_cert(gh, "term", term)
    gh.add_listener("l", protocol="https", default_certificate_id=cid)
    gh.add_origin("web", [(origin.host, origin.port)])
    gh.add_origin("pt", [(pt_server.host, pt_server.port)])
    gh.add_route("http", "l", "web")
    gh.add_route("pass", "l", "pt",
                 sni=json.dumps(["pt.test"] + list(extra_sni)))
    gh.start()
    return ca, gh.ports["l"]


def test_terminates_one_name_and_passes_another(gh, origin, tmp_path, pt_pki):
    pts = TlsServer("pt.test", pt_pki)
    try:
        ca, port = shared_setup(gh, origin, tmp_path, pts)
        # Terminated here: our certificate, an HTTP answer from the origin.
        assert peer_cn(port, "term.test", ca.cert, check=True) == "term.test"
        status, body, err = https_curl(port, "term.test", "/x", cafile=ca.cert)
        assert status == 200, err
        doc = json.loads(body.split("\r\n\r\n", 1)[1])
        assert doc["path"] == "/x"
        # Passed through: the origin's own certificate and its own answer.
        ctx = tls_client_ctx(pt_pki)
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        with ctx.wrap_socket(raw, server_hostname="pt.test") as t:
            assert l4_peer_cn(t) == "pt.test"
            t.sendall(b"ping")
            got = b""
            while True:
                b = t.recv(4096)
                if not b:
                    break
                got += b
        assert got.startswith(b"hello from pt.test") and got.endswith(b"got=ping")
        assert pts.snis == ["pt.test"]
        # No SNI and unknown names are terminated (default certificate).
        assert peer_cn(port, None) == "term.test"
        assert peer_cn(port, "other.test") == "term.test"
        assert pts.accepted == 1
    finally:
        pts.close()


def test_split_hello_is_still_routed(gh, origin, tmp_path, pt_pki):
    """The hello arrives a few bytes at a time: the listener waits for the
    whole of it (without consuming it) before choosing."""
    import time
    pts = TlsServer("pt.test", pt_pki)
    try:
        ca, port = shared_setup(gh, origin, tmp_path, pts)
        for name, want in (("pt.test", "pt"), ("term.test", "term")):
            ctx = (tls_client_ctx(pt_pki) if want == "pt"
                   else ssl.create_default_context(cafile=ca.cert))
            inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
            obj = ctx.wrap_bio(inc, out, server_hostname=name)
            with pytest.raises(ssl.SSLWantReadError):
                obj.do_handshake()
            hello = out.read()
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for i in range(0, len(hello), 50):
                s.sendall(hello[i:i + 50])
                time.sleep(0.003)
            while True:
                try:
                    obj.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    if out.pending:
                        s.sendall(out.read())
                    data = s.recv(65536)
                    assert data, "closed during the handshake (%s)" % name
                    inc.write(data)
            cert = obj.getpeercert()
            cn = [v for rdn in cert["subject"] for k, v in rdn if k == "commonName"][0]
            assert cn == name
            s.close()
    finally:
        pts.close()


def test_passthrough_route_checks(gh, origin, tmp_path, pt_pki):
    pts = TlsServer("pt.test", pt_pki)
    try:
        ca, port = shared_setup(gh, origin, tmp_path, pts)
        gh.sql("UPDATE routes SET path_prefix = '/api' WHERE name = 'pass'")
        assert gh.reload_rejected() == (
            'routes[pass].path_prefix: must be left out: the route passes TLS '
            'for its sni names through (listener "l" is https)')
    finally:
        pts.close()
