"""Re-encryption to origins: a route to a TLS-only origin signed by a
private CA works with verification on (the default); a wrong CA or a
wrong name is a 502, counted, with one log line naming the server and the
reason; verification can be turned off; the proxy presents a client
certificate when the origin asks for one; an https listener forwarding to
a TLS origin is encrypted end to end."""

import json

import pytest

from tlsutil import TLSOrigin, add_cert, https_curl, make_ca, make_leaf


@pytest.fixture
def pki(tmp_path):
    ca = make_ca(tmp_path, "Origin CA")
    other = make_ca(tmp_path, "Other CA")
    leaf = make_leaf(tmp_path, "origin.test", ca, dns=["origin.test"], ips=["127.0.0.1"])
    return ca, other, leaf


@pytest.fixture
def tls_origin(pki):
    o = TLSOrigin(pki[2])
    yield o
    o.close()


def start_with(gh, o, ca_pair, **tls):
    cols = dict(tls_enabled=1)
    if ca_pair is not None:
        cols["tls_ca_id"] = add_cert(gh, "origin-ca", ca_pair, kind="ca")
    cols.update(tls)
    gh.add_listener("l")
    gh.add_origin("o", [(o.host, o.port)], **cols)
    gh.add_route("r", "l", "o")
    gh.start()


def test_verified_with_private_ca(gh, tls_origin, pki):
    start_with(gh, tls_origin, pki[0], tls_sni="origin.test")
    for i in range(3):  # the second and third reuse the pooled TLS connection
        r = gh.curl("/p%d" % i)
        assert r.status == 200, r
        doc = r.json()
        assert doc["path"] == "/p%d" % i
        assert doc["tls"] in ("TLSv1.3", "TLSv1.2")
    assert len(tls_origin.requests) == 3


def test_verified_by_ip_without_sni(gh, tls_origin, pki):
    start_with(gh, tls_origin, pki[0])
    assert gh.curl("/").status == 200


def test_wrong_ca_is_502(gh, tls_origin, pki):
    start_with(gh, tls_origin, pki[1], tls_sni="origin.test")
    r = gh.curl("/")
    assert r.status == 502
    assert tls_origin.requests == []
    gh.wait_for(r"\[warn\] origin o server 127\.0\.0\.1:\d+: TLS certificate verification failed: .*(issuer|not trusted)")


def test_wrong_name_is_502(gh, tls_origin, pki):
    start_with(gh, tls_origin, pki[0], tls_sni="wrong.test")
    r = gh.curl("/")
    assert r.status == 502
    assert tls_origin.requests == []
    gh.wait_for(r"origin o server .*: TLS certificate verification failed: .*name")


def test_system_trust_refuses_private_ca(gh, tls_origin, pki):
    start_with(gh, tls_origin, None, tls_sni="origin.test")
    assert gh.curl("/").status == 502


def test_verify_off(gh, tls_origin, pki):
    start_with(gh, tls_origin, pki[1], tls_sni="wrong.test", tls_verify=0)
    assert gh.curl("/").status == 200


def test_plain_to_tls_origin_fails_cleanly(gh, tls_origin, pki):
    gh.add_listener("l")
    gh.add_origin("o", [(tls_origin.host, tls_origin.port)])
    gh.add_route("r", "l", "o")
    gh.start()
    r = gh.curl("/")
    assert r.status == 502


def test_client_certificate_to_origin(gh, pki, tmp_path):
    ca, _, leaf = pki
    client = make_leaf(tmp_path, "proxy-client", ca, dns=["proxy.test"], client=True)
    o = TLSOrigin(leaf, client_ca=ca.cert)
    try:
        cid = add_cert(gh, "to-origin", client)
        start_with(gh, o, ca, tls_sni="origin.test", tls_client_certificate_id=cid)
        r = gh.curl("/")
        assert r.status == 200, r
        assert r.json()["client_cert"] is True
    finally:
        o.close()


def test_https_to_https(gh, tls_origin, pki, tmp_path):
    ca, _, leaf = pki
    front = make_leaf(tmp_path, "front.test", ca, dns=["front.test"])
    fid = add_cert(gh, "front", front)
    caid = add_cert(gh, "origin-ca", ca, kind="ca")
    gh.add_listener("l", protocol="https", default_certificate_id=fid)
    gh.add_origin("o", [(tls_origin.host, tls_origin.port)], tls_enabled=1, tls_ca_id=caid,
                  tls_sni="origin.test")
    gh.add_route("r", "l", "o")
    gh.start()
    status, body, err = https_curl(gh.ports["l"], "front.test", "/e2e", cafile=ca.cert)
    assert status == 200, err
    doc = json.loads(body.split("\r\n\r\n", 1)[1])
    assert ["X-Forwarded-Proto", "https"] in doc["headers"]
