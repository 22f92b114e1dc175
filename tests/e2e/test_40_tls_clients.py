"""Every TLS client is served: Go's (hey), curl, OpenSSL with a server name
GnuTLS would refuse (an underscore, an IP literal) or none, and gnutls-cli
all get answers, odd names with the listener's default certificate (logged
and counted as tls_sni_fallback). The server ends its side with a
close_notify. Session resumption works, but a ticket issued by a listener
without client authentication does not resume on one that requires it."""

import re
import socket
import ssl
import subprocess

from apiclient import start_api
from conftest import wait_until
from tlsutil import add_cert, make_ca, make_leaf

REQ = b"GET /x HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n"


def start_tls(gh, origin, tmp_path, client_auth=False, **listener_cols):
    ca = make_ca(tmp_path)
    a = make_leaf(tmp_path, "a.test", ca, dns=["a.test"])
    d = make_leaf(tmp_path, "default.test", ca, dns=["default.test"])
    add_cert(gh, "a", a)
    did = add_cert(gh, "def", d)
    gh.add_listener("l", protocol="https", default_certificate_id=did, **listener_cols)
    gh.add_origin("o", [(origin.host, origin.port)])
    if client_auth:
        client_ca = make_ca(tmp_path, "Client CA")
        cid = add_cert(gh, "clients", client_ca, kind="ca")
        gh.add_listener("strict", protocol="https", default_certificate_id=did,
                        client_auth="required", client_ca_id=cid)
        gh.add_route("rs", "strict", "o")
    gh.add_route("r", "l", "o")
    api = start_api(gh)
    return ca, gh.ports["l"], api


def s_client(port, *args):
    p = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
                        "-quiet"] + list(args),
                       input=REQ, capture_output=True, timeout=30)
    return p.stdout.decode("latin-1"), p.stderr.decode("latin-1")


def test_hey_go_client(gh, origin, tmp_path):
    _, port, api = start_tls(gh, origin, tmp_path)
    for url in ("https://127.0.0.1:%d/" % port, "https://localhost:%d/" % port):
        p = subprocess.run(["hey", "-n", "40", "-c", "4", url], capture_output=True,
                           timeout=60)
        out = p.stdout.decode()
        assert re.search(r"\[200\]\s+40 responses", out), out + gh.log_tail()
        assert "Error distribution" not in out, out


def test_odd_server_names_get_default_certificate(gh, origin, tmp_path):
    _, port, api = start_tls(gh, origin, tmp_path)
    before = api.get("/stats").json()["global"]["tls_sni_fallback"]
    for args in (["-servername", "under_score.test"], ["-servername", "127.0.0.1"],
                 ["-noservername"], ["-servername", "a.test"]):
        out, err = s_client(port, *args)
        assert out.startswith("HTTP/1.1 200"), (args, out, err, gh.log_tail())
        cn = "a.test" if args == ["-servername", "a.test"] else "default.test"
        assert "CN = %s" % cn in err, (args, err)
    g = api.get("/stats").json()["global"]
    # under_score.test and 127.0.0.1 fell back (no name is not a fallback).
    assert g["tls_sni_fallback"] - before == 2, g
    assert gh.log_has(r"tls: .*server name .*under_score\.test.* default certificate")
    p = subprocess.run(["curl", "-sk", "--resolve", "under_score.test:%d:127.0.0.1" % port,
                        "https://under_score.test:%d/c" % port], capture_output=True,
                       timeout=30)
    assert p.returncode == 0 and b'"/c"' in p.stdout, p.stderr
    p = subprocess.run(["gnutls-cli", "--insecure", "-p", str(port), "127.0.0.1"],
                       input=REQ, capture_output=True, timeout=30)
    assert p.returncode == 0 and b"HTTP/1.1 200" in p.stdout, p.stderr


def test_close_notify(gh, origin, tmp_path):
    _, port, api = start_tls(gh, origin, tmp_path)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    for version in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
        ctx.minimum_version = ctx.maximum_version = version
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            s = ctx.wrap_socket(raw, server_hostname="a.test", suppress_ragged_eofs=False)
            s.sendall(REQ)
            data = b""
            while True:
                chunk = s.recv(65536)  # SSLEOFError: no close_notify
                if not chunk:
                    break
                data += chunk
            assert data.startswith(b"HTTP/1.1 200")
    # The client returns as soon as the alert arrives, which can be before
    # the worker has counted it (under a loaded machine, the API answers
    # first): read the counter once it settles, within a deadline.
    def sent():
        return api.get("/stats").json()["global"]["tls_close_notify"]

    wait_until(lambda: sent() >= 2, timeout=10, what="tls_close_notify >= 2")
    assert sent() == 2


def fetch(port, ctx, sess=None, name="a.test"):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=name, session=sess) as s:
            s.sendall(REQ)
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            return data, s.session, s.session_reused


def test_resumption_and_client_auth_isolation(gh, origin, tmp_path):
    ca, port, api = start_tls(gh, origin, tmp_path, client_auth=True)
    strict = gh.ports["strict"]
    for version in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
        ctx = ssl.create_default_context(cafile=ca.cert)
        ctx.minimum_version = ctx.maximum_version = version
        data, sess, reused = fetch(port, ctx)
        assert data.startswith(b"HTTP/1.1 200") and not reused
        data, sess2, reused = fetch(port, ctx, sess)
        assert data.startswith(b"HTTP/1.1 200") and reused, version
        # The same ticket offered to the listener requiring a client
        # certificate: a full handshake, which fails without one.
        try:
            data, _, reused = fetch(strict, ctx, sess2)
        except (ssl.SSLError, OSError):
            data, reused = b"", False
        assert not data.startswith(b"HTTP/1.1 200"), (version, data)
        assert not reused
    g = api.get("/stats").json()["global"]
    assert g["tls_resumed"] == 2, g
