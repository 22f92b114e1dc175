"""Layer 4 through the admin API, as DESIGN.md writes it: a tls-passthrough
listener, a route matching SNI, an origin sending PROXY v2, a tcp route
limited to source CIDRs; live, with counters in /stats."""

import socket
import ssl

import pytest

from apiclient import start_api, wait_port
from l4util import TcpServer, TlsServer, echo, make_ca, proxy_reader, tls_client_ctx, peer_cn


@pytest.fixture
def pki(tmp_path):
    d = tmp_path / "pki"
    d.mkdir()
    make_ca(str(d))
    return str(d)


def test_l4_objects_through_the_api(gh, pki):
    pg = TlsServer("db.example", pki)
    pp = TcpServer(proxy_reader)
    try:
        api = start_api(gh)
        api.ok("POST", "/origins", {"name": "pg", "servers": [
            {"address": pg.host, "port": pg.port}]})
        api.ok("POST", "/listeners", {"name": "pt", "address": "127.0.0.1", "port": 0,
                                      "protocol": "tls-passthrough", "max_connections": 10})
        api.ok("POST", "/routes", {"name": "db", "listener": "pt",
                                   "match": {"sni": ["db.example"]}, "origin": "pg"})
        port = wait_port(api, gh, "pt")
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        with tls_client_ctx(pki).wrap_socket(raw, server_hostname="db.example") as t:
            assert peer_cn(t) == "db.example"
            t.sendall(b"q")
            assert t.recv(100).startswith(b"hello from db.example")

        # A tcp listener whose route only takes loopback clients and whose
        # origin wants PROXY v2.
        api.ok("POST", "/origins", {"name": "ppo", "proxy_protocol": 2, "servers": [
            {"address": pp.host, "port": pp.port}]})
        api.ok("POST", "/listeners", {"name": "t", "address": "127.0.0.1", "port": 0,
                                      "protocol": "tcp"})
        api.ok("POST", "/routes", {"name": "tr", "listener": "t", "origin": "ppo",
                                   "match": {"sources": ["127.0.0.0/8"]}})
        tport = wait_port(api, gh, "t")
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.settimeout(10)
        s.connect(("127.0.0.1", tport))
        line = b""
        while not line.endswith(b"\n"):
            line += s.recv(1)
        assert line.decode() == "127.0.0.1 %d\n" % s.getsockname()[1]
        s.close()

        # The objects read back with their L4 fields.
        r = api.ok("GET", "/routes/db").json()
        assert r["match"]["sni"] == ["db.example"]
        assert api.ok("GET", "/origins/ppo").json()["proxy_protocol"] == 2
        lst = api.ok("GET", "/listeners/pt").json()
        assert lst["max_connections"] == 10

        # Invalid: SNI on a tcp listener is refused with the field path.
        r = api.post("/routes", {"name": "bad", "listener": "t", "origin": "ppo",
                                 "match": {"sni": ["x.example"]}})
        assert r.status_code == 422, r.text
        assert "sni" in r.text

        stats = api.ok("GET", "/stats").json()
        byname = {o["name"]: o for o in stats["listeners"]}
        assert byname["pt"]["requests"] == 1 and byname["t"]["requests"] == 1
        assert stats["global"]["proxy_header_sent"] == 1
    finally:
        pg.close()
        pp.close()


def test_posture_reports_shared_port_passthrough(gh, pki):
    """A route passing TLS through on an https listener is "passthrough" on
    both legs in /posture, like a tls-passthrough route."""
    from tlsutil import make_ca as t_make_ca, make_leaf
    api = start_api(gh)
    ca = t_make_ca(gh.dir)
    leaf = make_leaf(gh.dir, "term.test", ca, dns=["term.test"])
    api.ok("POST", "/certificates", {"name": "term", "certificate": leaf.cert_pem,
                                     "private_key": leaf.key_pem})
    api.ok("POST", "/origins", {"name": "o", "servers": [{"address": "127.0.0.1", "port": 9}]})
    api.ok("POST", "/listeners", {"name": "tls", "address": "127.0.0.1", "port": 0,
                                  "protocol": "https", "default_certificate": "term"})
    api.ok("POST", "/routes", {"name": "web", "listener": "tls", "origin": "o"})
    api.ok("POST", "/routes", {"name": "vault", "listener": "tls", "origin": "o",
                               "match": {"sni": ["vault.test"]}})
    p = {r["route"]: r for r in api.ok("GET", "/posture").json()["routes"]}
    assert p["vault"]["client_to_proxy"] == "passthrough"
    assert p["vault"]["proxy_to_origin"] == "passthrough"
    assert p["web"]["client_to_proxy"] == "encrypted"
