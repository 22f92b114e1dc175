"""Client certificates on https listeners: client_auth "required" refuses a
client without a certificate (or with one from another CA) and forwards
the verified subject and SHA-256 fingerprint to the origin; "optional"
lets clients without one through without the headers; a client cannot
forge the headers."""

import hashlib
import json
import ssl

import pytest

from tlsutil import add_cert, https_curl, make_ca, make_leaf, peer_cn


@pytest.fixture
def pki(tmp_path):
    ca = make_ca(tmp_path, "Server CA")
    client_ca = make_ca(tmp_path, "Client CA")
    rogue_ca = make_ca(tmp_path, "Rogue CA")
    server = make_leaf(tmp_path, "secure.test", ca, dns=["secure.test"])
    alice = make_leaf(tmp_path, "alice", client_ca, client=True)
    mallory = make_leaf(tmp_path, "mallory", rogue_ca, client=True)
    return ca, client_ca, server, alice, mallory


def start(gh, origin, pki, mode):
    ca, client_ca, server, _, _ = pki
    sid = add_cert(gh, "server", server)
    cid = add_cert(gh, "clients", client_ca, kind="ca")
    gh.add_listener("l", protocol="https", default_certificate_id=sid,
                    client_auth=mode, client_ca_id=cid)
    gh.add_origin("o", [(origin.host, origin.port)])
    gh.add_route("r", "l", "o")
    gh.start()
    return gh.ports["l"]


def fingerprint(pair):
    der = ssl.PEM_cert_to_DER_cert(pair.cert_pem)
    return hashlib.sha256(der).hexdigest()


def headers_of(body):
    return dict((k.lower(), v) for k, v in json.loads(body.split("\r\n\r\n", 1)[1])["headers"])


def test_required_refuses_without_certificate(gh, origin, pki):
    port = start(gh, origin, pki, "required")
    status, _, err = https_curl(port, "secure.test", "/", cafile=pki[0].cert)
    assert status == 0, err
    assert origin.requests == []


def test_required_refuses_other_ca(gh, origin, pki):
    port = start(gh, origin, pki, "required")
    mallory = pki[4]
    status, _, err = https_curl(port, "secure.test", "/", cafile=pki[0].cert,
                                args=["--cert", mallory.cert, "--key", mallory.key])
    assert status == 0, err
    assert origin.requests == []


def test_required_forwards_subject(gh, origin, pki):
    port = start(gh, origin, pki, "required")
    alice = pki[3]
    status, body, err = https_curl(
        port, "secure.test", "/", cafile=pki[0].cert,
        args=["--cert", alice.cert, "--key", alice.key,
              "-H", "X-Client-Cert-Subject: CN=forged"])
    assert status == 200, err
    h = headers_of(body)
    assert h["x-client-cert-subject"] == "CN=alice"
    assert h["x-client-cert-fingerprint"] == fingerprint(alice)


def test_optional(gh, origin, pki):
    port = start(gh, origin, pki, "optional")
    status, body, err = https_curl(port, "secure.test", "/", cafile=pki[0].cert,
                                   args=["-H", "X-Client-Cert-Subject: CN=forged",
                                         "-H", "X-Client-Cert-Fingerprint: 00"])
    assert status == 200, err
    h = headers_of(body)
    assert "x-client-cert-subject" not in h
    assert "x-client-cert-fingerprint" not in h
    alice = pki[3]
    status, body, err = https_curl(port, "secure.test", "/", cafile=pki[0].cert,
                                   args=["--cert", alice.cert, "--key", alice.key])
    assert status == 200, err
    assert headers_of(body)["x-client-cert-subject"] == "CN=alice"
    # a handshake from python with the client certificate works too
    assert peer_cn(port, "secure.test", pki[0].cert, check=True,
                   certfile=alice.cert, keyfile=alice.key) == "secure.test"
