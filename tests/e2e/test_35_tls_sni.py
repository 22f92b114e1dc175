"""TLS termination on https listeners: the certificate is chosen by SNI
(exact SAN over wildcard SAN), the listener's default answers unknown names
and clients without SNI, real clients (curl, gnutls-cli) get through, and a
certificate changed in the store serves new handshakes while an open
keep-alive connection keeps working."""

import json
import socket
import ssl
import subprocess

import pytest

from conftest import curl
from tlsutil import add_cert, https_curl, make_ca, make_leaf, peer_cn


def setup_sni(gh, origin, tmp_path):
    ca = make_ca(tmp_path)
    a = make_leaf(tmp_path, "a.test", ca, dns=["a.test"])
    b = make_leaf(tmp_path, "b.test", ca, dns=["b.test"])
    w = make_leaf(tmp_path, "wild", ca, dns=["*.b.test"])
    d = make_leaf(tmp_path, "default.test", ca, dns=["default.test"])
    add_cert(gh, "a", a)
    add_cert(gh, "b", b)
    add_cert(gh, "wild", w)
    did = add_cert(gh, "def", d)
    gh.add_listener("l", protocol="https", default_certificate_id=did)
    gh.add_origin("o", [(origin.host, origin.port)])
    gh.add_route("r", "l", "o")
    gh.start()
    return ca, gh.ports["l"]


def test_sni_picks_certificate(gh, origin, tmp_path):
    ca, port = setup_sni(gh, origin, tmp_path)
    assert peer_cn(port, "a.test", ca.cert, check=True) == "a.test"
    assert peer_cn(port, "b.test", ca.cert, check=True) == "b.test"
    # wildcard SAN for a name without an exact match
    assert peer_cn(port, "x.b.test", ca.cert, check=True) == "wild"
    # unknown name and no SNI: the listener's default
    assert peer_cn(port, "unknown.test") == "default.test"
    assert peer_cn(port, None) == "default.test"


def test_curl_and_gnutls_cli(gh, origin, tmp_path):
    ca, port = setup_sni(gh, origin, tmp_path)
    for name in ("a.test", "b.test"):
        status, body, err = https_curl(port, name, "/hello", cafile=ca.cert)
        assert status == 200, err
        doc = json.loads(body.split("\r\n\r\n", 1)[1])
        assert doc["path"] == "/hello"
        assert ["X-Forwarded-Proto", "https"] in doc["headers"]
        assert ["Host", "%s:%d" % (name, port)] in doc["headers"]
    p = subprocess.run(["gnutls-cli", "--x509cafile", ca.cert, "-p", str(port),
                        "--sni-hostname", "b.test", "--verify-hostname", "b.test",
                        "127.0.0.1"],
                       input=b"GET / HTTP/1.1\r\nHost: b.test\r\nConnection: close\r\n\r\n",
                       capture_output=True, timeout=30)
    out = p.stdout.decode("latin-1")
    assert p.returncode == 0, p.stderr.decode()
    assert "CN=b.test" in out
    assert "HTTP/1.1 200" in out
    assert "(TLS1.3" in out or "(TLS1.2" in out


def test_alpn_http11(gh, origin, tmp_path):
    ca, port = setup_sni(gh, origin, tmp_path)
    ctx = ssl.create_default_context(cafile=ca.cert)
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        with ctx.wrap_socket(s, server_hostname="a.test") as t:
            assert t.selected_alpn_protocol() == "http/1.1"
            assert t.version() in ("TLSv1.3", "TLSv1.2")


def test_plain_http_to_https_listener_refused(gh, origin, tmp_path):
    ca, port = setup_sni(gh, origin, tmp_path)
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")
    try:
        data = s.recv(100)
    except OSError:
        data = b""
    s.close()
    assert not data.startswith(b"HTTP/")


def test_certificate_change_live(gh, origin, tmp_path):
    ca, port = setup_sni(gh, origin, tmp_path)
    # An open keep-alive connection, one request done.
    ctx = ssl.create_default_context(cafile=ca.cert)
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10),
                        server_hostname="a.test")
    fp_old = s.getpeercert(binary_form=True)

    def get(path):
        s.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: a.test\r\n\r\n")
        data = b""
        while b"\r\n\r\n" not in data:
            data += s.recv(65536)
        head, _, rest = data.partition(b"\r\n\r\n")
        n = int([ln.split(b":")[1] for ln in head.split(b"\r\n")
                 if ln.lower().startswith(b"content-length")][0])
        while len(rest) < n:
            rest += s.recv(65536)
        return head.split(b" ")[1]

    assert get(b"/one") == b"200"
    new = make_leaf(tmp_path, "a2.test", ca, dns=["a.test"])
    gh.sql("UPDATE certificates SET certificate_pem = ?, private_key_pem = ? WHERE name = 'a'",
           (new.cert_pem, new.key_pem.encode()))
    gh.reload()
    # New handshakes get the new certificate...
    assert peer_cn(port, "a.test", ca.cert, check=True) == "a2.test"
    # ...while the open connection keeps working on its session.
    assert get(b"/two") == b"200"
    assert s.getpeercert(binary_form=True) == fp_old
    s.close()


def test_redirect_https_and_hsts(gh, origin, tmp_path):
    ca = make_ca(tmp_path)
    a = make_leaf(tmp_path, "a.test", ca, dns=["a.test"])
    cid = add_cert(gh, "a", a)
    gh.add_listener("plain")
    gh.add_listener("l", protocol="https", default_certificate_id=cid)
    gh.add_origin("o", [(origin.host, origin.port)])
    gh.add_route("to-https", "plain", "o", hosts=["a.test"], redirect_https=1)
    gh.add_route("other", "plain", "o", hosts=["b.test"])
    gh.add_route("secure", "l", "o", hosts=["a.test"], hsts_max_age=31536000,
                 redirect_https=1)
    gh.start()
    r = curl(gh.ports["plain"], "/x/y?q=1", "a.test:8080")
    assert r.status == 308
    assert r.header("Location") == "https://a.test/x/y?q=1"
    assert origin.requests == []
    assert curl(gh.ports["plain"], "/", "b.test").status == 200
    assert curl(gh.ports["plain"], "/", "b.test").header("Strict-Transport-Security") is None
    status, body, err = https_curl(gh.ports["l"], "a.test", "/", cafile=ca.cert)
    assert status == 200, err
    assert "strict-transport-security: max-age=31536000" in body.lower()


def test_large_bodies_both_ways(gh, origin, tmp_path):
    import hashlib
    import os
    ca, port = setup_sni(gh, origin, tmp_path)
    n = 8 * 1024 * 1024
    status, body, err = https_curl(port, "a.test", "/_gen?n=%d" % n, cafile=ca.cert,
                                   args=["-o", str(tmp_path / "down")], timeout=60)
    assert status == 200, err
    data = open(tmp_path / "down", "rb").read()
    assert len(data) == n
    assert "x-body-sha256: " + hashlib.sha256(data).hexdigest() in body.lower()
    up = os.urandom(3 * 1024 * 1024 + 17)
    (tmp_path / "up").write_bytes(up)
    status, body, err = https_curl(port, "a.test", "/echo", cafile=ca.cert,
                                   args=["--data-binary", "@" + str(tmp_path / "up")],
                                   timeout=60)
    assert status == 200, err
    doc = json.loads(body.rsplit("\r\n\r\n", 1)[1])  # after a 100 Continue
    assert doc["body_len"] == len(up)
    assert doc["body_sha256"] == hashlib.sha256(up).hexdigest()


def test_session_resumption(gh, origin, tmp_path):
    ca, port = setup_sni(gh, origin, tmp_path)
    for version in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
        ctx = ssl.create_default_context(cafile=ca.cert)
        ctx.minimum_version = ctx.maximum_version = version
        sess = None
        for i in range(2):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
                with ctx.wrap_socket(raw, server_hostname="a.test", session=sess) as s:
                    s.sendall(b"GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
                    data = b""
                    while True:
                        chunk = s.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                    assert data.startswith(b"HTTP/1.1 200")
                    assert s.session_reused == (i == 1), (version, i)
                    sess = s.session


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_old_protocols_refused(gh, origin, tmp_path):
    ca, port = setup_sni(gh, origin, tmp_path)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers("ALL:@SECLEVEL=0")
    ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        try:
            ctx.wrap_socket(raw, server_hostname="a.test")
            assert False, "TLS 1.1 handshake succeeded"
        except (ssl.SSLError, OSError):
            pass
